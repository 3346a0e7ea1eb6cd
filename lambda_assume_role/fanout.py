"""Fan-out: one function in many accounts and regions, inside a deadline, in bounded memory.

`fan_out` runs ``work(session, target)`` for every target (an account, or an
account and a region) with a refreshing assumed-role session in that account
and region, and yields an `Outcome` per target as each finishes. What it
guarantees, and how:

* **Exactly once.** Every target is yielded as one outcome or listed in
  `FanOutRun.remaining`, never both, never neither. The run keeps three
  places a target can be (read ahead, in flight, given back) and, when it
  ends for any reason (done, deadline, the caller stopped iterating), lists
  whatever is still in them, then reads the rest of the targets into
  ``remaining`` as well. ``remaining`` holds JSON-ready dicts that `fan_out`
  accepts as targets, so feeding it back finishes the job.
* **The deadline.** ``deadline=`` (seconds or an aware datetime), ``context=``
  (a Lambda context) or, inside a decorated handler, the invocation being
  served sets an end. Nothing new starts once the time left is less than
  ``reserve`` plus the 95th percentile of the targets' durations so far;
  iteration ends by the end less ``reserve``. Work still in flight then is
  *given up*: its targets go to ``remaining`` and its results are dropped,
  never yielded later. Python cannot stop a thread, so a given-up thread runs
  on: its ``work`` continues until it returns (make it idempotent, and bound
  its own calls); the STS calls our library makes in it (the account's
  AssumeRole, a refresh) end by the stop line, because every worker runs
  with the stop line plus `RefreshWindows.deadline_margin` bound as its
  invocation's deadline (`lambda_assume_role.deadline`, which the fetcher
  obeys; ``work`` can read it too); then the thread exits. An AssumeRole
  that the stop line leaves no time for is not attempted (the target goes
  to ``remaining``). Inside Lambda, a thread still running when the handler
  returns is frozen with the environment and resumes in a later invocation.
* **One AssumeRole per account,** however many regions. An account's first
  target assumes the role in the parent's region (the regional STS endpoint:
  botocore's default today; the 1.34 floor defaults to ``legacy``, so set
  ``AWS_STS_REGIONAL_ENDPOINTS=regional`` there for opt-in regions), and each
  target gets `AssumedRoleSession.in_region`, which
  shares that one refreshing credential. Targets of one account that are in
  the run at the same time (an account expanded to regions, or neighbours in
  the input) share it; an account whose assume failed fails all its targets
  with that one error, without asking STS again.
* **Bounded memory.** Outcomes are streamed and not kept. At most
  ``max_workers`` targets are in flight; targets are read from the iterable
  only when a worker is free (plus one account's regions), so a lazy
  iterable of any length is read ahead by a bounded amount. Sessions are
  built when a target starts; a target's session is dropped when it is done,
  an account's credentials when its last target in the run is done.
* **Throttling and faults.** A throttled (or 5xx) AssumeRole is retried with
  full-jitter exponential backoff, within the deadline, beyond botocore's own
  attempts (a target still throttled at the stop line goes to ``remaining``).
  AccessDenied, a missing role or an unreachable STS is an outcome
  with phase ``"assume"``; an exception from ``work`` one with phase
  ``"work"``. Neither stops the run. An AssumeRole refused because the
  deadline is too close (`AssumeRoleTimeoutError`) is no failure of the
  target: it goes to ``remaining``.
* **Opt-in regions.** ``regions="enabled"`` asks each account once per run
  which regions it has enabled (``ec2:DescribeRegions``, which lists only
  those; ``account:ListRegions`` if that is refused) and sends nothing to any
  other region.
* **Observability.** One WARNING per failed target and one INFO summary per
  run on the ``lambda_assume_role`` logger, with ``extra=`` fields that
  Powertools' Logger carries as keys. No secret is logged.

Example:
    >>> def bucket_count(session, target):
    ...     return len(session.client("s3").list_buckets()["Buckets"])
    >>> run = fan_out(bucket_count, ["111111111111", "222222222222"],
    ...               regions=["us-east-1", "eu-west-1"], deadline=60)  # doctest: +SKIP
    >>> for outcome in run:  # doctest: +SKIP
    ...     print(outcome.target, outcome.value if outcome.ok else outcome.phase)
    111111111111/eu-west-1 3
    222222222222/us-east-1 assume
    ...
    >>> run.summary.as_dict()  # doctest: +SKIP
    {'succeeded': 2, 'failed_assume': 2, 'failed_work': 0, 'remaining': 0, ...}
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import math
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from lambda_assume_role import deadline as invocation
from lambda_assume_role.arns import get_role_arn
from lambda_assume_role.errors import (
    AssumeRoleError,
    AssumeRoleTimeoutError,
    InvalidParameterError,
)
from lambda_assume_role.parameters import check_region_name
from lambda_assume_role.refresh_policy import DEFAULT_WINDOWS
from lambda_assume_role.retry import RETRYABLE_CODES
from lambda_assume_role.targets import Outcome, Phase, Target

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.assume import AssumedRoleSession

__all__ = ["FanOutRun", "FanOutSummary", "fan_out"]

logger = logging.getLogger("lambda_assume_role")

Work = Callable[["AssumedRoleSession", Target], Any]
"""``work(session, target) -> value``: the session is in ``target.region``."""

TargetSpec = str | Target | Mapping[str, Any]
"""An account id, a `Target`, or a mapping such as an item of `FanOutRun.remaining`."""

StopReason = Literal["done", "deadline", "closed", "error"]

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"

# STS error codes worth another AssumeRole attempt: throttling and its own faults.
_RETRYABLE_CODES = RETRYABLE_CODES
_RETRIES = 6  # beyond botocore's own attempts
_BACKOFF_BASE = 0.2  # seconds; full jitter: uniform(0, min(cap, base * 2**n))
_BACKOFF_CAP = 5.0
_SAMPLE = 256  # durations kept for the running p95
_ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})
_END = object()


@dataclass(frozen=True)
class FanOutSummary:
    """What a run did, once its iteration has ended (`FanOutRun.summary`).

    Attributes:
        succeeded: Outcomes whose ``work`` returned.
        failed_assume: Outcomes with phase ``"assume"`` (no credentials, or no
            region list for ``regions="enabled"``).
        failed_work: Outcomes with phase ``"work"``.
        remaining: Targets in `FanOutRun.remaining`.
        given_up: Of those, how many were in flight when the run ended.
        seconds: From the `fan_out` call to the end of iteration.
        reason: Why iteration ended: ``"done"`` (no target left),
            ``"deadline"``, ``"closed"`` (the caller stopped early) or
            ``"error"`` (the targets iterable raised).
    """

    succeeded: int
    failed_assume: int
    failed_work: int
    remaining: int
    given_up: int
    seconds: float
    reason: StopReason

    @property
    def yielded(self) -> int:
        """How many outcomes were yielded."""
        return self.succeeded + self.failed_assume + self.failed_work

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (what a Step Functions worker returns).

        Example:
            >>> FanOutSummary(3, 1, 0, 2, 1, 1.5, "deadline").as_dict()["remaining"]
            2
        """
        return asdict(self)


