"""Handler decorators that inject assumed-role sessions and clients as keyword arguments.

::

    @inject_session(ROLE_ARN)                                   # handler(event, context, session)
    @inject_client("s3", lambda event, context: tenant_role(event), name="s3")
    def handler(event, context, session, s3): ...

Sessions and clients come from a `SessionRegistry` (by default one per
process), so warm invocations reuse them and their credentials refresh
themselves. The wrappers are plain `functools.wraps` functions: a warm
invocation costs a dict lookup under a lock, not a middleware stack.

Inside Lambda, decorating builds during init what the first invocation would
otherwise build (boto3, the parent session, a static role's session and
client), so SnapStart and provisioned concurrency capture it; no STS call is
made until a request needs credentials.

Stacking with Powertools: put these decorators *innermost* (closest to the
function). Powertools' ``event_source``, ``kafka_consumer`` and batch
decorators reject extra keyword arguments, so they must sit outside ours;
``Logger.inject_lambda_context``, ``Tracer.capture_lambda_handler``,
``event_parser`` and ``idempotent`` pass them through either way.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import boto3
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from botocore.config import Config

    from lambda_assume_role.registry import SessionRegistry

__all__ = ["RoleSource", "inject_client", "inject_session"]

R = TypeVar("R")

RoleSource = str | Callable[[Any, "LambdaContext"], str | Mapping[str, Any]]
"""A role ARN, or a callable ``(event, context)`` returning an ARN or AssumeRole parameters."""

_Resolve = Callable[[Any, Any], Any]

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
        **assume_role_kwargs: Any keyword `assume_role` takes.

    Returns:
        A decorator for sync or async handlers, functions or methods.

    Raises:
        InvalidParameterError: At once, for a static role with bad parameters,
            so the function fails its init with a clear message.

    Example:
        >>> @inject_session("arn:aws:iam::123456789012:role/Reader")
        ... def handler(event, context, session):
        ...     return session.client("s3").list_buckets()
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
    region_name: str | None = None,
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
        region_name: The client's region; default the session's.
        config: A `botocore.config.Config` for the client.
        parent: The session that assumes the role; default ``boto3.Session()``.
        registry: Where sessions and clients are cached.
        **assume_role_kwargs: Any keyword `assume_role` takes.

    Returns:
        A decorator for sync or async handlers, functions or methods.

    Example:
        >>> @inject_client("dynamodb", "arn:aws:iam::123456789012:role/Writer", name="ddb")
        ... def handler(event, context, ddb):
        ...     return ddb.list_tables()
    """
    client_options = {"service_name": service_name, "region_name": region_name, "config": config}
    chosen = _choose_registry(registry, parent)
    resolve = _resolver(role, chosen, assume_role_kwargs, client_options)

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
    client_options: Mapping[str, Any] | None,
) -> _Resolve:
    """Build ``(event, context) -> session or client`` for a role source."""
    from lambda_assume_role.fetcher import sts_client_for
    from lambda_assume_role.registry import alias_for

    static_kwargs = dict(assume_role_kwargs)

    def fetch(arn: str, kwargs: Mapping[str, Any], alias: Any) -> Any:
        entry = registry._entry(arn, kwargs, alias)
        if client_options is None:
            return entry.session
        return registry._client(
            entry,
            client_options["service_name"],
            client_options["region_name"],
            client_options["config"],
        )

    if isinstance(role, str):
        _validate_static(role, static_kwargs)
        static_alias = alias_for(role, static_kwargs)

        def static(event: Any, context: Any) -> Any:
            return fetch(role, static_kwargs, static_alias)

        _prewarm(lambda: static(None, None))
        return static
    if not callable(role):
        raise TypeError(
            f"role must be a role ARN or a callable (event, context); got {type(role).__name__}"
        )

    source = getattr(role, "__qualname__", repr(role))
    _prewarm(lambda: sts_client_for(registry.parent))

    def per_event(event: Any, context: Any) -> Any:
        value = role(event, context)
        if isinstance(value, str):
            arn, kwargs = value, static_kwargs
        elif isinstance(value, Mapping) and isinstance(value.get("RoleArn"), str):
            kwargs = {**static_kwargs, **value}
            arn = kwargs.pop("RoleArn")
        else:
            raise TypeError(
                f"role source {source} must return a role ARN or a mapping with a RoleArn; "
                f"got {type(value).__name__}"
            )
        try:
            return fetch(arn, kwargs, alias_for(arn, kwargs))
        except ValueError as error:
            raise _per_event_error(source, error) from None

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
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    try:
        build()
    except Exception:
        logger.debug("Could not prepare a session during init", exc_info=True)


def _per_event_error(source: str, error: ValueError) -> ValueError:
    from lambda_assume_role.parameters import InvalidParameterError

    return InvalidParameterError(f"role source {source} returned a bad role: {error}")


def _validate_static(role: str, kwargs: Mapping[str, Any]) -> None:
    """Check a static role now, so a bad one fails the function's init, not its first call."""
    from lambda_assume_role.assume import on_lambda_execution_role
    from lambda_assume_role.parameters import prepare_parameters, split_session_options

    request, options = split_session_options(kwargs)
    if options.get("validate", True):
        prepare_parameters(role, request, chained=on_lambda_execution_role())


def _event_and_context(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    # Lambda calls handler(event, context); a method gets (self, event, context).
    if len(args) >= 2:
        return args[-2], args[-1]
    if len(args) == 1:
        return args[0], kwargs.get("context")
    return kwargs.get("event"), kwargs.get("context")


def _inject(handler: Callable[..., R], name: str, resolve: _Resolve) -> Callable[..., R]:
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = resolve(*_event_and_context(args, kwargs))
            return await handler(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        if len(args) >= 2:  # the usual handler(event, context): skip a call
            kwargs[name] = resolve(args[-2], args[-1])
        else:
            kwargs[name] = resolve(*_event_and_context(args, kwargs))
        return handler(*args, **kwargs)

    return wrapper
