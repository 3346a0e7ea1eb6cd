"""TenantRole without a network: templates, tenant id rules, tenant sources, session names."""

from __future__ import annotations

import json
import pickle
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_assume_role import InvalidParameterError
from lambda_assume_role.naming import ROLE_SESSION_NAME_PATTERN, tenant_session_name
from lambda_assume_role.tenancy import (
    MAX_TENANT_ID_LENGTH,
    PLACEHOLDER,
    TenantError,
    TenantRole,
    authorizer_claim,
    check_tenant_id,
    context_tenant_id,
)
from tests.support.contexts import lambda_context

ROLE = "arn:aws:iam::123456789012:role/TenantData"
CLAIM = "custom:tenant_id"
_INPUT = botocore.session.get_session().get_service_model("sts").operation_model("AssumeRole")
assert _INPUT.input_shape is not None
_MEMBERS: Any = _INPUT.input_shape.members

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": "arn:aws:dynamodb:*:*:table/Items",
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["{tenant}", "shared"]},
                "StringEquals": {"aws:PrincipalTag/TenantId": "${aws:PrincipalTag/TenantId}"},
            },
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/{tenant}/*",
            "Sid": "Objects",
        },
    ],
}


def role(**kwargs: Any) -> TenantRole:
    return TenantRole(ROLE, tenant=authorizer_claim(CLAIM), **kwargs)


# --- The tenant id rule --------------------------------------------------------------------


def test_the_longest_tenant_id_is_the_longest_tag_value_sts_allows() -> None:
    # SourceIdentity's maximum is 256 in current models, 64 in botocore 1.34's: the
    # model decides where it applies (source_identity=True).
    assert _MEMBERS["Tags"].member.members["Value"].metadata["max"] == MAX_TENANT_ID_LENGTH
    assert _MEMBERS["SourceIdentity"].metadata["max"] in (64, MAX_TENANT_ID_LENGTH)


def test_source_identity_limits_come_from_the_installed_model() -> None:
    longest = _MEMBERS["SourceIdentity"].metadata["max"]
    role().parameters("a" * longest)
    if longest < MAX_TENANT_ID_LENGTH:
        with pytest.raises(TenantError, match=f"SourceIdentity must be at most {longest}"):
            role().parameters("a" * (longest + 1))
    role(source_identity=False).parameters("a" * MAX_TENANT_ID_LENGTH)


@pytest.mark.parametrize(
    ("tenant_id", "problem"),
    [
        ("", "an empty string"),
        ("a" * 257, "257 characters"),
        ("a" * 300, "300 characters"),
        ('acme","Resource":"*', "'\"' at position 4"),
        ("acme*", "'*' at position 4"),
        ("{tenant}", "'{' at position 0"),
        ("a/b", "'/' at position 1"),
        ("a\\b", "'\\\\' at position 1"),
        ("a b", "' ' at position 1"),
        ("a\tb", "'\\t' at position 1"),
        ("a\nb", "'\\n' at position 1"),
        ("acmé", "'é' at position 3"),
        ("a:b", "':' at position 1"),
        (5, "int"),
        (b"acme", "bytes"),
        (None, "NoneType"),
    ],
)
def test_implausible_tenant_ids_are_refused_naming_source_and_rule_not_the_value(
    tenant_id: Any, problem: str
) -> None:
    with pytest.raises(TenantError) as raised:
        check_tenant_id(tenant_id, "context.tenant_id")
    message = str(raised.value)
    assert message.startswith("tenant id from context.tenant_id must be")
    assert "1-256 characters of [A-Za-z0-9_+=,.@-]" in message
    assert message.endswith(problem)
    if isinstance(tenant_id, str) and len(tenant_id) > 1:
        assert tenant_id not in message


def test_a_tenant_error_is_an_invalid_parameter_error_and_pickles() -> None:
    error = TenantError("tenant id from x must be y", "x")
    assert isinstance(error, InvalidParameterError)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.source) == (str(error), "x")


def test_a_str_subclass_is_taken_as_its_plain_text() -> None:
    class Sneaky(str):
        def replace(self, *args: Any) -> str:
            return '","Resource":"*'

    checked = check_tenant_id(Sneaky("acme"), "s")
    assert type(checked) is str
    params = role(policy=POLICY).parameters(Sneaky("acme"))
    assert json.loads(params["Policy"])["Statement"][1]["Resource"] == "arn:aws:s3:::data/acme/*"


# --- Rendering -----------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys, list lengths and types, without string contents."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


TENANT_IDS = st.text(
    alphabet=st.sampled_from("abcXYZ019_+=,.@-" + "\"'{}[]*/\\: \n\t\x00é$%" + PLACEHOLDER),
    min_size=0,
    max_size=300,
) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(tenant_id=TENANT_IDS)
def test_any_accepted_id_keeps_the_policy_structure_and_leaves_no_placeholder(
    tenant_id: str,
) -> None:
    tenant_role = role(policy=POLICY, source_identity=False, tags=None)
    try:
        params = tenant_role.parameters(tenant_id)
    except TenantError:
        assert not re.fullmatch(r"[A-Za-z0-9_+=,.@-]{1,256}", tenant_id)
        return
    assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]{1,256}", tenant_id)
    rendered = json.loads(params["Policy"])
    assert shape(rendered) == shape(POLICY)
    assert PLACEHOLDER not in params["Policy"]
    assert rendered["Statement"][0]["Condition"]["ForAllValues:StringEquals"] == {
        "dynamodb:LeadingKeys": [tenant_id, "shared"]
    }
    assert rendered["Statement"][1]["Resource"] == f"arn:aws:s3:::data/{tenant_id}/*"
    assert (
        rendered["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalTag/TenantId"]
        == "${aws:PrincipalTag/TenantId}"
    )
    assert ROLE_SESSION_NAME_PATTERN.fullmatch(params["RoleSessionName"])


