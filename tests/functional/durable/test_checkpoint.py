"""No credential reaches a durable checkpoint: AWS's test runner (real checkpoints, replay), moto.

Each handler calls `protect(context)` first, as the decorator does inside
``@durable_execution``. A refused result fails its operation once, with a message
naming the operation and the rule; then everything the runner wrote (its store on
disk, the execution history with its data, the result) is searched for the keys.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

pytest.importorskip(
    "aws_durable_execution_sdk_python_testing",
    reason=(
        "the durable SDK and its test runner are not installed "
        "(they need boto3 >= 1.43.114; not on the floor)"
    ),
)

from aws_durable_execution_sdk_python import durable_execution
from aws_durable_execution_sdk_python.config import (
    ChildConfig,
    Duration,
    MapConfig,
    ParallelConfig,
    StepConfig,
)
from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.retries import RetryDecision
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)
from aws_durable_execution_sdk_python_testing.stores.filesystem import (
    FileSystemExecutionStore,
)

from lambda_assume_role import assume_role
from lambda_assume_role.checkpoint_guard import (
    LIVE_KEY,
    LOOKS_LIKE_A_CREDENTIAL,
    check_value,
    guarded,
    protect,
)
from tests.functional.durable.harness import RUN_LIMIT
from tests.support.clocks import SLACK

ROLE = "arn:aws:iam::111111111111:role/Inventory"
Handler = Callable[[Any, Any], Any]


@dataclass
class Run:
    result: DurableFunctionTestResult
    written: str  # everything the runner stored or reported: store files, history, result

    def operation(self, name: str) -> Any:
        found = [op for op in _walk(self.result.operations) if op.name == name]
        assert len(found) == 1, f"{name!r}: {[op.name for op in _walk(self.result.operations)]}"
        return found[0]

    def assert_absent(self, *secrets: str) -> None:
        for secret in secrets:
            assert len(secret) >= 16
            assert secret not in self.written


def _walk(operations: list[Any]) -> Iterator[Any]:
    for operation in operations:
        yield operation
        yield from _walk(getattr(operation, "child_operations", None) or [])


def run(handler: Handler, tmp_path: Path, functions: dict[str, Handler] | None = None) -> Run:
    """Run ``handler`` as a durable function to its end; ``functions`` are what it may invoke."""
    store_dir = tmp_path / "durable-store"
    store_dir.mkdir()
    with DurableFunctionTestRunner(
        handler=durable_execution(handler), store=FileSystemExecutionStore(store_dir)
    ) as runner:
        for name, function in (functions or {}).items():
            runner.register_function(name, function)
        arn = runner.run_async(input="{}", execution_timeout=RUN_LIMIT)
        result = runner.wait_for_result(arn, timeout=RUN_LIMIT)
        history = runner.get_execution_history(arn, include_execution_data=True)
    files = settled_text(store_dir)
    reported = json.dumps(history.to_dict(), default=str) + repr(result)
    return Run(result, files + reported)


def settled_text(store_dir: Path) -> str:
    """Every file the store wrote, once its writes have settled.

    The store writes ``name.tmp`` and renames it over ``name``, and its worker
    threads may still be saving the execution's last state after the result came
    back: read when no ``.tmp`` file is left and two reads in a row agree (a
    write in flight makes a file vanish or change between them), for at most
    ``SLACK`` seconds.
    """
    give_up = time.monotonic() + SLACK
    previous = None
    while True:
        try:
            paths = sorted(path for path in store_dir.rglob("*") if path.is_file())
            text = (
                None
                if any(p.suffix == ".tmp" for p in paths)
                else "\n".join(path.read_text() for path in paths)
            )
        except FileNotFoundError:  # renamed between listing and reading
            text = None
        if text is not None and text == previous:
            return text
        assert time.monotonic() < give_up, f"the store at {store_dir} kept changing"
        previous = text
        time.sleep(0.05)


@pytest.fixture
def session(parent: boto3.Session) -> boto3.Session:
    """A session this library made (moto answers the AssumeRole)."""
    return assume_role(parent, ROLE, RoleSessionName="durable")


def keys_of(session: boto3.Session) -> tuple[str, str, str]:
    credentials = session.get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    assert frozen.token is not None
    return frozen.access_key, frozen.secret_key, frozen.token


def assert_refused(run_: Run, step: str, operation: str, rule: str) -> None:
    """The step failed once with our message; the execution failed with it."""
    failed = run_.operation(step)
    assert failed.status.name == "FAILED"
    assert failed.attempt == 1
    message = failed.error.message
    assert message.startswith(f"lambda_assume_role refused to checkpoint the result of {operation}")
    assert rule in message
    assert failed.error.type.endswith("SerDesError")
    assert "StepRetry" not in run_.written  # no retry was ever scheduled


# -- a step's result -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "rule"),
    [
        ("frozen", LIVE_KEY),
        ("asdict", LIVE_KEY),
        ("string", LIVE_KEY),
    ],
)
def test_a_step_returning_live_credentials_is_refused_and_nothing_is_written(
    session: boto3.Session, tmp_path: Path, shape: str, rule: str
) -> None:
    def leak(_: Any) -> Any:
        frozen = session.get_credentials().get_frozen_credentials()
        if shape == "frozen":
            return frozen  # a namedtuple: the default serdes encodes it as a list
        if shape == "asdict":
            return frozen._asdict()
        return f"debugging with {frozen.token}"

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        return context.step(leak, name="leak")

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.FAILED
    assert_refused(outcome, "leak", "step 'leak'", rule)
    assert "step 'leak'" in outcome.result.error.message
    outcome.assert_absent(*keys_of(session))


def test_a_step_returning_a_raw_assume_role_answer_is_refused(
    parent: boto3.Session, tmp_path: Path
) -> None:
    answers: list[dict[str, Any]] = []

    def call_sts(_: Any) -> Any:
        answer = parent.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="raw")
        answers.append(answer["Credentials"])
        return answer

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        return context.step(call_sts, name="raw_answer")

    outcome = run(handler, tmp_path)
    # Keys no session of ours holds: refused because they look like credentials.
    assert_refused(outcome, "raw_answer", "step 'raw_answer'", LOOKS_LIKE_A_CREDENTIAL)
    assert len(answers) == 1
    credentials = answers[0]
    outcome.assert_absent(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


@pytest.fixture
def parent_with_token(parent: boto3.Session) -> boto3.Session:
    """A parent holding a session token (as a Lambda execution role's keys do)."""
    answer = parent.client("sts").get_session_token()["Credentials"]
    return boto3.Session(
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
    )


@pytest.mark.parametrize("known_as", ["parents=", "AWS_SESSION_TOKEN"])
def test_a_parents_token_is_refused(
    parent_with_token: boto3.Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    known_as: str,
) -> None:
    token = parent_with_token.get_credentials().get_frozen_credentials().token
    assert token is not None
    parents: tuple[boto3.Session, ...] = (parent_with_token,)
    if known_as == "AWS_SESSION_TOKEN":
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
        parents = ()

    def handler(event: Any, context: Any) -> Any:
        protect(context, parents=parents)
        # No field name, no access key id: only knowing the token can catch it.
        return context.step(lambda _: {"value": token}, name="parent_token")

    outcome = run(handler, tmp_path)
    assert_refused(outcome, "parent_token", "step 'parent_token'", LIVE_KEY)
    outcome.assert_absent(token)


def test_a_step_returning_what_was_done_with_the_keys_works_and_replays(
    session: boto3.Session, tmp_path: Path
) -> None:
    calls: list[str] = []

    def count_buckets(_: Any) -> Any:
        calls.append("count")
        keys_of(session)  # the keys are used, not returned
        return {"account": "111111111111", "buckets": 3, "NextToken": None}

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        first = context.step(count_buckets, name="count")
        context.wait(Duration.from_seconds(1))  # ends the invocation: the next one replays
        return {"first": first}

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.SUCCEEDED, outcome.result.error
    assert json.loads(outcome.result.result or "") == {
        "first": {"account": "111111111111", "buckets": 3, "NextToken": None}
    }
    assert calls == ["count"]  # the replay read the checkpoint
    outcome.assert_absent(*keys_of(session))


# -- the user's own serdes -------------------------------------------------------------------


class Base64Json(SerDes[Any]):
    """A user's serdes that hides its text: the guard still sees the strings inside."""

    def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
        return "b64:" + base64.b64encode(json.dumps(value).encode()).decode()

    def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
        return json.loads(base64.b64decode(data.removeprefix("b64:")))


def test_a_users_own_serdes_still_serializes_and_is_guarded(
    session: boto3.Session, tmp_path: Path
) -> None:
    config = StepConfig(serdes=Base64Json())

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        kept = context.step(lambda _: {"buckets": 3}, name="kept", config=config)
        context.wait(Duration.from_seconds(1))
        leaked = context.step(
            lambda _: list(keys_of(session)), name="leaked_encoded", config=config
        )
        return {"kept": kept, "leaked": leaked}

    outcome = run(handler, tmp_path)
    kept = outcome.operation("kept")
    assert kept.status.name == "SUCCEEDED"
    assert kept.result.startswith("b64:")  # written by the user's serdes
    assert_refused(outcome, "leaked_encoded", "step 'leaked_encoded'", LIVE_KEY)
    access_key, secret, token = keys_of(session)
    encoded = base64.b64encode(json.dumps([access_key, secret, token]).encode()).decode()
    outcome.assert_absent(access_key, secret, token, encoded[:64])


# -- map, parallel and child contexts --------------------------------------------------------


def test_map_items_and_parallel_branches_are_guarded(
    session: boto3.Session, tmp_path: Path
) -> None:
    one_at_a_time: MapConfig[str] = MapConfig(max_concurrency=1)

    def item(context: Any, account: str, index: int, items: Any) -> Any:
        frozen = session.get_credentials().get_frozen_credentials()
        return frozen._asdict() if account == "222222222222" else {"account": account}

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        # One at a time: fail-fast would otherwise report a branch still running as started.
        inventory = context.map(
            ["111111111111", "222222222222"], item, name="inventory", config=one_at_a_time
        )
        checks = context.parallel(
            [lambda branch: "fine", lambda branch: keys_of(session)],
            name="checks",
            config=ParallelConfig(max_concurrency=1),
        )
        nested = context.map(
            ["333333333333"],
            lambda branch, account, index, items: branch.step(
                lambda _: keys_of(session), name="inner_leak"
            ),
            name="nested",
            config=one_at_a_time,
        )
        return {
            "inventory": inventory.get_results(),
            "inventory_errors": [error.message for error in inventory.get_errors() if error],
            "checks": checks.get_results(),
            "checks_errors": [error.message for error in checks.get_errors() if error],
            "nested_errors": [error.message for error in nested.get_errors() if error],
        }

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.SUCCEEDED, outcome.result.error
    answer = json.loads(outcome.result.result or "")
    assert answer["inventory"] == [{"account": "111111111111"}]
    assert answer["checks"] == ["fine"]
    prefix = "lambda_assume_role refused to checkpoint the result of "
    assert [m.split(" (operation")[0] for m in answer["inventory_errors"]] == [
        prefix + "an item of map 'inventory'"
    ]
    assert [m.split(" (operation")[0] for m in answer["checks_errors"]] == [
        prefix + "a branch of parallel 'checks'"
    ]
    # A step inside a map item is guarded too: the item's own context is protected.
    assert answer["nested_errors"][0].startswith(prefix + "step 'inner_leak'")
    assert outcome.operation("inner_leak").attempt == 1
    outcome.assert_absent(*keys_of(session))


def test_a_child_context_result_is_guarded_with_the_users_serdes(
    session: boto3.Session, tmp_path: Path
) -> None:
    def handler(event: Any, context: Any) -> Any:
        protect(context)
        return context.run_in_child_context(
            lambda child: {"keys": keys_of(session)},
            name="group",
            config=ChildConfig(serdes=Base64Json()),
        )

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.FAILED
    failed = outcome.operation("group")
    assert failed.status.name == "FAILED"
    assert failed.error.message.startswith(
        "lambda_assume_role refused to checkpoint the result of child context 'group'"
    )
    outcome.assert_absent(*keys_of(session))


def test_a_polled_state_and_an_invoke_payload_are_guarded(
    session: boto3.Session, tmp_path: Path
) -> None:
    polls: list[int] = []

    def poll(state: Any, check: Any) -> Any:
        polls.append(1)
        return {"seen": keys_of(session)}

    never_again = WaitForConditionConfig(
        wait_strategy=lambda state, attempts: WaitForConditionDecision.stop_polling(),
        initial_state={"seen": None},
    )

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        refused = {}
        try:
            context.wait_for_condition(poll, never_again, name="poll")
        except SerDesError as error:
            refused["poll"] = error.message
        try:
            context.invoke("other", {"keys": keys_of(session)}, name="call")
        except SerDesError as error:
            refused["call"] = error.message
        return refused

    invoked: list[Any] = []
    outcome = run(handler, tmp_path, {"other": lambda event, context: invoked.append(event)})
    assert outcome.result.status is InvocationStatus.SUCCEEDED, outcome.result.error
    refused = json.loads(outcome.result.result or "")
    prefix = "lambda_assume_role refused to checkpoint "
    assert refused["poll"].startswith(prefix + "the state of wait_for_condition 'poll'")
    assert refused["call"].startswith(prefix + "the payload of invoke 'call'")
    assert polls == [1]
    assert invoked == []
    outcome.assert_absent(*keys_of(session))


# -- never retried ---------------------------------------------------------------------------


def test_a_refusal_is_not_retried_even_by_a_step_that_retries_everything(
    session: boto3.Session, tmp_path: Path
) -> None:
    runs: list[int] = []

    def always_retry(error: Exception, attempts: int) -> RetryDecision:
        return RetryDecision.retry(Duration.from_seconds(1))

    def leak(_: Any) -> Any:
        runs.append(1)
        return session.get_credentials().get_frozen_credentials()

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        try:
            context.step(leak, name="leak", config=StepConfig(retry_strategy=always_retry))
        except SerDesError as error:  # what the handler sees, on the first run and on replay
            return {"caught": type(error).__name__, "message": error.message}
        return {"caught": None}

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.SUCCEEDED
    assert runs == [1]
    assert_refused(outcome, "leak", "step 'leak'", LIVE_KEY)
    assert json.loads(outcome.result.result or "")["caught"] == "SerDesError"
    outcome.assert_absent(*keys_of(session))


# -- the pieces on their own -----------------------------------------------------------------


def test_guarded_refuses_with_a_permanent_serdes_error_and_passes_deserialization(
    session: boto3.Session,
) -> None:
    serdes = guarded(what="the result of step 'alone'")
    context = SerDesContext("op-1", "arn:aws:lambda:us-east-1:111111111111:function:f")
    text = serdes.serialize({"buckets": [1, 2]}, context)
    assert serdes.deserialize(text, context) == {"buckets": [1, 2]}
    with pytest.raises(SerDesError) as refused:
        serdes.serialize(session.get_credentials().get_frozen_credentials(), context)
    assert str(refused.value).startswith(
        "lambda_assume_role refused to checkpoint the result of step 'alone' (operation op-1)"
    )
    for secret in keys_of(session):
        assert secret not in str(refused.value)


def test_check_value_refuses_a_handlers_result_holding_keys(session: boto3.Session) -> None:
    check_value({"accounts": 3}, "the handler's result")
    with pytest.raises(SerDesError, match="the handler's result"):
        check_value({"keys": keys_of(session)}, "the handler's result")


def test_protecting_twice_wraps_once(tmp_path: Path) -> None:
    seen: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        protect(context)
        step = context.step
        protect(context)
        seen.append(context.step is step)
        return context.step(lambda _: 1, name="one")

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.SUCCEEDED
    assert seen == [True]


def test_a_decorated_durable_handler_is_guarded_with_nothing_to_call(
    parent: boto3.Session, tmp_path: Path
) -> None:
    """The README's way: ``@inject_session`` inside ``@durable_execution``, no protect() call."""
    from lambda_assume_role import SessionRegistry, inject_session

    registry = SessionRegistry(parent)

    @inject_session(ROLE, registry=registry, RoleSessionName="decorated")
    def handler(event: Any, context: Any, session: Any) -> Any:
        leaked = context.step(
            lambda _: session.get_credentials().get_frozen_credentials()._asdict(), name="leak"
        )
        return {"leaked": bool(leaked)}

    outcome = run(handler, tmp_path)
    assert outcome.result.status is InvocationStatus.FAILED
    assert_refused(outcome, "leak", "step 'leak'", LIVE_KEY)
    outcome.assert_absent(*keys_of(registry.session(ROLE, RoleSessionName="decorated")))