@dataclass(eq=False, slots=True)
class _Account:
    """One account's shared credentials for the targets of it that are in the run.

    ``refs`` (read-ahead and in-flight targets) is only touched by the
    iterating thread; ``session`` and ``failure`` only under ``lock``.
    """

    account_id: str
    refs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    session: AssumedRoleSession | None = None
    failure: BaseException | None = None


@dataclass(eq=False, slots=True)
class _Task:
    """A target in flight; ``listing``: find the account's enabled regions first."""

    target: Target
    account: _Account
    listing: bool
    context: contextvars.Context


@dataclass(frozen=True, slots=True)
class _Expanded:
    """A listing task's answer: the account's targets, one per enabled region."""

    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class _GivenBack:
    """The deadline refused the target's AssumeRole: it goes to ``remaining``."""


_Report = Outcome | _Expanded | _GivenBack


class _AccountFailedError(Exception):
    """Carries an account's (shared) assume failure out of the account lock."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class _Deadline:
    """Looks like a Lambda context to `lambda_assume_role.deadline`: time left until ``end``."""

    def __init__(self, end: float) -> None:
        self.end = end

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.end - time.monotonic()) * 1000))


class _Engine:
    """What the workers run: assume (once per account), then ``work``. Immutable after init."""

    def __init__(
        self,
        *,
        work: Work,
        parent: boto3.Session,
        parent_region: str,
        role_arn_for: Callable[[Target], str],
        assume_role_kwargs: Mapping[str, Any],
        end: float | None,
        stop_at: float | None,
        closed: threading.Event,
    ) -> None:
        self.work = work
        self.parent = parent
        self.parent_region = parent_region
        self.role_arn_for = role_arn_for
        self.assume_role_kwargs = dict(assume_role_kwargs)
        # Bound in every worker: our STS calls end by the stop line (the
        # fetcher keeps `deadline_margin` free before what is bound).
        windows = assume_role_kwargs.get("refresh_windows") or DEFAULT_WINDOWS
        bound = (
            None if end is None or stop_at is None else min(end, stop_at + windows.deadline_margin)
        )
        self.deadline = _Deadline(bound) if bound is not None else None
        self.stop_at = stop_at
        self.closed = closed
        # boto3 sessions are not thread-safe: building sessions from the
        # parent is serialised (no I/O happens under it).
        self.build_lock = threading.Lock()
        self.rng = random.Random()  # noqa: S311 (jitter, not cryptography)

    def run(self, task: _Task) -> _Report:
        """Run one task in the worker's thread, with the run's deadline bound."""
        token = invocation.bind(self.deadline) if self.deadline is not None else None
        try:
            return self._run(task)
        finally:
            if token is not None:
                invocation.unbind(token)

    def _run(self, task: _Task) -> _Report:
        started = time.monotonic()
        target = task.target
        try:
            base = self._account_session(task.account, target)
            if task.listing:
                regions = self._enabled_regions(base)
                return _Expanded(tuple(Target(target.account_id, r) for r in regions))
            assert target.region is not None
            with self.build_lock:
                session = base.in_region(target.region)
        except AssumeRoleTimeoutError:
            return _GivenBack()
        except _AccountFailedError as failed:
            return Outcome(target, error=failed.error, phase="assume", seconds=_since(started))
        except Exception as error:
            return Outcome(target, error=error, phase="assume", seconds=_since(started))
        del base
        try:
            value = self.work(session, target)
        except BaseException as error:  # a worker thread reports everything
            return Outcome(target, error=error, phase="work", seconds=_since(started))
        return Outcome(target, value=value, seconds=_since(started))

    def _account_session(self, account: _Account, target: Target) -> AssumedRoleSession:
        """The account's session in the parent's region, with credentials fetched.

        The first target of the account assumes the role; the others wait on
        the account's lock and share the result (or the failure).
        """
        from lambda_assume_role.assume import assume_role

        with account.lock:
            if account.failure is not None:
                raise _AccountFailedError(account.failure)
            if account.session is not None:
                return account.session
            try:
                role_arn = self.role_arn_for(target)
                with self.build_lock:
                    session = assume_role(
                        self.parent,
                        role_arn,
                        region_name=self.parent_region,
                        **self.assume_role_kwargs,
                    )
                self._fetch_credentials(session)
            except AssumeRoleTimeoutError:
                raise  # the deadline's doing, not the account's: not remembered
            except Exception as error:
                account.failure = error
                raise _AccountFailedError(error) from None
            account.session = session
            return session

    def _fetch_credentials(self, session: AssumedRoleSession) -> None:
        """First AssumeRole for an account, retrying throttling with jittered backoff.

        Each retry must fit before the run's stop line: a pause that would
        cross it raises `AssumeRoleTimeoutError` (the target goes to
        ``remaining``, to be tried in the next run). A run that has ended
        (the thread was given up) stops retrying.
        """
        credentials = session.assume_role_credentials
        for attempt in range(_RETRIES + 1):
            try:
                credentials.get_frozen_credentials()
                return
            except AssumeRoleError as error:
                if error.error_code not in _RETRYABLE_CODES or attempt == _RETRIES:
                    raise
                pause = self.rng.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))
                if self.stop_at is not None and time.monotonic() + pause >= self.stop_at:
                    raise AssumeRoleTimeoutError(
                        session.role_arn,
                        f"was throttled ({error.error_code}) until the fan-out's stop line",
                    ) from None
                logger.debug(
                    "AssumeRole for %s was throttled (%s); retry %d in %.2f s",
                    session.role_arn,
                    error.error_code,
                    attempt + 1,
                    pause,
                )
                if self.closed.wait(pause):
                    raise

    def _enabled_regions(self, base: AssumedRoleSession) -> list[str]:
        """The regions enabled in ``base``'s account, asked in the parent's region."""
        from botocore.exceptions import ClientError

        with self.build_lock:
            session = base.in_region(self.parent_region)
        ec2 = session.client("ec2")
        try:
            answer = ec2.describe_regions()
            return sorted(
                region["RegionName"]
                for region in answer.get("Regions", [])
                if region.get("OptInStatus", "opt-in-not-required") in _ENABLED_OPT_IN
            )
        except ClientError as refused:
            logger.debug("ec2:DescribeRegions refused (%s); trying account:ListRegions", refused)
            account = session.client("account")
            try:
                pages = account.get_paginator("list_regions").paginate(
                    RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"]
                )
                return sorted(r["RegionName"] for page in pages for r in page.get("Regions", []))
            except ClientError:
                raise refused from None
            finally:
                account.close()
        finally:
            ec2.close()


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
        engine: _Engine,
        source: Iterator[TargetSpec],
        *,
        regions: tuple[str, ...] | Literal["enabled"] | None,
        max_workers: int,
        started: float,
    ) -> None:
        self._engine = engine
        self._source: Iterator[TargetSpec] | None = source
        self._regions = regions
        self._max_workers = max_workers
        self._started = started
        self._stop_at = engine.stop_at
        self._closed = engine.closed
        self._results: queue.SimpleQueue[tuple[_Task, _Report]] = queue.SimpleQueue()
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads = 0
        self._accounts: dict[str, _Account] = {}
        self._pending: deque[tuple[Target, _Account]] = deque()
        self._in_flight: set[_Task] = set()
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
                wait = None if self._stop_at is None else self._stop_at - time.monotonic()
                if wait is not None and wait <= 0:
                    reason = "deadline"
                    return
                try:
                    task, report = self._results.get(timeout=wait)
                except queue.Empty:
                    reason = "deadline"
                    return
                outcome = self._settle(task, report)
                del task, report
                if outcome is not None:
                    yield outcome
                    del outcome
        except GeneratorExit:
            reason = "closed"
            raise
        finally:
            self._finish(reason)

    def _start_what_fits(self) -> None:
        while len(self._in_flight) < self._max_workers and self._may_start():
            item = self._next_pending()
            if item is None:
                return
            target, account = item
            task = _Task(target, account, target.region is None, contextvars.copy_context())
            self._in_flight.add(task)
            if self._threads < min(self._max_workers, len(self._in_flight)):
                self._threads += 1
                threading.Thread(
                    target=_serve,
                    args=(self._engine, self._tasks, self._results),
                    name=f"lambda-assume-role-fan-out-{self._threads}",
                    daemon=True,
                ).start()
            self._tasks.put(task)

    def _may_start(self) -> bool:
        """Whether a target started now is expected to end before the stop line."""
        return self._stop_at is None or time.monotonic() + self._p95 < self._stop_at

    def _next_pending(self) -> tuple[Target, _Account] | None:
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
        """The targets one input stands for; a region of None means "list its regions first"."""
        if target.region is not None or self._regions == "enabled":
            return [target]
        if self._regions is None:
            return [Target(target.account_id, self._engine.parent_region)]
        return [Target(target.account_id, region) for region in self._regions]

    def _hold(self, account_id: str) -> _Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = _Account(account_id)
        account.refs += 1
        return account

    def _release(self, account: _Account) -> None:
        account.refs -= 1
        if account.refs <= 0 and self._accounts.get(account.account_id) is account:
            del self._accounts[account.account_id]

    def _settle(self, task: _Task, report: _Report) -> Outcome | None:
        self._in_flight.discard(task)
        account = task.account
        if isinstance(report, _Expanded):
            # Next in line, ahead of unread input, while the account's credentials are fresh.
            for target in reversed(report.targets):
                account.refs += 1
                self._pending.appendleft((target, account))
            self._release(account)
            return None
        self._release(account)
        if isinstance(report, _GivenBack):
            self._given_back.append(task.target)
            return None
        self._counts[report.phase] += 1
        if report.phase != "assume" or not task.listing:
            self._durations.append(report.seconds)
            self._p95 = _p95(self._durations)
        if report.error is not None:
            _log_failure(report)
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
                seconds=round(time.monotonic() - self._started, 3),
                reason=reason,
            )
            _log_summary(self._summary)


def _serve(
    engine: _Engine,
    tasks: queue.SimpleQueue[_Task | None],
    results: queue.SimpleQueue[tuple[_Task, _Report]],
) -> None:
    """A worker thread: run tasks until told to stop; drop results once the run has ended."""
    while (task := tasks.get()) is not None:
        try:
            report = task.context.run(engine.run, task)
        except BaseException as error:  # the run must hear from every task
            report = Outcome(task.target, error=error, phase="assume")
        if not engine.closed.is_set():
            results.put((task, report))
        del task, report


def fan_out(
    work: Work,
    targets: Iterable[TargetSpec],
    *,
    role_name: str = DEFAULT_ROLE_NAME,
    role_arn: Callable[[Target], str] | None = None,
    regions: Sequence[str] | Literal["enabled"] | None = None,
    max_workers: int = 16,
    deadline: float | datetime.datetime | datetime.timedelta | None = None,
    context: Any = None,
    reserve: float = 10.0,
    parent: boto3.Session | None = None,
    **assume_role_kwargs: Any,
) -> FanOutRun:
    """Run ``work`` in every target's account and region, yielding outcomes as they finish.

    Every argument is checked here, before any target is read or any request
    made; the work starts when the returned run is iterated. See the module
    docstring for the guarantees.

    Args:
        work: ``work(session, target) -> value``, called in a worker thread
            with a refreshing assumed-role `boto3.Session` in
            ``target.region`` (its own session: create clients freely).
        targets: Account ids, `Target`s or ``{"account_id", "region"}``
            mappings (the items of `FanOutRun.remaining`), read lazily.
        role_name: The role to assume in each account (path allowed), in the
            parent's partition.
        role_arn: Instead of ``role_name``: ``role_arn(target) -> ARN``,
            called once per account.
        regions: Where each account's work runs, for targets that name no
            region (a target with a region keeps it, so leftovers resume
            as they were): None, the parent's region; a list, every
            account in every region of it; ``"enabled"``, every region
            enabled in the account, asked once per account per run.
        max_workers: Targets in flight at once (threads).
        deadline: When to be done: seconds from now, a `datetime.timedelta`,
            or an aware `datetime.datetime`.
        context: A Lambda context: its remaining time is a deadline too (the
            earlier one counts). Without either, a decorated handler's
            invocation (`lambda_assume_role.deadline`) sets it; otherwise
            there is none.
        reserve: Seconds kept free before the deadline: iteration ends by the
            deadline less ``reserve``, leaving the caller time to save
            outcomes and ``remaining``.
        parent: The session that assumes the roles (default
            ``boto3.Session()``); it needs a region.
        **assume_role_kwargs: `assume_role` keywords for every account
            (``ExternalId``, ``DurationSeconds``, ``RoleSessionName``,
            ``Policy``, ``Tags``, ``cache``, ``refresh_windows``...), checked
            once, here. ``region_name`` is not one: see ``regions``.

    Returns:
        A `FanOutRun`: iterate it for `Outcome`s in completion order; then
        ``run.remaining`` (JSON-ready) and ``run.summary`` (`FanOutSummary`).

    Raises:
        InvalidParameterError: An argument (or an AssumeRole parameter)
            breaks a rule; also a `ValueError`.
        TypeError: A keyword that `assume_role` does not take.
        botocore.exceptions.NoCredentialsError: The parent has no credentials.

    Example:
        >>> fan_out(print, ["111111111111"], max_workers=0)
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: max_workers must be an int >= 1; got 0
        >>> run = fan_out(lambda session, target: session.client("sts").get_caller_identity(),
        ...               ["111111111111"], regions="enabled", context=context)  # doctest: +SKIP
        >>> outcomes = list(run)  # doctest: +SKIP
    """
    import boto3
    import botocore.exceptions

    from lambda_assume_role.registry import SessionRegistry

    started = time.monotonic()
    if not callable(work):
        raise InvalidParameterError(f"work must be callable; got {type(work).__name__}")
    if isinstance(targets, (str, bytes, Mapping, Target)) or not isinstance(targets, Iterable):
        raise InvalidParameterError(
            "targets must be an iterable of account ids, Targets or mappings; "
            f"got {type(targets).__name__}"
        )
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidParameterError(f"max_workers must be an int >= 1; got {max_workers!r}")
    if isinstance(reserve, bool) or not isinstance(reserve, (int, float)) or not reserve >= 0:
        raise InvalidParameterError(f"reserve must be seconds >= 0; got {reserve!r}")
    if "region_name" in assume_role_kwargs:
        raise InvalidParameterError(
            "fan_out puts each session in its target's region; use regions= instead of region_name"
        )
    region_plan = _check_regions(regions)
    end = _end_of(deadline, context, started)

    parent = parent if parent is not None else boto3.Session()
    if not isinstance(parent, boto3.Session):
        raise InvalidParameterError(f"parent must be a boto3.Session; got {type(parent).__name__}")
    parent_region = parent.region_name
    if not parent_region:
        raise InvalidParameterError(
            "the parent session needs a region (AWS_REGION, or boto3.Session(region_name=...)): "
            "AssumeRole is called on its regional STS endpoint"
        )
    # Resolved here, once: boto3 sessions are not thread-safe on first use.
    if parent.get_credentials() is None:
        raise botocore.exceptions.NoCredentialsError()

    registry = SessionRegistry(parent)
    if role_arn is not None:
        if not callable(role_arn):
            raise InvalidParameterError(
                f"role_arn must be a callable(target) -> ARN; got {type(role_arn).__name__}"
            )
        registry.check_defaults(**assume_role_kwargs)
        role_arn_for = role_arn
    else:
        if not isinstance(role_name, str) or not role_name:
            raise InvalidParameterError(f"role_name must be a role's name; got {role_name!r}")
        partition = parent.get_partition_for_region(parent_region)
        try:
            registry.prepare(
                get_role_arn("123456789012", role_name, partition=partition), **assume_role_kwargs
            )
        except ValueError as error:
            if isinstance(error, InvalidParameterError):
                raise
            raise InvalidParameterError(str(error)) from None

        def role_arn_for(target: Target) -> str:
            return get_role_arn(target.account_id, role_name, partition=partition)

    closed = threading.Event()
    engine = _Engine(
        work=work,
        parent=parent,
        parent_region=parent_region,
        role_arn_for=role_arn_for,
        assume_role_kwargs=assume_role_kwargs,
        end=end,
        stop_at=None if end is None else end - float(reserve),
        closed=closed,
    )
    return FanOutRun(
        engine, iter(targets), regions=region_plan, max_workers=max_workers, started=started
    )


def _check_regions(
    regions: Sequence[str] | Literal["enabled"] | None,
) -> tuple[str, ...] | Literal["enabled"] | None:
    if regions is None or regions == "enabled":
        return regions
    if isinstance(regions, (str, bytes)) or not isinstance(regions, Sequence) or not regions:
        raise InvalidParameterError(
            f"regions must be None, 'enabled' or a non-empty list of regions; got {regions!r}"
        )
    for index, region in enumerate(regions):
        check_region_name(f"regions[{index}]", region)
    return tuple(dict.fromkeys(regions))


def _end_of(
    deadline: float | datetime.datetime | datetime.timedelta | None, context: Any, now: float
) -> float | None:
    """The run's end on the `time.monotonic` clock, or None for no deadline."""
    ends: list[float] = []
    if deadline is not None:
        if isinstance(deadline, datetime.datetime):
            if deadline.tzinfo is None or deadline.utcoffset() is None:
                raise InvalidParameterError(
                    "deadline must be an aware datetime (with a timezone); got a naive one"
                )
            seconds = (deadline - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
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
        ends.append(now + seconds)
    if context is not None:
        getter = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(getter):
            raise InvalidParameterError(
                "context must be a Lambda context (with get_remaining_time_in_millis()); "
                f"got {type(context).__name__}"
            )
        ends.append(now + float(getter()) / 1000.0)
    if not ends:
        bound = invocation.remaining_seconds()
        if bound is not None:
            ends.append(now + bound)
    return min(ends) if ends else None


def _since(started: float) -> float:
    return time.monotonic() - started


def _p95(durations: Iterable[float]) -> float:
    """Nearest-rank 95th percentile.

    Example:
        >>> _p95([0.1] * 19 + [5.0]), _p95([1.0, 2.0])
        (0.1, 2.0)
    """
    ordered = sorted(durations)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _log_failure(outcome: Outcome) -> None:
    from lambda_assume_role.redact import redact_text

    error = outcome.error
    assert error is not None
    code = getattr(error, "error_code", None)
    if code is None:
        response = getattr(error, "response", None)
        if isinstance(response, Mapping):
            code = response.get("Error", {}).get("Code")
    error_type = type(error).__name__
    message = redact_text(str(error))[:300]
    target = outcome.target
    logger.warning(
        "Fan-out target %s failed in %s: %s%s: %s",
        target,
        outcome.phase,
        error_type,
        f" ({code})" if code else "",
        message,
        extra={
            "fan_out_target": str(target),
            "account_id": target.account_id,
            "region": target.region,
            "phase": outcome.phase,
            "error_type": error_type,
            "error_code": code,
            "seconds": round(outcome.seconds, 3),
        },
    )


def _log_summary(summary: FanOutSummary) -> None:
    logger.info(
        "Fan-out ended (%s) after %.1f s: %d succeeded, %d failed to assume, "
        "%d failed in work, %d remaining",
        summary.reason,
        summary.seconds,
        summary.succeeded,
        summary.failed_assume,
        summary.failed_work,
        summary.remaining,
        extra={f"fan_out_{name}": value for name, value in summary.as_dict().items()},
    )
