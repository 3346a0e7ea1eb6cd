"""The durable-functions wing: the library inside Lambda durable functions.

A durable function (``aws-durable-execution-sdk-python``'s ``@durable_execution``)
gets a ``DurableContext`` instead of a Lambda context, checkpoints each
operation and replays the handler from the start in every invocation. What
the core already does for it, with our decorators *inside* (below)
``@durable_execution``, and nothing to configure:

* **A DurableContext works wherever a Lambda context does**: the decorators'
  deadline, role callables (they get the ``DurableContext``, as the handler
  does), `TenantRole`'s default tenant source (``context.lambda_context
  .tenant_id``), ``fan_out(context=...)`` and ``deadline.invocation(...)``, all
  through `lambda_assume_role.invocation.lambda_context_of`.
* **The deadline reaches every thread the SDK runs user code in**: the
  handler's and its steps and child contexts (they run in the caller's
  thread), and ``context.map`` / ``context.parallel`` branches, which run in
  new threads that do not inherit context variables: a bound
  ``DurableContext`` is the process's durable invocation, which threads that
  bound nothing read (`lambda_assume_role.invocation`).
* **No credential reaches a checkpoint**: every operation a decorated
  handler's ``DurableContext`` checkpoints goes through a guard around its
  serdes (`lambda_assume_role.checkpoint_guard`), which refuses a result
  holding a live key or anything that looks like a credential.
* **The wrong order is refused**: our decorator outside ``@durable_execution``
  raises `TypeError` at decoration; if the SDK's wrapper is hidden from it,
  the first call fails the execution (not retried) with one line naming the
  right order.

Credentials are lazy, so a replay makes no STS call until real work needs one.

What the wing adds: `durable_fan_out` (room `fan_out`), org-wide work that
runs for as many invocations as it needs: rounds of ``context.map`` over
batches of targets, each batch one step running ``fan_out`` by its branch's
deadline, what a round leaves carried over a ``context.wait`` into the next
invocation; every target completed exactly once, no checkpoint over 256 KB,
a JSON-ready summary (`DurableFanOutError` when more targets fail than
tolerated).

The durable execution SDK is optional (``pip install lambda-assume-role[durable]``)
and is never imported at module level: ``import lambda_assume_role`` does not
load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambda_assume_role.exports import lazy_exports

if TYPE_CHECKING:
    from lambda_assume_role.durable.fan_out import DurableFanOutError as DurableFanOutError
    from lambda_assume_role.durable.fan_out import durable_fan_out as durable_fan_out

# Each public name and the room it lives in; loaded on first use (PEP 562).
_SOURCES: dict[str, str] = {"DurableFanOutError": "fan_out", "durable_fan_out": "fan_out"}

__all__ = list(_SOURCES)
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
