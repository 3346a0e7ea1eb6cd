"""Sessions in a known refresh state, for tests that fault STS at a chosen moment."""

from __future__ import annotations

from typing import Any

import boto3

from lambda_assume_role import RefreshWindows, assume_role


def warm_sts_client(parent: boto3.Session, role: str, name: str, duration: int) -> Any:
    """An STS client on a new assumed-role session that has fetched its first keys.

    Jitter is off, so the advisory window opens exactly at its start
    (a third of ``duration``, at most 15 min, before expiry).
    """
    session = assume_role(
        parent,
        role,
        RoleSessionName=name,
        DurationSeconds=duration,
        refresh_windows=RefreshWindows(jitter=0),
    )
    client = session.client("sts")
    client.get_caller_identity()
    return client
