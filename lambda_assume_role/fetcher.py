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

import getpass
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from lambda_assume_role import environment, invocation, telemetry
from lambda_assume_role.cached_answers import fetched_at, load_answer, save_answer
from lambda_assume_role.capped_call import CallAbandonedError, call_within
from lambda_assume_role.errors import (
    INVALID_RESPONSE,
    AssumeRoleConnectionError,
    AssumeRoleError,
    AssumeRoleTimeoutError,
    RefreshInFlight,
)
from lambda_assume_role.naming import lambda_session_name, worker_session_name
from lambda_assume_role.parameters import mfa_prompt
from lambda_assume_role.redact import secrets_of
from lambda_assume_role.refresh_policy import (
    DEFAULT_WINDOWS,
    CallPlan,
    FetchMode,
    RefreshWindows,
    call_plan,
    call_plan_for,
    parse_expiry,
    utc_now,
)
from lambda_assume_role.retry import describe_error

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.credential_store import CredentialStore
    from lambda_assume_role.parameters import AssumeRoleParameters

__all__ = [
    "AssumeRoleFetcher",
    "sts_client_for",
]

logger = logging.getLogger("lambda_assume_role")

_clients_lock = threading.Lock()
_sts_clients: weakref.WeakKeyDictionary[
    Any, dict[tuple[str | None, tuple[float, float, int]], Any]
] = weakref.WeakKeyDictionary()


def sts_client_for(parent: boto3.Session, plan: CallPlan | None = None) -> Any:
    """The STS client shared by every role assumed from ``parent`` in its region, for a plan.

    Made on first use under a lock, so racing first uses build one client.
    Each plan (timeouts and attempts) has its own client, because botocore
    takes them from a client's config; plans come from a small set of steps.
    """
    from lambda_assume_role.redact import protect_botocore_logs

    plan = plan or call_plan(DEFAULT_WINDOWS, advisory=False, remaining=None)
    region = parent.region_name
    with _clients_lock:
        per_parent = _sts_clients.setdefault(parent._session, {})
        key = (region, plan.client_settings)
        client = per_parent.get(key)
        if client is None:
            from botocore.config import Config

            protect_botocore_logs()
            config = Config(
                connect_timeout=plan.connect_timeout,
                read_timeout=plan.read_timeout,
                retries={"total_max_attempts": plan.max_attempts},
            )
            client = parent.client("sts", region_name=region, config=config)
            per_parent[key] = client
        return client


