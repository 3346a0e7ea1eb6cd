"""Tag and policy templates: checked once at init, rendered per tenant by structure, never as text.

A `TenantRole` gives each tenant the same session tags and session policy
with ``"{tenant}"`` (`PLACEHOLDER`) replaced by the tenant id. The policy is
kept as a parsed JSON value, and the id is put into its string *values* only,
never into keys or into JSON text, so no id can change a policy's shape: an
id that could break out of a string is refused before it gets here
(`lambda_assume_role.tenancy.sources.check_tenant_id`), and even one that
did would land inside a string. The rendered policy is spelled as STS
receives it by `lambda_assume_role.parameters.policy_text`, the one spelling,
so it keys a session exactly as the same policy given as a dict would.

Example:
    >>> templates = TenantTemplates(
    ...     tags={"TenantId": "{tenant}", "Team": "saas"},
    ...     policy={"Version": "2012-10-17", "Statement": [{"Resource": "data/{tenant}/*"}]})
    >>> rendered = templates.render("acme", "a test")
    >>> rendered["Tags"]
    [{'Key': 'TenantId', 'Value': 'acme'}, {'Key': 'Team', 'Value': 'saas'}]
    >>> rendered["Policy"]
    '{"Version":"2012-10-17","Statement":[{"Resource":"data/acme/*"}]}'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.parameters import policy_text
from lambda_assume_role.tenancy.sources import TenantError

__all__ = ["DEFAULT_TAGS", "PLACEHOLDER", "TenantTemplates"]

PLACEHOLDER = "{tenant}"
"""What is replaced with the tenant id in tag values and in the policy's string values."""

DEFAULT_TAGS: Mapping[str, str] = MappingProxyType({"TenantId": PLACEHOLDER})
"""The session tags `TenantRole` sets by default: ``aws:PrincipalTag/TenantId`` for ABAC."""


class TenantTemplates:
    """The session tags, transitive tag keys and session policy every tenant gets, as templates.

    Each is copied and checked here, once: a caller's later change to what it
    passed cannot reach a tenant. Where else they land (tag patterns, the
    policy's length) is checked by STS's request model when a `TenantRole`
    renders them for a sample tenant at init.

    Args:
        tags: Session tags; ``"{tenant}"`` in a value is the tenant id. None
            or ``{}`` for none.
        transitive_tag_keys: Tag keys that persist through role chaining, or None.
        policy: An inline session policy as a dict with ``Version`` and
            ``Statement``; ``"{tenant}"`` in any string value is the tenant id.

    Raises:
        InvalidParameterError: ``tags`` is not a mapping of strings to
            strings, a tag key or a policy key holds ``"{tenant}"``,
            ``transitive_tag_keys`` is a string, or the policy is not JSON
            (a dict with ``Version`` and ``Statement``, not its text).

    Attributes:
        tags: The tag templates, as ``(key, value)`` pairs in order.
        transitive_tag_keys: The transitive tag keys, or None.
        policy: The policy template (a plain copy), or None.
    """

    __slots__ = ("policy", "tags", "transitive_tag_keys")

    def __init__(
        self,
        *,
        tags: Mapping[str, str] | None = DEFAULT_TAGS,
        transitive_tag_keys: Sequence[str] | None = None,
        policy: Mapping[str, Any] | None = None,
    ) -> None:
        self.tags = _tag_template(tags)
        if isinstance(transitive_tag_keys, str):
            raise InvalidParameterError(
                "transitive_tag_keys must be a list of tag keys; "
                f"got a str: {transitive_tag_keys!r}"
            )
        self.transitive_tag_keys = (
            None if transitive_tag_keys is None else tuple(transitive_tag_keys)
        )
        self.policy = _policy_template(policy)

    def render(self, tenant_id: str, source: str) -> dict[str, Any]:
        """The ``Tags``, ``TransitiveTagKeys`` and ``Policy`` parameters for one tenant.

        Only those that are set appear; each call returns new lists and dicts.

        Args:
            tenant_id: An id `check_tenant_id` accepted.
            source: Where it came from, for the message.

        Raises:
            TenantError: ``"{tenant}"`` is still there after rendering: only a
                template that spells it around the placeholder
                (``"{te{tenant}nt}"``) can do that, and such a request is never sent.
        """
        rendered: dict[str, Any] = {}
        if self.tags:
            rendered["Tags"] = [
                {"Key": key, "Value": value.replace(PLACEHOLDER, tenant_id)}
                for key, value in self.tags
            ]
        if self.transitive_tag_keys is not None:
            rendered["TransitiveTagKeys"] = list(self.transitive_tag_keys)
        if self.policy is not None:
            rendered["Policy"] = policy_text(_render(self.policy, tenant_id))
        if PLACEHOLDER in rendered.get("Policy", ""):
            left = "Policy"
        elif any(PLACEHOLDER in tag["Value"] for tag in rendered.get("Tags", ())):
            left = "Tags"
        else:
            return rendered
        raise TenantError(
            f"tenant id from {source}: {PLACEHOLDER} is left in {left} after rendering; "
            "fix the template",
            source,
        )


def _tag_template(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if tags is None:
        return ()
    if not isinstance(tags, Mapping):
        raise InvalidParameterError(
            f"tags must be a mapping of tag keys to values; got {type(tags).__name__}"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidParameterError(
                f"tags must map strings to strings; got {type(key).__name__}: "
                f"{type(value).__name__}"
            )
        if PLACEHOLDER in key:
            raise InvalidParameterError(
                f"tags has the key {key!r}: {PLACEHOLDER} may only appear in tag values"
            )
    return tuple(tags.items())


def _policy_template(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    if not isinstance(policy, Mapping) or not {"Version", "Statement"} <= set(policy):
        raise InvalidParameterError(
            "policy must be a session policy as a dict with Version and Statement "
            f"(not JSON text: the tenant id is put into its parsed values); got "
            f"{type(policy).__name__}"
        )
    template: dict[str, Any] = _copy_policy(policy, "")
    policy_text(template)  # NaN and infinities are not JSON: refused now, not per tenant
    return template


def _copy_policy(value: Any, path: str) -> Any:
    """A plain deep copy of a JSON policy, refusing what JSON cannot hold and templated keys."""
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidParameterError(
                    f"policy{path} has a key that is not a string: {type(key).__name__}"
                )
            if PLACEHOLDER in key:
                raise InvalidParameterError(
                    f"policy{path} has the key {key!r}: {PLACEHOLDER} may only appear in "
                    "string values, never in keys (a tenant must not choose a policy's shape)"
                )
            copied[key] = _copy_policy(item, f"{path}[{key!r}]")
        return copied
    if isinstance(value, (list, tuple)):
        return [_copy_policy(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise InvalidParameterError(
        f"policy{path} must be JSON (a dict, list, str, number, bool or None); "
        f"got {type(value).__name__}"
    )


def _render(value: Any, tenant_id: str) -> Any:
    """``value`` with the placeholder replaced in every string value; same shape."""
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, tenant_id)
    if isinstance(value, dict):
        return {key: _render(item, tenant_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, tenant_id) for item in value]
    return value