def test_the_default_parameters_hold_the_tenant_tag_source_identity_and_session_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/02/[$LATEST]3893a0b1c2d3e4f5a6b7c8d9e0f1a2b3"
    )
    params = TenantRole(ROLE, DurationSeconds=900, ExternalId="vendor").parameters("acme")
    assert params == {
        "RoleArn": ROLE,
        "DurationSeconds": 900,
        "ExternalId": "vendor",
        "RoleSessionName": "acme.3893a0b1c2d3e4f5",
        "SourceIdentity": "acme",
        "Tags": [{"Key": "TenantId", "Value": "acme"}],
    }


def test_tags_and_transitive_keys_are_rendered_per_tenant() -> None:
    tenant_role = role(
        tags={"TenantId": "{tenant}", "Path": "tenants/{tenant}/data", "Team": "saas"},
        transitive_tag_keys=["TenantId"],
        source_identity=False,
    )
    params = tenant_role.parameters("acme")
    assert params["Tags"] == [
        {"Key": "TenantId", "Value": "acme"},
        {"Key": "Path", "Value": "tenants/acme/data"},
        {"Key": "Team", "Value": "saas"},
    ]
    assert params["TransitiveTagKeys"] == ["TenantId"]
    assert "SourceIdentity" not in params
    assert role(tags=None).parameters("acme").get("Tags") is None


def test_each_call_returns_new_containers_so_a_caller_cannot_poison_the_memo() -> None:
    tenant_role = role(transitive_tag_keys=["TenantId"])
    first = tenant_role.parameters("acme")
    first["Tags"][0]["Value"] = "globex"
    first["Tags"].append({"Key": "x", "Value": "y"})
    first["TransitiveTagKeys"].append("x")
    first["SourceIdentity"] = "globex"
    again = tenant_role.parameters("acme")
    assert again["Tags"] == [{"Key": "TenantId", "Value": "acme"}]
    assert again["TransitiveTagKeys"] == ["TenantId"]
    assert again["SourceIdentity"] == "acme"


