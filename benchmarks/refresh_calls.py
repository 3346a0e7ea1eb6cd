"""How many AssumeRole calls a steady stream of API calls costs, by session duration.

For each library and each ``DurationSeconds`` (900, 1800, 3600), one assumed-role session
makes 1,000 ``sts.get_caller_identity()`` calls, one every 6 simulated seconds
(``time_machine.travel(start, tick=False)``, shifted after each call), so that the span is
long enough for several credential lifetimes. AssumeRole calls are counted where they
arrive: at the moto server. botocore's retries play no part (moto answers every request;
the run checks that exactly 1,000 GetCallerIdentity requests arrived).

botocore's next refresh path (its unreleased ``feature/credential-refresh`` branch:
lifetime-based windows, see FACTS.md) is measured beside them, in ``.venv-next`` (``make
venv-next``): aws-assume-role-lib there is "botocore next path" (botocore's own
``DeferredRefreshableCredentials``, now with the new windows), and ours runs there too.
Each of those runs in its own worker process on that venv's interpreter, after the
in-process runs (so that they do not share the CPU with the timed calls).

Run from the repository root: ``.venv/bin/python -m benchmarks.refresh_calls``.
"""

from __future__ import annotations

import datetime
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from benchmarks._harness import (
    LABELS,
    LIBRARIES,
    assume,
    emit_result,
    environment_header,
    markdown_table,
    median,
    next_path_python,
    note_not_ahead,
    p99,
    preload,
    role_arn,
    run_worker,
    start_moto,
)

if TYPE_CHECKING:
    import boto3

    from emulators.moto_server import MotoServer

DURATIONS = (900, 1800, 3600)
CALLS = 1000
INTERVAL = 6  # simulated seconds between two calls
SPAN = (CALLS - 1) * INTERVAL  # simulated seconds from the first call to the last
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
GOTCHA_CALLS = 100
MODULE = "benchmarks.refresh_calls"
#: Measured on botocore's next refresh path (``.venv-next``): botocore's own refresh
#: (through aws-assume-role-lib), and ours.
NEXT_LIBRARIES = ("aws-assume-role-lib", "ours")
NEXT_LABELS = {
    "aws-assume-role-lib": "botocore next path (aws-assume-role-lib)",
    "ours": "ours on the next path",
}
#: Runs of each on the next path: ours jitters its refresh time; botocore's next path has no
#: chance in it while STS answers (its windows follow the lifetime), so one run is its count.
NEXT_RUNS = {"aws-assume-role-lib": 1, "ours": 3}


class RunResult(TypedDict):
    assume_role: int
    get_caller_identity: int
    arn: str
    median_ms: float
    p99_ms: float


def role_sts_client(library: str, session: boto3.Session) -> Any:
    """An STS client that signs with the session's assumed-role credentials.

    boto3-refresh-session's ``session.client("sts")`` (no other argument) is not one: its
    client cache hands back the STS client the session itself uses to call AssumeRole,
    created before the session's credentials were installed, so it signs with the parent's
    credentials (see `gotcha`). Any other argument gives a different cache key and a client
    with the role's credentials.
    """
    if library == "boto3-refresh-session":
        return session.client("sts", region_name=session.region_name)
    return session.client("sts")


def run(
    server: MotoServer, library: str, duration: int, *, calls: int = CALLS, plain: bool = False
) -> RunResult:
    """One session of ``library`` making ``calls`` calls, ``INTERVAL`` simulated s apart."""
    import boto3
    import time_machine

    server.reset()
    latencies: list[float] = []
    arn = ""
    with time_machine.travel(START, tick=False) as traveller:
        parent = boto3.Session()
        session = assume(library, parent, role_arn(f"refresh-{duration}"), duration=duration)
        client = session.client("sts") if plain else role_sts_client(library, session)
        for _ in range(calls):
            started = time.perf_counter()
            arn = client.get_caller_identity()["Arn"]
            latencies.append((time.perf_counter() - started) * 1000)
            traveller.shift(datetime.timedelta(seconds=INTERVAL))
    return {
        "assume_role": server.requests.count("AssumeRole"),
        "get_caller_identity": server.requests.count("GetCallerIdentity"),
        "arn": arn,
        "median_ms": median(latencies),
        "p99_ms": p99(latencies),
    }


