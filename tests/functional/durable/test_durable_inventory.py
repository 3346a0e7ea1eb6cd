"""examples/durable_inventory under AWS's durable runner (real checkpoints and replay) against moto.

The organization is moto's (member accounts in two OUs and the root), with
buckets in three accounts; findings and reports land in moto's S3. Time is
virtual: the example's `durable_fan_out` gets the test's clock (and one worker,
one batch at a time), and each account's check spends one virtual second, so
how many accounts an invocation reaches depends on the time the runner's
Lambda context reports, never on how fast this machine is. Every test counts
the checks per account across all invocations and replays.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import boto3
import pytest

from emulators.moto_server import MotoServer, RequestLog
from tests.functional.durable.harness import outcome, run, time_left
from tests.support.accounts import MEMBER_ROLE, member_client
from tests.support.clocks import RunClock

from examples.durable_inventory import app  # isort: skip  (after the harness: it needs the SDK)

RESULTS_BUCKET = "durable-inventory-results"
FULL_BLOCK = dict.fromkeys(app.BLOCK_SETTINGS, True)


class Organization:
    """moto's organization: two OUs (``acme``, ``globex``) of 3 accounts each, 2 in the root."""

    def __init__(self) -> None:
        client = boto3.client("organizations")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        self.ous: dict[str, str] = {}
        self.accounts: dict[str, list[str]] = {}
        for unit, size in (("acme", 3), ("globex", 3), ("", 2)):
            parent = root
            if unit:
                parent = client.create_organizational_unit(ParentId=root, Name=unit)[
                    "OrganizationalUnit"
                ]["Id"]
                self.ous[unit] = parent
            self.accounts[unit] = []
            for _ in range(size):
                number = sum(len(ids) for ids in self.accounts.values())
                account = client.create_account(
                    AccountName=f"member-{number}", Email=f"member-{number}@example.com"
                )["CreateAccountStatus"]["AccountId"]
                if unit:
                    client.move_account(
                        AccountId=account, SourceParentId=root, DestinationParentId=parent
                    )
                self.accounts[unit].append(account)

    @property
    def members(self) -> list[str]:
        return sorted(account for ids in self.accounts.values() for account in ids)


class Checks:
    """The example's check, counted per account, spending one virtual second each."""

    def __init__(self, clock: RunClock, *, fail: str | None = None) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.invocations = 0
        self.writes: Counter[str] = Counter()  # S3 keys the example wrote, and how often
        self.clock = clock
        self.fail = fail
        self.real = app.buckets_without_public_access_block

    def check(self, session: boto3.Session, target: Any) -> dict[str, Any]:
        with self.lock:
            self.calls[target.account_id] += 1
        self.clock.spend(1.0)
        if target.account_id == self.fail:
            raise RuntimeError(f"cannot read the buckets of {target.account_id}")
        return self.real(session, target)


@pytest.fixture
def org(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Organization:
    """The organization, the results bucket, and the example's environment as the template sets it.

    The requests that built them are forgotten: a test counts only the example's.
    """
    found = Organization()
    boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    first, second = found.accounts["acme"][0], found.accounts["globex"][0]
    first_s3, second_s3 = member_client("s3", first), member_client("s3", second)
    first_s3.create_bucket(Bucket=f"open-{first}")
    first_s3.create_bucket(Bucket=f"closed-{first}")
    first_s3.put_public_access_block(
        Bucket=f"closed-{first}", PublicAccessBlockConfiguration=FULL_BLOCK
    )
    second_s3.create_bucket(Bucket=f"partial-{second}")
    second_s3.put_public_access_block(
        Bucket=f"partial-{second}",
        PublicAccessBlockConfiguration={**FULL_BLOCK, "BlockPublicPolicy": False},
    )
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS_BUCKET)
    monkeypatch.setenv("MEMBER_ROLE_NAME", MEMBER_ROLE)
    monkeypatch.setenv("REGIONS", "us-east-1")
    monkeypatch.setenv("BATCH_SIZE", "3")
    monkeypatch.setenv("TENANT_OUS", json.dumps({"acme": [found.ous["acme"]]}))
    moto_server.requests.clear()
    return found


