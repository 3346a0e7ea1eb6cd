"""Counting how often AssumeRole parameters are normalised and validated."""

from __future__ import annotations

from typing import Any

import pytest

import lambda_assume_role.parameters as parameters
import lambda_assume_role.role as role


def count_preparations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the RoleArn of every `parameters.prepare_parameters` call from now on.

    Returns:
        The list the calls are appended to (read it after the code under test ran).
    """
    calls: list[str] = []
    original = parameters.prepare_parameters

    def counting(role_arn: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(role_arn)
        return original(role_arn, *args, **kwargs)

    # The front door (`role.prepare_role`) holds its own reference to it.
    monkeypatch.setattr(parameters, "prepare_parameters", counting)
    monkeypatch.setattr(role, "prepare_parameters", counting)
    return calls
