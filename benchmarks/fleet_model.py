"""Fleet model: AssumeRole requests per second from a burst of Lambda execution environments.

N execution environments (1,000 and 10,000) start in a burst, all within `BURST` seconds
(uniformly, seeded). Each holds 1 to 3 roles (uniformly, seeded), one credentials object per
role, and is invoked once per second for `HOURS` hours; every invocation makes one API call
with each of its roles. So each credentials object signs one request per second, at
``start + k`` seconds. The AssumeRole requests the fleet sends are counted in 1-second
buckets.

The refresh decisions are made by the project's **real** code on a simulated clock:
`lambda_assume_role.refresh.AssumeRoleCredentials` with ``time_fetcher`` = the simulated
clock, ``rng`` = a seeded `random.Random`, and a fake ``fetch`` that records an AssumeRole
at the simulated time and returns credentials that expire ``DurationSeconds`` later.
botocore's policy is simulated with botocore's own `DeferredRefreshableCredentials` (15 min
advisory, 10 min mandatory window) driven the same way.

**Event-driven**: between two refreshes every call is a no-op that returns the cached
credentials, so a credentials object is only woken at its next call at or after the
point its policy will refresh (`_next_attempt` for ours, ``expiry - 900 s`` for botocore),
through a heap. If that call does not refresh (a boundary case), the next call is tried.
10,000 environments x 6 h run in seconds.

**botocore with 900 s credentials** refreshes on *every* call (fresh 900 s credentials are
already inside its 900 s advisory window: boto/botocore#2189). Simulating 20,000 AssumeRole
calls a second for 6 hours event by event is pointless: its series is the API call rate,
computed exactly (each started credentials object makes one call per 1-second bucket), and
checked against botocore's real class on the simulated clock for one credentials object.

The quota line: AWS documents a default STS request quota of 600 requests per second per
account per Region, shared by AssumeRole, GetCallerIdentity, GetSessionToken and the other
credentialed STS operations, counted against the *calling* account ("IAM and AWS STS
quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html, "STS
request quotas"). That figure is quoted here from secondary sources that cite that page;
check it there before relying on it.

Run from the repository root: ``.venv/bin/python -m benchmarks.fleet_model``.
"""

from __future__ import annotations

import datetime
import heapq
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from benchmarks._harness import environment_header, markdown_table, note_not_ahead

FLEETS = (1_000, 10_000)
LIFETIMES = (900, 3600)
HOURS = 6
SPAN = HOURS * 3600  # simulated seconds
BURST = 10.0  # every environment starts within this many seconds
CALL_INTERVAL = 1.0  # seconds between two calls made with one role in one environment
# The simulated clock counts integer microseconds, the resolution of the datetimes the
# credentials compare, so that "the first call at or after the refresh point" is exact.
_US = 1_000_000
_INTERVAL_US = int(CALL_INTERVAL * _US)
_ONE_US = datetime.timedelta(microseconds=1)
ROLES_PER_ENVIRONMENT = (1, 3)
SEED = 20261123
STS_QUOTA = 600  # requests per second per account per Region (see the module docstring)
START_WINDOW = 60  # seconds counted as the start burst in the table
CHECK_CALLS = 300  # calls made through botocore's class to check the every-call model
PLOT_PATH = Path(__file__).resolve().parent / "fleet_model.png"
SIM_START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)

#: Scenario keys, in table and plot order.
POLICIES = ("ours", "ours-no-jitter", "botocore")
POLICY_LABELS = {
    "ours": "ours (default RefreshWindows, jitter 0.5)",
    "ours-no-jitter": "ours, RefreshWindows(jitter=0)",
    "botocore": "botocore fixed 15/10 min windows",
}


class ScenarioResult(TypedDict):
    environments: int
    lifetime: int
    policy: str
    credentials: int
    per_second: list[int]
    simulated_events: int
    seconds: float
    method: str


