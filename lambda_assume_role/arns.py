"""Build and check IAM role ARNs and STS assumed-role session ARNs.

`get_role_arn` and `get_assumed_role_session_arn` behave exactly like their
aws-assume-role-lib 2.10 namesakes (the same padding of account ids, the same
path handling and the same error), so code that switches libraries produces the
same strings.

`parse_role_arn` goes further: it checks a role ARN against IAM's rules before
any network call, so a typo fails at once with a message that names the
parameter, states the rule and shows the offending value, instead of failing
later inside STS with a less helpful error.

Only the standard library is imported, so importing this module is cheap.
"""

from __future__ import annotations

import numbers
import re
from typing import NamedTuple

__all__ = [
    "NAME_CHARACTER_CLASS",
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

# Partitions: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-eusc ...
_PARTITION = r"aws[a-z-]*"
# IAM role path: "/" or "/<printable ASCII, slashes allowed>/", 1-512 characters.
_ROLE_PATH = r"/(?:[\x21-\x7e]{1,510}/)?"
NAME_CHARACTER_CLASS = r"[\w+=,.@-]"
"""IAM's one character class for role names and STS session names (ASCII ``\\w``)."""

# IAM role name: 1-64 characters of the class.
_ROLE_NAME = rf"{NAME_CHARACTER_CLASS}{{1,64}}"

_ROLE_ARN_PATTERN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account_id>{_ACCOUNT_ID}):"
    rf"role(?P<path>{_ROLE_PATH})(?P<name>{_ROLE_NAME})",
    re.ASCII,
)

_ASSUMED_ROLE_ARN_PATTERN = re.compile(
    rf"arn:{_PARTITION}:sts::{_ACCOUNT_ID}:assumed-role/{_ROLE_NAME}/{NAME_CHARACTER_CLASS}+",
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


def _normalize_account_id(account_id: str | int) -> str:
    """Turn an account id into the string AWS uses, as aws-assume-role-lib does.

    Numbers become their integer digits; strings shorter than 12 characters are
    left-padded with zeros (account ids with leading zeros are often stored as
    numbers, which drops the zeros). Longer strings are kept as they are.
    """
    if isinstance(account_id, numbers.Number):
        account_id = str(int(account_id))
    if isinstance(account_id, str) and len(account_id) < _ACCOUNT_ID_LENGTH:
        account_id = account_id.rjust(_ACCOUNT_ID_LENGTH, "0")
    return str(account_id)


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
        ValueError: If both ``role_name`` contains a path and ``path`` is given.

    Example:
        >>> get_role_arn(12345678901, "Deploy", path="/team/")
        'arn:aws:iam::012345678901:role/team/Deploy'
        >>> get_role_arn("123456789012", "team/Deploy")
        'arn:aws:iam::123456789012:role/team/Deploy'
    """
    account = _normalize_account_id(account_id)

    if "/" in role_name and path:
        raise ValueError("Path cannot be given in both role_name and path")

    if "/" in role_name:
        path, role_name = role_name.rsplit("/", 1)

    if path == "/":
        path = ""
    if path.startswith("/"):
        path = path[1:]
    if path and not path.endswith("/"):
        path = path + "/"

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

    Example:
        >>> get_assumed_role_session_arn("123456789012", "team/Deploy", "build-42")
        'arn:aws:sts::123456789012:assumed-role/Deploy/build-42'
    """
    account = _normalize_account_id(account_id)

    if "/" in role_name:
        role_name = role_name.rsplit("/", 1)[1]

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
        ValueError: If ``value`` is not a role ARN; the message names
            ``parameter``, states `ROLE_ARN_RULE` and shows the value.

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
        raise ValueError(f"{parameter} must look like {ROLE_ARN_RULE}; got {value!r}")
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
