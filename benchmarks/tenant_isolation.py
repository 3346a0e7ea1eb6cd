"""Tenant isolation: a warm tenant, a new tenant, and 1,000 tenants' memory, on moto.

Ours is a `TenantRole` (tenant from the authorizer's claim, a session tag, SourceIdentity and
a rendered session policy) behind `inject_client("dynamodb", ...)`. The alternative is
aws-samples' ``TenantAbacSession`` (Python, from its SaaS ABAC demo), reimplemented as it
works: one module-level STS client; for every request one AssumeRole with the tenant's
tag, a new botocore session holding the returned keys, and a client from it.

* **Warm tenant call**: a request for a tenant seen before: getting the tenant's DynamoDB
  client, and the same plus one ``GetItem`` on a moto table (the API call is the same for
  both and is shown so the share of the credential work is visible).
* **New tenant**: the first request of a tenant: rendering and validation, AssumeRole, the
  session and the first client, plus the ``GetItem`` that makes ours fetch credentials
  (ours is lazy: it calls STS at the first API call).
* **Memory**: 1,000 tenants, each with its session, its first client and its credentials
  (one AssumeRole), through ``SessionRegistry(maxsize=128)``: tracemalloc's peak and what
  is still allocated at the end (Python allocations only; RSS would count tracemalloc's
  own bookkeeping, and benchmarks.tenant_cost reports RSS per tenant).

Each part runs in a fresh process. Run from the repository root:
``.venv/bin/python -m benchmarks.tenant_isolation``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TypedDict

from benchmarks._harness import (
    ACCOUNT,
    emit_result,
    environment_header,
    markdown_table,
    median,
    p99,
    role_arn,
    run_worker,
    start_moto,
)

ROLE = role_arn("TenantData")
TABLE = "Items"
CLAIM = "custom:tenant_id"
WARM_CALLS = 2000
NEW_TENANTS_OURS = 100
SAMPLES_REQUESTS = 10
MEMORY_TENANTS = 1000
MEMORY_MAXSIZE = 128
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["{tenant}"]}},
        }
    ],
}


class Timings(TypedDict):
    client_ms: list[float]
    request_ms: list[float]


def event(tenant_id: str) -> dict[str, Any]:
    return {"requestContext": {"authorizer": {"claims": {CLAIM: tenant_id}}}}


def _table() -> None:
    import boto3

    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "tenant", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "tenant", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _get_item(client: Any, tenant_id: str) -> None:
    client.get_item(TableName=TABLE, Key={"tenant": {"S": tenant_id}})


def _ours() -> tuple[Any, Any]:
    """Ours' two handlers (client only; client and GetItem) on one registry."""
    import boto3

    from lambda_assume_role import SessionRegistry, TenantRole, authorizer_claim, inject_client

    tenant_data = TenantRole(
        ROLE, tenant=authorizer_claim(CLAIM), policy=POLICY, DurationSeconds=3600
    )
    registry = SessionRegistry(boto3.Session(), maxsize=4096)

    @inject_client("dynamodb", tenant_data, registry=registry)
    def client_only(event: Any, context: Any, dynamodb: Any) -> Any:
        return dynamodb

    @inject_client("dynamodb", tenant_data, registry=registry)
    def with_request(event: Any, context: Any, dynamodb: Any) -> Any:
        _get_item(dynamodb, event["requestContext"]["authorizer"]["claims"][CLAIM])
        return dynamodb

    return client_only, with_request


