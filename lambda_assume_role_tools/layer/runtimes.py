"""Which Lambda runtimes a layer is built for, and the interpreter that compiles for each.

Why apart: the runtimes are checked and their interpreters found before anything is
written (`plan_runtimes`), so a bad ``--runtime`` fails at once; and the same search
serves the tests and benchmarks that need a runtime's interpreter (`find_interpreter`).

The interpreter for ``python3.X`` is this one if it is 3.X, else ``python3.X`` on
``PATH`` (unless it is a pyenv shim), else the newest
``$(pyenv root)/versions/3.X.*/bin/python3.X``; each candidate is run once to check
its version.

Example:
    >>> plan_runtimes(["python3.14", "python3.12"], bytecode=False)
    RuntimePlan(runtimes=('python3.12', 'python3.14'), interpreters=(), notices=())
    >>> plan_runtimes(["python3.9"], bytecode=False)
    Traceback (most recent call last):
    ...
    lambda_assume_role_tools.layer.errors.UnsupportedRuntimeError: runtime 'python3.9' is not supported: choose from python3.12, python3.13, python3.14
"""  # noqa: E501

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from lambda_assume_role_tools.layer.errors import InterpreterNotFoundError, UnsupportedRuntimeError

__all__ = [
    "SUPPORTED_RUNTIMES",
    "Interpreter",
    "RuntimePlan",
    "child_environment",
    "find_interpreter",
    "plan_runtimes",
]

SUPPORTED_RUNTIMES = ("python3.12", "python3.13", "python3.14")
"""The Lambda runtimes the layer can be built for: the one list of them.

The Lambda runtimes table (read December 2026) lists python3.12 to 3.14 on
Amazon Linux 2023 as supported; python3.10 and 3.11 were deprecated on
2026-06-30, and new functions on them are blocked from 2026-07-31. The layer
is pure Python, so one build serves both architectures; its bytecode is per
runtime, so a build is declared for those of these it could compile for.
``template.yaml`` cannot import this: ``tests/functional/tools/test_layer.py`` checks that
its ``CompatibleRuntimes`` and every function's ``Runtime`` are among these.
Off Lambda the library itself runs on Python 3.10+ (``requires-python``).
"""

_WHERE_LOOKED = "on PATH or under pyenv"
_PROBE_TIMEOUT = 30
_PROBE = "import sys; print(sys.implementation.cache_tag, '%d.%d' % sys.version_info[:2])"


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


class RuntimePlan(NamedTuple):
    """What a build is declared for and compiles with, decided before anything is written.

    Attributes:
        runtimes: The runtimes to declare, in `SUPPORTED_RUNTIMES` order.
        interpreters: One per runtime to compile for; none: sources only.
        notices: One line per supported runtime left out for want of an interpreter.
    """

    runtimes: tuple[str, ...]
    interpreters: tuple[Interpreter, ...]
    notices: tuple[str, ...]


def plan_runtimes(runtimes: Sequence[str] | None, *, bytecode: bool) -> RuntimePlan:
    """Check the runtimes asked for and find their interpreters, before anything is written.

    Args:
        runtimes: The runtimes asked for by name, each of which must have an interpreter
            here; ``None``: those of `SUPPORTED_RUNTIMES` that have one.
        bytecode: ``False`` finds no interpreter: the plan is declared for the runtimes
            asked for (default: all supported) and compiles nothing.

    Raises:
        UnsupportedRuntimeError: A runtime is not in `SUPPORTED_RUNTIMES`, or none is given.
        InterpreterNotFoundError: A runtime named has no interpreter, or (by default)
            none of the supported runtimes has one.
    """
    asked = SUPPORTED_RUNTIMES if runtimes is None else tuple(runtimes)
    for runtime in asked:
        _runtime_version(runtime)
    wanted = tuple(r for r in SUPPORTED_RUNTIMES if r in asked)  # supported order, once each
    if not wanted:
        raise UnsupportedRuntimeError("no runtime given: name at least one, or leave them out")
    if not bytecode:
        return RuntimePlan(wanted, (), ())
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
    return RuntimePlan(declared, tuple(interpreters), notices)


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
        >>> found = find_interpreter("python3.13")
        >>> found is None or found.cache_tag == "cpython-313"
        True
    """
    version = _runtime_version(runtime)
    for candidate in _candidates(version):
        cache_tag = _probe(candidate, version)
        if cache_tag is not None:
            return Interpreter(runtime, candidate, cache_tag)
    return None


def child_environment() -> dict[str, str]:
    """A clean environment for an interpreter we run: no PYTHON* of ours, a fixed hash seed.

    ``PYTHONHASHSEED=0`` makes the order of frozenset constants (``x in {"a", "b"}``)
    in the marshalled bytecode the same on every build.

    Example:
        >>> sorted(child_environment())[:3]
        ['PATH', 'PYTHONHASHSEED', 'PYTHONUTF8']
    """
    environment = {"PYTHONHASHSEED": "0", "PYTHONUTF8": "1", "PATH": os.environ.get("PATH", "")}
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows needs it to start Python
        environment["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return environment


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
            env=child_environment(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    fields = completed.stdout.split()
    expected = f"cpython-{version.replace('.', '')}"
    if completed.returncode == 0 and fields == [expected, version]:
        return expected
    return None
