"""examples/single_role: a module-scope assume_role session reading one bucket."""

from __future__ import annotations

import boto3

from emulators.lambda_runtime import ACCOUNT_ID, EXECUTION_ROLE_ACCESS_KEY
from emulators.moto_server import MotoServer
from tests.e2e.helpers import (
    BUCKET_NAME,
    EXAMPLE_VARIABLES,
    READER_ROLE_ARN,
    Launch,
    assumed_identity,
    invoke_ok,
    session_name,
)

KEYS = ["2026/11/orders.csv", "2026/11/refunds.csv"]


def test_warm_invocations_read_the_bucket_with_one_assume_role(
    launch: Launch, moto_server: MotoServer
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET_NAME)
    for key in KEYS:
        s3.put_object(Bucket=BUCKET_NAME, Key=key, Body=b"id,total\n")
    moto_server.requests.clear()

    function = launch("single_role")
    payloads = [invoke_ok(function, {"n": n}) for n in range(3)]

    identity = assumed_identity(function, ACCOUNT_ID, "ReportReader")
    assert payloads == [{"identity": identity, "bucket": BUCKET_NAME, "keys": KEYS}] * 3
    [call] = moto_server.requests.matching("AssumeRole")
    assert call.access_key == EXECUTION_ROLE_ACCESS_KEY
    assert call.params["RoleArn"] == READER_ROLE_ARN
    assert call.params["RoleSessionName"] == session_name(function)
    assert function.environment_id in call.params["RoleSessionName"]
    s3_keys = {r.access_key for r in moto_server.requests.all() if r.service == "s3"}
    assert len(s3_keys) == 1
    assert s3_keys != {EXECUTION_ROLE_ACCESS_KEY}  # S3 was read as the role, not the function


def test_bad_role_arn_fails_the_init_with_a_clear_message(
    launch: Launch, moto_server: MotoServer
) -> None:
    # The bucket's ARN where the role's belongs: long enough for STS's model, not a role.
    bad_arn = "arn:aws:s3:::reports-bucket"
    variables = {**EXAMPLE_VARIABLES["single_role"], "READER_ROLE_ARN": bad_arn}
    function = launch("single_role", variables)

    error = function.init_error()

    assert error is not None, function.logs()
    assert error["errorType"] == "InvalidParameterError"
    assert "RoleArn must look like arn:<partition>:iam::" in error["errorMessage"]
    assert repr(bad_arn) in error["errorMessage"]
    assert moto_server.requests.count("AssumeRole") == 0
