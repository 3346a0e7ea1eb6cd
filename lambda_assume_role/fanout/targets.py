"""Targets of a fan-out (an account, and optionally a region) and the outcome of each.

`Target` is what `fan_out` works on and what `organization_accounts` yields;
`Target.parse` accepts every form a caller may hold (an account id, a
`Target`, or a JSON-ready mapping such as those in ``run.remaining``), so
leftovers from one run are the targets of the next. `read_target` is the
parse `fan_out` uses: its refusal says which item of ``targets`` broke which
rule, showing at most a short piece of the item.

Example:
    >>> Target.parse("123456789012")
    Target(account_id='123456789012', region=None)
    >>> Target.parse({"account_id": "123456789012", "region": "eu-west-1"}).as_dict()
    {'account_id': '123456789012', 'region': 'eu-west-1'}
    >>> Target.parse("1234")
    Traceback (most recent call last):
    ...
    lambda_assume_role.errors.InvalidParameterError: target account_id must be 12 digits; got '1234'
    >>> read_target(12, "targets[3]")
    Traceback (most recent call last):
    ...
    lambda_assume_role.errors.InvalidParameterError: targets[3]: a target must be an account id, \
a Target or a mapping with account_id; got int
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambda_assume_role.arns import is_account_id
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.parameters import check_region_name

__all__ = ["Outcome", "Phase", "Target", "TargetSpec", "read_target"]

Phase = Literal["target", "assume", "work"]
"""Where a target failed: ``"target"`` (an item of a lazily read ``targets`` that is
not a target), ``"assume"`` (no credentials) or ``"work"`` (``work`` raised)."""

_SHOWN = 24  # characters of a refused item shown in an error: enough to recognise it


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
                f"target account_id must be 12 digits; got {_shown(self.account_id)}"
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
                names = ", ".join(sorted(_shown(key) for key in unknown))
                raise InvalidParameterError(
                    f"a target mapping has account_id and region only; got {_cut(names)}"
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


def read_target(spec: object, where: str) -> Target:
    """`Target.parse`, refusing with `InvalidParameterError` that names ``where`` the item is.

    Anything a strange item raises while it is read (a mapping whose keys
    cannot be listed, say) is a refusal too, so one bad item never stops a
    run. The message shows at most a short piece of the item: an account id
    is no secret, but an item may be anything.

    Example:
        >>> read_target("123456789012", "targets[0]")
        Target(account_id='123456789012', region=None)
        >>> read_target("x" * 99, "targets item 7")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: targets item 7: target account_id must \
be 12 digits; got 'xxx...(99 characters)
    """
    try:
        return Target.parse(spec)  # type: ignore[arg-type]
    except InvalidParameterError as error:
        raise InvalidParameterError(f"{where}: {error}") from None
    except Exception as error:
        raise InvalidParameterError(
            f"{where} could not be read as a target ({type(error).__name__})"
        ) from error


def _shown(value: object) -> str:
    """A short, safe picture of a refused value: a string or a number cut short, else its type."""
    if isinstance(value, str):
        if len(value) <= _SHOWN:
            return repr(value)
        return f"{value[: _SHOWN - 3]!r}... ({len(value)} characters)"
    if value is None or isinstance(value, (bool, int)):
        return _cut(repr(value))
    return type(value).__name__


def _cut(text: str) -> str:
    return text if len(text) <= 3 * _SHOWN else text[: 3 * _SHOWN - 3] + "..."


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target (or to one item of ``targets`` that is not one).

    Attributes:
        target: The target, with the region the work ran in; None only in
            phase ``"target"``.
        value: What ``work`` returned; None on failure.
        error: The exception, or None on success.
        phase: None on success; ``"target"`` when an item of a lazily read
            ``targets`` is not a target (``error`` is the
            `InvalidParameterError` naming the item's position and the rule;
            nothing ran for it), ``"assume"`` when no credentials could be had
            for the account, ``"work"`` when ``work`` raised.
        seconds: How long the target took, assuming included.
    """

    target: Target | None
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