@dataclass
class Fleet:
    """Who calls when: each credentials object's first call time (its phase)."""

    phases: list[int]  # microseconds; one per credentials object (role in an environment)


def make_fleet(environments: int, seed: int = SEED) -> Fleet:
    """The same fleet for every policy: start times and role counts from one seed."""
    rng = random.Random(seed)
    phases: list[int] = []
    for _ in range(environments):
        start = int(rng.uniform(0, BURST) * _US)
        phases.extend([start] * rng.randint(*ROLES_PER_ENVIRONMENT))
    return Fleet(phases)


class SimClock:
    """The simulated wall clock: microseconds since `SIM_START`, read as aware datetimes."""

    __slots__ = ("now", "when")

    def __init__(self) -> None:
        self.now = 0
        self.when = SIM_START

    def set(self, microseconds: int) -> None:
        self.now = microseconds
        self.when = SIM_START + datetime.timedelta(microseconds=microseconds)

    def __call__(self) -> datetime.datetime:
        return self.when


class FakeSTS:
    """The ``fetch`` callback: records an AssumeRole at the simulated time, returns keys."""

    def __init__(self, clock: SimClock, lifetime: int, *, iso_expiry: bool) -> None:
        self.clock = clock
        self.lifetime = datetime.timedelta(seconds=lifetime)
        self.iso_expiry = iso_expiry  # botocore parses the expiry text with dateutil
        self.per_second = [0] * SPAN
        self.calls = 0

    def __call__(self, advisory: bool = False) -> dict[str, Any]:
        self.calls += 1
        second = self.clock.now // _US
        if second < SPAN:
            self.per_second[second] += 1
        expiry = self.clock.when + self.lifetime
        return {
            "access_key": "ASIASIMULATEDKEY0001",
            "secret_key": "simulated-secret",
            "token": "simulated-token",
            "expiry_time": expiry.isoformat() if self.iso_expiry else expiry,
        }


