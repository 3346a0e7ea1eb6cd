"""Cold start: importing the package pulls in nothing heavy (counted in modules, not timed)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_import_package_loads_neither_boto3_nor_powertools() -> None:
    loaded = modules_after("import lambda_assume_role")
    assert not {name for name in loaded if name.split(".")[0] in {"boto3", "botocore"}}
    assert not {name for name in loaded if name.startswith("aws_lambda_powertools")}


@pytest.mark.parametrize(
    "statement",
    [
        "from lambda_assume_role import inject_session, inject_client, SessionRegistry",
        "import boto3; from lambda_assume_role import assume_role, JSONFileCache",
    ],
)
def test_public_names_never_import_powertools(statement: str) -> None:
    loaded = modules_after(statement)
    assert not {name for name in loaded if name.startswith("aws_lambda_powertools")}


def test_decorators_do_not_import_boto3_until_used() -> None:
    loaded = modules_after(
        "from lambda_assume_role import inject_session\n"
        "inject_session(lambda event, context: 'arn:aws:iam::123456789012:role/R')"
    )
    assert "boto3" not in loaded


def test_unknown_attribute_is_an_attribute_error() -> None:
    import lambda_assume_role

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lambda_assume_role.nope  # noqa: B018
    assert "assume_role" in dir(lambda_assume_role)


def test_refresh_without_instrument_never_imports_powertools_or_xray() -> None:
    # The whole refresh path (the telemetry hooks included) runs: the first fetch goes to a
    # closed port and fails, with one attempt.
    loaded = modules_after(
        "import os\n"
        "os.environ.update(AWS_ACCESS_KEY_ID='AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY='x',\n"
        "    AWS_DEFAULT_REGION='us-east-1', AWS_ENDPOINT_URL='http://127.0.0.1:9',\n"
        "    AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)\n"
        "import boto3\n"
        "from lambda_assume_role import AssumeRoleConnectionError, RefreshWindows, assume_role\n"
        "session = assume_role(boto3.Session(), 'arn:aws:iam::123456789012:role/R',\n"
        "    refresh_windows=RefreshWindows(max_attempts=1))\n"
        "try:\n"
        "    session.get_credentials().get_frozen_credentials()\n"
        "except AssumeRoleConnectionError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('the fetch was expected to fail')\n"
        "assert 'lambda_assume_role.telemetry' in sys.modules"
    )
    assert not {name for name in loaded if name.startswith(("aws_lambda_powertools", "aws_xray"))}
