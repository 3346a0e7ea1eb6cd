"""Each example runs from the layer alone plus what the Lambda runtime provides.

A probe handler imports the example module (so the example's init runs exactly
as in the other tests) and reports where the modules it needs come from, in the
same kind of runtime process the other e2e tests use.

The runtime's boto3 and botocore are the ones of the interpreter running the
tests: ``make pytest-floor`` runs this file (and ``test_single_role.py``) from
``.venv-floor``, so the layer is exercised on the oldest botocore we accept,
as on a Lambda runtime that ships an older botocore than the newest.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import boto3
import botocore
import pytest

from tests.e2e.helpers import EXAMPLES, Launch, invoke_ok

PROBE = """
import importlib
import sys

import app  # the example's init

def handler(event, context):
    return {
        "no_site": sys.flags.no_site,
        "path": sys.path,
        "files": {name: importlib.import_module(name).__file__ for name in event},
        "versions": {
            name: importlib.import_module(name).__version__ for name in ("boto3", "botocore")
        },
    }
"""

CHECKED = [
    "app",
    "lambda_assume_role",
    "aws_lambda_powertools",
    "boto3",
    "botocore",
    "awslambdaric",
]


def inside(path: str, folder: Path) -> bool:
    return Path(path).is_relative_to(folder)


@pytest.mark.parametrize(
    "example",
    [
        "single_role",
        "multi_tenant",
        "powertools",
        "org_inventory",
        "tenant_isolation",
        "managed_instances",
        pytest.param(
            "durable_inventory",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("aws_durable_execution_sdk_python") is None,
                reason="the durable execution SDK, which durable_inventory packages, is not "
                "installed (it needs Python >= 3.11 and boto3 >= 1.43.114; the botocore-floor "
                "and next-path venvs have older ones)",
            ),
        ),
    ],
)
def test_example_imports_the_library_from_the_layer_only(
    launch: Launch, layer_dir: Path, runtime_dir: Path, tmp_path: Path, example: str
) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "probe.py").write_text(PROBE)

    function = launch(example, handler="probe.handler", extra_paths=(probe,))
    seen = invoke_ok(function, CHECKED)

    files = seen["files"]
    assert seen["no_site"] == 1
    assert not [entry for entry in seen["path"] if "site-packages" in entry]
    assert not [entry for entry in seen["path"] if entry.startswith(sys.prefix)]
    assert inside(files["app"], EXAMPLES / example)
    assert inside(files["lambda_assume_role"], layer_dir)
    assert inside(files["boto3"], runtime_dir)
    assert inside(files["botocore"], runtime_dir)
    # The runtime's SDK is this interpreter's: the floor run puts 1.34 under the layer.
    assert seen["versions"] == {"boto3": boto3.__version__, "botocore": botocore.__version__}
    assert inside(files["awslambdaric"], runtime_dir)
    assert inside(files["aws_lambda_powertools"], layer_dir)
