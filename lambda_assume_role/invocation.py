"""The current invocation: its Lambda context, its deadline and the time left.

A decorated handler binds what it was given here for the duration of the
invocation (`bind` / `unbind`, a `contextvars.ContextVar`, so concurrent
asyncio tasks and threads that copy their context each see their own). When a
refresh needs STS, the fetcher asks `remaining_seconds` and bounds its
timeouts by it, so a hung STS gives a clear error naming the role before
Lambda kills the invocation.

This is the one place that reads an invocation's time:

* `lambda_context_of` finds the Lambda context in what a handler was given: a
  Lambda context itself, an object that carries one as ``.lambda_context`` (a
  durable function's ``DurableContext``), or nothing;
* `remaining_seconds` reads the bound one;
* `Countdown` is a Lambda-context-like deadline on an injectable clock, for
  fan-out's workers, the emulators and the tests;
* `end_of` turns ``deadline=`` / ``context=`` arguments into one end time.

A durable function's branch threads: the durable execution SDK runs
``context.map`` and ``context.parallel`` branches in threads of its own, which
do not inherit the handler's context variables. So binding a context that
carries a Lambda context (a ``DurableContext``) also makes it the process's
*durable invocation*, which a thread that has bound nothing of its own (a
branch, or any other thread the user's code starts) reads as its deadline,
while exactly one such invocation is bound in the process: Lambda serves one
invocation per process at a time (each Managed Instances worker is a process).
With two bound at once (two executions served on threads of one process),
an unbound thread has no deadline, as before.

Binding costs one ``ContextVar.set`` (and, for a ``DurableContext``, a lock
and a dict entry); the remaining time is only read when an STS call is about
to be made, never on a warm invocation.

Example:
    >>> clock = iter([0.0, 0.0, 0.5]).__next__
    >>> remaining_seconds() is None
    True
    >>> token = bind(Countdown(4.5, clock=clock))
    >>> remaining_seconds(), remaining_seconds()
    (4.5, 4.0)
    >>> unbind(token)
    >>> remaining_seconds() is None
    True
"""

from __future__ import annotations

import contextvars
import datetime
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.refresh_policy import Clock, utc_now

__all__ = [
    "Countdown",
    "MonotonicClock",
    "bind",
    "bound",
    "current_context",
    "end_of",
    "lambda_context_of",
    "remaining_seconds",
    "unbind",
]

MonotonicClock = Callable[[], float]
"""Seconds on a clock that never jumps, such as `time.monotonic` (injectable in tests)."""

# What this thread or task bound: a Lambda context, None (bound to nothing), or
# _UNBOUND (it bound nothing, so it reads the process's durable invocation).
_UNBOUND: Any = object()
_context: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "lambda_assume_role_invocation_context", default=_UNBOUND
)

# The durable invocations bound now: by the id of the token that bound each, that
# token (kept alive, so its id is not reused) and its Lambda context. The lock
# keeps bind/unbind on several threads from losing an entry.
_durable_lock = threading.Lock()
_durable: dict[int, tuple[contextvars.Token[Any], Any]] = {}

_GETTER = "get_remaining_time_in_millis"


def _has_deadline(candidate: Any) -> bool:
    return callable(getattr(candidate, _GETTER, None))


def lambda_context_of(handed: Any) -> Any | None:
    """The Lambda context in what a handler was given, or None.

    ``handed`` may be a Lambda context (anything with
    ``get_remaining_time_in_millis()``), an object that carries one as
    ``.lambda_context`` (a durable function's ``DurableContext``), or anything
    else (None, a dict in a test), which has none.

    Example:
        >>> class Durable:
        ...     lambda_context = Countdown(3)
        >>> lambda_context_of(Durable()) is Durable.lambda_context
        True
        >>> lambda_context_of({"not": "a context"}) is None
        True
    """
    if handed is None:
        return None
    if _has_deadline(handed):
        return handed
    inner = getattr(handed, "lambda_context", None)
    return inner if _has_deadline(inner) else None


def bind(context: Any) -> contextvars.Token[Any]:
    """Bind ``context``'s Lambda context (`lambda_context_of`); returns a token for `unbind`.

    A context that carries its Lambda context (a ``DurableContext``) is also
    the process's durable invocation until `unbind`, for threads that bound
    nothing (see the module's docstring). Every `bind` needs its `unbind`.
    """
    found = lambda_context_of(context)
    token = _context.set(found)
    if found is not None and found is not context:
        with _durable_lock:
            _durable[id(token)] = (token, found)
    return token


def unbind(token: contextvars.Token[Any]) -> None:
    """Restore what was bound before `bind` returned ``token``."""
    if _durable:
        with _durable_lock:
            entry = _durable.get(id(token))
            if entry is not None and entry[0] is token:
                del _durable[id(token)]
    _context.reset(token)


