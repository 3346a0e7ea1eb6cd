"""TenantRole against moto over HTTP: what each tenant's AssumeRole carries, caching, refusals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from emulators.fault_proxy import FaultProxy
from emulators.moto_server import RecordedRequest, RequestLog
from lambda_assume_role import (
    AssumeRoleError,
    AssumeRoleTimeoutError,
    InvalidParameterError,
    SessionRegistry,
    TenantError,
    TenantRole,
    authorizer_claim,
    inject_client,
    inject_session,
)
from tests.support.contexts import lambda_context
from tests.support.preparations import count_preparations
from tests.support.threads import run_together

ROLE = "arn:aws:iam::123456789012:role/TenantData"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::tenant-data/{tenant}/*",
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/TenantId": "${aws:PrincipalTag/TenantId}"}
            },
        }
    ],
}
CLAIM = "custom:tenant_id"


def rest_event(tenant_id: Any) -> dict[str, Any]:
    """A REST API event through a Cognito user pool authorizer."""
    return {
        "resource": "/items",
        "headers": {CLAIM: "globex"},
        "requestContext": {"authorizer": {"claims": {CLAIM: tenant_id, "sub": "u-1"}}},
    }


@pytest.fixture
def registry(parent: boto3.Session) -> SessionRegistry:
    return SessionRegistry(parent, maxsize=16)


@pytest.fixture
def tenant_data() -> TenantRole:
    return TenantRole(ROLE, tenant=authorizer_claim(CLAIM), policy=POLICY, DurationSeconds=900)


def caller_handler(role: TenantRole, registry: SessionRegistry) -> Any:
    @inject_client("sts", role, registry=registry)
    def handler(event: Any, context: Any, sts: Any) -> str:
        arn: str = sts.get_caller_identity()["Arn"]
        return arn

    return handler


def assume_role_calls(log: RequestLog) -> list[RecordedRequest]:
    return log.matching("AssumeRole")


def test_each_tenant_request_carries_its_tags_source_identity_and_rendered_policy(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    handler = caller_handler(tenant_data, registry)
    for tenant_id in ("acme", "globex"):
        handler(rest_event(tenant_id), lambda_context())

    calls = assume_role_calls(requests_log)
    assert len(calls) == 2
    for call, tenant_id in zip(calls, ("acme", "globex"), strict=True):
        params = call.params
        assert params["RoleArn"] == ROLE
        assert params["Tags.member.1.Key"] == "TenantId"
        assert params["Tags.member.1.Value"] == tenant_id
        assert "Tags.member.2.Key" not in params
        assert params["SourceIdentity"] == tenant_id
        assert params["RoleSessionName"].startswith(f"{tenant_id}.")
        assert params["DurationSeconds"] == "900"
        statement = json.loads(params["Policy"])["Statement"][0]
        assert statement["Resource"] == f"arn:aws:s3:::tenant-data/{tenant_id}/*"
        # IAM's own policy variables reach STS untouched.
        condition = statement["Condition"]["StringEquals"]
        assert condition == {"aws:PrincipalTag/TenantId": "${aws:PrincipalTag/TenantId}"}


def test_warm_calls_make_no_new_assume_role_and_two_tenants_get_two_identities(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    handler = caller_handler(tenant_data, registry)
    acme = {handler(rest_event("acme"), lambda_context()) for _ in range(5)}
    globex = {handler(rest_event("globex"), lambda_context()) for _ in range(5)}

    assert requests_log.count("AssumeRole") == 2
    assert requests_log.count("GetCallerIdentity") == 10
    assert len(registry) == 2
    ((acme_arn,), (globex_arn,)) = (acme, globex)
    assert acme_arn.startswith("arn:aws:sts::123456789012:assumed-role/TenantData/acme.")
    assert globex_arn.startswith("arn:aws:sts::123456789012:assumed-role/TenantData/globex.")
    # Each tenant signed with its own credentials.
    keys = {r.access_key for r in requests_log.matching("GetCallerIdentity")}
    assert len(keys) == 2


class CountingRegistry(SessionRegistry):
    """A registry that counts the roles it is asked to prepare."""

    prepared = 0

    def prepare(self, RoleArn: str, **assume_role_kwargs: Any) -> Any:
        self.prepared += 1
        return super().prepare(RoleArn, **assume_role_kwargs)


def test_a_warm_tenant_is_neither_rendered_nor_prepared_again(
    parent: boto3.Session, tenant_data: TenantRole, requests_log: RequestLog
) -> None:
    registry = CountingRegistry(parent, maxsize=16)
    other = CountingRegistry(parent, maxsize=16)
    clients = {
        tenant_id: [
            inject_client("s3", tenant_data, registry=reg)(lambda event, context, s3: s3)(
                rest_event(tenant_id), lambda_context()
            )
            for reg in (registry, other, registry, other, registry)
        ]
        for tenant_id in ("acme", "globex")
    }

    # One preparation per tenant per registry; then lookups of the same client.
    assert (registry.prepared, other.prepared) == (2, 2)
    for mine in clients.values():
        assert mine[0] is mine[2] is mine[4]
        assert mine[1] is mine[3]
        assert mine[0] is not mine[1]
    assert clients["acme"][0] is not clients["globex"][0]
    assert requests_log.count("AssumeRole") == 0  # credentials stay lazy


def test_a_new_tenant_is_validated_once_and_a_warm_tenant_never(
    tenant_data: TenantRole, registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = inject_client("s3", tenant_data, registry=registry)(lambda event, context, s3: s3)
    validations = count_preparations(monkeypatch)

    handler(rest_event("acme"), lambda_context())
    assert validations == [ROLE]  # by the registry's front door, not again by TenantRole
    for _ in range(3):
        handler(rest_event("acme"), lambda_context())
    assert validations == [ROLE]
    handler(rest_event("globex"), lambda_context())
    assert validations == [ROLE, ROLE]
    # The request the front door accepted is the one parameters() hands out: no new check.
    assert tenant_data.parameters("acme")["SourceIdentity"] == "acme"
    assert validations == [ROLE, ROLE]


def test_parameters_validates_a_new_tenant_once_and_a_warm_tenant_never(
    tenant_data: TenantRole, monkeypatch: pytest.MonkeyPatch
) -> None:
    validations = count_preparations(monkeypatch)
    for _ in range(3):
        tenant_data.parameters("acme")
        tenant_data(rest_event("acme"), lambda_context())
    assert validations == [ROLE]


def test_with_validate_false_a_tenant_is_still_validated_once_by_tenant_role(
    registry: SessionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), validate=False)
    handler = inject_client("s3", role, registry=registry)(lambda event, context, s3: s3)
    preparations = count_preparations(monkeypatch)
    for _ in range(3):
        handler(rest_event("acme"), lambda_context())
    # One validation by TenantRole, and one preparation by the front door that only
    # normalises and keys (validate=False); a warm tenant neither.
    assert preparations == [ROLE, ROLE]
    with pytest.raises(TenantError, match=r"Tags\[0\]\.Value must match"):
        handler(rest_event("a,b"), lambda_context())
    assert len(registry) == 1


def test_a_chaining_cap_the_registry_adds_is_not_blamed_on_the_tenant(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    from lambda_assume_role import assume_role, get_role_arn

    chained = SessionRegistry(assume_role(parent, get_role_arn("999999999999", "Hop")))
    role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM), DurationSeconds=7200)
    handler = inject_client("sts", role, registry=chained)(lambda event, context, sts: sts)

    with pytest.raises(InvalidParameterError, match="role chaining") as raised:
        handler(rest_event("acme"), lambda_context())
    assert not isinstance(raised.value, TenantError)
    assert len(chained) == 0
    assert requests_log.count("AssumeRole") == 0


def test_a_decorators_own_keywords_reach_every_tenants_request(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    role = TenantRole(ROLE, tenant=authorizer_claim(CLAIM))

    @inject_client("sts", role, registry=registry, DurationSeconds=1800)
    def handler(event: Any, context: Any, sts: Any) -> str:
        arn: str = sts.get_caller_identity()["Arn"]
        return arn

    for tenant_id in ("acme", "globex", "acme"):
        handler(rest_event(tenant_id), lambda_context())

    calls = assume_role_calls(requests_log)
    assert [call.params["DurationSeconds"] for call in calls] == ["1800", "1800"]
    assert [call.params["SourceIdentity"] for call in calls] == ["acme", "globex"]


INJECTIONS = [
    pytest.param('acme","Resource":"*', id="json-breakout"),
    pytest.param("acme'", id="single-quote"),
    pytest.param("{tenant}", id="braces"),
    pytest.param("*", id="star"),
    pytest.param("acme/../globex", id="slash"),
    pytest.param("acme\\globex", id="backslash"),
    pytest.param("acme globex", id="space"),
    pytest.param("acme\nglobex", id="newline"),
    pytest.param("a" * 300, id="300-characters"),
    pytest.param("", id="empty"),
    pytest.param(42, id="not-a-string"),
    pytest.param(None, id="none"),
    pytest.param(["acme"], id="a-list"),
]


@pytest.mark.parametrize("tenant_id", INJECTIONS)
def test_injection_attempts_are_refused_before_any_request_with_nothing_cached(
    tenant_data: TenantRole,
    registry: SessionRegistry,
    requests_log: RequestLog,
    tenant_id: Any,
) -> None:
    handler = caller_handler(tenant_data, registry)

    with pytest.raises(TenantError) as raised:
        handler(rest_event(tenant_id), lambda_context())

    message = str(raised.value)
    assert "authorizer_claim('custom:tenant_id')" in message
    assert "[A-Za-z0-9_+=,.@-]" in message
    if isinstance(tenant_id, str) and len(tenant_id) > 1:
        assert tenant_id not in message
    assert raised.value.source == "authorizer_claim('custom:tenant_id')"
    assert isinstance(raised.value, InvalidParameterError)
    assert requests_log.all() == []
    assert len(registry) == 0
    assert tenant_data.parameters("acme")["SourceIdentity"] == "acme"  # still usable


def test_an_id_sts_refuses_where_it_lands_is_refused_naming_the_source(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    handler = caller_handler(tenant_data, registry)
    # A comma is fine in a session name but not in a tag value; one character
    # is too short for SourceIdentity.
    for tenant_id, rule in (("a,b", r"Tags\[0\]\.Value must match"), ("a", "SourceIdentity")):
        with pytest.raises(TenantError, match=rule) as raised:
            handler(rest_event(tenant_id), lambda_context())
        message = str(raised.value)
        assert message.startswith(
            "tenant id from authorizer_claim('custom:tenant_id') makes a request STS refuses"
        )
        assert f"'{tenant_id}'" not in message  # the model quotes the value: never shown
    assert requests_log.all() == []
    assert len(registry) == 0


def test_context_tenant_id_is_the_default_source_and_missing_it_is_a_clear_error(
    registry: SessionRegistry, requests_log: RequestLog
) -> None:
    @inject_session(TenantRole(ROLE), registry=registry)
    def handler(event: Any, context: Any, session: boto3.Session) -> str:
        arn: str = session.client("sts").get_caller_identity()["Arn"]
        return arn

    assert "/TenantData/acme." in handler({}, lambda_context(tenant_id="acme"))
    (call,) = assume_role_calls(requests_log)
    assert call.params["SourceIdentity"] == "acme"

    with pytest.raises(TenantError, match="not running in Lambda's tenant isolation mode"):
        handler({}, lambda_context())
    assert requests_log.count("AssumeRole") == 1


def test_through_the_session_registry_one_session_per_tenant(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    acme = registry.session(**tenant_data.parameters("acme"))
    assert registry.session(**tenant_data.parameters("acme")) is acme
    globex = registry.session(**tenant_data.parameters("globex"))
    assert globex is not acme
    arns = {s.client("sts").get_caller_identity()["Arn"] for s in (acme, globex)}
    assert len(arns) == 2
    assert requests_log.count("AssumeRole") == 2


def test_many_tenants_never_exceed_the_registry_bound_and_evicted_clients_are_closed(
    parent: boto3.Session, tenant_data: TenantRole
) -> None:
    registry = SessionRegistry(parent, maxsize=3)
    handler = inject_client("sts", tenant_data, registry=registry)(lambda event, context, sts: sts)
    closed: list[str] = []
    for n in range(8):
        client = handler(rest_event(f"tenant{n}"), lambda_context())
        original = client.close

        def close(n: int = n, original: Any = original) -> None:
            closed.append(f"tenant{n}")
            original()

        client.close = close
        assert len(registry) <= 3
    assert closed == [f"tenant{n}" for n in range(5)]


def test_packed_policy_too_large_names_the_tenant_and_quotes_the_percentage(
    fault_proxy: FaultProxy, tenant_data: TenantRole
) -> None:
    fault_proxy.respond(
        "AssumeRole",
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        "<Type>Sender</Type><Code>PackedPolicyTooLarge</Code><Message>Packed policy "
        "consumes 112% of allotted space, please use smaller policy for this session"
        "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
        status=400,
    )
    handler = caller_handler(tenant_data, SessionRegistry(boto3.Session()))

    with pytest.raises(AssumeRoleError) as raised:
        handler(rest_event("acme"), lambda_context())

    error = raised.value
    assert error.error_code == "PackedPolicyTooLarge"
    assert error.source_identity == "acme"
    assert error.role_session_name is not None
    assert error.role_session_name.startswith("acme.")
    assert "source identity acme" in str(error)
    assert "112% of STS's packed-size limit" in str(error)
    assert fault_proxy.faulted("AssumeRole") == 1


def test_threads_racing_one_new_tenants_first_use_share_one_client_and_one_assume_role(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    seen: list[tuple[Any, str]] = []
    lock = threading.Lock()

    @inject_client("sts", tenant_data, registry=registry)
    def handler(event: Any, context: Any, sts: Any) -> None:
        arn: str = sts.get_caller_identity()["Arn"]
        with lock:
            seen.append((sts, arn))

    assert run_together(handler, [(rest_event("acme"), lambda_context())] * 16) == []
    assert len({id(client) for client, _ in seen}) == 1
    assert len({arn for _, arn in seen}) == 1
    assert requests_log.count("AssumeRole") == 1
    assert len(registry) == 1


def test_a_new_tenant_near_the_lambda_deadline_fails_naming_the_role_without_calling_sts(
    tenant_data: TenantRole, registry: SessionRegistry, requests_log: RequestLog
) -> None:
    handler = caller_handler(tenant_data, registry)

    # Too little time left to start an AssumeRole call (the context's clock stands still).
    with pytest.raises(AssumeRoleTimeoutError, match="not attempted") as raised:
        handler(rest_event("acme"), lambda_context(0.5))

    assert ROLE in str(raised.value)
    assert requests_log.count("AssumeRole") == 0


# --- What moto's IAM authorization mode enforces ------------------------------------------------

TENANTS = ("acme", "globex")


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def authorizing_moto() -> Iterator[tuple[str, dict[str, str]]]:
    """A moto server of its own, in another process, with IAM authorization switched on.

    The switch is process-wide in moto, so it never touches the shared server.
    Yields its endpoint and the access key of the IAM user that assumes the role.
    """
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        admin = boto3.Session(
            aws_access_key_id="AKIAADMIN", aws_secret_access_key="x", region_name="us-east-1"
        )
        iam = admin.client("iam", endpoint_url=url)
        iam.create_user(UserName="vendor")
        key = iam.create_access_key(UserName="vendor")["AccessKey"]
        iam.put_user_policy(
            UserName="vendor",
            PolicyName="assume",
            PolicyDocument=document(
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}
            ),
        )
        iam.create_role(
            RoleName="TenantData",
            AssumeRolePolicyDocument=document(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:user/vendor"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {"StringEquals": {"sts:ExternalId": "vendor-ext"}},
                }
            ),
        )
        # In AWS this allows no session (none is tagged "nobody"); moto ignores the condition.
        iam.put_role_policy(
            RoleName="TenantData",
            PolicyName="tenant-objects",
            PolicyDocument=document(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::tenant-data/*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/TenantId": "nobody"}},
                }
            ),
        )
        s3 = admin.client("s3", endpoint_url=url)
        for bucket in ("tenant-data", "other"):
            s3.create_bucket(Bucket=bucket)
        for tenant_id in TENANTS:
            s3.put_object(Bucket="tenant-data", Key=f"{tenant_id}/item", Body=tenant_id.encode())
        s3.put_object(Bucket="other", Key="item", Body=b"other")
        request = urllib.request.Request(
            f"{url}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        urllib.request.urlopen(request, timeout=5).close()
        yield url, {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        proc.terminate()
        proc.wait(10)


def test_moto_iam_authorization_covers_the_trust_policy_and_the_roles_own_policy_only(
    authorizing_moto: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What moto 5.2's IAM authorization mode evaluates for a tenant session.

    Enforced: the trust policy's principal and a present ``sts:ExternalId``,
    and the role's identity policies (action and S3 resource). Not evaluated:
    session policies, ``aws:PrincipalTag`` conditions (a condition on a key it
    has no value for passes), a missing ``ExternalId``, ``sts:TagSession``.
    So tenant isolation itself cannot be shown on moto; the requests that
    carry it are checked above.
    """
    from botocore.exceptions import ClientError

    url, key = authorizing_moto
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    vendor = boto3.Session(
        aws_access_key_id=key["id"], aws_secret_access_key=key["secret"], region_name="us-east-1"
    )
    registry = SessionRegistry(vendor)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::tenant-data/{tenant}/*",
            }
        ],
    }
    role = TenantRole(ROLE, policy=policy, ExternalId="vendor-ext")
    s3 = registry.client(service_name="s3", **role.parameters("acme"))

    def get(bucket: str, key: str) -> bytes | str:
        try:
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return body

    assert get("tenant-data", "acme/item") == b"acme"
    # The role's own policy is enforced: outside its resources, denied.
    assert get("other", "item") == "AccessDenied"
    # Not enforced by moto (AWS denies both): the session policy limits acme
    # to its prefix, and the role's policy needs aws:PrincipalTag/TenantId ==
    # "nobody". If this starts failing, moto evaluates them: test isolation here.
    assert get("tenant-data", "globex/item") == b"globex"

    wrong = TenantRole(ROLE, ExternalId="not-the-vendor")
    wrong_s3 = registry.client(service_name="s3", **wrong.parameters("acme"))
    with pytest.raises(AssumeRoleError, match="AccessDenied"):
        wrong_s3.get_object(Bucket="tenant-data", Key="acme/item")
