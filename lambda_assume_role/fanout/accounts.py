"""Per-account credentials in a fan-out: one AssumeRole per account, shared by its targets.

The first target of an account to start assumes the role, in the parent's
region (the regional STS endpoint), and fetches the credentials at once; the
account's other targets in the run wait on the account's lock and share that
session (each gets it in its own region, `AssumedRoleSession.in_region`), or
share its failure, without asking STS again. A throttled (or 5xx) AssumeRole
is retried with full-jitter exponential backoff (`BACKOFF`), beyond botocore's
own attempts, as long as each pause ends before the run's stop line.

The request was prepared once, by `fan_out` (`lambda_assume_role.role.prepare_role`):
each account only swaps in its role's ARN (`PreparedRole.for_role`), so
nothing is validated twice.

Example:
    >>> import random
    >>> BACKOFF.ceiling(1), BACKOFF.ceiling(3), BACKOFF.ceiling(10)
    (0.2, 0.8, 5.0)
    >>> 0 <= BACKOFF.delay(2, random.Random(1)) <= 0.4
    True
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from lambda_assume_role.errors import AssumeRoleError, AssumeRoleTimeoutError
from lambda_assume_role.fanout.clock import Clock
from lambda_assume_role.fanout.targets import Target
from lambda_assume_role.retry import RETRYABLE_CODES, Backoff

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.assume import AssumedRoleSession
    from lambda_assume_role.role import PreparedRole

__all__ = ["BACKOFF", "RETRIES", "Account", "AccountFailedError", "AccountSessions"]

logger = logging.getLogger("lambda_assume_role")

RETRIES = 6
"""AssumeRole attempts after the first, beyond botocore's own, while throttled."""

BACKOFF = Backoff(initial=0.2, maximum=5.0, jitter=1.0)
"""The pause before each retry: full jitter, ``uniform(0, min(5, 0.2 * 2**n))``."""


class Account:
    """One account's shared credentials for the targets of it that are in the run.

    ``refs`` (read-ahead and in-flight targets) is only touched by the
    iterating thread; ``session`` and ``failure`` only under ``lock``, which
    is held while the account's first target assumes the role, so the others
    wait for that one answer instead of asking STS themselves.
    """

    __slots__ = ("account_id", "failure", "lock", "refs", "session")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.refs = 0
        self.lock = threading.Lock()
        self.session: AssumedRoleSession | None = None
        self.failure: BaseException | None = None


class AccountFailedError(Exception):
    """Carries an account's (shared) assume failure out of the account lock."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class AccountSessions:
    """Builds each account's session once per run, and sessions in other regions from it.

    Args:
        parent: The session that assumes the roles.
        prepared: The request, prepared once (its ``region_name`` is the
            parent's region).
        role_arn_for: ``role_arn_for(target) -> ARN``, called once per account.
        stop_at: The run's stop line on ``clock``, or None.
        clock: The run's clock (back-off pauses are taken on it).
        closed: Set when the run has ended: a pause in progress ends, and the
            AssumeRole is not retried.
    """

    def __init__(
        self,
        *,
        parent: boto3.Session,
        prepared: PreparedRole,
        role_arn_for: Callable[[Target], str],
        stop_at: float | None,
        clock: Clock,
        closed: threading.Event,
    ) -> None:
        self.parent = parent
        self.prepared = prepared
        self.role_arn_for = role_arn_for
        self.stop_at = stop_at
        self.clock = clock
        self.closed = closed
        # boto3 sessions are not thread-safe: building sessions from the
        # parent (or from an account's session) is serialised; no I/O happens under it.
        self._build_lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 (jitter, not cryptography)

    def session(self, account: Account, target: Target) -> AssumedRoleSession:
        """The account's session in the parent's region, with credentials fetched.

        Raises:
            AccountFailedError: The account's AssumeRole failed (now, or for
                an earlier target of it): its error, remembered for the run.
            AssumeRoleTimeoutError: The stop line leaves no time for it (not
                remembered: the next run may try again).
        """
        from lambda_assume_role.assume import session_for_role

        with account.lock:
            if account.failure is not None:
                raise AccountFailedError(account.failure)
            if account.session is not None:
                return account.session
            try:
                prepared = self.prepared.for_role(self.role_arn_for(target))
                with self._build_lock:
                    session = session_for_role(self.parent, prepared)
                self._fetch_credentials(session)
            except AssumeRoleTimeoutError:
                raise  # the deadline's doing, not the account's: not remembered
            except Exception as error:
                account.failure = error
                raise AccountFailedError(error) from None
            account.session = session
            return session

    def in_region(self, session: AssumedRoleSession, region: str) -> AssumedRoleSession:
        """``session.in_region(region)``, built under the lock that serialises session building."""
        with self._build_lock:
            return session.in_region(region)

    def _fetch_credentials(self, session: AssumedRoleSession) -> None:
        """First AssumeRole for an account, retrying throttling with jittered backoff.

        Each retry must fit before the run's stop line: a pause that would
        cross it raises `AssumeRoleTimeoutError` (the target goes to
        ``remaining``, to be tried in the next run). A run that has ended
        (the thread was given up) stops retrying.
        """
        credentials = session.assume_role_credentials
        for attempt in range(RETRIES + 1):
            try:
                credentials.fetch_now()  # our pauses, on the run's clock, not its own
                return
            except AssumeRoleError as error:
                if error.error_code not in RETRYABLE_CODES or attempt == RETRIES:
                    raise
                pause = BACKOFF.delay(attempt + 1, self._rng)
                if self.stop_at is not None and self.clock.monotonic() + pause >= self.stop_at:
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
                if self.clock.pause(pause, self.closed):
                    raise
