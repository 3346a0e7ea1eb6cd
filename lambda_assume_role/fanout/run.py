"""The run loop: start what fits, yield outcomes as they come, account for every target.

`FanOutRun` keeps three places a target can be (read ahead, in flight, given
back) and, when iteration ends for any reason (done, deadline, the caller
stopped iterating, the targets iterable raised), lists whatever is still in
them in `FanOutRun.remaining`, then reads the rest of the targets into it as
well: every target is yielded once or listed once. Targets are read only
when a worker is free (plus one account's regions), so a lazy iterable is
read ahead by a bounded amount, and nothing is kept once yielded.

An item of a lazily read iterable that is not a target is an outcome of its
own (phase ``"target"``), yielded as it is read, even while the rest of the
input is being listed after the stop line; only a run the caller closed
early can no longer yield, and counts such items in
`FanOutSummary.malformed_at_close` instead. When the iterable raises,
nothing more is read from it: the targets it gave run to their outcomes (or
to ``remaining``) as usual, then its exception is raised, once, at the end of
iteration (or by `FanOutRun.close` when the caller closed the run first).

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

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.fanout.accounts import Account
from lambda_assume_role.fanout.regions import RegionPlan, expand
from lambda_assume_role.fanout.summary import (
    FanOutSummary,
    StopReason,
    log_failure,
    log_summary,
    p95,
)
from lambda_assume_role.fanout.targets import Outcome, Phase, Target, TargetSpec, read_target
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
    `remaining`. If the targets iterable raised and iteration has not raised
    its exception yet, ending the run raises it, once.
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
        self._counts: dict[Phase | None, int] = {None: 0, "target": 0, "assume": 0, "work": 0}
        self._read_count = 0
        self._unread: list[Target] = []  # read after the loop ended, for remaining
        self._malformed_at_close = 0
        self._source_error: Exception | None = None
        self._unraised: Exception | None = None  # the source's error, until the caller has it
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
        """End the run now: in-flight targets are given up; unfinished ones go to `remaining`.

        Raises:
            Exception: What the targets iterable raised, if iteration has not
                raised it already (once; the run is ended all the same).
        """
        if self._summary is not None:
            return
        self._generator.close()
        if self._summary is None:  # never started: the generator's body never ran
            self._finish("closed")
        self._raise_source_error()

    @property
    def remaining(self) -> list[dict[str, str | None]]:
        """Targets not finished, as ``{"account_id", "region"}`` dicts, to resume with.

        Complete once iteration has ended; reading it before then ends the
        run (see `close`). ``region`` is None only for accounts whose
        regions were never listed (``regions="enabled"``). Items that were
        not targets are never here: each was an outcome in phase
        ``"target"`` (or, in a run closed early, is counted in
        `FanOutSummary.malformed_at_close`).
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
                refused = self._start_what_fits()
                if refused is not None:
                    yield refused
                    del refused
                    continue
                if not self._in_flight:
                    finished = self._exhausted() and not self._given_back
                    reason = "done" if finished else "deadline"
                    break
                received = self._next_report()
                if received is None:
                    reason = "deadline"
                    break
                outcome = self._settle(*received)
                del received
                if outcome is not None:
                    yield outcome
                    del outcome
            # Whatever is in flight is given up: the workers may stop now (a back-off pause
            # ends). The input not read yet goes to remaining; an item of it that is not a
            # target is an outcome still, yielded while the caller is listening.
            self._closed.set()
            while (item := self._read_next()) is not None:
                if isinstance(item, Outcome):
                    yield self._refuse(item)
                else:
                    self._unread += self._expand(item)
                del item
            self._raise_source_error()
        except GeneratorExit:
            reason = "closed"
            raise
        finally:
            self._finish(reason)

    def _raise_source_error(self) -> None:
        error, self._unraised = self._unraised, None
        if error is not None:
            raise error

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

    def _start_what_fits(self) -> Outcome | None:
        """Start targets while workers are free and time allows.

        Stops at an item that is not a target and returns its outcome, to be
        yielded before anything more is read: a long run of bad items is read
        one at a time, like good ones.
        """
        while len(self._in_flight) < self._max_workers and self._may_start():
            item = self._next_pending()
            if item is None:
                return None
            if isinstance(item, Outcome):
                return self._refuse(item)
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
        return None

    def _may_start(self) -> bool:
        """Whether a target started now is expected to end before the stop line."""
        return self._stop_at is None or self._clock.monotonic() + self._p95 < self._stop_at

    def _next_pending(self) -> tuple[Target, Account] | Outcome | None:
        while not self._pending:
            item = self._read_next()
            if item is None or isinstance(item, Outcome):
                return item
            for target in self._expand(item):
                self._pending.append((target, self._hold(target.account_id)))
        return self._pending.popleft()

    def _read_next(self) -> Target | Outcome | None:
        """The next item of the targets, parsed, or an outcome in phase ``"target"`` if it is
        not one; None at the end, and from the moment the iterable raises (kept to raise)."""
        source = self._source
        if source is None:
            return None
        try:
            spec = next(source, _END)
        except Exception as error:
            # A source that raised may not be read again (a generator has ended; an iterator
            # is in no known state): what it gave before still runs.
            self._source = None
            self._source_error = self._unraised = error
            return None
        except BaseException:
            self._source = None
            raise
        if spec is _END:
            self._source = None
            return None
        index, self._read_count = self._read_count, self._read_count + 1
        try:
            return read_target(spec, f"targets item {index}")
        except InvalidParameterError as error:
            return Outcome(None, error=error, phase="target")

    def _refuse(self, outcome: Outcome) -> Outcome:
        self._counts["target"] += 1
        log_failure(outcome)
        return outcome

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
        remaining += [target.as_dict() for target in self._unread]
        self._in_flight.clear()
        self._pending.clear()
        self._unread.clear()
        self._accounts.clear()
        try:
            # Only a run closed early (or interrupted) gets here with input unread: too late
            # for outcomes.
            while (item := self._read_next()) is not None:
                if isinstance(item, Outcome):
                    self._malformed_at_close += 1
                    log_failure(item)
                else:
                    remaining += [t.as_dict() for t in self._expand(item)]
        finally:
            self._remaining = remaining
            self._summary = FanOutSummary(
                succeeded=self._counts[None],
                failed_assume=self._counts["assume"],
                failed_work=self._counts["work"],
                failed_target=self._counts["target"],
                remaining=len(remaining),
                given_up=given_up,
                malformed_at_close=self._malformed_at_close,
                seconds=round(self._clock.monotonic() - self._started, 3),
                reason="error" if self._source_error is not None else reason,
            )
            log_summary(self._summary)
