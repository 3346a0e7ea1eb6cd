"""Build an AWS Lambda layer that ships this package (and Powertools).

The layer puts everything under ``python/`` so that, once extracted to ``/opt``,
the Lambda Python runtime finds it on ``/opt/python``:

* ``python/lambda_assume_role/`` -- the ``*.py`` files and ``py.typed`` of the
  package this module belongs to;
* unless *slim*: ``aws_lambda_powertools`` and its pure-Python runtime
  dependencies, copied from the distributions installed in the running
  interpreter (no network, no pip), each with a trimmed ``.dist-info`` that
  keeps ``METADATA``, ``top_level.txt`` and license files so that
  ``importlib.metadata`` still finds them.

What the Lambda runtime already provides (boto3, botocore, s3transfer,
python-dateutil, urllib3, six, jmespath) is left out, like Powertools' own
layer does. Tests, ``__pycache__``, ``*.pyc`` and ``*.pyi`` stubs are dropped.

The zip is reproducible: sorted entries, a fixed 1980-01-01 timestamp, fixed
permissions, DEFLATE level 9, no directory entries and no extra fields, so two
builds from the same installed files are byte-identical (given the same zlib).

This module is only imported by the command-line interface and imports nothing
but the standard library.

Example:
    >>> from lambda_assume_role.layer import build_layer
    >>> report = build_layer("layer.zip", slim=True)  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    layer.zip: 10 files, 28.5 KB zipped, 82.1 KB unzipped (slim)
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "LAYER_ROOT",
    "RUNTIME_PROVIDED_DISTRIBUTIONS",
    "SUPPORTED_RUNTIMES",
    "LayerBuildError",
    "LayerReport",
    "build_layer",
    "build_layer_directory",
]

LAYER_ROOT = "python"
"""The folder every layer entry lives under (``/opt/python`` in Lambda)."""

RUNTIME_PROVIDED_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "python-dateutil", "urllib3", "six", "jmespath"}
)
"""Distributions (normalised names) the Lambda Python runtime already ships."""

SUPPORTED_RUNTIMES = ("python3.12", "python3.13", "python3.14")
"""The Lambda runtimes the layer is built and tested for: the one list of them.

The Lambda runtimes table (read December 2026) lists python3.12 to 3.14 on
Amazon Linux 2023 as supported; python3.10 and 3.11 were deprecated on
2026-06-30, and new functions on them are blocked from 2026-07-31. The layer
is pure Python, so it serves each of these and both architectures.
``template.yaml`` cannot import this: ``tests/unit/test_layer.py`` checks that
its ``CompatibleRuntimes`` and every function's ``Runtime`` agree with it.
Off Lambda the library itself runs on Python 3.10+ (``requires-python``).
"""

# Top-level import names of the distributions above: never copied into the layer.
_RUNTIME_PROVIDED_TOP_LEVEL = frozenset(
    {"boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six", "jmespath"}
)

_ROOT_DISTRIBUTION = "aws-lambda-powertools"
_PACKAGE_DIR = Path(__file__).resolve().parent

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


class LayerBuildError(RuntimeError):
    """The layer cannot be built from the installed distributions."""


@dataclass(frozen=True)
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

    Example:
        >>> report = LayerReport(Path("layer.zip"), 41, 39_117, 155_648, (), slim=True)
        >>> report.summary()
        'layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim)'
    """

    path: Path
    files: int
    zipped_bytes: int | None
    unzipped_bytes: int
    distributions: _Distributions
    slim: bool = False

    def summary(self) -> str:
        """Describe the layer in one line, with sizes in human units (1 KB = 1024 bytes).

        Returns:
            For example ``layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim)``;
            a full layer lists its distributions in the parentheses instead.

        Example:
            >>> LayerReport(Path("out"), 2, None, 2048, (("jmespath", "1.1.0"),)).summary()
            'out: 2 files, 2.0 KB unzipped (jmespath 1.1.0)'
        """
        parts = [f"{self.path.name or self.path}: {self.files} files"]
        if self.zipped_bytes is not None:
            parts.append(f"{_human_size(self.zipped_bytes)} zipped")
        parts.append(f"{_human_size(self.unzipped_bytes)} unzipped")
        text = ", ".join(parts)
        if self.slim:
            return f"{text} (slim)"
        if self.distributions:
            included = ", ".join(f"{name} {version}" for name, version in self.distributions)
            return f"{text} ({included})"
        return text


