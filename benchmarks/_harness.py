"""Shared pieces of the benchmarks: an isolated AWS environment on moto, the three libraries
behind one call, RSS, statistics, markdown tables and a version header.

Run the benchmarks from the repository root (``.venv/bin/python -m benchmarks.tenant_cost``),
so that ``emulators.moto_server`` is importable. Nothing here talks to AWS: every client
goes to a moto server on 127.0.0.1 through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import atexit
import gc
import importlib.metadata
import json
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

    from emulators.moto_server import MotoServer

__all__ = [
    "ACCOUNT",
    "LABELS",
    "LIBRARIES",
    "NEXT_PYTHON",
    "NOT_AHEAD",
    "REPO_ROOT",
    "assume",
    "emit_result",
    "environment_header",
    "isolate_aws_environment",
    "markdown_table",
    "median",
    "next_path_python",
    "note_not_ahead",
    "p99",
    "peak_rss_mb",
    "preload",
    "role_arn",
    "rss_mb",
    "run_worker",
    "start_moto",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"

#: The interpreter of ``.venv-next`` (``make venv-next``): botocore 1.43.65 patched with
#: botocore's unreleased ``feature/credential-refresh`` branch, switched on.
NEXT_PYTHON = REPO_ROOT / ".venv-next" / "bin" / "python"

#: The libraries compared, in table order; keys for `assume` and `LABELS`.
LIBRARIES = ("ours", "aws-assume-role-lib", "boto3-refresh-session")
LABELS = {
    "ours": "ours (lambda_assume_role)",
    "aws-assume-role-lib": "aws-assume-role-lib",
    "boto3-refresh-session": "boto3-refresh-session",
}

# The module each library's `assume` imports; imported ahead of a measurement by `preload`.
_MODULES = {
    "ours": "lambda_assume_role.assume",
    "aws-assume-role-lib": "aws_assume_role_lib",
    "boto3-refresh-session": "boto3_refresh_session",
}

# Variables that would let the host's AWS configuration leak into a measurement.
_AWS_PREFIXES = ("AWS_", "_HANDLER", "LAMBDA_")
_RESULT_MARKER = "BENCHMARK-RESULT "


# --- environment -----------------------------------------------------------------------------


def isolate_aws_environment() -> Path:
    """Clear the host's AWS settings and use fake static parent credentials in us-east-1.

    Config and credentials files point at empty files in a new temporary directory, and the
    EC2 metadata service is disabled, so nothing outside this process is consulted.

    Returns:
        The temporary directory holding the empty files.
    """
    for name in list(os.environ):
        if name.startswith(_AWS_PREFIXES):
            del os.environ[name]
    directory = Path(tempfile.mkdtemp(prefix="bench-aws-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for filename in ("config", "credentials"):
        (directory / filename).touch()
    os.environ.update(
        {
            "AWS_CONFIG_FILE": str(directory / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(directory / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "parent-secret-key-never-printed",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    return directory


def start_moto() -> MotoServer:
    """Isolate the AWS environment, start a recording moto server and point botocore at it."""
    from emulators.moto_server import MotoServer

    isolate_aws_environment()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr
    server = MotoServer()
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint_url
    return server


# --- the libraries ---------------------------------------------------------------------------


def role_arn(name: str) -> str:
    """A role ARN in the benchmark account (moto does not check that the role exists)."""
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def preload(library: str) -> None:
    """Import ``library`` (and boto3) now, so that import time is charged to no measurement."""
    import importlib

    import boto3

    del boto3
    importlib.import_module(_MODULES[library])


def assume(
    library: str,
    parent: boto3.Session,
    arn: str,
    *,
    session_name: str = "bench",
    duration: int | None = None,
) -> boto3.Session:
    """A refreshing assumed-role session from ``library``, used the way its documentation shows.

    * ours and aws-assume-role-lib: ``assume_role(parent, RoleArn, ...)``.
    * boto3-refresh-session 10.x: ``RefreshableSession(method="sts",
      assume_role_kwargs=AssumeRoleConfig(RoleArn=...))``; it takes no parent session,
      its STS client uses the default credential chain (here the same static
      environment credentials as ``parent``). Its client cache (boto3-client-cache, one
      per session) is what ``session.client`` goes through.
    """
    if library == "ours":
        from lambda_assume_role import assume_role

        return assume_role(parent, arn, RoleSessionName=session_name, DurationSeconds=duration)
    if library == "aws-assume-role-lib":
        from aws_assume_role_lib.aws_assume_role_lib import assume_role as aarl_assume_role

        # Its annotations say `int`, but it treats None as "not given", as ours does.
        session: boto3.Session = aarl_assume_role(
            parent,
            arn,
            RoleSessionName=session_name,
            DurationSeconds=duration,  # type: ignore[arg-type]
        )
        return session
    if library == "boto3-refresh-session":
        from boto3_refresh_session import (  # type: ignore[import-untyped]
            AssumeRoleConfig,
            RefreshableSession,
        )

        config = AssumeRoleConfig(RoleArn=arn, RoleSessionName=session_name)
        if duration is not None:
            config.DurationSeconds = duration
        brs_session: boto3.Session = RefreshableSession(method="sts", assume_role_kwargs=config)
        return brs_session
    raise ValueError(f"unknown library {library!r}; expected one of {LIBRARIES}")


# --- measurements ----------------------------------------------------------------------------


def rss_mb() -> float:
    """This process's resident set size in MB (2**20 bytes), after a full garbage collection."""
    gc.collect()
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``) in MB (2**20 bytes)."""
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    """A kB field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} line in /proc/self/status")


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile (nearest rank); the maximum for fewer than 100 samples."""
    ordered = sorted(samples)
    return float(ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)])


# --- output ----------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; the first column left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in cells)) if cells else len(headers[i])
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.ljust(widths[i]) if i == 0 else value.rjust(widths[i])
            for i, value in enumerate(values)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ":" + "-" * (w + 1) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)
    )
    return "\n".join([line(headers), rule + "|", *(line(row) for row in cells)])


_PACKAGES = (
    "boto3",
    "botocore",
    "lambda-assume-role",
    "aws-assume-role-lib",
    "boto3-refresh-session",
    "boto3-client-cache",
    "botocove",
    "runacross",
    "moto",
    "time-machine",
    "aws-lambda-powertools",
    "awslambdaric",
    "matplotlib",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _checkout() -> str:
    """The commit this checkout is at, and whether it has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


