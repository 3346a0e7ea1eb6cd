"""What a fan-out's worker threads do: take a task, run it, report back.

A task is one target: get the account's session (`AccountSessions`), then,
for a target without a region under ``regions="enabled"``, list the account's
regions (the report is the targets they make); otherwise run ``work`` in the
target's region. Every task ends in exactly one report: an `Outcome`, an
`Expanded` listing, or `GivenBack` when the stop line left no time for its
AssumeRole. A worker runs with the run's deadline bound as its invocation's
(`lambda_assume_role.invocation`), so the STS calls our library makes in it
end by the stop line; once the run has ended, its reports are dropped.

Example:
    >>> reports = Reports()
    >>> reports.take() is None, reports.arrived.is_set()
    (True, False)
    >>> task = Task(Target("111111111111", "eu-west-1"), Account("111111111111"), False,
    ...             contextvars.copy_context())
    >>> reports.put(task, GivenBack())
    >>> reports.arrived.is_set(), reports.take() == (task, GivenBack())
    (True, True)
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from lambda_assume_role import invocation
from lambda_assume_role.errors import AssumeRoleTimeoutError
from lambda_assume_role.fanout.accounts import Account, AccountFailedError, AccountSessions
from lambda_assume_role.fanout.clock import Clock
from lambda_assume_role.fanout.regions import enabled_regions
from lambda_assume_role.fanout.targets import Outcome, Target

if TYPE_CHECKING:
    from lambda_assume_role.assume import AssumedRoleSession

__all__ = ["Engine", "Expanded", "GivenBack", "Report", "Reports", "Task", "Work", "serve"]

Work = Callable[["AssumedRoleSession", Target], Any]
"""``work(session, target) -> value``: the session is in ``target.region``."""


class Task:
    """A target in flight; ``listing``: find the account's enabled regions first.

    The run's small records are plain classes and NamedTuples, not dataclasses,
    which cost about half a millisecond each to create at import.
    """

    __slots__ = ("account", "context", "listing", "target")

    def __init__(
        self, target: Target, account: Account, listing: bool, context: contextvars.Context
    ) -> None:
        self.target = target
        self.account = account
        self.listing = listing
        self.context = context


class Expanded(NamedTuple):
    """A listing task's answer: the account's targets, one per enabled region."""

    targets: tuple[Target, ...]


class GivenBack(NamedTuple):
    """The deadline refused the target's AssumeRole: it goes to ``remaining``."""


Report = Outcome | Expanded | GivenBack


class Reports:
    """The workers' reports to the run, with their tasks: a queue, and an event set on every put.

    The run waits on ``arrived`` with its clock (`Clock.wait`), which a test's
    clock can do where it could not wait on a queue.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Task, Report]] = queue.SimpleQueue()
        self.arrived = threading.Event()

    def put(self, task: Task, report: Report) -> None:
        """Queue ``(task, report)``, then set ``arrived``."""
        self._queue.put((task, report))
        self.arrived.set()

    def take(self) -> tuple[Task, Report] | None:
        """The oldest report, or None when there is none (never blocks)."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


class Engine:
    """What the workers run: the account's session, then ``work``. Immutable after init.

    Args:
        work: The caller's ``work(session, target)``.
        accounts: The run's per-account sessions.
        home_region: The parent's region, where regions are listed.
        deadline: Bound as each task's invocation deadline (a Lambda-context-
            like countdown to the stop line plus the deadline margin), or None.
        clock: The run's clock: an outcome's seconds are measured on it.
        closed: Set when the run has ended: reports are dropped from then on.
    """

    def __init__(
        self,
        *,
        work: Work,
        accounts: AccountSessions,
        home_region: str,
        deadline: invocation.Countdown | None,
        clock: Clock,
        closed: threading.Event,
    ) -> None:
        self.work = work
        self.accounts = accounts
        self.home_region = home_region
        self.deadline = deadline
        self.clock = clock
        self.closed = closed

    def run(self, task: Task) -> Report:
        """Run one task in the worker's thread, with the run's deadline bound."""
        token = invocation.bind(self.deadline) if self.deadline is not None else None
        try:
            return self._run(task)
        finally:
            if token is not None:
                invocation.unbind(token)

    def _run(self, task: Task) -> Report:
        started = self.clock.monotonic()
        target = task.target
        try:
            base = self.accounts.session(task.account, target)
            if task.listing:
                home = self.accounts.in_region(base, self.home_region)
                regions = enabled_regions(home)
                return Expanded(tuple(Target(target.account_id, r) for r in regions))
            assert target.region is not None
            session = self.accounts.in_region(base, target.region)
        except AssumeRoleTimeoutError:
            return GivenBack()
        except AccountFailedError as failed:
            return Outcome(target, error=failed.error, phase="assume", seconds=self._since(started))
        except Exception as error:
            return Outcome(target, error=error, phase="assume", seconds=self._since(started))
        del base
        try:
            value = self.work(session, target)
        except BaseException as error:  # a worker thread reports everything
            return Outcome(target, error=error, phase="work", seconds=self._since(started))
        return Outcome(target, value=value, seconds=self._since(started))

    def _since(self, started: float) -> float:
        return self.clock.monotonic() - started


def serve(
    engine: Engine,
    tasks: queue.SimpleQueue[Task | None],
    reports: Reports,
) -> None:
    """A worker thread: run tasks until told to stop; drop reports once the run has ended."""
    while (task := tasks.get()) is not None:
        try:
            report = task.context.run(engine.run, task)
        except BaseException as error:  # the run must hear from every task
            report = Outcome(task.target, error=error, phase="assume")
        if not engine.closed.is_set():
            reports.put(task, report)
        del task, report
