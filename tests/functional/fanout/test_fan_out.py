"""fan_out against moto over HTTP: values, identities, one AssumeRole per account, bounded
read-ahead and memory, faults as outcomes, the deadline, early stops and resuming.

The scheduling rules (the p95 start rule, the stop line, back-offs cut at the stop line, where
the deadline comes from) run on `RunClock`, fan_out's clock seam: virtual seconds that pass
only when work spends them or a back-off pauses, so no test here sleeps to make time pass or
asserts on how long it took, but one: on the real clock, with an upper bound only.
"""

from __future__ import annotations

import datetime
import gc
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import RequestLog
from lambda_assume_role import AssumeRoleError, InvalidParameterError, RefreshWindows, invocation
from lambda_assume_role.fanout import FanOutRun, Outcome, Target, fan_out
from lambda_assume_role.retry import Backoff
from tests.support.clocks import HANG, SLACK, RunClock, Stopwatch
from tests.support.contexts import lambda_context

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ROLE = "Auditor"

# An answer to ec2:DescribeRegions: two regions on by default, one opt-in region the account
# opted into, one it did not (real AWS leaves the last out unless AllRegions=true).
DESCRIBE_REGIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
  <regionInfo>
    <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>opted-in</optInStatus></item>
    <item><regionName>ap-east-1</regionName><regionEndpoint>ec2.ap-east-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>
  </regionInfo>
</DescribeRegionsResponse>"""


def accounts(n: int, start: int = 100000000000) -> list[str]:
    return [str(start + i) for i in range(n)]


def identity(session: Any, target: Target) -> tuple[str, str]:
    """Work that asks STS who it is, in the target's region."""
    arn = session.client("sts").get_caller_identity()["Arn"]
    return str(arn), str(session.region_name)


def sleeper(seconds: float) -> Any:
    """Work that takes real time: only where overlapping workers are the point, never to time a
    deadline."""

    def work(session: Any, target: Target) -> str:
        time.sleep(seconds)
        return str(target)

    return work


def spender(clock: RunClock, seconds: float) -> Any:
    """Work that takes ``seconds`` on ``clock``."""

    def work(session: Any, target: Target) -> str:
        clock.spend(seconds)
        return str(target)

    return work


def keys(items: list[dict[str, str | None]]) -> list[tuple[str, str | None]]:
    return [(item["account_id"], item["region"]) for item in items]  # type: ignore[misc]


def done(outcomes: list[Outcome]) -> list[tuple[str, str | None]]:
    """The targets of ``outcomes``: none may be an item that was not a target."""
    return [(o.target.account_id, o.target.region) for o in outcomes if o.target is not None] + [
        ("not a target", None) for o in outcomes if o.target is None
    ]


def assert_exactly_once(
    outcomes: list[Outcome], run: FanOutRun, expected: list[tuple[str, str | None]]
) -> None:
    finished, remaining = done(outcomes), keys(run.remaining)
    assert len(finished) == len(set(finished)), "a target was yielded twice"
    assert len(remaining) == len(set(remaining)), "a target is listed twice in remaining"
    assert not set(finished) & set(remaining), "a target was both yielded and left over"
    assert sorted(finished + remaining) == sorted(expected), "a target was lost"


# -- values, identities, regions, one AssumeRole per account ------------------------------


def test_each_target_gets_a_session_in_its_own_account_and_region_from_one_assume_role_per_account(
    moto_server: Any, requests_log: RequestLog
) -> None:
    # The parent is in eu-west-1: AssumeRole goes to its regional STS endpoint.
    parent = boto3.Session(region_name="eu-west-1")
    ids = accounts(4)
    run = fan_out(identity, ids, role_name=ROLE, regions=REGIONS, parent=parent)
    outcomes = list(run)

    assert sorted(done(outcomes)) == sorted((a, r) for a in ids for r in REGIONS)
    for outcome in outcomes:
        assert outcome.ok, outcome.error
        assert outcome.phase is None
        arn, region = outcome.value
        assert arn.startswith(f"arn:aws:sts::{outcome.target.account_id}:assumed-role/{ROLE}/")
        assert region == outcome.target.region
    assume_calls = requests_log.matching("AssumeRole")
    assert len(assume_calls) == len(ids)
    assert {call.params["RoleArn"] for call in assume_calls} == {
        f"arn:aws:iam::{a}:role/{ROLE}" for a in ids
    }
    assert {call.region for call in assume_calls} == {"eu-west-1"}
    # At moto: every GetCallerIdentity was signed for the target's region, with the
    # account's one assumed key (3 regions, one key per account).
    calls = requests_log.matching("GetCallerIdentity")
    assert sorted(call.region for call in calls) == sorted(REGIONS * len(ids))
    assert len({call.access_key for call in calls}) == len(ids)
    assert run.remaining == []
    summary = run.summary
    assert (summary.succeeded, summary.failed_assume, summary.failed_work) == (12, 0, 0)
    assert (summary.remaining, summary.reason) == (0, "done")


