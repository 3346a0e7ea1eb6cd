"""The lambda-assume-role command against moto: output formats, exit codes, no secrets in errors."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from emulators.fault_proxy import FaultProxy, cut_after
from emulators.moto_server import MotoServer, RequestLog
from lambda_assume_role.parameters import ASSUME_ROLE_KEYWORDS, ASSUME_ROLE_PARAMETERS
from lambda_assume_role_tools.cli import build_parser, main, option_for, redact
from lambda_assume_role_tools.layer import SUPPORTED_RUNTIMES, find_interpreter

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


def test_env_output_is_the_default_and_uses_the_names_the_sdks_read(
    moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assume", ROLE, "--RoleSessionName", "cli"]) == 0
    lines = capsys.readouterr().out.splitlines()
    words = [shlex.split(line) for line in lines]
    assert [w[0] for w in words] == ["export"] * 4
    assert [w[1].split("=", 1)[0] for w in words] == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ]
    assert all(len(w) == 2 for w in words)


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


# -- build-layer ---------------------------------------------------------------------------


def _pyenv_with(tmp_path: Path, runtimes: Sequence[str]) -> dict[str, str]:
    """An environment whose only interpreters are *runtimes*, in a pyenv root of links.

    PATH holds no python3.X and PYENV_ROOT names a folder of ``versions/3.X.0/bin/python3.X``
    links to the real interpreters: the build finds exactly these.
    """
    root = tmp_path / "pyenv"
    (tmp_path / "empty-bin").mkdir()
    for runtime in runtimes:
        interpreter = find_interpreter(runtime)
        if interpreter is None:
            pytest.skip(f"no {runtime} interpreter here")
        version = runtime.removeprefix("python")
        link = root / "versions" / f"{version}.0" / "bin" / runtime
        link.parent.mkdir(parents=True)
        link.symlink_to(interpreter.executable)
    return {**os.environ, "PATH": str(tmp_path / "empty-bin"), "PYENV_ROOT": str(root)}


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "lambda_assume_role"],
        [str(Path(sys.executable).with_name("lambda-assume-role"))],
    ],
    ids=["python-m", "console-script"],
)
def test_build_layer_declares_exactly_the_runtimes_it_compiled_for(
    tmp_path: Path, command: list[str]
) -> None:
    env = _pyenv_with(tmp_path, ["python3.13"])
    output = tmp_path / "layer.zip"
    result = _run([*command, "build-layer", "--slim", "--output", str(output)], env)
    assert result.returncode == 0, result.stderr
    # Each supported runtime left out is one notice; the build goes on.
    assert result.stderr.splitlines() == [
        f"lambda-assume-role: notice: {runtime}: no interpreter found on PATH or under pyenv; "
        "the layer is declared for python3.13"
        for runtime in SUPPORTED_RUNTIMES
        if runtime != "python3.13"
    ]
    summary, publish = result.stdout.splitlines()
    assert summary.startswith("layer.zip: ")
    assert summary.endswith(" (slim); bytecode for python3.13")
    assert publish == (
        "publish it with: aws lambda publish-layer-version --layer-name lambda-assume-role "
        f"--zip-file fileb://{output.as_posix()} --compatible-runtimes python3.13 "
        "--compatible-architectures x86_64 arm64"
    )
    with zipfile.ZipFile(output) as archive:
        compiled = {n.rsplit(".", 2)[1] for n in archive.namelist() if n.endswith(".pyc")}
    assert compiled == {"cpython-313"}


def test_build_layer_directory_for_a_named_runtime(tmp_path: Path) -> None:
    env = _pyenv_with(tmp_path, ["python3.12", "python3.13"])
    output = tmp_path / "artifacts"
    result = _run(
        [*CLI, "build-layer", "--directory", "--runtime", "python3.12", "--output", str(output)],
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("; bytecode for python3.12\n")
    assert result.stdout.count("\n") == 1, "no publish command for a folder"
    package = output / "python" / "lambda_assume_role"
    assert (package / "__pycache__" / "assume.cpython-312.pyc").is_file()
    assert not list(package.glob("__pycache__/*.cpython-313.pyc"))


@pytest.mark.parametrize(
    ("runtime", "named"),
    [
        ("python3.13", "python3.13: no interpreter found on PATH or under pyenv"),
        ("python3.11", "runtime 'python3.11' is not supported"),
    ],
)
def test_build_layer_runtime_without_interpreter_is_one_line_exit_2(
    tmp_path: Path, runtime: str, named: str
) -> None:
    env = _pyenv_with(tmp_path, [])
    output = tmp_path / "layer.zip"
    result = _run([*CLI, "build-layer", "--runtime", runtime, "--output", str(output)], env)
    assert named in _assert_one_line_error(result, 2)
    assert not output.exists()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (
            ["--directory", "--output", "layer.zip"],
            "--output layer.zip ends in .zip, but --directory",
        ),
        (["--directory", "--output", "LAYER.ZIP"], "--output LAYER.ZIP ends in .zip"),
        (["--output", "."], "--output . is a folder, but without --directory"),
    ],
    ids=["directory-named-zip", "directory-named-zip-upper-case", "zip-named-folder"],
)
def test_build_layer_output_that_does_not_fit_the_form_is_exit_2_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    named: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build-layer", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"lambda-assume-role: {named}")
    assert captured.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [], "nothing written"


def test_build_layer_runtimes_given_as_a_list_say_to_repeat_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["build-layer", "--runtime", "python3.12", "python3.13"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: python3.13" in err
    assert "repeat it for each (--runtime python3.12 --runtime python3.13)" in err


# -- the option table -------------------------------------------------------------------


def test_every_assume_role_parameter_is_an_option_and_every_option_a_parameter() -> None:
    parser = build_parser()
    given = vars(parser.parse_args(["assume", ROLE]))
    assert set(given) - {"command", "profile", "format", "RoleArn"} == set(ASSUME_ROLE_KEYWORDS)
    for parameter in ASSUME_ROLE_PARAMETERS:
        option = option_for(parameter)
        # The spellings of aws-assume-role-lib's CLI: the keyword, dashes for snake_case.
        assert option == "--" + parameter.name.replace("_", "-")
        assert getattr(parser.parse_args(["assume", ROLE, option, "x"]), parameter.name) == "x"


def test_additional_kwargs_reach_sts(
    moto_server: MotoServer, requests_log: RequestLog, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["assume", ROLE, "--additional-kwargs", '{"ExternalId": "from-kwargs"}'])
    assert code == 0
    (call,) = requests_log.matching("AssumeRole")
    assert call.params["ExternalId"] == "from-kwargs"


# -- subprocesses: one line, never a traceback -------------------------------------------

CLI = [sys.executable, "-m", "lambda_assume_role"]


def _run(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    *,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with stdin at EOF, in its own session (so no controlling terminal).

    On timeout the whole process group is killed, so a runaway chain of
    credential_process children cannot outlive the test.
    """
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ) if env is None else env,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{' '.join(command)} still running after {timeout} s")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # any leftover children
    return subprocess.CompletedProcess(list(command), process.returncode, out, err)


