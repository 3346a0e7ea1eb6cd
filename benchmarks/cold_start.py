"""Cold start: import cost, and time to first result of an example under the runtime client.

**Imports.** Each statement runs in a fresh interpreter (``python -c``), timed inside the
child with ``time.perf_counter_ns`` around the statement alone, `IMPORT_RUNS` times,
round-robin over the statements so that machine noise is shared; the median is reported.
Unlike ``-X importtime``, the timer also counts what ``import lambda_assume_role`` defers
(PEP 562): ``from lambda_assume_role import inject_session, assume_role`` pays for the
submodules those names live in. "After boto3" statements run after an untimed
``import boto3``, which the Lambda runtime's own code has not done, but almost every
function does. One untimed run of each statement first writes the bytecode caches.

**Time to first result.** An example runs as Lambda runs it (`emulators.lambda_runtime`):
``python -S -m awslambdaric app.handler`` against the Runtime API emulator, with only the
function's folder, the layer built from this checkout (`build_layer_directory`, unzipped)
and the modules the Lambda runtime ships on its path; AWS is moto on 127.0.0.1. Measured
from just before the process is started to the first invocation's response (init, then
the first invocation, which assumes the role), then `WARM_INVOKES` warm invocations. These
run under this venv's Python (3.11), for which the layer has no bytecode, so they use the
layer built from sources only, compiled at every cold start as any layer without valid
bytecode is (``/opt`` is read-only in Lambda).

**Sources against bytecode** (`measure_bytecode`). The same measurements under a runtime the
layer compiles for (`BYTECODE_RUNTIME`, python3.13 from pyenv), in a venv of its own under
``benchmarks/.work/`` (gitignored; made on first use, the network needed for pip) that holds
what the Lambda runtime ships (boto3, botocore, awslambdaric) and the examples' packaged
dependencies, at this venv's versions. The full layer as built, with its unchecked-hash
``.pyc`` files, against the same layer from sources only: imports of our names (with and
without Powertools' Logger), and the time to first result of each example under awslambdaric.

Run from the repository root: ``.venv/bin/python -m benchmarks.cold_start``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from benchmarks._harness import (
    REPO_ROOT,
    environment_header,
    isolate_aws_environment,
    markdown_table,
    median,
    note_not_ahead,
    start_moto,
)

if TYPE_CHECKING:
    from emulators.lambda_runtime import LambdaFunction

IMPORT_RUNS = 15
FIRST_RESULT_RUNS = 7
WARM_INVOKES = 15
IMPORT_BAR_MS = 5.0

#: (key, statement run untimed first, statement timed)
STANDALONE = (
    ("boto3", "", "import boto3"),
    ("ours", "", "import lambda_assume_role"),
    ("ours-names", "", "from lambda_assume_role import inject_session, assume_role"),
    ("aarl", "", "import aws_assume_role_lib"),
    ("brs", "", "import boto3_refresh_session"),
)
AFTER_BOTO3 = (
    ("ours", "import boto3", "import lambda_assume_role"),
    ("ours-names", "import boto3", "from lambda_assume_role import inject_session, assume_role"),
    ("aarl", "import boto3", "import aws_assume_role_lib"),
    ("brs", "import boto3", "import boto3_refresh_session"),
    ("powertools", "import boto3", "import aws_lambda_powertools"),
)
#: After boto3, from plain ``.py`` files with no bytecode and none written, as a layer ships
#: them: ours from the slim layer built from this checkout, aws-assume-role-lib copied
#: without its ``__pycache__``. boto3 keeps the bytecode pip wrote, as the runtime's does.
AS_SHIPPED = (
    ("ours-names", "import boto3", "from lambda_assume_role import inject_session, assume_role"),
    ("aarl", "import boto3", "import aws_assume_role_lib"),
)

_CHILD = """\
import time
{setup}
started = time.perf_counter_ns()
{statement}
print(time.perf_counter_ns() - started)
"""


BYTECODE_RUNTIME = "python3.13"
BYTECODE_VENV = REPO_ROOT / "benchmarks" / ".work" / f"runtime-{BYTECODE_RUNTIME}"
BYTECODE_IMPORT_RUNS = 15
BYTECODE_FIRST_RESULT_RUNS = 7
#: What the venv of `BYTECODE_RUNTIME` holds besides the examples' packaged dependencies.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "awslambdaric")
_OUR_NAMES = "from lambda_assume_role import inject_session, assume_role"
#: (key, label, statement run untimed first, statement timed)
BYTECODE_IMPORTS = (
    ("ours-names", f"`{_OUR_NAMES}`, after `import boto3`", "import boto3", _OUR_NAMES),
    (
        "ours-logger",
        "the same and `from aws_lambda_powertools import Logger`, after `import boto3`",
        "import boto3",
        f"{_OUR_NAMES}\nfrom aws_lambda_powertools import Logger",
    ),
    (
        "whole",
        "`import boto3`, our names, Logger and `LambdaContext`, from nothing",
        "",
        f"import boto3\n{_OUR_NAMES}\nfrom aws_lambda_powertools import Logger\n"
        "from aws_lambda_powertools.utilities.typing import LambdaContext",
    ),
)
#: (key, example folder, handler): each example under awslambdaric, as template.yaml deploys it.
BYTECODE_FUNCTIONS = (
    ("single_role", "single_role", "app.handler"),
    ("multi_tenant", "multi_tenant", "app.handler"),
    ("powertools", "powertools", "app.handler"),
    ("org_inventory", "org_inventory", "app.worker"),
)

# Timed in a process of the runtime's interpreter; "count" also counts the layer's compiles.
_RUNTIME_CHILD = """\
import os, sys, time
layer = sys.argv[1] + os.sep
compiled = 0


