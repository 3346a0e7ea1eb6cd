"""SessionRegistry against moto: keys, reuse, LRU eviction, concurrency."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulators.moto_server import RequestLog
from lambda_assume_role import (
    InvalidParameterError,
    RefreshWindows,
    SessionRegistry,
    get_role_arn,
)
from lambda_assume_role.registry import ClientOptions, default_registry, registry_for
from tests.support.preparations import count_preparations
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


def test_a_policy_dict_and_the_json_text_it_becomes_are_one_key(
    registry: SessionRegistry,
) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    as_dict = registry.session(tenant(1), Policy=policy)
    as_text = registry.session(tenant(1), Policy=json.dumps(policy, separators=(",", ":")))
    assert as_dict is as_text
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
    assert registry.client(tenant(1), "sts", client_region="eu-west-1") is not base
    assert registry.client(tenant(1), "sts", config=config) is not base
    assert registry.client(tenant(1), "sts", config=config) is registry.client(
        tenant(1), "sts", config=config
    )
    assert registry.client(tenant(1), "sts", client_region="eu-west-1").meta.region_name == (
        "eu-west-1"
    )
    assert len(registry) == 1


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


def test_the_registry_stays_bounded_and_closes_what_it_evicts_least_recently_used_first(
    parent: boto3.Session,
) -> None:
    registry = SessionRegistry(parent, maxsize=4)
    closed: list[int] = []
    clients: dict[int, Any] = {}
    for n in range(12):
        client = registry.client(tenant(n), "sts")
        original_close = client.close

        def close(n: int = n, original: Any = original_close) -> None:
            closed.append(n)
            original()

        client.close = close
        clients[n] = client
    assert len(registry) == 4
    assert closed == list(range(12 - 4))  # oldest first, each once
    assert registry.client(tenant(11), "sts") is clients[11]
    assert registry.client(tenant(0), "sts") is not clients[0]
    assert len(registry) == 4


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


# -- one entry point: prepare once, resolve by key --------------------------------------------


def test_a_prepared_role_is_immutable_and_its_repr_shows_no_request_values(
    registry: SessionRegistry,
) -> None:
    prepared = registry.prepare(
        tenant(1), RoleSessionName="named", SerialNumber="arn:aws:iam::1:mfa/u", TokenCode="123456"
    )
    with pytest.raises(AttributeError):
        prepared.key = "other"  # type: ignore[misc]
    assert "123456" not in repr(prepared)
    assert repr(prepared) == (
        f"PreparedRole(role_arn={tenant(1)!r}, role_session_name='named', region_name=None)"
    )


def test_a_prepared_role_resolves_to_the_session_and_clients_that_calls_get(
    registry: SessionRegistry,
) -> None:
    tags = [{"Key": "team", "Value": "data"}]
    prepared = registry.prepare(tenant(1), Tags=tags)
    session = registry.session_for(prepared)
    client = registry.client_for(prepared, ClientOptions("sts"))
    assert registry.session(tenant(1), Tags=tags) is session
    assert registry.client(tenant(1), "sts", Tags=tags) is client
    assert registry.client_for(registry.prepare(tenant(1), Tags=tags), ClientOptions("sts")) is (
        client
    )
    assert len(registry) == 1


def test_repeated_arguments_are_not_normalised_again(
    registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_preparations(monkeypatch)
    for _ in range(5):
        registry.session(tenant(1), Tags={"team": "data"}, Policy={"Version": "2012-10-17"})
        registry.session(tenant(2), ExternalId="xy")
    assert calls == [tenant(1), tenant(2)]


def test_the_session_region_and_the_client_region_are_separate_options(
    registry: SessionRegistry,
) -> None:
    client = registry.client(tenant(1), "sts", region_name="eu-west-2")
    assert client.meta.region_name == "eu-west-2"
    assert registry.session(tenant(1), region_name="eu-west-2").region_name == "eu-west-2"
    other = registry.client(tenant(1), "sts", region_name="eu-west-2", client_region="eu-west-1")
    assert other.meta.region_name == "eu-west-1"
    assert len(registry) == 1  # one session (eu-west-2), two clients


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"client_region": "not a region!"}, "client_region must be"),
        ({"client_region": True}, "client_region must be"),
        ({"config": {"retries": 2}}, "config must be a botocore.config.Config"),
    ],
)
def test_bad_client_options_are_rejected_naming_the_option(
    registry: SessionRegistry, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        registry.client(tenant(1), "sts", **options)
    assert len(registry) == 0


# -- exact keys ---------------------------------------------------------------------------------

POLICY = {"Version": "2012-10-17", "Statement": []}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            {"Policy": '"not json"', "validate": False},
            {"Policy": "not json", "validate": False},
            id="policy-quoted-text",
        ),
        pytest.param(
            {"Policy": POLICY},
            {"Policy": {"Statement": [], "Version": "2012-10-17"}},
            id="policy-key-order",
        ),
        pytest.param(
            {"DurationSeconds": 1, "validate": False},
            {"DurationSeconds": True, "validate": False},
            id="1-vs-True",
        ),
        pytest.param(
            {"DurationSeconds": 900, "validate": False},
            {"DurationSeconds": 900.0, "validate": False},
            id="900-vs-900.0",
        ),
        pytest.param(
            {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
            {"Tags": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]},
            id="tags-order",
        ),
        pytest.param({"Tags": {"a": "1", "b": "2"}}, {"Tags": {"b": "2", "a": "1"}}, id="tag-dict"),
        pytest.param(
            {"Tags": {"a": "1", "b": "2"}, "TransitiveTagKeys": ["a", "b"]},
            {"Tags": {"a": "1", "b": "2"}, "TransitiveTagKeys": ["b", "a"]},
            id="transitive",
        ),
        pytest.param({"ExternalId": "abc"}, {"ExternalId": "ABC"}, id="external-id-case"),
        pytest.param(
            {"additional_kwargs": {"ExternalId": "1"}, "validate": False},
            {"additional_kwargs": {"ExternalId": 1}, "validate": False},
            id="nested-1-vs-'1'",
        ),
        pytest.param({"region_name": None}, {"region_name": False}, id="region-None-vs-False"),
        pytest.param({"region_name": None}, {"region_name": "us-east-1"}, id="follow-vs-pinned"),
        pytest.param({"cache": {}}, {"cache": {}}, id="cache-identity"),
        pytest.param(
            {"refresh_windows": RefreshWindows()},
            {"refresh_windows": RefreshWindows(mandatory=120)},
            id="refresh-windows",
        ),
    ],
)
def test_near_collisions_never_share_a_session(
    registry: SessionRegistry, first: dict[str, Any], second: dict[str, Any]
) -> None:
    # Twice each, interleaved: the first call builds, the second takes the alias path.
    one = registry.session(tenant(1), **first)
    two = registry.session(tenant(1), **second)
    assert one is not two
    assert registry.session(tenant(1), **first) is one
    assert registry.session(tenant(1), **second) is two
    assert len(registry) == 2


def test_equal_requests_written_differently_share_a_session(registry: SessionRegistry) -> None:
    import datetime

    same = [
        {"DurationSeconds": 900},
        {"DurationSeconds": datetime.timedelta(minutes=15)},
        {"DurationSeconds": 900, "additional_kwargs": {}},
        {"additional_kwargs": {"DurationSeconds": 900}},
    ]
    sessions = {id(registry.session(tenant(1), **kwargs)) for kwargs in same}
    assert len(sessions) == 1


def test_region_true_is_keyed_on_the_parent_region_it_pins(
    registry: SessionRegistry, parent: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = registry.session(tenant(1), region_name=True)
    assert first.region_name == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert parent.region_name == "eu-west-1"
    moved = registry.session(tenant(1), region_name=True)
    assert moved.region_name == "eu-west-1"
    assert moved is not first
    assert registry.session(tenant(1), region_name="eu-west-1") is moved


# -- the registry lock covers no build ----------------------------------------------------------


class SlowRegionParent(boto3.Session):
    """A parent whose region takes 50 ms to read: every build reads it, once."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.active = 0
        self.most_active = 0

    @property
    def region_name(self) -> str:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        return "us-east-1"


