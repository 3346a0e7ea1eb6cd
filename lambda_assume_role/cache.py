"""`JSONFileCache`: a private, atomic file cache for AssumeRole responses.

A drop-in for aws-assume-role-lib's ``JSONFileCache(dir_path)`` (and an
instance of ``botocore.utils.JSONFileCache``, so code that checks for botocore's
class keeps working), hardened because what it stores are live credentials:

* the directory is created ``0700`` and files are written ``0600``, whatever
  the umask; an existing directory of ours with broader permissions is tightened;
* writes are atomic (a temporary file in the same directory, fsynced, then
  ``os.replace``), so a reader - another thread, another process, the next
  invocation after a crash - sees either the old entry or the new one, never a
  partial file;
* keys cannot name a file outside the directory;
* datetimes are stored as ISO-8601, which botocore reads back unambiguously;
* no error message or ``repr`` ever contains a cached value, which holds a
  secret access key and a session token.

Importing this module imports ``botocore.utils`` (about 0.1 s cold), which is
needed to subclass botocore's class. That costs nothing extra in practice: the
cache is only useful together with boto3, and ``import boto3`` already imports
``botocore.utils``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import stat
import tempfile
from typing import Any

import botocore.utils

__all__ = ["JSONFileCache"]

_DIR_MODE = 0o700
_FILE_MODE = 0o600
# botocore's cache keys are SHA-1 hex digests; allow a little more, but nothing
# that could be a path: no separators, no leading dot, no "..", no NUL.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")
_SUFFIX = ".json"
_TEMP_SUFFIX = ".tmp"


def _serialize(value: object) -> object:
    """``json.dumps`` hook: datetimes as ISO-8601; refuse anything else, naming only its type."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


def _dumps(value: object) -> str:
    """Serialise a cache entry to JSON text."""
    return json.dumps(value, default=_serialize)


def _check_key(cache_key: object) -> str:
    """Return ``cache_key`` if it is a safe file name stem, else raise.

    Raises:
        TypeError: If the key is not a string.
        ValueError: If the key could name a file outside the cache directory.
    """
    if not isinstance(cache_key, str):
        raise TypeError(f"cache key must be a string; got {type(cache_key).__name__}")
    if not _KEY_PATTERN.fullmatch(cache_key) or ".." in cache_key:
        raise ValueError(
            "cache key must be 1-200 characters of [A-Za-z0-9_.-], not starting with "
            f"'.' and without '..'; got {cache_key[:80]!r}"
        )
    return cache_key


def _ensure_private_dir(path: str) -> None:
    """Create ``path`` (and missing parents) with mode 0700; tighten it if it is ours.

    ``os.makedirs`` applies its mode only to the leaf and subject to the umask,
    so each missing directory is created and then chmod-ed explicitly. An
    existing directory owned by someone else is left alone (we cannot change it).
    """
    missing: list[str] = []
    current = path
    while current and not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, _DIR_MODE)
        except FileExistsError:
            # Another thread or process created it first; it is checked below if it
            # is the leaf, and an intermediate directory is not ours to change.
            continue
        os.chmod(directory, _DIR_MODE)

    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"cache path is not a directory: {path!r}")
    owned = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    if owned and stat.S_IMODE(info.st_mode) & ~_DIR_MODE & 0o777:
        os.chmod(path, stat.S_IMODE(info.st_mode) & _DIR_MODE)


class JSONFileCache(botocore.utils.JSONFileCache):
    """A dict-like cache that stores each JSON-serialisable value in its own file.

    Pass it as ``cache=`` to `lambda_assume_role.assume_role` to share AssumeRole
    responses between processes, or within one Lambda execution environment
    across runtime restarts (``/tmp`` outlives the process after a crash or
    timeout). The directory must be given (there is deliberately no default:
    in Lambda only ``/tmp`` is writable) and is created on the first write.

    Args:
        dir_path: The cache directory; ``~`` is expanded.

    Example:
        >>> import tempfile, datetime
        >>> cache = JSONFileCache(tempfile.mkdtemp() + "/creds")
        >>> when = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        >>> cache["k1"] = {"Expiration": when}
        >>> cache["k1"]
        {'Expiration': '2030-01-01T00:00:00+00:00'}
        >>> "k2" in cache
        False
    """

    def __init__(self, dir_path: str | os.PathLike[str]) -> None:
        """Create a cache in ``dir_path`` (nothing is written until the first entry).

        Args:
            dir_path: The cache directory; ``~`` is expanded.

        Raises:
            TypeError: If ``dir_path`` is not a string or path-like.
        """
        working_dir = os.path.expanduser(os.fspath(dir_path))
        super().__init__(working_dir=working_dir)
        # botocore's attributes, for code that reads them.
        self._working_dir = working_dir
        self._dumps = _dumps

    def __repr__(self) -> str:
        """Show the directory only; entries hold credentials."""
        return f"{type(self).__name__}({self._working_dir!r})"

    def _convert_cache_key(self, cache_key: object) -> str:
        """The file that holds ``cache_key``'s value.

        Raises:
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the directory.
        """
        return os.path.join(self._working_dir, _check_key(cache_key) + _SUFFIX)

    def __contains__(self, cache_key: object) -> bool:
        """Tell whether an entry exists for ``cache_key``.

        Raises:
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the directory.
        """
        return os.path.isfile(self._convert_cache_key(cache_key))

    def __getitem__(self, cache_key: str) -> Any:
        """Return the value stored for ``cache_key``.

        Raises:
            KeyError: If there is no entry, or it cannot be read or parsed.
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the directory.
        """
        path = self._convert_cache_key(cache_key)
        try:
            with open(path, encoding="utf-8") as file:
                return json.load(file)
        except (OSError, ValueError):
            # ValueError covers bad JSON and bad UTF-8 (a torn or foreign file).
            raise KeyError(cache_key) from None

    def __delitem__(self, cache_key: str) -> None:
        """Remove the entry for ``cache_key``.

        Raises:
            KeyError: If there is no entry.
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the directory.
        """
        path = self._convert_cache_key(cache_key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise KeyError(cache_key) from None

    def __setitem__(self, cache_key: str, value: Any) -> None:
        """Store ``value`` for ``cache_key``, atomically and readable only by us.

        The value is written to a new temporary file (mode 0600) in the cache
        directory, flushed to disk and renamed over the entry, so concurrent
        readers never see a partial entry and a failure leaves the previous entry
        intact. The temporary file is removed if anything fails.

        Raises:
            ValueError: If ``value`` is not JSON-serialisable (the message gives
                the offending type, never the value, which may hold secrets), or
                the key could name a file outside the directory.
            TypeError: If the key is not a string.
            OSError: If the directory or file cannot be written.
        """
        path = self._convert_cache_key(cache_key)
        try:
            content = self._dumps(value)
        except (TypeError, ValueError) as error:
            # json's messages (with allow_nan, as here) and `_serialize`'s name
            # types, never values: "Circular reference detected", "keys must be
            # str, ... not tuple". Never chain the error: keep the value out.
            raise ValueError(
                f"Value cannot be cached, must be JSON serializable: {error}"
            ) from None

        _ensure_private_dir(self._working_dir)
        fd, temp_path = tempfile.mkstemp(
            dir=self._working_dir, prefix=f".{cache_key}.", suffix=_TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                if hasattr(os, "fchmod"):
                    # mkstemp asks for 0600, but the umask could still remove bits.
                    os.fchmod(file.fileno(), _FILE_MODE)
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_path, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_path)
            raise
