"""Memory: RSS per cached role in a `SessionRegistry`, and the cap ``maxsize`` enforces.

Every measurement runs in a fresh process (`run_worker`). A process builds one parent
``boto3.Session``, makes one warm-up tenant (in a registry of its own, kept alive) so that
parsing the s3 model and endpoint rules once per process is not charged to the tenants,
takes the RSS as its baseline, then asks a registry for ``registry.client(role_i, "s3")``
for N distinct roles: one assumed-role session and one s3 client per role. No API call is
made, so no credentials are fetched (a fetched set adds a few hundred bytes of strings).
RSS is read from ``/proc/self/status`` after a full garbage collection; MB = 2^20 bytes.

* **Per cached role**: ``SessionRegistry(maxsize=N)`` with N = 1, 100 and 1,000 tenants, each
  in its own process. At N = 1 the figure is mostly allocator and page granularity noise.
* **Floor**: N more s3 clients on the plain parent session (which already has one): what a
  client costs when nothing is parsed again. A cached role cannot cost much less.
* **Cap**: 1,000 tenants through ``SessionRegistry(maxsize=128)``; RSS and ``len(registry)``
  after 128, 500 and 1,000 tenants. Evicted entries' clients are closed and dropped.

The per-library comparison (aws-assume-role-lib and boto3-refresh-session, 12-20 MB per
tenant) is in `benchmarks.tenant_cost`; it is not repeated here.

Run from the repository root: ``.venv/bin/python -m benchmarks.memory``.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

from benchmarks._harness import (
    emit_result,
    environment_header,
    isolate_aws_environment,
    markdown_table,
    note_not_ahead,
    role_arn,
    rss_mb,
    run_worker,
)

SIZES = (1, 100, 1000)
FLOOR_CLIENTS = 300
CAP = 128
CAP_TENANTS = 1000
CAP_CHECKPOINTS = (CAP, 500, CAP_TENANTS)


class Checkpoint(TypedDict):
    tenants: int
    rss_mb: float
    growth_mb: float
    cached: int


class WorkerResult(TypedDict):
    mode: str
    baseline_mb: float
    warmup_mb: float
    checkpoints: list[Checkpoint]


def measure(mode: str, count: int, maxsize: int) -> WorkerResult:
    """One measurement in this (fresh worker) process; ``mode`` is "registry" or "floor"."""
    isolate_aws_environment()
    import boto3

    from lambda_assume_role import SessionRegistry

    parent = boto3.Session()
    parent.get_credentials()
    before = rss_mb()
    warmup = SessionRegistry(parent)
    warmup.client(role_arn("tenant-warmup"), "s3")
    parent.client("s3")  # the plain session's first s3 client, for the floor
    baseline = rss_mb()

    alive: list[Any] = []
    registry = SessionRegistry(parent, maxsize=maxsize)
    checkpoints: list[Checkpoint] = []
    wanted = set(CAP_CHECKPOINTS) if maxsize < count else {count}
    for i in range(count):
        if mode == "floor":
            alive.append(parent.client("s3"))
        else:
            registry.client(role_arn(f"tenant-{i:04d}"), "s3")
        if i + 1 in wanted:
            rss = rss_mb()
            checkpoints.append(
                {
                    "tenants": i + 1,
                    "rss_mb": rss,
                    "growth_mb": rss - baseline,
                    "cached": len(alive) if mode == "floor" else len(registry),
                }
            )
    return {
        "mode": mode,
        "baseline_mb": baseline,
        "warmup_mb": baseline - before,
        "checkpoints": checkpoints,
    }


def _worker(mode: str, count: int, maxsize: int) -> WorkerResult:
    result: WorkerResult = run_worker(
        "benchmarks.memory", mode, str(count), str(maxsize), timeout=300
    )
    return result


def report(sizes: dict[int, WorkerResult], floor: WorkerResult, capped: WorkerResult) -> str:
    floor_point = floor["checkpoints"][-1]
    floor_per_client = floor_point["growth_mb"] / floor_point["tenants"]
    per_role_rows: list[list[object]] = []
    for n in SIZES:
        point = sizes[n]["checkpoints"][-1]
        per_tenant = point["growth_mb"] / n
        per_role_rows.append(
            [
                f"{n:,}",
                f"{sizes[n]['baseline_mb']:.1f}",
                f"{point['rss_mb']:.1f}",
                f"{point['growth_mb']:.1f}",
                f"{per_tenant * 1024:,.0f}",
                f"{per_tenant / floor_per_client:.1f}x" if floor_per_client > 0 else "n/a",
                point["cached"],
            ]
        )
    per_role = markdown_table(
        [
            "tenants (roles)",
            "baseline RSS MB",
            "RSS after MB",
            "growth MB",
            "KB per role (session + s3 client)",
            "vs floor (one plain s3 client)",
            "len(registry)",
        ],
        per_role_rows,
    )

    uncapped = sizes[CAP_TENANTS]["checkpoints"][-1]
    cap_rows: list[list[object]] = [
        [
            f"{point['tenants']:,}",
            f"{point['rss_mb']:.1f}",
            f"{point['growth_mb']:.1f}",
            point["cached"],
            f"{point['growth_mb'] / uncapped['growth_mb']:.2f}x"
            if point["tenants"] == CAP_TENANTS and uncapped["growth_mb"] > 0
            else "",
        ]
        for point in capped["checkpoints"]
    ]
    cap_table = markdown_table(
        [
            f"tenants through maxsize={CAP}",
            "RSS MB",
            "growth MB",
            "len(registry)",
            f"growth vs uncapped at {CAP_TENANTS:,}",
        ],
        cap_rows,
    )
    by_tenants = {point["tenants"]: point for point in capped["checkpoints"]}
    plateau = by_tenants[CAP_TENANTS]["growth_mb"] - by_tenants[CAP]["growth_mb"]
    if plateau > 0.25 * by_tenants[CAP]["growth_mb"]:
        note_not_ahead(
            f"Memory cap: after the registry is full ({CAP} roles), RSS still grew "
            f"{plateau:.1f} MB over the next {CAP_TENANTS - CAP:,} tenants: freed sessions' "
            "memory is reused only in part (allocator fragmentation), so the cap bounds "
            "live objects, not RSS exactly."
        )
    return "\n\n".join(
        [
            "## Memory: RSS per cached role, and the `maxsize` cap",
            "Fresh process per row. Baseline: after the parent session and one warm-up "
            "tenant (the s3 model and endpoint rules parsed once per process, "
            f"{sizes[SIZES[-1]]['warmup_mb']:.1f} MB in the 1,000-tenant process). Then "
            "`registry.client(role_i, 's3')` for N distinct roles; no API call. Floor: "
            f"{FLOOR_CLIENTS:,} more s3 clients on the plain parent session, "
            f"{floor_per_client * 1024:,.0f} KB each. aws-assume-role-lib and "
            "boto3-refresh-session per tenant: see the tenant cost section.",
            per_role,
            f"**The cap**: {CAP_TENANTS:,} tenants through `SessionRegistry(maxsize={CAP})` "
            "in one process; the least recently used role is evicted (its clients closed).",
            cap_table,
        ]
    )


def main() -> str:
    # Two worker processes at a time (one per core): RSS is per process, and nothing
    # here is timed.
    with ThreadPoolExecutor(max_workers=2) as pool:
        capped_job = pool.submit(_worker, "registry", CAP_TENANTS, CAP)
        size_jobs = {n: pool.submit(_worker, "registry", n, n) for n in reversed(SIZES)}
        floor_job = pool.submit(_worker, "floor", FLOOR_CLIENTS, FLOOR_CLIENTS)
        sizes = {n: size_jobs[n].result() for n in SIZES}
        floor = floor_job.result()
        capped = capped_job.result()
    text = report(sizes, floor, capped)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        emit_result(measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    else:
        print(environment_header())
        main()
