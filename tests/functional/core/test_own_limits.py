"""Every caller keeps its own limits: behind another thread's refresh, against a trickling STS.

A refresh in flight in a thread with no deadline (a background thread, one started
without copying the context) must not hold a handler past its own deadline; an STS
that answers 200 at once and then sends a byte at a time must not hold anyone past
the whole-call cap (botocore's read timeout bounds each read, not the call); an
answer that arrives already inside the mandatory window is not fetched again by
every waiting thread. The fault proxy hangs, trickles and answers; the deadline is
a `Countdown` on a `ManualClock`; real waits are measured with a `Stopwatch` and
bounded above only.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from typing import Any

import boto3
import pytest
import time_machine

from emulators.fault_proxy import FaultProxy, assume_role_body
from lambda_assume_role import AssumeRoleConnectionError, RefreshWindows, assume_role
from lambda_assume_role.capped_call import abandoned_calls
from lambda_assume_role.errors import AssumeRoleTimeoutError
from lambda_assume_role.invocation import Countdown, bound
from lambda_assume_role.refresh_policy import call_plan
from tests.support.clocks import SLACK, ManualClock, Stopwatch
from tests.support.sessions import warm_sts_client
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/OwnLimits"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
DEFAULTS = RefreshWindows()


def _in_background(target: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``target()`` in a plain thread (no context copied: no deadline); keep its outcome."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as error:  # reported to the test, which asserts on it
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_handler_waiting_behind_a_thread_with_no_deadline_keeps_its_own(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    session = assume_role(parent, ROLE, RoleSessionName="waiter")
    credentials = session.get_credentials()
    holder, held = _in_background(credentials.get_frozen_credentials)
    assert fault_proxy.wait_hanging(1)  # the background thread's first fetch is in flight

    clock = ManualClock()
    with bound(Countdown(3.0, clock=clock)):  # the handler has 3 s left
        limit = call_plan(DEFAULTS, advisory=False, remaining=3.0).cap
        with Stopwatch() as watch, pytest.raises(AssumeRoleTimeoutError) as raised:
            credentials.get_frozen_credentials()
    # It waited its own limit (within 3 s less the margin), not the background
    # thread's attempts (3 x 5 s read timeouts and more), and got a timeout, not
    # the other thread's connection error.
    assert limit <= 3.0 - DEFAULTS.deadline_margin
    assert watch.seconds < limit + SLACK
    assert ROLE in str(raised.value)
    assert "another thread" in str(raised.value)

    # The refresh went on for the thread that started it: once STS answers, it has keys.
    fault_proxy.heal()
    holder.join(DEFAULTS.connect_timeout + DEFAULTS.read_timeout + SLACK)
    assert "error" not in held, held.get("error")
    assert held["value"].access_key


def test_a_waiter_with_no_time_left_is_refused_at_once(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang")
    credentials = assume_role(parent, ROLE, RoleSessionName="late-waiter").get_credentials()
    holder, _ = _in_background(credentials.get_frozen_credentials)
    assert fault_proxy.wait_hanging(1)
    with bound(Countdown(0.5, clock=ManualClock())):
        with Stopwatch() as watch, pytest.raises(AssumeRoleTimeoutError) as raised:
            credentials.get_frozen_credentials()
    assert watch.seconds < SLACK  # no wait at all: the code does not sleep on this path
    assert "could not wait" in str(raised.value)
    fault_proxy.heal()
    holder.join(DEFAULTS.connect_timeout + DEFAULTS.read_timeout + SLACK)


def test_a_trickling_sts_holds_an_advisory_caller_no_longer_than_the_advisory_timeout(
    fault_proxy: FaultProxy, parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    with time_machine.travel(START, tick=False) as clock:
        client = warm_sts_client(parent, ROLE, "trickled", 900)
        fault_proxy.fail("AssumeRole", "trickle", interval=0.5)  # each byte within any timeout
        clock.shift(datetime.timedelta(seconds=650))  # inside the advisory window
        with Stopwatch() as watch:
            client.get_caller_identity()  # served with the current keys after the cap
        fault_proxy.heal()
    assert watch.seconds < DEFAULTS.advisory_timeout + SLACK
    [warning] = [r for r in caplog.records if "Advisory credential refresh" in r.getMessage()]
    assert "did not finish within" in warning.getMessage()


def test_a_trickling_sts_releases_a_handler_before_its_deadline(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "trickle", interval=0.5)
    session = assume_role(parent, ROLE, RoleSessionName="trickle-deadline")
    with bound(Countdown(4.0, clock=ManualClock())):  # 4 s left
        cap = call_plan(DEFAULTS, advisory=False, remaining=4.0).cap
        with Stopwatch() as watch, pytest.raises(AssumeRoleTimeoutError) as raised:
            session.client("sts").get_caller_identity()
    fault_proxy.heal()
    assert cap <= 4.0 - DEFAULTS.deadline_margin
    assert watch.seconds < cap + SLACK
    assert ROLE in str(raised.value)
    assert "deadline" in str(raised.value)


def test_a_trickling_sts_releases_a_caller_with_no_deadline_at_the_whole_call_cap(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    quick = RefreshWindows(connect_timeout=0.5, read_timeout=0.5, max_attempts=1)
    fault_proxy.fail("AssumeRole", "trickle", interval=0.2)
    session = assume_role(parent, ROLE, RoleSessionName="trickle-cap", refresh_windows=quick)
    with Stopwatch() as watch, pytest.raises(AssumeRoleConnectionError) as raised:
        session.client("sts").get_caller_identity()
    fault_proxy.heal()
    assert watch.seconds < call_plan(quick, advisory=False, remaining=None).cap + SLACK
    assert "abandoned" in str(raised.value)
    assert ROLE in str(raised.value)


def test_abandoned_calls_end_once_the_server_lets_go(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    quick = RefreshWindows(connect_timeout=0.5, read_timeout=0.5, max_attempts=1)
    before = abandoned_calls()
    fault_proxy.fail("AssumeRole", "trickle", interval=0.2)
    session = assume_role(parent, ROLE, RoleSessionName="abandoned", refresh_windows=quick)
    with pytest.raises(AssumeRoleConnectionError):
        session.client("sts").get_caller_identity()
    assert abandoned_calls() == before + 1
    fault_proxy.heal()  # the proxy closes the trickling connection
    give_up = time.monotonic() + SLACK  # an upper bound only: it ends as soon as the count drops
    while abandoned_calls() > before and time.monotonic() < give_up:
        threading.Event().wait(0.05)
    assert abandoned_calls() == before


def test_an_answer_already_inside_the_mandatory_window_is_fetched_once_not_once_per_waiter(
    fault_proxy: FaultProxy, parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    with time_machine.travel(START, tick=False):
        # STS's clock is 40 s behind ours: the keys arrive with 20 s left, inside
        # the 60 s mandatory window.
        body = assume_role_body(expiration=START + datetime.timedelta(seconds=20))
        fault_proxy.respond("AssumeRole", body)
        credentials = assume_role(parent, ROLE, RoleSessionName="skewed").get_credentials()
        errors = run_together(credentials.get_frozen_credentials, [()] * 32)
    assert errors == []
    assert fault_proxy.faulted("AssumeRole") == 1
    warnings = [r for r in caplog.records if "inside the" in r.getMessage()]
    assert len(warnings) == 1
    assert ROLE in warnings[0].getMessage()
