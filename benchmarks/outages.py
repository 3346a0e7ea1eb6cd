"""STS outages: what a steady stream of API calls sees while STS is down, and after.

The scenario: an assumed-role session with credentials of 900 s (``DurationSeconds=900``)
makes one ``sts.get_caller_identity()`` per simulated second
(``time_machine.travel(START, tick=False)``, moved 1 s per call). The first keys are
fetched at second 0; when they have 300 s left (second 600, where botocore's next path
and ours start refreshing 900 s keys) STS starts answering every AssumeRole with 500
InternalFailure (or 400 Throttling), for 3 or for 30 minutes, then recovers; the calls go
on until 5 minutes after recovery. A fault proxy (`emulators.fault_proxy.FaultProxy`)
sits between botocore and a moto server on 127.0.0.1 (`emulators.moto_server`), both in
the worker's process, so moto's clock (the Expiration it writes, the arrival time it
records) is the simulated one.

Four rows, each configuration in its own worker process:

* **legacy botocore**: aws-assume-role-lib (botocore's ``DeferredRefreshableCredentials``
  and ``AssumeRoleCredentialFetcher``) in ``.venv``, the newest released botocore;
* **botocore next path**: aws-assume-role-lib in ``.venv-next`` (botocore 1.43.65 with
  botocore's unreleased ``feature/credential-refresh`` branch, switched on);
* **ours** (`lambda_assume_role.assume_role`) in ``.venv``, and **ours on the next path**
  in ``.venv-next``.

Measured per run: API calls; **raised** calls; calls **signed with expired keys** (at the
wire: the moto log's `RequestLog.signed_after_expiry`; moto answers them, AWS would answer
ExpiredToken); **AssumeRole HTTP attempts** (at the proxy: during the outage, and over the
whole run); **failed calls while the keys in hand had more than 15 s left** (the expiry of
the keys the library held, read before the call from its credentials object, read only);
**seconds from STS's recovery to the last failed call**, where a failed call is one that
raised or was signed with expired keys; and when the keys were renewed after recovery.

Ours jitters its refresh and retry times (its own ``random.Random``) and botocore's next
path draws its backoff from ``random.uniform(300, 600)`` (the worker seeds ``random`` with
the run's number), so those configurations run ``RUNS`` times and report ranges.

Legacy botocore retries each failed refresh inside the call with botocore's own HTTP
retries and real ``time.sleep`` backoff (time-machine does not move it): throttled, a
failing call takes about 1.5 real seconds. Legacy keeps no state from a failed refresh
(no backoff, no count: only its keys, cached by the fetcher), so its outage is cut into
pieces measured side by side: each piece's worker fetches keys at second 0 and refreshes
them at second 599 (legacy refreshes 900 s keys on every call, so these are the keys the
full run holds when STS goes down), lets the clock run without calls to the piece's start
and calls once a second through the piece; the first piece also owns the calls before the
outage and the last the calls after it. Its counts do not depend on chance (retry jitter
moves only real sleep), so it runs once. botocore's defaults throughout: nothing tuned.

Run from the repository root: ``.venv/bin/python -m benchmarks.outages``.
"""

from __future__ import annotations

import datetime
import os
import random
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from benchmarks._harness import (
    assume,
    emit_result,
    environment_header,
    markdown_table,
    next_path_python,
    note_not_ahead,
    preload,
    role_arn,
    run_worker,
    start_moto,
)

if TYPE_CHECKING:
    import boto3

    from emulators.fault_proxy import FaultProxy
    from emulators.moto_server import MotoServer

MODULE = "benchmarks.outages"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
DURATION = 900  # DurationSeconds of every AssumeRole
OUTAGE_AT = 600  # simulated second STS goes down: the first keys have 300 s left
AFTER = 300  # simulated seconds of calls after STS recovers
SAFETY = 15.0  # a failure with more than this left on the keys in hand is avoidable
RUNS = 3  # runs of each configuration that draws from chance
WORKER_TIMEOUT = 1200.0
#: Simulated seconds of outage per legacy worker: its failing calls sleep for real.
LEGACY_PIECE = {"server_error": 600, "throttle": 150}
#: Worker processes at once: the CPU-bound ones, and legacy's pieces (mostly asleep).
CPU_WORKERS = 3
SLEEPY_WORKERS = 16

