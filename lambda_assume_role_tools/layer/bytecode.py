"""Compile the layer's sources to unchecked-hash bytecode, with each runtime's own interpreter.

Why: ``/opt`` is read-only in Lambda, so a module shipped as source alone is compiled
again at every cold start. Each ``.py`` is compiled by the interpreter of each runtime,
in a subprocess of it (`compile_sources`), to PEP 552 *unchecked-hash* ``.pyc`` files:
a layer version is immutable, its files never change in place, so checking the source
at every import buys nothing (a checked-hash ``.pyc`` makes the import read and hash its
source each time), and a hash-based ``.pyc`` does not depend on file dates, which zips
and ``sam build`` rewrite (timestamp ``.pyc`` files go stale that way:
aws/aws-lambda-builders#924). The file name recorded in each ``.pyc`` (for tracebacks)
is where it lands in Lambda, under `LAYER_PATH_IN_LAMBDA`.

Example:
    >>> import sys, tempfile
    >>> tag = sys.implementation.cache_tag
    >>> this = Interpreter("python3.X", Path(sys.executable), tag)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "hello.py").write_text("x = 1\\n")
    ...     compile_sources(Path(folder), ["hello.py"], this)
    ...     pyc = (Path(folder) / "__pycache__" / f"hello.{tag}.pyc").read_bytes()
    >>> pyc[4:8].hex()  # PEP 552 flags: hash-based, not checked at import
    '01000000'
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lambda_assume_role_tools.layer.errors import LayerBuildError
from lambda_assume_role_tools.layer.runtimes import Interpreter, child_environment

__all__ = ["LAYER_PATH_IN_LAMBDA", "compile_sources"]

LAYER_PATH_IN_LAMBDA = "/opt/python"
"""Where ``python/`` lands in Lambda: the file name recorded in the bytecode (for tracebacks)."""

_COMPILE_TIMEOUT = 600
# Run by each runtime's interpreter: compile the listed files (relative to the staged
# python/ folder) to unchecked-hash bytecode, recording their /opt/python path.
_COMPILE = """\
import importlib.util, json, py_compile, sys
root, recorded = sys.argv[1], sys.argv[2]
for relative in json.load(sys.stdin):
    source = root + "/" + relative
    try:
        py_compile.compile(
            source,
            cfile=importlib.util.cache_from_source(source),
            dfile=recorded + "/" + relative,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except py_compile.PyCompileError as error:
        detail = error.exc_value
        line = getattr(detail, "lineno", None)
        where = relative + (f", line {line}" if line else "")
        sys.exit(f"{where}: {type(detail).__name__}: {getattr(detail, 'msg', detail)}")
"""


def compile_sources(root: Path, sources: Sequence[str], interpreter: Interpreter) -> None:
    """Compile *sources* (relative to *root*) to unchecked-hash bytecode with *interpreter*.

    Each file gets ``__pycache__/<name>.<cache tag>.pyc`` next to it; nothing else
    under *root* is touched, so one process per runtime can run side by side.

    Raises:
        LayerBuildError: The interpreter cannot run, or a file does not compile
            (the message names the file, the line and the error).
    """
    try:
        completed = subprocess.run(  # noqa: S603 - a probed interpreter, our own code
            [
                str(interpreter.executable),
                "-S",
                "-W",
                "ignore",
                "-c",
                _COMPILE,
                str(root),
                LAYER_PATH_IN_LAMBDA,
            ],
            input=json.dumps(list(sources)),
            capture_output=True,
            text=True,
            timeout=_COMPILE_TIMEOUT,
            env=child_environment(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise LayerBuildError(
            f"{interpreter.runtime}: cannot run {interpreter.executable}: {error}"
        ) from None
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or [f"exit code {completed.returncode}"]
        raise LayerBuildError(
            f"{interpreter.runtime}: {interpreter.executable} could not compile the layer: "
            f"{lines[-1]}"
        )
