"""A moto server on 127.0.0.1 that records every request it answers.

botocore signs, sends and parses real HTTP requests against it. Counting happens
here, at the server, so tests never need to mock botocore to know how many
AssumeRole calls were made or which access key signed a request.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, make_server

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as moto received it."""

    service: str
    action: str
    access_key: str
    region: str
    params: dict[str, str]


@dataclass
class RequestLog:
    """Thread-safe list of recorded requests."""

    _items: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

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


def _recording_middleware(app: WSGIApp, log: RequestLog) -> WSGIApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
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
            log.append(RecordedRequest(service, action, access_key, region, params))
        return app(environ, start_response)

    return wrapped


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
