"""A Lambda Runtime API emulator that drives the real ``awslambdaric`` runtime interface client.

    with RuntimeAPIEmulator() as api:
        proc = start_runtime("app.handler", cwd=tmp, pythonpath=[str(tmp)],
                             env=lambda_environment(api.address, "app.handler", task_root=tmp))
        try:
            result = api.invoke({"hello": "world"})
        finally:
            stop_runtime(proc)

Only the four endpoints awslambdaric 4.x uses in on-demand mode are served (``invocation/next``,
``invocation/{id}/response``, ``invocation/{id}/error``, ``init/error``); anything else is 404.

Many pollers: each request is served on its own thread, so any number of
``invocation/next`` long-polls may wait at once (several runtime processes, or the workers
awslambdaric forks under Lambda Managed Instances when ``AWS_LAMBDA_MAX_CONCURRENCY`` is
set), and ``invoke`` may be called from several threads (``invoke_many`` does that).
Invocations are handed out in the order they were queued, each to exactly one waiting poll
(which one is not defined); each answer is matched to its invocation by request id. The
counters (``polls``, ``polling``, ``answered``) and the init error are updated under one
lock, since every handler thread touches them; the first init error wins, and later ones
are answered 403, as Lambda answers the other workers of a multi-concurrent runtime.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

_PREFIX = "/2018-06-01/runtime"
_RESULT_PATH = re.compile(rf"^{_PREFIX}/invocation/([^/]+)/(response|error)$")


_INIT_LIMIT = 90.0
"""The most seconds an invocation waits for the runtime's init before its own timeout starts."""


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    ok: bool
    payload: Any  # the parsed JSON response, or None (error, or a non-JSON response: see body)
    error: dict[str, Any] | None  # {"errorMessage", "errorType", "requestId", "stackTrace"}
    latency_ms: float  # from invoke() to the runtime posting its response or error
    body: bytes = b""  # the raw body the runtime posted
    headers: dict[str, str] = field(default_factory=dict)  # its request headers, lower-cased


