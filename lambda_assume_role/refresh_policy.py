"""The refresh policy: when credentials are due, how long to wait for STS, how to back off.

`RefreshWindows` holds the numbers (a frozen dataclass, checked when it is made,
so a bad value fails where it is written); `parse_expiry` reads an expiry time
as STS, botocore's cache and the AWS CLI write it; `utc_now` is the one "now"
of the package's wall-clock decisions. `lambda_assume_role.refresh` applies the
windows and the backoff; `lambda_assume_role.fetcher` applies the timeouts.

Only the standard library (and dateutil, botocore's own dependency, when text
is parsed) is imported here.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from lambda_assume_role.retry import Backoff


__all__ = [
    "DEFAULT_WINDOWS",
    "CallPlan",
    "Clock",
    "FetchMode",
    "RefreshWindows",
    "call_plan",
    "call_plan_for",
    "parse_expiry",
    "utc_now",
]

Clock = Callable[[], datetime.datetime]
"""A wall clock returning aware datetimes, such as `utc_now` (injectable in tests)."""


FetchMode = Literal["advisory", "urgent", "retry"]
"""What a credential fetch is for, which sets how long it may take (`call_plan`).

* ``"advisory"``: the caller's keys are still good. One short HTTP attempt
  (``advisory_timeout``), and none at all if another process of the
  environment is already refreshing.
* ``"urgent"``: the caller has no usable keys and STS has not failed lately:
  botocore's retries (``max_attempts``) and the longer timeouts, waiting for
  another process's refresh if one is in flight.
* ``"retry"``: as urgent, but STS failed the last attempt: one short HTTP
  attempt, because the backoff between attempts (``retry_initial`` up to
  ``retry_max``) is the retry, not botocore's.