def instrumented(monkeypatch: pytest.MonkeyPatch, *, fail: str | None = None) -> Checks:
    """The example with the test's clock, one batch and one worker at a time, counted checks.

    The handler runs from the start in every invocation and calls `durable_fan_out`
    each time, so the calls of the wrapper count invocations.
    """
    checks = Checks(RunClock(), fail=fail)
    monkeypatch.setattr(app, "buckets_without_public_access_block", checks.check)
    real = app.durable_fan_out

    def durable_fan_out(*args: Any, **kwargs: Any) -> Any:
        with checks.lock:
            checks.invocations += 1
        kwargs.update(clock=checks.clock, max_workers=1, max_concurrency=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(app, "durable_fan_out", durable_fan_out)
    put_json = app.put_json

    def counted_put(s3: Any, bucket: str, key: str, value: Any) -> None:
        with checks.lock:
            checks.writes[key] += 1
        put_json(s3, bucket, key, value)

    monkeypatch.setattr(app, "put_json", counted_put)
    return checks


def stored(key: str) -> Any:
    body = boto3.client("s3").get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read()
    return json.loads(body)


def test_every_member_account_is_checked_once_and_its_findings_are_written_to_s3(
    org: Organization, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = instrumented(monkeypatch)

    result = outcome(run(app.handler, {"run_id": "all"}))

    first, second = org.accounts["acme"][0], org.accounts["globex"][0]
    assert checks.calls == Counter(dict.fromkeys(org.members, 1))
    assert result["succeeded"] == len(org.members) == 8
    assert result["remaining"] == result["failed_work"] == result["failed_assume"] == 0
    assert result["reason"] == "done"
    assert result["tenant"] is None
    assert result["report"] == f"s3://{RESULTS_BUCKET}/runs/all/report.json"
    assert stored(f"runs/all/accounts/{first}/us-east-1.json") == {
        "account_id": first,
        "region": "us-east-1",
        "buckets": 2,
        "without_public_access_block": [f"open-{first}"],
    }
    partial = stored(f"runs/all/accounts/{second}/us-east-1.json")
    assert partial["without_public_access_block"] == [f"partial-{second}"]
    report = stored("runs/all/report.json")
    assert report["failures"] == []
    assert report["succeeded"] == 8
    assert requests_log.count("AssumeRole") == 8


def test_accounts_the_deadline_leaves_wait_into_new_invocations_and_replays_redo_nothing(
    org: Organization, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # reserve 10 s: each batch step reaches 2 accounts (one virtual second each) per invocation.
    time_left(monkeypatch, 12.0)
    checks = instrumented(monkeypatch)

    result = outcome(run(app.handler, {"run_id": "slow"}))

    assert checks.calls == Counter(dict.fromkeys(org.members, 1))
    assert result["succeeded"] == 8
    assert result["rounds"] >= 3
    # Each round after the first ran in a new invocation, after a wait ...
    assert checks.invocations == result["rounds"]
    # ... that replayed the listing step and the finished batches from their checkpoints.
    assert requests_log.count("ListAccounts", "organizations") == 1
    assert requests_log.count("AssumeRole") == 8
    # The findings, then the report, each written once.
    assert set(checks.writes.values()) == {1}
    assert sorted(checks.writes) == sorted(
        [f"runs/slow/accounts/{account}/us-east-1.json" for account in org.members]
        + ["runs/slow/report.json"]
    )


def test_a_fault_in_one_account_is_one_failure_in_the_report_and_the_rest_complete(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_left(monkeypatch, 12.0)
    broken = org.accounts["globex"][1]
    checks = instrumented(monkeypatch, fail=broken)

    result = outcome(run(app.handler, {"run_id": "fault"}))

    assert checks.calls == Counter(dict.fromkeys(org.members, 1))
    assert result["succeeded"] == 7
    assert result["failed_work"] == 1
    assert "failures" not in result  # in the report, not in the execution's result
    (failure,) = stored("runs/fault/report.json")["failures"]
    assert failure == {
        "target": {"account_id": broken, "region": "us-east-1"},
        "phase": "work",
        "error_code": "RuntimeError",
        "message": f"RuntimeError: cannot read the buckets of {broken}",
    }


def test_a_tenant_checks_only_its_own_organizational_unit_whatever_the_event_says(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = instrumented(monkeypatch)
    wider = {"ous": [org.ous["globex"]]}  # no run_id: the execution's own id

    result = outcome(run(app.handler, wider, tenant_id="acme"))

    assert checks.calls == Counter(dict.fromkeys(org.accounts["acme"], 1))
    assert result["succeeded"] == 3
    assert result["tenant"] == "acme"
    prefix = result["report"].removeprefix(f"s3://{RESULTS_BUCKET}/").removesuffix("/report.json")
    tenant, run_id = prefix.removeprefix("runs/").split("/")
    assert (tenant, bool(run_id)) == ("acme", True)
    assert stored(f"{prefix}/report.json")["succeeded"] == 3
    first = org.accounts["acme"][0]
    assert stored(f"{prefix}/accounts/{first}/us-east-1.json")["buckets"] == 2


def test_a_tenant_without_organizational_units_fails_before_anything_is_listed(
    org: Organization, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = instrumented(monkeypatch)

    result = run(app.handler, {"run_id": "t2"}, tenant_id="initech")

    assert result.status.value == "FAILED"
    assert result.error is not None
    assert "TENANT_OUS names no organizational unit for tenant 'initech'" in str(
        result.error.message
    )
    assert not checks.calls
    assert requests_log.count("ListAccountsForParent", "organizations") == 0
    assert requests_log.count("AssumeRole") == 0
