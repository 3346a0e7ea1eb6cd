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

The AssumeRole options (``--RoleSessionName`` ... ``--additional-kwargs``) are
generated from `lambda_assume_role.parameters.ASSUME_ROLE_PARAMETERS`, the one
table of AssumeRole keywords; no keyword is written here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from lambda_assume_role.parameters import ASSUME_ROLE_PARAMETERS, Parameter

if TYPE_CHECKING:
    import boto3
    import botocore.session

__all__ = [
    "EXIT_ASSUME_FAILED",
    "EXIT_BAD_ARGUMENTS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NO_CREDENTIALS",
    "PROFILE_CHAIN_VARIABLE",
    "build_parser",
    "main",
    "option_for",
    "redact",
]

PROG = "lambda-assume-role"

EXIT_FAILED = 1
EXIT_BAD_ARGUMENTS = 2
EXIT_NO_CREDENTIALS = 3
EXIT_ASSUME_FAILED = 4
EXIT_INTERRUPTED = 130

PROFILE_CHAIN_VARIABLE = "LAMBDA_ASSUME_ROLE_PROFILE_CHAIN"
"""Environment variable holding the profiles that ``assume`` processes are resolving.

Each ``assume`` appends the profile it resolves its parent credentials from
(a JSON list) before resolving them; botocore passes the environment to a
``credential_process`` child, so a child that finds its own profile already
listed is a ``credential_process`` calling itself, and stops at once instead of
spawning the next level forever.
"""

# What each `Parameter.cli` kind accepts, for --help and error messages.
_KIND_METAVARS = {
    "text": "TEXT",
    "int": "INT",
    "object": "JSON",
    "list": "A,B|JSON",
    "pairs": "K1=V1,K2=V2|JSON",
}

_MAX_SHOWN_VALUE = 60
_MAX_MESSAGE = 600
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


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(EXIT_BAD_ARGUMENTS, f"{message} (see '{self.prog} --help')")


def option_for(parameter: Parameter) -> str:
    """The command-line option of an AssumeRole keyword.

    The keyword's own spelling (``--RoleSessionName``), as aws-assume-role-lib's
    CLI spells it; snake_case keywords use dashes (``--additional-kwargs``).

    Example:
        >>> from lambda_assume_role.parameters import ASSUME_ROLE_PARAMETERS
        >>> [option_for(p) for p in ASSUME_ROLE_PARAMETERS][-1]
        '--additional-kwargs'
    """
    return "--" + parameter.name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser; the AssumeRole options come from the parameter table.

    Option values are kept as text here and converted by their table kind
    afterwards, so that a bad value gets a message naming the option and what
    it accepts.

    Returns:
        The parser for ``lambda-assume-role``.

    Example:
        >>> args = build_parser().parse_args(
        ...     ["assume", "arn:aws:iam::123456789012:role/R", "--Tags", "team=data"])
        >>> args.Tags
        'team=data'
    """
    parser = _Parser(
        prog=PROG,
        description="Assume IAM roles with refreshing credentials; build the Lambda layer.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assume = commands.add_parser(
        "assume",
        help="assume a role and print its credentials",
        description=(
            'Assume ROLE_ARN and print the credentials, as shell lines for eval "$(...)" '
            "(export NAME=value, the default) or as credential_process JSON. "
            "Exit codes: 2 bad arguments or configuration, 3 no parent credentials, "
            "4 the role cannot be assumed."
        ),
    )
    assume.add_argument("RoleArn", metavar="ROLE_ARN")
    assume.add_argument(
        "--profile",
        help=(
            "the AWS config profile to assume the role from; give it in a "
            "credential_process line (the profile with its own credentials)"
        ),
    )
    output = assume.add_mutually_exclusive_group()
    output.add_argument(
        "--env",
        action="store_const",
        const="env",
        dest="format",
        help='export lines for eval "$(...)" (default)',
    )
    output.add_argument(
        "--json",
        action="store_const",
        const="json",
        dest="format",
        help="credential_process JSON (Version 1, with Expiration)",
    )
    assume.set_defaults(format="env")
    for parameter in ASSUME_ROLE_PARAMETERS:
        assume.add_argument(
            option_for(parameter),
            dest=parameter.name,
            metavar=_KIND_METAVARS[parameter.cli],
            help=parameter.help,
        )

    layer = commands.add_parser(
        "build-layer",
        help="write the Lambda layer zip",
        description=(
            "Write the Lambda layer: lambda_assume_role (and, unless --slim, Powertools) with "
            "unchecked-hash bytecode compiled by each runtime's own interpreter (python3.X on "
            "PATH or under pyenv). Without --runtime, the layer is declared for the supported "
            "runtimes that have an interpreter here, and each one left out is named on stderr; "
            "a --runtime with no interpreter is an error (exit 2)."
        ),
    )
    layer.add_argument("--output", default="lambda-assume-role-layer.zip", metavar="PATH")
    layer.add_argument(
        "--directory",
        action="store_true",
        help="write the layer's files under PATH/python instead of a zip (SAM makefile builds)",
    )
    layer.add_argument(
        "--slim", action="store_true", help="leave Powertools out (use its public layer)"
    )
    layer.add_argument(
        "--runtime",
        action="append",
        dest="runtimes",
        metavar="RUNTIME",
        help=(
            "a Lambda runtime to compile for and declare, e.g. python3.13 (repeatable; "
            "default: every supported runtime with an interpreter here)"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every failure is one line on stderr and an exit code.

    Args:
        argv: The arguments, without the program name; None reads `sys.argv`.

    Returns:
        The exit code: 0, or one of the ``EXIT_*`` codes.
    """
    _known_secrets.clear()
    try:
        args = build_parser().parse_args(argv)
        if args.command == "build-layer":
            return _build_layer(args)
        return _assume(args)
    except CommandError as error:
        return _fail(error.code, error.message)
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, "interrupted")
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except BrokenPipeError:
        _detach_stdout()
        return _fail(EXIT_FAILED, "stdout was closed before the output was written")
    except Exception as error:  # the last resort: still one line, never a traceback
        return _fail(EXIT_FAILED, f"unexpected error: {_describe(error)}")


