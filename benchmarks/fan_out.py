"""Fan-out: the same job in every account and region, ours against botocove and runacross.

One moto server runs in this (the parent) process and records every request; each
measurement runs in a fresh worker process that reaches it through ``AWS_ENDPOINT_URL``, so a
worker's RSS holds the library and its results only (not moto's state), and AssumeRole calls
are counted at the server. The compared accounts are members of a moto organization,
because botocove checks ``target_ids`` against ListAccounts; the other runs use made-up
account ids, which moto accepts for AssumeRole too.

**The job**, identical for every library: in each account-region, make an STS client from
the session the library hands over and call ``get_caller_identity()``; the value is the
(account, region) the call ran as, checked against the target. Every library is used as
its documentation shows, with 16 workers and the same parent session:

* ours: ``for outcome in fan_out(work, accounts, role_name=..., regions=[...])``, keeping
  counts only (outcomes are streamed);
* botocove 1.7: ``@cove(target_ids=..., rolename=..., regions=[...], thread_workers=16,
  assuming_session=parent)``; its output holds every result until the end;
* runacross 0.7: ``map_account_regions(work, accounts=..., role_name=..., regions=[...],
  max_workers=16, source_session=parent)``.

Measured: wall time, AssumeRole calls (at moto), peak RSS (``VmHWM``) against the RSS before
the run, and whether every target was accounted for exactly once. Then, ours alone:

* **Flat memory**: one run over ``FLAT_ACCOUNTS`` x ``REGIONS`` (2,000 targets) from a lazy
  iterator, with RSS sampled when outcome ``FLAT_FIRST`` and the last outcome arrive.
* **Deadline**: ``DEADLINE_TARGETS`` accounts whose work is one API call and
  ``DEADLINE_WORK_S`` of sleep, with a ``DEADLINE_S`` deadline, run cold (a process's first
  run) and warm (its second): how many finished, how many remained, and the margin left
  before the deadline when iteration ended.

botocove and runacross take most of the run time (about 4 minutes each on 2 cores): every
session they create parses botocore's endpoint rules and the STS model again, and they
create 1,000 (botocove) and 1,500 (runacross) of them.

Run from the repository root: ``.venv/bin/python -m benchmarks.fan_out``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypedDict

from benchmarks._harness import (
    ACCOUNT,
    emit_result,
    environment_header,
    markdown_table,
    note_not_ahead,
    peak_rss_mb,
    rss_mb,
    run_worker,
    start_moto,
)

if TYPE_CHECKING:
    import boto3

MODULE = "benchmarks.fan_out"
#: The libraries compared, in table order.
COMPARED = ("ours", "botocove", "runacross")
LABELS = {
    "ours": "ours (lambda_assume_role.fan_out)",
    "botocove": "botocove",
    "runacross": "runacross",
}
_PACKAGES = {"ours": "lambda-assume-role", "botocove": "botocove", "runacross": "runacross"}

ROLE = "OrganizationAccountAccessRole"
ACCOUNTS = 500
REGIONS = ("us-east-1", "eu-west-1")
WORKERS = 16
#: Flat memory: accounts x REGIONS = 2,000 targets in one run; RSS at outcome FLAT_FIRST.
FLAT_ACCOUNTS = 1000
FLAT_TARGETS = FLAT_ACCOUNTS * len(REGIONS)
FLAT_FIRST = 200
DEADLINE_TARGETS = 2000
DEADLINE_WORK_S = 0.05
DEADLINE_S = 5.0
#: The reserve passed in the deadline run: the default (10 s) is longer than the deadline.
DEADLINE_RESERVE_S = 1.0

#: Targets (reported, not enforced).
TARGET_RSS_FRACTION = 0.5
TARGET_FLAT_MB = 5.0
#: A worker may take this long before run_worker gives up (botocove parses the models again
#: for each of its 1,000 sessions, which is most of its wall time).
WORKER_TIMEOUT_S = 600.0
_MEMBERS_VARIABLE = "BENCH_FAN_OUT_MEMBERS"
#: How long the deadline run waits for given-up threads to end before reporting.
_DRAIN_WAIT_S = 5.0


def account_ids(count: int, first: int = 0) -> list[str]:
    """``count`` distinct 12-digit account ids from number ``first`` on, none of them the
    caller's (ACCOUNT); moto accepts AssumeRole into any of them."""
    return [f"{200_000_000_000 + i:012d}" for i in range(first, first + count)]