def _assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("lambda-assume-role: ")
    assert PARENT_SECRET not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--Tags", "5"], "--Tags must be a list"),
        (["--PolicyArns", "123"], "--PolicyArns must be a list"),
        (["--Policy", "[" * 100_000], "--Policy"),
        (["--Policy", "[1]"], "--Policy must be a JSON object"),
        (["--DurationSeconds", "soon"], "--DurationSeconds"),
        (["--Tags", "team"], "--Tags"),
        (["--additional-kwargs", "abc"], "--additional-kwargs"),
        (["--DurationSeconds", "60"], "DurationSeconds"),
        (["--Bogus", "1"], "--Bogus"),
        (["--SerialNumber", "arn:aws:iam::111111111111:mfa/user"], "--TokenCode"),
    ],
    ids=[
        "tags-number",
        "policy-arns-number",
        "policy-nested-too-deeply",
        "policy-not-an-object",
        "duration-not-a-number",
        "tag-without-equals",
        "additional-kwargs-not-json",
        "duration-out-of-range",
        "unknown-option",
        "mfa-code-with-stdin-at-eof",
    ],
)
def test_bad_argument_is_one_line_exit_2_before_any_request(
    moto_server: MotoServer, requests_log: RequestLog, arguments: list[str], named: str
) -> None:
    err = _assert_one_line_error(_run([*CLI, "assume", ROLE, *arguments]), 2)
    assert named in err
    assert requests_log.matching("AssumeRole") == []


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("AWS_MAX_ATTEMPTS", "abc", "AWS_MAX_ATTEMPTS"),
        ("AWS_ENDPOINT_URL", "http://[::1", "invalid AWS configuration"),
        ("AWS_ENDPOINT_URL", "not-a-url", "not-a-url"),
        ("AWS_RETRY_MODE", "bogus", "bogus"),
    ],
    ids=["max-attempts", "endpoint-bad-ipv6", "endpoint-not-a-url", "retry-mode"],
)
def test_bad_aws_configuration_is_one_line_exit_2(
    moto_server: MotoServer, requests_log: RequestLog, variable: str, value: str, named: str
) -> None:
    env = {**os.environ, variable: value}
    err = _assert_one_line_error(_run([*CLI, "assume", ROLE, "--json"], env), 2)
    assert named in err
    assert requests_log.matching("AssumeRole") == []


