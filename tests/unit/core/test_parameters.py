"""prepare_parameters: one place that normalises, validates and keys AssumeRole arguments."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.exceptions
import pytest

from lambda_assume_role.parameters import (
    AUTOMATIC_ROLE_SESSION_NAME,
    InvalidParameterError,
    prepare_parameters,
)

ROLE = "arn:aws:iam::123456789012:role/Reader"


def test_policy_dict_is_sent_compact_and_keyed_as_the_text_sent() -> None:
    as_dict = prepare_parameters(ROLE, {"Policy": {"b": [1], "a": "x"}})
    same_text = prepare_parameters(ROLE, {"Policy": '{"b":[1],"a":"x"}'})
    other_text = prepare_parameters(ROLE, {"Policy": '{"a": "x", "b": [1]}'})
    assert as_dict.request["Policy"] == '{"b":[1],"a":"x"}'
    assert as_dict.key == same_text.key
    # STS would receive different text: a different request, a different key.
    assert as_dict.key != other_text.key
    assert as_dict.cache_key("AKIA") != other_text.cache_key("AKIA")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"DurationSeconds": datetime.timedelta(minutes=30)}, {"DurationSeconds": 1800}),
        (
            {"PolicyArns": ["arn:aws:iam::aws:policy/A"]},
            {"PolicyArns": [{"arn": "arn:aws:iam::aws:policy/A"}]},
        ),
        ({"Tags": {"team": "data"}}, {"Tags": [{"Key": "team", "Value": "data"}]}),
        ({"TransitiveTagKeys": ("team",)}, {"TransitiveTagKeys": ["team"]}),
        ({"SourceIdentity": "alice"}, {"SourceIdentity": "alice", "RoleSessionName": "alice"}),
        (
            {"RoleSessionName": "bob", "SourceIdentity": "alice"},
            {"RoleSessionName": "bob", "SourceIdentity": "alice"},
        ),
        (
            {"RoleSessionName": AUTOMATIC_ROLE_SESSION_NAME, "SourceIdentity": "alice"},
            {"SourceIdentity": "alice"},
        ),
        ({"RoleSessionName": None, "ExternalId": None}, {}),
        (
            {
                "additional_kwargs": {"SerialNumber": "GAHT12345678", "ExternalId": "aa"},
                "ExternalId": "bb",
            },
            {"SerialNumber": "GAHT12345678", "ExternalId": "bb"},
        ),
    ],
)
def test_arguments_are_normalised(given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert dict(prepare_parameters(ROLE, given).request) == expected


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"unexpected AssumeRole keyword argument.*ExternalID"):
        prepare_parameters(ROLE, {"ExternalID": "typo"})


def test_generated_names_stay_out_of_the_key() -> None:
    automatic = prepare_parameters(ROLE, {"RoleSessionName": AUTOMATIC_ROLE_SESSION_NAME})
    assert automatic.key == prepare_parameters(ROLE).key
    assert automatic.role_session_name is None
    assert prepare_parameters(ROLE, {"RoleSessionName": "x1"}).key != automatic.key


@pytest.mark.parametrize(
    ("arguments", "chained", "message"),
    [
        ({"DurationSeconds": 3601}, True, "at most 3600 when the parent session holds role"),
        ({"DurationSeconds": 100}, False, "between 900 and 43200"),
        ({"RoleSessionName": "a b"}, False, r"RoleSessionName must match .*; got .a b."),
    ],
)
def test_rule_errors_name_the_parameter_and_the_rule(
    arguments: dict[str, Any], chained: bool, message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message) as raised:
        prepare_parameters(ROLE, arguments, chained=chained)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, botocore.exceptions.ParamValidationError)


def test_model_validation_catches_types_without_an_sts_client() -> None:
    with pytest.raises(botocore.exceptions.ParamValidationError, match="Tags"):
        prepare_parameters(ROLE, {"Tags": "not-a-list"})


def test_validate_false_skips_every_check() -> None:
    params = prepare_parameters("nonsense", {"DurationSeconds": 1}, validate=False)
    assert params.duration_seconds == 1


def test_repr_shows_no_secret_like_values() -> None:
    params = prepare_parameters(ROLE, {"ExternalId": "shh-secret", "TokenCode": "654321"})
    assert "shh-secret" not in repr(params)
    assert "654321" not in repr(params)
