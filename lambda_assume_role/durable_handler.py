"""What the decorators do for a handler under ``@durable_execution``.

Lambda durable functions run the handler under the SDK's ``@durable_execution``
with a ``DurableContext``; our decorators go inside (below) it. Here: the
``__wrapped__`` chain (`handler_chain`), refusing our decorator outside the
SDK's at decoration (`refuse_durable_wrapper`), recognising the SDK's raw input
when the SDK's wrapper was hidden (`is_durable_input`) and answering it with one
failed, unretried execution (`failed_execution`), and guarding a
``DurableContext``'s checkpoints (`guard_checkpoints`, through
`lambda_assume_role.checkpoint_guard`). The durable SDK is imported only when a
durable execution is actually in hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "failed_execution",
    "guard_checkpoints",
    "handler_chain",
    "is_durable_input",
    "refuse_durable_wrapper",
]

logger = logging.getLogger("lambda_assume_role")

_DURABLE_EXECUTION = "aws_durable_execution_sdk_python.execution"
_RIGHT_ORDER = (
    "put @durable_execution above (outside) inject_session/inject_client: "
    "@durable_execution, then @inject_...(...), then def handler(event, context, ...)"
)


def handler_chain(handler: Any) -> Iterator[Any]:
    """``handler`` and what it wraps, down the ``__wrapped__`` chain `functools.wraps` leaves."""
    for _ in range(100):  # a __wrapped__ cycle must not hang decoration
        if handler is None:
            return
        yield handler
        handler = getattr(handler, "__wrapped__", None)


def refuse_durable_wrapper(handler: Callable[..., Any]) -> None:
    """Refuse a handler that ``@durable_execution`` already wrapped: it takes no keyword of ours."""
    if any(
        getattr(link, "__globals__", {}).get("__name__") == _DURABLE_EXECUTION
        for link in handler_chain(handler)
    ):
        raise TypeError(f"{getattr(handler, '__qualname__', handler)!r}: {_RIGHT_ORDER}")


def guard_checkpoints(context: Any) -> None:
    """For a ``DurableContext``: no result holding our keys reaches a checkpoint."""
    if getattr(context, "lambda_context", None) is not None:
        from lambda_assume_role.checkpoint_guard import protect

        protect(context)


def is_durable_input(event: Any, context: Any) -> bool:
    """Whether a handler got a durable execution's raw input, which only the SDK's wrapper takes."""
    if hasattr(context, "lambda_context"):  # a DurableContext: the SDK's wrapper is outside
        return False
    if isinstance(event, Mapping):
        return "DurableExecutionArn" in event and "CheckpointToken" in event
    return hasattr(event, "durable_execution_arn") and hasattr(event, "checkpoint_token")


def failed_execution(handler: Callable[..., Any]) -> Any:
    """One clear line, and the SDK's answer for a failed execution, which is not retried."""
    message = f"{getattr(handler, '__qualname__', handler)!r} got a durable execution's input: "
    error = TypeError(message + _RIGHT_ORDER)
    logger.error("%s", error)
    try:
        from aws_durable_execution_sdk_python import lambda_service as sdk  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise error from None
    error_object = sdk.ErrorObject.from_exception(error)
    return sdk.DurableExecutionInvocationOutput(
        sdk.InvocationStatus.FAILED, error=error_object
    ).to_dict()
