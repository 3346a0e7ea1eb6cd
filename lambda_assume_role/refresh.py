"""When to refresh assumed-role credentials: windows that scale with their lifetime.

botocore refreshes in fixed windows: an advisory refresh 15 minutes before
expiry, a mandatory one 10 minutes before. Credentials assumed for 900 s
(STS's minimum) are born inside that advisory window, so every API call made
with them calls AssumeRole again (boto/botocore#2189). Ours:

* **Advisory window**: a third of the credentials' lifetime, at most 15 minutes
  and at least the mandatory window. 900 s credentials: refresh from 300 s
  before expiry; 3600 s and longer: from 15 minutes before. One thread
  refreshes; the others keep signing with the current credentials.
* **Jitter**: the first advisory attempt is drawn uniformly from the first half
  of the advisory period (``jitter=0.5``), so environments started together do
  not refresh together. The second half is left for retries.
* **Backoff**: a failed advisory refresh (throttling, 5xx, connection error) is
  logged at WARNING, the current credentials stay in use and the next attempt
  waits 15 s, 30 s, 60 s... (jittered, at most 5 minutes), never past the
  mandatory point. It is not retried on every call, as botocore does.
* **Mandatory window**: 60 s before expiry. Every caller blocks until one
  refresh succeeds, or gets the error, which names the role and STS's code.

Compared with botocore's unreleased policy (<=20 min lifetime -> 5 min window,
20-90 min -> 15 min, >=90 min -> 60 min; mandatory 60 s) ours gives the same
5 min for 900 s credentials and a smoothly scaled window in between; with the
Java SDK's 5 min prefetch / 1 min stale time it shares the 1 min mandatory point.

botocore hooks used: `DeferredRefreshableCredentials` is subclassed and its
``_refresh()`` overridden; that is the method every public accessor
(``get_frozen_credentials``, ``access_key``...) calls, unchanged since 2015.
The refreshed values are stored in the fields its constructor documents
(``_access_key``, ``_secret_key``, ``_token``, ``_account_id``,
``_expiry_time``, ``_frozen_credentials``), read with the clock and callback it
stores (``_time_fetcher``, ``_refresh_using``), under the lock it creates
(``_refresh_lock``). No other private botocore attribute is used.
"""

from __future__ import annotations

import datetime
import logging
import random
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from botocore.credentials import DeferredRefreshableCredentials, ReadOnlyCredentials

from lambda_assume_role.fetcher import parse_expiry

__all__ = ["AssumeRoleCredentials", "RefreshWindows"]

logger = logging.getLogger("lambda_assume_role")

_Clock = Callable[[], datetime.datetime]


def _local_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class _RefreshWindowFields(NamedTuple):
    advisory_fraction: float = 1 / 3
    advisory_max: float = 15 * 60
    mandatory: float = 60
    jitter: float = 0.5
    backoff_initial: float = 15
    backoff_max: float = 300


class RefreshWindows(_RefreshWindowFields):
    """How early to refresh, and how to back off after a failure.

    All values are seconds, except the fractions. The defaults need no tuning.

    Attributes:
        advisory_fraction: The advisory window as a fraction of the lifetime.
        advisory_max: The advisory window's upper bound (botocore's 15 min).
        mandatory: Seconds before expiry when callers block for a refresh.
        jitter: Fraction of the advisory period over which the first attempt is
            spread; 0 refreshes exactly at the start of the advisory window.
        backoff_initial: Wait after the first failed advisory refresh.
        backoff_max: Longest wait between failed advisory refreshes.

    Example:
        >>> w = RefreshWindows()
        >>> w.advisory_window(900), w.advisory_window(3600)
        (300.0, 900.0)
    """

    __slots__ = ()

    def __new__(cls, *args: float, **kwargs: float) -> RefreshWindows:
        self = super().__new__(cls, *args, **kwargs)
        self._check()
        return self

    def _check(self) -> None:
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

    def advisory_window(self, lifetime: float) -> float:
        """Seconds before expiry when advisory refreshes start, for a lifetime."""
        return max(min(lifetime * self.advisory_fraction, self.advisory_max), self.mandatory)

    def refresh_at(
        self, issued: datetime.datetime, expiry: datetime.datetime, rng: random.Random
    ) -> datetime.datetime:
        """The (jittered) time of the first advisory refresh attempt."""
        lifetime = (expiry - issued).total_seconds()
        advisory = self.advisory_window(lifetime)
        spread = self.jitter * (advisory - self.mandatory) * rng.random()
        return expiry - datetime.timedelta(seconds=advisory - spread)

    def mandatory_at(self, expiry: datetime.datetime) -> datetime.datetime:
        """The time from which callers block until credentials are refreshed."""
        return expiry - datetime.timedelta(seconds=self.mandatory)

    def retry_delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after ``failures`` consecutive failed advisory refreshes."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** max(failures - 1, 0))
        return float(ceiling * (0.5 + 0.5 * rng.random()))


DEFAULT_WINDOWS = RefreshWindows()

# Every AssumeRoleCredentials alive in the process, for clear_all().
_live_credentials: weakref.WeakSet[AssumeRoleCredentials] = weakref.WeakSet()


