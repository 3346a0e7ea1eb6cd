"""Names a package exports, loaded on first use (PEP 562), from one list.

The package root and the feature wings each keep one map of their public names
to the module (relative to the package) that defines them; `lazy_exports` turns
it into the package's ``__getattr__`` and ``__dir__``. Importing a package then
costs almost nothing, and using a name imports only the module it lives in:
``from lambda_assume_role import fan_out`` loads fan-out's start and run, not
its Organizations listing.

Example:
    >>> namespace = {}
    >>> getattr_, dir_ = lazy_exports("json", {"JSONDecoder": "decoder"}, namespace)
    >>> getattr_("JSONDecoder").__name__, "JSONDecoder" in namespace
    ('JSONDecoder', True)
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'json' has no attribute 'nope'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports", "load_export"]


def load_export(
    package: str, sources: Mapping[str, str], namespace: MutableMapping[str, Any], name: str
) -> Any:
    """Import the module that defines ``name`` and store the value in the package's namespace.

    Raises:
        AttributeError: ``name`` is not one of ``sources``.
    """
    module = sources.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{package}.{module}"), name)
    namespace[name] = value
    return value


def lazy_exports(
    package: str, sources: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose names live in ``sources``' modules.

    Args:
        package: The package's ``__name__``.
        sources: Each public name and the module, relative to ``package``, that defines it.
        namespace: The package's ``globals()``: a name is stored there once loaded,
            so later uses are plain attribute lookups.
    """

    def get_attribute(name: str) -> Any:
        return load_export(package, sources, namespace, name)

    def list_names() -> list[str]:
        return sorted({*namespace, *sources})

    return get_attribute, list_names
