"""``make demo``: the multi-tenant example under the real Lambda runtime client, on this machine.

No AWS account and no Docker: AWS is moto on 127.0.0.1, and Lambda is a Runtime
API emulator driving ``awslambdaric``, whose process sees only the example, the
layer built from this checkout, and what the Lambda Python runtime provides.

The function is invoked for two tenants; then the clock moves past the
credentials' 900 s lifetime and it is invoked again. The table shows one
AssumeRole per tenant while warm, and one more per tenant after the move.

Moving the clock: the function runs in another process, so both clocks move.
This process (moto's clock decides each credential's Expiration) travels with
time-machine and writes the offset to a file; the function runs behind a small
wrapper (``examples/demo_clock``) that reads that file before each invocation
and travels by the same offset.

moto checks neither that the tenant roles exist nor their trust policies; in
AWS, template.yaml and examples/multi_tenant/tenant-role.yaml set those up.

Run from the repository root: ``python -m examples.demo``.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import boto3
import time_machine

from emulators.lambda_runtime import LAMBDA_RUNTIME_MODULES, LambdaFunction, link_modules
from emulators.moto_server import MotoServer
from lambda_assume_role_tools.layer import build_layer_directory

EXAMPLES = Path(__file__).resolve().parent
TENANT_A, TENANT_B = "111111111111", "222222222222"
FIRST_ROUND = (TENANT_A, TENANT_B, TENANT_A, TENANT_B, TENANT_A)
AFTER_THE_MOVE = (TENANT_A, TENANT_B, TENANT_A)
SESSION_SECONDS = 900
CLOCK_MOVE = 16 * 60  # seconds: past the credentials' 900 s lifetime
VARIABLES = {
    "TENANT_ROLE_NAME": "TenantReadOnly",
    "TENANT_EXTERNAL_ID": "demo-external-id",
    "TENANT_SESSION_SECONDS": str(SESSION_SECONDS),
}


@dataclass(frozen=True)
class Row:
    """One invocation, as the table shows it."""

    number: int
    clock_minutes: int
    tenant: str
    identity: str
    assume_role_calls: int
    latency_ms: float

    @property
    def role(self) -> str:
        """The assumed identity without its session name."""
        return self.identity.rpartition("/")[0]

    @property
    def session_name(self) -> str:
        return self.identity.rpartition("/")[2]


class DemoError(RuntimeError):
    """An invocation failed, or the table does not show what it should."""


def invoke(
    function: LambdaFunction, moto: MotoServer, tenants: Iterable[str], *, first: int, clock: int
) -> list[Row]:
    """Invoke once per tenant, in order; one row each."""
    rows = []
    for number, tenant in enumerate(tenants, start=first):
        result = function.invoke({"account": tenant, "detail-type": "Nightly report"})
        if not result.ok:
            raise DemoError(f"invocation {number} failed: {result.error}")
        rows.append(
            Row(
                number=number,
                clock_minutes=clock // 60,
                tenant=tenant,
                identity=result.payload["identity"],
                assume_role_calls=moto.requests.count("AssumeRole"),
                latency_ms=result.latency_ms,
            )
        )
    return rows


def warm_up(moto: MotoServer) -> None:
    """Make moto load its STS and S3 backends now, so latencies show the function, not moto."""
    session = boto3.Session(
        aws_access_key_id="AKIADEMOWARMUP000001",
        aws_secret_access_key="demo-secret",
        region_name="us-east-1",
    )
    session.client("sts", endpoint_url=moto.endpoint_url).get_caller_identity()
    session.client("s3", endpoint_url=moto.endpoint_url).list_buckets()
    moto.requests.clear()


def start_function(work: Path, moto: MotoServer, clock_file: Path) -> LambdaFunction:
    """Build the layer and start the example under awslambdaric, behind the clock wrapper."""
    # Sources only: this venv's Python runs the function, and the layer's bytecode is for
    # the Lambda runtimes (python3.12+), so it would not be used here.
    report = build_layer_directory(work / "LambdaAssumeRoleLayer", bytecode=False)
    print(f"  layer    {report.summary()}")
    function = LambdaFunction(
        EXAMPLES / "multi_tenant",
        layer_dir=report.path / "python",
        runtime_dir=link_modules(work / "runtime", LAMBDA_RUNTIME_MODULES),
        endpoint_url=moto.endpoint_url,
        variables={**VARIABLES, "DEMO_CLOCK_FILE": str(clock_file)},
        function_name="multi-tenant-demo",
        handler="demo_clock.handler",
        extra_paths=[
            EXAMPLES / "demo_clock",
            link_modules(work / "clock", ["time_machine", "_time_machine"]),
        ],
        log_path=work / "function.log",
    ).start()
    print(f"  runtime  python -S -m awslambdaric, polling {function.api.address}")
    print(f"  stream   {function.environment['AWS_LAMBDA_LOG_STREAM_NAME']}")
    print(f"  tenants  TenantReadOnly, DurationSeconds={SESSION_SECONDS}")
    return function


def run(work: Path, moto: MotoServer) -> list[Row]:
    """Invoke the function for two tenants, move both clocks, invoke again."""
    clock_file = work / "clock-offset"
    clock_file.write_text("0")
    function = start_function(work, moto, clock_file)
    try:
        function.wait_ready()
        rows = invoke(function, moto, FIRST_ROUND, first=1, clock=0)
        clock_file.write_text(str(CLOCK_MOVE))
        with time_machine.travel(time.time() + CLOCK_MOVE, tick=True):
            rows += invoke(function, moto, AFTER_THE_MOVE, first=len(rows) + 1, clock=CLOCK_MOVE)
    except (DemoError, TimeoutError):
        print(function.logs(), file=sys.stderr)
        raise
    finally:
        function.stop()
    return rows


def table(rows: list[Row]) -> str:
    """The rows as aligned text, with a rule where the clock moved."""
    header = (
        "#",
        "clock",
        "tenant",
        "assumed identity",
        "session name",
        "AssumeRole",
        "latency ms",
    )
    cells = [
        (
            str(row.number),
            f"+{row.clock_minutes} min",
            row.tenant,
            row.role,
            row.session_name,
            str(row.assume_role_calls),
            f"{row.latency_ms:.1f}",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    right = {0, 5, 6}

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(
            value.rjust(width) if i in right else value.ljust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    rule = "-" * len(line(header))
    lines = [line(header), rule]
    clock = 0
    for row, values in zip(rows, cells, strict=True):
        if row.clock_minutes != clock:
            lines.append(
                f"{'':>{widths[0]}}  ... clock moved {row.clock_minutes - clock} min forward"
            )
            clock = row.clock_minutes
        lines.append(line(values))
    lines += [
        rule,
        "assumed identity/session name: what sts.get_caller_identity() returns in the function",
        "session name: the function's name and its execution environment id (the log stream's)",
        "AssumeRole: calls moto has answered so far",
    ]
    return "\n".join(lines)


def check(rows: list[Row]) -> str:
    """What the table shows, in words; raises if it shows anything else."""
    warm = [row for row in rows if row.clock_minutes == 0]
    moved = [row for row in rows if row.clock_minutes > 0]
    tenants = len({row.tenant for row in rows})
    if warm[-1].assume_role_calls != tenants or moved[-1].assume_role_calls != 2 * tenants:
        raise DemoError("AssumeRole counts are not one per tenant per credential lifetime")
    if any(row.tenant not in row.identity for row in rows):
        raise DemoError("an invocation ran as another tenant's role")
    return (
        f"{len(warm)} invocations for {tenants} tenants made "
        f"{warm[-1].assume_role_calls} AssumeRole calls: one per tenant, then reuse.\n"
        f"After the clock moved past the {SESSION_SECONDS} s credential lifetime: "
        f"{moved[-1].assume_role_calls - tenants} more, one refresh per tenant, then reuse."
    )


def main() -> int:
    """Run the demo and print the table; 0 when it shows warm reuse and the refresh."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    print("lambda-assume-role demo: examples/multi_tenant under awslambdaric, AWS is moto")
    moto = MotoServer()
    moto.start()
    print(f"  moto     {moto.endpoint_url}")
    try:
        warm_up(moto)
        with tempfile.TemporaryDirectory(prefix="lambda-assume-role-demo-") as work:
            rows = run(Path(work), moto)
        print()
        print(table(rows))
        print()
        print(check(rows))
    except (DemoError, TimeoutError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    finally:
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
