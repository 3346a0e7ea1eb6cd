"""`durable_fan_out`: org-wide work in a durable function, in rounds, each target exactly once.

`lambda_assume_role.fan_out` does as much as one invocation's deadline allows
and lists the rest in ``remaining``. A durable function can carry that rest
over: each **round** is one ``context.map`` over batches of the targets, each
**batch** one ``context.step`` running `fan_out` with its map branch's
deadline; what a round leaves (the deadline came) waits out
``context.wait(wait_seconds)``, which ends the invocation, and the next
invocation replays the finished steps from their checkpoints and runs the
next round, until no target remains.

Why it is shaped this way:

* **Exactly once across replays and retries.** A batch step's checkpoint
  says what became of each of its targets: completed (with its value),
  failed (a record) or remaining; only the remaining go to the next round.
  A failed target is a record, never an exception, so a batch step raises
  only when something breaks under it (the invocation dies mid-step): it is
  then not retried (no retries, ``AT_MOST_ONCE_PER_RETRY``: its work may
  have partly run), and its targets are failures in phase ``"batch"``, each
  run at most once, never again.
* **Checkpoints stay small whatever the number of targets.** A batch's
  record holds at most ``batch_size`` (up to 100) targets and values, plain
  JSON; each value's JSON may take at most 1/``batch_size`` of
  `VALUE_BUDGET`, and a value over its share, not plain JSON, or holding a
  credential (`lambda_assume_role.checkpoint_guard.check_value`) is that
  target's failure, in phase ``"work"``, not the batch's. Large results
  belong in S3: write them from ``work`` and return a pointer. No step holds
  every value; a round's map beyond a checkpoint's size is checkpointed by
  the SDK as a summary and rebuilt from the batches' checkpoints.
* **Failures tolerated, counted in targets**: ``tolerated_failure_count``
  and ``tolerated_failure_percentage``, named as in Step Functions' Map state
  and the SDK's ``CompletionConfig``, count failed *targets* (every phase,
  a failed batch's targets included), checked after each round;
  more than tolerated raises `DurableFanOutError`, which fails the
  execution. By default every failure is tolerated, unlike the SDK's
  fail-fast map: one account without the role is a record in an org-wide
  job, as in `fan_out`. The map runs every batch: a batch is not the unit a
  caller tolerates.

``work(session, target)`` must return JSON data (dicts, lists, strings, numbers,
booleans, None). ``targets`` must be the same at every replay (from the event, or
a step's result), as every durable operation's input must be.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.redact import redact_text
from lambda_assume_role.retry import describe_error, error_code

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.fanout import FanOutRun, Outcome, Target

__all__ = ["VALUE_BUDGET", "DurableFanOutError", "durable_fan_out"]

VALUE_BUDGET = 180_000
"""Bytes of JSON a batch's values may take, 1/``batch_size`` each: with 100 failure records
(messages cut to 300 characters) beside them, a record stays under a checkpoint's 256 KiB."""

_MAX_BATCH = 100
_MESSAGE_LIMIT = 300
_IDLE_ROUNDS = 3  # rounds in a row that finish nothing before the job is called stalled
_COUNTS = ("succeeded", "failed_assume", "failed_work", "failed_target", "failed_batch")
_TALLIES = (*_COUNTS, "given_up", "malformed_at_close")

Results = Literal["summary", "failures", "all"]
Record = dict[str, Any]


