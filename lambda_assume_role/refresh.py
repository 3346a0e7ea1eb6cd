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
* **Mandatory window**: 60 s before expiry. Every caller blocks until one
  refresh succeeds, or gets the error, which names the role and STS's code.
  Callers that waited on a failed attempt get its failure (a copy each); they
  do not each repeat the attempt.
* **Every waiter keeps its own limits**: a caller that blocks behind another
  thread's refresh waits at most what its own call would be allowed
  (`refresh_policy.call_plan`: the whole-call cap, and inside a decorated
  handler its invocation's deadline less the margin), then gets
  `AssumeRoleTimeoutError` naming the role while the refresh goes on for the
  others. A background thread with no deadline cannot hold a handler past
  its own.
* **Answers already inside the mandatory window** (a local clock ahead of
  STS's) are used, with one WARNING, until half their remaining life or the
  first backoff interval has passed; then one caller refreshes. They are not
  fetched again by every waiting thread in turn.

Compared with botocore's unreleased policy (<=20 min lifetime -> 5 min window,
20-90 min -> 15 min, >=90 min -> 60 min; mandatory 60 s) ours gives the same
5 min for 900 s credentials and a smoothly scaled window in between; with the
Java SDK's 5 min prefetch / 1 min stale time it shares the 1 min mandatory point.

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

import copy
import datetime
import logging
import random
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from botocore.credentials import DeferredRefreshableCredentials, ReadOnlyCredentials

from lambda_assume_role import invocation, telemetry
from lambda_assume_role.errors import (
    INVALID_RESPONSE,
    AssumeRoleError,
    AssumeRoleTimeoutError,
    RefreshInFlight,
)
from lambda_assume_role.refresh_policy import (
    DEFAULT_WINDOWS,
    Clock,
    RefreshWindows,
    call_plan_for,
    parse_expiry,
    utc_now,
)
from lambda_assume_role.telemetry import Phase

__all__ = ["AssumeRoleCredentials", "RefreshWindows", "live_secrets"]

logger = logging.getLogger("lambda_assume_role")

# botocore < 1.37 has no account_id field (Lambda runtimes ship older botocore).
_HAS_ACCOUNT_ID = "account_id" in ReadOnlyCredentials._fields


def _frozen(access_key: str, secret_key: str, token: str, account_id: str | None) -> Any:
    """A `ReadOnlyCredentials` for this botocore: with ``account_id`` only where it exists."""
    if _HAS_ACCOUNT_ID:
        return ReadOnlyCredentials(access_key, secret_key, token, account_id)
    return ReadOnlyCredentials(access_key, secret_key, token)


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
        fetch: ``fetch(advisory)`` returns botocore credential metadata:
            ``access_key``, ``secret_key``, ``token``, ``expiry_time`` (aware
            datetime or ISO text) and optionally ``account_id``. ``advisory``
            is True when the current keys are still good, so the fetch should
            give up quickly rather than hold the caller.
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
        fetch: Callable[[bool], Mapping[str, Any]],
        *,
        role_arn: str,
        windows: RefreshWindows = DEFAULT_WINDOWS,
        time_fetcher: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            refresh_using=lambda: fetch(False), method="assume-role", time_fetcher=time_fetcher
        )
        self._fetch = fetch
        self.role_arn = role_arn
        self._windows = windows
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._next_attempt: datetime.datetime | None = None
        self._mandatory_at: datetime.datetime | None = None
        self._failures = 0
        # Counts finished mandatory attempts; a waiter compares it before and
        # after blocking to learn that an attempt ended (and failed) meanwhile.
        self._attempts = 0
        self._last_failure: Exception | None = None
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
            self._last_failure = None

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
            # Too close to expiry to keep going: wait for the refresher, as
            # long as our own limits allow. If it failed while we waited, its
            # failure is ours too: repeating the attempt would hold every
            # waiter for one more full attempt each.
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
                if self._attempts != seen and failure is not None and self._mandatory_due():
                    raise _copy_of(failure)
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
            fresh = self._fetch_fresh(mandatory)
        except RefreshInFlight:
            # Another process of this environment is refreshing (advisory only):
            # keep the current keys and look at what it wrote shortly.
            assert self._mandatory_at is not None
            soon = self._time_fetcher() + datetime.timedelta(seconds=self._windows.advisory_timeout)
            self._next_attempt = min(soon, self._mandatory_at)
            return
        except Exception as error:
            if mandatory:
                self._last_failure = error
                self._attempts += 1
                # The caller gets the error. A first fetch has nothing to warn
                # about beyond that (DEBUG); keys that were in use and now
                # cannot be renewed are worth a WARNING of their own.
                first = self._phase(mandatory) == "first"
                logger.log(
                    logging.DEBUG if first else logging.WARNING,
                    "%s for %s failed: %s",
                    "First credential fetch" if first else "Mandatory credential refresh",
                    self.role_arn,
                    error,
                )
                raise
            self._advisory_failed(error)
            return
        self._last_failure = None
        self._publish(fresh)

    def _phase(self, mandatory: bool) -> Phase:
        if self._expiry_time is None:
            return "first"
        return "mandatory" if mandatory else "advisory"

    def _fetch_fresh(self, mandatory: bool) -> _Fresh:
        """Fetch and check new keys; observed (metrics, traces) when telemetry is on."""
        instrumentation = telemetry.active()
        if instrumentation is None:
            return self._parse(self._fetch(not mandatory))
        with instrumentation.refresh(self.role_arn, self._phase(mandatory)):
            return self._parse(self._fetch(not mandatory))

    def _advisory_failed(self, error: Exception) -> None:
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

    def _parse(self, metadata: Mapping[str, Any]) -> _Fresh:
        """Check fetched metadata whole; a bad answer is a failed attempt naming the role."""
        access_key, secret_key, token = (
            metadata.get(name) for name in ("access_key", "secret_key", "token")
        )
        if not (
            isinstance(access_key, str)
            and isinstance(secret_key, str)
            and isinstance(token, str)
            and access_key
            and secret_key
            and token
        ):
            raise AssumeRoleError.from_code(
                self.role_arn, INVALID_RESPONSE, "the credentials are incomplete"
            )
        try:
            expiry = parse_expiry(metadata["expiry_time"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise AssumeRoleError.from_code(
                self.role_arn, INVALID_RESPONSE, "the credentials have no valid expiration"
            ) from None
        now = self._time_fetcher()
        if expiry <= now:
            raise AssumeRoleError.from_code(
                self.role_arn,
                INVALID_RESPONSE,
                f"the new credentials had already expired (at {expiry.isoformat()})",
            )
        account = metadata.get("account_id")
        account_id = account if isinstance(account, str) else None
        return _Fresh(access_key, secret_key, token, account_id, expiry, now)

    def _publish(self, fresh: _Fresh) -> None:
        self._access_key = fresh.access_key
        self._secret_key = fresh.secret_key
        self._token = fresh.token
        self._account_id = fresh.account_id
        self._expiry_time = fresh.expiry
        # The keys are published before the schedule: a reader that sees new
        # keys with the old (past) schedule only takes the lock path once more.
        self._frozen_credentials = _frozen(
            fresh.access_key, fresh.secret_key, fresh.token, fresh.account_id
        )
        self._failures = 0
        mandatory_at = self._windows.mandatory_at(fresh.expiry)
        if mandatory_at <= fresh.fetched:
            self._mandatory_at = self._next_attempt = self._hold_short_lived(fresh)
            return
        self._mandatory_at = mandatory_at
        self._next_attempt = min(
            self._windows.refresh_at(fresh.fetched, fresh.expiry, self._rng), mandatory_at
        )

    def _hold_short_lived(self, fresh: _Fresh) -> datetime.datetime:
        """When to refresh credentials that arrived inside the mandatory window.

        Refreshing at once would make every waiting thread fetch again in
        turn, each answer as short as the last: they are used until half their
        remaining life or the first backoff interval has passed, whichever is
        sooner.
        """
        left = (fresh.expiry - fresh.fetched).total_seconds()
        hold = min(left / 2, self._windows.backoff_initial)
        logger.warning(
            "Credentials for %s arrived with %.0f s left, inside the %.0f s mandatory window "
            "(is the local clock ahead of STS's?); using them for %.1f s before refreshing",
            self.role_arn,
            left,
            self._windows.mandatory,
            hold,
        )
        return fresh.fetched + datetime.timedelta(seconds=hold)

    def __repr__(self) -> str:
        expiry = self._expiry_time.isoformat() if self._expiry_time else None
        return f"AssumeRoleCredentials(role_arn={self.role_arn!r}, expiry_time={expiry!r})"

    __str__ = __repr__


def _copy_of(error: Exception) -> Exception:
    """A fresh copy of a shared failure, so threads never share one traceback."""
    try:
        return copy.copy(error).with_traceback(None)
    except Exception:  # an exception that cannot be copied is raised as it is
        return error


class _Fresh(NamedTuple):
    access_key: str
    secret_key: str
    token: str
    account_id: str | None
    expiry: datetime.datetime
    fetched: datetime.datetime

    def __repr__(self) -> str:
        return f"_Fresh(expiry={self.expiry.isoformat()!r})"