def environment_header() -> str:
    """Machine, Python, package versions and the checkout, as a markdown list."""
    versions = []
    for package in _PACKAGES:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return "\n".join(
        [
            f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs ({_cpu_model()}), "
            f"{platform.system()} {platform.release()}",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- Packages: {', '.join(versions)}",
            f"- Checkout: {_checkout()}",
        ]
    )


# --- fresh processes -------------------------------------------------------------------------


def emit_result(result: Any) -> None:
    """Hand a worker's JSON-serialisable result to `run_worker` in the parent process."""
    print(_RESULT_MARKER + json.dumps(result), flush=True)


def next_path_python() -> Path | None:
    """``NEXT_PYTHON`` if it exists and runs botocore's next refresh path, else None.

    The next path is on when botocore's ``credentials`` module has the flag
    ``DEFAULT_NEW_CREDENTIAL_REFRESH`` set and the renamed ``_refresh_legacy``.
    """
    if not NEXT_PYTHON.exists():
        return None
    check = (
        "import botocore.credentials as c, sys; "
        "sys.exit(0 if getattr(c, 'DEFAULT_NEW_CREDENTIAL_REFRESH', False) "
        "and hasattr(c.RefreshableCredentials, '_refresh_legacy') else 1)"
    )
    try:
        completed = subprocess.run(
            [str(NEXT_PYTHON), "-c", check], cwd=REPO_ROOT, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return NEXT_PYTHON if completed.returncode == 0 else None


def run_worker(
    module: str,
    *args: str,
    timeout: float = 170,
    interpreter: str | Path | None = None,
) -> Any:
    """Run ``python -m module --worker *args`` in a fresh process and return its result.

    Each library is measured in its own process so that RSS, imported modules and
    process-wide caches (loaders, parsed models) of one never count for another.
    ``interpreter`` runs the worker in another venv (e.g. `NEXT_PYTHON`); the default
    is this process's own ``sys.executable``.
    """
    python = str(interpreter) if interpreter is not None else sys.executable
    completed = subprocess.run(
        [python, "-m", module, "--worker", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"worker {module} {' '.join(args)} on {python} failed ({completed.returncode}):\n"
            f"{completed.stderr[-4000:]}"
        )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(_RESULT_MARKER):
            return json.loads(line[len(_RESULT_MARKER) :])
    raise RuntimeError(f"worker {module} {' '.join(args)} printed no result")


# --- findings --------------------------------------------------------------------------------

#: Findings where ours is not ahead, noted by the benchmarks as they report, for the
#: summary `benchmarks.run_all` writes at the end of RESULTS.md.
NOT_AHEAD: list[str] = []


def note_not_ahead(finding: str) -> None:
    """Record a measured case where ours is not ahead of an alternative (once per text)."""
    if finding not in NOT_AHEAD:
        NOT_AHEAD.append(finding)
