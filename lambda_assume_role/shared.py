"""What every assumed-role session shares: botocore's immutable data, once per process.

A new `botocore.session.Session()` costs 7-9 ms (it registers ~130 builtin
event handlers, each through `inspect.getfullargspec`) and gets its own data
`Loader`, so it parses every service model and endpoint rule set again: about
+12.5 MB and 66-100 ms for a first s3 client per role (measured with
aws-assume-role-lib, botocore 1.44). A tenant should cost about one client.

So, per process:

* one `Loader` per data path (``AWS_DATA_PATH``), handed to every session with
  the public ``register_component("data_loader", ...)``; its search path list
  ignores repeated appends, because ``boto3.Session.__init__`` appends boto3's
  ``data/`` folder on every call and would grow it by one entry per session;
* one pristine template emitter holding only botocore's builtin handlers, built
  from the public ``botocore.handlers.BUILTIN_HANDLERS``; every session gets a
  ``copy.copy`` of it through the public ``Session(event_hooks=...,
  include_builtin_handlers=False)``. The template never sees a user's handler.

Per session, never shared: credentials, region and config, event handlers,
clients and their connection pools.
"""

from __future__ import annotations

import copy
import os
import threading
from typing import TYPE_CHECKING, SupportsIndex

if TYPE_CHECKING:
    import botocore.session
    from botocore.hooks import HierarchicalEmitter
    from botocore.loaders import Loader

__all__ = ["new_botocore_session", "shared_loader"]

_lock = threading.Lock()
_loaders: dict[str | None, Loader] = {}
_template_emitter: HierarchicalEmitter | None = None


class _AppendOnceList(list[str]):
    """A search path list where appending a path it already holds does nothing."""

    def __init__(self, items: list[str]) -> None:
        super().__init__(items)
        self._lock = threading.Lock()

    def append(self, item: str) -> None:
        with self._lock:
            if item not in self:
                super().append(item)

    def insert(self, index: SupportsIndex, item: str) -> None:
        with self._lock:
            if item not in self:
                super().insert(index, item)


def shared_loader(data_path: str | None) -> Loader:
    """The process-wide data loader for a data path.

    Args:
        data_path: The ``data_path`` config value (``AWS_DATA_PATH``), or None.
            Sessions with different data paths never share a loader.

    Returns:
        A `botocore.loaders.Loader` whose parsed models are kept for the
        process's life, like any botocore session's own loader.
    """
    loader = _loaders.get(data_path)
    if loader is not None:
        return loader
    with _lock:
        loader = _loaders.get(data_path)
        if loader is None:
            from botocore.loaders import Loader

            extra = [
                os.path.expanduser(os.path.expandvars(path))
                for path in (data_path.split(os.pathsep) if data_path else [])
            ]
            loader = Loader(extra_search_paths=_AppendOnceList(extra))
            _loaders[data_path] = loader
        return loader


def _template() -> HierarchicalEmitter:
    global _template_emitter  # noqa: PLW0603
    if _template_emitter is not None:
        return _template_emitter
    with _lock:
        if _template_emitter is None:
            from botocore import handlers
            from botocore.hooks import EventAliaser, HierarchicalEmitter

            emitter = HierarchicalEmitter()
            # Register through an aliaser, as botocore.session.Session does, so
            # handlers given under old service names land under the new ones.
            aliased = EventAliaser(emitter)
            for spec in handlers.BUILTIN_HANDLERS:
                event_name, handler = spec[0], spec[1]
                position = spec[2] if len(spec) > 2 else None
                if position is handlers.REGISTER_FIRST:
                    aliased.register_first(event_name, handler)
                elif position is handlers.REGISTER_LAST:
                    aliased.register_last(event_name, handler)
                else:
                    aliased.register(event_name, handler)
            _template_emitter = emitter
        return _template_emitter


def new_botocore_session(data_path: str | None) -> botocore.session.Session:
    """A new botocore session that shares the process's immutable SDK data.

    It has botocore's builtin handlers (copied, not re-registered) and the
    shared loader for ``data_path``; everything else is its own.

    Args:
        data_path: The parent's ``data_path`` config value.

    Returns:
        A fresh `botocore.session.Session`.
    """
    import botocore.session

    session = botocore.session.Session(
        event_hooks=copy.copy(_template()), include_builtin_handlers=False
    )
    session.register_component("data_loader", shared_loader(data_path))
    return session
