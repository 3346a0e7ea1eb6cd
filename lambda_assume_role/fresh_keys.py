"""New keys from a fetch, checked whole before anything is published.

The refresh engine (`lambda_assume_role.refresh`) publishes a fetch's keys
only through `FreshKeys.check`: all three keys present, a readable expiry,
and enough life left to be used at all (more than the policy's
``safety_margin``). Anything else is a failed attempt with our own error,
which names the role and says what was wrong, never what was in the answer.

Example:
    >>> import datetime
    >>> now = datetime.datetime(2026, 12, 7, 10, tzinfo=datetime.timezone.utc)
    >>> keys = {"access_key": "ASIAEXAMPLE", "secret_key": "s", "token": "t",
    ...         "expiry_time": "2026-12-07T10:15:00Z"}
    >>> FreshKeys.check(keys, ROLE_ARN, RefreshWindows(), now)
    FreshKeys(expiry='2026-12-07T10:15:00+00:00')
    >>> FreshKeys.check({**keys, "expiry_time": "2026-12-07T10:00:10Z"}, ROLE_ARN,
    ...                 RefreshWindows(), now)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lambda_assume_role.errors.AssumeRoleError: ... the new credentials expire in 10.0 s, inside ...
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, NamedTuple

from botocore.credentials import ReadOnlyCredentials

from lambda_assume_role.errors import INVALID_RESPONSE, AssumeRoleError
from lambda_assume_role.refresh_policy import RefreshWindows, parse_expiry

__all__ = ["FreshKeys"]

# botocore < 1.37 has no account_id field (Lambda runtimes ship older botocore).
_HAS_ACCOUNT_ID = "account_id" in ReadOnlyCredentials._fields


class FreshKeys(NamedTuple):
    """Keys a fetch returned, their expiry and when they arrived (the local clock)."""

    access_key: str
    secret_key: str
    token: str
    account_id: str | None
    expiry: datetime.datetime
    fetched: datetime.datetime

    @classmethod
    def check(
        cls,
        metadata: Mapping[str, Any],
        role_arn: str,
        windows: RefreshWindows,
        now: datetime.datetime,
    ) -> FreshKeys:
        """The keys in botocore credential ``metadata``, or `AssumeRoleError` naming the role.

        Raises:
            AssumeRoleError: code ``InvalidAssumeRoleResponse``: a key is
                missing or empty, the expiry cannot be read, or the keys
                expire within ``windows.safety_margin`` of ``now``.
        """
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
                role_arn, INVALID_RESPONSE, "the credentials are incomplete"
            )
        try:
            expiry = parse_expiry(metadata["expiry_time"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise AssumeRoleError.from_code(
                role_arn, INVALID_RESPONSE, "the credentials have no valid expiration"
            ) from None
        if expiry <= now:
            raise AssumeRoleError.from_code(
                role_arn,
                INVALID_RESPONSE,
                f"the new credentials had already expired (at {expiry.isoformat()})",
            )
        if now >= windows.usable_until(expiry):
            raise AssumeRoleError.from_code(
                role_arn,
                INVALID_RESPONSE,
                f"the new credentials expire in {(expiry - now).total_seconds():.1f} s, inside "
                f"the {windows.safety_margin:g} s safety margin (is the local clock ahead of "
                "STS's?)",
            )
        account = metadata.get("account_id")
        account_id = account if isinstance(account, str) else None
        return cls(access_key, secret_key, token, account_id, expiry, now)

    def frozen(self) -> ReadOnlyCredentials:
        """botocore's `ReadOnlyCredentials`, with ``account_id`` where this botocore has it."""
        if _HAS_ACCOUNT_ID:
            return ReadOnlyCredentials(
                self.access_key, self.secret_key, self.token, self.account_id
            )
        return ReadOnlyCredentials(self.access_key, self.secret_key, self.token)

    def __repr__(self) -> str:  # never the keys
        return f"FreshKeys(expiry={self.expiry.isoformat()!r})"
