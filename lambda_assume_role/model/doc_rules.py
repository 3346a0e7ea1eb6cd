"""What the AWS docs say about an AssumeRole request that STS's model does not carry.

`lambda_assume_role.model.check` applies the limits (`DOC_LIMITS`) on top of the
model's own rules; `lambda_assume_role.model.check_assume_role_request` then
applies the rules across members (`check_doc_rules`): unique tag keys, no
``aws:`` tag key, transitive keys among the tags, a policy that is a JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambda_assume_role.errors import InvalidParameterError

__all__ = ["DOC_LIMITS", "SECRET_MEMBERS", "DocLimit", "check_doc_rules"]


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


_RESERVED_TAG_PREFIX = "aws:"


def check_doc_rules(request: Mapping[str, Any]) -> None:
    """The docs' rules across an AssumeRole request's members, once the model has passed it.

    STS refuses each of these remotely (AWS STS API Reference, AssumeRole, and
    the IAM User Guide, "Passing session tags in AWS STS"); here they fail
    before any network call. Messages name positions, never a tag's key or
    value nor the policy's text (a tenant's id may be in any of them).

    Raises:
        InvalidParameterError: Two ``Tags`` with one key (STS compares keys
            case-insensitively), a tag key starting with ``aws:`` (in any
            case), a ``TransitiveTagKeys`` entry that is not one of the tags'
            keys, or a ``Policy`` that is not the text of a JSON object.

    Example:
        >>> team = {"Key": "team", "Value": "a"}
        >>> check_doc_rules({"Tags": [team], "TransitiveTagKeys": ["Team"]})
        >>> check_doc_rules({"Tags": [team, {"Key": "Team", "Value": "b"}]})
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: Tags[1].Key repeats Tags[0].Key: ...
    """
    tags = request.get("Tags")
    seen: dict[str, int] = {}
    if isinstance(tags, Sequence):
        for index, tag in enumerate(tags):
            key = tag.get("Key") if isinstance(tag, Mapping) else None
            if not isinstance(key, str):
                continue  # the model refuses it
            folded = _folded(key)
            if folded.startswith(_RESERVED_TAG_PREFIX):
                raise InvalidParameterError(
                    f"Tags[{index}].Key must not start with {_RESERVED_TAG_PREFIX!r} (in any "
                    "case): the prefix is reserved for AWS"
                )
            if folded in seen:
                raise InvalidParameterError(
                    f"Tags[{index}].Key repeats Tags[{seen[folded]}].Key: tag keys must be "
                    "unique, compared case-insensitively as STS does"
                )
            seen[folded] = index
    transitive = request.get("TransitiveTagKeys")
    if isinstance(transitive, Sequence) and not isinstance(transitive, str):
        for index, key in enumerate(transitive):
            if isinstance(key, str) and _folded(key) not in seen:
                raise InvalidParameterError(
                    f"TransitiveTagKeys[{index}] must be the key of one of the Tags "
                    "(compared case-insensitively); it is not"
                    + ("" if seen else ", and no Tags are given")
                )
    policy = request.get("Policy")
    if isinstance(policy, str):
        _check_policy(policy)


def _folded(key: str) -> str:
    # Java's String.equalsIgnoreCase, as a key: each character upper-cased then
    # lower-cased, one character to one (so "ß" is not "SS", as in Java).
    return "".join(_fold_character(c) for c in key)


def _fold_character(character: str) -> str:
    upper = character.upper()
    upper = upper if len(upper) == 1 else character
    lower = upper.lower()
    return lower if len(lower) == 1 else upper


def _check_policy(policy: str) -> None:
    rule = "Policy must be a JSON object (a dict, or the text of one)"
    try:
        parsed = json.loads(policy, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        # The decoder's message is its own words and a position, never the text.
        raise InvalidParameterError(
            f"{rule}; got text that is not JSON: {error.msg} at character {error.pos}"
        ) from None
    except ValueError:
        raise InvalidParameterError(
            f"{rule}; got text with NaN or Infinity, which JSON does not allow"
        ) from None
    except RecursionError:
        raise InvalidParameterError(f"{rule}; got text nested too deeply to parse") from None
    if not isinstance(parsed, dict):
        raise InvalidParameterError(f"{rule}; got JSON {_JSON_KINDS.get(type(parsed), 'value')}")


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "true or false",
    type(None): "null",
}


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)
