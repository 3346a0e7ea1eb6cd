"""Time for tests: clocks that move only when the test moves them, and real time measured honestly.

A deadline, a refresh window or a back-off is tested on an injected clock, never by
sleeping: `ManualClock` for what reads a monotonic clock (`Countdown(clock=...)`,
the Lambda contexts of `tests.support.contexts`), `WallClock` for what reads the
time of day (``AssumeRoleCredentials(time_fetcher=...)``); time-machine for code
that calls ``datetime.now()`` itself.

Some waits must really pass: a socket held open by the fault proxy ends only when
botocore's timeout fires. `Stopwatch` measures those, and a test asserts only an
upper bound the code under test enforces plus `SLACK`, never a lower or a tight
one: a loaded machine (``tests/stress.sh``) makes every real wait longer.

Example:
    >>> clock = ManualClock()
    >>> start = clock()
    >>> clock.advance(2.5)
    >>> clock() - start
    2.5
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from types import TracebackType

__all__ = ["HANG", "SLACK", "ManualClock", "RunClock", "Stopwatch", "WallClock"]

SLACK = 10.0
"""Seconds added to a real-time upper bound: room for a machine busy with other work."""

HANG = 60.0
"""Real seconds after which a test's own wait (work held until the test lets it go, a run
waiting on a clock nothing moves) counts as hung."""


class ManualClock:
    """A monotonic clock, in seconds, that moves only by `advance`.

    Args:
        start: Its first reading; not 0, so that code treating 0 as "unset" shows up.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward; a monotonic clock never goes back."""
        if seconds < 0:
            raise ValueError(f"a monotonic clock never goes back; got {seconds}")
        self.now += seconds


class WallClock:
    """An aware UTC time of day that moves only by `advance`: a ``time_fetcher``.

    Example:
        >>> clock = WallClock(datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc))
        >>> clock.advance(90)
        >>> clock().isoformat()
        '2026-11-23T12:01:30+00:00'
    """

    def __init__(self, start: datetime.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a WallClock needs an aware start time")
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += datetime.timedelta(seconds=seconds)


class Stopwatch:
    """Real seconds a ``with`` block took (`time.perf_counter`), read after the block.

    For the waits that really pass; assert only ``watch.seconds < bound + SLACK``.
    Read inside the block, ``seconds`` is NaN, which fails every comparison.

    Example:
        >>> with Stopwatch() as watch:
        ...     pass
        >>> 0 <= watch.seconds < SLACK
        True
    """

    def __init__(self) -> None:
        self.seconds = math.nan
        self._started = math.nan

    def __enter__(self) -> Stopwatch:
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seconds = time.perf_counter() - self._started


class RunClock:
    """fan_out's clock in these tests (`lambda_assume_role.fanout.clock.Clock`): virtual seconds.

    It moves only when work spends time (`spend`) or a worker pauses between AssumeRole
    attempts (the pause passes at once, and is recorded in `pauses`). Work that runs at the
    same time adds up, so the clock runs ahead of the run loop by at most ``max_workers``
    times one target's seconds. The run's wait for its workers blocks, in real time, until a
    worker reports or this clock has reached the wait's end. Thread-safe: workers move it.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.pauses: list[tuple[float, float]] = []  # (when, seconds), from the start
        self._now = start
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def elapsed(self) -> float:
        return self.monotonic() - self.start

    def spend(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def pause(self, seconds: float, interrupt: threading.Event) -> bool:
        if interrupt.is_set():
            return True
        with self._lock:
            self.pauses.append((self._now - self.start, seconds))
            self._now += seconds
        return interrupt.is_set()

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        end = None if seconds is None else self.monotonic() + seconds
        hung = time.monotonic() + HANG
        while not event.wait(0.002):
            if end is not None and self.monotonic() >= end:
                return False
            if time.monotonic() > hung:
                raise AssertionError("the run waited on a clock that nothing moved")
        return True