def test_closed_stdout_is_one_line_without_traceback(moto_server: MotoServer) -> None:
    process = subprocess.Popen(
        [*CLI, "assume", ROLE, "--RoleSessionName", "pipe"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    err = process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 1
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert err.count("\n") == 1, err
    assert "stdout was closed" in err


# Starts Python with SIGINT ignored, as a background job of a non-interactive shell
# (`make test &`) starts every process: Python then installs no KeyboardInterrupt handler.
_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


@pytest.mark.parametrize(
    "python",
    [[sys.executable], [sys.executable, "-c", _SIGINT_IGNORED]],
    ids=["sigint-default", "sigint-ignored-at-start"],
)
def test_interrupt_during_assume_role_is_one_line_exit_130(
    fault_proxy: FaultProxy, python: list[str]
) -> None:
    # The CLI takes SIGINT itself: started with it ignored, it used to sit out the
    # signal and STS's read timeouts (3 attempts of 5 s), then exit 4.
    fault_proxy.fail("AssumeRole", "hang")
    process = subprocess.Popen(
        [*python, "-m", "lambda_assume_role", "assume", ROLE, "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert fault_proxy.wait_hanging(timeout=60)
        assert process.poll() is None, "the CLI gave up on STS before it was interrupted"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert out == ""
    assert err == "lambda-assume-role: interrupted\n"


def test_a_cut_short_sts_answer_is_exit_4_without_the_new_secret(
    fault_proxy: FaultProxy,
) -> None:
    answers: list[bytes] = []
    cut = cut_after("</SessionToken>")

    def keep_and_cut(body: bytes) -> bytes:
        answers.append(body)
        return cut(body)

    fault_proxy.rewrite("AssumeRole", keep_and_cut, status=200)
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}
    err = _assert_one_line_error(_run([*CLI, "assume", ROLE, "--json"], env), 4)
    assert ROLE in err
    assert answers
    for answer in answers:
        for element in ("SecretAccessKey", "SessionToken"):
            secret = answer.decode().split(f"<{element}>")[1].split("<")[0]
            assert secret
            assert secret not in err


def test_redact_removes_keys_in_xml_json_and_env_forms() -> None:
    text = (
        "<SecretAccessKey>wJalr/K7MDENG+bPxRfiCY</SecretAccessKey> <SessionToken>FwoGZX"
        ' {"SessionToken": "IQoJb3JpZ2lu"} aws_secret_access_key = abc/def'
    )
    cleaned = redact(text)
    for secret in ("wJalr/K7MDENG+bPxRfiCY", "FwoGZX", "IQoJb3JpZ2lu", "abc/def"):
        assert secret not in cleaned
    assert "<SecretAccessKey>" in cleaned


# -- credential_process ------------------------------------------------------------------


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment with only the given config file: no keys in the environment."""
    (tmp_path / "aws-config").write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "aws-credentials")
    return env


_ENV_KEYS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"}


def _process_line(runs: Path, *arguments: str) -> str:
    """A credential_process that counts its runs, then runs our command."""
    command = shlex.join([*CLI, "assume", *arguments])
    return "sh -c " + shlex.quote(f"echo run >> {shlex.quote(str(runs))}; exec {command}")


def test_credential_process_calling_itself_stops_with_one_line(
    moto_server: MotoServer, requests_log: RequestLog, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    line = _process_line(runs, ROLE, "--json")
    env = _config(tmp_path, f"[profile looping]\ncredential_process = {line}\n")
    env["AWS_PROFILE"] = "looping"

    # A configuration error (exit 2, as the README's table says), passed on from the
    # credential_process child that found the loop: not "no credentials" (3).
    err = _assert_one_line_error(_run([*CLI, "assume", ROLE, "--json"], env), 2)
    assert err.startswith("lambda-assume-role: credential_process calls itself: ")
    assert "profile 'looping' runs lambda-assume-role without --profile" in err
    assert "Add --profile <source profile>" in err
    assert runs.read_text().count("run") == 1
    assert requests_log.matching("AssumeRole") == []


def test_credential_process_naming_its_own_profile_says_to_change_it(
    moto_server: MotoServer, requests_log: RequestLog, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    line = _process_line(runs, ROLE, "--json", "--profile", "self")
    env = _config(tmp_path, f"[profile self]\ncredential_process = {line}\n")

    result = _run([*CLI, "assume", ROLE, "--json", "--profile", "self"], env)
    err = _assert_one_line_error(result, 2)
    assert "profile 'self' runs lambda-assume-role with --profile self, the profile itself" in err
    assert "Change that --profile to a profile with its own credentials" in err
    assert "Add --profile" not in err
    assert runs.read_text().count("run") == 1
    assert requests_log.matching("AssumeRole") == []


def test_credential_process_calling_itself_fails_an_sdk_caller_instead_of_hanging(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    line = _process_line(runs, ROLE, "--json")
    env = _config(tmp_path, f"[profile looping]\ncredential_process = {line}\n")
    env["AWS_PROFILE"] = "looping"
    script = "import boto3; boto3.client('sts').get_caller_identity()"

    result = _run([sys.executable, "-c", script], env)
    assert result.returncode != 0
    assert "calls itself" in result.stderr
    assert runs.read_text().count("run") == 2  # the SDK's child, and the child's child


def test_credential_process_chain_of_two_profiles_works(
    moto_server: MotoServer, requests_log: RequestLog, tmp_path: Path
) -> None:
    inner = "arn:aws:iam::111111111111:role/Inner"
    line = _process_line(tmp_path / "runs", inner, "--json", "--profile", "source")
    env = _config(tmp_path, f"[profile chained]\ncredential_process = {line}\n")
    (tmp_path / "aws-credentials").write_text(
        "[source]\naws_access_key_id = AKIASOURCE0000000000\n"
        "aws_secret_access_key = source-secret-never-printed\n"
    )
    env["AWS_PROFILE"] = "chained"

    result = _run([*CLI, "assume", ROLE, "--json", "--RoleSessionName", "outer"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIA")
    first, second = requests_log.matching("AssumeRole")
    assert (first.params["RoleArn"], first.access_key) == (inner, "AKIASOURCE0000000000")
    assert second.params["RoleArn"] == ROLE
    assert second.access_key.startswith("ASIA")


# -- the shell idiom ---------------------------------------------------------------------


def test_eval_exports_the_credentials_and_their_expiry(moto_server: MotoServer) -> None:
    script = (
        'eval "$("$@")" || exit 9\n'
        "exec python -c 'import boto3, json, os; print(json.dumps({"
        '"arn": boto3.client("sts").get_caller_identity()["Arn"], '
        '"expiration": os.environ["AWS_CREDENTIAL_EXPIRATION"], '
        '"key": os.environ["AWS_ACCESS_KEY_ID"]}))\'\n'
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = _run(
        ["bash", "-c", script, "bash", *CLI, "assume", ROLE, "--RoleSessionName", "evaluated"], env
    )
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert exported["arn"].endswith("assumed-role/Cli/evaluated")
    assert exported["key"].startswith("ASIA")
    expiration = datetime.datetime.strptime(exported["expiration"], "%Y-%m-%dT%H:%M:%S%z")
    assert expiration > datetime.datetime.now(datetime.timezone.utc)


def test_eval_of_a_failure_exports_and_prints_nothing(fault_proxy: FaultProxy) -> None:
    fault_proxy.deny("AssumeRole", "AccessDenied", "not allowed")
    script = (
        'eval "$("$@")"\n'
        'echo "token=${AWS_SESSION_TOKEN-unset} key=${AWS_ACCESS_KEY_ID-unset}"\n'
        'creds="$("$@")" && eval "$creds"\n'
        'echo "status=$?"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "AWS_ACCESS_KEY_ID"}
    env["AWS_ACCESS_KEY_ID"] = "AKIAPARENT0000000000"
    env["AWS_MAX_ATTEMPTS"] = "1"
    result = _run(["bash", "-c", script, "bash", *CLI, "assume", ROLE], env)
    assert result.stdout == "token=unset key=AKIAPARENT0000000000\nstatus=4\n"
    assert result.stderr.count("\n") == 2  # one line per failed run
    assert "AccessDenied" in result.stderr
    assert "Traceback" not in result.stderr
    assert PARENT_SECRET not in result.stderr
