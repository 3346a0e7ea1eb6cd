"""SessionRegistry against moto: keys, reuse, LRU eviction, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambda_assume_role import InvalidParameterError, SessionRegistry, get_role_arn
from tests.support.moto_server import RequestLog
from tests.support.threads import run_together


def tenant(n: int) -> str:
    return get_role_arn(300000000000 + n, "Tenant")


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent, maxsize=128)


def caller(client: Any) -> str:
    arn: str = client.get_caller_identity()["Arn"]
    return arn


def test_same_parameters_return_the_same_session_and_client(registry: SessionRegistry) -> None:
    session = registry.session(tenant(1), RoleSessionName="same")
    assert registry.session(tenant(1), RoleSessionName="same") is session
    client = registry.client(tenant(1), "sts", RoleSessionName="same")
    assert registry.client(tenant(1), "sts", RoleSessionName="same") is client
    assert len(registry) == 1


def test_policy_dict_and_its_json_are_one_key(registry: SessionRegistry) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    as_dict = registry.session(tenant(1), Policy=policy)
    as_json = registry.session(
        tenant(1),
        Policy='{"Statement": [{"Action": "*", "Effect": "Allow"}], "Version": "2012-10-17"}',
    )
    assert as_dict is as_json
    assert len(registry) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"ExternalId": "tenant-a"}, {"ExternalId": "tenant-b"}),
        ({"DurationSeconds": 900}, {"DurationSeconds": 1800}),
        ({"RoleSessionName": "one"}, {"RoleSessionName": "two"}),
        ({"Tags": {"k": "v1"}}, {"Tags": {"k": "v2"}}),
        ({"region_name": "eu-west-1"}, {"region_name": "eu-west-2"}),
        ({}, {"SourceIdentity": "alice"}),
    ],
)
def test_different_parameters_never_share_a_session(
    registry: SessionRegistry, first: dict[str, Any], second: dict[str, Any]
) -> None:
    assert registry.session(tenant(1), **first) is not registry.session(tenant(1), **second)
    assert registry.session(tenant(1), **first) is registry.session(tenant(1), **first)


def test_clients_are_keyed_by_service_region_and_config(registry: SessionRegistry) -> None:
    config = Config(retries={"max_attempts": 2})
    base = registry.client(tenant(1), "sts")
    assert registry.client(tenant(1), "sts", region_name="eu-west-1") is not base
    assert registry.client(tenant(1), "sts", config=config) is not base
    assert registry.client(tenant(1), "sts", config=config) is registry.client(
        tenant(1), "sts", config=config
    )
    assert registry.client(tenant(1), "sts", region_name="eu-west-1").meta.region_name == (
        "eu-west-1"
    )


def test_warm_use_makes_no_sts_call_and_no_client(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    created: list[str] = []
    caller(registry.client(tenant(1), "sts"))
    registry.session(tenant(1)).events.register(
        "creating-client-class", lambda **kwargs: created.append("client")
    )
    for _ in range(10):
        caller(registry.client(tenant(1), "sts"))
    assert requests_log.count("AssumeRole") == 1
    assert created == []


def test_two_tenants_get_two_identities(registry: SessionRegistry) -> None:
    a = caller(registry.client(tenant(1), "sts", RoleSessionName="tenant-a"))
    b = caller(registry.client(tenant(2), "sts", RoleSessionName="tenant-b"))
    assert a == "arn:aws:sts::300000000001:assumed-role/Tenant/tenant-a"
    assert b == "arn:aws:sts::300000000002:assumed-role/Tenant/tenant-b"


def test_a_thousand_tenants_stay_bounded_and_evict_least_recently_used(
    parent: boto3.Session,
) -> None:
    registry = SessionRegistry(parent, maxsize=128)
    closed: list[int] = []
    clients: dict[int, Any] = {}
    for n in range(1000):
        client = registry.client(tenant(n), "sts")
        original_close = client.close

        def close(n: int = n, original: Any = original_close) -> None:
            closed.append(n)
            original()

        client.close = close
        clients[n] = client
    assert len(registry) == 128
    assert sorted(closed) == list(range(1000 - 128))
    assert registry.client(tenant(999), "sts") is clients[999]
    assert registry.client(tenant(0), "sts") is not clients[0]
    assert len(registry) == 128


def test_recently_used_entries_survive_eviction(parent: boto3.Session) -> None:
    registry = SessionRegistry(parent, maxsize=3)
    first = registry.session(tenant(1))
    registry.session(tenant(2))
    registry.session(tenant(3))
    assert registry.session(tenant(1)) is first  # now most recently used
    registry.session(tenant(4))  # evicts tenant 2
    assert registry.session(tenant(1)) is first
    assert len(registry) == 3


def test_32_threads_make_one_session_one_client_and_one_assume_role_per_role(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    seen: dict[int, set[int]] = {role: set() for role in range(4)}
    lock = threading.Lock()

    def invoke(role: int) -> None:
        client = registry.client(tenant(role), "sts")
        caller(client)
        with lock:
            seen[role].add(id(client))

    assert run_together(invoke, [(i % 4,) for i in range(32)]) == []
    assert all(len(ids) == 1 for ids in seen.values())
    assert requests_log.count("AssumeRole") == 4
    assert len(registry) == 4


def test_bad_arn_raises_before_any_call_and_caches_nothing(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    with pytest.raises(ValueError, match="RoleArn must look like"):
        registry.session("arn:aws:iam::42:role/Nope")
    with pytest.raises(InvalidParameterError, match="DurationSeconds"):
        registry.client(tenant(1), "s3", DurationSeconds=60)
    assert len(registry) == 0
    assert requests_log.all() == []


def test_default_parent_is_created_lazily_once(moto_server: Any) -> None:
    registry = SessionRegistry()
    assert registry._parent is None
    session = registry.session(tenant(1))
    assert registry.parent is registry.parent
    assert session.assume_role_parent_session is registry.parent


def test_clear_drops_sessions_and_closes_clients(registry: SessionRegistry) -> None:
    client = registry.client(tenant(1), "sts")
    closed: list[bool] = []
    original = client.close
    client.close = lambda: (closed.append(True), original())
    registry.clear()
    assert len(registry) == 0
    assert closed == [True]
    assert registry.client(tenant(1), "sts") is not client


@pytest.mark.parametrize("maxsize", [0, -1, 1.5, True])
def test_maxsize_must_be_a_positive_int(maxsize: Any) -> None:
    with pytest.raises(ValueError, match="maxsize must be a positive int"):
        SessionRegistry(maxsize=maxsize)


def test_repr_shows_size_only(registry: SessionRegistry) -> None:
    registry.session(tenant(1))
    assert repr(registry) == "SessionRegistry(sessions=1, maxsize=128)"
