"""Role ARNs: parity with aws-assume-role-lib, and strict parsing with helpful errors."""

from __future__ import annotations

import aws_assume_role_lib
import pytest

from lambda_assume_role.arns import (
    PARTITIONS,
    ROLE_ARN_RULE,
    RoleArn,
    get_assumed_role_session_arn,
    get_role_arn,
    is_assumed_role_arn,
    parse_role_arn,
)
from lambda_assume_role.errors import InvalidParameterError

KNOWN_PARTITIONS = (
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
)

# --- get_role_arn --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("123456789012", "MyRole"), {}, "arn:aws:iam::123456789012:role/MyRole"),
        ((123456789012, "MyRole"), {}, "arn:aws:iam::123456789012:role/MyRole"),
        ((12345678901, "MyRole"), {}, "arn:aws:iam::012345678901:role/MyRole"),
        (("12345678901", "MyRole"), {}, "arn:aws:iam::012345678901:role/MyRole"),
        ((1, "R"), {}, "arn:aws:iam::000000000001:role/R"),
        (("123456789012", "team/MyRole"), {}, "arn:aws:iam::123456789012:role/team/MyRole"),
        (("123456789012", "/team/MyRole"), {}, "arn:aws:iam::123456789012:role/team/MyRole"),
        (("123456789012", "a/b/MyRole"), {}, "arn:aws:iam::123456789012:role/a/b/MyRole"),
        (("123456789012", "/MyRole"), {}, "arn:aws:iam::123456789012:role/MyRole"),
        (("123456789012", "MyRole"), {"path": "/"}, "arn:aws:iam::123456789012:role/MyRole"),
        (("123456789012", "R"), {"path": "team"}, "arn:aws:iam::123456789012:role/team/R"),
        (("123456789012", "R"), {"path": "/team"}, "arn:aws:iam::123456789012:role/team/R"),
        (("123456789012", "R"), {"path": "team/"}, "arn:aws:iam::123456789012:role/team/R"),
        (("123456789012", "R"), {"path": "/a/b/"}, "arn:aws:iam::123456789012:role/a/b/R"),
        (
            ("123456789012", "R"),
            {"partition": "aws-cn"},
            "arn:aws-cn:iam::123456789012:role/R",
        ),
    ],
)
def test_get_role_arn(args: tuple[object, ...], kwargs: dict[str, str], expected: str) -> None:
    assert get_role_arn(*args, **kwargs) == expected  # type: ignore[arg-type]
    assert aws_assume_role_lib.get_role_arn(*args, **kwargs) == expected


def test_get_role_arn_rejects_two_paths() -> None:
    with pytest.raises(ValueError, match="Path cannot be given in both role_name and path"):
        get_role_arn("123456789012", "team/R", path="/other/")


def test_the_partition_table_is_the_known_partitions() -> None:
    assert sorted(PARTITIONS) == sorted(KNOWN_PARTITIONS)


@pytest.mark.parametrize("partition", KNOWN_PARTITIONS)
def test_every_known_partition_makes_a_role_arn_that_parses(partition: str) -> None:
    arn = get_role_arn("123456789012", "R", partition=partition)
    assert arn == f"arn:{partition}:iam::123456789012:role/R"
    assert parse_role_arn(arn).partition == partition
    session_arn = get_assumed_role_session_arn("123456789012", "R", "s1", partition=partition)
    assert is_assumed_role_arn(session_arn)


