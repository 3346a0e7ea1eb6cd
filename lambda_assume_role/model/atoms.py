r"""One atom of a translated pattern: a set of characters, written for Python's `re`.

An `Atom` is what matches exactly one character in a Java pattern: a class
(``[\p{L}_]``), a literal, ``.`` or an escape (``\d``, ``\p{N}``). It is
written two ways:

* over plain characters (`Atom.emit_plain`), with each general category cut
  down to its ASCII members: right for ASCII values, the common case, and for
  every value when the pattern has no ``\p{..}`` class;
* over (character, category marker) pairs (`Atom.emit_paired`; see
  `lambda_assume_role.model.categories`), for a non-ASCII value of a pattern
  with ``\p{..}`` classes: ``[\p{L}_]`` becomes "(``_``, any marker) or (any
  character, a letter marker)".
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_assume_role.model.categories import ALL_CATEGORIES, MARKERS, ascii_members

__all__ = ["Atom", "escape_code_point"]


@dataclass(frozen=True)
class Atom:
    r"""A set of characters: those among ``fragments`` or of a category in ``categories``.

    Attributes:
        negated: The atom matches every character *not* in the set.
        fragments: Python `re` class syntax: ``a``, ``a-z``, ``\d``.
        categories: Unicode general categories (``Lu``, ``Nd``, ...).
    """

    negated: bool
    fragments: tuple[str, ...]
    categories: frozenset[str] = frozenset()

    def emit_plain(self) -> str:
        r"""This atom over plain characters; categories count only their ASCII members.

        Example:
            >>> Atom(False, ("_",), frozenset({"Sm"})).emit_plain()
            '[_\\x2b\\x3c\\x3d\\x3e\\x7c\\x7e]'
        """
        literal = "".join(self.fragments)
        if self.categories:
            literal += "".join(escape_code_point(c) for c in ascii_members(self.categories))
        if not literal:
            return "." if self.negated else "(?!)"
        return f"[{'^' if self.negated else ''}{literal}]"

    def emit_paired(self) -> str:
        r"""This atom over (character, category marker) pairs.

        Example:
            >>> Atom(False, ("_",), frozenset({"Sm"})).emit_paired()
            '(?:[_].|.[\\U000f0012])'
        """
        literal = "".join(self.fragments)
        if self.negated:
            allowed = ALL_CATEGORIES - self.categories
            first = f"[^{literal}]" if literal else "."
            return f"(?:{first}{_markers(allowed)})"
        options = []
        if literal:
            options.append(f"[{literal}].")
        if self.categories:
            options.append(f".{_markers(self.categories)}")
        return f"(?:{'|'.join(options)})"


def _markers(categories: frozenset[str]) -> str:
    if not categories:
        return "(?!)"
    if categories == ALL_CATEGORIES:
        return "."
    return "[" + "".join(escape_code_point(ord(MARKERS[c])) for c in sorted(categories)) + "]"


def escape_code_point(code_point: int) -> str:
    r"""A code point as `re` text that is safe inside and outside a class.

    Example:
        >>> [escape_code_point(ord(c)) for c in "a-\xe9\u3042\U0001f600"]
        ['a', '\\x2d', '\\xe9', '\\u3042', '\\U0001f600']
    """
    char = chr(code_point)
    if char.isascii() and char.isalnum():
        return char
    if code_point < 0x100:
        return f"\\x{code_point:02x}"
    if code_point < 0x10000:
        return f"\\u{code_point:04x}"
    return f"\\U{code_point:08x}"
