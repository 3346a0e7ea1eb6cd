"""The ``build-layer`` command: check where the layer goes, build it, print what was written.

Why apart: the layer builder (`lambda_assume_role_tools.layer`) knows nothing of the
command line; this module turns its options into a call, and its errors into exit
codes: a runtime that cannot be built, or an ``--output`` that does not fit the form
asked for, is a bad argument (exit 2) reported before anything is built; any other
failure exits 1. Runtimes left out of a default build are one notice line each.

Example:
    >>> import argparse
    >>> layer_output(argparse.Namespace(output=None, directory=True))
    PosixPath('lambda-assume-role-layer')
    >>> try:
    ...     layer_output(argparse.Namespace(output="layer.zip", directory=True))
    ... except CommandError as error:
    ...     print(error.code, error.message)
    2 --output layer.zip ends in .zip, but --directory writes a folder (PATH/python/...): name a folder, or leave --directory out to write a zip
"""  # noqa: E501

from __future__ import annotations

import argparse
from pathlib import Path

from lambda_assume_role_tools.cli.errors import (
    EXIT_BAD_ARGUMENTS,
    EXIT_FAILED,
    CommandError,
)
from lambda_assume_role_tools.cli.output import notice, write
from lambda_assume_role_tools.cli.parsing import DEFAULT_LAYER_DIRECTORY, DEFAULT_LAYER_ZIP

__all__ = ["layer_output", "run_build_layer"]


def run_build_layer(args: argparse.Namespace) -> int:
    """Build the layer; print its summary (and, for a zip, the command that publishes it).

    Raises:
        CommandError: Exit 2 for a bad ``--output`` or ``--runtime``, before anything
            is built; exit 1 for any other failure.
    """
    output = layer_output(args)
    from lambda_assume_role_tools.layer import (
        InterpreterNotFoundError,
        LayerBuildError,
        UnsupportedRuntimeError,
        build_layer,
        build_layer_directory,
    )

    build = build_layer_directory if args.directory else build_layer
    try:
        report = build(output, slim=args.slim, runtimes=args.runtimes)
    except (InterpreterNotFoundError, UnsupportedRuntimeError) as error:
        raise CommandError(EXIT_BAD_ARGUMENTS, f"cannot build the layer: {error}") from None
    except (LayerBuildError, OSError) as error:
        raise CommandError(EXIT_FAILED, f"cannot build the layer: {error}") from None
    for line in report.notices:
        notice(line)
    lines = [report.summary()]
    if report.zipped_bytes is not None:
        lines.append(f"publish it with: {report.publish_command()}")
    write("\n".join(lines) + "\n")
    return 0


def layer_output(args: argparse.Namespace) -> Path:
    """Where the layer goes: ``--output``, or the default for the form asked for.

    Raises:
        CommandError: (exit 2) ``--directory`` with an ``--output`` ending in ``.zip``
            (it would make a folder named like a zip), or a zip whose ``--output`` is
            an existing folder.
    """
    if args.output is None:
        return Path(DEFAULT_LAYER_DIRECTORY if args.directory else DEFAULT_LAYER_ZIP)
    output = Path(args.output)
    if args.directory and output.suffix.lower() == ".zip":
        raise CommandError(
            EXIT_BAD_ARGUMENTS,
            f"--output {args.output} ends in .zip, but --directory writes a folder "
            "(PATH/python/...): name a folder, or leave --directory out to write a zip",
        )
    if not args.directory and output.is_dir():
        raise CommandError(
            EXIT_BAD_ARGUMENTS,
            f"--output {args.output} is a folder, but without --directory the layer is a "
            "zip file: name the zip (e.g. layer.zip), or add --directory to write the "
            "layer's files into the folder",
        )
    return output
