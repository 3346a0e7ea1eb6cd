r"""Role session names: the STS rule, a sanitiser, and Lambda's default name.

STS accepts a ``RoleSessionName`` of 2-64 characters of ``[\w+=,.@-]`` (ASCII
``\w``). The session name appears in the assumed-role ARN, in CloudTrail and in
resource-policy conditions, so a name that identifies *who* assumed the role is
worth having.

`generate_lambda_session_name` gives the same names as aws-assume-role-lib 2.10
for ordinary inputs, and unlike it always returns a name STS accepts, whatever
it is given.

Only the standard library is imported here, and the environment is read when a
function is called, never at import: under Lambda SnapStart the log stream name
is absent before the snapshot, and a name computed then would be shared by every
environment restored from it.
"""

from __future__ import annotations

import hashlib
import re
import string
import threading

from lambda_assume_role import environment
from lambda_assume_role.arns import NAME_CHARACTER_CLASS
from lambda_assume_role.refresh_policy import utc_now

__all__ = [
    "ROLE_SESSION_NAME_PATTERN",
    "ROLE_SESSION_NAME_RULE",
    "SESSION_NAME_CHARACTERS",
    "forget_lambda_session_name",
    "generate_lambda_session_name",
    "lambda_session_name",
    "sanitize_session_name",
    "tenant_session_name",
    "worker_session_name",
]

# The characters STS allows in a session name: IAM's one class, spelled in arns.

ROLE_SESSION_NAME_PATTERN = re.compile(rf"{NAME_CHARACTER_CLASS}{{2,64}}", re.ASCII)
"""What STS accepts as a ``RoleSessionName``; use with ``fullmatch``."""

ROLE_SESSION_NAME_RULE = f"2-64 characters of {NAME_CHARACTER_CLASS}"
"""`ROLE_SESSION_NAME_PATTERN` in words, for error messages."""

SESSION_NAME_CHARACTERS = re.compile(rf"{NAME_CHARACTER_CLASS}+", re.ASCII)
"""One or more characters a ``RoleSessionName`` may hold, any length; use with ``fullmatch``."""

_MIN_LENGTH = 2
_MAX_LENGTH = 64
# aws-assume-role-lib keeps at least 4 identifier characters: the name (and
# version) may use up to 59 of the 64, leaving "." plus 4.
_MAX_PREFIX_LENGTH = 59
# A timestamp identifier needs %Y%m%d%H%M%S (14 characters) for second precision.
_MIN_TIMESTAMP_LENGTH = 14

# The characters aws-assume-role-lib replaces (note: "+" is replaced too, although
# STS allows it, so that names stay identical to the ones it generates).
_INVALID_RUN = re.compile(r"[^a-zA-Z0-9_=,.@-]+")
_RANDOM_ALPHABET = string.ascii_lowercase + string.digits


def sanitize_session_name(value: str) -> str:
    """Turn any string into a valid role session name.

    Each run of characters outside ``[a-zA-Z0-9_=,.@-]`` becomes one ``_`` (as
    aws-assume-role-lib does), the result is cut to 64 characters and padded
    with ``_`` to at least 2, so it always matches `ROLE_SESSION_NAME_PATTERN`.

    Args:
        value: Any string, e.g. a function name or a user name.

    Returns:
        A string that STS accepts as a ``RoleSessionName``.

    Example:
        >>> sanitize_session_name("my function/v1")
        'my_function_v1'
        >>> sanitize_session_name("é")
        '__'
    """
    cleaned = _INVALID_RUN.sub("_", value)[:_MAX_LENGTH]
    return cleaned.ljust(_MIN_LENGTH, "_")


def _random_identifier(length: int) -> str:
    """A random string of lowercase letters and digits, from the OS's CSPRNG."""
    # Imported here: rarely needed, and it keeps importing this module cheap.
    import secrets

    return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(length))


def _default_identifier(max_length: int) -> str:
    """The identifier used when none is given, at most ``max_length`` characters.

    Inside Lambda this is the execution environment id from the log stream name,
    so each concurrent environment has its own session name. Without it, it is a
    UTC timestamp if at least 14 characters fit, else a random string; under
    SnapStart (where the log stream name is absent) it is always random, because
    many environments restored in the same second would share a timestamp.
    """
    environment_id = environment.environment_id()
    if environment_id:
        return environment_id[:max_length]
    if max_length >= _MIN_TIMESTAMP_LENGTH and not environment.snap_start():
        return utc_now().strftime("%Y%m%d%H%M%S%f")[:max_length]
    return _random_identifier(max_length)


