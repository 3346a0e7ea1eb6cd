"""template.yaml's tenant_isolation stack: the IAM documents that confine a tenant to its items.

moto evaluates neither ``dynamodb:LeadingKeys`` nor principal tags, so these
documents are checked here, as data: a widened action list, a second trusted
principal or a tag key that differs from the one TenantRole sends would each
break the isolation silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambda_assume_role.tenancy import DEFAULT_TAGS, PLACEHOLDER
from tests.support.template import load_template

FUNCTION = "TenantIsolationFunction"
EXAMPLE_APP = Path(__file__).resolve().parents[3] / "examples" / "tenant_isolation" / "app.py"

# DynamoDB actions whose every request names its partition keys, so that
# ForAllValues:StringEquals on dynamodb:LeadingKeys constrains them. (Scan and
# the table-level actions carry no keys: ForAllValues is vacuously true for them.)
KEYED_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    found: dict[str, Any] = load_template()["Resources"]
    return found


def tag_key() -> str:
    """The session tag TenantRole sends by default: the key the role's policy must name."""
    [key] = [key for key, value in DEFAULT_TAGS.items() if value == PLACEHOLDER]
    return key


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_tenant_role_reaches_only_items_keyed_by_its_tenant_tag(resources: dict[str, Any]) -> None:
    role = resources["TenantDataRole"]["Properties"]
    statements = [
        statement
        for policy in role["Policies"]
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]
    assert role.get("ManagedPolicyArns") is None
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Action"])) <= KEYED_ACTIONS, statement["Action"]
        assert as_list(statement["Resource"]) == [{"GetAtt": "TenantItemsTable.Arn"}]
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": [f"${{aws:PrincipalTag/{tag_key()}}}"]
            }
        }
    table = resources["TenantItemsTable"]["Properties"]
    [partition] = [key for key in table["KeySchema"] if key["KeyType"] == "HASH"]
    assert partition["AttributeName"] == "tenant_id"


def test_tenant_role_trusts_only_the_function_and_only_with_a_tenant_tag(
    resources: dict[str, Any],
) -> None:
    trust = resources["TenantDataRole"]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = as_list(trust["Statement"])
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"GetAtt": f"{FUNCTION}Role.Arn"}}
    # TenantRole sends tags and (by default) a SourceIdentity: STS needs all three.
    assert set(as_list(statement["Action"])) == {
        "sts:AssumeRole",
        "sts:TagSession",
        "sts:SetSourceIdentity",
    }
    assert statement["Condition"] == {
        "StringLike": {f"aws:RequestTag/{tag_key()}": "?*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": [tag_key()]},
    }
    # The execution role may assume this role, and has no data access of its own.
    assume = resources[f"{FUNCTION}AssumePolicy"]["Properties"]
    assert assume["RoleName"] == {"Ref": f"{FUNCTION}Role"}
    [grant] = assume["PolicyDocument"]["Statement"]
    assert grant["Resource"] == {"GetAtt": "TenantDataRole.Arn"}
    function = resources[FUNCTION]["Properties"]
    assert "Policies" not in function
    assert function["Environment"]["Variables"]["TENANT_ROLE_ARN"] == {
        "GetAtt": "TenantDataRole.Arn"
    }


def test_the_tenant_comes_from_a_claim_users_cannot_set(resources: dict[str, Any]) -> None:
    function = resources[FUNCTION]["Properties"]
    api = resources["TenantApi"]["Properties"]
    for event in function["Events"].values():
        assert event["Properties"]["RestApiId"] == {"Ref": "TenantApi"}
    authorizer = api["Auth"]["Authorizers"][api["Auth"]["DefaultAuthorizer"]]
    assert authorizer["UserPoolArn"] == {"GetAtt": "TenantUserPool.Arn"}

    pool = resources["TenantUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    [attribute] = [a for a in pool["Schema"] if a["Name"] == "tenant_id"]
    assert attribute["Mutable"] is False
    client = resources["TenantUserPoolClient"]["Properties"]
    assert "custom:tenant_id" in client["ReadAttributes"]
    assert "custom:tenant_id" not in client["WriteAttributes"]
    # The example reads exactly that claim.
    assert 'authorizer_claim("custom:tenant_id")' in EXAMPLE_APP.read_text()
