"""Role session names: parity with aws-assume-role-lib 2.10, and always-valid output."""

from __future__ import annotations

import datetime
import importlib.util
import re
import string

import aws_assume_role_lib
import botocore.session
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_assume_role import naming
from lambda_assume_role.naming import (
    ROLE_SESSION_NAME_PATTERN,
    ROLE_SESSION_NAME_RULE,
    generate_lambda_session_name,
    sanitize_session_name,
)

# The oracle is botocore's STS model, not our constant: min 2, max 64, pattern [\w+=,.@-]*
# (a Java-style \w, which is ASCII).
_INPUT = botocore.session.get_session().get_service_model("sts").operation_model("AssumeRole")
assert _INPUT.input_shape is not None
_MODEL = _INPUT.input_shape.members["RoleSessionName"].metadata
_MODEL_CLASS = _MODEL["pattern"].removesuffix("*")
VALID = re.compile(f"{_MODEL_CLASS}{{{_MODEL['min']},{_MODEL['max']}}}", re.ASCII)
ENV_ID = "3893xmpl7fac4485b47bb75b671a283c"
STREAM = f"2020/01/31/[$LATEST]{ENV_ID}"
FROZEN = datetime.datetime(2024, 2, 29, 13, 14, 15, 161718, tzinfo=datetime.timezone.utc)
RANDOM_CHARS = set(string.ascii_lowercase + string.digits)


def test_pattern_accepts_exactly_what_the_sts_model_accepts() -> None:
    for code in range(0x250):  # every ASCII character, and Latin letters that \w would take
        candidate = "ab" + chr(code)
        expected = VALID.fullmatch(candidate) is not None
        assert (ROLE_SESSION_NAME_PATTERN.fullmatch(candidate) is not None) == expected, candidate
    for length in range(0, 70):
        expected = _MODEL["min"] <= length <= _MODEL["max"]
        assert (ROLE_SESSION_NAME_PATTERN.fullmatch("a" * length) is not None) == expected


def test_rule_states_the_model_limits() -> None:
    expected = f"{_MODEL['min']}-{_MODEL['max']} characters of {_MODEL_CLASS}"
    assert expected == ROLE_SESSION_NAME_RULE


def test_pattern_examples() -> None:
    assert ROLE_SESSION_NAME_PATTERN.fullmatch("ab+=,.@-_9")
    assert not ROLE_SESSION_NAME_PATTERN.fullmatch("a")
    assert not ROLE_SESSION_NAME_PATTERN.fullmatch("a" * 65)
    assert not ROLE_SESSION_NAME_PATTERN.fullmatch("ééé")
    assert not ROLE_SESSION_NAME_PATTERN.fullmatch("has space")


# --- sanitize_session_name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("a-b_c=d,e.f@g", "a-b_c=d,e.f@g"),
        ("my function/v1", "my_function_v1"),
        ("a  //  b", "a_b"),  # a run becomes one underscore
        ("a+b", "a_b"),  # "+" is valid for STS but replaced, as aws-assume-role-lib does
        ("ééé", "__"),  # one run of invalid characters is "_", then padded to 2
        ("", "__"),
        ("x", "x_"),
        ("é", "__"),
        ("x" * 100, "x" * 64),
        ("\x00\n\t", "__"),
    ],
)
def test_sanitize_session_name(value: str, expected: str) -> None:
    assert sanitize_session_name(value) == expected
    assert VALID.fullmatch(sanitize_session_name(value))


@given(st.text())
def test_sanitize_session_name_always_valid(value: str) -> None:
    assert VALID.fullmatch(sanitize_session_name(value))


# --- parity with aws-assume-role-lib ---------------------------------------------------------

NAMES = ["f", "my-function", "n" * 50, "n" * 54, "n" * 59, "n" * 60, "n" * 64, "n" * 70, "a b+c"]
VERSIONS = [None, "$LATEST", "1", "42", "123456789", "v" * 20]
IDENTIFIERS = [None, "abc", "i" * 100, "a b/c"]


