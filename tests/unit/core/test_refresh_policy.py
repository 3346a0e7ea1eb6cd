"""The refresh policy on a simulated clock, with a fake fetch (no network)."""

from __future__ import annotations

import datetime
import itertools
import logging
import random
from typing import Any, NamedTuple

import pytest

from lambda_assume_role.errors import INVALID_RESPONSE, AssumeRoleError
from lambda_assume_role.invocation import Countdown, bound
from lambda_assume_role.refresh import AssumeRoleCredentials, RefreshWindows
from tests.support.clocks import ManualClock, WallClock

T0 = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/Policy"


class FakeSTS:
    """Returns fresh keys valid for ``lifetime`` seconds, or raises when told to."""

    def __init__(self, clock: WallClock, lifetime: int = 900) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.modes: list[str] = []
        self.failing: Exception | None = None

    def __call__(self, mode: str = "urgent") -> dict[str, Any]:
        self.calls += 1
        self.modes.append(mode)
        if self.failing is not None:
            raise self.failing
        return {
            "access_key": f"ASIA{self.calls:016d}",
            "secret_key": f"secret-{self.calls}",
            "token": f"token-{self.calls}",
            "expiry_time": self.clock.now + datetime.timedelta(seconds=self.lifetime),
        }


def make(
    lifetime: int = 900, windows: RefreshWindows | None = None, seed: int = 7
) -> tuple[AssumeRoleCredentials, FakeSTS, WallClock]:
    clock = WallClock(T0)
    sts = FakeSTS(clock, lifetime)
    credentials = AssumeRoleCredentials(
        sts,
        role_arn=ROLE,
        windows=windows or RefreshWindows(),
        time_fetcher=clock,
        rng=random.Random(seed),
    )
    return credentials, sts, clock


@pytest.mark.parametrize(
    ("lifetime", "window"), [(900, 300), (1800, 600), (2700, 900), (3600, 900), (43200, 900)]
)
def test_advisory_window_is_a_third_of_the_lifetime_capped_at_15_minutes(
    lifetime: int, window: float
) -> None:
    assert RefreshWindows().advisory_window(lifetime) == pytest.approx(window)


def test_advisory_window_is_never_below_the_mandatory_window() -> None:
    assert RefreshWindows(mandatory=120).advisory_window(300) == 120


