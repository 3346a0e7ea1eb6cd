"""The ``assume`` command: resolve the parent's credentials, assume the role, print the keys.

Why apart: this is the only part of the command that holds secrets. It prints them
(as ``export`` lines for ``eval "$(...)"``, or as ``credential_process`` JSON) only
once all of them are in hand, so a failure leaves stdout empty; and it hands each
secret it reads to `remember_secrets`, so no error line can quote one.

Example:
    >>> print(env_lines({"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "a b",
    ...                  "SessionToken": None}, "2030-01-01T00:00:00Z"), end="")
    export AWS_ACCESS_KEY_ID=ASIAEXAMPLE
    export AWS_SECRET_ACCESS_KEY='a b'
    export AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role_tools.cli.errors import (
    EXIT_ASSUME_FAILED,
    EXIT_BAD_ARGUMENTS,
    EXIT_NO_CREDENTIALS,
    CommandError,
    describe,
    remember_secrets,
)
from lambda_assume_role_tools.cli.output import write
from lambda_assume_role_tools.cli.parsing import assume_role_arguments
from lambda_assume_role_tools.cli.profiles import (
    loop_reported_by,
    parent_session,
    resolving_profile,
)

if TYPE_CHECKING:
    import boto3

__all__ = ["env_lines", "run_assume"]


def run_assume(args: argparse.Namespace) -> int:
    """Run ``assume`` for parsed arguments; print the credentials; return 0.

    Raises:
        CommandError: With exit 2 (bad arguments or configuration), 3 (no parent
            credentials), 4 (the role cannot be assumed) or 1 (stdout closed).
    """
    import botocore.exceptions

    from lambda_assume_role.parameters import prepare_parameters

    arguments = assume_role_arguments(args)
    try:
        # The same check assume_role makes, done before any credential lookup
        # (which may run a credential_process or reach the instance metadata).
        prepared = prepare_parameters(args.RoleArn, arguments)
    except (TypeError, ValueError, botocore.exceptions.ParamValidationError) as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, str(error)) from None

    parent = parent_session(args.profile)
    # Kept for the whole AssumeRole too: a refresh of the parent's credentials
    # runs its credential_process again.
    with resolving_profile(parent.profile_name, named=args.profile is not None):
        frozen, expiration = _fetch(args, arguments, parent, prepared.request)
    values = {
        "AccessKeyId": frozen.access_key,
        "SecretAccessKey": frozen.secret_key,
        "SessionToken": frozen.token,
    }
    if args.format == "json":
        document: dict[str, Any] = {"Version": 1, **values}
        if expiration:
            document["Expiration"] = expiration
        write(json.dumps(document, indent=2) + "\n")
    else:
        write(env_lines(values, expiration))
    return 0


def env_lines(values: Mapping[str, str | None], expiration: str | None) -> str:
    """``export NAME=value`` lines, each value shell-quoted, that the SDKs read.

    The expiry is ``AWS_CREDENTIAL_EXPIRATION``, the name botocore and the
    JavaScript SDK read (aws-assume-role-lib printed ``AWS_CREDENTIALS_EXPIRATION``,
    which nothing reads).
    """
    names = {
        "AccessKeyId": "AWS_ACCESS_KEY_ID",
        "SecretAccessKey": "AWS_SECRET_ACCESS_KEY",
        "SessionToken": "AWS_SESSION_TOKEN",
    }
    lines = [
        f"export {names[key]}={shlex.quote(value)}"
        for key, value in values.items()
        if value is not None
    ]
    if expiration:
        lines.append(f"export AWS_CREDENTIAL_EXPIRATION={shlex.quote(expiration)}")
    return "\n".join(lines) + "\n"


def _fetch(
    args: argparse.Namespace,
    arguments: dict[str, Any],
    parent: boto3.Session,
    request: Mapping[str, Any],
) -> tuple[Any, str | None]:
    """Resolve the parent's credentials, assume the role; its frozen credentials and expiry."""
    import datetime

    import botocore.exceptions

    from lambda_assume_role.assume import assume_role
    from lambda_assume_role.errors import AssumeRoleConnectionError, AssumeRoleError

    try:
        parent_credentials = parent.get_credentials()
        # Freezing may fetch them (an assume-role profile, an expired process's output).
        frozen_parent = parent_credentials.get_frozen_credentials() if parent_credentials else None
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        loop = loop_reported_by(error)
        if loop is not None:
            raise CommandError(EXIT_BAD_ARGUMENTS, loop) from None
        raise CommandError(
            EXIT_NO_CREDENTIALS, f"unable to locate credentials: {describe(error)}"
        ) from None
    if frozen_parent is None:
        raise CommandError(EXIT_NO_CREDENTIALS, "unable to locate credentials")
    remember_secrets(frozen_parent.secret_key, frozen_parent.token)

    from lambda_assume_role.parameters import mfa_prompt

    question = mfa_prompt(request)
    if question is not None:
        arguments["TokenCode"] = _read_token_code(question)

    try:
        session = assume_role(parent, args.RoleArn, region_name=True, **arguments)
    except (AssumeRoleError, AssumeRoleConnectionError) as error:
        raise CommandError(EXIT_ASSUME_FAILED, str(error)) from None
    except (TypeError, botocore.exceptions.ParamValidationError) as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, str(error)) from None
    except (ValueError, botocore.exceptions.BotoCoreError) as error:
        # No network call has happened yet: what fails here is building the STS
        # client from the configuration (region, endpoint URL, retry settings).
        raise CommandError(
            EXIT_BAD_ARGUMENTS, f"invalid AWS configuration: {describe(error)}"
        ) from None

    credentials = session.assume_role_credentials
    try:
        frozen = credentials.get_frozen_credentials()
    except (AssumeRoleError, AssumeRoleConnectionError) as error:
        raise CommandError(EXIT_ASSUME_FAILED, str(error)) from None
    except botocore.exceptions.ParamValidationError as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, str(error)) from None
    except Exception as error:
        raise CommandError(
            EXIT_ASSUME_FAILED, f"AssumeRole for {args.RoleArn} failed: {describe(error)}"
        ) from None
    remember_secrets(frozen.secret_key, frozen.token)
    expiry = credentials.expiry_time
    if expiry is None:
        return frozen, None
    return frozen, expiry.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_token_code(question: str) -> str:
    """Ask for the MFA code: on the terminal, else one line from stdin.

    botocore prompts too, but ``getpass`` falls back to stdin with a warning
    and a prompt nobody sees, and raises ``EOFError`` at its end; here a
    missing code is one line that says what to do.
    """
    import getpass
    import warnings

    try:
        if _has_terminal():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                code = getpass.getpass(question)
        else:
            code = sys.stdin.readline() if sys.stdin is not None else ""
    except EOFError:
        code = ""
    code = code.strip()
    if not code:
        raise CommandError(
            EXIT_BAD_ARGUMENTS,
            "--SerialNumber needs an MFA code, but none was read (no terminal, and stdin "
            "is empty or closed); give --TokenCode",
        )
    return code


def _has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except (OSError, AttributeError):
        return bool(sys.stdin is not None and sys.stdin.isatty())
    os.close(fd)
    return True
