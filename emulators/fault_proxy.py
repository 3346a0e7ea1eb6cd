"""A loopback HTTP proxy in front of moto that can be told to make STS (or any query-protocol
action) fail, hang, or answer with a broken body.

botocore talks real HTTP to it (``AWS_ENDPOINT_URL`` points here), so retries, connection
pooling, timeouts and response parsing are botocore's own. Every request is forwarded on a
fresh upstream connection; the client side keeps HTTP/1.1 keep-alive so urllib3's pool is
exercised too.

    with FaultProxy(moto.endpoint_url) as proxy:
        proxy.fail("AssumeRole", "throttle", times=1)
        ...
        assert proxy.faulted("AssumeRole") == 1

Faults (one rule per action; a later rule for the same action replaces the earlier one;
``times=None`` keeps it until ``heal()``):

- ``fail(action, "throttle")``: 400 Sender/Throttling.
- ``fail(action, "server_error")``: 500 Receiver/InternalFailure.
- ``fail(action, "drop")``: read the request, close the connection without a response.
- ``fail(action, "hang")``: read the request and never answer, holding the socket open, until
  ``heal()`` or ``stop()`` releases it (then the connection is closed with no response). The
  caller sees its read timeout. ``hanging`` and ``wait_hanging()`` tell a test when a request
  is being held.
- ``fail(action, "truncate", truncate_after=...)``: forward to moto, then answer 200 with the
  real body cut short, with a Content-Length that matches the cut body. ``truncate_after`` is
  a marker (cut right after its first occurrence; default ``"</SessionToken>"``, which leaves
  the access key, secret key and token in a body botocore's XML parser rejects) or a byte
  count.
- ``deny(action, code, message)``: 403 with that error code.
- ``respond(action, body, status=200)``: answer with exactly this body, without asking moto
  (HTML, a missing element, a bad date: see ``assume_role_body``).
- ``rewrite(action, transform)``: forward to moto, then answer with ``transform(body)`` and
  moto's status: real, working keys in a changed answer (see ``drop_element``,
  ``set_element``, ``cut_after``).

Counters: ``forwarded(action)`` counts requests relayed with moto's answer unchanged;
``faulted(action)`` counts every request whose answer was injected or altered (including
truncate and rewrite, which also reach moto); ``attempts(action)`` is their sum.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

from emulators.relay import Relayed, RelayingHandler

FaultMode = Literal["throttle", "server_error", "drop", "hang", "truncate", "echo", "trickle"]

Transform = Callable[[bytes], bytes]
"""Turns moto's response body into the body the client receives."""

ANY_ACTION = "*"
"""Pass as ``action`` to fault every request, whatever its action."""

_STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


_HANG_LIMIT_S = 600.0  # a hung handler gives up on its own if nobody heals or stops the proxy


@dataclass
class _Rule:
    mode: Literal[
        "throttle", "server_error", "drop", "deny", "hang", "rewrite", "respond", "echo", "trickle"
    ]
    remaining: int | None  # None: until heal()
    code: str = ""
    message: str = ""
    transform: Transform | None = None  # rewrite: applied to moto's body
    status: int | None = None  # rewrite: override moto's status; respond: the status
    body: bytes = b""  # respond
    content_type: str = "text/xml"  # respond
    interval: float = 1.0  # trickle: seconds between bytes


@dataclass
class _Fault:
    rule: _Rule
    release: threading.Event  # hang: set by heal() or stop()


class TruncateMarkerNotFoundError(ValueError):
    """A ``truncate``/``cut_after`` marker that the upstream body does not contain."""