def _assume(args: argparse.Namespace) -> int:
    import botocore.exceptions

    from lambda_assume_role.parameters import prepare_parameters

    arguments = _assume_role_arguments(args)
    try:
        # The same check assume_role makes, done before any credential lookup
        # (which may run a credential_process or reach the instance metadata).
        prepared = prepare_parameters(args.RoleArn, arguments)
    except (TypeError, ValueError, botocore.exceptions.ParamValidationError) as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, str(error)) from None

    parent = _parent_session(args.profile)
    # Kept for the whole AssumeRole too: a refresh of the parent's credentials
    # runs its credential_process again.
    with _resolving_profile(parent.profile_name):
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
        _write(json.dumps(document, indent=2) + "\n")
    else:
        _write(_env_lines(values, expiration))
    return 0


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
        raise CommandError(
            EXIT_NO_CREDENTIALS, f"unable to locate credentials: {_describe_botocore(error)}"
        ) from None
    if frozen_parent is None:
        raise CommandError(EXIT_NO_CREDENTIALS, "unable to locate credentials")
    _known_secrets.update(filter(None, (frozen_parent.secret_key, frozen_parent.token)))

    if "SerialNumber" in request and "TokenCode" not in request:
        arguments["TokenCode"] = _read_token_code(str(request["SerialNumber"]))

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
            EXIT_BAD_ARGUMENTS, f"invalid AWS configuration: {_describe_botocore(error)}"
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
            EXIT_ASSUME_FAILED, f"AssumeRole for {args.RoleArn} failed: {_describe(error)}"
        ) from None
    _known_secrets.update(filter(None, (frozen.secret_key, frozen.token)))
    expiry = credentials.expiry_time
    if expiry is None:
        return frozen, None
    return frozen, expiry.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _env_lines(values: Mapping[str, str | None], expiration: str | None) -> str:
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


