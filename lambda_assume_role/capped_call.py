"""A whole-call cap: wait for a blocking call at most so long, then walk away from it.

botocore's ``read_timeout`` bounds each ``recv`` on the socket, not the call: a
server that answers ``200`` at once and then sends one byte a second holds the
caller for as long as it likes. `call_within` runs the call in a daemon thread
and waits for it at most ``cap`` seconds. At the cap the caller gets
`CallAbandonedError` and goes on; the abandoned call runs on in its thread until the
server finishes or botocore's own timeouts end it, and its result (or error) is
thrown away. At most `MAX_ABANDONED` abandoned calls may be running at once in
a process: past that, `call_within` refuses at once rather than start yet
another thread against a server that is hanging up everyone.

The call runs in a copy of the caller's context (`contextvars`), so what the
caller bound (the invocation, telemetry) is what the call sees.

Example:
    >>> call_within(5.0, lambda: 6 * 7)
    42
    >>> import threading
    >>> release = threading.Event()
    >>> call_within(0.01, release.wait)
    Traceback (most recent call last):
    ...
    lambda_assume_role.capped_call.CallAbandonedError: the call did not finish within 0.01 s
    >>> release.set()
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["MAX_ABANDONED", "CallAbandonedError", "abandoned_calls", "call_within"]

T = TypeVar("T")

MAX_ABANDONED = 8
"""How many abandoned calls may still be running in one process before new ones are refused."""

_lock = threading.Lock()
_abandoned = 0


class CallAbandonedError(TimeoutError):
    """The call did not finish within its cap (or too many earlier ones are still hanging)."""


def abandoned_calls() -> int:
    """How many abandoned calls are still running in this process."""
    return _abandoned


class _Outcome(Generic[T]):
    __slots__ = ("abandoned", "done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.abandoned = False
        self.value: T | None = None
        self.error: BaseException | None = None


def call_within(cap: float, call: Callable[[], T]) -> T:
    """``call()``'s result, or `CallAbandonedError` once ``cap`` seconds have passed.

    Args:
        cap: The most seconds to wait, > 0.
        call: What to run; its exception, if it raises in time, is raised here
            (the same object, with its traceback).

    Raises:
        CallAbandonedError: The cap passed first, or `MAX_ABANDONED` abandoned calls
            are still running.
    """
    global _abandoned  # noqa: PLW0603
    if _abandoned >= MAX_ABANDONED:
        raise CallAbandonedError(
            f"{_abandoned} earlier calls that passed their cap are still running; "
            "not starting another"
        )
    outcome: _Outcome[T] = _Outcome()
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=_run, args=(context, call, outcome), name="lambda-assume-role-call", daemon=True
    )
    thread.start()
    if not outcome.done.wait(cap):
        with _lock:
            # Checked again under the lock: the call may have ended just now.
            if not outcome.done.is_set():
                outcome.abandoned = True
                _abandoned += 1
        if outcome.abandoned:
            raise CallAbandonedError(f"the call did not finish within {cap:g} s")
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[return-value]


def _run(context: contextvars.Context, call: Callable[[], T], outcome: _Outcome[T]) -> None:
    global _abandoned  # noqa: PLW0603
    try:
        outcome.value = context.run(call)
    except BaseException as error:  # handed to the caller, or dropped if abandoned
        outcome.error = error
    finally:
        with _lock:
            outcome.done.set()
            if outcome.abandoned:
                _abandoned -= 1
                outcome.value = outcome.error = None