"""


def utc_now() -> datetime.datetime:
    """The current time, aware, in UTC.

    Example:
        >>> utc_now().tzinfo
        datetime.timezone.utc
    """
    return datetime.datetime.now(datetime.timezone.utc)


def parse_expiry(value: datetime.datetime | str) -> datetime.datetime:
    """An aware expiry time; one without a timezone is taken as UTC (STS's own zone).

    Raises:
        ValueError: ``value`` is neither a datetime nor text holding a date.

    Example:
        >>> parse_expiry("2026-12-07T10:00:00Z").isoformat()
        '2026-12-07T10:00:00+00:00'
        >>> parse_expiry(datetime.datetime(2026, 12, 7, 10)).isoformat()
        '2026-12-07T10:00:00+00:00'
    """
    if not isinstance(value, (str, datetime.datetime)):
        raise ValueError(f"an expiry must be a datetime or text; got {type(value).__name__}")
    if isinstance(value, str):
        # dateutil, not fromisoformat: botocore's own cache writes "...UTC".
        from dateutil.parser import parse

        value = parse(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


@dataclass(frozen=True)
class RefreshWindows:
    """How early to refresh, how long to wait for STS, and how to back off after a failure.

    All values are seconds, except the fractions and ``max_attempts``. The
    defaults need no tuning.

    Attributes:
        advisory_fraction: The advisory window as a fraction of the lifetime.
        advisory_max: The advisory window's upper bound (botocore's 15 min).
        mandatory: Seconds before expiry from which a failed refresh is
            tried again within seconds (``retry_initial`` up to
            ``retry_max``) rather than minutes.
        jitter: Fraction of the advisory period over which the first attempt is
            spread; 0 refreshes exactly at the start of the advisory window.
        backoff_initial: Wait after the first failed advisory refresh (keys
            with more than ``mandatory`` left).
        backoff_max: Longest wait between failed advisory refreshes.
        advisory_timeout: An advisory refresh makes one HTTP attempt and waits
            at most this long to connect and to read (our backoff is the
            only retry), so no caller is held long while its keys are good.
        connect_timeout: The first fetch and mandatory refreshes: connect timeout.
        read_timeout: The first fetch and mandatory refreshes: read timeout.
        max_attempts: The first fetch and mandatory refreshes: HTTP attempts,
            botocore's retries included.
        deadline_margin: Inside a decorated handler, STS calls end this long
            before the invocation's deadline, so the error can be reported.
        safety_margin: Keys with less than this left are no longer used.
            Until then a failed refresh keeps serving them (one WARNING per
            failed attempt); from then on callers wait for new keys or get
            the last error. 15 s covers what happens between signing and
            AWS checking the signature: one HTTP attempt of the caller's own
            request (botocore signs each retry again, with the keys current
            then), a slow connection or upload, and the difference between
            the local clock and AWS's (milliseconds on Lambda, which syncs to
            the Amazon Time Sync Service; seconds on a drifting host). It
            leaves most of the 60 s mandatory window for retries.
        retry_initial: Inside the mandatory window, or with no usable keys:
            the pause after a failed attempt before anyone tries again; it
            doubles, jittered, up to ``retry_max``. Callers without usable
            keys get a copy of the last error meanwhile, so an outage costs
            STS one attempt per pause, not one per call.
        retry_max: The longest such pause: STS's recovery is seen within it.

    Example:
        >>> w = RefreshWindows()
        >>> w.advisory_window(900), w.advisory_window(3600)
        (300.0, 900.0)
        >>> RefreshWindows(jitter=2)
        Traceback (most recent call last):
        ...
        ValueError: jitter must be between 0 and 1; got 2
    """

    advisory_fraction: float = 1 / 3
    advisory_max: float = 15 * 60
    mandatory: float = 60
    jitter: float = 0.5
    backoff_initial: float = 15
    backoff_max: float = 300
    advisory_timeout: float = 2.0
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    max_attempts: int = 3
    deadline_margin: float = 1.0
    safety_margin: float = 15.0
    retry_initial: float = 1.0
    retry_max: float = 30.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number; got {type(value).__name__}")
        if not 0 < self.advisory_fraction < 1:
            raise ValueError(
                f"advisory_fraction must be between 0 and 1; got {self.advisory_fraction}"
            )
        if self.mandatory < 0:
            raise ValueError(f"mandatory must be >= 0 seconds; got {self.mandatory}")
        if self.advisory_max < self.mandatory:
            raise ValueError(
                f"advisory_max must be >= mandatory ({self.mandatory}); got {self.advisory_max}"
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1; got {self.jitter}")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValueError(
                "backoff_initial must be > 0 and <= backoff_max; "
                f"got {self.backoff_initial} and {self.backoff_max}"
            )
        for name in ("advisory_timeout", "connect_timeout", "read_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 seconds; got {getattr(self, name)}")
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1; got {self.max_attempts}")
        if self.deadline_margin < 0:
            raise ValueError(f"deadline_margin must be >= 0 seconds; got {self.deadline_margin}")
        if not 0 <= self.safety_margin <= self.mandatory:
            raise ValueError(
                f"safety_margin must be >= 0 and <= mandatory ({self.mandatory}); "
                f"got {self.safety_margin}"
            )
        if not 0 < self.retry_initial <= self.retry_max:
            raise ValueError(
                "retry_initial must be > 0 and <= retry_max; "
                f"got {self.retry_initial} and {self.retry_max}"
            )

    def advisory_window(self, lifetime: float) -> float:
        """Seconds before expiry when advisory refreshes start, for a lifetime."""
        return float(max(min(lifetime * self.advisory_fraction, self.advisory_max), self.mandatory))

    def refresh_at(
        self, issued: datetime.datetime, expiry: datetime.datetime, rng: random.Random
    ) -> datetime.datetime:
        """The (jittered) time of the first advisory refresh attempt."""
        lifetime = (expiry - issued).total_seconds()
        advisory = self.advisory_window(lifetime)
        spread = self.jitter * (advisory - self.mandatory) * rng.random()
        return expiry - datetime.timedelta(seconds=advisory - spread)

    def first_try(
        self, fetched: datetime.datetime, expiry: datetime.datetime, rng: random.Random
    ) -> datetime.datetime:
        """When keys that arrived at ``fetched`` are first refreshed.

        The jittered advisory point (`refresh_at`); for keys that arrived
        inside the mandatory window (a local clock ahead of STS's), half their
        remaining life or ``backoff_initial``, whichever is sooner: refreshing
        at once would make every waiting thread fetch again in turn, each
        answer as short as the last.
        """
        mandatory_at = self.mandatory_at(expiry)
        if fetched < mandatory_at:
            return min(self.refresh_at(fetched, expiry, rng), mandatory_at)
        left = (expiry - fetched).total_seconds()
        return fetched + datetime.timedelta(seconds=min(left / 2, self.backoff_initial))

    def mandatory_at(self, expiry: datetime.datetime) -> datetime.datetime:
        """The time from which callers block until credentials are refreshed."""
        return expiry - datetime.timedelta(seconds=self.mandatory)

    def usable_until(self, expiry: datetime.datetime) -> datetime.datetime:
        """The last moment keys expiring at ``expiry`` are used (``safety_margin`` before)."""
        return expiry - datetime.timedelta(seconds=self.safety_margin)

    def urgent(self, now: datetime.datetime, expiry: datetime.datetime | None) -> bool:
        """Whether a failure now is retried within seconds: no keys, or inside the mandatory window.

        Example:
            >>> w, t = RefreshWindows(), parse_expiry("2026-12-07T10:00:00Z")
            >>> w.urgent(t, None), w.urgent(t, t + datetime.timedelta(seconds=61))
            (True, False)
        """
        return expiry is None or now >= self.mandatory_at(expiry)

    @property
    def backoff(self) -> Backoff:
        """The backoff between failed advisory refreshes (equal jitter)."""
        from lambda_assume_role.retry import Backoff  # only after a failure: keeps import cheap

        return Backoff(self.backoff_initial, self.backoff_max, jitter=0.5)

    def retry_delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after ``failures`` consecutive failed advisory refreshes."""
        return self.backoff.delay(failures, rng)

    def next_try(
        self,
        now: datetime.datetime,
        expiry: datetime.datetime | None,
        failures: int,
        rng: random.Random,
    ) -> datetime.datetime:
        """When anyone may try again after ``failures`` consecutive failed attempts of one kind.

        Advisory failures (more than ``mandatory`` left) wait ``backoff_initial``
        doubling up to ``backoff_max``, never past the mandatory point. Urgent
        ones (`urgent`) wait ``retry_initial`` doubling up to ``retry_max``,
        both with equal jitter; while the keys are still usable, never past
        ``retry_initial`` before their last usable moment, so that a STS that
        has come back is seen before callers would fail.

        Example:
            >>> w, rng = RefreshWindows(), random.Random(1)
            >>> t = parse_expiry("2026-12-07T10:00:00Z")
            >>> def after(left, failures):
            ...     expiry = None if left is None else t + datetime.timedelta(seconds=left)
            ...     return (w.next_try(t, expiry, failures, rng) - t).total_seconds()
            >>> 7.5 <= after(300, 1) <= 15  # advisory: 15 s, equal jitter
            True
            >>> after(100, 9)  # advisory, capped at the mandatory point
            40.0
            >>> 15 <= after(None, 30) <= 30  # no keys: at most retry_max
            True
            >>> after(20, 30)  # urgent, keys usable 5 s more: one try 1 s before that
            4.0
        """
        if expiry is not None and not self.urgent(now, expiry):
            retry = now + datetime.timedelta(seconds=self.retry_delay(failures, rng))
            return min(retry, self.mandatory_at(expiry))
        from lambda_assume_role.retry import Backoff

        pause = Backoff(self.retry_initial, self.retry_max, jitter=0.5).delay(failures, rng)
        retry = now + datetime.timedelta(seconds=pause)
        if expiry is not None:
            last_try = self.usable_until(expiry) - datetime.timedelta(seconds=self.retry_initial)
            if now < last_try < retry:
                return last_try
        return retry


DEFAULT_WINDOWS = RefreshWindows()


class CallPlan(NamedTuple):
    """How long one AssumeRole call may wait: botocore's own timeouts and attempts, and a cap.

    ``cap`` bounds the whole call, retries and a trickling answer included
    (botocore's ``read_timeout`` bounds each read, not the call); the
    fetcher walks away from a call that passes it. A caller waiting for
    another thread's refresh waits at most its own plan's ``cap``.
    """

    connect_timeout: float
    read_timeout: float
    max_attempts: int
    cap: float

    @property
    def client_settings(self) -> tuple[float, float, int]:
        """What an STS client's config is made from (one client per distinct value)."""
        return self.connect_timeout, self.read_timeout, self.max_attempts


# Deadline-bounded timeouts are rounded down to one of these, so a process
# makes a handful of STS clients per parent, not one per invocation.
_TIMEOUT_STEPS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)


