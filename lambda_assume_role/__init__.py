"""Refreshing assumed-role boto3 sessions for AWS Lambda.

A drop-in superset of aws-assume-role-lib: replace ``aws_assume_role_lib`` with
``lambda_assume_role`` in your imports.

Names are loaded on first use (PEP 562), so ``import lambda_assume_role`` costs
almost nothing at cold start; boto3 is imported when you first use a name that
needs it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_assume_role.arns import get_assumed_role_session_arn as get_assumed_role_session_arn
    from lambda_assume_role.arns import get_role_arn as get_role_arn
    from lambda_assume_role.assume import AssumedRoleSession as AssumedRoleSession
    from lambda_assume_role.assume import assume_role as assume_role
    from lambda_assume_role.assume import patch_boto3 as patch_boto3
    from lambda_assume_role.cache import InsecureCacheError as InsecureCacheError
    from lambda_assume_role.cache import JSONFileCache as JSONFileCache
    from lambda_assume_role.clients import ClientOptions as ClientOptions
    from lambda_assume_role.decorators import inject_client as inject_client
    from lambda_assume_role.decorators import inject_session as inject_session
    from lambda_assume_role.errors import AssumeRoleConnectionError as AssumeRoleConnectionError
    from lambda_assume_role.errors import AssumeRoleError as AssumeRoleError
    from lambda_assume_role.errors import AssumeRoleTimeoutError as AssumeRoleTimeoutError
    from lambda_assume_role.errors import InvalidParameterError as InvalidParameterError
    from lambda_assume_role.fanout.organizations import (
        organization_accounts as organization_accounts,
    )
    from lambda_assume_role.fanout.run import FanOutRun as FanOutRun
    from lambda_assume_role.fanout.start import fan_out as fan_out
    from lambda_assume_role.fanout.summary import FanOutSummary as FanOutSummary
    from lambda_assume_role.fanout.targets import Outcome as Outcome
    from lambda_assume_role.fanout.targets import Target as Target
    from lambda_assume_role.naming import (
        generate_lambda_session_name as generate_lambda_session_name,
    )
    from lambda_assume_role.parameters import (
        AUTOMATIC_ROLE_SESSION_NAME as AUTOMATIC_ROLE_SESSION_NAME,
    )
    from lambda_assume_role.refresh_policy import RefreshWindows as RefreshWindows
    from lambda_assume_role.registry import SessionRegistry as SessionRegistry
    from lambda_assume_role.role import PreparedRole as PreparedRole
    from lambda_assume_role.telemetry import instrument as instrument
    from lambda_assume_role.tenancy.role import TenantRole as TenantRole
    from lambda_assume_role.tenancy.sources import TenantError as TenantError
    from lambda_assume_role.tenancy.sources import authorizer_claim as authorizer_claim
    from lambda_assume_role.tenancy.sources import context_tenant_id as context_tenant_id

__version__ = "0.1.0"

# Registered now, not on first use, so that Powertools'
# copy_config_to_registered_loggers() finds it at module scope.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# The public surface, in one list: each name and the module it lives in. `__all__`
# derives from it; the TYPE_CHECKING imports above repeat it for type checkers,
# and tests/unit/core/test_architecture.py checks that the two agree and that
# every name resolves.
_SOURCES = {
    "AUTOMATIC_ROLE_SESSION_NAME": "parameters",
    "AssumeRoleConnectionError": "errors",
    "AssumeRoleError": "errors",
    "AssumeRoleTimeoutError": "errors",
    "AssumedRoleSession": "assume",
    "ClientOptions": "clients",
    "FanOutRun": "fanout.run",
    "FanOutSummary": "fanout.summary",
    "InsecureCacheError": "cache",
    "InvalidParameterError": "errors",
    "JSONFileCache": "cache",
    "Outcome": "fanout.targets",
    "PreparedRole": "role",
    "RefreshWindows": "refresh_policy",
    "SessionRegistry": "registry",
    "Target": "fanout.targets",
    "TenantError": "tenancy.sources",
    "TenantRole": "tenancy.role",
    "assume_role": "assume",
    "authorizer_claim": "tenancy.sources",
    "context_tenant_id": "tenancy.sources",
    "fan_out": "fanout.start",
    "generate_lambda_session_name": "naming",
    "get_assumed_role_session_arn": "arns",
    "get_role_arn": "arns",
    "inject_client": "decorators",
    "inject_session": "decorators",
    "instrument": "telemetry",
    "organization_accounts": "fanout.organizations",
    "patch_boto3": "assume",
}

__all__ = list(_SOURCES)


def __getattr__(name: str) -> Any:
    # The loader is imported on first use, so that `import lambda_assume_role` loads
    # no module of ours: it costs what this file costs.
    from lambda_assume_role.exports import load_export

    return load_export(__name__, _SOURCES, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCES})
