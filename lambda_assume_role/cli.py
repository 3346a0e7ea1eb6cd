"""The ``lambda-assume-role`` command: a thin argparse front end over the library.

``assume`` prints credentials for a role, as ``python -m aws_assume_role_lib``
does: as environment lines (the default) or as ``credential_process`` JSON.
``build-layer`` writes the Lambda layer zip.

Errors are one line on stderr, never a traceback, and never contain a key.
Exit codes follow aws-assume-role-lib: 2 for bad arguments, 3 when the parent
has no credentials, 4 when the role cannot be assumed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

EXIT_BAD_ARGUMENTS = 2
EXIT_NO_CREDENTIALS = 3
EXIT_ASSUME_FAILED = 4


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a JSON object") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _json_or_pairs(text: str) -> Any:
    """A JSON value, or ``Key1=Value1,Key2=Value2``."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return dict(item.split("=", 1) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("must be JSON or Key1=Value1,Key2=Value2") from None


def _json_or_list(text: str) -> Any:
    """A JSON value, or ``Item1,Item2``."""
    try:
        return json.loads(text)
    except ValueError:
        return text.split(",")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-assume-role",
        description="Assume IAM roles with refreshing credentials; build the Lambda layer.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assume = commands.add_parser(
        "assume",
        help="assume a role and print its credentials",
        description=(
            "Assume ROLE_ARN and print the credentials, as environment lines "
            "(export $(lambda-assume-role assume ...)) or as credential_process JSON."
        ),
    )
    assume.add_argument("RoleArn", metavar="ROLE_ARN")
    assume.add_argument("--profile", help="the AWS config profile to assume the role from")
    output = assume.add_mutually_exclusive_group()
    output.add_argument(
        "--env", action="store_const", const="env", dest="format", help="env lines (default)"
    )
    output.add_argument(
        "--json",
        action="store_const",
        const="json",
        dest="format",
        help="credential_process JSON (Version 1, with Expiration)",
    )
    assume.set_defaults(format="env")
    assume.add_argument("--RoleSessionName", metavar="NAME")
    assume.add_argument("--PolicyArns", type=_json_or_list, metavar="ARN1,ARN2|JSON")
    assume.add_argument("--Policy", type=_json_object, metavar="JSON")
    assume.add_argument("--DurationSeconds", type=int, metavar="SECONDS")
    assume.add_argument("--Tags", type=_json_or_pairs, metavar="K1=V1,K2=V2|JSON")
    assume.add_argument("--TransitiveTagKeys", type=_json_or_list, metavar="K1,K2|JSON")
    assume.add_argument("--ExternalId", metavar="ID")
    assume.add_argument("--SerialNumber", metavar="SERIAL")
    assume.add_argument("--TokenCode", metavar="CODE")
    assume.add_argument("--SourceIdentity", metavar="IDENTITY")
    assume.add_argument(
        "--additional-kwargs", dest="additional_kwargs", type=_json_object, metavar="JSON"
    )

    layer = commands.add_parser("build-layer", help="write the Lambda layer zip")
    layer.add_argument("--output", default="lambda-assume-role-layer.zip", metavar="PATH")
    layer.add_argument(
        "--directory",
        action="store_true",
        help="write the layer's files under PATH/python instead of a zip (SAM makefile builds)",
    )
    layer.add_argument(
        "--slim", action="store_true", help="leave Powertools out (use its public layer)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments, without the program name; None reads `sys.argv`.

    Returns:
        The exit code.
    """
    args = _parser().parse_args(argv)
    if args.command == "build-layer":
        return _build_layer(args)
    return _assume(args)


def _fail(code: int, message: str) -> int:
    print(f"lambda-assume-role: {' '.join(message.split())}", file=sys.stderr)
    return code


def _assume(args: argparse.Namespace) -> int:
    import boto3
    import botocore.exceptions

    from lambda_assume_role.assume import assume_role
    from lambda_assume_role.errors import AssumeRoleConnectionError, AssumeRoleError
    from lambda_assume_role.parameters import InvalidParameterError

    try:
        parent = boto3.Session(profile_name=args.profile)
        if not parent.get_credentials():
            return _fail(EXIT_NO_CREDENTIALS, "unable to locate credentials")
    except botocore.exceptions.BotoCoreError as error:
        return _fail(EXIT_NO_CREDENTIALS, f"unable to locate credentials: {error}")

    options = {
        name: value
        for name, value in vars(args).items()
        if name not in {"command", "profile", "format", "RoleArn"}
    }
    try:
        session = assume_role(parent, args.RoleArn, region_name=True, **options)
        credentials = session.assume_role_credentials
        frozen = credentials.get_frozen_credentials()
    except (InvalidParameterError, botocore.exceptions.ParamValidationError) as error:
        return _fail(EXIT_BAD_ARGUMENTS, str(error))
    except (AssumeRoleError, AssumeRoleConnectionError) as error:
        return _fail(EXIT_ASSUME_FAILED, str(error))
    except botocore.exceptions.BotoCoreError as error:
        return _fail(EXIT_ASSUME_FAILED, f"AssumeRole for {args.RoleArn} failed: {error}")

    expiry = credentials.expiry_time
    expiration = expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if expiry else None
    if args.format == "json":
        document: dict[str, Any] = {
            "Version": 1,
            "AccessKeyId": frozen.access_key,
            "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token,
        }
        if expiration:
            document["Expiration"] = expiration
        print(json.dumps(document, indent=2))
    else:
        lines = [
            f"AWS_ACCESS_KEY_ID={frozen.access_key}",
            f"AWS_SECRET_ACCESS_KEY={frozen.secret_key}",
            f"AWS_SESSION_TOKEN={frozen.token}",
        ]
        if expiration:
            lines.append(f"AWS_CREDENTIALS_EXPIRATION={expiration}")
        print("\n".join(lines))
    return 0


def _build_layer(args: argparse.Namespace) -> int:
    from lambda_assume_role.layer import LayerBuildError, build_layer, build_layer_directory

    build = build_layer_directory if args.directory else build_layer
    try:
        report = build(args.output, slim=args.slim)
    except (LayerBuildError, OSError) as error:
        return _fail(1, f"cannot build the layer: {error}")
    print(report.summary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