def test_jittered_refresh_points_spread_over_the_first_half_of_the_advisory_period() -> None:
    windows = RefreshWindows()
    expiry = T0 + datetime.timedelta(seconds=900)
    rng = random.Random(1)
    offsets = [(windows.refresh_at(T0, expiry, rng) - T0).total_seconds() for _ in range(2000)]
    assert min(offsets) >= 600
    assert max(offsets) <= 720
    assert max(offsets) - min(offsets) > 110  # really spread, not constant
    no_jitter = RefreshWindows(jitter=0).refresh_at(T0, expiry, rng)
    assert no_jitter == T0 + datetime.timedelta(seconds=600)


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    # 15 s doubled after each failure, capped at 300 s; a delay is drawn from [ceiling/2, ceiling].
    [
        (1, 7.5, 15),
        (2, 15, 30),
        (3, 30, 60),
        (4, 60, 120),
        (5, 120, 240),
        (6, 150, 300),
        (7, 150, 300),
        (30, 150, 300),
    ],
)
def test_backoff_doubles_and_is_capped(failures: int, low: float, high: float) -> None:
    windows = RefreshWindows()
    rng = random.Random(3)
    delays = [windows.retry_delay(failures, rng) for _ in range(200)]
    assert low <= min(delays)
    assert max(delays) <= high
    assert max(delays) - min(delays) > 0.8 * (high - low)  # spread over the whole range


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"advisory_fraction": 0}, "advisory_fraction"),
        ({"mandatory": -1}, "mandatory must be"),
        ({"advisory_max": 30}, "advisory_max must be"),
        ({"jitter": 1.5}, "jitter must be"),
        ({"backoff_initial": 0}, "backoff_initial"),
        ({"safety_margin": -1}, "safety_margin must be >= 0 and <= mandatory"),
        ({"safety_margin": 61}, "safety_margin must be >= 0 and <= mandatory"),
        ({"retry_initial": 0}, "retry_initial must be > 0"),
        ({"retry_initial": 40}, "retry_initial must be > 0 and <= retry_max"),
    ],
)
def test_bad_windows_are_rejected_with_the_parameter_named(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RefreshWindows(**kwargs)


def test_nothing_is_fetched_until_first_use() -> None:
    credentials, sts, _ = make()
    assert sts.calls == 0
    assert credentials.expiry_time is None
    credentials.get_frozen_credentials()
    assert sts.calls == 1


def test_short_credentials_are_not_refreshed_on_every_use() -> None:
    credentials, sts, clock = make(900)
    for _ in range(120):
        credentials.get_frozen_credentials()
        clock.advance(5)  # 10 minutes of use
    assert sts.calls == 1


def test_advisory_failure_keeps_the_keys_and_backs_off() -> None:
    credentials, sts, clock = make(900, RefreshWindows(jitter=0))
    first = credentials.get_frozen_credentials()
    clock.advance(601)
    sts.failing = RuntimeError("Throttling")
    assert credentials.get_frozen_credentials() == first
    assert sts.calls == 2
    for _ in range(10):
        assert credentials.get_frozen_credentials() == first
    assert sts.calls == 2  # no retry on every call
    clock.advance(16)
    credentials.get_frozen_credentials()
    assert sts.calls == 3
    sts.failing = None
    clock.advance(31)
    assert credentials.get_frozen_credentials() != first
    assert sts.calls == 4


def test_a_mandatory_failure_keeps_usable_keys_raises_past_the_margin_then_recovers() -> None:
    credentials, sts, clock = make(900)
    first = credentials.get_frozen_credentials()
    clock.advance(845)  # 55 s left: inside the mandatory window, outside the 15 s margin
    sts.failing = RuntimeError("Throttling")
    assert credentials.get_frozen_credentials() == first  # the failure costs the caller nothing
    assert sts.calls == 2
    clock.advance(41)  # 14 s left: inside the safety margin, the pause (<= 1 s) is over
    with pytest.raises(RuntimeError, match="Throttling"):
        credentials.get_frozen_credentials()
    assert sts.calls == 3
    with pytest.raises(RuntimeError, match="Throttling"):  # at once, a copy: no new attempt
        credentials.get_frozen_credentials()
    assert sts.calls == 3
    sts.failing = None
    clock.advance(2)  # the second urgent pause is at most 2 s
    credentials.get_frozen_credentials()
    assert sts.calls == 4
    assert credentials.expiry_time == clock.now + datetime.timedelta(seconds=900)


def test_backoff_never_passes_the_mandatory_point() -> None:
    credentials, sts, clock = make(900, RefreshWindows(jitter=0, backoff_initial=300))
    first = credentials.get_frozen_credentials()
    clock.advance(800)  # advisory, 40 s before the mandatory point
    sts.failing = RuntimeError("5xx")
    credentials.get_frozen_credentials()
    clock.advance(41)  # past mandatory, well before the 150-300 s back-off ends
    assert credentials.get_frozen_credentials() == first  # tried, failed, keys still usable
    assert sts.calls == 3


def test_already_expired_keys_from_sts_are_an_error() -> None:
    credentials, _, _ = make(-10)
    with pytest.raises(AssumeRoleError, match="already expired") as raised:
        credentials.get_frozen_credentials()
    assert raised.value.error_code == INVALID_RESPONSE


def test_clear_forgets_the_keys() -> None:
    credentials, sts, _ = make()
    credentials.get_frozen_credentials()
    credentials.clear()
    assert credentials.expiry_time is None
    credentials.get_frozen_credentials()
    assert sts.calls == 2


def test_refresh_needed_keeps_botocores_meaning_with_an_explicit_window() -> None:
    credentials, _, clock = make(900)
    credentials.get_frozen_credentials()
    assert credentials.refresh_needed() is False
    assert credentials.refresh_needed(1000) is True
    clock.advance(720)
    assert credentials.refresh_needed() is True


def test_repr_names_the_role_but_no_key() -> None:
    credentials, _, _ = make()
    frozen = credentials.get_frozen_credentials()
    assert ROLE in repr(credentials)
    assert frozen.secret_key not in repr(credentials)
    assert frozen.token not in str(credentials)


# --- outages: one call per simulated second, STS failing from 300 s before expiry ---------


class Outage(NamedTuple):
    raised: list[float]  # the keys' time left (s) at each failed call; -1: none left
    calls_to_sts: int  # attempts made while STS was failing
    last_failure_after_recovery: float  # seconds after STS came back; 0: none
    lowest_left_at_use: float  # the least time left on keys a call was given


def outage(seconds: int, seed: int, windows: RefreshWindows | None = None) -> Outage:
    """900 s keys; STS fails from 300 s before expiry for ``seconds``; calls go on 5 min more."""
    credentials, sts, clock = make(900, windows, seed=seed)
    credentials.get_frozen_credentials()
    clock.advance(600)
    sts.failing = AssumeRoleError.from_code(ROLE, "InternalFailure", "injected")
    before = sts.calls
    raised: list[float] = []
    errors: list[AssumeRoleError] = []
    lowest = float("inf")
    last_failure = 0.0
    for second in range(seconds + 300):
        if second == seconds:
            sts.failing = None
            attempts = sts.calls - before
        try:
            frozen = credentials.get_frozen_credentials()
        except AssumeRoleError as error:
            errors.append(error)
            expiry = credentials.expiry_time
            raised.append((expiry - clock.now).total_seconds() if expiry else -1)
            if second >= seconds:
                last_failure = second - seconds + 1
        else:
            assert frozen.access_key.startswith("ASIA")
            expiry = credentials.expiry_time
            assert expiry is not None
            lowest = min(lowest, (expiry - clock.now).total_seconds())
        clock.advance(1)
    # Each failed call names the role and STS's code.
    assert all(e.error_code == "InternalFailure" and ROLE in str(e) for e in errors)
    return Outage(raised, attempts, last_failure, lowest)


@pytest.mark.parametrize("seed", range(20))
def test_a_three_minute_outage_costs_callers_nothing_and_at_most_a_dozen_attempts(
    seed: int,
) -> None:
    result = outage(180, seed)
    assert result.raised == []
    assert 1 <= result.calls_to_sts <= 12
    assert result.lowest_left_at_use > RefreshWindows().safety_margin


@pytest.mark.parametrize("seed", range(20))
def test_a_thirty_minute_outage_fails_only_past_the_margin_and_recovers_within_the_cap(
    seed: int,
) -> None:
    windows = RefreshWindows()
    result = outage(1800, seed)
    assert result.raised, "the keys ran out during the outage: calls must fail"
    # No call failed while the keys had more than the safety margin left...
    assert max(result.raised) <= windows.safety_margin
    # ... none was given keys inside it: nothing is signed with expired keys.
    assert result.lowest_left_at_use > windows.safety_margin
    # Tens of attempts over 30 minutes (one per pause of 1 s growing to 30 s), not one per call.
    assert result.calls_to_sts <= 150
    # Callers work again within one pause of STS's recovery.
    assert result.last_failure_after_recovery <= windows.retry_max + 1


def test_after_a_failure_the_keys_are_served_until_the_margin_and_never_inside_it() -> None:
    credentials, sts, clock = make(900)
    first = credentials.get_frozen_credentials()
    clock.advance(884)  # 16 s left
    sts.failing = RuntimeError("5xx")
    assert credentials.get_frozen_credentials() == first
    clock.advance(0.5)  # 15.5 s left, still more than the margin
    assert credentials.get_frozen_credentials() == first
    clock.advance(0.5)  # 15 s left: not usable any more
    with pytest.raises(RuntimeError, match="5xx"):
        credentials.get_frozen_credentials()


def test_one_attempt_per_pause_and_the_pause_grows_to_its_cap() -> None:
    windows = RefreshWindows()
    credentials, sts, clock = make(900, windows)
    sts.failing = RuntimeError("down")
    times: list[float] = []
    for second in range(600):  # ten minutes with no keys, a call every second
        before = sts.calls
        with pytest.raises(RuntimeError, match="down"):
            credentials.get_frozen_credentials()
        if sts.calls > before:
            times.append(second)
        clock.advance(1)
    pauses = [b - a for a, b in itertools.pairwise(times)]
    assert max(pauses) <= windows.retry_max + 1
    assert pauses[:3] == sorted(pauses[:3])  # growing
    assert 20 <= len(times) <= 600 / (windows.retry_max / 2) + 10
    # The first attempt has botocore's retries (urgent); later ones one short attempt each.
    assert sts.modes[0] == "urgent"
    assert set(sts.modes[1:]) == {"retry"}


def test_the_first_success_resets_the_pause() -> None:
    credentials, sts, clock = make(900)
    sts.failing = RuntimeError("down")
    for _ in range(8):  # pauses grow to 30 s
        with pytest.raises(RuntimeError):
            credentials.get_frozen_credentials()
        clock.advance(31)
    sts.failing = None
    credentials.get_frozen_credentials()
    clock.advance(886)  # 14 s left on the new keys, and STS fails again
    sts.failing = RuntimeError("again")
    calls = sts.calls
    with pytest.raises(RuntimeError, match="again"):
        credentials.get_frozen_credentials()
    clock.advance(1)  # the pause starts from 1 s again, not from 30 s
    with pytest.raises(RuntimeError, match="again"):
        credentials.get_frozen_credentials()
    assert sts.calls == calls + 2


def test_keys_arriving_inside_the_safety_margin_are_a_failed_attempt() -> None:
    credentials, sts, _ = make(10)
    with pytest.raises(AssumeRoleError, match=r"expire in 10\.0 s, inside the 15 s safety margin"):
        credentials.get_frozen_credentials()
    with pytest.raises(AssumeRoleError, match="safety margin"):  # a copy: no second fetch yet
        credentials.get_frozen_credentials()
    assert sts.calls == 1


def test_a_caller_with_a_deadline_gets_the_last_error_at_once_during_the_pause() -> None:
    credentials, sts, _ = make(900)
    sts.failing = RuntimeError("down")
    with pytest.raises(RuntimeError):
        credentials.get_frozen_credentials()
    with bound(Countdown(30.0, clock=ManualClock())), pytest.raises(RuntimeError, match="down"):
        credentials.get_frozen_credentials()
    assert sts.calls == 1


def test_a_failed_refresh_with_usable_keys_logs_one_warning_per_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="lambda_assume_role")
    credentials, sts, clock = make(900)
    credentials.get_frozen_credentials()
    clock.advance(850)
    sts.failing = RuntimeError("5xx")
    for _ in range(30):  # 30 calls over the next 30 s, keys usable throughout
        credentials.get_frozen_credentials()
        clock.advance(1)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == sts.calls - 1  # one per failed attempt
    assert all("Mandatory credential refresh" in r.getMessage() for r in warnings)
    assert all("keeping the current credentials" in r.getMessage() for r in warnings)
