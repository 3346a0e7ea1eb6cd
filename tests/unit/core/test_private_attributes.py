"""Every private botocore/boto3 name we rely on still exists and still means what we assume.

Each test fails with a message that names the attribute and where we use it, so a botocore
upgrade that changes one is caught here, not in a Lambda function. The README lists the
same names ("Private botocore and boto3 names used").
"""

from __future__ import annotations

import datetime
import inspect
import threading

import boto3
import botocore.loaders
import botocore.session
from botocore.credentials import DeferredRefreshableCredentials, RefreshableCredentials

from lambda_assume_role.refresh import AssumeRoleCredentials

EXPIRY = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)


def metadata() -> dict[str, object]:
    return {
        "access_key": "AKID",
        "secret_key": "secret",
        "token": "token",
        "expiry_time": EXPIRY.isoformat(),
    }


def test_refreshable_credentials_keep_the_fields_refresh_py_writes() -> None:
    credentials = DeferredRefreshableCredentials(
        refresh_using=metadata, method="probe", time_fetcher=lambda: EXPIRY
    )
    for name in ("_refresh_lock", "_time_fetcher", "_frozen_credentials", "_expiry_time"):
        assert hasattr(credentials, name), f"botocore dropped {name} (refresh.py relies on it)"
    lock_type = type(threading.Lock())
    assert isinstance(credentials._refresh_lock, lock_type), "_refresh_lock is no longer a Lock"
    assert credentials._time_fetcher() == EXPIRY, "_time_fetcher is no longer the clock"


def test_every_public_accessor_goes_through_refresh() -> None:
    # refresh.py overrides _refresh(); the accessors must still call it.
    for accessor in ("access_key", "secret_key", "token"):
        source = inspect.getsource(getattr(RefreshableCredentials, accessor).fget)
        assert "self._refresh()" in source, f"RefreshableCredentials.{accessor} skips _refresh()"
    source = inspect.getsource(RefreshableCredentials.get_frozen_credentials)
    assert "self._refresh()" in source, "get_frozen_credentials skips _refresh()"


def test_the_accessors_read_the_fields_we_publish() -> None:
    credentials = AssumeRoleCredentials(lambda advisory: metadata(), role_arn="arn:probe")
    frozen = credentials.get_frozen_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
    ), "botocore's accessors no longer read _access_key/_secret_key/_token"


def test_boto3_session_exposes_its_botocore_session_as__session() -> None:
    session = boto3.Session(region_name="us-east-1")
    inner = getattr(session, "_session", None)
    assert isinstance(inner, botocore.session.Session), (
        "boto3.Session._session is gone (assume.py and fetcher.py reach the parent's "
        "botocore session through it)"
    )


def test_boto3_has_a_default_session_getter() -> None:
    getter = getattr(boto3, "_get_default_session", None)
    assert callable(getter), "boto3._get_default_session is gone (patch_boto3 uses it)"


def test_the_loader_keeps_the_search_path_list_it_is_given() -> None:
    # shared.py hands the Loader an append-once list and relies on boto3's appends
    # (boto3.Session.__init__ appends its data folder) reaching that same list.
    given = ["/probe/data"]
    loader = botocore.loaders.Loader(extra_search_paths=given)
    assert loader.search_paths is given, (
        "botocore.loaders.Loader copies extra_search_paths; shared.py's append-once list "
        "would no longer stop the search path from growing per session"
    )
