r"""Tenant sources: where an invocation's tenant id comes from, and the rule it must meet.

A tenant source is a callable ``(event, context)`` returning the tenant id.
Two are provided, and both read only what a client cannot forge:

* `context_tenant_id` (the default): ``context.tenant_id``, which Lambda sets
  in tenant isolation mode; a durable function's ``DurableContext`` is looked
  through to the Lambda context it carries.
* `authorizer_claim`: one claim API Gateway's authorizer verified, never a
  header, the query string, path parameters or the body.

Whatever a source returns is then held to `TENANT_ID_RULE` by
`check_tenant_id` before it goes anywhere near a policy, a tag or a session
name. A refusal is a `TenantError`, which names the source and the rule and
never shows the refused id.

Example:
    >>> check_tenant_id(authorizer_claim("tenant")(
    ...     {"requestContext": {"authorizer": {"tenant": "acme"}}}, None), "a test")
    'acme'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.invocation import lambda_context_of
from lambda_assume_role.naming import SESSION_NAME_CHARACTERS

__all__ = [
    "MAX_TENANT_ID_LENGTH",
    "TENANT_ID_RULE",
    "TenantError",
    "TenantSource",
    "authorizer_claim",
    "check_tenant_id",
    "context_tenant_id",
    "length_in_words",
    "source_label",
]

MAX_TENANT_ID_LENGTH = 256
"""The longest tenant id: STS's maximum for a session tag value (and for ``SourceIdentity``
in current botocore models; botocore 1.34's says 64, and the installed model decides).

A unit test checks it against botocore's STS model.
"""

TENANT_ID_RULE = rf"1-{MAX_TENANT_ID_LENGTH} characters of [A-Za-z0-9_+=,.@-]"
"""The tenant id rule in words (before the rules of where it lands)."""

TenantSource = Callable[[Any, Any], Any]
"""A callable ``(event, context)`` returning the invocation's tenant id."""

_CONTEXT_SOURCE = "context.tenant_id"


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


def context_tenant_id(event: Any, context: Any) -> str:
    """The tenant id Lambda gives a function in tenant isolation mode: ``context.tenant_id``.

    `TenantRole`'s default tenant source. It is read at each invocation,
    never at init or import: the id exists only during an invocation. The
    Lambda context is found as `lambda_assume_role.invocation.lambda_context_of`
    finds it, so a durable function's ``DurableContext`` (which carries it as
    ``.lambda_context``) works too; anything else is read as it is.

    Raises:
        TenantError: The context has no tenant id (the function is not in
            tenant isolation mode, or the runtime client is too old to pass
            it on).

    Example:
        >>> from types import SimpleNamespace
        >>> from lambda_assume_role.invocation import Countdown
        >>> lambda_context = Countdown(30)
        >>> lambda_context.tenant_id = "acme"
        >>> context_tenant_id({}, lambda_context)
        'acme'
        >>> context_tenant_id({}, SimpleNamespace(lambda_context=lambda_context))  # durable
        'acme'
        >>> context_tenant_id({}, Countdown(30))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.sources.TenantError: context.tenant_id is not set: ...
    """
    found = lambda_context_of(context)
    tenant_id = getattr(context if found is None else found, "tenant_id", None)
    if tenant_id is None:
        raise TenantError(
            "context.tenant_id is not set: the function is not running in Lambda's tenant "
            "isolation mode (TenancyConfig TenantIsolationMode: PER_TENANT, invoked with a "
            "tenant id), or its runtime client does not pass the id on; otherwise give "
            "TenantRole a tenant source, e.g. tenant=authorizer_claim('custom:tenant_id')",
            _CONTEXT_SOURCE,
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


def source_label(source: TenantSource) -> str:
    """How messages name a tenant source: ``context.tenant_id``, ``authorizer_claim(...)``, a name.

    Example:
        >>> source_label(context_tenant_id), source_label(authorizer_claim("tenant"))
        ('context.tenant_id', "authorizer_claim('tenant')")
    """
    if source is context_tenant_id:
        return _CONTEXT_SOURCE
    if isinstance(source, authorizer_claim):
        return repr(source)
    return str(getattr(source, "__qualname__", None) or repr(source))


def check_tenant_id(tenant_id: Any, source: str) -> str:
    r"""Return ``tenant_id`` if it is a plausible tenant id, else raise `TenantError`.

    The rule is `TENANT_ID_RULE`: what a role session name may hold (a
    tenant's session name always holds its id), up to the longest tag value
    and ``SourceIdentity`` STS accepts. That refuses every character that
    could change a policy, a tag or a log line: quotes, braces, ``*``, ``/``,
    ``\``, ``:``, whitespace and control characters. Where else the id lands
    is checked by STS's model when the request is prepared.

    Args:
        tenant_id: The value a tenant source returned.
        source: Where it came from, for the message.

    Returns:
        The id as a plain `str` (a subclass must not bring its own methods along).

    Raises:
        TenantError: Naming ``source`` and the rule; the id itself is never
            shown, only its length and its first offending character.

    Example:
        >>> check_tenant_id("acme-01", "context.tenant_id")
        'acme-01'
        >>> check_tenant_id("acme*", "context.tenant_id")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.tenancy.sources.TenantError: tenant id from ... with '*' at position 4
    """
    if not isinstance(tenant_id, str):
        raise TenantError(
            f"tenant id from {source} must be a string ({TENANT_ID_RULE}); "
            f"got {type(tenant_id).__name__}",
            source,
        )
    text = str(tenant_id)
    if not text:
        problem = "an empty string"
    elif len(text) > MAX_TENANT_ID_LENGTH:
        problem = length_in_words(len(text))
    elif not SESSION_NAME_CHARACTERS.fullmatch(text):
        position = next(
            i for i, char in enumerate(text) if not SESSION_NAME_CHARACTERS.fullmatch(char)
        )
        # One character, escaped by repr: a newline or a quote cannot reach a log line.
        problem = (
            f"a string of {length_in_words(len(text))} with {text[position]!r} "
            f"at position {position}"
        )
    else:
        return text
    raise TenantError(f"tenant id from {source} must be {TENANT_ID_RULE}; got {problem}", source)


def length_in_words(length: int) -> str:
    """How a refused id is described instead of shown: its length.

    Example:
        >>> length_in_words(1), length_in_words(300)
        ('1 character', '300 characters')
    """
    return "1 character" if length == 1 else f"{length} characters"
