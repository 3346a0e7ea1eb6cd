"""Ctrl-C while the command starts: one line and exit 130, from the entry module's first line.

Each test starts the real command in a process of its own and holds it inside one of the
imports it makes on the way to its first AWS call, with a ``sitecustomize`` on
``PYTHONPATH`` that adds an import finder: when the chosen module is about to be found,
the finder writes to a pipe the test reads, then sleeps until a signal ends the process.
The code under test is not changed; its import is delayed, as a cold disk or a busy
machine delays it. The test sends SIGINT only once the process says it is there, so
nothing depends on how fast the machine is.

What happens before the entry module runs is Python's own and not tested here: see
`lambda_assume_role_tools.entry`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# The finder each held process gets. A sitecustomize runs while `site` loads, before the
# command: it changes nothing but the time one import takes.
_SITECUSTOMIZE = """\
import os, sys, time

class _HoldImport:
    name = os.environ.get("HOLD_IMPORT")
    marker = int(os.environ.get("HOLD_IMPORT_FD", "-1"))

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != cls.name:
            return None
        cls.name = None
        os.write(cls.marker, b"held")
        os.close(cls.marker)
        while True:  # until a signal ends the process
            time.sleep(3600)

if _HoldImport.name:
    sys.meta_path.insert(0, _HoldImport)
"""

# Runs its arguments with SIGINT ignored, as a background job of a non-interactive shell
# (`make test &`) starts every process: Python then installs no KeyboardInterrupt handler.
_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("lambda-assume-role"))
LAUNCHERS = {
    "console-script": [CONSOLE_SCRIPT],
    "python-m-lambda_assume_role": [sys.executable, "-m", "lambda_assume_role"],
    "python-m-lambda_assume_role_tools": [sys.executable, "-m", "lambda_assume_role_tools"],
    "python-m-lambda_assume_role_tools.cli": [sys.executable, "-m", "lambda_assume_role_tools.cli"],
}

# Where a process is held: the command's first module, just after the entry takes SIGINT;
# botocore, with five modules above it half initialised; the command's last import, the
# rest done; and boto3, which the command imports only once it runs (main()'s own
# handler takes SIGINT then).
HOLD_POINTS = {
    "first-import": ("lambda_assume_role_tools.cli.command", ["--help"]),
    "deep-in-botocore": ("botocore", ["--help"]),
    "last-import": ("lambda_assume_role_tools.cli.build_layer", ["--help"]),
    "inside-the-command": ("boto3", ["assume", "arn:aws:iam::111111111111:role/Cli", "--json"]),
}

INTERRUPTED = "lambda-assume-role: interrupted\n"


def _interrupt_while_importing(
    tmp_path: Path, command: list[str], module: str
) -> tuple[int, str, str]:
    """Start ``command``, wait until it is about to import ``module``, send SIGINT.

    Returns the exit status, stdout and stderr.
    """
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    read_end, write_end = os.pipe()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
        "HOLD_IMPORT": module,
        "HOLD_IMPORT_FD": str(write_end),
        # Should the hold never happen, the command fails at once instead of calling AWS.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            pass_fds=(write_end,),
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    try:
        # The only wait: for the process to say where it is. The limit is for a hung run.
        ready, _, _ = select.select([read_end], [], [], 120)
        marker = os.read(read_end, 16) if ready else b""
        if marker != b"held":
            out, err = process.communicate(timeout=60)
            pytest.fail(f"never held at {module}: exit {process.returncode}, stderr {err!r}")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, out, err


@pytest.mark.parametrize("point", HOLD_POINTS.values(), ids=HOLD_POINTS.keys())
@pytest.mark.parametrize("launcher", LAUNCHERS.values(), ids=LAUNCHERS.keys())
def test_interrupt_during_startup_is_one_line_exit_130(
    tmp_path: Path, launcher: list[str], point: tuple[str, list[str]]
) -> None:
    module, arguments = point
    code, out, err = _interrupt_while_importing(tmp_path, [*launcher, *arguments], module)
    assert (code, err) == (130, INTERRUPTED)
    assert out == ""


@pytest.mark.parametrize("point", HOLD_POINTS.values(), ids=HOLD_POINTS.keys())
@pytest.mark.parametrize("launcher", LAUNCHERS.values(), ids=LAUNCHERS.keys())
def test_interrupt_during_startup_with_sigint_ignored_at_start_is_one_line_exit_130(
    tmp_path: Path, launcher: list[str], point: tuple[str, list[str]]
) -> None:
    # Started with SIGINT ignored, the process used to sit out Ctrl-C until main() ran.
    module, arguments = point
    command = [sys.executable, "-c", _SIGINT_IGNORED, *launcher, *arguments]
    code, out, err = _interrupt_while_importing(tmp_path, command, module)
    assert (code, err) == (130, INTERRUPTED)
    assert out == ""


def test_the_installed_console_script_starts_at_the_entry_module() -> None:
    # The console script is written at install time: an install older than
    # pyproject.toml's [project.scripts] still starts at the heavy CLI package.
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="lambda-assume-role")
    assert script.value == "lambda_assume_role_tools.entry:main", (
        "reinstall the project (pip install -e .): the console script is out of date"
    )


@pytest.mark.parametrize("launcher", LAUNCHERS.values(), ids=LAUNCHERS.keys())
def test_every_launcher_runs_the_command(launcher: list[str]) -> None:
    result = subprocess.run(
        [*launcher, "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: lambda-assume-role")
