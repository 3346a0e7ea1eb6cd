"""Lambda Managed Instances: AssumeRole calls per execution environment of 8 worker processes.

Under Managed Instances one execution environment serves several invocations at once; for
Python, AWS's runtime interface client (awslambdaric 4.2.2) forks ``AWS_LAMBDA_MAX_CONCURRENCY``
worker processes, each of which imports the handler itself. This benchmark runs that real
client with ``AWS_LAMBDA_MAX_CONCURRENCY=8`` (`emulators.lambda_runtime.LambdaFunction`:
``python -S -m awslambdaric app.handler`` with only the function's folder, the slim layer
built from this checkout and the runtime's modules on its path) against moto on 127.0.0.1,
in three configurations of the same function, each in environments of its own in the same
run:

* **per-process**: the library with its environment-wide store turned off
  (``LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE=off``): each worker has its own credentials;
* **JSONFileCache**: the same, with ``inject_session(..., cache=JSONFileCache(path))`` in a
  private folder of the environment's temporary directory, shared by the 8 workers;
* **store**: the default inside Lambda when ``AWS_LAMBDA_MAX_CONCURRENCY`` is above 1.

Every environment gets its own temporary directory (``TMPDIR``, 0700), so nothing is shared
between environments or with an earlier run.

**The function.** Two roles, injected with the README's decorator:
``@inject_session(ROLE_900, DurationSeconds=900)`` and ``@inject_session(ROLE_3600)`` (the
default lifetime, 3600 s). Each invocation reads both sessions' keys, the 900 s role's
first (``session.get_credentials().get_frozen_credentials()``, what signing a request
does), so every invocation needs valid credentials for both; the first and last rounds
also call ``sts.get_caller_identity()`` with each session, to check that the keys are the
role's.

**One invocation per worker, all at once.** Each round the benchmark waits until the 8
workers are polling, then sends 8 invocations at once (``LambdaFunction.invoke_many``).
The function holds each one until all 8 have started (a file per worker in a folder of
the benchmark's, outside the timed span), so a worker that answered early cannot take a
second invocation of the round, and the 8 reach the library together; the benchmark
checks that 8 different processes answered.

**Simulated time.** The event carries the round's simulated time, and the function wraps
the decorated handler in ``time_machine.travel(now, tick=False)``, so the library's clock,
botocore's and the deadline's all read it in that worker (time-machine patches the whole
process, the library's STS call thread included; it needs nothing beyond its own two
modules, linked onto the function's path). STS is moto, in real time, behind the fault
proxy (`emulators.fault_proxy.FaultProxy`), whose ``rewrite`` sets each AssumeRole
answer's ``<Expiration>`` to the round's simulated time plus the role's lifetime: real keys
from moto, valid for a simulated 900 or 3600 s. The simulated clock starts a day behind
the real one, so an invocation's remaining time (awslambdaric computes it from
``time.time()``) is a day plus its 60 s and never binds. A cache or store file's
modification time stays real; anything that compares it with the clock would be misled.

* **Cold start**: round 0, the 8 workers' first invocations at once.
* **7,500 simulated seconds**: 26 rounds, one every 300 s (0 to 7,500 s), cold start
  included. With 900 s keys the library's jittered first refresh attempt falls 600-720 s
  after the fetch, between two rounds, so every 900 s key is replaced in the round at its
  expiry (a blocking refresh): 9 fetches cover the span at best. With 3600 s keys the
  attempt falls 2,700-3,120 s after the fetch, in the advisory window (the keys still
  good): 3 fetches at best.

AssumeRole requests are counted where they arrive, at the moto server (by ``RoleArn``), and
checked against the proxy's own count; the session names they used are counted too.

**Latency**, measured inside each worker with ``time.perf_counter_ns`` (the real clock):
from the call of the decorated handler to both roles' keys in hand.

* *Cold*: each worker's first invocation (all 8 at once, on a 2-CPU machine).
* *Refresh*: a later invocation in which the library's policy wanted a refresh of either
  role (``credentials.refresh_needed()``, asked just before the timed call) or the keys
  changed (an STS call, or keys another worker fetched).
* *Warm*: neither. The invocation's call is timed just after the 8 workers woke together,
  so its tail is the scheduler's; the same call is then repeated `WARM_REPEATS` times in
  that invocation, and their median is the warm path's own cost (the decorators' lookups
  and the refresh checks). Both include time-machine's patched clock (a few µs, the same
  in every configuration).

File and lock operations in the timed span are counted with an audit hook (``open``,
``fcntl.flock``/``lockf``/``fcntl``, ``os.rename``, ``os.remove``, ``os.mkdir``,
``os.listdir``/``scandir``, ``os.chmod``); ``os.stat`` raises no audit event and is not
counted.

The library's jitter is not seeded (each worker draws its own), so the runs are repeated
(`REPEATS` environments per configuration, interleaved) and counts that differ are shown
as a range.

Run from the repository root: ``.venv/bin/python -m benchmarks.managed_instances``.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from benchmarks._harness import (
    environment_header,
    markdown_table,
    median,
    note_not_ahead,
    p99,
    role_arn,
    start_moto,
)

if TYPE_CHECKING:
    from emulators.fault_proxy import FaultProxy, Transform
    from emulators.moto_server import MotoServer

WORKERS = 8
INTERVAL = 300  # simulated seconds between two rounds
SPAN = 7500  # simulated seconds from the first round to the last
ROUNDS = SPAN // INTERVAL + 1
REPEATS = 3
WARM_REPEATS = 100  # the warm path again, inside a warm invocation
#: Role name -> DurationSeconds; the 3600 s role is assumed with the default lifetime.
LIFETIMES = {"managed-instances-900": 900, "managed-instances-3600": 3600}
SHORT, LONG = LIFETIMES
#: Configurations, in table order.
CONFIGURATIONS = ("per-process", "jsonfilecache", "store")
LABELS = {
    "per-process": "per-process (store off)",
    "jsonfilecache": "`JSONFileCache` in /tmp (store off)",
    "store": "the store (default)",
}
STORE_VARIABLE = "LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE"
READY_TIMEOUT = 120.0  # 8 workers importing boto3 on a busy 2-CPU machine
INVOKE_TIMEOUT = 60.0

#: The function. Its environment names the roles, the JSONFileCache folder (if any) and the
#: folder where a round's invocations wait for each other (one per worker, all at once:
#: a worker that answered early could otherwise take a second invocation of the round).
FUNCTION_CODE = '''\
"""The benchmark's function: two roles through the README's decorator, in simulated time."""

import datetime
import os
import sys
import time

import time_machine

from lambda_assume_role import inject_session

CACHE = {}
if os.environ.get("BENCH_CACHE_DIR"):
    from botocore.utils import JSONFileCache

    CACHE = {"cache": JSONFileCache(os.environ["BENCH_CACHE_DIR"])}

FILE_EVENTS = frozenset((
    "open", "fcntl.flock", "fcntl.lockf", "fcntl.fcntl", "os.rename", "os.remove",
    "os.mkdir", "os.listdir", "os.scandir", "os.chmod",
))
_seen = []
_counting = [False]


def _audit(event, args):
    if _counting[0] and event in FILE_EVENTS:
        _seen.append(event)


sys.addaudithook(_audit)


@inject_session(os.environ["BENCH_ROLE_900"], name="short", DurationSeconds=900, **CACHE)
@inject_session(os.environ["BENCH_ROLE_3600"], name="long", **CACHE)
def measured(event, context, short, long):
    short_keys = short.get_credentials().get_frozen_credentials()
    long_keys = long.get_credentials().get_frozen_credentials()
    return short_keys.access_key, long_keys.access_key, (short, long)


def _all_workers_arrived(event):
    """Hold each invocation of a round until all of them run, one per worker, all at once."""
    folder = os.environ["BENCH_BARRIER_DIR"]
    tag = f"{event['round']}-"
    open(os.path.join(folder, tag + str(os.getpid())), "w").close()
    give_up = time.monotonic() + 60
    while sum(name.startswith(tag) for name in os.listdir(folder)) < event["workers"]:
        if time.monotonic() > give_up:
            raise TimeoutError(f"round {event['round']}: not every worker took an invocation")
        time.sleep(0.0005)


_previous = {}
_sessions = []


def _timed(event, context):
    """Nanoseconds from calling the decorated handler to both roles' keys in hand."""
    started = time.perf_counter_ns()
    short_key, long_key, sessions = measured(event, context)
    return time.perf_counter_ns() - started, short_key, long_key, sessions


