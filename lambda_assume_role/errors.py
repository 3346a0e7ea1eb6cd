"""Exceptions raised when a role cannot be assumed.

Both name the role, so that a failure deep inside a request signer still tells
the reader which of many tenant roles broke. Neither ever carries credentials.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError, CredentialRetrievalError, ParamValidationError

from lambda_assume_role.redact import redact_text

__all__ = [
    "INVALID_RESPONSE",
    "AssumeRoleConnectionError",
    "AssumeRoleError",
    "AssumeRoleNotAttemptedError",
    "AssumeRoleTimeoutError",
    "InvalidParameterError",
    "RefreshInFlight",
    "copy_of",
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

    The message also names the session and, when one was asked for, the
    ``SourceIdentity``: with one role shared by many tenants (`TenantRole`),
    they are what says whose call failed. ``PackedPolicyTooLarge`` adds how
    far over STS's packed-size budget the session policy and tags went, as STS
    reported it.

    STS's message (or a proxy's, which may echo the request) goes through
    `lambda_assume_role.redact.redact_text`, with the caller's ``known``
    secrets: no access key id, secret, session token, ``Authorization`` or
    ``Credential=`` value reaches the message, the ``response`` attribute, a
    traceback or a trace. Only the error's ``Code``, ``Message`` and ``Type``
    and the response metadata's request id, status and attempts are kept.

    Attributes:
        role_arn: The role that could not be assumed.
        error_code: The STS error code, e.g. ``"AccessDenied"``.
        role_session_name: The session name of the failed call, if known.
        source_identity: The ``SourceIdentity`` of the failed call, if any.

    Example:
        >>> error = AssumeRoleError.from_code(
        ...     "arn:aws:iam::123456789012:role/R", "AccessDenied", "not allowed")
        >>> str(error)
        'AssumeRole for arn:aws:iam::123456789012:role/R failed with AccessDenied: not allowed'
        >>> error = AssumeRoleError.from_code(
        ...     "arn:aws:iam::123456789012:role/R", "PackedPolicyTooLarge",
        ...     "Packed policy consumes 112% of allotted space",
        ...     role_session_name="acme.fn", source_identity="acme")
        >>> print(error)  # doctest: +NORMALIZE_WHITESPACE
        AssumeRole for arn:aws:iam::123456789012:role/R (session acme.fn, source identity acme)
        failed with PackedPolicyTooLarge: Packed policy consumes 112% of allotted space
        (the session policy and session tags use 112% of STS's packed-size limit)
    """

    def __init__(
        self,
        role_arn: str,
        error: ClientError,
        *,
        role_session_name: str | None = None,
        source_identity: str | None = None,
        known: Iterable[str] = (),
    ) -> None:
        response = _clean_response(error.response, tuple(known))
        self.role_arn = role_arn
        self.error_code: str = str(response["Error"].get("Code", "Unknown"))
        self.role_session_name = role_session_name
        self.source_identity = source_identity
        super().__init__(response, error.operation_name)  # type: ignore[arg-type]

    @classmethod
    def from_code(
        cls,
        role_arn: str,
        code: str,
        message: str,
        *,
        role_session_name: str | None = None,
        source_identity: str | None = None,
    ) -> AssumeRoleError:
        """An error with an STS-style code and message, for failures with no error response."""
        response: Any = {"Error": {"Code": code, "Message": message}}
        return cls(
            role_arn,
            ClientError(response, "AssumeRole"),
            role_session_name=role_session_name,
            source_identity=source_identity,
        )

    def __str__(self) -> str:
        message = self.response.get("Error", {}).get("Message", "")
        who = ", ".join(
            f"{label} {value}"
            for label, value in (
                ("session", self.role_session_name),
                ("source identity", self.source_identity),
            )
            if value
        )
        subject = f"{self.role_arn} ({who})" if who else self.role_arn
        text = f"AssumeRole for {subject} failed with {self.error_code}: {message}".rstrip(": ")
        if self.error_code.startswith("PackedPolicyTooLarge"):
            used = _PERCENTAGE.search(str(message))
            if used:
                text += (
                    f" (the session policy and session tags use {used.group(1)}% of STS's "
                    "packed-size limit)"
                )
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_assume_role_error,
            (
                self.role_arn,
                self.response,
                self.operation_name,
                self.role_session_name,
                self.source_identity,
            ),
        )


