"""The Runtime API emulator lives in `emulators.runtime_api`; this name is kept for imports."""

from __future__ import annotations

from emulators.runtime_api import (
    InvocationResult,
    RuntimeAPIEmulator,
    lambda_environment,
    start_runtime,
    stop_runtime,
)

__all__ = [
    "InvocationResult",
    "RuntimeAPIEmulator",
    "lambda_environment",
    "start_runtime",
    "stop_runtime",
]
