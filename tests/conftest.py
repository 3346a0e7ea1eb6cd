"""Shared fixtures: one moto server per test session, and an isolated AWS environment per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from emulators.moto_server import MotoServer, RequestLog

# Variables that would let the host's configuration leak into a test.
_AWS_PREFIXES = ("AWS_", "_HANDLER", "LAMBDA_")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Give every test a clean AWS environment pointing at moto (when the test uses it)."""
    import os

    for name in list(os.environ):
        if name.startswith(_AWS_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret-key-never-printed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if "moto_server" in request.fixturenames:
        server: MotoServer = request.getfixturevalue("moto_server")
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        server.reset()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def requests_log(moto_server: MotoServer) -> RequestLog:
    """Every request moto received during this test."""
    return moto_server.requests


@pytest.fixture
def parent(moto_server: MotoServer) -> boto3.Session:
    """A plain parent session with static (IAM user) credentials, talking to moto."""
    return boto3.Session()
