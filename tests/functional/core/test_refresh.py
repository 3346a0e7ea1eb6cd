"""The refresh engine over real HTTP, with time moved by time-machine and STS faults injected."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import time_machine

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import RequestLog
from lambda_assume_role import (
    AssumeRoleConnectionError,
    AssumeRoleError,
    RefreshWindows,
    assume_role,
)
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Short"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per STS call, so faults are not hidden by botocore's own retries."""
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def shift(clock: Any, seconds: float) -> None:
    clock.shift(datetime.timedelta(seconds=seconds))


def call(session: boto3.Session) -> str:
    key: str = session.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    return key


def test_short_sessions_do_not_assume_role_on_every_call(
    parent: boto3.Session, requests_log: RequestLog, clock: Any
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="short", DurationSeconds=900)
    client = session.client("sts")
    for _ in range(100):
        client.get_caller_identity()
        shift(clock, 4.8)  # 100 calls over the first 8 minutes
    assert requests_log.count("GetCallerIdentity") == 100
    assert requests_log.count("AssumeRole") == 1


# A day on a 30 s grid: half the 60 s mandatory window, so no step can jump past a refresh
# point. Refreshes are triggered by reading the credentials, which is what the signer does
# for each request; a real signed request every 10th step (every 5 minutes) checks that the
# signer gets the same, current keys. So a day is 2,880 credential reads but only 288
# GetCallerIdentity calls, plus the AssumeRole calls that are being counted.
STEP = 30
SIGN_EVERY = 10
DAY = 86400


