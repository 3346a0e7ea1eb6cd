"""Lambda's Invoke API answered by Python handlers in this process; everything else goes to moto.

moto's Step Functions engine runs Lambda tasks by calling
``http://localhost:$MOTO_PORT/2015-03-31/functions/<name>/invocations`` (it reads
``MOTO_PORT`` at each call), and reads ``ItemReader`` objects from S3 through the same
address. Point ``MOTO_PORT`` at an `InvokeServer` and each task runs a real handler
function, with a Lambda-like context, while S3 and every other request reach moto
unchanged:

    handlers = {"lister": lister.handler, "worker": worker.handler}
    with InvokeServer(moto.endpoint_url, handlers) as server:
        monkeypatch.setenv("MOTO_PORT", str(server.port))
        sfn.start_execution(stateMachineArn=arn, name="run-1", input="{}")

Names: the engine sends the ``FunctionName`` it was given, URL-encoded, so a whole
function ARN arrives too; the last ``:``-separated part that is not a version or alias
(``function:<name>[:<qualifier>]``) is the name looked up.

Errors: a handler that raises answers 200 with ``X-Amz-Function-Error: Unhandled`` and
Lambda's error body (``errorType``, ``errorMessage``), which the engine turns into a
``TaskFailed`` with the exception's name. An unknown function name is Lambda's 404
``ResourceNotFoundException``.

Example:
    >>> now = [0.0]
    >>> context = InvocationContext("worker", timeout=3.0, clock=lambda: now[0])
    >>> now[0] += 1.25
    >>> context.function_name, context.get_remaining_time_in_millis()
    ('worker', 1750)
    >>> function_name("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aworker")
    'worker'
    >>> function_name("arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST")
    'worker'
    >>> function_name("worker")
    'worker'
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from emulators.relay import RelayingHandler
from lambda_assume_role.invocation import Countdown, MonotonicClock

__all__ = ["Handler", "Invocation", "InvocationContext", "InvokeServer", "function_name"]

Handler = Callable[[Any, Any], Any]
"""A Lambda handler: ``handler(event, context) -> JSON-ready value``."""

TimeoutFor = Callable[[str, Any], float]
"""``timeout_for(name, event) -> seconds``: the time an invocation's context starts with."""

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def function_name(raw: str) -> str:
    """The function name in a (possibly URL-encoded) name, partial ARN or ARN with qualifier."""
    name = unquote(raw)
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    return name.split(":", 1)[0]


class InvocationContext(Countdown):
    """A Lambda context as awslambdaric builds it: its attributes, and a countdown to its deadline.

    The countdown is `lambda_assume_role.invocation.Countdown`, the library's own
    Lambda-context-like deadline, so the emulator and the library measure time
    left the same way. Attributes have the types awslambdaric gives them
    (``memory_limit_in_mb`` is a string, ``tenant_id`` None outside tenant
    isolation mode).

    Args:
        function_name: ``context.function_name``.
        timeout: Seconds the invocation may run; ``get_remaining_time_in_millis``
            counts down from it on ``clock``.
        tenant_id: ``context.tenant_id``, as Lambda's tenant isolation mode sets it.
        clock: The monotonic clock the countdown reads (`time.monotonic`; a test
            passes one it moves itself).
    """

    def __init__(
        self,
        function_name: str,
        *,
        timeout: float = 60.0,
        tenant_id: str | None = None,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = "256"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"2026/11/30/[$LATEST]{uuid.uuid4().hex}"
        self.tenant_id = tenant_id

    def __repr__(self) -> str:
        return f"InvocationContext({self.function_name!r}, remaining={self.remaining():.3f})"


@dataclass(frozen=True)
class Invocation:
    """One Invoke this server answered."""

    name: str
    event: Any
    error: str | None  # the exception's type name, or None when the handler returned
    result: Any = None
    started: float = 0.0  # time.monotonic() when the handler was called
    seconds: float = 0.0  # how long the handler ran


@dataclass
class _Log:
    items: list[Invocation] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class InvokeServer:
    """A loopback HTTP server: Invoke runs ``handlers[name]``, anything else is relayed upstream.

    Args:
        upstream_url: moto's endpoint, e.g. ``http://127.0.0.1:5123``.
        handlers: Function name to handler.
        timeout_for: The remaining time each invocation's context starts with;
            default 60 s for every invocation.
    """

    def __init__(
        self,
        upstream_url: str,
        handlers: Mapping[str, Handler],
        *,
        timeout_for: TimeoutFor | None = None,
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream_url needs a host and a port; got {upstream_url!r}")
        self._upstream = parts
        self._handlers = dict(handlers)
        self._timeout_for = timeout_for or (lambda name, event: 60.0)
        self._log = _Log()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port to put in ``MOTO_PORT``."""
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def invocations(self) -> list[Invocation]:
        """Every Invoke answered so far, in the order they finished."""
        with self._log.lock:
            return list(self._log.items)

    def start(self) -> InvokeServer:
        """Listen on 127.0.0.1, on a port the OS picks."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> InvokeServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _invoke(self, name: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        handler = self._handlers.get(name)
        if handler is None:
            error = {"Type": "User", "Message": f"Function not found: {name}"}
            headers = {"x-amzn-ErrorType": "ResourceNotFoundException"}
            return 404, headers, json.dumps(error).encode()
        event = json.loads(body) if body else {}
        context = InvocationContext(name, timeout=self._timeout_for(name, event))
        started = time.monotonic()
        try:
            result = handler(event, context)
        except Exception as exc:  # Lambda reports any exception as an Unhandled function error
            seconds = time.monotonic() - started
            self._record(Invocation(name, event, type(exc).__name__, None, started, seconds))
            payload = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            return 200, {"X-Amz-Function-Error": "Unhandled"}, json.dumps(payload).encode()
        seconds = time.monotonic() - started
        self._record(Invocation(name, event, None, result, started, seconds))
        return 200, {}, json.dumps(result).encode()

    def _record(self, invocation: Invocation) -> None:
        with self._log.lock:
            self._log.items.append(invocation)

    def _request_handler(self) -> type[RelayingHandler]:
        server = self

        class RequestHandler(RelayingHandler):
            def _handle(self) -> None:
                body = self._read_body()
                match = _INVOKE_PATH.match(urlsplit(self.path).path)
                if self.command == "POST" and match:
                    status, headers, payload = server._invoke(function_name(match["name"]), body)
                    self._send(
                        status, [*headers.items(), ("Content-Type", "application/json")], payload
                    )
                else:
                    self._send(*self.relay(server._upstream, body))

        return RequestHandler
