"""Tenants whose session names collide, against moto over HTTP: never one session, one key."""

from __future__ import annotations

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import (
    InvalidParameterError,
    SessionRegistry,
    TenantError,
    TenantRole,
    authorizer_claim,
    naming,
)
from tests.functional.tenancy.test_tenant_role import CLAIM, ROLE, rest_event
from tests.functional.tenancy.test_tenant_role import caller_handler as caller
from tests.support.contexts import lambda_context
from tests.unit.tenancy.test_tenant_keys import (
    LOG_STREAM,
    OLD_DIGEST_LENGTH,
    assert_not_repeated,
    old_colliding_pair,
)


@pytest.fixture(autouse=True)
def one_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside one execution environment: both tenants' names share the environment part."""
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", LOG_STREAM)


def test_two_tenants_with_one_session_name_make_two_assume_role_calls_and_sign_with_two_keys(
    parent: boto3.Session, requests_log: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old 8-digit digest: the pair's session names collide, and with no tags and no
    # SourceIdentity STS would receive the very same request for both.
    monkeypatch.setattr(naming, "_TENANT_DIGEST_LENGTH", OLD_DIGEST_LENGTH)
    registry = SessionRegistry(parent, maxsize=16)
    bare = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), tags=None, source_identity=False)
    handler = caller(bare, registry)
    first, second = old_colliding_pair()

    for tenant_id in (first, second, first, second):
        handler(rest_event(tenant_id), lambda_context())

    calls = requests_log.matching("AssumeRole")
    assert len(calls) == 2
    assert calls[0].params == calls[1].params  # one request, yet two calls
    assert len(registry) == 2
    signers = [r.access_key for r in requests_log.matching("GetCallerIdentity")]
    assert len(signers) == 4
    assert signers[0] == signers[2] != signers[1] == signers[3]


def test_with_the_defaults_the_pair_that_collided_gets_two_cloudtrail_names(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    handler = caller(TenantRole(ROLE, tenant=authorizer_claim(CLAIM)), SessionRegistry(parent))
    first, second = old_colliding_pair()

    arns = [handler(rest_event(tenant_id), lambda_context()) for tenant_id in (first, second)]

    names = [call.params["RoleSessionName"] for call in requests_log.matching("AssumeRole")]
    assert len(set(names)) == 2
    assert [call.params["SourceIdentity"] for call in requests_log.matching("AssumeRole")] == [
        first,
        second,
    ]
    assert arns[0] != arns[1]
    assert all(arn.endswith("/" + name) for arn, name in zip(arns, names, strict=True))


@pytest.mark.parametrize(
    "tenant_id", ["acme,globex", "acme,globex\nX-Tenant: initech", "acme," * 60]
)
def test_a_registry_rule_that_every_tenant_breaks_is_named_without_the_refused_id(
    parent: boto3.Session, requests_log: RequestLog, tenant_id: str
) -> None:
    from lambda_assume_role import assume_role, get_role_arn

    chained = SessionRegistry(assume_role(parent, get_role_arn("999999999999", "Hop")))
    role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), DurationSeconds=7200)
    handler = caller(role, chained)

    # The id breaks a tag value's rule (or the id rule), the registry its chaining cap:
    # the message is the registry's rule or the tenant's, never the id.
    with pytest.raises(InvalidParameterError) as raised:
        handler(rest_event(tenant_id), lambda_context())

    assert_not_repeated(raised.value, tenant_id)
    if not isinstance(raised.value, TenantError):
        assert "role chaining" in str(raised.value)
    assert len(chained) == 0
    assert requests_log.count("AssumeRole") == 0
