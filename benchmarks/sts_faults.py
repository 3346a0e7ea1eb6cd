"""What a faulty STS costs a caller whose keys are still good: ours against aws-assume-role-lib.

Two measurements, each library in its own worker process (time-machine moves the whole
process's clock), with a fault-injecting proxy (`emulators.fault_proxy.FaultProxy`) between
botocore and a moto server on 127.0.0.1:

* **Hung STS in the advisory window.** Credentials of 900 s and 3600 s; a client made from
  the assumed-role session makes one call to fetch keys; then the proxy holds every
  AssumeRole open without answering, and the simulated clock moves into the library's
  advisory window (keys still valid, refresh optional). The next
  ``sts.get_caller_identity()`` is timed on the real clock (socket timeouts are real). The
  call runs in a thread; if it is still blocked after ``CAP`` seconds the measurement
  stops, reports "> CAP s (still blocked)" and heals the proxy to release it. Each library
  runs with its defaults: ours ``RefreshWindows()`` (one attempt with 2 s timeouts in the
  advisory window), aws-assume-role-lib botocore's STS client defaults (reported in the
  section from the client's own config).
* **Throttled STS over a 10-minute advisory period.** Credentials of 3600 s; the clock
  moves to 15 minutes before expiry (botocore's fixed advisory window, and ours for 3600 s),
  every AssumeRole is throttled, and one call is made every ``INTERVAL`` simulated seconds
  for 10 minutes. HTTP AssumeRole attempts are counted at the proxy; failed API calls are
  counted with the time left on the keys when the first one failed.

The parts of the two libraries' advisory windows where a refresh is certain to be attempted
do not overlap (botocore: from 900 s to 600 s before expiry; ours: from its latest jittered
first attempt to 60 s before expiry), so each hang is measured at the middle of that part of
the library's own window.

botocore's next refresh path (its unreleased ``feature/credential-refresh`` branch, in
``.venv-next``: ``make venv-next``) ignores the legacy class attributes: its advisory window
follows the keys' lifetime (<= 20 min: 300 s; < 90 min: 900 s; else 3600 s) and its
mandatory window is 60 s. `botocore_windows` asks the botocore it runs on, so a worker on
that venv measures the next path's windows; aws-assume-role-lib there is a third row,
"botocore next path".

Run from the repository root: ``.venv/bin/python -m benchmarks.sts_faults``.
"""

from __future__ import annotations

import datetime
import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypedDict

