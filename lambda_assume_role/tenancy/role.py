r"""Tenant isolation: one shared role, assumed per tenant with that tenant's tags and policy.

The SaaS "token vending machine" pattern, made safe and cached::

    tenant_data = TenantRole(
        "arn:aws:iam::123456789012:role/TenantData",
        tenant=authorizer_claim("custom:tenant_id"),   # only what the authorizer verified
        policy={"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::tenant-data/{tenant}/*"}]},
    )

    @inject_client("dynamodb", tenant_data, name="table")
    def handler(event, context, table): ...

A `TenantRole` is a role source: called with ``(event, context)`` it returns
the AssumeRole parameters for the invocation's tenant, which `inject_session`,
`inject_client` and `SessionRegistry` turn into one cached, self-refreshing
session per tenant (one AssumeRole per tenant per credential period).

What it guards against:

* **Policy injection.** The tenant id is put into string *values* of the
  parsed policy (``"{tenant}"`` is replaced there), never into JSON text, and
  an id must first be a plausible identifier: 1-256 characters of
  ``[A-Za-z0-9_+=,.@-]`` (what a role session name may hold; it always lands
  there), and whatever STS allows where else it lands (a session tag value,
  ``SourceIdentity``), by STS's own request model
  (`lambda_assume_role.parameters.prepare_parameters`). So
  ``acme","Resource":"*`` is refused before any request, and nothing is cached
  for it.
* **Unverified tenant ids.** The default source is ``context.tenant_id``
  (Lambda's tenant isolation mode, read at each invocation); `authorizer_claim`
  reads only what API Gateway's authorizer verified, never headers, the query
  string, path parameters or the body.
* **Sessions shared between tenants.** The registry keys a session by the
  exact request, which holds the tenant's tags, policy and session name.
* **Limits found out at STS.** Tag keys and values, their counts and patterns,
  ``SourceIdentity`` and the documented 2,048-character policy plaintext limit
  are checked before the call. When STS still answers
  ``PackedPolicyTooLarge`` (the packed-size budget that policy and tags share
  cannot be computed locally), the `AssumeRoleError` names the session and the
  tenant (``SourceIdentity``) and quotes STS's percentage.

The session name is `lambda_assume_role.naming.tenant_session_name`:
``{tenant}.{execution environment}``, cut with a hash for long ids, so
CloudTrail attributes every call to a tenant and an environment. An explicit
``RoleSessionName`` is refused: it would merge every tenant into one name.

Only the standard library is imported with this module; botocore's STS model
is loaded when the first tenant is rendered.
"""

from __future__ import annotations

import copy
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.naming import SESSION_NAME_CHARACTERS, tenant_session_name

if TYPE_CHECKING:
    from lambda_assume_role.registry import PreparedRole, SessionRegistry

__all__ = [
    "DEFAULT_TAGS",
    "MAX_TENANT_ID_LENGTH",
    "PLACEHOLDER",
    "TENANT_ID_RULE",
    "TenantError",
    "TenantRole",
    "TenantSource",
    "authorizer_claim",
    "check_tenant_id",
    "context_tenant_id",
]

PLACEHOLDER = "{tenant}"
"""What is replaced with the tenant id in tag values and in the policy's string values."""

DEFAULT_TAGS: Mapping[str, str] = MappingProxyType({"TenantId": PLACEHOLDER})
"""The session tags `TenantRole` sets by default: ``aws:PrincipalTag/TenantId`` for ABAC."""

MAX_TENANT_ID_LENGTH = 256
"""The longest tenant id: STS's maximum for a session tag value (and for ``SourceIdentity``
in current botocore models; botocore 1.34's says 64, and the installed model decides).

A unit test checks it against botocore's STS model.
"""

TENANT_ID_RULE = rf"1-{MAX_TENANT_ID_LENGTH} characters of [A-Za-z0-9_+=,.@-]"
"""The tenant id rule in words (before the rules of where it lands)."""

TenantSource = Callable[[Any, Any], Any]
"""A callable ``(event, context)`` returning the invocation's tenant id."""