def test_a_caller_changing_a_returned_policy_arns_list_changes_no_other_tenants_request() -> None:
    read_only = {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    tenant_role = role(PolicyArns=[dict(read_only)])
    first = tenant_role.parameters("acme")
    first["PolicyArns"][0]["arn"] = "arn:aws:iam::aws:policy/PowerUserAccess"
    first["PolicyArns"].append({"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert tenant_role.parameters("acme")["PolicyArns"] == [read_only]
    assert tenant_role.parameters("globex")["PolicyArns"] == [read_only]


def test_the_template_is_copied_at_construction() -> None:
    policy = json.loads(json.dumps(POLICY))
    tags = {"TenantId": "{tenant}"}
    tenant_role = role(policy=policy, tags=tags)
    policy["Statement"][1]["Resource"] = "*"
    tags["TenantId"] = "fixed"
    params = tenant_role.parameters("acme")
    assert json.loads(params["Policy"])["Statement"][1]["Resource"] == "arn:aws:s3:::data/acme/*"
    assert params["Tags"] == [{"Key": "TenantId", "Value": "acme"}]


def test_the_memo_is_bounded_and_a_warm_tenant_is_not_rendered_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambda_assume_role.tenancy import role as tenancy_role

    monkeypatch.setattr(tenancy_role, "_MEMO_SIZE", 4)
    tenant_role = role()
    renders: list[str] = []
    real = tenant_role._render

    def counting(tenant_id: str, source: str) -> dict[str, Any]:
        renders.append(tenant_id)
        return real(tenant_id, source)

    monkeypatch.setattr(tenant_role, "_render", counting)
    for _ in range(3):
        tenant_role.parameters("acme")
    assert renders == ["acme"]
    for n in range(10):
        tenant_role.parameters(f"tenant{n}")
    assert len(tenant_role._requests) == 4


def test_concurrent_first_calls_for_one_tenant_agree() -> None:
    tenant_role = role(policy=POLICY)
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        results.append(tenant_role.parameters("acme"))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == results[0] for r in results)  # one session name, even outside Lambda
    assert len(tenant_role._requests) == 1


# --- Construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"RoleSessionName": "fixed"}, "sets RoleSessionName per tenant"),
        ({"SourceIdentity": "x"}, "use source_identity=True"),
        ({"Tags": {"a": "b"}}, "use tags="),
        ({"Policy": "{}"}, "use policy="),
        ({"additional_kwargs": {"RoleSessionName": "x"}}, "sets RoleSessionName"),
        ({"tags": {"{tenant}": "x"}}, "may only appear in tag values"),
        ({"tags": {"a": 1}}, "strings to strings"),
        ({"tags": {"a,b": "x"}}, r"TenantRole: Tags\[0\]\.Key must match"),
        ({"tags": ["TenantId"]}, "tags must be a mapping"),
        ({"policy": json.dumps(POLICY)}, "policy must be a session policy as a dict"),
        ({"policy": {"Statement": []}}, "with Version and Statement"),
        (
            {"policy": {"Version": "2012-10-17", "Statement": [], "{tenant}": 1}},
            "never in keys",
        ),
        (
            {"policy": {"Version": "2012-10-17", "Statement": [{"Resource": {1, 2}}]}},
            r"policy\['Statement'\]\[0\]\['Resource'\] must be JSON",
        ),
        (
            {"policy": {"Version": "2012-10-17", "Statement": [{"Sid": "x" * 2100}]}},
            "Policy must be at most 2048 characters",
        ),
        ({"DurationSeconds": 60}, "DurationSeconds must be between 900"),
        ({"source_identity": "yes"}, "source_identity must be True or False"),
        ({"region_name": 5}, "region_name must be"),
        ({"transitive_tag_keys": "TenantId"}, "transitive_tag_keys must be a list"),
    ],
)
def test_bad_templates_and_keywords_fail_at_construction(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message) as raised:
        role(**kwargs)
    assert not isinstance(raised.value, TenantError)


