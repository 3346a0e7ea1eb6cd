"""What the command writes: the answer on stdout, in full or not at all; one line on stderr.

Why apart: both commands write their answer with `write` and report with `fail` and
`notice`, and the entry point reports every failure with `fail`; these are the only
functions that touch stdout and stderr. Every stderr line starts with ``PROG:`` and is
scrubbed with `redact`, so no secret reaches it, whatever the message quotes.

Example:
    >>> fail(2, "a bad\\nargument")
    2
    >>> notice("python3.14: no interpreter found")
"""

from __future__ import annotations

import contextlib
import os
import sys

from lambda_assume_role_tools.cli.errors import EXIT_FAILED, CommandError, redact

__all__ = ["PROG", "detach_stdout", "fail", "notice", "write"]

PROG = "lambda-assume-role"
"""The command's name: the program name in usage, and the prefix of every stderr line."""

_MAX_MESSAGE = 600


def write(text: str) -> None:
    """Write all of ``text`` to stdout, or raise `CommandError` (exit 1)."""
    stream = sys.stdout
    if stream is None:
        raise CommandError(EXIT_FAILED, "stdout is closed: the credentials cannot be written")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        detach_stdout()
        raise CommandError(
            EXIT_FAILED, "stdout was closed before the credentials were written"
        ) from None
    except OSError as error:
        detach_stdout()
        raise CommandError(
            EXIT_FAILED, f"cannot write the credentials to stdout: {error.strerror or error}"
        ) from None


def detach_stdout() -> None:
    """Point stdout at devnull, so that the flush at exit does not fail again.

    As the Python docs advise for SIGPIPE: otherwise the interpreter prints
    "Exception ignored ... BrokenPipeError" when it flushes the rest at exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def notice(message: str) -> None:
    """One ``lambda-assume-role: notice: ...`` line on stderr; the command goes on."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        print(f"{PROG}: notice: {redact(message)}", file=sys.stderr, flush=True)


def fail(code: int, message: str) -> int:
    """Print ``message`` as one scrubbed ``lambda-assume-role:`` line on stderr; return ``code``.

    Whitespace (newlines included) is folded to single spaces, and the line is cut to
    600 characters.
    """
    line = redact(" ".join(message.split()))
    if len(line) > _MAX_MESSAGE:
        line = line[:_MAX_MESSAGE] + "..."
    with contextlib.suppress(AttributeError, OSError, ValueError):
        print(f"{PROG}: {line}", file=sys.stderr, flush=True)
    return code
