"""SessionRegistry: a bounded, thread-safe cache of assumed-role sessions and their clients.

A Lambda execution environment serves many invocations; sessions and clients
made in one should serve the next. Creating a boto3 client costs 2-150 ms, so
clients are made once per key.

One path, in two steps:

1. `SessionRegistry.prepare` normalises, validates and keys a role and its
   `assume_role` keywords, once, with the chaining check computed from this
   registry's parent, and returns an immutable `PreparedRole`. A decorator
   with a static role prepares it at decoration; a call with the same
   arguments as an earlier one finds its prepared role by a cheap alias (the
   arguments paired with their types) without normalising again.
2. `SessionRegistry.session_for` / `SessionRegistry.client_for` resolve a
   prepared role (and, for a client, its `ClientOptions`) to the cached
   session or client, building it on first use. A warm resolution is a dict
   lookup and an LRU bump.

Keys are exact: two prepared roles share a session only if STS would receive
the same AssumeRole request (`parameters.prepare_parameters`' key) *and* the
session options agree: the session's region as it will be built
(``region_name=True`` keys on the parent's region it pins), the cache's
identity and the refresh windows, and their scopes are equal
(`PreparedRole.scoped`: `TenantRole` scopes each tenant's role by the full
tenant id). Clients are keyed by service, client region and the identity of
their `Config`.

Locking, as in cachetools' ``cached``: look up under the lock, build outside
it, publish under it; when two threads race to build one key, the entry
already published wins and the loser's is discarded. The registry-wide lock
guards only the LRU map of entries and the alias map: it is never held while
a session or a client is built, or during any I/O. Each entry has two locks of
its own: one serialises client creation on its session (boto3 sessions are not
thread-safe for that, boto/boto3#1592), the other guards its map of clients
for the moment a client is published or the entry is closed on eviction, so
closing an evicted entry never races a thread adding a client to it. A last
lock serialises creating the default parent and reading the parent's
credentials for the chaining check (botocore resolves them lazily, and its
lazy components are not thread-safe on first use); it never guards the entries.

A registry holds its parent; nothing global holds a registry made for a
parent (`registry_for`), so it lives as long as the decorators using it.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role.clients import ClientOptions, SessionClients
from lambda_assume_role.role import PreparedRole, argument_key, prepare_role

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

    from lambda_assume_role.assume import AssumedRoleSession

__all__ = [
    "ClientOptions",
    "PreparedRole",
    "SessionRegistry",
    "default_registry",
    "registry_for",
]

# The alias map is a plain dict, read without the lock; it is emptied when it
# reaches this many entries per session kept (a hit saves a re-preparation, a
# miss only costs one).
_ALIASES_PER_SESSION = 4


class SessionRegistry:
    """A bounded (LRU), thread-safe cache of assumed-role sessions and clients.

    Args:
        parent: The session that assumes the roles. None means one
            `boto3.Session()`, created on first use.
        maxsize: How many role sessions to keep; the least recently used one
            is dropped (and its clients closed) beyond that.

    Raises:
        ValueError: ``maxsize`` is not a positive int.

    Example:
        >>> registry = SessionRegistry(maxsize=64)
        >>> reader = registry.prepare("arn:aws:iam::123456789012:role/Reader",
        ...                           Tags={"team": "data"})
        >>> s3 = registry.client_for(reader, ClientOptions("s3"))
        >>> s3 is registry.client("arn:aws:iam::123456789012:role/Reader", "s3",
        ...                       Tags={"team": "data"})
        True
        >>> len(registry)
        1
    """

    def __init__(self, parent: boto3.Session | None = None, *, maxsize: int = 128) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive int; got {maxsize!r}")
        self._parent = parent
        self._maxsize = maxsize
        # Guards _entries and writes to _aliases; never held while anything is
        # built or any I/O runs (see the module docstring).
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, SessionClients] = OrderedDict()
        self._aliases: dict[Hashable, PreparedRole] = {}
        # Serialises creating the default parent and resolving its credentials
        # (botocore's lazy components are not thread-safe on first use).
        self._parent_lock = threading.Lock()

    @property
    def maxsize(self) -> int:
        """The most role sessions kept at once."""
        return self._maxsize

    @property
    def parent(self) -> boto3.Session:
        """The session that assumes the roles (the default one is made on first use)."""
        parent = self._parent
        if parent is None:
            with self._parent_lock:
                if self._parent is None:
                    import boto3

                    self._parent = boto3.Session()
                parent = self._parent
        return parent

    # -- step 1: prepare ---------------------------------------------------------------------

    def prepare(self, RoleArn: str, **assume_role_kwargs: Any) -> PreparedRole:
        """Normalise, validate and key a role once, for `session_for` / `client_for`.

        The same function serves a decorator's static role (at decoration)
        and every call of `session` / `client`, so a role that passes here
        never fails validation later. Repeating the exact arguments of an
        earlier call returns its prepared role without normalising again.

        Args:
            RoleArn: The role to assume.
            **assume_role_kwargs: Any keyword `assume_role` takes besides the
                parent: the AssumeRole parameters and the session options
                ``region_name`` (the *session's* region), ``cache``,
                ``refresh_windows`` and ``validate``.

        Returns:
            An immutable `PreparedRole`.

        Raises:
            InvalidParameterError: A parameter or session option breaks a rule
                (also a `ValueError`), with the chaining cap computed from this
                registry's parent (`assume.is_role_chaining`).
            TypeError: A keyword `assume_role` does not take.

        Example:
            >>> registry = SessionRegistry(parent)
            >>> registry.prepare("arn:aws:iam::123456789012:role/Reader", DurationSeconds=900)
            ...                                         # doctest: +ELLIPSIS
            PreparedRole(role_arn='arn:aws:iam::123456789012:role/Reader', ...)
        """
        alias = argument_key(RoleArn, assume_role_kwargs)
        if alias is not None and assume_role_kwargs.get("region_name") is True:
            # True pins the parent's region as it is now: part of what the call means.
            alias = (alias, self.parent.region_name)
        if alias is not None:
            prepared = self._aliases.get(alias)
            if prepared is not None:
                return prepared
        prepared = self._prepare(RoleArn, assume_role_kwargs)
        if alias is not None:
            with self._lock:
                if len(self._aliases) >= _ALIASES_PER_SESSION * self._maxsize:
                    self._aliases.clear()
                self._aliases[alias] = prepared
        return prepared

    def check_defaults(self, **assume_role_kwargs: Any) -> None:
        """Check `assume_role` keywords that will later be combined with roles.

        A decorator with a per-event role source checks its own keywords at
        decoration with this, so a bad ``DurationSeconds`` given to the
        decorator fails the function's init instead of being blamed on the
        role source at the first invocation. Rules that depend on the role
        alone (its ARN) are left to `prepare`.

        Args:
            **assume_role_kwargs: As for `prepare`.

        Raises:
            InvalidParameterError: As for `prepare`.
            TypeError: As for `prepare`.

        Example:
            >>> SessionRegistry().check_defaults(DurationSeconds=5)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            lambda_assume_role.errors.InvalidParameterError: DurationSeconds must be ...
        """
        if not assume_role_kwargs:
            return  # nothing to check: the parent (and boto3) stay unbuilt until the first call
        kwargs = dict(assume_role_kwargs)
        if not kwargs.get("RoleSessionName"):
            # The role source may give the session name; don't let a
            # SourceIdentity default stand in for it here.
            kwargs["RoleSessionName"] = "placeholder"
        self._prepare(_PLACEHOLDER_ROLE_ARN, kwargs)

    def _prepare(self, role_arn: str, kwargs: Mapping[str, Any]) -> PreparedRole:
        return prepare_role(self.parent, role_arn, kwargs, parent_lock=self._parent_lock)

    # -- step 2: resolve ---------------------------------------------------------------------

    def session_for(self, prepared: PreparedRole) -> AssumedRoleSession:
        """The cached session for a prepared role, built on first use (no STS call).

        Args:
            prepared: From `prepare` on this registry.

        Returns:
            A refreshing `boto3.Session` for exactly that request and those options.

        Example:
            >>> registry = SessionRegistry(parent)
            >>> session = registry.session_for(registry.prepare(ROLE_ARN))
            >>> session.role_arn, session is registry.session(ROLE_ARN)
            ('arn:aws:iam::111111111111:role/Reader', True)
        """
        return self._entry_for(prepared).session

    def client_for(self, prepared: PreparedRole, options: ClientOptions) -> Any:
        """The cached client on a prepared role's session, made on first use.

        Args:
            prepared: From `prepare` on this registry.
            options: The client's service, region and config.

        Returns:
            A botocore client, created once per (session, options) key.

        Example:
            >>> registry = SessionRegistry(parent)
            >>> s3 = registry.client_for(registry.prepare(ROLE_ARN), ClientOptions("s3"))
            >>> s3.meta.service_model.service_name
            's3'
        """
        entry = self._entry_for(prepared)
        cached = entry.clients.get(options.key)
        if cached is not None:
            return cached[0]
        return entry.client(options)

    def session(self, RoleArn: str, **assume_role_kwargs: Any) -> AssumedRoleSession:
        """The cached session for a role and `assume_role` keywords, made on first use.

        ``session(...)`` is ``session_for(prepare(...))``.

        Args:
            RoleArn: The role to assume.
            **assume_role_kwargs: Any keyword `assume_role` takes; ``region_name``
                is the session's region.

        Returns:
            A refreshing `boto3.Session` for exactly these parameters.

        Raises:
            InvalidParameterError: A parameter breaks a rule (a `ValueError`);
                nothing is cached.
            TypeError: A keyword `assume_role` does not take.

        Example:
            >>> SessionRegistry(parent).session(ROLE_ARN, region_name="eu-west-1").region_name
            'eu-west-1'
        """
        return self.session_for(self.prepare(RoleArn, **assume_role_kwargs))

    def client(
        self,
        RoleArn: str,
        service_name: str,
        *,
        client_region: str | None = None,
        config: Config | None = None,
        **assume_role_kwargs: Any,
    ) -> Any:
        """The cached client for a service, on the cached session for a role.

        ``client(...)`` is ``client_for(prepare(...), ClientOptions(...))``.

        Args:
            RoleArn: The role to assume.
            service_name: e.g. ``"s3"``.
            client_region: The client's region; None uses the session's.
            config: A `botocore.config.Config` for the client.
            **assume_role_kwargs: Any keyword `assume_role` takes;
                ``region_name`` is the *session's* region (as in
                `assume_role`), which its clients also use unless
                ``client_region`` is given.

        Returns:
            A botocore client, created once per key.

        Raises:
            InvalidParameterError: A parameter or client option breaks a rule.
            TypeError: A keyword `assume_role` does not take.

        Example:
            >>> s3 = SessionRegistry(parent).client(ROLE_ARN, "s3", client_region="eu-west-1")
            >>> s3.meta.region_name
            'eu-west-1'
        """
        options = ClientOptions(service_name, client_region=client_region, config=config)
        return self.client_for(self.prepare(RoleArn, **assume_role_kwargs), options)

    def warm_up(self) -> None:
        """Build the parent session and its STS client now (no STS call).

        Decorators call this during a Lambda function's init for per-event
        roles, so the first invocation does not pay for it.
        """
        from lambda_assume_role.fetcher import sts_client_for

        sts_client_for(self.parent)

    def _entry_for(self, prepared: PreparedRole) -> SessionClients:
        key = prepared.key
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                # Warm path: one dict lookup and an O(1) LRU bump.
                self._entries.move_to_end(key)
                return entry
        return self._build(prepared)

    def _build(self, prepared: PreparedRole) -> SessionClients:
        from lambda_assume_role.assume import session_for_role

        # Outside the lock: this makes a botocore session and, for a parent's
        # first role, its STS client, and may resolve the parent's credentials.
        session = session_for_role(self.parent, prepared)
        built = SessionClients(prepared, session)
        evicted: list[SessionClients] = []
        with self._lock:
            entry = self._entries.get(prepared.key)
            if entry is None:
                entry = self._entries[prepared.key] = built
                while len(self._entries) > self._maxsize:
                    evicted.append(self._entries.popitem(last=False)[1])
            else:
                # Another thread published this key first: its entry wins.
                self._entries.move_to_end(prepared.key)
        if entry is not built:
            built.close()
        for old in evicted:
            old.close()
        return entry

    def clear(self) -> None:
        """Drop every session and close every client."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._aliases.clear()
        for entry in entries:
            entry.close()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SessionRegistry(sessions={len(self)}, maxsize={self._maxsize})"


