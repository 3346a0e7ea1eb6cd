r"""STS's request model, checked in full before any network call.

``botocore.validate`` checks types, required members and minimums, but not
maximums or patterns, so 51 tags, a comma in a tag key or a ``TokenCode`` of
letters all travel to STS and come back as a remote error. `check` walks a
botocore input `Shape` and applies every rule the model carries (required and
unknown members, types, ``min``/``max`` on lengths, list sizes and integer
ranges, ``pattern``, ``enum``), plus the few limits the AWS docs set that the
model does not carry (`DOC_LIMITS`). Nothing here is a per-parameter table:
a new botocore with a new AssumeRole member or rule is checked as it stands.

The model's patterns are Java regular expressions. Python's `re` lacks
Unicode property classes such as ``\p{L}`` (the tag patterns use them), so
`compile_pattern` translates each pattern once, on first use:

* Java's ``\w``, ``\d`` and ``\s`` are ASCII (its default), as STS means them;
  ``\p{..}`` classes are Unicode general categories, read per character from
  `unicodedata` (no code point tables are built: that costs ~0.2 s at cold
  start).
* A pattern with a property class matches a non-ASCII value with each
  character followed by a marker for its general category; every atom of the
  translated pattern consumes a (character, marker) pair, so a class such as
  ``[\p{L}_]`` becomes "(``_``, any marker) or (any character, a letter
  marker)". An ASCII value, the common case, is matched by a plain `re`
  pattern where each property class is cut down to its ASCII members (128
  look-ups, done once). Patterns without property classes are plain `re`
  patterns. The general categories are those of this interpreter's
  `unicodedata`, which may be an older Unicode version than STS's.
* ``\uXXXX`` takes exactly four hex digits, as in Java (and `re`): the model's
  ``\u10000-\u10FFFF`` therefore means U+1000, ``0``-U+10FF, ``F``, ``F``
  rather than the astral planes; the `regex` library reads it the same way.

The `regex` library is the test oracle for the translation; it is never
imported here (the Lambda layer ships no compiled extensions).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambda_assume_role.errors import InvalidParameterError

if TYPE_CHECKING:
    from botocore.model import Shape

__all__ = [
    "DOC_LIMITS",
    "SECRET_MEMBERS",
    "DocLimit",
    "ModelPattern",
    "UnsupportedPatternError",
    "check",
    "compile_pattern",
]


@dataclass(frozen=True)
class DocLimit:
    """A maximum the AWS docs set for a top-level member that the model does not carry.

    Attributes:
        max: The most characters (strings) or items (lists).
        source: Where the docs say so; shown in the error message.
    """

    max: int
    source: str


DOC_LIMITS: Mapping[str, DocLimit] = {
    # STS API Reference, AssumeRole, request parameter PolicyArns
    # (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
    # "You can provide up to 10 managed policy ARNs." Also in the IAM User Guide,
    # "IAM and AWS STS quotas".
    "PolicyArns": DocLimit(10, "AWS STS API Reference, AssumeRole"),
    # Same page, request parameter Policy: "The plaintext that you use for both
    # inline and managed session policies can't exceed 2,048 characters." The
    # model gives Policy a minimum and a pattern, but no maximum.
    "Policy": DocLimit(2048, "AWS STS API Reference, AssumeRole"),
}
"""Doc-only limits, by member name of the checked (top-level) shape."""

SECRET_MEMBERS = frozenset({"TokenCode"})
"""Members whose values never appear in a message (nor do those of shapes marked ``sensitive``)."""

_SHOWN_CHARACTERS = 64


class UnsupportedPatternError(ValueError):
    """A model pattern uses Java regex syntax that `compile_pattern` does not translate.

    `check` skips such a pattern (STS still applies it); a test walks the whole
    STS model so that a new construct is noticed.
    """


# --- Pattern translation ------------------------------------------------------

_CATEGORIES = (
    *("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe"),
    *("Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"),
)
# One marker per general category, from a private-use plane: a marker only ever
# sits at the odd positions of a paired value, where only markers are matched.
_MARKER = {category: chr(0xF0000 + index) for index, category in enumerate(_CATEGORIES)}
_ALL_CATEGORIES = frozenset(_CATEGORIES)
# Java's line terminators: what its "." does not match.
_JAVA_LINE_TERMINATORS = r"\n\r\x85\u2028\u2029"
_CLASS_ESCAPES = {"d": r"\d", "D": r"\D", "w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S"}
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "r": 0x0D, "f": 0x0C, "a": 0x07, "e": 0x1B}
_HEX = frozenset("0123456789abcdefABCDEF")


class _CategoryPairs(dict[int, str]):
    """`str.translate` table: a character becomes itself plus its category marker.

    Filled on demand; the first few thousand distinct code points are kept, so
    the table stays small whatever values it sees.
    """

    _KEEP = 4096

    def __missing__(self, code_point: int) -> str:
        import unicodedata

        pair = chr(code_point) + _MARKER[unicodedata.category(chr(code_point))]
        if len(self) < self._KEEP:
            self[code_point] = pair
        return pair


_PAIRS = _CategoryPairs()


class ModelPattern:
    """A model pattern translated to Python; `fullmatch` answers as AWS means it.

    Attributes:
        source: The pattern as the model spells it.
        plain: The translated `re` pattern for values it can match directly:
            every value when ``paired`` is None, else ASCII values (property
            classes cut down to their ASCII members).
        paired: For a pattern with ``\\p{..}`` classes, the translation that
            matches a non-ASCII value paired with category markers; else None.
    """

    __slots__ = ("_paired", "_plain", "paired", "plain", "source")

    def __init__(self, source: str, plain: str, paired: str | None) -> None:
        self.source = source
        self.plain = plain
        self.paired = paired
        self._plain = re.compile(plain, re.ASCII | re.DOTALL)
        self._paired: re.Pattern[str] | None = None  # compiled at the first non-ASCII value

    def fullmatch(self, value: str) -> bool:
        """Whether the whole of ``value`` matches (AWS patterns are anchored).

        Raises:
            UnsupportedPatternError: Not expected: the translation for
                non-ASCII values, compiled at the first such value, failed.

        Example:
            >>> compile_pattern(r"[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+").fullmatch("Größe 日本")
            True
            >>> compile_pattern(r"[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+").fullmatch("a,b")
            False
        """
        if self.paired is None or value.isascii():
            return self._plain.fullmatch(value) is not None
        if self._paired is None:
            # Two threads may both compile it; either result is the same. It has
            # the plain translation's structure, which compiled, so it compiles.
            try:
                self._paired = re.compile(self.paired, re.ASCII | re.DOTALL)
            except re.error as error:  # pragma: no cover - see above
                raise UnsupportedPatternError(f"{self.source!r}: {error}") from None
        return self._paired.fullmatch(value.translate(_PAIRS)) is not None

    def __repr__(self) -> str:
        return f"ModelPattern({self.source!r})"


@functools.cache
def compile_pattern(pattern: str) -> ModelPattern:
    r"""Translate a Java-style model pattern to Python, once per pattern.

    Args:
        pattern: A ``pattern`` from a botocore model.

    Returns:
        A `ModelPattern`; the same object for the same pattern.

    Raises:
        UnsupportedPatternError: The pattern uses syntax this does not translate
            (lookarounds, back references, ``\Q..\E``, class intersections,
            POSIX, script or block classes, inline flags, possessive
            quantifiers), or is not a valid Java pattern.

    Example:
        >>> compile_pattern(r"[\w+=,.@-]*").fullmatch("é")  # Java's \w is ASCII
        False
    """
    tokens = _Parser(pattern).parse()
    has_properties = any(isinstance(t, _Class) and t.categories for t in tokens)
    plain = "".join(t.emit_plain() if isinstance(t, _Class) else t for t in tokens)
    paired = None
    if has_properties:
        paired = "".join(t.emit_paired() if isinstance(t, _Class) else t for t in tokens)
    try:
        return ModelPattern(pattern, plain, paired)
    except re.error as error:
        raise UnsupportedPatternError(f"{pattern!r} is not a valid pattern: {error}") from None


@dataclass(frozen=True)
class _Class:
    """One atom that matches one character: a class, a literal, ``.`` or an escape.

    It matches a character that is among ``fragments`` (Python class syntax) or
    whose general category is in ``categories``; ``negated`` inverts that.
    """

    negated: bool
    fragments: tuple[str, ...]
    categories: frozenset[str] = frozenset()

    def emit_plain(self) -> str:
        """This atom over plain characters; categories count only their ASCII members."""
        literal = "".join(self.fragments)
        if self.categories:
            literal += "".join(_escape_code_point(c) for c in _ascii_members(self.categories))
        if not literal:
            return "." if self.negated else "(?!)"
        return f"[{'^' if self.negated else ''}{literal}]"

    def emit_paired(self) -> str:
        """This atom over (character, category marker) pairs."""
        literal = "".join(self.fragments)
        if self.negated:
            allowed = _ALL_CATEGORIES - self.categories
            first = f"[^{literal}]" if literal else "."
            return f"(?:{first}{_markers(allowed)})"
        options = []
        if literal:
            options.append(f"[{literal}].")
        if self.categories:
            options.append(f".{_markers(self.categories)}")
        return f"(?:{'|'.join(options)})"


def _ascii_members(categories: frozenset[str]) -> list[int]:
    import unicodedata

    return [c for c in range(128) if unicodedata.category(chr(c)) in categories]


def _markers(categories: frozenset[str]) -> str:
    if not categories:
        return "(?!)"
    if categories == _ALL_CATEGORIES:
        return "."
    return "[" + "".join(_escape_code_point(ord(_MARKER[c])) for c in sorted(categories)) + "]"


def _escape_code_point(code_point: int) -> str:
    char = chr(code_point)
    if char.isascii() and char.isalnum():
        return char
    if code_point < 0x100:
        return f"\\x{code_point:02x}"
    if code_point < 0x10000:
        return f"\\u{code_point:04x}"
    return f"\\U{code_point:08x}"


def _property_categories(name: str) -> frozenset[str]:
    """The general categories a Java ``\\p{name}`` names: ``L``, ``Lu``, ``IsL``, ``gc=Lu``."""
    for prefix in ("general_category=", "gc=", "Is"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if len(name) == 1:
        found = frozenset(c for c in _CATEGORIES if c[0] == name)
        if found:
            return found
    elif name in _ALL_CATEGORIES:
        return frozenset({name})
    raise UnsupportedPatternError(f"\\p{{{name}}} is not a Unicode general category")


class _Parser:
    """Reads a Java pattern into atoms (`_Class`) and structural `re` text."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.i = 0

    def fail(self, what: str) -> UnsupportedPatternError:
        return UnsupportedPatternError(
            f"{what} at position {self.i} of {self.pattern!r} is not supported"
        )

    def parse(self) -> list[_Class | str]:
        tokens: list[_Class | str] = []
        pattern = self.pattern
        while self.i < len(pattern):
            char = pattern[self.i]
            if char == "[":
                self.i += 1
                tokens.append(self.character_class())
            elif char == "\\":
                tokens.append(self.escape_atom())
            elif char == ".":
                self.i += 1
                tokens.append(_Class(True, (_JAVA_LINE_TERMINATORS,)))
            elif char == "(":
                tokens.append(self.group())
            elif char in ")|":
                self.i += 1
                tokens.append(char)
            elif char in "*+?{":
                tokens.append(self.quantifier())
            elif char in "^$":
                # Anchors are no-ops at the ends under fullmatch; elsewhere they
                # would need Java's line-terminator rules.
                at_end = (char == "^" and self.i == 0) or (
                    char == "$" and self.i == len(pattern) - 1
                )
                if not at_end:
                    raise self.fail(f"{char!r} inside the pattern")
                self.i += 1
            else:
                self.i += 1
                tokens.append(_Class(False, (_escape_code_point(ord(char)),)))
        return tokens

    def group(self) -> str:
        if self.pattern.startswith("(?:", self.i):
            self.i += 3
            return "(?:"
        if self.pattern.startswith("(?", self.i):
            raise self.fail("a special group")
        self.i += 1
        return "("

    def quantifier(self) -> str:
        pattern = self.pattern
        if pattern[self.i] == "{":
            match = re.compile(r"\{(\d+)(,(\d*))?\}").match(pattern, self.i)
            if match is None:
                raise self.fail("a malformed {n,m}")
            text = match.group()
            self.i = match.end()
        else:
            text = pattern[self.i]
            self.i += 1
        if self.i < len(pattern) and pattern[self.i] == "+":
            raise self.fail("a possessive quantifier")
        if self.i < len(pattern) and pattern[self.i] == "?":
            self.i += 1
            text += "?"
        return text

    def escape_atom(self) -> _Class:
        _, value = self.escape()
        if isinstance(value, int):
            return _Class(False, (_escape_code_point(value),))
        if isinstance(value, frozenset):
            return _Class(False, (), value)
        return _Class(False, (value,))

    def escape(self) -> tuple[str, int | str | frozenset[str]]:
        """Read the escape at ``self.i`` (a backslash).

        Returns ("char", code point), ("fragment", Python class text) or
        ("categories", general categories).
        """
        pattern = self.pattern
        start = self.i
        if start + 1 >= len(pattern):
            raise self.fail("a trailing backslash")
        letter = pattern[start + 1]
        self.i = start + 2
        if letter == "u":
            digits = pattern[self.i : self.i + 4]
            if len(digits) != 4 or not set(digits) <= _HEX:
                raise self.fail("a malformed \\u escape")
            self.i += 4
            return "char", int(digits, 16)
        if letter == "x":
            if pattern.startswith("{", self.i):
                end = pattern.find("}", self.i)
                digits = pattern[self.i + 1 : end] if end > 0 else ""
                if not digits or not set(digits) <= _HEX or int(digits, 16) > 0x10FFFF:
                    raise self.fail("a malformed \\x{...} escape")
                self.i = end + 1
                return "char", int(digits, 16)
            digits = pattern[self.i : self.i + 2]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise self.fail("a malformed \\x escape")
            self.i += 2
            return "char", int(digits, 16)
        if letter in _CONTROL_ESCAPES:
            return "char", _CONTROL_ESCAPES[letter]
        if letter in _CLASS_ESCAPES:
            return "fragment", _CLASS_ESCAPES[letter]
        if letter in "pP":
            if pattern.startswith("{", self.i):
                end = pattern.find("}", self.i)
                if end < 0:
                    raise self.fail("an unclosed \\p{")
                name = pattern[self.i + 1 : end]
                self.i = end + 1
            else:
                name = pattern[self.i : self.i + 1]
                self.i += 1
            categories = _property_categories(name)
            if letter == "P":
                categories = _ALL_CATEGORIES - categories
            return "categories", categories
        if letter.isascii() and letter.isalnum():
            self.i = start
            raise self.fail(f"the escape \\{letter}")
        return "char", ord(letter)

    def class_item(self) -> tuple[str, int | str | frozenset[str]]:
        char = self.pattern[self.i]
        if char == "\\":
            return self.escape()
        if char == "[":
            raise self.fail("a nested class")
        if char == "&" and self.pattern.startswith("&&", self.i):
            raise self.fail("a class intersection")
        self.i += 1
        return "char", ord(char)

    def character_class(self) -> _Class:
        pattern = self.pattern
        negated = pattern.startswith("^", self.i)
        if negated:
            self.i += 1
        if pattern.startswith("]", self.i):
            raise self.fail("an empty class or a leading ']'")
        fragments: list[str] = []
        categories: frozenset[str] = frozenset()
        while True:
            if self.i >= len(pattern):
                raise self.fail("an unclosed class")
            if pattern[self.i] == "]":
                self.i += 1
                break
            kind, value = self.class_item()
            if kind == "categories":
                assert isinstance(value, frozenset)
                categories |= value
            elif kind == "fragment":
                assert isinstance(value, str)
                fragments.append(value)
            else:
                assert isinstance(value, int)
                low = value
                is_range = (
                    pattern.startswith("-", self.i)
                    and self.i + 1 < len(pattern)
                    and pattern[self.i + 1] != "]"
                )
                if not is_range:
                    fragments.append(_escape_code_point(low))
                    continue
                self.i += 1
                end_kind, high = self.class_item()
                if end_kind != "char" or not isinstance(high, int) or high < low:
                    raise self.fail("a bad range")
                fragments.append(f"{_escape_code_point(low)}-{_escape_code_point(high)}")
        return _Class(negated, tuple(fragments), categories)


# --- The checker --------------------------------------------------------------


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
