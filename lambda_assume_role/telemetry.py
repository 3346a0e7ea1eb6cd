"""Opt-in AssumeRole metrics and traces through Powertools (`instrument`).

Off by default, and then it costs nothing: this module imports neither
Powertools nor aws_xray_sdk, the warm path never reaches it, and a credential
refresh checks one module global (``is None``) twice: in `refresh` before
fetching, and in `fetcher` before its STS call.

Turned on, process-wide (the calls happen deep inside botocore's credential
refresh, far from any handler), with the Powertools objects the function
already has::

    metrics = Metrics(namespace="MyApp", service="orders")
    tracer = Tracer()
    lambda_assume_role.instrument(metrics=metrics, tracer=tracer)

**Metrics.** Each credential refresh that calls STS or fails prints one EMF
blob of its own (Powertools' `EphemeralMetrics`), with the namespace, service
and default dimensions of ``metrics`` plus ``phase`` (``first``, ``advisory``
or ``mandatory``):

========================  ============  ==========================================
``AssumeRoleCalls``       Count         AssumeRole calls made (0 when the refresh
                                        failed before calling, e.g. no time left)
``AssumeRoleLatency``     Milliseconds  one value per call, success or failure
``AssumeRoleFailures``    Count         1 when the refresh failed, else 0
``AssumeRoleThrottles``   Count         1 when STS answered with a throttling code
========================  ============  ==========================================

A throttled refresh also prints a second blob, ``AssumeRoleThrottles`` with
dimensions ``service`` and ``role_arn``, so an alarm can say which role is
throttled.

Why blobs of our own, not ``metrics.add_metric``: Powertools' dimensions apply
to a whole blob, so ``phase`` or ``role_arn`` added to the handler's shared
`Metrics` would land on the function's own metrics too (and theirs on ours).
An AssumeRole made at init, in a fan-out thread, or while no
``log_metrics``-decorated handler runs would also sit in the shared buffer
until some later flush, or never be flushed. A blob per refresh is printed at
once and never touches the handler's buffer; refreshes are rare (that is this
library's point), so the blobs are few. Only throttles carry ``role_arn``: a
role dimension on every metric would make each tenant role a set of custom
metrics (billed per metric), while a throttle metric exists only for the roles
that are throttled. Per-role latency is in the INFO log line
(``role_arn``, ``latency_ms``) for CloudWatch Logs Insights.

**Traces.** Each AssumeRole call runs in an X-Ray subsegment
``## AssumeRole`` (``tracer.provider.in_subsegment``), annotated with
``role_arn``, ``phase``, ``outcome`` (``success``/``failure``) and, on failure,
``error_code`` and ``throttled``. Nothing else is attached: no request, no
response, no credentials. A disabled `Tracer` (outside Lambda, or
``POWERTOOLS_TRACE_DISABLED``) records nothing.

Telemetry never breaks credentials: a failure to emit is logged at WARNING
and the refresh goes on.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from lambda_assume_role import environment
from lambda_assume_role.errors import RefreshInFlight

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ASSUME_ROLE_SUBSEGMENT",
    "Instrumentation",
    "Phase",
    "RefreshObservation",
    "active",
    "error_code",
    "instrument",
    "observed_refresh",
]

logger = logging.getLogger("lambda_assume_role")

Phase = Literal["first", "advisory", "mandatory"]
"""Why credentials are fetched: none yet, an early (advisory) or a late (mandatory) refresh."""

ASSUME_ROLE_SUBSEGMENT = "## AssumeRole"
"""The X-Ray subsegment name of one AssumeRole call (Powertools' ``## name`` style)."""

_active: Instrumentation | None = None
_switch = threading.Lock()
# Powertools prints a blob and its newline in two writes: one blob at a time,
# so that refreshes in several threads (fan-out) never interleave their lines.
_print_lock = threading.Lock()
_current: contextvars.ContextVar[RefreshObservation | None] = contextvars.ContextVar(
    "lambda_assume_role_refresh", default=None
)


def instrument(metrics: Any = None, tracer: Any = None) -> Instrumentation:
    """Emit AssumeRole metrics and traces through Powertools, process-wide.

    Call it once at init, next to the Powertools objects. A later call replaces
    the earlier one.

    Args:
        metrics: A Powertools `Metrics` (or `EphemeralMetrics`) whose namespace,
            service and default dimensions the AssumeRole metrics take; None
            for no metrics.
        tracer: A Powertools `Tracer`; None for no traces.

    Returns:
        The `Instrumentation`; ``close()`` it (or use it as a context manager)
        to turn telemetry off again.

    Raises:
        ValueError: Neither is given, ``metrics`` has no namespace (pass
            ``namespace=`` or set ``POWERTOOLS_METRICS_NAMESPACE``), or an
            object is not a Powertools Metrics/Tracer.

    Example:
        >>> instrument()
        Traceback (most recent call last):
        ...
        ValueError: instrument: give metrics=, tracer= or both (Powertools Metrics and Tracer)
        >>> from aws_lambda_powertools import Metrics
        >>> with instrument(metrics=Metrics(namespace="MyApp", service="orders")) as telemetry:
        ...     telemetry
        Instrumentation(metrics=True, tracer=False)
        >>> active() is None
        True
    """
    global _active  # noqa: PLW0603
    if metrics is None and tracer is None:
        raise ValueError(
            "instrument: give metrics=, tracer= or both (Powertools Metrics and Tracer)"
        )
    if metrics is not None:
        if not callable(getattr(metrics, "add_metric", None)) or not hasattr(metrics, "service"):
            raise ValueError(
                f"instrument: metrics must be a Powertools Metrics; got {type(metrics).__name__}"
            )
        if not getattr(metrics, "namespace", None):
            raise ValueError(
                "instrument: metrics has no namespace; pass Metrics(namespace=...) or set "
                "POWERTOOLS_METRICS_NAMESPACE"
            )
    provider = getattr(tracer, "provider", None)
    if tracer is not None and not callable(getattr(provider, "in_subsegment", None)):
        raise ValueError(
            f"instrument: tracer must be a Powertools Tracer; got {type(tracer).__name__}"
        )
    instrumentation = Instrumentation(metrics, tracer)
    with _switch:
        _active = instrumentation
    return instrumentation


def active() -> Instrumentation | None:
    """The instrumentation in force, or None (the default: telemetry off)."""
    return _active


def observed_refresh() -> RefreshObservation | None:
    """The refresh being observed in this thread, or None when telemetry is off.

    The fetcher asks this right before its STS call, so that the call is
    counted and traced in the phase that `Instrumentation.refresh` was given.
    """
    if _active is None:
        return None
    return _current.get()


class Instrumentation:
    """Telemetry in force: what `instrument` returned.

    Example:
        >>> Instrumentation(None, None).close()  # turning off what is not on is a no-op
    """

    def __init__(self, metrics: Any, tracer: Any) -> None:
        self.metrics = metrics
        self.tracer = tracer
        if metrics is not None:
            # Fail now, at init, if this Powertools has no isolated-metrics class.
            from aws_lambda_powertools.metrics import EphemeralMetrics

            self._blob_type: Any = EphemeralMetrics

    def refresh(self, role_arn: str, phase: Phase) -> RefreshObservation:
        """Observe one credential refresh of ``role_arn`` (a context manager)."""
        return RefreshObservation(self, role_arn, phase)

    def close(self) -> None:
        """Turn telemetry off, if this is still the instrumentation in force."""
        global _active  # noqa: PLW0603
        with _switch:
            if _active is self:
                _active = None

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Instrumentation(metrics={self.metrics is not None}, tracer={self.tracer is not None})"
        )

    def _emit(self, observation: RefreshObservation) -> None:
        metrics = self.metrics
        defaults = {**getattr(metrics, "default_dimensions", {})}
        blob = self._blob_type(
            namespace=metrics.namespace, service=metrics.service, default_dimensions=defaults
        )
        blob.add_dimension(name="phase", value=observation.phase)
        blob.add_metric(name="AssumeRoleCalls", unit="Count", value=observation.calls)
        for latency in observation.latencies_ms:
            blob.add_metric(name="AssumeRoleLatency", unit="Milliseconds", value=latency)
        blob.add_metric(name="AssumeRoleFailures", unit="Count", value=int(observation.failed))
        blob.add_metric(name="AssumeRoleThrottles", unit="Count", value=int(observation.throttled))
        blobs = [blob]
        if observation.throttled:
            per_role = self._blob_type(
                namespace=metrics.namespace, service=metrics.service, default_dimensions=defaults
            )
            per_role.add_dimension(name="role_arn", value=observation.role_arn)
            per_role.add_metric(name="AssumeRoleThrottles", unit="Count", value=1)
            blobs.append(per_role)
        with _print_lock:
            for each in blobs:
                each.flush_metrics()


