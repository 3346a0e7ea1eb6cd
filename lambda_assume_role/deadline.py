"""The old home of the invocation's deadline: `lambda_assume_role.invocation` is its home now.

Kept so that ``lambda_assume_role.deadline.invocation(context)`` and
``lambda_assume_role.deadline.remaining_seconds()``, which earlier releases
documented, keep working.

Example:
    >>> from lambda_assume_role.invocation import Countdown
    >>> with invocation(Countdown(2.0, clock=lambda: 0.0)):
    ...     remaining_seconds()
    2.0
"""

from __future__ import annotations

from lambda_assume_role.invocation import bind, remaining_seconds, unbind
from lambda_assume_role.invocation import bound as invocation

__all__ = ["bind", "invocation", "remaining_seconds", "unbind"]
