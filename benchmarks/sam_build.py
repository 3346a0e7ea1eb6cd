"""`sam build` of template.yaml before and after the lean build: time, copies and output.

Two committed checkouts are built the same way, each a ``git worktree`` in a temporary folder:

* before: commit ``d4d552d``, where the layer's ``ContentUri`` was the repository root
  (SAM copied all of it, virtualenvs included, to a scratch folder before running make)
  and ``examples/powertools/requirements.txt`` was pip-installed with its dependencies;
* after: ``HEAD``.

Each checkout gets this repository's ``.venv``, ``.venv-sam`` and ``.venv-floor`` linked in,
as a developer who ran ``make test`` has them (SAM's copy follows links, so a link costs
what the folder costs). ``sam build`` runs with ``--build-dir`` outside the checkout and
telemetry off, once per checkout (``measure(warm=True)`` adds an untimed run first). A ``make``
shim first on ``PATH`` records the folder each makefile build runs in (SAM's scratch copy)
and how many files and bytes it holds: that copy is not left behind to measure.

It needs SAM CLI in ``.venv-sam`` (``make .venv-sam/.installed``), a ``python3.13`` (on
``PATH`` or under ``pyenv root``) and the network (pip); without one of them it prints one
line saying what is missing and skips. ``make test`` never runs it.

Run from the repository root: ``.venv/bin/python -m benchmarks.sam_build``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._harness import REPO_ROOT, markdown_table

BEFORE = "d4d552d"
AFTER = "HEAD"
SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
LINKED_VENVS = (".venv", ".venv-sam", ".venv-floor")
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
TITLE = "## `sam build`: time and size, before and after the lean build"

_MAKE_SHIM = """#!/bin/sh
# Record SAM's scratch copy (the folder make runs in), then run the real make.
printf '%s\\t%s\\t%s\\n' "$PWD" "$(find . -type f | wc -l)" "$(du -sb . | cut -f1)" >> "{log}"
exec "{make}" "$@"
"""


@dataclass
class Figures:
    """One ``sam build``: wall time, its build folder, the scratch copies make ran in."""

    seconds: float
    files: int
    size: int
    scratch_files: int = 0
    scratch_size: int = 0
    shipped_sdk: list[str] = field(default_factory=list)


def _missing() -> str | None:
    """What this benchmark needs and does not have, or ``None``."""
    if not SAM.exists():
        return f"no SAM CLI at {SAM.relative_to(REPO_ROOT)} (make .venv-sam/.installed)"
    if _python313_dir() is None:
        return "no python3.13 on PATH or under `pyenv root`"
    if shutil.which("make") is None:
        return "no make on PATH"
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=5).close()
    except OSError as error:
        return f"offline: pip cannot reach PyPI ({error.__class__.__name__})"
    return None


def _python313_dir() -> Path | None:
    """A folder holding a ``python3.13`` executable: the one on PATH, else pyenv's."""
    found = shutil.which("python3.13")
    if (
        found
        and subprocess.run([found, "-c", ""], capture_output=True, check=False).returncode == 0
    ):
        return Path(found).resolve().parent
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
        for candidate in sorted(glob.glob(f"{root}/versions/3.13.*/bin/python3.13")):
            return Path(candidate).parent
    return None


