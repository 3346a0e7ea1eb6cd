"""Build the layer: stage its ``python/`` tree, compile it, then zip it or move it into place.

Why apart: this is the one module that writes outside a scratch folder, so its care is
all about the end state: a zip is written to a temporary file and renamed over the
target, and the directory form is staged inside the target and swapped in for its
``python/``, so a failed build never leaves a partial layer.

The zip is reproducible: sorted entries, a fixed 1980-01-01 timestamp, fixed
permissions, DEFLATE level 9, no directory entries and no extra fields, and bytecode
compiled with ``PYTHONHASHSEED=0`` (frozenset constants are marshalled in hash order)
in a fixed order, so two builds from the same installed files and interpreters are
byte-identical (given the same zlib).

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first = build_layer(Path(folder, "a.zip"), slim=True, bytecode=False)
    ...     second = build_layer(Path(folder, "b.zip"), slim=True, bytecode=False)
    ...     first.path.read_bytes() == second.path.read_bytes()
    True
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from lambda_assume_role_tools.layer.bytecode import compile_sources
from lambda_assume_role_tools.layer.contents import (
    LAYER_ROOT,
    collect_entries,
    write_dist_info,
    write_record,
)
from lambda_assume_role_tools.layer.report import LayerReport
from lambda_assume_role_tools.layer.runtimes import RuntimePlan, plan_runtimes

__all__ = ["build_layer", "build_layer_directory", "stage", "zip_info"]

_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_ATTR = (stat.S_IFREG | 0o644) << 16
_ZIP_CREATE_SYSTEM = 3  # Unix, so that external_attr holds Unix permissions
_ZIP_COMPRESSLEVEL = 9


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
    """
    target = Path(output)
    plan = plan_runtimes(runtimes, bytecode=bytecode)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lambda-assume-role-layer-") as scratch:
        staged = Path(scratch) / LAYER_ROOT
        files, report = stage(staged, slim=slim, plan=plan)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as raw:
                with zipfile.ZipFile(raw, "w") as archive:
                    for relative in files:
                        archive.writestr(
                            zip_info(f"{LAYER_ROOT}/{relative}"),
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
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     report = build_layer_directory(folder, slim=True, bytecode=False)
        ...     (report.path / "python" / "lambda_assume_role" / "py.typed").is_file()
        True
    """
    target = Path(output_dir)
    plan = plan_runtimes(runtimes, bytecode=bytecode)
    target.mkdir(parents=True, exist_ok=True)
    mtime = time.mktime((*_ZIP_DATE_TIME, 0, 1, -1))
    staging = Path(tempfile.mkdtemp(prefix=f".{LAYER_ROOT}.", suffix=".tmp", dir=target))
    try:
        files, report = stage(staging, slim=slim, plan=plan)
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


def stage(root: Path, *, slim: bool, plan: RuntimePlan) -> tuple[list[str], LayerReport]:
    """Write the layer's ``python/`` tree into *root*.

    Sources and trimmed ``.dist-info`` folders are copied, our ``.dist-info`` is
    written, each interpreter compiles every ``.py``, and last our ``RECORD`` lists
    what was shipped of ours, bytecode included.

    Returns:
        The files, relative to *root* and sorted, and the report of the tree at *root*
        (the callers set where the layer ends up, and the zip's size).
    """
    interpreters = plan.interpreters
    entries, distributions = collect_entries(slim=slim)
    root.mkdir(parents=True, exist_ok=True)
    for arcname, source in entries:
        destination = root / PurePosixPath(arcname).relative_to(LAYER_ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    dist_info = write_dist_info(root)
    sources = sorted(
        PurePosixPath(arcname).relative_to(LAYER_ROOT).as_posix()
        for arcname, _ in entries
        if arcname.endswith(".py")
    )
    # One process per runtime, side by side: each writes only its own cpython-3XY files.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(interpreters))) as pool:
        for done in [pool.submit(compile_sources, root, sources, i) for i in interpreters]:
            done.result()
    write_record(root, dist_info)
    files = sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())
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


def zip_info(arcname: str) -> zipfile.ZipInfo:
    """The normalised zip entry for *arcname*: fixed date, mode 0644, DEFLATE, no extras.

    Example:
        >>> info = zip_info("python/x.py")
        >>> info.date_time, oct(info.external_attr >> 16), info.extra
        ((1980, 1, 1, 0, 0, 0), '0o100644', b'')
    """
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
