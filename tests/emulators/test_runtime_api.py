"""The Runtime API emulator, driving the real awslambdaric in a subprocess."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
import time_machine

from emulators.runtime_api import (
    RuntimeAPIEmulator,
    lambda_environment,
    start_runtime,
    stop_runtime,
)

APP = """
import os
import time

def handler(event, context):
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis() > 0,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "log_stream": context.log_stream_name,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }

def fails(event, context):
    raise ValueError(f"bad event {event['n']}")

def held(event, context):
    # Answers only once the test creates the release file: no race against a sleep.
    release = event["release"]
    for _ in range(3000):
        if os.path.exists(release):
            break
        time.sleep(0.01)
    return event["answer"]

def gathered(event, context):
    # Each worker signs in, then waits (at most 60 s) until every worker holds an
    # invocation: no worker can take two, however its polls race the others'.
    gate = event["gate"]
    open(os.path.join(gate, str(os.getpid())), "w").close()
    for _ in range(6000):
        if len(os.listdir(gate)) >= event["workers"]:
            break
        time.sleep(0.01)
    return {"n": event["n"], "pid": os.getpid(), "parent": os.getppid()}
"""

WORKERS = 8


class Launched(NamedTuple):
    proc: subprocess.Popen[bytes]
    env: dict[str, str]  # the environment the runtime was started with


Launcher = Callable[..., Launched]
"""``launch(handler, variables={})``: ``variables`` over `lambda_environment`'s."""


@pytest.fixture
def api() -> Iterator[RuntimeAPIEmulator]:
    with RuntimeAPIEmulator() as emulator:
        yield emulator


@pytest.fixture
def launch(api: RuntimeAPIEmulator, tmp_path: Path) -> Iterator[Launcher]:
    """Start awslambdaric on a handler in tmp_path; always stopped after the test."""
    (tmp_path / "app.py").write_text(APP)
    procs: list[subprocess.Popen[bytes]] = []

    def _launch(handler: str, variables: Mapping[str, str] | None = None) -> Launched:
        env = {**lambda_environment(api.address, handler, task_root=tmp_path), **(variables or {})}
        proc = start_runtime(handler, cwd=tmp_path, pythonpath=[str(tmp_path)], env=env)
        procs.append(proc)
        return Launched(proc, env)

    yield _launch
    for proc in procs:
        stop_runtime(proc, timeout=3)


def test_invokes_a_handler_repeatedly(api: RuntimeAPIEmulator, launch: Launcher) -> None:
    launched = launch("app.handler")
    api.wait_ready(timeout=10)
    for n in range(3):
        result = api.invoke({"n": n, "text": "héllo"}, timeout=10)
        assert result.ok, result.error
        assert result.error is None
        assert result.payload["echo"] == {"n": n, "text": "héllo"}
        assert result.payload["request_id"] == result.request_id
        assert result.payload["remaining"] is True
        assert result.latency_ms < 5000
    payload = result.payload
    assert payload["function_name"] == "test-function"
    assert payload["memory"] == "128"  # awslambdaric passes it as a string
    assert payload["arn"] == api.function_arn
    assert payload["log_stream"] == launched.env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert payload["trace"].startswith("Root=1-")
    deadline = time.monotonic() + 5
    while api.polls < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert api.polls == 4  # one poll per invocation, plus the one now waiting


def test_handler_exception_is_an_error_result(api: RuntimeAPIEmulator, launch: Launcher) -> None:
    launch("app.fails")
    result = api.invoke({"n": 7}, timeout=10)
    assert not result.ok
    assert result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "bad event 7"
    assert result.error["requestId"] == result.request_id
    assert any("app.py" in line for line in result.error["stackTrace"])
    xray_cause = json.loads(result.headers["lambda-runtime-function-xray-error-cause"])
    assert xray_cause["exceptions"][0]["type"] == "ValueError"
    # The runtime survives a failed invocation.
    again = api.invoke({"n": 8}, timeout=10)
    assert again.error is not None
    assert (again.error["errorMessage"], again.error["requestId"]) == (
        "bad event 8",
        again.request_id,
    )


def test_exception_at_import_is_an_init_error(
    api: RuntimeAPIEmulator, launch: Launcher, tmp_path: Path
) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('no config at import')\n")
    proc = launch("broken.handler").proc
    error = api.init_error(timeout=10)
    assert error is not None
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "no config at import"
    assert api.init_error_type == "RuntimeError"
    assert proc.wait(timeout=10) == 1
    # An invocation queued after a failed init fails fast instead of hanging.
    with pytest.raises(TimeoutError, match="init failed"):
        api.invoke({}, timeout=10)


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("missing_module.handler", "Runtime.ImportModuleError", "No module named"),
        ("app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing"),
    ],
)
def test_bad_handler_is_an_init_error(
    api: RuntimeAPIEmulator, launch: Launcher, handler: str, error_type: str, message: str
) -> None:
    launch(handler)
    error = api.init_error(timeout=10)
    assert error is not None
    assert error["errorType"] == error_type
    assert message in error["errorMessage"]


