"""The refresh policy on a simulated clock, with a fake fetch (no network)."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest

from lambda_assume_role.errors import INVALID_RESPONSE, AssumeRoleError
from lambda_assume_role.refresh import AssumeRoleCredentials, RefreshWindows
from tests.support.clocks import WallClock

T0 = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/Policy"


class FakeSTS:
    """Returns fresh keys valid for ``lifetime`` seconds, or raises when told to."""

    def __init__(self, clock: WallClock, lifetime: int = 900) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.failing: Exception | None = None

    def __call__(self, advisory: bool = False) -> dict[str, Any]:
        self.calls += 1
        if self.failing is not None:
            raise self.failing
        return {
            "access_key": f"ASIA{self.calls:016d}",
            "secret_key": f"secret-{self.calls}",
            "token": f"token-{self.calls}",
            "expiry_time": self.clock.now + datetime.timedelta(seconds=self.lifetime),
        }


def make(
    lifetime: int = 900, windows: RefreshWindows | None = None
) -> tuple[AssumeRoleCredentials, FakeSTS, WallClock]:
    clock = WallClock(T0)
    sts = FakeSTS(clock, lifetime)
    credentials = AssumeRoleCredentials(
        sts,
        role_arn=ROLE,
        windows=windows or RefreshWindows(),
        time_fetcher=clock,
        rng=random.Random(7),
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


def test_mandatory_failure_raises_and_the_next_use_recovers() -> None:
    credentials, sts, clock = make(900)
    credentials.get_frozen_credentials()
    clock.advance(845)
    sts.failing = RuntimeError("Throttling")
    with pytest.raises(RuntimeError, match="Throttling"):
        credentials.get_frozen_credentials()
    sts.failing = None
    credentials.get_frozen_credentials()
    assert credentials.expiry_time == clock.now + datetime.timedelta(seconds=900)


def test_backoff_never_passes_the_mandatory_point() -> None:
    credentials, sts, clock = make(900, RefreshWindows(jitter=0, backoff_initial=300))
    credentials.get_frozen_credentials()
    clock.advance(800)  # advisory, 40 s before the mandatory point
    sts.failing = RuntimeError("5xx")
    credentials.get_frozen_credentials()
    clock.advance(41)  # past mandatory, well before the 150-300 s back-off ends
    with pytest.raises(RuntimeError):
        credentials.get_frozen_credentials()
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