class RefreshObservation:
    """One credential refresh under observation: its AssumeRole calls and its outcome.

    Entered by `lambda_assume_role.refresh` around fetching and checking new
    keys; the fetcher wraps its STS call in `assume_role_call`. On exit the
    metrics blob is printed (if there is a call or a failure to report).
    """

    def __init__(self, instrumentation: Instrumentation, role_arn: str, phase: Phase) -> None:
        self.instrumentation = instrumentation
        self.role_arn = role_arn
        self.phase: Phase = phase
        self.calls = 0
        self.latencies_ms: list[float] = []
        self.failed = False
        self.throttled = False
        self._token: contextvars.Token[RefreshObservation | None] | None = None

    def __enter__(self) -> RefreshObservation:
        self._token = _current.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        # Another process refreshing (the credential store) is no failure: no call was made.
        if error is not None and not isinstance(error, RefreshInFlight):
            self.failed = True
            self.throttled = self.throttled or error_code(error) in _throttling_codes()
        if self.instrumentation.metrics is None or not (self.calls or self.failed):
            return
        try:
            self.instrumentation._emit(self)
        except Exception as failure:  # telemetry never breaks credentials
            logger.warning(
                "AssumeRole metrics for %s were not emitted: %s: %s",
                self.role_arn,
                type(failure).__name__,
                failure,
            )

    def assume_role_call(self) -> _Call:
        """A context manager around one AssumeRole call: timed, counted and traced."""
        return _Call(self)