@pytest.mark.parametrize(
    "partition",
    [
        "aws:iam::999999999999:role/x",  # would move the ARN into another account
        "aws-evil",
        "aws-",
        "AWS",
        "",
        "aws ",
        "gcp",
        None,
    ],
)
def test_get_role_arn_refuses_an_unknown_partition(partition: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^partition must be one of aws, aws-cn, "):
        get_role_arn("123456789012", "R", partition=partition)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"^partition must be one of aws, aws-cn, "):
        get_assumed_role_session_arn("123456789012", "R", "s1", partition=partition)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "account_id",
    [
        "1234567890123",  # longer than 12 (aws-assume-role-lib kept it as it was)
        "12345678901a",
        "abc",
        "",
        "999999999999:role/x",
        "١٢٣٤٥٦٧٨٩٠١٢",  # non-ASCII digits
        -1,
        10**12,
        True,
        float("nan"),
        float("inf"),
        None,
    ],
)
def test_get_role_arn_refuses_an_account_id_that_is_not_12_digits(account_id: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^account_id must be 12 digits"):
        get_role_arn(account_id, "R")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"^account_id must be 12 digits"):
        get_assumed_role_session_arn(account_id, "R", "s1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "role_name", ["", "team/", "has space", "naïve", "R:x", "x" * 65, "R\n", None]
)
def test_get_role_arn_refuses_a_role_name_outside_iams_rule(role_name: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^role_name must "):
        get_role_arn("123456789012", role_name)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["p q", "naïve", "a\nb", "x" * 511, None])
def test_get_role_arn_refuses_a_path_outside_iams_rule(path: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^path "):
        get_role_arn("123456789012", "R", path=path)  # type: ignore[arg-type]
    if isinstance(path, str):
        with pytest.raises(InvalidParameterError, match=r"^path "):
            get_role_arn("123456789012", f"{path}/R")


def test_get_role_arn_accepts_the_longest_path() -> None:
    arn = get_role_arn("123456789012", "R", path="x" * 510)
    assert parse_role_arn(arn).path == "/" + "x" * 510 + "/"


@pytest.mark.parametrize("session_name", ["", "a/b", "has space", "s:1", None])
def test_get_assumed_role_session_arn_refuses_a_bad_session_name(session_name: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^role_session_name must be characters"):
        get_assumed_role_session_arn("123456789012", "R", session_name)  # type: ignore[arg-type]


# --- get_assumed_role_session_arn ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("123456789012", "R", "s1"), "arn:aws:sts::123456789012:assumed-role/R/s1"),
        ((12345678901, "R", "s1"), "arn:aws:sts::012345678901:assumed-role/R/s1"),
        (("123456789012", "a/b/R", "s1"), "arn:aws:sts::123456789012:assumed-role/R/s1"),
        (
            ("123456789012", "R", "s1", "aws-us-gov"),
            "arn:aws-us-gov:sts::123456789012:assumed-role/R/s1",
        ),
    ],
)
def test_get_assumed_role_session_arn(args: tuple[object, ...], expected: str) -> None:
    assert get_assumed_role_session_arn(*args) == expected  # type: ignore[arg-type]
    assert aws_assume_role_lib.get_assumed_role_session_arn(*args) == expected


# --- parse_role_arn ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::123456789012:role/R", RoleArn("aws", "123456789012", "/", "R")),
        (
            "arn:aws:iam::123456789012:role/team/sub/My.Role+=,@-_1",
            RoleArn("aws", "123456789012", "/team/sub/", "My.Role+=,@-_1"),
        ),
        ("arn:aws-cn:iam::000000000001:role/R", RoleArn("aws-cn", "000000000001", "/", "R")),
        (
            "arn:aws-us-gov:iam::123456789012:role/R",
            RoleArn("aws-us-gov", "123456789012", "/", "R"),
        ),
        ("arn:aws-iso-b:iam::123456789012:role/R", RoleArn("aws-iso-b", "123456789012", "/", "R")),
        ("arn:aws-eusc:iam::123456789012:role/R", RoleArn("aws-eusc", "123456789012", "/", "R")),
        (
            "arn:aws:iam::123456789012:role/" + "x" * 64,
            RoleArn("aws", "123456789012", "/", "x" * 64),
        ),
        (
            "arn:aws:iam::123456789012:role/p!~/R",
            RoleArn("aws", "123456789012", "/p!~/", "R"),
        ),
        (
            "arn:aws:iam::123456789012:role///R",
            RoleArn("aws", "123456789012", "///", "R"),
        ),
    ],
)
def test_parse_role_arn(arn: str, expected: RoleArn) -> None:
    parsed = parse_role_arn(arn)
    assert parsed == expected
    assert parsed.arn == arn
    assert str(parsed) == arn


