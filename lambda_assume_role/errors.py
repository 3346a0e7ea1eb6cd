"""Exceptions raised when a role cannot be assumed.

Both name the role, so that a failure deep inside a request signer still tells
the reader which of many tenant roles broke. Neither ever carries credentials.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, CredentialRetrievalError

__all__ = ["AssumeRoleConnectionError", "AssumeRoleError"]


class AssumeRoleError(ClientError):
    """STS refused an AssumeRole call (AccessDenied, Throttling, ...).

    It is a `botocore.exceptions.ClientError`, so code written for
    aws-assume-role-lib that inspects ``error.response["Error"]["Code"]`` keeps
    working; the message adds the role ARN.

    Attributes:
        role_arn: The role that could not be assumed.
        error_code: The STS error code, e.g. ``"AccessDenied"``.
    """

    def __init__(self, role_arn: str, error: ClientError) -> None:
        self.role_arn = role_arn
        self.error_code: str = str(error.response.get("Error", {}).get("Code", "Unknown"))
        super().__init__(error.response, error.operation_name)

    def __str__(self) -> str:
        message = self.response.get("Error", {}).get("Message", "")
        return f"AssumeRole for {self.role_arn} failed with {self.error_code}: {message}".rstrip(
            ": "
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_assume_role_error, (self.role_arn, self.response, self.operation_name))


def _rebuild_assume_role_error(
    role_arn: str, response: dict[str, Any], operation_name: str
) -> AssumeRoleError:
    return AssumeRoleError(role_arn, ClientError(response, operation_name))  # type: ignore[arg-type]


class AssumeRoleConnectionError(CredentialRetrievalError):
    """STS could not be reached (connection refused, dropped, timed out).

    Attributes:
        role_arn: The role that could not be assumed.
    """

    def __init__(self, role_arn: str, error: Exception) -> None:
        self.role_arn = role_arn
        super().__init__(
            provider="assume-role",
            error_msg=f"AssumeRole for {role_arn} could not reach STS: {error}",
        )
