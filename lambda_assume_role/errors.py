"""Exceptions raised when a role cannot be assumed.

Both name the role, so that a failure deep inside a request signer still tells
the reader which of many tenant roles broke. Neither ever carries credentials.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, CredentialRetrievalError, ParamValidationError

__all__ = [
    "INVALID_RESPONSE",
    "AssumeRoleConnectionError",
    "AssumeRoleError",
    "AssumeRoleTimeoutError",
    "InvalidParameterError",
]


class AssumeRoleError(ClientError):
    """STS refused an AssumeRole call (AccessDenied, Throttling, ...) or answered nonsense.

    It is a `botocore.exceptions.ClientError`, so code written for
    aws-assume-role-lib that inspects ``error.response["Error"]["Code"]`` keeps
    working; the message adds the role ARN. A 200 answer that cannot be used
    (cut short, missing a field, already expired) has the code
    ``"InvalidAssumeRoleResponse"`` and says what was wrong, never what was in
    it: the raw answer holds the new secret key and session token, so it is
    never kept, chained or quoted.

    Attributes:
        role_arn: The role that could not be assumed.
        error_code: The STS error code, e.g. ``"AccessDenied"``.

    Example:
        >>> error = AssumeRoleError.from_code(
        ...     "arn:aws:iam::123456789012:role/R", "AccessDenied", "not allowed")
        >>> str(error)
        'AssumeRole for arn:aws:iam::123456789012:role/R failed with AccessDenied: not allowed'
    """

    def __init__(self, role_arn: str, error: ClientError) -> None:
        self.role_arn = role_arn
        self.error_code: str = str(error.response.get("Error", {}).get("Code", "Unknown"))
        super().__init__(error.response, error.operation_name)

    @classmethod
    def from_code(cls, role_arn: str, code: str, message: str) -> AssumeRoleError:
        """An error with an STS-style code and message, for failures with no error response."""
        response: Any = {"Error": {"Code": code, "Message": message}}
        return cls(role_arn, ClientError(response, "AssumeRole"))

    def __str__(self) -> str:
        message = self.response.get("Error", {}).get("Message", "")
        return f"AssumeRole for {self.role_arn} failed with {self.error_code}: {message}".rstrip(
            ": "
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_assume_role_error, (self.role_arn, self.response, self.operation_name))


INVALID_RESPONSE = "InvalidAssumeRoleResponse"
"""The `AssumeRoleError.error_code` of an answer that could not be used."""


def _rebuild_assume_role_error(
    role_arn: str, response: dict[str, Any], operation_name: str
) -> AssumeRoleError:
    return AssumeRoleError(role_arn, ClientError(response, operation_name))  # type: ignore[arg-type]


class AssumeRoleConnectionError(CredentialRetrievalError):
    """STS could not be reached in time (connection refused, dropped, timed out).

    Attributes:
        role_arn: The role that could not be assumed.
    """

    def __init__(self, role_arn: str, error: Exception | str) -> None:
        self.role_arn = role_arn
        reason = error if isinstance(error, str) else f"could not reach STS: {error}"
        self.reason = reason
        super().__init__(provider="assume-role", error_msg=f"AssumeRole for {role_arn} {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.role_arn, self.reason))


class AssumeRoleTimeoutError(AssumeRoleConnectionError):
    """AssumeRole could not finish before the Lambda invocation's deadline (less a margin).

    Raised instead of letting Lambda kill the invocation while it waits on STS.
    """


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

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kwargs["report"],))
