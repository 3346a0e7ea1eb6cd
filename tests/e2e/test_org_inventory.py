"""examples/org_inventory's worker under awslambdaric, with the layer and the runtime only.

The state machine around it is tested in moto's Step Functions engine
(tests/functional/fanout/test_org_inventory_state_machine.py); here the worker runs as
Lambda runs it, with the context awslambdaric builds from the Runtime API's
deadline, against moto.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from emulators.lambda_runtime import EXECUTION_ROLE_ACCESS_KEY
from emulators.moto_server import MotoServer
from tests.e2e.helpers import Launch, invoke_ok
from tests.support.accounts import member_client

RESULTS_BUCKET = "org-inventory-results"
MEMBER_A, MEMBER_B = "111111111111", "222222222222"
VARIABLES = {
    "RESULTS_BUCKET": RESULTS_BUCKET,
    "MEMBER_ROLE_NAME": "OrganizationAccountAccessRole",
    "MAX_WORKERS": "4",
    "RESERVE_SECONDS": "2",
}
ITEMS = [
    {"account_id": MEMBER_A, "region": "us-east-1"},
    {"account_id": MEMBER_A, "region": "eu-west-1"},
    {"account_id": MEMBER_B, "region": "us-east-1"},
]


def member_s3(account_id: str) -> Any:
    return member_client("s3", account_id)


def read(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read())


def test_worker_writes_one_outcome_line_per_target_and_returns_a_small_summary(
    launch: Launch, moto_server: MotoServer
) -> None:
    boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    s3_a, s3_b = member_s3(MEMBER_A), member_s3(MEMBER_B)
    s3_a.create_bucket(Bucket="a-open")
    s3_a.create_bucket(
        Bucket="a-eu-open", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3_b.create_bucket(Bucket="b-closed")
    s3_b.put_public_access_block(
        Bucket="b-closed",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    moto_server.requests.clear()

    function = launch("org_inventory", VARIABLES, handler="app.worker")
    result = invoke_ok(function, {"run_id": "e2e", "round": 1, "batch": 7, "items": ITEMS})

    assert result["batch"] == 7
    assert result["remaining"] == []
    summary = result["summary"]
    assert (summary["done"], summary["failed"], summary["remaining"]) == (3, 0, 0)
    assert summary["flagged_buckets"] == 2
    assert summary["reason"] == "done"
    assert len(json.dumps(result)) < 1024
    lines = read("runs/e2e/round-001/outcomes/batch-00007.jsonl").decode().splitlines()
    records = {(r["account_id"], r["region"]): r for r in map(json.loads, lines)}
    assert len(lines) == len(records) == 3
    assert {target: r["without_public_access_block"] for target, r in records.items()} == {
        (MEMBER_A, "us-east-1"): ["a-open"],
        (MEMBER_A, "eu-west-1"): ["a-eu-open"],
        (MEMBER_B, "us-east-1"): [],
    }
    assert {target: r["buckets"] for target, r in records.items()} == {
        (MEMBER_A, "us-east-1"): 1,
        (MEMBER_A, "eu-west-1"): 1,
        (MEMBER_B, "us-east-1"): 1,
    }
    assert all(r["phase"] is None and r["error_code"] is None for r in records.values())
    manifest = json.loads(read("runs/e2e/round-001/manifests/batch-00007.json"))
    assert manifest == result
    # One AssumeRole per account, by the execution role, however many regions.
    calls = moto_server.requests.matching("AssumeRole")
    assert sorted(call.params["RoleArn"].split(":")[4] for call in calls) == [MEMBER_A, MEMBER_B]
    assert {call.access_key for call in calls} == {EXECUTION_ROLE_ACCESS_KEY}


def test_worker_near_its_lambda_deadline_starts_nothing_and_returns_every_target_as_remaining(
    launch: Launch, moto_server: MotoServer
) -> None:
    boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    moto_server.requests.clear()

    # The invocation's deadline (6 s) is inside the reserve (8 s), and leaves the worker
    # ample time to write its files on a busy machine.
    variables = {**VARIABLES, "RESERVE_SECONDS": "8"}
    function = launch("org_inventory", variables, handler="app.worker")
    result = function.invoke({"run_id": "e2e", "round": 2, "batch": 0, "items": ITEMS}, timeout=6)

    assert result.ok, f"{result.error}\n--- function log ---\n{function.logs()}"
    assert result.payload["remaining"] == ITEMS
    assert result.payload["summary"]["done"] == 0
    assert result.payload["summary"]["reason"] == "deadline"
    assert read("runs/e2e/round-002/outcomes/batch-00000.jsonl") == b""
    assert json.loads(read("runs/e2e/round-002/manifests/batch-00000.json")) == result.payload
    assert moto_server.requests.count("AssumeRole") == 0
