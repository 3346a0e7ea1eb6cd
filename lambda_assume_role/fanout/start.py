"""`fan_out` itself: every argument checked, the request prepared once, the run built.

Nothing here makes a request: the checks and the one preparation of the
AssumeRole request (`lambda_assume_role.role.prepare_role`, the front door
every path comes in through) happen at the call, so bad input fails before
any network call; the work starts when the returned `FanOutRun` is iterated.
Targets given as a collection (a list, a tuple...) are all parsed here too;
a lazily read iterable is left to the run.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from lambda_assume_role import invocation
from lambda_assume_role.arns import get_role_arn
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.fanout.clock import SYSTEM_CLOCK, Clock
from lambda_assume_role.fanout.regions import check_regions
from lambda_assume_role.fanout.targets import Target, TargetSpec, read_target
from lambda_assume_role.refresh_policy import DEFAULT_WINDOWS, RefreshWindows

if TYPE_CHECKING:
    import boto3

    from lambda_assume_role.fanout.run import FanOutRun
    from lambda_assume_role.fanout.worker import Work

__all__ = ["DEFAULT_ROLE_NAME", "fan_out"]

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
"""The role Organizations creates in every account it creates."""

# Stands in for the accounts when the request is prepared, before any is read.
_PLACEHOLDER_ACCOUNT = "000000000000"


def fan_out(
    work: Work,
    targets: Iterable[TargetSpec],
    *,
    role_name: str = DEFAULT_ROLE_NAME,
    role_arn: Callable[[Target], str] | None = None,
    regions: Sequence[str] | Literal["enabled"] | None = None,
    max_workers: int = 16,
    deadline: float | datetime.datetime | datetime.timedelta | None = None,
    context: Any = None,
    reserve: float = 10.0,
    parent: boto3.Session | None = None,
    clock: Clock | None = None,
    **assume_role_kwargs: Any,
) -> FanOutRun:
    """Run ``work`` in every target's account and region, yielding outcomes as they finish.

    Every argument is checked here, before any request is made; the work
    starts when the returned run is iterated. See `lambda_assume_role.fanout`
    for the guarantees.

    Malformed targets never cost a valid one its outcome:

    * ``targets`` a collection (a list, tuple, set, ``run.remaining``:
      anything with a length that is not an iterator): every item is parsed
      here, and the first that is not a target is refused with
      `InvalidParameterError` naming its index (``targets[3]: ...``), the
      rule, and at most a short piece of the item. Nothing has started, so
      nothing is half done: fix the input and call again.
    * ``targets`` read lazily (a generator, an iterator): each item is parsed
      as it is read; one that is not a target is an `Outcome` of its own,
      with phase ``"target"``, ``target`` None and an `InvalidParameterError`
      naming its position (``targets item 3: ...``), while the others run.
      If the iterable raises, nothing more is read from it; the targets it
      gave run to their outcomes (or to ``run.remaining``) as usual, and
      its exception is raised at the end of iteration (or by ``run.close()``
      if the run was closed first), with ``summary.reason`` ``"error"``.

    Args:
        work: ``work(session, target) -> value``, called in a worker thread
            with a refreshing assumed-role `boto3.Session` in
            ``target.region`` (its own session: create clients freely).
        targets: Account ids, `Target`s or ``{"account_id", "region"}``
            mappings (the items of `FanOutRun.remaining`): a collection,
            parsed whole here, or an iterable read lazily (see above).
        role_name: The role to assume in each account (path allowed), in the
            parent's partition.
        role_arn: Instead of ``role_name``: ``role_arn(target) -> ARN``,
            called once per account.
        regions: Where each account's work runs, for targets that name no
            region (a target with a region keeps it, so leftovers resume
            as they were): None, the parent's region; a list, every
            account in every region of it; ``"enabled"``, every region
            enabled in the account, asked once per account per run.
        max_workers: Targets in flight at once (threads).
        deadline: When to be done: seconds from now, a `datetime.timedelta`,
            or an aware `datetime.datetime`.
        context: A Lambda context, or a durable function's ``DurableContext``
            (which carries one): its remaining time is a deadline too (the
            earlier one counts). Without either, a decorated handler's
            invocation (`lambda_assume_role.invocation`) sets it; otherwise
            there is none.
        reserve: Seconds kept free before the deadline: iteration ends by the
            deadline less ``reserve``, leaving the caller time to save
            outcomes and ``remaining``.
        parent: The session that assumes the roles (default
            ``boto3.Session()``); it needs a region.
        clock: A test seam: the `Clock` the run reads and waits with
            (`lambda_assume_role.fanout.clock`); default the system's.
        **assume_role_kwargs: `assume_role` keywords for every account
            (``ExternalId``, ``DurationSeconds``, ``RoleSessionName``,
            ``Policy``, ``Tags``, ``cache``, ``refresh_windows``...), checked
            once, here. ``region_name`` is not one: see ``regions``.

    Returns:
        A `FanOutRun`: iterate it for `Outcome`s in completion order; then
        ``run.remaining`` (JSON-ready) and ``run.summary`` (`FanOutSummary`).

    Raises:
        InvalidParameterError: An argument (or an AssumeRole parameter, or an
            item of a ``targets`` collection) breaks a rule; also a
            `ValueError`.
        TypeError: A keyword that `assume_role` does not take.
        botocore.exceptions.NoCredentialsError: The parent has no credentials.

    Example:
        >>> fan_out(print, ["111111111111"], max_workers=0)
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: max_workers must be an int >= 1; got 0
        >>> fan_out(print, ["bad", "bad2", "222222222222"])
        Traceback (most recent call last):
        ...
        lambda_assume_role.errors.InvalidParameterError: targets[0]: target account_id must be \
