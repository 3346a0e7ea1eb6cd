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
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ParamValidationError

from lambda_assume_role.arns import parse_role_arn
from lambda_assume_role.naming import ROLE_SESSION_NAME_PATTERN, ROLE_SESSION_NAME_RULE

if TYPE_CHECKING:
    from botocore.model import Shape

__all__ = [
    "ASSUME_ROLE_KEYWORDS",
    "AUTOMATIC_ROLE_SESSION_NAME",
    "AssumeRoleParameters",
    "InvalidParameterError",
    "prepare_parameters",
]

AUTOMATIC_ROLE_SESSION_NAME = "AUTOMATIC_ROLE_SESSION_NAME_!#$%^&*()"
"""Pass as ``RoleSessionName`` to ask for a generated name (it is deliberately invalid)."""

MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
MAX_CHAINED_DURATION_SECONDS = 3600

SESSION_OPTIONS = ("region_name", "cache", "refresh_windows", "validate")
"""`assume_role` keywords that are not AssumeRole parameters."""

_shape_lock = threading.Lock()
_request_shape: Shape | None = None


class InvalidParameterError(ParamValidationError, ValueError):
    """A parameter breaks an AssumeRole rule; raised before any network call.

    It is both a `ValueError` and botocore's `ParamValidationError` (what
    aws-assume-role-lib raised for the same inputs), so either ``except`` works.
    Its message is the rule alone, one line, without botocore's
    "Parameter validation failed:" preamble.
    """

    fmt = "{report}"

    def __init__(self, report: str) -> None:
        super().__init__(report=report)


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

    def cache_key(self) -> str:
        """The key botocore's own AssumeRole fetcher would use for this request.

        SHA-1 of the sorted JSON arguments with Policy parsed, so a cache shared
        with botocore or the AWS CLI finds the same entries.
        """
        args = {"RoleArn": self.role_arn, **self.request}
        if "Policy" in args:
            args["Policy"] = _parse_policy(args["Policy"])
        digest = hashlib.sha1(json.dumps(args, sort_keys=True).encode(), usedforsecurity=False)
        return digest.hexdigest()

    def __repr__(self) -> str:
        name = self.role_session_name or "<generated>"
        return f"AssumeRoleParameters(role_arn={self.role_arn!r}, role_session_name={name!r})"


ASSUME_ROLE_KEYWORDS = (
    "RoleSessionName",
    "PolicyArns",
    "Policy",
    "DurationSeconds",
    "Tags",
    "TransitiveTagKeys",
    "ExternalId",
    "SerialNumber",
    "TokenCode",
    "SourceIdentity",
    "additional_kwargs",
)
"""The AssumeRole keywords `assume_role` takes besides ``RoleArn`` (its own spelling)."""


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
        InvalidParameterError: A value breaks a rule; the message names the
            parameter and the rule. Also a `ValueError`.
        botocore.exceptions.ParamValidationError: A value has the wrong type
            for STS's request model (as aws-assume-role-lib raised).

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

    request: dict[str, Any] = dict(given.pop("additional_kwargs", None) or {})
    request.pop("RoleArn", None)
    for key, value in given.items():
        request[key] = _NORMALISERS.get(key, _identity)(value)
    name = request.get("RoleSessionName")
    if name == AUTOMATIC_ROLE_SESSION_NAME or not name:
        request.pop("RoleSessionName", None)
        if name != AUTOMATIC_ROLE_SESSION_NAME and request.get("SourceIdentity"):
            request["RoleSessionName"] = request["SourceIdentity"]

    if validate:
        _check_rules(RoleArn, request, chained=chained)
        _check_model(RoleArn, request)

    keyed = {"RoleArn": RoleArn, **request}
    if "Policy" in keyed:
        keyed["Policy"] = _parse_policy(keyed["Policy"])
    key = json.dumps(keyed, sort_keys=True, separators=(",", ":"), default=str)
    return AssumeRoleParameters(role_arn=RoleArn, request=request, key=key)


def _identity(value: Any) -> Any:
    return value


def _normalise_policy_arns(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    return [{"arn": item} if isinstance(item, str) else dict(item) for item in value]


def _normalise_policy(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    return value  # wrong type: left for the model validator to report


def _normalise_duration(value: int | datetime.timedelta | None) -> Any:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return value


def _normalise_tags(value: Any) -> Any:
    if isinstance(value, Mapping):
        return [{"Key": k, "Value": v} for k, v in value.items()]
    if value is None or isinstance(value, str):
        return value
    return [dict(tag) if isinstance(tag, Mapping) else tag for tag in value]


def _normalise_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "PolicyArns": _normalise_policy_arns,
    "Policy": _normalise_policy,
    "DurationSeconds": _normalise_duration,
    "Tags": _normalise_tags,
    "TransitiveTagKeys": _normalise_list,
}


def _parse_policy(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _check_rules(role_arn: Any, request: Mapping[str, Any], *, chained: bool) -> None:
    if isinstance(role_arn, str):
        try:
            parse_role_arn(role_arn)
        except ValueError as error:
            raise InvalidParameterError(str(error)) from None

    name = request.get("RoleSessionName")
    if isinstance(name, str) and not ROLE_SESSION_NAME_PATTERN.fullmatch(name):
        raise InvalidParameterError(
            f"RoleSessionName must be {ROLE_SESSION_NAME_RULE}; got {name!r}"
        )

    duration = request.get("DurationSeconds")
    if isinstance(duration, int) and not isinstance(duration, bool):
        if not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
            raise InvalidParameterError(
                f"DurationSeconds must be between {MIN_DURATION_SECONDS} and "
                f"{MAX_DURATION_SECONDS} seconds; got {duration}"
            )
        if chained and duration > MAX_CHAINED_DURATION_SECONDS:
            raise InvalidParameterError(
                f"DurationSeconds must be at most {MAX_CHAINED_DURATION_SECONDS} when the "
                "parent session holds role credentials (role chaining: STS caps chained "
                f"sessions at one hour); got {duration}"
            )


def _check_model(role_arn: Any, request: Mapping[str, Any]) -> None:
    from botocore.validate import validate_parameters

    params = {"RoleArn": role_arn, **request}
    params.setdefault("RoleSessionName", "ToBeGenerated")
    validate_parameters(params, _assume_role_request_shape())


def _assume_role_request_shape() -> Shape:
    """STS's AssumeRole input shape, loaded once per process from the shared loader."""
    global _request_shape  # noqa: PLW0603
    with _shape_lock:
        if _request_shape is None:
            from botocore.model import ServiceModel

            from lambda_assume_role.shared import shared_loader

            model = ServiceModel(shared_loader(None).load_service_model("sts", "service-2"), "sts")
            shape = model.operation_model("AssumeRole").input_shape
            assert shape is not None
            _request_shape = shape
        return _request_shape


def split_session_options(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split `assume_role` keywords into AssumeRole parameters and session options."""
    request = {k: v for k, v in kwargs.items() if k not in SESSION_OPTIONS}
    options = {k: v for k, v in kwargs.items() if k in SESSION_OPTIONS}
    return request, options
