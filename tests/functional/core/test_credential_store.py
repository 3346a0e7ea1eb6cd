"""One AssumeRole per role per environment, not per worker process: the credential store.

Real processes (forked, as awslambdaric forks its Managed Instances workers) start
together behind a `multiprocessing.Barrier` and assume one role through one store
folder; moto counts the AssumeRole requests. Faults are driven for real: a holder
SIGKILLed while STS hangs under it, a waiter with a short deadline behind a held
lock, a poisoned entry, an unusable temporary folder, 64 workers at once. Real
waits are bounded above only (`SLACK`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import RequestLog
from lambda_assume_role import RefreshWindows, assume_role
from lambda_assume_role.credential_store import (
    STORE_VARIABLE,
    CredentialStore,
    default_store,
    resolve_store,
)
from lambda_assume_role.errors import AssumeRoleTimeoutError
from lambda_assume_role.invocation import Countdown, bound
from tests.support.clocks import SLACK, ManualClock, Stopwatch

ROLE = "arn:aws:iam::111111111111:role/SharedByWorkers"
FORK = multiprocessing.get_context("fork")


def _assume_in_child(
    store: str | bool, barrier: Any, results: Any, name: str | None = "workers"
) -> None:  # pragma: no cover - runs in a forked child; its result is checked by the parent
    try:
        session = assume_role(boto3.Session(), ROLE, RoleSessionName=name, credential_store=store)
        barrier.wait(timeout=60)
        keys = session.get_credentials().get_frozen_credentials()
        results.put(("ok", keys.access_key))
    except BaseException as error:
        results.put(("error", f"{type(error).__name__}: {error}"))


def _run_workers(
    store: str | bool, count: int, name: str | None = "workers"
) -> list[tuple[str, str]]:
    barrier = FORK.Barrier(count)
    results = FORK.Queue()
    workers = [
        FORK.Process(target=_assume_in_child, args=(store, barrier, results, name))
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60 + SLACK * 6) for _ in workers]
    for worker in workers:
        worker.join(SLACK)
    return outcomes


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    return str(tmp_path / "store")


def test_eight_workers_at_once_make_one_assume_role_and_share_its_keys(
    requests_log: RequestLog, store_dir: str
) -> None:
    outcomes = _run_workers(store_dir, 8)
    assert {kind for kind, _ in outcomes} == {"ok"}, outcomes
    assert len({key for _, key in outcomes}) == 1  # one set of keys for the environment
    assert requests_log.count("AssumeRole") == 1


def test_without_the_store_each_worker_assumes_the_role_itself(requests_log: RequestLog) -> None:
    outcomes = _run_workers(False, 8)
    assert {kind for kind, _ in outcomes} == {"ok"}, outcomes
    assert requests_log.count("AssumeRole") == 8


def test_sixty_four_workers_at_once_make_one_assume_role(
    requests_log: RequestLog, store_dir: str
) -> None:
    outcomes = _run_workers(store_dir, 64, name="sixty-four")
    assert {kind for kind, _ in outcomes} == {"ok"}, outcomes[:3]
    assert requests_log.count("AssumeRole") == 1


def test_the_store_is_private_and_holds_no_secret_outside_its_0600_entries(
    requests_log: RequestLog, store_dir: str, parent: boto3.Session
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="private", credential_store=store_dir)
    keys = session.get_credentials().get_frozen_credentials()
    folder = Path(store_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    entries = [f for f in files if f.suffix == ".json"]
    locks = [f for f in files if f.suffix == ".lock"]
    assert len(entries) == 1
    assert len(locks) == 1
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert file.stat().st_uid == os.geteuid()
    assert locks[0].read_bytes() == b""  # a lock file holds nothing
    assert keys.secret_key in entries[0].read_text()
    parent_secret = parent.get_credentials().get_frozen_credentials().secret_key
    assert parent_secret not in entries[0].read_text()  # the parent's keys are never written


def _hold_the_lock_in_child(store: str, results: Any) -> None:  # pragma: no cover - child
    try:
        session = assume_role(
            boto3.Session(), ROLE, RoleSessionName="holder", credential_store=store
        )
        session.get_credentials().get_frozen_credentials()  # hangs at the proxy, lock held
        results.put("returned")
    except BaseException as error:
        results.put(f"{type(error).__name__}")


@contextlib.contextmanager
def _holder_inside_sts(fault_proxy: FaultProxy, store_dir: str) -> Iterator[Any]:
    """A forked worker that holds the store's lock while STS hangs under it; healed on exit."""
    holder = FORK.Process(target=_hold_the_lock_in_child, args=(store_dir, FORK.Queue()))
    holder.start()
    try:
        assert fault_proxy.wait_hanging(1, timeout=30)  # inside STS, the lock held
        yield holder
    finally:
        fault_proxy.heal()
        holder.join(SLACK)


