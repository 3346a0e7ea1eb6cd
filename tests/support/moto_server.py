"""The recording moto server lives in `emulators.moto_server`; this name is kept for imports."""

from __future__ import annotations

from emulators.moto_server import MotoServer, RecordedRequest, RequestLog

__all__ = ["MotoServer", "RecordedRequest", "RequestLog"]
