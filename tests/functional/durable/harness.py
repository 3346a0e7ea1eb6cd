"""AWS's local durable runner for our tests: one execution, real checkpoints and replay.

The one place the tests import the durable SDKs: a test module imports them from
here, so that where they cannot be installed (the botocore-floor and next-path
venvs: the SDK needs boto3 >= 1.43.114) the module is skipped with a reason,
and counted, instead of failing to import.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip(
    "aws_durable_execution_sdk_python_testing",
    reason="the durable execution SDK and its test runner are not installed "
    "(they need Python >= 3.11 and boto3 >= 1.43.114; the botocore-floor and next-path "
    "venvs have older ones)",
)

from aws_durable_execution_sdk_python import (
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python_testing import model
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)

__all__ = ["RUN_LIMIT", "DurableContext", "durable_execution", "outcome", "run", "time_left"]

RUN_LIMIT = 600
"""Real seconds the runner may take for one execution, and that a test waits for it.

The runner's own timeout, not the library's: a wide upper bound, so that a run which
finishes in under a minute on an idle machine is not failed on a busy one (``make
stress``: three test runs beside four CPU burners on two cores).
"""


def time_left(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every invocation's Lambda context reports ``seconds`` left (the runner's says 900 s)."""
    millis = int(seconds * 1000)
    monkeypatch.setattr(model.LambdaContext, "get_remaining_time_in_millis", lambda self: millis)


def run(
    handler: Any, event: Any = None, *, tenant_id: str | None = None
) -> DurableFunctionTestResult:
    """Run ``handler`` (``@durable_execution``) to its end under the runner."""
    with DurableFunctionTestRunner(handler=handler) as runner:
        return runner.run(
            input=json.dumps({} if event is None else event),
            execution_timeout=RUN_LIMIT,
            tenant_id=tenant_id,
        )


def outcome(result: DurableFunctionTestResult) -> Any:
    """The execution's result, decoded; fails the test, with the error, if it did not succeed."""
    assert result.status.value == "SUCCEEDED", result.error
    return None if result.result is None else json.loads(result.result)
