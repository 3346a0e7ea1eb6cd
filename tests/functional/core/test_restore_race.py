"""A SnapStart restore racing signing threads never leaves a signer without keys."""

from __future__ import annotations

import sys
import threading

import boto3

from lambda_assume_role import assume_role
from lambda_assume_role.snapstart import after_restore
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Restored"


def test_signers_racing_restores_always_get_keys(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="race")
    credentials = session.get_credentials()
    credentials.get_frozen_credentials()
    stop = threading.Event()
    seen_none: list[int] = []

    def sign() -> None:
        while not stop.is_set():
            frozen = credentials.get_frozen_credentials()
            if frozen is None or not frozen.token:
                seen_none.append(1)

    def restore() -> None:
        try:
            for _ in range(200):
                after_restore()
        finally:
            stop.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: make the race likely
    try:
        errors = run_together(lambda job: job(), [(sign,), (sign,), (sign,), (restore,)])
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert seen_none == []


def test_a_restore_makes_every_session_fetch_new_keys(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="restore")
    before = session.get_credentials().get_frozen_credentials().access_key
    after_restore()
    assert session.assume_role_credentials.expiry_time is None
    assert session.get_credentials().get_frozen_credentials().access_key != before
