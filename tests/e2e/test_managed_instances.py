"""examples/managed_instances under awslambdaric's multi-concurrent mode: 8 workers at once.

As under Lambda Managed Instances, ``AWS_LAMBDA_MAX_CONCURRENCY=8`` makes awslambdaric fork
8 worker processes, each importing the example itself, all sharing the environment's
temporary folder (`LambdaFunction` gives each environment its own ``TMPDIR``). A probe
handler holds each invocation until all 8 workers hold one, so that the 8 first calls
reach the library at the same time, each from its own worker, however the machine
schedules them; AssumeRole calls are counted at moto.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulators.lambda_runtime import (
    ACCOUNT_ID,
    EXECUTION_ROLE_ACCESS_KEY,
    LambdaFunction,
    execution_role_environment,
)
from emulators.moto_server import MotoServer
from tests.e2e.helpers import (
    CATALOG_BUCKET,
    CATALOG_ROLE_ARN,
    EXAMPLE_VARIABLES,
    Launch,
    assumed_identity,
    session_name,
)

WORKERS = 8  # template.yaml's PerExecutionEnvironmentMaxConcurrency
KEY = "prices/2026-12.csv"
BODY = b"sku,price\nA-1,9.99\n"
IDENTITY_PREFIX = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/CatalogReader/"

PROBE = """
import os
import time

import app  # the example's init, in each worker


def handler(event, context):
    # Sign in, then wait (at most 60 s) until every worker holds an invocation.
    gate = event["gate"]
    open(os.path.join(gate, str(os.getpid())), "w").close()
    for _ in range(6000):
        if len(os.listdir(gate)) >= event["workers"]:
            break
        time.sleep(0.01)
    return app.handler(event["event"], context)
"""


@pytest.fixture
def catalog(moto_server: MotoServer) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=CATALOG_BUCKET)
    s3.put_object(Bucket=CATALOG_BUCKET, Key=KEY, Body=BODY)
    moto_server.requests.clear()


def start(launch: Launch, tmp_path: Path, variables: dict[str, str]) -> LambdaFunction:
    """The example as one Managed Instances environment, every worker polling."""
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "probe.py").write_text(PROBE)
    function = launch(
        "managed_instances",
        variables,
        handler="probe.handler",
        extra_paths=(probe,),
        max_concurrency=WORKERS,
    )
    function.wait_ready(timeout=90)  # each worker imports boto3 and the library itself
    return function


def events(gate: Path, *, gathered: int) -> list[dict[str, Any]]:
    """One event per worker; each waits for ``gathered`` workers to hold one (0: none)."""
    gate.mkdir(exist_ok=True)
    return [{"gate": str(gate), "workers": gathered, "event": {"key": KEY}}] * WORKERS


def cold_start(function: LambdaFunction, tmp_path: Path) -> list[dict[str, Any]]:
    """Invoke all workers at once, each with its first invocation; their payloads."""
    results = function.invoke_many(events(tmp_path / "gate", gathered=WORKERS), timeout=60)
    failed = [result.error for result in results if not result.ok]
    assert not failed, f"{failed}\n--- function log ---\n{function.logs()}"
    payloads = [result.payload for result in results]
    assert len({payload["worker"] for payload in payloads}) == WORKERS, payloads
    for payload in payloads:
        assert (payload["key"], payload["size"]) == (KEY, len(BODY))
        assert payload["identity"].startswith(IDENTITY_PREFIX)
    return payloads


def s3_access_keys(moto_server: MotoServer) -> set[str]:
    return {r.access_key for r in moto_server.requests.all() if r.service == "s3"}


def store_folder(function: LambdaFunction) -> Path:
    """Where the README says the store lives: in the environment's temporary folder."""
    assert function.tmp_dir is not None
    return function.tmp_dir / f"lambda-assume-role-store-{os.getuid()}"


@pytest.mark.usefixtures("catalog")
def test_cold_start_of_eight_workers_at_once_makes_one_assume_role(
    launch: Launch, moto_server: MotoServer, tmp_path: Path
) -> None:
    function = start(launch, tmp_path, EXAMPLE_VARIABLES["managed_instances"])

    payloads = cold_start(function, tmp_path)

    calls = moto_server.requests.matching("AssumeRole")
    assert len(calls) == 1, [call.params.get("RoleSessionName") for call in calls]
    assert calls[0].params["RoleArn"] == CATALOG_ROLE_ARN
    assert calls[0].access_key == EXECUTION_ROLE_ACCESS_KEY
    # Every worker signs with the one set of credentials, under the environment's name.
    assert calls[0].params["RoleSessionName"] == session_name(function)
    identity = assumed_identity(function, ACCOUNT_ID, "CatalogReader")
    assert {payload["identity"] for payload in payloads} == {identity}
    assert len(s3_access_keys(moto_server)) == 1
    assert s3_access_keys(moto_server) != {EXECUTION_ROLE_ACCESS_KEY}
    # Shared through a private folder in the environment's /tmp that holds no parent secret.
    folder = store_folder(function)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    secrets = execution_role_environment()
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                assert secrets[name].encode() not in text, (path, name)

    # Warm: another round of invocations makes no AssumeRole.
    warm = function.invoke_many(events(tmp_path / "warm", gathered=0), timeout=60)
    assert all(result.ok for result in warm), [result.error for result in warm]
    assert moto_server.requests.count("AssumeRole") == 1


@pytest.mark.usefixtures("catalog")
def test_store_turned_off_each_worker_assumes_the_role_itself(
    launch: Launch, moto_server: MotoServer, tmp_path: Path
) -> None:
    variables = {
        **EXAMPLE_VARIABLES["managed_instances"],
        "LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE": "off",
    }
    function = start(launch, tmp_path, variables)

    payloads = cold_start(function, tmp_path)

    calls = moto_server.requests.matching("AssumeRole")
    assert len(calls) == WORKERS  # one per worker: module globals are per process
    assert {call.params["RoleArn"] for call in calls} == {CATALOG_ROLE_ARN}
    assert len(s3_access_keys(moto_server)) == WORKERS
    # Each worker's session name starts with the worker, so CloudTrail tells them apart.
    names = [call.params["RoleSessionName"].split(".") for call in calls]
    assert {name[0] for name in names} == {function.function_name}, names
    assert {name[1] for name in names} == {f"w{payload['worker']}" for payload in payloads}
    assert not store_folder(function).exists()