def test_session_options_are_passed_on_as_given(tmp_path: Path) -> None:
    from lambda_assume_role import JSONFileCache, RefreshWindows

    cache = JSONFileCache(tmp_path / "cache")
    windows = RefreshWindows()
    params = role(cache=cache, refresh_windows=windows, region_name="eu-west-1").parameters("a1")
    assert params["cache"] is cache
    assert params["refresh_windows"] is windows
    assert params["region_name"] == "eu-west-1"


def test_unknown_keywords_and_sources_are_type_errors() -> None:
    with pytest.raises(TypeError, match="Duration"):
        role(Duration=900)
    with pytest.raises(TypeError, match="tenant must be a callable"):
        TenantRole(ROLE, tenant="acme")  # type: ignore[arg-type]


def test_a_policy_too_long_for_a_tenant_is_refused_naming_the_source() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "x", "Sid": "{tenant}"}
    policy = {"Version": "2012-10-17", "Statement": [statement] * 8}
    tenant_role = role(policy=policy, source_identity=False)
    tenant_role.parameters("a" * 100)
    with pytest.raises(TenantError, match="Policy must be at most 2048 characters") as raised:
        tenant_role.parameters("a" * 250)
    message = str(raised.value)
    assert message.startswith("tenant id from parameters() makes a request STS refuses")
    assert "aaaa" not in message  # the model quotes the start of the policy: cut


def test_a_placeholder_spelled_around_the_tenant_never_survives() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "x", "Resource": "{te{tenant}nt}"}]}
    tenant_role = role(policy=policy)
    assert "{tetenantnt}" in tenant_role.parameters("tenant")["Policy"]
    with pytest.raises(TenantError, match="left in Policy"):
        tenant_role.parameters("na")


def test_the_repr_shows_the_role_and_templates_and_no_tenant() -> None:
    tenant_role = role(policy=POLICY)
    tenant_role.parameters("acme")
    text = repr(tenant_role)
    assert text.startswith(f"TenantRole({ROLE!r}, tenant=authorizer_claim('custom:tenant_id'), ")
    assert "{tenant}" in text
    assert "acme" not in text
    assert "tenant=context.tenant_id" in repr(TenantRole(ROLE))


# --- Tenant sources ----------------------------------------------------------------------------


def test_context_tenant_id_is_read_at_each_call() -> None:
    context = lambda_context(tenant_id="acme")
    assert TenantRole(ROLE)({}, context)["SourceIdentity"] == "acme"
    context.tenant_id = "globex"
    assert TenantRole(ROLE)({}, context)["SourceIdentity"] == "globex"
    with pytest.raises(TenantError, match=r"tenant=authorizer_claim") as raised:
        context_tenant_id({}, lambda_context(tenant_id=None))
    assert raised.value.source == "context.tenant_id"
    assert "tenant isolation mode" in str(raised.value)


def test_context_tenant_id_looks_through_a_durable_context_to_its_lambda_context() -> None:
    # A durable function's handler gets a DurableContext carrying the Lambda context.
    durable = SimpleNamespace(lambda_context=lambda_context(tenant_id="acme"))
    assert context_tenant_id({}, durable) == "acme"
    assert TenantRole(ROLE)({}, durable)["SourceIdentity"] == "acme"
    with pytest.raises(TenantError, match=r"^context\.tenant_id is not set: the function is not"):
        context_tenant_id({}, SimpleNamespace(lambda_context=lambda_context()))
    with pytest.raises(TenantError, match=r"^context\.tenant_id is not set"):
        context_tenant_id({}, None)
    # Anything that is no Lambda context (no deadline) is read as it is.
    assert context_tenant_id({}, SimpleNamespace(tenant_id="acme")) == "acme"


def rest(authorizer: dict[str, Any]) -> dict[str, Any]:
    return {"resource": "/items", "requestContext": {"authorizer": authorizer}}


