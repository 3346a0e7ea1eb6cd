"""What a new tenant costs: one assumed-role session plus its first s3 client.

A multi-tenant Lambda function assumes one role per tenant and makes a client from it. This
measures, for each library, the wall time and the memory that adds, before any API call
(no STS call is made: only the session and the client are constructed). Each library runs
in a fresh process; every tenant's session and client stay alive until the end.

* **Warm-up**: one tenant first, so that one-time work (parsing the s3 model and endpoint
  rules into a process-wide cache, the parent's first clients) is reported on its own.
* **Per tenant**: the median and p99 wall time of ``assume(parent, role_i)`` plus
  ``session.client("s3")``, and the RSS growth divided by the number of tenants alive.
* **Floor**: one more s3 client on a plain ``boto3.Session`` that already has one: what a
  client costs when nothing is parsed again. A new tenant cannot be much cheaper than that.

Run from the repository root: ``.venv/bin/python -m benchmarks.tenant_cost``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TypedDict

from benchmarks._harness import (
    LABELS,
    LIBRARIES,
    assume,
    emit_result,
    environment_header,
    markdown_table,
    median,
    note_not_ahead,
    p99,
    preload,
    role_arn,
    rss_mb,
    run_worker,
    start_moto,
)

#: Numbers of new tenants, measured cumulatively in one process per library.
SIZES = (1, 10, 100, 1000)
#: Tenants per library: aws-assume-role-lib and boto3-refresh-session give every session its
#: own data loader (~12-20 MB and ~70-200 ms per tenant), so 1000 of them would take
#: 10-20 GB and minutes; they stop at 100.
MAX_TENANTS = {"ours": 1000, "aws-assume-role-lib": 100, "boto3-refresh-session": 100}

TARGET_FLOOR_RATIO = 1.5
TARGET_SPEEDUP = 8.0
TARGET_MB = 1.0


class SizeResult(TypedDict):
    n: int
    median_ms: float
    p99_ms: float
    assume_median_ms: float
    client_median_ms: float
    rss_mb_per_tenant: float


class WorkerResult(TypedDict):
    library: str
    warmup_ms: float
    warmup_mb: float
    sizes: list[SizeResult]
    floor_ms: float | None
    floor_p99_ms: float | None
    api_calls: int


def measure(library: str) -> WorkerResult:
    """Measure one library in this process (called in a fresh worker process).

    In ours' process, each tenant is followed by one floor sample (one more s3 client on
    the plain parent session, then dropped), so that the two are timed under the same
    conditions: the same heap size, garbage collector and machine load.
    """
    server = start_moto()
    preload(library)
    import boto3

    parent = boto3.Session()
    parent.get_credentials()  # resolve the parent's credentials before measuring
    with_floor = library == "ours"
    if with_floor:
        parent.client("s3")  # the plain session's first s3 client parses the model

    alive: list[tuple[Any, Any]] = []
    before = rss_mb()
    started = time.perf_counter()
    session = assume(library, parent, role_arn("tenant-warmup"))
    alive.append((session, session.client("s3")))
    warmup_ms = (time.perf_counter() - started) * 1000
    baseline = rss_mb()

    sizes: list[SizeResult] = []
    samples: list[float] = []
    assume_samples: list[float] = []
    floor: list[float] = []
    for i in range(MAX_TENANTS[library]):
        started = time.perf_counter()
        session = assume(library, parent, role_arn(f"tenant-{i:04d}"))
        assumed = time.perf_counter()
        client = session.client("s3")
        done = time.perf_counter()
        samples.append((done - started) * 1000)
        assume_samples.append((assumed - started) * 1000)
        alive.append((session, client))
        if with_floor:
            started = time.perf_counter()
            parent.client("s3")
            floor.append((time.perf_counter() - started) * 1000)
        if len(samples) in SIZES:
            sizes.append(
                {
                    "n": len(samples),
                    "median_ms": median(samples),
                    "p99_ms": p99(samples),
                    "assume_median_ms": median(assume_samples),
                    "client_median_ms": median(
                        [total - part for total, part in zip(samples, assume_samples, strict=True)]
                    ),
                    "rss_mb_per_tenant": (rss_mb() - baseline) / len(samples),
                }
            )

    floor_ms = median(floor) if floor else None
    floor_p99_ms = p99(floor) if floor else None
    return {
        "library": library,
        "warmup_ms": warmup_ms,
        "warmup_mb": baseline - before,
        "sizes": sizes,
        "floor_ms": floor_ms,
        "floor_p99_ms": floor_p99_ms,
        "api_calls": len(server.requests.all()),
    }


def _ratio(value: float, reference: float | None) -> str:
    return f"{value / reference:.1f}x" if reference else "n/a"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(results: dict[str, WorkerResult]) -> str:
    """The markdown report for the workers' results."""
    ours = results["ours"]
    floor = ours["floor_ms"]
    ours_by_n = {size["n"]: size for size in ours["sizes"]}

    rows: list[list[object]] = []
    for library in LIBRARIES:
        by_n = {size["n"]: size for size in results[library]["sizes"]}
        for n in SIZES:
            size = by_n.get(n)
            if size is None:
                rows.append(
                    [
                        LABELS[library],
                        n,
                        f"not run: capped at {MAX_TENANTS[library]}",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
                continue
            reference = ours_by_n.get(n)
            rows.append(
                [
                    LABELS[library],
                    n,
                    f"{size['median_ms']:.2f}",
                    f"{size['p99_ms']:.2f}",
                    _ratio(size["median_ms"], floor),
                    _ratio(size["median_ms"], reference["median_ms"] if reference else None),
                    f"{size['rss_mb_per_tenant']:.2f}",
                ]
            )
    tenants = markdown_table(
        [
            "library",
            "N",
            "median ms / new tenant",
            "p99 ms",
            "vs floor",
            "vs ours",
            "RSS MB / tenant",
        ],
        rows,
    )

    warmup = markdown_table(
        ["library", "warm-up tenant ms", "warm-up RSS MB", "tenants measured", "API calls"],
        [
            [
                LABELS[library],
                f"{results[library]['warmup_ms']:.1f}",
                f"{results[library]['warmup_mb']:.1f}",
                MAX_TENANTS[library],
                results[library]["api_calls"],
            ]
            for library in LIBRARIES
        ],
    )

    breakdown = markdown_table(
        ["library", "N", "median ms in assume()", "median ms in first client('s3')"],
        [
            [
                LABELS[library],
                results[library]["sizes"][-1]["n"],
                f"{results[library]['sizes'][-1]['assume_median_ms']:.2f}",
                f"{results[library]['sizes'][-1]['client_median_ms']:.2f}",
            ]
            for library in LIBRARIES
        ],
    )

    largest = ours["sizes"][-1]
    aarl = results["aws-assume-role-lib"]["sizes"]
    common = max(set(ours_by_n) & {size["n"] for size in aarl})
    aarl_common = next(size for size in aarl if size["n"] == common)
    floor_ratio = largest["median_ms"] / floor if floor else float("inf")
    speedup = aarl_common["median_ms"] / ours_by_n[common]["median_ms"]
    targets = markdown_table(
        ["target", "measured", "result"],
        [
            [
                f"ours within {TARGET_FLOOR_RATIO}x the floor (N={largest['n']})",
                f"{floor_ratio:.2f}x",
                _verdict(floor_ratio <= TARGET_FLOOR_RATIO),
            ],
            [
                f"ours at least {TARGET_SPEEDUP:.0f}x faster than aws-assume-role-lib (N={common})",
                f"{speedup:.1f}x",
                _verdict(speedup >= TARGET_SPEEDUP),
            ],
            [
                f"ours at most {TARGET_MB:.0f} MB per tenant (N={largest['n']})",
                f"{largest['rss_mb_per_tenant']:.2f} MB",
                _verdict(largest["rss_mb_per_tenant"] <= TARGET_MB),
            ],
        ],
    )

    faster_warmups = [
        library for library in LIBRARIES[1:] if results[library]["warmup_ms"] < ours["warmup_ms"]
    ]
    if faster_warmups:
        note_not_ahead(
            "Tenant cost: ours' first tenant in a process takes "
            f"{ours['warmup_ms']:.0f} ms against "
            + ", ".join(
                f"{results[library]['warmup_ms']:.0f} ms for {LABELS[library]}"
                for library in faster_warmups
            )
            + ": it also builds the process-wide template emitter and shared loader that "
            "make every later tenant cheap. It pays for itself from the second tenant on."
        )
    floor_text = (
        f"{floor:.2f} ms median, {ours['floor_p99_ms']:.2f} ms p99 over "
        f"{MAX_TENANTS['ours']} clients, one timed right after each of ours' tenants"
        if floor
        else "not measured"
    )
    return "\n\n".join(
        [
            "## Tenant cost: a new assumed-role session and its first s3 client",
            "A new tenant is `assume(parent, role_i)` plus its first `session.client('s3')`, "
            "before any API call. N tenants are created one after another in one fresh "
            "process per library and all stay alive; RSS growth is measured after a warm-up "
            "tenant and divided by N (MB = 2^20 bytes). boto3-refresh-session is used as "
            "its API docs show: `RefreshableSession(method='sts', "
            "assume_role_kwargs=AssumeRoleConfig(RoleArn=...))`, clients through its "
            "per-session client cache.",
            f"**Floor** (one more s3 client on a plain `boto3.Session` that already has "
            f"one, in ours' process): {floor_text}.",
            tenants,
            "Where a new tenant's time goes (largest N of each library):",
            breakdown,
            "**One-time warm-up** (the first tenant of the process, not counted above; "
            "API calls = requests moto received during the whole run, expected 0):",
            warmup,
            "**Targets** (shown, not enforced):",
            targets,
        ]
    )


def main() -> str:
    """Measure every library in its own process, print the report and return it."""
    results: dict[str, WorkerResult] = {
        library: run_worker("benchmarks.tenant_cost", library) for library in LIBRARIES
    }
    text = report(results)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        emit_result(measure(sys.argv[2]))
    else:
        print(environment_header())
        main()
