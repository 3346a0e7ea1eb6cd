"""AssumedRoleSession.in_region: a bad region is refused before any session or call."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.endpoint
import pytest

from lambda_assume_role.assume import assume_role
from lambda_assume_role.errors import InvalidParameterError

ROLE = "arn:aws:iam::123456789012:role/Reader"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request botocore would send, recorded and refused."""
    sent: list[Any] = []

    def refuse(self: Any, request: Any) -> Any:
        sent.append(request)
        raise AssertionError("a request was sent")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", refuse)
    return sent


def _home() -> Any:
    parent = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example", region_name="us-east-1"
    )
    return assume_role(parent, ROLE)


@pytest.mark.parametrize(
    "region",
    ["eu west", "", "-eu-west-1", "eu-west-1-", "eu_west_1", "x" * 64, "eu-west-1\n", None, 1],
)
def test_in_region_refuses_a_bad_region_before_any_call(region: Any, no_network: list[Any]) -> None:
    home = _home()
    with pytest.raises(InvalidParameterError, match=r"^region_name must be a region name"):
        home.in_region(region)
    assert no_network == []


def test_in_region_refuses_a_region_that_would_change_the_endpoint_host(
    no_network: list[Any],
) -> None:
    with pytest.raises(InvalidParameterError, match=r"^region_name must be a region name"):
        _home().in_region("evil.example.com/")
    assert no_network == []


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"])
def test_in_region_accepts_a_region_name(region: str, no_network: list[Any]) -> None:
    away = _home().in_region(region)
    assert away.region_name == region
    assert no_network == []
