"""The ``lambda-assume-role`` command: a thin argparse front end over the library.

``assume`` prints credentials for a role, as ``python -m aws_assume_role_lib``
does: as shell lines for ``eval "$(lambda-assume-role assume ROLE_ARN)"`` (the
default) or as ``credential_process`` JSON. ``build-layer`` writes the Lambda
layer (`lambda_assume_role_tools.layer`).

It lives in `lambda_assume_role_tools`, outside the runtime package, so the Lambda
layer does not ship it; ``python -m lambda_assume_role`` still runs it.

Every failure is one line on stderr (``lambda-assume-role: ...``), never a
traceback, and never contains a secret key or session token; stdout stays empty,
so ``eval "$(...)"`` evaluates nothing. Exit codes follow aws-assume-role-lib:

* 2: a bad argument, or a bad AWS configuration (``AWS_MAX_ATTEMPTS=abc``, an
  endpoint URL that is not one, a ``credential_process`` that calls itself);
* 3: the parent has no credentials;
* 4: the role cannot be assumed;
* 1: anything else (stdout closed, an unexpected error); 130: interrupted.

One module per concern, each saying why it is apart:

* `lambda_assume_role_tools.cli.command`: `main`, where every outcome becomes a line
  and an exit code;
* `lambda_assume_role_tools.cli.parsing`: the options, generated from the AssumeRole
  parameter table, and their values checked;
* `lambda_assume_role_tools.cli.assume`: the ``assume`` command;
* `lambda_assume_role_tools.cli.profiles`: the parent session, and the guard against
  a ``credential_process`` that calls itself;
* `lambda_assume_role_tools.cli.build_layer`: the ``build-layer`` command;
* `lambda_assume_role_tools.cli.errors` and `lambda_assume_role_tools.cli.output`: exit
  codes and secret-free error text; stdout and stderr.

Its names load on first use (PEP 562, through `lambda_assume_role.exports`), and it
imports nothing at all until then: ``python -m lambda_assume_role_tools.cli`` imports
this package before `lambda_assume_role_tools.entry` can take Ctrl-C, so it must cost
nothing (the same reason it has no ``from __future__ import``).

Example:
    >>> from lambda_assume_role_tools.cli import main
    >>> main(["assume", "arn:aws:iam::12:role/X"])
    2
"""

TYPE_CHECKING = False  # `typing` is not loaded yet either; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

    from lambda_assume_role_tools.cli.command import main as main
    from lambda_assume_role_tools.cli.errors import EXIT_ASSUME_FAILED as EXIT_ASSUME_FAILED
    from lambda_assume_role_tools.cli.errors import EXIT_BAD_ARGUMENTS as EXIT_BAD_ARGUMENTS
    from lambda_assume_role_tools.cli.errors import EXIT_FAILED as EXIT_FAILED
    from lambda_assume_role_tools.cli.errors import EXIT_INTERRUPTED as EXIT_INTERRUPTED
    from lambda_assume_role_tools.cli.errors import EXIT_NO_CREDENTIALS as EXIT_NO_CREDENTIALS
    from lambda_assume_role_tools.cli.errors import CommandError as CommandError
    from lambda_assume_role_tools.cli.errors import redact as redact
    from lambda_assume_role_tools.cli.output import PROG as PROG
    from lambda_assume_role_tools.cli.parsing import build_parser as build_parser
    from lambda_assume_role_tools.cli.parsing import option_for as option_for
    from lambda_assume_role_tools.cli.profiles import (
        PROFILE_CHAIN_VARIABLE as PROFILE_CHAIN_VARIABLE,
    )

# Each public name and the module, relative to this package, that defines it.
_SOURCES = {
    "EXIT_ASSUME_FAILED": "errors",
    "EXIT_BAD_ARGUMENTS": "errors",
    "EXIT_FAILED": "errors",
    "EXIT_INTERRUPTED": "errors",
    "EXIT_NO_CREDENTIALS": "errors",
    "PROFILE_CHAIN_VARIABLE": "profiles",
    "PROG": "output",
    "CommandError": "errors",
    "build_parser": "parsing",
    "main": "command",
    "option_for": "parsing",
    "redact": "errors",
}

__all__ = list(_SOURCES)


def __getattr__(name: str) -> "Any":
    from lambda_assume_role.exports import load_export

    return load_export(__name__, _SOURCES, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCES})