def _assume_role_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The AssumeRole keywords given on the command line, converted by their table kind."""
    arguments: dict[str, Any] = {}
    for parameter in ASSUME_ROLE_PARAMETERS:
        text = getattr(args, parameter.name)
        if text is not None:
            arguments[parameter.name] = _convert(parameter, text)
    return arguments


def _convert(parameter: Parameter, text: str) -> Any:
    """Turn an option's text into the value `assume_role` takes, or raise `CommandError`.

    Kinds (`Parameter.cli`), as aws-assume-role-lib's CLI reads them: text is
    JSON when it parses as JSON, else the comma-separated form.
    """
    option = option_for(parameter)
    kind = parameter.cli
    if kind == "text":
        return text
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise _bad_value(option, "must be a whole number", text) from None
    parsed, value = _json(option, text)
    if kind == "object":
        if not parsed or not isinstance(value, dict):
            raise _bad_value(option, "must be a JSON object", text)
        return value
    if kind == "list":
        if not parsed:
            return text.split(",")
        if not isinstance(value, list):
            raise _bad_value(option, "must be a list: A,B or a JSON list", text)
        return value
    if kind == "pairs":
        if not parsed:
            return _pairs(option, text)
        if not isinstance(value, (list, dict)):
            raise _bad_value(
                option,
                'must be a list of tags: K1=V1,K2=V2, a JSON object {"K1": "V1"} '
                'or a JSON list [{"Key": "K1", "Value": "V1"}]',
                text,
            )
        return value
    raise TypeError(f"unknown CLI kind {kind!r} for {parameter.name}")


def _json(option: str, text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except RecursionError:
        raise CommandError(
            EXIT_BAD_ARGUMENTS, f"{option} is JSON nested too deeply to read"
        ) from None
    except ValueError:
        return False, None


def _pairs(option: str, text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise _bad_value(
                option, "must be a list of tags: K1=V1,K2=V2 or JSON; an item has no key=", text
            )
        pairs[key] = value
    return pairs


def _bad_value(option: str, rule: str, text: str) -> CommandError:
    shown = text if len(text) <= _MAX_SHOWN_VALUE else text[:_MAX_SHOWN_VALUE] + "..."
    return CommandError(EXIT_BAD_ARGUMENTS, f"{option} {rule}; got {shown!r}")


def _parent_session(profile: str | None) -> boto3.Session:
    """The parent session, after checking the configuration values botocore converts.

    botocore converts values such as ``AWS_MAX_ATTEMPTS`` only when a client is
    built, and then fails with a bare ``ValueError`` naming no variable; reading
    each converted session variable here reports the variable by name instead.
    """
    import boto3
    import botocore.exceptions
    import botocore.session

    try:
        core = botocore.session.get_session()
        parent = boto3.Session(botocore_session=core, profile_name=profile)
        _check_configuration(core)
    except botocore.exceptions.BotoCoreError as error:
        raise CommandError(
            EXIT_NO_CREDENTIALS, f"unable to locate credentials: {_describe_botocore(error)}"
        ) from None
    return parent


def _check_configuration(core: botocore.session.Session) -> None:
    variables: Mapping[str, Any] = getattr(core, "session_var_map", {})
    for name, spec in variables.items():
        # (config file name, environment variable(s), default, conversion):
        # only converted values can be malformed. Unconverted ones (region
        # among them) are not read, so no lookup reaches the instance metadata.
        if len(spec) < 4 or spec[3] is None:
            continue
        try:
            core.get_config_variable(name)
        except (TypeError, ValueError) as error:
            sources = [spec[1]] if isinstance(spec[1], str) else list(spec[1] or [])
            if spec[0]:
                sources.append(f"{spec[0]} in the config file")
            raise CommandError(
                EXIT_BAD_ARGUMENTS,
                f"invalid AWS configuration: {name} ({' or '.join(sources)}): {_describe(error)}",
            ) from None


@contextlib.contextmanager
def _resolving_profile(profile: str) -> Iterator[None]:
    """Record ``profile`` in `PROFILE_CHAIN_VARIABLE` while the parent's credentials resolve.

    Raises:
        CommandError: ``profile`` is already being resolved by an ``assume``
            process up the chain: a ``credential_process`` calling itself.
    """
    chain = _profile_chain()
    if profile in chain:
        loop = " -> ".join([*chain, profile])
        raise CommandError(
            EXIT_BAD_ARGUMENTS,
            f"credential_process calls itself: this process was started while resolving "
            f"profile {chain[-1]!r}, and it would resolve profile {profile!r} again "
            f"(profiles: {loop}), forever. Add --profile <source profile> (a profile with "
            f"its own credentials) to the credential_process line of profile {chain[-1]!r}.",
        )
    previous = os.environ.get(PROFILE_CHAIN_VARIABLE)
    os.environ[PROFILE_CHAIN_VARIABLE] = json.dumps([*chain, profile])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(PROFILE_CHAIN_VARIABLE, None)
        else:
            os.environ[PROFILE_CHAIN_VARIABLE] = previous


def _profile_chain() -> list[str]:
    try:
        chain = json.loads(os.environ.get(PROFILE_CHAIN_VARIABLE) or "[]")
    except ValueError:
        return []
    if not isinstance(chain, list):
        return []
    return [item for item in chain if isinstance(item, str)]


def _read_token_code(serial_number: str) -> str:
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
                code = getpass.getpass(f"Enter MFA code for {serial_number}: ")
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


def _write(text: str) -> None:
    """Write all of ``text`` to stdout, or raise `CommandError` (exit 1)."""
    stream = sys.stdout
    if stream is None:
        raise CommandError(EXIT_FAILED, "stdout is closed: the credentials cannot be written")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _detach_stdout()
        raise CommandError(
            EXIT_FAILED, "stdout was closed before the credentials were written"
        ) from None
    except OSError as error:
        _detach_stdout()
        raise CommandError(
            EXIT_FAILED, f"cannot write the credentials to stdout: {error.strerror or error}"
        ) from None


def _detach_stdout() -> None:
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


def _describe(error: BaseException) -> str:
    """``Type: message`` for a foreign exception, scrubbed of secrets.

    A message that may quote a response body (botocore's ResponseParserError
    quotes the raw STS answer, keys included) is withheld: only the type shows.
    """
    name = type(error).__name__
    if _may_quote_a_response(error):
        return f"{name} (message withheld: it may quote the response body)"
    message = redact(str(error))
    return f"{name}: {message}" if message else name


def _describe_botocore(error: BaseException) -> str:
    """A botocore error's own message (it is written for users), or `_describe` if risky."""
    if _may_quote_a_response(error):
        return _describe(error)
    return redact(str(error)) or type(error).__name__


