"""The layer builder's errors: one base class, so a caller catches every build failure at once.

Why a module of their own: every step of a build (choosing runtimes, collecting files,
compiling, writing) raises them, and the command line tells them apart by type (a
runtime asked for that cannot be built is a bad argument; anything else a failure).

Example:
    >>> issubclass(UnsupportedRuntimeError, ValueError), issubclass(
    ...     InterpreterNotFoundError, LayerBuildError)
    (True, True)
"""

from __future__ import annotations

__all__ = ["InterpreterNotFoundError", "LayerBuildError", "UnsupportedRuntimeError"]


class LayerBuildError(RuntimeError):
    """The layer cannot be built from the installed distributions and interpreters."""


class UnsupportedRuntimeError(LayerBuildError, ValueError):
    """A runtime asked for is not one of `SUPPORTED_RUNTIMES`."""


class InterpreterNotFoundError(LayerBuildError):
    """A runtime the layer must be declared for has no interpreter here to compile for it."""