def test_first_uses_of_different_roles_build_concurrently(moto_server: Any) -> None:
    parent = SlowRegionParent()
    registry = SessionRegistry(parent)
    assert run_together(registry.session, [(tenant(n),) for n in range(8)]) == []
    assert len(registry) == 8
    assert parent.most_active >= 2  # under one registry-wide lock it would be 1


def test_racing_first_uses_of_one_role_all_get_the_published_session(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    seen: list[Any] = []
    lock = threading.Lock()

    def first_use() -> None:
        session = registry.session(tenant(1), Tags={"team": "data"})
        with lock:
            seen.append(session)

    assert run_together(first_use, [()] * 16) == []
    assert len({id(session) for session in seen}) == 1
    caller(seen[0].client("sts"))
    assert requests_log.count("AssumeRole") == 1
    assert len(registry) == 1


# -- eviction is race-free ----------------------------------------------------------------------


def test_a_client_added_while_its_entry_is_evicted_does_not_break_the_evicting_caller(
    parent: boto3.Session,
) -> None:
    registry = SessionRegistry(parent, maxsize=1)
    first = registry.client(tenant(1), "sts")
    building, closing, added = threading.Event(), threading.Event(), threading.Event()
    original_close = first.close

    def slow_close() -> None:  # eviction is iterating the entry's clients now
        closing.set()
        added.wait(5)
        original_close()

    first.close = slow_close

    def hold_creation(**kwargs: Any) -> None:  # a client of the entry is being made
        building.set()
        closing.wait(5)

    registry.session(tenant(1)).events.register("creating-client-class.s3", hold_creation)
    made: list[Any] = []

    def add_client() -> None:
        made.append(registry.client(tenant(1), "s3"))
        added.set()

    def evict() -> None:
        building.wait(5)
        registry.session(tenant(2))

    assert run_together(lambda job: job(), [(add_client,), (evict,)]) == []
    assert closing.is_set()
    assert added.is_set()
    assert made[0].meta.service_model.service_name == "s3"
    assert len(registry) == 1


def test_threads_making_clients_on_entries_being_evicted_never_fail(
    parent: boto3.Session,
) -> None:
    registry = SessionRegistry(parent, maxsize=2)
    services = ["sts", "s3", "sqs", "sns"]

    def churn(n: int) -> None:
        for i in range(6):
            registry.client(tenant((n + i) % 5), services[(n + i) % len(services)])

    assert run_together(churn, [(n,) for n in range(12)]) == []
    assert len(registry) == 2


# -- registries live only as long as their parents ----------------------------------------------


def test_per_parent_registries_are_shared_while_in_use(parent: boto3.Session) -> None:
    assert registry_for(parent) is registry_for(parent)
    assert registry_for(parent).parent is parent
    assert registry_for(None) is default_registry()
