"""A request handler that relays HTTP requests to an upstream server, for the emulators.

The fault proxy and the Lambda Invoke server both stand in front of moto: they
answer some requests themselves and relay the rest. The relaying (hop-by-hop
headers dropped, the body re-framed, HEAD kept bodiless) lives here, once.
"""

from __future__ import annotations

import http.client
from http.server import BaseHTTPRequestHandler
from urllib.parse import SplitResult

__all__ = ["HOP_BY_HOP", "Relayed", "RelayingHandler"]

# Hop-by-hop headers (RFC 9110 section 7.6.1) plus the framing headers we recompute.
HOP_BY_HOP = frozenset(
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

Relayed = tuple[int, list[tuple[str, str]], bytes, "str | None"]
"""An upstream answer: status, relayable headers, body, and a HEAD answer's length."""


class RelayingHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 handler whose methods all go to ``_handle``; ``relay`` asks the upstream.

    Subclasses implement ``_handle`` (read the body with ``_read_body``, answer
    with ``_send``, or pass the request on with ``relay``).
    """

    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections are reaped after this

    def _handle(self) -> None:
        raise NotImplementedError

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the emulators record what tests need."""

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
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", length if length is not None else str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)
        self.wfile.flush()

    def relay(self, upstream: SplitResult, body: bytes) -> Relayed:
        """Send this request to ``upstream`` on a fresh connection and return its answer.

        A connection failure is a 502 whose body names the error.
        """
        host = upstream.hostname or "127.0.0.1"
        conn = http.client.HTTPConnection(host, upstream.port, timeout=60)
        length: str | None = None
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            headers["Connection"] = "close"
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            relayed = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            status = response.status
            if self.command == "HEAD":  # no body to measure: relay the upstream's length
                length = response.getheader("Content-Length")
        except OSError as exc:
            status, relayed, payload = 502, [("Content-Type", "text/plain")], repr(exc).encode()
        finally:
            conn.close()
        return status, relayed, payload, length

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
