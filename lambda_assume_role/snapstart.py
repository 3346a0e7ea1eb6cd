"""Lambda SnapStart: nothing fetched before the snapshot survives a restore.

Under SnapStart, init runs once, memory is snapshotted, and many execution
environments are restored from it. Credentials fetched during init, and a
session name computed then, would be shared by all of them (and the log stream
name is not even set before the snapshot). So after a restore every
`AssumeRoleCredentials` forgets its keys and the default session name is
recomputed, per environment, on next use.

The hook goes through `snapshot_restore_py` (shipped with the Lambda runtime
interface client) and is registered the first time a role is assumed inside
Lambda, so importing this package never imports it.
"""

from __future__ import annotations

import threading

from lambda_assume_role import environment

__all__ = ["after_restore", "register_restore_hook"]

_lock = threading.Lock()
_registered = False


def after_restore() -> None:
    """Drop every cached credential and the cached default session name.

    In-memory credentials are cleared, and cache entries (a `JSONFileCache`
    in ``/tmp`` is part of the snapshot too) fetched before now are never
    served again.
    """
    from lambda_assume_role.cached_answers import forget_cached_before_now
    from lambda_assume_role.naming import forget_lambda_session_name
    from lambda_assume_role.refresh import AssumeRoleCredentials

    forget_lambda_session_name()
    forget_cached_before_now()
    AssumeRoleCredentials.clear_all()


def register_restore_hook() -> bool:
    """Register `after_restore` with snapshot_restore_py, once, when inside Lambda.

    Returns:
        Whether the hook is registered.
    """
    global _registered  # noqa: PLW0603
    if _registered or not environment.in_lambda():
        return _registered
    with _lock:
        if not _registered:
            try:
                from snapshot_restore_py import register_after_restore
            except ImportError:
                return False
            register_after_restore(after_restore)
            _registered = True
    return True
