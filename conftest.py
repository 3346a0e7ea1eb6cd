"""Fixtures for the docstring examples of the library, the tools and the emulators.

Every example runs as a doctest (``--doctest-modules``), on the newest and the
floor botocore. Examples that talk to AWS talk to one moto server on 127.0.0.1,
started once per test session, with a clean AWS environment per example (no
host configuration leaks in) and a few names the examples share:

* ``ROLE_ARN``: a role in another account, ``arn:aws:iam::111111111111:role/Reader``;
* ``parent``: a `boto3.Session` with static credentials, in us-east-1;
* ``context``: a Lambda context with 30 s left (`lambda_assume_role.invocation.Countdown`).

The suite's own tests get the same server from here (`moto_server`) and their
environment from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

from emulators.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server on 127.0.0.1 for the whole test session."""
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _doctest_aws(
    request: pytest.FixtureRequest,
    doctest_namespace: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """For a docstring example: a clean AWS environment on moto, and the shared names."""
    if not isinstance(request.node, DoctestItem):
        return
    import boto3

    from lambda_assume_role.invocation import Countdown
    from tests.support.aws_environment import isolate_aws_environment

    server: MotoServer = request.getfixturevalue("moto_server")
    server.reset()
    isolate_aws_environment(monkeypatch, tmp_path, server.endpoint_url)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.chdir(tmp_path)
    doctest_namespace.update(
        ROLE_ARN="arn:aws:iam::111111111111:role/Reader",
        parent=boto3.Session(region_name="us-east-1"),
        context=Countdown(30.0),
    )
