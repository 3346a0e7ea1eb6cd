"""Build and check IAM role ARNs and STS assumed-role session ARNs.

`get_role_arn` and `get_assumed_role_session_arn` behave like their
aws-assume-role-lib 2.10 namesakes (the same padding of account ids, the same
path handling and the same error), so code that switches libraries produces the
same strings. Unlike them, they refuse what cannot make a well-formed ARN: an
unknown partition (`PARTITIONS`), an account id that is not 12 digits once
padded, a role name or path outside IAM's rules. So a value from an event
cannot move the ARN into another account (``partition="aws:iam::999999999999:role/x"``).

`parse_role_arn` goes further: it checks a role ARN against IAM's rules before
any network call, so a typo fails at once with a message that names the
parameter, states the rule and shows the offending value, instead of failing
later inside STS with a less helpful error.

Only the standard library and our exceptions (`lambda_assume_role.errors`, over
botocore's) are imported, so importing this module is cheap.
"""

from __future__ import annotations

import numbers
import re
from typing import NamedTuple

from lambda_assume_role.errors import InvalidParameterError

__all__ = [
    "NAME_CHARACTER_CLASS",
    "PARTITIONS",
    "ROLE_ARN_RULE",
    "RoleArn",
    "get_assumed_role_session_arn",
    "get_role_arn",
    "is_account_id",
    "is_assumed_role_arn",
    "parse_role_arn",
]

ROLE_ARN_RULE = "arn:<partition>:iam::<12-digit account id>:role/[<path>/]<name>"
"""The shape a role ARN must have, as shown in error messages."""

_ACCOUNT_ID_LENGTH = 12
# The one account-id rule: 12 ASCII digits (the ARN patterns below embed it).
_ACCOUNT_ID = rf"[0-9]{{{_ACCOUNT_ID_LENGTH}}}"
_ACCOUNT_ID_PATTERN = re.compile(_ACCOUNT_ID, re.ASCII)

PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
"""The AWS partitions: the only ones a role ARN may name (built or parsed)."""

_PARTITION_RULE = f"one of {', '.join(sorted(PARTITIONS))}"
_PARTITION = "|".join(sorted(PARTITIONS))
# IAM role path: "/" or "/<printable ASCII, slashes allowed>/", 1-512 characters.
_ROLE_PATH = r"/(?:[\x21-\x7e]{1,510}/)?"
NAME_CHARACTER_CLASS = r"[\w+=,.@-]"
"""IAM's one character class for role names and STS session names (ASCII ``\\w``)."""

# IAM role name: 1-64 characters of the class.
_ROLE_NAME = rf"{NAME_CHARACTER_CLASS}{{1,64}}"

_ROLE_NAME_PATTERN = re.compile(_ROLE_NAME, re.ASCII)
_ROLE_PATH_PATTERN = re.compile(_ROLE_PATH, re.ASCII)
_SESSION_NAME = rf"{NAME_CHARACTER_CLASS}+"
_SESSION_NAME_PATTERN = re.compile(_SESSION_NAME, re.ASCII)


def _role_arn_pattern(partition: str) -> re.Pattern[str]:
    return re.compile(
        rf"arn:(?P<partition>{partition}):iam::(?P<account_id>{_ACCOUNT_ID}):"
        rf"role(?P<path>{_ROLE_PATH})(?P<name>{_ROLE_NAME})",
        re.ASCII,
    )


_ROLE_ARN_PATTERN = _role_arn_pattern(_PARTITION)
# Any partition: tells "only the partition is wrong" apart, for a precise message.
_ANY_PARTITION_ROLE_ARN_PATTERN = _role_arn_pattern("[^:]*")

_ASSUMED_ROLE_ARN_PATTERN = re.compile(
    rf"arn:(?:{_PARTITION}):sts::{_ACCOUNT_ID}:assumed-role/{_ROLE_NAME}/{_SESSION_NAME}",
    re.ASCII,
)


class RoleArn(NamedTuple):
    """The parts of an IAM role ARN, as returned by `parse_role_arn`.

    Attributes:
        partition: The AWS partition, e.g. ``"aws"`` or ``"aws-cn"``.
        account_id: The 12-digit account id, as a string.
        path: The role's IAM path, always starting and ending with ``/``
            (``"/"`` for a role without a path).
        name: The role's name, without its path.

    Example:
        >>> arn = parse_role_arn("arn:aws:iam::123456789012:role/team/Deploy")
        >>> arn.path, arn.name
        ('/team/', 'Deploy')
        >>> arn.arn
        'arn:aws:iam::123456789012:role/team/Deploy'
    """

    partition: str
    account_id: str
    path: str
    name: str

    @property
    def arn(self) -> str:
        """The ARN these parts make up.

        Returns:
            ``arn:<partition>:iam::<account id>:role<path><name>``.
        """
        return f"arn:{self.partition}:iam::{self.account_id}:role{self.path}{self.name}"

    def __str__(self) -> str:
        """Return the ARN itself, so a `RoleArn` formats like the string it came from."""
        return self.arn


