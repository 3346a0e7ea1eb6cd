"""What the fetcher does with a credential cache: it loses nothing and poisons nothing.

A cache that cannot be written or read is bypassed with a WARNING; an entry is used only
when it is whole, was fetched by the same parent principal and (after a SnapStart restore)
was fetched after the restore. Counted at moto: AssumeRole calls and who signed them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import JSONFileCache, assume_role
from lambda_assume_role.snapstart import after_restore

ROLE = "arn:aws:iam::111111111111:role/Cached"


def use(session: boto3.Session) -> str:
    arn: str = session.client("sts").get_caller_identity()["Arn"]
    return arn


class BrokenCache(dict[str, Any]):
    """A cache whose writes fail, like a full disk."""

    def __setitem__(self, key: str, value: Any) -> None:
        raise OSError(28, "No space left on device")


class UnreadableCache(dict[str, Any]):
    def __contains__(self, key: object) -> bool:
        raise PermissionError(13, "Permission denied")


def test_a_cache_that_cannot_be_written_costs_one_warning_not_the_credentials(
    parent: boto3.Session, requests_log: RequestLog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    session = assume_role(parent, ROLE, RoleSessionName="full", cache=BrokenCache())
    for _ in range(3):
        assert use(session).endswith("/full")
    assert requests_log.count("AssumeRole") == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot be written" in warnings[0]
    assert ROLE in warnings[0]


def test_a_file_cache_whose_folder_became_a_file_is_bypassed_with_a_warning(
    parent: boto3.Session,
    requests_log: RequestLog,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    cache = JSONFileCache(tmp_path / "creds")
    (tmp_path / "creds").write_text("not a folder")  # e.g. a clean-up gone wrong
    session = assume_role(parent, ROLE, RoleSessionName="under", cache=cache)
    for _ in range(3):
        use(session)
    assert requests_log.count("AssumeRole") == 1
    assert any("cannot be written" in r.getMessage() for r in caplog.records)


def test_a_cache_that_cannot_be_read_is_bypassed(
    parent: boto3.Session, requests_log: RequestLog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    session = assume_role(parent, ROLE, RoleSessionName="unreadable", cache=UnreadableCache())
    use(session)
    assert requests_log.count("AssumeRole") == 1
    assert any("cannot be read" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: entry["Credentials"].pop("SessionToken"),
        lambda entry: entry["Credentials"].update(SecretAccessKey=12345),
        lambda entry: entry["Credentials"].update(Expiration=17),
        lambda entry: entry["Credentials"].update(AccessKeyId=""),
        lambda entry: entry.pop("Credentials"),
    ],
    ids=["no-token", "secret-not-text", "expiration-not-a-date", "empty-key", "no-credentials"],
)
def test_an_incomplete_entry_is_ignored_and_replaced(
    parent: boto3.Session,
    requests_log: RequestLog,
    caplog: pytest.LogCaptureFixture,
    damage: Any,
) -> None:
    caplog.set_level(logging.WARNING, logger="lambda_assume_role")
    cache: dict[str, Any] = {}
    use(assume_role(parent, ROLE, RoleSessionName="whole", cache=cache))
    (entry,) = cache.values()
    damage(entry)
    again = assume_role(parent, ROLE, RoleSessionName="whole", cache=cache)
    assert use(again).endswith("/whole")  # no KeyError: a new AssumeRole instead
    assert requests_log.count("AssumeRole") == 2
    assert any("Ignoring a cache entry" in r.getMessage() for r in caplog.records)
    (replaced,) = cache.values()
    assert replaced["Credentials"]["SessionToken"]


def test_a_whole_entry_is_served_without_a_call(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    cache: dict[str, Any] = {}
    use(assume_role(parent, ROLE, RoleSessionName="served", cache=cache))
    use(assume_role(parent, ROLE, RoleSessionName="served", cache=cache))
    assert requests_log.count("AssumeRole") == 1


def test_an_entry_is_served_only_to_the_principal_that_fetched_it(
    moto_server: Any, requests_log: RequestLog
) -> None:
    alice = boto3.Session(aws_access_key_id="AKIAALICE0000000000A", aws_secret_access_key="a")
    bob = boto3.Session(aws_access_key_id="AKIABOB00000000000BB", aws_secret_access_key="b")
    cache: dict[str, Any] = {}
    use(assume_role(alice, ROLE, RoleSessionName="shared", cache=cache))
    use(assume_role(bob, ROLE, RoleSessionName="shared", cache=cache))
    calls = requests_log.matching("AssumeRole")
    # Bob's AssumeRole is signed by Bob: STS checks him against the trust policy.
    assert [call.access_key for call in calls] == ["AKIAALICE0000000000A", "AKIABOB00000000000BB"]
    assert len(cache) == 2


def test_a_snapstart_restore_never_serves_entries_fetched_before_it(
    parent: boto3.Session, requests_log: RequestLog, tmp_path: Path
) -> None:
    cache = JSONFileCache(tmp_path / "creds")  # /tmp is part of the snapshot too
    before = use(assume_role(parent, ROLE, RoleSessionName="snap", cache=cache))
    after_restore()
    after = assume_role(parent, ROLE, RoleSessionName="snap", cache=cache)
    assert use(after) == before
    assert requests_log.count("AssumeRole") == 2  # fetched again after the restore
    use(assume_role(parent, ROLE, RoleSessionName="snap", cache=cache))
    assert requests_log.count("AssumeRole") == 2  # and that entry is served
