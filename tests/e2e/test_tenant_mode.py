"""Lambda's tenant isolation mode under awslambdaric: context.tenant_id drives TenantRole."""

from __future__ import annotations

import textwrap
from pathlib import Path

from emulators.lambda_runtime import ACCOUNT_ID, LambdaFunction
from emulators.moto_server import MotoServer

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/TenantData"

APP = textwrap.dedent(
    """
    import os

    from lambda_assume_role import TenantRole, inject_session

    tenant_data = TenantRole(os.environ["ROLE_ARN"])  # tenant: context.tenant_id


    @inject_session(tenant_data)
    def handler(event, context, session):
        identity = session.client("sts").get_caller_identity()
        return {"tenant": context.tenant_id, "arn": identity["Arn"]}
    """
)


def test_the_runtime_api_tenant_header_reaches_tenant_role_through_context_tenant_id(
    moto_server: MotoServer, layer_dir: Path, runtime_dir: Path, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(APP)
    moto_server.requests.clear()
    function = LambdaFunction(
        code,
        layer_dir=layer_dir,
        runtime_dir=runtime_dir,
        endpoint_url=moto_server.endpoint_url,
        variables={"ROLE_ARN": ROLE_ARN},
        function_name="tenant-mode",
        log_path=tmp_path / "function.log",
    )
    with function:
        results = [function.api.invoke({}, tenant_id=t) for t in ("acme", "globex", "acme")]
        missing = function.api.invoke({})

    assert all(r.ok for r in results), function.logs()
    environment = function.environment_id[:16]
    assert [r.payload for r in results] == [
        {"tenant": t, "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/TenantData/{t}.{environment}"}
        for t in ("acme", "globex", "acme")
    ]
    calls = moto_server.requests.matching("AssumeRole")
    assert [c.params["SourceIdentity"] for c in calls] == ["acme", "globex"]
    assert [c.params["Tags.member.1.Value"] for c in calls] == ["acme", "globex"]

    assert not missing.ok
    assert missing.error is not None
    assert missing.error["errorType"] == "TenantError"
    assert "tenant isolation mode" in missing.error["errorMessage"]
    assert len(moto_server.requests.matching("AssumeRole")) == 2
