"""assume_role() against moto over HTTP: laziness, refresh, chaining, parameters, parity."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import aws_assume_role_lib
import boto3
import botocore.exceptions
import pytest
import time_machine

import lambda_assume_role
from emulators.moto_server import RequestLog
from lambda_assume_role import (
    AUTOMATIC_ROLE_SESSION_NAME,
    AssumedRoleSession,
    InvalidParameterError,
    JSONFileCache,
    assume_role,
    patch_boto3,
)
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Reader"
OTHER = "arn:aws:iam::222222222222:role/Writer"


def identity(session: boto3.Session) -> str:
    arn: str = session.client("sts").get_caller_identity()["Arn"]
    return arn


def test_session_is_lazy_until_credentials_are_needed(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="lazy")
    session.client("sts")
    assert requests_log.count("AssumeRole") == 0
    assert identity(session) == "arn:aws:sts::111111111111:assumed-role/Reader/lazy"
    assert requests_log.count("AssumeRole") == 1


def test_returns_a_boto3_session_that_carries_its_parent(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE)
    assert isinstance(session, boto3.Session)
    assert isinstance(session, AssumedRoleSession)
    assert session.assume_role_parent_session is parent


def test_credentials_are_reused_until_they_need_refreshing(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="reuse")
    for _ in range(5):
        identity(session)
    assert requests_log.count("AssumeRole") == 1
    assert requests_log.count("GetCallerIdentity") == 5


def test_credentials_refresh_after_expiry(parent: boto3.Session, requests_log: RequestLog) -> None:
    start = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        session = assume_role(parent, ROLE, RoleSessionName="expiry", DurationSeconds=900)
        identity(session)
        first_key = requests_log.matching("GetCallerIdentity")[-1].access_key
        clock.shift(datetime.timedelta(seconds=901))
        identity(session)
    second_key = requests_log.matching("GetCallerIdentity")[-1].access_key
    assert requests_log.count("AssumeRole") == 2
    assert first_key != second_key
    assert first_key.startswith("ASIA")
    assert second_key.startswith("ASIA")


def test_chained_sessions_assume_with_the_parent_role_credentials(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    first = assume_role(parent, ROLE, RoleSessionName="hop1")
    second = assume_role(first, OTHER, RoleSessionName="hop2")
    assert identity(second) == "arn:aws:sts::222222222222:assumed-role/Writer/hop2"
    hop1, hop2 = requests_log.matching("AssumeRole")
    assert hop1.access_key == "AKIAIOSFODNN7EXAMPLE"
    assert hop2.access_key.startswith("ASIA")
    assert hop2.params["RoleArn"] == OTHER


def test_parameters_are_normalised_in_the_request(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    session = assume_role(
        parent,
        ROLE,
        RoleSessionName="params",
        Policy=policy,
        DurationSeconds=datetime.timedelta(minutes=20),
        PolicyArns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        Tags={"tenant": "acme"},
        TransitiveTagKeys=["tenant"],
        ExternalId="ext-123",
    )
    identity(session)
    (call,) = requests_log.matching("AssumeRole")
    assert json.loads(call.params["Policy"]) == policy
    assert call.params["DurationSeconds"] == "1200"
    assert call.params["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert call.params["Tags.member.1.Key"] == "tenant"
    assert call.params["Tags.member.1.Value"] == "acme"
    assert call.params["TransitiveTagKeys.member.1"] == "tenant"
    assert call.params["ExternalId"] == "ext-123"


def test_source_identity_is_the_default_session_name(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    session = assume_role(parent, ROLE, SourceIdentity="alice@example.com")
    assert identity(session).endswith("/Reader/alice@example.com")
    (call,) = requests_log.matching("AssumeRole")
    assert call.params["SourceIdentity"] == "alice@example.com"


def test_mfa_code_is_prompted_for_when_only_the_serial_number_is_given(
    parent: boto3.Session, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or "123456")
    serial = "arn:aws:iam::111111111111:mfa/alice"
    identity(assume_role(parent, ROLE, RoleSessionName="mfa", SerialNumber=serial))
    identity(
        assume_role(parent, OTHER, RoleSessionName="mfa", SerialNumber=serial, TokenCode="654321")
    )
    first, second = requests_log.matching("AssumeRole")
    assert prompts == [f"Enter MFA code for {serial}: "]
    assert first.params["TokenCode"] == "123456"
    assert second.params["TokenCode"] == "654321"


def test_automatic_session_name_is_generated(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE, RoleSessionName=AUTOMATIC_ROLE_SESSION_NAME)
    assert "/Reader/botocore-session-" in identity(session)


def test_lambda_default_session_name_identifies_the_environment(
    parent: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambda_assume_role.naming import forget_lambda_session_name

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    monkeypatch.setenv(
        "AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[7]0123456789abcdef0123456789abcdef"
    )
    forget_lambda_session_name()
    try:
        session = assume_role(parent, ROLE)
        assert identity(session).endswith("/Reader/orders.7.0123456789abcdef0123456789abcdef")
    finally:
        forget_lambda_session_name()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(True, "us-east-1"), (False, "ap-south-1"), ("eu-central-1", "eu-central-1")],
)
def test_region_name_pins_or_sets_the_region(
    parent: boto3.Session, monkeypatch: pytest.MonkeyPatch, setting: str | bool, expected: str
) -> None:
    session = assume_role(parent, ROLE, region_name=setting)
    parent._session.set_config_variable("region", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert session.region_name == expected


def test_region_name_none_follows_the_parent_as_it_changes(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE)
    assert session.region_name == "us-east-1"
    parent._session.set_config_variable("region", "eu-west-1")
    assert session.region_name == "eu-west-1"
    assert session.client("sts").meta.region_name == "eu-west-1"


def test_dict_cache_is_shared_between_sessions(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    cache: dict[str, object] = {}
    identity(assume_role(parent, ROLE, RoleSessionName="cached", cache=cache))
    identity(assume_role(parent, ROLE, RoleSessionName="cached", cache=cache))
    assert requests_log.count("AssumeRole") == 1
    assert len(cache) == 1


def test_json_file_cache_survives_a_new_process_view(
    parent: boto3.Session, requests_log: RequestLog, tmp_path: Path
) -> None:
    folder = tmp_path / "creds"
    identity(assume_role(parent, ROLE, RoleSessionName="file", cache=JSONFileCache(folder)))
    identity(assume_role(parent, ROLE, RoleSessionName="file", cache=JSONFileCache(folder)))
    assert requests_log.count("AssumeRole") == 1
    (entry,) = folder.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_first_use_from_32_threads_makes_one_assume_role(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="race")
    client = session.client("sts")
    assert run_together(client.get_caller_identity, [()] * 32) == []
    assert requests_log.count("AssumeRole") == 1
    assert requests_log.count("GetCallerIdentity") == 32


def test_parent_without_credentials_raises_no_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(botocore.exceptions.NoCredentialsError):
        assume_role(boto3.Session(), ROLE)


def test_patch_boto3_adds_module_and_session_functions(
    parent: boto3.Session, monkeypatch: pytest.MonkeyPatch, requests_log: RequestLog
) -> None:
    monkeypatch.delattr(boto3.Session, "assume_role", raising=False)
    monkeypatch.delattr(boto3, "assume_role", raising=False)
    patch_boto3()
    from_module = boto3.assume_role(ROLE, RoleSessionName="module")  # type: ignore[attr-defined]
    from_session = parent.assume_role(OTHER, RoleSessionName="method")  # type: ignore[attr-defined]
    assert from_module.assume_role_parent_session is boto3._get_default_session()
    assert from_session.assume_role_parent_session is parent
    assert identity(from_module).endswith("/Reader/module")
    assert identity(from_session).endswith("/Writer/method")
    assert boto3.assume_role.__name__ == "assume_role"  # type: ignore[attr-defined]


def test_same_request_as_aws_assume_role_lib(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    """Drop-in: for the same arguments, STS receives the same AssumeRole request."""
    kwargs = {
        "RoleSessionName": "parity",
        "PolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "Policy": {"Version": "2012-10-17", "Statement": []},
        "DurationSeconds": datetime.timedelta(hours=1),
        "Tags": [{"Key": "k", "Value": "v"}],
        "TransitiveTagKeys": ["k"],
        "ExternalId": "ext",
        "SourceIdentity": "src",
    }
    identity(aws_assume_role_lib.assume_role(parent, ROLE, **kwargs))
    identity(assume_role(parent, ROLE, **kwargs))
    theirs, ours = requests_log.matching("AssumeRole")
    theirs_params = dict(theirs.params, Policy=json.loads(theirs.params["Policy"]))
    ours_params = dict(ours.params, Policy=json.loads(ours.params["Policy"]))
    assert ours_params == theirs_params


def test_public_names_match_aws_assume_role_lib() -> None:
    anchor = aws_assume_role_lib.aws_assume_role_lib.__all__
    missing = set(anchor) - set(lambda_assume_role.__all__)
    assert missing == set()


# --- validation: clear errors before any network call ------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"RoleArn": "arn:aws:iam::123:role/X"}, "RoleArn must look like"),
        ({"RoleArn": "arn:aws:s3:::bucket-name-here"}, "RoleArn must look like"),
        ({"RoleArn": ROLE, "RoleSessionName": "has space"}, "RoleSessionName must"),
        ({"RoleArn": ROLE, "RoleSessionName": "x"}, "RoleSessionName must"),
        ({"RoleArn": ROLE, "RoleSessionName": "x" * 65}, "RoleSessionName must"),
        ({"RoleArn": ROLE, "DurationSeconds": 899}, "DurationSeconds must be between 900"),
        ({"RoleArn": ROLE, "DurationSeconds": 43201}, "DurationSeconds must be between 900"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_rule(
    parent: boto3.Session, requests_log: RequestLog, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment) as raised:
        assume_role(parent, **kwargs)  # type: ignore[arg-type]
    assert isinstance(raised.value, botocore.exceptions.ParamValidationError)
    assert isinstance(raised.value, InvalidParameterError)
    assert requests_log.all() == []


def test_wrong_types_raise_param_validation_error_like_the_anchor(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    with pytest.raises(botocore.exceptions.ParamValidationError, match="ExternalId"):
        assume_role(parent, ROLE, ExternalId=123)  # type: ignore[arg-type]
    with pytest.raises(botocore.exceptions.ParamValidationError, match="RoleArn"):
        assume_role(parent, None)  # type: ignore[arg-type]
    assert requests_log.all() == []


def test_chained_session_over_one_hour_is_rejected(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    first = assume_role(parent, ROLE)
    with pytest.raises(ValueError, match="role chaining"):
        assume_role(first, OTHER, DurationSeconds=7200)
    assume_role(first, OTHER, DurationSeconds=3600)
    assume_role(parent, OTHER, DurationSeconds=7200)  # IAM user credentials: not chaining
    assert requests_log.all() == []


def test_lambda_execution_role_credentials_are_role_chaining(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "execution-role-token")
    with pytest.raises(ValueError, match="at most 3600"):
        assume_role(boto3.Session(), ROLE, DurationSeconds=3601)


def test_validate_false_skips_checks(parent: boto3.Session) -> None:
    session = assume_role(parent, "not-an-arn", RoleSessionName="x", validate=False)
    assert isinstance(session, boto3.Session)


# --- no secrets in output ----------------------------------------------------------------


def test_reprs_never_show_keys(parent: boto3.Session, tmp_path: Path) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="secret")
    identity(session)
    frozen = session.get_credentials().get_frozen_credentials()
    texts = [
        repr(session),
        str(session),
        repr(session.get_credentials()),
        str(session.get_credentials()),
        repr(JSONFileCache(tmp_path / "x")),
    ]
    for text in texts:
        assert frozen.secret_key not in text
        assert frozen.token not in text
    assert ROLE in repr(session)
