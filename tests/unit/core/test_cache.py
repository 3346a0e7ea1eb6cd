"""JSONFileCache: botocore-compatible, private (0700/0600), atomic, and never leaking values."""

from __future__ import annotations

import datetime
import inspect
import json
import os
import stat
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import aws_assume_role_lib
import botocore.credentials
import botocore.utils
import pytest
from dateutil.parser import isoparse

from lambda_assume_role import cache as cache_module
from lambda_assume_role.cache import InsecureCacheError, JSONFileCache

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"
KEY = "5b2a9e1f0c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"  # botocore keys are SHA-1 hex digests


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _response(expiration: datetime.datetime) -> dict[str, object]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE",
            "SecretAccessKey": SECRET,
            "SessionToken": TOKEN,
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/R/s"},
    }


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test changes it."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


# --- interface -----------------------------------------------------------------------------------


def test_is_a_botocore_json_file_cache(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    assert isinstance(cache, botocore.utils.JSONFileCache)
    assert isinstance(cache, botocore.credentials.JSONFileCache)


# Methods of botocore's class that touch no file (serialisers, the key-to-path
# helper); every other one must be ours, or it would bypass the folder checks.
_BOTOCORE_HELPERS_WE_INHERIT = {"_default_dumps", "_serialize_if_needed", "_convert_cache_key"}
# Attributes our instances add to botocore's; botocore must not use these names itself.
_OUR_ATTRIBUTES = {"_folder"}


def test_botocore_contract_we_rely_on(tmp_path: Path) -> None:
    """cache.py uses no private botocore name; this fails loudly if what it does use changes."""
    base = botocore.utils.JSONFileCache
    parameters = inspect.signature(base.__init__).parameters
    assert {"working_dir", "dumps_func"} <= parameters.keys(), (
        f"botocore {botocore.__version__}: JSONFileCache.__init__ no longer takes working_dir= "
        "and dumps_func=, which lambda_assume_role.cache passes"
    )
    inherited = {
        name
        for name, member in vars(base).items()
        if callable(member) and getattr(JSONFileCache, name) is member
    }
    unchecked = sorted(inherited - _BOTOCORE_HELPERS_WE_INHERIT)
    assert not unchecked, (
        f"botocore {botocore.__version__}: JSONFileCache gained {unchecked}, which "
        "lambda_assume_role's subclass inherits unchecked: override them with the folder checks"
    )
    theirs = vars(base(working_dir=str(tmp_path)))
    assert not theirs.keys() & _OUR_ATTRIBUTES, (
        f"botocore {botocore.__version__}: JSONFileCache now sets "
        f"{sorted(theirs.keys() & _OUR_ATTRIBUTES)} itself; rename ours in lambda_assume_role.cache"
    )
    assert vars(JSONFileCache(tmp_path)).keys() - theirs.keys() == _OUR_ATTRIBUTES


def test_dir_path_is_required() -> None:
    with pytest.raises(TypeError):
        JSONFileCache()  # type: ignore[call-arg]


def test_round_trip_with_datetimes(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path / "c")
    expiration = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    cache[KEY] = _response(expiration)
    assert KEY in cache
    loaded = cache[KEY]
    assert loaded["Credentials"]["Expiration"] == "2030-01-02T03:04:05+00:00"
    assert isoparse(loaded["Credentials"]["Expiration"]) == expiration
    assert loaded["Credentials"]["SecretAccessKey"] == SECRET
    assert loaded["AssumedRoleUser"] == {"Arn": "arn:aws:sts::123456789012:assumed-role/R/s"}


def test_naive_datetimes_and_dates_are_iso(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    cache["k"] = {"at": datetime.datetime(2030, 1, 2, 3, 4, 5), "on": datetime.date(2030, 1, 2)}
    assert cache["k"] == {"at": "2030-01-02T03:04:05", "on": "2030-01-02"}


def test_overwrite_and_delete(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    cache["k"] = 1
    cache["k"] = [2]
    assert cache["k"] == [2]
    del cache["k"]
    assert "k" not in cache
    with pytest.raises(KeyError):
        cache["k"]
    with pytest.raises(KeyError):
        del cache["k"]


def test_interoperates_with_botocore_and_aws_assume_role_lib(tmp_path: Path) -> None:
    ours = JSONFileCache(tmp_path)
    botocores = botocore.utils.JSONFileCache(working_dir=str(tmp_path))
    theirs = aws_assume_role_lib.JSONFileCache(str(tmp_path))
    ours["a"] = {"x": 1}
    assert botocores["a"] == theirs["a"] == {"x": 1}
    botocores["b"] = {"y": 2}
    assert ours["b"] == {"y": 2}
    assert (tmp_path / "a.json").is_file()


def test_repr_shows_only_the_directory(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    cache[KEY] = _response(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    assert repr(cache) == f"JSONFileCache({str(tmp_path)!r})"
    assert SECRET not in repr(cache)
    assert TOKEN not in str(cache)


def test_accepts_path_like_and_expands_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = JSONFileCache("~/creds")
    cache["k"] = 1
    assert (tmp_path / "creds" / "k.json").is_file()
    assert "~" not in repr(cache)
    assert JSONFileCache(tmp_path / "creds")["k"] == 1


def test_nothing_is_created_before_the_first_write(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path / "later")
    assert "k" not in cache
    with pytest.raises(KeyError):
        cache["k"]
    assert not (tmp_path / "later").exists()


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o277])
@pytest.mark.usefixtures("umask")
def test_modes_do_not_depend_on_umask(tmp_path: Path, mask: int) -> None:
    os.umask(mask)
    folder = tmp_path / "a" / "b" / "creds"
    cache = JSONFileCache(folder)
    cache[KEY] = {"v": 1}
    cache[KEY] = {"v": 2}  # a rewrite keeps the mode too
    assert _mode(folder / f"{KEY}.json") == 0o600
    assert _mode(folder) == 0o700
    assert _mode(tmp_path / "a") == 0o700  # intermediate directories we created
    assert _mode(tmp_path / "a" / "b") == 0o700
    assert cache[KEY] == {"v": 2}


@pytest.mark.usefixtures("umask")
def test_existing_parents_are_left_alone(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    JSONFileCache(tmp_path / "creds")["k"] = 1
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "creds") == 0o700


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o711, 0o700])
def test_existing_private_folder_is_used_and_its_mode_kept(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "creds"
    folder.mkdir()
    os.chmod(folder, mode)
    cache = JSONFileCache(folder)
    cache["k"] = 1
    assert cache["k"] == 1
    assert "k" in cache
    assert _mode(folder) == mode
    assert _mode(folder / "k.json") == 0o600


def _write_entry(folder: Path, key: str, value: object) -> Path:
    """An entry as another writer (botocore, or someone else) would leave it."""
    path = folder / f"{key}.json"
    path.write_text(json.dumps(value, default=str))
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("mode", [0o770, 0o775, 0o757, 0o777, 0o1777, 0o2770, 0o720])
def test_folder_writable_by_group_or_others_is_refused_and_left_alone(
    tmp_path: Path, mode: int
) -> None:
    folder = tmp_path / "creds"
    cache = JSONFileCache(folder)  # not there yet: created later by someone else
    folder.mkdir()
    planted = _write_entry(folder, KEY, _response(datetime.datetime(2030, 1, 1)))
    os.chmod(folder, mode)

    with pytest.raises(InsecureCacheError, match="writable by group or others") as caught:
        JSONFileCache(folder)
    assert str(caught.value) == (
        f"cache folder {str(folder)!r} is writable by group or others (mode {mode:04o}), so "
        "anyone could plant credentials in it; refusing to use it: give a private subfolder "
        f"such as {str(folder / 'lambda-assume-role')!r} instead"
    )
    for operation in (
        lambda: KEY in cache,
        lambda: cache[KEY],
        lambda: cache.__setitem__(KEY, {"v": 1}),
        lambda: cache.__setitem__("other", {"v": 1}),
        lambda: cache.__delitem__(KEY),
    ):
        with pytest.raises(InsecureCacheError, match="writable by group or others"):
            operation()
    assert _mode(folder) == mode  # sticky and setgid bits included
    assert [path.name for path in folder.iterdir()] == [planted.name]
    assert SECRET in planted.read_text()  # not overwritten, not deleted


@pytest.mark.skipif(
    stat.S_IMODE(os.stat("/tmp").st_mode) != 0o1777, reason="/tmp here is not mode 1777"
)
def test_tmp_itself_is_refused_with_a_private_subfolder_suggested() -> None:
    with pytest.raises(InsecureCacheError) as caught:
        JSONFileCache("/tmp")
    message = str(caught.value)
    assert "'/tmp'" in message
    assert "writable by group or others (mode 1777)" in message
    assert "'/tmp/lambda-assume-role'" in message
    assert "\n" not in message
    assert stat.S_IMODE(os.stat("/tmp").st_mode) == 0o1777


@pytest.mark.usefixtures("umask")
def test_the_suggested_subfolder_of_tmp_like_folder_works(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    os.umask(0)
    cache = JSONFileCache(shared / "lambda-assume-role")
    cache[KEY] = {"v": 1}
    assert cache[KEY] == {"v": 1}
    assert _mode(shared) == 0o1777
    assert _mode(shared / "lambda-assume-role") == 0o700


def test_symlinked_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    JSONFileCache(real)["k"] = 1
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(InsecureCacheError, match="is a symbolic link"):
        JSONFileCache(link)
    cache = JSONFileCache(tmp_path / "later")
    (tmp_path / "later").symlink_to(real)
    with pytest.raises(InsecureCacheError, match="is a symbolic link"):
        cache["k"]
    with pytest.raises(InsecureCacheError, match="is a symbolic link"):
        cache["k"] = 2
    assert JSONFileCache(real)["k"] == 1


def test_symlinked_entry_is_refused_and_replaced_by_a_write(tmp_path: Path) -> None:
    folder = tmp_path / "creds"
    cache = JSONFileCache(folder)
    cache["other"] = 1
    elsewhere = _write_entry(tmp_path, "planted", _response(datetime.datetime(2030, 1, 1)))
    (folder / f"{KEY}.json").symlink_to(elsewhere)
    with pytest.raises(InsecureCacheError, match="is a symbolic link") as caught:
        KEY in cache  # noqa: B015
    assert str(caught.value) == (
        f"cache entry '{KEY}.json' in {str(folder)!r} is a symbolic link; refusing to follow it"
    )
    with pytest.raises(InsecureCacheError, match="is a symbolic link"):
        cache[KEY]
    cache[KEY] = {"v": 1}  # replaces the link itself; the file it pointed to is untouched
    assert not (folder / f"{KEY}.json").is_symlink()
    assert cache[KEY] == {"v": 1}
    assert SECRET in elsewhere.read_text()


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_entry_writable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    cache = JSONFileCache(tmp_path)
    cache[KEY] = _response(datetime.datetime(2030, 1, 1))
    os.chmod(tmp_path / f"{KEY}.json", mode)
    for operation in (lambda: KEY in cache, lambda: cache[KEY]):
        with pytest.raises(InsecureCacheError, match="writable by group or others") as caught:
            operation()
        assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_swapping_the_folder_after_the_check_redirects_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is checked and used through one fd: a rename + symlink in between misses."""
    folder = tmp_path / "creds"
    cache = JSONFileCache(folder)
    cache[KEY] = {"ours": True}
    decoy = tmp_path / "decoy"
    decoy.mkdir(mode=0o700)
    _write_entry(decoy, KEY, {"ours": False})
    real_fstat = os.fstat

    def fstat_then_swap(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        if stat.S_ISDIR(info.st_mode) and not (tmp_path / "moved").exists():
            folder.rename(tmp_path / "moved")
            folder.symlink_to(decoy)
        return info

    monkeypatch.setattr(os, "fstat", fstat_then_swap)
    assert cache[KEY] == {"ours": True}
    monkeypatch.undo()
    assert folder.is_symlink()
    with pytest.raises(InsecureCacheError):
        cache[KEY]


def test_platform_without_dir_fd_is_refused_at_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "SUPPORTED", False)
    with pytest.raises(NotImplementedError, match="dir_fd"):
        JSONFileCache(tmp_path)


def test_insecure_cache_error_is_a_permission_error() -> None:
    assert issubclass(InsecureCacheError, PermissionError)
    assert issubclass(InsecureCacheError, OSError)
    assert "InsecureCacheError" in cache_module.__all__


def test_cache_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("not a directory")
    with pytest.raises(OSError):
        JSONFileCache(tmp_path / "creds")["k"] = 1


# --- atomicity ---------------------------------------------------------------------------------


def test_no_temporary_files_left(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    for index in range(20):
        cache[f"k{index % 3}"] = {"index": index}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["k0.json", "k1.json", "k2.json"]


def test_unserialisable_value_leaves_previous_value(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path)
    cache["k"] = {"v": 1}
    with pytest.raises(ValueError):
        cache["k"] = {"v": object()}
    assert cache["k"] == {"v": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["k.json"]


def test_failed_write_cleans_up_and_keeps_previous_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = JSONFileCache(tmp_path)
    cache["k"] = {"v": 1}

    def broken_replace(src: str, dst: str, **dir_fds: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        cache["k"] = {"v": 2}
    monkeypatch.undo()
    assert cache["k"] == {"v": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["k.json"]


def test_failed_fsync_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = JSONFileCache(tmp_path)

    def broken_fsync(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        cache["k"] = {"v": 2}
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_and_readers_never_see_partial_files(tmp_path: Path) -> None:
    cache = JSONFileCache(tmp_path / "creds")
    payload = "x" * 200_000  # large enough that a non-atomic write would be seen half-done
    cache[KEY] = {"writer": -1, "payload": payload}
    errors: list[BaseException] = []
    stop = threading.Event()
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            start.wait()
            own = JSONFileCache(tmp_path / "creds")
            for _ in range(40):
                own[KEY] = {"writer": number, "payload": payload}
        except BaseException as error:
            errors.append(error)

    def reader() -> None:
        try:
            start.wait()
            while not stop.is_set():
                value = cache[KEY]  # a KeyError here would mean a missing or partial file
                assert value["payload"] == payload
                assert value["writer"] in range(-1, 4)
        except BaseException as error:
            errors.append(error)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()

    assert errors == []
    assert [path.name for path in (tmp_path / "creds").iterdir()] == [f"{KEY}.json"]


def test_concurrent_first_writes_create_the_directory_once(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(number: int) -> None:
        try:
            start.wait()
            JSONFileCache(folder)[f"k{number}"] = number
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(folder.iterdir())) == 8
    assert _mode(folder) == 0o700


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        ".",
        "..",
        "../escape",
        "a/../../escape",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "a..b",
        ".hidden",
        "nul\x00byte",
        "new\nline",
        "space here",
        "ünïcode",
        "k" * 201,
    ],
)
def test_unsafe_keys_are_rejected(tmp_path: Path, key: str) -> None:
    folder = tmp_path / "creds"
    cache = JSONFileCache(folder)
    with pytest.raises(ValueError, match="cache key"):
        cache[key] = {"v": 1}
    with pytest.raises(ValueError, match="cache key"):
        cache[key]
    with pytest.raises(ValueError, match="cache key"):
        del cache[key]
    with pytest.raises(ValueError, match="cache key"):
        key in cache  # noqa: B015
    assert sorted(path.name for path in tmp_path.rglob("*")) == []


@pytest.mark.parametrize("key", [None, 1, b"bytes", ("t",)])
def test_non_string_keys_are_rejected(tmp_path: Path, key: object) -> None:
    cache = JSONFileCache(tmp_path)
    with pytest.raises(TypeError, match="cache key must be a string"):
        cache[key] = 1  # type: ignore[index]


@pytest.mark.parametrize("key", [KEY, "k", "a.b", "A-Z_0-9", "k" * 200])
def test_safe_keys_are_accepted(tmp_path: Path, key: str) -> None:
    cache = JSONFileCache(tmp_path)
    cache[key] = 1
    assert cache[key] == 1
    assert (tmp_path / f"{key}.json").is_file()


# --- unreadable entries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b'{"Credentials": {"SecretAccessKey": "abc', b"\xff\xfe\x00", b"not json"],
)
def test_corrupt_entries_are_missing(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "k.json").write_bytes(content)
    cache = JSONFileCache(tmp_path)
    with pytest.raises(KeyError) as caught:
        cache["k"]
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_directory_in_place_of_entry_is_missing(tmp_path: Path) -> None:
    (tmp_path / "k.json").mkdir()
    cache = JSONFileCache(tmp_path)
    assert "k" not in cache
    with pytest.raises(KeyError):
        cache["k"]


def test_unreadable_entry_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file we may not read (simulated: tests may run as root) is a miss, not a crash."""
    cache = JSONFileCache(tmp_path)
    cache["k"] = 1

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    from lambda_assume_role import private_files

    monkeypatch.setattr(private_files, "open", denied, raising=False)
    with pytest.raises(KeyError):
        cache["k"]


# --- no secrets in errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"SecretAccessKey": SECRET, "SessionToken": TOKEN, "bad": object()},
        {"SecretAccessKey": SECRET, "SessionToken": TOKEN, "bad": {1, 2}},
        {"SecretAccessKey": SECRET, "SessionToken": TOKEN, ("tuple", "key"): 1},
        {SECRET: TOKEN, "bad": b"bytes"},
    ],
)
def test_unserialisable_value_error_hides_the_value(tmp_path: Path, value: object) -> None:
    cache = JSONFileCache(tmp_path)
    with pytest.raises(ValueError, match="must be JSON serializable") as caught:
        cache["k"] = value
    error = caught.value
    rendered = "".join(traceback.format_exception(error))
    assert SECRET not in rendered
    assert TOKEN not in rendered
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert "k" not in cache


def test_circular_value_error_hides_the_value(tmp_path: Path) -> None:
    value: dict[str, object] = {"SecretAccessKey": SECRET}
    value["self"] = value
    with pytest.raises(ValueError, match="Circular reference") as caught:
        JSONFileCache(tmp_path)["k"] = value
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_botocore_would_have_leaked(tmp_path: Path) -> None:
    """The reason for overriding __setitem__: botocore puts the value in the message."""
    botocores = botocore.utils.JSONFileCache(working_dir=str(tmp_path))
    with pytest.raises(ValueError) as caught:
        botocores["k"] = {"SecretAccessKey": SECRET, "bad": object()}
    assert SECRET in str(caught.value)
