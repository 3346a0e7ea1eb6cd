"""examples/multi_tenant: a role per event, from the tenant account the event names."""

from __future__ import annotations

import boto3

from emulators.moto_server import MotoServer
from lambda_assume_role import assume_role, get_role_arn
from tests.e2e.helpers import (
    TENANT_A,
    TENANT_B,
    TENANT_EXTERNAL_ID,
    TENANT_ROLE_NAME,
    Launch,
    assumed_identity,
    invoke_ok,
    session_name,
)


def tenant_bucket(tenant: str) -> str:
    """Create a bucket in the tenant's account (moto keeps accounts apart by access key)."""
    role = assume_role(
        boto3.Session(), get_role_arn(tenant, TENANT_ROLE_NAME), ExternalId=TENANT_EXTERNAL_ID
    )
    name = f"tenant-{tenant}-data"
    role.client("s3").create_bucket(Bucket=name)
    return name


def test_each_tenant_role_is_assumed_once_across_warm_invocations(
    launch: Launch, moto_server: MotoServer
) -> None:
    buckets = {tenant: tenant_bucket(tenant) for tenant in (TENANT_A, TENANT_B)}
    moto_server.requests.clear()

    function = launch("multi_tenant")
    for tenant in (TENANT_A, TENANT_B, TENANT_A, TENANT_B, TENANT_A):
        payload = invoke_ok(function, {"account": tenant, "detail-type": "Nightly report"})
        assert payload == {
            "tenant": tenant,
            "identity": assumed_identity(function, tenant, TENANT_ROLE_NAME),
            "buckets": [buckets[tenant]],
        }

    calls = moto_server.requests.matching("AssumeRole")
    assert [call.params["RoleArn"] for call in calls] == [
        get_role_arn(TENANT_A, TENANT_ROLE_NAME),
        get_role_arn(TENANT_B, TENANT_ROLE_NAME),
    ]
    for call in calls:
        assert call.params["ExternalId"] == TENANT_EXTERNAL_ID
        assert call.params["DurationSeconds"] == "900"
        assert call.params["RoleSessionName"] == session_name(function)


def test_malformed_account_id_is_an_invocation_error_naming_the_argument_and_rule(
    launch: Launch, moto_server: MotoServer
) -> None:
    function = launch("multi_tenant")

    result = function.invoke({"account": "12345-oops"})

    assert not result.ok
    assert result.error is not None
    assert result.error["errorType"] == "InvalidParameterError"
    message = result.error["errorMessage"]
    # get_role_arn refuses the account id itself, naming the argument and the rule.
    assert "account_id must be 12 digits" in message
    assert "12345-oops" in message
    assert moto_server.requests.count("AssumeRole") == 0
    # The environment survives a bad event and serves the next one.
    assert invoke_ok(function, {"account": TENANT_A})["tenant"] == TENANT_A
