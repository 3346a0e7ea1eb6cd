"""examples/org_inventory's state machine, as template.yaml deploys it, in moto's engine.

The definition is the one template.yaml names (``DefinitionUri``), with its
``DefinitionSubstitutions`` resolved to function ARNs; each Lambda task runs the
handler template.yaml gives that function, imported from the example, through an
`InvokeServer` that moto's engine reaches via ``MOTO_PORT``. The organization, the
member accounts' buckets, the batches, the outcomes and the Map runs are moto's,
over HTTP.

moto's engine ignores ``ToleratedFailurePercentage`` and shows a failed child only
as a failure count (the execution still succeeds), so these tests assert on the
outcomes in S3 and on ``DescribeMapRun``, not on the execution status alone.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from emulators.lambda_invoke import Handler, InvokeServer
from emulators.moto_server import MotoServer
from tests.support.accounts import MEMBER_ROLE, member_client
from tests.support.template import load_template

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT_ID = "123456789012"
STATE_MACHINE = "OrgInventoryStateMachine"
REGIONS = ["us-east-1", "eu-west-1"]
RESULTS_BUCKET = "org-inventory-results"
FULL_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass(frozen=True)
class DeployedMachine:
    """The state machine from template.yaml, made in moto, and its functions' handlers."""

    definition: dict[str, Any]
    handlers: dict[str, Handler]  # function name (the template's logical id) -> handler
    worker: str  # the worker function's name


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{name}"


def load_machine() -> DeployedMachine:
    """The template's definition, substituted, and the handler behind each function it calls."""
    template = load_template()
    resources = template["Resources"]
    machine = resources[STATE_MACHINE]["Properties"]
    text = (ROOT / machine["DefinitionUri"]).read_text()
    handlers: dict[str, Handler] = {}
    worker = ""
    for name, value in machine["DefinitionSubstitutions"].items():
        logical_id, attribute = value["GetAtt"].split(".")
        assert attribute == "Arn", value
        function = resources[logical_id]["Properties"]
        module_name, handler_name = function["Handler"].rsplit(".", 1)
        package = function["CodeUri"].strip("/").replace("/", ".")
        module = importlib.import_module(f"{package}.{module_name}")
        handlers[logical_id] = getattr(module, handler_name)
        if handler_name == "worker":
            worker = logical_id
        text = text.replace("${" + name + "}", function_arn(logical_id))
    assert "${" not in text, "a substitution the template does not define"
    return DeployedMachine(json.loads(text), handlers, worker)


# --- the organization -------------------------------------------------------------------


@dataclass(frozen=True)
class Organization:
    members: list[str]  # active member account ids, in creation order
    findings: dict[tuple[str, str], list[str]]  # (account, region) -> buckets without a block

    @property
    def targets(self) -> set[tuple[str, str]]:
        return {(account, region) for account in self.members for region in REGIONS}


def member_s3(account_id: str) -> Any:
    return member_client("s3", account_id)


def make_bucket(s3: Any, region: str, name: str, block: Mapping[str, bool] | None) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if block is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(block))


def build_organization(members: int) -> Organization:
    """An organization of ``members`` accounts; buckets with and without blocks in three."""
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    accounts = []
    for n in range(members):
        request = organizations.create_account(
            Email=f"member{n}@example.com", AccountName=f"member-{n}"
        )["CreateAccountStatus"]
        status = organizations.describe_create_account_status(CreateAccountRequestId=request["Id"])[
            "CreateAccountStatus"
        ]
        accounts.append(status["AccountId"])
    first, second, third = accounts[:3]
    s3_first, s3_second, s3_third = (member_s3(account) for account in (first, second, third))
    findings: dict[tuple[str, str], list[str]] = {
        (account, region): [] for account in accounts for region in REGIONS
    }
    make_bucket(s3_first, "us-east-1", f"open-{first}", None)
    make_bucket(s3_first, "us-east-1", f"closed-{first}", FULL_BLOCK)
    partial = {**FULL_BLOCK, "BlockPublicPolicy": False}
    make_bucket(s3_first, "eu-west-1", f"partial-{first}", partial)
    make_bucket(s3_first, "eu-west-1", f"closed-eu-{first}", FULL_BLOCK)
    make_bucket(s3_second, "eu-west-1", f"open-eu-{second}", None)
    make_bucket(s3_third, "us-east-1", f"closed-{third}", FULL_BLOCK)
    findings[(first, "us-east-1")] = [f"open-{first}"]
    findings[(first, "eu-west-1")] = [f"partial-{first}"]
    findings[(second, "eu-west-1")] = [f"open-eu-{second}"]
    return Organization(accounts, findings)