def cut_after(point: str | int) -> Transform:
    """A transform that keeps the body up to and including ``point``.

    Args:
        point: A marker (the body is cut right after its first occurrence) or a byte count.

    Returns:
        The transform. It raises ``TruncateMarkerNotFoundError`` when the marker is absent; the
        proxy then answers 502 and records the error in ``FaultProxy.errors``.

    Example:
        >>> cut_after("</b>")(b"<a><b>1</b><c>2</c></a>")
        b'<a><b>1</b>'
        >>> cut_after(3)(b"<a><b>1</b></a>")
        b'<a>'
    """
    if isinstance(point, int):
        if point < 0:
            raise ValueError(f"a byte count to cut after must be >= 0, got {point}")
        return lambda body: body[:point]
    if not point:
        raise ValueError("the marker to cut after must not be empty")
    marker = point.encode()

    def cut(body: bytes) -> bytes:
        index = body.find(marker)
        if index < 0:
            raise TruncateMarkerNotFoundError(f"{point!r} is not in the {len(body)}-byte body")
        return body[: index + len(marker)]

    return cut


def drop_element(name: str) -> Transform:
    """A transform that removes every ``<name>...</name>`` element (e.g. ``Expiration``).

    Example:
        >>> drop_element("Expiration")(b"<C><Key>k</Key><Expiration>x</Expiration></C>")
        b'<C><Key>k</Key></C>'
    """
    pattern = re.compile(
        rb"<%s>.*?</%s>" % (re.escape(name.encode()), re.escape(name.encode())), re.S
    )
    return lambda body: pattern.sub(b"", body)


def set_element(name: str, text: str) -> Transform:
    """A transform that replaces the text of every ``<name>`` element (e.g. a past Expiration).

    Example:
        >>> set_element("Expiration", "2000-01-01T00:00:00Z")(b"<Expiration>x</Expiration>")
        b'<Expiration>2000-01-01T00:00:00Z</Expiration>'
    """
    tag = re.escape(name.encode())
    pattern = re.compile(rb"(<%s>).*?(</%s>)" % (tag, tag), re.S)
    replacement = text.encode()
    return lambda body: pattern.sub(lambda m: m.group(1) + replacement + m.group(2), body)