def _durable_invocation() -> Any | None:
    """The Lambda context of the one durable invocation bound in the process, or None."""
    with _durable_lock:
        contexts = {id(context): context for _, context in _durable.values()}
    return next(iter(contexts.values())) if len(contexts) == 1 else None


@contextmanager
def bound(context: Any) -> Iterator[None]:
    """Bind ``context`` for the body of a ``with`` block (for code that is not a decorated handler).

    Example:
        >>> with bound(Countdown(2.0, clock=lambda: 0.0)):
        ...     remaining_seconds()
        2.0
    """
    token = bind(context)
    try:
        yield
    finally:
        unbind(token)


def current_context() -> Any | None:
    """The Lambda context bound to the current invocation, or None.

    In a thread that bound nothing, the process's durable invocation, if there is one.
    """
    context = _context.get()
    return _durable_invocation() if context is _UNBOUND else context


def remaining_seconds() -> float | None:
    """Seconds left in the current invocation, or None outside one (or with no usable context)."""
    context = current_context()
    if context is None:
        return None
    try:
        return float(getattr(context, _GETTER)()) / 1000.0
    except (TypeError, ValueError, AttributeError):
        return None


class Countdown:
    """A deadline that looks like a Lambda context: ``get_remaining_time_in_millis()``.

    Args:
        seconds: Seconds from now (on ``clock``) to the deadline.
        clock: A monotonic clock; `time.monotonic` by default.

    Example:
        >>> now = [100.0]
        >>> countdown = Countdown(3, clock=lambda: now[0])
        >>> now[0] += 1.25
        >>> countdown.get_remaining_time_in_millis(), countdown.remaining()
        (1750, 1.75)
        >>> now[0] += 5
        >>> countdown.get_remaining_time_in_millis()
        0
    """

    def __init__(self, seconds: float, *, clock: MonotonicClock = time.monotonic) -> None:
        self.clock = clock
        self.end = clock() + seconds

    @classmethod
    def until(cls, end: float, *, clock: MonotonicClock = time.monotonic) -> Countdown:
        """A countdown to ``end``, a time on ``clock``."""
        countdown = cls(0.0, clock=clock)
        countdown.end = end
        return countdown

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.end - self.clock())

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left, never negative (the Lambda context's method)."""
        return int(self.remaining() * 1000)

    def __repr__(self) -> str:
        return f"Countdown(remaining={self.remaining():.3f})"


def end_of(
    deadline: float | datetime.datetime | datetime.timedelta | None = None,
    context: Any = None,
    *,
    clock: MonotonicClock = time.monotonic,
    wall: Clock = utc_now,
) -> float | None:
    """The earliest end that ``deadline=`` and ``context=`` give, on ``clock``; None for none.

    With neither, the current invocation's (`remaining_seconds`) is used, if any.

    Args:
        deadline: Seconds from now, a `datetime.timedelta`, or an aware
            `datetime.datetime` (read against ``wall``).
        context: A Lambda context, or an object carrying one as
            ``.lambda_context`` (a durable function's ``DurableContext``).
        clock: The monotonic clock the end is measured on.
        wall: The wall clock an aware datetime is compared with.

    Raises:
        InvalidParameterError: ``deadline`` or ``context`` is of the wrong kind.

    Example:
        >>> end_of(deadline=2.5, clock=lambda: 10.0)
        12.5
        >>> end_of(deadline=60, context=Countdown(3, clock=lambda: 0.0), clock=lambda: 10.0)
        13.0
        >>> end_of(context=object())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: context must be a Lambda context ...
    """
    now = clock()
    ends: list[float] = []
    if deadline is not None:
        ends.append(now + _seconds_until(deadline, wall))
    if context is not None:
        lambda_context = lambda_context_of(context)
        if lambda_context is None:
            raise InvalidParameterError(
                "context must be a Lambda context (with get_remaining_time_in_millis()) or "
                f"carry one as .lambda_context (a DurableContext); got {type(context).__name__}"
            )
        ends.append(now + float(lambda_context.get_remaining_time_in_millis()) / 1000.0)
    if not ends:
        left = remaining_seconds()
        if left is not None:
            ends.append(now + left)
    return min(ends) if ends else None


def _seconds_until(deadline: Any, wall: Clock) -> float:
    if isinstance(deadline, datetime.datetime):
        if deadline.tzinfo is None or deadline.utcoffset() is None:
            raise InvalidParameterError(
                "deadline must be an aware datetime (with a timezone); got a naive one"
            )
        seconds = (deadline - wall()).total_seconds()
    elif isinstance(deadline, datetime.timedelta):
        seconds = deadline.total_seconds()
    elif isinstance(deadline, (int, float)) and not isinstance(deadline, bool):
        seconds = float(deadline)
    else:
        raise InvalidParameterError(
            "deadline must be seconds, a timedelta or an aware datetime; "
            f"got {type(deadline).__name__}"
        )
    if math.isnan(seconds):
        raise InvalidParameterError("deadline must be a number of seconds; got nan")
    return seconds
