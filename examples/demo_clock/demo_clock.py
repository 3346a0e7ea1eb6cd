"""Demo only: a handler wrapper that lets ``examples/demo.py`` move this process's clock.

The demo runs the multi-tenant example with ``_HANDLER=demo_clock.handler`` and
this folder (plus time-machine) on its path. Before each invocation the wrapper
reads how far the demo has moved its own clock (seconds, in ``DEMO_CLOCK_FILE``)
and catches up with time-machine, which moves ``time.time()`` and
``datetime.now()`` for the whole process. Then it calls the example's handler.

Checking on each invocation, rather than in a watcher thread, makes the move
land exactly between two invocations. It is a wrapper, not ``sitecustomize``,
because the runtime runs with ``python -S``, which never imports ``sitecustomize``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import app  # the example's handler module: its init runs during the runtime's init
import time_machine

_CONTROL_FILE = Path(os.environ["DEMO_CLOCK_FILE"])
_offset = 0.0


def _follow_the_demo_clock() -> None:
    global _offset  # noqa: PLW0603 (one process, one clock)
    wanted = float(_CONTROL_FILE.read_text() or 0)
    if wanted != _offset:
        # tick=True: the clock keeps running from the new time.
        time_machine.travel(time.time() + wanted - _offset, tick=True).start()
        _offset = wanted


def handler(event: Any, context: Any) -> Any:
    """Move the clock if the demo moved its own, then run the example's handler."""
    _follow_the_demo_clock()
    return app.handler(event, context)
