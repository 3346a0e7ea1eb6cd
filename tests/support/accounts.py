"""Clients in other accounts of a moto organization, for setting up test data there."""

from __future__ import annotations

from typing import Any

import boto3

MEMBER_ROLE = "OrganizationAccountAccessRole"


def member_client(service: str, account_id: str, role_name: str = MEMBER_ROLE) -> Any:
    """A ``service`` client in ``account_id``, as ``role_name`` (moto lets anyone assume it)."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="setup"
    )["Credentials"]
    return boto3.client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
