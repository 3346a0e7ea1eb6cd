"""Private files: folders only we can write, entries only we can read, atomic writes.

The hardened file primitives behind `lambda_assume_role.cache.JSONFileCache`
and `lambda_assume_role.credential_store.CredentialStore`: a folder is used
only if it is ours and writable by nobody else, checked on the open folder (not
its path); entries are reached through that handle with ``O_NOFOLLOW``, must be
regular files of ours writable only by us, and are written atomically
(temporary file, fsync, rename); folders we create are 0700 and files 0600
whatever the umask. Lock files (`open_lock_file`) follow the same rules and hold
nothing. POSIX only (`SUPPORTED`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "SUPPORTED",
    "InsecureCacheError",
    "check_folder",
    "create_private_folder",
    "is_entry",
    "open_folder",
    "open_lock_file",
    "read_entry",
    "write_atomically",
]

DIR_MODE = 0o700
FILE_MODE = 0o600
_SHARED_WRITE = stat.S_IWGRP | stat.S_IWOTH
_TEMP_SUFFIX = ".tmp"
_SUGGESTED_SUBFOLDER = "lambda-assume-role"

# getattr: these flags do not exist on Windows, where the constructor refuses.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
# O_NONBLOCK: a FIFO in place of an entry must not hang a reader.
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
# What open(O_NOFOLLOW) fails with on a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD).
_SYMLINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})
SUPPORTED = bool(_NOFOLLOW) and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd


class InsecureCacheError(PermissionError):
    """`JSONFileCache` refuses a folder or entry that someone else could have written.

    Raised for a cache folder that is owned by another user, writable by group
    or others, or a symbolic link, and for an entry that is a symbolic link,
    owned by another user or writable by group or others. The message is one
    line naming the path and the rule, never a cached value. It is an `OSError`,
    so code that treats cache I/O errors as a cache miss treats it the same way.

    Example:
        >>> import os, tempfile
        >>> shared = tempfile.mkdtemp()
        >>> os.chmod(shared, 0o1777)  # like /tmp: anyone may plant entries there
        >>> try:
        ...     open_folder(shared)
        ... except InsecureCacheError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        cache folder '...' is writable by group or others (mode 1777), so anyone could plant ...
    """


def check_folder(path: str, info: os.stat_result) -> None:
    """Raise `InsecureCacheError` unless the folder is ours and writable only by us."""
    mode = stat.S_IMODE(info.st_mode)
    if mode & _SHARED_WRITE:
        suggestion = os.path.join(path, _SUGGESTED_SUBFOLDER)
        raise InsecureCacheError(
            f"cache folder {path!r} is writable by group or others (mode {mode:04o}), so "
            f"anyone could plant credentials in it; refusing to use it: give a private "
            f"subfolder such as {suggestion!r} instead"
        )
    if info.st_uid != os.geteuid():
        raise InsecureCacheError(
            f"cache folder {path!r} is owned by uid {info.st_uid}, not by this process "
            f"(uid {os.geteuid()}); refusing to use it: give a folder of your own"
        )


def _symlinked_entry(folder: str, name: str) -> InsecureCacheError:
    return InsecureCacheError(
        f"cache entry {name!r} in {folder!r} is a symbolic link; refusing to follow it"
    )


def is_entry(folder: str, name: str, info: os.stat_result) -> bool:
    """Whether ``info`` is a usable entry: False if it is no regular file, raise if unsafe."""
    if stat.S_ISLNK(info.st_mode):
        raise _symlinked_entry(folder, name)
    if not stat.S_ISREG(info.st_mode):
        return False
    if info.st_uid != os.geteuid():
        raise InsecureCacheError(
            f"cache entry {name!r} in {folder!r} is owned by uid {info.st_uid}, not by this "
            f"process (uid {os.geteuid()}); refusing to read it"
        )
    if info.st_mode & _SHARED_WRITE:
        raise InsecureCacheError(
            f"cache entry {name!r} in {folder!r} is writable by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to read it"
        )
    return True


def read_entry(folder_path: str, folder: int, name: str) -> bytes | None:
    """The content of entry ``name`` in the open ``folder``; None if missing or unreadable.

    Raises:
        InsecureCacheError: If the entry is a symbolic link, owned by another
            user, or writable by group or others.
    """
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=folder)
    except OSError as error:
        if error.errno in _SYMLINK_ERRNOS:
            raise _symlinked_entry(folder_path, name) from None
        return None
    try:
        if not is_entry(folder_path, name, os.fstat(fd)):
            return None
        try:
            with open(fd, "rb", closefd=False) as file:
                return file.read()
        except OSError:
            return None
    finally:
        os.close(fd)


def open_folder(path: str) -> int:
    """Open the cache folder without following a symbolic link, check it, return its fd.

    Raises:
        InsecureCacheError: If the folder is a symbolic link, owned by another
            user, or writable by group or others.
        FileNotFoundError: If it does not exist.
        NotADirectoryError: If it is not a folder.
    """
    try:
        fd = os.open(path, _FOLDER_FLAGS)
    except OSError as error:
        # With O_DIRECTORY, Linux reports a symbolic link as ENOTDIR, not ELOOP.
        if error.errno in _SYMLINK_ERRNOS or (
            error.errno == errno.ENOTDIR and os.path.islink(path)
        ):
            raise InsecureCacheError(
                f"cache folder {path!r} is a symbolic link; refusing to follow it: "
                "give the folder it points to"
            ) from None
        raise
    try:
        check_folder(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_private_folder(path: str) -> None:
    """Create ``path`` and its missing parents, each mode 0700 whatever the umask.

    A folder that already exists, or that another thread or process creates
    first, is left exactly as it is: we only change the mode of folders we made.
    """
    try:
        os.mkdir(path, DIR_MODE)
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if not parent or parent == path:
            raise
        create_private_folder(parent)
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            return
    except FileExistsError:
        return
    # The umask may have removed bits from 0700; set them on what we just made,
    # through an fd so that a swap for a symbolic link cannot redirect the chmod.
    fd = os.open(path, _FOLDER_FLAGS)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, DIR_MODE)
    finally:
        os.close(fd)


def write_atomically(folder: int, name: str, content: bytes) -> None:
    """Write ``content`` to ``name`` in the open ``folder``: temporary file, fsync, rename."""
    temp_name = f".{name}.{os.urandom(6).hex()}{_TEMP_SUFFIX}"
    fd = os.open(temp_name, _WRITE_FLAGS, FILE_MODE, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            # O_CREAT asks for 0600, but the umask could still remove bits.
            os.fchmod(fd, FILE_MODE)
            file.write(content)
            file.flush()
            os.fsync(fd)
        os.replace(temp_name, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name, dir_fd=folder)
        raise


def open_lock_file(folder_path: str, folder: int, name: str) -> int:
    """Open (creating it, 0600) the empty lock file ``name`` in the open ``folder``; its fd.

    The file holds nothing; only its ``flock`` matters. Like an entry, it must
    be a regular file of ours, writable only by us, and never a symbolic link.

    Raises:
        InsecureCacheError: If it is a symbolic link, another user's, or
            writable by group or others.
        OSError: If it cannot be opened or created.
    """
    try:
        fd = os.open(name, _LOCK_FLAGS, FILE_MODE, dir_fd=folder)
    except OSError as error:
        if error.errno in _SYMLINK_ERRNOS:
            raise _symlinked_entry(folder_path, name) from None
        raise
    try:
        if not is_entry(folder_path, name, os.fstat(fd)):
            raise InsecureCacheError(
                f"lock file {name!r} in {folder_path!r} is not a regular file; refusing it"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd
