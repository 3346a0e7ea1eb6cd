"""Every S3 bucket without a public access block, in every account of an organization, durably.

The same job as ``examples/org_inventory``, without a state machine. The handler
is a durable function (``@durable_execution``): it lists the organization's
accounts once, in a step, then `durable_fan_out` runs the check in every account
as rounds of ``context.map`` over batches, each batch one checkpointed step
running `fan_out` by the invocation's deadline. What an invocation leaves waits
out a ``context.wait``, which ends it; the next invocation replays the handler
from the start, reads the finished steps from their checkpoints and runs the rest.

Each target's findings go to S3 as they are made (a checkpoint keeps only their
key), and the report, with the failures, goes there at the end. The execution's
result is the counts and where the report is.

Environment:
    RESULTS_BUCKET: Where findings and reports go, under ``runs/<run id>/``.
    MEMBER_ROLE_NAME: The role to assume in each account (default
        ``OrganizationAccountAccessRole``).
    REGIONS: Comma-separated regions to check in each account (default: the
        function's own). The event's ``regions`` list wins.
    BATCH_SIZE: Targets per checkpointed step (default 25, at most 100).
    TENANT_OUS: Optional JSON, ``{"<tenant id>": ["<OU or root id>", ...]}``. In
        Lambda's tenant isolation mode (``context.lambda_context.tenant_id`` set)
        an execution covers only its tenant's OUs, whatever the event says; a
        tenant not listed fails the execution before anything is listed.

Event (all optional): ``{"ous": [...], "regions": [...], "run_id": "..."}``;
``run_id`` defaults to the durable execution's own id.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from botocore.exceptions import ClientError

from lambda_assume_role.durable import durable_fan_out
from lambda_assume_role.fanout import Target, organization_accounts

NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"
BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


@durable_execution
def handler(event: Mapping[str, Any], context: DurableContext) -> dict[str, Any]:
    """List the accounts (once), check each in rounds across invocations, write the report."""
    event = event or {}
    tenant = getattr(context.lambda_context, "tenant_id", None)
    ous = tenant_ous(tenant) if tenant else event.get("ous")
    run_id = str(event.get("run_id") or execution_id(context))
    prefix = f"runs/{tenant}/{run_id}" if tenant else f"runs/{run_id}"
    bucket = os.environ["RESULTS_BUCKET"]
    parent = boto3.Session()
    # Made here, in the handler's thread: a boto3 session is not thread-safe on first use.
    results = parent.client("s3")

    # In a step: every replay reads the same list from the checkpoint, and the
    # organization is asked once per execution, not once per invocation.
    accounts = context.step(
        lambda _: [target.account_id for target in organization_accounts(parent, ous=ous)],
        name="accounts",
    )
    summary = durable_fan_out(
        context,
        check_and_record(results, bucket, prefix),
        accounts,
        role_name=os.environ.get("MEMBER_ROLE_NAME") or "OrganizationAccountAccessRole",
        regions=event.get("regions") or regions_setting(parent),
        batch_size=int(os.environ.get("BATCH_SIZE") or 25),
        parent=parent,
        results="failures",
    )
    failures = summary.pop("failures")
    report = f"{prefix}/report.json"
    # A step, so that a replay after the end does not write it again.
    context.step(
        lambda _: put_json(results, bucket, report, {**summary, "failures": failures}),
        name="report",
    )
    return {**summary, "tenant": tenant, "report": f"s3://{bucket}/{report}"}


def check_and_record(results: Any, bucket: str, prefix: str) -> Callable[..., dict[str, Any]]:
    """``work`` for `durable_fan_out`: check one target, write its findings, return their key.

    The key is the run's and the target's, so a target checked again (it never
    is, but a retried execution might) overwrites its own object.
    """

    def work(session: boto3.Session, target: Target) -> dict[str, Any]:
        findings = buckets_without_public_access_block(session, target)
        key = f"{prefix}/accounts/{target.account_id}/{target.region}.json"
        put_json(results, bucket, key, findings)
        return {"key": key, "flagged": len(findings["without_public_access_block"])}

    return work


def buckets_without_public_access_block(session: boto3.Session, target: Target) -> dict[str, Any]:
    """The target region's buckets, and those not fully covered by a bucket public access block."""
    s3 = session.client("s3")
    names = list(_bucket_names(s3, target.region or session.region_name))
    without: list[str] = []
    for name in names:
        try:
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != NO_CONFIGURATION:
                raise
            block = {}
        if not all(block.get(setting) for setting in BLOCK_SETTINGS):
            without.append(name)
    return {
        "account_id": target.account_id,
        "region": target.region,
        "buckets": len(names),
        "without_public_access_block": sorted(without),
    }


def _bucket_names(s3: Any, region: str) -> Iterator[str]:
    # ListBuckets filters by region on the server since botocore 1.35.4x; ask each
    # bucket's location where the runtime's botocore lacks the parameter.
    if "BucketRegion" in s3.meta.service_model.operation_model("ListBuckets").input_shape.members:
        for page in s3.get_paginator("list_buckets").paginate(BucketRegion=region):
            yield from (bucket["Name"] for bucket in page.get("Buckets", []))
        return
    for bucket in s3.list_buckets().get("Buckets", []):
        location = s3.get_bucket_location(Bucket=bucket["Name"]).get("LocationConstraint")
        if (location or "us-east-1") == region:
            yield bucket["Name"]


def tenant_ous(tenant: str) -> list[str]:
    """The OUs ``TENANT_OUS`` gives ``tenant``; a tenant it does not name may see nothing."""
    ous = json.loads(os.environ.get("TENANT_OUS") or "{}").get(tenant)
    if not ous:
        raise PermissionError(f"TENANT_OUS names no organizational unit for tenant {tenant!r}")
    return [str(ou) for ou in ous]


def regions_setting(parent: boto3.Session) -> list[str]:
    """``REGIONS``, else the function's own region."""
    setting = os.environ.get("REGIONS") or parent.region_name or "us-east-1"
    return [region.strip() for region in setting.split(",") if region.strip()]


def execution_id(context: DurableContext) -> str:
    """A key-safe id of this durable execution (the same in every invocation of it)."""
    arn = context.execution_context.durable_execution_arn
    return re.sub(r"[^\w.-]+", "-", arn.split("/", 1)[-1]).strip("-") or "run"


def put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, separators=(",", ":")).encode(),
        ContentType="application/json",
    )