_PERCENTAGE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_ERROR_FIELDS = ("Code", "Message", "Type")
_METADATA_FIELDS = ("RequestId", "HTTPStatusCode", "RetryAttempts")


def _clean_response(response: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """An error answer cut down to what a reader needs, every text redacted.

    Anything else a service (or a proxy in front of it) put in its answer,
    headers included, is dropped: it may echo the signed request.
    """
    error = response.get("Error")
    error = error if isinstance(error, Mapping) else {}
    cleaned: dict[str, Any] = {
        "Error": {
            name: redact_text(str(error[name]), known) for name in _ERROR_FIELDS if name in error
        }
    }
    metadata = response.get("ResponseMetadata")
    if isinstance(metadata, Mapping):
        cleaned["ResponseMetadata"] = {
            name: metadata[name]
            if isinstance(metadata[name], int)
            else redact_text(str(metadata[name]), known)
            for name in _METADATA_FIELDS
            if name in metadata
        }
    return cleaned


INVALID_RESPONSE = "InvalidAssumeRoleResponse"
"""The `AssumeRoleError.error_code` of an answer that could not be used."""


def _rebuild_assume_role_error(
    role_arn: str,
    response: dict[str, Any],
    operation_name: str,
    role_session_name: str | None = None,
    source_identity: str | None = None,
) -> AssumeRoleError:
    return AssumeRoleError(
        role_arn,
        ClientError(response, operation_name),  # type: ignore[arg-type]
        role_session_name=role_session_name,
        source_identity=source_identity,
    )


class AssumeRoleConnectionError(CredentialRetrievalError):
    """STS could not be reached in time (connection refused, dropped, timed out).

    Attributes:
        role_arn: The role that could not be assumed.
    """

    def __init__(self, role_arn: str, error: Exception | str, known: Iterable[str] = ()) -> None:
        self.role_arn = role_arn
        reason = error if isinstance(error, str) else f"could not reach STS: {error}"
        self.reason = redact_text(reason, known)
        reason = self.reason
        super().__init__(provider="assume-role", error_msg=f"AssumeRole for {role_arn} {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.role_arn, self.reason))


class AssumeRoleTimeoutError(AssumeRoleConnectionError):
    """AssumeRole could not finish before the Lambda invocation's deadline (less a margin).

    Raised instead of letting Lambda kill the invocation while it waits on STS.
    """


class AssumeRoleNotAttemptedError(AssumeRoleTimeoutError):
    """The caller's deadline left no room for an STS call, so none was made.

    An `AssumeRoleTimeoutError` like any other to user code; the refresh
    engine tells it apart because it says nothing about STS: it starts no
    backoff and is never handed to other callers.
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


class RefreshInFlight(Exception):  # noqa: N818 (a signal between the fetcher and refresh, not an error)
    """Another process is refreshing these credentials (the environment's credential store).

    Raised by an advisory fetch only, and caught by the credentials object,
    which keeps its current keys and looks again shortly; it never reaches
    user code.
    """

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn
        super().__init__(f"another process is refreshing {role_arn}")


def copy_of(error: Exception) -> Exception:
    """A fresh copy of a failure shared by many callers, so threads never share a traceback.

    Example:
        >>> first = AssumeRoleTimeoutError("arn:aws:iam::123456789012:role/R", "timed out")
        >>> second = copy_of(first)
        >>> second is not first, str(second) == str(first), second.__traceback__
        (True, True, None)
    """
    try:
        return copy.copy(error).with_traceback(None)
    except Exception:  # an exception that cannot be copied is raised as it is
        return error
