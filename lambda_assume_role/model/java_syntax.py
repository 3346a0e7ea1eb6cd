r"""Java regular-expression syntax, read into atoms and structural `re` text.

botocore's model patterns are Java regular expressions. `parse` reads the
subset they use and refuses the rest with `UnsupportedPatternError`; it keeps
Java's meaning where Python's `re` differs:

* ``\w``, ``\d`` and ``\s`` are ASCII (Java's default), as STS means them;
  ``\p{..}`` classes are Unicode general categories.
* ``.`` matches every character but Java's line terminators.
* ``\uXXXX`` takes exactly four hex digits, as in Java (and `re`): the model's
  ``\u10000-\u10FFFF`` therefore means U+1000, ``0``-U+10FF, ``F``, ``F``
  rather than the astral planes; the `regex` library reads it the same way.
"""

from __future__ import annotations

import re

from lambda_assume_role.model.atoms import Atom, escape_code_point
from lambda_assume_role.model.categories import ALL_CATEGORIES, CATEGORIES

__all__ = ["UnsupportedPatternError", "parse"]


class UnsupportedPatternError(ValueError):
    """A model pattern uses Java regex syntax that is not translated, or is not valid.

    `lambda_assume_role.model.check` skips such a pattern (STS still applies
    it); a test walks the whole STS model so that a new construct is noticed.
    """


# Java's line terminators: what its "." does not match.
_JAVA_LINE_TERMINATORS = r"\n\r\x85\u2028\u2029"
_CLASS_ESCAPES = {"d": r"\d", "D": r"\D", "w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S"}
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "r": 0x0D, "f": 0x0C, "a": 0x07, "e": 0x1B}
_HEX = frozenset("0123456789abcdefABCDEF")


def parse(pattern: str) -> list[Atom | str]:
    r"""Read a Java pattern into atoms and the `re` text between them.

    The text is groups, alternation and quantifiers, already in `re` syntax;
    anchors at the ends are dropped (AWS patterns match whole values).
    Compiled with `re.ASCII`, the pieces match as Java would.

    Raises:
        UnsupportedPatternError: Lookarounds, back references, ``\Q..\E``,
            class intersections, nested classes, POSIX, script or block
            classes, inline flags, possessive quantifiers, or a malformed
            pattern.

    Example:
        >>> parse(r"^[\w-]{2,}$")
        [Atom(negated=False, fragments=('\\w', '\\x2d'), categories=frozenset()), '{2,}']
    """
    return _Parser(pattern).parse()


def _property_categories(name: str) -> frozenset[str]:
    """The general categories a Java ``\\p{name}`` names: ``L``, ``Lu``, ``IsL``, ``gc=Lu``."""
    for prefix in ("general_category=", "gc=", "Is"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if len(name) == 1:
        found = frozenset(c for c in CATEGORIES if c[0] == name)
        if found:
            return found
    elif name in ALL_CATEGORIES:
        return frozenset({name})
    raise UnsupportedPatternError(f"\\p{{{name}}} is not a Unicode general category")


class _Parser:
    """Reads a Java pattern into atoms (`Atom`) and structural `re` text."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.i = 0

    def fail(self, what: str) -> UnsupportedPatternError:
        return UnsupportedPatternError(
            f"{what} at position {self.i} of {self.pattern!r} is not supported"
        )

    def parse(self) -> list[Atom | str]:
        tokens: list[Atom | str] = []
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
                tokens.append(Atom(True, (_JAVA_LINE_TERMINATORS,)))
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
                tokens.append(Atom(False, (escape_code_point(ord(char)),)))
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

    def escape_atom(self) -> Atom:
        _, value = self.escape()
        if isinstance(value, int):
            return Atom(False, (escape_code_point(value),))
        if isinstance(value, frozenset):
            return Atom(False, (), value)
        return Atom(False, (value,))

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
                categories = ALL_CATEGORIES - categories
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

    def character_class(self) -> Atom:
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
                    fragments.append(escape_code_point(low))
                    continue
                self.i += 1
                end_kind, high = self.class_item()
                if end_kind != "char" or not isinstance(high, int) or high < low:
                    raise self.fail("a bad range")
                fragments.append(f"{escape_code_point(low)}-{escape_code_point(high)}")
        return Atom(negated, tuple(fragments), categories)
