"""The front door for a role: one function normalises, validates once and keys a request.

`assume_role`, `SessionRegistry`, `TenantRole` and `fan_out` all come in
through `prepare_role`: it splits `assume_role`'s keywords into the AssumeRole
request and the session options, checks the options, decides whether the
parent's credentials make this role chaining (STS then caps the session at one
hour), normalises and validates the request against STS's model and our rules
(`lambda_assume_role.parameters.prepare_parameters`), resolves
``region_name=True`` to the parent's region, and returns an immutable
`PreparedRole` whose key says exactly which session it needs. Nothing here
makes a network call or builds a session.

A prepared role for one account serves another with `PreparedRole.for_role`:
the request is the same but for the role's ARN, so nothing else is checked
again (fan-out prepares once for thousands of accounts). `PreparedRole.scoped`
keys a prepared role apart for one owner (`TenantRole`: the full tenant id), so
two owners never share a session even when their requests are equal.

Example:
    >>> import boto3
    >>> parent = boto3.Session(aws_access_key_id="AKIDEXAMPLE",
    ...                        aws_secret_access_key="example", region_name="eu-west-1")
    >>> reader = prepare_role(parent, "arn:aws:iam::111111111111:role/Reader",
    ...                       {"DurationSeconds": 900, "region_name": True})
    >>> reader.role_arn, reader.region_name
    ('arn:aws:iam::111111111111:role/Reader', 'eu-west-1')
    >>> other = reader.for_role("arn:aws:iam::222222222222:role/Reader")
    >>> other.params.duration_seconds, other.key == reader.key
    (900, False)
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role import environment
from lambda_assume_role.arns import parse_role_arn
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.parameters import AssumeRoleParameters, prepare_parameters, request_key
from lambda_assume_role.session_options import check_session_options, split_session_options

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.refresh_policy import RefreshWindows

__all__ = [
    "ROLE_CREDENTIAL_METHODS",
    "PreparedRole",
    "argument_key",
    "identity",
    "is_role_chaining",
    "prepare_role",
    "value_key",
]

# botocore credential methods (`Credentials.method`) that are themselves role
# credentials: assuming a role from them is role chaining, which STS caps at
# one hour. Instance profiles (iam-role), ECS/EKS container roles
# (container-role) and IAM Identity Center (sso) hand out role credentials too.
ROLE_CREDENTIAL_METHODS = frozenset(
    {
        "assume-role",
        "assume-role-with-web-identity",
        "iam-role",
        "container-role",
        "sso",
    }
)


class PreparedRole:
    """A role with its `assume_role` keywords, normalised, validated and keyed once.

    Made by `prepare_role` (through `SessionRegistry.prepare`, `assume_role`,
    `TenantRole` or `fan_out`); immutable. Two prepared roles with equal keys
    need the same session. (A plain class with slots: a dataclass costs about
    half a millisecond at import, on the decorators' import path.)

    Attributes:
        params: The normalised AssumeRole request
            (`lambda_assume_role.parameters.AssumeRoleParameters`).
        region_name: The session's region as it will be built: a region
            name, None (follow the parent's region as it changes) or False
            (leave it to botocore's own configuration). ``region_name=True``
            is resolved here to the parent's region at preparation.
        cache: The dict-like cache of AssumeRole responses, or None.
        refresh_windows: The refresh policy's windows, or None for the defaults.
        credential_store: Where this environment's processes share credentials:
            None (the default: on under Managed Instances), False, True, a
            folder or a `lambda_assume_role.credential_store.CredentialStore`.
        key: Equal only for the same AssumeRole request, session options and
            scope (`scoped`).
    """

    __slots__ = ("cache", "credential_store", "key", "params", "refresh_windows", "region_name")

    params: AssumeRoleParameters
    region_name: str | bool | None
    cache: Any
    refresh_windows: RefreshWindows | None
    credential_store: Any
    key: Hashable

    def __init__(
        self,
        params: AssumeRoleParameters,
        region_name: str | bool | None,
        cache: Any,
        refresh_windows: RefreshWindows | None,
        key: Hashable,
        *,
        credential_store: Any = None,
    ) -> None:
        for name, value in (
            ("params", params),
            ("region_name", region_name),
            ("cache", cache),
            ("refresh_windows", refresh_windows),
            ("credential_store", credential_store),
            ("key", key),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"PreparedRole is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"PreparedRole is immutable: cannot delete {name}")

    @property
    def role_arn(self) -> str:
        """The role to assume."""
        return self.params.role_arn

    @property
    def scope(self) -> Hashable:
        """Who this role's sessions belong to (`scoped`), or None: anyone with an equal request."""
        key = self.key
        # The scope lives in the key only: one more element than an unscoped key has.
        return key[_SCOPE_INDEX] if isinstance(key, tuple) and len(key) > _SCOPE_INDEX else None

    def for_role(self, role_arn: str) -> PreparedRole:
        """The same request and options for another role, checked only for its ARN.

        Raises:
            InvalidParameterError: ``role_arn`` is not a role ARN.
        """
        try:
            parse_role_arn(role_arn)
        except ValueError as error:
            raise InvalidParameterError(str(error)) from None
        params = AssumeRoleParameters(
            role_arn=role_arn,
            request=self.params.request,
            key=request_key(role_arn, self.params.request),
        )
        return self._rebuilt(params, self.scope)

    def _rebuilt(self, params: AssumeRoleParameters, scope: Hashable) -> PreparedRole:
        return PreparedRole(
            params=params,
            region_name=self.region_name,
            cache=self.cache,
            refresh_windows=self.refresh_windows,
            credential_store=self.credential_store,
            key=_key(
                params,
                self.region_name,
                self.cache,
                self.refresh_windows,
                self.credential_store,
                scope=scope,
            ),
        )

    def scoped(self, scope: Hashable) -> PreparedRole:
        """The same request and options, keyed apart for one owner of its sessions.

        Two prepared roles with different scopes never share a session (nor
        its credentials), even when STS would receive the same request: what
        a session name cut with a digest cannot promise, a key can.
        `TenantRole` scopes each tenant's role by the full tenant id. Nothing
        is validated again.

        Args:
            scope: Who the sessions belong to; hashable, compared by value.
                None means no scope (this role as it is).

        Returns:
            An immutable `PreparedRole`.

        Example:
            >>> reader = prepare_role(parent, ROLE_ARN)
            >>> acme = reader.scoped(("tenant", "acme"))
            >>> globex = reader.scoped(("tenant", "globex"))
            >>> acme.params == globex.params, acme.key == globex.key
            (True, False)
            >>> acme == reader.scoped(("tenant", "acme")), acme.scope
            (True, ('tenant', 'acme'))
            >>> acme.for_role("arn:aws:iam::222222222222:role/Reader").scope  # kept
            ('tenant', 'acme')
        """
        return self._rebuilt(self.params, scope)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PreparedRole) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        # Never the key: it spells out the whole request (a TokenCode included).
        name = self.params.role_session_name or "<generated>"
        return (
            f"PreparedRole(role_arn={self.role_arn!r}, role_session_name={name!r}, "
            f"region_name={self.region_name!r})"
        )


def prepare_role(
    parent: boto3.Session,
    RoleArn: str,
    assume_role_kwargs: Mapping[str, Any] | None = None,
    *,
    require_credentials: bool = False,
    parent_lock: threading.Lock | None = None,
) -> PreparedRole:
    """Normalise, validate and key a role and its `assume_role` keywords: the one front door.

    Args:
        parent: The session whose credentials will assume the role.
        RoleArn: The role to assume.
        assume_role_kwargs: Any keyword `assume_role` takes besides the
            parent: the AssumeRole parameters and the session options
            ``region_name``, ``cache``, ``refresh_windows`` and ``validate``.
        require_credentials: Raise botocore's `NoCredentialsError` now when the
            parent has no credentials (`assume_role` does, as
            aws-assume-role-lib did); otherwise the first signed call does.
        parent_lock: Held while the parent's credentials are resolved
            (botocore's lazy components are not thread-safe on first use).

    Returns:
        An immutable `PreparedRole`.

    Raises:
        InvalidParameterError: ``parent`` is not a `boto3.Session`, or a
            parameter or session option breaks a rule (also a `ValueError`),
            the chaining cap included.
        TypeError: A keyword `assume_role` does not take.
        botocore.exceptions.NoCredentialsError: With ``require_credentials``,
            the parent has none.
    """
    import boto3

    request, options = split_session_options(assume_role_kwargs or {})
    check_session_options(options)
    if not isinstance(parent, boto3.Session):
        raise InvalidParameterError(
            f"session must be a boto3.Session (the parent); got {type(parent).__name__}"
        )
    validate = options.get("validate", True)
    if parent_lock is None:
        credentials = parent.get_credentials()
    else:
        with parent_lock:
            credentials = parent.get_credentials()
    if require_credentials and not credentials:
        import botocore.exceptions

        raise botocore.exceptions.NoCredentialsError()
    chained = bool(validate) and is_role_chaining(parent, credentials)
    params = prepare_parameters(RoleArn, request, validate=validate, chained=chained)
    region = options.get("region_name")
    if region is True:
        # Pinned now; keyed on what it pins, so a parent whose region changes
        # later gets a session in its new region.
        region = parent.region_name or False
    cache = options.get("cache")
    windows = options.get("refresh_windows")
    store = options.get("credential_store")
    return PreparedRole(
        params=params,
        region_name=region,
        cache=cache,
        refresh_windows=windows,
        credential_store=store,
        key=_key(params, region, cache, windows, store),
    )


def is_role_chaining(parent: boto3.Session, credentials: Any) -> bool:
    """Whether assuming a role from ``parent`` is role chaining (capped at one hour by STS).

    True when the parent is itself an assumed-role session (ours or
    aws-assume-role-lib's), when its credentials come from any botocore
    provider of role credentials (`ROLE_CREDENTIAL_METHODS`: assume-role, web
    identity, instance profile, container role, IAM Identity Center), or when
    the code runs in Lambda on the execution role's credentials (environment
    credentials with a session token). Never makes a network call.
    """
    if hasattr(parent, "assume_role_parent_session"):
        return True
    method = getattr(credentials, "method", None)
    if method in ROLE_CREDENTIAL_METHODS:
        return True
    return method == "env" and environment.on_execution_role()


def _key(
    params: AssumeRoleParameters,
    region: Any,
    cache: Any,
    windows: RefreshWindows | None,
    store: Any,
    *,
    scope: Hashable = None,
) -> Hashable:
    key = (params.key, region, identity(cache), value_key(windows), value_key(store))
    # A scope makes the key one longer, so it never equals an unscoped one.
    return key if scope is None else (*key, scope)


_SCOPE_INDEX = 5


def identity(value: object) -> int | None:
    """A key for an option compared by identity (a cache, a client config): its id, or None."""
    return None if value is None else id(value)


def value_key(value: object) -> Hashable:
    """A key for an option compared by value (refresh windows): itself, or its repr."""
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)


def argument_key(role_arn: str, kwargs: Mapping[str, Any]) -> Hashable | None:
    """A cheap key for the exact arguments of a call, or None when they can't have one.

    Each value is paired with its type, recursively, and dicts keep their
    order (it reaches STS), so ``1`` and ``True``, ``900`` and ``900.0``,
    or two orders of the same Tags never share a key. `SessionRegistry`
    finds an earlier call's `PreparedRole` by it without preparing again.

    Example:
        >>> argument_key("arn:aws:iam::111111111111:role/R", {"DurationSeconds": 900}) == \\
        ...     argument_key("arn:aws:iam::111111111111:role/R", {"DurationSeconds": 900.0})
        False
        >>> argument_key("arn:aws:iam::111111111111:role/R", {"Tags": {"a", "b"}}) is None
        True
    """
    if not kwargs:
        return role_arn
    try:
        parts: list[Hashable] = [role_arn]
        for name in sorted(kwargs):
            value = kwargs[name]
            if name == "cache":
                parts.append((name, identity(value)))
            elif name in ("refresh_windows", "credential_store"):
                parts.append((name, value_key(value)))
            else:
                parts.append((name, _fingerprint(value)))
        key = tuple(parts)
        hash(key)
    except TypeError:
        return None
    return key


_SCALARS: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), datetime.timedelta, datetime.datetime}
)


def _fingerprint(value: Any) -> Hashable:
    """``value`` with the type of every part, recursively; TypeError for anything else."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is list or kind is tuple:
        return (kind, tuple(_fingerprint(item) for item in value))
    if kind is dict:
        return (kind, tuple((_fingerprint(k), _fingerprint(v)) for k, v in value.items()))
    raise TypeError(f"no key for {kind.__name__}")
