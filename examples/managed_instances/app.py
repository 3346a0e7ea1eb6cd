"""Read objects in another account's bucket from a Lambda Managed Instances function.

Under Managed Instances one execution environment serves many invocations at once: the
Python runtime forks ``AWS_LAMBDA_MAX_CONCURRENCY`` worker processes, and each imports
this module itself. The decorators below are all the code there is: the library shares
the role's credentials between the environment's workers (through ``/tmp``), so the
environment makes one AssumeRole per credential period, not one per worker.
"""

from __future__ import annotations

import os
from typing import Any

from lambda_assume_role import inject_client

BUCKET_NAME = os.environ["BUCKET_NAME"]
READER_ROLE_ARN = os.environ["READER_ROLE_ARN"]


# Both clients come from the same cached session: one AssumeRole serves both.
@inject_client("sts", READER_ROLE_ARN)
@inject_client("s3", READER_ROLE_ARN)
def handler(event: dict[str, Any], context: Any, sts: Any, s3: Any) -> dict[str, Any]:
    """Return the size of the object the event names, who read it, and which worker did."""
    head = s3.head_object(Bucket=BUCKET_NAME, Key=event["key"])
    return {
        "key": event["key"],
        "size": head["ContentLength"],
        "identity": sts.get_caller_identity()["Arn"],
        # The worker process that served this invocation: under Managed Instances,
        # invocations running at once each have their own.
        "worker": os.getpid(),
    }