def http(authorizer: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "GET /items",
        "requestContext": {"authorizer": authorizer},
    }


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(rest({"claims": {CLAIM: "acme", "sub": "u"}}), id="rest-cognito"),
        pytest.param(rest({CLAIM: "acme", "principalId": "u"}), id="rest-lambda-authorizer"),
        pytest.param(http({"jwt": {"claims": {CLAIM: "acme"}, "scopes": None}}), id="http-jwt"),
        pytest.param(http({"lambda": {CLAIM: "acme"}}), id="http-lambda-authorizer"),
    ],
)
def test_authorizer_claim_reads_verified_claims_of_rest_and_http_apis(
    event: dict[str, Any],
) -> None:
    event["headers"] = {CLAIM: "globex"}
    assert authorizer_claim(CLAIM)(event, None) == "acme"


UNVERIFIED = {
    "headers": {CLAIM: "acme"},
    "multiValueHeaders": {CLAIM: ["acme"]},
    "queryStringParameters": {CLAIM: "acme"},
    "pathParameters": {CLAIM: "acme"},
    "stageVariables": {CLAIM: "acme"},
    "body": json.dumps({CLAIM: "acme"}),
    CLAIM: "acme",
}


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({**UNVERIFIED, "requestContext": {}}, id="no-authorizer"),
        pytest.param({**UNVERIFIED, **rest({"claims": {"sub": "u"}})}, id="rest-claim-missing"),
        pytest.param({**UNVERIFIED, **http({"jwt": {"claims": {}}})}, id="http-claim-missing"),
        # A v2 event is never read like a v1 one: the claim must be under jwt/lambda.
        pytest.param({**UNVERIFIED, **http({CLAIM: "acme"})}, id="http-wrong-place"),
        pytest.param(UNVERIFIED, id="direct-invoke"),
        pytest.param("not a mapping", id="string-event"),
    ],
)
def test_authorizer_claim_never_reads_unverified_fields(event: Any) -> None:
    with pytest.raises(TenantError) as raised:
        authorizer_claim(CLAIM)(event, None)
    assert raised.value.source == "authorizer_claim('custom:tenant_id')"


def test_authorizer_claim_names_where_it_looked() -> None:
    with pytest.raises(TenantError, match=re.escape("requestContext.authorizer.jwt.claims")):
        authorizer_claim(CLAIM)(http({"jwt": {"claims": {}}}), None)
    with pytest.raises(TypeError):
        authorizer_claim("")


def test_a_custom_source_is_named_in_errors() -> None:
    def tenant_from_path(event: Any, context: Any) -> Any:
        return event["tenant"]

    tenant_role = TenantRole(ROLE, tenant=tenant_from_path)
    with pytest.raises(TenantError, match=r"tenant id from .*tenant_from_path must be"):
        tenant_role({"tenant": "a*"}, None)


# --- Session names -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    tenant_id=st.text(alphabet="abcXYZ019_+=,.@-", min_size=1, max_size=256),
    identifier=st.text(max_size=40),
)
def test_tenant_session_names_are_valid_and_carry_tenant_and_environment(
    tenant_id: str, identifier: str
) -> None:
    name = tenant_session_name(tenant_id, identifier=identifier)
    assert ROLE_SESSION_NAME_PATTERN.fullmatch(name)
    tenant_part, _, environment = name.rpartition(".")
    assert len(environment) <= 16
    if len(tenant_id) < 64 - 1 - len(environment):
        assert tenant_part == tenant_id
    else:
        assert tenant_part.startswith(tenant_id[:20])


def test_long_tenant_ids_that_share_a_prefix_get_different_session_names() -> None:
    first = tenant_session_name("t" * 100 + "1", identifier="env")
    second = tenant_session_name("t" * 100 + "2", identifier="env")
    assert first != second
    assert len(first) == len(second) == 64


def test_tenant_session_name_uses_the_execution_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/02/[$LATEST]0123456789abcdef0123")
    assert tenant_session_name("acme") == "acme.0123456789abcdef"
    with pytest.raises(ValueError, match="tenant_id"):
        tenant_session_name("a b")