def _first_call_at_or_after(target: int, phase: int) -> int:
    """The first call time ``phase + k * CALL_INTERVAL`` (k >= 0) that is >= target (µs)."""
    k = max(-(-(target - phase) // _INTERVAL_US), 0)
    return phase + k * _INTERVAL_US


def simulate(environments: int, lifetime: int, policy: str) -> ScenarioResult:
    """Run one scenario event by event; see the module docstring."""
    from botocore.credentials import DeferredRefreshableCredentials

    from lambda_assume_role.refresh import AssumeRoleCredentials, RefreshWindows

    started = time.perf_counter()
    fleet = make_fleet(environments)
    clock = SimClock()
    sts = FakeSTS(clock, lifetime, iso_expiry=policy == "botocore")
    jitter_rng = random.Random(SEED + 1)
    credentials: list[Any] = []
    refresh_point: Callable[[Any], int]
    if policy == "botocore":
        advisory = int(_botocore_advisory() * _US)
        for _ in fleet.phases:
            credentials.append(
                DeferredRefreshableCredentials(
                    refresh_using=sts, method="assume-role", time_fetcher=clock
                )
            )

        def refresh_point(creds: Any) -> int:
            # botocore refreshes when *fewer* than 900 s remain: strictly after this point.
            return int((creds._expiry_time - SIM_START) // _ONE_US) - advisory + 1

    else:
        windows = RefreshWindows() if policy == "ours" else RefreshWindows(jitter=0)
        for i in range(len(fleet.phases)):
            credentials.append(
                AssumeRoleCredentials(
                    sts,
                    role_arn=f"arn:aws:iam::123456789012:role/sim-{i}",
                    windows=windows,
                    time_fetcher=clock,
                    rng=jitter_rng,
                )
            )

        def refresh_point(creds: Any) -> int:
            return int((creds._next_attempt - SIM_START) // _ONE_US)

    heap = [(phase, i) for i, phase in enumerate(fleet.phases)]
    heapq.heapify(heap)
    events = 0
    while heap:
        now, i = heapq.heappop(heap)
        clock.set(now)
        before = sts.calls
        creds = credentials[i]
        creds.get_frozen_credentials()  # what signing a request does
        events += 1
        phase = fleet.phases[i]
        if sts.calls == before:  # not due after all (should not happen): the next call
            following = now + _INTERVAL_US
        else:
            following = _first_call_at_or_after(refresh_point(creds), phase)
            if following <= now:
                following = now + _INTERVAL_US
        if following < SPAN * _US:
            heapq.heappush(heap, (following, i))
    return {
        "environments": environments,
        "lifetime": lifetime,
        "policy": policy,
        "credentials": len(fleet.phases),
        "per_second": sts.per_second,
        "simulated_events": events,
        "seconds": time.perf_counter() - started,
        "method": "simulated",
    }


def every_call_series(environments: int, lifetime: int) -> ScenarioResult:
    """botocore with credentials born inside its advisory window: one AssumeRole per call.

    Each credentials object calls once per second from its phase on, so the 1-second
    bucket ``b`` holds one call from each object whose phase is before ``b + 1``.
    """
    started = time.perf_counter()
    fleet = make_fleet(environments)
    starts = [0] * SPAN
    for phase in fleet.phases:
        starts[phase // _US] += 1
    per_second: list[int] = []
    running = 0
    for count in starts:
        running += count
        per_second.append(running)
    return {
        "environments": environments,
        "lifetime": lifetime,
        "policy": "botocore",
        "credentials": len(fleet.phases),
        "per_second": per_second,
        "simulated_events": 0,
        "seconds": time.perf_counter() - started,
        "method": "one AssumeRole per API call (computed; checked on botocore's class)",
    }


def check_every_call(lifetime: int, calls: int = CHECK_CALLS) -> int:
    """AssumeRole calls botocore's real class makes for ``calls`` calls, one per second."""
    from botocore.credentials import DeferredRefreshableCredentials

    clock = SimClock()
    sts = FakeSTS(clock, lifetime, iso_expiry=True)
    creds = DeferredRefreshableCredentials(
        refresh_using=sts, method="assume-role", time_fetcher=clock
    )
    for k in range(calls):
        clock.set(_US // 2 + k * _INTERVAL_US)
        creds.get_frozen_credentials()
    return sts.calls


def run_scenario(args: tuple[int, int, str]) -> ScenarioResult:
    environments, lifetime, policy = args
    if policy == "botocore" and lifetime <= _botocore_advisory():
        return every_call_series(environments, lifetime)
    return simulate(environments, lifetime, policy)


def _botocore_advisory() -> float:
    """botocore's advisory refresh window in seconds (15 minutes in botocore 1.44)."""
    from botocore.credentials import DeferredRefreshableCredentials

    advisory: float = DeferredRefreshableCredentials._advisory_refresh_timeout  # type: ignore[attr-defined]
    return advisory


# --- report ----------------------------------------------------------------------------------


def _stats(series: Sequence[int]) -> dict[str, float]:
    after = series[START_WINDOW:]
    return {
        "total": float(sum(series)),
        "peak": float(max(series)),
        "peak_start": float(max(series[:START_WINDOW])),
        "peak_after": float(max(after)),
        "mean": sum(series) / len(series),
        "mean_after": sum(after) / len(after),
        "seconds_over_quota": float(sum(1 for value in series if value > STS_QUOTA)),
    }


def plot(results: Sequence[ScenarioResult], path: Path) -> str:
    """Draw requests per second over time (per-minute peak of 1-s buckets) into ``path``."""
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no plot was drawn."
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Drawn in this order: ours without jitter wide and pale underneath, because with
    # 3600 s credentials botocore's line (dashed, on top) lies exactly on it.
    styles: dict[str, dict[str, Any]] = {
        "ours-no-jitter": {"color": "tab:orange", "linewidth": 3.0, "alpha": 0.55},
        "botocore": {"color": "tab:red", "linewidth": 1.1, "linestyle": "--"},
        "ours": {"color": "tab:green", "linewidth": 1.5},
    }
    figure, axes = plt.subplots(
        len(FLEETS), len(LIFETIMES), figsize=(13, 8.5), sharex=True, squeeze=False
    )
    for row, environments in enumerate(FLEETS):
        for column, lifetime in enumerate(LIFETIMES):
            ax = axes[row][column]
            for policy, style in styles.items():
                result = next(
                    r
                    for r in results
                    if r["environments"] == environments
                    and r["lifetime"] == lifetime
                    and r["policy"] == policy
                )
                series = result["per_second"]
                minutes = [max(series[m : m + 60]) for m in range(0, SPAN, 60)]
                hours = [m / 60 for m in range(len(minutes))]
                ax.step(hours, minutes, where="post", label=POLICY_LABELS[policy], **style)
            ax.axhline(STS_QUOTA, color="black", linewidth=1, linestyle=":")
            ax.text(
                HOURS * 0.99,
                STS_QUOTA * 1.15,
                f"STS default quota {STS_QUOTA}/s",
                ha="right",
                va="bottom",
                fontsize=8,
            )
            ax.set_yscale("symlog", linthresh=1)
            ax.set_ylim(0, 60_000)
            ax.set_xlim(0, HOURS)
            ax.set_title(f"{environments:,} environments, {lifetime} s credentials", fontsize=10)
            ax.grid(True, which="major", alpha=0.3)
            if column == 0:
                ax.set_ylabel("AssumeRole requests/s\n(peak 1-s bucket in each minute)")
            if row == len(FLEETS) - 1:
                ax.set_xlabel("hours since the burst")
    handles, labels = axes[0][0].get_legend_handles_labels()
    order = [labels.index(POLICY_LABELS[policy]) for policy in POLICIES]
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    figure.suptitle(
        f"AssumeRole requests/s: environments started within {BURST:.0f} s, 1-3 roles each, "
        "one call per role per second",
        fontsize=11,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return f"Plot: `benchmarks/{path.name}`."


def report(results: Sequence[ScenarioResult], checks: dict[int, int], plot_text: str) -> str:
    by_key = {(r["environments"], r["lifetime"], r["policy"]): r for r in results}
    rows: list[list[object]] = []
    for environments in FLEETS:
        for lifetime in LIFETIMES:
            ours = _stats(by_key[environments, lifetime, "ours"]["per_second"])
            for policy in POLICIES:
                result = by_key[environments, lifetime, policy]
                stats = _stats(result["per_second"])
                rows.append(
                    [
                        f"{environments:,} env, {lifetime} s, {POLICY_LABELS[policy]}",
                        result["credentials"],
                        f"{stats['total']:,.0f}",
                        f"{stats['total'] / ours['total']:.2f}x",
                        f"{stats['peak_start']:,.0f}",
                        f"{stats['peak_after']:,.0f}",
                        f"{stats['peak_after'] / max(ours['peak_after'], 1):.1f}x",
                        f"{stats['peak_after'] / STS_QUOTA:.0%}",
                        f"{stats['mean_after']:,.1f}",
                        f"{stats['seconds_over_quota']:,.0f}",
                    ]
                )
    table = markdown_table(
        [
            "scenario",
            "roles",
            "AssumeRole in 6 h",
            "vs ours",
            f"peak/s, first {START_WINDOW} s",
            f"peak/s after {START_WINDOW} s",
            "vs ours",
            "of quota",
            "mean/s after",
            "seconds over quota",
        ],
        rows,
    )
    simulated = [r for r in results if r["method"] == "simulated"]
    wasted = sum(r["simulated_events"] - sum(r["per_second"]) for r in simulated)
    timing = ", ".join(
        f"{r['environments']:,}/{r['lifetime']}/{r['policy']}: {r['simulated_events']:,} events "
        f"in {r['seconds']:.1f} s"
        for r in simulated
    )
    check_text = "; ".join(
        f"{lifetime} s credentials, {CHECK_CALLS} calls one second apart -> {count} AssumeRole"
        for lifetime, count in checks.items()
    )

    for lifetime in LIFETIMES:
        ties = []
        for environments in FLEETS:
            ours = _stats(by_key[environments, lifetime, "ours"]["per_second"])
            boto = _stats(by_key[environments, lifetime, "botocore"]["per_second"])
            if ours["total"] > boto["total"] * 0.98:
                ties.append(
                    f"{environments:,} environments: {ours['total']:,.0f} against "
                    f"{boto['total']:,.0f}, peak after the start {ours['peak_after']:,.0f}/s "
                    f"against {boto['peak_after']:,.0f}/s"
                )
        if ties:
            note_not_ahead(
                f"Fleet model, {lifetime} s credentials: ours makes as many AssumeRole "
                f"calls in {HOURS} h as botocore ({'; '.join(ties)}). Both refresh about "
                "once per lifetime, and in a 6 h window both need the same number per "
                "credential (ours refreshes 0-7 minutes later in each cycle, which over a "
                "longer run saves a few percent). Ours' gain there is the spread."
            )
    for environments in FLEETS:
        ours = _stats(by_key[environments, LIFETIMES[0], "ours"]["per_second"])
        if ours["peak_start"] > STS_QUOTA:
            note_not_ahead(
                f"Fleet model, {environments:,} environments: the start burst itself "
                f"sends {ours['peak_start']:,.0f} AssumeRole/s with any library (every "
                "environment's first call needs credentials; jitter only spreads "
                f"refreshes), above the {STS_QUOTA}/s default quota. Only spreading the "
                "cold starts, or pre-warming, avoids it."
            )

    return "\n\n".join(
        [
            "## Fleet model: AssumeRole requests per second across a fleet",
            f"{FLEETS[0]:,} and {FLEETS[1]:,} execution environments start within "
            f"{BURST:.0f} s (uniform, seed {SEED}); each holds {ROLES_PER_ENVIRONMENT[0]}-"
            f"{ROLES_PER_ENVIRONMENT[1]} roles (uniform) and makes **one API call per role "
            f"per second** for {HOURS} h of simulated time. Refresh decisions come from the "
            "real `AssumeRoleCredentials` (ours) and botocore's real "
            "`DeferredRefreshableCredentials`, on a simulated clock, with a fake STS that "
            "records each AssumeRole in a 1-second bucket. botocore with 900 s "
            "credentials refreshes on every call, so its series is the call rate "
            f"(checked on botocore's class: {check_text}).",
            f"Quota line: {STS_QUOTA} requests/s, the default STS request quota per account "
            "per Region ('IAM and AWS STS quotas' page; shared by AssumeRole and the other "
            "credentialed STS calls, counted against the calling account). Quoted from "
            "secondary sources citing that page, not read from it here: verify before relying "
            "on it. 'vs ours' compares each policy with ours (jitter on) for the same fleet "
            "and lifetime; 'of quota' is the peak after the start burst.",
            table,
            plot_text + " Per-minute peak of the 1-second buckets, symmetric-log y axis.",
            f"Simulation cost: {timing}. Wake-ups that made no AssumeRole: {wasted}.",
        ]
    )


def run_all_scenarios() -> list[ScenarioResult]:
    scenarios = [
        (environments, lifetime, policy)
        for environments in FLEETS
        for lifetime in LIFETIMES
        for policy in POLICIES
    ]
    # The two largest first, so that the two workers finish together.
    scenarios.sort(key=lambda s: (s[0] * (3600 / s[1]), s[2] != "botocore"), reverse=True)
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run_scenario, scenarios))


def main() -> str:
    results = run_all_scenarios()
    checks = {lifetime: check_every_call(lifetime, CHECK_CALLS) for lifetime in LIFETIMES}
    plot_text = plot(results, PLOT_PATH)
    text = report(results, checks, plot_text)
    print(text)
    return text


if __name__ == "__main__":
    print(environment_header())
    main()
