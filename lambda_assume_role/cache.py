"""`JSONFileCache`: a private, atomic file cache for AssumeRole responses.

A drop-in for aws-assume-role-lib's ``JSONFileCache(dir_path)`` (and an
instance of ``botocore.utils.JSONFileCache``, so code that checks for botocore's
class keeps working), hardened because what it stores are live credentials:

* the folder must be ours and writable by nobody else: a folder owned by another
  user, or writable by group or others (``/tmp`` itself, mode 1777), is never
  read or written. Anyone who can write there could plant credentials under the
  predictable key, and we would sign with them. Every read and write opens the
  folder once, checks the open folder (not its path), and reaches the entry
  through that handle, so swapping the folder or an entry for a symbolic link
  between the check and the use redirects nothing. Refusals are
  `InsecureCacheError`, a `PermissionError`;
* an entry that is a symbolic link, is owned by another user or is writable by
  group or others is refused the same way;
* folders we create (and missing parents) are made ``0700`` and entries are
  written ``0600``, whatever the umask. The mode of a folder we did not create
  is never changed;
* writes are atomic (a temporary file in the same folder, fsynced, then
  renamed over the entry), so a reader - another thread, another process, the
  next invocation after a crash - sees either the old entry or the new one,
  never a partial file;
* keys cannot name a file outside the folder;
* datetimes are stored as ISO-8601, which botocore reads back unambiguously;
* no error message or ``repr`` ever contains a cached value, which holds a
  secret access key and a session token.

It needs ``dir_fd`` and ``O_NOFOLLOW`` support, so POSIX only (Linux, as in
Lambda, and macOS); elsewhere the constructor raises `NotImplementedError`.

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
from collections.abc import Iterator
from typing import Any

import botocore.utils

from lambda_assume_role.private_files import (
    SUPPORTED,
    InsecureCacheError,
    create_private_folder,
    is_entry,
    open_folder,
    read_entry,
    write_atomically,
)

__all__ = ["InsecureCacheError", "JSONFileCache"]

# botocore's cache keys are SHA-1 hex digests; allow a little more, but nothing
# that could be a path: no separators, no leading dot, no "..", no NUL.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")
_SUFFIX = ".json"


def _serialize(value: object) -> object:
    """``json.dumps`` hook: datetimes as ISO-8601; refuse anything else, naming only its type."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


def _dumps(value: object) -> str:
    """Serialise a cache entry to JSON text."""
    return json.dumps(value, default=_serialize)


def _entry_name(cache_key: object) -> str:
    """The file name (relative to the folder) that holds ``cache_key``'s value.

    Raises:
        TypeError: If the key is not a string.
        ValueError: If the key could name a file outside the cache folder.
    """
    if not isinstance(cache_key, str):
        raise TypeError(f"cache key must be a string; got {type(cache_key).__name__}")
    if not _KEY_PATTERN.fullmatch(cache_key) or ".." in cache_key:
        raise ValueError(
            "cache key must be 1-200 characters of [A-Za-z0-9_.-], not starting with "
            f"'.' and without '..'; got {cache_key[:80]!r}"
        )
    return cache_key + _SUFFIX


