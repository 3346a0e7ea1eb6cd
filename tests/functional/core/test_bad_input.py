"""Bad input gets one clear error before any network call: it names the parameter and the rule.

Counted at moto: no request of any kind is sent for any of these.
"""

from __future__ import annotations

import pickle
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import (
    AssumeRoleConnectionError,
    AssumeRoleError,
    AssumeRoleTimeoutError,
    InvalidParameterError,
    RefreshWindows,
    assume_role,
)

ROLE = "arn:aws:iam::111111111111:role/Strict"
_STS = botocore.session.get_session().get_service_model("sts")
SOURCE_IDENTITY_MAX: int = (
    _STS.operation_model("AssumeRole").input_shape.members["SourceIdentity"].metadata["max"]
)


@pytest.mark.parametrize(
    ("arguments", "named", "rule"),
    [
        ({"Tags": 5}, "Tags", "list"),
        ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "Tags[0].Key", "128"),
        ({"Tags": [{"Key": "a,b", "Value": "v"}]}, "Tags[0].Key", "match"),
        ({"Tags": [{"Key": "k", "Value": "v" * 257}]}, "Tags[0].Value", "256"),
        ({"Tags": {f"k{n}": "v" for n in range(51)}}, "Tags", "50"),
        ({"TransitiveTagKeys": [f"k{n}" for n in range(51)]}, "TransitiveTagKeys", "50"),
        ({"PolicyArns": [1]}, "PolicyArns[0]", "mapping"),
        ({"PolicyArns": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, "PolicyArns", "list"),
        (
            {"PolicyArns": [f"arn:aws:iam::aws:policy/P{n:02d}" for n in range(11)]},
            "PolicyArns",
            "10",
        ),
        ({"Policy": "x" * 2049}, "Policy", "2048"),
        ({"ExternalId": "has space"}, "ExternalId", "match"),
        ({"ExternalId": "x"}, "ExternalId", "2"),
        ({"SourceIdentity": "has space"}, "SourceIdentity", "match"),
        # Longer than a session name, within SourceIdentity's own limit: the error says
        # the session name came from it.
        pytest.param(
            {"SourceIdentity": "s" * 65},
            "SourceIdentity",
            "RoleSessionName",
            marks=pytest.mark.skipif(
                SOURCE_IDENTITY_MAX <= 64,
                reason="this botocore's STS model caps SourceIdentity at 64, as a session name",
            ),
        ),
        ({"DurationSeconds": 60}, "DurationSeconds", "900"),
        ({"DurationSeconds": True}, "DurationSeconds", "integer"),
        ({"additional_kwargs": "abc"}, "additional_kwargs", "mapping"),
        ({"additional_kwargs": {"Unknown": 1}}, "Unknown", "not an AssumeRole parameter"),
        ({"region_name": 5}, "region_name", "region"),
        ({"cache": 5}, "cache", "dict-like"),
        ({"refresh_windows": 5}, "refresh_windows", "RefreshWindows"),
        ({"validate": "yes"}, "validate", "True or False"),
    ],
)
def test_bad_values_name_the_parameter_and_the_rule_before_any_request(
    parent: boto3.Session,
    requests_log: RequestLog,
    arguments: dict[str, Any],
    named: str,
    rule: str,
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        assume_role(parent, ROLE, **arguments)
    message = str(raised.value)
    assert named in message
    assert rule in message
    assert "\n" not in message
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, botocore.exceptions.ParamValidationError)
    assert requests_log.all() == []


def test_a_token_code_is_never_echoed(parent: boto3.Session) -> None:
    with pytest.raises(InvalidParameterError, match="TokenCode") as raised:
        assume_role(parent, ROLE, SerialNumber="GAHT12345678", TokenCode="abcdef")
    assert "abcdef" not in str(raised.value)


@pytest.mark.parametrize("session", [None, "default", object()])
def test_a_session_that_is_not_a_boto3_session_is_named(session: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"session must be a boto3\.Session"):
        assume_role(session, ROLE)


def test_every_error_we_raise_survives_pickling() -> None:
    errors: list[Exception] = [
        InvalidParameterError("Tags must be a list; got int: 5"),
        AssumeRoleError.from_code(ROLE, "Throttling", "Rate exceeded"),
        AssumeRoleConnectionError(ROLE, ConnectionRefusedError("refused")),
        AssumeRoleTimeoutError(ROLE, "did not finish before the invocation's deadline"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
    assert pickle.loads(pickle.dumps(errors[1])).error_code == "Throttling"
    assert pickle.loads(pickle.dumps(errors[2])).role_arn == ROLE


def test_refresh_windows_is_a_value_not_a_tuple() -> None:
    windows = RefreshWindows()
    assert windows != (1 / 3, 900, 60, 0.5, 15, 300)
    assert windows == RefreshWindows()
    with pytest.raises(AttributeError):
        windows.jitter = 0  # type: ignore[misc]
