"""A moto server on 127.0.0.1 that records every request it answers.

botocore signs, sends and parses real HTTP requests against it. Counting happens
here, at the server, so tests never need to mock botocore to know how many
AssumeRole calls were made or which access key signed a request.

The log also knows when each request arrived (on the clock time-machine moves, since the
server runs in this process) and which temporary keys this server issued with which
Expiration, so it can list the requests signed with keys that had already expired
(`RequestLog.signed_after_expiry`): moto itself accepts them, AWS would answer
ExpiredToken.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, make_server

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ISSUED_KEY = re.compile(rb"<AccessKeyId>\s*([^<\s]+)\s*</AccessKeyId>")
_EXPIRATION = re.compile(rb"<Expiration>\s*([^<\s]+)\s*</Expiration>")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: STS actions whose answer carries new temporary keys (``<Credentials>``).
ISSUING_ACTIONS = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetFederationToken",
        "GetSessionToken",
    }
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as moto received it.

    ``received_at`` is when it arrived, on this process's clock (time-machine moves it),
    aware UTC; None only for records built by hand.
    """

    service: str
    action: str
    access_key: str
    region: str
    params: dict[str, str]
    received_at: datetime | None = None


@dataclass
class RequestLog:
    """Thread-safe list of recorded requests, and the temporary keys the server issued."""

    _items: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _expirations: dict[str, datetime] = field(default_factory=dict)

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def record_issued(self, access_key: str, expiration: datetime) -> None:
        """Note that this server issued ``access_key``, valid until ``expiration``."""
        with self._lock:
            self._expirations[access_key] = expiration

    def issued(self) -> dict[str, datetime]:
        """Every access key issued by a successful AssumeRole (or another issuing STS
        action, `ISSUING_ACTIONS`) since the last ``clear()``, with its Expiration."""
        with self._lock:
            return dict(self._expirations)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._expirations.clear()

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def count(self, action: str, service: str | None = None) -> int:
        return len(self.matching(action, service))

    def matching(self, action: str, service: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.all()
            if r.action == action and (service is None or r.service == service)
        ]

    def signed_after_expiry(self, action: str | None = None) -> list[RecordedRequest]:
        """Requests signed with keys this server issued that had expired when they arrived.

        A request counts when its access key came from a successful AssumeRole (or another
        issuing STS action) answered by this server and that answer's Expiration is at or
        before the request's ``received_at``. moto answers such requests; AWS would refuse
        them (ExpiredToken). Keys the server did not issue (a parent's static keys) never
        count.

        Args:
            action: Only requests for this API action; None: every action.
        """
        with self._lock:
            items = list(self._items)
            expirations = dict(self._expirations)
        return [
            r
            for r in items
            if (action is None or r.action == action)
            and r.received_at is not None
            and r.access_key in expirations
            and expirations[r.access_key] <= r.received_at
        ]


def _issued_key(body: bytes) -> tuple[str, datetime] | None:
    """The AccessKeyId and Expiration (aware UTC) in an STS answer, if it has both.

    Example:
        >>> _issued_key(b"<R xmlns='x'><Credentials><AccessKeyId>ASIAX</AccessKeyId>"
        ...             b"<Expiration>2026-11-23T12:15:00.000Z</Expiration></Credentials></R>")
        ('ASIAX', datetime.datetime(2026, 11, 23, 12, 15, tzinfo=datetime.timezone.utc))
        >>> _issued_key(b"<ErrorResponse/>") is None
        True
    """
    key, expiration = _ISSUED_KEY.search(body), _EXPIRATION.search(body)
    if key is None or expiration is None:
        return None
    try:
        when = datetime.fromisoformat(expiration.group(1).decode().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return key.group(1).decode(), when.astimezone(timezone.utc)


def _recording_middleware(app: WSGIApp, log: RequestLog) -> WSGIApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        received_at = datetime.now(timezone.utc)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params: dict[str, str] = {}
        if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        action = params.get("Action") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if not action:
            action = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region, service = match.groups() if match else ("", "", "")
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            log.append(RecordedRequest(service, action, access_key, region, params, received_at))
        if action not in ISSUING_ACTIONS:
            return app(environ, start_response)
        return _recording_issued(app, environ, start_response, log)

    return wrapped


def _recording_issued(
    app: WSGIApp, environ: dict[str, Any], start_response: Callable[..., Any], log: RequestLog
) -> Iterable[bytes]:
    """Run ``app`` for an issuing STS action, collect its answer and note the keys it issued."""
    statuses: list[str] = []

    def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
        statuses.append(status)
        return start_response(status, headers, *args)

    answer = app(environ, recording_start_response)
    try:
        body = b"".join(answer)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    if statuses and statuses[-1].startswith("200"):
        issued = _issued_key(body)
        if issued is not None:
            log.record_issued(*issued)
    return [body]


class MotoServer:
    """moto's backend app behind a werkzeug server on 127.0.0.1, port chosen by the OS."""

    def __init__(self) -> None:
        self.requests = RequestLog()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        app = _recording_middleware(DomainDispatcherApplication(create_backend_app), self.requests)
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """Forget all moto state and all recorded requests."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.requests.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
