"""examples/powertools: Logger, Tracer and Parameters on an injected assumed-role session."""

from __future__ import annotations

import json
from typing import Any

import boto3

from emulators.lambda_runtime import ACCOUNT_ID, EXECUTION_ROLE_ACCESS_KEY
from emulators.moto_server import MotoServer
from tests.e2e.helpers import (
    CONFIG_ROLE_ARN,
    PARAMETER_NAME,
    Launch,
    assumed_identity,
    invoke_ok,
    session_name,
)


def json_records(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the function's log lines (Powertools Logger's output)."""
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_reads_the_parameter_as_the_role_with_one_assume_role(
    launch: Launch, moto_server: MotoServer
) -> None:
    boto3.client("ssm").put_parameter(Name=PARAMETER_NAME, Value="hello from SSM", Type="String")
    moto_server.requests.clear()

    function = launch("powertools")
    payloads = [invoke_ok(function, {"n": n}) for n in range(3)]

    identity = assumed_identity(function, ACCOUNT_ID, "ConfigReader")
    assert payloads == [{"greeting": "hello from SSM", "identity": identity}] * 3
    assert moto_server.requests.count("AssumeRole") == 1
    # Powertools caches the value (max_age=300): one read, signed as the role.
    [read] = moto_server.requests.matching("GetParameter")
    assert read.access_key.startswith("ASIA")
    assert read.access_key != EXECUTION_ROLE_ACCESS_KEY


def test_assume_role_is_logged_through_the_powertools_logger(
    launch: Launch, moto_server: MotoServer
) -> None:
    boto3.client("ssm").put_parameter(Name=PARAMETER_NAME, Value="hi", Type="String")
    function = launch("powertools")
    first = function.invoke({})
    invoke_ok(function, {})

    records = json_records(function.logs())

    [assumed] = [r for r in records if r.get("name") == "lambda_assume_role"]
    assert assumed["level"] == "INFO"
    assert assumed["message"].startswith(f"Assumed role {CONFIG_ROLE_ARN} as session ")
    assert assumed["role_arn"] == CONFIG_ROLE_ARN
    assert assumed["role_session_name"] == session_name(function)
    assert assumed["expiration"]
    assert assumed["latency_ms"] > 0
    # The Logger's own keys: it is the Powertools handler, inside the first invocation.
    assert assumed["service"] == "config-reader"
    assert assumed["function_request_id"] == first.request_id
    assert assumed["cold_start"] is True
    handler_lines = [r for r in records if r.get("message") == "Read the parameter"]
    assert len(handler_lines) == 2


def test_assume_role_metrics_are_an_emf_blob_of_their_own(
    launch: Launch, moto_server: MotoServer
) -> None:
    boto3.client("ssm").put_parameter(Name=PARAMETER_NAME, Value="hi", Type="String")
    function = launch("powertools")
    for _ in range(3):
        invoke_ok(function, {})

    blobs = [r for r in json_records(function.logs()) if "_aws" in r]
    [assumed] = [b for b in blobs if "AssumeRoleCalls" in b]
    [directive] = assumed["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ConfigReader"
    assert (assumed["service"], assumed["phase"]) == ("config-reader", "first")
    assert assumed["AssumeRoleCalls"] == [1.0]
    assert assumed["AssumeRoleFailures"] == [0.0]
    assert assumed["AssumeRoleLatency"][0] > 0
    # The handler's own blob (log_metrics) once per invocation, without our dimension.
    reads = [b for b in blobs if "ParameterReads" in b]
    assert len(reads) == 3
    assert not [b for b in reads if "phase" in b or "AssumeRoleCalls" in b]