def _may_quote_a_response(error: BaseException) -> bool:
    try:
        from botocore.parsers import ResponseParserError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(error, ResponseParserError)


def redact(text: str) -> str:
    """``text`` without secret keys or session tokens: `redact_text` with the keys we hold.

    Example:
        >>> redact("<SecretAccessKey>abc/123</SecretAccessKey> 'token': 'xyz'")
        "<SecretAccessKey>***</SecretAccessKey> 'token': '***'"
    """
    from lambda_assume_role.redact import redact_text

    return redact_text(text, _known_secrets)


def _notice(message: str) -> None:
    """One ``lambda-assume-role: notice: ...`` line on stderr; the command goes on."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        print(f"{PROG}: notice: {message}", file=sys.stderr, flush=True)


def _fail(code: int, message: str) -> int:
    line = redact(" ".join(message.split()))
    if len(line) > _MAX_MESSAGE:
        line = line[:_MAX_MESSAGE] + "..."
    with contextlib.suppress(AttributeError, OSError, ValueError):
        print(f"{PROG}: {line}", file=sys.stderr, flush=True)
    return code


def _build_layer(args: argparse.Namespace) -> int:
    """Build the layer; print its summary (and, for a zip, the command that publishes it).

    A runtime that is not supported, or named with ``--runtime`` but without an
    interpreter here, is a bad argument (exit 2); any other failure exits 1.
    Runtimes left out of a default build are one notice line each on stderr.
    """
    from lambda_assume_role_tools.layer import (
        InterpreterNotFoundError,
        LayerBuildError,
        UnsupportedRuntimeError,
        build_layer,
        build_layer_directory,
    )

    build = build_layer_directory if args.directory else build_layer
    try:
        report = build(args.output, slim=args.slim, runtimes=args.runtimes)
    except (InterpreterNotFoundError, UnsupportedRuntimeError) as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, f"cannot build the layer: {error}") from None
    except (LayerBuildError, OSError) as error:
        raise CommandError(EXIT_FAILED, f"cannot build the layer: {error}") from None
    for notice in report.notices:
        _notice(notice)
    lines = [report.summary()]
    if report.zipped_bytes is not None:
        lines.append(f"publish it with: {report.publish_command()}")
    _write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
