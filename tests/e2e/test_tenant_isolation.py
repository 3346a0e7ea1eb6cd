"""examples/tenant_isolation under awslambdaric: each tenant reads through its own tagged session.

moto evaluates neither session tags nor ``dynamodb:LeadingKeys``, so it cannot
refuse a cross-tenant read the way IAM would. What these tests check instead is
everything the function sends: one AssumeRole per tenant carrying that tenant's
``TenantId`` tag and SourceIdentity, and every DynamoDB call signed with the
credentials of that tenant's session (never the execution role's, never another
tenant's). The role is made in moto from template.yaml's own documents.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from emulators.lambda_runtime import ACCOUNT_ID, EXECUTION_ROLE_ACCESS_KEY, LambdaFunction
from emulators.moto_server import MotoServer, RecordedRequest
from tests.e2e.helpers import TENANT_DATA_ROLE_ARN, TENANT_TABLE, Launch, invoke_ok
from tests.support.template import load_template, resolve_intrinsics

ACME, GLOBEX = "acme", "globex"
ITEMS = {
    ACME: {"a-1": "anvil", "a-2": "rocket skates"},
    GLOBEX: {"g-1": "doomsday device"},
}
CLAIM = "custom:tenant_id"


def rest_event(
    path: str,
    *,
    claims: dict[str, str] | None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event; ``claims`` are what the Cognito authorizer verified."""
    item_id = path.removeprefix("/items/") if path.startswith("/items/") else None
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "tenantapi",
        "httpMethod": "GET",
        "path": f"/Prod{path}",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "resourcePath": "/items/{item_id}" if item_id else "/items",
        "stage": "Prod",
        "identity": {"sourceIp": "203.0.113.7"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": {"sub": "5f2b-user", **claims}}
    headers = {"Accept": "application/json", **(headers or {})}
    return {
        "resource": context["resourcePath"],
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": {"item_id": item_id} if item_id else None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


def deploy_tenant_data() -> None:
    """The table and TenantDataRole in moto, the role from template.yaml's documents, seeded."""
    dynamodb = boto3.client("dynamodb")
    table = load_template()["Resources"]["TenantItemsTable"]["Properties"]
    table_arn = dynamodb.create_table(
        TableName=TENANT_TABLE,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )["TableDescription"]["TableArn"]
    role = resolve_intrinsics(
        load_template()["Resources"]["TenantDataRole"]["Properties"],
        {
            "TenantIsolationFunctionRole.Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/TenantIsolation",
            "TenantItemsTable.Arn": table_arn,
        },
    )
    iam = boto3.client("iam")
    iam.create_role(
        RoleName=TENANT_DATA_ROLE_ARN.rpartition("/")[2],
        AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
    )
    for policy in role["Policies"]:  # moto validates each document's grammar here
        iam.put_role_policy(
            RoleName=TENANT_DATA_ROLE_ARN.rpartition("/")[2],
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
    for tenant, items in ITEMS.items():
        for item_id, name in items.items():
            dynamodb.put_item(
                TableName=TENANT_TABLE,
                Item={"tenant_id": {"S": tenant}, "item_id": {"S": item_id}, "name": {"S": name}},
            )


def listing(tenant: str) -> dict[str, Any]:
    """What GET /items returns to a tenant: its own items, in key order."""
    items = [
        {"tenant_id": tenant, "item_id": item_id, "name": name}
        for item_id, name in sorted(ITEMS[tenant].items())
    ]
    return {"tenant": tenant, "items": items}


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def tenant_sessions() -> dict[str, Any]:
    """moto's assumed-role sessions by access key id (moto runs in this process)."""
    from moto.sts.models import sts_backends

    return {role.access_key_id: role for role in sts_backends[ACCOUNT_ID]["aws"].assumed_roles}


def session_name(function: LambdaFunction, tenant: str) -> str:
    """A tenant's role session name in this environment: the tenant, then the environment id."""
    return f"{tenant}.{function.environment_id[:16]}"


def tags(call: RecordedRequest) -> dict[str, str]:
    """The session tags of a recorded AssumeRole query request."""
    count = sum(1 for key in call.params if key.startswith("Tags.member.") and key.endswith(".Key"))
    return {
        call.params[f"Tags.member.{n}.Key"]: call.params[f"Tags.member.{n}.Value"]
        for n in range(1, count + 1)
    }


@pytest.fixture
def function(launch: Launch, moto_server: MotoServer) -> LambdaFunction:
    deploy_tenant_data()
    moto_server.requests.clear()
    return launch("tenant_isolation")


def test_each_tenant_reads_only_its_own_items_through_one_tagged_session(
    function: LambdaFunction, moto_server: MotoServer
) -> None:
    def get(path: str, tenant: str) -> dict[str, Any]:
        response = invoke_ok(function, rest_event(path, claims={CLAIM: tenant}))
        assert isinstance(response, dict)
        return response

    for _ in range(2):  # cold, then warm
        for tenant in (ACME, GLOBEX):
            response = get("/items", tenant)
            assert response["statusCode"] == 200, response
            assert body(response) == listing(tenant)
    own = get("/items/g-1", GLOBEX)
    assert body(own) == {"tenant": GLOBEX, "item": listing(GLOBEX)["items"][0]}
    # Another tenant's item id: looked up in the caller's own partition only.
    assert get("/items/g-1", ACME)["statusCode"] == 404

    calls = moto_server.requests.matching("AssumeRole")
    assert len(calls) == 2, "one AssumeRole per tenant across warm invocations"
    for call, tenant in zip(calls, (ACME, GLOBEX), strict=True):
        assert call.params["RoleArn"] == TENANT_DATA_ROLE_ARN
        assert tags(call) == {"TenantId": tenant}
        assert call.params["SourceIdentity"] == tenant
        # The tenant and this execution environment, for CloudTrail.
        assert call.params["RoleSessionName"] == session_name(function, tenant)

    # Every DynamoDB call was signed by the calling tenant's session.
    sessions = tenant_sessions()
    reads = [r for r in moto_server.requests.all() if r.service == "dynamodb"]
    assert [r.action for r in reads] == ["Query"] * 4 + ["GetItem"] * 2
    assert [sessions[r.access_key].session_name for r in reads] == [
        session_name(function, tenant) for tenant in (ACME, GLOBEX, ACME, GLOBEX, GLOBEX, ACME)
    ]
    assert EXECUTION_ROLE_ACCESS_KEY not in {r.access_key for r in reads}
    assert len({r.access_key for r in reads}) == 2

    logs = function.logs()
    for session in sessions.values():
        assert session.secret_access_key not in logs
        assert session.session_token not in logs


def test_a_request_without_a_valid_verified_tenant_is_refused_before_sts(
    function: LambdaFunction, moto_server: MotoServer
) -> None:
    forged: dict[str, Any] = {
        "headers": {CLAIM: GLOBEX, "X-Tenant-Id": GLOBEX},
        "query": {"tenant_id": GLOBEX},
        "body": json.dumps({CLAIM: GLOBEX, "tenant_id": GLOBEX}),
    }
    refused = [
        rest_event("/items", claims=None, **forged),  # no authorizer at all
        rest_event("/items", claims={"email": "a@example.com"}, **forged),  # no tenant claim
        rest_event("/items", claims={CLAIM: 'acme","Resource":"*'}),  # policy injection
        rest_event("/items", claims={CLAIM: "acme/../globex"}),
        rest_event("/items", claims={CLAIM: "x" * 300}),
        rest_event("/items", claims={CLAIM: ""}),
    ]
    for event in refused:
        response = invoke_ok(function, event)
        assert response["statusCode"] == 403, response
        assert response["headers"]["Content-Type"] == "application/json"
        assert "Forbidden" in body(response)["message"]
    assert moto_server.requests.count("AssumeRole") == 0
    assert moto_server.requests.count("Query") == 0

    # Forged tenant fields beside a verified claim change nothing: the claim wins.
    response = invoke_ok(function, rest_event("/items", claims={CLAIM: ACME}, **forged))
    assert body(response) == listing(ACME)
    [call] = moto_server.requests.matching("AssumeRole")
    assert tags(call) == {"TenantId": ACME}

    warnings = [
        json.loads(line)
        for line in function.logs().splitlines()
        if line.startswith("{") and "Refused a request" in line
    ]
    assert len(warnings) == len(refused)
    assert {w["level"] for w in warnings} == {"WARNING"}
    assert "Traceback" not in function.logs()
