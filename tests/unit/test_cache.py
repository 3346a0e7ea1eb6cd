"""JSONFileCache: botocore-compatible, private (0700/0600), atomic, and never leaking values."""

from __future__ import annotations

import datetime
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
from lambda_assume_role.cache import JSONFileCache

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


@pytest.mark.parametrize("mode", [0o755, 0o777, 0o750])
def test_existing_directory_is_tightened(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "creds"
    folder.mkdir()
    os.chmod(folder, mode)
    JSONFileCache(folder)["k"] = 1
    assert _mode(folder) == 0o700


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

    def broken_replace(src: str, dst: str) -> None:
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

    monkeypatch.setattr(cache_module, "open", denied, raising=False)
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
