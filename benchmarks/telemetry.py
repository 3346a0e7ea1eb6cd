"""What `lambda_assume_role.instrument` costs: on the warm path, and per AssumeRole.

Three measurements in one worker process, telemetry off and on taking turns (in rounds of
1,000 warm calls, and sample by sample for refreshes) so that machine noise hits both alike:

* **warm invocation**: ``@inject_client("s3", ROLE)`` handler called warm (no STS call),
  each call timed alone with ``time.perf_counter_ns``, GC off while timing. Telemetry is
  never reached on this path, so the two medians should agree within noise.
* **per AssumeRole, end to end**: one credentials object cleared and read again, so each
  sample is a whole first-phase refresh with an AssumeRole to moto on loopback; off, with
  Metrics only, and with Metrics and a live X-Ray Tracer (the real ``aws_xray_sdk``
  recorder inside a segment, streaming each subsegment over UDP to a daemon address where
  nothing listens).
* **per refresh, telemetry alone**: the observation and call scopes around a no-op, so the
  microseconds are telemetry's own (EMF blob built and printed, subsegment opened,
  annotated and closed), without the network's noise.

EMF blobs go to ``os.devnull`` (a real write per blob, as to Lambda's stdout pipe).

Run from the repository root: ``.venv/bin/python -m benchmarks.telemetry``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

from benchmarks._harness import (
    emit_result,
    environment_header,
    markdown_table,
    median,
    role_arn,
    run_worker,
    start_moto,
)

WARM_ROUNDS = 100
WARM_CALLS = 1_000
STS_SAMPLES = 200  # per mode; the modes take turns sample by sample
ALONE_CALLS = 2_000
MODES = ("off", "metrics", "metrics+tracer")


class Result(TypedDict):
    warm_off_us: float
    warm_on_us: float
    sts_us: dict[str, float]
    alone_us: dict[str, float]
    samples: dict[str, int]


class _Context:
    function_name = "bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _timed(action: Callable[[], Any], calls: int, out: list[int]) -> None:
    clock = time.perf_counter_ns
    for _ in range(calls):
        started = clock()
        action()
        out.append(clock() - started)


_POWERTOOLS: dict[str, Any] = {}


def _in_mode(mode: str, action: Callable[[], None]) -> None:
    """Run ``action`` with telemetry off, with Metrics, or with Metrics and Tracer."""
    from lambda_assume_role import instrument

    if mode == "off":
        action()
        return
    if not _POWERTOOLS:  # made once: Tracer() reconfigures the X-Ray recorder each time
        from aws_lambda_powertools import Metrics, Tracer

        _POWERTOOLS["metrics"] = Metrics(namespace="Bench", service="bench")
        _POWERTOOLS["tracer"] = Tracer(disabled=False, auto_patch=False)
    tracer = _POWERTOOLS["tracer"] if mode == "metrics+tracer" else None
    with instrument(metrics=_POWERTOOLS["metrics"], tracer=tracer):
        action()


def measure() -> Result:
    """All three measurements in this (fresh worker) process."""
    start_moto()
    os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2999"  # UDP, nobody listens
    import boto3
    from aws_xray_sdk.core import xray_recorder

    from lambda_assume_role import assume_role, inject_client
    from lambda_assume_role.telemetry import active

    role = role_arn("Reader")
    context = _Context()

    @inject_client("s3", role)
    def handler(event: Any, context: Any, s3: Any) -> Any:
        return s3

    credentials = assume_role(boto3.Session(), role, RoleSessionName="bench").get_credentials()

    def refresh() -> None:
        credentials.clear()
        credentials.get_frozen_credentials()

    def alone() -> None:
        instrumentation = active()
        if instrumentation is None:
            return
        with instrumentation.refresh(role, "first") as observed, observed.assume_role_call():
            pass

    warm: dict[str, list[int]] = {"off": [], "on": []}
    sts: dict[str, list[int]] = {mode: [] for mode in MODES}
    own: dict[str, list[int]] = {mode: [] for mode in MODES[1:]}

    xray_recorder.begin_segment("bench", sampling=1)  # sampled: real subsegments
    with _quiet_stdout():
        for mode in MODES:  # warm-up: every path once, outside timing
            _in_mode(mode, lambda: (handler({}, context), refresh(), alone()))
        gc.collect()
        gc.disable()
        try:
            for _ in range(WARM_ROUNDS):
                _timed(lambda: handler({}, context), WARM_CALLS, warm["off"])
                _in_mode(
                    "metrics+tracer",
                    lambda: _timed(lambda: handler({}, context), WARM_CALLS, warm["on"]),
                )
                if len(warm["on"]) % 10_000 == 0:
                    gc.enable()
                    gc.collect()
                    gc.disable()
            for sample in range(STS_SAMPLES):
                for mode in MODES:
                    _in_mode(mode, lambda mode=mode: _timed(refresh, 1, sts[mode]))
                if sample % 25 == 24:
                    gc.enable()
                    gc.collect()
                    gc.disable()
            for mode in MODES[1:]:
                _in_mode(mode, lambda mode=mode: _timed(alone, ALONE_CALLS, own[mode]))
        finally:
            gc.enable()
    xray_recorder.end_segment()

    return {
        "warm_off_us": median(warm["off"]) / 1000,
        "warm_on_us": median(warm["on"]) / 1000,
        "sts_us": {mode: median(samples) / 1000 for mode, samples in sts.items()},
        "alone_us": {mode: median(samples) / 1000 for mode, samples in own.items()},
        "samples": {
            "warm": len(warm["off"]),
            "sts": len(sts["off"]),
            "alone": len(own["metrics"]),
        },
    }


def report(result: Result) -> str:
    warm_off, warm_on = result["warm_off_us"], result["warm_on_us"]
    sts_off = result["sts_us"]["off"]
    rows = [
        [
            "warm invocation (`@inject_client`, no STS call)",
            "off",
            f"{warm_off:.2f}",
            "1.00x",
            f"{result['samples']['warm']:,}",
        ],
        [
            "warm invocation (`@inject_client`, no STS call)",
            "metrics + tracer",
            f"{warm_on:.2f}",
            f"{warm_on / warm_off:.2f}x",
            f"{result['samples']['warm']:,}",
        ],
    ]
    for mode in MODES:
        value = result["sts_us"][mode]
        rows.append(
            [
                "refresh with AssumeRole (moto, loopback)",
                mode.replace("+", " + "),
                f"{value:,.0f}",
                f"{value / sts_off:.2f}x",
                f"{result['samples']['sts']:,}",
            ]
        )
    for mode in MODES[1:]:
        value = result["alone_us"][mode]
        rows.append(
            [
                "telemetry alone, per refresh (no network)",
                mode.replace("+", " + "),
                f"{value:.1f}",
                f"{value / sts_off * 100:.1f}% of an AssumeRole at moto",
                f"{result['samples']['alone']:,}",
            ]
        )
    table = markdown_table(["what", "telemetry", "median µs", "ratio to off", "samples"], rows)
    return "\n\n".join(
        [
            "## Telemetry: what `instrument(metrics=, tracer=)` costs",
            "Off and on taking turns in one process (rounds of 1,000 warm calls; refreshes "
            "sample by sample), GC off while timing, EMF blobs "
            "written to `os.devnull`. The warm path never reaches telemetry (its ratio is "
            "noise). A refresh sample is a whole first-phase fetch with an AssumeRole to moto "
            "on loopback, faster than real STS, so the ratios there are an upper "
            "bound. The tracer is the real `aws_xray_sdk` recorder inside a segment, "
            "streaming each subsegment over UDP. Turned off (the default), telemetry is not "
            "imported and costs two `is None` checks per refresh (one in the refresh, one before "
            "the STS call).",
            table,
        ]
    )


def main() -> str:
    result: Result = run_worker("benchmarks.telemetry", "all", timeout=120)
    text = report(result)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        emit_result(measure())
    else:
        print(environment_header())
        main()