class JSONFileCache(botocore.utils.JSONFileCache):
    """A dict-like cache that stores each JSON-serialisable value in its own file.

    Pass it as ``cache=`` to `lambda_assume_role.assume_role` to share AssumeRole
    responses between processes, or within one Lambda execution environment
    across runtime restarts (``/tmp`` outlives the process after a crash or
    timeout). The folder must be given (there is deliberately no default: in
    Lambda only ``/tmp`` is writable, and ``/tmp`` itself is refused, so use a
    subfolder such as ``/tmp/lambda-assume-role``); it is created on the first
    write.

    Every operation raises `InsecureCacheError` (a `PermissionError`) for a
    folder or entry that someone else could have written, and other `OSError`
    subclasses for I/O failures; a missing or unreadable entry is a `KeyError`.

    Args:
        dir_path: The cache folder; ``~`` is expanded.

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
        """Create a cache in ``dir_path``; nothing is written until the first entry.

        If the folder already exists it is checked now, so that a misconfigured
        cache fails at start-up (a Lambda function's init) rather than later.

        Args:
            dir_path: The cache folder; ``~`` is expanded.

        Raises:
            TypeError: If ``dir_path`` is not a string or path-like.
            InsecureCacheError: If the folder exists and is a symbolic link,
                owned by another user, or writable by group or others.
            OSError: If it exists but cannot be used (not a folder, no access).
            NotImplementedError: On a platform without ``dir_fd`` and
                ``O_NOFOLLOW`` (Windows).
        """
        path = os.path.expanduser(os.fspath(dir_path))
        if not isinstance(path, str):
            raise TypeError(f"dir_path must be a str or path-like; got {type(path).__name__}")
        if not SUPPORTED:
            raise NotImplementedError(
                "JSONFileCache needs os.open with dir_fd, O_DIRECTORY and O_NOFOLLOW "
                "(POSIX); this platform lacks them"
            )
        # Public arguments only: botocore stores them as it always has, for any
        # code that reads its attributes, but nothing here reads them back.
        super().__init__(working_dir=path, dumps_func=_dumps)
        # A trailing separator would make "a/b/" and "a/b" two names for one
        # folder when missing parents are created.
        self._folder = path.rstrip(os.sep) or os.sep
        with contextlib.suppress(FileNotFoundError):
            os.close(open_folder(self._folder))

    def __repr__(self) -> str:
        """Show the folder only; entries hold credentials."""
        return f"{type(self).__name__}({self._folder!r})"

    @contextlib.contextmanager
    def _checked_folder(self) -> Iterator[int]:
        """The open, checked cache folder's fd, closed on exit."""
        fd = open_folder(self._folder)
        try:
            yield fd
        finally:
            os.close(fd)

    def __contains__(self, cache_key: object) -> bool:
        """Tell whether an entry exists for ``cache_key``.

        Raises:
            InsecureCacheError: If the folder or the entry is unsafe (see the class).
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the folder.
        """
        name = _entry_name(cache_key)
        try:
            with self._checked_folder() as folder:
                try:
                    info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                except OSError:
                    return False
                return is_entry(self._folder, name, info)
        except FileNotFoundError:
            return False

    def __getitem__(self, cache_key: str) -> Any:
        """Return the value stored for ``cache_key``.

        Raises:
            KeyError: If there is no entry, or it cannot be read or parsed.
            InsecureCacheError: If the folder or the entry is unsafe (see the class).
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the folder.
        """
        name = _entry_name(cache_key)
        try:
            with self._checked_folder() as folder:
                content = read_entry(self._folder, folder, name)
        except FileNotFoundError:
            content = None
        if content is None:
            raise KeyError(cache_key)
        try:
            return json.loads(content.decode("utf-8"))
        except ValueError:
            # Bad JSON or bad UTF-8 (a torn or foreign file) is a miss.
            raise KeyError(cache_key) from None

    def __delitem__(self, cache_key: str) -> None:
        """Remove the entry for ``cache_key``.

        Raises:
            KeyError: If there is no entry.
            InsecureCacheError: If the folder is unsafe (see the class).
            TypeError: If the key is not a string.
            ValueError: If the key could name a file outside the folder.
        """
        name = _entry_name(cache_key)
        try:
            with self._checked_folder() as folder:
                os.unlink(name, dir_fd=folder)
        except FileNotFoundError:
            raise KeyError(cache_key) from None

    def __setitem__(self, cache_key: str, value: Any) -> None:
        """Store ``value`` for ``cache_key``, atomically and readable only by us.

        The value is written to a new temporary file (mode 0600) in the cache
        folder, flushed to disk and renamed over the entry, so concurrent readers
        never see a partial entry and a failure leaves the previous entry intact.
        The temporary file is removed if anything fails. A missing folder is
        created, mode 0700.

        Raises:
            ValueError: If ``value`` is not JSON-serialisable (the message gives
                the offending type, never the value, which may hold secrets), or
                the key could name a file outside the folder.
            TypeError: If the key is not a string.
            InsecureCacheError: If the folder is unsafe (see the class).
            OSError: If the folder or file cannot be written.
        """
        name = _entry_name(cache_key)
        try:
            content = _dumps(value).encode("utf-8")
        except (TypeError, ValueError) as error:
            # json's messages (with allow_nan, as here) and `_serialize`'s name
            # types, never values: "Circular reference detected", "keys must be
            # str, ... not tuple". Never chain the error: keep the value out.
            raise ValueError(
                f"Value cannot be cached, must be JSON serializable: {error}"
            ) from None

        try:
            folder_fd = open_folder(self._folder)
        except FileNotFoundError:
            create_private_folder(self._folder)
            folder_fd = open_folder(self._folder)
        try:
            write_atomically(folder_fd, name, content)
        finally:
            os.close(folder_fd)
