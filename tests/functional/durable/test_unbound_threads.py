"""Which deadline a thread that bound nothing reads: the rule behind durable branches.

No durable SDK here (these run on the botocore floor too): a ``DurableContext``
is anything that carries its Lambda context as ``.lambda_context``.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from lambda_assume_role import invocation
from lambda_assume_role.invocation import Countdown, bound


def durable(seconds: float) -> Any:
    return SimpleNamespace(lambda_context=Countdown(seconds, clock=lambda: 0.0))


def in_a_new_thread(bind: Any = None) -> float | None:
    """``remaining_seconds()`` in a fresh thread (no context variables inherited)."""
    seen: list[float | None] = []

    def body() -> None:
        if bind is None:
            seen.append(invocation.remaining_seconds())
        else:
            with bound(bind):
                seen.append(invocation.remaining_seconds())

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return seen[0]


def test_a_thread_that_bound_nothing_reads_the_one_durable_invocation() -> None:
    context = durable(2.0)
    with bound(context):
        assert in_a_new_thread() == 2.0
        with bound(context):  # bound twice (a decorator, then deadline.invocation): still one
            assert in_a_new_thread() == 2.0
        assert in_a_new_thread() == 2.0
    assert in_a_new_thread() is None


def test_a_thread_that_bound_its_own_deadline_keeps_it() -> None:
    with bound(durable(2.0)):
        assert in_a_new_thread(Countdown(7.0, clock=lambda: 0.0)) == 7.0
        assert in_a_new_thread(SimpleNamespace()) is None  # bound to nothing, on purpose


def test_two_durable_invocations_at_once_leave_an_unbound_thread_without_a_deadline() -> None:
    with bound(durable(2.0)):
        with bound(durable(3.0)):
            assert invocation.remaining_seconds() == 3.0
            assert in_a_new_thread() is None
        assert in_a_new_thread() == 2.0


def test_a_plain_lambda_context_stays_in_its_own_thread() -> None:
    with bound(Countdown(2.0, clock=lambda: 0.0)):
        assert invocation.remaining_seconds() == 2.0
        assert in_a_new_thread() is None
