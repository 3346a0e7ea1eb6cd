"""The fault proxy lives in `emulators.fault_proxy`; this name is kept for existing imports."""

from __future__ import annotations

from emulators.fault_proxy import (
    ANY_ACTION,
    FaultMode,
    FaultProxy,
    Transform,
    TruncateMarkerNotFoundError,
    assume_role_body,
    cut_after,
    drop_element,
    set_element,
)

__all__ = [
    "ANY_ACTION",
    "FaultMode",
    "FaultProxy",
    "Transform",
    "TruncateMarkerNotFoundError",
    "assume_role_body",
    "cut_after",
    "drop_element",
    "set_element",
]