def test_a_worker_killed_while_holding_the_lock_releases_it_and_the_next_one_fetches(
    fault_proxy: FaultProxy, store_dir: str, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang", times=1)
    with _holder_inside_sts(fault_proxy, store_dir) as holder:
        os.kill(holder.pid or 0, signal.SIGKILL)
        holder.join(SLACK)
        assert holder.exitcode == -signal.SIGKILL

    session = assume_role(parent, ROLE, RoleSessionName="holder", credential_store=store_dir)
    with Stopwatch() as watch:
        keys = session.get_credentials().get_frozen_credentials()
    assert keys.access_key
    assert watch.seconds < SLACK  # the kernel released the lock with the dead process
    assert fault_proxy.forwarded("AssumeRole") == 1


def test_a_waiter_behind_a_held_lock_fetches_for_itself_when_it_has_the_time(
    fault_proxy: FaultProxy, store_dir: str, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang", times=1)
    with _holder_inside_sts(fault_proxy, store_dir):
        session = assume_role(parent, ROLE, RoleSessionName="holder", credential_store=store_dir)
        with bound(Countdown(3.0, clock=ManualClock())), Stopwatch() as watch:
            keys = session.get_credentials().get_frozen_credentials()
        assert keys.access_key
        # It waited at most its own cap (3 s less the margin), then fetched itself.
        assert watch.seconds < 2.0 + SLACK
        assert fault_proxy.forwarded("AssumeRole") == 1


def test_a_waiter_behind_a_held_lock_with_no_time_left_gets_a_timeout(
    fault_proxy: FaultProxy, store_dir: str, parent: boto3.Session
) -> None:
    fault_proxy.fail("AssumeRole", "hang")  # every request hangs: nobody can fetch
    with _holder_inside_sts(fault_proxy, store_dir):
        session = assume_role(parent, ROLE, RoleSessionName="holder", credential_store=store_dir)
        with bound(Countdown(2.6)), Stopwatch() as watch:  # real time: it runs out while waiting
            with pytest.raises(AssumeRoleTimeoutError) as raised:
                session.get_credentials().get_frozen_credentials()
        assert ROLE in str(raised.value)
        assert watch.seconds < 2.6 + SLACK


def test_a_poisoned_entry_is_ignored_with_a_warning_and_replaced(
    requests_log: RequestLog,
    store_dir: str,
    parent: boto3.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = assume_role(parent, ROLE, RoleSessionName="poisoned", credential_store=store_dir)
    first.get_credentials().get_frozen_credentials()
    [entry] = Path(store_dir).glob("*.json")
    entry.write_text('{"Credentials": {"AccessKeyId": "ASIAPLANTED"')  # half-written
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")

    second = assume_role(parent, ROLE, RoleSessionName="poisoned", credential_store=store_dir)
    keys = second.get_credentials().get_frozen_credentials()
    assert keys.access_key != "ASIAPLANTED"
    assert requests_log.count("AssumeRole") == 2
    assert '"Credentials"' in entry.read_text()
    assert "ASIAPLANTED" not in entry.read_text()


def test_an_unusable_store_folder_is_one_warning_and_each_process_fetches_its_own(
    requests_log: RequestLog,
    tmp_path: Path,
    parent: boto3.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    unusable = str(blocker / "store")  # its parent is a file: nothing can go there
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    sessions = [
        assume_role(parent, ROLE, RoleSessionName=f"alone-{n}", credential_store=unusable)
        for n in range(2)
    ]
    for session in sessions:
        assert session.get_credentials().get_frozen_credentials().access_key
    warnings = [r for r in caplog.records if "credential store" in r.getMessage()]
    assert len(warnings) == 1
    assert unusable in warnings[0].getMessage()
    assert requests_log.count("AssumeRole") == 2


def test_a_store_folder_owned_by_another_user_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder to another user (CI runs as root)")
    folder = tmp_path / "foreign"
    folder.mkdir(mode=0o700)
    os.chown(folder, 12345, 12345)
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    assert resolve_store(str(folder)) is None
    assert "owned by uid 12345" in caplog.text


def test_the_store_is_on_by_default_only_under_managed_instances(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_MAX_CONCURRENCY", raising=False)
    assert default_store() is None  # not in Lambda
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    assert default_store() is None  # in Lambda, one invocation at a time
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "1")
    assert default_store() is None
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "16")
    store = default_store()
    assert isinstance(store, CredentialStore)
    assert store.directory.startswith(str(tmp_path))
    monkeypatch.setenv(STORE_VARIABLE, "off")
    assert default_store() is None
    assert resolve_store(False) is None


def test_the_lock_is_single_flight_within_one_process_too(store_dir: str) -> None:
    store = CredentialStore(store_dir)
    with store.acquire("k", timeout=1.0) as first:
        with store.acquire("k", timeout=0) as second:
            assert (first, second) == (True, False)
    with store.acquire("k", timeout=0) as again:
        assert again


def test_store_keys_cannot_name_a_path(store_dir: str) -> None:
    store = CredentialStore(store_dir)
    for key in ("../escape", ".hidden", "a/b"):
        with pytest.raises(ValueError, match="path"), store.acquire(key, timeout=0):
            pass


def test_an_advisory_refresh_elsewhere_keeps_the_current_keys_without_a_warning(
    fault_proxy: FaultProxy,
    store_dir: str,
    parent: boto3.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import datetime

    import time_machine

    start = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
    windows = RefreshWindows(jitter=0)
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    with time_machine.travel(start, tick=False) as clock:
        session = assume_role(
            parent,
            ROLE,
            RoleSessionName="advisory",
            DurationSeconds=900,
            refresh_windows=windows,
            credential_store=store_dir,
        )
        keys = session.get_credentials().get_frozen_credentials()
        clock.shift(datetime.timedelta(seconds=650))  # inside the advisory window
        store = CredentialStore(store_dir)
        [entry] = Path(store_dir).glob("*.json")
        with store.acquire(entry.stem, timeout=1.0) as held:  # another process refreshing
            assert held
            again = session.get_credentials().get_frozen_credentials()
    assert again == keys
    assert fault_proxy.attempts("AssumeRole") == 1  # no second call while the lock was held
    assert not [r for r in caplog.records if "refresh" in r.getMessage().lower()]


def test_under_managed_instances_names_say_which_worker_unless_the_store_shares_one(
    requests_log: RequestLog, store_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "8")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/07/[$LATEST]3893xmpl7fac4485")
    _run_workers(False, 3, name=None)
    alone = {r.params["RoleSessionName"] for r in requests_log.matching("AssumeRole")}
    assert len(alone) == 3  # one per worker, each naming its worker first
    assert all(name.startswith("orders.w") and len(name) <= 64 for name in alone)
    requests_log.clear()
    _run_workers(store_dir, 3, name=None)
    [shared] = [r.params["RoleSessionName"] for r in requests_log.matching("AssumeRole")]
    assert shared == "orders.3893xmpl7fac4485"  # one call, the environment's name
