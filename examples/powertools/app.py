"""Powertools Logger, Tracer, Metrics and Parameters on an assumed-role session.

Decorator order: Powertools outside, ours innermost (closest to the function).
``inject_session`` and ``inject_client`` add keyword arguments, which
``Logger.inject_lambda_context`` and ``Tracer.capture_lambda_handler`` pass
through; Powertools' ``event_source`` and batch decorators would reject them.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

import lambda_assume_role
from lambda_assume_role import inject_client, inject_session

CONFIG_ROLE_ARN = os.environ["CONFIG_ROLE_ARN"]
PARAMETER_NAME = os.environ["PARAMETER_NAME"]

logger = Logger()
tracer = Tracer()  # needs aws-xray-sdk (requirements.txt); POWERTOOLS_TRACE_DISABLED=true mutes it

# Route this library's logs (one INFO line per AssumeRole: role ARN, session
# name, expiry, latency) through the Powertools Logger, as JSON with the
# invocation's keys.
copy_config_to_registered_loggers(source_logger=logger, include={"lambda_assume_role"})

# AssumeRole metrics (count, latency, failures by phase, throttles by role) as EMF
# blobs of their own, and an X-Ray subsegment per AssumeRole call. The namespace
# comes from POWERTOOLS_METRICS_NAMESPACE when it is set.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ConfigReader"))
lambda_assume_role.instrument(metrics=metrics, tracer=tracer)


@functools.lru_cache(maxsize=8)
def parameters(session: boto3.Session) -> SSMProvider:
    """One provider (its SSM client and value cache) per role session, kept while warm."""
    return SSMProvider(boto3_session=session)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@inject_session(CONFIG_ROLE_ARN)
@inject_client("sts", CONFIG_ROLE_ARN)
def handler(
    event: dict[str, Any], context: LambdaContext, session: boto3.Session, sts: Any
) -> dict[str, Any]:
    """Read a parameter as the config role, and say who read it."""
    greeting = parameters(session).get(PARAMETER_NAME, max_age=300)
    identity = sts.get_caller_identity()["Arn"]
    logger.info("Read the parameter", extra={"parameter": PARAMETER_NAME, "identity": identity})
    metrics.add_metric(name="ParameterReads", unit="Count", value=1)
    return {"greeting": greeting, "identity": identity}