from benchmarks._harness import (
    LABELS,
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

#: The libraries compared here: ours and the anchor.
COMPARED = ("ours", "aws-assume-role-lib")
#: The anchor on botocore's next refresh path, run in .venv-next: a row key, not a library.
NEXT = "next"
ROW_LABELS = {**LABELS, NEXT: "botocore next path (aws-assume-role-lib)"}
#: The library each row runs.
ROW_LIBRARY = {
    "ours": "ours",
    "aws-assume-role-lib": "aws-assume-role-lib",
    NEXT: "aws-assume-role-lib",
}
MODULE = "benchmarks.sts_faults"
DURATIONS = (900, 3600)
#: Longest real wait for one blocked call before it is reported as "> CAP s".
CAP = 30.0
#: Throttle run: credentials lifetime, period, and simulated seconds between two API calls.
THROTTLE_DURATION = 3600
PERIOD = 600
INTERVAL = 30
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
# How long a released anchor call may take to finish before the worker gives up on it.
_RELEASE_WAIT = 20.0


class HangResult(TypedDict):
    library: str
    duration: int
    remaining_s: float  # seconds left on the keys when the blocked call was made
    delay_s: float  # real seconds the call took, or CAP if it was still blocked
    blocked: bool  # still blocked at CAP
    attempts: int  # AssumeRole requests held by the proxy during the measurement
    outcome: str  # "ok", or the exception's class name
    released_s: float | None  # seconds to finish after heal(), when blocked
    sts_defaults: str  # the STS client configuration the library's refresh uses
    windows: list[float]  # the library's (advisory, mandatory) windows for these keys
    next_path: bool  # the worker's botocore runs its next refresh path


class ThrottleResult(TypedDict):
    library: str
    calls: int
    attempts: int
    attempts_botocore_advisory: int  # attempts by calls made in botocore's advisory window
    failed: int
    failed_in_advisory: int  # failed while the keys had more than the mandatory window left
    first_failure_remaining_s: float | None
    wall_s: float


# --- timing points ---------------------------------------------------------------------------


def next_refresh_path() -> bool:
    """Whether the botocore this runs on takes its next refresh path (``feature/credential-
    refresh`` switched on: ``DEFAULT_NEW_CREDENTIAL_REFRESH``, and ``_refresh_legacy`` beside
    the new ``_refresh``)."""
    from botocore import credentials

    return bool(getattr(credentials, "DEFAULT_NEW_CREDENTIAL_REFRESH", False)) and hasattr(
        credentials.RefreshableCredentials, "_refresh_legacy"
    )


def legacy_botocore_windows() -> tuple[float, float]:
    """botocore's legacy (advisory, mandatory) windows: ``RefreshableCredentials``'s class
    attributes (900 s and 600 s), which its next refresh path no longer reads."""
    from botocore.credentials import RefreshableCredentials

    advisory = float(getattr(RefreshableCredentials, "_advisory_refresh_timeout", 15 * 60))
    mandatory = float(getattr(RefreshableCredentials, "_mandatory_refresh_timeout", 10 * 60))
    return advisory, mandatory


def botocore_windows(lifetime: float = THROTTLE_DURATION) -> tuple[float, float]:
    """The (advisory, mandatory) refresh windows, in seconds before expiry, that the botocore
    this runs on applies to keys of ``lifetime`` seconds.

    On the legacy path, the class attributes (`legacy_botocore_windows`), whatever the
    lifetime. On the next path, botocore's own answer for such keys: a
    ``RefreshableCredentials`` built with them (and nothing explicit) is asked its
    resolved windows (``_resolve_advisory_refresh_timeout``, computed from the lifetime:
    <= 20 min: 300 s, < 90 min: 900 s, else 3600 s; ``_resolve_mandatory_refresh_timeout``:
    60 s). Nothing is refreshed or changed.
    """
    if not next_refresh_path():
        return legacy_botocore_windows()
    from botocore.credentials import RefreshableCredentials

    now = datetime.datetime.now(datetime.timezone.utc)
    probe: Any = RefreshableCredentials(
        "AKIDPROBE",
        "probe-secret",
        "probe-token",
        now + datetime.timedelta(seconds=lifetime),
        lambda: {},
        "probe",
        time_fetcher=lambda: now,
    )
    return (
        float(probe._resolve_advisory_refresh_timeout()),
        float(probe._resolve_mandatory_refresh_timeout()),
    )


def botocore_windows_text() -> str:
    """What the botocore this runs on does, in words, for the report."""
    if not next_refresh_path():
        advisory, mandatory = legacy_botocore_windows()
        return (
            f"advisory window {advisory:.0f} s, mandatory {mandatory:.0f} s before expiry, "
            "whatever the lifetime"
        )
    parts = ", ".join(
        f"{lifetime} s keys: {botocore_windows(lifetime)[0]:.0f} s" for lifetime in DURATIONS
    )
    return (
        f"advisory window by lifetime ({parts}), mandatory "
        f"{botocore_windows(DURATIONS[0])[1]:.0f} s before expiry"
    )


def advisory_midpoint(library: str, lifetime: int) -> float:
    """Seconds before expiry at the middle of the part of ``library``'s advisory window in
    which a refresh attempt is certain (after ours' jittered first attempt)."""
    if library == "ours":
        from lambda_assume_role import RefreshWindows

        windows = RefreshWindows()
        advisory = windows.advisory_window(lifetime)
        latest_first_attempt = advisory - windows.jitter * (advisory - windows.mandatory)
        return (latest_first_attempt + windows.mandatory) / 2
    advisory, mandatory = botocore_windows(lifetime)
    return (min(advisory, lifetime) + mandatory) / 2


def throttle_start(lifetime: int) -> float:
    """Seconds before expiry where the throttled period starts: 15 min, or the later of the
    two libraries' advisory windows if that is wider."""
    from lambda_assume_role import RefreshWindows

    return max(botocore_windows(lifetime)[0], RefreshWindows().advisory_window(lifetime), 15 * 60)


def library_windows(library: str, lifetime: int) -> tuple[float, float]:
    """``library``'s (advisory, mandatory) windows for keys of ``lifetime`` seconds."""
    if library == "ours":
        from lambda_assume_role import RefreshWindows

        windows = RefreshWindows()
        return windows.advisory_window(lifetime), windows.mandatory
    return botocore_windows(lifetime)


def mandatory_window(library: str, lifetime: int = THROTTLE_DURATION) -> float:
    """Seconds before expiry from which ``library``'s callers block on a refresh."""
    return library_windows(library, lifetime)[1]


# --- workers ---------------------------------------------------------------------------------


def _setup(library: str) -> tuple[Any, FaultProxy, boto3.Session]:
    """moto, the fault proxy in front of it (AWS_ENDPOINT_URL points at the proxy), a parent."""
    import boto3

    from emulators.fault_proxy import FaultProxy

    server = start_moto()
    preload(library)
    proxy = FaultProxy(server.endpoint_url).start()
    os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint_url
    return server, proxy, boto3.Session()


def _sts_defaults(library: str, parent: boto3.Session) -> str:
    """The STS client configuration the library refreshes with, read from a client."""
    if library == "ours":
        from lambda_assume_role import RefreshWindows

        windows = RefreshWindows()
        return (
            f"advisory refresh: 1 attempt, {windows.advisory_timeout:g} s connect and read "
            "timeouts (RefreshWindows())"
        )
    from botocore.retries.standard import DEFAULT_MAX_ATTEMPTS

    config: Any = parent.client("sts").meta.config  # botocore-stubs lists no timeouts
    retries = dict(config.retries or {})
    mode = retries.get("mode", "legacy")
    attempts = retries.get("total_max_attempts") or (
        DEFAULT_MAX_ATTEMPTS if mode == "standard" else (retries.get("max_attempts") or 4) + 1
    )
    return (
        f"botocore's STS client: {config.connect_timeout} s connect, {config.read_timeout} s "
        f"read, {mode} retries, {attempts} attempts, so a hung STS can hold a caller "
        f"{attempts} x {config.read_timeout} s = {attempts * config.read_timeout} s plus "
        "backoff"
    )


def _timed_call(client: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``client.get_caller_identity()`` in a daemon thread; its outcome lands in a dict."""
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            client.get_caller_identity()
            outcome["outcome"] = "ok"
        except Exception as error:  # reported, not raised: the benchmark measures it
            outcome["outcome"] = type(error).__name__
        outcome["finished"] = time.perf_counter()

    thread = threading.Thread(target=call, name="blocked-call", daemon=True)
    return thread, outcome


def measure_hang(library: str, duration: int) -> HangResult:
    """One library, one lifetime: the real delay of a call while STS hangs (worker process)."""
    import time_machine

    server, proxy, parent = _setup(library)
    remaining = advisory_midpoint(library, duration)
    with time_machine.travel(START, tick=False) as traveller:
        session = assume(library, parent, role_arn(f"hang-{duration}"), duration=duration)
        client = session.client("sts")
        client.get_caller_identity()  # fetch the keys
        proxy.fail("AssumeRole", "hang")
        traveller.shift(datetime.timedelta(seconds=duration - remaining))
        thread, outcome = _timed_call(client)
        started = time.perf_counter()
        thread.start()
        thread.join(CAP)
        blocked = thread.is_alive()
        delay = CAP if blocked else outcome["finished"] - started
        attempts = proxy.faulted("AssumeRole")
        released: float | None = None
        if blocked:
            healed = time.perf_counter()
            proxy.heal()
            thread.join(_RELEASE_WAIT)
            released = None if thread.is_alive() else outcome["finished"] - healed
    defaults = _sts_defaults(library, parent)
    proxy.stop()
    server.stop()
    return {
        "library": library,
        "duration": duration,
        "remaining_s": remaining,
        "delay_s": delay,
        "blocked": blocked,
        "attempts": attempts,
        "outcome": outcome.get("outcome", "still blocked"),
        "released_s": released,
        "sts_defaults": defaults,
        "windows": list(library_windows(library, duration)),
        "next_path": next_refresh_path(),
    }


def measure_throttle(library: str) -> ThrottleResult:
    """One library: HTTP attempts and failed calls against a throttled STS (worker process)."""
    import time_machine

    server, proxy, parent = _setup(library)
    duration = THROTTLE_DURATION
    start = throttle_start(duration)
    mandatory = mandatory_window(library, duration)
    # The split of the table's "first N min" column: legacy botocore's advisory window.
    botocore_mandatory = legacy_botocore_windows()[1]
    attempts_botocore_advisory = 0
    calls = failed = failed_in_advisory = 0
    first_failure: float | None = None
    started = time.perf_counter()
    with time_machine.travel(START, tick=False) as traveller:
        session = assume(library, parent, role_arn("throttled"), duration=duration)
        client = session.client("sts")
        client.get_caller_identity()  # fetch the keys
        proxy.fail("AssumeRole", "throttle")
        traveller.shift(datetime.timedelta(seconds=duration - start))
        for offset in range(0, PERIOD, INTERVAL):
            calls += 1
            try:
                client.get_caller_identity()
            except Exception:  # counted: a failed API call is what is measured
                failed += 1
                failed_in_advisory += start - offset >= mandatory
                if first_failure is None:
                    first_failure = start - offset
            if start - offset >= botocore_mandatory:
                attempts_botocore_advisory = proxy.faulted("AssumeRole")
            traveller.shift(datetime.timedelta(seconds=INTERVAL))
    wall = time.perf_counter() - started
    attempts = proxy.faulted("AssumeRole")
    proxy.stop()
    server.stop()
    return {
        "library": library,
        "calls": calls,
        "attempts": attempts,
        "attempts_botocore_advisory": attempts_botocore_advisory,
        "failed": failed,
        "failed_in_advisory": failed_in_advisory,
        "first_failure_remaining_s": first_failure,
        "wall_s": wall,
    }


# --- report ----------------------------------------------------------------------------------


def _seconds(result: HangResult) -> str:
    if result["blocked"]:
        return f"> {result['delay_s']:.0f} s (still blocked)"
    return f"{result['delay_s']:.2f} s"


def _hang_ratio(anchor: HangResult, ours: HangResult) -> str:
    ratio = anchor["delay_s"] / max(ours["delay_s"], 1e-3)
    return f"> {ratio:.0f}x" if anchor["blocked"] else f"{ratio:.1f}x"


def _count_ratio(theirs: int, mine: int) -> str:
    """``theirs / mine`` as "N.Nx", or "N against 0" when ours made none."""
    return f"{theirs / mine:.1f}x" if mine else f"{theirs} against 0"


def _note_not_ahead(
    hangs: dict[tuple[str, int], HangResult],
    throttles: dict[str, ThrottleResult],
    rows: tuple[str, ...],
) -> None:
    for anchor in rows[1:]:
        for duration in DURATIONS:
            mine, theirs = hangs["ours", duration], hangs[anchor, duration]
            if mine["blocked"] or mine["delay_s"] >= theirs["delay_s"]:
                note_not_ahead(
                    f"Hung STS, {duration} s credentials: a call waited {_seconds(mine)} with "
                    f"ours and {_seconds(theirs)} with {ROW_LABELS[anchor]}."
                )
        mine_t, theirs_t = throttles["ours"], throttles[anchor]
        if mine_t["attempts"] >= theirs_t["attempts"] or mine_t["failed"] > theirs_t["failed"]:
            note_not_ahead(
                f"Throttled STS over {PERIOD // 60} min: ours made {mine_t['attempts']} "
                f"AssumeRole attempts and failed {mine_t['failed']} calls, "
                f"{ROW_LABELS[anchor]} {theirs_t['attempts']} and {theirs_t['failed']}."
            )


def report(
    hangs: dict[tuple[str, int], HangResult],
    throttles: dict[str, ThrottleResult],
    rows: tuple[str, ...] = COMPARED,
) -> str:
    """The markdown section for both measurements; ``rows``: ours first, then the others
    measured (`COMPARED`, and `NEXT` when botocore's next path was measured)."""
    from lambda_assume_role import RefreshWindows

    ours, anchor = COMPARED
    others = rows[1:]
    _, mandatory = legacy_botocore_windows()
    start = throttle_start(THROTTLE_DURATION)
    hang_table = markdown_table(
        [
            "DurationSeconds",
            *(f"{ROW_LABELS[row]}: delay (keys' time left)" for row in rows),
            *(f"{ROW_LABELS[row]}: AssumeRole attempts" for row in rows),
            *(f"{ROW_LABELS[row]} / ours" for row in others),
        ],
        [
            [
                duration,
                *(
                    f"{_seconds(hangs[row, duration])} "
                    f"({hangs[row, duration]['remaining_s']:.0f} s)"
                    for row in rows
                ),
                *(hangs[row, duration]["attempts"] for row in rows),
                *(_hang_ratio(hangs[row, duration], hangs[ours, duration]) for row in others),
            ]
            for duration in DURATIONS
        ],
    )
    outcomes = []
    for (row, duration), result in hangs.items():
        line = f"- {ROW_LABELS[row]}, {duration} s: the call ended `{result['outcome']}`"
        if result["blocked"]:
            released = result["released_s"]
            line += (
                f", {released:.2f} s after the proxy was healed"
                if released is not None
                else f", not even {_RELEASE_WAIT:.0f} s after the proxy was healed"
            )
        outcomes.append(line + ".")
    defaults = {row: hangs[row, DURATIONS[0]]["sts_defaults"] for row in rows}
    windows = "; ".join(
        f"{ROW_LABELS[row]}, "
        + ", ".join(
            f"{duration} s keys {hangs[row, duration]['windows'][0]:.0f} / "
            f"{hangs[row, duration]['windows'][1]:.0f} s"
            for duration in DURATIONS
        )
        for row in rows
    )

    throttle_table = markdown_table(
        [
            "library",
            "API calls",
            "AssumeRole HTTP attempts",
            f"of which in the first {(start - mandatory) / 60:.0f} min",
            "failed API calls (in its advisory window)",
            "first failure (keys' time left)",
            "wall time",
        ],
        [
            [
                ROW_LABELS[row],
                throttles[row]["calls"],
                throttles[row]["attempts"],
                throttles[row]["attempts_botocore_advisory"],
                f"{throttles[row]['failed']} ({throttles[row]['failed_in_advisory']})",
                (
                    f"{throttles[row]['first_failure_remaining_s']:.0f} s"
                    if throttles[row]["first_failure_remaining_s"] is not None
                    else "none"
                ),
                f"{throttles[row]['wall_s']:.1f} s",
            ]
            for row in rows
        ],
    )
    attempts_ratio = _count_ratio(throttles[anchor]["attempts"], throttles[ours]["attempts"])
    early_ratio = _count_ratio(
        throttles[anchor]["attempts_botocore_advisory"],
        throttles[ours]["attempts_botocore_advisory"],
    )
    _note_not_ahead(hangs, throttles, rows)
    next_text = ""
    if NEXT in rows:
        next_text = (
            f" {ROW_LABELS[NEXT]} is aws-assume-role-lib on botocore's next refresh path "
            "(`.venv-next`: botocore 1.43.65 with its unreleased `feature/credential-refresh` "
            "branch switched on), measured in the same way in its own worker; its windows "
            "are what that botocore computes (by lifetime), not the legacy class attributes."
        )
    throttle_next = ""
    if NEXT in rows:
        next_t = throttles[NEXT]
        throttle_next = (
            f" {ROW_LABELS[NEXT]}: {next_t['attempts']} AssumeRole HTTP attempts and "
            f"{next_t['failed']} failed calls over the {PERIOD // 60} min: after a failed "
            "refresh it keeps its keys and waits `random.uniform(300, 600)` s before trying "
            "again, and it never raises once it has keys."
        )
    return "\n\n".join(
        [
            "## STS faults: a hung STS and a throttled STS while the keys are still good",
            "Each library runs in its own process against moto on 127.0.0.1 behind a "
            "fault-injecting proxy; the simulated clock is moved with "
            "`time_machine.travel(start, tick=False)` and `shift`, and socket timeouts run "
            "on the real clock. Ours uses its defaults (`RefreshWindows()`); "
            f"{LABELS[anchor]} uses botocore's ({botocore_windows_text()}, read from "
            "botocore). Nothing is tuned (no `AWS_MAX_ATTEMPTS`, no timeouts)." + next_text,
            f"Advisory / mandatory windows each row applies: {windows}.",
            "### A hung STS in the advisory window",
            "After one call has fetched the keys, the proxy holds every AssumeRole open "
            "without answering, and the clock moves to the middle of each library's own "
            "advisory window, where a refresh is certain to be attempted (the keys' time "
            "left is in brackets). "
            "The next `sts.get_caller_identity()` is timed in real seconds. A call still "
            f"blocked after {CAP:.0f} s is reported as such and released by healing the "
            "proxy. 'AssumeRole attempts' are the requests the proxy held during the wait.",
            hang_table,
            "Refresh configuration: "
            + "; ".join(f"{ROW_LABELS[row]}, {defaults[row]}" for row in rows)
            + ".",
            "\n".join(outcomes),
            f"### A throttled STS over {PERIOD // 60} advisory minutes",
            f"{THROTTLE_DURATION} s credentials; from {start / 60:.0f} min before expiry, "
            f"every AssumeRole is throttled (400 Throttling) and one `get_caller_identity()` "
            f"is made every {INTERVAL} simulated s for {PERIOD // 60} min. AssumeRole HTTP "
            "attempts are counted at the proxy (botocore's own retries included). A "
            "failure 'in its advisory window' is one made while the keys had more time left "
            "than that library's mandatory window.",
            throttle_table,
            f"{LABELS[anchor]} / ours, AssumeRole HTTP attempts: {attempts_ratio} over "
            f"the {PERIOD // 60} min, {early_ratio} in the first "
            f"{(start - mandatory) / 60:.0f} min (legacy botocore's advisory window, where "
            "its refresh is retried on every call with no backoff, each try with botocore's "
            f"own HTTP retries). Legacy botocore's advisory window ends {mandatory / 60:.0f} "
            "min before expiry: from there on every call is a mandatory refresh, and a "
            "failed one fails the call, although the keys are still valid for minutes. Ours "
            f"stays advisory until {RefreshWindows().mandatory / 60:.0f} min before expiry "
            "and backs off between attempts." + throttle_next,
        ]
    )


def main() -> str:
    """Run every worker (the anchors', which mostly wait, alongside ours), print, return."""
    next_python = next_path_python()
    rows: tuple[str, ...] = (*COMPARED, NEXT) if next_python is not None else COMPARED
    jobs: dict[tuple[str, str, int], Future[Any]] = {}
    with ThreadPoolExecutor(max_workers=len(rows) * (len(DURATIONS) + 1)) as pool:
        for row in reversed(rows):  # the anchors' long waits start first
            library = ROW_LIBRARY[row]
            interpreter = next_python if row == NEXT else None
            for duration in DURATIONS:
                jobs["hang", row, duration] = pool.submit(
                    run_worker,
                    MODULE,
                    "hang",
                    library,
                    str(duration),
                    interpreter=interpreter,
                )
            jobs["throttle", row, THROTTLE_DURATION] = pool.submit(
                run_worker, MODULE, "throttle", library, interpreter=interpreter
            )
        results = {key: job.result() for key, job in jobs.items()}
    hangs: dict[tuple[str, int], HangResult] = {
        (row, duration): result
        for (kind, row, duration), result in results.items()
        if kind == "hang"
    }
    throttles: dict[str, ThrottleResult] = {
        row: result for (kind, row, _duration), result in results.items() if kind == "throttle"
    }
    text = report(hangs, throttles, rows)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1:3] == ["--worker", "throttle"]:
        emit_result(measure_throttle(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1:3] == ["--worker", "hang"]:
        emit_result(measure_hang(sys.argv[3], int(sys.argv[4])))
    else:
        print(environment_header())
        main()
