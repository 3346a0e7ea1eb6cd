"""Refreshing assumed-role boto3 sessions for AWS Lambda.

A drop-in superset of aws-assume-role-lib: replace ``aws_assume_role_lib`` with
``lambda_assume_role`` in your imports.

Names are loaded on first use (PEP 562), so ``import lambda_assume_role`` costs
almost nothing at cold start; boto3 is imported when you first use a name that
needs it.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_assume_role.arns import get_assumed_role_session_arn, get_role_arn
    from lambda_assume_role.assume import AssumedRoleSession, assume_role, patch_boto3
    from lambda_assume_role.cache import InsecureCacheError, JSONFileCache
    from lambda_assume_role.decorators import inject_client, inject_session
    from lambda_assume_role.errors import (
        AssumeRoleConnectionError,
        AssumeRoleError,
        AssumeRoleTimeoutError,
        InvalidParameterError,
    )
    from lambda_assume_role.fanout import FanOutRun, FanOutSummary, fan_out
    from lambda_assume_role.naming import generate_lambda_session_name
    from lambda_assume_role.organizations import organization_accounts
    from lambda_assume_role.parameters import AUTOMATIC_ROLE_SESSION_NAME
    from lambda_assume_role.policy import RefreshWindows
    from lambda_assume_role.registry import ClientOptions, PreparedRole, SessionRegistry
    from lambda_assume_role.targets import Outcome, Target
    from lambda_assume_role.telemetry import instrument
    from lambda_assume_role.tenancy import (
        TenantError,
        TenantRole,
        authorizer_claim,
        context_tenant_id,
    )

__version__ = "0.1.0"

# Registered now, not on first use, so that Powertools'
# copy_config_to_registered_loggers() finds it at module scope.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AUTOMATIC_ROLE_SESSION_NAME",
    "AssumeRoleConnectionError",
    "AssumeRoleError",
    "AssumeRoleTimeoutError",
    "AssumedRoleSession",
    "ClientOptions",
    "FanOutRun",
    "FanOutSummary",
    "InsecureCacheError",
    "InvalidParameterError",
    "JSONFileCache",
    "Outcome",
    "PreparedRole",
    "RefreshWindows",
    "SessionRegistry",
    "Target",
    "TenantError",
    "TenantRole",
    "assume_role",
    "authorizer_claim",
    "context_tenant_id",
    "fan_out",
    "generate_lambda_session_name",
    "get_assumed_role_session_arn",
    "get_role_arn",
    "inject_client",
    "inject_session",
    "instrument",
    "organization_accounts",
    "patch_boto3",
]

_SOURCES = {
    "AUTOMATIC_ROLE_SESSION_NAME": "parameters",
    "AssumeRoleConnectionError": "errors",
    "AssumeRoleError": "errors",
    "AssumeRoleTimeoutError": "errors",
    "AssumedRoleSession": "assume",
    "ClientOptions": "registry",
    "FanOutRun": "fanout",
    "FanOutSummary": "fanout",
    "InsecureCacheError": "cache",
    "InvalidParameterError": "errors",
    "JSONFileCache": "cache",
    "Outcome": "targets",
    "PreparedRole": "registry",
    "RefreshWindows": "policy",
    "SessionRegistry": "registry",
    "Target": "targets",
    "TenantError": "tenancy",
    "TenantRole": "tenancy",
    "assume_role": "assume",
    "authorizer_claim": "tenancy",
    "context_tenant_id": "tenancy",
    "fan_out": "fanout",
    "generate_lambda_session_name": "naming",
    "get_assumed_role_session_arn": "arns",
    "get_role_arn": "arns",
    "inject_client": "decorators",
    "inject_session": "decorators",
    "instrument": "telemetry",
    "organization_accounts": "organizations",
    "patch_boto3": "assume",
}


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