Fault = Literal["server_error", "throttle"]
Row = Literal["legacy", "next", "ours", "ours-next"]
ROWS: tuple[Row, ...] = ("legacy", "next", "ours", "ours-next")
LABELS: dict[Row, str] = {
    "legacy": "legacy botocore",
    "next": "botocore next path",
    "ours": "ours",
    "ours-next": "ours on the next path",
}
#: Each row's library (a `benchmarks._harness.assume` key) and whether it runs in .venv-next.
CONFIGS: dict[Row, tuple[str, bool]] = {
    "legacy": ("aws-assume-role-lib", False),
    "next": ("aws-assume-role-lib", True),
    "ours": ("ours", False),
    "ours-next": ("ours", True),
}
FAULT_TEXT: dict[Fault, str] = {
    "server_error": "500 InternalFailure",
    "throttle": "400 Throttling",
}


@dataclass(frozen=True)
class Scenario:
    outage: int  # simulated seconds STS is down
    fault: Fault

    @property
    def title(self) -> str:
        return f"{self.outage // 60}-minute outage, STS answering {FAULT_TEXT[self.fault]}"

    @property
    def recovery(self) -> int:
        return OUTAGE_AT + self.outage

    @property
    def end(self) -> int:
        """The last simulated second with a call."""
        return self.recovery + AFTER


SCENARIOS = (
    Scenario(180, "server_error"),
    Scenario(1800, "server_error"),
    Scenario(180, "throttle"),
    Scenario(1800, "throttle"),
)

#: One call, as a worker reports it: simulated second, error ("" when it returned), seconds
#: left on the keys in hand before the call (None before the first keys), AssumeRole HTTP
#: attempts it caused, of which faulted, and whether it reached moto signed with expired keys.
CallRecord = tuple[int, str, float | None, int, int, bool]


class WorkerResult(TypedDict):
    records: list[CallRecord]
    delivered: int  # GetCallerIdentity requests moto received for the owned calls
    wall_s: float
    botocore: str
    next_path: bool
    sts_retries: str  # the retry configuration of a default STS client


class Metrics(TypedDict):
    calls: int
    raised: int
    expired_signed: int
    failed: int  # raised, or signed with expired keys
    attempts_outage: int
    attempts_total: int
    failed_with_margin: int
    last_failure_after_recovery: int | None  # seconds; None: no failure from recovery on
    renewed_after_recovery: int | None  # seconds to the first good AssumeRole after recovery
    first_failure_left: float | None  # keys' time left at the first failed call
    left_at_outage: float | None  # keys' time left at the first call of the outage
    errors: list[str]
    wall_s: float
    pieces: int
    delivered_ok: bool


# --- worker ----------------------------------------------------------------------------------


def _setup(library: str) -> tuple[MotoServer, FaultProxy, boto3.Session]:
    """moto, the fault proxy in front of it (AWS_ENDPOINT_URL points at the proxy), a parent."""
    import boto3

    from emulators.fault_proxy import FaultProxy

    server = start_moto()
    preload(library)
    proxy = FaultProxy(server.endpoint_url).start()
    os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint_url
    return server, proxy, boto3.Session()


def _expiry(library: str, credentials: Any) -> datetime.datetime | None:
    """The expiry of the keys ``credentials`` holds now, read without refreshing anything.

    Ours: its public ``expiry_time``. botocore's ``RefreshableCredentials`` has no public
    reader (its ``refresh_needed`` would compare against a window), so its
    ``_expiry_time`` is read, never written.
    """
    if credentials is None:
        return None
    name = "expiry_time" if library == "ours" else "_expiry_time"
    value = getattr(credentials, name, None)
    return value if isinstance(value, datetime.datetime) else None


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(error).__name__}({code})" if code else type(error).__name__


