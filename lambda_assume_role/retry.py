"""One retry policy: which failures to try again, how long to wait, how to say what failed.

* `THROTTLING_CODES` and `RETRYABLE_CODES`: the AWS error codes that mean
  "throttled" (botocore's own list) and "try again" (throttling, or the
  service's own fault).
* `Backoff`: exponential backoff with jitter, the one formula behind the
  advisory-refresh retries (`RefreshWindows.backoff`) and fan-out's AssumeRole
  retries.
* `error_code` and `describe_error`: what failed, in words that never hold a
  key, secret or token, for logs, the CLI and traces.

Only the standard library and `lambda_assume_role.redact` are imported here;
botocore is looked at only when an error is described.

Example:
    >>> import random
    >>> backoff = Backoff(initial=1, maximum=8, jitter=0.5)
    >>> [round(backoff.ceiling(n)) for n in range(1, 6)]
    [1, 2, 4, 8, 8]
    >>> 2 <= backoff.delay(3, random.Random(7)) <= 4
    True
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from lambda_assume_role.redact import redact_text

__all__ = [
    "RETRYABLE_CODES",
    "THROTTLING_CODES",
    "Backoff",
    "describe_error",
    "error_code",
    "is_retryable",
]

THROTTLING_CODES = frozenset(
    {
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "LimitExceededException",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "TransactionInProgressException",
    }
)
"""Error codes that mean "throttled": botocore's own list (its standard retry mode's).

tests/unit/core/test_retry.py keeps it in step with the installed botocore.
"""

RETRYABLE_CODES = THROTTLING_CODES | frozenset(
    {"InternalFailure", "InternalError", "ServiceUnavailable"}
)
"""Error codes worth another attempt: throttling, and the service's own faults."""

_MESSAGE_LIMIT = 300


class Backoff(NamedTuple):
    """Exponential backoff with jitter: ``initial * 2**(failures-1)``, capped, then jittered.

    Attributes:
        initial: Seconds to wait after the first failure (before jitter).
        maximum: The cap on the un-jittered wait.
        jitter: The fraction of the wait that is random: 0 waits exactly the
            ceiling, 0.5 waits between half and all of it ("equal jitter"),
            1 anywhere from 0 to all of it ("full jitter").

    A NamedTuple (cheap to create at import, unlike a dataclass); its values
    come from code or from `RefreshWindows`, which checks its own.

    Example:
        >>> Backoff(initial=0.2, maximum=5, jitter=1).delay(1, random.Random(1)) <= 0.2
        True
    """

    initial: float
    maximum: float
    jitter: float = 0.5

    def ceiling(self, failures: int) -> float:
        """The un-jittered wait after ``failures`` consecutive failures (1 or more)."""
        return float(min(self.maximum, self.initial * 2.0 ** max(failures - 1, 0)))

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after ``failures`` consecutive failures, drawn with ``rng``."""
        return self.ceiling(failures) * ((1.0 - self.jitter) + self.jitter * rng.random())


def error_code(error: BaseException) -> str | None:
    """The AWS error code an exception carries (``Throttling``, ``AccessDenied``...), or None.

    Example:
        >>> from botocore.exceptions import ClientError
        >>> error_code(ClientError({"Error": {"Code": "Throttling"}}, "AssumeRole"))
        'Throttling'
        >>> error_code(KeyError("x")) is None
        True
    """
    code = getattr(error, "error_code", None)
    if isinstance(code, str):
        return code
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error")
        if isinstance(details, Mapping) and isinstance(details.get("Code"), str):
            return str(details["Code"])
    return None


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` carries a code in `RETRYABLE_CODES`."""
    return error_code(error) in RETRYABLE_CODES


def describe_error(error: BaseException, *, quote: bool = True, known: Iterable[str] = ()) -> str:
    """``Type (Code): message``, with no key, secret or token in it.

    The message is scrubbed (`redact_text`, plus any ``known`` secret values)
    and cut to 300 characters. It is withheld when the error may quote a raw
    response body (botocore's `ResponseParserError` quotes the answer, new keys
    included), and when ``quote`` is False (for errors from user code that may
    echo a value, such as a dict-like cache's).

    Example:
        >>> describe_error(ValueError("SessionToken=FQoGZXIvYXdzEXAMPLE"))
        'ValueError: SessionToken=***'
        >>> describe_error(RuntimeError("boom"), quote=False)
        'RuntimeError'
    """
    name = type(error).__name__
    code = error_code(error)
    if code and code != name:
        name = f"{name} ({code})"
    if not quote:
        return name
    if _may_quote_a_response(error):
        return f"{name} (message withheld: it may quote the response body)"
    message = redact_text(str(error), known)[:_MESSAGE_LIMIT]
    return f"{name}: {message}" if message else name


def _may_quote_a_response(error: BaseException) -> bool:
    try:
        from botocore.parsers import ResponseParserError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(error, ResponseParserError)
