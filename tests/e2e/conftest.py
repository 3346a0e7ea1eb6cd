"""End-to-end fixtures: each example runs under awslambdaric, as Lambda would run it.

The runtime process sees the example's folder, the layer built from this
checkout and what the Lambda Python runtime provides; nothing from this
virtualenv's site-packages (see `emulators.lambda_runtime`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from emulators.lambda_runtime import LAMBDA_RUNTIME_MODULES, LambdaFunction, link_modules
from emulators.moto_server import MotoServer
from lambda_assume_role_tools.layer import build_layer_directory
from tests.e2e.helpers import EXAMPLE_VARIABLES, EXAMPLES, PACKAGED_DEPENDENCIES, Launch

_HERE = Path(__file__).resolve().parent
# awslambdaric ships for Linux only. Without it no example can run; the tests are still
# collected and each is reported as skipped with this reason (-ra lists them), so a run
# without it says how much it left out instead of looking like a smaller suite.
_NO_RUNTIME = (
    "awslambdaric is not installed (it ships for Linux only): the examples cannot run "
    "under the Lambda runtime interface client"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every end-to-end test skipped when awslambdaric is missing.

    A conftest's collection hook sees the whole session's items: only this
    folder's test modules are marked (helpers.py's doctests need no runtime).
    """
    if importlib.util.find_spec("awslambdaric") is not None:
        return
    skip = pytest.mark.skip(reason=_NO_RUNTIME)
    for item in items:
        path = item.path.resolve()
        if path.parent == _HERE and path.name.startswith("test_"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full layer, as template.yaml ships it, built once: its ``python/`` folder.

    Sources only: the runtime here is this venv's Python 3.11, for which the layer has no
    bytecode anyway (it compiles for the Lambda runtimes, python3.12+), so compiling it
    would only slow the session down. tests/functional/tools/test_layer_bytecode.py checks the
    bytecode under each runtime's interpreter.
    """
    root = tmp_path_factory.mktemp("layer")
    build_layer_directory(root, bytecode=False)
    return root / "python"


@pytest.fixture(scope="session")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Links to what the Lambda Python runtime provides, awslambdaric included."""
    return link_modules(tmp_path_factory.mktemp("runtime"), LAMBDA_RUNTIME_MODULES)


@pytest.fixture
def launch(
    moto_server: MotoServer, layer_dir: Path, runtime_dir: Path, tmp_path: Path
) -> Iterator[Launch]:
    """Start an example as a function; every function started is stopped after the test.

    ``launch(example, variables=None, *, handler="app.handler", extra_paths=(),
    max_concurrency=None)``: ``variables`` default to the example's own
    (`EXAMPLE_VARIABLES`); ``max_concurrency`` runs it as under Lambda Managed Instances,
    that many awslambdaric workers in one environment (`LambdaFunction`).
    """
    started: list[LambdaFunction] = []

    def _launch(
        example: str,
        variables: Mapping[str, str] | None = None,
        *,
        handler: str = "app.handler",
        extra_paths: tuple[Path, ...] = (),
        max_concurrency: int | None = None,
    ) -> LambdaFunction:
        packaged = PACKAGED_DEPENDENCIES.get(example, ())
        if packaged:
            extra_paths = (*extra_paths, link_modules(tmp_path / f"{example}-package", packaged))
        function = LambdaFunction(
            EXAMPLES / example,
            layer_dir=layer_dir,
            runtime_dir=runtime_dir,
            endpoint_url=moto_server.endpoint_url,
            variables=EXAMPLE_VARIABLES[example] if variables is None else variables,
            function_name=example.replace("_", "-"),
            handler=handler,
            extra_paths=extra_paths,
            log_path=tmp_path / f"{example}.log",
            max_concurrency=max_concurrency,
        )
        started.append(function)
        return function.start()

    yield _launch
    for function in started:
        function.stop()
