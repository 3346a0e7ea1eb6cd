"""durable_fan_out under AWS's durable runner (real checkpoints and replay) with moto's STS.

Accounts are made up (moto's STS answers AssumeRole into any account id). Each
batch's `fan_out` runs on a virtual clock (`fan_out(clock=...)`, passed through):
``work`` spends one virtual second per target, and the runner's Lambda context
reports a fixed time left, so each batch step gets a few virtual seconds per
invocation and what it leaves goes to the next round, after a wait that ends the
invocation. Every test counts ``work`` calls per target across all invocations
and replays.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import Target
from tests.functional.durable.harness import (
    DurableContext,
    durable_execution,
    outcome,
    run,
    time_left,
)
from tests.support.clocks import RunClock

CHECKPOINT_LIMIT = 256 * 1024  # one operation's checkpointed payload
BATCHED_LIMIT = 750 * 1024  # one checkpoint call: the SDK batches operations' updates up to it


class Ledger:
    """What ran: ``work`` calls per target, handler invocations, checkpoint payload sizes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.invocations = 0
        self.largest_payload = 0  # one operation's checkpointed payload, bytes
        self.largest_operation = ""  # which operation that was
        self.largest_call = 0  # one checkpoint call (the operation updates the SDK batched)
        self.checkpoints = 0

    def work(self, clock: RunClock, *, fail: str | None = None) -> Any:
        def work(session: Any, target: Target) -> Any:
            with self.lock:
                self.calls[target.account_id] += 1
            clock.spend(1.0)
            if target.account_id == fail:
                raise RuntimeError(f"no inventory in {target.account_id}")
            return {"account": target.account_id, "region": session.region_name}

        return work


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """A ledger that also measures every checkpoint the runner receives."""
    from aws_durable_execution_sdk_python_testing.client import InMemoryServiceClient

    found = Ledger()
    checkpoint = InMemoryServiceClient.checkpoint

    def measured(self: Any, *args: Any, **kwargs: Any) -> Any:
        updates = kwargs["updates"] if "updates" in kwargs else args[2]
        sizes = [len((update.payload or "").encode()) for update in updates]
        whole = len(json.dumps([update.to_dict() for update in updates], default=str).encode())
        with found.lock:
            found.checkpoints += 1
            for size, update in zip(sizes, updates, strict=True):
                if size > found.largest_payload:
                    found.largest_payload = size
                    found.largest_operation = f"{update.operation_type.value} {update.name!r}"
            found.largest_call = max(found.largest_call, whole)
        return checkpoint(self, *args, **kwargs)

    monkeypatch.setattr(InMemoryServiceClient, "checkpoint", measured)
    return found


def accounts(count: int, start: int = 300000000000) -> list[str]:
    return [str(start + index) for index in range(count)]


def handler_for(ledger: Ledger, parent: boto3.Session, **options: Any) -> Any:
    """A durable handler: ``durable_fan_out`` over the event's accounts, counting invocations."""

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        from lambda_assume_role.durable import durable_fan_out

        with ledger.lock:
            ledger.invocations += 1
        return durable_fan_out(context, work, event["accounts"], parent=parent, **options)

    work = options.pop("work")

    return handler