def is_account_id(value: object) -> bool:
    """Tell whether a value is an account id as AWS writes it: a string of 12 digits.

    The one account-id rule: role ARNs (`parse_role_arn`), fan-out targets and
    organization filters all check against it. Unlike `get_role_arn`, it pads
    nothing: a number, or a string with its leading zeros lost, is not an id.

    Example:
        >>> is_account_id("012345678901"), is_account_id("12345678901"), is_account_id(12345678901)
        (True, False, False)
    """
    return isinstance(value, str) and _ACCOUNT_ID_PATTERN.fullmatch(value) is not None


def _shown(value: object) -> str:
    """A value for a one-line message: a string's or a number's repr cut to 64 characters.

    Anything else shows as its type alone.
    """
    if isinstance(value, (int, float)):
        return repr(value)[:64]
    if not isinstance(value, str):
        return type(value).__name__
    return repr(value[:64]) + ("..." if len(value) > 64 else "")


def _checked_partition(partition: object) -> str:
    if not isinstance(partition, str) or partition not in PARTITIONS:
        raise InvalidParameterError(f"partition must be {_PARTITION_RULE}; got {_shown(partition)}")
    return partition


def _checked_account_id(account_id: object) -> str:
    """Turn an account id into the string AWS uses, as aws-assume-role-lib does, and check it.

    Numbers become their integer digits; strings shorter than 12 characters are
    left-padded with zeros (account ids with leading zeros are often stored as
    numbers, which drops the zeros). What is then not 12 digits is refused, and
    so is an empty string (a missing value, not account 000000000000).
    """
    text: object = account_id
    if isinstance(account_id, bool):
        text = None  # a bool is a Number, but never an account id
    elif isinstance(account_id, numbers.Number):
        try:
            text = str(int(account_id))  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            text = None
    if isinstance(text, str) and 0 < len(text) < _ACCOUNT_ID_LENGTH:
        text = text.rjust(_ACCOUNT_ID_LENGTH, "0")
    if not isinstance(text, str) or not is_account_id(text):
        raise InvalidParameterError(
            "account_id must be 12 digits (a number, or digits that are zero-padded to 12); "
            f"got {_shown(account_id)}"
        )
    return text


def _checked_role_name(role_name: str) -> str:
    if not _ROLE_NAME_PATTERN.fullmatch(role_name):
        raise InvalidParameterError(
            f"role_name must end in a role name of 1-64 characters of {NAME_CHARACTER_CLASS}; "
            f"got {_shown(role_name)}"
        )
    return role_name


def get_role_arn(
    account_id: str | int,
    role_name: str,
    path: str = "",
    partition: str = "aws",
) -> str:
    """Build a correctly formatted IAM role ARN.

    The path can be given separately or as part of the role name, but not both.
    Same behaviour as aws-assume-role-lib's ``get_role_arn``: numeric and short
    account ids are zero-padded to 12 digits, and the path is normalised so that
    ``""``, ``"/"``, ``"team"``, ``"/team"`` and ``"team/"`` all work.

    Args:
        account_id: The account id, as a string or a number (numbers lose their
            leading zeros, which are restored).
        role_name: The role's name, optionally prefixed with its path
            (``"team/Deploy"``).
        path: The role's path, if not included in ``role_name``.
        partition: The AWS partition, ``"aws"`` unless in China, GovCloud, etc.

    Returns:
        The role ARN, e.g. ``arn:aws:iam::012345678901:role/team/Deploy``.

    Raises:
        InvalidParameterError: An argument that cannot make a well-formed
            role ARN, or a path given both in ``role_name`` and as ``path``;
            the message names the argument and the rule. It is a `ValueError`.

    Example:
        >>> get_role_arn(12345678901, "Deploy", path="/team/")
        'arn:aws:iam::012345678901:role/team/Deploy'
        >>> get_role_arn("123456789012", "team/Deploy")
        'arn:aws:iam::123456789012:role/team/Deploy'
        >>> get_role_arn("123456789012", "x", partition="aws:iam::999999999999:role/x")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: partition must be one of aws, ...
    """
    partition = _checked_partition(partition)
    account = _checked_account_id(account_id)
    if not isinstance(role_name, str):
        raise InvalidParameterError(f"role_name must be a string; got {_shown(role_name)}")
    if not isinstance(path, str):
        raise InvalidParameterError(f"path must be a string; got {_shown(path)}")

    if "/" in role_name and path:
        raise InvalidParameterError("Path cannot be given in both role_name and path")

    if "/" in role_name:
        path, role_name = role_name.rsplit("/", 1)

    if path == "/":
        path = ""
    if path.startswith("/"):
        path = path[1:]
    if path and not path.endswith("/"):
        path = path + "/"

    _checked_role_name(role_name)
    if not _ROLE_PATH_PATTERN.fullmatch(f"/{path}"):
        raise InvalidParameterError(
            "path (or role_name's part before its last '/') must be 1-510 printable ASCII "
            f"characters without spaces; got {_shown(path)}"
        )
    return f"arn:{partition}:iam::{account}:role/{path}{role_name}"