def measure_worker(library: str, duration: int) -> RunResult:
    """One library and duration on a moto server of this process's own (worker process)."""
    server = start_moto()
    preload(library)
    result = run(server, library, duration)
    server.stop()
    return result


def run_next_path(python: Path) -> dict[tuple[str, int], list[RunResult]]:
    """Every `NEXT_LIBRARIES` library and duration, `NEXT_RUNS` times, each in a worker on
    the next path's venv."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {
            (library, duration): [
                pool.submit(
                    run_worker, MODULE, library, str(duration), timeout=300, interpreter=python
                )
                for _ in range(NEXT_RUNS[library])
            ]
            for duration in DURATIONS
            for library in NEXT_LIBRARIES
        }
        return {key: [job.result() for job in runs] for key, runs in jobs.items()}


def _counts(runs: list[RunResult]) -> tuple[int, int]:
    """The fewest and the most AssumeRole calls over ``runs``."""
    counts = [run["assume_role"] for run in runs]
    return min(counts), max(counts)


def _count_span(runs: list[RunResult]) -> str:
    low, high = _counts(runs)
    return str(low) if low == high else f"{low}-{high}"


def _ratio_span(theirs: list[RunResult], mine: list[RunResult]) -> str:
    """``theirs / mine`` AssumeRole calls, as a range when either varies between runs."""
    (their_low, their_high), (my_low, my_high) = _counts(theirs), _counts(mine)
    low, high = their_low / max(my_high, 1), their_high / max(my_low, 1)
    return f"{low:.1f}x" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}-{high:.1f}x"


def minimum_possible(duration: int) -> int:
    """The fewest AssumeRole calls that can cover every call of the span."""
    return SPAN // duration + 1


def _ratio(result: RunResult, reference: RunResult) -> str:
    return f"{result['assume_role'] / max(reference['assume_role'], 1):.1f}x"


def _note_not_ahead(results: dict[tuple[str, int], RunResult]) -> None:
    """Record where another library needs no more AssumeRole calls, or calls faster."""
    ours = LIBRARIES[0]
    for duration in DURATIONS:
        mine = results[ours, duration]
        tied = [
            f"{LABELS[library]} {results[library, duration]['assume_role']}"
            for library in LIBRARIES[1:]
            if results[library, duration]["assume_role"] <= mine["assume_role"]
        ]
        if tied:
            note_not_ahead(
                f"Refresh calls, {duration} s credentials: ours made {mine['assume_role']} "
                f"AssumeRole calls per {CALLS:,} API calls, {', '.join(tied)}: with a "
                "lifetime well above botocore's 15-minute window every library refreshes "
                "about once per lifetime (ours' jitter can add or save one in this span)."
            )
        faster = [
            f"{LABELS[library]} {results[library, duration]['median_ms']:.1f} ms"
            for library in LIBRARIES[1:]
            if results[library, duration]["median_ms"] < mine["median_ms"] * 0.9
        ]
        if faster:
            note_not_ahead(
                f"Refresh calls, {duration} s credentials: median call ours "
                f"{mine['median_ms']:.1f} ms, {', '.join(faster)} (moto on loopback; "
                "between refreshes every library signs with cached credentials, so this is "
                "noise unless it repeats)."
            )


def _next_path_comparison(next_results: dict[tuple[str, int], list[RunResult]]) -> str:
    """Plain words: where ours on the next path ties botocore's next path, and where ahead.

    A tie: the ranges over the runs overlap (ours' jitter can add or save one refresh in
    this span); ahead or behind: every run of ours below, or above, every run of theirs.
    """
    botocore_next, ours = NEXT_LIBRARIES
    ties: list[str] = []
    ahead: list[str] = []
    behind: list[str] = []
    for duration in DURATIONS:
        theirs = _counts(next_results[botocore_next, duration])
        mine = _counts(next_results[ours, duration])
        text = (
            f"{duration} s ({_count_span(next_results[ours, duration])} against "
            f"{_count_span(next_results[botocore_next, duration])})"
        )
        if mine[1] < theirs[0]:
            ahead.append(text)
        elif mine[0] > theirs[1]:
            behind.append(text)
        else:
            ties.append(text)
        if mine[1] >= theirs[0]:
            note_not_ahead(
                f"Refresh calls on botocore's next path, {duration} s credentials: ours made "
                f"{_count_span(next_results[ours, duration])} AssumeRole calls per "
                f"{CALLS:,} API calls over {len(next_results[ours, duration])} runs, "
                f"botocore's next path (aws-assume-role-lib) "
                f"{_count_span(next_results[botocore_next, duration])}: "
                + (
                    "its lifetime-based window (300 s for keys of 20 minutes or less) ends "
                    "the legacy path's AssumeRole on every call, as ours does."
                    if duration <= 20 * 60
                    else "with a lifetime well above its window (900 s up to 90 minutes, "
                    "3600 s beyond) both refresh about once per lifetime."
                )
            )
    runs = NEXT_RUNS[ours]
    sentences = []
    if ties:
        sentences.append(
            f"Ours ties botocore's next path at {', '.join(ties)}: the ranges over ours' "
            f"{runs} runs overlap botocore's count (ours' jitter can add or save one refresh "
            "in this span)."
        )
    if ahead:
        sentences.append(
            f"Ours is ahead at {', '.join(ahead)}, in every one of its {runs} runs: its first "
            "refresh attempt comes at a jittered point between the start of its advisory "
            "window and its mandatory window, so each set of keys is used longer than "
            "botocore's, which refreshes as soon as its window opens."
        )
    if behind:
        sentences.append(f"Ours makes more AssumeRole calls at {', '.join(behind)}.")
    return " ".join(sentences)


def report(
    results: dict[tuple[str, int], RunResult],
    gotcha: RunResult,
    next_results: dict[tuple[str, int], list[RunResult]] | None = None,
) -> str:
    """The markdown report for all runs; ``next_results``: the next path's, if measured."""
    ours = LIBRARIES[0]
    others = LIBRARIES[1:]
    nexts = NEXT_LIBRARIES if next_results is not None else ()
    # Every library's runs, the next path's under their labels.
    every: dict[tuple[str, int], list[RunResult]] = {
        **{key: [result] for key, result in results.items()},
        **{(NEXT_LABELS[k[0]], k[1]): v for k, v in (next_results or {}).items()},
    }
    columns = [*(LABELS[library] for library in LIBRARIES), *(NEXT_LABELS[n] for n in nexts)]
    keys = [*LIBRARIES, *(NEXT_LABELS[n] for n in nexts)]
    counts = markdown_table(
        [
            "DurationSeconds",
            *columns,
            "fewest possible",
            *(f"{LABELS[library]} / ours" for library in others),
            *(["botocore next path / ours on it"] if nexts else []),
        ],
        [
            [
                duration,
                *(_count_span(every[key, duration]) for key in keys),
                minimum_possible(duration),
                *(
                    _ratio(results[library, duration], results[ours, duration])
                    for library in others
                ),
                *(
                    [
                        _ratio_span(
                            every[NEXT_LABELS[nexts[0]], duration],
                            every[NEXT_LABELS[nexts[1]], duration],
                        )
                    ]
                    if nexts
                    else []
                ),
            ]
            for duration in DURATIONS
        ],
    )
    latency = markdown_table(
        ["DurationSeconds", *(f"{column} median / p99 ms" for column in columns)],
        [
            [
                duration,
                *(
                    f"{every[key, duration][0]['median_ms']:.1f} / "
                    f"{every[key, duration][0]['p99_ms']:.1f}"
                    for key in keys
                ),
            ]
            for duration in DURATIONS
        ],
    )
    checks = []
    for (library, duration), result in ((key, run) for key, runs in every.items() for run in runs):
        if result["get_caller_identity"] != CALLS:
            checks.append(
                f"- {LABELS.get(library, library)}, {duration} s: moto received "
                f"{result['get_caller_identity']} GetCallerIdentity requests, not {CALLS}."
            )
        if ":assumed-role/" not in result["arn"]:
            checks.append(
                f"- {LABELS.get(library, library)}, {duration} s: calls were signed as "
                f"{result['arn']}, "
                "not as the assumed role."
            )
    check_text = (
        "\n".join(checks)
        if checks
        else f"Checks: every run delivered exactly {CALLS} GetCallerIdentity requests to moto "
        "(no retries) and every call was answered as the assumed role (`assumed-role/...`)."
    )
    _note_not_ahead(results)
    hours = SPAN / 3600
    if next_results is not None:
        next_text = (
            "The next two count columns run on botocore's next refresh path (`.venv-next`: "
            "botocore 1.43.65 with its unreleased `feature/credential-refresh` branch "
            "switched on, each run in its own worker process): 'botocore next path' is "
            "aws-assume-role-lib there, i.e. botocore's own refresh with lifetime-based "
            f"windows (one run: nothing in it is left to chance), and ours ran "
            f"{NEXT_RUNS['ours']} times (min-max; its latencies below are from its first "
            "run). " + _next_path_comparison(next_results)
        )
    else:
        next_text = (
            "botocore's next refresh path was not measured: `.venv-next` is absent or does "
            "not run it (`make venv-next`)."
        )
    return "\n\n".join(
        [
            "## Refresh calls: AssumeRole per 1,000 API calls",
            f"Simulated span: {CALLS:,} `sts.get_caller_identity()` calls, one every "
            f"{INTERVAL} s, from {START:%Y-%m-%d %H:%M} UTC: {SPAN:,} s ({hours:.2f} h) "
            "from the first call to the last (`time_machine.travel(start, tick=False)`, "
            "shifted after each call). AssumeRole requests are counted at the moto server. "
            "Ours jitters its refresh time, so its counts can differ by one between runs. "
            "'fewest possible' is what any library needs to cover the span with "
            "credentials of that lifetime.",
            "AssumeRole calls per 1,000 API calls:",
            counts,
            next_text,
            "Wall time of one `get_caller_identity()` call (including any AssumeRole it "
            "triggered), against moto on loopback:",
            latency,
            check_text,
            f"**boto3-refresh-session gotcha**: its `session.client('sts')` returns the "
            "client it uses internally to call AssumeRole, which signs with the *parent's* "
            f"credentials. {GOTCHA_CALLS} calls through it (900 s session) made "
            f"{gotcha['assume_role']} AssumeRole calls and were answered as "
            f"`{gotcha['arn']}`. The runs above use `session.client('sts', "
            "region_name=...)`, which is a different cache entry and signs with the role.",
        ]
    )


def main() -> str:
    """Run every library and duration against one moto server, print the report, return it."""
    server = start_moto()
    for library in LIBRARIES:
        preload(library)
    results = {
        (library, duration): run(server, library, duration)
        for duration in DURATIONS
        for library in LIBRARIES
    }
    gotcha = run(server, "boto3-refresh-session", 900, calls=GOTCHA_CALLS, plain=True)
    server.stop()
    python = next_path_python()
    next_results = run_next_path(python) if python is not None else None
    text = report(results, gotcha, next_results)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        emit_result(measure_worker(sys.argv[2], int(sys.argv[3])))
    else:
        print(environment_header())
        main()
