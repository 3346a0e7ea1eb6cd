"""AssumeRole parameters: normalised, validated and keyed in one place.

`assume_role`, the session registry and the CLI all go through
`prepare_parameters`, so a Policy given as a dict and the same Policy given as
JSON text are one key everywhere, and every bad value is rejected with the same
message before any network call.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from lambda_assume_role.arns import parse_role_arn
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.naming import ROLE_SESSION_NAME_PATTERN, ROLE_SESSION_NAME_RULE

__all__ = [
    "ASSUME_ROLE_KEYWORDS",
    "ASSUME_ROLE_PARAMETERS",
    "AUTOMATIC_ROLE_SESSION_NAME",
    "MAX_CHAINED_DURATION_SECONDS",
    "AssumeRoleParameters",
    "InvalidParameterError",
    "Parameter",
    "check_region_name",
    "mfa_prompt",
    "policy_text",
    "prepare_parameters",
    "request_key",
]

AUTOMATIC_ROLE_SESSION_NAME = "AUTOMATIC_ROLE_SESSION_NAME_!#$%^&*()"
"""Pass as ``RoleSessionName`` to ask for a generated name (it is deliberately invalid)."""

MAX_CHAINED_DURATION_SECONDS = 3600


class AssumeRoleParameters(NamedTuple):
    """A normalised AssumeRole request.

    Attributes:
        role_arn: The role to assume.
        request: The other AssumeRole arguments, normalised (Policy as JSON
            text, DurationSeconds as int, PolicyArns as ``{"arn": ...}``
            dicts). ``RoleSessionName`` is absent when the name is generated.
        key: Canonical text of the whole request; equal keys mean equal
            requests, whatever form the caller used.
    """

    role_arn: str
    request: Mapping[str, Any]
    key: str

    @property
    def role_session_name(self) -> str | None:
        """The explicit session name, or None when it is generated."""
        name = self.request.get("RoleSessionName")
        return name if isinstance(name, str) else None

    @property
    def duration_seconds(self) -> int | None:
        """The requested lifetime in seconds, or None for STS's default (3600)."""
        value = self.request.get("DurationSeconds")
        return value if isinstance(value, int) else None

    def cache_key(self, principal: str) -> str:
        """The key of this request's entry in a credential cache, for one parent principal.

        SHA-1 of the exact request (`key`) and the principal that signs the
        AssumeRole call (the parent's access key id). botocore's own key
        covers the request alone, with Policy parsed: a cache shared by two
        principals then hands one the keys the other fetched, and two
        different Policy texts can share an entry. Neither happens here.

        Example:
            >>> p = prepare_parameters("arn:aws:iam::123456789012:role/Reader")
            >>> p.cache_key("AKIAA") == p.cache_key("AKIAB")
            False
        """
        text = f"{self.key}\n{principal}"
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def __repr__(self) -> str:
        name = self.role_session_name or "<generated>"
        return f"AssumeRoleParameters(role_arn={self.role_arn!r}, role_session_name={name!r})"


class Parameter(NamedTuple):
    """One keyword `assume_role` takes besides ``session`` and ``RoleArn``.

    The tables below are the one place these keywords are listed: the
    normalisers, the CLI's options and the registry all derive from them, and
    a test checks that `assume_role`'s signature agrees.

    Attributes:
        name: The keyword, spelled as boto3 and aws-assume-role-lib spell it.
        help: One line for ``--help`` and the docs.
        cli: How the CLI parses its text: ``"text"``, ``"int"``, ``"object"``
            (a JSON object), ``"list"`` (JSON, or ``A,B``) or ``"pairs"``
            (JSON, or ``K1=V1,K2=V2``).
        normalise: Turns a convenient form into the one STS receives (None:
            passed as given). Wrong types are passed through unchanged, for the
            contract check to report with the parameter's name.

    A NamedTuple, not a dataclass: the tables are built at import, and a
    dataclass costs about half a millisecond to create.
    """

    name: str
    help: str
    cli: str = "text"
    normalise: Callable[[Any], Any] | None = None


def _normalise_policy_arns(value: Any) -> Any:
    # A bare string stays a string: STS's model wants a list, and
    # aws-assume-role-lib raised ParamValidationError for it.
    if isinstance(value, (list, tuple)):
        return [{"arn": item} if isinstance(item, str) else _plain(item) for item in value]
    return value


