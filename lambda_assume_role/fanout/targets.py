"""Targets of a fan-out (an account, and optionally a region) and the outcome of each.

`Target` is what `fan_out` works on and what `organization_accounts` yields;
`Target.parse` accepts every form a caller may hold (an account id, a
`Target`, or a JSON-ready mapping such as those in ``run.remaining``), so
leftovers from one run are the targets of the next.

Example:
    >>> Target.parse("123456789012")
    Target(account_id='123456789012', region=None)
    >>> Target.parse({"account_id": "123456789012", "region": "eu-west-1"}).as_dict()
    {'account_id': '123456789012', 'region': 'eu-west-1'}
    >>> Target.parse("1234")
    Traceback (most recent call last):
    ...
    lambda_assume_role.errors.InvalidParameterError: target account_id must be 12 digits; got '1234'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambda_assume_role.arns import is_account_id
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.parameters import check_region_name

__all__ = ["Outcome", "Phase", "Target", "TargetSpec"]

Phase = Literal["assume", "work"]
"""Where a target failed: ``"assume"`` (no credentials) or ``"work"`` (``work`` raised)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One account, and optionally one region, to do work in.

    Attributes:
        account_id: The 12-digit account id.
        region: The region, or None for the default (the parent's region).
    """

    account_id: str
    region: str | None = None

    def __post_init__(self) -> None:
        if not is_account_id(self.account_id):
            raise InvalidParameterError(
                f"target account_id must be 12 digits; got {self.account_id!r}"
            )
        if self.region is not None:
            check_region_name("target region", self.region)

    @classmethod
    def parse(cls, spec: TargetSpec) -> Target:
        """A `Target` from an account id, a `Target`, or a mapping with ``account_id``.

        Raises:
            InvalidParameterError: The spec names no valid account id or region.
        """
        if isinstance(spec, Target):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"account_id", "region"}
            if unknown:
                raise InvalidParameterError(
                    f"a target mapping has account_id and region only; got {sorted(unknown)}"
                )
            return cls(spec.get("account_id"), spec.get("region"))  # type: ignore[arg-type]
        raise InvalidParameterError(
            "a target must be an account id, a Target or a mapping with account_id; "
            f"got {type(spec).__name__}"
        )

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready: what `run.remaining` holds and `Target.parse` reads back."""
        return {"account_id": self.account_id, "region": self.region}

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}" if self.region else self.account_id


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target.

    Attributes:
        target: The target, with the region the work ran in.
        value: What ``work`` returned; None on failure.
        error: The exception, or None on success.
        phase: None on success; ``"assume"`` when no credentials could be had
            for the account, ``"work"`` when ``work`` raised.
        seconds: How long the target took, assuming included.
    """

    target: Target
    value: Any = None
    error: BaseException | None = None
    phase: Phase | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether ``work`` returned for this target."""
        return self.error is None


TargetSpec = str | Target | Mapping[str, Any]
"""An account id, a `Target`, or a mapping such as an item of `FanOutRun.remaining`."""