def _sts_retries(parent: boto3.Session) -> str:
    """A default STS client's retry mode and attempts, as botocore configures it here."""
    config: Any = parent.client("sts").meta.config
    retries = dict(config.retries or {})
    mode = retries.get("mode", "legacy")
    attempts = retries.get("total_max_attempts")
    if attempts is None:
        attempts = 3 if mode == "standard" else (retries.get("max_attempts") or 4) + 1
    return f"{mode} retries, {attempts} attempts"


def _plan(scenario: Scenario, first: int, last: int) -> list[tuple[int, bool]]:
    """The simulated seconds a worker calls at, and whether each call is its to report.

    A worker owning the whole outage (``first`` = OUTAGE_AT, ``last`` = recovery) calls
    every second. A legacy piece that does not start the outage replays only what legacy's
    state depends on (keys fetched at 0, refreshed at OUTAGE_AT - 1), unreported.
    """
    plan: list[tuple[int, bool]] = []
    if first == OUTAGE_AT:
        plan += [(t, True) for t in range(OUTAGE_AT)]
    else:
        plan += [(0, False), (OUTAGE_AT - 1, False)]
    plan += [(t, True) for t in range(first, last)]
    if last == scenario.recovery:
        plan += [(t, True) for t in range(scenario.recovery, scenario.end + 1)]
    return plan


def measure(library: str, scenario: Scenario, run: int, first: int, last: int) -> WorkerResult:
    """One library through one outage (or one piece of it): every call's outcome."""
    import botocore
    import botocore.credentials
    import time_machine

    random.seed(run)
    server, proxy, parent = _setup(library)
    sts_retries = _sts_retries(parent)
    records: list[CallRecord] = []
    owned: set[int] = set()
    faulting = False
    started = time.perf_counter()
    with time_machine.travel(START, tick=False) as traveller:
        session = assume(library, parent, role_arn("outage"), duration=DURATION)
        client = session.client("sts")
        credentials: Any = None
        for t, mine in _plan(scenario, first, last):
            if OUTAGE_AT <= t < scenario.recovery and not faulting:
                proxy.fail("AssumeRole", scenario.fault)
                faulting = True
            elif t >= scenario.recovery and faulting:
                proxy.heal()
                faulting = False
            traveller.move_to(START + datetime.timedelta(seconds=t))
            expiry = _expiry(library, credentials)
            left = None if expiry is None else (expiry - START).total_seconds() - t
            attempts, faulted = proxy.attempts("AssumeRole"), proxy.faulted("AssumeRole")
            error = ""
            try:
                client.get_caller_identity()
            except Exception as caught:  # counted: a failed call is what is measured
                error = _error_code(caught)
            if credentials is None:
                credentials = session.get_credentials()
            if mine:
                owned.add(t)
                records.append(
                    (
                        t,
                        error,
                        left,
                        proxy.attempts("AssumeRole") - attempts,
                        proxy.faulted("AssumeRole") - faulted,
                        False,
                    )
                )
    wall = time.perf_counter() - started
    expired = {
        round((request.received_at - START).total_seconds())
        for request in server.requests.signed_after_expiry("GetCallerIdentity")
        if request.received_at is not None
    }
    delivered = sum(
        1
        for request in server.requests.matching("GetCallerIdentity")
        if request.received_at is not None
        and round((request.received_at - START).total_seconds()) in owned
    )
    records = [(t, e, left, a, f, t in expired) for t, e, left, a, f, _ in records]
    proxy.stop()
    server.stop()
    return {
        "records": records,
        "delivered": delivered,
        "wall_s": wall,
        "botocore": botocore.__version__,
        "next_path": bool(
            getattr(botocore.credentials, "DEFAULT_NEW_CREDENTIAL_REFRESH", False)
            and hasattr(botocore.credentials.RefreshableCredentials, "_refresh_legacy")
        ),
        "sts_retries": sts_retries,
    }


# --- metrics ---------------------------------------------------------------------------------