@contextlib.contextmanager
def _checkout(ref: str, folder: Path) -> Iterator[Path]:
    """A worktree of *ref* with this repository's virtualenvs linked in, removed afterwards."""
    subprocess.run(
        ["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "--quiet", str(folder), ref],
        check=True,
    )
    try:
        for venv in LINKED_VENVS:
            if (REPO_ROOT / venv).is_dir():
                (folder / venv).symlink_to(REPO_ROOT / venv)
        # A fresh checkout's pyproject.toml is newer than the venv's stamp, which would
        # make the old Makefile reinstall .venv in SAM's copy: a developer's is older.
        stamp = REPO_ROOT / ".venv" / ".installed-dev"
        if stamp.exists():
            old = stamp.stat().st_mtime - 60
            os.utime(folder / "pyproject.toml", (old, old))
        yield folder
    finally:
        subprocess.run(
            ["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(folder)],
            check=False,
        )


def _tree(folder: Path) -> tuple[int, int]:
    """Regular files under *folder* (links not followed) and their bytes."""
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                files += 1
                size += path.stat().st_size
    return files, size


def _shipped_sdk(build_dir: Path) -> list[str]:
    """``resource/package`` for each runtime-provided SDK package a function or layer ships
    at its top level (where it would shadow the runtime's)."""
    return sorted(
        f"{resource.name}/{package}"
        for resource in build_dir.iterdir()
        if resource.is_dir()
        for package in RUNTIME_PROVIDED
        if any((top / package / "__init__.py").exists() for top in (resource, resource / "python"))
    )


def _sam_build(checkout: Path, work: Path, python_dir: Path) -> Figures:
    """Run ``sam build`` in *checkout*; its figures."""
    shim_dir = work / "shim"
    shim_dir.mkdir(exist_ok=True)
    log = work / "scratch.log"
    log.unlink(missing_ok=True)
    make = shutil.which("make")
    assert make is not None
    shim = shim_dir / "make"
    shim.write_text(_MAKE_SHIM.format(log=log, make=make), encoding="utf-8")
    shim.chmod(0o755)
    build_dir = work / "build"
    shutil.rmtree(build_dir, ignore_errors=True)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(shim_dir), str(python_dir), os.environ.get("PATH", "")]),
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    result = subprocess.run(
        [str(SAM), "build", "--build-dir", str(build_dir)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed in {checkout}:\n{result.stdout}\n{result.stderr}")
    files, size = _tree(build_dir)
    figures = Figures(seconds, files, size, shipped_sdk=_shipped_sdk(build_dir))
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            _folder, count, total = line.split("\t")
            figures.scratch_files += int(count)
            figures.scratch_size += int(total)
    return figures


def measure(ref: str, python_dir: Path, *, warm: bool = False) -> Figures:
    """``sam build`` of *ref*'s template (after a warm-up run when *warm*)."""
    with tempfile.TemporaryDirectory(prefix="bench-sam-") as folder:
        work = Path(folder)
        with _checkout(ref, work / "checkout") as checkout:
            if warm:
                _sam_build(checkout, work, python_dir)
            return _sam_build(checkout, work, python_dir)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f}"


def _ratio(before: float, after: float) -> str:
    return f"{before / after:,.1f}x" if after else "-"


def report(before: Figures, after: Figures) -> str:
    """The markdown section for RESULTS.md."""
    measured = (
        ("wall time (s)", "seconds", "{:.1f}"),
        ("scratch copy SAM makes for make targets (files)", "scratch_files", "{:,}"),
        ("scratch copy (MB)", "scratch_size", "mb"),
        ("`.aws-sam/build` (files)", "files", "{:,}"),
        ("`.aws-sam/build` (MB)", "size", "mb"),
    )
    rows: list[list[object]] = []
    for label, name, form in measured:
        old, new = getattr(before, name), getattr(after, name)
        cells = [_mb(old), _mb(new)] if form == "mb" else [form.format(old), form.format(new)]
        rows.append([label, *cells, _ratio(old, new)])
    rows.append(
        [
            "boto3/botocore/s3transfer shipped",
            ", ".join(before.shipped_sdk) or "none",
            ", ".join(after.shipped_sdk) or "none",
            "",
        ]
    )
    table = markdown_table(["", f"before ({BEFORE})", "after (HEAD)", "before/after"], rows)
    return "\n\n".join(
        [
            TITLE,
            "`sam build` of template.yaml (SAM CLI in `.venv-sam`, python3.13, no container), "
            "in a git worktree of each commit with `.venv`, `.venv-sam` and `.venv-floor` "
            "linked in as after `make test`; one run each, pip's cache as it was (so pip "
            "downloads little), wall time subject to the machine's load. Before, the "
            "layer's `ContentUri` was the repository root, so SAM copied it, virtualenvs "
            "included, to a scratch folder before running make, and "
            "PowertoolsFunction's requirements.txt brought botocore; after, the layer builds "
            "from the package folder in a throwaway venv and the function installs "
            "`--no-deps`.",
            table,
        ]
    )


def main(only: str | None = None) -> str:
    """Measure both checkouts and return the section (a one-line skip when it cannot run).

    Args:
        only: ``d4d552d`` or ``HEAD`` to measure that checkout alone and print its figures.
    """
    missing = _missing()
    if missing:
        text = f"{TITLE}\n\nSkipped: {missing}."
        print(text)
        return text
    python_dir = _python313_dir()
    assert python_dir is not None
    if only:
        figures = measure(only, python_dir)
        print(figures)
        return str(figures)
    text = report(measure(BEFORE, python_dir), measure(AFTER, python_dir))
    print(text)
    return text


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