def generate_lambda_session_name(
    function_name: str | None = None,
    function_version: str | None = None,
    identifier: str | None = None,
) -> str:
    """Generate a role session name that identifies a Lambda function.

    The name is one of ``{function_name}``, ``{function_name}.{identifier}`` or
    ``{function_name}.{function_version}.{identifier}``, as in
    aws-assume-role-lib 2.10, and is built by the same rules, in order:

    1. If the function name is longer than 59 characters, the name is the
       function name cut to 64 characters.
    2. If the function name plus ``.`` and the version is longer than 59
       characters, the version is left out and the identifier cut to fit.
    3. Otherwise the name has the version (unless there is none or it is
       ``$LATEST``) and the identifier, cut to fit in 64 characters.

    The identifier defaults to the execution environment id: the trailing word
    of ``AWS_LAMBDA_LOG_STREAM_NAME``, which looks like
    ``2020/01/31/[$LATEST]3893xmpl7fac4485b47bb75b671a283c``. Without a log
    stream name it is a UTC timestamp (``%Y%m%d%H%M%S%f``) if at least 14
    characters of it fit, otherwise a random string; under SnapStart
    (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``) it is always random, so
    environments restored from one snapshot get different names.

    Finally characters outside ``[a-zA-Z0-9_=,.@-]`` are replaced with ``_``.
    Unlike aws-assume-role-lib, the result is then guaranteed to match
    `ROLE_SESSION_NAME_PATTERN` whatever the inputs (see `sanitize_session_name`).

    The environment is read on every call, never at import, so that under
    SnapStart each restored environment computes its own name.

    Args:
        function_name: The function's name; defaults to ``AWS_LAMBDA_FUNCTION_NAME``.
        function_version: The function's version; defaults to
            ``AWS_LAMBDA_FUNCTION_VERSION``. ``$LATEST`` counts as no version.
        identifier: What distinguishes this session; defaults as described above.

    Returns:
        A valid role session name of at most 64 characters.

    Raises:
        ValueError: If ``function_name`` is not given and ``AWS_LAMBDA_FUNCTION_NAME``
            is unset or empty (aws-assume-role-lib raises ``KeyError``).

    Example:
        >>> generate_lambda_session_name("orders", "7", identifier="3893xmpl7fac")
        'orders.7.3893xmpl7fac'
        >>> generate_lambda_session_name("orders", "$LATEST", identifier="abc")
        'orders.abc'
    """
    if not function_name:
        function_name = environment.function_name() or ""
        if not function_name:
            raise ValueError(
                "function_name was not given and AWS_LAMBDA_FUNCTION_NAME is not set; "
                "pass function_name when not running in AWS Lambda"
            )
    name_component = str(function_name)

    if not function_version:
        function_version = environment.function_version() or ""
    if function_version and function_version != "$LATEST":
        version_component = "." + str(function_version)
    else:
        version_component = ""

    def _identifier(max_length: int) -> str:
        if identifier:
            return str(identifier)
        return _default_identifier(max_length)

    if len(name_component) > _MAX_PREFIX_LENGTH:
        # Fewer than four identifier characters are not worth having.
        value = name_component[:_MAX_LENGTH]
    elif len(name_component) + len(version_component) > _MAX_PREFIX_LENGTH:
        # The version does not fit alongside the identifier: drop it.
        max_length = _MAX_LENGTH - 1 - len(name_component)
        value = f"{name_component}.{_identifier(max_length)}"[:_MAX_LENGTH]
    else:
        max_length = _MAX_LENGTH - 1 - len(name_component) - len(version_component)
        value = f"{name_component}{version_component}.{_identifier(max_length)}"[:_MAX_LENGTH]

    return sanitize_session_name(value)


