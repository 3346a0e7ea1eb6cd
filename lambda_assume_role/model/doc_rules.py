"""What the AWS docs say about an AssumeRole request that STS's model does not carry.

`lambda_assume_role.model.check` applies these on top of the model's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DOC_LIMITS", "SECRET_MEMBERS", "DocLimit"]


@dataclass(frozen=True)
class DocLimit:
    """A maximum the AWS docs set for a top-level member that the model does not carry.

    Attributes:
        max: The most characters (strings) or items (lists).
        source: Where the docs say so; shown in the error message.
    """

    max: int
    source: str


DOC_LIMITS: Mapping[str, DocLimit] = {
    # STS API Reference, AssumeRole, request parameter PolicyArns
    # (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
    # "You can provide up to 10 managed policy ARNs." Also in the IAM User Guide,
    # "IAM and AWS STS quotas".
    "PolicyArns": DocLimit(10, "AWS STS API Reference, AssumeRole"),
    # Same page, request parameter Policy: "The plaintext that you use for both
    # inline and managed session policies can't exceed 2,048 characters." The
    # model gives Policy a minimum and a pattern, but no maximum.
    "Policy": DocLimit(2048, "AWS STS API Reference, AssumeRole"),
}
"""Doc-only limits, by member name of the checked (top-level) shape."""

SECRET_MEMBERS = frozenset({"TokenCode"})
"""Members whose values never appear in a message (nor do those of shapes marked ``sensitive``)."""
