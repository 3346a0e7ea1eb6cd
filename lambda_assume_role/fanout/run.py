"""The run loop: start what fits, yield outcomes as they come, account for every target.

`FanOutRun` keeps three places a target can be (read ahead, in flight, given
back) and, when iteration ends for any reason (done, deadline, the caller
stopped iterating, the targets iterable raised), lists whatever is still in
them in `FanOutRun.remaining`, then reads the rest of the targets into it as
well: every target is yielded once or listed once. Targets are read only
when a worker is free (plus one account's regions), so a lazy iterable is
read ahead by a bounded amount, and nothing is kept once yielded.

Time is read on the run's `Clock` (`lambda_assume_role.fanout.clock`): a
target starts only while the time left before the stop line exceeds the
95th percentile of the targets' durations so far, and the run waits for its
workers' reports up to the stop line, then gives up what is still in flight.

Example:
    A run whose `remaining` is read before it is iterated ends at once, having
    asked nothing of anyone:

    >>> import boto3
    >>> from lambda_assume_role.fanout import fan_out
    >>> parent = boto3.Session(aws_access_key_id="AKIDEXAMPLE",
    ...                        aws_secret_access_key="example", region_name="us-east-1")
    >>> run = fan_out(lambda session, target: None, ["111111111111"], parent=parent)
    >>> run.remaining, run.summary.reason
    ([{'account_id': '111111111111', 'region': 'us-east-1'}], 'closed')
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Generator, Iterator
from types import TracebackType

from lambda_assume_role.fanout.accounts import Account
from lambda_assume_role.fanout.regions import RegionPlan, expand
from lambda_assume_role.fanout.summary import (
    FanOutSummary,
    StopReason,
    log_failure,
    log_summary,
    p95,
)
from lambda_assume_role.fanout.targets import Outcome, Phase, Target, TargetSpec
from lambda_assume_role.fanout.worker import (
    Engine,
    Expanded,
    GivenBack,
    Report,
    Reports,
    Task,
    serve,
)

__all__ = ["FanOutRun"]

_SAMPLE = 256  # durations kept for the running p95
_END = object()


class FanOutRun:
    """A fan-out run: iterate it for outcomes, then read `remaining` and `summary`.

    Made by `fan_out`; nothing starts until iteration does. Iterating it more
    than once continues the same run.

    Ending a run early (``break`` then `close`, leaving a ``with`` block, or
    reading `remaining` or `summary` before the loop ended) gives up the
    targets in flight and lists every unfinished target, read or not, in
    `remaining`.
    """

    def __init__(
        self,
        engine: Engine,
        source: Iterator[TargetSpec],
        *,
        regions: RegionPlan,
        max_workers: int,
        started: float,
        stop_at: float | None,
    ) -> None:
        self._engine = engine
        self._source: Iterator[TargetSpec] | None = source
        self._regions = regions
        self._max_workers = max_workers
        self._started = started
        self._stop_at = stop_at
        self._clock = engine.clock
        self._closed = engine.closed
        self._reports = Reports()
        self._tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._threads = 0
        self._accounts: dict[str, Account] = {}
        self._pending: deque[tuple[Target, Account]] = deque()
        self._in_flight: set[Task] = set()
        self._given_back: list[Target] = []
        self._durations: deque[float] = deque(maxlen=_SAMPLE)
        self._p95 = 0.0
        self._counts: dict[Phase | None, int] = {None: 0, "assume": 0, "work": 0}
        self._remaining: list[dict[str, str | None]] | None = None
        self._summary: FanOutSummary | None = None
        self._generator = self._iterate()

    # -- the public surface --------------------------------------------------------------

    def __iter__(self) -> Iterator[Outcome]:
        return self._generator

    def __enter__(self) -> FanOutRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the run now: in-flight targets are given up; unfinished ones go to `remaining`."""
        if self._summary is not None:
            return
        self._generator.close()
        if self._summary is None:  # never started: the generator's body never ran
            self._finish("closed")

    @property
    def remaining(self) -> list[dict[str, str | None]]:
        """Targets not finished, as ``{"account_id", "region"}`` dicts, to resume with.

        Complete once iteration has ended; reading it before then ends the
        run (see `close`). ``region`` is None only for accounts whose
        regions were never listed (``regions="enabled"``).
        """
        if self._remaining is None:
            self.close()
        assert self._remaining is not None
        return self._remaining

    @property
    def summary(self) -> FanOutSummary:
        """Counts by phase, seconds used and the remaining count; reading it ends the run."""
        if self._summary is None:
            self.close()
        assert self._summary is not None
        return self._summary

    def __repr__(self) -> str:
        state = self._summary.reason if self._summary is not None else "running"
        return f"FanOutRun({state}, in_flight={len(self._in_flight)})"

    # -- the loop ------------------------------------------------------------------------

    def _iterate(self) -> Generator[Outcome, None, None]:
        reason: StopReason = "error"
        try:
            while True:
                self._start_what_fits()
                if not self._in_flight:
                    finished = self._exhausted() and not self._given_back
                    reason = "done" if finished else "deadline"
                    return
                received = self._next_report()
                if received is None:
                    reason = "deadline"
                    return
                outcome = self._settle(*received)
                del received
                if outcome is not None:
                    yield outcome
                    del outcome
        except GeneratorExit:
            reason = "closed"
            raise
        finally:
            self._finish(reason)

    def _next_report(self) -> tuple[Task, Report] | None:
        """The next report from a worker, or None once the stop line is reached first."""
        arrived = self._reports.arrived
        while True:
            # Cleared before looking: a report put after the look sets it again.
            arrived.clear()
            left = None if self._stop_at is None else self._stop_at - self._clock.monotonic()
            if left is not None and left <= 0:
                return None
            received = self._reports.take()
            if received is not None:
                return received
            self._clock.wait(arrived, left)

    def _start_what_fits(self) -> None:
        while len(self._in_flight) < self._max_workers and self._may_start():
            item = self._next_pending()
            if item is None:
                return
            target, account = item
            task = Task(target, account, target.region is None, contextvars.copy_context())
            self._in_flight.add(task)
            if self._threads < min(self._max_workers, len(self._in_flight)):
                self._threads += 1
                threading.Thread(
                    target=serve,
                    args=(self._engine, self._tasks, self._reports),
                    name=f"lambda-assume-role-fan-out-{self._threads}",
                    daemon=True,
                ).start()
            self._tasks.put(task)

    def _may_start(self) -> bool:
        """Whether a target started now is expected to end before the stop line."""
        return self._stop_at is None or self._clock.monotonic() + self._p95 < self._stop_at

    def _next_pending(self) -> tuple[Target, Account] | None:
        while not self._pending:
            spec = self._read()
            if spec is None:
                return None
            for target in self._expand(Target.parse(spec)):
                self._pending.append((target, self._hold(target.account_id)))
        return self._pending.popleft()

    def _read(self) -> TargetSpec | None:
        if self._source is None:
            return None
        spec = next(self._source, _END)
        if spec is _END:
            self._source = None
            return None
        return spec  # type: ignore[return-value]

    def _exhausted(self) -> bool:
        return self._source is None and not self._pending

    def _expand(self, target: Target) -> list[Target]:
        return expand(target, self._regions, default=self._engine.home_region)

    def _hold(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = Account(account_id)
        account.refs += 1
        return account

    def _release(self, account: Account) -> None:
        account.refs -= 1
        if account.refs <= 0 and self._accounts.get(account.account_id) is account:
            del self._accounts[account.account_id]

    def _settle(self, task: Task, report: Report) -> Outcome | None:
        self._in_flight.discard(task)
        account = task.account
        if isinstance(report, Expanded):
            # Next in line, ahead of unread input, while the account's credentials are fresh.
            for target in reversed(report.targets):
                account.refs += 1
                self._pending.appendleft((target, account))
            self._release(account)
            return None
        self._release(account)
        if isinstance(report, GivenBack):
            self._given_back.append(task.target)
            return None
        self._counts[report.phase] += 1
        if report.phase != "assume" or not task.listing:
            self._durations.append(report.seconds)
            self._p95 = p95(self._durations)
        if report.error is not None:
            log_failure(report)
        return report

    def _finish(self, reason: StopReason) -> None:
        if self._summary is not None:
            return
        self._closed.set()
        for _ in range(self._threads):
            self._tasks.put(None)
        given_up = len(self._in_flight)
        remaining = [target.as_dict() for target in self._given_back]
        remaining += [task.target.as_dict() for task in self._in_flight]
        remaining += [target.as_dict() for target, _ in self._pending]
        self._in_flight.clear()
        self._pending.clear()
        self._accounts.clear()
        try:
            while (spec := self._read()) is not None:
                remaining += [t.as_dict() for t in self._expand(Target.parse(spec))]
        finally:
            self._remaining = remaining
            self._summary = FanOutSummary(
                succeeded=self._counts[None],
                failed_assume=self._counts["assume"],
                failed_work=self._counts["work"],
                remaining=len(remaining),
                given_up=given_up,
                seconds=round(self._clock.monotonic() - self._started, 3),
                reason=reason,
            )
            log_summary(self._summary)
