"""JSONFileCache against a real second OS user who plants credentials.

The attacker is uid/gid 65534 (nobody), run as a separate process. Each test
sets up a folder the way a shared machine or a careless deployment would, lets
the attacker plant an AssumeRole response under the key we will look up, and
checks that the cache never returns it, never writes our credentials where the
attacker can read them, and never changes a mode it did not set.

Running a process as another user, or giving a file to one, needs root: CI runs
as root, and elsewhere exactly those tests are skipped, each saying which of the
two it needs. The ownership rule itself is also checked without root, by a
process that takes itself for another uid. The mode rules without a second user
are in tests/unit/core/test_cache.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_assume_role.cache import InsecureCacheError, JSONFileCache

OTHER = 65534
KEY = "5b2a9e1f0c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"
PLANTED = json.dumps(
    {
        "Credentials": {
            "AccessKeyId": "ASIAATTACKER",
            "SecretAccessKey": "attacker-secret-planted-in-the-cache",
            "SessionToken": "attacker-token",
            "Expiration": "2099-01-01T00:00:00+00:00",
        }
    }
)
OURS = {"Credentials": {"SecretAccessKey": "our-secret-never-in-their-folder"}}

_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
runs_as_the_attacker = pytest.mark.skipif(
    not _ROOT, reason=f"needs root to run a second user (uid {OTHER}) as the attacker"
)
chowns_to_the_attacker = pytest.mark.skipif(
    not _ROOT, reason=f"needs root to chown a file to another user (uid {OTHER})"
)


def as_other_user(script: str, *args: str | Path) -> None:
    """Run a shell script as uid/gid 65534 with no supplementary groups."""
    subprocess.run(
        ["/bin/sh", "-c", script, "sh", *map(str, args)],
        user=OTHER,
        group=OTHER,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )


def plant(folder: Path) -> None:
    """The attacker writes a credentials entry under the key we will look up."""
    as_other_user('umask 022; printf %s "$2" > "$1"', folder / f"{KEY}.json", PLANTED)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A /tmp of our own: root-owned, mode 1777, reachable by the attacker.

    pytest's tmp_path sits under a 0700 folder the attacker cannot enter.
    """
    base = Path(tempfile.mkdtemp(prefix="lambda-assume-role-test-"))
    os.chmod(base, 0o1777)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def assert_every_operation_refused(cache: JSONFileCache, rule: str) -> None:
    for operation in (
        lambda: KEY in cache,
        lambda: cache[KEY],
        lambda: cache.__setitem__(KEY, OURS),
        lambda: cache.__setitem__("fresh", OURS),
        lambda: cache.__delitem__(KEY),
    ):
        with pytest.raises(InsecureCacheError, match=rule) as caught:
            operation()
        assert "attacker-secret" not in str(caught.value)
        assert "\n" not in str(caught.value)


@runs_as_the_attacker
@pytest.mark.parametrize(
    ("folder_mode", "rule"),
    [(0o777, "writable by group or others"), (0o755, "owned by uid 65534")],
)
def test_entry_planted_in_a_folder_the_attacker_made_first_is_never_returned(
    shared_tmp: Path, folder_mode: int, rule: str
) -> None:
    folder = shared_tmp / "lambda-assume-role"
    cache = JSONFileCache(folder)  # init: the folder does not exist yet
    as_other_user(f'mkdir -m {folder_mode:o} "$1"', folder)
    plant(folder)

    with pytest.raises(InsecureCacheError, match=rule):
        JSONFileCache(folder)  # the next cold start fails loudly
    assert_every_operation_refused(cache, rule)
    # Nothing of ours landed where the attacker can read it, and theirs is untouched.
    assert sorted(path.name for path in folder.iterdir()) == [f"{KEY}.json"]
    assert (folder / f"{KEY}.json").read_text() == PLANTED
    assert mode(folder) == folder_mode


@pytest.mark.parametrize(
    "whose",
    [
        pytest.param("chowned to the attacker", marks=chowns_to_the_attacker),
        "ours, taken by a process that believes it is another uid",
    ],
)
def test_folder_of_another_user_is_refused_even_when_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whose: str
) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    (folder / f"{KEY}.json").write_text(PLANTED)
    if whose.startswith("chowned"):
        os.chown(folder / f"{KEY}.json", OTHER, OTHER)
        os.chown(folder, OTHER, OTHER)
    else:
        # Every owner check compares with os.geteuid(): to this process the folder,
        # which is really ours, now belongs to someone else.
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    owner = folder.stat().st_uid
    with pytest.raises(InsecureCacheError) as caught:
        JSONFileCache(folder)
    assert str(caught.value) == (
        f"cache folder {str(folder)!r} is owned by uid {owner}, not by this process "
        f"(uid {os.geteuid()}); refusing to use it: give a folder of your own"
    )
    assert mode(folder) == 0o700
    assert (folder / f"{KEY}.json").read_text() == PLANTED


@runs_as_the_attacker
def test_our_world_writable_folder_is_refused_and_keeps_its_mode(shared_tmp: Path) -> None:
    folder = shared_tmp / "lambda-assume-role"
    cache = JSONFileCache(folder)
    cache["before"] = OURS
    os.chmod(folder, 0o1777)  # someone "fixed" permissions for a shared job
    plant(folder)

    assert_every_operation_refused(cache, "writable by group or others")
    assert mode(folder) == 0o1777
    assert (folder / f"{KEY}.json").read_text() == PLANTED


@runs_as_the_attacker
@chowns_to_the_attacker
def test_group_writable_folder_of_ours_is_refused(shared_tmp: Path) -> None:
    folder = shared_tmp / "lambda-assume-role"
    cache = JSONFileCache(folder)
    cache["before"] = OURS
    os.chown(folder, os.geteuid(), OTHER)
    os.chmod(folder, 0o770)  # the attacker is in the folder's group
    plant(folder)

    assert_every_operation_refused(cache, "writable by group or others")
    assert mode(folder) == 0o770


@runs_as_the_attacker
def test_entry_left_by_another_user_is_refused_after_the_folder_is_tightened(
    shared_tmp: Path,
) -> None:
    folder = shared_tmp / "lambda-assume-role"
    JSONFileCache(folder)["before"] = OURS
    os.chmod(folder, 0o777)
    plant(folder)
    os.chmod(folder, 0o755)  # tightened again, but their file is still there

    cache = JSONFileCache(folder)  # the folder itself is fine now
    with pytest.raises(InsecureCacheError, match="owned by uid 65534") as caught:
        KEY in cache  # noqa: B015
    assert str(caught.value).startswith(f"cache entry '{KEY}.json' in {str(folder)!r} is owned")
    with pytest.raises(InsecureCacheError, match="owned by uid 65534"):
        cache[KEY]
    # Our own entries still work, and a write replaces theirs with one of ours.
    assert cache["before"] == OURS
    cache[KEY] = OURS
    assert cache[KEY] == OURS
    assert (folder / f"{KEY}.json").stat().st_uid == os.geteuid()
    assert mode(folder / f"{KEY}.json") == 0o600


@runs_as_the_attacker
def test_attacker_cannot_read_what_we_write_in_a_0755_folder(shared_tmp: Path) -> None:
    folder = shared_tmp / "lambda-assume-role"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    cache = JSONFileCache(folder)
    cache[KEY] = OURS
    assert cache[KEY] == OURS
    with pytest.raises(subprocess.CalledProcessError):
        as_other_user('cat "$1" >/dev/null 2>&1', folder / f"{KEY}.json")
    assert mode(folder) == 0o755
