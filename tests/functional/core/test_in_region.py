"""An assumed role's session in other regions shares one credential: one AssumeRole for all."""

from __future__ import annotations

import boto3

from emulators.moto_server import RequestLog
from lambda_assume_role import assume_role

ROLE = "arn:aws:iam::111111111111:role/Everywhere"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def test_every_region_signs_with_one_assume_role(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    home = assume_role(parent, ROLE, RoleSessionName="regions")
    sessions = [home.in_region(region) for region in REGIONS]
    for session in sessions:
        arn = session.client("sts").get_caller_identity()["Arn"]
        assert arn.endswith(":assumed-role/Everywhere/regions")
    assert requests_log.count("AssumeRole") == 1
    calls = requests_log.matching("GetCallerIdentity")
    assert [call.region for call in calls] == list(REGIONS)
    assert len({call.access_key for call in calls}) == 1
    assert all(s.role_arn == ROLE and s.assume_role_parent_session is parent for s in sessions)
