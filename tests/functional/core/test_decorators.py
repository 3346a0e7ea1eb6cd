"""inject_session / inject_client against moto: injection, caching, errors, handler shapes."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import pickle
import time
import weakref
from typing import Any

import boto3
import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import RequestLog
from lambda_assume_role import (
    AssumeRoleError,
    InvalidParameterError,
    SessionRegistry,
    assume_role,
    get_role_arn,
    inject_client,
    inject_session,
    invocation,
)
from lambda_assume_role.decorators import injected_names
from lambda_assume_role.registry import registry_for
from tests.support.clocks import ManualClock, Stopwatch
from tests.support.contexts import lambda_context
from tests.support.preparations import count_preparations
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Static"
CONTEXT = lambda_context()


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
    def account_role(event: dict[str, Any], context: Any) -> str:
        return f"arn:aws:iam::{event['account']}:role/Auditor"  # built by hand, unchecked

    @inject_session(account_role, registry=registry)
    def handler(event: Any, context: Any, session: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(ValueError, match=r"role source .*account_role returned a bad") as raised:
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
        AssumeRoleError, match=r"AssumeRole for .*role/Static .*failed with AccessDenied"
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


def slowly(body: bytes) -> bytes:
    """STS's answer, held 200 ms at the proxy: the logged latency cannot be less."""
    time.sleep(0.2)
    return body


