"""Read one bucket as a role the function assumes: one session for the environment's life."""

from __future__ import annotations

import os
from typing import Any

import boto3

from lambda_assume_role import assume_role

BUCKET_NAME = os.environ["BUCKET_NAME"]

# Module scope: built once per execution environment and reused by every warm
# invocation. No STS call happens here; the first request assumes the role and
# the credentials refresh themselves before they expire. A malformed
# READER_ROLE_ARN raises here, so the function fails its init with a clear message.
reader = assume_role(boto3.Session(), os.environ["READER_ROLE_ARN"])
s3 = reader.client("s3")
sts = reader.client("sts")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """List up to 10 keys of the bucket, and say who read them."""
    listing = s3.list_objects_v2(Bucket=BUCKET_NAME, MaxKeys=10)
    return {
        "identity": sts.get_caller_identity()["Arn"],
        "bucket": BUCKET_NAME,
        "keys": [item["Key"] for item in listing.get("Contents", [])],
    }
