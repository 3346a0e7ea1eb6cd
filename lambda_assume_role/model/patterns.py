r"""botocore's model patterns (Java regular expressions), matched as AWS means them.

Python's `re` lacks Unicode property classes such as ``\p{L}`` (the tag
patterns use them), and its ``\w``, ``\d``, ``\s`` and ``.`` mean other things
than Java's. `compile_pattern` translates each pattern once, on first use
(`lambda_assume_role.model.java_syntax` reads it):

* A pattern without property classes is a plain `re` pattern.
* A pattern with property classes matches an ASCII value, the common case,
  with a plain `re` pattern where each property class is cut down to its ASCII
  members (128 look-ups, done once). It matches a non-ASCII value with each
  character followed by a marker for its general category
  (`lambda_assume_role.model.categories`); every atom of that translation
  consumes a (character, marker) pair (`lambda_assume_role.model.atoms`).

The `regex` library is the test oracle for the translation; it is never
imported here (the Lambda layer ships no compiled extensions).
"""

from __future__ import annotations

import functools
import re

from lambda_assume_role.model.atoms import Atom
from lambda_assume_role.model.categories import with_markers
from lambda_assume_role.model.java_syntax import UnsupportedPatternError, parse

__all__ = ["ModelPattern", "UnsupportedPatternError", "compile_pattern"]


class ModelPattern:
    r"""A model pattern translated to Python; `fullmatch` answers as AWS means it.

    Attributes:
        source: The pattern as the model spells it.
        plain: The translated `re` pattern for values it can match directly:
            every value when ``paired`` is None, else ASCII values (property
            classes cut down to their ASCII members).
        paired: For a pattern with ``\p{..}`` classes, the translation that
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
        return self._paired.fullmatch(with_markers(value)) is not None

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
    tokens = parse(pattern)
    has_properties = any(isinstance(t, Atom) and t.categories for t in tokens)
    plain = "".join(t.emit_plain() if isinstance(t, Atom) else t for t in tokens)
    paired = None
    if has_properties:
        paired = "".join(t.emit_paired() if isinstance(t, Atom) else t for t in tokens)
    try:
        return ModelPattern(pattern, plain, paired)
    except re.error as error:
        raise UnsupportedPatternError(f"{pattern!r} is not a valid pattern: {error}") from None
