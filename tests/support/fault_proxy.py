"""A loopback HTTP proxy in front of moto that can be told to make STS (or any query-protocol
action) fail: throttle, 500, AccessDenied, or a dropped connection.

botocore talks real HTTP to it (``AWS_ENDPOINT_URL`` points here), so retries, connection
pooling and error parsing are botocore's own. Every request is forwarded on a fresh upstream
connection; the client side keeps HTTP/1.1 keep-alive so urllib3's pool is exercised too.

    with FaultProxy(moto.endpoint_url) as proxy:
        proxy.fail("AssumeRole", "throttle", times=1)
        ...
        assert proxy.faulted("AssumeRole") == 1
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import sys
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit

FaultMode = Literal["throttle", "server_error", "drop"]

ANY_ACTION = "*"
"""Pass as ``action`` to fault every request, whatever its action."""

_STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

# Hop-by-hop headers (RFC 9110 section 7.6.1) plus the framing headers we recompute.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


@dataclass
class _Rule:
    mode: Literal["throttle", "server_error", "drop", "deny"]
    remaining: int | None  # None: until heal()
    code: str = ""
    message: str = ""


def _error_body(error_type: str, code: str, message: str, request_id: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{_STS_XMLNS}"><Error><Type>{error_type}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _action_of(path: str, headers: Message, body: bytes) -> str:
    """The API action: ``Action`` in a form body or query string, else the X-Amz-Target suffix."""
    if body and "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    action = parse_qs(urlsplit(path).query).get("Action")
    if action:
        return action[0]
    return headers.get("X-Amz-Target", "").rpartition(".")[2]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default (5) makes bursts of connects wait for SYN retries

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        self.accepted = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._live_lock:
            self._live.add(sock)
            self.accepted += 1
        return sock, addr

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up is routine
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_live_connections(self) -> None:
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 60  # idle keep-alive connections are reaped after this

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, headers: list[tuple[str, str]], body: bytes, length: str | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", length if length is not None else str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)
        self.wfile.flush()

    def _handle(self) -> None:
        body = self._read_body()
        action = _action_of(self.path, self.headers, body)
        rule = self.server.proxy._take_fault(action)
        if rule is None:
            self._forward(body)
            return
        if rule.mode == "drop":
            self.close_connection = True
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        request_id = str(uuid.uuid4())
        status, error_type, code, message = {
            "throttle": (400, "Sender", "Throttling", "Rate exceeded"),
            "server_error": (500, "Receiver", "InternalFailure", "Injected internal failure"),
            "deny": (403, "Sender", rule.code, rule.message),
        }[rule.mode]
        self._send(
            status,
            [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
            _error_body(error_type, code, message, request_id),
        )

    def _forward(self, body: bytes) -> None:
        upstream = self.server.proxy._upstream
        host = upstream.hostname or "127.0.0.1"
        conn = http.client.HTTPConnection(host, upstream.port, timeout=60)
        length: str | None = None
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            headers["Connection"] = "close"
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            relayed = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            status = response.status
            if self.command == "HEAD":  # no body to measure: relay the upstream's length
                length = response.getheader("Content-Length")
        except OSError as exc:
            status, relayed, payload = 502, [("Content-Type", "text/plain")], repr(exc).encode()
        finally:
            conn.close()
        self._send(status, relayed, payload, length)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 (ephemeral port) in front of ``upstream``, with injected faults.

    Faults match on the request's API action (``Action=`` form/query parameter, or the
    ``X-Amz-Target`` suffix for JSON protocols); ``"*"`` matches every action. One rule per
    action: a later ``fail``/``deny`` for the same action replaces the earlier one.
    """

    def __init__(self, upstream: str) -> None:
        self._upstream = urlsplit(upstream)
        if self._upstream.scheme != "http" or self._upstream.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._lock = threading.Lock()
        self._rules: dict[str, _Rule] = {}
        self._forwarded: Counter[str] = Counter()
        self._faulted: Counter[str] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},  # stop() waits up to one poll interval
                name="fault-proxy",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_live_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (keep-alive reuse keeps this low)."""
        return self._server.accepted if self._server is not None else 0

    # -- faults ----------------------------------------------------------------------------

    def fail(
        self, action: str = "AssumeRole", mode: FaultMode = "throttle", times: int | None = None
    ) -> None:
        """Answer the next ``times`` requests for ``action`` (None: all, until heal()) with a fault.

        ``throttle``: 400 Sender/Throttling. ``server_error``: 500 Receiver/InternalFailure.
        ``drop``: read the request, then close the connection without any response.
        """
        if mode not in ("throttle", "server_error", "drop"):
            raise ValueError(f"unknown fault mode {mode!r}")
        self._set(action, _Rule(mode, times))

    def deny(
        self,
        action: str = "AssumeRole",
        code: str = "AccessDenied",
        message: str = "User is not authorized to perform: sts:AssumeRole",
        times: int | None = None,
    ) -> None:
        """Answer requests for ``action`` with 403 and the given error code (until heal())."""
        self._set(action, _Rule("deny", times, code, message))

    def heal(self) -> None:
        """Clear every fault rule (counters are kept)."""
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """Clear fault rules and counters."""
        with self._lock:
            self._rules.clear()
            self._forwarded.clear()
            self._faulted.clear()

    def _set(self, action: str, rule: _Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._rules[action] = rule

    def _take_fault(self, action: str) -> _Rule | None:
        """Decide, atomically, whether this request is faulted; count it either way."""
        with self._lock:
            key = action if action in self._rules else ANY_ACTION
            rule = self._rules.get(key)
            if rule is None:
                self._forwarded[action] += 1
                return None
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    del self._rules[key]
            self._faulted[action] += 1
            return rule

    # -- counters --------------------------------------------------------------------------

    def forwarded(self, action: str) -> int:
        """Requests for ``action`` relayed to the upstream."""
        with self._lock:
            return self._forwarded[action]

    def faulted(self, action: str) -> int:
        """Requests for ``action`` answered with an injected fault."""
        with self._lock:
            return self._faulted[action]

    def attempts(self, action: str) -> int:
        """All requests for ``action`` that reached the proxy."""
        with self._lock:
            return self._forwarded[action] + self._faulted[action]