def test_waits_end_at_the_given_timeout_not_the_default(api: RuntimeAPIEmulator) -> None:
    # Each wait is given 0.1-0.2 s; its default is 10-30 s. The bound is wide enough for a
    # loaded machine and still fails if a wait ignores its timeout.
    def took(wait: Callable[[], object]) -> float:
        start = time.monotonic()
        wait()
        return time.monotonic() - start

    def invoke() -> None:
        with pytest.raises(TimeoutError, match="did not pick up invocation"):
            api.invoke({"nobody": "listening"}, timeout=0.2)

    def wait_ready() -> None:
        with pytest.raises(TimeoutError, match="did not poll"):
            api.wait_ready(timeout=0.1)

    assert took(invoke) < 5
    assert took(lambda: api.init_error(timeout=0.1)) < 5
    assert api.init_error(timeout=0) is None
    assert took(wait_ready) < 5


def test_slow_handler_times_out_then_runtime_moves_on(
    api: RuntimeAPIEmulator, launch: Launcher, tmp_path: Path
) -> None:
    launch("app.held")
    api.wait_ready(timeout=10)  # the runtime is polling: the invocation is picked up at once
    release = tmp_path / "release"
    with pytest.raises(TimeoutError, match="did not answer invocation"):
        # The handler cannot answer before the file exists, however slow the machine.
        api.invoke({"release": str(release), "answer": "late"}, timeout=2)
    release.touch()
    fresh = api.invoke({"release": str(release), "answer": "fresh"}, timeout=10)
    assert fresh.payload == "fresh"  # the late answer was ignored


@pytest.fixture
def local_time_is_tomorrow() -> Iterator[None]:
    """A local time zone 14 hours ahead of UTC (Kiribati), so local and UTC dates differ."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "KIRITIMATI-14")  # POSIX form: needs no tz database
        time.tzset()
        yield
    time.tzset()


def test_log_stream_name_has_lambdas_shape_and_utc_date(local_time_is_tomorrow: None) -> None:
    before_midnight = datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    # A timestamp: given an aware datetime, time-machine would also set the local zone.
    with time_machine.travel(before_midnight.timestamp(), tick=False):
        assert time.strftime("%Y") == "2027"  # local time is already next year
        env = lambda_environment("127.0.0.1:9001", "app.handler", task_root="/var/task")
    stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert re.fullmatch(r"2026/12/31/\[\$LATEST\][0-9a-f]{32}", stream), stream
    again = lambda_environment("127.0.0.1:9001", "app.handler", task_root="/var/task")
    assert again["AWS_LAMBDA_LOG_STREAM_NAME"][-32:] != stream[-32:]  # a new environment id


def test_start_runtime_requires_the_runtime_api(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AWS_LAMBDA_RUNTIME_API"):
        start_runtime("app.handler", cwd=tmp_path, pythonpath=[], env={})


# --- many pollers: awslambdaric's multi-concurrent mode (Lambda Managed Instances) ----------


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet: it runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def test_forked_workers_answer_invocations_at_once_each_on_its_own_process(
    api: RuntimeAPIEmulator, launch: Launcher, tmp_path: Path
) -> None:
    launched = launch("app.gathered", {"AWS_LAMBDA_MAX_CONCURRENCY": str(WORKERS)})
    api.wait_ready(timeout=60, pollers=WORKERS)  # every worker did its init and polls
    assert (api.polls, api.polling, api.answered) == (WORKERS, WORKERS, 0)
    gate = tmp_path / "gate"
    gate.mkdir()

    events = [{"gate": str(gate), "workers": WORKERS, "n": n} for n in range(WORKERS)]
    results = api.invoke_many(events, timeout=60)

    assert all(result.ok for result in results), [r.error for r in results if not r.ok]
    assert [result.payload["n"] for result in results] == list(range(WORKERS))
    assert len({result.request_id for result in results}) == WORKERS
    pids = {result.payload["pid"] for result in results}
    assert len(pids) == WORKERS  # eight distinct worker processes
    assert launched.proc.pid not in pids
    assert {result.payload["parent"] for result in results} == {launched.proc.pid}
    assert api.answered == WORKERS
    api.wait_ready(timeout=60, pollers=WORKERS)  # each worker polls again once it answered
    assert (api.polls, api.answered) == (2 * WORKERS, WORKERS)

    stop_runtime(launched.proc, timeout=3)  # the parent and its workers: one process group
    deadline = time.monotonic() + 10
    while not all(map(_gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [pid for pid in pids if not _gone(pid)] == []


def test_forked_workers_report_one_init_error(api: RuntimeAPIEmulator, launch: Launcher) -> None:
    # Every worker imports the handler, fails and posts its init error; the first is kept
    # and the others are answered 403, which awslambdaric's multi-concurrent client ignores.
    launch("missing_module.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": str(WORKERS)})
    error = api.init_error(timeout=60)
    assert error is not None
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert api.init_error_type == "Runtime.ImportModuleError"
    with pytest.raises(TimeoutError, match="init failed"):
        api.invoke({}, timeout=10)


def test_invoke_many_of_nothing_is_nothing(api: RuntimeAPIEmulator) -> None:
    assert api.invoke_many([]) == []