def test_parse_role_arn_round_trips_get_role_arn() -> None:
    arn = get_role_arn(42, "Deploy", path="ci/prod")
    assert parse_role_arn(arn) == RoleArn("aws", "000000000042", "/ci/prod/", "Deploy")


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "MyRole",
        "arn:aws:iam::123:role/X",
        "arn:aws:iam::1234567890123:role/X",
        "arn:aws:iam::12345678901a:role/X",
        "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/X",  # non-ASCII digits
        "arn:aws:s3:::bucket-name-here",
        "arn:aws:iam::123456789012:user/X",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role",
        "arn:aws:iam::123456789012:roleX",
        "arn:aws:iam::123456789012:role/" + "x" * 65,
        "arn:aws:iam::123456789012:role/has space",
        "arn:aws:iam::123456789012:role/naïve",
        "arn:aws:iam::123456789012:role/p q/R",
        "arn:aws:iam::123456789012:role//R",
        "arn:aws:iam:us-east-1:123456789012:role/R",
        "arn:aws:iam::123456789012:role/R\n",
        " arn:aws:iam::123456789012:role/R",
    ],
)
def test_parse_role_arn_rejects(arn: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_role_arn(arn)
    message = str(caught.value)
    assert message == f"RoleArn must look like {ROLE_ARN_RULE}; got {arn!r}"


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws-evil:iam::123456789012:role/R", "aws-evil"),
        ("arn:gcp:iam::123456789012:role/R", "gcp"),
        ("arn:AWS:iam::123456789012:role/R", "AWS"),
        ("arn::iam::123456789012:role/R", ""),
    ],
)
def test_parse_role_arn_refuses_an_unknown_partition(arn: str, partition: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        parse_role_arn(arn)
    assert str(caught.value) == (
        "RoleArn's partition must be one of aws, aws-cn, aws-eusc, aws-iso, aws-iso-b, "
        f"aws-iso-e, aws-iso-f, aws-us-gov; got {partition!r}"
    )


def test_is_assumed_role_arn_refuses_an_unknown_partition() -> None:
    assert not is_assumed_role_arn("arn:aws-evil:sts::123456789012:assumed-role/R/s")


def test_parse_role_arn_message_example() -> None:
    with pytest.raises(ValueError) as caught:
        parse_role_arn("arn:aws:iam::123:role/X")
    assert str(caught.value) == (
        "RoleArn must look like arn:<partition>:iam::<12-digit account id>:role/[<path>/]<name>;"
        " got 'arn:aws:iam::123:role/X'"
    )


def test_parse_role_arn_names_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"^role_arn must look like"):
        parse_role_arn("nope", parameter="role_arn")


@pytest.mark.parametrize("value", [None, 123, b"arn:aws:iam::123456789012:role/R"])
def test_parse_role_arn_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^RoleArn must be a string"):
        parse_role_arn(value)


def test_role_arn_is_frozen() -> None:
    parsed = parse_role_arn("arn:aws:iam::123456789012:role/R")
    with pytest.raises(AttributeError):
        parsed.name = "Other"  # type: ignore[misc]


# --- is_assumed_role_arn -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:sts::123456789012:assumed-role/R/session", True),
        ("arn:aws-cn:sts::123456789012:assumed-role/R/i-0abc", True),
        ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1/a@b.com", True),
        (get_assumed_role_session_arn(1, "team/R", "s.1"), True),
        ("arn:aws:sts::123456789012:assumed-role/R", False),
        ("arn:aws:sts::123456789012:assumed-role/R/", False),
        ("arn:aws:sts::123456789012:assumed-role/R/a/b", False),
        ("arn:aws:sts::123:assumed-role/R/s", False),
        ("arn:aws:iam::123456789012:role/R", False),
        ("arn:aws:iam::123456789012:user/alice", False),
        ("arn:aws:sts::123456789012:federated-user/alice", False),
        ("", False),
        (None, False),
    ],
)
def test_is_assumed_role_arn(arn: str, expected: bool) -> None:
    assert is_assumed_role_arn(arn) is expected
