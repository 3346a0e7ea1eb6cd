"""Shared fixtures: a clean AWS environment per test, moto when a test uses it, the fault proxy.

The moto server itself (``moto_server``, one per test session) comes from the root
``conftest.py``, which the docstring examples share: one server for the whole run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import MotoServer, RequestLog
from tests.support.aws_environment import isolate_aws_environment


@pytest.fixture(autouse=True)
def aws_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Give every test a clean AWS environment pointing at moto (when the test uses it)."""
    endpoint_url = None
    if "moto_server" in request.fixturenames:
        server: MotoServer = request.getfixturevalue("moto_server")
        server.reset()
        endpoint_url = server.endpoint_url
    isolate_aws_environment(monkeypatch, tmp_path, endpoint_url)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def requests_log(moto_server: MotoServer) -> RequestLog:
    """Every request moto received during this test."""
    return moto_server.requests


@pytest.fixture
def parent(moto_server: MotoServer) -> boto3.Session:
    """A plain parent session with static (IAM user) credentials, talking to moto."""
    return boto3.Session()


@pytest.fixture
def fault_proxy(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of this session's moto; AWS_ENDPOINT_URL points at it."""
    with FaultProxy(moto_server.endpoint_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
        yield proxy