def _step_down(seconds: float) -> float:
    return max([step for step in _TIMEOUT_STEPS if step <= seconds], default=_TIMEOUT_STEPS[0])


def _retry_sleep_bound(attempts: int) -> float:
    # botocore sleeps at most 1 s, 2 s, 4 s... between attempts (both retry modes).
    return float(2 ** (attempts - 1) - 1)


def call_plan(windows: RefreshWindows, *, advisory: bool, remaining: float | None) -> CallPlan:
    """The timeouts for one AssumeRole call.

    Args:
        windows: The policy (its timeouts, attempts and deadline margin).
        advisory: The current keys are still good: one attempt, short timeouts.
        remaining: Seconds left in the Lambda invocation, or None.

    Returns:
        The plan. An advisory call is capped by ``advisory_timeout``; others
        by their worst case (every attempt timing out, botocore's sleeps
        between them) and, inside an invocation, by the time left less
        ``deadline_margin``.

    Raises:
        ValueError: No time is left for even a short attempt (the caller
            turns it into `AssumeRoleTimeoutError`, which names the role).

    Example:
        >>> call_plan(RefreshWindows(), advisory=True, remaining=None)
        CallPlan(connect_timeout=2.0, read_timeout=2.0, max_attempts=1, cap=2.0)
        >>> call_plan(RefreshWindows(), advisory=False, remaining=None)
        CallPlan(connect_timeout=3.0, read_timeout=5.0, max_attempts=3, cap=27.0)
        >>> call_plan(RefreshWindows(), advisory=False, remaining=4.0)
        CallPlan(connect_timeout=1.0, read_timeout=1.5, max_attempts=1, cap=2.5)
    """
    if advisory:
        timeout = windows.advisory_timeout
        connect, read, attempts = min(windows.connect_timeout, timeout), timeout, 1
        cap = timeout
    else:
        connect, read, attempts = (
            windows.connect_timeout,
            windows.read_timeout,
            windows.max_attempts,
        )
        cap = _worst_case(connect + read, attempts)
    if remaining is None:
        return CallPlan(connect, read, attempts, cap)
    budget = remaining - windows.deadline_margin
    if budget < _TIMEOUT_STEPS[1] * 2:
        raise ValueError(
            f"the invocation has {max(remaining, 0):.1f} s left, less than the "
            f"{windows.deadline_margin:.1f} s margin plus a minimal attempt"
        )
    per_attempt = connect + read
    while attempts > 1 and _worst_case(per_attempt, attempts) > budget:
        attempts -= 1
    if per_attempt > budget:
        scale = budget / per_attempt
        connect, read = _step_down(connect * scale), _step_down(read * scale)
    cap = min(cap, _worst_case(connect + read, attempts), budget)
    return CallPlan(connect, read, attempts, cap)


def _worst_case(per_attempt: float, attempts: int) -> float:
    return attempts * per_attempt + _retry_sleep_bound(attempts)


def call_plan_for(
    role_arn: str,
    windows: RefreshWindows,
    *,
    advisory: bool,
    remaining: float | None,
    refused: str = "was not attempted",
) -> CallPlan:
    """`call_plan` for a caller of ``role_arn``, or `AssumeRoleTimeoutError` naming the role.

    The one place a call plan that does not fit becomes our error: the fetcher
    before an STS call, and a caller about to wait for another's refresh.

    Example:
        >>> call_plan_for("arn:aws:iam::123456789012:role/R", RefreshWindows(),
        ...               advisory=False, remaining=0.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.AssumeRoleNotAttemptedError: ... was not attempted: ...
    """
    try:
        return call_plan(windows, advisory=advisory, remaining=remaining)
    except ValueError as error:
        from lambda_assume_role.errors import AssumeRoleNotAttemptedError

        raise AssumeRoleNotAttemptedError(role_arn, f"{refused}: {error}") from None