class Tally:
    """Counts what came back for each (account, region), to check that each target is
    accounted for exactly once and that the work ran as the target's identity."""

    def __init__(self, expected: set[tuple[str, str]]) -> None:
        self.expected = expected
        self.seen: Counter[tuple[str, str]] = Counter()
        self.ok = 0
        self.wrong_identity = 0
        self.failed: Counter[str] = Counter()

    def add(self, key: tuple[str, str], value: Any, failure: str | None) -> None:
        self.seen[key] += 1
        if failure is not None:
            self.failed[failure] += 1
        elif tuple(value) == key:
            self.ok += 1
        else:
            self.wrong_identity += 1

    def summary(self, remaining: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        leftover = Counter(remaining or [])
        both = self.seen + leftover
        duplicates = sum(count - 1 for count in both.values() if count > 1)
        missing = len(self.expected - set(both))
        unexpected = len(set(both) - self.expected)
        return {
            "targets": len(self.expected),
            "outcomes": sum(self.seen.values()),
            "remaining": sum(leftover.values()),
            "ok": self.ok,
            "wrong_identity": self.wrong_identity,
            "failed": dict(self.failed),
            "duplicates": duplicates,
            "missing": missing,
            "unexpected": unexpected,
            "overlap": len(set(self.seen) & set(leftover)),
            "accounted": duplicates == 0 and missing == 0 and unexpected == 0,
        }


def _identity(session: boto3.Session) -> tuple[str, str]:
    """The job: who and where an STS call from ``session`` runs as."""
    client = session.client("sts")
    return client.get_caller_identity()["Account"], client.meta.region_name


# --- workers (each in a fresh process) -------------------------------------------------------


def _parent() -> boto3.Session:
    import boto3

    return boto3.Session()


def _run_ours(parent: boto3.Session, accounts: list[str], tally: Tally) -> None:
    from lambda_assume_role import fan_out
    from lambda_assume_role.fanout import Target

    def work(session: boto3.Session, target: Target) -> tuple[str, str]:
        return _identity(session)

    run = fan_out(
        work, accounts, role_name=ROLE, regions=list(REGIONS), max_workers=WORKERS, parent=parent
    )
    for outcome in run:
        key = (outcome.target.account_id, outcome.target.region or "")
        tally.add(key, outcome.value, outcome.phase)


def _run_botocove(parent: boto3.Session, accounts: list[str], tally: Tally) -> None:
    from botocove import cove

    @cove(  # type: ignore[untyped-decorator,unused-ignore]
        target_ids=accounts,
        rolename=ROLE,
        regions=list(REGIONS),
        thread_workers=WORKERS,
        assuming_session=parent,
    )
    def job(session: boto3.Session) -> tuple[str, str]:
        return _identity(session)

    output = job()
    for kind in ("Results", "Exceptions", "FailedAssumeRole"):
        for item in output[kind]:
            failure = None if kind == "Results" else kind
            tally.add((item["Id"], item["Region"]), item.get("Result"), failure)


def _run_runacross(parent: boto3.Session, accounts: list[str], tally: Tally) -> None:
    from runacross import Account, map_account_regions

    def job(session: boto3.Session, account: Account, region: str) -> tuple[str, str]:
        return _identity(session)

    results = map_account_regions(
        job,
        accounts=accounts,
        role_name=ROLE,
        regions=list(REGIONS),
        max_workers=WORKERS,
        source_session=parent,
    )
    for result in results:
        failure = None if result.error is None else str(result.phase.value if result.phase else "")
        tally.add((result.account.id, result.region), result.value, failure)


_RUNNERS = {"ours": _run_ours, "botocove": _run_botocove, "runacross": _run_runacross}


class CompareResult(TypedDict):
    library: str
    wall_s: float
    baseline_mb: float
    peak_mb: float
    end_mb: float
    tally: dict[str, Any]


def measure_compare(library: str) -> CompareResult:
    """One library, ``ACCOUNTS`` x ``REGIONS``: wall time, RSS and the tally (worker)."""
    os.environ["TQDM_DISABLE"] = "1"  # botocove's progress bar
    runner = _RUNNERS[library]
    accounts = _members()
    tally = Tally({(account, region) for account in accounts for region in REGIONS})
    if library == "ours":
        import lambda_assume_role  # noqa: F401  (import time is charged to no library)
    else:
        __import__(library)
    parent = _parent()
    baseline = rss_mb()
    started = time.perf_counter()
    runner(parent, accounts, tally)
    wall = time.perf_counter() - started
    return {
        "library": library,
        "wall_s": wall,
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
        "end_mb": rss_mb(),
        "tally": tally.summary(),
    }


class FlatResult(TypedDict):
    wall_s: float
    baseline_mb: float
    first_mb: float
    last_mb: float
    peak_mb: float
    tally: dict[str, Any]


def measure_flat() -> FlatResult:
    """Ours over ``FLAT_ACCOUNTS`` x ``REGIONS`` from a lazy iterator, RSS sampled as the
    outcomes stream in."""
    from lambda_assume_role import fan_out
    from lambda_assume_role.fanout import Target

    def work(session: boto3.Session, target: Target) -> tuple[str, str]:
        return _identity(session)

    accounts = account_ids(FLAT_ACCOUNTS)
    tally = Tally({(account, region) for account in accounts for region in REGIONS})
    parent = _parent()
    baseline = rss_mb()
    first = 0.0
    started = time.perf_counter()
    run = fan_out(
        work,
        iter(accounts),
        role_name=ROLE,
        regions=list(REGIONS),
        max_workers=WORKERS,
        parent=parent,
    )
    for count, outcome in enumerate(run, start=1):
        tally.add(
            (outcome.target.account_id, outcome.target.region or ""),
            outcome.value,
            outcome.phase,
        )
        if count == FLAT_FIRST:
            first = rss_mb()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "baseline_mb": baseline,
        "first_mb": first,
        "last_mb": rss_mb(),
        "peak_mb": peak_rss_mb(),
        "tally": tally.summary(),
    }