def test_sixty_accounts_spread_over_rounds_each_completed_exactly_once(
    parent: boto3.Session,
    requests_log: RequestLog,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time_left(monkeypatch, 13.0)  # reserve 10: three virtual seconds per batch and invocation
    clock = RunClock()
    names = accounts(60)
    handler = handler_for(
        ledger,
        parent,
        work=ledger.work(clock),
        role_name="Auditor",
        batch_size=10,
        max_concurrency=1,
        max_workers=1,
        clock=clock,
        results="all",
    )

    summary = outcome(run(handler, {"accounts": names}))

    completed = [item["target"]["account_id"] for item in summary.pop("completed")]
    assert sorted(completed) == names
    assert ledger.calls == Counter(dict.fromkeys(names, 1))
    assert summary.pop("failures") == []
    assert summary["succeeded"] == 60
    assert summary["remaining"] == summary["given_up"] == 0
    assert summary["failed_assume"] == summary["failed_work"] == summary["failed_batch"] == 0
    assert summary["targets"] == 60
    assert summary["reason"] == "done"
    assert summary["rounds"] >= 3
    assert ledger.invocations == summary["rounds"]  # each round after the first: a new one
    assert requests_log.count("AssumeRole") == 60


def test_a_fault_in_one_account_is_one_failure_record_and_nothing_is_redone(
    parent: boto3.Session, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_left(monkeypatch, 14.0)
    clock = RunClock()
    names = accounts(30)
    broken = names[7]
    handler = handler_for(
        ledger,
        parent,
        work=ledger.work(clock, fail=broken),
        batch_size=10,
        max_concurrency=1,
        max_workers=1,
        clock=clock,
        results="failures",
    )

    summary = outcome(run(handler, {"accounts": names}))

    (failure,) = summary.pop("failures")
    assert failure == {
        "target": {"account_id": broken, "region": "us-east-1"},
        "phase": "work",
        "error_code": "RuntimeError",
        "message": f"RuntimeError: no inventory in {broken}",
    }
    assert summary["succeeded"] == 29
    assert summary["failed_work"] == 1
    assert summary["rounds"] >= 2
    assert ledger.calls == Counter(dict.fromkeys(names, 1))


def test_a_batch_step_that_fails_is_not_retried_and_its_finished_targets_are_not_redone(
    parent: boto3.Session, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lambda_assume_role.durable.fan_out as room

    time_left(monkeypatch, 14.0)
    clock = RunClock()
    names = accounts(30)
    crash_at = names[12]  # the third target of the second batch: two finished before it
    recorded = room._refusal

    def crash(outcome: Any, parent: Any, limit: int) -> Any:
        # The step breaks after the work ran, as an invocation that dies mid-step does.
        if outcome.target.account_id == crash_at:
            raise SystemError("the batch step broke")
        return recorded(outcome, parent, limit)

    monkeypatch.setattr(room, "_refusal", crash)
    handler = handler_for(
        ledger,
        parent,
        work=ledger.work(clock),
        batch_size=10,
        max_concurrency=1,
        max_workers=1,
        clock=clock,
        results="failures",
    )

    result = run(handler, {"accounts": names})
    summary = outcome(result)

    failures = summary.pop("failures")
    batch = names[10:20]
    assert [failure["target"]["account_id"] for failure in failures] == batch
    assert {(failure["phase"], failure["error_code"]) for failure in failures} == {
        ("batch", "StepError")
    }
    assert failures[0]["message"] == "StepError: the batch step broke"
    assert summary["failed_batch"] == 10
    assert summary["succeeded"] == 20
    # The failed batch ran each of its targets at most once (those before the crash),
    # and no round ran any of them again; every other target ran once.
    assert all(ledger.calls[name] == 1 for name in names[:10] + names[20:])
    assert all(ledger.calls[name] <= 1 for name in batch)
    assert sum(ledger.calls[name] for name in batch) == 3
    steps = [op for op in walk(result.operations) if op.name == "fan-out round 1 batch 1"]
    assert [(op.operation_type.name, op.status.name) for op in steps] == [
        ("CONTEXT", "FAILED"),
        ("STEP", "FAILED"),
    ]
    assert steps[1].attempt == 1  # no retry


def test_a_thousand_accounts_finish_over_several_invocations_with_small_checkpoints(
    parent: boto3.Session,
    requests_log: RequestLog,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    time_left(monkeypatch, 30.0)  # twenty virtual seconds per batch and invocation
    clock = RunClock()
    names = accounts(1000)
    handler = handler_for(
        ledger,
        parent,
        work=ledger.work(clock),
        batch_size=25,
        max_concurrency=1,
        max_workers=1,
        clock=clock,
    )
    started = time.monotonic()

    summary = outcome(run(handler, {"accounts": names}))

    seconds = time.monotonic() - started
    assert summary["succeeded"] == 1000
    assert summary["remaining"] == 0
    assert "completed" not in summary
    assert len(json.dumps(summary)) < 1024
    assert ledger.calls == Counter(dict.fromkeys(names, 1))
    assert requests_log.count("AssumeRole") == 1000
    assert summary["rounds"] >= 3
    assert ledger.invocations == summary["rounds"]
    assert 0 < ledger.largest_payload < CHECKPOINT_LIMIT
    assert ledger.largest_call <= BATCHED_LIMIT
    with capsys.disabled():
        print(
            f"\ndurable_fan_out, 1,000 accounts: {ledger.invocations} invocations, "
            f"{summary['rounds']} rounds, {summary['batches']} batch steps, "
            f"{ledger.checkpoints} checkpoint calls; largest operation payload "
            f"{ledger.largest_payload:,} bytes ({ledger.largest_operation}), largest checkpoint "
            f"call {ledger.largest_call:,} bytes (limits {CHECKPOINT_LIMIT:,}, and "
            f"{BATCHED_LIMIT:,} for the SDK's batched calls); {seconds:.1f} s"
        )


def test_more_failures_than_tolerated_fail_the_execution_with_the_counts(
    parent: boto3.Session, ledger: Ledger
) -> None:
    clock = RunClock()
    names = accounts(12)
    handler = handler_for(
        ledger,
        parent,
        work=ledger.work(clock, fail=names[3]),
        batch_size=5,
        clock=clock,
        tolerated_failure_count=0,
    )

    result = run(handler, {"accounts": names})

    assert result.status.value == "FAILED"
    assert result.error is not None
    assert result.error.type.endswith("DurableFanOutError")
    message = str(result.error.message)
    assert message.startswith("more targets failed than tolerated: ")
    assert '"failed_work": 1' in message
    assert '"reason": "failures"' in message
    assert '"succeeded": 11' in message


def test_invocations_that_leave_less_than_the_reserve_stop_after_three_idle_rounds(
    parent: boto3.Session,
    requests_log: RequestLog,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time_left(monkeypatch, 5.0)  # less than reserve=10: no target may start
    clock = RunClock()

    result = run(
        handler_for(ledger, parent, work=ledger.work(clock), clock=clock),
        {"accounts": accounts(3)},
    )

    assert result.status.value == "FAILED"
    assert result.error is not None
    message = str(result.error.message)
    assert message.startswith("3 rounds in a row finished no target: each invocation leaves")
    assert '"reason": "stalled"' in message
    assert '"remaining": 3' in message
    assert ledger.invocations == 3
    assert not ledger.calls
    assert requests_log.count("AssumeRole") == 0


def test_a_value_that_cannot_be_checkpointed_is_that_targets_failure_not_the_batchs(
    parent: boto3.Session, ledger: Ledger
) -> None:
    names = accounts(5)
    values: dict[str, Any] = {
        names[0]: {"not": {"json"}},
        names[1]: "x" * 2000,  # VALUE_BUDGET // 100 is 1,800 bytes per value
        names[2]: {"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
    }

    def work(session: Any, target: Target) -> Any:
        with ledger.lock:
            ledger.calls[target.account_id] += 1
        return values.get(target.account_id, target.account_id)

    handler = handler_for(
        ledger, parent, work=work, batch_size=100, results="failures", max_workers=1
    )

    summary = outcome(run(handler, {"accounts": names}))

    failures = {item["target"]["account_id"]: item for item in summary["failures"]}
    assert sorted(failures) == names[:3]
    assert {item["phase"] for item in failures.values()} == {"work"}
    assert failures[names[0]]["error_code"] == "TypeError"
    assert "work must return JSON data" in failures[names[0]]["message"]
    assert "over its 1800-byte share of a batch checkpoint" in failures[names[1]]["message"]
    assert failures[names[2]]["error_code"] == "CredentialCheckpointError"
    assert "wJalrXUtnFEMI" not in json.dumps(summary)
    assert summary["succeeded"] == 2
    assert summary["failed_work"] == 3
    assert summary["failed_batch"] == 0
    assert ledger.calls == Counter(dict.fromkeys(names, 1))


def walk(operations: list[Any]) -> Iterator[Any]:
    for operation in operations:
        yield operation
        yield from walk(getattr(operation, "child_operations", None) or [])