class AssumeRoleFetcher:
    """Calls AssumeRole for one set of parameters and returns botocore credential metadata.

    Every failure is raised as our own error, which names the role and never
    holds STS's raw answer (it carries the new keys): `AssumeRoleError` for
    an error answer or an unusable 200, `AssumeRoleConnectionError` when STS
    cannot be reached, `AssumeRoleTimeoutError` when the invocation's deadline
    leaves no time. None of them is chained to botocore's exception, and
    their messages are redacted (`lambda_assume_role.redact`), the parent's
    own keys included, in case STS or a proxy echoes the request.

    Each call is capped as a whole (`CallPlan.cap`, `capped_call.call_within`):
    a trickling answer releases the caller at the cap, as a hung one does.

    The cache, when given, is a convenience and never a point of failure: an
    entry is used only if it is whole, was written for this parent principal
    and (after a SnapStart restore) was fetched after the restore; a cache
    that cannot be read or written is logged at WARNING and bypassed.

    Args:
        parent: The session whose credentials call AssumeRole.
        params: The normalised request.
        cache: Optional dict-like cache of AssumeRole responses (e.g. a
            `JSONFileCache`).
        cache_min_remaining: Cached credentials with less than this many
            seconds left are not used.
        windows: Timeouts, attempts and the deadline margin.
        mfa_prompter: Asks for an MFA code when ``SerialNumber`` is given
            without ``TokenCode`` (botocore's behaviour).
        store: The environment's `CredentialStore`, shared by its processes
            with one fetch per key at a time; None: this process alone.
    """

    def __init__(
        self,
        parent: boto3.Session,
        params: AssumeRoleParameters,
        *,
        cache: MutableMapping[str, Any] | None = None,
        cache_min_remaining: float = 900,
        windows: RefreshWindows = DEFAULT_WINDOWS,
        mfa_prompter: Callable[[str], str] | None = None,
        store: CredentialStore | None = None,
    ) -> None:
        self._parent = parent
        self._store = store
        self._params = params
        self._cache = cache
        self._cache_min_remaining = cache_min_remaining
        self._windows = windows
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
        if environment.in_lambda():
            if self._store is None and (environment.max_concurrency() or 1) > 1:
                return worker_session_name()  # Managed Instances, each worker on its own
            return lambda_session_name()
        if self._generated_name is None:
            self._generated_name = f"botocore-session-{int(time.time())}"
        return self._generated_name

    def __call__(self, mode: FetchMode = "urgent") -> dict[str, Any]:
        """Fetch credentials (from the cache when it has good ones).

        Args:
            mode: What the fetch is for (`refresh_policy.FetchMode`): an
                advisory or retry fetch makes one short attempt; an urgent one
                makes botocore's retries.
        """
        store = self._store
        if store is None:
            response = self._cached_or_fetched(mode, self._cache_key_if(self._cache))
        else:
            response = self._through_store(store, mode)
        creds = response["Credentials"]
        return {
            "access_key": creds.get("AccessKeyId"),
            "secret_key": creds.get("SecretAccessKey"),
            "token": creds.get("SessionToken"),
            "expiry_time": creds.get("Expiration"),
            "account_id": creds.get("AccountId"),
        }

    def _cached_or_fetched(self, mode: FetchMode, key: str) -> dict[str, Any]:
        """The user's cache's answer, or STS's (then cached)."""
        cache = self._cache
        response = None
        if cache is not None:
            response = load_answer(cache, key, self.role_arn, self._cache_min_remaining)
        if response is None:
            response = self._assume_role(mode)
            if cache is not None:
                save_answer(cache, key, response, self.role_arn)
        return response

    def _through_store(self, store: CredentialStore, mode: FetchMode) -> dict[str, Any]:
        """The environment's answer: read it, or fetch it under the key's lock (single flight).

        An advisory caller that finds another process refreshing keeps its keys
        (`RefreshInFlight`); others wait at most their own call's cap, then
        fetch for themselves if their deadline still allows one attempt.
        """
        key = self._cache_key()
        entries = store.entries
        fresh = self._store_min_remaining
        response = load_answer(entries, key, self.role_arn, fresh)
        if response is not None:
            return response
        advisory = mode == "advisory"
        limit = 0.0 if advisory else self._plan(mode, invocation.remaining_seconds()).cap
        try:
            with store.acquire(key, limit) as held:
                if held:
                    response = load_answer(entries, key, self.role_arn, fresh)
                    if response is None:
                        response = self._cached_or_fetched(mode, key)
                        save_answer(entries, key, response, self.role_arn)
                    return response
        except OSError as error:  # InsecureCacheError included: one WARNING, then our own
            logger.warning(
                "The credential store cannot lock %s; fetching without it: %s",
                self.role_arn,
                describe_error(error, quote=True),
            )
            return self._cached_or_fetched(mode, key)
        if advisory:
            raise RefreshInFlight(self.role_arn)
        logger.info(
            "Another process held the credential store's lock for %s past %.1f s; fetching",
            self.role_arn,
            limit,
        )
        return self._cached_or_fetched(mode, key)  # raises the timeout if no time is left

    def _store_min_remaining(self, entry: Mapping[str, Any]) -> float:
        """A stored answer is served until its own advisory window opens."""
        expiry = parse_expiry(entry["Credentials"]["Expiration"])
        issued = fetched_at(entry) or utc_now()
        return self._windows.advisory_window((expiry - issued).total_seconds())

    def _plan(self, mode: FetchMode, remaining: float | None) -> CallPlan:
        """This caller's plan for one call now, or `AssumeRoleTimeoutError` if none fits."""
        return call_plan_for(
            self.role_arn, self._windows, advisory=mode != "urgent", remaining=remaining
        )

    def _assume_role(self, mode: FetchMode) -> dict[str, Any]:
        role_arn = self._params.role_arn
        kwargs = dict(self._params.request)
        kwargs["RoleArn"] = role_arn
        kwargs["RoleSessionName"] = self.role_session_name()
        question = mfa_prompt(kwargs)
        if question is not None:
            kwargs["TokenCode"] = (self._mfa_prompter or getpass.getpass)(question)
        remaining = invocation.remaining_seconds()
        plan = self._plan(mode, remaining)
        client = sts_client_for(self._parent, plan)
        observed = telemetry.observed_refresh()
        if observed is None:
            response, elapsed_ms = self._send(client, kwargs, plan, remaining)
        else:
            with observed.assume_role_call():
                response, elapsed_ms = self._send(client, kwargs, plan, remaining)

        credentials = response.get("Credentials")
        if not isinstance(credentials, dict):
            raise AssumeRoleError.from_code(
                role_arn, INVALID_RESPONSE, "STS's answer has no Credentials"
            )
        arn = response.get("AssumedRoleUser", {}).get("Arn", "")
        if isinstance(arn, str) and arn.count(":") >= 5:
            credentials["AccountId"] = arn.split(":")[4]
        logger.info(
            "Assumed role %s as session %s, expires %s (%.1f ms, worker %s)",
            role_arn,
            kwargs["RoleSessionName"],
            credentials.get("Expiration"),
            elapsed_ms,
            environment.worker_id(),
            extra={
                "worker_id": environment.worker_id(),
                "role_arn": role_arn,
                "role_session_name": kwargs["RoleSessionName"],
                "expiration": str(credentials.get("Expiration")),
                "latency_ms": round(elapsed_ms, 1),
            },
        )
        return response

    def _send(
        self, client: Any, kwargs: dict[str, Any], plan: CallPlan, remaining: float | None
    ) -> tuple[dict[str, Any], float]:
        """One AssumeRole call: STS's answer and the milliseconds it took, or our error."""
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotocoreConnectionError
        from botocore.parsers import ResponseParserError

        role_arn = self._params.role_arn
        # Failures are built inside the handlers and raised after them, so
        # that botocore's exception (which may quote the raw answer, keys
        # included) is neither the cause nor the context of ours.
        failure: Exception | None = None
        started = time.perf_counter()
        try:
            response: dict[str, Any] = call_within(plan.cap, lambda: client.assume_role(**kwargs))
        except CallAbandonedError as error:
            failure = self._abandoned(error, plan, remaining)
        except ClientError as error:
            failure = AssumeRoleError(
                role_arn,
                error,
                role_session_name=kwargs["RoleSessionName"],
                source_identity=kwargs.get("SourceIdentity"),
                known=secrets_of(self._parent),
            )
        except (BotocoreConnectionError, HTTPClientError) as error:
            failure = self._unreachable(error, plan, remaining, time.perf_counter() - started)
        except ResponseParserError:
            failure = AssumeRoleError.from_code(
                role_arn, INVALID_RESPONSE, "STS's answer could not be parsed (cut short?)"
            )
        except BotoCoreError:
            # The parent's credentials (NoCredentialsError...) or configuration
            # (NoRegionError...): botocore's own words, which hold no answer.
            raise
        except _PARSING_ERRORS as error:
            # botocore's parsers let some malformed values through as these
            # (an Expiration that is not a date raises ValueError).
            failure = AssumeRoleError.from_code(
                role_arn,
                INVALID_RESPONSE,
                f"STS's answer could not be parsed ({type(error).__name__})",
            )
        except Exception as error:
            failure = AssumeRoleError.from_code(
                role_arn, type(error).__name__, "the AssumeRole call failed unexpectedly"
            )
        if failure is not None:
            raise failure
        elapsed_ms = (time.perf_counter() - started) * 1000
        return response, elapsed_ms

    def _unreachable(
        self, error: Exception, plan: CallPlan, remaining: float | None, waited: float
    ) -> Exception:
        role_arn = self._params.role_arn
        timed_out = isinstance(error, (ReadTimeoutError, ConnectTimeoutError))
        if remaining is not None and timed_out:
            return AssumeRoleTimeoutError(
                role_arn,
                f"did not finish before the invocation's deadline: STS did not answer in "
                f"{waited:.1f} s ({plan.max_attempts} attempt(s), {remaining:.1f} s were left)",
            )
        return AssumeRoleConnectionError(role_arn, error, known=secrets_of(self._parent))

    def _abandoned(
        self, error: CallAbandonedError, plan: CallPlan, remaining: float | None
    ) -> Exception:
        role_arn = self._params.role_arn
        if remaining is not None:
            return AssumeRoleTimeoutError(
                role_arn,
                f"did not finish before the invocation's deadline: {error} "
                f"(capped at {plan.cap:g} s, {remaining:.1f} s were left)",
            )
        return AssumeRoleConnectionError(
            role_arn, f"was abandoned: STS did not finish answering ({error})"
        )

    # -- cache -------------------------------------------------------------------------

    def _cache_key_if(self, cache: Any) -> str:
        return self._cache_key() if cache is not None else ""

    def _cache_key(self) -> str:
        """botocore's key for this request, bound to the parent's principal.

        botocore keys an entry by the request alone, so a cache shared by two
        principals hands B the keys A fetched, and B is never checked against
        the role's trust policy. Here the parent's access key id is part of
        the key: an entry is only ever served to the principal that fetched it.
        """
        credentials = self._parent.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        principal = credentials.get_frozen_credentials().access_key
        return self._params.cache_key(principal or "")

    def __repr__(self) -> str:
        return f"AssumeRoleFetcher(role_arn={self._params.role_arn!r})"


_PARSING_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)
