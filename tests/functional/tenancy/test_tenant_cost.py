"""A new tenant session costs about one client: shared loader and handlers, nothing else shared."""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

import boto3
import botocore.loaders
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import assume_role, get_role_arn
from lambda_assume_role.fetcher import sts_client_for
from lambda_assume_role.shared import shared_loader
from tests.support.threads import run_together


def tenant_role(n: int) -> str:
    return get_role_arn(100000000000 + n, "Tenant")


def test_models_are_read_from_disk_once_for_many_tenants(
    monkeypatch: pytest.MonkeyPatch, moto_server: Any, tmp_path: Any
) -> None:
    # A data path of its own gives this test a fresh process-wide loader.
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    parent = boto3.Session()
    sts_client_for(parent)  # the parent's own client reads through the parent's own loader
    reads: Counter[str] = Counter()
    original = botocore.loaders.JSONFileLoader.load_file

    def spy(self: Any, file_path: str) -> Any:
        reads[file_path] += 1
        return original(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", spy)
    for n in range(20):
        assume_role(parent, tenant_role(n)).client("s3")
    s3_reads = {path: count for path, count in reads.items() if "/s3/" in path}
    assert s3_reads, "the spy saw no s3 model read"
    assert max(s3_reads.values()) == 1
    assert max(reads.values()) == 1


def test_search_paths_stay_bounded_over_a_thousand_tenants(parent: boto3.Session) -> None:
    assume_role(parent, tenant_role(0))
    loader = shared_loader(None)
    before = list(loader.search_paths)
    for n in range(1000):
        assume_role(parent, tenant_role(n))
    assert loader.search_paths == before
    assert len(parent._session.get_component("data_loader").search_paths) <= len(before) + 1


def test_custom_data_path_gets_its_own_loader(
    parent: boto3.Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    default = assume_role(parent, tenant_role(1))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    custom_parent = boto3.Session()
    custom = assume_role(custom_parent, tenant_role(1))
    default_loader = default._session.get_component("data_loader")
    custom_loader = custom._session.get_component("data_loader")
    assert default_loader is not custom_loader
    assert str(tmp_path) in custom_loader.search_paths
    assert str(tmp_path) not in default_loader.search_paths


def test_handlers_stay_on_their_own_session(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    tenant_a = assume_role(parent, tenant_role(1), RoleSessionName="tenant-a")
    tenant_b = assume_role(parent, tenant_role(2), RoleSessionName="tenant-b")
    seen: list[str] = []
    tenant_a.events.register("before-call.sts.GetCallerIdentity", lambda **kwargs: seen.append("a"))
    tenant_b.client("sts").get_caller_identity()
    parent.client("sts").get_caller_identity()
    assert seen == []
    tenant_a.client("sts").get_caller_identity()
    assert seen == ["a"]


def test_regions_stay_per_session(parent: boto3.Session) -> None:
    west = assume_role(parent, tenant_role(1), region_name="eu-west-1")
    east = assume_role(parent, tenant_role(2), region_name="us-east-2")
    assert west.client("s3").meta.region_name == "eu-west-1"
    assert east.client("s3").meta.region_name == "us-east-2"
    assert parent.region_name == "us-east-1"


def test_credentials_and_config_are_per_session(parent: boto3.Session) -> None:
    a = assume_role(parent, tenant_role(1), RoleSessionName="tenant-a")
    b = assume_role(parent, tenant_role(2), RoleSessionName="tenant-b")
    a.client("sts").get_caller_identity()
    b.client("sts").get_caller_identity()
    assert a.get_credentials() is not b.get_credentials()
    assert (
        a.get_credentials().get_frozen_credentials().access_key
        != b.get_credentials().get_frozen_credentials().access_key
    )
    assert a._session.get_component("config_store") is not b._session.get_component("config_store")


def test_one_sts_client_per_parent_for_32_tenants_racing(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    created: list[str] = []
    parent.events.register("creating-client-class.sts", lambda **kwargs: created.append("sts"))
    sessions = [assume_role(parent, tenant_role(n), RoleSessionName=f"t{n}") for n in range(32)]
    clients = [session.client("sts") for session in sessions]
    arns: list[str] = []

    def first_call(client: Any) -> None:
        arns.append(client.get_caller_identity()["Arn"])

    assert run_together(first_call, [(client,) for client in clients]) == []
    assert requests_log.count("AssumeRole") == 32
    assert len(set(arns)) == 32
    assert created == ["sts"]


def test_parent_handlers_registered_before_first_assume_see_assume_role(
    parent: boto3.Session,
) -> None:
    seen: list[str] = []
    parent.events.register(
        "provide-client-params.sts.AssumeRole",
        lambda params, **kwargs: seen.append(params["RoleArn"]),
    )
    assume_role(parent, tenant_role(1)).client("sts").get_caller_identity()
    assume_role(parent, tenant_role(2)).client("sts").get_caller_identity()
    assert seen == [tenant_role(1), tenant_role(2)]


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


def test_memory_per_tenant_with_an_s3_client_is_well_under_1_5_mb(
    parent: boto3.Session,
) -> None:
    # Warm up: the first tenant pays for parsing the s3 model and endpoint rules once.
    keep = [assume_role(parent, tenant_role(0)).client("s3")]
    gc.collect()
    before = _rss_bytes()
    for n in range(1, 101):
        session = assume_role(parent, tenant_role(n))
        keep.append(session.client("s3"))
    gc.collect()
    per_tenant = (_rss_bytes() - before) / 100
    assert per_tenant < 1.0 * 1024 * 1024, f"{per_tenant / 1024:.0f} KiB per tenant"
