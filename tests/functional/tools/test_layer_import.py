"""The full layer, extracted, is importable with nothing but what the Lambda runtime provides.

The check runs in a fresh interpreter started with ``-S`` (no site-packages, so
neither this virtualenv's Powertools nor the editable install of this project
are visible) and a PYTHONPATH holding only the extracted ``python/`` folder and
a folder of links to what the Lambda runtime ships (boto3, botocore and their
dependencies). If the layer missed a file Powertools needs, the import fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from emulators.lambda_runtime import RUNTIME_PROVIDED_MODULES, link_modules
from tests.support.layers import shared_layer

# What the Lambda Python runtime provides: import name -> required to run the check.
CHECK = r"""
import importlib.metadata, json, sys

import lambda_assume_role
import aws_lambda_powertools
from aws_lambda_powertools import Logger
import typing_extensions
import boto3

Logger(service="x")
print(json.dumps({
    "no_site": sys.flags.no_site,
    "site_loaded": "site" in sys.modules,
    "path": sys.path,
    "lambda_assume_role": lambda_assume_role.__file__,
    "aws_lambda_powertools": aws_lambda_powertools.__file__,
    "typing_extensions": typing_extensions.__file__,
    "boto3": boto3.__file__,
    "powertools_version": aws_lambda_powertools.__version__,
    "powertools_metadata_version": importlib.metadata.version("aws-lambda-powertools"),
    "powertools_dist": str(
        importlib.metadata.distribution("aws-lambda-powertools").locate_file("")
    ),
}))
"""


def _inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def _run_in_layer(tmp_path: Path, *arguments: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run this Python with the extracted full layer and the runtime's packages only.

    Sources only: this interpreter (3.11) is no Lambda runtime, so the layer's bytecode
    is not for it; test_layer_bytecode.py imports it under each runtime's interpreter.

    Returns:
        The layer's extracted ``python/`` folder, and the finished process.
    """
    report = shared_layer(bytecode=False)
    opt = tmp_path / "opt"
    with zipfile.ZipFile(report.path) as archive:
        archive.extractall(opt)
    layer_python = opt / "python"
    runtime = tmp_path / "runtime"
    link_modules(runtime, RUNTIME_PROVIDED_MODULES)
    assert not (runtime / "aws_lambda_powertools").exists()

    env = {
        "PYTHONPATH": os.pathsep.join([str(layer_python), str(runtime)]),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.environ.get("PATH", ""),
    }
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows needs it to start Python
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    flags = ["-S", "-s", "-B"]
    if sys.version_info >= (3, 11):
        flags.append("-P")  # do not put the working directory on sys.path
    result = subprocess.run(
        [sys.executable, *flags, *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return layer_python, result


def test_extracted_layer_provides_powertools_and_the_package(tmp_path: Path) -> None:
    layer_python, result = _run_in_layer(tmp_path, "-c", CHECK)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["no_site"] == 1
    assert not seen["site_loaded"]
    assert not [p for p in seen["path"] if "site-packages" in p and not _inside(p, tmp_path)]
    assert _inside(seen["lambda_assume_role"], layer_python)
    assert _inside(seen["aws_lambda_powertools"], layer_python)
    assert _inside(seen["typing_extensions"], layer_python)
    assert not _inside(seen["boto3"], layer_python)
    # The trimmed .dist-info (METADATA only) is still found by importlib.metadata.
    assert seen["powertools_metadata_version"] == seen["powertools_version"]
    assert _inside(seen["powertools_dist"], layer_python)


def test_python_m_lambda_assume_role_in_the_layer_is_one_line(tmp_path: Path) -> None:
    # The layer leaves __main__.py out (COMMAND_LINE_ENTRY): it runs the command line,
    # whose package the layer does not ship. Python's own answer is one line.
    _, result = _run_in_layer(tmp_path, "-m", "lambda_assume_role", "assume", "x")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "No module named lambda_assume_role.__main__" in result.stderr
