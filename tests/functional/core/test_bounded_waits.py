"""No caller is held long by a hung or throttled STS, and no STS call outlives the invocation.

The fault proxy holds AssumeRole requests open (``hang``) or throttles them. Refresh
windows and back-offs move on time-machine's clock, and an invocation's deadline on
a `ManualClock` the test advances, so neither is waited for. A hung socket really
holds its caller until botocore's timeout: those seconds are measured with a
`Stopwatch` and asserted only as an upper bound (the worst case the call plan
allows, plus `SLACK`); attempts are counted at the proxy.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import boto3
import pytest
import time_machine

from emulators.fault_proxy import FaultProxy, assume_role_body
from lambda_assume_role import (
    AssumeRoleConnectionError,
    AssumeRoleError,
    RefreshWindows,
    SessionRegistry,
    assume_role,
    inject_client,
)
from lambda_assume_role.errors import AssumeRoleTimeoutError
from lambda_assume_role.invocation import Countdown, bound
from tests.support.clocks import SLACK, ManualClock, Stopwatch
from tests.support.contexts import lambda_context
from tests.support.sessions import warm_sts_client
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Patient"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
# Short, so that a test of "bounded" does not take the defaults' 20 s.
QUICK = RefreshWindows(connect_timeout=1, read_timeout=1, max_attempts=2, jitter=0)
DEFAULTS = RefreshWindows()


def test_a_hung_sts_in_the_advisory_window_delays_a_caller_about_the_advisory_timeout(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = warm_sts_client(parent, ROLE, "hung", 900)  # default 2 s advisory timeout
        fault_proxy.fail("AssumeRole", "hang")
        clock.shift(datetime.timedelta(seconds=650))
        with Stopwatch() as watch:
            client.get_caller_identity()  # served with the current keys after one short wait
        fault_proxy.heal()
    assert fault_proxy.faulted("AssumeRole") == 1  # one HTTP attempt: our backoff retries
    # One attempt of at most (connect + read) = 2 x advisory_timeout; botocore's
    # defaults would hold it for about 180 s.
    assert watch.seconds < 2 * DEFAULTS.advisory_timeout + SLACK


def test_a_throttled_sts_gets_one_http_attempt_per_advisory_retry(
    fault_proxy: FaultProxy, parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    with time_machine.travel(START, tick=False) as clock:
        client = warm_sts_client(parent, ROLE, "throttled", 3600)
        fault_proxy.fail("AssumeRole", "throttle")
        clock.shift(datetime.timedelta(seconds=3600 - 900))  # the advisory window opens
        for _ in range(20):  # 20 calls over the 14 minutes before the mandatory point
            client.get_caller_identity()
            clock.shift(datetime.timedelta(seconds=40))
        fault_proxy.heal()
    retries = [r for r in caplog.records if "Advisory credential refresh" in r.getMessage()]
    # Backoff 15, 30, 60, 120, 240 s (jittered down to half): a handful of attempts, and
    # exactly one HTTP request each (botocore's own retries would triple them).
    assert 3 <= len(retries) <= 8
    assert fault_proxy.faulted("AssumeRole") == len(retries)


def test_the_first_fetch_against_a_hung_sts_is_bounded(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    session = assume_role(parent, ROLE, RoleSessionName="first", refresh_windows=QUICK)
    with Stopwatch() as watch, pytest.raises(AssumeRoleConnectionError) as raised:
        session.client("sts").get_caller_identity()
    # 2 attempts of (1 s connect + 1 s read) and botocore's retry sleep (at most 1 s).
    assert watch.seconds < 2 * (1 + 1) + 1 + SLACK
    assert fault_proxy.faulted("AssumeRole") == QUICK.max_attempts
    assert ROLE in str(raised.value)
    fault_proxy.heal()


def test_no_sts_call_outlives_the_invocation(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    session = assume_role(parent, ROLE, RoleSessionName="deadline")
    client = session.client("sts")
    clock = ManualClock()
    with bound(Countdown(30.0, clock=clock)):
        clock.advance(27.0)  # the handler worked 27 s: 3 s are left when STS is needed
        with Stopwatch() as watch, pytest.raises(AssumeRoleTimeoutError) as raised:
            client.get_caller_identity()
    # The time left is read when the call is planned, not when the context was bound,
    # and the plan fits in it: one attempt (the defaults' 3 x (3 s + 5 s) would not).
    assert "3.0 s were left" in str(raised.value)
    assert fault_proxy.faulted("AssumeRole") == 1
    assert watch.seconds < 3.0 + SLACK
    assert ROLE in str(raised.value)
    assert "deadline" in str(raised.value)
    fault_proxy.heal()


def test_no_sts_call_starts_when_the_invocation_has_no_time_left(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="late")
    clock = ManualClock()
    with bound(Countdown(10.0, clock=clock)):
        clock.advance(9.2)  # 0.8 s left: less than the 1 s deadline margin
        with pytest.raises(AssumeRoleTimeoutError, match="not attempted") as raised:
            session.client("sts").get_caller_identity()
    assert "0.8 s left" in str(raised.value)
    assert fault_proxy.attempts("AssumeRole") == 0
    # That was this caller's deadline, not STS failing: it starts no pause, and the
    # next caller, with time, fetches at once.
    assert session.client("sts").get_caller_identity()["Arn"]
    assert fault_proxy.attempts("AssumeRole") == 1


def test_threads_waiting_on_a_failed_mandatory_refresh_share_its_failure(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    windows = RefreshWindows(connect_timeout=1, read_timeout=2, max_attempts=1)
    session = assume_role(parent, ROLE, RoleSessionName="waiters", refresh_windows=windows)
    credentials = session.get_credentials()
    fault_proxy.fail("AssumeRole", "hang")
    with Stopwatch() as watch:
        errors = run_together(credentials.get_frozen_credentials, [()] * 8)
    fault_proxy.heal()
    assert len(errors) == 8
    assert all(isinstance(e, AssumeRoleConnectionError) for e in errors)
    assert fault_proxy.faulted("AssumeRole") == 1  # not one full attempt per waiter
    # One attempt's (1 s connect + 2 s read), shared: queued up behind each other's
    # attempts, the 8 waiters would take 8 x 2 s or more.
    assert watch.seconds < 1 + 2 + SLACK
    # Each waiter got its own copy: no traceback shared across threads.
    assert len({id(e) for e in errors}) == 8


def test_a_caller_after_a_failure_gets_it_at_once_and_one_tries_again_after_the_pause(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        session = assume_role(parent, ROLE, RoleSessionName="again", refresh_windows=QUICK)
        credentials = session.get_credentials()
        fault_proxy.deny("AssumeRole", "AccessDenied", "not yet", times=1)
        with pytest.raises(AssumeRoleError, match="not yet"):
            credentials.get_frozen_credentials()
        with pytest.raises(AssumeRoleError, match="not yet"):  # a copy: STS is not asked
            credentials.get_frozen_credentials()
        assert fault_proxy.attempts("AssumeRole") == 1
        clock.shift(datetime.timedelta(seconds=QUICK.retry_initial))  # the first pause is over
        assert credentials.get_frozen_credentials().access_key  # a new attempt, which works
    assert fault_proxy.attempts("AssumeRole") == 2


def test_timeouts_are_tunable_and_checked() -> None:
    with pytest.raises(ValueError, match="read_timeout"):
        RefreshWindows(read_timeout=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RefreshWindows(max_attempts=0)
    assert RefreshWindows(advisory_timeout=0.5).advisory_timeout == 0.5


def test_a_decorated_handler_gets_a_clear_error_before_lambda_would_kill_it(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    @inject_client("sts", ROLE, registry=SessionRegistry(parent), RoleSessionName="handler")
    def handler(event: object, context: object, sts: Any) -> Any:
        return sts.get_caller_identity()

    fault_proxy.fail("AssumeRole", "hang")
    with Stopwatch() as watch, pytest.raises(AssumeRoleTimeoutError, match="deadline") as raised:
        handler({}, lambda_context(4.0))
    # The handler's context was bound: its 4 s (on a clock that stands still) planned
    # one attempt that fits, and the real wait is that attempt's.
    assert "4.0 s were left" in str(raised.value)
    assert fault_proxy.faulted("AssumeRole") == 1
    assert watch.seconds < 4.0 + SLACK
    assert ROLE in str(raised.value)
    fault_proxy.heal()


def test_already_expired_keys_in_the_advisory_window_back_off_instead_of_failing(
    fault_proxy: FaultProxy, parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    with time_machine.travel(START, tick=False) as clock:
        client = warm_sts_client(parent, ROLE, "stale", 900)
        stale = START - datetime.timedelta(hours=1)
        fault_proxy.respond("AssumeRole", assume_role_body(expiration=stale))
        clock.shift(datetime.timedelta(seconds=650))
        for _ in range(5):  # all within the first 15 s back-off
            client.get_caller_identity()
            clock.shift(datetime.timedelta(seconds=1))
    assert fault_proxy.faulted("AssumeRole") == 1
    assert any("already expired" in r.getMessage() for r in caplog.records)
