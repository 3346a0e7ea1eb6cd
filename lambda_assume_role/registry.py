"""SessionRegistry: a bounded, thread-safe cache of assumed-role sessions and their clients.

A Lambda execution environment serves many invocations; sessions and clients
made in one should serve the next. Creating a boto3 client costs 2-150 ms, so
clients are made once per key. boto3 sessions are not thread-safe for client
creation (boto/boto3#1592), so each cached session creates its clients under
its own lock.

Keys: the parent, the RoleArn and every AssumeRole parameter *after*
normalisation (`lambda_assume_role.parameters`), so a Policy given as a dict
and the same Policy given as JSON are one entry; plus the session options
(region, cache, refresh windows) and, for clients, the service, region and
config. A session made for one key is never returned for another.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

    from lambda_assume_role.assume import AssumedRoleSession

__all__ = ["SessionRegistry", "alias_for", "default_registry", "registry_for"]

_UNSET: Any = object()


class _Entry:
    """One cached role session, its clients, and the aliases that lead to it."""

    __slots__ = ("aliases", "clients", "key", "lock", "pinned", "session")

    def __init__(self, key: str, session: AssumedRoleSession, pinned: tuple[Any, ...]) -> None:
        self.key = key
        self.session = session
        # Objects whose identity is part of the key, kept alive so ids stay unique.
        self.pinned = pinned
        self.clients: dict[Hashable, tuple[Any, Config | None]] = {}
        self.aliases: set[Hashable] = set()
        self.lock = threading.Lock()


class SessionRegistry:
    """A bounded (LRU), thread-safe cache of assumed-role sessions and clients.

    Args:
        parent: The session that assumes the roles. None means one
            `boto3.Session()`, created on first use.
        maxsize: How many role sessions to keep; the least recently used one
            is dropped (and its clients closed) beyond that.

    Example:
        >>> registry = SessionRegistry(maxsize=64)
        >>> s3 = registry.client("arn:aws:iam::123456789012:role/Reader", "s3")  # doctest: +SKIP
        >>> s3 is registry.client("arn:aws:iam::123456789012:role/Reader", "s3")  # doctest: +SKIP
        True
    """

    def __init__(self, parent: boto3.Session | None = None, *, maxsize: int = 128) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive int; got {maxsize!r}")
        self._parent = parent
        self._maxsize = maxsize
        # Guards _entries, _aliases and the lazy parent. Held while a session
        # is built (about a millisecond, no network), never while a client is.
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._aliases: dict[Hashable, _Entry] = {}

    @property
    def maxsize(self) -> int:
        """The most role sessions kept at once."""
        return self._maxsize

    @property
    def parent(self) -> boto3.Session:
        """The session that assumes the roles."""
        with self._lock:
            return self._parent_locked()

    def _parent_locked(self) -> boto3.Session:
        if self._parent is None:
            import boto3

            self._parent = boto3.Session()
        return self._parent

    def session(self, RoleArn: str, **assume_role_kwargs: Any) -> AssumedRoleSession:
        """The cached session for a role and AssumeRole parameters, made on first use.

        Args:
            RoleArn: The role to assume.
            **assume_role_kwargs: Any keyword `assume_role` takes.

        Returns:
            A refreshing `boto3.Session` for exactly these parameters.

        Raises:
            InvalidParameterError: A parameter breaks a rule (a `ValueError`);
                nothing is cached.
        """
        return self._entry(RoleArn, assume_role_kwargs).session

    def client(
        self,
        RoleArn: str,
        service_name: str,
        *,
        region_name: str | None = None,
        config: Config | None = None,
        **assume_role_kwargs: Any,
    ) -> Any:
        """The cached client for a service, on the cached session for a role.

        Args:
            RoleArn: The role to assume.
            service_name: e.g. ``"s3"``.
            region_name: The client's region; None uses the session's.
            config: A `botocore.config.Config` for the client.
            **assume_role_kwargs: Any keyword `assume_role` takes.

        Returns:
            A botocore client, created once per key.
        """
        entry = self._entry(RoleArn, assume_role_kwargs)
        return self._client(entry, service_name, region_name, config)

    def _client(
        self, entry: _Entry, service_name: str, region_name: str | None, config: Config | None
    ) -> Any:
        key = (service_name, region_name, id(config) if config is not None else None)
        cached = entry.clients.get(key)
        if cached is None:
            with entry.lock:
                cached = entry.clients.get(key)
                if cached is None:
                    # Any: boto3-stubs only type literal service names.
                    make_client: Any = entry.session.client
                    client = make_client(service_name, region_name=region_name, config=config)
                    cached = (client, config)
                    entry.clients[key] = cached
        return cached[0]

    def clear(self) -> None:
        """Drop every session and close every client."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._aliases.clear()
        for entry in entries:
            _close(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SessionRegistry(sessions={len(self)}, maxsize={self._maxsize})"

    def _entry(
        self, role_arn: str, kwargs: Mapping[str, Any], alias: Hashable | None = _UNSET
    ) -> _Entry:
        """The entry for a call's arguments; ``alias`` may be precomputed by the caller."""
        if alias is _UNSET:
            alias = alias_for(role_arn, kwargs)
        evicted: list[_Entry] = []
        with self._lock:
            if alias is not None:
                entry = self._aliases.get(alias)
                if entry is not None:
                    # Warm path: one dict lookup and an O(1) LRU bump.
                    self._entries.move_to_end(entry.key)
                    return entry
            key, params, options, pinned = self._prepare(role_arn, kwargs)
            entry = self._entries.get(key)
            if entry is None:
                from lambda_assume_role.assume import session_for_parameters

                session = session_for_parameters(self._parent_locked(), params, **options)
                entry = _Entry(key=key, session=session, pinned=pinned)
                self._entries[key] = entry
                while len(self._entries) > self._maxsize:
                    _, old = self._entries.popitem(last=False)
                    for old_alias in old.aliases:
                        self._aliases.pop(old_alias, None)
                    evicted.append(old)
            else:
                self._entries.move_to_end(key)
            if alias is not None:
                self._aliases[alias] = entry
                entry.aliases.add(alias)
        for old in evicted:
            _close(old)
        return entry

    def _prepare(
        self, role_arn: str, kwargs: Mapping[str, Any]
    ) -> tuple[str, Any, dict[str, Any], tuple[Any, ...]]:
        from lambda_assume_role.assume import is_role_chaining
        from lambda_assume_role.parameters import prepare_parameters, split_session_options

        parent = self._parent_locked()
        request, options = split_session_options(kwargs)
        validate = options.pop("validate", True)
        chained = is_role_chaining(parent, parent.get_credentials())
        params = prepare_parameters(role_arn, request, validate=validate, chained=chained)
        cache = options.get("cache")
        key = "|".join(
            [
                params.key,
                repr(options.get("region_name")),
                str(id(cache)) if cache is not None else "",
                repr(options.get("refresh_windows")),
            ]
        )
        return key, params, options, (cache,)


def alias_for(role_arn: str, kwargs: Mapping[str, Any]) -> Hashable | None:
    """A cheap key for the exact arguments of a call, or None if they are unhashable.

    Warm invocations repeat the same arguments; this finds their entry without
    normalising again. Values are paired with their type so that 1 and True,
    or 900 and 900.0, never share an alias.
    """
    if not kwargs:
        return role_arn
    try:
        alias = (role_arn, *sorted((k, type(v), v) for k, v in kwargs.items()))
        hash(alias)
    except TypeError:
        return None
    return alias


def _close(entry: _Entry) -> None:
    for client, _config in entry.clients.values():
        client.close()


_default_lock = threading.Lock()
_default: SessionRegistry | None = None
_per_parent: weakref.WeakKeyDictionary[Any, SessionRegistry] = weakref.WeakKeyDictionary()


def default_registry() -> SessionRegistry:
    """The process-wide registry over a lazily created default `boto3.Session()`."""
    global _default  # noqa: PLW0603
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = SessionRegistry()
    return _default


def registry_for(parent: boto3.Session | None) -> SessionRegistry:
    """The process-wide registry for a parent session (the default one for None)."""
    if parent is None:
        return default_registry()
    with _default_lock:
        registry = _per_parent.get(parent)
        if registry is None:
            registry = SessionRegistry(parent)
            _per_parent[parent] = registry
        return registry
