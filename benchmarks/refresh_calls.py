"""How many AssumeRole calls a steady stream of API calls costs, by session duration.

For each library and each ``DurationSeconds`` (900, 1800, 3600), one assumed-role session
makes 1,000 ``sts.get_caller_identity()`` calls, one every 6 simulated seconds
(``time_machine.travel(start, tick=False)``, shifted after each call), so that the span is
long enough for several credential lifetimes. AssumeRole calls are counted where they
arrive: at the moto server. botocore's retries play no part (moto answers every request;
the run checks that exactly 1,000 GetCallerIdentity requests arrived).

Run from the repository root: ``.venv/bin/python -m benchmarks.refresh_calls``.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING, Any, TypedDict

from benchmarks._harness import (
    LABELS,
    LIBRARIES,
    assume,
    environment_header,
    markdown_table,
    median,
    note_not_ahead,
    p99,
    preload,
    role_arn,
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


def report(results: dict[tuple[str, int], RunResult], gotcha: RunResult) -> str:
    """The markdown report for all runs."""
    ours = LIBRARIES[0]
    others = LIBRARIES[1:]
    counts = markdown_table(
        [
            "DurationSeconds",
            *(LABELS[library] for library in LIBRARIES),
            "fewest possible",
            *(f"{LABELS[library]} / ours" for library in others),
        ],
        [
            [
                duration,
                *(results[library, duration]["assume_role"] for library in LIBRARIES),
                minimum_possible(duration),
                *(
                    _ratio(results[library, duration], results[ours, duration])
                    for library in others
                ),
            ]
            for duration in DURATIONS
        ],
    )
    latency = markdown_table(
        ["DurationSeconds", *(f"{LABELS[library]} median / p99 ms" for library in LIBRARIES)],
        [
            [
                duration,
                *(
                    f"{results[library, duration]['median_ms']:.1f} / "
                    f"{results[library, duration]['p99_ms']:.1f}"
                    for library in LIBRARIES
                ),
            ]
            for duration in DURATIONS
        ],
    )
    checks = []
    for (library, duration), result in results.items():
        if result["get_caller_identity"] != CALLS:
            checks.append(
                f"- {LABELS[library]}, {duration} s: moto received "
                f"{result['get_caller_identity']} GetCallerIdentity requests, not {CALLS}."
            )
        if ":assumed-role/" not in result["arn"]:
            checks.append(
                f"- {LABELS[library]}, {duration} s: calls were signed as {result['arn']}, "
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
    text = report(results, gotcha)
    print(text)
    return text


if __name__ == "__main__":
    print(environment_header())
    main()