_MEMO_SIZE = 1024
_V = TypeVar("_V")
# Keywords TenantRole sets itself; given in **assume_role_kwargs they are refused.
_OWN_PARAMETERS = {
    "RoleArn": "the role is TenantRole's first argument",
    "RoleSessionName": "the session name is always the tenant's (tenant_session_name), so "
    "CloudTrail attributes each call to one tenant",
    "SourceIdentity": "use source_identity=True to set it to the tenant id",
    "Tags": "use tags=",
    "TransitiveTagKeys": "use transitive_tag_keys=",
    "Policy": "use policy=",
}
# A tenant id used to render the templates at construction, valid everywhere.
_PROBE_TENANT = "tenant"


class TenantError(InvalidParameterError):
    """A tenant id is missing or refused; raised before any network call, nothing cached.

    A subclass of `InvalidParameterError` (so also a `ValueError` and
    botocore's ``ParamValidationError``): handlers that turn bad input into a
    400 catch it already. The message names the tenant source and the rule,
    and never shows a refused id (only its length and the first offending
    character).

    Attributes:
        source: Where the id came from, e.g. ``authorizer_claim('custom:tenant_id')``
            or ``context.tenant_id``.
    """

    def __init__(self, report: str, source: str = "") -> None:
        super().__init__(report)
        self.source = source

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kwargs["report"], self.source))


# --- Tenant sources -------------------------------------------------------------------------


def context_tenant_id(event: Any, context: Any) -> str:
    """The tenant id Lambda gives a function in tenant isolation mode: ``context.tenant_id``.

    `TenantRole`'s default tenant source. It is read at each invocation,
    never at init or import: the id exists only during an invocation.

    Raises:
        TenantError: The context has no tenant id (the function is not in
            tenant isolation mode, or the runtime client is too old to pass
            it on).

    Example:
        >>> from types import SimpleNamespace
        >>> context_tenant_id({}, SimpleNamespace(tenant_id="acme"))
        'acme'
        >>> context_tenant_id({}, SimpleNamespace())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.TenantError: context.tenant_id is not set: ...
    """
    tenant_id = getattr(context, "tenant_id", None)
    if tenant_id is None:
        raise TenantError(
            "context.tenant_id is not set: the function is not running in Lambda's tenant "
            "isolation mode (TenancyConfig TenantIsolationMode: PER_TENANT, invoked with a "
            "tenant id), or its runtime client does not pass the id on; otherwise give "
            "TenantRole a tenant source, e.g. tenant=authorizer_claim('custom:tenant_id')",
            "context.tenant_id",
        )
    return tenant_id  # type: ignore[no-any-return]


