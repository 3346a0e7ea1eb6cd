"""The Lambda execution environment: are we in Lambda, how it runs, and who we are in it.

The one place that reads Lambda's environment variables. Every answer is read
when asked, never at import: under SnapStart the snapshot is taken before some
variables exist (the log stream name), and a value computed then would be shared
by every environment restored from it.

Only the standard library is imported here.

Example:
    >>> import os
    >>> saved = dict(os.environ)
    >>> os.environ.update(AWS_LAMBDA_FUNCTION_NAME="orders",
    ...                   AWS_LAMBDA_LOG_STREAM_NAME="2026/12/07/[$LATEST]5296ab40f30c")
    >>> in_lambda(), environment_id()
    (True, '5296ab40f30c')
    >>> os.environ.clear(); os.environ.update(saved)
"""

from __future__ import annotations

import os
import re

__all__ = [
    "FUNCTION_NAME",
    "FUNCTION_VERSION",
    "INITIALIZATION_TYPE",
    "LOG_STREAM_NAME",
    "MAX_CONCURRENCY",
    "environment_id",
    "function_name",
    "function_version",
    "in_lambda",
    "managed_instances",
    "max_concurrency",
    "on_execution_role",
    "snap_start",
    "worker_id",
]

FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
"""Set by every Lambda runtime: its presence is what "in Lambda" means here."""
FUNCTION_VERSION = "AWS_LAMBDA_FUNCTION_VERSION"
LOG_STREAM_NAME = "AWS_LAMBDA_LOG_STREAM_NAME"
"""``YYYY/MM/DD/[<version>]<environment id>``; absent under SnapStart."""
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
"""``on-demand``, ``provisioned-concurrency`` or ``snap-start``."""
MAX_CONCURRENCY = "AWS_LAMBDA_MAX_CONCURRENCY"
"""Lambda Managed Instances: how many invocations (worker processes, for Python) one
environment serves at once; awslambdaric forks that many workers when it is set."""
SESSION_TOKEN = "AWS_SESSION_TOKEN"  # noqa: S105 (a variable's name, not a secret)

# The execution environment id at the end of the log stream name. Unicode \w,
# as aws-assume-role-lib reads it.
_STREAM_ID = re.compile(r"\w+$")


def in_lambda() -> bool:
    """Whether this process runs in a Lambda execution environment.

    Example:
        >>> import os
        >>> saved = os.environ.pop(FUNCTION_NAME, None)
        >>> in_lambda()
        False
        >>> if saved is not None: os.environ[FUNCTION_NAME] = saved
    """
    return bool(os.environ.get(FUNCTION_NAME))


def on_execution_role() -> bool:
    """Whether the environment's credentials are a Lambda execution role's (role credentials)."""
    return in_lambda() and bool(os.environ.get(SESSION_TOKEN))


def snap_start() -> bool:
    """Whether this environment was initialised for a SnapStart snapshot."""
    return os.environ.get(INITIALIZATION_TYPE) == "snap-start"


def max_concurrency() -> int | None:
    """Invocations one environment serves at once (Lambda Managed Instances), or None.

    None when ``AWS_LAMBDA_MAX_CONCURRENCY`` is unset or not a positive integer.

    Example:
        >>> import os
        >>> os.environ[MAX_CONCURRENCY] = "16"
        >>> max_concurrency(), managed_instances()
        (16, True)
        >>> del os.environ[MAX_CONCURRENCY]
        >>> max_concurrency(), managed_instances()
        (None, False)
    """
    text = os.environ.get(MAX_CONCURRENCY, "").strip()
    if not text.isdigit() or int(text) < 1:
        return None
    return int(text)


def managed_instances() -> bool:
    """Whether this environment serves several invocations at once (Managed Instances)."""
    return max_concurrency() is not None


def function_name() -> str | None:
    """The function's name, or None outside Lambda."""
    return os.environ.get(FUNCTION_NAME) or None


def function_version() -> str | None:
    """The function's version (``$LATEST``, ``1``...), or None when unknown."""
    return os.environ.get(FUNCTION_VERSION) or None


def environment_id() -> str | None:
    """The execution environment's id: the last word of the log stream name, or None.

    None outside Lambda and under SnapStart (no log stream name there).
    """
    match = _STREAM_ID.search(os.environ.get(LOG_STREAM_NAME, ""))
    return match.group() if match else None


def worker_id() -> str:
    """This worker within the environment: its process id.

    Under Managed Instances the runtime client forks one worker process per
    concurrent invocation; each has its own module globals.
    """
    return str(os.getpid())
