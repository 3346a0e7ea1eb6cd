"""What goes into the layer: the runtime package, Powertools and its dependencies, their metadata.

Why apart: choosing the files is the part of a build that must agree with the Lambda
runtime (what it already ships is left out: `RUNTIME_PROVIDED`) and with
``importlib.metadata`` (each distribution keeps a trimmed ``.dist-info``); the
staging, compiling and zipping do not care which files they are.

* ``python/lambda_assume_role/``: the runtime package whole, its ``*.py`` files and
  ``py.typed``, less `COMMAND_LINE_ENTRY`;
* ``python/lambda_assume_role-<version>.dist-info/``: ``METADATA`` (the installed
  distribution's headers), ``top_level.txt`` and a ``RECORD`` of exactly the files
  shipped (`write_dist_info`, `write_record`);
* unless *slim*: ``aws_lambda_powertools`` and its pure-Python runtime dependencies,
  copied from the distributions installed in the running interpreter (no network, no
  pip), each with a ``.dist-info`` trimmed to ``METADATA``, ``top_level.txt`` and
  license files. Tests, installed ``__pycache__``, ``*.pyi`` stubs and ``.pth`` files
  are dropped; compiled code is refused.

Example:
    >>> entries, distributions = collect_entries(slim=True)
    >>> entries[0][0].startswith("python/lambda_assume_role/"), distributions
    (True, ())
    >>> f"python/lambda_assume_role/{COMMAND_LINE_ENTRY}" in dict(entries)
    False
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import lambda_assume_role
from lambda_assume_role_tools.layer.errors import LayerBuildError

__all__ = [
    "COMMAND_LINE_ENTRY",
    "LAYER_ROOT",
    "RUNTIME_PROVIDED",
    "RUNTIME_PROVIDED_DISTRIBUTIONS",
    "RUNTIME_PROVIDED_MODULES",
    "Distributions",
    "Entry",
    "collect_entries",
    "distribution_entries",
    "package_dir",
    "runtime_distributions",
    "write_dist_info",
    "write_record",
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

COMMAND_LINE_ENTRY = "__main__.py"
"""The one file of the runtime package the layer leaves out.

``lambda_assume_role/__main__.py`` runs the command line (``python -m
lambda_assume_role``), which lives in `lambda_assume_role_tools`, a package the layer
does not ship. Shipped, it would fail in Lambda with a ``ModuleNotFoundError``
traceback; left out, ``python -m lambda_assume_role`` there is Python's own one line,
"No module named lambda_assume_role.__main__" (tests/functional/tools/test_layer_import.py).
"""

Entry = tuple[str, Path]
"""``(archive path under python/, source file)``."""

Distributions = tuple[tuple[str, str], ...]
"""``(normalised name, version)`` of each distribution, sorted."""

_ROOT_DISTRIBUTION = "aws-lambda-powertools"
_OUR_DISTRIBUTION = "lambda-assume-role"

# Directory names that never belong in a layer.
_SKIPPED_DIRS = frozenset({"__pycache__", "tests", "test"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi", ".pth")
_NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")
# Files of a .dist-info folder we keep; license files are kept as well.
_KEPT_DIST_INFO_FILES = frozenset({"METADATA", "top_level.txt"})
_LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")

_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def collect_entries(*, slim: bool) -> tuple[list[Entry], Distributions]:
    """List every source file of the layer as ``(archive path, source file)``, sorted.

    Args:
        slim: Leave out Powertools and its dependencies.

    Returns:
        The sorted entries and the ``(name, version)`` of each distribution included.

    Raises:
        LayerBuildError: Powertools is not installed, a distribution has no file list
            or contains compiled code, or two sources claim the same file.
    """
    package = package_dir()
    sources: dict[str, Path] = {}
    for arcname, source in _package_entries(package):
        _add_entry(sources, arcname, source)
    distributions: list[tuple[str, str]] = []
    if not slim:
        for dist in runtime_distributions(_ROOT_DISTRIBUTION):
            distributions.append((_normalise(dist.metadata["Name"]), dist.version))
            for arcname, source in distribution_entries(dist):
                _add_entry(sources, arcname, source)
    if f"{LAYER_ROOT}/{package.name}/__init__.py" not in sources:
        raise LayerBuildError(f"{package} has no __init__.py")
    entries = sorted(sources.items())
    return entries, tuple(sorted(distributions))


def package_dir() -> Path:
    """The folder of the installed runtime package, ``lambda_assume_role``."""
    return Path(lambda_assume_role.__file__).resolve().parent


def distribution_entries(dist: importlib.metadata.Distribution) -> Iterator[Entry]:
    """Yield the files of an installed distribution that belong in the layer.

    The file list comes from the distribution's ``RECORD``; its ``.dist-info``
    folder is trimmed to ``METADATA``, ``top_level.txt`` and license files.

    Raises:
        LayerBuildError: It has no ``RECORD``, or it contains compiled code.
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


def runtime_distributions(root: str) -> list[importlib.metadata.Distribution]:
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


def write_dist_info(root: Path) -> Path:
    """Write ``lambda_assume_role-<version>.dist-info`` with METADATA and top_level.txt.

    METADATA is the installed distribution's header block (name, version, requirements),
    without the README that follows it. Its version must be the package's own: an
    installation older than the checkout would make the layer lie about what it ships.

    Returns:
        The folder written, under *root*.

    Raises:
        LayerBuildError: The distribution is not installed, is another version than
            the package, or has no METADATA.
    """
    package = package_dir().name
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
            f"{package_dir()} is {lambda_assume_role.__version__}: reinstall it"
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


def write_record(root: Path, dist_info: Path) -> None:
    """Write our RECORD: every file of the package and of its .dist-info, with hashes.

    Run last, once the bytecode is written, so that it lists the ``.pyc`` files too.
    """
    package = root / package_dir().name
    shipped = sorted(
        path for folder in (package, dist_info) for path in folder.rglob("*") if path.is_file()
    )
    lines = [_record_line(path.relative_to(root).as_posix(), path.read_bytes()) for path in shipped]
    lines.append(f"{dist_info.name}/RECORD,,")
    record = "\n".join(sorted(lines)) + "\n"
    (dist_info / "RECORD").write_text(record, encoding="utf-8", newline="\n")


def _add_entry(sources: dict[str, Path], arcname: str, source: Path) -> None:
    previous = sources.setdefault(arcname, source)
    if previous != source:
        raise LayerBuildError(f"{arcname} comes from both {previous} and {source}")


def _package_entries(package: Path) -> Iterator[Entry]:
    """Yield the runtime package's ``*.py`` files (not `COMMAND_LINE_ENTRY`) and ``py.typed``."""
    for folder, dirnames, filenames in os.walk(package):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or not (filename.endswith(".py") or filename == "py.typed"):
                continue
            source = Path(folder, filename)
            relative = source.relative_to(package).as_posix()
            if relative == COMMAND_LINE_ENTRY:
                continue
            yield f"{LAYER_ROOT}/{package.name}/{relative}", source


def _record_line(relative: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(data)}"


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


def _normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()
