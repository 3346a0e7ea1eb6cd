"""Build an AWS Lambda layer that ships ``lambda_assume_role`` (and Powertools), with bytecode.

The layer puts everything under ``python/`` so that, once extracted to ``/opt``,
the Lambda Python runtime finds it on ``/opt/python``:

* ``python/lambda_assume_role/``: the runtime package whole, its ``*.py`` files and
  ``py.typed``, less its ``__main__.py`` (which only runs the command line, and this
  package, `lambda_assume_role_tools`, is not in the layer);
* ``python/lambda_assume_role-<version>.dist-info/``: ``METADATA`` (the installed
  distribution's headers), ``top_level.txt`` and a ``RECORD`` of exactly the files
  shipped, so that ``importlib.metadata.version("lambda-assume-role")`` works in Lambda;
* unless *slim*: ``aws_lambda_powertools`` and its pure-Python runtime
  dependencies, copied from the distributions installed in the running
  interpreter (no network, no pip), each with a trimmed ``.dist-info`` that
  keeps ``METADATA``, ``top_level.txt`` and license files so that
  ``importlib.metadata`` still finds them;
* ``__pycache__/*.cpython-3XY.pyc`` next to every ``.py`` above, for each runtime
  the layer is declared for (see below).

What the Lambda runtime already provides (boto3, botocore, s3transfer,
python-dateutil, urllib3, six, jmespath) is left out, like Powertools' own
layer does. Tests, installed ``__pycache__``, ``*.pyi`` stubs and ``.pth`` files are dropped.

**Bytecode.** ``/opt`` is read-only in Lambda, so a module shipped as source alone is
compiled again at every cold start. Each ``.py`` is compiled by the interpreter of each
runtime, in a subprocess of it, to PEP 552 *unchecked-hash* ``.pyc`` files: a layer
version is immutable, its files never change in place, so checking the source at every
import buys nothing (a checked-hash ``.pyc`` makes the import read and hash its source
each time), and a hash-based ``.pyc`` does not depend on file dates, which zips and
``sam build`` rewrite (timestamp ``.pyc`` files go stale that way: aws/aws-lambda-builders#924).
The interpreter for ``python3.X`` is this one if it is 3.X, else ``python3.X`` on
``PATH``, else the newest ``$(pyenv root)/versions/3.X.*/bin/python3.X``; each
candidate is run once to check its version. The layer is declared for exactly the
runtimes it has bytecode for (`LayerReport.runtimes`): by default those of
`SUPPORTED_RUNTIMES` with an interpreter here, each one left out named in
`LayerReport.notices`; runtimes asked for by name must all have one
(`InterpreterNotFoundError` otherwise). A runtime never gets bytecode it would reject.

The zip is reproducible: sorted entries, a fixed 1980-01-01 timestamp, fixed
permissions, DEFLATE level 9, no directory entries and no extra fields, and bytecode
compiled with ``PYTHONHASHSEED=0`` (frozenset constants are marshalled in hash order)
in a fixed order, so two builds from the same installed files and interpreters are
byte-identical (given the same zlib).

This module imports nothing but the standard library (and ``lambda_assume_role`` to
find it), and is not part of the layer.

Example:
    >>> from lambda_assume_role_tools.layer import build_layer
    >>> report = build_layer("layer.zip", slim=True)  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    layer.zip: 60 files, 130.2 KB zipped, 420.4 KB unzipped (slim); bytecode for python3.13
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import NamedTuple

import lambda_assume_role

__all__ = [
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

LAYER_ROOT = "python"
"""The folder every layer entry lives under (``/opt/python`` in Lambda)."""

RUNTIME_PROVIDED: Mapping[str, str] = MappingProxyType(
    {
        "boto3": "boto3",
        "botocore": "botocore",
        "s3transfer": "s3transfer",
        "python-dateutil": "dateutil",
        "urllib3": "urllib3",
        "six": "six",
        "jmespath": "jmespath",
    }
)
"""What the Lambda Python runtime ships besides the standard library: the one list of it,
as distribution (normalised name) -> top-level import name. The layer leaves these out;
the Lambda emulator (``emulators.lambda_runtime``) puts exactly these on a function's path."""

RUNTIME_PROVIDED_DISTRIBUTIONS = frozenset(RUNTIME_PROVIDED)
"""The distributions of `RUNTIME_PROVIDED`."""

