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
        (
            {"Tags": {"team": "data"}, "TransitiveTagKeys": ("team",)},
            {"Tags": [{"Key": "team", "Value": "data"}], "TransitiveTagKeys": ["team"]},
        ),
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


# --- The docs' rules across members: tags and the policy -----------------------------------

SECRET_VALUE = "value-never-shown-7f3a"


def _tag(key: str) -> dict[str, str]:
    return {"Key": key, "Value": SECRET_VALUE}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"Tags": [_tag("team"), _tag("env"), _tag("Team")]},
            "Tags[2].Key repeats Tags[0].Key: tag keys must be unique, compared "
            "case-insensitively as STS does",
        ),
        (
            {"Tags": {"CostCenter": SECRET_VALUE, "COSTCENTER": SECRET_VALUE}},
            "Tags[1].Key repeats Tags[0].Key",
        ),
        ({"Tags": [_tag("Größe"), _tag("GRÖSSE")]}, None),  # not one key: ß is not SS
        ({"Tags": [_tag("x"), _tag("aws:team")]}, "Tags[1].Key must not start with 'aws:'"),
        ({"Tags": [_tag("AWS:team")]}, "Tags[0].Key must not start with 'aws:' (in any case)"),
        ({"Tags": [_tag("aWs:")]}, "Tags[0].Key must not start with 'aws:'"),
        ({"Tags": [_tag("aws"), _tag("awsteam"), _tag("team:aws:x")]}, None),
        (
            {"TransitiveTagKeys": ["team"]},
            "TransitiveTagKeys[0] must be the key of one of the Tags (compared "
            "case-insensitively); it is not, and no Tags are given",
        ),
        (
            {"Tags": [_tag("team")], "TransitiveTagKeys": ["TEAM", "env"]},
            "TransitiveTagKeys[1] must be the key of one of the Tags (compared "
            "case-insensitively); it is not",
        ),
        ({"Tags": {"team": SECRET_VALUE}, "TransitiveTagKeys": ("TEAM",)}, None),
    ],
)
def test_tag_rules_are_checked_before_any_call(
    arguments: dict[str, Any], message: str | None
) -> None:
    if message is None:
        prepare_parameters(ROLE, arguments)
        return
    with pytest.raises(InvalidParameterError) as raised:
        prepare_parameters(ROLE, arguments)
    assert str(raised.value).startswith(message)
    assert SECRET_VALUE not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_tag_errors_name_positions_not_keys() -> None:
    with pytest.raises(InvalidParameterError) as raised:
        prepare_parameters(ROLE, {"Tags": [_tag("tenant-acme"), _tag("Tenant-ACME")]})
    assert "acme" not in str(raised.value).lower()


@pytest.mark.parametrize(
    ("policy", "got"),
    [
        (f"not json {SECRET_VALUE}", "got text that is not JSON: Expecting value at character 0"),
        (f'{{"Version": "{SECRET_VALUE}"', "got text that is not JSON: Expecting ',' delimiter"),
        (f'["{SECRET_VALUE}"]', "got JSON array"),
        (f'"{SECRET_VALUE}"', "got JSON string"),
        ("null", "got JSON null"),
        ("12", "got JSON number"),
        ("true", "got JSON true or false"),
        ('{"a": NaN}', "got text with NaN or Infinity, which JSON does not allow"),
        ('{"a": -Infinity}', "got text with NaN or Infinity"),
        ("[" * 2000, "got text nested too deeply to parse"),
    ],
)
def test_a_policy_that_is_not_a_json_object_is_refused_without_its_text(
    policy: str, got: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        prepare_parameters(ROLE, {"Policy": policy})
    message = str(raised.value)
    assert message.startswith(f"Policy must be a JSON object (a dict, or the text of one); {got}")
    assert SECRET_VALUE not in message


@pytest.mark.parametrize(
    "policy",
    [
        '{"Version": "2012-10-17", "Statement": []}',
        ' {"Version":"2012-10-17"}\n',
        {"Version": "2012-10-17", "Statement": []},
    ],
)
def test_a_json_object_policy_passes(policy: Any) -> None:
    assert prepare_parameters(ROLE, {"Policy": policy}).request["Policy"]


@pytest.mark.parametrize(
    "arguments",
    [
        {"Tags": [_tag("team"), _tag("TEAM")]},
        {"Tags": [_tag("aws:team")]},
        {"TransitiveTagKeys": ["team"]},
        {"Tags": [_tag("team")], "TransitiveTagKeys": ["env"]},
        {"Policy": "not json"},
        {"Policy": "[1]"},
        {"Policy": '{"a": NaN}'},
    ],
)
def test_validate_false_skips_the_tag_and_policy_rules(arguments: dict[str, Any]) -> None:
    params = prepare_parameters(ROLE, arguments, validate=False)
    assert all(params.request[name] for name in arguments)
