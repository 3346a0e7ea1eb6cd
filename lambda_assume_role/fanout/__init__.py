"""The fan-out wing: one function in many accounts and regions, by a deadline, in bounded memory.

`fan_out` runs ``work(session, target)`` for every target (an account, or an
account and a region) with a refreshing assumed-role session in that account
and region, and yields an `Outcome` per target as each finishes;
`organization_accounts` lists an organization's active accounts as targets.
What a run guarantees, and how:

* **Exactly once.** Every target is yielded as one outcome or listed in
  `FanOutRun.remaining`, never both, never neither. ``remaining`` holds
  JSON-ready dicts that `fan_out` accepts as targets, so feeding it back
  finishes the job.
* **Malformed input never costs a valid target.** A collection of targets (a
  list, a tuple, ``remaining``) is parsed whole when `fan_out` is called:
  the first item that is not a target is refused with `InvalidParameterError`
  naming its index and the rule, before anything starts. A lazily read
  iterable (a generator) is parsed as it is read: an item that is not a
  target is an `Outcome` of its own, phase ``"target"``, ``target`` None,
  while the others run. An iterable that raises is read no more; what it
  gave runs as usual, then its exception is raised at the end of iteration.
* **The deadline.** ``deadline=`` (seconds or an aware datetime), ``context=``
  (a Lambda context, or a durable function's ``DurableContext``) or, inside a
  decorated handler, the invocation being served sets an end. Nothing new
  starts once the time left is less than ``reserve`` plus the 95th percentile
  of the targets' durations so far; iteration ends by the end less
  ``reserve``. Work still in flight then is *given up*: its targets go to
  ``remaining`` and its results are dropped, never yielded later. Python
  cannot stop a thread, so a given-up thread runs on: its ``work`` continues
  until it returns (make it idempotent, and bound its own calls); the STS
  calls our library makes in it (the account's AssumeRole, a refresh) end by
  the stop line, because every worker runs with the stop line plus
  `RefreshWindows.deadline_margin` bound as its invocation's deadline
  (`lambda_assume_role.invocation`, which the fetcher obeys; ``work`` can
  read it too); then the thread exits. An AssumeRole that the stop line
  leaves no time for is not attempted (the target goes to ``remaining``).
  Inside Lambda, a thread still running when the handler returns is frozen
  with the environment and resumes in a later invocation.
* **One AssumeRole per account,** however many regions. An account's first
  target assumes the role in the parent's region (the regional STS endpoint:
  botocore's default today; the 1.34 floor defaults to ``legacy``, so set
  ``AWS_STS_REGIONAL_ENDPOINTS=regional`` there for opt-in regions), and each
  target gets `AssumedRoleSession.in_region`, which shares that one
  refreshing credential. Targets of one account that are in the run at the
  same time share it; an account whose assume failed fails all its targets
  with that one error, without asking STS again. The request is validated
  once, when `fan_out` is called.
* **Bounded memory.** Outcomes are streamed and not kept. At most
  ``max_workers`` targets are in flight; targets are read from the iterable
  only when a worker is free (plus one account's regions), so a lazy
  iterable of any length is read ahead by a bounded amount. Sessions are
  built when a target starts; a target's session is dropped when it is done,
  an account's credentials when its last target in the run is done.
* **Throttling and faults.** A throttled (or 5xx) AssumeRole is retried with
  full-jitter exponential backoff, within the deadline, beyond botocore's own
  attempts (a target still throttled at the stop line goes to ``remaining``).
  AccessDenied, a missing role or an unreachable STS is an outcome with phase
  ``"assume"``; an exception from ``work`` one with phase ``"work"``. Neither
  stops the run. An AssumeRole refused because the deadline is too close
  (`AssumeRoleTimeoutError`) is no failure of the target: it goes to
  ``remaining``.
* **Opt-in regions.** ``regions="enabled"`` asks each account once per run
  which regions it has enabled and sends nothing to any other region.
* **Observability.** One WARNING per failed target and one INFO summary per
  run on the ``lambda_assume_role`` logger, with ``extra=`` fields that
  Powertools' Logger carries as keys. No secret is logged.

The rooms, each importing only those below it: `start` (`fan_out`: the
checks, the request prepared once), `run` (`FanOutRun`: the loop),
`summary` (`FanOutSummary`, the p95, the log lines), `worker` (what a worker
thread does with a target), `accounts` (one AssumeRole per account, retried
with backoff), `regions` (``regions=`` and each account's enabled regions),
`organizations` (`organization_accounts`), `targets` (`Target`, `Outcome`)
and `clock` (the run's `Clock`, a test seam).

Example:
    >>> from lambda_assume_role.fanout import Target, fan_out
    >>> def caller(session, target):
    ...     return session.client("sts").get_caller_identity()["Account"]
    >>> run = fan_out(caller, ["111111111111", "222222222222"],
    ...               regions=["us-east-1", "eu-west-1"], deadline=60)
    >>> for line in sorted(f"{outcome.target} {outcome.value}" for outcome in run):
    ...     print(line)
    111111111111/eu-west-1 111111111111
    111111111111/us-east-1 111111111111
    222222222222/eu-west-1 222222222222
    222222222222/us-east-1 222222222222
    >>> summary = run.summary
    >>> summary.succeeded, summary.failed_assume, summary.remaining, summary.reason
    (4, 0, 0, 'done')
    >>> Target.parse({"account_id": "111111111111", "region": "eu-west-1"})
    Target(account_id='111111111111', region='eu-west-1')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambda_assume_role.exports import lazy_exports

if TYPE_CHECKING:
    from lambda_assume_role.fanout.clock import Clock as Clock
    from lambda_assume_role.fanout.organizations import (
        organization_accounts as organization_accounts,
    )
    from lambda_assume_role.fanout.run import FanOutRun as FanOutRun
    from lambda_assume_role.fanout.start import DEFAULT_ROLE_NAME as DEFAULT_ROLE_NAME
    from lambda_assume_role.fanout.start import fan_out as fan_out
    from lambda_assume_role.fanout.summary import FanOutSummary as FanOutSummary
    from lambda_assume_role.fanout.targets import Outcome as Outcome
    from lambda_assume_role.fanout.targets import Phase as Phase
    from lambda_assume_role.fanout.targets import Target as Target
    from lambda_assume_role.fanout.targets import TargetSpec as TargetSpec
    from lambda_assume_role.fanout.worker import Work as Work

# Each public name and the room it lives in; loaded on first use (PEP 562), so
# using one name imports only its room.
_SOURCES = {
    "DEFAULT_ROLE_NAME": "start",
    "Clock": "clock",
    "FanOutRun": "run",
    "FanOutSummary": "summary",
    "Outcome": "targets",
    "Phase": "targets",
    "Target": "targets",
    "TargetSpec": "targets",
    "Work": "worker",
    "fan_out": "start",
    "organization_accounts": "organizations",
}

__all__ = list(_SOURCES)
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
