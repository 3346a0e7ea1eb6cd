"""inject_session / inject_client against moto: injection, caching, errors, handler shapes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import boto3
import pytest

from lambda_assume_role import (
    AssumeRoleError,
    InvalidParameterError,
    SessionRegistry,
    get_role_arn,
    inject_client,
    inject_session,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import RequestLog
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Static"


class Context:
    """The parts of a LambdaContext the decorators may touch."""

    function_name = "fn"
    aws_request_id = "req-1"


CONTEXT = Context()


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent)


def account_role(event: dict[str, Any], context: Any) -> str:
    return get_role_arn(event["account"], "Auditor")


def test_stacked_decorators_inject_every_name(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    @inject_session(ROLE, registry=registry, RoleSessionName="static")
    @inject_session(account_role, name="tenant", registry=registry, RoleSessionName="tenant")
    @inject_client("sts", ROLE, registry=registry, RoleSessionName="static")
    @inject_client("dynamodb", ROLE, name="ddb", region_name="eu-west-1", registry=registry)
    def handler(event: Any, context: Any, session: Any, tenant: Any, sts: Any, ddb: Any) -> Any:
        return {
            "static": session.client("sts").get_caller_identity()["Arn"],
            "tenant": tenant.client("sts").get_caller_identity()["Arn"],
            "sts": sts.get_caller_identity()["Arn"],
            "ddb_region": ddb.meta.region_name,
        }

    result = handler({"account": "222222222222"}, CONTEXT)
    assert result == {
        "static": "arn:aws:sts::111111111111:assumed-role/Static/static",
        "tenant": "arn:aws:sts::222222222222:assumed-role/Auditor/tenant",
        "sts": "arn:aws:sts::111111111111:assumed-role/Static/static",
        "ddb_region": "eu-west-1",
    }
    assert requests_log.count("AssumeRole") == 2  # static (shared by 2 decorators) + tenant


def test_warm_invocations_make_no_sts_call_and_no_client(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    clients: list[Any] = []

    @inject_client("sts", ROLE, registry=registry)
    def handler(event: Any, context: Any, sts: Any) -> str:
        clients.append(sts)
        arn: str = sts.get_caller_identity()["Arn"]
        return arn

    for _ in range(5):
        handler({}, CONTEXT)
    assert requests_log.count("AssumeRole") == 1
    assert len({id(client) for client in clients}) == 1


def test_per_event_roles_give_each_tenant_its_identity(registry: SessionRegistry) -> None:
    @inject_client(
        "sts",
        lambda event, context: {
            "RoleArn": get_role_arn(event["account"], "Tenant"),
            "ExternalId": f"ext-{event['account']}",
        },
        registry=registry,
        RoleSessionName="per-event",
    )
    def handler(event: Any, context: Any, sts: Any) -> str:
        arn: str = sts.get_caller_identity()["Arn"]
        return arn

    assert handler({"account": "333333333333"}, CONTEXT).startswith("arn:aws:sts::333333333333:")
    assert handler({"account": "444444444444"}, CONTEXT).startswith("arn:aws:sts::444444444444:")
    assert handler({"account": "333333333333"}, CONTEXT).startswith("arn:aws:sts::333333333333:")
    assert len(registry) == 2


def test_per_event_parameters_reach_sts(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    @inject_session(
        lambda event, context: {"RoleArn": ROLE, "ExternalId": event["external_id"]},
        registry=registry,
    )
    def handler(event: Any, context: Any, session: Any) -> None:
        session.client("sts").get_caller_identity()

    handler({"external_id": "tenant-secret-id"}, CONTEXT)
    (call,) = requests_log.matching("AssumeRole")
    assert call.params["ExternalId"] == "tenant-secret-id"


def test_static_bad_arn_fails_when_the_decorator_is_applied(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    with pytest.raises(ValueError, match="RoleArn must look like"):
        inject_session("arn:aws:iam::1:role/Bad", registry=registry)(lambda event, context: None)
    with pytest.raises(InvalidParameterError, match="DurationSeconds"):
        inject_client("s3", ROLE, registry=registry, DurationSeconds=5)
    assert requests_log.all() == []


def test_bad_arn_from_a_role_source_names_it_and_caches_nothing(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    @inject_session(account_role, registry=registry)
    def handler(event: Any, context: Any, session: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(ValueError, match=r"role source account_role returned a bad role") as raised:
        handler({"account": "not-an-account"}, CONTEXT)
    assert "RoleArn must look like" in str(raised.value)
    assert len(registry) == 0
    assert requests_log.all() == []


def test_role_source_returning_garbage_is_a_type_error(registry: SessionRegistry) -> None:
    @inject_session(lambda event, context: 42, registry=registry)
    def handler(event: Any, context: Any, session: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(TypeError, match="must return a role ARN or a mapping"):
        handler({}, CONTEXT)


def test_role_must_be_an_arn_or_callable(registry: SessionRegistry) -> None:
    with pytest.raises(TypeError, match="role must be a role ARN or a callable"):
        inject_session(42, registry=registry)  # type: ignore[arg-type]


def test_access_denied_surfaces_naming_the_role(
    fault_proxy: FaultProxy, registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    fault_proxy.deny("AssumeRole", "AccessDenied", "not authorized")

    @inject_client("sts", ROLE, registry=registry)
    def handler(event: Any, context: Any, sts: Any) -> None:
        sts.get_caller_identity()

    with pytest.raises(
        AssumeRoleError, match=r"AssumeRole for .*role/Static failed with AccessDenied"
    ):
        handler({}, CONTEXT)


def test_async_handlers_work(registry: SessionRegistry) -> None:
    @inject_client("sts", ROLE, registry=registry, RoleSessionName="async")
    async def handler(event: Any, context: Any, sts: Any) -> str:
        await asyncio.sleep(0)
        arn: str = sts.get_caller_identity()["Arn"]
        return arn

    assert asyncio.run(handler({}, CONTEXT)).endswith("/Static/async")
    assert asyncio.iscoroutinefunction(handler)


def test_methods_work(registry: SessionRegistry) -> None:
    class Service:
        @inject_session(account_role, registry=registry, RoleSessionName="method")
        def handle(self, event: Any, context: Any, session: Any) -> str:
            arn: str = session.client("sts").get_caller_identity()["Arn"]
            return arn

    assert (
        Service()
        .handle({"account": "555555555555"}, CONTEXT)
        .startswith("arn:aws:sts::555555555555:")
    )


def test_default_registry_is_shared_across_decorators(moto_server: Any) -> None:
    from lambda_assume_role.registry import default_registry

    @inject_session(ROLE)
    def first(event: Any, context: Any, session: Any) -> Any:
        return session

    @inject_session(ROLE)
    def second(event: Any, context: Any, session: Any) -> Any:
        return session

    try:
        assert first({}, CONTEXT) is second({}, CONTEXT)
        assert first({}, CONTEXT) is default_registry().session(ROLE)
    finally:
        default_registry().clear()


def test_parent_and_registry_must_agree(registry: SessionRegistry) -> None:
    with pytest.raises(ValueError, match="parent and registry disagree"):
        inject_session(ROLE, registry=registry, parent=boto3.Session())


def test_concurrent_invocations_share_one_assume_role_per_role(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    @inject_client("sts", account_role, registry=registry)
    def handler(event: Any, context: Any, sts: Any) -> None:
        sts.get_caller_identity()

    events = [({"account": str(600000000000 + n % 3)}, CONTEXT) for n in range(32)]
    assert run_together(handler, events) == []
    assert requests_log.count("AssumeRole") == 3


def test_each_assume_role_is_logged_without_secrets(
    registry: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    @inject_client("sts", ROLE, registry=registry, RoleSessionName="logged")
    def handler(event: Any, context: Any, sts: Any) -> Any:
        sts.get_caller_identity()
        return registry.session(ROLE, RoleSessionName="logged").get_credentials()

    with caplog.at_level(logging.DEBUG, logger="lambda_assume_role"):
        credentials = handler({}, CONTEXT)
    frozen = credentials.get_frozen_credentials()
    (record,) = [r for r in caplog.records if r.name == "lambda_assume_role"]
    assert record.levelno == logging.INFO
    assert ROLE in record.getMessage()
    assert "logged" in record.getMessage()
    assert record.role_arn == ROLE  # type: ignore[attr-defined]
    assert record.latency_ms >= 0  # type: ignore[attr-defined]
    for logged in caplog.records:
        text = logged.getMessage() + repr(logged.__dict__)
        assert frozen.secret_key not in text
        assert frozen.token not in text


def test_inside_lambda_a_static_role_is_built_during_init_without_sts(
    registry: SessionRegistry, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")

    @inject_client("s3", ROLE, registry=registry)
    def handler(event: Any, context: Any, s3: Any) -> Any:
        return s3

    assert len(registry) == 1
    client = registry.client(ROLE, "s3")
    assert handler({}, CONTEXT) is client
    assert requests_log.all() == []


def test_outside_lambda_nothing_is_built_until_the_first_invocation(
    registry: SessionRegistry,
) -> None:
    inject_session(ROLE, registry=registry)
    assert len(registry) == 0
