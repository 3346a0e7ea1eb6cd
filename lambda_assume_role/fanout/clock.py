"""The clock a fan-out run reads and waits with: the system's, or one a test moves.

A run reads a monotonic clock for its deadline, its targets' durations (the
p95 start rule) and its summary; it waits on it for its workers' reports, up
to the stop line; and its workers pause on it between throttled AssumeRole
attempts. `SYSTEM_CLOCK` is `time.monotonic` and `threading.Event.wait`.

``fan_out(clock=...)`` takes another `Clock`: a test seam, so that tests drive
the scheduling rules (the p95 start rule, the stop line, back-offs cut at the
stop line) on a clock they move themselves, instead of sleeping and asserting
on wall time. Nothing else should need it.

Example:
    >>> import threading
    >>> ended = threading.Event()
    >>> ended.set()
    >>> SYSTEM_CLOCK.pause(60, ended)  # returns at once: the run has ended
    True
    >>> SYSTEM_CLOCK.wait(threading.Event(), 0)  # no report came in time
    False
    >>> isinstance(SYSTEM_CLOCK, Clock)
    True
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What a fan-out run reads time from and waits with (a test seam; see the module)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        """Block until ``event`` is set (True) or ``seconds`` have passed on this clock (False).

        ``seconds`` None waits without limit. The run waits for its workers'
        reports with it, so a test's clock must keep blocking until the event
        is set or its own time has reached the end.
        """
        ...

    def pause(self, seconds: float, interrupt: threading.Event) -> bool:
        """Let ``seconds`` pass, unless ``interrupt`` is set first (then True).

        A worker's back-off between AssumeRole attempts: time that passes by
        itself, which a test's clock may let pass at once.
        """
        ...


class SystemClock:
    """The real clock: `time.monotonic`, and `threading.Event.wait` for both waits."""

    def monotonic(self) -> float:
        """`time.monotonic`."""
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        """``event.wait(seconds)``."""
        return event.wait(seconds)

    def pause(self, seconds: float, interrupt: threading.Event) -> bool:
        """``interrupt.wait(seconds)``."""
        return interrupt.wait(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK: Clock = SystemClock()
"""The clock every run uses unless a test gives ``fan_out`` another."""
