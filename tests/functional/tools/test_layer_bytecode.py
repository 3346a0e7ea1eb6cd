"""The bytecode canary: the layer, read-only as ``/opt`` is, imports without compiling anything.

Every module the full layer ships (ours and Powertools' and its dependencies') is
imported from a read-only copy, in a fresh process of each runtime's interpreter the
layer was compiled by (``-I -S -B``: no site-packages, no environment, no bytecode
written), with a ``sys.addaudithook`` that counts the ``compile`` events whose file
is in the layer. Python raises that event whenever it compiles a source file it
imports, which is what Lambda does at every cold start for a module shipped without
valid bytecode. The layer's count must be zero; the same layer built from sources
only must count some (so the canary can fail), as today's layer did.

The process sees the layer first and then links to what the Lambda runtime ships
(boto3, botocore and their dependencies, from this venv; pure Python, so any 3.X
imports them). A Powertools module that needs an optional dependency the layer does
not ship (pydantic, aws_xray_sdk, ...) is skipped, and counted.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import lambda_assume_role
from emulators.lambda_runtime import RUNTIME_PROVIDED_MODULES, link_modules
from lambda_assume_role_tools.layer import LayerReport, find_interpreter
from tests.support.layers import shared_layer

# Run by each runtime's interpreter: import every module of the layer, count what compiles.
CANARY = r"""
import importlib, importlib.metadata, json, os, sys

layer, runtime = sys.argv[1], sys.argv[2]
sys.path[0:0] = [layer, runtime]
prefix = layer + os.sep
compiled = []


def count_compiles(event, args):
    if event == "compile" and isinstance(args[1], (str, bytes, os.PathLike)):
        filename = os.fsdecode(args[1])
        if filename.startswith(prefix):
            compiled.append(filename[len(prefix):])


sys.addaudithook(count_compiles)

names = []
for folder, dirs, files in os.walk(layer):
    dirs[:] = sorted(d for d in dirs if d.isidentifier())
    package = os.path.relpath(folder, layer).replace(os.sep, ".")
    for file in sorted(files):
        if not file.endswith(".py"):
            continue
        stem = file[:-3]
        if package == ".":
            names.append(stem)
        elif stem == "__init__":
            names.append(package)
        else:
            names.append(package + "." + stem)

skipped = {}
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as error:  # an optional dependency the layer does not ship
        skipped[name] = f"{type(error).__name__}: {error.name or error}"

from_layer = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(prefix)
)
print(json.dumps({
    "cache_tag": sys.implementation.cache_tag,
    "dont_write_bytecode": sys.dont_write_bytecode,
    "modules": len(names),
    "from_layer": from_layer,
    "skipped": skipped,
    "compiled": compiled,
    "version": importlib.metadata.version("lambda-assume-role"),
}))
"""


def _read_only_copy(zip_path: Path, target: Path) -> Path:
    """Extract the layer and make it read-only as Lambda's ``/opt`` is; its ``python/``."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    for path in sorted(target.rglob("*"), reverse=True):
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return (target / "python").resolve()


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LayerReport, Path]]:
    """The full layer with bytecode and the same built from sources only, read-only copies."""
    out = tmp_path_factory.mktemp("layers")
    built = {"bytecode": shared_layer(), "sources": shared_layer(bytecode=False)}
    return {
        kind: (report, _read_only_copy(report.path, out / kind)) for kind, report in built.items()
    }


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return link_modules(tmp_path_factory.mktemp("runtime"), RUNTIME_PROVIDED_MODULES).resolve()


def _import_everything(runtime: str, layer: Path, runtime_dir: Path) -> dict[str, Any]:
    interpreter = find_interpreter(runtime)
    assert interpreter is not None, f"the layer declares {runtime} but it has no interpreter"
    before = _files(layer)
    result = subprocess.run(
        [str(interpreter.executable), "-I", "-S", "-B", "-c", CANARY, str(layer), str(runtime_dir)],
        cwd=layer.parent,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert _files(layer) == before, "the import wrote into the layer"
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["cache_tag"] == interpreter.cache_tag
    assert seen["dont_write_bytecode"]
    return seen


def _canary_cases() -> list[Any]:
    """One case per supported runtime with an interpreter here, and the sources-only layer."""
    found = [r for r in ("python3.12", "python3.13", "python3.14") if find_interpreter(r)]
    cases = [pytest.param("bytecode", runtime, id=f"bytecode-{runtime}") for runtime in found]
    if found:
        cases.append(pytest.param("sources", found[-1], id=f"sources-only-{found[-1]}"))
    return cases


@pytest.mark.parametrize(("kind", "runtime"), _canary_cases())
def test_read_only_layer_imports_everything_without_compiling(
    layers: dict[str, tuple[LayerReport, Path]], runtime_dir: Path, kind: str, runtime: str
) -> None:
    report, layer = layers[kind]
    if kind == "bytecode":
        assert runtime in report.runtimes
    seen = _import_everything(runtime, layer, runtime_dir)

    ours = {name for name in seen["from_layer"] if name.split(".")[0] == "lambda_assume_role"}
    powertools = {name for name in seen["from_layer"] if name.startswith("aws_lambda_powertools")}
    assert "lambda_assume_role.fanout" in ours
    assert not {name for name in seen["skipped"] if name.startswith("lambda_assume_role")}
    assert len(powertools) > 150, "most of Powertools imports with what the layer ships"
    # Skipped only for a dependency the layer does not ship (and the runtime does not have).
    shipped = {p.name.removesuffix(".py") for p in layer.iterdir()}
    for name, reason in seen["skipped"].items():
        assert reason.split(": ", 1)[-1].split(".")[0] not in shipped, (name, reason)
    assert seen["version"] == lambda_assume_role.__version__

    if kind == "bytecode":
        assert seen["compiled"] == [], f"{len(seen['compiled'])} modules compiled from the layer"
    else:
        # The canary fails on a layer without bytecode: every module is compiled.
        assert len(seen["compiled"]) >= len(ours) + len(powertools)
