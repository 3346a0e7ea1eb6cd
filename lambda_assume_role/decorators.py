"""Handler decorators that inject assumed-role sessions and clients as keyword arguments.

::

    @inject_session(ROLE_ARN)                                   # handler(event, context, session)
    @inject_client("s3", lambda event, context: tenant_role(event), name="s3")
    def handler(event, context, session, s3): ...

Sessions and clients come from a `SessionRegistry` (by default one per
parent, per process), through its public two-step path only: a static role is
prepared once, at decoration (`SessionRegistry.prepare`: normalised,
validated with the parent's chaining cap, and keyed), so a bad one fails the
function's init and a warm invocation is one lookup
(`SessionRegistry.session_for` / `SessionRegistry.client_for`), whatever the
role's arguments. A per-event role is prepared at each invocation, which for
arguments already seen is an alias lookup.

Each wrapper binds the invocation's Lambda context (`lambda_assume_role.deadline`)
for the duration of the handler call, so no STS call made while the handler
runs outlives the invocation.

Inside Lambda, decorating builds during init what the first invocation would
otherwise build (boto3, the parent session, a static role's session and
client), so SnapStart and provisioned concurrency capture it; no STS call is
made until a request needs credentials.

Two meanings of "region", two names: ``region_name`` is the *session's*
region, as in `assume_role`; ``client_region`` (`inject_client` only) is the
client's own region, when it differs from the session's.

Lambda durable functions: ours go *inside* (below) ``@durable_execution``;
outside, they are refused at decoration (or the first call fails the execution).

Stacking with Powertools: put these decorators *innermost* (closest to the
function). Powertools' ``event_source``, ``kafka_consumer`` and batch
decorators reject extra keyword arguments, so they must sit outside ours;
``Logger.inject_lambda_context``, ``Tracer.capture_lambda_handler``,
``event_parser`` and ``idempotent`` pass them through either way. Two of our
decorators on one handler must inject different names.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from lambda_assume_role.durable_handler import (
    failed_execution,
    guard_checkpoints,
    handler_chain,
    is_durable_input,
    refuse_durable_wrapper,
)

if TYPE_CHECKING:
    import boto3
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from botocore.config import Config

    from lambda_assume_role.registry import ClientOptions, PreparedRole, SessionRegistry

__all__ = ["PreparingRoleSource", "RoleSource", "inject_client", "inject_session"]

R = TypeVar("R")

RoleSource = str | Callable[[Any, "LambdaContext"], str | Mapping[str, Any]]
"""A role ARN, or a callable ``(event, context)`` returning an ARN or AssumeRole parameters.

The callable gets what the handler got: a durable function's ``DurableContext``
carries the Lambda context as ``.lambda_context`` (`invocation.lambda_context_of`).
"""


@runtime_checkable
class PreparingRoleSource(Protocol):
    """A role source that can also hand a decorator the registry's prepared role itself.

    A decorator calls ``prepare_for(registry, event, context)`` instead of
    the source, with ``defaults=`` its own AssumeRole keywords when it has
    any, so a source that remembers its prepared roles (`TenantRole`, per
    tenant) makes a warm call a lookup, and may key what it prepares apart
    (`PreparedRole.scoped`, e.g. by the full tenant id). Unscoped, it must be
    what ``registry.prepare(**{**defaults, **source(event, context)})`` would.
    """

    def __call__(self, event: Any, context: Any) -> Any: ...

    def prepare_for(
        self,
        registry: SessionRegistry,
        event: Any,
        context: Any,
        *,
        defaults: Mapping[str, Any] | None = None,
    ) -> PreparedRole: ...


_Resolve = Callable[[Any, Any], Any]

INJECTED_NAMES = "__lambda_assume_role_injects__"
"""The attribute on a decorated handler naming every keyword our decorators inject into it."""

logger = logging.getLogger("lambda_assume_role")


def inject_session(
    role: RoleSource,
    *,
    name: str = "session",
    parent: boto3.Session | None = None,
    registry: SessionRegistry | None = None,
    **assume_role_kwargs: Any,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Inject a refreshing session for a role as the keyword argument ``name``.

    Args:
        role: A role ARN, or a callable ``(event, context)`` returning an ARN
            or a mapping of AssumeRole parameters (with ``RoleArn``), e.g. a
            per-tenant ``ExternalId``.
        name: The handler's keyword argument that receives the session.
        parent: The session that assumes the role; default ``boto3.Session()``.
        registry: Where sessions are cached; default one per parent, per process.
        **assume_role_kwargs: Any keyword `assume_role` takes (``region_name``
            is the session's region); a per-event mapping overrides them.

    Returns:
        A decorator for sync or async handlers, functions or methods.

    Raises:
        InvalidParameterError: At once, for a static role with bad parameters
            (checked exactly as its first invocation would check them,
            chaining cap included), or for bad keywords given here with a
            per-event role source, so the function fails its init with a
            clear message.
        TypeError: ``role`` is neither an ARN nor a callable; or, when the
            decorator is applied, ``name`` is already injected into the
            handler by another of our decorators.

    Example:
        >>> @inject_session("arn:aws:iam::123456789012:role/Reader")
        ... def handler(event, context, session):
        ...     return session.client("s3").list_buckets()["Buckets"]
        >>> handler({}, context)
        []
    """
    resolve = _resolver(role, _choose_registry(registry, parent), assume_role_kwargs, None)

    def decorator(handler: Callable[..., R]) -> Callable[..., R]:
        return _inject(handler, name, resolve)

    return decorator


