"""No credential reaches a durable function's checkpoint.

A durable function (``aws-durable-execution-sdk-python``) writes the result of
every ``step``, ``map`` item and ``parallel`` branch, child context,
``wait_for_condition`` state and ``invoke`` payload into a checkpoint, the
execution history (kept up to 90 days) and, for the handler's return value,
the execution's result. The SDK's default serializer encodes any tuple, so a
step returning ``session.get_credentials().get_frozen_credentials()`` (a
namedtuple), its ``_asdict()`` or an AssumeRole answer writes the access key,
secret and session token there in plain text.

`protect` makes a handler's `DurableContext` refuse such a result: every
operation started from it, or from a child, map item or parallel branch of it,
serializes through `guarded`, which serializes with the operation's own serdes
(the user's, or the SDK's default for that operation) and refuses the text when

* it holds a **live key**: the access key id, secret or session token of any
  session this process made (`lambda_assume_role.refresh.live_secrets`), the
  environment's own keys (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``: a Lambda function's execution role) or a given
  parent session's; only values of 16 characters or more count, as in
  `lambda_assume_role.redact.redact_text`'s ``known=``. The strings inside the
  value are searched too, before serializing, so a serdes that encodes or
  compresses still cannot carry a live key through;
* or it **looks like a credential**: `redact_text` would change it (an
  access key id ``AKIA...``/``ASIA...``, a ``SecretAccessKey``,
  ``SessionToken`` or ``token`` field, an ``Authorization`` header, a SigV4
  ``Credential=`` scope).

A refusal is a `SerDesError` (`CredentialCheckpointError`), which the SDK
treats as permanent: the operation fails at once, without its retry strategy,
and nothing of the value is written. Its message names the operation (kind,
name, operation id) and the rule, never the value. Deserialization (replay) is
passed through unchanged.

What the guard cannot see: keys it never knew (another process's, one rotated
away by a refresh, a parent session not given to `protect` and not the
environment's) unless they look like credentials; a value a custom serdes
encrypts or encodes, except for live keys found in its strings; a credential
inside an object the default serdes would refuse anyway; an operation's error
message (a step that raises with a key in its message checkpoints that
message); results of callbacks (written by whoever calls back); the handler's
return value unless the decorator calls `check_value` on it. It may also
refuse harmless text that looks like a credential (a field named ``token``,
a word like ``ASIAPACIFIC``): rename the field or change the serdes.

The durable SDK is imported inside the functions that use it, never at import.

Example:
    >>> refusal('{"account": "111111111111", "buckets": 3}') is None
    True
    >>> refusal('{"t":"m","v":{"SessionToken":"FQoGZXIvYXdzE"}}') == LOOKS_LIKE_A_CREDENTIAL
    True
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from lambda_assume_role.redact import redact_text, secrets_of
from lambda_assume_role.refresh import live_secrets

if TYPE_CHECKING:
    import boto3
    from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

__all__ = [
    "LIVE_KEY",
    "LOOKS_LIKE_A_CREDENTIAL",
    "check_value",
    "guarded",
    "protect",
    "refusal",
]

LIVE_KEY = "a live AWS key or session token (this process's, its environment's or its parent's)"
LOOKS_LIKE_A_CREDENTIAL = (
    "text that looks like an AWS credential (an access key id, a secret or token field, "
    "an Authorization header or a SigV4 credential scope)"
)

# As redact_text's known=: real keys and tokens are longer, a short value would match words.
_MIN_SECRET = 16
_ENVIRONMENT_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Set on a protected DurableContext: its key source, so protecting twice is a no-op.
_MARK = "_lambda_assume_role_checkpoint_keys"


def refusal(text: str, known: Iterable[str] = ()) -> str | None:
    """The rule ``text`` breaks if it were checkpointed, or None when it may be.

    Args:
        text: Serialized text, as a serdes returns it.
        known: Keys and tokens that must never appear (values shorter than 16
            characters are ignored).

    Example:
        >>> token = "FQoGZXIvYXdzEexampletoken0001"
        >>> refusal(f"done with {token}", known=[token]) == LIVE_KEY
        True
        >>> refusal("NextToken=page2") is None
        True
    """
    if any(len(secret) >= _MIN_SECRET and secret in text for secret in known):
        return LIVE_KEY
    if redact_text(text) != text:
        return LOOKS_LIKE_A_CREDENTIAL
    return None


class _Keys:
    """Every key and token the guard must never let through, read when a value is checked."""

    def __init__(self, parents: Iterable[boto3.Session] = ()) -> None:
        self.parents = tuple(parents)

    def __call__(self) -> frozenset[str]:
        values = set(live_secrets())
        values.update(os.environ.get(name) or "" for name in _ENVIRONMENT_KEYS)
        for parent in self.parents:
            values.update(secrets_of(parent))
        return frozenset(value for value in values if len(value) >= _MIN_SECRET)


def _strings(value: Any) -> Iterator[str]:
    """Every string and bytes value inside plain containers (a namedtuple is a tuple)."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes | bytearray):
            yield bytes(item).decode("latin-1")
        elif isinstance(item, list | tuple | set | frozenset | dict) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            else:
                stack.extend(item)


