r"""`TenantRole`: the role source that assumes one shared role per tenant.

Called with ``(event, context)`` a `TenantRole` asks its tenant source for the
id, checks it (`lambda_assume_role.tenancy.sources.check_tenant_id`) and
renders the tenant's request: the session name
(`lambda_assume_role.naming.tenant_session_name`), ``SourceIdentity``, and its
tags and policy (`lambda_assume_role.tenancy.templates`).

Each tenant's request is checked against STS's rules exactly once, by the
package's one validation (`lambda_assume_role.parameters.prepare_parameters`):

* through a decorator (`prepare_for`), by the registry's front door
  (`SessionRegistry.prepare`, which also applies its parent's chaining cap);
  what it prepared is remembered per registry and tenant, so a warm tenant is
  two dict lookups and no check;
* through `TenantRole.parameters` or a call, here, before the dict is handed
  out; the request is remembered per tenant.

Either way a refused id is never remembered, and a request is refused before
any network call. The memos keep the last 1,024 tenants each (look up under
the lock, render and check outside it, and when two threads race, keep what
was published first, as cachetools does).
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

# Called through its module, where tests count validations (tests/support/preparations.py).
from lambda_assume_role import parameters as request_rules
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.naming import tenant_session_name
from lambda_assume_role.parameters import policy_text
from lambda_assume_role.session_options import check_session_options, split_session_options
from lambda_assume_role.tenancy.sources import (
    TenantError,
    TenantSource,
    check_tenant_id,
    context_tenant_id,
    length_in_words,
    source_label,
)
from lambda_assume_role.tenancy.templates import DEFAULT_TAGS, TenantTemplates

if TYPE_CHECKING:
    from lambda_assume_role.registry import SessionRegistry
    from lambda_assume_role.role import PreparedRole

__all__ = ["TenantRole"]

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
_PROBE_SOURCE = "TenantRole's templates"
# A tenant's prepared role is scoped ("tenant", tenant id): keyed apart from any other.
_SCOPE = "tenant"


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
        >>> from lambda_assume_role.tenancy import authorizer_claim
        >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData",
        ...                   tenant=authorizer_claim("custom:tenant_id"))
        >>> params = role.parameters("acme")
        >>> params["Tags"], params["SourceIdentity"]
        ([{'Key': 'TenantId', 'Value': 'acme'}], 'acme')
        >>> role.parameters('acme","Resource":"*')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.sources.TenantError: tenant id from parameters() must be ...
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
        self._source = source_label(tenant)
        self._templates = TenantTemplates(
            tags=tags, transitive_tag_keys=transitive_tag_keys, policy=policy
        )
        # The AssumeRole values are copied, so a caller's later change cannot reach a
        # tenant; session options (a cache, refresh windows) are keyed by identity: kept.
        request, options = split_session_options(assume_role_kwargs)
        self._kwargs = {**copy.deepcopy(request), **options}
        # AssumeRole values that are containers (PolicyArns, ProvidedContexts, ...): each
        # call gets its own copy, so a caller's change never reaches another call's request.
        self._containers = tuple(
            name for name, value in request.items() if isinstance(value, (list, dict))
        )
        # With validate=False the registry's front door validates nothing; a tenant's
        # request is then validated here, still once (it always was).
        self._front_door_checks: bool = options.get("validate", True)
        self._lock = threading.Lock()
        # tenant id -> its request, accepted by STS's rules (parameters() and the decorators).
        self._requests: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # registry -> tenant id -> its prepared role (the decorators' warm path), weakly:
        # a registry that is freed takes its prepared roles along.
        self._prepared: weakref.WeakKeyDictionary[
            SessionRegistry, OrderedDict[str, PreparedRole]
        ] = weakref.WeakKeyDictionary()
        # Render for a sample tenant: every other rule (keywords, tag patterns, a
        # policy already over the limit) fails here, at the function's init.
        self._probe = self._render(_PROBE_TENANT, _PROBE_SOURCE)
        try:
            check_session_options(options)
            self._check(self._probe)
        except InvalidParameterError as error:
            raise InvalidParameterError(f"TenantRole: {error}") from None

    def parameters(self, tenant_id: str) -> dict[str, Any]:
        """The AssumeRole parameters (with ``RoleArn``) for a known tenant id.

        What a call with an invocation returns, for tests, benchmarks and
        `SessionRegistry` users: ``registry.session(**role.parameters("acme"))``.
        ``Policy`` is compact JSON text (what STS receives, and one registry
        key with the dict). A new tenant's request is checked against STS's
        rules once, here, and remembered per tenant id (the last 1,024), so a
        warm tenant costs a dict lookup and a copy. Each call returns new
        dicts and lists.

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
        return self._handed_out(self._checked_request(tenant_id, "parameters()"))

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        """The AssumeRole parameters for this invocation's tenant (a role source)."""
        return self._handed_out(self._checked_request(self.tenant(event, context), self._source))

    def prepare_for(
        self,
        registry: SessionRegistry,
        event: Any,
        context: Any,
        *,
        defaults: Mapping[str, Any] | None = None,
    ) -> PreparedRole:
        """This invocation's tenant's role, prepared in ``registry``: the decorators' warm path.

        `inject_session` and `inject_client` call this instead of
        ``self(event, context)``; ``defaults`` are the decorator's own
        AssumeRole keywords, under the tenant's (a decorator with keywords
        prepares the merged request on every call, as for any role source,
        and it is scoped by the full tenant id all the same). A new
        tenant's request is checked once, by ``registry.prepare`` (the front
        door, which adds the chaining cap of the registry's parent), and what
        it prepared is scoped by the full tenant id (`PreparedRole.scoped`),
        so two tenants never share a session even if their session names
        collide; a warm tenant costs its tenant source and two dict lookups.
        Prepared roles are remembered per registry (weakly: a registry that is
        freed takes them along) and per tenant id (the last 1,024); a refused
        id is never remembered.

        Args:
            registry: The registry whose sessions the decorator hands out.
            event: The invocation's event.
            context: The invocation's context.

        Raises:
            TenantError: As for calling the role source.
            InvalidParameterError: The registry refuses every tenant's request
                (e.g. a ``DurationSeconds`` over the chaining cap of its parent).

        Example:
            >>> from lambda_assume_role import SessionRegistry
            >>> from lambda_assume_role.invocation import Countdown
            >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData")
            >>> registry, acme = SessionRegistry(parent), Countdown(30)
            >>> acme.tenant_id = "acme"
            >>> prepared = role.prepare_for(registry, {}, acme)
            >>> prepared.role_arn, prepared is role.prepare_for(registry, {}, acme)
            ('arn:aws:iam::123456789012:role/TenantData', True)
        """
        tenant_id = self.tenant(event, context)
        if defaults:
            return self._prepare_with(registry, tenant_id, defaults)
        if type(tenant_id) is str:  # a str subclass could bring its own __eq__ and __hash__
            with self._lock:
                known = self._prepared.get(registry)
                prepared = None if known is None else _recall(known, tenant_id)
            if prepared is not None:
                return prepared
        tenant_id = check_tenant_id(tenant_id, self._source)
        request = self._remembered(tenant_id)
        if request is None:
            # The front door validates it; with validate=False it would not, so it is done here.
            render = self._render if self._front_door_checks else self._validated
            request = render(tenant_id, self._source)
        try:
            prepared = registry.prepare(**self._handed_out(request))
        except InvalidParameterError as error:
            raise self._refusal(registry, error, len(tenant_id)) from None
        # Keyed by the full id, not by the request: two ids whose session names
        # collide (a long id is cut and hashed) still never share a session.
        prepared = prepared.scoped((_SCOPE, tenant_id))
        with self._lock:
            # Accepted by the front door, so parameters() may hand it out too. (Outside
            # Lambda a session name is a timestamp: a tenant's first calls through both
            # paths at once may get a session each.)
            _remember(self._requests, tenant_id, request)
            known = self._prepared.setdefault(registry, OrderedDict())
            return _remember(known, tenant_id, prepared)

    def _prepare_with(
        self, registry: SessionRegistry, tenant_id: Any, defaults: Mapping[str, Any]
    ) -> PreparedRole:
        """The tenant's request under a decorator's own keywords, scoped by the full id."""
        request = self._checked_request(tenant_id, self._source)
        try:
            prepared = registry.prepare(**{**defaults, **self._handed_out(request)})
        except InvalidParameterError as error:
            raise self._refusal(registry, error, len(tenant_id)) from None
        return prepared.scoped((_SCOPE, tenant_id))

    def _remembered(self, tenant_id: Any) -> dict[str, Any] | None:
        """A tenant's accepted request, if remembered (shared: hand out copies only)."""
        if type(tenant_id) is not str:
            return None
        with self._lock:
            return _recall(self._requests, tenant_id)

    def _checked_request(self, tenant_id: Any, source: str) -> dict[str, Any]:
        """A tenant's request, validated here once and remembered (shared: hand out copies only)."""
        request = self._remembered(tenant_id)
        if request is not None:
            return request
        tenant_id = check_tenant_id(tenant_id, source)
        request = self._validated(tenant_id, source)
        with self._lock:
            # Two threads may render one tenant at once; the first one published
            # wins, so both get one session name (outside Lambda it is a timestamp).
            return _remember(self._requests, tenant_id, request)

    def _validated(self, tenant_id: str, source: str) -> dict[str, Any]:
        """`_render`, then `_check`: a request refused by STS's rules is the tenant's fault."""
        request = self._render(tenant_id, source)
        try:
            self._check(request)
        except InvalidParameterError as error:
            raise _refused(error, source, len(tenant_id)) from None
        return request

    def _render(self, tenant_id: str, source: str) -> dict[str, Any]:
        """The `assume_role` keywords (with ``RoleArn``) for a checked id; not yet validated."""
        request: dict[str, Any] = {"RoleArn": self.role_arn, **self._kwargs}
        request["RoleSessionName"] = tenant_session_name(tenant_id)
        if self.source_identity:
            request["SourceIdentity"] = tenant_id
        request.update(self._templates.render(tenant_id, source))
        return request

    def _check(self, request: Mapping[str, Any]) -> None:
        """Validate a rendered request against STS's rules: the package's one validation."""
        arguments, _ = split_session_options(request)
        role_arn = arguments.pop("RoleArn")
        request_rules.prepare_parameters(role_arn, arguments)

    def _handed_out(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a request with new lists and dicts, so a change never reaches a memo."""
        params = dict(request)
        tags = params.get("Tags")
        if tags is not None:
            params["Tags"] = [dict(tag) for tag in tags]
        keys = params.get("TransitiveTagKeys")
        if keys is not None:
            params["TransitiveTagKeys"] = list(keys)
        for name in self._containers:
            params[name] = copy.deepcopy(params[name])
        return params

    def _refusal(
        self, registry: SessionRegistry, error: InvalidParameterError, length: int
    ) -> InvalidParameterError:
        """What to raise when the front door refused a tenant's request: whose rule was it?

        The registry may have a rule of its own (its parent's chaining cap).
        When it refuses the sample tenant's request too, the tenant is not to
        blame, and the sample's error is raised: the tenant's own may name
        another rule its id breaks, and quote the id. Otherwise the tenant id
        made a request STS refuses. (Only a refusal pays for this second check.)
        """
        probe = dict(self._probe)
        del probe["RoleArn"]
        try:
            registry.check_defaults(**probe)
        except InvalidParameterError as registry_rule:
            return registry_rule
        return _refused(error, self._source, length)

    def __repr__(self) -> str:
        templates = self._templates
        policy = "None" if templates.policy is None else policy_text(templates.policy)
        if len(policy) > 200:
            policy = policy[:200] + "..."
        return (
            f"TenantRole({self.role_arn!r}, tenant={self._source}, "
            f"tags={dict(templates.tags)!r}, policy={policy}, "
            f"source_identity={self.source_identity})"
        )


def _refused(error: InvalidParameterError, source: str, length: int) -> TenantError:
    """A `TenantError` naming the source, the rule STS's model refused and the id's length.

    The model's message is ``"<where> must <rule>; got <value>"``, and here
    the value holds the tenant id (a tag value, ``SourceIdentity``, the
    policy): it is cut, and the id's length said instead.
    """
    rule = str(error).partition("; got ")[0]
    return TenantError(
        f"tenant id from {source} makes a request STS refuses: {rule} "
        f"(the id has {length_in_words(length)})",
        source,
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