class DeadlineRun(TypedDict):
    process: str
    elapsed_s: float
    threads_after: int
    drained_s: float | None
    summary: dict[str, Any]
    tally: dict[str, Any]


def measure_deadline() -> list[DeadlineRun]:
    """Ours over ``DEADLINE_TARGETS`` slow targets with a ``DEADLINE_S`` deadline, twice in
    one process: cold (the first run: models parsed, connections opened) and warm (as in a
    later invocation of the same Lambda environment), each over accounts of its own."""
    from lambda_assume_role import fan_out
    from lambda_assume_role.fanout import Target

    def work(session: boto3.Session, target: Target) -> tuple[str, str]:
        identity = _identity(session)
        time.sleep(DEADLINE_WORK_S)
        return identity

    parent = _parent()
    region = parent.region_name or REGIONS[0]
    runs: list[DeadlineRun] = []
    for index, process in enumerate(("cold", "warm")):
        accounts = account_ids(DEADLINE_TARGETS, first=index * DEADLINE_TARGETS)
        tally = Tally({(account, region) for account in accounts})
        threads_before = threading.active_count()
        started = time.perf_counter()
        run = fan_out(
            work,
            iter(accounts),
            role_name=ROLE,
            max_workers=WORKERS,
            deadline=DEADLINE_S,
            reserve=DEADLINE_RESERVE_S,
            parent=parent,
        )
        for outcome in run:
            tally.add(
                (outcome.target.account_id, outcome.target.region or ""),
                outcome.value,
                outcome.phase,
            )
        elapsed = time.perf_counter() - started
        remaining = [
            (target.account_id, target.region or region)
            for target in map(Target.parse, run.remaining)
        ]
        # Given-up work may still run in its thread: how long until every worker has ended.
        threads_after = threading.active_count() - threads_before
        drained: float | None = None
        while time.perf_counter() - started < elapsed + _DRAIN_WAIT_S:
            if threading.active_count() <= threads_before:
                drained = time.perf_counter() - started - elapsed
                break
            time.sleep(0.01)
        runs.append(
            {
                "process": process,
                "elapsed_s": elapsed,
                "threads_after": threads_after,
                "drained_s": drained,
                "summary": run.summary.as_dict(),
                "tally": tally.summary(remaining),
            }
        )
    return runs


# --- parent ----------------------------------------------------------------------------------