RUNTIME_PROVIDED_MODULES = tuple(RUNTIME_PROVIDED.values())
"""The top-level import names of `RUNTIME_PROVIDED`."""

SUPPORTED_RUNTIMES = ("python3.12", "python3.13", "python3.14")
"""The Lambda runtimes the layer can be built for: the one list of them.

The Lambda runtimes table (read December 2026) lists python3.12 to 3.14 on
Amazon Linux 2023 as supported; python3.10 and 3.11 were deprecated on
2026-06-30, and new functions on them are blocked from 2026-07-31. The layer
is pure Python, so one build serves both architectures; its bytecode is per
runtime, so a build is declared for those of these it could compile for.
``template.yaml`` cannot import this: ``tests/unit/test_layer.py`` checks that
its ``CompatibleRuntimes`` and every function's ``Runtime`` are among these.
Off Lambda the library itself runs on Python 3.10+ (``requires-python``).
"""

LAYER_PATH_IN_LAMBDA = "/opt/python"
"""Where ``python/`` lands in Lambda: the file name recorded in the bytecode (for tracebacks)."""

_ROOT_DISTRIBUTION = "aws-lambda-powertools"
_OUR_DISTRIBUTION = "lambda-assume-role"
# Runs the command line only: the layer does not ship it (nor the tools package it runs).
_PACKAGE_EXCLUDED = frozenset({"__main__.py"})

_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_ATTR = (stat.S_IFREG | 0o644) << 16
_ZIP_CREATE_SYSTEM = 3  # Unix, so that external_attr holds Unix permissions
_ZIP_COMPRESSLEVEL = 9

