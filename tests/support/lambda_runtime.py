"""The Lambda function runner lives in `emulators.lambda_runtime`; this name is kept for imports."""

from __future__ import annotations

from emulators.lambda_runtime import (
    ACCOUNT_ID,
    EXECUTION_ROLE_ACCESS_KEY,
    LAMBDA_RUNTIME_MODULES,
    RUNTIME_PROVIDED_MODULES,
    LambdaFunction,
    link_modules,
)

__all__ = [
    "ACCOUNT_ID",
    "EXECUTION_ROLE_ACCESS_KEY",
    "LAMBDA_RUNTIME_MODULES",
    "RUNTIME_PROVIDED_MODULES",
    "LambdaFunction",
    "link_modules",
]