@pytest.mark.parametrize("function_name", NAMES)
@pytest.mark.parametrize("function_version", VERSIONS)
@pytest.mark.parametrize("identifier", IDENTIFIERS)
@pytest.mark.parametrize("stream", [STREAM, f"2020/01/31/[7]{ENV_ID}", "odd-stream"])
def test_parity_with_log_stream(
    monkeypatch: pytest.MonkeyPatch,
    function_name: str,
    function_version: str | None,
    identifier: str | None,
    stream: str,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", stream)
    ours = generate_lambda_session_name(function_name, function_version, identifier)
    theirs = aws_assume_role_lib.generate_lambda_session_name(
        function_name, function_version, identifier
    )
    assert ours == theirs
    assert VALID.fullmatch(ours)


@pytest.mark.parametrize("function_name", NAMES)
@pytest.mark.parametrize("function_version", VERSIONS)
def test_parity_from_environment(
    monkeypatch: pytest.MonkeyPatch, function_name: str, function_version: str | None
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
    if function_version is not None:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", function_version)
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", STREAM)
    ours = generate_lambda_session_name()
    assert ours == aws_assume_role_lib.generate_lambda_session_name()
    assert VALID.fullmatch(ours)


def _identifier_room(function_name: str, function_version: str | None) -> int:
    """How many identifier characters fit, by aws-assume-role-lib's rules (99: none used)."""
    version = f".{function_version}" if function_version and function_version != "$LATEST" else ""
    if len(function_name) > 59:
        return 99
    if len(function_name) + len(version) > 59:
        return 63 - len(function_name)
    return 63 - len(function_name) - len(version)


@pytest.mark.parametrize("function_name", NAMES)
@pytest.mark.parametrize("function_version", VERSIONS)
def test_parity_without_log_stream(function_name: str, function_version: str | None) -> None:
    """A UTC timestamp when at least 14 characters fit, else a random string."""
    with time_machine.travel(FROZEN, tick=False):
        ours = generate_lambda_session_name(function_name, function_version)
        theirs = aws_assume_role_lib.generate_lambda_session_name(function_name, function_version)
    assert VALID.fullmatch(ours)
    room = _identifier_room(function_name, function_version)
    if room >= 14:
        assert ours == theirs
    else:
        # Random: the same shape, not the same characters.
        ours_prefix, _, ours_random = ours.rpartition(".")
        theirs_prefix, _, theirs_random = theirs.rpartition(".")
        assert ours_prefix == theirs_prefix
        assert len(ours_random) == len(theirs_random) == room
        assert set(ours_random) <= RANDOM_CHARS


# --- each rule, with explicit examples ---------------------------------------------------------


def test_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", STREAM)
    assert generate_lambda_session_name("fn") == f"fn.{ENV_ID}"
    assert generate_lambda_session_name("fn", "3") == f"fn.3.{ENV_ID}"
    assert generate_lambda_session_name("fn", "3", "id") == "fn.3.id"
    assert generate_lambda_session_name("fn", identifier="id") == "fn.id"
    assert generate_lambda_session_name("n" * 60) == "n" * 60


def test_latest_is_no_version() -> None:
    assert generate_lambda_session_name("fn", "$LATEST", "id") == "fn.id"


def test_identifier_is_trailing_word_of_log_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", f"2020/01/31/[12]{ENV_ID}")
    assert generate_lambda_session_name("fn", "12") == f"fn.12.{ENV_ID}"


def test_identifier_truncated_to_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", STREAM)
    name = "n" * 50
    assert generate_lambda_session_name(name) == f"{name}.{ENV_ID[:13]}"
    assert len(generate_lambda_session_name("n" * 59)) == 64


def test_long_name_is_cut_to_64() -> None:
    assert generate_lambda_session_name("n" * 100, "1", "id") == "n" * 64


def test_version_dropped_when_name_and_version_exceed_59() -> None:
    name = "n" * 50
    assert generate_lambda_session_name(name, "12345678", "id") == f"{name}.12345678.id"  # 59
    assert generate_lambda_session_name(name, "123456789", "id") == f"{name}.id"  # 60


def test_explicit_identifier_cut_with_the_whole_name() -> None:
    assert generate_lambda_session_name("fn", "1", "i" * 100) == "fn.1." + "i" * 59


def test_invalid_characters_replaced() -> None:
    assert generate_lambda_session_name("my fn+x", "1", "a/b c") == "my_fn_x.1.a_b_c"


def test_timestamp_fallback() -> None:
    with time_machine.travel(FROZEN, tick=False):
        assert generate_lambda_session_name("fn") == "fn.20240229131415161718"
        # 63 - 45 = 18 characters of timestamp fit
        assert generate_lambda_session_name("n" * 45) == "n" * 45 + ".202402291314151617"
        # exactly 14 fit: second precision
        assert generate_lambda_session_name("n" * 49) == "n" * 49 + ".20240229131415"


def test_timestamp_is_utc() -> None:
    eastern = datetime.timezone(datetime.timedelta(hours=-5))
    with time_machine.travel(FROZEN.astimezone(eastern), tick=False):
        assert generate_lambda_session_name("fn") == "fn.20240229131415161718"


@pytest.mark.parametrize("length", [50, 55, 59])
def test_random_fallback(length: int) -> None:
    name = "n" * length
    max_length = 63 - length
    values = {generate_lambda_session_name(name) for _ in range(20)}
    for value in values:
        prefix, _, suffix = value.rpartition(".")
        assert prefix == name
        assert len(suffix) == max_length
        assert set(suffix) <= RANDOM_CHARS
        assert VALID.fullmatch(value)
    assert len(values) > 1


def test_random_fallback_uses_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets

    monkeypatch.setattr(secrets, "choice", lambda seq: "z")
    assert generate_lambda_session_name("n" * 55) == "n" * 55 + ".zzzzzzzz"


def test_empty_identifier_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", STREAM)
    assert generate_lambda_session_name("fn", identifier="") == f"fn.{ENV_ID}"


# --- environment ----------------------------------------------------------------------------


def test_reads_environment_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "first")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "1")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2020/01/31/[1]aaaa")
    assert generate_lambda_session_name() == "first.1.aaaa"

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "second")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "2")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2020/01/31/[2]bbbb")
    assert generate_lambda_session_name() == "second.2.bbbb"