def test_a_target_without_a_region_runs_in_the_parents_and_one_with_a_region_keeps_it(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    targets: list[Any] = [
        "111111111111",
        Target("222222222222", "eu-west-1"),
        {"account_id": "333333333333", "region": None},
    ]
    outcomes = list(fan_out(identity, targets, parent=parent))
    by_account = {o.target.account_id: o for o in outcomes}
    assert {a: o.target.region for a, o in by_account.items()} == {
        "111111111111": "us-east-1",
        "222222222222": "eu-west-1",
        "333333333333": "us-east-1",
    }
    assert all(o.value[1] == o.target.region for o in outcomes)
    # The default role name.
    assert all(":assumed-role/OrganizationAccountAccessRole/" in o.value[0] for o in outcomes)


def test_role_arn_callable_names_each_accounts_role_and_assume_role_kwargs_reach_sts(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    def role_arn(target: Target) -> str:
        return f"arn:aws:iam::{target.account_id}:role/team/Reader-{target.account_id[-1]}"

    outcomes = list(
        fan_out(identity, accounts(2), role_arn=role_arn, parent=parent, RoleSessionName="audit")
    )
    assert all(o.ok for o in outcomes)
    params = sorted(
        (c.params["RoleArn"], c.params["RoleSessionName"])
        for c in requests_log.matching("AssumeRole")
    )
    assert params == [
        ("arn:aws:iam::100000000000:role/team/Reader-0", "audit"),
        ("arn:aws:iam::100000000001:role/team/Reader-1", "audit"),
    ]


def test_enabled_regions_are_asked_once_per_account_and_nothing_goes_anywhere_else(
    fault_proxy: FaultProxy, parent: boto3.Session, requests_log: RequestLog
) -> None:
    fault_proxy.respond("DescribeRegions", DESCRIBE_REGIONS)
    ids = accounts(3)

    run = fan_out(identity, ids, role_name=ROLE, regions="enabled", parent=parent)
    outcomes = list(run)

    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    enabled = ["us-east-1", "eu-west-1", "af-south-1"]
    assert sorted(done(outcomes)) == sorted((a, r) for a in ids for r in enabled)
    assert fault_proxy.attempts("DescribeRegions") == len(ids)
    assert requests_log.count("AssumeRole") == len(ids)
    # Each account's opt-in region answered with its identity there; nothing reached ap-east-1.
    assert {o.value[1] for o in outcomes} == set(enabled)
    assert "ap-east-1" not in {call.region for call in requests_log.all()}
    assert run.remaining == []


def test_an_account_whose_regions_cannot_be_listed_is_one_assume_outcome_without_a_region(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.deny("DescribeRegions", "UnauthorizedOperation", "not allowed")
    run = fan_out(identity, ["111111111111"], regions="enabled", parent=parent)
    outcomes = list(run)
    assert [(o.target, o.phase) for o in outcomes] == [(Target("111111111111"), "assume")]
    assert run.remaining == []


# -- bounded read-ahead, bounded flight, sessions released -----------------------------------


def test_a_lazy_generator_is_read_ahead_boundedly_and_at_most_max_workers_run_at_once(
    parent: boto3.Session,
) -> None:
    consumed = 0
    running = peak = 0
    lock = threading.Lock()

    def lazy() -> Iterator[str]:
        nonlocal consumed
        for account in accounts(1000):
            consumed += 1
            yield account

    def work(session: Any, target: Target) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    run = fan_out(work, lazy(), max_workers=4, parent=parent)
    iterator = iter(run)
    first = next(iterator)
    read_at_first_outcome = consumed
    outcomes = [first] + [next(iterator) for _ in range(19)]
    read_after_twenty = consumed
    run.close()

    assert read_at_first_outcome <= 4 + 1
    assert read_after_twenty <= 20 + 4 + 1
    assert peak <= 4
    # Closing read the rest into remaining: nothing lost, nothing twice.
    assert consumed == 1000
    assert_exactly_once(outcomes, run, [(a, "us-east-1") for a in accounts(1000)])
    assert run.summary.reason == "closed"


def test_an_accounts_session_is_released_when_its_last_target_is_done(
    parent: boto3.Session,
) -> None:
    credentials: list[weakref.ref[Any]] = []
    lock = threading.Lock()

    def work(session: Any, target: Target) -> None:
        session.client("sts")  # a client holds the credentials too
        if target.region == "us-east-1":
            with lock:
                credentials.append(weakref.ref(session.assume_role_credentials))

    live: list[int] = []
    run = fan_out(
        work, accounts(6), regions=["us-east-1", "eu-west-1"], max_workers=2, parent=parent
    )
    for index, _ in enumerate(run):
        if index % 3 == 2:
            gc.collect()
            with lock:
                live.append(sum(ref() is not None for ref in credentials))
    gc.collect()

    assert len(credentials) == 6
    # Only accounts with a target in flight (2 workers) or read ahead keep credentials.
    assert max(live) <= 3
    assert all(ref() is None for ref in credentials)


# -- faults ----------------------------------------------------------------------------------


def test_access_denied_fails_every_region_of_that_account_in_phase_assume_and_the_run_goes_on(
    fault_proxy: FaultProxy, parent: boto3.Session, requests_log: RequestLog
) -> None:
    fault_proxy.deny("AssumeRole", "AccessDenied", "not in the trust policy", times=1)
    ids = accounts(4)
    run = fan_out(identity, ids, regions=["us-east-1", "eu-west-1"], max_workers=2, parent=parent)
    outcomes = list(run)

    failed = [o for o in outcomes if not o.ok]
    assert len(outcomes) == 8
    assert len(failed) == 2
    assert len({o.target.account_id for o in failed}) == 1
    for outcome in failed:
        assert outcome.phase == "assume"
        assert outcome.value is None
        assert isinstance(outcome.error, AssumeRoleError)
        assert outcome.error.error_code == "AccessDenied"
    # The denied account was asked once, not once per region.
    assert fault_proxy.attempts("AssumeRole") == 4
    assert (run.summary.succeeded, run.summary.failed_assume) == (6, 2)


def test_an_exception_in_work_is_an_outcome_in_phase_work_and_the_run_goes_on(
    parent: boto3.Session,
) -> None:
    def work(session: Any, target: Target) -> str:
        if target.account_id.endswith("3"):
            raise KeyError("no such bucket")
        return target.account_id

    outcomes = list(fan_out(work, accounts(6), parent=parent))
    failed = sorted(o.target.account_id for o in outcomes if not o.ok)
    assert failed == ["100000000003"]
    assert all(o.phase == "work" and isinstance(o.error, KeyError) for o in outcomes if not o.ok)
    assert all(o.value == o.target.account_id and o.phase is None for o in outcomes if o.ok)


def test_a_throttled_assume_role_is_retried_beyond_botocores_attempts(
    fault_proxy: FaultProxy, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "throttle", times=3)
    clock = RunClock()  # the back-off's pauses pass at once
    run = fan_out(
        identity,
        ["111111111111"],
        parent=parent,
        clock=clock,
        refresh_windows=RefreshWindows(max_attempts=1),  # botocore makes one attempt each time
    )
    outcomes = list(run)
    assert [o.ok for o in outcomes] == [True], outcomes[0].error
    assert fault_proxy.attempts("AssumeRole") == 4
    assert len(clock.pauses) == 3


def test_a_throttled_assume_role_is_not_retried_past_the_stop_line(
    fault_proxy: FaultProxy, parent: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault_proxy.fail("AssumeRole", "throttle")  # until healed
    # Without jitter the pauses are 2, 4, 8, then 16 s: the fourth would end at 30 s, past the
    # stop line at 20 s (deadline 30 less reserve 10).
    monkeypatch.setattr(
        "lambda_assume_role.fanout.accounts.BACKOFF",
        Backoff(initial=2.0, maximum=50.0, jitter=0.0),
    )
    clock = RunClock()
    run = fan_out(
        identity,
        ["111111111111"],
        parent=parent,
        clock=clock,
        deadline=30.0,
        reserve=10.0,
        refresh_windows=RefreshWindows(max_attempts=1),
    )
    outcomes = list(run)
    assert clock.pauses == [(0.0, 2.0), (2.0, 4.0), (6.0, 8.0)]
    assert fault_proxy.attempts("AssumeRole") == 4
    # Still throttled at the stop line: no failure, a target to try again next time.
    assert outcomes == []
    assert keys(run.remaining) == [("111111111111", "us-east-1")]
    assert (run.summary.reason, run.summary.given_up) == ("deadline", 0)


# -- the deadline ------------------------------------------------------------------------------
# On a RunClock: a deadline of 200 virtual seconds less a reserve of 50 puts the stop line at
# 150; work takes 20 (or 40) of them. AssumeRole is a real call to moto that takes no virtual
# time, and the time left that its timeouts are cut to is virtual too, so plenty.

TEN_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
]
DEADLINE, RESERVE = 200.0, 50.0
STOP = DEADLINE - RESERVE


def grid(n_accounts: int) -> list[tuple[str, str | None]]:
    return [(a, r) for a in accounts(n_accounts) for r in TEN_REGIONS]


def run_virtual(
    parent: boto3.Session, clock: RunClock, work: Any, targets: Any, **options: Any
) -> tuple[FanOutRun, list[Outcome]]:
    """fan_out on ``clock`` (ten regions, the deadline and reserve above unless given),
    iterated to its end: the run and its outcomes."""
    options.setdefault("regions", TEN_REGIONS)
    options.setdefault("reserve", RESERVE)
    if "context" not in options:
        options.setdefault("deadline", DEADLINE)
    run = fan_out(work, targets, parent=parent, clock=clock, **options)
    return run, list(run)


def test_slow_work_with_a_short_deadline_ends_by_the_deadline_and_accounts_for_every_target(
    parent: boto3.Session,
) -> None:
    clock = RunClock()
    # 4 workers x 20 s: the clock runs at most 80 s ahead of the loop, which therefore sees
    # the first outcome before the stop line; 60 targets x 20 s cannot fit before it.
    run, outcomes = run_virtual(parent, clock, spender(clock, 20.0), accounts(6), max_workers=4)

    assert outcomes, "nothing finished"
    assert run.remaining, "the deadline should cut this run"
    assert_exactly_once(outcomes, run, grid(6))
    assert run.summary.reason == "deadline"
    assert run.summary.remaining == len(run.remaining)


def test_nothing_starts_when_less_than_reserve_plus_p95_is_left(parent: boto3.Session) -> None:
    clock = RunClock()
    starts: list[float] = []

    def work(session: Any, target: Target) -> None:
        starts.append(clock.elapsed())
        clock.spend(40.0)

    # One worker, one account's ten regions: targets start one after another, each taking 40 s,
    # so from the first outcome on the p95 is 40 s. A target may start while 40 s and the
    # reserve are left: at 0, 40 and 80 s, not at 120 s, although 120 s is before the stop line.
    run, outcomes = run_virtual(parent, clock, work, ["111111111111"], max_workers=1)

    assert starts == [0.0, 40.0, 80.0]
    assert [o.ok for o in outcomes] == [True] * 3
    assert len(run.remaining) == 7
    assert (run.summary.reason, run.summary.given_up) == ("deadline", 0)


def test_work_still_running_at_the_stop_line_is_given_up_and_never_yielded(
    parent: boto3.Session,
) -> None:
    clock = RunClock()
    entered, release = threading.Event(), threading.Event()
    stuck = ("111111111111", "eu-west-1")
    stuck_thread: list[threading.Thread] = []

    def work(session: Any, target: Target) -> str:
        if (target.account_id, target.region) == stuck:
            stuck_thread.append(threading.current_thread())
            entered.set()
            release.wait(HANG)
        return str(target)

    run = fan_out(
        work,
        ["111111111111"],
        regions=TEN_REGIONS[:5],
        max_workers=5,
        deadline=DEADLINE,
        reserve=RESERVE,
        clock=clock,
        parent=parent,
    )
    outcomes: list[Outcome] = []
    for outcome in run:
        outcomes.append(outcome)
        if len(outcomes) == 4:
            assert entered.wait(HANG)
            clock.spend(STOP)  # the stop line passes while the stuck target is in its work
    release.set()
    stuck_thread[0].join(HANG)  # its result is ready now, and must go nowhere
    assert not stuck_thread[0].is_alive()

    assert stuck not in done(outcomes)
    assert keys(run.remaining) == [stuck]
    assert (run.summary.reason, run.summary.given_up) == ("deadline", 1)
    assert list(run) == []
    assert_exactly_once(outcomes, run, [("111111111111", r) for r in TEN_REGIONS[:5]])


def test_on_the_real_clock_iteration_ends_by_the_stop_line_while_work_hangs(
    parent: boto3.Session,
) -> None:
    release = threading.Event()

    def work(session: Any, target: Target) -> None:
        release.wait(HANG)

    try:
        with Stopwatch() as watch:
            run = fan_out(
                work,
                ["111111111111"],
                parent=parent,
                deadline=2.5,
                reserve=0.5,
                refresh_windows=RefreshWindows(deadline_margin=0.1),
            )
            outcomes = list(run)
    finally:
        release.set()

    # The stop line is 2 s away (time enough for the AssumeRole on a busy machine); the work
    # would hold the run for HANG seconds.
    assert watch.seconds < 2.0 + SLACK < HANG
    assert outcomes == []
    assert keys(run.remaining) == [("111111111111", "us-east-1")]
    assert run.summary.reason == "deadline"


class DurableContext:
    """What a durable function's handler is given: the Lambda context is its ``lambda_context``."""

    def __init__(self, lambda_context: Any) -> None:
        self.lambda_context = lambda_context


@pytest.mark.parametrize(
    "given", ["context=", "context=DurableContext", "a decorated handler's invocation"]
)
def test_a_lambda_context_drives_the_deadline_and_workers_see_it_bound(
    parent: boto3.Session, given: str
) -> None:
    clock = RunClock()
    seen: list[float | None] = []

    def work(session: Any, target: Target) -> None:
        seen.append(invocation.remaining_seconds())
        clock.spend(20.0)

    context = lambda_context(DEADLINE, function_name="fan-out", clock=clock.monotonic)
    handed: Any = {"context=": context, "context=DurableContext": DurableContext(context)}
    passed = handed.get(given)  # None: the handler's invocation, bound, sets the deadline
    with invocation.bound(context if passed is None else None):
        run, outcomes = run_virtual(parent, clock, work, accounts(4), max_workers=4, context=passed)

    assert outcomes
    assert run.remaining
    assert run.summary.reason == "deadline"
    # Each worker had the run's stop line plus the margin bound as its deadline: the first to
    # start, at 0 s, saw exactly that much left; not the context's 200 s.
    margin = RefreshWindows().deadline_margin
    assert max(s for s in seen if s is not None) == STOP + margin
    assert all(s is not None and 0 < s <= STOP + margin for s in seen)
    assert_exactly_once(outcomes, run, grid(4))


@pytest.mark.parametrize("deadline", [datetime.timedelta(seconds=DEADLINE), "aware datetime"])
def test_a_timedelta_or_an_aware_datetime_is_a_deadline(
    parent: boto3.Session, deadline: Any
) -> None:
    if deadline == "aware datetime":
        deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=DEADLINE
        )
    clock = RunClock()
    seen: list[float | None] = []

    def work(session: Any, target: Target) -> None:
        seen.append(invocation.remaining_seconds())
        clock.spend(20.0)

    run, outcomes = run_virtual(parent, clock, work, accounts(4), max_workers=4, deadline=deadline)
    # Without a deadline, 40 targets would all be done.
    assert run.summary.reason == "deadline"
    assert run.remaining
    assert max(s for s in seen if s is not None) == pytest.approx(
        STOP + RefreshWindows().deadline_margin, abs=1.0
    )
    assert_exactly_once(outcomes, run, grid(4))


def test_feeding_remaining_back_finishes_the_job_exactly_once(parent: boto3.Session) -> None:
    clock = RunClock()
    first, first_outcomes = run_virtual(
        parent, clock, spender(clock, 20.0), accounts(6), max_workers=6
    )
    assert first_outcomes
    assert first.remaining
    assert_exactly_once(first_outcomes, first, grid(6))

    # Without the regions argument: leftovers keep their regions.
    second = fan_out(sleeper(0), first.remaining, max_workers=8, parent=parent)
    second_outcomes = list(second)
    assert second.remaining == []
    finished = done(first_outcomes) + done(second_outcomes)
    assert sorted(finished) == sorted(grid(6))


# -- stopping early -----------------------------------------------------------------------------


def test_breaking_out_and_closing_lists_every_unfinished_target_in_remaining(
    parent: boto3.Session,
) -> None:
    ids = accounts(30)
    outcomes: list[Outcome] = []
    with fan_out(
        sleeper(0.05), ids, regions=["us-east-1", "eu-west-1"], max_workers=4, parent=parent
    ) as run:
        for outcome in run:
            outcomes.append(outcome)
            if len(outcomes) == 5:
                break
    assert len(outcomes) == 5
    assert_exactly_once(outcomes, run, [(a, r) for a in ids for r in ["us-east-1", "eu-west-1"]])
    assert run.summary.reason == "closed"


def test_reading_remaining_of_a_run_never_iterated_lists_everything_and_calls_nothing(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    run = fan_out(identity, accounts(3), regions=REGIONS, parent=parent)
    assert sorted(keys(run.remaining)) == sorted((a, r) for a in accounts(3) for r in REGIONS)
    assert list(run) == []
    assert requests_log.count("AssumeRole") == 0
    assert run.summary.yielded == 0


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"DurationSeconds": 5}, "DurationSeconds"),
        ({"region_name": "eu-west-1"}, "regions="),
        ({"regions": "mars"}, "regions must be"),
        ({"regions": ["moon_1"]}, "region"),
        ({"regions": []}, "regions must be"),
        ({"max_workers": 0}, "max_workers"),
        ({"reserve": -1}, "reserve"),
        ({"deadline": datetime.datetime(2030, 1, 1)}, "aware"),
        ({"deadline": "soon"}, "deadline"),
        ({"context": object()}, "Lambda context"),
        ({"role_name": "a/b", "role_arn": None, "ExternalId": ""}, "ExternalId"),
        ({"role_arn": "arn:aws:iam::111111111111:role/R"}, "callable"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    parent: boto3.Session, requests_log: RequestLog, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        fan_out(identity, accounts(3), parent=parent, **kwargs)
    assert requests_log.all() == []


def test_a_parent_without_a_region_is_refused(
    moto_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(InvalidParameterError, match="needs a region"):
        fan_out(identity, accounts(1), parent=boto3.Session())


BAD_THEN_GOOD = ["bad", "bad2", "222222222222"]


def test_a_list_with_bad_targets_is_refused_up_front_naming_the_first_and_nothing_starts(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    called: list[Target] = []
    threads_before = threading.active_count()

    with pytest.raises(InvalidParameterError) as refused:
        fan_out(lambda session, target: called.append(target), BAD_THEN_GOOD, parent=parent)

    message = str(refused.value)
    assert message.startswith("targets[0]: "), message
    assert "'bad'" in message
    assert "12 digits" in message
    assert "bad2" not in message
    assert requests_log.count("AssumeRole") == 0
    assert requests_log.all() == []
    assert called == []
    assert threading.active_count() == threads_before


@pytest.mark.parametrize(
    ("targets", "index", "rule"),
    [
        (("111111111111", Target("222222222222"), "1234"), 2, "12 digits"),
        ({"333333333333", 42}, None, "a target must be"),  # a set: parsed whole, any order
        ([{"account_id": "111111111111", "region": "eu west"}], 0, "region"),
        ([{"account_id": "111111111111", "zone": "a", 7: "b"}], 0, "account_id and region only"),
        (["111111111111", None], 1, "a target must be"),
        (["x" * 10_000], 0, "12 digits"),
    ],
)
def test_a_collection_is_parsed_whole_and_the_error_names_the_first_bad_index_briefly(
    parent: boto3.Session, requests_log: RequestLog, targets: Any, index: int | None, rule: str
) -> None:
    with pytest.raises(InvalidParameterError, match=rule) as refused:
        fan_out(identity, targets, parent=parent)
    message = str(refused.value)
    if index is not None:
        assert message.startswith(f"targets[{index}]: "), message
    assert len(message) < 200, message
    assert requests_log.all() == []


def test_bad_items_of_a_generator_are_outcomes_of_their_own_and_the_good_one_runs_once(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    run = fan_out(identity, iter(BAD_THEN_GOOD), max_workers=1, parent=parent)
    outcomes = list(run)

    refused = [o for o in outcomes if o.phase == "target"]
    assert len(refused) == 2
    for outcome, index, shown in zip(refused, [0, 1], ["'bad'", "'bad2'"], strict=True):
        assert (outcome.ok, outcome.target, outcome.value) == (False, None, None)
        assert isinstance(outcome.error, InvalidParameterError)
        assert str(outcome.error).startswith(f"targets item {index}: "), outcome.error
        assert shown in str(outcome.error)
        assert "12 digits" in str(outcome.error)
    good = [o for o in outcomes if o.phase != "target"]
    assert [(o.ok, o.target) for o in good] == [(True, Target("222222222222", "us-east-1"))]
    assert requests_log.count("AssumeRole") == 1
    assert run.remaining == []
    summary = run.summary
    assert (summary.succeeded, summary.failed_target, summary.yielded) == (1, 2, 3)
    assert (summary.remaining, summary.reason) == (0, "done")


def test_a_bad_item_read_after_the_stop_line_is_still_an_outcome_and_the_rest_remain(
    parent: boto3.Session,
) -> None:
    clock = RunClock()
    # One worker, 100 s a target, the stop line at 150 s: the first target ends at 100 s and
    # the p95 rule starts nothing more; the rest of the input is listed after the stop line.
    items = ["111111111111", "222222222222", "bad", "333333333333"]
    run = fan_out(
        spender(clock, 100.0),
        iter(items),
        max_workers=1,
        deadline=DEADLINE,
        reserve=RESERVE,
        clock=clock,
        parent=parent,
    )
    outcomes = list(run)

    assert [(o.target, o.phase) for o in outcomes] == [
        (Target("111111111111", "us-east-1"), None),
        (None, "target"),
    ]
    assert str(outcomes[1].error).startswith("targets item 2: ")
    assert keys(run.remaining) == [("222222222222", "us-east-1"), ("333333333333", "us-east-1")]
    summary = run.summary
    assert (summary.reason, summary.failed_target, summary.malformed_at_close) == ("deadline", 1, 0)


def test_bad_items_read_while_a_closed_run_lists_the_rest_are_counted_and_logged(
    parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    items = ["111111111111", "222222222222", "bad", "333333333333", 7]
    with fan_out(sleeper(0), iter(items), max_workers=1, parent=parent) as run:
        first = next(iter(run))
    # Closing read the rest: the targets into remaining, the two bad items into the summary.
    assert sorted(done([first]) + keys(run.remaining)) == [
        (a, "us-east-1") for a in ["111111111111", "222222222222", "333333333333"]
    ]
    summary = run.summary
    assert (summary.reason, summary.malformed_at_close, summary.failed_target) == ("closed", 2, 0)
    assert summary.yielded + summary.remaining + summary.malformed_at_close == 5
    warnings = [r for r in caplog.records if getattr(r, "phase", None) == "target"]
    assert len(warnings) == 2
    assert "targets item 2" in warnings[0].getMessage()
    assert "targets item 4" in warnings[1].getMessage()


class SourceBrokeError(Exception):
    """What a target generator raises midway (a listing that failed, say)."""


class BreakingSource:
    """An iterator of targets that raises at ``breaks_at`` (a listing that failed, say) and
    would go on giving targets if asked again."""

    def __init__(self, items: list[Any], breaks_at: int) -> None:
        self.items, self.breaks_at, self.asked = items, breaks_at, 0

    def __iter__(self) -> BreakingSource:
        return self

    def __next__(self) -> Any:
        self.asked += 1
        if self.asked - 1 == self.breaks_at:
            raise SourceBrokeError("listing failed")
        if not self.items:
            raise StopIteration
        return self.items.pop(0)


def test_a_generator_that_raises_midway_still_runs_what_it_gave_and_then_raises(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    source = BreakingSource(["111111111111", "bad", "222222222222", "333333333333"], breaks_at=3)
    outcomes: list[Outcome] = []
    run = fan_out(identity, source, regions=["us-east-1", "eu-west-1"], parent=parent)
    with pytest.raises(SourceBrokeError, match="listing failed"):
        outcomes.extend(run)

    # Every item read before the error has its outcome; then the error, once; nothing more is
    # read from a source that raised.
    assert sorted(done([o for o in outcomes if o.target is not None])) == [
        (a, r) for a in ["111111111111", "222222222222"] for r in ["eu-west-1", "us-east-1"]
    ]
    assert all(o.ok for o in outcomes if o.target is not None)
    assert [o.phase for o in outcomes if o.target is None] == ["target"]
    assert requests_log.count("AssumeRole") == 2
    assert source.asked == 4
    assert run.remaining == []
    summary = run.summary
    assert (summary.reason, summary.succeeded, summary.failed_target) == ("error", 4, 1)
    assert list(run) == []  # the error is raised once


def test_a_generator_that_raises_while_a_closed_run_lists_the_rest_raises_from_close(
    parent: boto3.Session,
) -> None:
    def source() -> Iterator[str]:
        yield "111111111111"
        yield "222222222222"
        raise SourceBrokeError("listing failed")

    run = fan_out(sleeper(0), source(), max_workers=1, parent=parent)
    first = next(iter(run))
    with pytest.raises(SourceBrokeError):
        run.close()
    assert first.ok
    assert keys(run.remaining) == [("222222222222", "us-east-1")]
    assert run.summary.reason == "error"
    run.close()  # once raised, closing again is quiet


# -- logs ----------------------------------------------------------------------------------------


def test_one_warning_per_failed_target_and_one_summary_line_with_fields_and_no_secret(
    fault_proxy: FaultProxy, parent: boto3.Session, caplog: pytest.LogCaptureFixture
) -> None:
    fault_proxy.deny("AssumeRole", "AccessDenied", "denied", times=1)
    secrets: list[str] = []

    def work(session: Any, target: Target) -> None:
        frozen = session.get_credentials().get_frozen_credentials()
        secrets.extend([frozen.secret_key, frozen.token])
        if target.region == "eu-west-1":
            raise RuntimeError("broken")

    caplog.set_level(logging.DEBUG, logger="lambda_assume_role")
    run = fan_out(
        work, accounts(3), regions=["us-east-1", "eu-west-1"], max_workers=1, parent=parent
    )
    outcomes = list(run)
    assert sum(not o.ok for o in outcomes) == 4  # 2 of the denied account, 2 in work

    ours = [r for r in caplog.records if r.getMessage().startswith("Fan-out")]
    warnings = [vars(r) for r in ours if r.levelno == logging.WARNING]
    summaries = [vars(r) for r in ours if r.levelno == logging.INFO]
    assert len(warnings) == 4
    assert len(summaries) == 1
    assert sorted(w["phase"] for w in warnings) == ["assume", "assume", "work", "work"]
    assert {w["error_code"] for w in warnings if w["phase"] == "assume"} == {"AccessDenied"}
    assert {w["error_type"] for w in warnings if w["phase"] == "work"} == {"RuntimeError"}
    assert all(w["fan_out_target"] == f"{w['account_id']}/{w['region']}" for w in warnings)
    summary = summaries[0]
    assert (summary["fan_out_succeeded"], summary["fan_out_failed_assume"]) == (2, 2)
    assert (summary["fan_out_failed_work"], summary["fan_out_remaining"]) == (2, 0)
    text = caplog.text + " ".join(str(vars(r)) for r in caplog.records)
    assert secrets
    assert not any(secret in text for secret in secrets)
    assert "parent-secret-key-never-printed" not in text
