"""Our decorator outside ``@durable_execution`` is the wrong order: refused at once, or failed once.

The SDK's wrapper takes ``(event, context)`` only, so ours outside it would
fail every invocation with ``unexpected keyword argument 'session'``, retried
until the execution times out.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import SessionRegistry, inject_client, inject_session
from tests.functional.durable.harness import DurableContext, durable_execution, outcome, run
from tests.support.contexts import lambda_context

ROLE = "arn:aws:iam::111111111111:role/Static"
RIGHT_ORDER = "put @durable_execution above (outside) inject_session/inject_client"


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent)


def logged(handler: Any) -> Any:
    """A well-behaved decorator of the user's own, between the two."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        return handler(event, context)

    return wrapper


def workflow(event: Any, context: DurableContext, session: Any = None) -> str:
    return "ran"


@pytest.mark.parametrize(
    "durable",
    [durable_execution, durable_execution(plugins=None), lambda f: logged(durable_execution(f))],
    ids=["bare", "with arguments", "under another decorator"],
)
@pytest.mark.parametrize(
    "ours",
    [
        lambda registry: inject_session(ROLE, registry=registry),
        lambda registry: inject_client("sts", ROLE, registry=registry, name="session"),
    ],
    ids=["inject_session", "inject_client"],
)
def test_our_decorator_outside_durable_execution_is_refused_at_decoration(
    durable: Any, ours: Any, registry: SessionRegistry
) -> None:
    with pytest.raises(TypeError, match=r"'workflow': put @durable_execution above \(outside\)"):
        ours(registry)(durable(workflow))


def test_a_hidden_durable_wrapper_fails_the_first_call_once_and_is_not_retried(
    registry: SessionRegistry, requests_log: RequestLog, caplog: pytest.LogCaptureFixture
) -> None:
    sdk_handler = durable_execution(workflow)
    calls: list[Any] = []

    def hidden(event: Any, context: Any) -> Any:  # no functools.wraps: decoration cannot see
        return sdk_handler(event, context)

    wrong = inject_session(ROLE, registry=registry)(hidden)

    def invoked(event: Any, context: Any) -> Any:
        calls.append(event)
        return wrong(event, context)

    result = run(invoked)
    assert result.status.value == "FAILED"
    assert result.error is not None
    assert result.error.type == "TypeError"
    assert RIGHT_ORDER in str(result.error.message)
    assert "unexpected keyword" not in str(result.error.message)
    assert len(calls) == 1
    ours = [record for record in caplog.records if record.name == "lambda_assume_role"]
    assert [(record.levelname, RIGHT_ORDER in record.message) for record in ours] == [
        ("ERROR", True)
    ]
    assert requests_log.count("AssumeRole") == 0


def test_a_durable_input_event_given_to_the_wrong_order_gets_a_failed_execution(
    registry: SessionRegistry,
) -> None:
    def hidden(event: Any, context: Any) -> Any:
        return durable_execution(workflow)(event, context)

    wrong = inject_session(ROLE, registry=registry)(hidden)
    answer = wrong({"DurableExecutionArn": "arn", "CheckpointToken": "t"}, lambda_context())
    assert answer["Status"] == "FAILED"
    assert RIGHT_ORDER in answer["Error"]["ErrorMessage"]


def test_a_handlers_own_type_error_is_left_alone(registry: SessionRegistry) -> None:
    @inject_session(ROLE, registry=registry)
    def plain(event: Any, context: Any, session: Any) -> Any:
        raise TypeError("the handler's own")

    with pytest.raises(TypeError, match="the handler's own"):
        plain({"DurableExecutionArn": "arn", "CheckpointToken": "t"}, lambda_context(1))

    @durable_execution
    @inject_session(ROLE, registry=registry)
    def durable(event: Any, context: DurableContext, session: Any) -> Any:
        raise TypeError("the handler's own")

    result = run(durable)
    assert result.status.value == "FAILED"
    assert result.error is not None
    assert str(result.error.message) == "the handler's own"


def test_the_right_order_runs(registry: SessionRegistry) -> None:
    assert outcome(run(durable_execution(inject_session(ROLE, registry=registry)(workflow)))) == (
        "ran"
    )