def _refuse(what: str, operation_id: str, rule: str) -> Exception:
    where = f"{what} (operation {operation_id})" if operation_id else what
    return _error_type()(
        f"lambda_assume_role refused to checkpoint {where}: it holds {rule}. "
        "Nothing was written and the operation is not retried. Return what was done with "
        "the credentials, never the credentials or an AssumeRole answer."
    )


def _check(value: Any, text: str | None, what: str, operation_id: str, keys: _Keys) -> None:
    known = keys()
    inside = "\x00".join(_strings(value)) if known else ""
    if any(secret in inside for secret in known):
        raise _refuse(what, operation_id, LIVE_KEY)
    rule = refusal(text, known) if text is not None else None
    if rule is not None:
        raise _refuse(what, operation_id, rule)


def check_value(value: Any, what: str, *, parents: Iterable[boto3.Session] = ()) -> None:
    """Refuse a value the SDK would write without a serdes (the handler's return value).

    The SDK writes a durable handler's return value with ``json.dumps``; this
    checks that text as `guarded` checks a checkpoint.

    Args:
        value: The value about to be written.
        what: What it is, for the message (``"the handler's result"``).
        parents: Sessions whose keys count as live too.

    Raises:
        CredentialCheckpointError: A `SerDesError` naming ``what`` and the rule.

    Example:
        >>> check_value({"accounts": 3}, "the handler's result")
    """
    import json

    try:
        text: str | None = json.dumps(value, default=repr)
    except (TypeError, ValueError):  # the SDK will refuse it itself; its strings are still checked
        text = None
    _check(value, text, what, "", _Keys(parents))


def guarded(
    serdes: SerDes[Any] | None = None,
    what: str = "the result of a durable operation",
    *,
    parents: Iterable[boto3.Session] = (),
    default: SerDes[Any] | None = None,
) -> SerDes[Any]:
    """``serdes`` (or the SDK's default) refusing any result that holds a credential.

    Args:
        serdes: The user's serdes; None: ``default``, or the SDK's extended-types
            serdes (its default for steps, maps, parallels and child contexts).
        what: What is serialized, for the message (``"the result of step 'count'"``).
        parents: Sessions whose keys count as live too.
        default: The serdes the SDK uses for this operation when none is given.

    Returns:
        A `SerDes` whose ``serialize`` raises `CredentialCheckpointError` (a
        permanent `SerDesError`) instead of returning such text.
    """
    return _guarded(serdes, what, _Keys(parents), default)


def _guarded(
    serdes: SerDes[Any] | None, what: str, keys: _Keys, default: SerDes[Any] | None = None
) -> SerDes[Any]:
    if serdes is None:
        serdes = default if default is not None else _extended_types()
    guard: SerDes[Any] = _guard_type()(serdes, what, keys)
    return guard


@functools.cache
def _extended_types() -> SerDes[Any]:
    from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

    return EXTENDED_TYPES_SERDES


@functools.cache
def _error_type() -> type[Exception]:
    from aws_durable_execution_sdk_python.exceptions import SerDesError

    class CredentialCheckpointError(SerDesError):
        """A result refused because it holds a credential; permanent, so never retried."""

    CredentialCheckpointError.__module__ = __name__
    return CredentialCheckpointError


@functools.cache
def _guard_type() -> Callable[[SerDes[Any], str, _Keys], SerDes[Any]]:
    from aws_durable_execution_sdk_python.serdes import SerDes

    class CredentialGuard(SerDes[Any]):
        """Serializes with the wrapped serdes, then refuses text that holds a credential."""

        def __init__(self, inner: SerDes[Any], what: str, keys: _Keys) -> None:
            self.inner = inner
            self.what = what
            self._keys = keys

        def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
            text: str | None = self.inner.serialize(value, serdes_context)
            _check(value, text, self.what, serdes_context.operation_id, self._keys)
            return text  # type: ignore[return-value]  # a serdes may return None; passed on

        def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
            return self.inner.deserialize(data, serdes_context)

        def __repr__(self) -> str:
            return f"CredentialGuard({self.inner!r}, what={self.what!r})"

    CredentialGuard.__module__ = __name__
    return CredentialGuard