def get_assumed_role_session_arn(
    account_id: str | int,
    role_name: str,
    role_session_name: str,
    partition: str = "aws",
) -> str:
    """Build the ARN STS gives a session of an assumed role.

    Assumed-role session ARNs never contain the role's path, so a path given as
    part of ``role_name`` is dropped (as aws-assume-role-lib does). This is the
    ARN that ``sts:GetCallerIdentity`` returns and that resource policies and
    CloudTrail show for the session.

    Args:
        account_id: The account id, as a string or a number (zero-padded to 12
            digits like `get_role_arn`).
        role_name: The role's name, optionally prefixed with its path.
        role_session_name: The session name given to AssumeRole.
        partition: The AWS partition.

    Returns:
        ``arn:<partition>:sts::<account id>:assumed-role/<role name>/<session name>``.

    Raises:
        InvalidParameterError: An argument that cannot make a well-formed
            session ARN (as `get_role_arn`; a session name must be characters
            of `NAME_CHARACTER_CLASS`).

    Example:
        >>> get_assumed_role_session_arn("123456789012", "team/Deploy", "build-42")
        'arn:aws:sts::123456789012:assumed-role/Deploy/build-42'
    """
    partition = _checked_partition(partition)
    account = _checked_account_id(account_id)
    if not isinstance(role_name, str):
        raise InvalidParameterError(f"role_name must be a string; got {_shown(role_name)}")
    if "/" in role_name:
        role_name = role_name.rsplit("/", 1)[1]
    _checked_role_name(role_name)
    if not isinstance(role_session_name, str) or not _SESSION_NAME_PATTERN.fullmatch(
        role_session_name
    ):
        raise InvalidParameterError(
            f"role_session_name must be characters of {NAME_CHARACTER_CLASS}; "
            f"got {_shown(role_session_name)}"
        )
    return f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{role_session_name}"


def parse_role_arn(value: object, *, parameter: str = "RoleArn") -> RoleArn:
    """Check that a value is a well-formed IAM role ARN and split it into parts.

    Catching a malformed ARN here, before any request, turns an opaque failure
    at first use of a session into an immediate error that says what is wrong.

    Args:
        value: The value to check.
        parameter: The name to use for the value in error messages.

    Returns:
        The ARN's partition, account id, path and name.

    Raises:
        TypeError: If ``value`` is not a string.
        InvalidParameterError: If ``value`` is not a role ARN; the message
            names ``parameter``, states `ROLE_ARN_RULE` (or the known
            partitions, when only the partition is wrong) and shows the value.
            It is a `ValueError`.

    Example:
        >>> parse_role_arn("arn:aws-cn:iam::123456789012:role/Deploy").partition
        'aws-cn'
        >>> parse_role_arn("arn:aws:iam::123456789012:role/ops/Deploy").path
        '/ops/'

        ``parse_role_arn("arn:aws:iam::123:role/X")`` raises ``ValueError: RoleArn
        must look like arn:<partition>:iam::<12-digit account id>:role/[<path>/]<name>;
        got 'arn:aws:iam::123:role/X'``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be a string; got {type(value).__name__}")
    match = _ROLE_ARN_PATTERN.fullmatch(value)
    if match is None:
        loose = _ANY_PARTITION_ROLE_ARN_PATTERN.fullmatch(value)
        if loose is not None:
            raise InvalidParameterError(
                f"{parameter}'s partition must be {_PARTITION_RULE}; got {loose['partition']!r}"
            )
        raise InvalidParameterError(f"{parameter} must look like {ROLE_ARN_RULE}; got {value!r}")
    return RoleArn(
        partition=match["partition"],
        account_id=match["account_id"],
        path=match["path"],
        name=match["name"],
    )


def is_assumed_role_arn(arn: str) -> bool:
    """Tell whether an ARN is an STS assumed-role session ARN.

    Credentials whose identity is an assumed role are themselves role
    credentials, so assuming another role from them is role chaining, which STS
    limits to one-hour sessions.

    Args:
        arn: The ARN to test, typically from ``sts:GetCallerIdentity``.

    Returns:
        True if ``arn`` looks like
        ``arn:<partition>:sts::<12 digits>:assumed-role/<role>/<session>``,
        False otherwise (including for non-string values).

    Example:
        >>> is_assumed_role_arn("arn:aws:sts::123456789012:assumed-role/Deploy/build-42")
        True
        >>> is_assumed_role_arn("arn:aws:iam::123456789012:user/alice")
        False
    """
    if not isinstance(arn, str):
        return False  # type: ignore[unreachable]
    return _ASSUMED_ROLE_ARN_PATTERN.fullmatch(arn) is not None
