"""The entry point: parse, run the command, and turn every outcome into one line and an exit code.

Why apart: this is the one place that decides what the user sees when something goes
wrong, whatever went wrong and wherever: a `CommandError` is its line and code; Ctrl-C
is ``interrupted`` (130); a closed stdout is one line (1); anything unexpected is one
line naming the exception (1), never a traceback, never a secret.

Example:
    >>> main(["build-layer", "--directory", "--output", "layer.zip"])
    2
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator, Sequence

from lambda_assume_role_tools.cli.assume import run_assume
from lambda_assume_role_tools.cli.build_layer import run_build_layer
from lambda_assume_role_tools.cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    CommandError,
    describe,
    forget_secrets,
)
from lambda_assume_role_tools.cli.output import detach_stdout, fail
from lambda_assume_role_tools.cli.parsing import parse_arguments

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every failure is one line on stderr and an exit code.

    Args:
        argv: The arguments, without the program name; None reads `sys.argv`.

    Returns:
        The exit code: 0, or one of the ``EXIT_*`` codes.
    """
    forget_secrets()
    try:
        with _interruptible():
            args = parse_arguments(argv)
            if args.command == "build-layer":
                return run_build_layer(args)
            return run_assume(args)
    except CommandError as error:
        return fail(error.code, error.message)
    except KeyboardInterrupt:
        return fail(EXIT_INTERRUPTED, "interrupted")
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except BrokenPipeError:
        detach_stdout()
        return fail(EXIT_FAILED, "stdout was closed before the output was written")
    except Exception as error:  # the last resort: still one line, never a traceback
        return fail(EXIT_FAILED, f"unexpected error: {describe(error)}")


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """While the command runs, SIGINT raises KeyboardInterrupt, however the process started.

    Python installs that handler at start-up only if SIGINT is not ignored, and a
    process inherits an ignored SIGINT: a background job of a non-interactive shell
    (``make test &``, a CI step's ``cmd &``) starts with it ignored. The command would
    then sit out Ctrl-C, and STS's timeouts (three attempts, 5 s each), and exit 4
    instead of 130. The handler before is put back afterwards, for callers of `main`
    in-process. Signal handlers belong to the main thread: elsewhere this does nothing.
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
