"""Where a fan-out's work runs: the ``regions=`` argument, and each account's regions.

A target that names a region keeps it (so leftovers resume as they were). One
that names none stands for the parent's region (``regions=None``), for every
region of a list, or, with ``regions="enabled"``, for every region enabled in
its account: asked once per account per run, with ``ec2:DescribeRegions``
(which lists only enabled regions), else ``account:ListRegions``, so nothing
is ever sent to a region the account has not enabled.

Example:
    >>> plan = check_regions(["eu-west-1", "us-east-1", "eu-west-1"])
    >>> plan
    ('eu-west-1', 'us-east-1')
    >>> [str(t) for t in expand(Target("111111111111"), plan, default="us-east-2")]
    ['111111111111/eu-west-1', '111111111111/us-east-1']
    >>> expand(Target("111111111111"), "enabled", default="us-east-2")
    [Target(account_id='111111111111', region=None)]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.fanout.targets import Target
from lambda_assume_role.parameters import check_region_name

if TYPE_CHECKING:
    import boto3

__all__ = ["RegionPlan", "check_regions", "enabled_regions", "expand"]

logger = logging.getLogger("lambda_assume_role")

RegionPlan = tuple[str, ...] | Literal["enabled"] | None
"""``regions=`` once checked: None, ``"enabled"``, or the regions without repeats."""

_ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


def check_regions(regions: Sequence[str] | Literal["enabled"] | None) -> RegionPlan:
    """``fan_out``'s ``regions=`` argument, checked.

    Raises:
        InvalidParameterError: Neither None, ``"enabled"`` nor a non-empty
            list of region names.
    """
    if regions is None or regions == "enabled":
        return regions
    if isinstance(regions, (str, bytes)) or not isinstance(regions, Sequence) or not regions:
        raise InvalidParameterError(
            f"regions must be None, 'enabled' or a non-empty list of regions; got {regions!r}"
        )
    for index, region in enumerate(regions):
        check_region_name(f"regions[{index}]", region)
    return tuple(dict.fromkeys(regions))


def expand(target: Target, plan: RegionPlan, *, default: str) -> list[Target]:
    """The targets one input stands for; a region of None means "list its regions first"."""
    if target.region is not None or plan == "enabled":
        return [target]
    if plan is None:
        return [Target(target.account_id, default)]
    return [Target(target.account_id, region) for region in plan]


def enabled_regions(session: boto3.Session) -> list[str]:
    """The regions enabled in ``session``'s account, asked in the session's region.

    Raises:
        botocore.exceptions.ClientError: ``ec2:DescribeRegions``' refusal,
            when ``account:ListRegions`` is refused too.
    """
    from botocore.exceptions import ClientError

    from lambda_assume_role.retry import describe_error

    ec2 = session.client("ec2")
    try:
        answer = ec2.describe_regions()
        return sorted(
            region["RegionName"]
            for region in answer.get("Regions", [])
            if region.get("OptInStatus", "opt-in-not-required") in _ENABLED_OPT_IN
        )
    except ClientError as refused:
        logger.debug(
            "ec2:DescribeRegions refused (%s); trying account:ListRegions", describe_error(refused)
        )
        account = session.client("account")
        try:
            pages = account.get_paginator("list_regions").paginate(
                RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"]
            )
            return sorted(r["RegionName"] for page in pages for r in page.get("Regions", []))
        except ClientError:
            raise refused from None
        finally:
            account.close()
    finally:
        ec2.close()