def policy_text(policy: Mapping[str, Any]) -> str:
    """The text STS receives for a session policy given as a dict: compact JSON.

    The one spelling of it, so a Policy dict and the same Policy rendered by
    `TenantRole` are one key everywhere.

    Raises:
        InvalidParameterError: The policy cannot be JSON (NaN, a set, a cycle...).

    Example:
        >>> policy_text({"Version": "2012-10-17", "Statement": []})
        '{"Version":"2012-10-17","Statement":[]}'
    """
    try:
        return json.dumps(policy, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidParameterError(
            f"Policy must be JSON-serialisable: {type(error).__name__}"
        ) from None


def _normalise_policy(value: Any) -> Any:
    return policy_text(value) if isinstance(value, Mapping) else value


def _normalise_duration(value: Any) -> Any:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return value


def _normalise_tags(value: Any) -> Any:
    if isinstance(value, Mapping):
        return [{"Key": k, "Value": v} for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [_plain(tag) for tag in value]
    return value


def _normalise_list(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _plain(item: Any) -> Any:
    return dict(item) if isinstance(item, Mapping) else item


ASSUME_ROLE_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("RoleSessionName", "the session name (default: generated)"),
    Parameter(
        "PolicyArns",
        "managed session policies: ARNs or {'arn': ...}",
        "list",
        _normalise_policy_arns,
    ),
    Parameter(
        "Policy", "an inline session policy: a dict or JSON text", "object", _normalise_policy
    ),
    Parameter(
        "DurationSeconds", "credential lifetime: seconds or a timedelta", "int", _normalise_duration
    ),
    Parameter(
        "Tags", "session tags: [{'Key':..., 'Value':...}] or a dict", "pairs", _normalise_tags
    ),
    Parameter(
        "TransitiveTagKeys", "tag keys that persist through role chaining", "list", _normalise_list
    ),
    Parameter("ExternalId", "the external id the role's trust policy requires"),
    Parameter("SerialNumber", "the MFA device; without TokenCode, the code is prompted for"),
    Parameter("TokenCode", "the MFA code"),
    Parameter("SourceIdentity", "the source identity (also the default session name)"),
    Parameter("additional_kwargs", "further AssumeRole arguments, passed through", "object"),
)
"""The AssumeRole keywords of `assume_role`, in its signature's order."""

ASSUME_ROLE_KEYWORDS = tuple(parameter.name for parameter in ASSUME_ROLE_PARAMETERS)
"""The AssumeRole keywords `assume_role` takes besides ``RoleArn`` (its own spelling)."""

_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    p.name: p.normalise for p in ASSUME_ROLE_PARAMETERS if p.normalise is not None
}


# botocore.utils.validate_region_name's rule.
_REGION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")


def check_region_name(name: str, value: object) -> None:
    """Raise `InvalidParameterError` naming ``name`` unless ``value`` is a region name.

    The one region rule of the package (botocore's own, `validate_region_name`):
    session and client regions, fan-out targets and their region lists use it.

    Example:
        >>> check_region_name("client_region", "eu-west-1")
        >>> check_region_name("client_region", "eu west")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: client_region must be ...; got 'eu west'
    """
    if not isinstance(value, str) or not _REGION_NAME.fullmatch(value):
        shown = repr(value) if isinstance(value, str) else type(value).__name__
        raise InvalidParameterError(f"{name} must be a region name like 'us-east-1'; got {shown}")


def prepare_parameters(
    RoleArn: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    validate: bool = True,
    chained: bool = False,
) -> AssumeRoleParameters:
    """Normalise, validate and key AssumeRole arguments.

    Args:
        RoleArn: The role to assume.
        arguments: `assume_role`'s AssumeRole keywords (`ASSUME_ROLE_KEYWORDS`),
            as the caller gave them; None values count as not given. Their
            normal forms: a ``Policy`` dict becomes compact JSON,
            ``DurationSeconds`` may be a `datetime.timedelta`, ``PolicyArns``
            may be plain ARN strings, ``Tags`` may be a ``{key: value}`` dict,
            ``SourceIdentity`` is the session name when none is given, and
            `AUTOMATIC_ROLE_SESSION_NAME` means "generate one later".
        validate: Check every rule below and STS's request model.
        chained: The caller holds role credentials, so STS caps the session
            at one hour (role chaining).

    Returns:
        The normalised parameters.

    Raises:
        TypeError: An argument name `assume_role` does not take.
        InvalidParameterError: A value breaks a rule of STS's AssumeRole
            contract (a type, a length, a pattern, a documented limit, the
            documented rules across members: unique tag keys compared
            case-insensitively, no ``aws:`` tag key, ``TransitiveTagKeys``
            among the tags' keys, a ``Policy`` that is a JSON object) or of
            ours; the message names the parameter, the rule and the value
            (never a secret one; the rules across members name positions, not
            keys or text). It is a `ValueError` and botocore's
            `ParamValidationError` (what aws-assume-role-lib raised).

    Example:
        >>> p = prepare_parameters("arn:aws:iam::123456789012:role/Reader",
        ...                        {"Policy": {"Version": "2012-10-17", "Statement": []}})
        >>> p.request["Policy"]
        '{"Version":"2012-10-17","Statement":[]}'
    """
    given = {name: value for name, value in (arguments or {}).items() if value is not None}
    unknown = sorted(set(given) - set(ASSUME_ROLE_KEYWORDS))
    if unknown:
        raise TypeError(f"unexpected AssumeRole keyword argument(s): {', '.join(unknown)}")

    extra = given.pop("additional_kwargs", None) or {}
    if not isinstance(extra, Mapping):
        raise InvalidParameterError(
            "additional_kwargs must be a mapping of AssumeRole arguments; "
            f"got {type(extra).__name__}"
        )
    request: dict[str, Any] = dict(extra)
    request.pop("RoleArn", None)
    for key, value in given.items():
        normalise = _NORMALISERS.get(key)
        request[key] = normalise(value) if normalise is not None else value
    name = request.get("RoleSessionName")
    from_source_identity = False
    if name == AUTOMATIC_ROLE_SESSION_NAME or not name:
        request.pop("RoleSessionName", None)
        if name != AUTOMATIC_ROLE_SESSION_NAME and request.get("SourceIdentity"):
            request["RoleSessionName"] = request["SourceIdentity"]
            from_source_identity = True

    if validate:
        from lambda_assume_role.model import check_assume_role_request

        # The model first, on what the caller gave (a derived session name is
        # checked by our rules, whose message says where it came from).
        given_request = dict(request)
        if from_source_identity:
            del given_request["RoleSessionName"]
        _check_role_arn(RoleArn)  # our message says what an ARN looks like
        check_assume_role_request(RoleArn, given_request)
        _check_rules(request, chained=chained, from_source_identity=from_source_identity)

    return AssumeRoleParameters(
        role_arn=RoleArn, request=request, key=request_key(RoleArn, request)
    )


def request_key(role_arn: str, request: Mapping[str, Any]) -> str:
    """Canonical text of an AssumeRole request: equal only when STS would receive the same request.

    Values are keyed exactly as they are sent (a Policy is its text, not its
    parsed JSON, so ``'"not json"'`` and ``'not json'`` differ); objects JSON
    cannot encode (only with ``validate=False``) are keyed by type and repr.

    Example:
        >>> request_key("arn:aws:iam::123456789012:role/R", {"Policy": "not json"}) == \\
        ...     request_key("arn:aws:iam::123456789012:role/R", {"Policy": '"not json"'})
        False
    """
    return json.dumps(
        {"RoleArn": role_arn, **request},
        sort_keys=True,
        separators=(",", ":"),
        default=_key_of_object,
    )


def _key_of_object(value: object) -> str:
    return f"<{type(value).__module__}.{type(value).__qualname__}:{value!r}>"


def _check_role_arn(role_arn: Any) -> None:
    if isinstance(role_arn, str):
        try:
            parse_role_arn(role_arn)
        except ValueError as error:
            raise InvalidParameterError(str(error)) from None


def _check_rules(request: Mapping[str, Any], *, chained: bool, from_source_identity: bool) -> None:
    """Our rules, after the model's: a session name taken from SourceIdentity, and chaining.

    The model has already checked what the caller gave (an explicit session
    name, the DurationSeconds range); these are what it cannot know.
    """
    name = request.get("RoleSessionName")
    if (
        from_source_identity
        and isinstance(name, str)
        and not ROLE_SESSION_NAME_PATTERN.fullmatch(name)
    ):
        raise InvalidParameterError(
            "RoleSessionName is not given, so it defaults to SourceIdentity, which is not a "
            f"valid session name: it must be {ROLE_SESSION_NAME_RULE}; give RoleSessionName "
            f"explicitly; got SourceIdentity={name[:64]!r}"
        )

    duration = request.get("DurationSeconds")
    if chained and isinstance(duration, int) and duration > MAX_CHAINED_DURATION_SECONDS:
        raise InvalidParameterError(
            f"DurationSeconds must be at most {MAX_CHAINED_DURATION_SECONDS} when the "
            "parent session holds role credentials (role chaining: STS caps chained "
            f"sessions at one hour); got {duration}"
        )


def mfa_prompt(request: Mapping[str, Any]) -> str | None:
    """What to ask when a request names an MFA device without a code; None when nothing is asked.

    botocore's rule: ``SerialNumber`` without ``TokenCode`` means "prompt for
    the code". `assume_role` (at its first fetch) and the CLI both follow it.

    Example:
        >>> mfa_prompt({"SerialNumber": "arn:aws:iam::123456789012:mfa/me"})
        'Enter MFA code for arn:aws:iam::123456789012:mfa/me: '
        >>> mfa_prompt({"SerialNumber": "arn:aws:iam::123456789012:mfa/me", "TokenCode": "1"})
    """
    if "SerialNumber" in request and "TokenCode" not in request:
        return f"Enter MFA code for {request['SerialNumber']}: "
    return None