# Valid by every rule, and never assumed: stands in for the role in `check_defaults`.
_PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/placeholder"

_registries_lock = threading.Lock()
_default: SessionRegistry | None = None
# id(parent) -> its registry, weakly: a registry holds its parent, so while the
# registry lives the id is its parent's; once nothing else holds the registry
# (a decorator, a caller), both are freed.
_per_parent: weakref.WeakValueDictionary[int, SessionRegistry] = weakref.WeakValueDictionary()


def default_registry() -> SessionRegistry:
    """The process-wide registry over a lazily created default `boto3.Session()`.

    Example:
        >>> default_registry() is default_registry()
        True
    """
    global _default  # noqa: PLW0603
    if _default is None:
        with _registries_lock:
            if _default is None:
                _default = SessionRegistry()
    return _default


def registry_for(parent: boto3.Session | None) -> SessionRegistry:
    """The shared registry for a parent session (the default one for None).

    Every decorator given the same parent shares one registry while any of
    them (or another holder) keeps it; the registry keeps the parent alive,
    never the other way round, so dropping a parent and its decorated
    handlers frees both.

    Args:
        parent: The session that assumes the roles, or None for the default.

    Returns:
        The registry for ``parent``.

    Example:
        >>> registry_for(parent) is registry_for(parent)
        True
    """
    if parent is None:
        return default_registry()
    with _registries_lock:
        registry = _per_parent.get(id(parent))
        if registry is None or registry._parent is not parent:
            registry = SessionRegistry(parent)
            _per_parent[id(parent)] = registry
        return registry
