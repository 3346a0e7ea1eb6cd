"""The command line: its options, and their text turned into what `assume_role` takes.

Why apart: the parser is the command's whole interface, generated from
`lambda_assume_role.parameters.ASSUME_ROLE_PARAMETERS` (the one table of AssumeRole
keywords; no keyword is written here), and every option's value is checked here,
before any credential lookup or network call, with an error that names the option, the
rule and the value. Option values are kept as text by argparse and converted by their
table kind afterwards (`assume_role_arguments`).

Example:
    >>> args = parse_arguments(["assume", "arn:aws:iam::123456789012:role/R", "--Tags", "a=1"])
    >>> assume_role_arguments(args)
    {'Tags': {'a': '1'}}
    >>> try:
    ...     assume_role_arguments(parse_arguments(
    ...         ["assume", "arn:aws:iam::123456789012:role/R", "--DurationSeconds", "soon"]))
    ... except CommandError as error:
    ...     print(error.code, error.message)
    2 --DurationSeconds must be a whole number; got 'soon'
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any, NoReturn

from lambda_assume_role.parameters import ASSUME_ROLE_PARAMETERS, Parameter
from lambda_assume_role_tools.cli.errors import EXIT_BAD_ARGUMENTS, CommandError
from lambda_assume_role_tools.cli.output import PROG

__all__ = [
    "DEFAULT_LAYER_DIRECTORY",
    "DEFAULT_LAYER_ZIP",
    "assume_role_arguments",
    "build_parser",
    "option_for",
    "parse_arguments",
]

DEFAULT_LAYER_ZIP = "lambda-assume-role-layer.zip"
"""``build-layer``'s ``--output`` without ``--directory``."""

DEFAULT_LAYER_DIRECTORY = "lambda-assume-role-layer"
"""``build-layer``'s ``--output`` with ``--directory``: the folder that gets ``python/``."""

# What each `Parameter.cli` kind accepts, for --help and error messages.
_KIND_METAVARS = {
    "text": "TEXT",
    "int": "INT",
    "object": "JSON",
    "list": "A,B|JSON",
    "pairs": "K1=V1,K2=V2|JSON",
}

_MAX_SHOWN_VALUE = 60


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(EXIT_BAD_ARGUMENTS, f"{message} (see '{self.prog} --help')")


def option_for(parameter: Parameter) -> str:
    """The command-line option of an AssumeRole keyword.

    The keyword's own spelling (``--RoleSessionName``), as aws-assume-role-lib's
    CLI spells it; snake_case keywords use dashes (``--additional-kwargs``).

    Example:
        >>> [option_for(p) for p in ASSUME_ROLE_PARAMETERS][-1]
        '--additional-kwargs'
    """
    return "--" + parameter.name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser; the AssumeRole options come from the parameter table.

    Returns:
        The parser for ``lambda-assume-role``. Use `parse_arguments` to parse with
        the command's hints for arguments it does not know.

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
    _add_assume(commands)
    _add_build_layer(commands)
    return parser


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (None: `sys.argv`), or raise `CommandError` (exit 2).

    Arguments the parser does not know are one error line, which tells how to give
    several runtimes when the stray ones look like runtimes (``--runtime`` takes one).

    Example:
        >>> try:
        ...     parse_arguments(["build-layer", "--runtime", "python3.12", "python3.13"])
        ... except CommandError as error:
        ...     print(error.message)
        unrecognized arguments: python3.13; --runtime takes one runtime: repeat it for each (--runtime python3.12 --runtime python3.13) (see 'lambda-assume-role --help')
    """  # noqa: E501
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        message = f"unrecognized arguments: {' '.join(unknown)}"
        if args.command == "build-layer" and any(u.startswith("python3") for u in unknown):
            message += (
                "; --runtime takes one runtime: repeat it for each "
                "(--runtime python3.12 --runtime python3.13)"
            )
        parser.error(message)
    return args


def assume_role_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The AssumeRole keywords given on the command line, converted by their table kind.

    Raises:
        CommandError: A value does not fit its kind (exit 2); the message names the
            option, what it accepts and (cut to 60 characters) the value.
    """
    arguments: dict[str, Any] = {}
    for parameter in ASSUME_ROLE_PARAMETERS:
        text = getattr(args, parameter.name)
        if text is not None:
            arguments[parameter.name] = _convert(parameter, text)
    return arguments


def _add_assume(commands: Any) -> None:
    assume = commands.add_parser(
        "assume",
        help="assume a role and print its credentials",
        description=(
            'Assume ROLE_ARN and print the credentials, as shell lines for eval "$(...)" '
            "(export NAME=value, the default) or as credential_process JSON. "
            "Exit codes: 2 bad arguments or configuration (a credential_process that "
            "calls itself included), 3 no parent credentials, 4 the role cannot be assumed."
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


def _add_build_layer(commands: Any) -> None:
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
    layer.add_argument(
        "--output",
        metavar="PATH",
        help=(
            f"the zip file to write (default: {DEFAULT_LAYER_ZIP}); with --directory, the "
            f"folder to write python/ into (default: {DEFAULT_LAYER_DIRECTORY}), which must "
            "not end in .zip"
        ),
    )
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
            "one Lambda runtime to compile for and declare, e.g. python3.13; repeat the "
            "option for more (--runtime python3.12 --runtime python3.13); default: every "
            "supported runtime with an interpreter here"
        ),
    )


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
