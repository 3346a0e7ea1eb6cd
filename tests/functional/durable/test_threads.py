"""The deadline reaches every thread the durable SDK runs user code in, with nothing to configure.

The handler runs in the SDK's "dex-handler" thread; steps and child contexts
in the caller's thread; ``map`` and ``parallel`` branches in new threads that
do not inherit context variables (the SDK copies them only when an
instrumentation plugin is configured, and none is here).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import AssumeRoleTimeoutError, SessionRegistry, inject_session, invocation
from tests.functional.durable.harness import (
    DurableContext,
    durable_execution,
    outcome,
    run,
    time_left,
)

ROLE = "arn:aws:iam::111111111111:role/Static"
ARN = "arn:aws:sts::111111111111:assumed-role/Static/branches"


def attempt(session: Any) -> list[Any]:
    """What one piece of user code sees: its time left, and its first AWS call's fate."""
    left = invocation.remaining_seconds()
    try:
        return [left, session.client("sts").get_caller_identity()["Arn"]]
    except AssumeRoleTimeoutError:
        return [left, "timeout"]


def everywhere(registry: SessionRegistry) -> Any:
    """A decorated durable handler that calls AWS first in a branch, a step, a child context."""

    @durable_execution
    @inject_session(ROLE, registry=registry, RoleSessionName="branches")
    def handler(event: Any, context: DurableContext, session: Any) -> Any:
        first = event.get("first", "map")
        seen: dict[str, Any] = {}
        if first == "map":
            seen["map"] = context.map(
                [1, 2, 3], lambda ctx, item, index, items: attempt(session), name="map"
            ).get_results()
            seen["map step"] = context.map(
                [1],
                lambda ctx, item, index, items: ctx.step(lambda step: attempt(session)),
                name="map step",
            ).get_results()
        else:
            seen["parallel"] = context.parallel(
                [lambda ctx: attempt(session), lambda ctx: attempt(session)], name="parallel"
            ).get_results()
        seen["child"] = context.run_in_child_context(lambda ctx: attempt(session), name="child")
        seen["step"] = context.step(lambda step: attempt(session), name="step")
        seen["handler"] = attempt(session)
        seen["thread"] = threading.current_thread().name.startswith("dex-handler")
        return seen

    return handler


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent)


@pytest.mark.parametrize("first", ["map", "parallel"])
def test_a_branch_that_makes_the_first_assume_role_with_half_a_second_left_makes_none(
    first: str,
    registry: SessionRegistry,
    requests_log: RequestLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time_left(monkeypatch, 0.5)
    seen = outcome(run(everywhere(registry), {"first": first}))
    assert seen.pop("thread") is True
    branches = [*seen.get("map", []), *seen.get("map step", []), *seen.get("parallel", [])]
    assert len(branches) in (2, 4)
    for what in [*branches, seen["child"], seen["step"], seen["handler"]]:
        assert what == [0.5, "timeout"]
    assert requests_log.count("AssumeRole") == 0


def test_with_time_left_every_branch_gets_the_one_session(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    seen = outcome(run(everywhere(registry)))
    seen.pop("thread")
    for what in [*seen["map"], *seen["map step"], seen["child"], seen["step"], seen["handler"]]:
        assert what == [900.0, ARN]
    assert requests_log.count("AssumeRole") == 1


def test_no_deadline_is_left_behind_for_other_threads(
    registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_left(monkeypatch, 0.5)
    outcome(run(everywhere(registry)))
    after: list[Any] = []
    thread = threading.Thread(target=lambda: after.append(invocation.current_context()))
    thread.start()
    thread.join()
    assert after == [None]
    assert invocation.current_context() is None
