"""Every parent that holds role credentials is role chaining: the one-hour cap applies first."""

from __future__ import annotations

import boto3
import botocore.credentials
import pytest

from emulators.moto_server import RequestLog
from lambda_assume_role import InvalidParameterError, assume_role
from lambda_assume_role.role import ROLE_CREDENTIAL_METHODS

ROLE = "arn:aws:iam::111111111111:role/Chained"


class _Provider(botocore.credentials.CredentialProvider):
    def __init__(self, method: str) -> None:
        super().__init__()
        self.METHOD = method

    def load(self) -> botocore.credentials.Credentials:
        return botocore.credentials.Credentials("ASIAROLE", "secret", "token", method=self.METHOD)


def parent_with(method: str) -> boto3.Session:
    session = boto3.Session()
    resolver = botocore.credentials.CredentialResolver([_Provider(method)])
    session._session.register_component("credential_provider", resolver)
    return session


@pytest.mark.parametrize(
    "method", ["iam-role", "container-role", "sso", "assume-role", "assume-role-with-web-identity"]
)
def test_role_credential_parents_are_capped_at_one_hour_before_any_call(
    method: str, requests_log: RequestLog
) -> None:
    assert method in ROLE_CREDENTIAL_METHODS
    with pytest.raises(InvalidParameterError, match="role chaining"):
        assume_role(parent_with(method), ROLE, DurationSeconds=43200)
    assert requests_log.count("AssumeRole") == 0


@pytest.mark.parametrize("method", ["env", "shared-credentials-file", "custom-process"])
def test_user_credential_parents_may_ask_for_twelve_hours(method: str) -> None:
    session = assume_role(parent_with(method), ROLE, DurationSeconds=43200)
    assert session.role_arn == ROLE
