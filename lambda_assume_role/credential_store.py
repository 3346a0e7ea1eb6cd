"""One set of credentials per role for every process of an execution environment.

Under Lambda Managed Instances one execution environment serves many
invocations at once, and for Python that means many processes: AWS's runtime
interface client forks ``AWS_LAMBDA_MAX_CONCURRENCY`` workers (16 per vCPU by
default), each importing the handler itself. Each would call AssumeRole for
every role, under one session name, and refresh them all at once. The
environment's processes share its temporary folder (``/tmp``), so they can
share credentials there instead.

`CredentialStore` is that shared place: a private folder under
`tempfile.gettempdir` (``/tmp/lambda-assume-role-store-<uid>`` in Lambda),
holding one entry per exact request and parent principal (the fetcher's cache
key: the request's canonical form and the parent's access key id), written by
`lambda_assume_role.cache.JSONFileCache` (folders 0700, files 0600 whatever the
umask, owner and mode checked, no symbolic link followed, atomic writes), and
one empty lock file per key. The fetcher (`lambda_assume_role.fetcher`) takes a
key's lock (``fcntl.flock``, exclusive) around "read the entry, call STS on a
miss, write the entry": one process calls STS while the others wait, each no
longer than its own limits allow, and then use what it wrote. A process whose
keys are still usable and finds the lock taken keeps signing with them.
A process killed while holding a lock releases it with its last file
descriptor (the kernel does), so the next one fetches.

It is on by default where it matters: inside Lambda when
``AWS_LAMBDA_MAX_CONCURRENCY`` is above 1 (`default_store`). Elsewhere, any
multi-process server (gunicorn workers, a multiprocessing pool) turns it on
with ``assume_role(..., credential_store=True)`` (or a folder, or a
`CredentialStore`); ``credential_store=False`` or the environment variable
``LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE=off`` turns it off. A temporary folder
that cannot be used (full, read-only, another user's) is one WARNING, and each
process then fetches for itself: nothing is lost.

Example:
    >>> import tempfile
    >>> store = CredentialStore(tempfile.mkdtemp() + "/store")
    >>> with store.acquire("k1", timeout=1.0) as lock:
    ...     lock is not None
    True
    >>> store
    CredentialStore('...store')
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from lambda_assume_role import environment
from lambda_assume_role.cache import JSONFileCache
from lambda_assume_role.private_files import create_private_folder, open_folder, open_lock_file

__all__ = [
    "STORE_VARIABLE",
    "CredentialStore",
    "default_directory",
    "default_store",
    "resolve_store",
]

logger = logging.getLogger("lambda_assume_role")

STORE_VARIABLE = "LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE"
"""``off`` turns the default store off; ``on`` turns it on outside Managed Instances."""

_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"on", "1", "true", "yes"})
_LOCK_SUFFIX = ".lock"
# Polling a taken flock: short, jittered sleeps, so waiters do not wake in step.
_POLL_MIN, _POLL_MAX = 0.005, 0.05


def default_directory() -> str:
    """``<tempfile.gettempdir()>/lambda-assume-role-store-<uid>``: ``/tmp/...`` in Lambda."""
    return os.path.join(tempfile.gettempdir(), f"lambda-assume-role-store-{os.geteuid()}")


class CredentialStore:
    """AssumeRole answers shared by the processes of one environment, with a lock per key.

    Args:
        directory: The private folder; created (0700) if missing; default
            `default_directory`. An existing folder is checked now, so a bad
            one fails at init.

    Raises:
        InsecureCacheError: The folder is a symbolic link, another user's, or
            writable by group or others.
        OSError: It cannot be used.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        path = os.fspath(directory) if directory is not None else default_directory()
        self._folder = path.rstrip(os.sep) or os.sep
        self.entries = JSONFileCache(self._folder)
        """The entries, as a dict-like cache (the fetcher reads and writes them)."""
        create_private_folder(self._folder)
        os.close(open_folder(self._folder))
        self._rng = random.Random()  # noqa: S311 (jitter, not cryptography)

    @property
    def directory(self) -> str:
        """The store's folder."""
        return self._folder

    @contextlib.contextmanager
    def acquire(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold ``key``'s lock for the block; yields False if it was not had within ``timeout``.

        Args:
            key: The entry's key (a cache key: ``[A-Za-z0-9_.-]``).
            timeout: Seconds to wait for another process to let go; 0 tries once.

        Raises:
            InsecureCacheError: The folder or the lock file is unsafe.
            OSError: The lock file cannot be opened.
        """
        fd = self._open_lock(key)
        try:
            held = self._lock(fd, timeout)
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _open_lock(self, key: str) -> int:
        name = key + _LOCK_SUFFIX
        if "/" in key or key.startswith(".") or ".." in key:
            raise ValueError("a store key must not name a path")
        folder = open_folder(self._folder)
        try:
            return open_lock_file(self._folder, folder, name)
        finally:
            os.close(folder)

    def _lock(self, fd: int, timeout: float) -> bool:
        give_up = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                left = give_up - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(left, self._rng.uniform(_POLL_MIN, _POLL_MAX)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._folder!r})"


_default_lock = threading.Lock()
_default: dict[str, CredentialStore | None] = {}


def default_store() -> CredentialStore | None:
    """The environment's store when it should be on by default; None otherwise.

    On inside Lambda with ``AWS_LAMBDA_MAX_CONCURRENCY`` above 1, or anywhere
    with ``LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE=on``; off with ``=off``. Made
    once per process and folder; a folder that cannot be used is one WARNING
    and None (each process on its own).
    """
    setting = os.environ.get(STORE_VARIABLE, "").strip().lower()
    if setting in _OFF:
        return None
    concurrency = environment.max_concurrency()
    wanted = setting in _ON or (
        environment.in_lambda() and concurrency is not None and concurrency > 1
    )
    if not wanted:
        return None
    return _shared(default_directory())


def _shared(directory: str) -> CredentialStore | None:
    """This process's one store for ``directory`` (None, after one WARNING, if unusable)."""
    with _default_lock:
        if directory not in _default:
            _default[directory] = _open_or_warn(directory)
        return _default[directory]


def _open_or_warn(directory: str) -> CredentialStore | None:
    try:
        return CredentialStore(directory)
    except (OSError, ValueError) as error:
        logger.warning(
            "The credential store in %s cannot be used, so each process fetches its own "
            "credentials: %s",
            directory,
            error,
        )
        return None


def resolve_store(option: Any) -> CredentialStore | None:
    """What a ``credential_store=`` option means: None (the default), off, on, a folder, a store.

    Example:
        >>> resolve_store(False) is None
        True
    """
    if option is None:
        return default_store()
    if option is False:
        return None
    if isinstance(option, CredentialStore):
        return option
    return _shared(default_directory() if option is True else os.fspath(option))
