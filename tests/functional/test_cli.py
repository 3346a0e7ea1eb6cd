"""The lambda-assume-role command against moto: output formats, exit codes, no secrets in errors."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_assume_role.cli import main
from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import MotoServer, RequestLog

ROLE = "arn:aws:iam::111111111111:role/Cli"
PARENT_SECRET = "parent-secret-key-never-printed"


def test_json_output_is_credential_process_format(
    moto_server: MotoServer, requests_log: RequestLog, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["assume", ROLE, "--json", "--RoleSessionName", "cli", "--DurationSeconds", "900"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["Version"] == 1
    assert document["AccessKeyId"].startswith("ASIA")
    assert document["SecretAccessKey"]
    assert document["SessionToken"]
    expiration = datetime.datetime.strptime(document["Expiration"], "%Y-%m-%dT%H:%M:%S%z")
    assert expiration > datetime.datetime.now(datetime.timezone.utc)
    (call,) = requests_log.matching("AssumeRole")
    assert call.params["RoleSessionName"] == "cli"
    assert call.params["DurationSeconds"] == "900"


def test_env_output_is_the_default(
    moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assume", ROLE, "--RoleSessionName", "cli"]) == 0
    names = [line.split("=", 1)[0] for line in capsys.readouterr().out.splitlines()]
    assert names == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIALS_EXPIRATION",
    ]


def test_assume_role_options_reach_sts(
    moto_server: MotoServer, requests_log: RequestLog, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "assume",
            ROLE,
            "--RoleSessionName=opts",
            "--Policy",
            '{"Version": "2012-10-17", "Statement": []}',
            "--PolicyArns",
            "arn:aws:iam::aws:policy/A,arn:aws:iam::aws:policy/B",
            "--Tags",
            "team=data,env=prod",
            "--TransitiveTagKeys",
            "team",
            "--ExternalId",
            "ext",
            "--SourceIdentity",
            "alice",
        ]
    )
    assert code == 0
    (call,) = requests_log.matching("AssumeRole")
    assert json.loads(call.params["Policy"]) == {"Version": "2012-10-17", "Statement": []}
    assert call.params["PolicyArns.member.2.arn"] == "arn:aws:iam::aws:policy/B"
    assert call.params["Tags.member.1.Key"] == "team"
    assert call.params["Tags.member.2.Value"] == "prod"
    assert call.params["TransitiveTagKeys.member.1"] == "team"
    assert call.params["ExternalId"] == "ext"
    assert call.params["SourceIdentity"] == "alice"


def test_missing_credentials_exit_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["assume", ROLE]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "unable to locate credentials" in captured.err


def test_unknown_profile_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assume", ROLE, "--profile", "nope"]) == 3
    assert "nope" in capsys.readouterr().err


def test_bad_role_arn_exit_2_naming_the_rule(
    moto_server: MotoServer, requests_log: RequestLog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assume", "arn:aws:iam::12:role/X"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "RoleArn must look like" in err
    assert requests_log.all() == []


def test_sts_refusal_exit_4_without_traceback_or_secret(
    fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    fault_proxy.deny("AssumeRole", "AccessDenied", "User is not authorized to perform AssumeRole")
    assert main(["assume", ROLE, "--json"]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert ROLE in captured.err
    assert "AccessDenied" in captured.err
    assert "Traceback" not in captured.err
    assert PARENT_SECRET not in captured.err


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "lambda_assume_role"],
        [str(Path(sys.executable).with_name("lambda-assume-role"))],
    ],
    ids=["python-m", "console-script"],
)
def test_entry_points_run_as_subprocesses(moto_server: MotoServer, command: list[str]) -> None:
    result = subprocess.run(
        [*command, "assume", ROLE, "--json", "--RoleSessionName", "subprocess"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1


def test_build_layer_prints_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "layer.zip"
    assert main(["build-layer", "--output", str(output), "--slim"]) == 0
    assert output.is_file()
    assert "zipped" in capsys.readouterr().out
