"""What a fan-out run reports: its summary, its running p95, and its log lines.

One WARNING per failed target and one INFO summary per run go to the
``lambda_assume_role`` logger, with ``extra=`` fields that Powertools' Logger
carries as keys. An error is described by `lambda_assume_role.retry`
(`describe_error`, `error_code`), so no key, secret or token reaches a log.

Example:
    >>> summary = FanOutSummary(3, 1, 0, 1, 2, 1, 0, 1.5, "deadline")
    >>> summary.yielded, summary.as_dict()["remaining"]
    (5, 2)
    >>> p95([0.1] * 19 + [5.0]), p95([1.0, 2.0]), p95([])
    (0.1, 2.0, 0.0)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from lambda_assume_role.fanout.targets import Outcome
from lambda_assume_role.retry import describe_error, error_code

__all__ = ["FanOutSummary", "StopReason", "log_failure", "log_summary", "p95"]

logger = logging.getLogger("lambda_assume_role")

StopReason = Literal["done", "deadline", "closed", "error"]
"""Why a run's iteration ended (``"error"``: the targets iterable raised)."""


@dataclass(frozen=True)
class FanOutSummary:
    """What a run did, once its iteration has ended (`FanOutRun.summary`).

    Attributes:
        succeeded: Outcomes whose ``work`` returned.
        failed_assume: Outcomes with phase ``"assume"`` (no credentials, or no
            region list for ``regions="enabled"``).
        failed_work: Outcomes with phase ``"work"``.
        failed_target: Outcomes with phase ``"target"``: items of a lazily
            read ``targets`` that were not targets.
        remaining: Targets in `FanOutRun.remaining`.
        given_up: Of those, how many were in flight when the run ended.
        malformed_at_close: Items that were not targets, read while a run
            the caller closed early listed the rest of ``targets``: no
            outcome could be yielded for them any more, and they cannot be
            resumed, so they are counted here and logged (one WARNING each),
            in neither the outcomes nor `FanOutRun.remaining`.
        seconds: From the `fan_out` call to the end of iteration.
        reason: Why iteration ended: ``"done"`` (no target left),
            ``"deadline"``, ``"closed"`` (the caller stopped early) or
            ``"error"`` (the targets iterable raised: what it gave before
            is accounted for as always, nothing after it was read).

    Every item read from ``targets`` (each region of it, once expanded) is
    counted once: ``yielded + remaining + malformed_at_close``.
    """

    succeeded: int
    failed_assume: int
    failed_work: int
    failed_target: int
    remaining: int
    given_up: int
    malformed_at_close: int
    seconds: float
    reason: StopReason

    @property
    def yielded(self) -> int:
        """How many outcomes were yielded."""
        return self.succeeded + self.failed_assume + self.failed_work + self.failed_target

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (what a Step Functions worker returns).

        Example:
            >>> FanOutSummary(3, 1, 0, 0, 2, 1, 0, 1.5, "deadline").as_dict()["reason"]
            'deadline'
        """
        return asdict(self)


def p95(durations: Iterable[float]) -> float:
    """Nearest-rank 95th percentile; 0 for no durations (the start rule's estimate)."""
    ordered = sorted(durations)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def log_failure(outcome: Outcome) -> None:
    """One WARNING for a failed target: what failed, where, and in which phase.

    An item that is not a target (phase ``"target"``) has no account or
    region: its error names its position in ``targets``.
    """
    error = outcome.error
    assert error is not None
    target = outcome.target
    logger.warning(
        "Fan-out target %s failed in %s: %s",
        "(not a target)" if target is None else target,
        outcome.phase,
        describe_error(error),
        extra={
            "fan_out_target": None if target is None else str(target),
            "account_id": None if target is None else target.account_id,
            "region": None if target is None else target.region,
            "phase": outcome.phase,
            "error_type": type(error).__name__,
            "error_code": error_code(error),
            "seconds": round(outcome.seconds, 3),
        },
    )


def log_summary(summary: FanOutSummary) -> None:
    """One INFO line per run, its counts as ``fan_out_*`` fields."""
    logger.info(
        "Fan-out ended (%s) after %.1f s: %d succeeded, %d failed to assume, "
        "%d failed in work, %d not targets, %d remaining",
        summary.reason,
        summary.seconds,
        summary.succeeded,
        summary.failed_assume,
        summary.failed_work,
        summary.failed_target + summary.malformed_at_close,
        summary.remaining,
        extra={f"fan_out_{name}": value for name, value in summary.as_dict().items()},
    )