def metrics(scenario: Scenario, pieces: list[WorkerResult]) -> Metrics:
    """One run's measures, from its worker's calls (or its pieces', joined)."""
    records = sorted((r for piece in pieces for r in piece["records"]), key=lambda r: r[0])
    raised = [r for r in records if r[1]]
    failed = [r for r in records if r[1] or r[5]]
    recovered = [r[0] - scenario.recovery for r in failed if r[0] >= scenario.recovery]
    renewed = [
        r[0] - scenario.recovery
        for r in records
        if r[0] >= scenario.recovery and r[3] > r[4]  # an AssumeRole reached moto
    ]
    outage = range(OUTAGE_AT, scenario.recovery)
    return {
        "calls": len(records),
        "raised": len(raised),
        "expired_signed": sum(1 for r in records if r[5]),
        "failed": len(failed),
        "attempts_outage": sum(r[3] for r in records if r[0] in outage),
        "attempts_total": sum(r[3] for r in records),
        "failed_with_margin": sum(1 for r in raised if r[2] is not None and r[2] > SAFETY),
        "last_failure_after_recovery": max(recovered) if recovered else None,
        "renewed_after_recovery": min(renewed) if renewed else None,
        "first_failure_left": failed[0][2] if failed else None,
        "left_at_outage": next((r[2] for r in records if r[0] == OUTAGE_AT), None),
        "errors": sorted({r[1] for r in raised}),
        "wall_s": max(piece["wall_s"] for piece in pieces),
        "pieces": len(pieces),
        "delivered_ok": sum(piece["delivered"] for piece in pieces)
        == sum(1 for r in records if not r[1]),
    }


# --- runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    row: Row
    scenario: Scenario
    run: int
    first: int
    last: int


def jobs(rows: tuple[Row, ...]) -> list[Job]:
    """Every worker to run: ``RUNS`` per chance-driven configuration, legacy's pieces once."""
    planned: list[Job] = []
    for scenario in SCENARIOS:
        for row in rows:
            if row == "legacy":
                piece = LEGACY_PIECE[scenario.fault]
                planned += [
                    Job(row, scenario, 0, first, min(first + piece, scenario.recovery))
                    for first in range(OUTAGE_AT, scenario.recovery, piece)
                ]
            else:
                planned += [
                    Job(row, scenario, run, OUTAGE_AT, scenario.recovery) for run in range(RUNS)
                ]
    return planned


def run_all(
    rows: tuple[Row, ...], next_python: Path | None
) -> dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]]:
    """Run every job (legacy's sleepy pieces in a wide pool), return metrics per run."""
    results: dict[Job, Future[Any]] = {}
    with (
        ThreadPoolExecutor(max_workers=SLEEPY_WORKERS) as sleepy,
        ThreadPoolExecutor(max_workers=CPU_WORKERS) as busy,
    ):
        for job in jobs(rows):
            library, on_next = CONFIGS[job.row]
            pool = sleepy if job.row == "legacy" else busy
            results[job] = pool.submit(
                run_worker,
                MODULE,
                library,
                str(job.scenario.outage),
                job.scenario.fault,
                str(job.run),
                str(job.first),
                str(job.last),
                timeout=WORKER_TIMEOUT,
                interpreter=next_python if on_next else None,
            )
        done = {job: future.result() for job, future in results.items()}
    by_run: dict[tuple[Row, Scenario, int], list[WorkerResult]] = {}
    for job, result in done.items():
        by_run.setdefault((job.row, job.scenario, job.run), []).append(result)
    measured: dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]] = {}
    for (row, scenario, _run), pieces in sorted(
        by_run.items(), key=lambda item: (item[0][0], item[0][1].outage, item[0][2])
    ):
        measured.setdefault((row, scenario), []).append((metrics(scenario, pieces), pieces[0]))
    return measured


