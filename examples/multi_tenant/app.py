"""Act in the tenant account an event comes from, through a role that tenant deployed.

Sessions and clients are cached per tenant role (and its parameters) for the
environment's life: one AssumeRole per tenant, not one per invocation.
"""

from __future__ import annotations

import os
from typing import Any

from lambda_assume_role import get_role_arn, inject_client

TENANT_ROLE_NAME = os.environ["TENANT_ROLE_NAME"]
TENANT_EXTERNAL_ID = os.environ["TENANT_EXTERNAL_ID"]
# Optional: a shorter credential lifetime (900 s at least); unset leaves STS's one hour.
TENANT_SESSION_SECONDS = os.environ.get("TENANT_SESSION_SECONDS")


def tenant_role(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AssumeRole parameters for the tenant account named in the event."""
    return {
        "RoleArn": get_role_arn(event["account"], TENANT_ROLE_NAME),
        "ExternalId": TENANT_EXTERNAL_ID,
        "DurationSeconds": int(TENANT_SESSION_SECONDS) if TENANT_SESSION_SECONDS else None,
    }


# Both clients come from the same cached session: one AssumeRole serves both.
@inject_client("sts", tenant_role)
@inject_client("s3", tenant_role)
def handler(event: dict[str, Any], context: Any, sts: Any, s3: Any) -> dict[str, Any]:
    """Report who we are in the tenant's account, and which buckets we see there."""
    return {
        "tenant": event["account"],
        "identity": sts.get_caller_identity()["Arn"],
        "buckets": [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]],
    }
