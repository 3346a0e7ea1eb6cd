"""Throttling error codes agree with botocore's: telemetry counts them, fan-out retries them."""

from __future__ import annotations

import pytest

from lambda_assume_role.retry import THROTTLING_CODES


def test_throttling_codes_are_botocores() -> None:
    from botocore.retries import standard

    theirs = getattr(standard.ThrottledRetryableChecker, "_THROTTLED_ERROR_CODES", None)
    if theirs is None:  # pragma: no cover - botocore renamed it: re-read its retry module
        pytest.fail("botocore.retries.standard.ThrottledRetryableChecker has no code list")
    assert set(theirs) == THROTTLING_CODES
