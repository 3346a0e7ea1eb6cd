"""AssumeRole metrics (Powertools' own EMF output, parsed) and traces (a recording Tracer provider).

Real AssumeRole calls to moto, faults from the fault proxy, refresh windows driven by
time-machine.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Generator, Iterator
from typing import Any

import boto3
import pytest
import time_machine
from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from emulators.fault_proxy import FaultProxy
from lambda_assume_role import AssumeRoleError, RefreshWindows, assume_role, instrument
from lambda_assume_role.telemetry import ASSUME_ROLE_SUBSEGMENT, Instrumentation
from tests.support.threads import run_together

ROLE = "arn:aws:iam::111111111111:role/Observed"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
PARENT_SECRET = "parent-secret-key-never-printed"  # tests/conftest.py's parent key
ONE_ATTEMPT = RefreshWindows(max_attempts=1)  # a first fetch that fails does not retry


class RecordedSegment(BaseSegment):
    """A subsegment that keeps what it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}
        self.exceptions: list[BaseException] = []

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[f"{namespace}.{key}"] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.exceptions.append(exception)


class RecordingProvider(BaseProvider):
    """Powertools' tracing provider interface, recording subsegments instead of sending them."""

    def __init__(self) -> None:
        self.segments: list[RecordedSegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        segment = RecordedSegment(name)
        self.segments.append(segment)
        try:
            yield segment
        except BaseException as error:  # as the X-Ray SDK does: record, then re-raise
            segment.add_exception(error, [])
            raise

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Any) -> None:
        pass

    def patch_all(self) -> None:
        pass


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    metrics = Metrics(namespace="Tenants", service="orders")
    yield metrics
    metrics.clear_metrics()
    metrics.clear_default_dimensions()


@pytest.fixture
def recording() -> Iterator[RecordingProvider]:
    provider = RecordingProvider()
    yield provider
    Tracer._reset_config()  # Tracer keeps its configuration class-wide


@pytest.fixture
def telemetry(metrics: Metrics, recording: RecordingProvider) -> Iterator[Instrumentation]:
    tracer = Tracer(provider=recording, disabled=False, auto_patch=False)
    with instrument(metrics=metrics, tracer=tracer) as instrumentation:
        yield instrumentation


