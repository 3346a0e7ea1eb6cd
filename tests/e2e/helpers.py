"""What the end-to-end tests share: each example's configuration, and checks on invocations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulators.lambda_runtime import ACCOUNT_ID, LambdaFunction

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TENANT_A, TENANT_B = "111111111111", "222222222222"

Launch = Callable[..., LambdaFunction]
"""The ``launch`` fixture: ``launch(example, variables=None, *, handler=..., extra_paths=(),
max_concurrency=None)``."""

READER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/ReportReader"
CONFIG_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/ConfigReader"
TENANT_ROLE_NAME = "TenantReadOnly"
TENANT_EXTERNAL_ID = "tenant-external-id"
BUCKET_NAME = "reports"
PARAMETER_NAME = "/lambda-assume-role/greeting"
TENANT_DATA_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/TenantData"
TENANT_TABLE = "tenant-items"
CATALOG_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/CatalogReader"
CATALOG_BUCKET = "catalog"

EXAMPLE_VARIABLES: dict[str, dict[str, str]] = {
    "single_role": {"BUCKET_NAME": BUCKET_NAME, "READER_ROLE_ARN": READER_ROLE_ARN},
    "multi_tenant": {
        "TENANT_ROLE_NAME": TENANT_ROLE_NAME,
        "TENANT_EXTERNAL_ID": TENANT_EXTERNAL_ID,
        "TENANT_SESSION_SECONDS": "900",
    },
    "powertools": {
        "CONFIG_ROLE_ARN": CONFIG_ROLE_ARN,
        "PARAMETER_NAME": PARAMETER_NAME,
        "POWERTOOLS_SERVICE_NAME": "config-reader",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # No X-Ray daemon here: Tracer's decorators become no-ops.
        "POWERTOOLS_TRACE_DISABLED": "true",
    },
    "org_inventory": {"RESULTS_BUCKET": "org-inventory-results"},
    "tenant_isolation": {
        "TABLE_NAME": TENANT_TABLE,
        "TENANT_ROLE_ARN": TENANT_DATA_ROLE_ARN,
        "POWERTOOLS_SERVICE_NAME": "tenant-items",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    },
    "managed_instances": {"BUCKET_NAME": CATALOG_BUCKET, "READER_ROLE_ARN": CATALOG_ROLE_ARN},
    "durable_inventory": {
        "RESULTS_BUCKET": "durable-inventory-results",
        "MEMBER_ROLE_NAME": "OrganizationAccountAccessRole",
        "REGIONS": "",
        "BATCH_SIZE": "25",
    },
}
"""The environment each example's template.yaml entry gives it, pointed at moto's names."""

PACKAGED_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    # examples/powertools/requirements.txt: Tracer imports aws_xray_sdk even when disabled.
    "powertools": ("aws_xray_sdk", "wrapt"),
    # examples/durable_inventory/requirements.txt: the durable execution SDK, packaged
    # as AWS recommends (the python3.13 runtime's own copy is for testing).
    "durable_inventory": ("aws_durable_execution_sdk_python",),
}
"""Modules ``sam build`` packages with an example, by import name: its requirements.txt,
installed ``--no-deps`` by its Makefile (tests/functional/tools/test_sam_build.py checks
they agree)."""


def session_name(function: LambdaFunction) -> str:
    """The session name the library generates in this environment ($LATEST: no version)."""
    return f"{function.function_name}.{function.environment_id}"


def assumed_identity(function: LambdaFunction, account_id: str, role_name: str) -> str:
    """The ARN GetCallerIdentity returns for the role, assumed in this environment."""
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name(function)}"


def invoke_ok(function: LambdaFunction, event: Any) -> Any:
    """Invoke once; the response payload, or a failure that shows the error and the logs."""
    result = function.invoke(event)
    assert result.ok, f"{result.error}\n--- function log ---\n{function.logs()}"
    return result.payload