def test_each_assume_role_is_logged_with_its_latency_and_without_secrets(
    fault_proxy: FaultProxy, registry: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    fault_proxy.rewrite("AssumeRole", slowly)  # STS takes at least 200 ms

    @inject_client("sts", ROLE, registry=registry, RoleSessionName="logged")
    def handler(event: Any, context: Any, sts: Any) -> Any:
        sts.get_caller_identity()
        return registry.session(ROLE, RoleSessionName="logged").get_credentials()

    with caplog.at_level(logging.DEBUG, logger="lambda_assume_role"), Stopwatch() as watch:
        credentials = handler({}, CONTEXT)
    frozen = credentials.get_frozen_credentials()
    (record,) = [r for r in caplog.records if r.name == "lambda_assume_role"]
    assert record.levelno == logging.INFO
    assert ROLE in record.getMessage()
    assert "logged" in record.getMessage()
    assert record.role_arn == ROLE  # type: ignore[attr-defined]
    # Milliseconds of the STS call alone: at least the proxy's hold (which no load can
    # shorten), at most the whole invocation around it.
    assert 200 <= record.latency_ms <= watch.seconds * 1000  # type: ignore[attr-defined]
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


# -- one preparation per static role --------------------------------------------------------------


def test_a_static_role_is_checked_at_decoration_with_the_parents_chaining_cap(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    chained = assume_role(parent, get_role_arn("999999999999", "Hop"))
    with pytest.raises(InvalidParameterError, match="role chaining"):
        inject_session(ROLE, parent=chained, DurationSeconds=7200)
    with pytest.raises(InvalidParameterError, match="role chaining"):
        inject_client("sts", ROLE, parent=chained, DurationSeconds=7200)
    assert requests_log.all() == []


def test_a_static_role_with_tags_or_a_policy_is_prepared_once_at_decoration(
    registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_preparations(monkeypatch)

    @inject_session(ROLE, registry=registry, Tags=[{"Key": "team", "Value": "data"}])
    @inject_client("s3", ROLE, registry=registry, Policy={"Version": "2012-10-17"})
    def handler(event: Any, context: Any, session: Any, s3: Any) -> tuple[Any, Any]:
        return session, s3

    assert len(calls) == 2
    results = [handler({}, CONTEXT) for _ in range(5)]
    assert len(calls) == 2
    assert len({id(session) for session, _ in results}) == 1
    assert len({id(s3) for _, s3 in results}) == 1


# -- errors: where they are raised and whom they blame ------------------------------------------


def test_bad_keywords_given_to_a_per_event_decorator_fail_at_decoration(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    with pytest.raises(InvalidParameterError, match="DurationSeconds") as duration:
        inject_session(account_role, registry=registry, DurationSeconds=5)
    with pytest.raises(InvalidParameterError, match="client_region") as region:
        inject_client("sts", account_role, registry=registry, client_region="not a region!")
    for raised in (duration, region):
        assert "role source" not in str(raised.value)
    assert requests_log.all() == []


def test_a_role_source_is_blamed_only_for_what_it_returned(registry: SessionRegistry) -> None:
    def short_lived(event: Any, context: Any) -> dict[str, Any]:
        return {"RoleArn": ROLE, "DurationSeconds": event["seconds"]}

    @inject_client("sts", short_lived, registry=registry, client_region="eu-west-1")
    def handler(event: Any, context: Any, sts: Any) -> str:
        region: str = sts.meta.region_name
        return region

    assert handler({"seconds": 900}, CONTEXT) == "eu-west-1"
    with pytest.raises(
        InvalidParameterError, match=r"role source .*short_lived returned a bad role: .*Duration"
    ):
        handler({"seconds": 5}, CONTEXT)

    @inject_session(lambda event, context: {"RoleArn": ROLE, "Bogus": 1}, registry=registry)
    def unknown(event: Any, context: Any, session: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(InvalidParameterError, match=r"returned a bad role: .*Bogus"):
        unknown({}, CONTEXT)


def _powertools_like(handler: Any) -> Any:
    """A decorator in between, as Powertools' are: functools.wraps and **kwargs passed on."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any, **kwargs: Any) -> Any:
        return handler(event, context, **kwargs)

    return wrapper


def test_injecting_one_name_twice_fails_at_decoration(registry: SessionRegistry) -> None:
    def handler(event: Any, context: Any, session: Any) -> None:
        return None

    inner = inject_session(ROLE, registry=registry)(handler)
    with pytest.raises(TypeError, match="already receives the keyword argument 'session'"):
        inject_session(account_role, registry=registry)(inner)
    with pytest.raises(TypeError, match="'session'"):
        inject_client("sts", ROLE, name="session", registry=registry)(_powertools_like(inner))
    both = inject_client("sts", ROLE, registry=registry)(_powertools_like(inner))
    assert injected_names(both) == {"session", "sts"}


def test_the_errors_we_raise_survive_pickling(registry: SessionRegistry) -> None:
    raised: list[BaseException] = []

    @inject_session(lambda event, context: {"RoleArn": "arn:aws:iam::1:role/x"}, registry=registry)
    def bad_source(event: Any, context: Any, session: Any) -> None:
        raise AssertionError("not reached")

    attempts = [
        lambda: bad_source({}, CONTEXT),
        lambda: inject_session(ROLE, registry=registry)(
            inject_session(ROLE, registry=registry)(lambda event, context, session: None)
        ),
        lambda: inject_client("sts", ROLE, registry=registry, client_region="?"),
        lambda: inject_session(ROLE, registry=registry, DurationSeconds=5),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as info:
            attempt()
        raised.append(info.value)
    for error in raised:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)


# -- the invocation's deadline ------------------------------------------------------------------


def test_the_handler_runs_with_its_invocation_context_bound(registry: SessionRegistry) -> None:
    clock = ManualClock()

    @inject_session(ROLE, registry=registry)
    def handler(event: Any, context: Any, session: Any) -> float | None:
        if event.get("fail"):
            raise RuntimeError("handler failed")
        clock.advance(event.get("work", 0.0))
        return invocation.remaining_seconds()  # read now, not when the context was bound

    @inject_session(account_role, registry=registry)
    async def async_handler(event: Any, context: Any, session: Any) -> float | None:
        await asyncio.sleep(0)
        return invocation.remaining_seconds()

    assert handler({}, lambda_context(4.5)) == 4.5
    assert handler({"work": 1.25}, lambda_context(4.5, clock=clock)) == 3.25
    assert invocation.remaining_seconds() is None
    with pytest.raises(RuntimeError, match="handler failed"):
        handler({"fail": True}, lambda_context(4.5))
    assert invocation.remaining_seconds() is None
    assert asyncio.run(async_handler({"account": "222222222222"}, lambda_context(4.5))) == 4.5
    assert invocation.remaining_seconds() is None


# -- two regions, two names ---------------------------------------------------------------------


def test_region_name_is_the_sessions_and_client_region_the_clients(
    registry: SessionRegistry,
) -> None:
    @inject_session(ROLE, registry=registry, region_name="eu-west-2")
    @inject_client("sts", ROLE, name="here", registry=registry, region_name="eu-west-2")
    @inject_client(
        "sts",
        ROLE,
        name="there",
        registry=registry,
        region_name="eu-west-2",
        client_region="eu-west-1",
    )
    def handler(event: Any, context: Any, session: Any, here: Any, there: Any) -> tuple[str, ...]:
        return session.region_name, here.meta.region_name, there.meta.region_name

    assert handler({}, CONTEXT) == ("eu-west-2", "eu-west-2", "eu-west-1")
    assert len(registry) == 1


# -- parents are freed --------------------------------------------------------------------------


def test_parents_given_to_decorators_are_freed_with_their_registries(
    moto_server: Any, requests_log: RequestLog
) -> None:
    refs: list[tuple[weakref.ref[Any], weakref.ref[Any]]] = []
    for n in range(2):
        parent = boto3.Session()

        @inject_session(ROLE, parent=parent, RoleSessionName=f"tenant-{n}")
        @inject_client("sts", account_role, parent=parent)
        def handler(event: Any, context: Any, session: Any, sts: Any) -> str:
            session.client("sts").get_caller_identity()
            arn: str = sts.get_caller_identity()["Arn"]
            return arn

        assert handler({"account": "222222222222"}, CONTEXT).startswith(
            "arn:aws:sts::222222222222:"
        )
        refs.append((weakref.ref(parent), weakref.ref(registry_for(parent))))
        del parent, handler
    gc.collect()
    assert requests_log.count("AssumeRole") == 4
    assert [(p() is None, r() is None) for p, r in refs] == [(True, True)] * 2
