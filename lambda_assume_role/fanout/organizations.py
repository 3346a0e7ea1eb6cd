"""The active accounts of an AWS Organization, as fan-out targets, listed lazily.

`organization_accounts` pages through Organizations and yields one `Target`
per active account as each page arrives, so a fan-out can start on the first
accounts while later pages are still to be fetched, and nothing holds the whole
organization in memory.

Why not filter on ``Status`` as most tools do: AWS retires the account's
``Status`` field in favour of ``State`` (which adds ``PENDING_ACTIVATION`` and
``CLOSED``). An account is kept when its ``State`` is ``ACTIVE``; ``Status`` is
read only when ``State`` is absent (older API answers), so the same code works
before, during and after the change, including on a botocore whose model
predates ``State`` (see `_state_from_body`).

The caller's own account is left out by default: the usual role to assume
(``OrganizationAccountAccessRole``) does not exist in the management account,
so including it would only produce an AccessDenied outcome.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role.arns import is_account_id
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.fanout.targets import Target

if TYPE_CHECKING:
    import boto3

__all__ = ["AccountFilter", "AccountPredicate", "is_active", "organization_accounts"]

logger = logging.getLogger("lambda_assume_role")

AccountPredicate = Callable[[Mapping[str, Any]], bool]
"""Decides on one account, given as Organizations describes it (``Id``, ``Name``,
``Email``, ``Arn``, ``State``, ``JoinedTimestamp``, ...)."""

AccountFilter = Iterable[str] | AccountPredicate
"""What ``include`` and ``exclude`` take: account ids, or a predicate on the account."""

# ListAccountsForParent's ParentId: a root or an organizational unit (Organizations API reference).
_PARENT_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")

# Organizations allows a few requests per second per account and answers
# TooManyRequestsException beyond; botocore's standard mode retries that with
# jittered exponential backoff. A few more attempts than its default 3, because
# a throttled listing at the start of a run costs the whole run.
_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 6}


def is_active(account: Mapping[str, Any]) -> bool:
    """Whether an account, as ListAccounts describes it, is active.

    ``State`` decides when present; ``Status`` only when ``State`` is absent.
    An account with neither is not counted as active: nothing says it is.

    Example:
        >>> is_active({"Id": "111111111111", "State": "ACTIVE", "Status": "ACTIVE"})
        True
        >>> is_active({"Id": "111111111111", "State": "SUSPENDED", "Status": "ACTIVE"})
        False
        >>> is_active({"Id": "111111111111", "Status": "ACTIVE"})
        True
        >>> is_active({"Id": "111111111111", "State": "PENDING_CLOSURE"})
        False
    """
    state = account.get("State")
    if state is None:
        state = account.get("Status")
    return state == "ACTIVE"


def organization_accounts(
    parent: boto3.Session | None = None,
    *,
    ous: Iterable[str] | None = None,
    include: AccountFilter | None = None,
    exclude: AccountFilter | None = None,
    include_self: bool = False,
) -> Iterator[Target]:
    """Yield a `Target` (region None) for each active account of the organization, lazily.

    Without ``ous``, it pages through ``ListAccounts``. With ``ous``, it walks
    each given root or OU and every OU below it (breadth-first), with
    ``ListAccountsForParent`` and ``ListOrganizationalUnitsForParent``; an OU
    reached twice (an OU and its parent both given) is walked once, so no
    account is yielded twice. Pages are requested only as the iteration
    needs them: the first targets arrive before the last page is asked for.

    It keeps only active accounts (see `is_active`: ``State``, else ``Status``)
    and leaves out the caller's own account, found once with
    ``sts:GetCallerIdentity``, unless ``include_self``. ``include`` and
    ``exclude`` then apply; an account in both is excluded. When ``include``
    holds ids, the listing stops as soon as every one of them has been seen.
    A botocore too old to know ``State`` (1.34) drops it while parsing; it is
    read back from the response body, so such runtimes filter correctly too.

    The arguments are checked when you call it; no request is sent until you
    iterate. It makes one Organizations client (and one STS client unless
    ``include_self``) on ``parent`` at the first iteration, and closes them
    when done. Both use botocore's standard retry mode with up to 6 attempts,
    whatever ``AWS_RETRY_MODE``/``AWS_MAX_ATTEMPTS`` say: Organizations
    throttles at a few requests per second, and a throttled page is retried
    with jittered backoff rather than failing the listing. Like any client
    creation on a boto3 session, that must not race other threads using the
    same ``parent``.

    Args:
        parent: The session whose credentials call Organizations: the
            management account or a delegated administrator. Default
            ``boto3.Session()``.
        ous: Root or OU ids (``r-...``, ``ou-...``) to walk, recursively.
            None lists the whole organization; an empty list lists nothing.
        include: Only these accounts: an iterable of 12-digit account ids, or
            a predicate on the account's description (``Name``, ``Email``, ...;
            it is what the listing already returns, so it costs no request).
        exclude: Not these accounts: account ids, or a predicate as above.
        include_self: Also yield the caller's own account, if it is active
            and listed.

    Returns:
        An iterator of `Target`; an account appears at most once.

    Raises:
        InvalidParameterError: At the call, before any request: an id in
            ``include``/``exclude`` that is not 12 digits, an id in ``ous``
            that is neither a root nor an OU id, or a single string where an
            iterable of ids is expected. The message names the parameter.
        botocore.exceptions.ClientError: While iterating, when Organizations
            refuses (for example ``AWSOrganizationsNotInUseException``, or
            ``AccessDeniedException`` from an account that is neither the
            management account nor a delegated administrator), or stays
            throttled after the retries.

    Example:
        >>> import boto3
        >>> organizations = boto3.client("organizations")
        >>> _ = organizations.create_organization(FeatureSet="ALL")
        >>> _ = organizations.create_account(Email="a@example.com", AccountName="sandbox-a")
        >>> sandboxes = organization_accounts(include=lambda account: "sandbox" in account["Name"])
        >>> [len(target.account_id) for target in sandboxes]
        [12]

        Bad ids are refused at the call, before any request:

        >>> try:
        ...     organization_accounts(include=["1234"])
        ... except InvalidParameterError as error:
        ...     print(error)
        include must hold 12-digit account ids; got '1234'
    """
    parents = None if ous is None else _ids("ous", ous, "root or OU ids", _is_parent_id)
    keep, include_ids = _filter("include", include)
    drop, _ = _filter("exclude", exclude)
    wanted = None if include_ids is None else set(include_ids)
    return _listing(parent, parents, keep=keep, drop=drop, wanted=wanted, include_self=include_self)


def _listing(
    parent: boto3.Session | None,
    parents: list[str] | None,
    *,
    keep: AccountPredicate | None,
    drop: AccountPredicate | None,
    wanted: set[str] | None,
    include_self: bool,
) -> Iterator[Target]:
    if wanted is not None and not wanted:
        return
    import boto3
    from botocore.config import Config

    session = parent if parent is not None else boto3.Session()
    config = Config(retries=_RETRIES)  # type: ignore[arg-type]
    own_account = None
    if not include_self:
        sts = session.client("sts", config=config)
        try:
            own_account = sts.get_caller_identity()["Account"]
        finally:
            sts.close()
    organizations = session.client("organizations", config=config)
    account_shape = organizations.meta.service_model.shape_for("Account")
    if "State" not in getattr(account_shape, "members", {}):
        for operation in ("ListAccounts", "ListAccountsForParent"):
            organizations.meta.events.register(
                f"after-call.organizations.{operation}", _state_from_body
            )
    try:
        yield from _filtered(
            _pages(organizations) if parents is None else _walk(organizations, parents),
            own_account=own_account,
            keep=keep,
            drop=drop,
            wanted=wanted,
        )
    finally:
        # Also when the caller stops early: the connection pool goes now, not at garbage collection.
        organizations.close()


def _filtered(
    accounts: Iterable[Mapping[str, Any]],
    *,
    own_account: str | None,
    keep: AccountPredicate | None,
    drop: AccountPredicate | None,
    wanted: set[str] | None,
) -> Iterator[Target]:
    listed = yielded = inactive = unknown = 0
    for account in accounts:
        listed += 1
        account_id = account["Id"]
        if not is_active(account):
            inactive += 1
            unknown += account.get("State") is None and account.get("Status") is None
        elif (
            account_id != own_account
            and (keep is None or keep(account))
            and (drop is None or not drop(account))
        ):
            yielded += 1
            yield Target(account_id)
        if wanted is not None:
            wanted.discard(account_id)
            if not wanted:
                break
    logger.debug(
        "organization_accounts: %d listed, %d yielded, %d inactive", listed, yielded, inactive
    )
    if unknown:
        logger.warning(
            "organization_accounts skipped %d accounts that Organizations described with "
            "neither State nor Status",
            unknown,
        )


def _state_from_body(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    """Put back the ``State`` that a botocore older than the field dropped while parsing.

    botocore keeps only the members its service model knows, and older
    Organizations models have no ``State`` (botocore 1.34's has none). A Lambda
    runtime that ships such a botocore would see no ``State`` at all, and,
    since AWS stopped sending ``Status`` (retired on 2026-09-09), no way to
    tell an active account from a closed one.
    """
    accounts = parsed.get("Accounts")
    if not accounts:
        return
    try:
        raw = json.loads(http_response.content)
        states = {a["Id"]: a["State"] for a in raw["Accounts"] if "State" in a}
    except (ValueError, TypeError, KeyError):
        return
    for account in accounts:
        if "State" not in account and account.get("Id") in states:
            account["State"] = states[account["Id"]]


def _pages(organizations: Any) -> Iterator[Mapping[str, Any]]:
    for page in organizations.get_paginator("list_accounts").paginate():
        yield from page.get("Accounts", ())


def _walk(organizations: Any, parents: list[str]) -> Iterator[Mapping[str, Any]]:
    """The accounts under ``parents``, breadth-first; each root or OU is visited once."""
    accounts = organizations.get_paginator("list_accounts_for_parent")
    children = organizations.get_paginator("list_organizational_units_for_parent")
    queue = deque(parents)
    visited: set[str] = set()
    while queue:
        parent_id = queue.popleft()
        if parent_id in visited:
            continue
        visited.add(parent_id)
        for page in accounts.paginate(ParentId=parent_id):
            yield from page.get("Accounts", ())
        for page in children.paginate(ParentId=parent_id):
            queue.extend(ou["Id"] for ou in page.get("OrganizationalUnits", ()))


def _filter(
    name: str, spec: AccountFilter | None
) -> tuple[AccountPredicate | None, frozenset[str] | None]:
    """The predicate ``spec`` stands for, and its account ids when it is a list of them."""
    if spec is None:
        return None, None
    if callable(spec):
        return spec, None
    ids = frozenset(_ids(name, spec, "12-digit account ids", is_account_id))
    return (lambda account: account["Id"] in ids), ids


def _ids(name: str, values: Iterable[str], kind: str, valid: Callable[[object], bool]) -> list[str]:
    """``values`` as a list, each one checked; the error names the parameter and the bad value."""
    if isinstance(values, (str, bytes)):
        raise InvalidParameterError(
            f"{name} must be an iterable of {kind}, not a single string; "
            f"got {values!r} (write [{values!r}])"
        )
    try:
        listed = list(values)
    except TypeError:
        raise InvalidParameterError(
            f"{name} must be an iterable of {kind}; got {type(values).__name__}"
        ) from None
    for value in listed:
        if not valid(value):
            raise InvalidParameterError(f"{name} must hold {kind}; got {value!r}")
    return listed


def _is_parent_id(value: object) -> bool:
    return isinstance(value, str) and _PARENT_ID.fullmatch(value) is not None
