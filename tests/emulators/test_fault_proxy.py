"""The fault proxy itself: real botocore over real HTTP, through the proxy, into moto."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from emulators.fault_proxy import (
    FaultProxy,
    assume_role_body,
    cut_after,
    drop_element,
    set_element,
)
from emulators.moto_server import MotoServer, RequestLog

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import AssumeRoleResponseTypeDef

ROLE = "arn:aws:iam::111111111111:role/Probe"


def sts(
    total_max_attempts: int = 1, max_pool_connections: int = 10, read_timeout: float = 60
) -> STSClient:
    # Note: Config(retries={"max_attempts": n}) counts *retries*; total_max_attempts counts
    # every attempt, like AWS_MAX_ATTEMPTS does.
    config = Config(
        retries={"total_max_attempts": total_max_attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
        read_timeout=read_timeout,
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


# -- hang ----------------------------------------------------------------------------------


def raw_assume_role(proxy: FaultProxy, session_name: str = "raw") -> tuple[int, str | None, bytes]:
    """POST an AssumeRole form to the proxy with http.client: status, Content-Length, body.

    http.client reads exactly Content-Length bytes and raises IncompleteRead if the server
    sends fewer, so a wrong length fails here rather than passing unnoticed.
    """
    url = urlsplit(proxy.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    form = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": ROLE}
    form["RoleSessionName"] = session_name
    auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request"
    try:
        conn.request(
            "POST",
            "/",
            body=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"{auth}, SignedHeaders=host, Signature=0",
            },
        )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Length"), response.read()
    finally:
        conn.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_hang_holds_the_request_until_the_client_read_timeout(
    fault_proxy: FaultProxy, requests_log: RequestLog
) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    client = sts(read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        assume(client)
    assert time.monotonic() - started < 10  # the client's timeout ended it, not the proxy
    assert fault_proxy.faulted("AssumeRole") == 1
    assert fault_proxy.hanging == 1  # still held after the client gave up
    assert requests_log.count("AssumeRole") == 0  # never reached moto

    fault_proxy.heal()
    assert wait_until(lambda: fault_proxy.hanging == 0)
    assert assume(client)["Credentials"]["AccessKeyId"]
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (1, 1)


def test_heal_releases_a_hung_request_promptly_without_an_answer(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            assume(sts(read_timeout=60))
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    assert fault_proxy.wait_hanging(1, timeout=10)
    released = time.monotonic()
    fault_proxy.heal()
    caller.join(timeout=10)
    assert not caller.is_alive()
    assert time.monotonic() - released < 5  # far below the 60 s read timeout
    assert len(outcome) == 1
    assert isinstance(outcome[0], botocore.exceptions.ConnectionClosedError)
    assert wait_until(lambda: fault_proxy.hanging == 0)


def test_hang_counts_only_its_times_then_forwards(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "hang", times=1)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        assume(sts(read_timeout=0.3))
    assert assume(sts())["Credentials"]  # the rule was used up; the held request stays held
    assert fault_proxy.hanging == 1
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (1, 1)


def test_stop_releases_every_hung_request_promptly(moto_server: MotoServer) -> None:
    proxy = FaultProxy(moto_server.endpoint_url).start()
    client = boto3.client(
        "sts",
        endpoint_url=proxy.endpoint_url,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60, max_pool_connections=8),
    )
    proxy.fail("*", "hang")
    with ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(client.get_caller_identity) for _ in range(8)]
        assert proxy.wait_hanging(8, timeout=10)
        stopping = time.monotonic()
        proxy.stop()
        assert time.monotonic() - stopping < 5
        for call in calls:
            with pytest.raises(botocore.exceptions.ConnectionClosedError):
                call.result(timeout=10)
    assert wait_until(lambda: proxy.hanging == 0)
    assert proxy.faulted("GetCallerIdentity") == 8


# -- truncate ------------------------------------------------------------------------------


def test_truncate_answers_200_with_the_keys_and_a_body_botocore_cannot_parse(
    fault_proxy: FaultProxy, requests_log: RequestLog
) -> None:
    fault_proxy.fail("AssumeRole", "truncate")
    with pytest.raises(botocore.parsers.ResponseParserError, match="invalid XML"):
        assume(sts())
    assert requests_log.count("AssumeRole") == 1  # moto answered; the proxy cut its answer
    assert fault_proxy.faulted("AssumeRole") == 1
    assert fault_proxy.forwarded("AssumeRole") == 0

    status, length, body = raw_assume_role(fault_proxy)
    assert status == 200
    assert length == str(len(body))
    assert body.endswith(b"</SessionToken>")
    assert b"<AccessKeyId>ASIA" in body
    assert b"<SecretAccessKey>" in body
    assert b"<Expiration>" not in body
    assert fault_proxy.errors == []


def test_truncate_after_a_chosen_marker_or_byte_count(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "truncate", truncate_after="</SecretAccessKey>")
    status, length, body = raw_assume_role(fault_proxy)
    assert (status, length) == (200, str(len(body)))
    assert body.endswith(b"</SecretAccessKey>")
    assert b"<SessionToken>" not in body

    fault_proxy.fail("AssumeRole", "truncate", truncate_after=40)
    status, length, body = raw_assume_role(fault_proxy)
    assert (status, length, len(body)) == (200, "40", 40)
    assert body.startswith(b"<AssumeRoleResponse")


def test_truncate_turns_an_upstream_error_into_a_200(fault_proxy: FaultProxy) -> None:
    too_long = "n" * 65  # moto answers 400 ValidationError for a 65-character session name
    assert raw_assume_role(fault_proxy, too_long)[0] == 400
    fault_proxy.fail("AssumeRole", "truncate", truncate_after="</Code>")
    status, _, body = raw_assume_role(fault_proxy, too_long)
    assert status == 200
    assert body.endswith(b"<Code>ValidationError</Code>")


def test_truncate_marker_missing_gives_502_and_an_error(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "truncate", truncate_after="</NoSuchElement>")
    status, _, body = raw_assume_role(fault_proxy)
    assert status == 502
    assert b"NoSuchElement" in body
    assert len(fault_proxy.errors) == 1
    assert "</NoSuchElement>" in fault_proxy.errors[0]


# -- respond and rewrite -------------------------------------------------------------------


def test_respond_sends_html_with_200(fault_proxy: FaultProxy, requests_log: RequestLog) -> None:
    fault_proxy.respond(
        "AssumeRole", "<html><body>Gateway</body></html>", content_type="text/html", times=1
    )
    status, length, body = raw_assume_role(fault_proxy)
    assert (status, body) == (200, b"<html><body>Gateway</body></html>")
    assert length == str(len(body))
    assert requests_log.count("AssumeRole") == 0
    assert assume(sts())["Credentials"]  # times=1 was used up
    assert (fault_proxy.faulted("AssumeRole"), fault_proxy.forwarded("AssumeRole")) == (1, 1)


def test_respond_with_a_missing_session_token(fault_proxy: FaultProxy) -> None:
    fault_proxy.respond("AssumeRole", assume_role_body(omit=("SessionToken",)))
    credentials = assume(sts())["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "Expiration"}
    assert credentials["SecretAccessKey"] == "fault-proxy-secret-access-key"


def test_respond_with_a_bad_or_past_expiration(fault_proxy: FaultProxy) -> None:
    fault_proxy.respond("AssumeRole", assume_role_body(expiration="not-a-date"))
    with pytest.raises(ValueError, match="not-a-date"):
        assume(sts())

    past = datetime.now(timezone.utc) - timedelta(hours=1)
    fault_proxy.respond("AssumeRole", assume_role_body(expiration=past))
    expiration = assume(sts())["Credentials"]["Expiration"]
    assert expiration < datetime.now(timezone.utc)
    assert abs(expiration - past) < timedelta(seconds=1)


def test_respond_with_an_error_status(fault_proxy: FaultProxy) -> None:
    fault_proxy.respond("AssumeRole", "<html>Service Unavailable</html>", 503, times=1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        assume(sts())
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_rewrite_keeps_moto_keys_that_work_without_expiration(
    fault_proxy: FaultProxy, requests_log: RequestLog
) -> None:
    fault_proxy.rewrite("AssumeRole", drop_element("Expiration"), times=1)
    credentials = assume(sts())["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken"}
    child = boto3.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert child.get_caller_identity()["Arn"].endswith(":assumed-role/Probe/probe")
    assert requests_log.count("AssumeRole") == 1
    assert fault_proxy.faulted("AssumeRole") == 1


def test_rewrite_sets_an_already_expired_expiration(fault_proxy: FaultProxy) -> None:
    fault_proxy.rewrite("AssumeRole", set_element("Expiration", "2001-02-03T04:05:06Z"))
    expiration = assume(sts())["Credentials"]["Expiration"]
    assert expiration == datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def test_rewrite_with_a_status_override(fault_proxy: FaultProxy) -> None:
    fault_proxy.rewrite("GetCallerIdentity", lambda body: b"", status=500, times=1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sts().get_caller_identity()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_body_helpers_reject_what_they_cannot_do() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        cut_after(-1)
    with pytest.raises(ValueError, match="empty"):
        cut_after("")
    with pytest.raises(ValueError, match="Expires"):
        assume_role_body(omit=("Expires",))


def test_truncate_rejects_a_bad_cut_point(moto_server: MotoServer) -> None:
    proxy = FaultProxy(moto_server.endpoint_url)
    with pytest.raises(ValueError, match=">= 0"):
        proxy.fail("AssumeRole", "truncate", truncate_after=-5)


def test_echo_answers_500_quoting_the_signed_request(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "echo", times=1)
    client = boto3.client(
        "sts",
        aws_access_key_id="ASIAECHOEXAMPLE00001",
        aws_secret_access_key="echo-secret",
        aws_session_token="echo-session-token-value",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        assume(client, "echoed")
    assert error_of(raised) == (500, "InternalFailure")
    message = raised.value.response["Error"]["Message"]
    # What a careless proxy shows: the token, the signature's key id and the body.
    assert "X-Amz-Security-Token: echo-session-token-value" in message
    assert "Credential=ASIAECHOEXAMPLE00001/" in message
    assert "RoleSessionName=echoed" in message
    assert fault_proxy.faulted("AssumeRole") == 1


def test_trickle_sends_moto_s_answer_a_byte_at_a_time_within_any_read_timeout(
    fault_proxy: FaultProxy,
) -> None:
    fault_proxy.fail("AssumeRole", "trickle", times=1, interval=0.001)
    client = sts(read_timeout=5)  # far longer than the gap between two bytes
    started = time.monotonic()
    creds = assume(client, "trickled")["Credentials"]  # the whole answer, parsed
    assert creds["AccessKeyId"]
    assert fault_proxy.faulted("AssumeRole") == 1
    assert fault_proxy.forwarded("AssumeRole") == 0  # counted as the fault, answered by moto
    assert time.monotonic() - started < 60  # about 1,000 bytes at 1 ms each: a wide bound


def test_trickle_stops_and_closes_at_heal(fault_proxy: FaultProxy) -> None:
    fault_proxy.fail("AssumeRole", "trickle", interval=0.5)
    client = sts(read_timeout=5)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            assume(client, "healed")
        except BaseException as error:  # the test asserts on it
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 30
    while fault_proxy.faulted("AssumeRole") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    fault_proxy.heal()
    caller.join(30)
    assert not caller.is_alive()
    [error] = outcome  # the connection closed mid-body: botocore reports it
    failures = (botocore.exceptions.BotoCoreError, botocore.parsers.ResponseParserError)
    assert isinstance(error, failures)