class _Call:
    """One AssumeRole call: an X-Ray subsegment (when tracing) and a latency value."""

    def __init__(self, observation: RefreshObservation) -> None:
        self._observation = observation
        self._subsegment: Any = None
        self._scope: Any = None
        self._started = 0.0

    def __enter__(self) -> _Call:
        tracer = self._observation.instrumentation.tracer
        if tracer is not None and not getattr(tracer, "disabled", False):
            try:
                self._scope = tracer.provider.in_subsegment(name=ASSUME_ROLE_SUBSEGMENT)
                self._subsegment = self._scope.__enter__()
            except Exception as failure:
                self._scope = self._subsegment = None
                logger.warning(
                    "AssumeRole trace not started: %s: %s", type(failure).__name__, failure
                )
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        elapsed_ms = (time.perf_counter() - self._started) * 1000
        observation = self._observation
        observation.calls += 1
        observation.latencies_ms.append(elapsed_ms)
        code = error_code(error) if error is not None else None
        if code in _throttling_codes():
            observation.throttled = True
        if self._scope is None:
            return
        try:
            for key, value in _annotations(observation, code):
                self._subsegment.put_annotation(key=key, value=value)
            self._scope.__exit__(exc_type, error, traceback)
        except Exception as failure:
            if failure is not error:  # the provider re-raising the call's own error is fine
                logger.warning(
                    "AssumeRole trace not finished: %s: %s", type(failure).__name__, failure
                )


def _annotations(observation: RefreshObservation, code: str | None) -> Iterator[tuple[str, Any]]:
    yield "role_arn", observation.role_arn
    yield "phase", observation.phase
    yield "outcome", "success" if code is None else "failure"
    if code is not None:
        yield "error_code", code
        yield "throttled", code in _throttling_codes()
    if (environment.max_concurrency() or 1) > 1:
        # Managed Instances: which of the environment's worker processes called STS.
        yield "worker_id", environment.worker_id()


def error_code(error: BaseException) -> str:
    """A short code for a failed AssumeRole: STS's error code, or what kind of failure.

    Example:
        >>> from lambda_assume_role.errors import AssumeRoleError, AssumeRoleTimeoutError
        >>> error_code(AssumeRoleError.from_code("arn:aws:iam::1:role/R", "Throttling", "slow"))
        'Throttling'
        >>> error_code(AssumeRoleTimeoutError("arn:aws:iam::1:role/R", "ran out of time"))
        'Timeout'
        >>> error_code(KeyError("x"))
        'KeyError'
    """
    from lambda_assume_role.errors import AssumeRoleConnectionError, AssumeRoleTimeoutError
    from lambda_assume_role.retry import error_code as aws_error_code

    code = aws_error_code(error)
    if code is not None:
        return code
    if isinstance(error, AssumeRoleTimeoutError):
        return "Timeout"
    if isinstance(error, AssumeRoleConnectionError):
        return "ConnectionError"
    return type(error).__name__


def _throttling_codes() -> frozenset[str]:
    from lambda_assume_role.retry import THROTTLING_CODES

    return THROTTLING_CODES