class authorizer_claim:  # noqa: N801 - used like a function: authorizer_claim("custom:tenant_id")
    """A tenant source reading one claim that API Gateway's authorizer verified.

    Only ``requestContext.authorizer`` is read: API Gateway writes it after
    the authorizer accepted the request, and a client cannot set it. Headers,
    the query string, path parameters, stage variables and the body are never
    read, even when they hold a field of the same name.

    * REST API (and HTTP API payload 1.0): a Cognito user pool authorizer's
      ``requestContext.authorizer.claims[name]``, else a Lambda authorizer's
      context, ``requestContext.authorizer[name]``.
    * HTTP API (payload 2.0, ``"version": "2.0"``): a JWT authorizer's
      ``requestContext.authorizer.jwt.claims[name]``, else a Lambda
      authorizer's ``requestContext.authorizer.lambda[name]``.

    Args:
        name: The claim or context key, e.g. ``"custom:tenant_id"``.

    Raises:
        TypeError: ``name`` is not a non-empty string.

    Example:
        >>> claim = authorizer_claim("custom:tenant_id")
        >>> claim({"requestContext": {"authorizer": {"claims": {"custom:tenant_id": "acme"}}},
        ...        "headers": {"custom:tenant_id": "evil"}}, None)
        'acme'
        >>> claim({"version": "2.0", "requestContext": {"authorizer": {
        ...     "jwt": {"claims": {"custom:tenant_id": "acme"}}}}}, None)
        'acme'
        >>> claim
        authorizer_claim('custom:tenant_id')
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty claim name; got {name!r}")
        self.name = name

    def __call__(self, event: Any, context: Any) -> Any:
        request_context = event.get("requestContext") if isinstance(event, Mapping) else None
        authorizer = (
            request_context.get("authorizer") if isinstance(request_context, Mapping) else None
        )
        if not isinstance(authorizer, Mapping):
            raise TenantError(
                f"{self!r}: the event has no requestContext.authorizer; the function must be "
                "invoked by API Gateway through an authorizer (a Cognito user pool, JWT or "
                "Lambda authorizer)",
                repr(self),
            )
        if event.get("version") == "2.0":
            places = (
                ("jwt.claims", _child(authorizer, "jwt", "claims")),
                ("lambda", _child(authorizer, "lambda")),
            )
        else:
            places = (("claims", _child(authorizer, "claims")), ("", authorizer))
        for _, place in places:
            if place is not None and self.name in place:
                return place[self.name]
        where = " or ".join(
            f"requestContext.authorizer{'.' + path if path else ''}[{self.name!r}]"
            for path, _ in places
        )
        raise TenantError(
            f"{self!r}: the authorizer did not set {where}; check the claim's name and that "
            "the authorizer adds it",
            repr(self),
        )

    def __repr__(self) -> str:
        return f"authorizer_claim({self.name!r})"


def _child(mapping: Mapping[str, Any], *path: str) -> Mapping[str, Any] | None:
    node: Any = mapping
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def _source_label(source: Any) -> str:
    if source is context_tenant_id:
        return "context.tenant_id"
    if isinstance(source, authorizer_claim):
        return repr(source)
    return str(getattr(source, "__qualname__", None) or repr(source))


# --- Templates ------------------------------------------------------------------------------


def _copy_policy(value: Any, path: str) -> Any:
    """A plain deep copy of a JSON policy, refusing what JSON cannot hold and templated keys."""
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidParameterError(
                    f"policy{path} has a key that is not a string: {type(key).__name__}"
                )
            if PLACEHOLDER in key:
                raise InvalidParameterError(
                    f"policy{path} has the key {key!r}: {PLACEHOLDER} may only appear in "
                    "string values, never in keys (a tenant must not choose a policy's shape)"
                )
            copied[key] = _copy_policy(item, f"{path}[{key!r}]")
        return copied
    if isinstance(value, (list, tuple)):
        return [_copy_policy(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise InvalidParameterError(
        f"policy{path} must be JSON (a dict, list, str, number, bool or None); "
        f"got {type(value).__name__}"
    )


def _recall(memo: OrderedDict[str, _V], tenant_id: str) -> _V | None:
    """A remembered value, now the most recently used; None if not remembered (under a lock)."""
    value = memo.get(tenant_id)
    if value is not None:
        memo.move_to_end(tenant_id)
    return value


def _remember(memo: OrderedDict[str, _V], tenant_id: str, value: _V) -> _V:
    """Remember ``value`` unless one is already (that one is returned); keep the last 1,024."""
    value = memo.setdefault(tenant_id, value)
    while len(memo) > _MEMO_SIZE:
        memo.popitem(last=False)
    return value


def _render(value: Any, tenant_id: str) -> Any:
    """``value`` with the placeholder replaced in every string value; same shape."""
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, tenant_id)
    if isinstance(value, dict):
        return {key: _render(item, tenant_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, tenant_id) for item in value]
    return value


def _compact(policy: Any) -> str:
    # The same text the parameters' normaliser makes of a Policy dict: one key either way.
    return json.dumps(policy, separators=(",", ":"))


class TenantRole:
    r"""A role source that assumes one shared role per tenant, with that tenant's tags and policy.

    Args:
        role_arn: The shared role, whose policies use ``aws:PrincipalTag/TenantId``
            (ABAC) or are narrowed by the session policy.
        tenant: A callable ``(event, context)`` returning the tenant id, e.g.
            ``authorizer_claim("custom:tenant_id")``; None means
            `context_tenant_id` (Lambda's tenant isolation mode).
        tags: Session tags; ``"{tenant}"`` in a value is the tenant id.
            Default ``{"TenantId": "{tenant}"}``; None or ``{}`` for none.
        transitive_tag_keys: Tag keys that persist through role chaining.
        policy: An inline session policy as a dict; ``"{tenant}"`` inside any
            string value is the tenant id (never in keys). IAM policy
            variables such as ``${aws:PrincipalTag/TenantId}`` pass through.
        source_identity: Set ``SourceIdentity`` to the tenant id: it stays
            with the session through role chaining and appears in CloudTrail.
        **assume_role_kwargs: Any other keyword `assume_role` takes
            (``DurationSeconds``, ``ExternalId``, ``region_name``, ...); not
            ``RoleSessionName``, ``SourceIdentity``, ``Tags``,
            ``TransitiveTagKeys`` or ``Policy``, which are set per tenant.

    Raises:
        InvalidParameterError: A template or keyword breaks a rule (checked
            by rendering for a sample tenant through STS's request model), a
            tag key or a policy key holds ``"{tenant}"``, the policy is not a
            JSON dict with ``Version`` and ``Statement``, or is over STS's
            2,048-character plaintext limit already for a 6-character tenant id
            (longer ids are checked as they come, and refused with a
            `TenantError` naming the tenant source).
        TypeError: ``tenant`` is not callable, or a keyword `assume_role`
            does not take.

    Example:
        >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData",
        ...                   tenant=authorizer_claim("custom:tenant_id"))
        >>> params = role.parameters("acme")
        >>> params["Tags"], params["SourceIdentity"]
        ([{'Key': 'TenantId', 'Value': 'acme'}], 'acme')
        >>> role.parameters('acme","Resource":"*')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.TenantError: tenant id from parameters() must be ...
    """

    def __init__(
        self,
        role_arn: str,
        *,
        tenant: TenantSource | None = None,
        tags: Mapping[str, str] | None = DEFAULT_TAGS,
        transitive_tag_keys: Sequence[str] | None = None,
        policy: Mapping[str, Any] | None = None,
        source_identity: bool = True,
        **assume_role_kwargs: Any,
    ) -> None:
        if tenant is None:
            tenant = context_tenant_id
        if not callable(tenant):
            raise TypeError(
                "tenant must be a callable (event, context) -> tenant id, e.g. "
                f"authorizer_claim('custom:tenant_id'); got {type(tenant).__name__} "
                "(for a known tenant id, use .parameters(tenant_id))"
            )
        if not isinstance(source_identity, bool):
            raise InvalidParameterError(
                f"source_identity must be True or False; got {type(source_identity).__name__}"
            )
        own = sorted(set(assume_role_kwargs) & set(_OWN_PARAMETERS))
        extra = assume_role_kwargs.get("additional_kwargs")
        if isinstance(extra, Mapping):
            own += sorted(set(extra) & set(_OWN_PARAMETERS))
        if own:
            raise InvalidParameterError(
                f"TenantRole sets {own[0]} per tenant: {_OWN_PARAMETERS[own[0]]}"
            )
        self.role_arn = role_arn
        self.tenant = tenant
        self.source_identity = source_identity
        self._source = _source_label(tenant)
        self._tags = self._tag_template(tags)
        if isinstance(transitive_tag_keys, str):
            raise InvalidParameterError(
                "transitive_tag_keys must be a list of tag keys; "
                f"got a str: {transitive_tag_keys!r}"
            )
        self._transitive = None if transitive_tag_keys is None else list(transitive_tag_keys)
        self._policy = self._policy_template(policy)
        from lambda_assume_role.parameters import split_session_options

        # The AssumeRole values are copied, so a caller's later change cannot reach a
        # tenant; session options (a cache, refresh windows) are keyed by identity: kept.
        request, options = split_session_options(assume_role_kwargs)
        self._kwargs = {**copy.deepcopy(request), **options}
        # AssumeRole values that are containers (PolicyArns, ProvidedContexts, ...): each
        # call gets its own copy, so a caller's change never reaches another call's request.
        self._containers = tuple(
            name for name, value in request.items() if isinstance(value, (list, dict))
        )
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # registry -> tenant id -> its prepared role (the decorators' warm path).
        self._prepared: weakref.WeakKeyDictionary[
            SessionRegistry, OrderedDict[str, PreparedRole]
        ] = weakref.WeakKeyDictionary()
        # Render for a sample tenant: every other rule (keywords, tag patterns, a
        # policy already over the limit) fails here, at the function's init.
        self._render_checked(_PROBE_TENANT, "TenantRole's templates", probe=True)

    @staticmethod
    def _tag_template(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
        if tags is None:
            return ()
        if not isinstance(tags, Mapping):
            raise InvalidParameterError(
                f"tags must be a mapping of tag keys to values; got {type(tags).__name__}"
            )
        for key, value in tags.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidParameterError(
                    f"tags must map strings to strings; got {type(key).__name__}: "
                    f"{type(value).__name__}"
                )
            if PLACEHOLDER in key:
                raise InvalidParameterError(
                    f"tags has the key {key!r}: {PLACEHOLDER} may only appear in tag values"
                )
        return tuple(tags.items())

    @staticmethod
    def _policy_template(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if policy is None:
            return None
        if not isinstance(policy, Mapping) or not {"Version", "Statement"} <= set(policy):
            raise InvalidParameterError(
                "policy must be a session policy as a dict with Version and Statement "
                f"(not JSON text: the tenant id is put into its parsed values); got "
                f"{type(policy).__name__}"
            )
        template: dict[str, Any] = _copy_policy(policy, "")
        try:
            _compact(template)
        except (ValueError, RecursionError) as error:  # e.g. NaN is not JSON
            raise InvalidParameterError(f"policy must be JSON-serialisable: {error}") from None
        return template

    # -- rendering -----------------------------------------------------------------------

    def _render_checked(
        self, tenant_id: str, source: str, *, probe: bool = False
    ) -> dict[str, Any]:
        """The AssumeRole parameters for a tenant id already checked, checked by STS's model."""
        from lambda_assume_role.parameters import (
            check_session_options,
            prepare_parameters,
            split_session_options,
        )

        params: dict[str, Any] = {"RoleArn": self.role_arn, **self._kwargs}
        params["RoleSessionName"] = tenant_session_name(tenant_id)
        if self.source_identity:
            params["SourceIdentity"] = tenant_id
        if self._tags:
            params["Tags"] = [
                {"Key": key, "Value": value.replace(PLACEHOLDER, tenant_id)}
                for key, value in self._tags
            ]
        if self._transitive is not None:
            params["TransitiveTagKeys"] = list(self._transitive)
        if self._policy is not None:
            params["Policy"] = _compact(_render(self._policy, tenant_id))
        left = [
            name for name in ("Policy", "Tags") if PLACEHOLDER in json.dumps(params.get(name, ""))
        ]
        if left:
            # Only a template that spells the placeholder around it ("{te{tenant}nt}")
            # can get here; never send one.
            raise TenantError(
                f"tenant id from {source}: {PLACEHOLDER} is left in {left[0]} after rendering; "
                "fix the template",
                source,
            )
        request, options = split_session_options(params)
        request.pop("RoleArn")
        try:
            check_session_options(options)
            prepare_parameters(self.role_arn, request)
        except InvalidParameterError as error:
            if probe:
                raise InvalidParameterError(f"TenantRole: {error}") from None
            raise TenantError(
                f"tenant id from {source} makes a request STS refuses: {error}", source
            ) from None
        return params

    def parameters(self, tenant_id: str) -> dict[str, Any]:
        """The AssumeRole parameters (with ``RoleArn``) for a known tenant id.

        What a call with an invocation returns, for tests, benchmarks and
        `SessionRegistry` users: ``registry.session(**role.parameters("acme"))``.
        ``Policy`` is compact JSON text (what STS receives, and one registry
        key with the dict). Each call returns new dicts and lists; the
        rendering is remembered per tenant id (the last 1,024), so a warm
        tenant costs a dict lookup.

        Raises:
            TenantError: The id is not a string, is empty, longer than 256
                characters, has a character outside ``[A-Za-z0-9_+=,.@-]``, or
                breaks a rule of STS where it lands (a tag value, the
                policy's size, ``SourceIdentity``). Nothing is remembered.

        Example:
            >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData")
            >>> role.parameters("acme")["RoleSessionName"].startswith("acme.")
            True
        """
        return self._parameters(tenant_id, "parameters()")

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        """The AssumeRole parameters for this invocation's tenant (a role source)."""
        return self._parameters(self.tenant(event, context), self._source)

    def prepare_for(self, registry: SessionRegistry, event: Any, context: Any) -> PreparedRole:
        """This invocation's tenant's role, prepared in ``registry``: the decorators' warm path.

        `inject_session` and `inject_client` call this instead of
        ``self(event, context)`` when they add no keywords of their own. A
        warm tenant then costs its tenant source and two dict lookups, instead
        of copying its parameters and keying them again (Tags, Policy) in the
        registry. Prepared roles are remembered per registry (weakly: a
        registry that is freed takes them along) and per tenant id (the last
        1,024); a refused id is never remembered.

        Args:
            registry: The registry whose sessions the decorator hands out.
            event: The invocation's event.
            context: The invocation's context.

        Raises:
            TenantError: As for calling the role source.
            InvalidParameterError: The registry refused the request (e.g. a
                ``DurationSeconds`` over the chaining cap of its parent).

        Example:
            >>> from types import SimpleNamespace
            >>> from lambda_assume_role import SessionRegistry
            >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData")
            >>> registry, acme = SessionRegistry(), SimpleNamespace(tenant_id="acme")
            >>> prepared = role.prepare_for(registry, {}, acme)
            >>> prepared.role_arn, prepared is role.prepare_for(registry, {}, acme)
            ('arn:aws:iam::123456789012:role/TenantData', True)
        """
        tenant_id = self.tenant(event, context)
        exact = type(tenant_id) is str
        if exact:
            with self._lock:
                known = self._prepared.get(registry)
                prepared = None if known is None else _recall(known, tenant_id)
            if prepared is not None:
                return prepared
        params = self._parameters(tenant_id, self._source)
        prepared = registry.prepare(params.pop("RoleArn"), **params)
        if exact:
            with self._lock:
                known = self._prepared.setdefault(registry, OrderedDict())
                prepared = _remember(known, tenant_id, prepared)
        return prepared

    def _parameters(self, tenant_id: Any, source: str) -> dict[str, Any]:
        if type(tenant_id) is str:
            with self._lock:
                cached = _recall(self._memo, tenant_id)
        else:
            cached = None
        if cached is None:
            tenant_id = check_tenant_id(tenant_id, source)
            rendered = self._render_checked(tenant_id, source)
            with self._lock:
                # Two threads may render one tenant at once; the first one published
                # wins, so both get one session name (outside Lambda it is a timestamp).
                cached = _remember(self._memo, tenant_id, rendered)
        params = dict(cached)
        tags = params.get("Tags")
        if tags is not None:
            params["Tags"] = [dict(tag) for tag in tags]
        if self._transitive is not None:
            params["TransitiveTagKeys"] = list(self._transitive)
        for name in self._containers:
            params[name] = copy.deepcopy(params[name])
        return params

    def __repr__(self) -> str:
        policy = "None" if self._policy is None else _compact(self._policy)
        if len(policy) > 200:
            policy = policy[:200] + "..."
        return (
            f"TenantRole({self.role_arn!r}, tenant={self._source}, tags={dict(self._tags)!r}, "
            f"policy={policy}, source_identity={self.source_identity})"
        )


def check_tenant_id(tenant_id: Any, source: str) -> str:
    r"""Return ``tenant_id`` if it is a plausible tenant id, else raise `TenantError`.

    The rule is `TENANT_ID_RULE`: what a role session name may hold (a
    tenant's session name always holds its id), up to the longest tag value
    and ``SourceIdentity`` STS accepts. That refuses every character that
    could change a policy, a tag or a log line: quotes, braces, ``*``, ``/``,
    ``\``, ``:``, whitespace and control characters. Where else the id lands
    is checked by STS's model when the request is rendered.

    Args:
        tenant_id: The value a tenant source returned.
        source: Where it came from, for the message.

    Raises:
        TenantError: Naming ``source`` and the rule; the id itself is never
            shown, only its length and its first offending character.

    Example:
        >>> check_tenant_id("acme-01", "context.tenant_id")
        'acme-01'
        >>> check_tenant_id("acme*", "context.tenant_id")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.TenantError: tenant id from ... with '*' at position 4
    """
    if not isinstance(tenant_id, str):
        raise TenantError(
            f"tenant id from {source} must be a string ({TENANT_ID_RULE}); "
            f"got {type(tenant_id).__name__}",
            source,
        )
    text = str(tenant_id)  # a str subclass must not bring its own methods along
    if not text:
        problem = "an empty string"
    elif len(text) > MAX_TENANT_ID_LENGTH:
        problem = f"{len(text)} characters"
    elif not SESSION_NAME_CHARACTERS.fullmatch(text):
        position = next(
            i for i, char in enumerate(text) if not SESSION_NAME_CHARACTERS.fullmatch(char)
        )
        problem = f"a {len(text)}-character string with {text[position]!r} at position {position}"
    else:
        return text
    raise TenantError(f"tenant id from {source} must be {TENANT_ID_RULE}; got {problem}", source)
