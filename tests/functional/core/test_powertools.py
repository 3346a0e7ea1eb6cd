"""Our decorators stacked with Powertools': the orders that work, and the one that does not."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser

from emulators.lambda_invoke import InvocationContext
from emulators.moto_server import RequestLog
from lambda_assume_role import (
    SessionRegistry,
    get_role_arn,
    inject_client,
    inject_session,
    invocation,
)
from tests.support.contexts import lambda_context

ROLE = "arn:aws:iam::111111111111:role/Powertools"


def orders_context() -> InvocationContext:
    """A LambdaContext as awslambdaric builds it (memory limit as a string), 30 s left."""
    return lambda_context(30.0, function_name="orders")


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent)


@pytest.fixture(autouse=True)
def tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def identity(session: Any) -> str:
    arn: str = session.client("sts").get_caller_identity()["Arn"]
    return arn


def test_logger_and_tracer_outside_ours(
    registry: SessionRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = Logger(service="orders")
    tracer = Tracer(service="orders")
    copy_config_to_registered_loggers(source_logger=logger, include={"lambda_assume_role"})

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @inject_session(ROLE, registry=registry, RoleSessionName="logged")
    def handler(event: dict[str, Any], context: Any, session: Any) -> str:
        logger.info("handling")
        return identity(session)

    context = orders_context()
    try:
        assert handler({}, context).endswith("/Powertools/logged")
    finally:
        package_logger = logging.getLogger("lambda_assume_role")
        package_logger.removeHandler(logger.registered_handler)
        package_logger.propagate = True
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assumed = [line for line in lines if "Assumed role" in line["message"]]
    assert len(assumed) == 1
    assert assumed[0]["role_arn"] == ROLE
    assert assumed[0]["function_request_id"] == context.aws_request_id
    assert assumed[0]["function_name"] == "orders"
    assert any(line["message"] == "handling" for line in lines)


def test_event_source_outside_ours(registry: SessionRegistry) -> None:
    @event_source(data_class=SQSEvent)
    @inject_client("sts", ROLE, registry=registry, RoleSessionName="sqs")
    def handler(event: SQSEvent, context: Any, sts: Any) -> list[str]:
        arn = sts.get_caller_identity()["Arn"]
        return [f"{record.body}:{arn}" for record in event.records]

    result = handler({"Records": [{"body": "hello", "messageId": "1"}]}, orders_context())
    assert result == ["hello:arn:aws:sts::111111111111:assumed-role/Powertools/sqs"]


def test_event_source_inside_ours_is_the_order_that_fails(registry: SessionRegistry) -> None:
    """Documented: event_source rejects extra keyword arguments, so ours must be innermost."""

    @inject_client("sts", ROLE, registry=registry)
    @event_source(data_class=SQSEvent)
    def handler(event: SQSEvent, context: Any, sts: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(TypeError):
        handler({"Records": []}, orders_context())


class Order(BaseModel):
    account: str
    amount: int


def test_event_parser_outside_ours(registry: SessionRegistry) -> None:
    @event_parser(model=Order)
    @inject_session(
        lambda event, context: get_role_arn(event.account, "Orders"),
        registry=registry,
        RoleSessionName="parsed",
    )
    def handler(event: Order, context: Any, session: Any) -> str:
        return f"{event.amount}@{identity(session)}"

    result = handler({"account": "777777777777", "amount": 3}, orders_context())
    assert result == "3@arn:aws:sts::777777777777:assumed-role/Orders/parsed"


def test_idempotent_outside_ours(
    registry: SessionRegistry, parent: boto3.Session, requests_log: RequestLog
) -> None:
    dynamodb = parent.client("dynamodb")
    dynamodb.create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    persistence = DynamoDBPersistenceLayer(table_name="idempotency", boto3_session=parent)
    calls: list[str] = []

    @idempotent(persistence_store=persistence, config=IdempotencyConfig())
    @inject_session(ROLE, registry=registry, RoleSessionName="once")
    def handler(event: dict[str, Any], context: Any, session: Any) -> dict[str, str]:
        calls.append(event["order"])
        return {"arn": identity(session)}

    first = handler({"order": "o-1"}, orders_context())
    second = handler({"order": "o-1"}, orders_context())
    assert first == second == {"arn": "arn:aws:sts::111111111111:assumed-role/Powertools/once"}
    assert calls == ["o-1"]
    assert requests_log.count("AssumeRole") == 1


def test_one_name_injected_on_both_sides_of_a_powertools_decorator_fails_at_decoration(
    registry: SessionRegistry,
) -> None:
    logger = Logger(service="orders")

    @logger.inject_lambda_context
    @inject_session(ROLE, registry=registry)
    def handler(event: dict[str, Any], context: Any, session: Any) -> str:
        return identity(session)

    with pytest.raises(TypeError, match="already receives the keyword argument 'session'"):
        inject_session(ROLE, registry=registry, RoleSessionName="other")(handler)


def test_the_lambda_context_is_bound_inside_powertools_decorators(
    registry: SessionRegistry,
) -> None:
    logger = Logger(service="orders")

    @logger.inject_lambda_context
    @inject_session(ROLE, registry=registry)
    def handler(event: dict[str, Any], context: Any, session: Any) -> float | None:
        return invocation.remaining_seconds()

    assert handler({}, orders_context()) == 30.0
    assert invocation.remaining_seconds() is None