def build_layer(output: str | os.PathLike[str], *, slim: bool = False) -> LayerReport:
    """Write the layer as a reproducible zip file.

    The file is written to a temporary file next to *output* and moved into
    place with :func:`os.replace`, so a failed build never leaves a partial zip.

    Args:
        output: Path of the zip file to write; missing parent folders are created.
        slim: Ship only ``lambda_assume_role``, without Powertools and its
            dependencies (for functions that already have the Powertools layer).

    Returns:
        The report, with both the zipped and the unzipped size.

    Raises:
        LayerBuildError: A needed distribution is missing, has no file list,
            contains compiled code, or two sources claim the same file.

    Example:
        >>> report = build_layer("dist/layer.zip")  # doctest: +SKIP
        >>> report.zipped_bytes < 50 * 1024 * 1024  # doctest: +SKIP
        True
    """
    target = Path(output)
    entries, distributions = _collect_entries(slim=slim)
    target.parent.mkdir(parents=True, exist_ok=True)
    unzipped = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w") as archive:
                for arcname, source in entries:
                    data = source.read_bytes()
                    unzipped += len(data)
                    archive.writestr(
                        _zip_info(arcname),
                        data,
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
    return LayerReport(
        path=target,
        files=len(entries),
        zipped_bytes=target.stat().st_size,
        unzipped_bytes=unzipped,
        distributions=distributions,
        slim=slim,
    )


def build_layer_directory(output_dir: str | os.PathLike[str], *, slim: bool = False) -> LayerReport:
    """Write the layer unzipped: the same files as :func:`build_layer`, under ``output_dir/python``.

    This is the form a SAM ``BuildMethod: makefile`` target needs
    (``$(ARTIFACTS_DIR)/python/...``). The tree is assembled in a temporary
    folder inside *output_dir* and then swapped in for ``output_dir/python``,
    so files left by an earlier build do not survive. Files get mode 0644 and
    the same fixed 1980-01-01 modification time as the zip entries.

    Args:
        output_dir: The folder to write ``python/`` into; created if missing.
        slim: Ship only ``lambda_assume_role`` (see :func:`build_layer`).

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
    entries, distributions = _collect_entries(slim=slim)
    target.mkdir(parents=True, exist_ok=True)
    mtime = time.mktime((*_ZIP_DATE_TIME, 0, 1, -1))
    staging = Path(tempfile.mkdtemp(prefix=f".{LAYER_ROOT}.", suffix=".tmp", dir=target))
    unzipped = 0
    try:
        for arcname, source in entries:
            destination = staging.joinpath(*PurePosixPath(arcname).parts[1:])
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            unzipped += len(data)
            destination.write_bytes(data)
            os.chmod(destination, 0o644)  # layer files are world-readable
            os.utime(destination, (mtime, mtime))
        # mkdtemp makes the folder private; the layer's python/ must be readable like its files.
        os.chmod(staging, 0o755)  # noqa: S103
        _swap_directory(staging, target / LAYER_ROOT)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return LayerReport(
        path=target,
        files=len(entries),
        zipped_bytes=None,
        unzipped_bytes=unzipped,
        distributions=distributions,
        slim=slim,
    )


def _collect_entries(*, slim: bool) -> tuple[list[_Entry], _Distributions]:
    """List every layer file as ``(archive path, source file)``, sorted by archive path.

    Args:
        slim: Leave out Powertools and its dependencies.

    Returns:
        The sorted entries and the ``(name, version)`` of each distribution included.

    Raises:
        LayerBuildError: See :func:`build_layer`.
    """
    sources: dict[str, Path] = {}
    for arcname, source in _package_entries(_PACKAGE_DIR):
        _add_entry(sources, arcname, source)
    distributions: list[tuple[str, str]] = []
    if not slim:
        for dist in _runtime_distributions(_ROOT_DISTRIBUTION):
            distributions.append((_normalise(dist.metadata["Name"]), dist.version))
            for arcname, source in _distribution_entries(dist):
                _add_entry(sources, arcname, source)
    if f"{LAYER_ROOT}/{_PACKAGE_DIR.name}/__init__.py" not in sources:
        raise LayerBuildError(f"{_PACKAGE_DIR} has no __init__.py")
    entries = sorted(sources.items())
    return entries, tuple(sorted(distributions))


def _add_entry(sources: dict[str, Path], arcname: str, source: Path) -> None:
    previous = sources.setdefault(arcname, source)
    if previous != source:
        raise LayerBuildError(f"{arcname} comes from both {previous} and {source}")


def _package_entries(package_dir: Path) -> Iterator[_Entry]:
    """Yield this package's ``*.py`` files and ``py.typed``."""
    for folder, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or not (filename.endswith(".py") or filename == "py.typed"):
                continue
            source = Path(folder, filename)
            relative = source.relative_to(package_dir).as_posix()
            yield f"{LAYER_ROOT}/{package_dir.name}/{relative}", source


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
    if top.endswith(".data") or top.removesuffix(".py") in _RUNTIME_PROVIDED_TOP_LEVEL:
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