def protect(context: Any, *, parents: Iterable[boto3.Session] = ()) -> None:
    """Guard every checkpoint written from a handler's `DurableContext` and its children.

    Wraps, on this context object only, ``step``, ``map``, ``parallel``,
    ``run_in_child_context``, ``wait_for_condition`` and ``invoke`` so that
    each passes its config with the serdes wrapped by `guarded` (the user's
    own serdes still runs inside), and ``create_child_context`` so that map
    items, parallel branches and child contexts are protected the same way.
    Each wrapper calls what the attribute held before, so another wrapper
    installed first keeps working. Calling it again on a protected context
    does nothing.

    Args:
        context: The ``DurableContext`` a ``@durable_execution`` handler receives.
        parents: Sessions whose keys count as live too (the environment's keys
            and every session this library made always do).

    Example (a decorator inside ``@durable_execution`` calls it)::

        @durable_execution
        def handler(event, context):
            protect(context)
            return context.step(lambda _: {"buckets": 3}, name="count")
    """
    if getattr(context, _MARK, None) is not None:
        return
    _install(context, _Keys(parents))


def _install(context: Any, keys: _Keys) -> None:
    from aws_durable_execution_sdk_python.config import (
        ChildConfig,
        InvokeConfig,
        MapConfig,
        ParallelConfig,
        StepConfig,
    )
    from aws_durable_execution_sdk_python.serdes import DEFAULT_JSON_SERDES

    def guard(serdes: SerDes[Any] | None, what: str, default: Any = None) -> SerDes[Any]:
        return _guarded(serdes, what, keys, default)

    # The attributes as they are now: another wrapper installed first stays in the chain.
    step, map_, parallel, invoke = context.step, context.map, context.parallel, context.invoke
    run_in_child_context = context.run_in_child_context
    wait_for_condition = context.wait_for_condition
    create_child_context = context.create_child_context

    def guarded_step(func: Callable[..., Any], name: str | None = None, config: Any = None) -> Any:
        config = config or StepConfig()
        label = f"the result of {_label('step', name, func)}"
        return step(func, name, dataclasses.replace(config, serdes=guard(config.serdes, label)))

    def guarded_map(
        inputs: Any, func: Callable[..., Any], name: str | None = None, config: Any = None
    ) -> Any:
        config = config or MapConfig()
        label = _label("map", name, func)
        return map_(inputs, func, name, _batch_config(config, label, "an item", guard))

    def guarded_parallel(functions: Any, name: str | None = None, config: Any = None) -> Any:
        label = _label("parallel", name)
        config = _batch_config(config or ParallelConfig(), label, "a branch", guard)
        return parallel(functions, name, config)

    def guarded_child(func: Callable[..., Any], name: str | None = None, config: Any = None) -> Any:
        config = config or ChildConfig()
        label = f"the result of {_label('child context', name, func)}"
        return run_in_child_context(
            func, name, dataclasses.replace(config, serdes=guard(config.serdes, label))
        )

    def guarded_condition(check: Callable[..., Any], config: Any, name: str | None = None) -> Any:
        if config is not None:
            label = f"the state of {_label('wait_for_condition', name, check)}"
            config = dataclasses.replace(config, serdes=guard(config.serdes, label))
        return wait_for_condition(check, config, name)

    def guarded_invoke(
        function_name: str, payload: Any, name: str | None = None, config: Any = None
    ) -> Any:
        config = config or InvokeConfig()
        label = f"the payload of invoke {name or function_name!r}"
        serdes = guard(config.serdes_payload, label, default=DEFAULT_JSON_SERDES)
        config = dataclasses.replace(config, serdes_payload=serdes)
        return invoke(function_name, payload, name, config)

    def guarded_create_child_context(operation_id: str, *, is_virtual: bool = False) -> Any:
        child = create_child_context(operation_id, is_virtual=is_virtual)
        if getattr(child, _MARK, None) is None:
            _install(child, keys)
        return child

    context.step = guarded_step
    context.map = guarded_map
    context.parallel = guarded_parallel
    context.run_in_child_context = guarded_child
    context.wait_for_condition = guarded_condition
    context.invoke = guarded_invoke
    context.create_child_context = guarded_create_child_context
    setattr(context, _MARK, keys)


def _batch_config(config: Any, label: str, part: str, guard: Callable[..., SerDes[Any]]) -> Any:
    """A map's or parallel's config with both serdes guarded, each item's as the SDK picks it."""
    return dataclasses.replace(
        config,
        serdes=guard(config.serdes, f"the result of {label}"),
        item_serdes=guard(config.item_serdes or config.serdes, f"the result of {part} of {label}"),
    )


def _label(kind: str, name: str | None, func: Any = None) -> str:
    """``step 'count'``: the SDK's name for the operation, else its function's."""
    name = name or getattr(func, "_original_name", None) or getattr(func, "__name__", None)
    return f"{kind} {name!r}" if name and name != "<lambda>" else f"an unnamed {kind}"
