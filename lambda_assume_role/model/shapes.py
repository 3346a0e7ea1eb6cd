r"""A request checked against a botocore input `Shape`, in full, before any network call.

``botocore.validate`` checks types, required members and minimums, but not
maximums or patterns, so 51 tags, a comma in a tag key or a ``TokenCode`` of
letters all travel to STS and come back as a remote error. `check` walks a
botocore input `Shape` and applies every rule the model carries (required and
unknown members, types, ``min``/``max`` on lengths, list sizes and integer
ranges, ``pattern``, ``enum``), plus the few limits the AWS docs set that the
model does not carry (`DOC_LIMITS`). Nothing here is a per-parameter table:
a new botocore with a new AssumeRole member or rule is checked as it stands.
Patterns are matched as Java reads them (`lambda_assume_role.model.patterns`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.model.doc_rules import DOC_LIMITS, SECRET_MEMBERS, DocLimit
from lambda_assume_role.model.patterns import UnsupportedPatternError, compile_pattern

if TYPE_CHECKING:
    from botocore.model import Shape

__all__ = ["check"]

_SHOWN_CHARACTERS = 64


def check(shape: Shape, params: Any) -> None:
    r"""Check request parameters against a botocore input shape, before any network call.

    Every rule comes from the shape (required and unknown members, types,
    ``min``/``max`` lengths, item counts and ranges, ``pattern`` as a whole-value
    match, ``enum``), plus `DOC_LIMITS` for the shape's own members. ``bool``
    is not an integer. ``None`` is not a value of any type (as in botocore's
    validator): leave out what is not given.

    Args:
        shape: The operation's input shape, e.g.
            ``ServiceModel(...).operation_model("AssumeRole").input_shape``.
        params: The request, as it would be passed to the client method.

    Raises:
        InvalidParameterError: On the first rule broken. The one-line message
            names the parameter path (``Tags[3].Key``), the rule and the value,
            cut to 64 characters; the values of `SECRET_MEMBERS` and of
            ``sensitive`` shapes, and of members the shape does not have, are
            never shown.

    Example:
        >>> import botocore.session
        >>> sts = botocore.session.get_session().get_service_model("sts")
        >>> request = sts.operation_model("AssumeRole").input_shape
        >>> check(request, {"RoleArn": "arn:aws:iam::123456789012:role/R",
        ...                 "RoleSessionName": "s1", "Tags": [{"Key": "a,b", "Value": ""}]},
        ... )  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: Tags[0].Key must match [\p{L}\p{Z}...
    """
    label = shape.name.removesuffix("Request")
    article = "an" if label[:1] in tuple("AEIOU") else "a"
    _check_value(shape, params, path="", secret=False, owner=f"{article} {label} parameter")


_TYPE_RULES: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "integer": ((int,), "an integer"),
    "long": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "double": ((int, float), "a number"),
    "boolean": ((bool,), "True or False"),
    "timestamp": ((datetime.datetime, str), "a datetime or a timestamp string"),
    "blob": ((bytes, bytearray, str), "bytes, a string or a file-like object"),
    "list": ((list, tuple), "a list"),
    "map": ((Mapping,), "a mapping"),
    "structure": ((Mapping,), "a mapping"),
}
_SINGULAR = {"characters": "character", "bytes": "byte", "items": "item", "entries": "entry"}
_NUMBERS = frozenset({"integer", "long", "float", "double"})
_SCALARS = (str, int, float, bytes, bytearray, datetime.datetime, type(None))


def _check_value(
    shape: Shape, value: Any, *, path: str, secret: bool, owner: str, limit: DocLimit | None = None
) -> None:
    secret = secret or bool(shape.metadata.get("sensitive"))
    type_name = shape.type_name
    _check_type(shape, value, path=path, secret=secret)
    if type_name == "structure":
        _check_structure(shape, value, path=path, secret=secret, owner=owner)
    elif type_name == "list":
        _check_size(shape, len(value), "items", value, path=path, secret=secret, limit=limit)
        for index, item in enumerate(value):
            _check_value(
                shape.member,  # type: ignore[attr-defined]
                item,
                path=f"{path}[{index}]",
                secret=secret,
                owner=owner,
            )
    elif type_name == "map":
        _check_size(shape, len(value), "entries", value, path=path, secret=secret, limit=limit)
        for key, item in value.items():
            _check_value(shape.key, key, path=f"{path} key", secret=secret, owner=owner)  # type: ignore[attr-defined]
            _check_value(
                shape.value,  # type: ignore[attr-defined]
                item,
                path=f"{path}[{_show(key)}]",
                secret=secret,
                owner=owner,
            )
    elif type_name == "string":
        _check_string(shape, value, path=path, secret=secret, limit=limit)
    elif type_name in _NUMBERS:
        _check_range(shape, value, path=path, secret=secret)
    elif type_name == "blob" and isinstance(value, (bytes, bytearray, str)):
        _check_size(shape, len(value), "bytes", value, path=path, secret=secret, limit=limit)


def _check_type(shape: Shape, value: Any, *, path: str, secret: bool) -> None:
    rule = _TYPE_RULES.get(shape.type_name)
    if rule is None:
        return
    types, words = rule
    ok = isinstance(value, types)
    if shape.type_name in _NUMBERS and isinstance(value, bool):
        ok = False
    elif shape.type_name in ("float", "double") and not ok:
        ok = type(value).__name__ == "Decimal"
    elif shape.type_name == "blob" and not ok:
        ok = callable(getattr(value, "read", None))
    if ok:
        return
    if shape.type_name == "structure":
        members = ", ".join(shape.members)  # type: ignore[attr-defined]
        words = f"a mapping with members {members}" if members else words
    got = type(value).__name__
    if not secret and isinstance(value, _SCALARS):
        got += f": {_show(value)}"
    raise InvalidParameterError(f"{path or 'the request'} must be {words}; got {got}")


def _check_structure(
    shape: Shape, value: Mapping[Any, Any], *, path: str, secret: bool, owner: str
) -> None:
    members: Mapping[str, Shape] = shape.members  # type: ignore[attr-defined]
    for name in shape.required_members:
        if name not in value:
            raise InvalidParameterError(f"{_join(path, name)} is required")
    for name in value:
        if name not in members:
            # The value is never shown: an unknown member may be anything,
            # a secret key included.
            known = ", ".join(sorted(members))
            what = owner if not path else f"a member of {shape.name}"
            raise InvalidParameterError(f"{_join(path, str(name))} is not {what} (known: {known})")
    for name, item in value.items():
        member = members[name]
        _check_value(
            member,
            item,
            path=_join(path, name),
            secret=secret or name in SECRET_MEMBERS,
            owner=owner,
            limit=None if path else DOC_LIMITS.get(name),
        )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _bounds(shape: Shape, limit: DocLimit | None) -> tuple[Any, Any, str]:
    """(min, max, source note) from the model, tightened by a doc-only limit."""
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    note = ""
    if limit is not None and (high is None or limit.max < high):
        high = limit.max
        note = f" ({limit.source})"
    return low, high, note


def _check_size(
    shape: Shape,
    size: int,
    unit: str,
    value: Any,
    *,
    path: str,
    secret: bool,
    limit: DocLimit | None,
) -> None:
    low, high, note = _bounds(shape, limit)
    if low is not None and size < low:
        bound, rule = low, f"exactly {low}" if low == high else f"at least {low}"
    elif high is not None and size > high:
        bound, rule = high, f"exactly {high}" if low == high else f"at most {high}"
    else:
        return
    verb = "be" if unit in ("characters", "bytes") else "have"
    if bound == 1:
        unit = _SINGULAR[unit]
    shown = "" if secret or not isinstance(value, (str, bytes, bytearray)) else f": {_show(value)}"
    raise InvalidParameterError(f"{path} must {verb} {rule} {unit}{note}; got {size}{shown}")


def _check_string(
    shape: Shape, value: str, *, path: str, secret: bool, limit: DocLimit | None
) -> None:
    _check_size(shape, len(value), "characters", value, path=path, secret=secret, limit=limit)
    pattern = shape.metadata.get("pattern")
    if pattern is not None:
        try:
            matches = compile_pattern(pattern).fullmatch(value)
        except UnsupportedPatternError:
            matches = True  # STS still checks it; a test covers every STS pattern.
        if not matches:
            raise InvalidParameterError(f"{path} must match {pattern}; got {_shown(value, secret)}")
    enum = shape.enum  # type: ignore[attr-defined]
    if enum and value not in enum:
        raise InvalidParameterError(
            f"{path} must be one of {', '.join(enum)}; got {_shown(value, secret)}"
        )


def _check_range(shape: Shape, value: Any, *, path: str, secret: bool) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None:
        rule = f"between {low} and {high}"
    elif low is not None:
        rule = f"at least {low}"
    else:
        rule = f"at most {high}"
    raise InvalidParameterError(f"{path} must be {rule}; got {_shown(value, secret)}")


def _shown(value: Any, secret: bool) -> str:
    return "a value that is not shown (it is secret)" if secret else _show(value)


_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _show(value: Any) -> str:
    """A value for a one-line message: a repr cut to 64 characters."""
    if isinstance(value, str):
        cut = value[:_SHOWN_CHARACTERS]
        return repr(cut) + ("..." if len(value) > len(cut) else "")
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        return f"<{type(value).__name__}>"
    if len(text) > _SHOWN_CHARACTERS:
        text = text[:_SHOWN_CHARACTERS] + "..."
    return text.translate(_LINE_BREAKS)
