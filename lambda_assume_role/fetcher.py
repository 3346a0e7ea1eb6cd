"""Fetching assumed-role credentials: one AssumeRole call, through one STS client per parent.

botocore's `AssumeRoleCredentialFetcher` builds a new STS client on every
refresh (a few ms each, more for the first one on a session). Here every role
assumed from one parent session goes through one STS client per parent and
region, made once, under a lock (boto3 sessions are not thread-safe for client
creation, boto/boto3#1592), and reused.

The client is made from the parent session itself, so:

* it signs with the parent's own (possibly refreshing) credentials;
* event handlers registered on the parent *before* its first assumed role
  fetches credentials see the AssumeRole calls (a client copies its session's
  handlers when it is created; later registrations do not reach it).

Deciding *when* to fetch lives in `lambda_assume_role.refresh`.
"""

from __future__ import annotations

import copy
import datetime
import getpass
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role.errors import AssumeRoleConnectionError, AssumeRoleError

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.parameters import AssumeRoleParameters

__all__ = ["AssumeRoleFetcher", "forget_lambda_session_name", "lambda_session_name"]

logger = logging.getLogger("lambda_assume_role")

_clients_lock = threading.Lock()
_sts_clients: weakref.WeakKeyDictionary[Any, dict[str | None, Any]] = weakref.WeakKeyDictionary()

_name_lock = threading.Lock()
_lambda_name: str | None = None


def parse_expiry(value: datetime.datetime | str) -> datetime.datetime:
    """An aware expiry time; one without a timezone is taken as UTC (STS's own zone)."""
    if isinstance(value, str):
        # dateutil, not fromisoformat: botocore's own cache writes "...UTC".
        from dateutil.parser import parse

        value = parse(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def lambda_session_name() -> str:
    """This execution environment's default session name, computed on first use.

    Computed lazily (never at import) so that under SnapStart it is computed
    after restore, per environment; `forget_lambda_session_name` drops it.
    """
    global _lambda_name  # noqa: PLW0603
    with _name_lock:
        if _lambda_name is None:
            from lambda_assume_role.naming import generate_lambda_session_name

            _lambda_name = generate_lambda_session_name()
        return _lambda_name


def forget_lambda_session_name() -> None:
    """Drop the cached session name (after a SnapStart restore)."""
    global _lambda_name  # noqa: PLW0603
    with _name_lock:
        _lambda_name = None


def sts_client_for(parent: boto3.Session) -> Any:
    """The STS client shared by every role assumed from ``parent`` in its current region.

    Made on first use under a lock, so racing first uses build one client.
    """
    region = parent.region_name
    with _clients_lock:
        per_region = _sts_clients.setdefault(parent._session, {})
        client = per_region.get(region)
        if client is None:
            client = parent.client("sts", region_name=region)
            per_region[region] = client
        return client


class AssumeRoleFetcher:
    """Calls AssumeRole for one set of parameters and returns botocore credential metadata.

    Args:
        parent: The session whose credentials call AssumeRole.
        params: The normalised request.
        cache: Optional dict-like cache of AssumeRole responses (e.g. a
            `JSONFileCache`), keyed as botocore keys it.
        cache_min_remaining: Cached credentials with less than this many
            seconds left are not used.
        mfa_prompter: Asks for an MFA code when ``SerialNumber`` is given
            without ``TokenCode`` (botocore's behaviour).
    """

    def __init__(
        self,
        parent: boto3.Session,
        params: AssumeRoleParameters,
        *,
        cache: MutableMapping[str, Any] | None = None,
        cache_min_remaining: float = 900,
        mfa_prompter: Callable[[str], str] | None = None,
    ) -> None:
        self._parent = parent
        self._params = params
        self._cache = cache
        self._cache_key = params.cache_key() if cache is not None else ""
        self._cache_min_remaining = cache_min_remaining
        self._mfa_prompter = mfa_prompter
        self._generated_name: str | None = None

    @property
    def role_arn(self) -> str:
        return self._params.role_arn

    def role_session_name(self) -> str:
        """The session name the next AssumeRole call uses.

        An explicit name wins. Otherwise, inside Lambda, the execution
        environment's name from `generate_lambda_session_name`; elsewhere
        ``botocore-session-<unix time>``, fixed for this fetcher, as botocore
        generates it.
        """
        explicit = self._params.role_session_name
        if explicit:
            return explicit
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            return lambda_session_name()
        if self._generated_name is None:
            self._generated_name = f"botocore-session-{int(time.time())}"
        return self._generated_name

    def __call__(self) -> dict[str, Any]:
        response = self._load_from_cache()
        if response is None:
            response = self._assume_role()
            if self._cache is not None:
                self._cache[self._cache_key] = copy.deepcopy(response)
        creds = response["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": parse_expiry(creds["Expiration"]),
            "account_id": creds.get("AccountId"),
        }

    def _assume_role(self) -> dict[str, Any]:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotocoreConnectionError

        kwargs = dict(self._params.request)
        kwargs["RoleArn"] = self._params.role_arn
        kwargs["RoleSessionName"] = self.role_session_name()
        if "SerialNumber" in kwargs and "TokenCode" not in kwargs:
            prompt = self._mfa_prompter or getpass.getpass
            kwargs["TokenCode"] = prompt(f"Enter MFA code for {kwargs['SerialNumber']}: ")
        client = sts_client_for(self._parent)
        started = time.perf_counter()
        try:
            response: dict[str, Any] = client.assume_role(**kwargs)
        except ClientError as error:
            raise AssumeRoleError(self._params.role_arn, error) from error
        except (BotocoreConnectionError, HTTPClientError) as error:
            raise AssumeRoleConnectionError(self._params.role_arn, error) from error
        elapsed_ms = (time.perf_counter() - started) * 1000
        arn = response.get("AssumedRoleUser", {}).get("Arn", "")
        if arn.count(":") >= 5:
            response["Credentials"]["AccountId"] = arn.split(":")[4]
        logger.info(
            "Assumed role %s as session %s, expires %s (%.1f ms)",
            self._params.role_arn,
            kwargs["RoleSessionName"],
            response["Credentials"]["Expiration"],
            elapsed_ms,
            extra={
                "role_arn": self._params.role_arn,
                "role_session_name": kwargs["RoleSessionName"],
                "expiration": str(response["Credentials"]["Expiration"]),
                "latency_ms": round(elapsed_ms, 1),
            },
        )
        return response

    def _load_from_cache(self) -> dict[str, Any] | None:
        if self._cache is None:
            return None
        try:
            if self._cache_key not in self._cache:
                return None
            response = copy.deepcopy(self._cache[self._cache_key])
            expiration = parse_expiry(response["Credentials"]["Expiration"])
        except (KeyError, TypeError, ValueError, OSError):
            logger.debug("Ignoring an unreadable cache entry for %s", self._params.role_arn)
            return None
        remaining = (expiration - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        if remaining < self._cache_min_remaining:
            return None
        logger.debug("Credentials for %s came from the cache", self._params.role_arn)
        result: dict[str, Any] = response
        return result

    def __repr__(self) -> str:
        return f"AssumeRoleFetcher(role_arn={self._params.role_arn!r})"
