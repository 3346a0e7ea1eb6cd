"""A clean AWS environment for one test or docstring example: nothing from the host leaks in.

The suite's fixture (``tests/conftest.py``) and the docstring examples' (the root
``conftest.py``) both need the same isolation; this is the one place that says what
it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["HOST_PREFIXES", "isolate_aws_environment"]

HOST_PREFIXES = ("AWS_", "_HANDLER", "LAMBDA_")
"""Variables that would let the host's configuration (or a Lambda's) leak into a test."""


def isolate_aws_environment(
    monkeypatch: pytest.MonkeyPatch, folder: Path, endpoint_url: str | None = None
) -> None:
    """Drop the host's AWS variables and set static test credentials in us-east-1.

    Args:
        monkeypatch: Undoes every change when the test ends.
        folder: Where the (absent) AWS config and credentials files are pointed.
        endpoint_url: moto's address, for tests that talk to it; None leaves
            ``AWS_ENDPOINT_URL`` unset.
    """
    for name in list(os.environ):
        if name.startswith(HOST_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret-key-never-printed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if endpoint_url is not None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