# --- report ----------------------------------------------------------------------------------


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def _after_recovery(values: list[int | None], *, none: str, at_end: str = "") -> str:
    """A range of seconds; ``none`` for runs where it never happened, ``at_end`` appended
    when a run's value is the run's last call (``AFTER`` s after recovery)."""
    seen = [v for v in values if v is not None]
    if not seen:
        return none
    text = f"{_span(seen)} s"
    if at_end and max(seen) >= AFTER:
        text += f" ({at_end})"
    if len(seen) < len(values):
        text += f"; {len(values) - len(seen)} of {len(values)} runs: {none}"
    return text


def _cell(runs: list[Metrics], key: str) -> str:
    values = [int(run[key]) for run in runs]  # type: ignore[literal-required]
    return _span(values)


MEASURES: tuple[tuple[str, str], ...] = (
    ("calls", "API calls"),
    ("raised", "raised calls"),
    ("expired_signed", "calls signed with expired keys"),
    ("failed", "failed calls (raised, or signed with expired keys)"),
    ("attempts_outage", "AssumeRole HTTP attempts during the outage"),
    ("attempts_total", "AssumeRole HTTP attempts, whole run"),
    ("failed_with_margin", f"failed calls while the keys had > {SAFETY:g} s left"),
)

#: Rows in seconds: (Metrics key, label, text when a run has none, note when still failing).
SECONDS_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    (
        "last_failure_after_recovery",
        "last failed call after recovery",
        "none",
        "still failing when the run ended",
    ),
    ("renewed_after_recovery", "keys renewed after recovery", f"not within {AFTER} s", ""),
    ("left_at_outage", "keys' time left when STS went down", "no keys", ""),
    ("first_failure_left", "keys' time left at the first failed call", "no failure", ""),
)


def scenario_table(
    scenario: Scenario,
    measured: dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]],
    rows: tuple[Row, ...],
) -> str:
    runs = {row: [m for m, _ in measured[row, scenario]] for row in rows}
    body: list[list[object]] = [
        [label, *(_cell(runs[row], key) for row in rows)] for key, label in MEASURES
    ]
    for key, label, none, at_end in SECONDS_MEASURES:
        body.append(
            [
                label,
                *(
                    _after_recovery(
                        [
                            None if m[key] is None else round(m[key])  # type: ignore[literal-required]
                            for m in runs[row]
                        ],
                        none=none,
                        at_end=at_end,
                    )
                    for row in rows
                ),
            ]
        )
    body.append(
        [
            "runs",
            *(
                f"{len(runs[row])} ({runs[row][0]['pieces']} pieces)"
                if runs[row][0]["pieces"] > 1
                else len(runs[row])
                for row in rows
            ),
        ]
    )
    body.append(
        [
            "wall time of a run (of a piece)",
            *(f"{max(m['wall_s'] for m in runs[row]):.0f} s" for row in rows),
        ]
    )
    return markdown_table([scenario.title, *(LABELS[row] for row in rows)], body)


def _worst(runs: list[Metrics], key: str) -> int:
    return max(int(run[key]) for run in runs)  # type: ignore[literal-required]


def bars(
    measured: dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]], row: Row
) -> list[tuple[str, bool, str]]:
    """The issue's bars for one of our rows: (bar, met, what was measured at worst)."""
    by_outage: dict[int, list[Metrics]] = {}
    for scenario in SCENARIOS:
        by_outage.setdefault(scenario.outage, []).extend(m for m, _ in measured[row, scenario])
    short, long = by_outage[180], by_outage[1800]
    late = [m["last_failure_after_recovery"] for m in long]
    late_worst = max((v for v in late if v is not None), default=None)
    everything = short + long
    return [
        (
            "3-minute outage: 0 raised calls",
            _worst(short, "raised") == 0,
            f"{_worst(short, 'raised')} at worst",
        ),
        (
            "3-minute outage: <= 12 AssumeRole attempts",
            _worst(short, "attempts_outage") <= 12,
            f"{_worst(short, 'attempts_outage')} at worst",
        ),
        (
            "30-minute outage: <= 150 AssumeRole attempts",
            _worst(long, "attempts_outage") <= 150,
            f"{_worst(long, 'attempts_outage')} at worst",
        ),
        (
            f"30-minute outage: 0 failed calls while the keys had > {SAFETY:g} s left",
            _worst(long, "failed_with_margin") == 0,
            f"{_worst(long, 'failed_with_margin')} at worst",
        ),
        (
            "30-minute outage: no failure later than 60 s after recovery",
            late_worst is None or late_worst <= 60,
            "no failure after recovery" if late_worst is None else f"{late_worst} s at worst",
        ),
        (
            "never signed with expired keys",
            _worst(everything, "expired_signed") == 0,
            f"{_worst(everything, 'expired_signed')} at worst",
        ),
    ]


