"""What `sam build` of template.yaml copies, installs and declares, checked without running it.

`sam build` needs the network, a python3.13 and half a minute, so `make test` never runs
it (`benchmarks/sam_build.py` does, and measures it). These tests read template.yaml and
the make targets it names instead: ``make -n`` prints a target's commands with every
variable expanded, run where SAM runs them (the scratch copy of the CodeUri/ContentUri,
here the folder itself) with the Makefile SAM picks (``ContextPath``'s, else the CodeUri's).

* SAM copies a CodeUri/ContentUri whole before a makefile build, virtualenvs included: it
  reads no ignore file (aws-lambda-builders' ``CopySourceAction`` skips only ``.aws-sam``
  and ``.git``). So no resource's source folder may hold the repository's virtualenvs.
* SAM's python workflow pip-installs a function's requirements.txt with its dependencies,
  and aws-xray-sdk's bring botocore. So a function with requirements builds with a make
  target that installs them ``--no-deps``, for its own runtime and architecture, and they
  name nothing the runtime provides; the e2e runs it with only those
  (`tests.e2e.helpers.PACKAGED_DEPENDENCIES`) and the runtime's packages.
* The layer's bytecode is for the runtimes its target compiles (``--runtime``), so those
  are its ``CompatibleRuntimes`` and every function's ``Runtime`` is among them.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambda_assume_role_tools.layer import RUNTIME_PROVIDED_DISTRIBUTIONS
from tests.e2e.helpers import PACKAGED_DEPENDENCIES
from tests.support.template import TEMPLATE, load_template

REPOSITORY = TEMPLATE.parent
NEVER_COPIED = (".venv", ".venv-floor", ".venv-sam", ".git", "tests", "benchmarks")
PLATFORM_ARCHITECTURE = {"x86_64": "x86_64", "arm64": "aarch64"}
CAPABILITIES_SENTENCE = re.compile(r"sam deploy --guided (--capabilities(?: CAPABILITY_\w+)+)")
NAMED_IAM_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}

# pip install options whose value is the next argument (in the make targets here).
PIP_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-t",
        "--target",
        "--platform",
        "--implementation",
        "--python-version",
        "--only-binary",
        "-c",
        "--constraint",
    }
)

Command = list[str]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    assert match, line
    return _normalise(match.group(1))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(REPOSITORY / "template.yaml")


def _built(template: dict[str, Any], kind: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """``{logical id: (properties, metadata)}`` of every resource of *kind*."""
    return {
        name: (resource.get("Properties", {}), resource.get("Metadata", {}))
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def _functions(template: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Functions, their properties merged over Globals.Function (as SAM does)."""
    defaults = template.get("Globals", {}).get("Function", {})
    functions = _built(template, "AWS::Serverless::Function")
    assert functions
    return {
        name: ({**defaults, **properties}, metadata)
        for name, (properties, metadata) in functions.items()
    }


def _source(properties: dict[str, Any]) -> Path:
    uri = properties.get("CodeUri", properties.get("ContentUri"))
    assert isinstance(uri, str), f"not a local folder: {uri!r}"
    return (REPOSITORY / uri).resolve()


def _makefile(properties: dict[str, Any], metadata: dict[str, Any]) -> Path:
    """The Makefile SAM runs for a resource: ``ContextPath``'s, else the CodeUri's."""
    return (REPOSITORY / metadata.get("ContextPath", _source(properties)) / "Makefile").resolve()