def handler(event, context):
    _all_workers_arrived(event)
    now = datetime.datetime.fromisoformat(event["now"])
    with time_machine.travel(now, tick=False):
        # Whether the library's own policy wants a refresh now (read before the timed span).
        due = [
            name for name, session in zip(("short", "long"), _sessions)
            if session.get_credentials().refresh_needed()
        ]
        del _seen[:]
        _counting[0] = True
        added_ns, short_key, long_key, sessions = _timed(event, context)
        _counting[0] = False
        file_events = list(_seen)
        first = not _previous
        changed = [
            name for name, key in (("short", short_key), ("long", long_key))
            if _previous.get(name) != key
        ]
        _previous.update(short=short_key, long=long_key)
        _sessions[:] = sessions
        repeated_ns = []
        if not (first or due or changed):
            # The same warm path again, in a process now running: its own cost.
            repeated_ns = [_timed(event, context)[0] for _ in range(event["repeats"])]
        identities = []
        if event.get("check"):
            identities = [s.client("sts").get_caller_identity()["Arn"] for s in sessions]
        clock = time.time()
    return {
        "pid": os.getpid(),
        "round": event["round"],
        "first": first,
        "due": due,
        "changed": changed,
        "added_ns": added_ns,
        "repeated_ns": sorted(repeated_ns)[len(repeated_ns) // 2] if repeated_ns else None,
        "file_events": file_events,
        "clock": clock,
        "identities": identities,
    }
'''


class Invocation(TypedDict):
    pid: int
    round: int
    first: bool
    due: list[str]  # roles whose refresh was due by the library's policy, before the call
    changed: list[str]  # roles whose keys differ from this worker's previous invocation
    added_ns: int
    repeated_ns: int | None  # warm invocations: the median of the warm path repeated
    file_events: list[str]
    clock: float
    identities: list[str]


class EnvironmentRun(TypedDict):
    configuration: str
    cold_calls: dict[str, int]  # role name -> AssumeRole in round 0
    span_calls: dict[str, int]  # role name -> AssumeRole over every round
    session_names: dict[str, int]  # role name -> distinct RoleSessionName over the run
    invocations: list[Invocation]
    ready_s: float  # from starting the runtime to every worker polling
    problems: list[str]


def kind(invocation: Invocation) -> str:
    """``cold`` (the worker's first), ``refresh`` (a refresh was due or keys changed), ``warm``."""
    if invocation["first"]:
        return "cold"
    return "refresh" if invocation["due"] or invocation["changed"] else "warm"


class SimulatedClock:
    """The round's simulated time, read by the proxy's rewrite (one round at a time)."""

    def __init__(self, start: datetime.datetime) -> None:
        self.start = start
        self.now = start

    def set_round(self, index: int) -> datetime.datetime:
        self.now = self.start + datetime.timedelta(seconds=index * INTERVAL)
        return self.now


_ASSUMED_ROLE = re.compile(rb"<Arn>arn:aws:sts::\d{12}:assumed-role/([^/<]+)/")


def expiration_in_simulated_time(clock: SimulatedClock) -> Transform:
    """A rewrite: ``<Expiration>`` is the round's simulated time plus the role's lifetime."""
    from emulators.fault_proxy import set_element

    def transform(body: bytes) -> bytes:
        match = _ASSUMED_ROLE.search(body)
        if match is None:
            raise ValueError("no assumed-role ARN in the AssumeRole answer")
        lifetime = LIFETIMES[match.group(1).decode()]
        expiry = clock.now + datetime.timedelta(seconds=lifetime)
        return set_element("Expiration", expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))(body)

    return transform


class Paths(TypedDict):
    work: Path
    code: Path
    layer: Path
    runtime: Path
    time_machine: Path


def prepare(work: Path) -> Paths:
    """The function's folder, the slim layer from this checkout and the runtime's modules."""
    from emulators.lambda_runtime import LAMBDA_RUNTIME_MODULES, link_modules
    from lambda_assume_role_tools.layer import build_layer_directory

    code = work / "code"
    code.mkdir()
    (code / "app.py").write_text(FUNCTION_CODE, encoding="utf-8")
    # Sources only: this interpreter (3.11) is no runtime the layer compiles for.
    build_layer_directory(work / "layer", slim=True, bytecode=False)
    return {
        "work": work,
        "code": code,
        "layer": work / "layer" / "python",
        "runtime": link_modules(work / "runtime", LAMBDA_RUNTIME_MODULES),
        # The benchmark's own tool, on the function's path after its code (not in the layer).
        "time_machine": link_modules(work / "time-machine", ("time_machine", "_time_machine")),
    }


def run_environment(
    configuration: str,
    repeat: int,
    server: MotoServer,
    proxy: FaultProxy,
    clock: SimulatedClock,
    paths: Paths,
) -> EnvironmentRun:
    """One execution environment of ``configuration``: a cold start, then every round."""
    from emulators.lambda_runtime import LambdaFunction

    server.reset()
    proxy.reset()
    proxy.rewrite("AssumeRole", expiration_in_simulated_time(clock))
    folder = paths["work"] / f"{configuration}-{repeat}"
    temporary = folder / "tmp"  # the environment's /tmp
    barrier = folder / "barrier"
    temporary.mkdir(parents=True, mode=0o700)
    barrier.mkdir()
    variables = {
        "TMPDIR": str(temporary),
        "BENCH_ROLE_900": role_arn(SHORT),
        "BENCH_ROLE_3600": role_arn(LONG),
        "BENCH_BARRIER_DIR": str(barrier),
    }
    if configuration != "store":
        variables[STORE_VARIABLE] = "off"
    if configuration == "jsonfilecache":
        variables["BENCH_CACHE_DIR"] = str(temporary / "jsonfilecache")
    function = LambdaFunction(
        paths["code"],
        layer_dir=paths["layer"],
        runtime_dir=paths["runtime"],
        endpoint_url=proxy.endpoint_url,
        variables=variables,
        function_name=f"managed-instances-{configuration}",
        extra_paths=[paths["time_machine"]],
        log_path=folder / "runtime.log",
        max_concurrency=WORKERS,
    )
    problems: list[str] = []
    invocations: list[Invocation] = []
    cold_calls: dict[str, int] = {}
    pids: set[int] = set()
    started = time.perf_counter()
    with function:
        function.wait_ready(READY_TIMEOUT)
        ready_s = time.perf_counter() - started
        for index in range(ROUNDS):
            now = clock.set_round(index)
            function.api.wait_ready(INVOKE_TIMEOUT, pollers=WORKERS)
            event = {
                "now": now.isoformat(),
                "round": index,
                "workers": WORKERS,
                "check": index in (0, ROUNDS - 1),
                "repeats": WARM_REPEATS,
            }
            results = function.invoke_many([event] * WORKERS, timeout=INVOKE_TIMEOUT)
            for result in results:
                if not result.ok:
                    raise RuntimeError(
                        f"{configuration}, round {index}: {result.error}\n{function.logs()[-3000:]}"
                    )
            answers: list[Invocation] = [result.payload for result in results]
            pids.update(answer["pid"] for answer in answers)
            if len({answer["pid"] for answer in answers}) != WORKERS:
                problems.append(f"round {index}: fewer than {WORKERS} workers answered")
            if any(answer["clock"] != now.timestamp() for answer in answers):
                problems.append(f"round {index}: a worker did not run in simulated time")
            for answer in answers:
                for arn, role in zip(answer["identities"], (SHORT, LONG), strict=False):
                    if f":assumed-role/{role}/" not in arn:
                        problems.append(f"round {index}: signed as {arn}, not as {role}")
            invocations.extend(answers)
            if index == 0:
                cold_calls = _calls_by_role(server)
    if len(pids) != WORKERS:
        problems.append(f"{len(pids)} worker processes answered over the run, not {WORKERS}")
    span_calls = _calls_by_role(server)
    if sum(span_calls.values()) != proxy.attempts("AssumeRole"):
        problems.append(
            f"moto received {sum(span_calls.values())} AssumeRole, the proxy relayed "
            f"{proxy.attempts('AssumeRole')}"
        )
    problems.extend(proxy.errors)
    names = {
        role: len(
            {
                request.params.get("RoleSessionName")
                for request in server.requests.matching("AssumeRole")
                if request.params.get("RoleArn") == role_arn(role)
            }
        )
        for role in LIFETIMES
    }
    return {
        "configuration": configuration,
        "cold_calls": cold_calls,
        "span_calls": span_calls,
        "session_names": names,
        "invocations": invocations,
        "ready_s": ready_s,
        "problems": problems,
    }


def _calls_by_role(server: MotoServer) -> dict[str, int]:
    requests = server.requests.matching("AssumeRole")
    return {
        role: sum(1 for request in requests if request.params.get("RoleArn") == role_arn(role))
        for role in LIFETIMES
    }


# --- the report ------------------------------------------------------------------------------


def fewest_possible(lifetime: int) -> int:
    """The fewest fetches that give every round valid keys (fetched in a round, at its time).

    A key fetched in a round serves the rounds strictly before its expiry.
    """
    per_key = -(-lifetime // INTERVAL)  # rounds one key can serve
    return -(-ROUNDS // per_key)


def _range(values: Sequence[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def _ratio(numerators: Sequence[int], denominators: Sequence[int]) -> str:
    """The ratio of two configurations' counts, summed over the repeats."""
    return f"{sum(numerators) / max(sum(denominators), 1):.1f}x"


def report(runs: Sequence[EnvironmentRun]) -> str:
    """The markdown section for every environment run."""
    by_configuration = {
        configuration: [run for run in runs if run["configuration"] == configuration]
        for configuration in CONFIGURATIONS
    }

    def counts(configuration: str, field: str, role: str) -> list[int]:
        return [run[field][role] for run in by_configuration[configuration]]  # type: ignore[literal-required]

    calls = markdown_table(
        [
            "configuration",
            "cold start, 900 s role",
            "cold start, 3600 s role",
            f"{SPAN:,} s, 900 s role",
            f"{SPAN:,} s, 3600 s role",
            "session names per role",
        ],
        [
            [
                LABELS[configuration],
                _range(counts(configuration, "cold_calls", SHORT)),
                _range(counts(configuration, "cold_calls", LONG)),
                _range(counts(configuration, "span_calls", SHORT)),
                _range(counts(configuration, "span_calls", LONG)),
                _range(
                    [
                        value
                        for role in LIFETIMES
                        for value in counts(configuration, "session_names", role)
                    ]
                ),
            ]
            for configuration in CONFIGURATIONS
        ]
        + [["fewest possible", 1, 1, fewest_possible(900), fewest_possible(3600), "-"]],
    )
    store = "store"
    ratios = markdown_table(
        [
            "AssumeRole ratio (sums over the environments)",
            *(f"{LABELS[c]} / store" for c in CONFIGURATIONS[:2]),
        ],
        [
            [
                label,
                *(
                    _ratio(counts(c, field, role), counts(store, field, role))
                    for c in CONFIGURATIONS[:2]
                ),
            ]
            for label, field, role in (
                ("cold start, 900 s role", "cold_calls", SHORT),
                ("cold start, 3600 s role", "cold_calls", LONG),
                (f"{SPAN:,} s, 900 s role", "span_calls", SHORT),
                (f"{SPAN:,} s, 3600 s role", "span_calls", LONG),
            )
        ],
    )

    def of_kind(configuration: str, wanted: str) -> list[Invocation]:
        return [
            invocation
            for run in by_configuration[configuration]
            for invocation in run["invocations"]
            if kind(invocation) == wanted
        ]

    def repeated_us(configuration: str) -> float:
        warm = of_kind(configuration, "warm")
        return median([(invocation["repeated_ns"] or 0) / 1e3 for invocation in warm])

    latency_rows = []
    for configuration in CONFIGURATIONS:
        cold = [invocation["added_ns"] / 1e6 for invocation in of_kind(configuration, "cold")]
        refresh = of_kind(configuration, "refresh")
        refresh_ms = [invocation["added_ns"] / 1e6 for invocation in refresh]
        warm = of_kind(configuration, "warm")
        warm_us = [invocation["added_ns"] / 1e3 for invocation in warm]

        def operations(invocations: list[Invocation]) -> int:
            return sum(len(invocation["file_events"]) for invocation in invocations)

        latency_rows.append(
            [
                LABELS[configuration],
                f"{median(cold):.1f} / {max(cold):.1f}",
                f"{median(refresh_ms):.1f} / {max(refresh_ms):.1f}" if refresh else "none",
                f"{median(warm_us):.1f} / {p99(warm_us):.1f}" if warm else "none",
                f"{repeated_us(configuration):.1f}" if warm else "none",
                f"{repeated_us(configuration) / repeated_us('per-process'):.2f}x" if warm else "",
                f"{operations(warm)} / {operations(refresh)}",
                f"{len(cold)} / {len(refresh)} / {len(warm):,}",
            ]
        )
    latency = markdown_table(
        [
            "configuration",
            "cold ms (median / max)",
            "refresh ms (median / max)",
            "warm µs (median / p99)",
            "warm path again µs (median)",
            "warm path vs per-process",
            "file or lock operations, warm / refresh",
            "invocations cold / refresh / warm",
        ],
        latency_rows,
    )
    problems = [
        f"- {LABELS[run['configuration']]}: {problem}"
        for run in runs
        for problem in run["problems"]
    ]
    checks = (
        "\n".join(["**Problems found:**", *problems])
        if problems
        else "Checks: in every round 8 different worker processes answered, each in the "
        "round's simulated time; the first and last rounds' `get_caller_identity()` calls "
        "were answered as the right assumed role; moto received exactly the AssumeRole "
        "requests the proxy relayed."
    )
    ready = [run["ready_s"] for run in runs]
    _note_not_ahead(by_configuration)
    return "\n\n".join(
        [
            "## Managed Instances: AssumeRole per execution environment of 8 workers",
            "awslambdaric 4.2.2 in multi-concurrent mode (`AWS_LAMBDA_MAX_CONCURRENCY="
            f"{WORKERS}`: it forks {WORKERS} workers, each importing the handler) against "
            "moto, behind the fault proxy, whose rewrite gives each AssumeRole answer an "
            "`Expiration` in simulated time. The function takes two roles through "
            "`@inject_session` (`DurationSeconds=900`, and the default 3600 s) and reads both "
            "keys (the 900 s role's first) in every invocation, under "
            "`time_machine.travel(event['now'], tick=False)`. "
            f"Each round invokes all {WORKERS} workers at once (each invocation waits for the "
            "others to start, so each worker takes one); round 0 is the cold start, "
            f"then a round every {INTERVAL} simulated s up to {SPAN:,} s ({ROUNDS} rounds). "
            f"{REPEATS} environments per configuration, interleaved; a range is the lowest "
            "and highest count over them (the refresh jitter is each worker's own). With 900 s "
            "keys the jittered refresh attempt (600-720 s after the fetch) falls between "
            "rounds, so each key is replaced at expiry, blocking; 3600 s keys are replaced in "
            "the advisory window. AssumeRole counted at moto, by role, with the distinct "
            "session names those requests carried.",
            "AssumeRole calls per environment:",
            calls,
            ratios,
            "Added latency inside the worker, from the call of the decorated handler to both "
            "roles' keys in hand (`perf_counter_ns`), over every environment. Cold: each "
            f"worker's first invocation, {WORKERS} at once on this machine's "
            f"{os.cpu_count()} CPUs. Refresh: a later invocation in which the library's policy "
            "wanted a refresh of either role (`refresh_needed()`, asked just before) or the "
            "keys changed (an STS call, or keys another worker fetched). Warm: neither; "
            "the first call in the invocation, just after all 8 workers woke at once (so "
            "p99 is the scheduler's), then the same call repeated "
            f"{WARM_REPEATS} times in that invocation ('again', the path's own cost). Both "
            "include time-machine's patched clock (about 3 µs here, the same in every "
            "configuration). File or lock operations: audit events (`open`, `fcntl.*`, "
            "`os.rename`...; `os.stat` raises none) in the timed span.",
            latency,
            checks,
            f"Runtime start to {WORKERS} workers polling: {median(ready):.1f} s median "
            f"(max {max(ready):.1f} s); each worker imports boto3 and compiles the layer "
            "from sources.",
        ]
    )


def _note_not_ahead(by_configuration: dict[str, list[EnvironmentRun]]) -> None:
    """Record where the store makes no fewer calls than an alternative, or a slower warm path."""
    store_runs = by_configuration["store"]
    for configuration in CONFIGURATIONS[:2]:
        for field, what in (("cold_calls", "a cold start"), ("span_calls", f"{SPAN:,} s")):
            for role, lifetime in LIFETIMES.items():
                store_calls = sum(run[field][role] for run in store_runs)  # type: ignore[literal-required]
                other = sum(run[field][role] for run in by_configuration[configuration])  # type: ignore[literal-required]
                if store_calls >= other:
                    note_not_ahead(
                        f"Managed Instances, {what}, {lifetime} s role: the store made "
                        f"{store_calls} AssumeRole over {len(store_runs)} environments, "
                        f"{LABELS[configuration]} {other}."
                    )

    def warm_again_us(runs: list[EnvironmentRun]) -> float:
        return median(
            [
                (invocation["repeated_ns"] or 0) / 1e3
                for run in runs
                for invocation in run["invocations"]
                if kind(invocation) == "warm"
            ]
        )

    store_warm = warm_again_us(store_runs)
    per_process_warm = warm_again_us(by_configuration["per-process"])
    if store_warm > per_process_warm * 1.5:  # environments differ by up to ~25%
        note_not_ahead(
            f"Managed Instances, warm path: {store_warm:.1f} µs with the store against "
            f"{per_process_warm:.1f} µs per-process (median)."
        )


def main() -> str:
    """Run every configuration `REPEATS` times, interleaved; print the report and return it."""
    from emulators.fault_proxy import FaultProxy

    server = start_moto()
    proxy = FaultProxy(server.endpoint_url).start()
    work = Path(tempfile.mkdtemp(prefix="bench-managed-instances-"))
    # A day behind the real clock: an invocation's remaining time never runs out (see above).
    real_now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    clock = SimulatedClock(real_now - datetime.timedelta(days=1))
    runs: list[EnvironmentRun] = []
    try:
        paths = prepare(work)
        for repeat in range(REPEATS):
            for configuration in CONFIGURATIONS:
                run = run_environment(configuration, repeat, server, proxy, clock, paths)
                print(
                    f"{configuration} #{repeat + 1}: cold {run['cold_calls']}, "
                    f"{SPAN} s {run['span_calls']}",
                    flush=True,
                )
                runs.append(run)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    text = report(runs)
    print(text)
    return text


if __name__ == "__main__":
    print(environment_header())
    main()
