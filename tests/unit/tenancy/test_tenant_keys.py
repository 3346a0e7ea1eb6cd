"""Tenants are keyed by who they are: the full id keys a session, names carry 64 bits of digest,
and a refused id is never repeated in an error."""

from __future__ import annotations

import hashlib
import pickle
import re
import traceback
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import boto3
import pytest

from lambda_assume_role import SessionRegistry, naming
from lambda_assume_role.naming import ROLE_SESSION_NAME_PATTERN, tenant_session_name
from lambda_assume_role.tenancy import TenantError, TenantRole, authorizer_claim
from tests.support.contexts import lambda_context

ROLE = "arn:aws:iam::123456789012:role/TenantData"
CLAIM = "custom:tenant_id"
ENVIRONMENT = "0123456789abcdef"
LOG_STREAM = f"2026/12/02/[$LATEST]{ENVIRONMENT}0123"
# What tenant_session_name cut a long id to before: 38 characters, "+", 8 hex digits.
OLD_DIGEST_LENGTH = 8
OLD_PREFIX_LENGTH = 64 - 1 - len(ENVIRONMENT) - 1 - OLD_DIGEST_LENGTH


@cache
def old_colliding_pair() -> tuple[str, str]:
    """Two 61-character tenant ids that got one session name with 8 hex digits of digest.

    A birthday search over ids sharing their first 38 characters: about 2**16
    SHA-256 digests (a fraction of a second).
    """
    prefix = "t" * OLD_PREFIX_LENGTH
    seen: dict[str, str] = {}
    for n in range(1 << 22):
        tenant_id = f"{prefix}{n:023d}"
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:OLD_DIGEST_LENGTH]
        other = seen.setdefault(digest, tenant_id)
        if other != tenant_id:
            return other, tenant_id
    raise AssertionError("no collision in 2**22 tries")  # pragma: no cover - about 2**-30


def event(tenant_id: Any) -> dict[str, Any]:
    return {"requestContext": {"authorizer": {"claims": {CLAIM: tenant_id}}}}


@pytest.fixture
def registry() -> SessionRegistry:
    # Static keys: nothing here makes a network call (credentials stay lazy).
    parent = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example", region_name="us-east-1"
    )
    return SessionRegistry(parent, maxsize=16)


