"""Lambda contexts for tests: the emulator's `InvocationContext`, on a clock the test controls.

Tests use this one helper instead of classes of their own with a hard-coded
``get_remaining_time_in_millis``: the context has every attribute awslambdaric
gives a handler, and its deadline is `lambda_assume_role.invocation.Countdown`
(through `emulators.lambda_invoke.InvocationContext`), the library's own.

By default the clock stands still, so the time left is exactly ``seconds`` and
an assertion on it is exact; pass a `ManualClock` to move it, or
`time.monotonic` for a deadline that passes in real time.

Example:
    >>> from tests.support.clocks import ManualClock
    >>> clock = ManualClock()
    >>> context = lambda_context(4.5, function_name="orders", clock=clock)
    >>> context.get_remaining_time_in_millis(), context.function_name
    (4500, 'orders')
    >>> clock.advance(4)
    >>> context.get_remaining_time_in_millis()
    500
"""

from __future__ import annotations

from emulators.lambda_invoke import InvocationContext
from lambda_assume_role.invocation import MonotonicClock
from tests.support.clocks import ManualClock

__all__ = ["lambda_context"]


def lambda_context(
    seconds: float = 60.0,
    *,
    function_name: str = "fn",
    tenant_id: str | None = None,
    clock: MonotonicClock | None = None,
) -> InvocationContext:
    """A Lambda context with ``seconds`` left before its deadline.

    Args:
        seconds: Time left when it is made, on ``clock``.
        function_name: ``context.function_name`` (the ARN and log group follow it).
        tenant_id: ``context.tenant_id`` (Lambda's tenant isolation mode); None
            as for a function not in that mode.
        clock: The monotonic clock its countdown reads; None for one that stands
            still (the context's ``clock`` attribute, a `ManualClock`).
    """
    return InvocationContext(
        function_name,
        timeout=seconds,
        tenant_id=tenant_id,
        clock=ManualClock() if clock is None else clock,
    )
