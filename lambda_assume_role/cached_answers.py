"""AssumeRole answers kept in a cache: stored without metadata, served only when whole and fresh.

Used by the fetcher for a user's ``cache=`` and for the environment's
`lambda_assume_role.credential_store.CredentialStore`. A cache is a
convenience and never a point of failure: an entry is used only if it is whole
and (after a SnapStart restore) was fetched after the restore; a cache that
cannot be read or written is logged at WARNING and bypassed. Keys are the
fetcher's (the exact request bound to the parent's access key id). Messages
name the role and the problem, never a value.

Example:
    >>> import datetime
    >>> cache, soon = {}, utc_now() + datetime.timedelta(hours=1)
    >>> answer = {"Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s",
    ...                           "SessionToken": "t", "Expiration": soon.isoformat()}}
    >>> role = "arn:aws:iam::123456789012:role/R"
    >>> save_answer(cache, "k", answer, role)
    True
    >>> load_answer(cache, "k", role, 900)["Credentials"]["SessionToken"]
    't'
    >>> load_answer(cache, "k", role, 7200) is None  # not enough left
    True
"""

from __future__ import annotations

import copy
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lambda_assume_role.refresh_policy import parse_expiry, utc_now

__all__ = [
    "AnswerCache",
    "entry_problem",
    "fetched_at",
    "forget_cached_before_now",
    "load_answer",
    "save_answer",
]

logger = logging.getLogger("lambda_assume_role")

_ENTRY_META = "LambdaAssumeRole"
_restored_at: datetime.datetime | None = None


class AnswerCache(Protocol):
    """What a cache must offer: ``in``, get and set by key (a dict, a `JSONFileCache`)."""

    def __contains__(self, key: object, /) -> bool: ...

    def __getitem__(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...


MinRemaining = float | Callable[[Mapping[str, Any]], float]
"""Seconds an entry must have left to be served: a number, or computed from the entry."""


def forget_cached_before_now() -> None:
    """Never again serve a cache entry fetched before now (after a SnapStart restore).

    Entries without our fetch time (written by botocore or the AWS CLI) are
    not served either from then on: nothing shows they were fetched after.
    """
    global _restored_at  # noqa: PLW0603
    _restored_at = utc_now()


def fetched_at(entry: Mapping[str, Any]) -> datetime.datetime | None:
    """When we fetched a whole entry (its ``FetchedAt``), or None if it does not say."""
    meta = entry.get(_ENTRY_META)
    fetched = meta.get("FetchedAt") if isinstance(meta, Mapping) else None
    try:
        return parse_expiry(fetched) if fetched is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def entry_problem(entry: Any) -> str | None:
    """What makes a cache entry unusable, named without its values; None if it is whole."""
    if not isinstance(entry, Mapping):
        return "it is not a JSON object"
    credentials = entry.get("Credentials")
    if not isinstance(credentials, Mapping):
        return "it has no Credentials object"
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        value = credentials.get(name)
        if not isinstance(value, str) or not value:
            return f"its {name} is missing or not a non-empty string"
    try:
        parse_expiry(credentials["Expiration"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return "its Expiration is missing or not a date"
    if _restored_at is not None:
        meta = entry.get(_ENTRY_META)
        if isinstance(meta, Mapping) and meta.get("FetchedAt") is not None:
            when = fetched_at(entry)
            if when is None:
                return "its fetch time is not a date"
            if when < _restored_at:
                return "it was fetched before the SnapStart restore"
        else:
            return "it was fetched before the SnapStart restore"
    return None


def load_answer(
    cache: AnswerCache, key: str, role_arn: str, min_remaining: MinRemaining
) -> dict[str, Any] | None:
    """A copy of the whole, fresh answer cached under ``key``; None for a miss of any kind."""
    try:
        # `in` first: botocore's JSONFileCache has no get().
        entry = cache[key] if key in cache else None  # noqa: SIM401
    except Exception as error:
        logger.warning(
            "Credential cache for %s cannot be read; fetching instead: %s",
            role_arn,
            _describe(error),
        )
        return None
    if entry is None:
        return None
    problem = entry_problem(entry)
    if problem is not None:
        logger.warning("Ignoring a cache entry for %s: %s", role_arn, problem)
        return None
    expiration = parse_expiry(entry["Credentials"]["Expiration"])
    remaining = (expiration - utc_now()).total_seconds()
    needed = min_remaining(entry) if callable(min_remaining) else min_remaining
    if remaining < needed:
        return None
    logger.debug("Credentials for %s came from the cache", role_arn)
    response: dict[str, Any] = copy.deepcopy(entry)
    return response


def save_answer(cache: AnswerCache, key: str, response: Mapping[str, Any], role_arn: str) -> bool:
    """Store an answer (without its response metadata, with our fetch time); False if it failed."""
    entry = copy.deepcopy(dict(response))
    entry.pop("ResponseMetadata", None)
    entry[_ENTRY_META] = {"FetchedAt": utc_now().isoformat()}
    try:
        cache[key] = entry
    except Exception as error:
        logger.warning(
            "Credential cache for %s cannot be written; using the new credentials uncached: %s",
            role_arn,
            _describe(error),
        )
        return False
    return True


def _describe(error: Exception) -> str:
    # OSError and our cache's errors name a path and a rule; anything else from
    # a user's dict-like is named by its type only, in case it echoes a value.
    from lambda_assume_role.retry import describe_error

    return describe_error(error, quote=isinstance(error, (OSError, ValueError, KeyError)))
