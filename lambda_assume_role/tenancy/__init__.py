r"""Tenant isolation: one shared role, assumed per tenant with that tenant's tags and policy.

The SaaS "token vending machine" pattern, made safe and cached::

    tenant_data = TenantRole(
        "arn:aws:iam::123456789012:role/TenantData",
        tenant=authorizer_claim("custom:tenant_id"),   # only what the authorizer verified
        policy={"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::tenant-data/{tenant}/*"}]},
    )

    @inject_client("dynamodb", tenant_data, name="table")
    def handler(event, context, table): ...

A `TenantRole` is a role source: called with ``(event, context)`` it returns
the AssumeRole parameters for the invocation's tenant, which `inject_session`,
`inject_client` and `SessionRegistry` turn into one cached, self-refreshing
session per tenant (one AssumeRole per tenant per credential period).

What it guards against:

* **Policy injection.** The tenant id is put into string *values* of the
  parsed policy (``"{tenant}"`` is replaced there), never into JSON text, and
  an id must first be a plausible identifier: 1-256 characters of
  ``[A-Za-z0-9_+=,.@-]`` (what a role session name may hold; it always lands
  there), and whatever STS allows where else it lands (a session tag value,
  ``SourceIdentity``), by STS's own request model
  (`lambda_assume_role.parameters.prepare_parameters`, once per tenant). So
  ``acme","Resource":"*`` is refused before any request, and nothing is
  cached for it.
* **Unverified tenant ids.** The default source is ``context.tenant_id``
  (Lambda's tenant isolation mode, read at each invocation, through a durable
  function's ``DurableContext`` too); `authorizer_claim` reads only what API
  Gateway's authorizer verified, never headers, the query string, path
  parameters or the body.
* **Sessions shared between tenants.** Through a decorator
  (`TenantRole.prepare_for`, with the decorator's own keywords if any), a
  tenant's session is keyed by its full id
  (`lambda_assume_role.role.PreparedRole.scoped`), whatever its rendered
  name. Through ``registry.session(**role.parameters(tenant_id))`` it is keyed
  by the exact request: the tenant's tags, SourceIdentity, policy and session
  name.
* **Limits found out at STS.** Tag keys and values, their counts and patterns,
  ``SourceIdentity`` and the documented 2,048-character policy plaintext limit
  are checked before the call. When STS still answers
  ``PackedPolicyTooLarge`` (the packed-size budget that policy and tags share
  cannot be computed locally), the `AssumeRoleError` names the session and the
  tenant (``SourceIdentity``) and quotes STS's percentage.

The session name is `lambda_assume_role.naming.tenant_session_name`:
``{tenant}.{execution environment}``, cut with 64 bits of a hash for long ids, so
CloudTrail attributes every call to a tenant and an environment. An explicit
``RoleSessionName`` is refused: it would merge every tenant into one name.

The wing has three rooms, each importing only the ones before it:

* `lambda_assume_role.tenancy.sources`: tenant sources (`context_tenant_id`,
  `authorizer_claim`), the tenant id rule (`check_tenant_id`) and `TenantError`;
* `lambda_assume_role.tenancy.templates`: tag and policy templates, checked at
  init and rendered per tenant by structure;
* `lambda_assume_role.tenancy.role`: `TenantRole`, the role source, with its
  per-tenant memos.

botocore's STS model is loaded when the first request is validated, not on import.

Example:
    >>> from lambda_assume_role.tenancy import TenantRole, authorizer_claim
    >>> role = TenantRole("arn:aws:iam::123456789012:role/TenantData",
    ...                   tenant=authorizer_claim("custom:tenant_id"))
    >>> event = {"requestContext": {"authorizer": {"claims": {"custom:tenant_id": "acme"}}}}
    >>> role(event, None)["Tags"]
    [{'Key': 'TenantId', 'Value': 'acme'}]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambda_assume_role.exports import lazy_exports

if TYPE_CHECKING:
    from lambda_assume_role.tenancy.role import TenantRole as TenantRole
    from lambda_assume_role.tenancy.sources import MAX_TENANT_ID_LENGTH as MAX_TENANT_ID_LENGTH
    from lambda_assume_role.tenancy.sources import TENANT_ID_RULE as TENANT_ID_RULE
    from lambda_assume_role.tenancy.sources import TenantError as TenantError
    from lambda_assume_role.tenancy.sources import TenantSource as TenantSource
    from lambda_assume_role.tenancy.sources import authorizer_claim as authorizer_claim
    from lambda_assume_role.tenancy.sources import check_tenant_id as check_tenant_id
    from lambda_assume_role.tenancy.sources import context_tenant_id as context_tenant_id
    from lambda_assume_role.tenancy.templates import DEFAULT_TAGS as DEFAULT_TAGS
    from lambda_assume_role.tenancy.templates import PLACEHOLDER as PLACEHOLDER

# Each public name and the room it lives in; loaded on first use (PEP 562), so
# using one name imports only its room.
_SOURCES = {
    "DEFAULT_TAGS": "templates",
    "MAX_TENANT_ID_LENGTH": "sources",
    "PLACEHOLDER": "templates",
    "TENANT_ID_RULE": "sources",
    "TenantError": "sources",
    "TenantRole": "role",
    "TenantSource": "sources",
    "authorizer_claim": "sources",
    "check_tenant_id": "sources",
    "context_tenant_id": "sources",
}

__all__ = list(_SOURCES)
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
