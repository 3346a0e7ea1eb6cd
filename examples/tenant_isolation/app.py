"""Serve each tenant its own items from one shared table, through a tenant-scoped role.

The function's own execution role has no access to the table. Every request
assumes ``TENANT_ROLE_ARN`` with the caller's tenant as a session tag
(``TenantId``) and as the SourceIdentity; that role's policy only allows
DynamoDB keys whose partition key equals ``${aws:PrincipalTag/TenantId}``.
A bug in a route (a wrong key, a Query without the tenant) is then refused by
IAM instead of leaking another tenant's items.

The tenant comes only from the Cognito user-pool authorizer's verified claims
(``custom:tenant_id``), never from a header, the path or the body. Sessions and
clients are cached per tenant: one AssumeRole per tenant per credential period.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_assume_role import TenantError, TenantRole, authorizer_claim, inject_client

TABLE_NAME = os.environ["TABLE_NAME"]

logger = Logger()
# This library's INFO line per AssumeRole (role, session name, expiry; never a
# key or token) goes out through the Powertools Logger, with the request's keys.
copy_config_to_registered_loggers(source_logger=logger, include={"lambda_assume_role"})

app = APIGatewayRestResolver()

# The one place the tenant comes from: the claim API Gateway's authorizer verified.
tenant_of = authorizer_claim("custom:tenant_id")

# Tags {"TenantId": "<tenant>"} and SourceIdentity "<tenant>" by default; the
# tenant id is validated (pattern and length) before any call to STS.
tenant_data = TenantRole(os.environ["TENANT_ROLE_ARN"], tenant=tenant_of)

FORBIDDEN = {
    "statusCode": 403,
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"message": "Forbidden: no valid tenant in the verified claims"}),
    "isBase64Encoded": False,
}


def _item(attributes: dict[str, Any]) -> dict[str, str]:
    """A DynamoDB item of string attributes as plain JSON."""
    return {name: value["S"] for name, value in attributes.items() if "S" in value}


@app.get("/items")
def list_items() -> dict[str, Any]:
    """Every item of the caller's tenant: a Query of its own partition."""
    tenant, table = app.context["tenant"], app.context["table"]
    pages = table.get_paginator("query").paginate(
        TableName=TABLE_NAME,
        KeyConditionExpression="tenant_id = :tenant",
        ExpressionAttributeValues={":tenant": {"S": tenant}},
    )
    return {"tenant": tenant, "items": [_item(item) for page in pages for item in page["Items"]]}


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    """One item of the caller's tenant; another tenant's id is simply not found."""
    tenant, table = app.context["tenant"], app.context["table"]
    answer = table.get_item(
        TableName=TABLE_NAME, Key={"tenant_id": {"S": tenant}, "item_id": {"S": item_id}}
    )
    if "Item" not in answer:
        raise NotFoundError(f"No item {item_id}")
    return {"tenant": tenant, "item": _item(answer["Item"])}


@inject_client("dynamodb", tenant_data, name="table")
def tenant_handler(event: dict[str, Any], context: LambdaContext, table: Any) -> dict[str, Any]:
    """Route the request with the tenant's own DynamoDB client in the resolver's context."""
    tenant = tenant_of(event, context)
    logger.append_keys(tenant_id=tenant)
    # resolve() clears app.context when it returns: nothing outlives the request.
    app.append_context(tenant=tenant, table=table)
    return app.resolve(event, context)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A request without a valid verified tenant gets a 403, never a traceback."""
    try:
        return tenant_handler(event, context)
    except TenantError as error:
        # Raised by the role source, before any STS call and before routing.
        logger.warning("Refused a request without a valid tenant", extra={"reason": str(error)})
        return FORBIDDEN
