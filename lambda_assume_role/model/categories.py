r"""Unicode general categories, and the markers that pair a value's characters with them.

Python's `re` has no ``\p{..}`` classes, so a pattern that uses them is matched
against a *paired* value: each character followed by a marker for its general
category (`with_markers`). A marker is a code point from a private-use plane,
one per category, and only ever sits at the odd positions of a paired value,
where the translated pattern matches markers alone.

Categories are read per character from `unicodedata`, on demand: no table over
all code points is built (that costs ~0.2 s at cold start). They are those of
this interpreter's `unicodedata`, which may be an older Unicode version than
STS's.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ALL_CATEGORIES", "CATEGORIES", "MARKERS", "ascii_members", "with_markers"]

CATEGORIES: tuple[str, ...] = (
    *("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe"),
    *("Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"),
)
"""Every Unicode general category, by its two-letter name."""

ALL_CATEGORIES = frozenset(CATEGORIES)

MARKERS: Mapping[str, str] = {
    category: chr(0xF0000 + index) for index, category in enumerate(CATEGORIES)
}
"""The marker character of each general category (plane 15, private use)."""


class _CategoryPairs(dict[int, str]):
    """`str.translate` table: a character becomes itself plus its category marker.

    Filled on demand; the first few thousand distinct code points are kept, so
    the table stays small whatever values it sees.
    """

    _KEEP = 4096

    def __missing__(self, code_point: int) -> str:
        import unicodedata

        pair = chr(code_point) + MARKERS[unicodedata.category(chr(code_point))]
        if len(self) < self._KEEP:
            self[code_point] = pair
        return pair


_PAIRS = _CategoryPairs()


def with_markers(value: str) -> str:
    """``value`` with each character followed by the marker of its general category.

    Example:
        >>> with_markers("a1") == "a" + MARKERS["Ll"] + "1" + MARKERS["Nd"]
        True
    """
    return value.translate(_PAIRS)


def ascii_members(categories: frozenset[str]) -> list[int]:
    """The ASCII code points whose general category is one of ``categories``.

    Example:
        >>> [chr(c) for c in ascii_members(frozenset({"Sm"}))]
        ['+', '<', '=', '>', '|', '~']
    """
    import unicodedata

    return [c for c in range(128) if unicodedata.category(chr(c)) in categories]