@contextmanager
def _moto_for_workers() -> Iterator[Any]:
    """A recording moto server in this process, with an organization of ``ACCOUNTS`` member
    accounts, its URL and the member ids in the environment the workers inherit.

    botocove checks ``target_ids`` against the organization's ACTIVE accounts when it can
    call ListAccounts, so the compared accounts are real (moto) members. This process's
    environment is restored afterwards: `benchmarks.run_all` runs other benchmarks next.
    """
    import boto3

    saved = dict(os.environ)
    server = start_moto()
    try:
        organizations = boto3.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        for i in range(ACCOUNTS):
            organizations.create_account(AccountName=f"member-{i}", Email=f"m{i}@example.com")
        members = [
            account["Id"]
            for page in organizations.get_paginator("list_accounts").paginate()
            for account in page["Accounts"]
            if account["Id"] != ACCOUNT
        ]
        os.environ[_MEMBERS_VARIABLE] = ",".join(members)
        yield server
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


def _members() -> list[str]:
    """The organization's member account ids, as the parent put them in the environment."""
    return os.environ[_MEMBERS_VARIABLE].split(",")


def _worker(server: Any, *args: str) -> tuple[Any, int]:
    """Run one worker; its result and the AssumeRole calls moto received meanwhile."""
    before = server.requests.count("AssumeRole")
    result = run_worker(MODULE, *args, timeout=WORKER_TIMEOUT_S)
    return result, server.requests.count("AssumeRole") - before


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _accounted(tally: dict[str, Any]) -> str:
    if tally["accounted"]:
        text = f"yes: {tally['outcomes']} outcomes"
        if tally["remaining"]:
            text += f" + {tally['remaining']} remaining"
        return text + f" = {tally['targets']}, no duplicate"
    return (
        f"NO: {tally['missing']} missing, {tally['duplicates']} duplicated, "
        f"{tally['unexpected']} unexpected"
    )


