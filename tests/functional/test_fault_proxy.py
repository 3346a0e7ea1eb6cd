"""The fault proxy itself: real botocore over real HTTP, through the proxy, into moto."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import MotoServer, RequestLog

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import AssumeRoleResponseTypeDef

ROLE = "arn:aws:iam::111111111111:role/Probe"


def sts(total_max_attempts: int = 1, max_pool_connections: int = 10) -> STSClient:
    # Note: Config(retries={"max_attempts": n}) counts *retries*; total_max_attempts counts
    # every attempt, like AWS_MAX_ATTEMPTS does.
    config = Config(
        retries={"total_max_attempts": total_max_attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
    )
    return boto3.client("sts", config=config)


def assume(client: STSClient, name: str = "probe") -> AssumeRoleResponseTypeDef:
    return client.assume_role(RoleArn=ROLE, RoleSessionName=name)


def error_of(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[int, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_forwards_calls_intact_over_one_keep_alive_connection(
    fault_proxy: FaultProxy, requests_log: RequestLog
) -> None:
    client = sts()
    assert client.meta.endpoint_url == fault_proxy.endpoint_url
    creds = assume(client)["Credentials"]
    child = boto3.client(
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert child.get_caller_identity()["Arn"].endswith(":assumed-role/Probe/probe")
    for _ in range(4):
        client.get_caller_identity()

    assert fault_proxy.forwarded("AssumeRole") == 1
    assert fault_proxy.forwarded("GetCallerIdentity") == 5
    assert fault_proxy.faulted("AssumeRole") == 0
    # moto saw the same requests, signed with the same keys: headers and bodies got through.
    assert requests_log.count("AssumeRole", "sts") == 1
    assert requests_log.matching("GetCallerIdentity")[0].access_key == creds["AccessKeyId"]
    # Keep-alive: one connection per client (two clients here).
    assert fault_proxy.connections == 2


def test_throttle_once_then_succeed(fault_proxy: FaultProxy, requests_log: RequestLog) -> None:
    client = sts()
    fault_proxy.fail("AssumeRole", "throttle", times=1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        assume(client)
    assert error_of(excinfo) == (400, "Throttling")
    assert excinfo.value.response["Error"]["Message"] == "Rate exceeded"
    assert excinfo.value.response["Error"].get("Type") == "Sender"

    assert assume(client)["AssumedRoleUser"]["Arn"].endswith("/Probe/probe")
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (1, 1)
    assert fault_proxy.attempts("AssumeRole") == 2
    assert requests_log.count("AssumeRole") == 1  # the faulted one never reached moto


def test_server_error(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "server_error", times=1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        assume(sts())
    assert error_of(excinfo) == (500, "InternalFailure")
    assert excinfo.value.response["Error"].get("Type") == "Receiver"


def test_drop_raises_connection_closed_then_recovers(
    fault_proxy: FaultProxy, requests_log: RequestLog
) -> None:
    client = sts()
    client.get_caller_identity()  # warm the pool: the drop hits a reused connection
    fault_proxy.fail("AssumeRole", "drop", times=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        assume(client)
    assert assume(client)["Credentials"]["AccessKeyId"]
    assert fault_proxy.faulted("AssumeRole") == 1
    assert requests_log.count("AssumeRole") == 1
    assert fault_proxy.connections == 2  # urllib3 discarded the dropped connection


def test_aws_max_attempts_env_limits_attempts(
    fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    fault_proxy.fail("AssumeRole", "drop")
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        assume(boto3.client("sts"))
    assert fault_proxy.attempts("AssumeRole") == 1


def test_botocore_retries_are_counted(
    fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    fault_proxy.fail("AssumeRole", "throttle", times=2)
    assert assume(sts(total_max_attempts=3))["Credentials"]
    assert fault_proxy.attempts("AssumeRole") == 3
    assert fault_proxy.faulted("AssumeRole") == 2

    fault_proxy.fail("AssumeRole", "server_error")
    with pytest.raises(botocore.exceptions.ClientError, match="reached max retries: 2"):
        assume(sts(total_max_attempts=3))
    assert fault_proxy.faulted("AssumeRole") == 5


def test_deny_until_healed(fault_proxy: FaultProxy) -> None:
    client = sts()
    fault_proxy.deny("AssumeRole", message="not today")
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            assume(client)
        assert error_of(excinfo) == (403, "AccessDenied")
        assert excinfo.value.response["Error"]["Message"] == "not today"
    fault_proxy.heal()
    assert assume(client)["Credentials"]
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (2, 1)


def test_fault_matches_only_its_action(fault_proxy: FaultProxy) -> None:
    client = sts()
    fault_proxy.fail("AssumeRole", "server_error")  # until heal()
    for _ in range(3):
        with pytest.raises(botocore.exceptions.ClientError):
            assume(client)
        client.get_caller_identity()
    assert fault_proxy.faulted("AssumeRole") == 3
    assert fault_proxy.forwarded("GetCallerIdentity") == 3
    assert fault_proxy.faulted("GetCallerIdentity") == 0


def test_wildcard_action(fault_proxy: FaultProxy) -> None:
    client = sts()
    fault_proxy.fail("*", "throttle", times=1)
    with pytest.raises(botocore.exceptions.ClientError, match="Throttling"):
        client.get_caller_identity()
    client.get_caller_identity()
    assert fault_proxy.attempts("GetCallerIdentity") == 2


def test_many_concurrent_requests(fault_proxy: FaultProxy, requests_log: RequestLog) -> None:
    client = sts(max_pool_connections=32)
    barrier = threading.Barrier(32)

    def call(i: int) -> str:
        barrier.wait(timeout=10)
        return str(assume(client, f"worker-{i}")["AssumedRoleUser"]["Arn"])

    with ThreadPoolExecutor(32) as pool:
        arns = list(pool.map(call, range(32)))
    assert sorted(arns) == sorted(
        f"arn:aws:sts::111111111111:assumed-role/Probe/worker-{i}" for i in range(32)
    )
    assert fault_proxy.forwarded("AssumeRole") == 32
    assert requests_log.count("AssumeRole") == 32


def test_concurrent_faults_are_counted_exactly(fault_proxy: FaultProxy) -> None:
    client = sts(max_pool_connections=32)
    fault_proxy.fail("AssumeRole", "throttle", times=10)

    def call(i: int) -> bool:
        try:
            assume(client, f"worker-{i}")
        except botocore.exceptions.ClientError:
            return False
        return True

    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(call, range(32)))
    assert outcomes.count(False) == 10
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (10, 22)


def test_stopped_proxy_refuses_connections(moto_server: MotoServer) -> None:
    with FaultProxy(moto_server.endpoint_url) as proxy:
        url = proxy.endpoint_url
        client = boto3.client(
            "sts", endpoint_url=url, config=Config(retries={"total_max_attempts": 1})
        )
        client.get_caller_identity()
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        client.get_caller_identity()


def test_rejects_bad_arguments(moto_server: MotoServer) -> None:
    proxy = FaultProxy(moto_server.endpoint_url)
    with pytest.raises(ValueError, match="fault mode"):
        proxy.fail("AssumeRole", "explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        proxy.fail("AssumeRole", "throttle", times=0)
    with pytest.raises(ValueError, match="upstream"):
        FaultProxy("127.0.0.1:1234")
