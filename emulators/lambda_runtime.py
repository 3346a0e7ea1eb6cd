"""Run a function locally the way Lambda runs it: awslambdaric, a layer, and nothing else.

    runtime = link_modules(tmp / "runtime", LAMBDA_RUNTIME_MODULES)
    with LambdaFunction(
        Path("examples/single_role"),
        layer_dir=layer / "python",
        runtime_dir=runtime,
        endpoint_url=moto.endpoint_url,
        variables={"BUCKET_NAME": "reports", "READER_ROLE_ARN": arn},
    ) as function:
        result = function.invoke({})

The runtime process is ``python -S -m awslambdaric app.handler``: ``-S`` keeps every
site-packages folder (and so this virtualenv's ``lambda_assume_role`` and Powertools) off
``sys.path``. What it can import is exactly what ``PYTHONPATH`` lists, in Lambda's order:

1. the function's code (``/var/task``), plus any folders the caller adds to it;
2. the layer's ``python/`` folder (``/opt/python``);
3. a folder of links to what the Lambda Python runtime ships (``/var/lang`` and
   ``/var/runtime``): boto3, botocore and their dependencies, and awslambdaric itself.

AWS is moto on loopback through ``AWS_ENDPOINT_URL``; the function gets the variables
Lambda sets, including execution-role credentials (an ``ASIA`` key with a session token),
and a temporary folder of its own (``TMPDIR``), as each environment has its own ``/tmp``.

Lambda Managed Instances: ``LambdaFunction(..., max_concurrency=8)`` sets
``AWS_LAMBDA_MAX_CONCURRENCY``, so awslambdaric forks 8 worker processes, each importing
the handler itself and polling the emulator; ``invoke_many`` sends invocations at once.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from emulators.runtime_api import (
    InvocationResult,
    RuntimeAPIEmulator,
    lambda_environment,
    start_runtime,
    stop_runtime,
)
from lambda_assume_role_tools.layer import RUNTIME_PROVIDED_MODULES

__all__ = [
    "ACCOUNT_ID",
    "EXECUTION_ROLE_ACCESS_KEY",
    "LAMBDA_RUNTIME_MODULES",
    "RUNTIME_PROVIDED_MODULES",
    "LambdaFunction",
    "link_modules",
]

LAMBDA_RUNTIME_MODULES = (
    *RUNTIME_PROVIDED_MODULES,
    # ... and its runtime interface client, with the modules that client needs.
    "awslambdaric",
    "runtime_client",
    "simplejson",
    "snapshot_restore_py",
)
"""Top-level modules the Lambda Python runtime provides, by import name."""

EXECUTION_ROLE_ACCESS_KEY = "ASIAEXECUTIONROLE001"
"""The access key of the (pretend) execution role; moto maps it to account 123456789012."""

ACCOUNT_ID = "123456789012"
"""moto's default account: the execution role's, and the function's."""

_ENVIRONMENT_ID = re.compile(r"\]([0-9a-f]{32})$")


def link_modules(target: Path, names: Iterable[str]) -> Path:
    """Make ``target`` a folder of symlinks to top-level modules of this interpreter.

    Args:
        target: The folder to create (or add to).
        names: Import names, e.g. ``"boto3"`` or ``"runtime_client"`` (an extension module).

    Returns:
        ``target``, ready to put on ``PYTHONPATH``.

    Raises:
        ModuleNotFoundError: A module is not installed here.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ModuleNotFoundError(f"{name} is not installed; cannot emulate the Lambda runtime")
        if spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations)))
        elif spec.origin:
            source = Path(spec.origin)
        else:  # pragma: no cover - namespace packages and built-ins have nothing to link
            continue
        link = target / source.name
        if not link.is_symlink():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return target


def execution_role_environment() -> dict[str, str]:
    """Credentials as Lambda hands them to a function: the execution role's, with a token."""
    return {
        "AWS_ACCESS_KEY_ID": EXECUTION_ROLE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "execution-role-secret-never-printed",
        "AWS_SESSION_TOKEN": "execution-role-session-token",
    }