# Directory names that never belong in a layer.
_SKIPPED_DIRS = frozenset({"__pycache__", "tests", "test"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi", ".pth")
_NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")
# Files of a .dist-info folder we keep; license files are kept as well.
_KEPT_DIST_INFO_FILES = frozenset({"METADATA", "top_level.txt"})
_LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")

_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_Entry = tuple[str, Path]
_Distributions = tuple[tuple[str, str], ...]

_WHERE_LOOKED = "on PATH or under pyenv"
_PROBE_TIMEOUT = 30
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
_PROBE = "import sys; print(sys.implementation.cache_tag, '%d.%d' % sys.version_info[:2])"


class LayerBuildError(RuntimeError):
    """The layer cannot be built from the installed distributions and interpreters."""


class UnsupportedRuntimeError(LayerBuildError, ValueError):
    """A runtime asked for is not one of `SUPPORTED_RUNTIMES`."""


class InterpreterNotFoundError(LayerBuildError):
    """A runtime the layer must be declared for has no interpreter here to compile for it."""


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """The CPython interpreter that compiles the layer's bytecode for one Lambda runtime.

    Attributes:
        runtime: The Lambda runtime, e.g. ``python3.13``.
        executable: The interpreter's path.
        cache_tag: Its ``sys.implementation.cache_tag``, e.g. ``cpython-313``: the
            middle of its ``.pyc`` file names.
    """

    runtime: str
    executable: Path
    cache_tag: str


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """What a layer build wrote.

    Attributes:
        path: The zip file, or the directory that holds ``python/``.
        files: How many files the layer contains.
        zipped_bytes: Size of the zip file; ``None`` for the directory form.
        unzipped_bytes: Total size of the files once extracted.
        distributions: ``(name, version)`` of every third-party distribution
            included, sorted by name; empty for a slim layer.
        slim: Whether the layer holds only this package.
        runtimes: The Lambda runtimes the layer is declared for: with bytecode,
            exactly those it has bytecode for.
        bytecode: Whether the layer ships ``.pyc`` files (for each of *runtimes*).
        notices: One line per supported runtime left out for want of an interpreter.

    Example:
        >>> report = LayerReport(Path("layer.zip"), 41, 39_117, 155_648, (), slim=True)
        >>> report.summary()
        'layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim); sources only'
    """

    path: Path
    files: int
    zipped_bytes: int | None
    unzipped_bytes: int
    distributions: _Distributions
    slim: bool = False
    runtimes: tuple[str, ...] = SUPPORTED_RUNTIMES
    bytecode: bool = False
    notices: tuple[str, ...] = ()

    def summary(self) -> str:
        """Describe the layer in one line, with sizes in human units (1 KB = 1024 bytes).

        Returns:
            For example ``layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim);
            bytecode for python3.13``; a full layer lists its distributions in the
            parentheses instead.

        Example:
            >>> LayerReport(Path("out"), 2, None, 2048, (("jmespath", "1.1.0"),),
            ...             runtimes=("python3.13",), bytecode=True).summary()
            'out: 2 files, 2.0 KB unzipped (jmespath 1.1.0); bytecode for python3.13'
        """
        parts = [f"{self.path.name or self.path}: {self.files} files"]
        if self.zipped_bytes is not None:
            parts.append(f"{_human_size(self.zipped_bytes)} zipped")
        parts.append(f"{_human_size(self.unzipped_bytes)} unzipped")
        text = ", ".join(parts)
        if self.slim:
            text += " (slim)"
        elif self.distributions:
            included = ", ".join(f"{name} {version}" for name, version in self.distributions)
            text += f" ({included})"
        if self.bytecode:
            return f"{text}; bytecode for {', '.join(self.runtimes)}"
        return f"{text}; sources only"

    def publish_command(self, layer_name: str = "lambda-assume-role") -> str:
        """The AWS CLI command that publishes this zip for exactly its runtimes.

        Example:
            >>> LayerReport(Path("build/layer.zip"), 1, 1, 1, (),
            ...             runtimes=("python3.12", "python3.13")).publish_command()
            'aws lambda publish-layer-version --layer-name lambda-assume-role --zip-file fileb://build/layer.zip --compatible-runtimes python3.12 python3.13 --compatible-architectures x86_64 arm64'
        """  # noqa: E501
        return shlex.join(
            [
                "aws",
                "lambda",
                "publish-layer-version",
                "--layer-name",
                layer_name,
                "--zip-file",
                f"fileb://{self.path.as_posix()}",
                "--compatible-runtimes",
                *self.runtimes,
                "--compatible-architectures",
                "x86_64",
                "arm64",
            ]
        )


def build_layer(
    output: str | os.PathLike[str],
    *,
    slim: bool = False,
    runtimes: Sequence[str] | None = None,
    bytecode: bool = True,
) -> LayerReport:
    """Write the layer as a reproducible zip file.

    The file is written to a temporary file next to *output* and moved into
    place with :func:`os.replace`, so a failed build never leaves a partial zip.

    Args:
        output: Path of the zip file to write; missing parent folders are created.
        slim: Ship only ``lambda_assume_role``, without Powertools and its
            dependencies (for functions that already have the Powertools layer).
        runtimes: The Lambda runtimes to compile for, each of which must have an
            interpreter here; ``None``: those of `SUPPORTED_RUNTIMES` that have one.
        bytecode: ``False`` ships sources only (compiled at every cold start), declared
            for *runtimes* (default: all supported); for tests and the benchmark.

    Returns:
        The report, with both the zipped and the unzipped size.

    Raises:
        UnsupportedRuntimeError: A runtime is not in `SUPPORTED_RUNTIMES`.
        InterpreterNotFoundError: A runtime named has no interpreter, or (by default)
            none of the supported runtimes has one.
        LayerBuildError: A needed distribution is missing, has no file list,
            contains compiled code, or two sources claim the same file; or a file
            does not compile.

    Example:
        >>> report = build_layer("dist/layer.zip")  # doctest: +SKIP
        >>> report.zipped_bytes < 50 * 1024 * 1024  # doctest: +SKIP
        True
    """
    target = Path(output)
    plan = _plan_runtimes(runtimes, bytecode=bytecode)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lambda-assume-role-layer-") as scratch:
        staged = Path(scratch) / LAYER_ROOT
        files, report = _stage(staged, slim=slim, plan=plan)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        try:
            with os.fdopen(fd, "wb") as raw:
                with zipfile.ZipFile(raw, "w") as archive:
                    for relative in files:
                        archive.writestr(
                            _zip_info(f"{LAYER_ROOT}/{relative}"),
                            (staged / relative).read_bytes(),
                            compress_type=zipfile.ZIP_DEFLATED,
                            compresslevel=_ZIP_COMPRESSLEVEL,
                        )
                raw.flush()
                os.fsync(raw.fileno())
            os.chmod(tmp_name, 0o644)  # a layer zip is not secret
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
    return dataclasses.replace(report, path=target, zipped_bytes=target.stat().st_size)


def build_layer_directory(
    output_dir: str | os.PathLike[str],
    *,
    slim: bool = False,
    runtimes: Sequence[str] | None = None,
    bytecode: bool = True,
) -> LayerReport:
    """Write the layer unzipped: the same files as :func:`build_layer`, under ``output_dir/python``.

    This is the form a SAM ``BuildMethod: makefile`` target needs
    (``$(ARTIFACTS_DIR)/python/...``). The tree is assembled in a temporary
    folder inside *output_dir* and then swapped in for ``output_dir/python``,
    so files left by an earlier build do not survive. Files get mode 0644 and
    the same fixed 1980-01-01 modification time as the zip entries (the
    bytecode is hash-based, so dates do not matter to it).

    Args:
        output_dir: The folder to write ``python/`` into; created if missing.
        slim: Ship only ``lambda_assume_role`` (see :func:`build_layer`).
        runtimes: As for :func:`build_layer`.
        bytecode: As for :func:`build_layer`.

    Returns:
        The report; ``zipped_bytes`` is ``None``.

    Raises:
        LayerBuildError: As for :func:`build_layer`.

    Example:
        >>> import os
        >>> report = build_layer_directory(os.environ["ARTIFACTS_DIR"])  # doctest: +SKIP
        >>> (report.path / "python" / "lambda_assume_role").is_dir()  # doctest: +SKIP
        True
    """
    target = Path(output_dir)
    plan = _plan_runtimes(runtimes, bytecode=bytecode)
    target.mkdir(parents=True, exist_ok=True)
    mtime = time.mktime((*_ZIP_DATE_TIME, 0, 1, -1))
    staging = Path(tempfile.mkdtemp(prefix=f".{LAYER_ROOT}.", suffix=".tmp", dir=target))
    try:
        files, report = _stage(staging, slim=slim, plan=plan)
        for relative in files:
            path = staging / relative
            os.chmod(path, 0o644)  # layer files are world-readable
            os.utime(path, (mtime, mtime))
        # mkdtemp makes the folder private; the layer's python/ must be readable like its files.
        os.chmod(staging, 0o755)  # noqa: S103
        _swap_directory(staging, target / LAYER_ROOT)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dataclasses.replace(report, path=target)


# --- runtimes and their interpreters ---------------------------------------------------------


def find_interpreter(runtime: str) -> Interpreter | None:
    """The CPython interpreter here that can compile bytecode for *runtime*, if any.

    Candidates, in order: this interpreter (if its version is the runtime's),
    ``python3.X`` on ``PATH`` (unless it is a pyenv shim, which only dispatches to the
    next candidates, and takes a few hundred ms to fail when its version is not
    selected), then ``$(pyenv root)/versions/3.X.*/bin/python3.X`` (newest patch
    release first). Each is run once to check that it starts and is CPython 3.X.

    Args:
        runtime: A Lambda runtime name, e.g. ``python3.13``.

    Returns:
        The interpreter, or ``None`` when there is none.

    Raises:
        UnsupportedRuntimeError: *runtime* is not in `SUPPORTED_RUNTIMES`.

    Example:
        >>> found = find_interpreter("python3.13")  # doctest: +SKIP
        >>> found.cache_tag  # doctest: +SKIP
        'cpython-313'
    """
    version = _runtime_version(runtime)
    for candidate in _candidates(version):
        cache_tag = _probe(candidate, version)
        if cache_tag is not None:
            return Interpreter(runtime, candidate, cache_tag)
    return None


def _runtime_version(runtime: str) -> str:
    if runtime not in SUPPORTED_RUNTIMES:
        raise UnsupportedRuntimeError(
            f"runtime {runtime!r} is not supported: choose from {', '.join(SUPPORTED_RUNTIMES)}"
        )
    return runtime.removeprefix("python")


def _candidates(version: str) -> Iterator[Path]:
    seen: set[Path] = set()

    def fresh(path: str | Path | None) -> Iterator[Path]:
        if path is None:
            return
        candidate = Path(path)
        if candidate not in seen and os.access(candidate, os.X_OK):
            seen.add(candidate)
            yield candidate

    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version and sys.executable:
        yield from fresh(sys.executable)
    root = _pyenv_root()
    on_path = shutil.which(f"python{version}")
    if on_path is not None and Path(on_path).parent != root / "shims":
        yield from fresh(on_path)
    pattern = str(root / "versions" / f"{version}.*" / "bin" / f"python{version}")
    for found in sorted(glob.glob(pattern), key=_patch_release, reverse=True):
        if _patch_release(found) >= 0:  # 3.13.0, not 3.13.0t or 3.13-dev
            yield from fresh(found)


def _patch_release(path: str) -> int:
    folder = Path(path).parent.parent.name  # versions/3.13.0/bin/python3.13
    patch = folder.rsplit(".", 1)[-1]
    return int(patch) if patch.isdigit() else -1


def _pyenv_root() -> Path:
    """What ``pyenv root`` prints (``$PYENV_ROOT``, else ``~/.pyenv``), without running it."""
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _probe(executable: Path, version: str) -> str | None:
    """The cache tag of *executable* if it runs and is CPython *version*, else ``None``."""
    try:
        completed = subprocess.run(  # noqa: S603 - an interpreter path, our own code
            [str(executable), "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            env=_child_environment(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    fields = completed.stdout.split()
    expected = f"cpython-{version.replace('.', '')}"
    if completed.returncode == 0 and fields == [expected, version]:
        return expected
    return None


class _Plan(NamedTuple):
    """The runtimes to declare, the interpreters to compile with (none: sources only), and
    notices of the supported runtimes left out."""

    runtimes: tuple[str, ...]
    interpreters: tuple[Interpreter, ...]
    notices: tuple[str, ...]


def _plan_runtimes(runtimes: Sequence[str] | None, *, bytecode: bool) -> _Plan:
    """Check the runtimes asked for and find their interpreters, before anything is written."""
    asked = SUPPORTED_RUNTIMES if runtimes is None else tuple(runtimes)
    for runtime in asked:
        _runtime_version(runtime)
    wanted = tuple(r for r in SUPPORTED_RUNTIMES if r in asked)  # supported order, once each
    if not wanted:
        raise UnsupportedRuntimeError("no runtime given: name at least one, or leave them out")
    if not bytecode:
        return _Plan(wanted, (), ())
    interpreters: list[Interpreter] = []
    missing: list[str] = []
    for runtime in wanted:
        found = find_interpreter(runtime)
        if found is None:
            missing.append(runtime)
        else:
            interpreters.append(found)
    if runtimes is not None and missing:
        raise InterpreterNotFoundError(
            f"{', '.join(missing)}: no interpreter found {_WHERE_LOOKED}; the layer's "
            "bytecode is compiled by each runtime's own interpreter (install it, or leave "
            "--runtime out to build for the runtimes that have one)"
        )
    if not interpreters:
        raise InterpreterNotFoundError(
            f"no interpreter for any of {', '.join(wanted)} found {_WHERE_LOOKED}: "
            "the layer would be declared for no runtime"
        )
    declared = tuple(i.runtime for i in interpreters)
    notices = tuple(
        f"{runtime}: no interpreter found {_WHERE_LOOKED}; "
        f"the layer is declared for {', '.join(declared)}"
        for runtime in missing
    )
    return _Plan(declared, tuple(interpreters), notices)


def _child_environment() -> dict[str, str]:
    """A clean environment for an interpreter we run: no PYTHON* of ours, a fixed hash seed.

    ``PYTHONHASHSEED=0`` makes the order of frozenset constants (``x in {"a", "b"}``)
    in the marshalled bytecode the same on every build.
    """
    environment = {"PYTHONHASHSEED": "0", "PYTHONUTF8": "1", "PATH": os.environ.get("PATH", "")}
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows needs it to start Python
        environment["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return environment


# --- the layer's files -----------------------------------------------------------------------


def _stage(root: Path, *, slim: bool, plan: _Plan) -> tuple[list[str], LayerReport]:
    """Write the layer's ``python/`` tree into *root*.

    Sources and trimmed ``.dist-info`` folders are copied, our ``.dist-info`` is
    written, each interpreter compiles every ``.py``, and last our ``RECORD`` lists
    what was shipped of ours, bytecode included.

    Returns:
        The files, relative to *root* and sorted, and the report of the tree at *root*
        (the callers set where the layer ends up, and the zip's size).
    """
    interpreters = plan.interpreters
    entries, distributions = _collect_entries(slim=slim)
    root.mkdir(parents=True, exist_ok=True)
    for arcname, source in entries:
        destination = root / PurePosixPath(arcname).relative_to(LAYER_ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    dist_info = _write_dist_info(root)
    sources = sorted(
        PurePosixPath(arcname).relative_to(LAYER_ROOT).as_posix()
        for arcname, _ in entries
        if arcname.endswith(".py")
    )
    # One process per runtime, side by side: each writes only its own cpython-3XY files.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(interpreters))) as pool:
        for done in [pool.submit(_compile, root, sources, i) for i in interpreters]:
            done.result()
    _write_record(root, dist_info)
    files = sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()
    )
    report = LayerReport(
        path=root,
        files=len(files),
        zipped_bytes=None,
        unzipped_bytes=sum((root / relative).stat().st_size for relative in files),
        distributions=distributions,
        slim=slim,
        runtimes=plan.runtimes,
        bytecode=bool(interpreters),
        notices=plan.notices,
    )
    return files, report


def _compile(root: Path, sources: Sequence[str], interpreter: Interpreter) -> None:
    """Compile *sources* (relative to *root*) to unchecked-hash bytecode with *interpreter*."""
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
            env=_child_environment(),
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


def _collect_entries(*, slim: bool) -> tuple[list[_Entry], _Distributions]:
    """List every source file of the layer as ``(archive path, source file)``, sorted.

    Args:
        slim: Leave out Powertools and its dependencies.

    Returns:
        The sorted entries and the ``(name, version)`` of each distribution included.

    Raises:
        LayerBuildError: See :func:`build_layer`.
    """
    package_dir = _package_dir()
    sources: dict[str, Path] = {}
    for arcname, source in _package_entries(package_dir):
        _add_entry(sources, arcname, source)
    distributions: list[tuple[str, str]] = []
    if not slim:
        for dist in _runtime_distributions(_ROOT_DISTRIBUTION):
            distributions.append((_normalise(dist.metadata["Name"]), dist.version))
            for arcname, source in _distribution_entries(dist):
                _add_entry(sources, arcname, source)
    if f"{LAYER_ROOT}/{package_dir.name}/__init__.py" not in sources:
        raise LayerBuildError(f"{package_dir} has no __init__.py")
    entries = sorted(sources.items())
    return entries, tuple(sorted(distributions))


def _package_dir() -> Path:
    return Path(lambda_assume_role.__file__).resolve().parent


def _add_entry(sources: dict[str, Path], arcname: str, source: Path) -> None:
    previous = sources.setdefault(arcname, source)
    if previous != source:
        raise LayerBuildError(f"{arcname} comes from both {previous} and {source}")


def _package_entries(package_dir: Path) -> Iterator[_Entry]:
    """Yield the runtime package's ``*.py`` files (not ``__main__.py``) and ``py.typed``."""
    for folder, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or not (filename.endswith(".py") or filename == "py.typed"):
                continue
            source = Path(folder, filename)
            relative = source.relative_to(package_dir).as_posix()
            if relative in _PACKAGE_EXCLUDED:
                continue
            yield f"{LAYER_ROOT}/{package_dir.name}/{relative}", source


def _write_dist_info(root: Path) -> Path:
    """Write ``lambda_assume_role-<version>.dist-info`` with METADATA and top_level.txt.

    METADATA is the installed distribution's header block (name, version, requirements),
    without the README that follows it. Its version must be the package's own: an
    installation older than the checkout would make the layer lie about what it ships.
    """
    package = _package_dir().name
    try:
        dist = importlib.metadata.distribution(_OUR_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise LayerBuildError(
            f"{_OUR_DISTRIBUTION} is not installed in {sys.prefix}: its METADATA is needed "
            "(pip install -e . or pip install .)"
        ) from None
    if dist.version != lambda_assume_role.__version__:
        raise LayerBuildError(
            f"the installed {_OUR_DISTRIBUTION} is {dist.version} but the package at "
            f"{_package_dir()} is {lambda_assume_role.__version__}: reinstall it"
        )
    metadata = dist.read_text("METADATA")
    if not metadata:
        raise LayerBuildError(f"{_OUR_DISTRIBUTION} {dist.version} has no METADATA")
    headers = metadata.replace("\r\n", "\n").split("\n\n", 1)[0].rstrip("\n") + "\n"
    dist_info = root / f"{package}-{dist.version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(headers, encoding="utf-8", newline="\n")
    (dist_info / "top_level.txt").write_text(f"{package}\n", encoding="utf-8", newline="\n")
    return dist_info


def _write_record(root: Path, dist_info: Path) -> None:
    """Write our RECORD: every file of the package and of its .dist-info, with hashes."""
    package = root / _package_dir().name
    shipped = sorted(
        path for folder in (package, dist_info) for path in folder.rglob("*") if path.is_file()
    )
    lines = [_record_line(path.relative_to(root).as_posix(), path.read_bytes()) for path in shipped]
    lines.append(f"{dist_info.name}/RECORD,,")
    record = "\n".join(sorted(lines)) + "\n"
    (dist_info / "RECORD").write_text(record, encoding="utf-8", newline="\n")


def _record_line(relative: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(data)}"


def _distribution_entries(dist: importlib.metadata.Distribution) -> Iterator[_Entry]:
    """Yield the files of an installed distribution that belong in the layer.

    The file list comes from the distribution's ``RECORD``; its ``.dist-info``
    folder is trimmed to ``METADATA``, ``top_level.txt`` and license files.
    """
    name = dist.metadata["Name"]
    files = dist.files
    if files is None:
        raise LayerBuildError(f"{name} {dist.version} has no RECORD: cannot tell its files")
    for package_path in files:
        parts = PurePosixPath(package_path.as_posix()).parts
        if not parts or parts[0] in ("..", "/") or ":" in parts[0]:
            continue  # scripts and data installed outside site-packages
        if not _keep_distribution_file(parts):
            continue
        if parts[-1].endswith(_NATIVE_SUFFIXES):
            raise LayerBuildError(
                f"{name} {dist.version} contains compiled code ({package_path}); "
                "a layer built from this interpreter would not run in Lambda"
            )
        source = Path(str(dist.locate_file(package_path)))
        if source.is_file():
            yield f"{LAYER_ROOT}/{'/'.join(parts)}", source


def _keep_distribution_file(parts: tuple[str, ...]) -> bool:
    top, filename = parts[0], parts[-1]
    if top.endswith(".dist-info"):
        return (len(parts) == 2 and filename in _KEPT_DIST_INFO_FILES) or (
            (len(parts) > 2 and parts[1] == "licenses")
            or filename.upper().startswith(_LICENSE_PREFIXES)
        )
    if top.endswith(".data") or top.removesuffix(".py") in RUNTIME_PROVIDED_MODULES:
        return False
    if any(part in _SKIPPED_DIRS for part in parts[:-1]):
        return False
    return not filename.endswith(_SKIPPED_SUFFIXES)


def _runtime_distributions(root: str) -> list[importlib.metadata.Distribution]:
    """Walk ``Requires-Dist`` from *root*, skipping extras and what the runtime provides.

    The pip that installed *root* already evaluated every environment marker
    for this interpreter, so a requirement is followed when it is not for an
    extra (``extra == ...``) and is installed; one that is not installed had a
    marker that did not apply.

    Returns:
        The distributions to ship, *root* first, each once.

    Raises:
        LayerBuildError: *root* is not installed.
    """
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = pending.pop(0)
        key = _normalise(name)
        if key in RUNTIME_PROVIDED_DISTRIBUTIONS or key in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if name == root:
                raise LayerBuildError(f"{name} is not installed in {sys.prefix}") from None
            continue
        found[key] = dist
        for requirement in dist.requires or ():
            spec, _, marker = requirement.partition(";")
            match = _REQUIREMENT_NAME.match(spec)
            if match and not re.search(r"\bextra\b", marker):
                pending.append(match.group(1))
    return list(found.values())


def _normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _zip_info(arcname: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _ZIP_CREATE_SYSTEM
    info.external_attr = _ZIP_FILE_ATTR
    info.extra = b""
    return info


def _swap_directory(new: Path, destination: Path) -> None:
    """Replace *destination* with *new*; both are in the same folder."""
    if not destination.exists() and not destination.is_symlink():
        os.replace(new, destination)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old.", dir=destination.parent))
    os.replace(destination, old / destination.name)
    os.replace(new, destination)
    shutil.rmtree(old, ignore_errors=True)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
