"""STS's AssumeRole request, checked against the model of the installed botocore.

The input shape is loaded once per process, from the data loader that every
assumed-role session shares (`lambda_assume_role.shared.shared_loader`), so the
check costs no second parse of the STS model.

Example:
    >>> check_assume_role_request("arn:aws:iam::123456789012:role/R", {"DurationSeconds": 900})
    >>> check_assume_role_request("arn:aws:iam::123456789012:role/R", {"DurationSeconds": 60})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lambda_assume_role.errors.InvalidParameterError: DurationSeconds must be between 900 and ...
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_assume_role.model.doc_rules import check_doc_rules
from lambda_assume_role.model.shapes import check

if TYPE_CHECKING:
    from botocore.model import Shape

__all__ = ["assume_role_request_shape", "check_assume_role_request"]

_shape_lock = threading.Lock()
_request_shape: Shape | None = None

# Stands in for a session name generated later, so the model's "required" holds.
_GENERATED_NAME = "ToBeGenerated"


def check_assume_role_request(role_arn: Any, request: Mapping[str, Any]) -> None:
    """Every rule of STS's AssumeRole input shape (types, min, max, pattern) plus the docs' rules.

    The docs' rules are the limits (`DOC_LIMITS`) and, once the model has
    passed the request, the rules across members (`check_doc_rules`).

    Raises:
        InvalidParameterError: The first rule broken, naming the parameter.
    """
    params = {"RoleArn": role_arn, **request}
    params.setdefault("RoleSessionName", _GENERATED_NAME)
    check(assume_role_request_shape(), params)
    check_doc_rules(params)


def assume_role_request_shape() -> Shape:
    """STS's AssumeRole input shape, loaded once per process from the shared loader."""
    global _request_shape  # noqa: PLW0603
    with _shape_lock:
        if _request_shape is None:
            from botocore.model import ServiceModel

            from lambda_assume_role.shared import shared_loader

            model = ServiceModel(shared_loader(None).load_service_model("sts", "service-2"), "sts")
            shape = model.operation_model("AssumeRole").input_shape
            assert shape is not None
            _request_shape = shape
        return _request_shape