class LambdaFunction:
    """One execution environment: a Runtime API emulator and an isolated awslambdaric polling it.

    By default the runtime is one process that takes one invocation at a time, as in a
    Lambda (default) environment. With ``max_concurrency`` it runs as under Lambda Managed
    Instances: awslambdaric forks that many workers, each with its own module globals,
    each serving one invocation at a time, all sharing the environment's ``TMPDIR``.

    Args:
        code_dir: The function's code (its ``LAMBDA_TASK_ROOT`` and working directory).
        layer_dir: The layer's ``python/`` folder.
        runtime_dir: A folder of links to `LAMBDA_RUNTIME_MODULES` (see `link_modules`).
        endpoint_url: Where every AWS client goes (moto).
        variables: The function's own environment variables; they win over Lambda's.
        function_name: ``AWS_LAMBDA_FUNCTION_NAME``.
        handler: ``module.function``.
        extra_paths: Folders searched after ``code_dir`` (packaged dependencies).
        log_path: Where the runtime's stdout and stderr go; None inherits ours.
        python: The interpreter to run awslambdaric with (another version's, for a
            benchmark); None: this one. ``runtime_dir`` must hold modules it can import.
        max_concurrency: ``AWS_LAMBDA_MAX_CONCURRENCY`` (worker processes); None: unset,
            one process as in Lambda (default).
    """

    def __init__(
        self,
        code_dir: Path,
        *,
        layer_dir: Path,
        runtime_dir: Path,
        endpoint_url: str,
        variables: Mapping[str, str] | None = None,
        function_name: str = "example-function",
        handler: str = "app.handler",
        extra_paths: Sequence[Path] = (),
        log_path: Path | None = None,
        python: Path | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.code_dir = code_dir.resolve()
        self.python = python
        self.function_name = function_name
        self.handler = handler
        self.log_path = log_path
        self.pythonpath = [self.code_dir, *extra_paths, layer_dir, runtime_dir]
        self._endpoint_url = endpoint_url
        self._variables = dict(variables or {})
        self.api = RuntimeAPIEmulator(
            f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function_name}"
        )
        self.environment: dict[str, str] = {}
        self.tmp_dir: Path | None = None  # this environment's /tmp (TMPDIR), while started
        self._own_tmp_dir = False
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def environment_id(self) -> str:
        """The 32 hex digits that end the log stream name: this environment's id."""
        match = _ENVIRONMENT_ID.search(self.environment["AWS_LAMBDA_LOG_STREAM_NAME"])
        assert match, self.environment["AWS_LAMBDA_LOG_STREAM_NAME"]
        return match.group(1)

    def start(self) -> LambdaFunction:
        """Start the emulator and the runtime process (which then runs the function's init)."""
        self.api.start()
        if "TMPDIR" in self._variables:
            self.tmp_dir = Path(self._variables["TMPDIR"])
        else:
            self.tmp_dir = Path(tempfile.mkdtemp(prefix=f"{self.function_name}-tmp-"))
            self._own_tmp_dir = True
        self.environment = {
            **lambda_environment(
                self.api.address,
                self.handler,
                task_root=self.code_dir,
                function_name=self.function_name,
            ),
            **execution_role_environment(),
            "AWS_ENDPOINT_URL": self._endpoint_url,
            # Never read the host's AWS configuration or instance metadata.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TMPDIR": str(self.tmp_dir),
            **(
                {"AWS_LAMBDA_MAX_CONCURRENCY": str(self.max_concurrency)}
                if self.max_concurrency is not None
                else {}
            ),
            **self._variables,
        }
        try:
            self._process = self._spawn()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        # -S: no site module, so no site-packages; -B: leave no __pycache__ in examples/.
        return start_runtime(
            self.handler,
            cwd=self.code_dir,
            pythonpath=[str(path) for path in self.pythonpath],
            env=self.environment,
            log_path=self.log_path,
            python_flags=("-S", "-B"),
            python=self.python,
        )

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until init is done and the runtime asks for its first invocation.

        With ``max_concurrency``: until every worker polls at once (each did its init).
        """
        self.api.wait_ready(timeout, pollers=self.max_concurrency or 1)

    def invoke(self, event: Any, *, timeout: float = 10.0) -> InvocationResult:
        """Invoke the function once and wait for its response or error."""
        return self.api.invoke(event, timeout=timeout, wait_for_init=True)

    def invoke_many(
        self, events: Iterable[Any], *, timeout: float = 10.0
    ) -> list[InvocationResult]:
        """Invoke once per event, all at once; the results in the events' order.

        Each invocation runs on a thread of its own here; with ``max_concurrency`` the
        runtime's workers serve up to that many of them at the same time.
        """
        return self.api.invoke_many(events, timeout=timeout, wait_for_init=True)

    def init_error(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The error the function's init reported, or None if there was none in time."""
        return self.api.init_error(timeout)

    def logs(self) -> str:
        """Everything the function printed so far (needs ``log_path``)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the runtime (and its workers), then the emulator; remove the environment's
        temporary folder unless the caller chose it (``TMPDIR`` in ``variables``); safe to
        call twice."""
        if self._process is not None:
            stop_runtime(self._process, timeout=3)
            self._process = None
        self.api.stop()
        if self._own_tmp_dir and self.tmp_dir is not None:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self._own_tmp_dir = False

    def __enter__(self) -> LambdaFunction:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