@pytest.fixture
def old_digest(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The old 8-digit digest and a fixed environment: the colliding pair gets one name."""
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", LOG_STREAM)
    monkeypatch.setattr(naming, "_TENANT_DIGEST_LENGTH", OLD_DIGEST_LENGTH)
    first, second = old_colliding_pair()
    assert tenant_session_name(first) == tenant_session_name(second)
    return first, second


# --- Keys ----------------------------------------------------------------------------------


def test_two_tenants_with_one_session_name_and_one_request_get_two_keys_and_two_sessions(
    old_digest: tuple[str, str], registry: SessionRegistry
) -> None:
    bare = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), tags=None, source_identity=False)
    first, second = (bare.prepare_for(registry, event(t), lambda_context()) for t in old_digest)

    # STS would receive the very same request for both...
    assert first.params == second.params
    assert first.params.role_session_name == tenant_session_name(old_digest[0])
    # ...yet each tenant's role is keyed by its full id, so each gets its own session.
    assert registry.session_for(first) is not registry.session_for(second)
    assert len(registry) == 2
    assert first.key != second.key
    assert (first.scope, second.scope) == (("tenant", old_digest[0]), ("tenant", old_digest[1]))
    # A warm tenant still finds its own prepared role.
    assert bare.prepare_for(registry, event(old_digest[0]), lambda_context()) is first


def test_a_decorator_with_keywords_of_its_own_still_keys_each_tenant_by_its_full_id(
    old_digest: tuple[str, str], registry: SessionRegistry
) -> None:
    from lambda_assume_role import inject_session

    bare = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), tags=None, source_identity=False)
    sessions: list[Any] = []

    @inject_session(bare, registry=registry, DurationSeconds=900)
    def handler(event: Any, context: Any, session: Any) -> None:
        sessions.append(session)

    for tenant_id in (*old_digest, old_digest[0]):
        handler(event(tenant_id), lambda_context())
    first, second, again = sessions
    # One request for both (the decorator's DurationSeconds included), two sessions.
    assert first is not second
    assert again is first
    assert len(registry) == 2


def test_a_tenants_key_is_its_full_id_even_when_every_other_part_is_equal(
    registry: SessionRegistry,
) -> None:
    bare = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), tags=None, source_identity=False)
    acme = bare.prepare_for(registry, event("acme"), lambda_context())
    unscoped = registry.prepare(**bare.parameters("acme"))

    assert acme.params == unscoped.params
    assert acme == unscoped.scoped(("tenant", "acme"))
    assert acme != unscoped
    assert registry.session_for(acme) is not registry.session_for(unscoped)


# --- Names ---------------------------------------------------------------------------------


def test_the_old_colliding_pair_gets_two_session_names_with_16_hex_digits_of_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", LOG_STREAM)
    first, second = old_colliding_pair()
    names = [tenant_session_name(tenant_id) for tenant_id in (first, second)]

    assert names[0] != names[1]
    for tenant_id, name in zip((first, second), names, strict=True):
        assert len(name) == 64
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
        assert name == f"{tenant_id[:30]}+{digest}.{ENVIRONMENT}"
        assert ROLE_SESSION_NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize("identifier", ["", "e", "env", "0123456789", ENVIRONMENT, "x" * 40])
def test_every_tenant_id_length_fits_sts_limit_with_the_environment_part(identifier: str) -> None:
    for length in range(1, 257):
        tenant_id = "a" * length
        name = tenant_session_name(tenant_id, identifier=identifier)
        assert ROLE_SESSION_NAME_PATTERN.fullmatch(name), (length, name)
        tenant_part, _, environment = name.rpartition(".")
        assert environment == (identifier[:16] or "_")
        if tenant_part != tenant_id:
            assert re.fullmatch(r"a+\+[0-9a-f]{16}", tenant_part)
            assert len(name) == 64


def test_an_id_shaped_like_a_cut_name_is_cut_too_and_never_spells_another_ids_name() -> None:
    long_id = "t" * 61
    cut = tenant_session_name(long_id, identifier=ENVIRONMENT).rpartition(".")[0]
    # An id that spells the long id's cut form exactly: cut and hashed in turn.
    assert len(cut) == 47
    forged = tenant_session_name(cut, identifier=ENVIRONMENT)
    assert forged != tenant_session_name(long_id, identifier=ENVIRONMENT)
    assert forged.startswith("t" * 30 + "+")
    # One character shorter fits whole.
    whole = cut[:46]
    assert tenant_session_name(whole, identifier=ENVIRONMENT) == f"{whole}.{ENVIRONMENT}"


# --- Refused ids are never repeated ---------------------------------------------------------

HOSTILE = [
    pytest.param("acme,globex", id="comma-tag-value"),
    pytest.param(",".join(["acme"] * 40), id="many-commas"),
    pytest.param("acme\nglobex", id="newline"),
    pytest.param("acme\r\nX-Tenant: globex", id="header-injection"),
    pytest.param('acme","Resource":"*', id="json-breakout"),
    pytest.param("a" * 300, id="300-characters"),
    pytest.param("acme," * 2_000, id="10000-characters"),
    pytest.param("AKIAIOSFODNN7EXAMPLE,secret", id="a-key-with-a-comma"),
    pytest.param("=" * 257, id="257-equals"),
]


def assert_not_repeated(error: BaseException, tenant_id: str) -> None:
    """Neither the message, the repr, the pickled copy nor a printed traceback holds the id."""
    texts = [
        str(error),
        repr(error),
        str(pickle.loads(pickle.dumps(error))),
        "".join(traceback.format_exception(error)),
    ]
    for text in texts:
        assert tenant_id not in text
        for line in tenant_id.splitlines():
            if len(line) > 3:
                assert line not in text


@pytest.mark.parametrize("tenant_id", HOSTILE)
@pytest.mark.parametrize("path", ["decorator", "parameters"])
def test_a_refused_id_is_never_repeated_and_the_error_names_source_rule_and_length(
    registry: SessionRegistry, tenant_id: str, path: str
) -> None:
    tenant_role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM))
    call: Callable[[], object]
    if path == "decorator":
        call = partial(tenant_role.prepare_for, registry, event(tenant_id), lambda_context())
    else:
        call = partial(tenant_role.parameters, tenant_id)

    with pytest.raises(TenantError) as raised:
        call()

    error = raised.value
    source = "authorizer_claim('custom:tenant_id')" if path == "decorator" else "parameters()"
    assert error.source == source
    message = str(error)
    assert message.startswith(f"tenant id from {source} ")
    assert f"{len(tenant_id)} characters" in message
    assert "must" in message  # the rule
    assert_not_repeated(error, tenant_id)
    assert len(registry) == 0


@pytest.mark.parametrize(
    ("tenant_id", "template", "rule"),
    [
        ("acme,globex", {"tags": {"TenantId": "{tenant}"}}, r"Tags\[0\]\.Value must match"),
        (
            "a" * 256,
            {"tags": {"Path": "tenants/{tenant}"}, "source_identity": False},
            r"Tags\[0\]\.Value must be at most",
        ),
        (
            "b" * 250,
            {
                "source_identity": False,  # botocore 1.34 caps it at 64 characters
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": [f"arn:aws:s3:::bucket{n}/{{tenant}}/*" for n in range(10)],
                        }
                    ],
                },
            },
            "Policy must be at most 2048",
        ),
    ],
    ids=["tag-pattern", "tag-length", "policy-size"],
)
def test_a_rule_of_sts_where_the_id_lands_is_named_without_the_id(
    registry: SessionRegistry, tenant_id: str, template: dict[str, Any], rule: str
) -> None:
    tenant_role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), **template)

    for call in (
        lambda: tenant_role.prepare_for(registry, event(tenant_id), lambda_context()),
        lambda: tenant_role.parameters(tenant_id),
    ):
        with pytest.raises(TenantError, match=rule) as raised:
            call()
        assert str(raised.value).endswith(f"(the id has {len(tenant_id)} characters)")
        assert_not_repeated(raised.value, tenant_id)
