"""A role session's clients: how to make one (`ClientOptions`), and the cache of them.

`SessionRegistry` keeps one `SessionClients` per role session. Creating a boto3
client costs 2-150 ms, so each is made once per key (service, client region and
the identity of its `Config`). boto3 sessions are not thread-safe for creating
clients (boto/boto3#1592), so creation on one session is serialised; a second
lock guards the map of clients for the moment one is published or the entry is
closed on eviction, so closing never races a thread adding a client.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambda_assume_role.role import PreparedRole, identity

if TYPE_CHECKING:
    from botocore.config import Config

    from lambda_assume_role.assume import AssumedRoleSession

__all__ = ["ClientOptions", "SessionClients"]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How to make a client on a role's session, checked and keyed once.

    Args:
        service_name: e.g. ``"s3"``.
        client_region: The client's own region; None uses the session's.
            (The session's region is the ``region_name`` keyword of
            `SessionRegistry.prepare`, as in `assume_role`.)
        config: A `botocore.config.Config` for the client, keyed by identity.

    Raises:
        InvalidParameterError: ``service_name`` is not a non-empty string,
            ``client_region`` not a region name, or ``config`` not a `Config`.

    Example:
        >>> ClientOptions("s3", client_region="eu-west-1")
        ClientOptions(service_name='s3', client_region='eu-west-1', config=None)
        >>> ClientOptions("s3", client_region=True)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: client_region must be a region name ...
    """

    service_name: str
    client_region: str | None = None
    config: Config | None = None
    key: Hashable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from lambda_assume_role.errors import InvalidParameterError
        from lambda_assume_role.parameters import check_region_name

        if not isinstance(self.service_name, str) or not self.service_name:
            raise InvalidParameterError(
                f"service_name must be a service name like 's3'; got {self.service_name!r}"
            )
        if self.client_region is not None:
            check_region_name("client_region", self.client_region)
        if self.config is not None:
            from botocore.config import Config

            if not isinstance(self.config, Config):
                raise InvalidParameterError(
                    f"config must be a botocore.config.Config; got {type(self.config).__name__}"
                )
        key = (self.service_name, self.client_region, identity(self.config))
        object.__setattr__(self, "key", key)


class SessionClients:
    """One cached role session and its clients, made once per `ClientOptions` key."""

    __slots__ = ("build_lock", "clients", "closed", "lock", "prepared", "session")

    def __init__(self, prepared: PreparedRole, session: AssumedRoleSession) -> None:
        # Holds the cache and config objects whose identity is in a key, so ids stay unique.
        self.prepared = prepared
        self.session = session
        self.clients: dict[Hashable, tuple[Any, ClientOptions]] = {}
        self.closed = False
        self.build_lock = threading.Lock()
        self.lock = threading.Lock()

    def client(self, options: ClientOptions) -> Any:
        """The client for ``options``, made once; uncached if the entry is evicted meanwhile."""
        with self.build_lock:
            cached = self.clients.get(options.key)
            if cached is not None:
                return cached[0]
            # Any: boto3-stubs only type literal service names.
            make_client: Any = self.session.client
            client = make_client(
                options.service_name, region_name=options.client_region, config=options.config
            )
            with self.lock:
                if not self.closed:
                    self.clients[options.key] = (client, options)
            return client

    def close(self) -> None:
        """Close every client; clients asked for later are handed out uncached."""
        with self.lock:
            self.closed = True
            clients = [client for client, _options in self.clients.values()]
            self.clients.clear()
        for client in clients:
            client.close()