# --- running the machine ----------------------------------------------------------------


@pytest.fixture
def step_functions(moto_server: MotoServer) -> Iterator[None]:
    """moto's engine executes state machines for this test only."""
    url = f"{moto_server.endpoint_url}/moto-api/config"
    requests.post(url, json={"stepfunctions": {"execute_state_machine": True}}, timeout=10)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    yield
    werkzeug.setLevel(level)
    requests.post(url, json={"stepfunctions": {"execute_state_machine": False}}, timeout=10)


@pytest.fixture
def inventory_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions' environment, as template.yaml sets it, pointed at moto's names."""
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS_BUCKET)
    monkeypatch.setenv("REGIONS", ",".join(REGIONS))
    monkeypatch.setenv("BATCH_SIZE", "3")
    monkeypatch.setenv("MAX_ROUNDS", "3")
    monkeypatch.setenv("MEMBER_ROLE_NAME", MEMBER_ROLE)
    monkeypatch.setenv("MAX_WORKERS", "4")
    monkeypatch.setenv("RESERVE_SECONDS", "2")


@dataclass
class Execution:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    server: InvokeServer


def run_machine(
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    execution_input: Mapping[str, Any],
    *,
    name: str,
    timeout_for: Callable[[str, Any], float] | None = None,
    wrap: Callable[[str, Handler], Handler] | None = None,
) -> Execution:
    """Create the template's state machine in moto, run it once, wait for the end (≤ 90 s).

    The wait ends as soon as the execution does (a few seconds on an idle machine);
    the bound is for a machine busy with other work.
    """
    machine = load_machine()
    handlers = {
        function: wrap(function, handler) if wrap else handler
        for function, handler in machine.handlers.items()
    }
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps(machine.definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/org-inventory-machine",
    )["stateMachineArn"]
    with InvokeServer(moto_server.endpoint_url, handlers, timeout_for=timeout_for) as server:
        monkeypatch.setenv("MOTO_PORT", str(server.port))
        execution_arn = sfn.start_execution(
            stateMachineArn=arn, name=f"{name}-run", input=json.dumps(dict(execution_input))
        )["executionArn"]
        deadline = time.monotonic() + 90
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    output = json.loads(described["output"]) if described.get("output") else None
    return Execution(execution_arn, described["status"], output, described.get("error"), server)


def outcomes(run_id: str) -> list[dict[str, Any]]:
    """Every JSON Lines record of a run, from every round and batch."""
    s3 = boto3.client("s3")
    records = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=RESULTS_BUCKET, Prefix=f"runs/{run_id}/"
    )
    for page in pages:
        for item in page.get("Contents", []):
            if "/outcomes/" in item["Key"]:
                body = s3.get_object(Bucket=RESULTS_BUCKET, Key=item["Key"])["Body"].read()
                records += [json.loads(line) for line in body.decode().splitlines() if line]
    return records


def batches(run_id: str, round_number: int) -> list[dict[str, Any]]:
    key = f"runs/{run_id}/round-{round_number:03d}/batches.json"
    body = boto3.client("s3").get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read()
    return list(json.loads(body))


def map_runs(execution_arn: str) -> list[dict[str, Any]]:
    """DescribeMapRun of each of the execution's Map runs, oldest first."""
    sfn = boto3.client("stepfunctions")
    listed = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    described = [sfn.describe_map_run(mapRunArn=run["mapRunArn"]) for run in listed]
    return sorted(described, key=lambda run: run["startDate"])


def key(record: Mapping[str, Any]) -> tuple[str, str]:
    return (record["account_id"], record["region"])


# --- the tests ----------------------------------------------------------------------------

WORKER = "OrgInventoryWorkerFunction"


def out_of_time_for(*batches_out_of_time: tuple[int, int]) -> Callable[[str, Any], float]:
    """Worker invocations of these (round, batch) start with less time than the reserve."""

    def timeout_for(function: str, event: Any) -> float:
        if function == WORKER and (event["round"], event["batch"]) in batches_out_of_time:
            return 1.0  # RESERVE_SECONDS is 2: fan_out starts nothing
        return 60.0

    return timeout_for


