"""The `assume_role` keywords that configure the session rather than the AssumeRole call.

``region_name``, ``validate``, ``cache``, ``refresh_windows`` and
``credential_store``: one table
(`SESSION_OPTIONS_TABLE`) lists them with their checks; `assume_role`'s
signature, the front door (`lambda_assume_role.role.prepare_role`) and the
registry derive from it, and a test checks that the signature agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.parameters import check_region_name

__all__ = [
    "SESSION_OPTIONS",
    "SESSION_OPTIONS_TABLE",
    "SessionOption",
    "check_session_options",
    "split_session_options",
]


class SessionOption(NamedTuple):
    """One `assume_role` keyword that configures the session rather than the AssumeRole call.

    Attributes:
        name: The keyword.
        help: One line for the docs.
        check: Raises `InvalidParameterError` naming the option for a bad value.
    """

    name: str
    help: str
    check: Callable[[str, Any], None]


def _check_region(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, (bool, str)):
        raise InvalidParameterError(
            f"{name} must be None, True, False or a region name; got {type(value).__name__}"
        )
    if isinstance(value, str):
        check_region_name(name, value)


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be True or False; got {type(value).__name__}")


def _check_cache(name: str, value: Any) -> None:
    if value is None:
        return
    if not all(callable(getattr(value, m, None)) for m in _CACHE_METHODS):
        raise InvalidParameterError(
            f"{name} must be a dict-like cache (get, set and 'in'), e.g. JSONFileCache; "
            f"got {type(value).__name__}"
        )


def _check_windows(name: str, value: Any) -> None:
    from lambda_assume_role.refresh_policy import RefreshWindows

    if value is not None and not isinstance(value, RefreshWindows):
        raise InvalidParameterError(f"{name} must be a RefreshWindows; got {type(value).__name__}")


def _check_store(name: str, value: Any) -> None:
    import os

    if value is None or isinstance(value, (bool, str, os.PathLike)):
        return
    from lambda_assume_role.credential_store import CredentialStore

    if not isinstance(value, CredentialStore):
        raise InvalidParameterError(
            f"{name} must be None, True, False, a folder or a CredentialStore; "
            f"got {type(value).__name__}"
        )


_CACHE_METHODS = ("__getitem__", "__setitem__", "__contains__")

SESSION_OPTIONS_TABLE: tuple[SessionOption, ...] = (
    SessionOption(
        "region_name",
        "None follows the parent's region; True pins it; False leaves it implicit; or a name",
        _check_region,
    ),
    SessionOption("validate", "check the parameters before any network call", _check_bool),
    SessionOption("cache", "a dict-like cache of AssumeRole responses", _check_cache),
    SessionOption("refresh_windows", "tune the refresh policy (RefreshWindows)", _check_windows),
    SessionOption(
        "credential_store",
        "share credentials between this environment's processes: None (on under Managed "
        "Instances), True, False, a folder or a CredentialStore",
        _check_store,
    ),
)
"""The `assume_role` keywords that are not AssumeRole parameters, in signature order."""

SESSION_OPTIONS = tuple(option.name for option in SESSION_OPTIONS_TABLE)
"""`assume_role` keywords that are not AssumeRole parameters."""

_OPTION_CHECKS = {option.name: option.check for option in SESSION_OPTIONS_TABLE}


def check_session_options(options: Mapping[str, Any]) -> None:
    """Check `assume_role`'s session options; raise `InvalidParameterError` naming a bad one.

    Example:
        >>> check_session_options({"region_name": 5})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: region_name must be None, True, ...
    """
    for name, value in options.items():
        check = _OPTION_CHECKS.get(name)
        if check is None:
            raise TypeError(f"unexpected keyword argument: {name}")
        check(name, value)


def split_session_options(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split `assume_role` keywords into AssumeRole parameters and session options."""
    request = {k: v for k, v in kwargs.items() if k not in SESSION_OPTIONS}
    options = {k: v for k, v in kwargs.items() if k in SESSION_OPTIONS}
    return request, options
