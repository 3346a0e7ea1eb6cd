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

Example:
    >>> main(["assume", "arn:aws:iam::12:role/X"])
    2
"""

from __future__ import annotations

from lambda_assume_role_tools.cli.command import main
from lambda_assume_role_tools.cli.errors import (
    EXIT_ASSUME_FAILED,
    EXIT_BAD_ARGUMENTS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NO_CREDENTIALS,
    CommandError,
    redact,
)
from lambda_assume_role_tools.cli.output import PROG
from lambda_assume_role_tools.cli.parsing import build_parser, option_for
from lambda_assume_role_tools.cli.profiles import PROFILE_CHAIN_VARIABLE

__all__ = [
    "EXIT_ASSUME_FAILED",
    "EXIT_BAD_ARGUMENTS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NO_CREDENTIALS",
    "PROFILE_CHAIN_VARIABLE",
    "PROG",
    "CommandError",
    "build_parser",
    "main",
    "option_for",
    "redact",
]