def count(event, args):
    global compiled
    if event == "compile" and isinstance(args[1], str) and args[1].startswith(layer):
        compiled += 1


if sys.argv[2] == "count":
    sys.addaudithook(count)
{setup}
started = time.perf_counter_ns()
{statement}
elapsed = time.perf_counter_ns() - started
# VmHWM, not ru_maxrss: Linux carries the parent's peak over into ru_maxrss across exec.
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(elapsed, peak, compiled)
"""


class FunctionResult(TypedDict):
    key: str
    label: str
    init_ms: list[float]
    first_ms: list[float]
    total_ms: list[float]
    warm_ms: list[float]


# --- imports ---------------------------------------------------------------------------------


def _import_once(setup: str, statement: str, env: dict[str, str], cwd: Path) -> float:
    """Milliseconds ``statement`` takes in a fresh interpreter after ``setup``."""
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD.format(setup=setup, statement=statement)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(completed.stdout.strip().splitlines()[-1]) / 1e6


def _shipped_sources(root: Path) -> Path:
    """A folder with ours (slim layer) and aws-assume-role-lib as bare ``.py`` files."""
    import aws_assume_role_lib

    from lambda_assume_role_tools.layer import build_layer_directory

    build_layer_directory(root, slim=True, bytecode=False)  # none for 3.11 anyway
    shutil.copytree(
        Path(aws_assume_role_lib.__file__).parent,
        root / "python" / "aws_assume_role_lib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return root / "python"


def measure_imports() -> tuple[dict[str, dict[str, float]], int]:
    """Median ms per statement and group, and how many of our modules the names import."""
    root = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        # Every module's bytecode in one fresh cache, written by the untimed first runs:
        # this checkout's package has none of its own (an editable install;
        # PYTHONDONTWRITEBYTECODE may be set), while pip byte-compiled the libraries.
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        shipped = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
        shipped["PYTHONDONTWRITEBYTECODE"] = "1"
        shipped["PYTHONPATH"] = str(_shipped_sources(root / "shipped"))
        plan = [
            *(("standalone", *item, cached, REPO_ROOT) for item in STANDALONE),
            *(("after-boto3", *item, cached, REPO_ROOT) for item in AFTER_BOTO3),
            # Not from the checkout: `python -c` puts its working folder first on sys.path.
            *(("as-shipped", *item, shipped, root) for item in AS_SHIPPED),
        ]
        samples: dict[tuple[str, str], list[float]] = {(p[0], p[1]): [] for p in plan}
        for _group, _key, setup, statement, env, cwd in plan:
            _import_once(setup, statement, env, cwd)
        for _ in range(IMPORT_RUNS):
            for group, key, setup, statement, env, cwd in plan:
                samples[group, key].append(_import_once(setup, statement, env, cwd))
        modules = _count_modules(shipped, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result: dict[str, dict[str, float]] = {"standalone": {}, "after-boto3": {}, "as-shipped": {}}
    for (group, key), values in samples.items():
        result[group][key] = median(values)
    return result, modules


def _count_modules(env: dict[str, str], cwd: Path) -> int:
    """Our modules loaded by ``from lambda_assume_role import inject_session, assume_role``."""
    code = (
        "import sys, boto3\n"
        "from lambda_assume_role import inject_session, assume_role\n"
        "import lambda_assume_role\n"
        "assert 'shipped' in lambda_assume_role.__file__, lambda_assume_role.__file__\n"
        "print(sum(m.split('.')[0] == 'lambda_assume_role' for m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(completed.stdout.strip())


# --- the runtime client ----------------------------------------------------------------------


def _aarl_variant(root: Path) -> tuple[Path, Path]:
    """examples/single_role with aws-assume-role-lib (its drop-in import), and that library.

    The library's ``.py`` files are copied without ``__pycache__``, like our layer, so that
    both are compiled at cold start.
    """
    import aws_assume_role_lib

    code = root / "single_role_aarl"
    code.mkdir()
    source = (REPO_ROOT / "examples" / "single_role" / "app.py").read_text()
    replaced = source.replace(
        "from lambda_assume_role import assume_role", "from aws_assume_role_lib import assume_role"
    )
    if replaced == source:
        raise RuntimeError("examples/single_role/app.py no longer imports assume_role as expected")
    (code / "app.py").write_text(replaced)
    packages = root / "aarl_packages"
    shutil.copytree(
        Path(aws_assume_role_lib.__file__).parent,
        packages / "aws_assume_role_lib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return code, packages


def _bare_function(root: Path) -> Path:
    code = root / "bare"
    code.mkdir()
    (code / "app.py").write_text(
        "def handler(event, context):\n    return {'ok': True}\n", encoding="utf-8"
    )
    return code


def _cold_start(
    function: LambdaFunction,
    event: Any,
    label: str,
    into: FunctionResult,
    *,
    warm_invokes: int = 0,
) -> None:
    """Start ``function``, time its init and first invocation (and warm ones) into ``into``."""
    started = time.perf_counter()
    function.start()
    try:
        function.wait_ready(timeout=30)
        ready = time.perf_counter()
        first = function.invoke(event, timeout=30)
        done = time.perf_counter()
        if not first.ok:
            raise RuntimeError(f"{label}: {first.error}\n{function.logs()[-3000:]}")
        warm = [function.invoke(event).latency_ms for _ in range(warm_invokes)]
    finally:
        function.stop()
    into["init_ms"].append((ready - started) * 1000)
    into["first_ms"].append((done - ready) * 1000)
    into["total_ms"].append((done - started) * 1000)
    into["warm_ms"].extend(warm)


def measure_functions() -> list[FunctionResult]:
    """Start each variant `FIRST_RESULT_RUNS` times; time its first and warm invocations."""
    import boto3

    from emulators.lambda_runtime import LAMBDA_RUNTIME_MODULES, LambdaFunction, link_modules
    from lambda_assume_role_tools.layer import build_layer_directory

    server = start_moto()
    root = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    try:
        # This interpreter (3.11) is no Lambda runtime: the layer has no bytecode for it.
        build_layer_directory(root / "layer", bytecode=False)
        layer = root / "layer" / "python"
        runtime = link_modules(root / "runtime", LAMBDA_RUNTIME_MODULES)
        aarl_code, aarl_packages = _aarl_variant(root)
        bare_code = _bare_function(root)

        bucket = "reports"
        boto3.client("s3").create_bucket(Bucket=bucket)
        single_role = {
            "BUCKET_NAME": bucket,
            "READER_ROLE_ARN": "arn:aws:iam::123456789012:role/ReportReader",
        }
        multi_tenant = {
            "TENANT_ROLE_NAME": "TenantReadOnly",
            "TENANT_EXTERNAL_ID": "tenant-external-id",
        }
        examples = REPO_ROOT / "examples"
        variants: list[tuple[str, str, Path, Path, dict[str, str], list[Path], Any]] = [
            ("bare", "bare handler (runtime client only)", bare_code, layer, {}, [], {}),
            (
                "ours",
                "examples/single_role, ours",
                examples / "single_role",
                layer,
                single_role,
                [],
                {},
            ),
            (
                "aarl",
                "examples/single_role on aws-assume-role-lib",
                aarl_code,
                layer,
                single_role,
                [aarl_packages],
                {},
            ),
            (
                "ours-multi",
                "examples/multi_tenant, ours (per-event `@inject_client` x2)",
                examples / "multi_tenant",
                layer,
                multi_tenant,
                [],
                {"account": "111111111111"},
            ),
        ]
        results: dict[str, FunctionResult] = {
            key: {
                "key": key,
                "label": label,
                "init_ms": [],
                "first_ms": [],
                "total_ms": [],
                "warm_ms": [],
            }
            for key, label, *_ in variants
        }
        for run in range(FIRST_RESULT_RUNS):
            for key, _label, code, layer_dir, variables, extra, event in variants:
                function = LambdaFunction(
                    code,
                    layer_dir=layer_dir,
                    runtime_dir=runtime,
                    endpoint_url=server.endpoint_url,
                    variables=variables,
                    function_name=f"bench-{key}",
                    extra_paths=extra,
                    log_path=root / f"{key}-{run}.log",
                )
                _cold_start(function, event, key, results[key], warm_invokes=WARM_INVOKES)
        return list(results.values())
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- sources against bytecode, under a runtime the layer compiles for ------------------------


class BytecodeResult(TypedDict):
    interpreter: str
    imports: dict[str, dict[str, list[float]]]  # kind -> key -> ms
    rss_kib: dict[str, list[float]]  # kind -> peak RSS of the "whole" statement
    compiled: dict[str, dict[str, int]]  # kind -> key -> layer modules compiled
    functions: dict[str, dict[str, FunctionResult]]  # kind -> example -> result


def _packaged_distributions() -> list[str]:
    """Distributions of the modules examples package with them (their requirements.txt)."""
    from tests.e2e.helpers import PACKAGED_DEPENDENCIES

    owners = importlib.metadata.packages_distributions()
    names = {name for modules in PACKAGED_DEPENDENCIES.values() for name in modules}
    return sorted({owners[name][0] for name in names})


def runtime_venv() -> tuple[Path, Path] | str:
    """The python and site-packages of `BYTECODE_RUNTIME`'s venv, made if missing; or why not.

    The venv holds `RUNTIME_DISTRIBUTIONS` and the examples' packaged dependencies at
    the versions this venv has (pip writes their bytecode, as the runtime's own has).
    """
    from lambda_assume_role_tools.layer import find_interpreter

    interpreter = find_interpreter(BYTECODE_RUNTIME)
    if interpreter is None:
        return f"no {BYTECODE_RUNTIME} interpreter on PATH or under pyenv"
    pins = [
        f"{name}=={importlib.metadata.version(name)}"
        for name in (*RUNTIME_DISTRIBUTIONS, *_packaged_distributions())
    ]
    python = BYTECODE_VENV / "bin" / "python"
    version = BYTECODE_RUNTIME.removeprefix("python")
    site = BYTECODE_VENV / "lib" / f"python{version}" / "site-packages"
    stamp = BYTECODE_VENV / ".installed"
    wanted = f"{interpreter.executable}\n" + "\n".join(pins) + "\n"
    if stamp.is_file() and stamp.read_text() == wanted and python.exists():
        return python, site
    shutil.rmtree(BYTECODE_VENV, ignore_errors=True)
    subprocess.run(
        [str(interpreter.executable), "-m", "venv", str(BYTECODE_VENV)], check=True, timeout=120
    )
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if installed.returncode != 0:
        last = (installed.stderr.strip().splitlines() or ["?"])[-1]
        return f"pip could not install {' '.join(pins)} for {BYTECODE_RUNTIME} ({last})"
    stamp.write_text(wanted)
    return python, site


def _read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


def _runtime_import(
    python: Path, layer: Path, site: Path, setup: str, statement: str, *, count: bool = False
) -> tuple[float, int, int]:
    """Milliseconds of ``statement``, peak RSS (KiB) and the layer modules compiled."""
    completed = subprocess.run(
        [
            str(python),
            "-S",
            "-c",
            _RUNTIME_CHILD.format(setup=setup, statement=statement),
            str(layer),
            "count" if count else "time",
        ],
        cwd=layer.parent,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join([str(layer), str(site)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    elapsed, rss, compiled = completed.stdout.split()
    return int(elapsed) / 1e6, int(rss), int(compiled)


def _example_setup() -> dict[str, tuple[dict[str, str], Any]]:
    """Each example's variables and event, with what it reads created in moto."""
    import boto3

    from tests.e2e.helpers import BUCKET_NAME, EXAMPLE_VARIABLES, PARAMETER_NAME, TENANT_A

    boto3.client("s3").create_bucket(Bucket=BUCKET_NAME)
    boto3.client("ssm").put_parameter(Name=PARAMETER_NAME, Value="hello", Type="String")
    inventory = EXAMPLE_VARIABLES["org_inventory"]
    boto3.client("s3").create_bucket(Bucket=inventory["RESULTS_BUCKET"])
    items = [{"account_id": TENANT_A, "region": "us-east-1"}]
    return {
        "single_role": (EXAMPLE_VARIABLES["single_role"], {}),
        "multi_tenant": (EXAMPLE_VARIABLES["multi_tenant"], {"account": TENANT_A}),
        "powertools": (EXAMPLE_VARIABLES["powertools"], {}),
        "org_inventory": (
            inventory,
            {"run_id": "bench", "round": 1, "batch": 1, "items": items},
        ),
    }


def measure_bytecode() -> BytecodeResult | str:
    """Sources against bytecode under `BYTECODE_RUNTIME`; a sentence instead if it cannot run."""
    from emulators.lambda_runtime import LambdaFunction
    from lambda_assume_role_tools.layer import build_layer_directory

    found = runtime_venv()
    if isinstance(found, str):
        return found
    python, site = found
    server = start_moto()
    root = Path(tempfile.mkdtemp(prefix="bench-bytecode-"))
    try:
        layers = {
            "bytecode": build_layer_directory(root / "bytecode", runtimes=[BYTECODE_RUNTIME]),
            "sources": build_layer_directory(root / "sources", bytecode=False),
        }
        folders = {kind: report.path / "python" for kind, report in layers.items()}
        for folder in folders.values():
            _read_only(folder)  # as /opt is (PYTHONDONTWRITEBYTECODE is set too)
        result: BytecodeResult = {
            "interpreter": subprocess.run(
                [str(python), "-c", "import sys; print(sys.version.split()[0])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip(),
            "imports": {kind: {key: [] for key, *_ in BYTECODE_IMPORTS} for kind in folders},
            "rss_kib": {kind: [] for kind in folders},
            "compiled": {kind: {} for kind in folders},
            "functions": {kind: {} for kind in folders},
        }
        for kind, folder in folders.items():
            for key, _label, setup, statement in BYTECODE_IMPORTS:
                _, _, compiled = _runtime_import(python, folder, site, setup, statement, count=True)
                result["compiled"][kind][key] = compiled
        for _ in range(BYTECODE_IMPORT_RUNS):
            for key, _label, setup, statement in BYTECODE_IMPORTS:
                for kind, folder in folders.items():
                    elapsed, rss, _ = _runtime_import(python, folder, site, setup, statement)
                    result["imports"][kind][key].append(elapsed)
                    if key == "whole":
                        result["rss_kib"][kind].append(rss)

        examples = REPO_ROOT / "examples"
        setups = _example_setup()
        for kind in folders:
            for key, _folder, _handler in BYTECODE_FUNCTIONS:
                result["functions"][kind][key] = {
                    "key": key,
                    "label": f"examples/{key}",
                    "init_ms": [],
                    "first_ms": [],
                    "total_ms": [],
                    "warm_ms": [],
                }
        for run in range(BYTECODE_FIRST_RESULT_RUNS):
            for key, folder_name, handler in BYTECODE_FUNCTIONS:
                variables, event = setups[key]
                for kind, folder in folders.items():
                    function = LambdaFunction(
                        examples / folder_name,
                        layer_dir=folder,
                        runtime_dir=site,
                        endpoint_url=server.endpoint_url,
                        variables=variables,
                        function_name=f"bench-{key}".replace("_", "-"),
                        handler=handler,
                        log_path=root / f"{key}-{kind}-{run}.log",
                        python=python,
                    )
                    measured = result["functions"][kind][key]
                    _cold_start(function, event, f"{key} ({kind})", measured)
        return result
    finally:
        server.stop()
        for path in [root, *root.rglob("*")]:
            with contextlib.suppress(OSError):
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def _bytecode_section(result: BytecodeResult | str) -> str:
    title = f"### Sources against bytecode ({BYTECODE_RUNTIME})"
    if isinstance(result, str):
        return f"{title}\n\nNot measured: {result}."
    imports, compiled = result["imports"], result["compiled"]
    import_rows: list[list[object]] = []
    for key, label, _setup, _statement in BYTECODE_IMPORTS:
        sources, bytecode = median(imports["sources"][key]), median(imports["bytecode"][key])
        import_rows.append(
            [
                label,
                f"{sources:.1f}",
                f"{bytecode:.1f}",
                f"{sources - bytecode:.1f}",
                _ratio(bytecode, sources),
                f"{compiled['sources'][key]} / {compiled['bytecode'][key]}",
            ]
        )
    rss = {kind: median(values) / 1024 for kind, values in result["rss_kib"].items()}
    functions = result["functions"]
    function_rows: list[list[object]] = []
    for key, *_ in BYTECODE_FUNCTIONS:
        cold, compiled_layer = functions["sources"][key], functions["bytecode"][key]
        function_rows.append(
            [
                f"examples/{key}",
                f"{median(cold['init_ms']):.0f}",
                f"{median(compiled_layer['init_ms']):.0f}",
                f"{median(cold['total_ms']):.0f} ({min(cold['total_ms']):.0f})",
                f"{median(compiled_layer['total_ms']):.0f} "
                f"({min(compiled_layer['total_ms']):.0f})",
                f"{median(cold['total_ms']) - median(compiled_layer['total_ms']):.0f}",
                _ratio(median(compiled_layer["total_ms"]), median(cold["total_ms"])),
            ]
        )
    return "\n\n".join(
        [
            title,
            f"Under CPython {result['interpreter']} (the layer's bytecode is for the Lambda "
            "runtimes; this venv's 3.11 is not one), with only the layer and what the runtime "
            "ships on the path (`python -S`, `PYTHONDONTWRITEBYTECODE=1`, the layer read-only). "
            "'bytecode': the full layer as `build-layer --runtime "
            f"{BYTECODE_RUNTIME}` writes it, with unchecked-hash `.pyc` files; 'sources': the "
            "same layer without them, compiled at every start as Lambda compiles any layer "
            f"without valid bytecode. **Imports**, median of {BYTECODE_IMPORT_RUNS} fresh "
            "interpreters each, round-robin; the last column counts the layer's modules "
            "compiled (`compile` audit events) by the statement:",
            markdown_table(
                [
                    "statement",
                    "sources ms",
                    "bytecode ms",
                    "saved ms",
                    "bytecode vs sources",
                    "compiled (sources / bytecode)",
                ],
                import_rows,
            ),
            f"Peak RSS of the last statement: {rss['sources']:.1f} MiB from sources, "
            f"{rss['bytecode']:.1f} MiB with bytecode.",
            f"**Time to first result** under awslambdaric, median (and minimum) of "
            f"{BYTECODE_FIRST_RESULT_RUNS} cold starts per example and layer, round-robin: "
            "process start to the first invocation's response (init, then an invocation that "
            "assumes the role and calls moto on loopback). The org_inventory row is its Step "
            "Functions worker on one target. A cold start on this shared 2-core machine "
            "varies by tens of ms: compare minima too; the import rows above are the steadier "
            "figures.",
            markdown_table(
                [
                    "function",
                    "init ms, sources",
                    "init ms, bytecode",
                    "first result ms, sources (min)",
                    "first result ms, bytecode (min)",
                    "saved ms",
                    "bytecode vs sources",
                ],
                function_rows,
            ),
        ]
    )


# --- report ----------------------------------------------------------------------------------

_LABELS = {
    "boto3": "`import boto3`",
    "ours": "`import lambda_assume_role` (lazy, PEP 562)",
    "ours-names": "`from lambda_assume_role import inject_session, assume_role`",
    "aarl": "`import aws_assume_role_lib`",
    "brs": "`import boto3_refresh_session`",
    "powertools": "`import aws_lambda_powertools`",
}


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference > 0 else "n/a"


def _import_tables(imports: dict[str, dict[str, float]]) -> tuple[str, str, str]:
    standalone = imports["standalone"]
    after = imports["after-boto3"]
    shipped = imports["as-shipped"]
    standalone_table = markdown_table(
        [
            "statement, fresh interpreter",
            "median ms",
            "vs `import boto3`",
            "vs aws-assume-role-lib",
        ],
        [
            [
                _LABELS[key],
                f"{standalone[key]:.1f}",
                _ratio(standalone[key], standalone["boto3"]),
                _ratio(standalone[key], standalone["aarl"]),
            ]
            for key, _setup, _statement in STANDALONE
        ],
    )
    after_rows: list[list[object]] = [
        [_LABELS[key], "cached", f"{after[key]:.2f}", _ratio(after[key], after["aarl"])]
        for key, _setup, _statement in AFTER_BOTO3
    ]
    after_rows += [
        [
            _LABELS[key],
            "none (as shipped)",
            f"{shipped[key]:.2f}",
            _ratio(shipped[key], shipped["aarl"]),
        ]
        for key, _setup, _statement in AS_SHIPPED
    ]
    after_table = markdown_table(
        ["statement, after `import boto3`", "bytecode", "median ms", "vs aws-assume-role-lib"],
        after_rows,
    )
    bar = markdown_table(
        ["bar", "limit ms", "measured ms", "result"],
        [
            [
                f"{_LABELS[key]} once boto3 is loaded{suffix}",
                f"{IMPORT_BAR_MS:.0f}",
                f"{value:.2f}",
                "met" if value <= IMPORT_BAR_MS else "NOT met",
            ]
            for key, value, suffix in (
                ("ours", after["ours"], ""),
                ("ours-names", after["ours-names"], " (informative)"),
                ("ours-names", shipped["ours-names"], ", no bytecode (informative)"),
            )
        ],
    )
    return standalone_table, after_table, bar


def _function_table(functions: Sequence[FunctionResult]) -> str:
    by_key = {f["key"]: f for f in functions}
    bare_total = median(by_key["bare"]["total_ms"])
    ours_total = median(by_key["ours"]["total_ms"])
    ours_warm = median(by_key["ours"]["warm_ms"])
    return markdown_table(
        [
            "function",
            "init ms",
            "first invoke ms",
            "time to first result ms (min)",
            "vs ours single_role",
            "over bare handler ms",
            "warm invoke ms",
            "warm vs ours",
        ],
        [
            [
                f["label"],
                f"{median(f['init_ms']):.0f}",
                f"{median(f['first_ms']):.0f}",
                f"{median(f['total_ms']):.0f} ({min(f['total_ms']):.0f})",
                _ratio(median(f["total_ms"]), ours_total),
                "-" if f["key"] == "bare" else f"{median(f['total_ms']) - bare_total:.0f}",
                f"{median(f['warm_ms']):.1f}",
                _ratio(median(f["warm_ms"]), ours_warm),
            ]
            for f in functions
        ],
    )


def _notes(
    imports: dict[str, dict[str, float]], functions: Sequence[FunctionResult], modules: int
) -> None:
    after = imports["after-boto3"]
    shipped = imports["as-shipped"]
    if after["ours-names"] > after["aarl"]:
        note_not_ahead(
            "Cold import: once boto3 is loaded, `from lambda_assume_role import "
            f"inject_session, assume_role` takes {after['ours-names']:.1f} ms "
            f"({shipped['ours-names']:.1f} ms from the layer, without bytecode) against "
            f"{after['aarl']:.1f} ms ({shipped['aarl']:.1f} ms) for `import "
            "aws_assume_role_lib`: those two names load "
            f"{modules} of our modules, against one. The bare `import lambda_assume_role` "
            f"is {after['ours']:.2f} ms because it defers them (PEP 562)."
        )
    by_key = {f["key"]: f for f in functions}
    ours, aarl = by_key["ours"], by_key["aarl"]
    if median(ours["first_ms"]) > median(aarl["first_ms"]):
        note_not_ahead(
            "First invocation of examples/single_role: ours "
            f"{median(ours['first_ms']):.0f} ms against {median(aarl['first_ms']):.0f} ms "
            f"on aws-assume-role-lib (init: {median(aarl['init_ms']):.0f} ms for it, "
            f"{median(ours['init_ms']):.0f} ms for ours). "
            "Profiled at the checkout above: ours makes the parent's STS client at the "
            "first AssumeRole, on the parent session's own loader (parsing the sts model and "
            "endpoint rules a second time, after the shared loader did for the role's "
            "clients); aws-assume-role-lib makes it in `assume_role` (its parameter "
            "validation), so the same work lands in its init."
        )
    if median(ours["total_ms"]) > median(aarl["total_ms"]) and min(ours["total_ms"]) > min(
        aarl["total_ms"]
    ):
        compile_cost = shipped["ours-names"] - after["ours-names"]
        note_not_ahead(
            "Time to first result, examples/single_role: ours "
            f"{median(ours['total_ms']):.0f} ms against {median(aarl['total_ms']):.0f} ms "
            f"on aws-assume-role-lib (medians of {FIRST_RESULT_RUNS}; minima "
            f"{min(ours['total_ms']):.0f} and {min(aarl['total_ms']):.0f} ms). Ours has more "
            f"modules to compile and import from the layer ({shipped['ours-names']:.1f} ms, "
            f"{compile_cost:.1f} ms of it compiling, against {shipped['aarl']:.1f} ms), and "
            "its cheaper session and first client do not make that up in a one-role "
            "function."
        )


def report(
    imports: dict[str, dict[str, float]],
    functions: Sequence[FunctionResult],
    modules: int,
    bytecode: BytecodeResult | str,
) -> str:
    standalone_table, after_table, bar = _import_tables(imports)
    by_key = {f["key"]: f for f in functions}
    compile_cost = imports["as-shipped"]["ours-names"] - imports["after-boto3"]["ours-names"]
    multi = by_key["ours-multi"]
    _notes(imports, functions, modules)
    return "\n\n".join(
        [
            "## Cold start",
            f"**Import time**, median of {IMPORT_RUNS} fresh interpreters per statement, "
            "timed inside the child around the statement alone:",
            standalone_table,
            "**Added once boto3 is loaded** (`import boto3` first, untimed). 'cached': every "
            "module's bytecode cache is warm. 'none (as shipped)': ours from the slim layer "
            "and aws-assume-role-lib's copied `.py` files, compiled at every start as in a "
            "Lambda layer (no `__pycache__` shipped, `/opt` read-only); boto3 keeps its "
            "bytecode, as the runtime's does.",
            after_table,
            "**The issue's bar:**",
            bar,
            f"**Time to first result** under awslambdaric, median (and minimum) of "
            f"{FIRST_RESULT_RUNS} cold starts per function, round-robin: process start to "
            "the runtime polling for work (init), then the first invocation (AssumeRole and "
            f"API calls to moto on loopback), then {WARM_INVOKES} warm invocations each "
            "(Runtime API round trip included). The full layer (with Powertools) is on the "
            "path in every row, from sources: this venv's Python 3.11 is no Lambda runtime, "
            "so the layer has no bytecode for it (compiling our modules costs "
            f"{compile_cost:.1f} ms in the import measurement above; the next section "
            "measures the layer's bytecode under python3.13). Other processes on this "
            "2-core machine add noise of tens of ms to single cold starts: compare minima "
            "too.",
            _function_table(functions),
            f"examples/multi_tenant: init {median(multi['init_ms']):.0f} ms, first "
            f"invocation {median(multi['first_ms']):.0f} ms. A per-event role is known only "
            "once an event names it, so the tenant's session, its two clients and the "
            "AssumeRole fall in the first invocation of each tenant.",
            _bytecode_section(bytecode),
        ]
    )


def main() -> str:
    saved = dict(os.environ)
    try:
        isolate_aws_environment()
        imports, modules = measure_imports()
        functions = measure_functions()
        bytecode = measure_bytecode()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    text = report(imports, functions, modules, bytecode)
    print(text)
    return text


if __name__ == "__main__":
    print(environment_header())
    main()
