"""Where the ``lambda-assume-role`` process starts: Ctrl-C is one line and exit 130 from here on.

Why apart, and why so small: the command imports botocore and the library (and boto3
once it runs) before `lambda_assume_role_tools.cli.main` can guard anything, about 50 ms
(several hundred on a busy machine) in which Ctrl-C used to print a 15-30 line
``KeyboardInterrupt`` traceback. This module imports nothing the interpreter has not
already loaded, so its first line runs before any of that: `main` takes SIGINT, then
imports the command and runs it.

The console script (``[project.scripts]``), ``python -m lambda_assume_role``,
``python -m lambda_assume_role_tools`` and ``python -m lambda_assume_role_tools.cli``
all start here. What comes before is Python's own: a SIGINT before the interpreter
installs its handler ends the process silently (killed by SIGINT, which a shell
reports as 130); one while ``site`` runs, or while Python imports the packages above
the entry, is a traceback. Those packages cost nothing, but for one:
``python -m lambda_assume_role`` first imports the library's package, which loads
`logging` and `typing` (about 15 ms idle); the console script has no such window.

Example:
    >>> import subprocess, sys
    >>> subprocess.run(
    ...     [sys.executable, "-m", "lambda_assume_role_tools", "--help"],
    ...     capture_output=True, check=False,
    ... ).returncode
    0
"""

# Only what the interpreter has already loaded, or builds in: `typing` (for
# TYPE_CHECKING) and `__future__` are not loaded at start-up, and `signal` wraps
# `_signal` in enums, loading enum, functools and collections: together about 7 ms idle
# and several times that on a busy machine, which is the window this module closes.
# Type checkers treat a name TYPE_CHECKING as true; `signal`'s stubs describe `_signal`.
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from types import FrameType
else:
    import _signal

__all__ = ["main"]

# The line and the code `lambda_assume_role_tools.cli.main` gives for Ctrl-C once it runs
# (`output.PROG`, `errors.EXIT_INTERRUPTED`); not imported from there, since importing
# them is what this module guards. tests/functional/tools/test_cli_startup.py checks that
# both give the same line: interrupted in the imports (here) and inside the command.
_INTERRUPTED_LINE = b"lambda-assume-role: interrupted\n"
_EXIT_INTERRUPTED = 130


def main() -> int:
    """Run the command as a process: take SIGINT first, then import the command and run it.

    For a process's entry only: until the process ends, a SIGINT outside the command
    (during the imports, or after the command returns) writes one line to stderr and
    ends the process at once with exit status 130; nothing is left to clean up then.
    While the command runs, it takes SIGINT itself (`lambda_assume_role_tools.cli.main`),
    so a build is cleaned up as before. The handler is taken even when the process
    started with SIGINT ignored (a background job of a non-interactive shell), as the
    command does. In-process callers want `lambda_assume_role_tools.cli.main`.

    Returns:
        The command's exit code.
    """
    try:  # noqa: SIM105 (contextlib is not loaded yet: see the imports)
        _signal.signal(_signal.SIGINT, _interrupted)
    except ValueError:  # not the main thread: signals are not ours to take
        pass
    from lambda_assume_role_tools.cli.command import main as run_command

    return run_command()


def _interrupted(signum: int, frame: "FrameType | None") -> None:
    # Not KeyboardInterrupt: raised inside an import, a finally block or a __del__, it
    # can still surface as "Exception ignored in ..." lines. No state needs unwinding
    # here: the command has not started, or it has returned and written its output.
    try:
        os.write(2, _INTERRUPTED_LINE)
    finally:
        os._exit(_EXIT_INTERRUPTED)