class AssumeRoleCredentials(DeferredRefreshableCredentials):
    """Lazily fetched, self-refreshing credentials for one assumed role.

    Nothing is fetched until a request is signed (or a key is read). Exactly
    one refresh is in flight at a time; see the module docstring for the
    policy.

    Args:
        fetch: Returns botocore credential metadata: ``access_key``,
            ``secret_key``, ``token``, ``expiry_time`` (aware datetime or ISO
            text) and optionally ``account_id``.
        role_arn: The role, for messages and logs.
        windows: The refresh policy.
        time_fetcher: The clock (aware datetimes).
        rng: Source of jitter.
    """

    # State created and owned by botocore's RefreshableCredentials, which we
    # read and write (see the module docstring); declared for the type checker.
    _refresh_lock: threading.Lock
    _refresh_using: Callable[[], Mapping[str, Any]]
    _time_fetcher: _Clock
    _expiry_time: datetime.datetime | None
    _frozen_credentials: ReadOnlyCredentials | None
    _access_key: str
    _secret_key: str
    _token: str
    _account_id: str | None

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        role_arn: str,
        windows: RefreshWindows = DEFAULT_WINDOWS,
        time_fetcher: _Clock = _local_now,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(refresh_using=fetch, method="assume-role", time_fetcher=time_fetcher)
        self.role_arn = role_arn
        self._windows = windows
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._next_attempt: datetime.datetime | None = None
        self._mandatory_at: datetime.datetime | None = None
        self._failures = 0
        _live_credentials.add(self)

    @classmethod
    def clear_all(cls) -> None:
        """`clear` every live instance in the process (after a SnapStart restore)."""
        for credentials in list(_live_credentials):
            credentials.clear()

    @property
    def expiry_time(self) -> datetime.datetime | None:
        """When the current credentials expire; None before the first fetch."""
        expiry: datetime.datetime | None = self._expiry_time
        return expiry

    def refresh_needed(self, refresh_in: int | None = None) -> bool:
        """Whether a refresh is due now.

        Args:
            refresh_in: botocore's meaning: refresh if fewer than this many
                seconds remain. None asks our policy whether an advisory
                refresh attempt is due.
        """
        if self._frozen_credentials is None:
            return True
        if refresh_in is not None:
            return bool(super().refresh_needed(refresh_in))
        next_attempt = self._next_attempt
        # None: another thread is publishing the first credentials right now.
        return next_attempt is None or bool(self._time_fetcher() >= next_attempt)

    def clear(self) -> None:
        """Forget the current credentials, so the next use fetches new ones.

        Used after a SnapStart restore, where credentials fetched before the
        snapshot must not be shared by every restored environment.
        """
        with self._refresh_lock:
            self._frozen_credentials = None
            self._expiry_time = None
            self._next_attempt = None
            self._mandatory_at = None
            self._failures = 0

    def _refresh(self) -> None:
        # Fast path, no lock: the common case in a warm invocation.
        if not self.refresh_needed():
            return
        # One refresher at a time. In the advisory period, threads that lose
        # the race return at once and keep signing with the current keys.
        if self._refresh_lock.acquire(blocking=False):
            try:
                self._refresh_locked()
            finally:
                self._refresh_lock.release()
        elif self._mandatory_due():
            # Too close to expiry to keep going: wait for the refresher,
            # then check again (it may have failed).
            with self._refresh_lock:
                self._refresh_locked()

    def _mandatory_due(self) -> bool:
        if self._frozen_credentials is None or self._mandatory_at is None:
            return True
        return bool(self._time_fetcher() >= self._mandatory_at)

    def _refresh_locked(self) -> None:
        # Precondition: self._refresh_lock is held.
        if not self.refresh_needed():
            return
        mandatory = self._mandatory_due()
        try:
            metadata = self._refresh_using()
        except Exception as error:
            if mandatory:
                logger.warning(
                    "Mandatory credential refresh for %s failed: %s", self.role_arn, error
                )
                raise
            self._failures += 1
            now = self._time_fetcher()
            delay = self._windows.retry_delay(self._failures, self._rng)
            retry = now + datetime.timedelta(seconds=delay)
            assert self._mandatory_at is not None
            self._next_attempt = min(retry, self._mandatory_at)
            logger.warning(
                "Advisory credential refresh for %s failed (attempt %d), keeping the current "
                "credentials until %s and retrying in %.0f s: %s",
                self.role_arn,
                self._failures,
                self._expiry_time,
                (self._next_attempt - now).total_seconds(),
                error,
            )
            return
        self._publish(metadata)

    def _publish(self, metadata: Mapping[str, Any]) -> None:
        now = self._time_fetcher()
        expiry = parse_expiry(metadata["expiry_time"])
        if expiry <= now:
            # botocore raises the same for freshly fetched, already expired keys.
            raise RuntimeError(
                f"Credentials for {self.role_arn} were refreshed, but the refreshed "
                "credentials are still expired."
            )
        self._access_key = metadata["access_key"]
        self._secret_key = metadata["secret_key"]
        self._token = metadata["token"]
        self._account_id = metadata.get("account_id")
        self._expiry_time = expiry
        # The keys are published before the schedule: a reader that sees new
        # keys with the old (past) schedule only takes the lock path once more.
        self._frozen_credentials = ReadOnlyCredentials(
            self._access_key, self._secret_key, self._token, self._account_id
        )
        self._failures = 0
        self._mandatory_at = self._windows.mandatory_at(expiry)
        self._next_attempt = min(
            self._windows.refresh_at(now, expiry, self._rng), self._mandatory_at
        )

    def __repr__(self) -> str:
        expiry = self._expiry_time.isoformat() if self._expiry_time else None
        return f"AssumeRoleCredentials(role_arn={self.role_arn!r}, expiry_time={expiry!r})"

    __str__ = __repr__
