"""Keep the keys we receive out of every log record, botocore's DEBUG records included.

People debug Lambda functions with ``boto3.set_stream_logger("")`` or
``logging.basicConfig(level=logging.DEBUG)``. botocore then logs every
answer in full (``botocore.parsers``: "Response body"), so an AssumeRole
answer prints its new secret key and session token; and every request signed
with a session token logs it (``botocore.endpoint``'s prepared request,
``botocore.auth``'s canonical request).

`protect_botocore_logs` adds one filter to the loggers of botocore, boto3,
urllib3 and this package. The filter rewrites a record only when its text
holds a credential: the contents of ``SecretAccessKey`` / ``SessionToken``
elements or JSON members, ``X-Amz-Security-Token`` header or query values,
``Authorization`` header values, SigV4 ``Credential=`` scopes and access key
ids (``AKIA...``, ``ASIA...``), whole or cut short. Everything else in the
record, and every other record, is left as it is: other services' debug logs
stay useful.

The same `redact_text` cleans every message the library builds from a
service's answer (`lambda_assume_role.errors`), so exceptions, tracebacks and
trace subsegments hold no key either, the child's or a parent's.

A filter attached to a logger sees only the records created on that logger
(not those propagated from its children), so it is attached to each logger
by name: botocore's modules create their loggers at import, and the filter
is (re)applied whenever a new STS client or assumed-role session is made,
which covers loggers created since.

Example:
    >>> redact_text("<SessionToken>FQoGZXIvYXdzE</SessionToken><Expiration>")
    '<SessionToken>***</SessionToken><Expiration>'
    >>> redact_text("{'x-amz-security-token': b'FQoGZX'}")
    "{'x-amz-security-token': b'***'}"
    >>> redact_text("Authorization: AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/2026, Signature=ab")
    'Authorization: ***'
    >>> redact_text("key ASIAQ3EXAMPLE7 from X-Amz-Credential=AKIAXMPL%2F20261207")
    'key *** from X-Amz-Credential=***'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "protect_botocore_logs", "redact_text", "secrets_of"]

REDACTED = "***"
_MIN_KNOWN_SECRET = 16

# Names whose values are secrets, matched case-insensitively after a word boundary
# ("NextToken" is not "token"; "x-amz-security-token" is).
_SECRET_NAMES = "|".join(
    [
        "SecretAccessKey",
        "SessionToken",
        "secret_?access_?key",
        "secret_?key",
        "session_?token",
        "security-token",
        "token",
    ]
)
# Each pattern keeps its prefix (group 1) and replaces the value up to its end
# or to the end of the text (a body cut short still hides what it holds).
_PATTERNS = (
    # XML elements of an STS answer: <SecretAccessKey>value</SecretAccessKey>
    re.compile(r"(<(?:SecretAccessKey|SessionToken)>)[^<]*", re.IGNORECASE),
    # name: value, name=value, "name": "value", 'name': b'value': JSON, reprs and
    # header dicts, env lines, query strings, canonical requests.
    re.compile(
        rf"""(\b(?:aws_)?(?:{_SECRET_NAMES})['"]?\s*[:=]\s*b?['"]?)[^'"\s,;&}}<\\]+""",
        re.IGNORECASE,
    ),
    # An Authorization header's whole value (it names the access key and signs):
    # "Authorization: AWS4-HMAC-SHA256 Credential=..., Signature=...".
    re.compile(r"""(\bAuthorization['"]?\s*[:=]\s*b?['"]?)[^'"\r\n}]+""", re.IGNORECASE),
    # A SigV4 credential scope, in a header or a presigned URL (X-Amz-Credential=).
    re.compile(r"""(\b(?:X-Amz-)?Credential=)[^'"\s,;&}<\\]+""", re.IGNORECASE),
    # Access key ids anywhere: long-term (AKIA) and temporary (ASIA), whole or cut short.
    re.compile(r"()\b(?:AKIA|ASIA)[A-Z0-9]{4,}"),
)
_TRIGGERS = ("secret", "token", "authorization", "credential", "akia", "asia")

_LOGGER_PREFIXES = ("botocore", "boto3", "urllib3", "s3transfer", "lambda_assume_role")
_KNOWN_LOGGERS = (
    "botocore.parsers",
    "botocore.endpoint",
    "botocore.auth",
    "botocore.hooks",
    "botocore.awsrequest",
    "botocore.httpsession",
    "botocore.retryhandler",
    "botocore.retries.standard",
    "botocore.credentials",
    "botocore.utils",
    "botocore.client",
    "urllib3.connectionpool",
    "lambda_assume_role",
)


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every credential value it holds replaced by ``***``.

    Args:
        text: Any text: a log message, an error, a traceback.
        known: Secret values to remove wherever they appear, whatever quotes
            them (the CLI passes the keys it holds). Values shorter than 16
            characters are ignored: real keys and tokens are longer, and a
            short one would redact ordinary words.

    Example:
        >>> redact_text("aws_secret_access_key = abc/def, NextToken=page2")
        'aws_secret_access_key = ***, NextToken=page2'
    """
    for secret in sorted(known, key=len, reverse=True):
        if len(secret) >= _MIN_KNOWN_SECRET:
            text = text.replace(secret, REDACTED)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message or traceback holds a credential; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text)
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


_FILTER = RedactingFilter()
_lock = threading.Lock()
_protected: set[str] = set()


def protect_botocore_logs() -> None:
    """Attach the filter to every botocore, boto3, urllib3 and package logger (idempotent).

    Cheap after the first call: it only looks for loggers created since.
    """
    manager = logging.Logger.manager
    names = [
        name
        for name in list(manager.loggerDict)
        if name.startswith(_LOGGER_PREFIXES) and name not in _protected
    ]
    if not names and _protected:
        return
    with _lock:
        for name in (*_KNOWN_LOGGERS, *names):
            if name in _protected:
                continue
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
            _protected.add(name)


def secrets_of(session: Any) -> tuple[str, ...]:
    """The access key id, secret and token ``session`` signs with, for ``known=``; never raises.

    A session that cannot say (no credentials, a provider that fails) gives
    nothing: the patterns of `redact_text` still apply.

    Example:
        >>> import boto3
        >>> secrets_of(boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="s"))
        ('AKIDEXAMPLE', 's')
    """
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except Exception:
        return ()
    if frozen is None:
        return ()
    return tuple(value for value in frozen[:3] if isinstance(value, str) and value)