def _note_not_ahead(
    measured: dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]],
    rows: tuple[Row, ...],
) -> None:
    """One note per outage where ours' worst run (on either path) is worse than another
    row's best: failed calls (raised, or signed with expired keys), raised calls (where the
    other signed with expired keys instead), AssumeRole attempts, failures with time left
    on the keys, calls signed with expired keys."""
    compared = (
        ("failed", "failed up to {worst:,} calls, raised or signed with expired keys"),
        ("raised", "raised up to {worst:,}"),
        ("attempts_outage", "made up to {worst:,} AssumeRole HTTP attempts during the outage"),
        ("failed_with_margin", f"failed up to {{worst:,}} calls with > {SAFETY:g} s left"),
        ("expired_signed", "signed up to {worst:,} calls with expired keys"),
    )
    ours_rows = [row for row in ("ours", "ours-next") if row in rows]
    others = [row for row in rows if row not in ("ours", "ours-next")]
    who = "ours (on either botocore path)" if len(ours_rows) > 1 else "ours"
    for scenario in SCENARIOS:
        mine = [m for row in ours_rows for m, _ in measured[row, scenario]]
        if not mine:
            continue
        left_mine = mine[0]["left_at_outage"] or 0.0
        clauses: list[str] = []
        for key, text in compared:
            worst = _worst(mine, key)
            better: list[str] = []
            for other in others:
                theirs = [m for m, _ in measured[other, scenario]]
                best = min(int(m[key]) for m in theirs)  # type: ignore[literal-required]
                expired = _worst(theirs, "expired_signed")
                left = theirs[0]["left_at_outage"]
                if best >= worst or (key == "raised" and not expired):
                    continue  # raised: said under failed, unless it failed another way
                entry = f"{LABELS[other]} {best:,}"
                if key == "raised":
                    entry += f", signing up to {expired:,} calls with expired keys instead"
                elif key == "failed" and other == "legacy" and left is not None:
                    entry += (
                        f": its keys had {left:.0f} s left when STS went down, since it calls "
                        f"AssumeRole on every call of a {DURATION} s session; ours had "
                        f"{left_mine:.0f} s"
                    )
                better.append(entry)
            if better:
                clauses.append(f"{text.format(worst=worst)} ({'; '.join(better)})")
        if clauses:
            note_not_ahead(f"STS outages, {scenario.title}: {who} {'; '.join(clauses)}.")


