r"""An AssumeRole request checked against STS's own model, before any network call.

`check` walks botocore's input shape for the operation and applies every rule
the model carries (types, required and unknown members, ``min``/``max``,
``enum``, ``pattern``) plus the limits only the AWS docs state, so bad input
fails locally with one line that names the parameter, never as a remote error.

Modules, each calling only those below it:

* `sts`: STS's AssumeRole request (`check_assume_role_request`), its shape
  loaded once from the shared loader.
* `shapes`: the checker (`check`); `doc_rules`: the docs' extra limits, their
  rules across members (`check_doc_rules`) and the members whose values are secret.
* `patterns`: the model's Java patterns matched as AWS means them
  (`compile_pattern`), built from `java_syntax` (reading a Java pattern),
  `atoms` (writing each atom for `re`) and `categories` (Unicode general
  categories for ``\p{..}`` classes).

Example:
    >>> import botocore.session
    >>> from lambda_assume_role.errors import InvalidParameterError
    >>> sts = botocore.session.get_session().get_service_model("sts")
    >>> request = sts.operation_model("AssumeRole").input_shape
    >>> try:
    ...     check(request, {"RoleArn": "arn:aws:iam::123456789012:role/R",
    ...                     "RoleSessionName": "has space"})
    ... except InvalidParameterError as error:
    ...     print(error)
    RoleSessionName must match [\w+=,.@-]*; got 'has space'
"""

from __future__ import annotations

from lambda_assume_role.model.doc_rules import (
    DOC_LIMITS,
    SECRET_MEMBERS,
    DocLimit,
    check_doc_rules,
)
from lambda_assume_role.model.patterns import ModelPattern, UnsupportedPatternError, compile_pattern
from lambda_assume_role.model.shapes import check
from lambda_assume_role.model.sts import assume_role_request_shape, check_assume_role_request

__all__ = [
    "DOC_LIMITS",
    "SECRET_MEMBERS",
    "DocLimit",
    "ModelPattern",
    "UnsupportedPatternError",
    "assume_role_request_shape",
    "check",
    "check_assume_role_request",
    "check_doc_rules",
    "compile_pattern",
]