@pytest.fixture
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def blobs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF blobs printed since the last call."""
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


def dimensions(blob: dict[str, Any]) -> list[list[str]]:
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    return [sorted(names) for names in directive["Dimensions"]]


def metric_names(blob: dict[str, Any]) -> set[str]:
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    return {metric["Name"] for metric in directive["Metrics"]}


def call(session: boto3.Session) -> None:
    session.client("sts").get_caller_identity()


def test_first_fetch_emits_one_blob_with_count_and_bounded_latency_and_warm_calls_none(
    parent: boto3.Session,
    telemetry: Instrumentation,
    metrics: Metrics,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="observed", DurationSeconds=900)
    client = session.client("sts")
    capsys.readouterr()
    started = time.perf_counter()
    client.get_caller_identity()
    elapsed_ms = (time.perf_counter() - started) * 1000
    for _ in range(5):
        client.get_caller_identity()  # warm: no STS call, no blob

    [blob] = blobs(capsys)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tenants"
    assert dimensions(blob) == [["phase", "service"]]
    assert (blob["service"], blob["phase"]) == ("orders", "first")
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "AssumeRoleCalls": "Count",
        "AssumeRoleLatency": "Milliseconds",
        "AssumeRoleFailures": "Count",
        "AssumeRoleThrottles": "Count",
    }
    assert blob["AssumeRoleCalls"] == [1.0]
    [latency] = blob["AssumeRoleLatency"]
    assert 0 <= latency <= elapsed_ms
    assert blob["AssumeRoleFailures"] == [0.0]
    assert blob["AssumeRoleThrottles"] == [0.0]
    # The handler's shared Metrics buffer is left alone.
    assert metrics.provider.metric_set == {}


def test_failures_and_throttles_by_phase_across_a_credential_lifetime(
    no_retries: None,
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    telemetry: Instrumentation,
    clock: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = assume_role(
        parent, ROLE, RoleSessionName="lifetime", DurationSeconds=900, refresh_windows=ONE_ATTEMPT
    )
    call(session)
    [first] = blobs(capsys)
    assert first["phase"] == "first"

    clock.shift(datetime.timedelta(seconds=730))  # advisory (jittered start <= 720 s)
    fault_proxy.fail("AssumeRole", "throttle")
    call(session)  # the old keys still work
    advisory, per_role = blobs(capsys)
    assert (advisory["phase"], advisory["AssumeRoleCalls"]) == ("advisory", [1.0])
    assert advisory["AssumeRoleFailures"] == [1.0]
    assert advisory["AssumeRoleThrottles"] == [1.0]
    assert dimensions(per_role) == [["role_arn", "service"]]
    assert per_role["role_arn"] == ROLE
    assert metric_names(per_role) == {"AssumeRoleThrottles"}
    assert per_role["AssumeRoleThrottles"] == [1.0]

    clock.shift(datetime.timedelta(seconds=120))  # 50 s left: mandatory
    fault_proxy.fail("AssumeRole", "server_error")
    call(session)  # the old keys are still usable (more than the 15 s safety margin left)
    [mandatory] = blobs(capsys)
    assert mandatory["phase"] == "mandatory"
    assert (mandatory["AssumeRoleFailures"], mandatory["AssumeRoleThrottles"]) == ([1.0], [0.0])

    fault_proxy.heal()
    clock.shift(datetime.timedelta(seconds=2))  # past the pause after a mandatory failure
    call(session)
    [recovered] = blobs(capsys)
    assert (recovered["phase"], recovered["AssumeRoleFailures"]) == ("mandatory", [0.0])


def test_first_fetch_refused_counts_a_first_phase_failure_and_traces_its_code(
    no_retries: None,
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    telemetry: Instrumentation,
    recording: RecordingProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fault_proxy.deny("AssumeRole", "AccessDenied", "not authorized to perform sts:AssumeRole")
    session = assume_role(parent, ROLE, RoleSessionName="denied", refresh_windows=ONE_ATTEMPT)
    with pytest.raises(AssumeRoleError, match="AccessDenied"):
        call(session)
    [blob] = blobs(capsys)
    assert (blob["phase"], blob["AssumeRoleCalls"], blob["AssumeRoleFailures"]) == (
        "first",
        [1.0],
        [1.0],
    )
    assert blob["AssumeRoleThrottles"] == [0.0]
    [segment] = recording.segments
    assert segment.annotations == {
        "role_arn": ROLE,
        "phase": "first",
        "outcome": "failure",
        "error_code": "AccessDenied",
        "throttled": False,
    }


@pytest.mark.parametrize("code", ["Throttling", "RequestLimitExceeded", "TooManyRequestsException"])
def test_each_throttling_code_counts_as_a_throttle_of_that_role(
    no_retries: None,
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    telemetry: Instrumentation,
    capsys: pytest.CaptureFixture[str],
    code: str,
) -> None:
    fault_proxy.deny("AssumeRole", code, "Rate exceeded")
    with pytest.raises(AssumeRoleError, match=code):
        call(assume_role(parent, ROLE, RoleSessionName="throttled", refresh_windows=ONE_ATTEMPT))
    by_phase, by_role = blobs(capsys)
    assert by_phase["AssumeRoleThrottles"] == [1.0]
    assert (by_role["role_arn"], by_role["AssumeRoleThrottles"]) == (ROLE, [1.0])


def test_trace_is_one_subsegment_per_call_annotated_with_the_role_and_never_a_secret(
    parent: boto3.Session,
    telemetry: Instrumentation,
    recording: RecordingProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="traced")
    for _ in range(3):
        call(session)
    [segment] = recording.segments
    assert segment.name == ASSUME_ROLE_SUBSEGMENT
    assert segment.annotations == {"role_arn": ROLE, "phase": "first", "outcome": "success"}
    assert segment.metadata == {}
    assert segment.exceptions == []

    keys = session.get_credentials().get_frozen_credentials()
    secrets = {keys.secret_key, keys.token, PARENT_SECRET}
    recorded = json.dumps([segment.annotations, segment.metadata]) + capsys.readouterr().out
    assert not {secret for secret in secrets if secret in recorded}


def test_a_disabled_tracer_records_nothing_and_metrics_alone_still_work(
    parent: boto3.Session,
    metrics: Metrics,
    recording: RecordingProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracer = Tracer(provider=recording, disabled=True, auto_patch=False)
    with instrument(metrics=metrics, tracer=tracer):
        call(assume_role(parent, ROLE, RoleSessionName="quiet"))
    assert recording.segments == []
    [blob] = blobs(capsys)
    assert blob["AssumeRoleCalls"] == [1.0]


def test_tracer_alone_prints_no_metrics(
    parent: boto3.Session, recording: RecordingProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    tracer = Tracer(provider=recording, disabled=False, auto_patch=False)
    with instrument(tracer=tracer):
        call(assume_role(parent, ROLE, RoleSessionName="traced-only"))
    assert [segment.annotations["outcome"] for segment in recording.segments] == ["success"]
    assert blobs(capsys) == []


def test_not_instrumented_or_closed_prints_nothing(
    parent: boto3.Session, metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    call(assume_role(parent, ROLE, RoleSessionName="off"))
    instrumentation = instrument(metrics=metrics)
    instrumentation.close()
    call(assume_role(parent, ROLE, RoleSessionName="closed"))
    assert blobs(capsys) == []


def test_assume_role_outside_any_handler_is_printed_at_once_and_the_handler_blob_is_its_own(
    parent: boto3.Session,
    telemetry: Instrumentation,
    metrics: Metrics,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # At init: no log_metrics handler is running, and the blob is printed anyway.
    session = assume_role(parent, ROLE, RoleSessionName="init")
    call(session)
    [init] = blobs(capsys)
    assert init["AssumeRoleCalls"] == [1.0]

    @metrics.log_metrics(raise_on_empty_metrics=True)
    def handler(event: dict[str, Any], context: Any) -> None:
        call(session)  # warm: no AssumeRole
        metrics.add_metric(name="OrdersPlaced", unit="Count", value=1)

    handler({}, None)
    [own] = blobs(capsys)
    assert metric_names(own) == {"OrdersPlaced"}
    assert "phase" not in own


def test_refreshes_in_many_threads_print_whole_blobs(
    parent: boto3.Session, telemetry: Instrumentation, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = [
        assume_role(parent, f"arn:aws:iam::{100000000000 + n}:role/Fan", RoleSessionName="fan")
        for n in range(8)
    ]
    assert run_together(call, [(session,) for session in sessions]) == []
    printed = blobs(capsys)
    assert len(printed) == 8
    assert sum(blob["AssumeRoleCalls"][0] for blob in printed) == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give metrics=, tracer= or both"),
        ({"metrics": object()}, "metrics must be a Powertools Metrics; got object"),
        ({"tracer": object()}, "tracer must be a Powertools Tracer; got object"),
    ],
)
def test_bad_instrument_arguments_name_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        instrument(**kwargs)


def test_metrics_without_a_namespace_are_refused_at_instrument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    with pytest.raises(ValueError, match="metrics has no namespace"):
        instrument(metrics=Metrics(service="orders"))


def test_a_traced_failure_whose_answer_echoes_the_request_holds_no_trace_of_the_parents_keys(
    fault_proxy: FaultProxy,
    telemetry: Instrumentation,
    recording: RecordingProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = "IQoJb3JpZ2luX2VjEPARENT/traced+token=never/printed0123456789"
    parent = boto3.Session(
        aws_access_key_id="ASIATRACEDPARENTKEY7",
        aws_secret_access_key=PARENT_SECRET,
        aws_session_token=token,
        region_name="us-east-1",
    )
    fault_proxy.fail("AssumeRole", "echo")  # 500 quoting the signed request, token and all
    session = assume_role(parent, ROLE, RoleSessionName="echoed", refresh_windows=ONE_ATTEMPT)
    with pytest.raises(AssumeRoleError):
        call(session)
    [segment] = recording.segments
    [exception] = segment.exceptions
    recorded = " ".join(
        [str(exception), repr(exception), json.dumps(segment.annotations), capsys.readouterr().out]
    )
    assert "InternalFailure" in recorded  # the trace still says what failed
    for secret in (token, "ASIATRACEDPARENTKEY7"):
        assert secret not in recorded


def test_under_managed_instances_the_trace_says_which_worker_called_sts(
    parent: boto3.Session,
    telemetry: Instrumentation,
    recording: RecordingProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "8")
    call(assume_role(parent, ROLE, RoleSessionName="worker", credential_store=False))
    [segment] = recording.segments
    assert segment.annotations["worker_id"] == str(os.getpid())