12 digits; got 'bad'
        >>> run = fan_out(lambda session, target: session.client("sts").get_caller_identity(),
        ...               ["111111111111"], regions="enabled", context=context)
        >>> outcomes = list(run)
        >>> all(outcome.ok for outcome in outcomes), len(outcomes) > 1
        (True, True)
    """
    import boto3

    # The run's rooms and the front door are imported here, when a run starts:
    # importing fan_out stays as cheap as the checks it makes first.
    from lambda_assume_role.fanout.accounts import AccountSessions
    from lambda_assume_role.fanout.run import FanOutRun
    from lambda_assume_role.fanout.worker import Engine
    from lambda_assume_role.role import prepare_role

    clock = SYSTEM_CLOCK if clock is None else clock
    if not isinstance(clock, Clock):
        raise InvalidParameterError(
            f"clock must have monotonic(), wait() and pause(); got {type(clock).__name__}"
        )
    started = clock.monotonic()
    _check_arguments(work, targets, max_workers, reserve, assume_role_kwargs)
    source = _parsed(targets)
    region_plan = check_regions(regions)
    end = invocation.end_of(deadline, context, clock=clock.monotonic)

    parent = parent if parent is not None else boto3.Session()
    if not isinstance(parent, boto3.Session):
        raise InvalidParameterError(f"parent must be a boto3.Session; got {type(parent).__name__}")
    home_region = parent.region_name
    if not home_region:
        raise InvalidParameterError(
            "the parent session needs a region (AWS_REGION, or boto3.Session(region_name=...)): "
            "AssumeRole is called on its regional STS endpoint"
        )
    partition = parent.get_partition_for_region(home_region)
    role_arn_for, placeholder = _role_arns(role_name, role_arn, partition)
    # Once for every account, before any request; each account then only swaps
    # in its role's ARN. The parent's credentials are resolved here, in the
    # caller's thread: boto3 sessions are not thread-safe on first use.
    prepared = prepare_role(
        parent,
        placeholder,
        {**assume_role_kwargs, "region_name": home_region},
        require_credentials=True,
    )

    stop_at = None if end is None else end - float(reserve)
    closed = threading.Event()
    accounts = AccountSessions(
        parent=parent,
        prepared=prepared,
        role_arn_for=role_arn_for,
        stop_at=stop_at,
        clock=clock,
        closed=closed,
    )
    engine = Engine(
        work=work,
        accounts=accounts,
        home_region=home_region,
        deadline=_workers_deadline(end, stop_at, prepared.refresh_windows, clock),
        clock=clock,
        closed=closed,
    )
    return FanOutRun(
        engine,
        source,
        regions=region_plan,
        max_workers=max_workers,
        started=started,
        stop_at=stop_at,
    )


def _check_arguments(
    work: Any, targets: Any, max_workers: Any, reserve: Any, assume_role_kwargs: Mapping[str, Any]
) -> None:
    if not callable(work):
        raise InvalidParameterError(f"work must be callable; got {type(work).__name__}")
    if isinstance(targets, (str, bytes, Mapping, Target)) or not isinstance(targets, Iterable):
        raise InvalidParameterError(
            "targets must be an iterable of account ids, Targets or mappings; "
            f"got {type(targets).__name__}"
        )
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidParameterError(f"max_workers must be an int >= 1; got {max_workers!r}")
    if isinstance(reserve, bool) or not isinstance(reserve, (int, float)) or not reserve >= 0:
        raise InvalidParameterError(f"reserve must be seconds >= 0; got {reserve!r}")
    if "region_name" in assume_role_kwargs:
        raise InvalidParameterError(
            "fan_out puts each session in its target's region; use regions= instead of region_name"
        )


def _parsed(targets: Iterable[TargetSpec]) -> Iterator[TargetSpec]:
    """What the run reads: a collection's items all parsed now, the first bad one refused; a
    lazily read iterable as it is (the run parses each item as it reads it).

    A collection can be read whole without consuming it, so refusing it is
    free and leaves nothing half done; reading an iterator through would
    defeat its laziness (and may never end).
    """
    if isinstance(targets, Iterator) or not isinstance(targets, Collection):
        return iter(targets)
    return iter([read_target(spec, f"targets[{index}]") for index, spec in enumerate(targets)])


def _role_arns(
    role_name: Any, role_arn: Callable[[Target], str] | None, partition: str
) -> tuple[Callable[[Target], str], str]:
    """Each account's role ARN (``role_arn``, or ``role_name`` in the account), and a
    placeholder ARN to prepare the request with: ``role_name`` in no account, so that
    its name is checked too, or a plain role (``role_arn`` is not called before a
    target is read)."""
    if role_arn is not None:
        if not callable(role_arn):
            raise InvalidParameterError(
                f"role_arn must be a callable(target) -> ARN; got {type(role_arn).__name__}"
            )
        return role_arn, get_role_arn(_PLACEHOLDER_ACCOUNT, "placeholder", partition=partition)
    if not isinstance(role_name, str) or not role_name:
        raise InvalidParameterError(f"role_name must be a role's name; got {role_name!r}")

    def role_arn_for(target: Target) -> str:
        return get_role_arn(target.account_id, role_name, partition=partition)

    return role_arn_for, get_role_arn(_PLACEHOLDER_ACCOUNT, role_name, partition=partition)


def _workers_deadline(
    end: float | None, stop_at: float | None, windows: RefreshWindows | None, clock: Clock
) -> invocation.Countdown | None:
    """What every worker has bound as its invocation's deadline: the stop line plus the margin.

    The fetcher keeps `RefreshWindows.deadline_margin` free before what is
    bound, so the STS calls our library makes in a worker end by the stop
    line; never later than the end itself.
    """
    if end is None or stop_at is None:
        return None
    margin = (windows or DEFAULT_WINDOWS).deadline_margin
    return invocation.Countdown.until(min(end, stop_at + margin), clock=clock.monotonic)
