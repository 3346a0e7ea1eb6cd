"""Fixtures for functional tests that need more than the plain moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import MotoServer


@pytest.fixture
def fault_proxy(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of this session's moto; AWS_ENDPOINT_URL points at it."""
    with FaultProxy(moto_server.endpoint_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
        yield proxy
