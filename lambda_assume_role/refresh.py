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
* **Backoff**: a failed advisory refresh (throttling, 5xx, connection error, an
  unusable answer) is logged at WARNING, the current credentials stay in use
  and the next attempt waits 15 s, 30 s, 60 s... (jittered, at most 5
  minutes), never past the mandatory point. It is not retried on every call,
  as botocore does, and it makes one short HTTP attempt (``advisory_timeout``):
  a hung STS holds no caller for more than a couple of seconds.
* **Mandatory window** (60 s before expiry): a failed refresh is tried again
  within seconds: 1 s, 2 s, 4 s... (jittered, at most 30 s), and once more
  just before the keys stop being usable. Only the thread making the attempt
  waits for it; the others keep signing.
* **Safety margin**: keys are used until 15 s before they expire
  (``safety_margin``), whatever STS is doing: a failed refresh before then
  costs callers nothing (one WARNING per failed attempt). Keys are never
  used past it, so nothing is signed with expired keys, unlike botocore's
  next path, whose "static stability" keeps signing with them.
* **Without usable keys** (the first fetch, or past the margin) callers wait
  for one attempt (botocore's retries included), each no longer than its own
  limits. After a failed one, callers get a copy of its error at once (it
  names the role and STS's code) until the pause (1 s growing to 30 s) is
  over; then one of them tries again, with one short HTTP attempt: our
  pause is the retry. A 30-minute outage costs STS tens of attempts, not one
  per call, and callers work again within 30 s of STS's recovery. The first
  success resets every pause.
* **Every waiter keeps its own limits**: a caller that blocks behind another
  thread's refresh waits at most what its own call would be allowed
  (`refresh_policy.call_plan`: the whole-call cap, and inside a decorated
  handler its invocation's deadline less the margin), then gets
  `AssumeRoleTimeoutError` naming the role while the refresh goes on for the
  others. A background thread with no deadline cannot hold a handler past
  its own. A caller whose deadline leaves no room for an attempt makes none
  and starts no pause for the others.
* **Answers already inside the mandatory window** (a local clock ahead of
  STS's) are used, with one WARNING, until half their remaining life or the
  first backoff interval has passed; then one caller refreshes. They are not
  fetched again by every waiting thread in turn. An answer that arrives with
  less than the safety margin left is a failed attempt.

Against botocore's next path (<=20 min lifetime -> 5 min window, 20-90 min ->
15 min, else 60 min; mandatory 60 s): the same 5 min for 900 s keys, a smoothly
scaled window between, and no expired keys; see the README's comparison.

botocore hooks used: `DeferredRefreshableCredentials` is subclassed and its
``_refresh()`` overridden; that is the method every public accessor
(``get_frozen_credentials``, ``access_key``...) calls, unchanged since 2015.
``get_frozen_credentials`` is overridden too, so that a SnapStart restore
racing a signer never hands it None. The refreshed values are stored in the
fields its constructor documents (``_access_key``, ``_secret_key``,
``_token``, ``_account_id``, ``_expiry_time``, ``_frozen_credentials``), read
with the clock it stores (``_time_fetcher``), under the lock it creates
(``_refresh_lock``). No other private botocore attribute is used;
tests/unit/core/test_private_attributes.py fails loudly if botocore changes one.
"""

from __future__ import annotations

import datetime
import logging
import random
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.credentials import DeferredRefreshableCredentials, ReadOnlyCredentials

from lambda_assume_role import invocation, telemetry
from lambda_assume_role.errors import (
    AssumeRoleNotAttemptedError,
    AssumeRoleTimeoutError,
    RefreshInFlight,
    copy_of,
)
from lambda_assume_role.fresh_keys import FreshKeys
from lambda_assume_role.refresh_policy import (
    DEFAULT_WINDOWS,
    Clock,
    FetchMode,
    RefreshWindows,
    call_plan_for,
    utc_now,
)
from lambda_assume_role.telemetry import Phase

__all__ = ["AssumeRoleCredentials", "RefreshWindows", "live_secrets"]

logger = logging.getLogger("lambda_assume_role")

# Every AssumeRoleCredentials alive in the process, for clear_all() and live_secrets().
_live_credentials: weakref.WeakSet[AssumeRoleCredentials] = weakref.WeakSet()


def live_secrets() -> Iterator[str]:
    """The access key id, secret and token each live `AssumeRoleCredentials` holds now.

    For guards that keep keys out of durable checkpoints; never on the warm path.
    Reads the published keys, without refreshing or locking.

    Example:
        >>> keys = {"access_key": "ASIAEXAMPLE", "secret_key": "s", "token": "t",
        ...         "expiry_time": utc_now() + datetime.timedelta(hours=1)}
        >>> creds = AssumeRoleCredentials(lambda _: keys, role_arn=ROLE_ARN)
        >>> "ASIAEXAMPLE" in live_secrets()
        False
        >>> _ = creds.get_frozen_credentials()
        >>> "ASIAEXAMPLE" in live_secrets()
        True
    """
    for credentials in list(_live_credentials):
        frozen = credentials._frozen_credentials
        if frozen is not None:
            yield from (value for value in frozen[:3] if value)


class AssumeRoleCredentials(DeferredRefreshableCredentials):
    """Lazily fetched, self-refreshing credentials for one assumed role.

    Nothing is fetched until a request is signed (or a key is read). Exactly
    one refresh is in flight at a time; see the module docstring for the
    policy.

    Args:
        fetch: ``fetch(mode)`` returns botocore credential metadata:
            ``access_key``, ``secret_key``, ``token``, ``expiry_time`` (aware
            datetime or ISO text) and optionally ``account_id``. ``mode``
            (`refresh_policy.FetchMode`) says how long the fetch may take:
            "advisory" when the current keys are still good, "retry" after
            a failed attempt (both one short attempt), else "urgent".
        role_arn: The role, for messages and logs.
        windows: The refresh policy.
        time_fetcher: The clock (aware datetimes).
        rng: Source of jitter.
    """

    # State created and owned by botocore's RefreshableCredentials, which we
    # read and write (see the module docstring); declared for the type checker.
    _refresh_lock: threading.Lock
    _time_fetcher: Clock
    _expiry_time: datetime.datetime | None
    _frozen_credentials: ReadOnlyCredentials | None
    _access_key: str
    _secret_key: str
    _token: str
    _account_id: str | None

    def __init__(
        self,
        fetch: Callable[[FetchMode], Mapping[str, Any]],
        *,
        role_arn: str,
        windows: RefreshWindows = DEFAULT_WINDOWS,
        time_fetcher: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            refresh_using=lambda: fetch("urgent"), method="assume-role", time_fetcher=time_fetcher
        )
        self._fetch = fetch
        self.role_arn = role_arn
        self._windows = windows
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._reset_schedule()
        # Counts failed attempts; a waiter compares it before and after
        # blocking to learn that an attempt ended (and failed) meanwhile.
        self._attempts = 0
        _live_credentials.add(self)

    def _reset_schedule(self) -> None:
        # When the fast path next looks: the next attempt or the end of the
        # keys' usable life, whichever comes first (None: no keys yet).
        self._next_attempt: datetime.datetime | None = None
        self._retry_at: datetime.datetime | None = None  # no attempt before this
        self._usable_until: datetime.datetime | None = None
        self._failures = 0  # consecutive failed attempts, advisory or urgent
        self._urgent_failures = 0  # of which urgent (`RefreshWindows.urgent`)
        self._last_failure: Exception | None = None

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

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """The current keys, refreshed first if due; never None.

        A SnapStart restore (`clear`) may drop the keys between a refresh and
        the read, so the read is retried until it sees keys; each retry is a
        blocking refresh, which either publishes keys or raises.
        """
        while True:
            self._refresh()
            frozen = self._frozen_credentials
            if frozen is not None:
                return frozen

    def fetch_now(self) -> ReadOnlyCredentials:
        """The keys; when none are usable, one urgent attempt now, whatever the pause.

        For a caller that runs its own retries on its own clock (fan-out's
        first fetch of an account, alone under that account's lock and
        before its run's stop line): each call makes one attempt with
        botocore's retries, and a failure is raised as it is.
        """
        with self._refresh_lock:
            self._refresh_locked(own_retries=True)
            frozen = self._frozen_credentials
        assert frozen is not None  # the attempt published keys, or raised
        return frozen

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
            self._reset_schedule()

    def _refresh(self) -> None:
        # Fast path, no lock: the common case in a warm invocation.
        if not self.refresh_needed():
            return
        # One refresher at a time. Threads that lose the race return at once
        # and keep signing with the current keys while they are usable.
        if self._refresh_lock.acquire(blocking=False):
            try:
                self._refresh_locked()
            finally:
                self._refresh_lock.release()
        elif not self._usable(self._time_fetcher()):
            # No keys to sign with: wait for the refresher, as long as our own
            # limits allow. If it failed while we waited, its failure is ours
            # too: repeating the attempt would hold every waiter for one more
            # full attempt each.
            seen = self._attempts
            limit = self._wait_limit()
            if not self._refresh_lock.acquire(timeout=limit):
                raise AssumeRoleTimeoutError(
                    self.role_arn,
                    f"gave up after waiting {limit:.1f} s for a refresh in flight in another "
                    "thread (this caller's own limit); that refresh goes on",
                )
            try:
                failure = self._last_failure
                stale = not self._usable(self._time_fetcher())
                if self._attempts != seen and failure is not None and stale:
                    raise copy_of(failure)
                self._refresh_locked()
            finally:
                self._refresh_lock.release()

    def _wait_limit(self) -> float:
        """How long this caller may wait for another thread's refresh: its own call's cap."""
        return call_plan_for(
            self.role_arn,
            self._windows,
            advisory=False,
            remaining=invocation.remaining_seconds(),
            refused="could not wait for a refresh in flight",
        ).cap

    def _usable(self, now: datetime.datetime) -> bool:
        """Whether there are keys, and ``now`` is before their safety margin."""
        usable_until = self._usable_until
        return (
            self._frozen_credentials is not None
            and usable_until is not None
            and (now < usable_until)
        )

    def _refresh_locked(self, *, own_retries: bool = False) -> None:
        # Precondition: self._refresh_lock is held.
        if not self.refresh_needed():
            return
        now = self._time_fetcher()
        usable = self._usable(now)
        retry_at = None if own_retries else self._retry_at
        if retry_at is not None and now < retry_at:
            if usable:
                return
            failure = self._last_failure
            if failure is not None:
                raise copy_of(failure)  # STS failed moments ago: do not ask again yet
        mode: FetchMode = (
            "advisory" if usable else "retry" if self._failures and not own_retries else "urgent"
        )
        phase = self._phase(now)
        try:
            fresh = self._fetch_fresh(mode, phase)
        except RefreshInFlight:
            # Another process of this environment is refreshing (advisory only):
            # keep the current keys and look at what it wrote shortly.
            self._schedule(now + datetime.timedelta(seconds=self._windows.advisory_timeout))
            return
        except AssumeRoleNotAttemptedError:
            raise  # this caller's deadline, not STS's failure: no pause for the others
        except Exception as error:
            if self._failed(error, phase):
                return
            raise
        self._publish(fresh)

    def _failed(self, error: Exception, phase: Phase) -> bool:
        """Record a failed attempt and pause further ones; True if the keys are still usable."""
        self._last_failure = error
        self._attempts += 1
        self._failures += 1
        now = self._time_fetcher()
        windows, expiry = self._windows, self._expiry_time
        if windows.urgent(now, expiry):
            self._urgent_failures += 1
        failures = self._urgent_failures or self._failures
        self._schedule(windows.next_try(now, expiry, failures, self._rng))
        pause = (self._retry_at - now).total_seconds() if self._retry_at else 0.0
        if self._usable(now):
            assert self._usable_until is not None
            logger.warning(
                "%s for %s failed (attempt %d); keeping the current credentials, usable for "
                "%.0f s more, and trying again in %.1f s: %s",
                _ATTEMPT_NAMES[phase],
                self.role_arn,
                self._failures,
                (self._usable_until - now).total_seconds(),
                pause,
                error,
            )
            return True
        # The caller gets the error. A first fetch has nothing to warn about
        # beyond that (DEBUG); keys that were in use and now cannot be
        # renewed are worth a WARNING of their own.
        logger.log(
            logging.DEBUG if phase == "first" else logging.WARNING,
            "%s for %s failed (attempt %d); callers get this error for %.1f s, then one "
            "tries again: %s",
            _ATTEMPT_NAMES[phase],
            self.role_arn,
            self._failures,
            pause,
            error,
        )
        return False

    def _schedule(self, retry_at: datetime.datetime) -> None:
        """No attempt before ``retry_at``; the fast path looks again then, or sooner if the
        keys stop being usable first."""
        self._retry_at = retry_at
        usable_until = self._usable_until
        self._next_attempt = retry_at if usable_until is None else min(retry_at, usable_until)

    def _phase(self, now: datetime.datetime) -> Phase:
        if self._expiry_time is None:
            return "first"
        return "mandatory" if self._windows.urgent(now, self._expiry_time) else "advisory"

    def _fetch_fresh(self, mode: FetchMode, phase: Phase) -> FreshKeys:
        """Fetch and check new keys; observed (metrics, traces) when telemetry is on."""
        instrumentation = telemetry.active()
        if instrumentation is None:
            return self._check(self._fetch(mode))
        with instrumentation.refresh(self.role_arn, phase):
            return self._check(self._fetch(mode))

    def _check(self, metadata: Mapping[str, Any]) -> FreshKeys:
        return FreshKeys.check(metadata, self.role_arn, self._windows, self._time_fetcher())

    def _publish(self, fresh: FreshKeys) -> None:
        self._access_key = fresh.access_key
        self._secret_key = fresh.secret_key
        self._token = fresh.token
        self._account_id = fresh.account_id
        self._expiry_time = fresh.expiry
        # The keys are published before the schedule: a reader that sees new
        # keys with the old (past) schedule only takes the lock path once more.
        self._frozen_credentials = fresh.frozen()
        self._reset_schedule()
        windows = self._windows
        self._usable_until = windows.usable_until(fresh.expiry)
        self._schedule(windows.first_try(fresh.fetched, fresh.expiry, self._rng))
        if windows.urgent(fresh.fetched, fresh.expiry):
            logger.warning(
                "Credentials for %s arrived with %.0f s left, inside the %.0f s mandatory "
                "window (is the local clock ahead of STS's?); using them for %.1f s before "
                "refreshing",
                self.role_arn,
                (fresh.expiry - fresh.fetched).total_seconds(),
                windows.mandatory,
                (self._next_attempt - fresh.fetched).total_seconds() if self._next_attempt else 0,
            )

    def __repr__(self) -> str:
        expiry = self._expiry_time.isoformat() if self._expiry_time else None
        return f"AssumeRoleCredentials(role_arn={self.role_arn!r}, expiry_time={expiry!r})"

    __str__ = __repr__


_ATTEMPT_NAMES: dict[Phase, str] = {
    "first": "First credential fetch",
    "advisory": "Advisory credential refresh",
    "mandatory": "Mandatory credential refresh",
}
