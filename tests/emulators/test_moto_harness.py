"""The moto harness itself: real HTTP, counted at the server."""

from __future__ import annotations

import boto3

from emulators.moto_server import RequestLog


def test_assume_role_is_counted_at_the_server(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    sts = parent.client("sts")
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::111111111111:role/Probe", RoleSessionName="probe", DurationSeconds=900
    )["Credentials"]
    child = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    arn = child.client("sts").get_caller_identity()["Arn"]
    assert arn == "arn:aws:sts::111111111111:assumed-role/Probe/probe"
    assert requests_log.count("AssumeRole", "sts") == 1
    (call,) = requests_log.matching("GetCallerIdentity")
    assert call.access_key == creds["AccessKeyId"]
    assert requests_log.matching("AssumeRole")[0].params["DurationSeconds"] == "900"