def crash_after_first_target(round_number: int, batch: int) -> Callable[[str, Handler], Handler]:
    """That worker dies after writing its first target's outcome, before its manifest.

    The worst moment for a crash: S3 holds part of the batch's outcomes and no
    manifest, and the Map sees only a failed child.
    """

    def wrap(function: str, handler: Handler) -> Handler:
        if function != WORKER:
            return handler

        def crashing(event: Any, context: Any) -> Any:
            if (event["round"], event["batch"]) != (round_number, batch):
                return handler(event, context)
            handler({**event, "items": event["items"][:1]}, context)
            manifest = f"runs/{event['run_id']}/round-{round_number:03d}/manifests/"
            boto3.client("s3").delete_object(
                Bucket=RESULTS_BUCKET, Key=f"{manifest}batch-{batch:05d}.json"
            )
            raise RuntimeError("the worker died before writing its manifest")

        return crashing

    return wrap


@pytest.mark.usefixtures("step_functions", "inventory_env")
def test_targets_a_worker_did_not_reach_run_in_a_second_round_and_each_is_reported_once(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    # 12 members x 2 regions = 24 targets: 12 batches of 2, one account per batch.
    organization = build_organization(12)
    first, second = organization.members[:2]

    execution = run_machine(
        moto_server,
        monkeypatch,
        {"batch_size": 2},
        name="inventory-rounds",
        timeout_for=out_of_time_for((1, 0)),  # round 1, batch 0: out of time, both remain
        wrap=crash_after_first_target(1, 1),  # round 1, batch 1: one outcome, then a crash
    )

    assert execution.status == "SUCCEEDED", execution
    run_id = "inventory-rounds-run"
    records = outcomes(run_id)
    seen = Counter(key(record) for record in records)
    assert set(seen) == organization.targets
    assert set(seen.values()) == {1}  # every target exactly once, over both rounds
    assert all(record["phase"] is None and record["error_type"] is None for record in records)
    found = {key(record): record["without_public_access_block"] for record in records}
    assert found == organization.findings
    # Round 2 held exactly what round 1 did not finish: all of batch 0, half of batch 1.
    round_1 = batches(run_id, 1)
    assert [len(batch["Items"]) for batch in round_1] == [2] * 12
    assert {item["account_id"] for item in round_1[0]["Items"]} == {first}
    leftovers = [*round_1[0]["Items"], round_1[1]["Items"][1]]
    assert batches(run_id, 2) == [
        {"Items": sorted(leftovers, key=key)[:2]},
        {"Items": sorted(leftovers, key=key)[2:]},
    ]
    assert {(first, "us-east-1"), (second, "eu-west-1")} <= {key(item) for item in leftovers}
    worker_rounds = Counter(
        call.event["round"] for call in execution.server.invocations if call.name == WORKER
    )
    assert worker_rounds == {1: 12, 2: 2}
    # DescribeMapRun: one Map run per round, with the template's limits; the crash counted.
    first_run, second_run = map_runs(execution.arn)
    assert first_run["maxConcurrency"] == 10
    assert first_run["toleratedFailurePercentage"] == 10.0
    assert first_run["itemCounts"]["total"] == 12
    assert first_run["itemCounts"]["succeeded"] == 11
    assert first_run["itemCounts"]["failed"] == 1
    assert second_run["itemCounts"]["total"] == 2
    assert second_run["itemCounts"]["succeeded"] == 2
    # The state carried counts and keys only; the totals add up across rounds.
    assert execution.output is not None
    assert execution.output["round"] == 3
    assert execution.output["batches"] == 0
    assert execution.output["totals"] == {
        "done": 23,  # the crashed worker's one outcome has no manifest to count it
        "failed": 0,
        "flagged_buckets": 3,
        "lost_batches": 1,
    }
    assert len(json.dumps(execution.output)) < 1024


@pytest.mark.usefixtures("step_functions", "inventory_env")
def test_leftovers_after_the_last_round_fail_the_execution_and_wait_in_s3_as_batches(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    organization = build_organization(3)  # 6 targets: 3 batches of 2

    execution = run_machine(
        moto_server,
        monkeypatch,
        {"batch_size": 2, "max_rounds": 1},
        name="inventory-limit",
        timeout_for=out_of_time_for((1, 2)),
    )

    assert execution.status == "FAILED"
    assert execution.error == "RoundLimitReached"
    run_id = "inventory-limit-run"
    last_batch = batches(run_id, 1)[2]["Items"]
    assert batches(run_id, 2) == [{"Items": sorted(last_batch, key=key)}]
    assert {key(record) for record in outcomes(run_id)} == organization.targets - {
        key(item) for item in last_batch
    }
    assert [
        call.event["round"] for call in execution.server.invocations if call.name == WORKER
    ] == [1] * 3