def _make_commands(
    name: str, properties: dict[str, Any], metadata: dict[str, Any]
) -> list[Command]:
    """The shell commands of ``build-<name>``, as SAM's makefile build would run them."""
    source = _source(properties)
    makefile = _makefile(properties, metadata)
    assert makefile.is_file(), f"{name}: no {makefile}"
    printed = subprocess.run(
        [
            "make",
            "-n",
            "-s",
            "--no-print-directory",
            "-f",
            str(makefile),
            f"build-{name}",
            "ARTIFACTS_DIR=/artifacts",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # A backslash-newline continues a command; any other newline ends one, as ";" does.
    text = printed.replace("\\\n", " ").replace("\n", " ; ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands: list[Command] = [[]]
    for token in lexer:
        if token and set(token) <= set(";&|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def _pip_installs(commands: list[Command]) -> list[Command]:
    return [
        command[command.index("install") + 1 :]
        for command in commands
        if "pip" in command and "install" in command
    ]


def _option(arguments: Command, option: str) -> list[str]:
    """Every value of *option* (``--x v`` or ``--x=v``) in *arguments*."""
    values = [b for a, b in itertools.pairwise(arguments) if a == option]
    return values + [a.split("=", 1)[1] for a in arguments if a.startswith(f"{option}=")]


def _requirements(arguments: Command, cwd: Path) -> list[str]:
    """The distributions a pip install names: from each ``-r`` file, and positionally."""
    names: list[str] = []
    for path in _option(arguments, "-r") + _option(arguments, "--requirement"):
        for line in (cwd / path).read_text(encoding="utf-8").splitlines():
            if line.split("#", 1)[0].strip():
                names.append(_requirement_name(line))
    values = {i + 1 for i, argument in enumerate(arguments) if argument in PIP_VALUE_OPTIONS}
    names += [
        _requirement_name(argument)
        for i, argument in enumerate(arguments)
        if i not in values and not argument.startswith("-")
    ]
    return names


def test_no_resource_source_folder_holds_the_virtualenvs_or_the_repository(
    template: dict[str, Any],
) -> None:
    resources = {
        **_functions(template),
        **_built(template, "AWS::Serverless::LayerVersion"),
    }
    for name, (properties, _metadata) in resources.items():
        source = _source(properties)
        for kept_out in NEVER_COPIED:
            assert not (REPOSITORY / kept_out).is_relative_to(source), (
                f"{name}: sam build would copy {kept_out} with {source}"
            )


def test_functions_with_requirements_install_them_without_dependencies(
    template: dict[str, Any],
) -> None:
    packaged: dict[str, list[str]] = {}
    for name, (properties, metadata) in _functions(template).items():
        source = _source(properties)
        if metadata.get("BuildMethod") != "makefile":
            # SAM's python workflow would pip-install it with its dependencies.
            assert not (source / "requirements.txt").exists(), name
            continue
        installs = _pip_installs(_make_commands(name, properties, metadata))
        assert installs, f"{name}: its make target installs nothing"
        [architecture] = properties.get("Architectures", ["x86_64"])
        runtime_version = properties["Runtime"].removeprefix("python")
        for arguments in installs:
            assert "--no-deps" in arguments, f"{name}: {shlex.join(arguments)}"
            assert "--only-binary=:all:" in arguments, name
            assert _option(arguments, "--python-version") == [runtime_version], name
            [platform] = _option(arguments, "--platform")
            assert platform.endswith(f"_{PLATFORM_ARCHITECTURE[architecture]}"), name
            names = _requirements(arguments, source)
            assert names, name
            assert not set(names) & RUNTIME_PROVIDED_DISTRIBUTIONS, f"{name}: {names}"
            packaged.setdefault(source.name, []).extend(names)
    assert packaged, "no function builds with a make target"
    for example, names in packaged.items():
        imports = sorted(name.replace("-", "_") for name in names)
        assert imports == sorted(PACKAGED_DEPENDENCIES.get(example, ())), example


def test_layer_target_builds_from_the_package_alone_for_the_declared_runtimes(
    template: dict[str, Any],
) -> None:
    layers = _built(template, "AWS::Serverless::LayerVersion")
    assert layers
    runtimes = {properties["Runtime"] for properties, _metadata in _functions(template).values()}
    for name, (properties, metadata) in layers.items():
        assert metadata.get("BuildMethod") == "makefile", name
        commands = _make_commands(name, properties, metadata)
        builds = [c for c in commands if "build-layer" in c]
        assert len(builds) == 1, commands
        declared = properties["CompatibleRuntimes"]
        assert sorted(_option(builds[0], "--runtime")) == sorted(declared), name
        assert runtimes <= set(declared), f"{name}: {sorted(runtimes - set(declared))}"
        for arguments in _pip_installs(commands):
            assert not any("[" in argument for argument in arguments), arguments
        assert not any(".venv" in token for command in commands for token in command), name


# What a pyenv shim prints when the version that has the command is not selected.
PYENV_SHIM = "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n"


def test_layer_target_without_its_python_stops_first_with_the_readme_line(
    template: dict[str, Any], tmp_path: Path
) -> None:
    # On a pyenv machine where python3.13 is not selected, python3.13 on PATH is a shim
    # that fails. The target runs it before anything else and stops with one line of its
    # own, which the README quotes: no venv made, nothing written, no pyenv message.
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3.13").write_text(PYENV_SHIM)
    (shims / "python3.13").chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    artifacts = tmp_path / "artifacts"
    skipped = {"PYTHON_FOR_BUILD", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in skipped}
    env.update(PATH=f"{shims}{os.pathsep}{os.environ['PATH']}", TMPDIR=str(scratch))
    readme = " ".join((REPOSITORY / "README.md").read_text(encoding="utf-8").split())
    for name, (properties, metadata) in _built(template, "AWS::Serverless::LayerVersion").items():
        result = subprocess.run(
            [
                "make",
                "-s",
                "--no-print-directory",
                "-f",
                str(_makefile(properties, metadata)),
                f"build-{name}",
                f"ARTIFACTS_DIR={artifacts}",
            ],
            cwd=_source(properties),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode != 0, name
        line = result.stderr.splitlines()[0]
        assert line.startswith(f"build-{name}: python3.13 (PYTHON_FOR_BUILD) does not run here"), (
            result.stderr
        )
        assert line in readme, f"README.md does not quote: {line}"
        assert "command not found" not in result.stderr
        assert list(scratch.iterdir()) == [], "no venv made"
        assert not artifacts.exists()


def _resources_of(document: dict[str, Any], base: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(type, properties)`` of every resource, nested local applications included."""
    found: list[tuple[str, dict[str, Any]]] = []
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        found.append((resource["Type"], properties))
        location = properties.get("Location")
        if resource["Type"] == "AWS::Serverless::Application" and isinstance(location, str):
            nested = (base / location).resolve()
            found.extend(_resources_of(load_template(nested), nested.parent))
    return found


def test_readme_deploy_command_passes_the_capabilities_the_template_needs(
    template: dict[str, Any],
) -> None:
    resources = _resources_of(template, REPOSITORY)
    needed = set()
    if any(kind.startswith("AWS::IAM::") for kind, _ in resources):
        needed.add("CAPABILITY_IAM")
    if any(NAMED_IAM_PROPERTIES.get(kind) in properties for kind, properties in resources):
        needed.add("CAPABILITY_NAMED_IAM")
    if any(kind == "AWS::Serverless::Application" for kind, _ in resources):
        needed.add("CAPABILITY_AUTO_EXPAND")
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    commands = CAPABILITIES_SENTENCE.findall(readme) + CAPABILITIES_SENTENCE.findall(
        template["Description"]
    )
    assert len(commands) >= 2, "README.md and the template's Description give the command"
    for command in commands:
        assert set(command.split()[1:]) == needed, command