@pytest.mark.parametrize(
    ("duration", "windows", "low", "high"),
    [
        # jitter off: refresh exactly 300 s before expiry -> every 600 s -> 144 + the first.
        (900, RefreshWindows(jitter=0), 144, 146),
        # default jitter: first attempt 600..720 s after issue, on a 30 s grid.
        (900, RefreshWindows(), DAY // 750, DAY // 600 + 1),
        # 3600 s credentials: window capped at 15 min -> every 2700..3030 s.
        (3600, RefreshWindows(), DAY // 3060, DAY // 2700 + 1),
    ],
    ids=["900s-no-jitter", "900s-jitter", "3600s-jitter"],
)
def test_a_day_of_calls_refreshes_once_per_period_and_never_signs_with_stale_keys(
    parent: boto3.Session,
    requests_log: RequestLog,
    clock: Any,
    duration: int,
    windows: RefreshWindows,
    low: int,
    high: int,
) -> None:
    session = assume_role(
        parent, ROLE, RoleSessionName="day", DurationSeconds=duration, refresh_windows=windows
    )
    credentials = session.get_credentials()
    remaining_at_use: list[float] = []
    signed_with: list[str] = []

    def remaining() -> float:
        now = datetime.datetime.now(datetime.timezone.utc)
        return float((credentials.expiry_time - now).total_seconds())

    def check_signature(request: Any, **kwargs: Any) -> None:
        # before-send fires after the request is signed; the signer froze the
        # current credentials, whose expiry we read here.
        auth = request.headers["Authorization"].decode()
        access_key = credentials.get_frozen_credentials().access_key
        assert access_key in auth
        signed_with.append(access_key)
        remaining_at_use.append(remaining())

    session.events.register("before-send.sts.GetCallerIdentity", check_signature)
    client = session.client("sts")
    for step in range(DAY // STEP):
        if step % SIGN_EVERY == 0:
            client.get_caller_identity()
        else:
            credentials.get_frozen_credentials()
            remaining_at_use.append(remaining())
        shift(clock, STEP)
    count = requests_log.count("AssumeRole")
    assert low <= count <= high
    assert len(remaining_at_use) == DAY // STEP
    assert min(remaining_at_use) >= STEP
    # moto saw every signed request, each with the keys that were current when it was sent.
    calls = requests_log.matching("GetCallerIdentity")
    assert [call.access_key for call in calls] == signed_with
    assert len(calls) == DAY // STEP // SIGN_EVERY
    assert len(set(signed_with)) > count // 2  # the signer moved on to refreshed keys


def test_throttled_advisory_refresh_keeps_calls_working_then_backs_off_and_recovers(
    no_retries: None, fault_proxy: FaultProxy, parent: boto3.Session, clock: Any
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="throttled", DurationSeconds=900)
    client = session.client("sts")
    client.get_caller_identity()
    first_keys = session.get_credentials().get_frozen_credentials().access_key
    shift(clock, 730)  # past the jittered advisory point (<= 720 s), before mandatory (840 s)

    fault_proxy.fail("AssumeRole", "throttle")
    client.get_caller_identity()  # no failed user call
    assert fault_proxy.faulted("AssumeRole") == 1
    for _ in range(5):
        client.get_caller_identity()  # backing off: no new attempt on every call
    assert fault_proxy.faulted("AssumeRole") == 1
    assert session.get_credentials().get_frozen_credentials().access_key == first_keys

    shift(clock, 16)  # the first back-off is 7.5-15 s
    client.get_caller_identity()
    assert fault_proxy.faulted("AssumeRole") == 2

    fault_proxy.heal()
    shift(clock, 31)  # second back-off is 15-30 s
    client.get_caller_identity()
    assert fault_proxy.forwarded("AssumeRole") == 2  # the first fetch and the recovery
    assert session.get_credentials().get_frozen_credentials().access_key != first_keys


@pytest.mark.parametrize(
    ("mode", "error", "fragment"),
    [
        ("throttle", AssumeRoleError, "Throttling"),
        ("server_error", AssumeRoleError, "InternalFailure"),
        ("drop", AssumeRoleConnectionError, "could not reach STS"),
    ],
)
def test_mandatory_refresh_failure_names_the_role_and_the_error_then_recovers(
    no_retries: None,
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    clock: Any,
    mode: str,
    error: type[Exception],
    fragment: str,
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="mandatory", DurationSeconds=900)
    client = session.client("sts")
    client.get_caller_identity()
    first_keys = session.get_credentials().get_frozen_credentials().access_key
    shift(clock, 850)  # 50 s left: inside the 60 s mandatory window

    fault_proxy.fail("AssumeRole", mode)  # type: ignore[arg-type]
    client.get_caller_identity()  # a failed refresh, but the keys have 35 s of use left
    assert fault_proxy.faulted("AssumeRole") == 1
    assert session.get_credentials().get_frozen_credentials().access_key == first_keys
    shift(clock, 40)  # 10 s left: inside the 15 s safety margin, no keys to sign with
    with pytest.raises(error) as raised:
        client.get_caller_identity()
    assert fault_proxy.faulted("AssumeRole") == 2
    assert ROLE in str(raised.value)
    assert fragment in str(raised.value)
    if isinstance(raised.value, AssumeRoleError):
        assert raised.value.role_arn == ROLE
        assert raised.value.response["Error"]["Code"] == fragment

    fault_proxy.heal()
    with pytest.raises(error, match=fragment):  # the same error, at once, until the pause ends
        client.get_caller_identity()
    assert fault_proxy.attempts("AssumeRole") == 3  # the first fetch and the two failures
    shift(clock, 2)  # the second pause is at most 2 s
    client.get_caller_identity()  # recovery needs no user action
    remaining = session.get_credentials().expiry_time - datetime.datetime.now(datetime.timezone.utc)
    assert remaining.total_seconds() == pytest.approx(900, abs=1)


def test_access_denied_on_first_use_names_the_role(
    no_retries: None, fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.deny("AssumeRole", "AccessDenied", "not authorized to perform sts:AssumeRole")
    session = assume_role(parent, ROLE, RoleSessionName="denied")
    with pytest.raises(
        AssumeRoleError, match=r"AssumeRole for .*:role/Short .*failed with AccessDenied"
    ):
        session.client("sts").get_caller_identity()


@pytest.mark.parametrize("offset", [730, 850, 901], ids=["advisory", "mandatory", "expired"])
def test_32_threads_across_the_refresh_boundary_make_one_assume_role(
    parent: boto3.Session, requests_log: RequestLog, clock: Any, offset: float
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="boundary", DurationSeconds=900)
    client = session.client("sts")

    def hammer() -> None:
        for _ in range(3):
            client.get_caller_identity()

    assert run_together(hammer, [()] * 32) == []  # first use: all wait for the one fetch
    assert requests_log.count("AssumeRole") == 1
    for period in range(1, 4):
        shift(clock, offset)  # measured from the credentials fetched last period
        assert run_together(hammer, [()] * 32) == []
        assert requests_log.count("AssumeRole") == period + 1
    assert requests_log.count("GetCallerIdentity") == 4 * 32 * 3