@dataclass
class _Invocation:
    request_id: str
    event: bytes
    timeout: float
    tenant_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    done: threading.Event = field(default_factory=threading.Event)
    dispatched: bool = False
    cancelled: bool = False
    result: InvocationResult | None = None
    # A poll's thread claims the invocation while invoke()'s thread may give up on it:
    # the lock makes "dispatched" and "cancelled" exclusive, so each is decided once.
    _claim: threading.Lock = field(default_factory=threading.Lock)

    def dispatch(self) -> bool:
        """Hand the invocation to a poll, unless invoke() gave up on it first."""
        with self._claim:
            if not self.cancelled:
                self.dispatched = True
            return self.dispatched

    def cancel(self) -> bool:
        """Give up on the invocation; whether a poll had already taken it."""
        with self._claim:
            self.cancelled = True
            return self.dispatched


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, api: RuntimeAPIEmulator) -> None:
        self.api = api
        self.live: set[socket.socket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # ~7 ms warm invokes, not ~98
        self.live.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        self.live.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed runtime is routine
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{_PREFIX}/invocation/next":
            self._reply(404, b'{"errorType":"NotFound"}')
            return
        api = self.server.api
        api._poll_started()
        try:
            inv = api._next_invocation()
        finally:
            api._poll_ended()
        if inv is None:  # stopping
            self.close_connection = True
            return
        deadline_ms = int(time.time() * 1000 + inv.timeout * 1000)
        trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0"
        headers = {
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
            "Lambda-Runtime-Trace-Id": f"{trace};Parent={secrets.token_hex(8)}",
        }
        if inv.tenant_id is not None:
            # Lambda's tenant isolation mode; awslambdaric sets context.tenant_id from it.
            headers["Lambda-Runtime-Aws-Tenant-Id"] = inv.tenant_id
        self._reply(200, inv.event, headers)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = self.server.api
        match = _RESULT_PATH.match(self.path)
        if self.path == f"{_PREFIX}/init/error":
            error = _json_or_none(body) or {"errorMessage": body.decode(errors="replace")}
            if not api._record_init_error(
                error, self.headers.get("Lambda-Runtime-Function-Error-Type")
            ):
                self._reply(403, b'{"errorType":"InitErrorAlreadyReported"}')
                return
        elif match:
            inv = api._pending.pop(match[1], None)
            if inv is not None:  # late answers to timed-out invocations are ignored
                ok = match[2] == "response"
                inv.result = InvocationResult(
                    request_id=inv.request_id,
                    ok=ok,
                    payload=_json_or_none(body) if ok else None,
                    error=None if ok else _json_or_none(body),
                    latency_ms=(time.perf_counter() - inv.started) * 1000,
                    body=body,
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                api._count_answer()
                inv.done.set()
        else:
            self._reply(404, b'{"errorType":"NotFound"}')
            return
        self._reply(202, b'{"status":"OK"}')


class RuntimeAPIEmulator:
    """Serves the Lambda Runtime API on 127.0.0.1 (ephemeral port); ``address`` is the value
    for ``AWS_LAMBDA_RUNTIME_API``. Any number of runtime processes or threads may poll it at
    once, and ``invoke`` may be called concurrently (see the module docstring)."""

    def __init__(
        self,
        function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function",
    ) -> None:
        self.function_arn = function_arn
        self._queue: queue.Queue[_Invocation] = queue.Queue()
        self._pending: dict[str, _Invocation] = {}
        self._polled = threading.Event()
        # Handler threads update these; _counts guards them and tells wait_ready of changes.
        self._counts = threading.Condition()
        self._polls = 0
        self._polling = 0
        self._answered = 0
        self._stopping = threading.Event()
        self._init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None  # the Lambda-Runtime-Function-Error-Type header
        self._init_error_posted = threading.Event()
        self._server: _Server | None = None

    @property
    def address(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def polls(self) -> int:
        """How many times the runtime (all its processes) has asked for the next invocation."""
        with self._counts:
            return self._polls

    @property
    def polling(self) -> int:
        """How many ``invocation/next`` long-polls are waiting now (idle workers)."""
        with self._counts:
            return self._polling

    @property
    def answered(self) -> int:
        """How many invocations got their response or error in time (late ones are not counted)."""
        with self._counts:
            return self._answered

    def _poll_started(self) -> None:
        with self._counts:
            self._polls += 1
            self._polling += 1
            self._counts.notify_all()
        self._polled.set()

    def _poll_ended(self) -> None:
        with self._counts:
            self._polling -= 1
            self._counts.notify_all()

    def _count_answer(self) -> None:
        with self._counts:
            self._answered += 1

    def _next_invocation(self) -> _Invocation | None:
        """The next invocation nobody gave up on, for a poll; None once stopping."""
        while True:
            try:
                inv = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._stopping.is_set():
                    return None
                continue
            if inv.dispatch():
                return inv

    def _record_init_error(self, error: dict[str, Any], error_type: str | None) -> bool:
        """Keep the first init error posted; False for any later one."""
        with self._counts:
            if self._init_error_posted.is_set():
                return False
            self._init_error = error
            self.init_error_type = error_type
            self._init_error_posted.set()
            return True

    def start(self) -> RuntimeAPIEmulator:
        self._server = _Server(self)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            for sock in list(self._server.live):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None

    def __enter__(self) -> RuntimeAPIEmulator:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 10.0, *, pollers: int = 1) -> None:
        """Wait until the runtime finished init and polls for its first invocation.

        ``pollers``: wait until that many long-polls wait at once (the workers of a
        multi-concurrent runtime, each polling once its own init is done).
        """
        if pollers <= 1:
            if not self._polled.wait(timeout):
                raise TimeoutError(
                    self._why(f"the runtime did not poll for work within {timeout}s")
                )
            return
        with self._counts:
            if not self._counts.wait_for(lambda: self._polling >= pollers, timeout):
                raise TimeoutError(
                    self._why(
                        f"{self._polling} of {pollers} workers polled for work within {timeout}s"
                    )
                )

    def invoke(
        self,
        event: Any,
        *,
        timeout: float = 30.0,
        tenant_id: str | None = None,
        wait_for_init: bool = False,
    ) -> InvocationResult:
        """Queue one invocation (``timeout`` also sets its deadline) and wait for its outcome.

        ``wait_for_init``: first wait (up to 90 s) for the runtime to finish init
        and poll, so that ``timeout`` counts from the pickup, as Lambda's does.
        ``tenant_id`` is sent as ``Lambda-Runtime-Aws-Tenant-Id``, as Lambda does for a
        function in tenant isolation mode; awslambdaric puts it in ``context.tenant_id``.
        """
        inv = _Invocation(str(uuid.uuid4()), json.dumps(event).encode(), timeout, tenant_id)
        self._pending[inv.request_id] = inv  # one key per invocation: dict ops are atomic
        self._queue.put(inv)
        if wait_for_init:
            # The deadline starts when the runtime takes the invocation, as in Lambda: a
            # runtime still in init (slow on a busy machine) gets up to _INIT_LIMIT first.
            self._await_runtime()
        end = time.monotonic() + timeout
        while not inv.done.wait(min(0.05, max(0.0, end - time.monotonic()))):
            if time.monotonic() >= end or (self._init_error_posted.is_set() and not inv.dispatched):
                dispatched = inv.cancel()
                self._pending.pop(inv.request_id, None)
                if inv.done.is_set():  # answered while we gave up: the answer stands
                    break
                state = "answer" if dispatched else "pick up"
                raise TimeoutError(
                    self._why(f"the runtime did not {state} invocation {inv.request_id}")
                )
        assert inv.result is not None
        return inv.result

    def invoke_many(
        self, events: Iterable[Any], *, timeout: float = 30.0, wait_for_init: bool = False
    ) -> list[InvocationResult]:
        """Invoke once per event, all at once (a thread each); the results in the events' order.

        ``timeout`` and ``wait_for_init`` are each invocation's (see `invoke`). Every
        invocation is waited for; if any raised (a timeout), the first in the events' order
        is raised once all are done.
        """
        items = list(events)
        if not items:
            return []
        with ThreadPoolExecutor(len(items), thread_name_prefix="invoke") as pool:
            futures = [
                pool.submit(self.invoke, event, timeout=timeout, wait_for_init=wait_for_init)
                for event in items
            ]
            return [future.result() for future in futures]

    def _await_runtime(self) -> None:
        """Return once the runtime has polled for work or posted an init error (or at the limit)."""
        give_up = time.monotonic() + _INIT_LIMIT
        while not self._polled.is_set() and not self._init_error_posted.is_set():
            if time.monotonic() >= give_up:
                return  # the caller's own wait then reports "did not pick up"
            self._polled.wait(0.05)

    def init_error(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The init error payload the runtime posted, or None if none came within ``timeout``."""
        return self._init_error if self._init_error_posted.wait(timeout) else None

    def _why(self, what: str) -> str:
        if self._init_error is not None:
            return f"{what}: its init failed with {self._init_error}"
        return f"{what} ({self.polls} polls for work so far; is the runtime process alive?)"


def lambda_environment(
    runtime_api: str,
    handler: str,
    *,
    task_root: str | Path,
    function_name: str = "test-function",
    region: str = "us-east-1",
    memory_mb: int = 128,
) -> dict[str, str]:
    """The variables Lambda sets for a Python function (minus credentials)."""
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        # Lambda's format, dated in UTC: YYYY/MM/DD/[<version>]<32 hex environment id>.
        "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime())
        + secrets.token_hex(16),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
        "TZ": ":UTC",
    }


def start_runtime(
    handler: str,
    *,
    cwd: str | Path,
    pythonpath: list[str],
    env: Mapping[str, str],
    log_path: str | Path | None = None,
    python_flags: Sequence[str] = (),
    python: str | Path | None = None,
) -> subprocess.Popen[bytes]:
    """Run ``python -m awslambdaric <handler>`` in a clean environment.

    Nothing from os.environ leaks in except PATH: pass everything else (AWS_LAMBDA_RUNTIME_API
    is required; see lambda_environment()). Output goes to ``log_path``, else to our stdout/err
    (pytest's fd capture shows it on failure). ``python_flags`` go before ``-m``, e.g.
    ``("-S", "-B")`` to hide site-packages. ``python`` is the interpreter, by default this one.

    The runtime leads a process group of its own, so that `stop_runtime` also ends the
    workers awslambdaric forks when ``AWS_LAMBDA_MAX_CONCURRENCY`` is set (they outlive a
    parent that is only terminated).
    """
    if "AWS_LAMBDA_RUNTIME_API" not in env:
        raise ValueError("env must set AWS_LAMBDA_RUNTIME_API (awslambdaric raises KeyError)")
    full_env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "*",  # the C client is libcurl, which would honour *_proxy variables
        **env,
    }
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115
    try:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [str(python or sys.executable), *python_flags, "-m", "awslambdaric", handler],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT if log is not None else None,
            start_new_session=True,
        )
    finally:
        if log is not None:
            log.close()


def stop_runtime(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int:
    """Terminate the runtime and its workers, and return the runtime's exit code.

    SIGTERM to its process group, SIGKILL after ``timeout``; then SIGKILL to any worker
    still there (a worker outlives its parent otherwise). The runtime is reaped last, so
    its process group id cannot be reused by another process while we signal it.
    """
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        give_up = time.monotonic() + timeout
        while not _exited(proc.pid) and time.monotonic() < give_up:
            time.sleep(0.01)
        _signal_group(proc.pid, signal.SIGKILL)
    return proc.wait(timeout)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has exited, leaving it unreaped (WNOWAIT)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True