def test_snapstart_restore_gets_its_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the snapshot there is no log stream; after restore there is."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    with time_machine.travel(FROZEN, tick=False):
        assert generate_lambda_session_name() == "fn.20240229131415161718"
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", STREAM)
    assert generate_lambda_session_name() == f"fn.{ENV_ID}"


def test_module_does_not_read_environment_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh copy of the module, imported under one environment, uses the next one."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "at-import")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "1")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2020/01/31/[1]importtime")
    spec = importlib.util.spec_from_file_location("_fresh_naming", naming.__file__)
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "at-call")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "2")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2020/01/31/[2]calltime")
    assert fresh.generate_lambda_session_name() == "at-call.2.calltime"


def test_arguments_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "env-fn")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "9")
    assert generate_lambda_session_name("arg-fn", "3", "id") == "arg-fn.3.id"
    assert generate_lambda_session_name(identifier="id") == "env-fn.9.id"


@pytest.mark.parametrize("env_value", [None, ""])
def test_missing_function_name(monkeypatch: pytest.MonkeyPatch, env_value: str | None) -> None:
    if env_value is not None:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", env_value)
    with pytest.raises(ValueError, match=r"function_name.*AWS_LAMBDA_FUNCTION_NAME"):
        generate_lambda_session_name()
    with pytest.raises(ValueError, match="AWS_LAMBDA_FUNCTION_NAME"):
        generate_lambda_session_name("", "1", "id")


# --- beyond aws-assume-role-lib: always valid ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # aws-assume-role-lib returns "_" (too short) here.
        (("é" * 60,), "__"),
        (("f", "1", "é"), "f.1._"),
        (("é", None, "é"), "_._"),
        (("名前", "版", "識別子"), "_._._"),
        (("f", "1", "\x00"), "f.1._"),
    ],
)
def test_always_valid_for_odd_inputs(args: tuple[str | None, ...], expected: str) -> None:
    assert generate_lambda_session_name(*args) == expected
    assert VALID.fullmatch(expected)


def test_non_ascii_log_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2020/01/31/[1]ünïcode")
    value = generate_lambda_session_name("fn")
    assert value == "fn._n_code"
    assert VALID.fullmatch(value)


# Environment values cannot hold NUL or lone surrogates.
_ENV_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    function_name=st.text(min_size=1),
    function_version=st.none() | st.text(),
    identifier=st.none() | st.text(),
    log_stream=st.none() | _ENV_TEXT,
    env_version=st.none() | _ENV_TEXT,
)
def test_always_valid_property(
    function_name: str,
    function_version: str | None,
    identifier: str | None,
    log_stream: str | None,
    env_version: str | None,
) -> None:
    with pytest.MonkeyPatch.context() as env:
        for variable, value in [
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream),
            ("AWS_LAMBDA_FUNCTION_VERSION", env_version),
        ]:
            if value is None:
                env.delenv(variable, raising=False)
            else:
                env.setenv(variable, value)
        result = generate_lambda_session_name(function_name, function_version, identifier)
    assert VALID.fullmatch(result), result
    assert ROLE_SESSION_NAME_PATTERN.fullmatch(result)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(function_name=_ENV_TEXT.filter(bool), log_stream=st.none() | _ENV_TEXT)
def test_always_valid_property_from_environment(function_name: str, log_stream: str | None) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
        if log_stream is None:
            env.delenv("AWS_LAMBDA_LOG_STREAM_NAME", raising=False)
        else:
            env.setenv("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
        result = generate_lambda_session_name()
    assert VALID.fullmatch(result), result
