"""STS outages over real HTTP: moto behind the fault proxy, time moved by time-machine.

900 s keys, a caller every simulated second (every tenth a signed request that
moto answers, the others reading the keys as the signer does), STS answering
500 or throttling from 300 s before expiry. These run on botocore's legacy and
next refresh paths alike (``make test`` runs tests/functional/core on both):
the rules are ours, whichever botocore is underneath.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from tests.support.clocks import SLACK, Stopwatch
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Outage"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
WINDOWS = RefreshWindows()
CODES = {"server_error": "InternalFailure", "throttle": "Throttling"}
SIGN_EVERY = 10


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class Run:
    """What callers saw, second by second."""

    failed_with_left: list[float] = field(default_factory=list)  # keys' time left; -1: none
    codes: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    signed_with_left: list[float] = field(default_factory=list)  # at each signed request
    last_failure_after_recovery: float = 0.0
    attempts_during_outage: int = 0


def run_outage(
    parent: boto3.Session, proxy: FaultProxy, clock: Any, mode: str, seconds: int
) -> Run:
    session = assume_role(parent, ROLE, RoleSessionName="outage", DurationSeconds=900)
    credentials = session.get_credentials()
    run = Run()

    def left() -> float:
        expiry = credentials.expiry_time
        return (expiry - now()).total_seconds() if expiry else -1.0

    def check_signature(request: Any, **kwargs: Any) -> None:
        # before-send fires after signing; the signer froze the current keys.
        auth = request.headers["Authorization"].decode()
        assert credentials.get_frozen_credentials().access_key in auth
        run.signed_with_left.append(left())

    session.events.register("before-send.sts.GetCallerIdentity", check_signature)
    client = session.client("sts")
    client.get_caller_identity()
    clock.shift(datetime.timedelta(seconds=600))  # 300 s left: the refresh window opens
    proxy.fail("AssumeRole", mode)  # type: ignore[arg-type]
    for second in range(seconds + 300):
        if second == seconds:
            run.attempts_during_outage = proxy.faulted("AssumeRole")
            proxy.heal()
        try:
            if second % SIGN_EVERY == 0:
                client.get_caller_identity()
            else:
                credentials.get_frozen_credentials()
        except AssumeRoleError as error:
            run.failed_with_left.append(left())
            run.codes.add(error.response["Error"]["Code"])
            run.roles.add(error.role_arn)
            if second >= seconds:
                run.last_failure_after_recovery = second - seconds + 1
        clock.shift(datetime.timedelta(seconds=1))
    return run


@pytest.mark.parametrize("mode", ["server_error", "throttle"])
def test_a_three_minute_outage_costs_callers_nothing(
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    requests_log: RequestLog,
    clock: Any,
    mode: str,
) -> None:
    run = run_outage(parent, fault_proxy, clock, mode, 180)
    assert run.failed_with_left == []
    assert 1 <= run.attempts_during_outage <= 12
    assert min(run.signed_with_left) > WINDOWS.safety_margin
    assert requests_log.signed_after_expiry() == []  # as moto saw them arrive


@pytest.mark.parametrize("mode", ["server_error", "throttle"])
def test_a_thirty_minute_outage_costs_tens_of_attempts_and_ends_within_a_pause(
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    requests_log: RequestLog,
    clock: Any,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    run = run_outage(parent, fault_proxy, clock, mode, 1800)
    assert run.failed_with_left, "the keys ran out during the outage: callers must fail"
    assert (run.codes, run.roles) == ({CODES[mode]}, {ROLE})
    # No call failed while the keys had more than the safety margin left, and none
    # was signed inside it: nothing reached AWS with expired keys.
    assert max(run.failed_with_left) <= WINDOWS.safety_margin
    assert min(run.signed_with_left) > WINDOWS.safety_margin
    assert requests_log.signed_after_expiry() == []  # as moto saw them arrive
    # One short HTTP attempt per pause (1 s growing to 30 s), not three per call.
    assert run.attempts_during_outage <= 150
    assert run.last_failure_after_recovery <= WINDOWS.retry_max + 1
    # One WARNING per failed attempt, each naming the role and the code.
    warnings = [r.getMessage() for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert len(warnings) == run.attempts_during_outage
    assert all(ROLE in w and CODES[mode] in w for w in warnings)
    # Every signed request moto answered, and STS's recovery brought new keys.
    assert requests_log.count("GetCallerIdentity") == len(run.signed_with_left)
    assert requests_log.count("AssumeRole") == 2


def test_threads_without_usable_keys_share_the_last_failure_until_the_pause_ends(
    fault_proxy: FaultProxy, parent: boto3.Session, clock: Any
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="threads", DurationSeconds=900)
    credentials = session.get_credentials()
    credentials.get_frozen_credentials()
    clock.shift(datetime.timedelta(seconds=890))  # 10 s left: inside the safety margin
    fault_proxy.fail("AssumeRole", "server_error")
    errors = run_together(credentials.get_frozen_credentials, [()] * 16)
    assert len(errors) == 16
    assert all(isinstance(e, AssumeRoleError) and e.error_code == "InternalFailure" for e in errors)
    assert len({id(e) for e in errors}) == 16  # each its own copy
    attempts = fault_proxy.faulted("AssumeRole")
    assert attempts == WINDOWS.max_attempts  # one urgent attempt, botocore's retries inside
    errors = run_together(credentials.get_frozen_credentials, [()] * 16)  # within the pause
    assert len(errors) == 16
    assert fault_proxy.faulted("AssumeRole") == attempts
    fault_proxy.heal()
    clock.shift(datetime.timedelta(seconds=WINDOWS.retry_initial))
    assert run_together(credentials.get_frozen_credentials, [()] * 16) == []
    assert fault_proxy.forwarded("AssumeRole") == 2  # the first fetch and the recovery


def test_the_first_fetch_during_an_outage_fails_fast_then_recovers(
    fault_proxy: FaultProxy, parent: boto3.Session, clock: Any
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="first", DurationSeconds=900)
    client = session.client("sts")
    fault_proxy.fail("AssumeRole", "throttle")
    failures = 0
    for _ in range(120):  # two minutes of calls with no keys
        with pytest.raises(AssumeRoleError, match="Throttling"):
            client.get_caller_identity()
        failures += 1
        clock.shift(datetime.timedelta(seconds=1))
    # The first attempt with botocore's retries, then one short attempt per pause.
    attempts = fault_proxy.faulted("AssumeRole")
    assert WINDOWS.max_attempts < attempts <= WINDOWS.max_attempts + 20
    fault_proxy.heal()
    waited = 0
    while True:
        try:
            client.get_caller_identity()
            break
        except AssumeRoleError:
            waited += 1
            assert waited <= WINDOWS.retry_max, "no recovery within one pause"
            clock.shift(datetime.timedelta(seconds=1))
    assert failures == 120


def test_a_retry_against_a_hung_sts_is_one_short_attempt(
    fault_proxy: FaultProxy, parent: boto3.Session, clock: Any
) -> None:
    windows = RefreshWindows(connect_timeout=1, read_timeout=1, max_attempts=2)
    session = assume_role(parent, ROLE, RoleSessionName="hung", refresh_windows=windows)
    credentials = session.get_credentials()
    fault_proxy.fail("AssumeRole", "hang")
    with pytest.raises(AssumeRoleConnectionError):
        credentials.get_frozen_credentials()  # the first attempt: botocore's two HTTP attempts
    assert fault_proxy.faulted("AssumeRole") == windows.max_attempts
    clock.shift(datetime.timedelta(seconds=windows.retry_initial))
    with Stopwatch() as watch, pytest.raises(AssumeRoleConnectionError):
        credentials.get_frozen_credentials()  # after the pause: one short attempt
    fault_proxy.heal()
    assert fault_proxy.faulted("AssumeRole") == windows.max_attempts + 1
    assert watch.seconds < windows.advisory_timeout + SLACK