def _version(library: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(_PACKAGES[library])
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _deadline_row(run: DeadlineRun) -> list[object]:
    tally = run["tally"]
    summary = run["summary"]
    margin = DEADLINE_S - run["elapsed_s"]
    drained = run["drained_s"]
    return [
        run["process"],
        f"{tally['outcomes']} ({tally['ok']} ok)",
        tally["remaining"],
        summary.get("given_up", "n/a"),
        f"{run['elapsed_s']:.3f} s",
        f"{margin:+.3f} s",
        f"{margin - DEADLINE_RESERVE_S:+.3f} s",
        f"{tally['outcomes'] / run['elapsed_s']:.0f}/s",
        f"{run['threads_after']}, ended {drained:.2f} s later"
        if drained is not None
        else f"{run['threads_after']}, some still running {_DRAIN_WAIT_S:g} s later",
        _accounted(tally) + (", disjoint" if tally["overlap"] == 0 else ", OVERLAP"),
    ]


def report(
    compare: dict[str, tuple[CompareResult, int]],
    flat: tuple[FlatResult, int],
    deadline: tuple[list[DeadlineRun], int],
) -> str:
    """The markdown section for every measurement, with the targets and the findings
    where ours is not ahead (`note_not_ahead`)."""
    ours, ours_calls = compare["ours"]
    botocove, botocove_calls = compare["botocove"]
    rows: list[list[object]] = []
    for library, (result, calls) in compare.items():
        tally = result["tally"]
        growth = result["peak_mb"] - result["baseline_mb"]
        rows.append(
            [
                f"{LABELS[library]} {_version(library)}",
                f"{result['wall_s']:.1f} s",
                f"{result['wall_s'] / ours['wall_s']:.1f}x",
                f"{calls} ({calls / ours_calls:.1f}x)",
                f"{result['peak_mb']:.0f} MB ({result['peak_mb'] / ours['peak_mb']:.1f}x)",
                f"{growth:.0f} MB",
                f"{growth / ACCOUNTS * 1024:.0f} KB",
                f"{tally['ok']} ok, {sum(tally['failed'].values())} failed, "
                f"{tally['wrong_identity']} wrong identity",
                _accounted(tally),
            ]
        )
    compare_table = markdown_table(
        [
            "library",
            "wall time",
            "vs ours",
            "AssumeRole calls (vs ours)",
            "peak RSS (vs ours)",
            "peak - RSS before",
            "per account",
            "outcomes",
            "every target accounted for",
        ],
        rows,
    )

    flat_result, flat_calls = flat
    drift = flat_result["last_mb"] - flat_result["first_mb"]
    flat_table = markdown_table(
        [
            "targets",
            "wall time",
            "AssumeRole calls",
            "RSS before",
            f"RSS at outcome {FLAT_FIRST}",
            f"RSS at outcome {FLAT_TARGETS}",
            "difference",
            "peak RSS",
            "every target accounted for",
        ],
        [
            [
                f"{FLAT_ACCOUNTS} accounts x {len(REGIONS)} regions",
                f"{flat_result['wall_s']:.1f} s",
                flat_calls,
                f"{flat_result['baseline_mb']:.1f} MB",
                f"{flat_result['first_mb']:.1f} MB",
                f"{flat_result['last_mb']:.1f} MB",
                f"{drift:+.1f} MB",
                f"{flat_result['peak_mb']:.1f} MB",
                _accounted(flat_result["tally"]),
            ]
        ],
    )

    deadline_runs, deadline_calls = deadline
    deadline_table = markdown_table(
        [
            "process",
            "finished",
            "remaining",
            "of which given up in flight",
            "iteration ended at",
            f"margin to the {DEADLINE_S:g} s deadline",
            f"margin to deadline - reserve ({DEADLINE_S - DEADLINE_RESERVE_S:g} s)",
            "finished per second",
            "threads still running at the end",
            "every target accounted for",
        ],
        [_deadline_row(run) for run in deadline_runs],
    )
    started_targets = sum(
        run["tally"]["outcomes"] + int(run["summary"].get("given_up", 0)) for run in deadline_runs
    )
    ideal = int(WORKERS * (DEADLINE_S - DEADLINE_RESERVE_S) / DEADLINE_WORK_S)
    ours_rate = ours["tally"]["outcomes"] / ours["wall_s"]
    summaries = "\n".join(f"- {run['process']}: `{run['summary']}`" for run in deadline_runs)

    worst_margin = min(DEADLINE_S - run["elapsed_s"] for run in deadline_runs)
    all_accounted = (
        all(result["tally"]["accounted"] for result, _ in compare.values())
        and flat_result["tally"]["accounted"]
        and all(run["tally"]["accounted"] and run["tally"]["overlap"] == 0 for run in deadline_runs)
    )
    targets = markdown_table(
        ["target", "measured", "result"],
        [
            [
                f"fewer AssumeRole calls than botocove, by the number of regions ({len(REGIONS)})",
                f"{ours_calls} against {botocove_calls} "
                f"({botocove_calls / max(ours_calls, 1):.1f}x fewer)",
                _verdict(ours_calls * len(REGIONS) <= botocove_calls),
            ],
            [
                f"peak RSS at most {TARGET_RSS_FRACTION:g} x botocove's ({ACCOUNTS} x "
                f"{len(REGIONS)})",
                f"{ours['peak_mb']:.0f} MB against {botocove['peak_mb']:.0f} MB "
                f"({ours['peak_mb'] / botocove['peak_mb']:.2f}x)",
                _verdict(ours["peak_mb"] <= TARGET_RSS_FRACTION * botocove["peak_mb"]),
            ],
            [
                f"flat memory: RSS at outcome {FLAT_TARGETS} within {TARGET_FLAT_MB:g} MB of "
                f"RSS at outcome {FLAT_FIRST}",
                f"{drift:+.1f} MB",
                _verdict(abs(drift) <= TARGET_FLAT_MB),
            ],
            [
                "nothing lost (every run: outcomes + remaining = all targets, no duplicate)",
                "yes" if all_accounted else "no",
                _verdict(all_accounted),
            ],
            [
                f"no deadline overrun ({DEADLINE_S:g} s)",
                f"smallest margin {worst_margin:+.3f} s",
                _verdict(worst_margin >= 0),
            ],
        ],
    )

    for library in COMPARED[1:]:
        result, calls = compare[library]
        label = f"Fan-out {ACCOUNTS} x {len(REGIONS)}: {LABELS[library]}"
        if result["wall_s"] <= ours["wall_s"]:
            note_not_ahead(
                f"{label} took {result['wall_s']:.1f} s against ours' {ours['wall_s']:.1f} s."
            )
        if calls <= ours_calls:
            note_not_ahead(
                f"{label} made {calls} AssumeRole calls against ours' {ours_calls}"
                + ("; it too assumes once per account." if calls == ours_calls else ".")
            )
        if result["peak_mb"] <= ours["peak_mb"]:
            note_not_ahead(
                f"{label} peaked at {result['peak_mb']:.0f} MB RSS against ours' "
                f"{ours['peak_mb']:.0f} MB."
            )

    return "\n\n".join(
        [
            f"## Fan-out: one job in {ACCOUNTS} accounts x {len(REGIONS)} regions",
            "The job, the same for every library: in each account-region, an STS client from "
            "the session the library provides, and `get_caller_identity()`; the (account, "
            "region) it ran as is checked against the target ('wrong identity' otherwise). "
            f"The {ACCOUNTS} accounts are members of a moto organization (botocove checks "
            "`target_ids` against it). moto runs on 127.0.0.1 in the parent process and counts "
            "the AssumeRole calls; each library runs in its own fresh worker process with "
            f"{WORKERS} workers and the same parent session, used as its documentation shows: "
            f"ours iterates `fan_out(work, accounts, regions=[...])` and keeps counts only "
            "(outcomes are streamed); botocove's `@cove(target_ids=..., regions=[...])` returns "
            "every result at the end; runacross' `map_account_regions(...)` returns a result "
            "list. Peak RSS is the worker's VmHWM (MB = 2^20 bytes); 'per account' is the peak's "
            f"growth over the RSS before the run, divided by {ACCOUNTS}. botocove builds a "
            "`boto3.Session` from static keys for each account-region and runacross one per "
            "account plus a copy per region; each new session parses botocore's endpoint rules "
            "and the STS model again, which is most of their wall time.",
            compare_table,
            f"**Flat memory** (ours): one run over {FLAT_ACCOUNTS} accounts x {len(REGIONS)} "
            f"regions read from a lazy iterator; RSS (after a full GC) when outcome "
            f"{FLAT_FIRST} and outcome {FLAT_TARGETS} arrive.",
            flat_table,
            f"**Deadline** (ours): {DEADLINE_TARGETS} accounts, each one "
            f"`get_caller_identity()` and {DEADLINE_WORK_S * 1000:.0f} ms of sleep, "
            f"`deadline={DEADLINE_S:g}`, `reserve={DEADLINE_RESERVE_S:g}` (the default 10 s "
            "reserve is longer than the deadline), timed from the `fan_out` call to the end of "
            "iteration. Run twice in one worker process: cold (its first run) and warm (a "
            "second run over other accounts, as in a later invocation of the same Lambda "
            f"environment). The sleep alone would let {ideal} targets finish by deadline - "
            f"reserve ({WORKERS} workers x {DEADLINE_S - DEADLINE_RESERVE_S:g} s / "
            f"{DEADLINE_WORK_S * 1000:.0f} ms); but every target here is a new account (an "
            "AssumeRole, a session, a client and a call, in one Python process), so CPU sets "
            f"the pace, as in the first table (ours: {ours_rate:.0f} targets/s with two "
            "targets per account). New work stops once less than reserve + the running p95 "
            "of a target's duration is left, so iteration ends a little before deadline - "
            f"reserve. AssumeRole calls in the worker: {deadline_calls}, for "
            f"{started_targets} targets finished or given up.",
            deadline_table,
            "`run.summary.as_dict()` of each run:",
            summaries,
            "**Targets** (shown, not enforced):",
            targets,
        ]
    )


def main() -> str:
    """Run every worker in turn against one recording moto server; print and return."""
    with _moto_for_workers() as server:
        compare: dict[str, tuple[CompareResult, int]] = {
            library: _worker(server, "compare", library) for library in COMPARED
        }
        flat: tuple[FlatResult, int] = _worker(server, "flat")
        deadline: tuple[list[DeadlineRun], int] = _worker(server, "deadline")
    text = report(compare, flat, deadline)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1:3] == ["--worker", "compare"]:
        emit_result(measure_compare(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1:3] == ["--worker", "flat"]:
        emit_result(measure_flat())
    elif len(sys.argv) == 3 and sys.argv[1:3] == ["--worker", "deadline"]:
        emit_result(measure_deadline())
    else:
        print(environment_header())
        main()
