"""Secrets never leave: not in an exception, its chain or traceback, nor in any log record.

STS answers travel through the fault proxy, which can cut a 200 short right after the
keys or answer with malformed bodies; logging is at DEBUG everywhere, as people set it
when they debug a Lambda function.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from typing import Any

import boto3
import pytest
import time_machine

from emulators.fault_proxy import FaultProxy, assume_role_body
from lambda_assume_role import AssumeRoleError, assume_role
from lambda_assume_role.errors import INVALID_RESPONSE
from tests.support.sessions import warm_sts_client

ROLE = "arn:aws:iam::111111111111:role/Secretive"
SECOND_ROLE = "arn:aws:iam::222222222222:role/Chained"
SECRET = "fault-proxy-secret-access-key"
TOKEN = "fault-proxy-session-token"
START = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger at DEBUG, botocore's included."""
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "boto3", "urllib3", "lambda_assume_role"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def cut_short_body() -> bytes:
    body = assume_role_body(secret_access_key=SECRET, session_token=TOKEN)
    marker = b"</SessionToken>"
    return body[: body.index(marker) + len(marker)]


def everything_said(error: BaseException) -> str:
    """The error as a user, a log or the Lambda runtime could ever print it."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    link: BaseException | None = error
    while link is not None:
        parts += [str(link), repr(link)]
        link = link.__cause__ or link.__context__
    return "\n".join(parts)


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_a_200_cut_short_after_the_keys_raises_our_error_without_the_keys(
    fault_proxy: FaultProxy, parent: boto3.Session, debug_logs: pytest.LogCaptureFixture
) -> None:
    fault_proxy.respond("AssumeRole", cut_short_body())
    session = assume_role(parent, ROLE, RoleSessionName="cut")
    with pytest.raises(AssumeRoleError) as raised:
        session.client("sts").get_caller_identity()
    error = raised.value
    assert error.error_code == INVALID_RESPONSE
    assert ROLE in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert_no_secret(everything_said(error), SECRET, TOKEN)
    assert_no_secret(all_log_text(debug_logs), SECRET, TOKEN)
    # The body was logged by botocore (redacted), so the filter really ran.
    assert "Response body" in debug_logs.text


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (assume_role_body(omit=("SessionToken",)), "text/xml", "incomplete"),
        (assume_role_body(expiration="not-a-date"), "text/xml", ""),
        (b"<html><body>Gateway says hi</body></html>", "text/html", ""),
        (assume_role_body(expiration=START - datetime.timedelta(hours=1)), "text/xml", "expired"),
    ],
    ids=["no-token", "bad-date", "html", "already-expired"],
)
def test_malformed_200_answers_raise_our_error_naming_the_role(
    fault_proxy: FaultProxy,
    parent: boto3.Session,
    debug_logs: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    problem: str,
) -> None:
    fault_proxy.respond("AssumeRole", body, content_type=content_type)
    session = assume_role(parent, ROLE, RoleSessionName="malformed")
    with time_machine.travel(START, tick=False):
        with pytest.raises(AssumeRoleError) as raised:
            session.client("sts").get_caller_identity()
    assert ROLE in str(raised.value)
    assert problem in str(raised.value)
    # Whatever is wrong with it, a malformed answer has one code (a bad date was "ValueError").
    assert raised.value.error_code == INVALID_RESPONSE
    assert raised.value.__context__ is None
    assert_no_secret(everything_said(raised.value), "fault-proxy-secret-access-key")
    assert_no_secret(all_log_text(debug_logs), "fault-proxy-secret-access-key")


def test_a_cut_short_answer_in_the_advisory_window_keeps_the_keys_and_logs_no_secret(
    fault_proxy: FaultProxy, parent: boto3.Session, debug_logs: pytest.LogCaptureFixture
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = warm_sts_client(parent, ROLE, "advisory", 900)
        fault_proxy.respond("AssumeRole", cut_short_body())
        clock.shift(datetime.timedelta(seconds=700))  # inside the 300 s advisory window
        client.get_caller_identity()  # still works, on the current keys
    assert fault_proxy.faulted("AssumeRole") == 1
    warnings = [r for r in debug_logs.records if r.levelno == logging.WARNING]
    assert any("Advisory credential refresh" in r.getMessage() for r in warnings)
    assert_no_secret(all_log_text(debug_logs), SECRET, TOKEN)


def test_debug_logging_never_shows_the_keys_of_a_session_or_a_chain(
    parent: boto3.Session, debug_logs: pytest.LogCaptureFixture
) -> None:
    boto3.set_stream_logger("", logging.DEBUG)
    try:
        first = assume_role(parent, ROLE, RoleSessionName="first")
        second = assume_role(first, SECOND_ROLE, RoleSessionName="second")
        second.client("sts").get_caller_identity()  # signed with the chain's second token
        first_keys = first.get_credentials().get_frozen_credentials()
        second_keys = second.get_credentials().get_frozen_credentials()
    finally:
        logging.getLogger().handlers = [
            h for h in logging.getLogger().handlers if type(h) is not logging.StreamHandler
        ]
    secrets = [first_keys.secret_key, first_keys.token, second_keys.secret_key, second_keys.token]
    assert all(secrets)
    text = all_log_text(debug_logs)
    assert "Response body" in text  # botocore did log the answers ...
    assert_no_secret(text, *secrets)  # ... without the keys


def test_other_services_debug_logs_are_not_silenced(
    parent: boto3.Session, debug_logs: pytest.LogCaptureFixture
) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="others")
    s3 = session.client("s3")
    s3.create_bucket(Bucket="visible-in-logs")
    s3.list_buckets()
    bodies = [r.getMessage() for r in debug_logs.records if "Response body" in r.getMessage()]
    assert any("visible-in-logs" in body for body in bodies)


def test_no_repr_shows_a_key(parent: boto3.Session) -> None:
    session = assume_role(parent, ROLE, RoleSessionName="repr")
    keys = session.get_credentials().get_frozen_credentials()
    shown: list[Any] = [session, session.get_credentials(), session.assume_role_credentials]
    for thing in shown:
        assert_no_secret(repr(thing) + str(thing), keys.secret_key, keys.token)


PARENT_KEY_ID = "ASIAPARENTEXAMPLE7Q2Z"
PARENT_SECRET = "parent-secret/of-a-chained-caller+0123456789"
PARENT_TOKEN = "IQoJb3JpZ2luX2VjEPARENT/session+token=never/printed0123456789"


@pytest.fixture
def temporary_parent(moto_server: Any) -> boto3.Session:
    """A parent with temporary keys, as a Lambda execution role has: its token travels."""
    return boto3.Session(
        aws_access_key_id=PARENT_KEY_ID,
        aws_secret_access_key=PARENT_SECRET,
        aws_session_token=PARENT_TOKEN,
        region_name="us-east-1",
    )


def test_an_error_echoing_the_request_holds_no_trace_of_the_parents_keys(
    fault_proxy: FaultProxy,
    temporary_parent: boto3.Session,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    fault_proxy.fail("AssumeRole", "echo")
    session = assume_role(temporary_parent, ROLE, RoleSessionName="echoed")
    with pytest.raises(AssumeRoleError) as raised:
        session.client("sts").get_caller_identity()
    error = raised.value
    said = everything_said(error) + str(error.response)
    # The proxy really echoed the request: the error still says what STS said.
    assert error.error_code == "InternalFailure"
    assert "Bad request POST" in said
    assert_no_secret(said, PARENT_KEY_ID, PARENT_TOKEN, PARENT_SECRET, PARENT_KEY_ID[:12])
    assert "Credential=" not in said.replace("Credential=***", "")
    assert_no_secret(all_log_text(debug_logs), PARENT_TOKEN, PARENT_SECRET)
    # Only the fields a reader needs are kept from the answer: no echoed headers.
    assert set(error.response) <= {"Error", "ResponseMetadata"}
    assert set(error.response["ResponseMetadata"]) <= {
        "RequestId",
        "HTTPStatusCode",
        "RetryAttempts",
    }


def test_an_error_for_an_unlabelled_echo_of_the_parents_token_still_hides_it(
    fault_proxy: FaultProxy, temporary_parent: boto3.Session
) -> None:
    # A token quoted with no name before it: only the parent's own keys can find it.
    fault_proxy.deny("AssumeRole", "AccessDenied", f"request from {PARENT_TOKEN} refused")
    session = assume_role(temporary_parent, ROLE, RoleSessionName="unlabelled")
    with pytest.raises(AssumeRoleError) as raised:
        session.client("sts").get_caller_identity()
    assert raised.value.error_code == "AccessDenied"
    assert "refused" in str(raised.value)
    assert_no_secret(everything_said(raised.value), PARENT_TOKEN)
