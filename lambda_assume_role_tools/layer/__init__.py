"""Build an AWS Lambda layer that ships ``lambda_assume_role`` (and Powertools), with bytecode.

The layer puts everything under ``python/`` so that, once extracted to ``/opt``,
the Lambda Python runtime finds it on ``/opt/python``: the runtime package whole (less
its ``__main__.py``, `COMMAND_LINE_ENTRY`), its ``.dist-info``, and unless *slim*
Powertools and its pure-Python dependencies; what the Lambda runtime already provides
(`RUNTIME_PROVIDED`: boto3, botocore, ...) is left out, like Powertools' own layer does.
Next to every ``.py`` is a ``__pycache__/*.cpython-3XY.pyc`` for each runtime the layer
is declared for, compiled by that runtime's own interpreter as unchecked-hash bytecode.
The layer is declared for exactly the runtimes it has bytecode for
(`LayerReport.runtimes`): by default those of `SUPPORTED_RUNTIMES` with an interpreter
here, each one left out named in `LayerReport.notices`; runtimes asked for by name must
all have one (`InterpreterNotFoundError` otherwise). A runtime never gets bytecode it
would reject. The zip is reproducible: two builds from the same installed files and
interpreters are byte-identical.

One module per step, each saying why it is apart:

* `lambda_assume_role_tools.layer.runtimes`: which runtimes, and their interpreters;
* `lambda_assume_role_tools.layer.contents`: which files, and their metadata;
* `lambda_assume_role_tools.layer.bytecode`: compiling them for each runtime;
* `lambda_assume_role_tools.layer.build`: staging, then the zip or the folder;
* `lambda_assume_role_tools.layer.report`: what was written, and how to publish it;
* `lambda_assume_role_tools.layer.errors`: what can go wrong.

This package imports nothing but the standard library (and ``lambda_assume_role`` to
find it), and is not part of the layer.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = build_layer(Path(folder, "layer.zip"), slim=True, bytecode=False)
    >>> report.summary().startswith("layer.zip: "), report.summary().endswith(
    ...     "(slim); sources only")
    (True, True)
"""

from __future__ import annotations

from lambda_assume_role_tools.layer.build import build_layer, build_layer_directory
from lambda_assume_role_tools.layer.bytecode import LAYER_PATH_IN_LAMBDA
from lambda_assume_role_tools.layer.contents import (
    COMMAND_LINE_ENTRY,
    LAYER_ROOT,
    RUNTIME_PROVIDED,
    RUNTIME_PROVIDED_DISTRIBUTIONS,
    RUNTIME_PROVIDED_MODULES,
)
from lambda_assume_role_tools.layer.errors import (
    InterpreterNotFoundError,
    LayerBuildError,
    UnsupportedRuntimeError,
)
from lambda_assume_role_tools.layer.report import LayerReport
from lambda_assume_role_tools.layer.runtimes import (
    SUPPORTED_RUNTIMES,
    Interpreter,
    find_interpreter,
)

__all__ = [
    "COMMAND_LINE_ENTRY",
    "LAYER_PATH_IN_LAMBDA",
    "LAYER_ROOT",
    "RUNTIME_PROVIDED",
    "RUNTIME_PROVIDED_DISTRIBUTIONS",
    "RUNTIME_PROVIDED_MODULES",
    "SUPPORTED_RUNTIMES",
    "Interpreter",
    "InterpreterNotFoundError",
    "LayerBuildError",
    "LayerReport",
    "UnsupportedRuntimeError",
    "build_layer",
    "build_layer_directory",
    "find_interpreter",
]