def assume_role_body(
    *,
    access_key_id: str = "ASIAFAULTPROXYEXAMPLE",
    secret_access_key: str = "fault-proxy-secret-access-key",  # noqa: S107 (a fake, for tests)
    session_token: str = "fault-proxy-session-token",  # noqa: S107
    expiration: datetime | str | None = None,
    role_arn: str = "arn:aws:sts::123456789012:assumed-role/Probe/probe",
    omit: Collection[str] = (),
) -> bytes:
    """A well-formed STS AssumeRole answer, for ``respond()``.

    Args:
        access_key_id: The ``AccessKeyId`` text.
        secret_access_key: The ``SecretAccessKey`` text.
        session_token: The ``SessionToken`` text.
        expiration: A datetime (written as ISO 8601 UTC) or raw text (e.g. ``"not-a-date"``);
            None (the default) means one hour from now.
        role_arn: The ``AssumedRoleUser`` ARN.
        omit: Names of ``Credentials`` elements to leave out, e.g. ``("SessionToken",)``.

    Returns:
        The XML body.

    Example:
        >>> b"<SessionToken>" in assume_role_body(omit=("SessionToken",))
        False
    """
    if isinstance(expiration, datetime):
        expiration = expiration.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif expiration is None:
        expiration = datetime.fromtimestamp(time.time() + 3600, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    elements = [
        ("AccessKeyId", access_key_id),
        ("SecretAccessKey", secret_access_key),
        ("SessionToken", session_token),
        ("Expiration", expiration),
    ]
    unknown = set(omit) - {name for name, _ in elements}
    if unknown:
        raise ValueError(f"cannot omit {sorted(unknown)}: not a Credentials element")
    credentials = "".join(f"<{n}>{v}</{n}>" for n, v in elements if n not in omit)
    session_name = role_arn.rpartition("/")[2]
    return (
        f'<AssumeRoleResponse xmlns="{_STS_XMLNS}"><AssumeRoleResult>'
        f"<Credentials>{credentials}</Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROAFAULTPROXY:{session_name}</AssumedRoleId>"
        f"<Arn>{role_arn}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>"
        f"</AssumeRoleResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ResponseMetadata></AssumeRoleResponse>"
    ).encode()


def _error_body(error_type: str, code: str, message: str, request_id: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{_STS_XMLNS}"><Error><Type>{error_type}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _echo(handler: BaseHTTPRequestHandler, body: bytes) -> str:
    """The request, as a careless proxy puts it in an error: every header, then the body."""
    lines = [f"{name}: {value}" for name, value in handler.headers.items()]
    text = f"Bad request {handler.command} {handler.path} " + "; ".join(lines)
    text += " body=" + body.decode("utf-8", "replace")
    return xml_escape(text)


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


class _Handler(RelayingHandler):
    server: _Server

    def _handle(self) -> None:
        body = self._read_body()
        action = _action_of(self.path, self.headers, body)
        proxy = self.server.proxy
        fault = proxy._take_fault(action)
        if fault is None:
            self._send(*self._fetch(body))
            return
        rule = fault.rule
        if rule.mode == "hang":
            try:
                fault.release.wait(_HANG_LIMIT_S)
            finally:
                proxy._unhang()
            self._hang_up()
            return
        if rule.mode == "drop":
            self._hang_up()
            return
        if rule.mode == "trickle":
            self._trickle(self._fetch(body), rule.interval, fault.release)
            return
        if rule.mode == "echo":
            request_id = str(uuid.uuid4())
            self._send(
                500,
                [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
                _error_body("Receiver", "InternalFailure", _echo(self, body), request_id),
            )
            return
        if rule.mode == "respond":
            self._send(
                rule.status or 200,
                [("Content-Type", rule.content_type), ("x-amzn-RequestId", str(uuid.uuid4()))],
                rule.body,
            )
            return
        if rule.mode == "rewrite":
            assert rule.transform is not None
            status, relayed, payload, length = self._fetch(body)
            try:
                payload = rule.transform(payload)
            except Exception as error:  # reported to the test through proxy.errors
                proxy._record_error(f"{action}: {error}")
                self._send(502, [("Content-Type", "text/plain")], f"fault proxy: {error}".encode())
                return
            self._send(rule.status or status, relayed, payload, length)
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

    def _trickle(self, relayed: Relayed, interval: float, release: threading.Event) -> None:
        """Send the status and headers at once, then the body one byte per ``interval``.

        Each byte arrives well within any read timeout, so only a cap on the whole
        call stops the wait. Stops (closing the connection) at heal() or stop().
        """
        status, headers, payload, _ = relayed
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.flush()
        for index in range(len(payload)):
            if release.wait(interval):
                break
            try:
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
            except OSError:  # the client walked away
                break
        self.close_connection = True
        self._hang_up()

    def _hang_up(self) -> None:
        """Close the connection without sending anything."""
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _fetch(self, body: bytes) -> Relayed:
        """Relay the request upstream: its status, relayable headers, body and HEAD length."""
        return self.relay(self.server.proxy._upstream, body)


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
        self._hang_changed = threading.Condition(self._lock)
        self._rules: dict[str, _Rule] = {}
        self._forwarded: Counter[str] = Counter()
        self._faulted: Counter[str] = Counter()
        self._release = threading.Event()  # replaced by each heal(): held requests wait on it
        self._hanging = 0
        self._errors: list[str] = []
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
        """Release every held request, close every connection and stop serving."""
        self._release_hung()
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
        self,
        action: str = "AssumeRole",
        mode: FaultMode = "throttle",
        times: int | None = None,
        *,
        truncate_after: str | int = "</SessionToken>",
        interval: float = 1.0,
    ) -> None:
        """Answer the next ``times`` requests for ``action`` (None: all, until heal()) with a fault.

        Args:
            action: The API action, or ``"*"`` for every action.
            mode: ``throttle``: 400 Sender/Throttling. ``server_error``: 500
                Receiver/InternalFailure. ``drop``: read the request, then close the
                connection without any response. ``hang``: read the request and hold the
                connection without answering until ``heal()`` or ``stop()``, then close it.
                ``truncate``: forward to moto and answer 200 with its body cut short.
                ``echo``: 500 Receiver/InternalFailure whose message echoes the request
                (its headers, the signature and any session token included, and its
                body), as a careless proxy in front of STS might. ``trickle``: forward
                to moto, send the status and headers at once, then the body one byte
                every ``interval`` seconds (until heal() or stop()).
            times: How many requests to fault; None: until ``heal()``.
            truncate_after: For ``truncate``: a marker to cut right after (its first
                occurrence), or a byte count to keep.
            interval: For ``trickle``: seconds between bytes.

        Raises:
            ValueError: An unknown mode, ``times`` < 1, or a bad ``truncate_after``.
        """
        if mode == "truncate":
            self._set(
                action, _Rule("rewrite", times, transform=cut_after(truncate_after), status=200)
            )
        elif mode == "trickle":
            self._set(action, _Rule("trickle", times, interval=interval))
        elif mode in ("throttle", "server_error", "drop", "hang", "echo"):
            self._set(action, _Rule(mode, times))
        else:
            raise ValueError(f"unknown fault mode {mode!r}")

    def respond(
        self,
        action: str,
        body: bytes | str,
        status: int = 200,
        *,
        content_type: str = "text/xml",
        times: int | None = None,
    ) -> None:
        """Answer requests for ``action`` with exactly this body, without asking moto.

        For malformed 200s: HTML (``content_type="text/html"``), or ``assume_role_body()``
        with an element left out, a bad date or an expiry in the past.
        """
        data = body.encode() if isinstance(body, str) else body
        rule = _Rule("respond", times, status=status, body=data, content_type=content_type)
        self._set(action, rule)

    def rewrite(
        self,
        action: str,
        transform: Transform,
        *,
        status: int | None = None,
        times: int | None = None,
    ) -> None:
        """Forward requests for ``action`` to moto, then answer with ``transform(moto's body)``.

        The status is moto's unless ``status`` is given. A transform that raises makes the
        proxy answer 502; the error is kept in ``errors``.
        """
        self._set(action, _Rule("rewrite", times, transform=transform, status=status))

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
        """Clear every fault rule and release held (``hang``) requests; counters are kept."""
        with self._lock:
            self._rules.clear()
        self._release_hung()

    def reset(self) -> None:
        """Clear fault rules, counters and errors; release held requests."""
        with self._lock:
            self._rules.clear()
            self._forwarded.clear()
            self._faulted.clear()
            self._errors.clear()
        self._release_hung()

    def _release_hung(self) -> None:
        with self._lock:
            release, self._release = self._release, threading.Event()
        release.set()

    def _unhang(self) -> None:
        with self._lock:
            self._hanging -= 1
            self._hang_changed.notify_all()

    def _record_error(self, error: str) -> None:
        with self._lock:
            self._errors.append(error)

    def _set(self, action: str, rule: _Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._rules[action] = rule

    def _take_fault(self, action: str) -> _Fault | None:
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
            if rule.mode == "hang":
                self._hanging += 1
                self._hang_changed.notify_all()
            # The release event is taken under the lock, so a heal() that runs after this
            # point always releases this request.
            return _Fault(rule, self._release)

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

    @property
    def hanging(self) -> int:
        """Requests held open right now by a ``hang`` fault."""
        with self._lock:
            return self._hanging

    def wait_hanging(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests are held; False if ``timeout`` passes first."""
        with self._hang_changed:
            return self._hang_changed.wait_for(lambda: self._hanging >= count, timeout)

    @property
    def errors(self) -> list[str]:
        """Problems the proxy met while faulting (e.g. a truncate marker not in the body)."""
        with self._lock:
            return list(self._errors)
