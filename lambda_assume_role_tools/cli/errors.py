"""How the command fails: exit codes, `CommandError`, and error text with no secret in it.

Why apart: every other module of the command raises `CommandError` with one of these
codes, and any text that reaches stderr goes through `redact` (or `describe`, for an
exception), which scrubs it of key-shaped values and of the secret values this process
holds: the parent's keys and the role's, once read (`remember_secrets`).

Exit codes follow aws-assume-role-lib's: 2 a bad argument or AWS configuration, 3 no
parent credentials, 4 the role cannot be assumed, 1 anything else, 130 interrupted.

Example:
    >>> remember_secrets("wJalrXUtnFEMI-K7MDENG", None)
    >>> redact("token wJalrXUtnFEMI-K7MDENG, <SecretAccessKey>abc/123</SecretAccessKey>")
    'token ***, <SecretAccessKey>***</SecretAccessKey>'
    >>> describe(ValueError("wJalrXUtnFEMI-K7MDENG is bad"))
    'ValueError: *** is bad'
    >>> forget_secrets()
"""

from __future__ import annotations

from lambda_assume_role.redact import redact_text
from lambda_assume_role.retry import describe_error

__all__ = [
    "EXIT_ASSUME_FAILED",
    "EXIT_BAD_ARGUMENTS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NO_CREDENTIALS",
    "CommandError",
    "describe",
    "forget_secrets",
    "redact",
    "remember_secrets",
]

EXIT_FAILED = 1
EXIT_BAD_ARGUMENTS = 2
EXIT_NO_CREDENTIALS = 3
EXIT_ASSUME_FAILED = 4
EXIT_INTERRUPTED = 130

# Secret values this process holds (the parent's keys, the role's keys): any
# error text is scrubbed of them too, whatever form it quotes them in.
_known_secrets: set[str] = set()


class CommandError(Exception):
    """A failure to report as one line on stderr with an exit code.

    Attributes:
        code: The exit code.
        message: The line, without the ``lambda-assume-role:`` prefix.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def remember_secrets(*values: str | None) -> None:
    """Scrub these values (empty ones and None are skipped) from every error text from now on."""
    _known_secrets.update(value for value in values if value)


def forget_secrets() -> None:
    """Forget the values `remember_secrets` was given (a new command run starts clean)."""
    _known_secrets.clear()


def redact(text: str) -> str:
    """``text`` without secret keys or session tokens: `redact_text` with the keys we hold.

    Example:
        >>> redact("<SecretAccessKey>abc/123</SecretAccessKey> 'token': 'xyz'")
        "<SecretAccessKey>***</SecretAccessKey> 'token': '***'"
    """
    return redact_text(text, _known_secrets)


def describe(error: BaseException) -> str:
    """``Type (Code): message`` for an exception, scrubbed of the secrets we hold too.

    `lambda_assume_role.retry.describe_error`: the message is cut to 300 characters,
    and withheld when it may quote a response body (botocore's ResponseParserError
    quotes the raw STS answer, new keys included).

    Example:
        >>> from botocore.exceptions import ProfileNotFound
        >>> describe(ProfileNotFound(profile="nope"))
        'ProfileNotFound: The config profile (nope) could not be found'
    """
    return describe_error(error, known=_known_secrets)
