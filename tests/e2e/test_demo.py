"""``make demo`` keeps working: it exits 0 and shows warm reuse and the refresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_shows_warm_reuse_and_a_refresh_after_the_clock_moves() -> None:
    # A process of its own: the demo moves its clock with time-machine.
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "clock moved 16 min forward" in result.stdout
    assert "for 2 tenants made 2 AssumeRole calls: one per tenant, then reuse" in result.stdout
    assert "2 more, one refresh per tenant" in result.stdout
