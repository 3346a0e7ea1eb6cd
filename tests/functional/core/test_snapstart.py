"""SnapStart: credentials and session names from before the snapshot do not survive a restore."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from awslambdaric.lambda_runtime_hooks_runner import run_after_restore

from emulators.moto_server import RequestLog
from lambda_assume_role import assume_role, generate_lambda_session_name
from lambda_assume_role.naming import forget_lambda_session_name

ROLE = "arn:aws:iam::111111111111:role/Snap"


@pytest.fixture
def snap_start(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "snappy")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    forget_lambda_session_name()
    yield monkeypatch
    forget_lambda_session_name()


def test_restore_clears_credentials_and_recomputes_the_session_name(
    snap_start: pytest.MonkeyPatch, parent: boto3.Session, requests_log: RequestLog
) -> None:
    session = assume_role(parent, ROLE)  # module scope, during init
    client = session.client("sts")
    before = client.get_caller_identity()["Arn"]  # a warm-up call before the snapshot
    keys_before = session.get_credentials().get_frozen_credentials().access_key

    # Restored environment: the runtime runs the registered after-restore hooks.
    snap_start.setenv(
        "AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]fedcba9876543210fedcba9876543210"
    )
    run_after_restore()

    after = client.get_caller_identity()["Arn"]
    assert requests_log.count("AssumeRole") == 2
    assert after == f"arn:aws:sts::111111111111:assumed-role/Snap/{generate_lambda_session_name()}"
    assert after.endswith("snappy.fedcba9876543210fedcba9876543210")
    assert after != before
    assert session.get_credentials().get_frozen_credentials().access_key != keys_before


def test_nothing_calls_sts_when_a_session_is_created(
    snap_start: pytest.MonkeyPatch, parent: boto3.Session, requests_log: RequestLog
) -> None:
    assume_role(parent, ROLE).client("s3")
    assert requests_log.all() == []


def test_without_a_log_stream_snap_start_names_are_random(
    snap_start: pytest.MonkeyPatch,
) -> None:
    names = {generate_lambda_session_name() for _ in range(20)}
    assert len(names) == 20
    assert all(name.startswith("snappy.") for name in names)
