"""A DurableContext works wherever a Lambda context does: under AWS's durable runner, with moto.

Our decorator sits inside ``@durable_execution``, as the README says; the
runner checkpoints and replays for real; its Lambda context is patched for
short deadlines (`time_left`).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import (
    AssumeRoleTimeoutError,
    SessionRegistry,
    TenantRole,
    deadline,
    fan_out,
    get_role_arn,
    inject_client,
    inject_session,
    invocation,
)
from tests.functional.durable.harness import (
    DurableContext,
    durable_execution,
    outcome,
    run,
    time_left,
)

ROLE = "arn:aws:iam::111111111111:role/Static"


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent)


def caller_or_timeout(session: Any) -> str:
    try:
        return str(session.client("sts").get_caller_identity()["Arn"])
    except AssumeRoleTimeoutError:
        return "timeout"


def test_the_decorators_deadline_comes_from_the_durable_context(
    registry: SessionRegistry, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_left(monkeypatch, 0.5)

    @durable_execution
    @inject_session(ROLE, registry=registry)
    def handler(event: Any, context: DurableContext, session: Any) -> Any:
        return {
            "left": invocation.remaining_seconds(),
            "handler": caller_or_timeout(session),
            "step": context.step(lambda step: caller_or_timeout(session), name="step"),
        }

    assert outcome(run(handler)) == {"left": 0.5, "handler": "timeout", "step": "timeout"}
    assert requests_log.count("AssumeRole") == 0


def test_a_role_callable_gets_the_durable_context_as_the_handler_does(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    given: list[Any] = []

    def account_role(event: Any, context: Any) -> str:
        given.append(context)
        return get_role_arn(event["account"], "Auditor")

    @durable_execution
    @inject_client("sts", account_role, registry=registry, RoleSessionName="durable")
    def handler(event: Any, context: DurableContext, sts: Any) -> Any:
        assert context is given[-1]
        return sts.get_caller_identity()["Arn"]

    result = outcome(run(handler, {"account": "222222222222"}))
    assert result == "arn:aws:sts::222222222222:assumed-role/Auditor/durable"
    assert all(isinstance(context, DurableContext) for context in given)
    assert invocation.lambda_context_of(given[0]) is given[0].lambda_context
    assert requests_log.count("AssumeRole") == 1


def test_tenant_role_reads_the_tenant_through_the_durable_context(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    tenant_data = TenantRole("arn:aws:iam::123456789012:role/TenantData")

    @durable_execution
    @inject_session(tenant_data, registry=registry)
    def handler(event: Any, context: DurableContext, session: Any) -> Any:
        return session.client("sts").get_caller_identity()["Arn"]

    arn = outcome(run(handler, tenant_id="acme"))
    assert arn.startswith("arn:aws:sts::123456789012:assumed-role/TenantData/acme.")
    (request,) = requests_log.matching("AssumeRole")
    assert request.params["SourceIdentity"] == "acme"


def test_tenant_role_without_a_tenant_says_the_tenant_id_is_not_set(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    tenant_data = TenantRole("arn:aws:iam::123456789012:role/TenantData")

    @durable_execution
    @inject_session(tenant_data, registry=registry)
    def handler(event: Any, context: DurableContext, session: Any) -> Any:
        return "unreachable"

    result = run(handler)
    assert result.status.value == "FAILED"
    assert result.error is not None
    assert result.error.type.endswith("TenantError")
    assert "context.tenant_id is not set" in str(result.error.message)
    assert requests_log.count("AssumeRole") == 0


def test_fan_out_takes_the_durable_context_as_its_deadline(
    parent: boto3.Session, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def accounts(context: DurableContext) -> Any:
        run_ = fan_out(
            lambda session, target: target.account_id,
            ["111111111111", "222222222222"],
            context=context,
            reserve=5,
            parent=parent,
        )
        values = sorted(outcome.value for outcome in run_)
        return {"values": values, "reason": run_.summary.reason, "left": run_.remaining}

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        return accounts(context)

    assert outcome(run(handler)) == {
        "values": ["111111111111", "222222222222"],
        "reason": "done",
        "left": [],
    }
    assert requests_log.count("AssumeRole") == 2

    requests_log.clear()
    time_left(monkeypatch, 3.0)  # less than the reserve: nothing starts
    late = outcome(run(handler))
    assert late["values"] == []
    assert late["reason"] == "deadline"
    assert len(late["left"]) == 2
    assert requests_log.count("AssumeRole") == 0


def test_deadline_invocation_binds_a_durable_context(
    parent: boto3.Session, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_left(monkeypatch, 0.5)
    session = registry_session(parent)

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        with deadline.invocation(context):
            return [deadline.remaining_seconds(), caller_or_timeout(session)]

    assert outcome(run(handler)) == [0.5, "timeout"]
    assert requests_log.count("AssumeRole") == 0


def registry_session(parent: boto3.Session) -> Any:
    return SessionRegistry(parent).session(ROLE, RoleSessionName="undecorated")