# The execution environment part of a tenant's session name: 16 hex digits of
# the environment id (64 bits), or a timestamp to the hundredth of a second.
_TENANT_IDENTIFIER_LENGTH = 16
# A cut id keeps 16 hex digits (64 bits) of its SHA-256: finding another id with
# the same cut name takes about 2**64 tries (8 digits took about 2**16 for a pair).
_TENANT_DIGEST_LENGTH = 16
# No "." in the environment part, so the last "." of a name always separates it.
_NOT_ALPHANUMERIC = re.compile(r"[^a-zA-Z0-9]+")


def tenant_session_name(tenant_id: str, identifier: str | None = None) -> str:
    r"""The role session name of one tenant's session: ``{tenant}.{environment}``.

    Many tenants share one role, so the session name is what tells them
    apart in CloudTrail and in the assumed-role ARN; the execution
    environment part tells apart the concurrent environments serving one
    tenant. A tenant id that fills the room the environment part leaves (47
    characters beside a 16-character one), or is longer, is cut and followed by
    ``+`` and 16 hex digits (64 bits) of its SHA-256, so two long ids that
    share a prefix still get different names, and an id that is not cut is
    always shorter than one that is, so it cannot spell another id's cut
    name. Names of different ids can still collide (64 bits are not the id):
    the full id belongs in ``SourceIdentity``, and `TenantRole` keys its
    sessions by the full id, never by this name.

    Args:
        tenant_id: One or more characters of ``[\w+=,.@-]`` (ASCII `\w`),
            already validated by the caller.
        identifier: The environment part; defaults to the first 16
            characters of the identifier `generate_lambda_session_name` uses
            (the execution environment id inside Lambda, read at each call).
            Each run of characters other than ASCII letters and digits
            becomes ``_``, so the last ``.`` of the name separates it.

    Returns:
        A valid role session name of at most 64 characters.

    Raises:
        ValueError: ``tenant_id`` is empty or has a character a session name
            cannot hold.

    Example:
        >>> tenant_session_name("acme", identifier="3893xmpl7fac4485")
        'acme.3893xmpl7fac4485'
        >>> tenant_session_name("t" * 60, identifier="3893xmpl7fac4485")
        'tttttttttttttttttttttttttttttt+4409108038a8dd8e.3893xmpl7fac4485'
    """
    if not isinstance(tenant_id, str) or not SESSION_NAME_CHARACTERS.fullmatch(tenant_id):
        raise ValueError(f"tenant_id must be one or more characters of {NAME_CHARACTER_CLASS}")
    if identifier is None:
        identifier = _default_identifier(_TENANT_IDENTIFIER_LENGTH)
    identifier = _NOT_ALPHANUMERIC.sub("_", identifier)[:_TENANT_IDENTIFIER_LENGTH] or "_"
    room = _MAX_LENGTH - 1 - len(identifier)
    tenant_part = tenant_id
    # ">=": a whole id is always shorter than a cut one (exactly room long).
    if len(tenant_id) >= room:
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:_TENANT_DIGEST_LENGTH]
        tenant_part = f"{tenant_id[: room - 1 - _TENANT_DIGEST_LENGTH]}+{digest}"
    return f"{tenant_part}.{identifier}"


_name_lock = threading.Lock()
_lambda_name: str | None = None


def lambda_session_name() -> str:
    """This execution environment's default session name, computed on first use.

    Computed lazily (never at import) so that under SnapStart it is computed
    after restore, per environment; `forget_lambda_session_name` drops it.
    """
    global _lambda_name  # noqa: PLW0603
    with _name_lock:
        if _lambda_name is None:
            _lambda_name = generate_lambda_session_name()
        return _lambda_name


def worker_session_name() -> str:
    """This worker process's own default session name (Managed Instances without the store).

    ``generate_lambda_session_name`` with the identifier ``w<pid>.<environment
    id>``: the worker comes first, so a name cut to 64 characters still says
    which worker called STS. Computed per process (each worker has its own).

    Example:
        >>> import os
        >>> os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "orders"
        >>> worker_session_name() == f"orders.w{os.getpid()}"
        True
        >>> del os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    """
    worker = environment.worker_id()
    identifier = ".".join(part for part in (f"w{worker}", environment.environment_id()) if part)
    return generate_lambda_session_name(identifier=identifier)


def forget_lambda_session_name() -> None:
    """Drop the cached session name (after a SnapStart restore)."""
    global _lambda_name  # noqa: PLW0603
    with _name_lock:
        _lambda_name = None