def report(
    measured: dict[tuple[Row, Scenario], list[tuple[Metrics, WorkerResult]]],
    rows: tuple[Row, ...],
    missing_next: bool,
    wall: float,
) -> str:
    """The markdown section."""
    tables = [
        f"### {scenario.title}\n\n{scenario_table(scenario, measured, rows)}"
        for scenario in SCENARIOS
    ]
    setups = []
    for row in rows:
        _, worker = measured[row, SCENARIOS[0]][0]
        path = "next refresh path on" if worker["next_path"] else "legacy refresh path"
        setups.append(
            f"{LABELS[row]}: botocore {worker['botocore']}, {path}, default STS client "
            f"{worker['sts_retries']}"
        )
    checks = [
        f"- {LABELS[row]}, {scenario.title}: moto received a different number of "
        "GetCallerIdentity requests than calls returned."
        for (row, scenario), runs in measured.items()
        if not all(m["delivered_ok"] for m, _ in runs)
    ]
    errors = sorted(
        {
            f"{LABELS[row]}: {', '.join(m['errors'])}"
            for (row, _), runs in measured.items()
            for m, _ in runs
            if m["errors"]
        }
    )
    bar_lines = []
    for row in ("ours", "ours-next"):
        if row not in rows:
            continue
        for bar, met, seen in bars(measured, row):
            bar_lines.append(f"- {LABELS[row]}: {bar}: **{'met' if met else 'not met'}** ({seen})")
    _note_not_ahead(measured, rows)
    legacy_pieces = ", ".join(f"{fault} {piece} s" for fault, piece in LEGACY_PIECE.items())
    parts = [
        "## STS outages: 900 s keys, STS down for 3 and for 30 minutes",
        "One `sts.get_caller_identity()` per simulated second through the assumed-role "
        f"session (`DurationSeconds={DURATION}`, `time_machine.travel(start, tick=False)`, "
        f"moved 1 s per call). STS fails every AssumeRole from second {OUTAGE_AT} (the "
        f"first keys have {DURATION - OUTAGE_AT} s left: where botocore's next path and "
        "ours start refreshing 900 s keys) to the end of the outage, and the calls go on "
        f"for {AFTER // 60} minutes after recovery. A fault proxy between botocore and "
        "moto answers the AssumeRoles and counts them (botocore's own HTTP retries "
        "included); moto records which access key signed each call and when it arrived, "
        "so a call signed with keys that had already expired is seen at the wire (moto "
        "answers it; AWS would answer ExpiredToken). Each configuration runs in its own "
        "worker process; nothing is tuned (botocore's defaults: no `AWS_MAX_ATTEMPTS`, "
        "no timeouts).",
        "A *failed call* raised, or was signed with expired keys. 'Keys' time left' is "
        "read from the library's credentials object just before the call (ours "
        "`expiry_time`, botocore's `_expiry_time`, read only). Ranges are min-max over "
        f"{RUNS} runs: ours jitters its refresh and retry times and botocore's next path "
        "draws each backoff from `random.uniform(300, 600)` (runs seed `random` with the "
        "run's number). Legacy botocore keeps no state from a failed refresh and sleeps "
        "for real between its HTTP retries, so its outage is measured in pieces side by "
        f"side ({legacy_pieces} of outage per worker, each worker first holding the "
        "keys the full run holds when STS goes down) and once: its counts do not depend "
        "on chance.",
        "Configurations: " + "; ".join(setups) + ".",
    ]
    if missing_next:
        parts.append(
            "The next-path rows are missing: `.venv-next` is absent or does not run the "
            "next path (`make venv-next`)."
        )
    parts += tables
    parts += [
        "The issue's bars for ours (worst run):",
        "\n".join(bar_lines),
        "Errors raised: " + ("; ".join(errors) if errors else "none") + ".",
    ]
    if checks:
        parts.append("\n".join(checks))
    parts.append(f"Wall time of this benchmark: {wall:.0f} s.")
    return "\n\n".join(parts)


def main() -> str:
    """Run every configuration, print the section and return it."""
    started = time.perf_counter()
    next_python = next_path_python()
    rows: tuple[Row, ...] = (
        ROWS if next_python is not None else tuple(r for r in ROWS if not CONFIGS[r][1])
    )
    measured = run_all(rows, next_python)
    text = report(measured, rows, next_python is None, time.perf_counter() - started)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "--worker":
        _library, _outage, _fault, _run, _first, _last = sys.argv[2:8]
        if _fault not in FAULT_TEXT:
            raise SystemExit(f"unknown fault {_fault!r}")
        _scenario = Scenario(int(_outage), "throttle" if _fault == "throttle" else "server_error")
        emit_result(measure(_library, _scenario, int(_run), int(_first), int(_last)))
    else:
        from benchmarks._harness import NOT_AHEAD

        print(environment_header())
        main()
        if NOT_AHEAD:
            print("\nWhere ours is not ahead (for RESULTS.md's closing section):")
            print("\n".join(f"- {note}" for note in NOT_AHEAD))