class DurableFanOutError(RuntimeError):
    """A durable fan-out ended early; ``summary``: the counts so far, ``reason`` why
    (``"failures"``: more than tolerated; ``"stalled"``: no progress)."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        counts = {key: value for key, value in summary.items() if not isinstance(value, list)}
        super().__init__(f"{message}: {json.dumps(counts, sort_keys=True)}")
        self.summary = summary


def durable_fan_out(
    context: Any,
    work: Callable[[boto3.Session, Target], Any],
    targets: Iterable[Any],
    *,
    role_name: str | None = None,
    role_arn: Callable[[Target], str] | None = None,
    regions: Sequence[str] | Literal["enabled"] | None = None,
    batch_size: int = 25,
    max_concurrency: int | None = 4,
    reserve: float = 10.0,
    parent: boto3.Session | None = None,
    tolerated_failure_count: int | None = None,
    tolerated_failure_percentage: float | None = None,
    wait_seconds: int = 1,
    results: Results = "summary",
    name: str = "fan-out",
    **assume_role_kwargs: Any,
) -> dict[str, Any]:
    """Run ``work`` in every target, in rounds of ``context.map`` over batches, until none remain.

    Call it from a ``@durable_execution`` handler with its ``DurableContext``;
    it returns only when every target is done, possibly many invocations
    later (each round after the first runs in a new invocation, after a
    ``context.wait``). See `lambda_assume_role.durable.fan_out` for the
    guarantees and why.

    Args:
        context: The handler's ``DurableContext``.
        work: ``work(session, target) -> JSON data``, as for `fan_out`; keep
            the value small (a pointer to S3 for anything large).
        targets: Account ids, `Target`s or ``{"account_id", "region"}``
            mappings, the same at every replay; all read and checked at each
            call (the first malformed one is refused, nothing runs).
        role_name, role_arn, regions, reserve, parent, **assume_role_kwargs:
            As for `fan_out` (``role_name`` None: its default; ``max_workers=``
            and ``clock=`` too, for each batch); ``reserve`` is kept free
            before each invocation's deadline.
        batch_size: Targets per step, 1 to 100.
        max_concurrency: Batches of a round running at once (each with up to
            `fan_out`'s ``max_workers`` threads); None: all of them, as the
            SDK's map does by default.
        tolerated_failure_count: Failed targets tolerated; None: no limit.
        tolerated_failure_percentage: Failed targets tolerated, as a
            percentage (0 to 100) of the targets known after the round;
            None: no limit.
        wait_seconds: The wait between rounds (whole seconds, at least 1).
        results: What the summary holds besides its counts: ``"summary"``
            (nothing), ``"failures"`` (the failure records) or ``"all"``
            (also every completed target and its value: small runs only).
        name: The operations' name prefix (``"<name> round 2 batch 7"``).

    Returns:
        JSON: `FanOutSummary.as_dict`'s counts summed over the batches,
        ``failed_batch``, ``targets``, ``rounds``, ``batches``; ``failures``
        (``{"target", "phase", "error_code", "message"}``) and ``completed``
        (``{"target", "value"}``) as ``results`` asks.

    Raises:
        InvalidParameterError: An argument or a target breaks a rule (as
            `fan_out` checks them), before anything runs.
        DurableFanOutError: More failures than tolerated after a round, or
            three rounds in a row that finished nothing (each invocation
            leaves less than ``reserve``: raise the function's timeout).

    Example:
        A handler auditing every account of the organization (listed once, in
        a step, so that replays read the same list)::

            @durable_execution
            def handler(event, context):
                accounts = context.step(
                    lambda _: [t.account_id for t in organization_accounts()],
                    name="accounts")
                return durable_fan_out(
                    context, lambda session, target: len(
                        session.client("s3").list_buckets()["Buckets"]),
                    accounts, role_name="Auditor", regions=["us-east-1"],
                    tolerated_failure_percentage=5)

        The arguments are checked before anything is asked of the SDK:

        >>> durable_fan_out(None, print, ["111111111111"], batch_size=0)
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: batch_size must be an int from 1 to 100; \
got 0
    """
    _check(
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        wait_seconds=wait_seconds,
        results=results,
        tolerated_failure_count=tolerated_failure_count,
        tolerated_failure_percentage=tolerated_failure_percentage,
    )
    import boto3

    from lambda_assume_role.fanout import Target, fan_out

    parent = parent if parent is not None else boto3.Session()
    options: dict[str, Any] = dict(
        assume_role_kwargs, role_arn=role_arn, regions=regions, reserve=reserve, parent=parent
    )
    if role_name is not None:
        options["role_name"] = role_name
    specs = list(targets)
    # fan_out checks every argument and target now, in the handler's thread (a bad one
    # fails the execution, not a batch), and resolves the parent's credentials here
    # (boto3 sessions are not thread-safe on first use); the run is never started.
    fan_out(work, specs, context=context, **options)
    pending: list[dict[str, Any]] = [Target.parse(spec).as_dict() for spec in specs]
    runner = _Rounds(
        context=context,
        work=work,
        options=options,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        name=name,
        results=results,
        targets=len(pending),
    )
    idle = 0
    while pending:
        before = runner.finished()
        pending = runner.round(pending)
        idle = idle + 1 if runner.finished() == before else 0
        summary = runner.summary(len(pending))
        if _intolerable(summary, tolerated_failure_count, tolerated_failure_percentage):
            summary["reason"] = "failures"
            raise DurableFanOutError("more targets failed than tolerated", summary)
        if pending and idle >= _IDLE_ROUNDS:
            summary["reason"] = "stalled"
            raise DurableFanOutError(
                f"{idle} rounds in a row finished no target: each invocation leaves less "
                f"than reserve={reserve} s (raise the function's timeout)",
                summary,
            )
        if pending:
            from aws_durable_execution_sdk_python.config import Duration

            context.wait(Duration.from_seconds(wait_seconds), name=f"{name} wait {runner.rounds}")
    return runner.summary(0, final=True)


def _whole(value: Any, low: int, high: float = float("inf")) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check(**values: Any) -> None:
    rules: dict[str, tuple[Callable[[Any], bool], str]] = {
        "batch_size": (lambda v: _whole(v, 1, _MAX_BATCH), f"an int from 1 to {_MAX_BATCH}"),
        "max_concurrency": (lambda v: v is None or _whole(v, 1), "an int >= 1 or None"),
        "wait_seconds": (lambda v: _whole(v, 1), "an int >= 1"),
        "results": (lambda v: v in ("summary", "failures", "all"), "summary, failures or all"),
        "tolerated_failure_count": (lambda v: v is None or _whole(v, 0), "an int >= 0 or None"),
        "tolerated_failure_percentage": (
            lambda v: v is None or (type(v) in (int, float) and 0 <= v <= 100),
            "0 to 100 or None",
        ),
    }
    for name, value in values.items():
        test, rule = rules[name]
        if not test(value):
            raise InvalidParameterError(f"{name} must be {rule}; got {value!r}")


def _intolerable(summary: dict[str, Any], count: int | None, percentage: float | None) -> bool:
    failed = sum(summary[key] for key in _COUNTS[1:])
    known = failed + summary["succeeded"] + summary["remaining"]
    if count is not None and failed > count:
        return True
    return percentage is not None and known > 0 and failed * 100 / known > percentage


@dataclass(kw_only=True)
class _Rounds:
    """The rounds so far: what each batch's record says, summed; replayed rounds included."""

    context: Any
    work: Callable[..., Any]
    options: dict[str, Any]
    batch_size: int
    max_concurrency: int | None
    name: str
    results: Results
    rounds: int = 0
    batches: int = 0
    targets: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TALLIES, 0))
    seconds: float = 0.0
    failures: list[Record] = field(default_factory=list)
    completed: list[Record] = field(default_factory=list)

    def finished(self) -> int:
        return sum(self.counts[key] for key in _COUNTS)

    def round(self, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run (or replay) one round over ``pending``; return what it left."""
        from aws_durable_execution_sdk_python.config import (
            CompletionConfig,
            MapConfig,
            StepConfig,
            StepSemantics,
        )
        from aws_durable_execution_sdk_python.retries import RetryPresets
        from aws_durable_execution_sdk_python.serdes import DEFAULT_JSON_SERDES

        self.rounds += 1
        label = f"{self.name} round {self.rounds}"
        size = self.batch_size
        batches = [pending[at : at + size] for at in range(0, len(pending), size)]
        self.batches += len(batches)
        # Records are plain JSON: the SDK's default serdes would tag every value (2-3x).
        step_config = StepConfig(
            retry_strategy=RetryPresets.none(),
            step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
            serdes=DEFAULT_JSON_SERDES,
        )

        def branch(ctx: Any, batch: list[dict[str, Any]], index: int, _: Any) -> Record:
            record: Record = ctx.step(
                lambda _step: _run_batch(ctx, batch, self.work, self.options, VALUE_BUDGET // size),
                name=f"{label} batch {index}",
                config=step_config,
            )
            # The map's checkpoint holds every branch's result: only what the summary needs.
            drop = {"all": (), "failures": ("completed",)}.get(
                self.results, ("completed", "failed")
            )
            return {key: [] if key in drop else value for key, value in record.items()}

        outcome = self.context.map(
            batches,
            branch,
            name=label,
            config=MapConfig(
                max_concurrency=self.max_concurrency,
                # Every batch runs, as CompletionConfig.all_completed() says.
                completion_config=CompletionConfig(tolerated_failure_percentage=100),
                item_serdes=DEFAULT_JSON_SERDES,
                item_namer=lambda _batch, index: f"{label} batch {index}",
            ),
        )
        left: list[dict[str, Any]] = []
        records = {item.index: item.result for item in outcome.succeeded()}
        errors = {item.index: item.error for item in outcome.failed()}
        for index, batch in enumerate(batches):
            if index in records:
                left += self._add(records[index])
            else:  # failed, or (never seen) not finished: either way, not to be run again
                self._fail_batch(batch, errors.get(index))
        return left

    def _add(self, record: Record) -> list[dict[str, Any]]:
        for key, value in record["counts"].items():
            self.counts[key] += value
        self.seconds += record["seconds"]
        if self.results != "summary":
            self.failures += record["failed"]
        if self.results == "all":
            self.completed += record["completed"]
        return list(record["remaining"])

    def _fail_batch(self, batch: list[dict[str, Any]], error: Any) -> None:
        """A batch step that failed: its targets ran at most once, and will not run again."""
        self.counts["failed_batch"] += len(batch)
        if self.results == "summary":
            return
        kind = (getattr(error, "type", None) or "BatchFailed").rsplit(".", 1)[-1]
        text = getattr(error, "message", None) or "the batch step did not complete"
        message = redact_text(f"{kind}: {text}")[:_MESSAGE_LIMIT]
        self.failures += [
            {"target": target, "phase": "batch", "error_code": kind, "message": message}
            for target in batch
        ]

    def summary(self, remaining: int, *, final: bool = False) -> dict[str, Any]:
        summary: dict[str, Any] = {
            **self.counts,
            "remaining": remaining,
            "seconds": round(self.seconds, 3),
            "reason": "done" if final else "running",  # or, raised: "failures", "stalled"
            "targets": self.targets,
            "rounds": self.rounds,
            "batches": self.batches,
        }
        if self.results != "summary":
            summary["failures"] = self.failures
        if self.results == "all":
            summary["completed"] = self.completed
        return summary


def _run_batch(
    context: Any,
    batch: list[dict[str, Any]],
    work: Callable[..., Any],
    options: dict[str, Any],
    limit: int,
) -> Record:
    """One batch step: `fan_out` over ``batch`` by ``context``'s deadline, as a JSON record.

    Never raises for a target: a failure, or a value that cannot go into the
    checkpoint, is a record of that target.
    """
    from lambda_assume_role.fanout import fan_out

    run: FanOutRun = fan_out(work, batch, context=context, **options)
    completed: list[Record] = []
    failed: list[Record] = []
    counts = dict.fromkeys(_TALLIES, 0)
    with run:
        for outcome in run:
            refused = None if not outcome.ok else _refusal(outcome, options["parent"], limit)
            if outcome.ok and refused is None and outcome.target is not None:
                completed.append({"target": outcome.target.as_dict(), "value": outcome.value})
                counts["succeeded"] += 1
                continue
            phase = "work" if refused is not None else outcome.phase
            counts[f"failed_{phase}"] += 1
            failed.append(_failure(outcome, phase, refused or outcome.error))
    summary = run.summary
    counts["given_up"] = summary.given_up
    counts["malformed_at_close"] = summary.malformed_at_close
    return {
        "completed": completed,
        "failed": failed,
        "remaining": run.remaining,
        "counts": counts,
        "seconds": summary.seconds,
    }


def _refusal(outcome: Outcome, parent: Any, limit: int) -> Exception | None:
    """Why ``outcome.value`` cannot go into a checkpoint, or None."""
    from lambda_assume_role.checkpoint_guard import check_value

    try:
        text = json.dumps(outcome.value, allow_nan=False)
    except (TypeError, ValueError) as error:
        return TypeError(f"work must return JSON data: {error}")
    if len(text.encode()) > limit:
        return ValueError(
            f"work's value is {len(text.encode())} bytes of JSON, over its {limit}-byte share "
            "of a batch checkpoint: write large results to S3 and return a pointer"
        )
    try:
        check_value(outcome.value, f"the value of {outcome.target}", parents=[parent])
    except Exception as error:  # the guard's refusal names the rule, never the value
        return error
    return None


def _failure(outcome: Outcome, phase: Any, error: BaseException | None) -> Record:
    assert error is not None
    return {
        "target": None if outcome.target is None else outcome.target.as_dict(),
        "phase": phase,
        "error_code": error_code(error) or type(error).__name__,
        "message": describe_error(error)[:_MESSAGE_LIMIT],
    }