def inject_client(
    service_name: str,
    role: RoleSource,
    *,
    name: str | None = None,
    client_region: str | None = None,
    config: Config | None = None,
    parent: boto3.Session | None = None,
    registry: SessionRegistry | None = None,
    **assume_role_kwargs: Any,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Inject a cached client for a service, on a role's session, as keyword ``name``.

    Args:
        service_name: e.g. ``"s3"``.
        role: A role ARN, or a callable ``(event, context)`` returning an ARN
            or a mapping of AssumeRole parameters (with ``RoleArn``).
        name: The handler's keyword argument; default ``service_name``.
        client_region: The client's own region; default the session's.
        config: A `botocore.config.Config` for the client.
        parent: The session that assumes the role; default ``boto3.Session()``.
        registry: Where sessions and clients are cached.
        **assume_role_kwargs: Any keyword `assume_role` takes. ``region_name``
            is the *session's* region (as in `assume_role`), which the client
            uses unless ``client_region`` is given.

    Returns:
        A decorator for sync or async handlers, functions or methods.

    Raises:
        InvalidParameterError: At once, for bad client options, for a static
            role with bad parameters, or for bad keywords given here with a
            per-event role source.
        TypeError: As for `inject_session`.

    Example:
        >>> @inject_client("dynamodb", "arn:aws:iam::123456789012:role/Writer", name="ddb")
        ... def handler(event, context, ddb):
        ...     return ddb.list_tables()["TableNames"]
        >>> handler({}, context)
        []
    """
    from lambda_assume_role.registry import ClientOptions

    options = ClientOptions(service_name, client_region=client_region, config=config)
    resolve = _resolver(role, _choose_registry(registry, parent), assume_role_kwargs, options)

    def decorator(handler: Callable[..., R]) -> Callable[..., R]:
        return _inject(handler, name or service_name, resolve)

    return decorator


def _choose_registry(
    registry: SessionRegistry | None, parent: boto3.Session | None
) -> SessionRegistry:
    if registry is not None:
        if parent is not None and registry.parent is not parent:
            raise ValueError("parent and registry disagree: pass one or the other")
        return registry
    from lambda_assume_role.registry import registry_for

    return registry_for(parent)


def _resolver(
    role: RoleSource,
    registry: SessionRegistry,
    assume_role_kwargs: Mapping[str, Any],
    client: ClientOptions | None,
) -> _Resolve:
    """Build ``(event, context) -> session or client`` for a role source."""
    defaults = dict(assume_role_kwargs)
    session_for = registry.session_for
    client_for = registry.client_for

    if isinstance(role, str):
        # The one preparation this role gets: the warm path is a lookup by its key.
        prepared = registry.prepare(role, **defaults)

        if client is None:

            def static(event: Any, context: Any) -> Any:
                return session_for(prepared)

        else:

            def static(event: Any, context: Any) -> Any:
                return client_for(prepared, client)

        _prewarm(lambda: static(None, None))
        return static
    if not callable(role):
        raise TypeError(
            f"role must be a role ARN or a callable (event, context); got {type(role).__name__}"
        )

    # Our own keywords are checked now, so a bad one is never blamed on the role source.
    registry.check_defaults(**defaults)
    from botocore.exceptions import ParamValidationError

    source = getattr(role, "__qualname__", repr(role))
    prepare = registry.prepare
    _prewarm(registry.warm_up)

    if isinstance(role, PreparingRoleSource):
        # The source keeps its prepared roles (e.g. TenantRole, per tenant):
        # a warm call skips re-keying the parameters it would return, and
        # what it prepares may be keyed apart (by the full tenant id).
        prepare_for = (
            functools.partial(role.prepare_for, defaults=defaults) if defaults else role.prepare_for
        )
        if client is None:

            def prepared_per_event(event: Any, context: Any) -> Any:
                return session_for(prepare_for(registry, event, context))

        else:

            def prepared_per_event(event: Any, context: Any) -> Any:
                return client_for(prepare_for(registry, event, context), client)

        return prepared_per_event

    def per_event(event: Any, context: Any) -> Any:
        value = role(event, context)
        if isinstance(value, str):
            arn, kwargs = value, defaults
        elif isinstance(value, Mapping) and isinstance(value.get("RoleArn"), str):
            kwargs = {**defaults, **value}
            arn = kwargs.pop("RoleArn")
        else:
            raise TypeError(
                f"role source {source} must return a role ARN or a mapping with a RoleArn; "
                f"got {type(value).__name__}"
            )
        try:
            prepared = prepare(arn, **kwargs)
        except (ValueError, TypeError, ParamValidationError) as error:
            # Only what the source returned can be wrong here: our own
            # keywords and client options passed their checks at decoration.
            raise _per_event_error(source, error) from None
        if client is None:
            return session_for(prepared)
        return client_for(prepared, client)

    return per_event


def _prewarm(build: Callable[[], Any]) -> None:
    """Inside Lambda, build what a first invocation would build, during init.

    Init is where boto3's import, the parent session and (for a static role)
    the role's session and client belong: SnapStart snapshots them and
    provisioned concurrency pre-runs them, instead of a user's first request
    paying for them. No STS call happens here; credentials stay lazy. Outside
    Lambda nothing is built, so importing a handler module stays cheap, and a
    failure here is left for the first invocation to report.
    """
    from lambda_assume_role import environment

    if not environment.in_lambda():
        return
    try:
        build()
    except Exception:
        logger.debug("Could not prepare a session during init", exc_info=True)


def _per_event_error(source: str, error: Exception) -> ValueError:
    from lambda_assume_role.errors import InvalidParameterError

    return InvalidParameterError(f"role source {source} returned a bad role: {error}")


def _event_and_context(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    # Lambda calls handler(event, context); a method gets (self, event, context).
    if len(args) >= 2:
        return args[-2], args[-1]
    if len(args) == 1:
        return args[0], kwargs.get("context")
    return kwargs.get("event"), kwargs.get("context")


def injected_names(handler: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments our decorators inject into ``handler``, through any wrappers.

    Follows the ``__wrapped__`` chain that `functools.wraps` leaves, so
    decorators stacked in between (Powertools' among them) do not hide an
    inner injection.

    Example:
        >>> injected_names(lambda event, context: None)
        frozenset()
    """
    return frozenset(
        name for link in handler_chain(handler) for name in getattr(link, INJECTED_NAMES, ())
    )


def _inject(handler: Callable[..., R], name: str, resolve: _Resolve) -> Callable[..., R]:
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"name must be a keyword argument name; got {name!r}")
    inner = injected_names(handler)
    if name in inner:
        raise TypeError(
            f"{getattr(handler, '__qualname__', handler)!r} already receives the keyword "
            f"argument {name!r} from another inject_session/inject_client: give each one "
            "its own name="
        )
    refuse_durable_wrapper(handler)
    from lambda_assume_role.invocation import bind, unbind

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            event, context = _event_and_context(args, kwargs)
            token = bind(context)
            try:
                guard_checkpoints(context)
                kwargs[name] = resolve(event, context)
                return await handler(*args, **kwargs)
            finally:
                unbind(token)

        wrapper = async_wrapper
    else:

        @functools.wraps(handler)
        def sync_wrapper(*args: Any, **kwargs: Any) -> R:
            if len(args) >= 2:  # the usual handler(event, context): skip a call
                event, context = args[-2], args[-1]
            else:
                event, context = _event_and_context(args, kwargs)
            token = bind(context)
            try:
                guard_checkpoints(context)
                kwargs[name] = resolve(event, context)
                return handler(*args, **kwargs)
            except TypeError as error:
                # The call itself refused our keyword (no frame of the handler ran),
                # given a durable input: the SDK's wrapper, hidden from decoration.
                tb = error.__traceback__
                if tb is not None and tb.tb_next is None and is_durable_input(event, context):
                    return failed_execution(handler)  # type: ignore[no-any-return]
                raise
            finally:
                unbind(token)

        wrapper = sync_wrapper
    setattr(wrapper, INJECTED_NAMES, inner | {name})
    return wrapper  # type: ignore[return-value]
