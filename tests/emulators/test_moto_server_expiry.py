"""The moto server's log knows when a request came and which keys it issued: requests signed
with keys that had already expired are listed (`RequestLog.signed_after_expiry`).

moto runs in this process, so time-machine moves the clock that stamps a request's arrival
and the clock moto computes an AssumeRole's Expiration from.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import time_machine

from emulators.moto_server import RecordedRequest, RequestLog

START = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ROLE_ARN = "arn:aws:iam::111111111111:role/Probe"


def _frozen_role_session(parent: boto3.Session, duration: int) -> tuple[boto3.Session, str]:
    """A session signing with one AssumeRole answer's keys (never refreshed), and its key id."""
    credentials = parent.client("sts").assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="expiry", DurationSeconds=duration
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return session, credentials["AccessKeyId"]


def test_keys_used_before_expiry_are_not_listed_and_after_expiry_are(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        session, key = _frozen_role_session(parent, 900)
        client = session.client("sts")

        assert requests_log.issued() == {key: START + timedelta(seconds=900)}
        traveller.shift(timedelta(seconds=899))
        client.get_caller_identity()
        assert requests_log.signed_after_expiry() == []

        traveller.shift(timedelta(seconds=2))
        client.get_caller_identity()

    (late,) = requests_log.signed_after_expiry()
    assert late.action == "GetCallerIdentity"
    assert late.access_key == key
    assert late.received_at == START + timedelta(seconds=901)
    assert requests_log.signed_after_expiry("GetCallerIdentity") == [late]
    assert requests_log.signed_after_expiry("AssumeRole") == []
    first = requests_log.matching("GetCallerIdentity")[0]
    assert first.received_at == START + timedelta(seconds=899)


def test_a_request_arriving_exactly_at_expiry_is_listed(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        session, key = _frozen_role_session(parent, 900)
        traveller.shift(timedelta(seconds=900))
        session.client("sts").get_caller_identity()

    assert [r.access_key for r in requests_log.signed_after_expiry()] == [key]


def test_the_parents_static_keys_never_count(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    sts = parent.client("sts")
    with time_machine.travel(START, tick=False) as traveller:
        _frozen_role_session(parent, 900)
        traveller.shift(timedelta(days=1))
        sts.get_caller_identity()  # the parent's static keys: never issued here

    assert requests_log.signed_after_expiry() == []
    assert len(requests_log.issued()) == 1
    assert all(r.received_at is not None for r in requests_log.all())


def test_clear_forgets_issued_keys(parent: boto3.Session, requests_log: RequestLog) -> None:
    _frozen_role_session(parent, 900)
    assert requests_log.issued()
    requests_log.clear()
    assert requests_log.issued() == {}


def test_records_built_by_hand_keep_their_positional_fields() -> None:
    record = RecordedRequest("sts", "GetCallerIdentity", "ASIAX", "us-east-1", {})
    assert record.received_at is None
    log = RequestLog()
    log.append(record)
    log.record_issued("ASIAX", START)
    assert log.signed_after_expiry() == []  # no arrival time: cannot tell
