"""The current invocation's deadline: no STS call may outlive the Lambda invocation.

A decorated handler binds its Lambda context here for the duration of the
invocation (`bind` / `unbind`, a `contextvars.ContextVar`, so concurrent
asyncio tasks and threads that copy their context each see their own). When a
refresh needs STS, the fetcher asks `remaining_seconds` and bounds its
timeouts by it, so a hung STS gives a clear error naming the role before
Lambda kills the invocation.

Binding costs one ``ContextVar.set``; the remaining time is only read when an
STS call is about to be made, never on a warm invocation.

Example:
    >>> class Context:
    ...     def get_remaining_time_in_millis(self) -> int:
    ...         return 4500
    >>> remaining_seconds() is None
    True
    >>> token = bind(Context())
    >>> remaining_seconds()
    4.5
    >>> unbind(token)
    >>> remaining_seconds() is None
    True
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["bind", "invocation", "remaining_seconds", "unbind"]

_context: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "lambda_assume_role_invocation_context", default=None
)


def bind(context: Any) -> contextvars.Token[Any]:
    """Make ``context`` (a Lambda context, or None) the current invocation's; returns a token."""
    return _context.set(context)


def unbind(token: contextvars.Token[Any]) -> None:
    """Restore what was bound before `bind` returned ``token``."""
    _context.reset(token)


@contextmanager
def invocation(context: Any) -> Iterator[None]:
    """Bind ``context`` for the body of a ``with`` block (for code that is not a decorated handler).

    Example:
        >>> with invocation(None):
        ...     remaining_seconds() is None
        True
    """
    token = bind(context)
    try:
        yield
    finally:
        unbind(token)


def remaining_seconds() -> float | None:
    """Seconds left in the current invocation, or None outside one (or with no usable context).

    Reads ``context.get_remaining_time_in_millis()``; a context without it
    (tests, a plain dict) means "no deadline".
    """
    context = _context.get()
    if context is None:
        return None
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(getter):
        return None
    try:
        return float(getter()) / 1000.0
    except (TypeError, ValueError):
        return None