def measure_ours() -> dict[str, Any]:
    server = start_moto()
    _table()
    client_only, with_request = _ours()
    from lambda_assume_role import TenantRole

    with_request(event("warmup"), None)  # one-time work (models, the parent's STS client)
    warmup_calls = server.requests.count("AssumeRole")

    new: list[float] = []
    for n in range(NEW_TENANTS_OURS):
        started = time.perf_counter()
        with_request(event(f"tenant{n}"), None)
        new.append((time.perf_counter() - started) * 1000)
    assume_calls = server.requests.count("AssumeRole") - warmup_calls

    warm: Timings = {"client_ms": [], "request_ms": []}
    for n in range(WARM_CALLS):
        tenant_event = event(f"tenant{n % NEW_TENANTS_OURS}")
        started = time.perf_counter()
        client_only(tenant_event, None)
        warm["client_ms"].append((time.perf_counter() - started) * 1000)
    for n in range(WARM_CALLS // 4):
        tenant_event = event(f"tenant{n % NEW_TENANTS_OURS}")
        started = time.perf_counter()
        with_request(tenant_event, None)
        warm["request_ms"].append((time.perf_counter() - started) * 1000)

    # Rendering and validating alone, for ids never seen (each a new TenantRole memo entry).
    renderer = TenantRole(ROLE, policy=POLICY, DurationSeconds=3600)
    render: list[float] = []
    for n in range(500):
        started = time.perf_counter()
        renderer.parameters(f"fresh{n}")
        render.append((time.perf_counter() - started) * 1000)
    return {
        "new_ms": new,
        "warm": warm,
        "render_ms": render,
        "assume_calls_new": assume_calls,
        "assume_calls_total": server.requests.count("AssumeRole") - warmup_calls,
    }


_STS: Any = None


def _tenant_abac_session(tenant_id: str) -> Any:
    """aws-samples' TenantAbacSession, then a client: what its demo does for every request.

    Its module keeps one STS client; each request assumes the role with the tenant's
    ``TenantID`` tag (900 s), puts the keys on a new botocore session
    (``botocore.session.get_session()`` and ``set_credentials``), wraps it in a boto3
    session and makes the data client from it.
    """
    import boto3
    import botocore.session

    global _STS  # noqa: PLW0603
    if _STS is None:
        _STS = boto3.client("sts")
    credentials = _STS.assume_role(
        RoleArn=ROLE,
        RoleSessionName=f"demo-tenant-session-{tenant_id}",
        DurationSeconds=900,
        Tags=[{"Key": "TenantID", "Value": tenant_id}],
    )["Credentials"]
    botocore_session = botocore.session.get_session()
    botocore_session.set_credentials(
        access_key=credentials["AccessKeyId"],
        secret_key=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )
    return boto3.Session(botocore_session=botocore_session).client("dynamodb")


def measure_samples() -> dict[str, Any]:
    server = start_moto()
    _table()
    _get_item(_tenant_abac_session("warmup"), "warmup")
    timings: Timings = {"client_ms": [], "request_ms": []}
    for n in range(SAMPLES_REQUESTS):
        tenant_id = f"tenant{n % 10}"
        started = time.perf_counter()
        client = _tenant_abac_session(tenant_id)
        timings["client_ms"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _get_item(_tenant_abac_session(tenant_id), tenant_id)
        timings["request_ms"].append((time.perf_counter() - started) * 1000)
        del client
    return {"warm": timings, "assume_calls": server.requests.count("AssumeRole") - 1}


def measure_memory() -> dict[str, Any]:
    import gc
    import tracemalloc

    import boto3

    from lambda_assume_role import SessionRegistry, TenantRole

    server = start_moto()
    _table()
    tenant_data = TenantRole(ROLE, policy=POLICY, DurationSeconds=3600)
    registry = SessionRegistry(boto3.Session(), maxsize=MEMORY_MAXSIZE)

    def tenant(tenant_id: str) -> None:
        params = tenant_data.parameters(tenant_id)
        registry.client(service_name="dynamodb", **params)
        # The credentials, as the first API call would fetch them: one AssumeRole.
        credentials = registry.session(**params).get_credentials()
        assert credentials is not None
        credentials.get_frozen_credentials()

    tenant("warmup")
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    most = 0
    for n in range(MEMORY_TENANTS):
        tenant(f"tenant{n:04d}")
        most = max(most, len(registry))
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    # The moto server runs in this process: what its code allocated (every AssumeRole it
    # answered, its request log) is not ours.
    server_side = [tracemalloc.Filter(True, f"*/{name}/*") for name in ("moto", "werkzeug")]
    server_side.append(tracemalloc.Filter(True, "*/emulators/*"))
    snapshot = tracemalloc.take_snapshot().filter_traces(server_side)
    server_bytes = sum(stat.size for stat in snapshot.statistics("filename"))
    tracemalloc.stop()
    return {
        "peak_mb": (peak - base) / 2**20,
        "retained_mb": (retained - base) / 2**20,
        "server_mb": server_bytes / 2**20,
        "most_sessions": most,
        "assume_calls": server.requests.count("AssumeRole") - 1,
    }


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:,.0f}x" if reference else "n/a"


def report(ours: dict[str, Any], samples: dict[str, Any], memory: dict[str, Any]) -> str:
    ours_warm, theirs = ours["warm"], samples["warm"]
    rows = [
        [
            "warm tenant: get the tenant's client",
            f"{median(ours_warm['client_ms']) * 1000:.1f} µs",
            f"{p99(ours_warm['client_ms']) * 1000:.1f} µs",
            f"{median(theirs['client_ms']):.1f} ms",
            _ratio(median(theirs["client_ms"]), median(ours_warm["client_ms"])),
        ],
        [
            "warm tenant: client + GetItem",
            f"{median(ours_warm['request_ms']):.2f} ms",
            f"{p99(ours_warm['request_ms']):.2f} ms",
            f"{median(theirs['request_ms']):.1f} ms",
            _ratio(median(theirs["request_ms"]), median(ours_warm["request_ms"])),
        ],
        [
            "new tenant: render + AssumeRole + first client + GetItem",
            f"{median(ours['new_ms']):.2f} ms",
            f"{p99(ours['new_ms']):.2f} ms",
            f"{median(theirs['request_ms']):.1f} ms",
            _ratio(median(theirs["request_ms"]), median(ours["new_ms"])),
        ],
    ]
    table = markdown_table(
        ["per request", "ours median", "ours p99", "TenantAbacSession median", "ours faster"],
        rows,
    )
    memory_table = markdown_table(
        ["1,000 tenants, SessionRegistry(maxsize=128)", "measured"],
        [
            ["tracemalloc peak (above the start)", f"{memory['peak_mb']:.1f} MB"],
            ["tracemalloc retained at the end", f"{memory['retained_mb']:.1f} MB"],
            ["of which allocated by moto's code (in process)", f"{memory['server_mb']:.1f} MB"],
            ["most sessions held at once", memory["most_sessions"]],
            ["AssumeRole calls", memory["assume_calls"]],
        ],
    )
    return "\n\n".join(
        [
            "## Tenant isolation: TenantRole against a per-request AssumeRole",
            "Ours: `TenantRole` (tenant from a Cognito claim in the authorizer context, a "
            "`TenantId` session tag, SourceIdentity, a session policy rendered with "
            "`dynamodb:LeadingKeys`) behind `inject_client('dynamodb', ...)`. The alternative "
            "reimplements aws-samples' `TenantAbacSession`: one module-level STS client; per "
            "request AssumeRole with the tenant tag, a new botocore session "
            "(`get_session()` + `set_credentials`) and a DynamoDB client from it. All on "
            "moto over HTTP; a GetItem is the same for "
            f"both. Ours: {NEW_TENANTS_OURS} new tenants ({ours['assume_calls_new']} "
            f"AssumeRole), then {WARM_CALLS} + {WARM_CALLS // 4} warm calls "
            f"({ours['assume_calls_total'] - ours['assume_calls_new']} more AssumeRole); "
            f"TenantAbacSession: {SAMPLES_REQUESTS} requests of each kind "
            f"({samples['assume_calls']} AssumeRole).",
            table,
            "Rendering and validating a new tenant's parameters alone (tag, SourceIdentity, "
            f"policy, STS model check): {median(ours['render_ms']) * 1000:.0f} µs median, "
            f"{p99(ours['render_ms']) * 1000:.0f} µs p99.",
            "**Memory** (one fresh process; each tenant gets its session, its first client "
            "and its credentials, one AssumeRole; evicted sessions' clients are closed; "
            "tracemalloc counts every Python allocation of the process, the moto server "
            "running in it included, whose share is shown):",
            memory_table,
        ]
    )


def main() -> str:
    ours = run_worker("benchmarks.tenant_isolation", "ours")
    samples = run_worker("benchmarks.tenant_isolation", "samples")
    memory = run_worker("benchmarks.tenant_isolation", "memory")
    text = report(ours, samples, memory)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker = {"ours": measure_ours, "samples": measure_samples, "memory": measure_memory}
        emit_result(worker[sys.argv[2]]())
    else:
        print(environment_header())
        main()
