"""The Lambda layer builder: layout, trimming, bytecode headers, reproducibility and sizes.

tests/functional/tools/test_layer_bytecode.py imports the layer under each runtime's interpreter.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib.metadata
import io
import os
import re
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import lambda_assume_role
from lambda_assume_role_tools.layer import (
    COMMAND_LINE_ENTRY,
    SUPPORTED_RUNTIMES,
    InterpreterNotFoundError,
    LayerBuildError,
    LayerReport,
    UnsupportedRuntimeError,
    build_layer,
    build_layer_directory,
    find_interpreter,
)
from lambda_assume_role_tools.layer import build as layer_build
from lambda_assume_role_tools.layer.bytecode import compile_sources
from lambda_assume_role_tools.layer.contents import distribution_entries, runtime_distributions
from tests.support.layers import shared_layer
from tests.support.template import load_template

PACKAGE_DIR = Path(lambda_assume_role.__file__).parent
OUR_DIST_INFO = f"python/lambda_assume_role-{lambda_assume_role.__version__}.dist-info"
REPOSITORY = PACKAGE_DIR.parent
RUNTIME_TOP_LEVEL = {"boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six", "jmespath"}
RUNTIME_DISTRIBUTIONS = {
    "boto3",
    "botocore",
    "s3transfer",
    "python-dateutil",
    "urllib3",
    "six",
    "jmespath",
}
DROPPED_DIST_INFO = {"RECORD", "INSTALLER", "WHEEL", "direct_url.json", "REQUESTED"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _top_level_names(names: list[str]) -> set[str]:
    """Import names (and dist-info distribution names) directly under python/."""
    tops: set[str] = set()
    for name in names:
        top = name.split("/")[1]
        if top.endswith(".dist-info"):
            top = top[: -len(".dist-info")].rsplit("-", 1)[0]
        tops.add(top.removesuffix(".py"))
    return tops


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[Path, LayerReport]]:
    full, slim = shared_layer(), shared_layer(slim=True)
    return {"full": (full.path, full), "slim": (slim.path, slim)}


@pytest.fixture(params=["full", "slim"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- layout ----------------------------------------------------------------------------------


def test_every_entry_is_under_python(built: dict[str, tuple[Path, LayerReport]], kind: str) -> None:
    names = _names(built[kind][0])
    assert names
    assert all(name.startswith("python/") for name in names)
    assert not [name for name in names if name.endswith("/")], "no directory entries"


def _cache_tag(runtime: str) -> str:
    return "cpython-" + runtime.removeprefix("python").replace(".", "")


def test_package_ships_exactly_its_runtime_modules_with_bytecode(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    path, report = built[kind]
    names = set(_names(path))
    modules = {
        p.relative_to(PACKAGE_DIR).as_posix()
        for p in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert {"__init__.py", COMMAND_LINE_ENTRY} <= modules
    shipped = modules - {COMMAND_LINE_ENTRY}  # the one file left out, and only it
    expected = {f"python/lambda_assume_role/{m}" for m in shipped}
    expected.add("python/lambda_assume_role/py.typed")
    for module in shipped:
        folder, _, stem = f"python/lambda_assume_role/{module}".rpartition("/")
        for runtime in report.runtimes:
            expected.add(f"{folder}/__pycache__/{stem[:-3]}.{_cache_tag(runtime)}.pyc")
    assert {n for n in names if n.startswith("python/lambda_assume_role/")} == expected
    assert not [n for n in names if n.split("/")[1].startswith("lambda_assume_role_tools")]


def _imports_the_tools(source: bytes) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n.split(".")[0] == "lambda_assume_role_tools" for n in names):
            return True
    return False


def test_nothing_the_layer_ships_of_ours_imports_the_tools_package(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    # The layer has no lambda_assume_role_tools: a module importing it would fail there.
    # The check can fail: the file the layer leaves out is the one that imports it.
    assert _imports_the_tools((PACKAGE_DIR / COMMAND_LINE_ENTRY).read_bytes())
    contents = _contents(built[kind][0])
    ours = [n for n in contents if n.startswith("python/lambda_assume_role/") and n.endswith(".py")]
    assert ours
    assert [n for n in ours if _imports_the_tools(contents[n])] == []


def test_bytecode_is_unchecked_hash_for_each_declared_runtime(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    path, report = built[kind]
    assert report.bytecode
    assert report.runtimes, "declared for no runtime"
    assert set(report.runtimes) <= set(SUPPORTED_RUNTIMES)
    tags = {_cache_tag(runtime) for runtime in report.runtimes}
    contents = _contents(path)
    sources = [n for n in contents if n.endswith(".py")]
    compiled = [n for n in contents if n.endswith(".pyc")]
    assert len(compiled) == len(sources) * len(report.runtimes)
    magic: dict[str, set[bytes]] = {tag: set() for tag in tags}
    for name in compiled:
        folder, cache, filename = name.rsplit("/", 2)
        stem, tag, _ = filename.rsplit(".", 2)
        assert cache == "__pycache__", name
        assert tag in tags, name
        assert f"{folder}/{stem}.py" in contents, f"{name} has no source"
        data = contents[name]
        # PEP 552: magic, then flags; 0b01 = hash-based, source not checked at import.
        assert int.from_bytes(data[4:8], "little") == 0b01, f"{name} is not unchecked-hash"
        magic[tag].add(data[:4])
    # One interpreter per runtime wrote them (its own magic number, accepted in the canary).
    assert all(len(numbers) == 1 for numbers in magic.values()), magic
    assert len({next(iter(numbers)) for numbers in magic.values()}) == len(tags)


def test_no_stubs_tests_or_foreign_bytecode(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    for name in _names(built[kind][0]):
        parts = name.split("/")
        assert not name.endswith((".pyo", ".pyi")), name
        assert not {"tests", "test"} & set(parts[:-1]), name
        assert name.endswith(".pyc") == ("__pycache__" in parts), name


def test_our_dist_info_records_exactly_what_is_shipped(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    contents = _contents(built[kind][0])
    ours = {n for n in contents if n.startswith(("python/lambda_assume_role/", OUR_DIST_INFO))}
    assert {n for n in ours if n.startswith(OUR_DIST_INFO)} == {
        f"{OUR_DIST_INFO}/{f}" for f in ("METADATA", "top_level.txt", "RECORD")
    }
    assert contents[f"{OUR_DIST_INFO}/top_level.txt"] == b"lambda_assume_role\n"
    metadata = contents[f"{OUR_DIST_INFO}/METADATA"].decode()
    assert "Name: lambda-assume-role\n" in metadata
    assert f"Version: {lambda_assume_role.__version__}\n" in metadata
    assert "\n\n" not in metadata, "the README body is left out"
    rows = list(csv.reader(io.StringIO(contents[f"{OUR_DIST_INFO}/RECORD"].decode())))
    recorded = {f"python/{row[0]}": row for row in rows}
    assert set(recorded) == ours
    for name, (_, digest, size) in recorded.items():
        if name.endswith("/RECORD"):
            assert (digest, size) == ("", "")
            continue
        data = contents[name]
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert (digest, size) == (f"sha256={expected}", str(len(data))), name


def test_runtime_provided_packages_are_left_out(
    built: dict[str, tuple[Path, LayerReport]], kind: str
) -> None:
    path, report = built[kind]
    tops = _top_level_names(_names(path))
    assert not tops & RUNTIME_TOP_LEVEL
    assert not {_normalise(t) for t in tops} & RUNTIME_DISTRIBUTIONS
    assert not {name for name, _ in report.distributions} & RUNTIME_DISTRIBUTIONS


def test_full_layer_ships_powertools_and_typing_extensions(
    built: dict[str, tuple[Path, LayerReport]],
) -> None:
    path, report = built["full"]
    names = set(_names(path))
    assert "python/aws_lambda_powertools/__init__.py" in names
    assert "python/aws_lambda_powertools/logging/logger.py" in names
    assert "python/aws_lambda_powertools/py.typed" in names
    assert "python/typing_extensions.py" in names
    versions = dict(report.distributions)
    assert versions["aws-lambda-powertools"] == importlib.metadata.version("aws-lambda-powertools")
    assert versions["typing-extensions"] == importlib.metadata.version("typing-extensions")
    assert [name for name, _ in report.distributions] == sorted(versions)
    assert not report.slim


def test_slim_layer_has_only_the_package(built: dict[str, tuple[Path, LayerReport]]) -> None:
    path, report = built["slim"]
    tops = _top_level_names(_names(path))
    assert tops == {"lambda_assume_role"}  # the package and its .dist-info
    assert report.distributions == ()
    assert report.slim


def test_dist_info_is_trimmed_but_discoverable(
    built: dict[str, tuple[Path, LayerReport]], tmp_path: Path
) -> None:
    path, report = built["full"]
    names = _names(path)
    dist_infos = {n.split("/")[1] for n in names if n.split("/")[1].endswith(".dist-info")}
    assert len(dist_infos) == len(report.distributions) + 1
    dist_infos.remove(OUR_DIST_INFO.split("/")[1])  # checked above: it has a RECORD
    for dist_info in dist_infos:
        files = [n.split("/", 2)[2] for n in names if n.split("/")[1] == dist_info]
        assert "METADATA" in files
        assert not DROPPED_DIST_INFO & {f.rsplit("/", 1)[-1] for f in files}
        assert any("LICEN" in f.upper() for f in files), f"{dist_info} lost its license"
    # importlib.metadata still finds the distributions from METADATA alone.
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path)
    found = {
        _normalise(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions(path=[str(tmp_path / "python")])
    }
    ours = {"lambda-assume-role": lambda_assume_role.__version__}
    assert found == {**dict(report.distributions), **ours}


# --- reproducibility -------------------------------------------------------------------------


def test_rebuild_with_bytecode_is_byte_identical(
    built: dict[str, tuple[Path, LayerReport]], tmp_path: Path, kind: str
) -> None:
    path, report = built[kind]
    again = build_layer(tmp_path / "again.zip", slim=kind == "slim")
    assert again.runtimes == report.runtimes
    assert _sha256(again.path) == _sha256(path)


def test_rebuild_over_an_existing_zip_leaves_no_temp_files(tmp_path: Path) -> None:
    first = build_layer(tmp_path / "a.zip", slim=True, bytecode=False)
    second = build_layer(tmp_path / "b.zip", slim=True, bytecode=False)
    again = build_layer(tmp_path / "a.zip", slim=True, bytecode=False)
    assert _sha256(first.path) == _sha256(second.path) == _sha256(again.path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip"], "no temp files left"


def test_entries_are_normalised(built: dict[str, tuple[Path, LayerReport]], kind: str) -> None:
    with zipfile.ZipFile(built[kind][0]) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.create_system == 3
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        assert stat.S_ISREG(info.external_attr >> 16)
        assert info.extra == b""
        assert info.comment == b""


# --- sizes and the report --------------------------------------------------------------------


def test_report_matches_the_zip(built: dict[str, tuple[Path, LayerReport]], kind: str) -> None:
    path, report = built[kind]
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert report.path == path
    assert report.files == len(infos)
    assert report.zipped_bytes == path.stat().st_size
    assert report.unzipped_bytes == sum(info.file_size for info in infos)


def test_slim_layer_is_small(built: dict[str, tuple[Path, LayerReport]]) -> None:
    report = built["slim"][1]
    assert report.zipped_bytes is not None
    # About 75 KB of zipped source and 240 KB of bytecode per runtime today (December
    # 2026, after issue 20); the bound leaves room to grow and still flags a dependency
    # or data file slipping into the slim layer (boto3 alone would add megabytes).
    assert report.zipped_bytes < 400_000 * len(report.runtimes)


def test_full_layer_is_within_lambda_limits(built: dict[str, tuple[Path, LayerReport]]) -> None:
    report = built["full"][1]
    assert report.zipped_bytes is not None
    assert report.zipped_bytes < 50 * 1024 * 1024
    assert report.unzipped_bytes < 250 * 1024 * 1024
    assert report.zipped_bytes > built["slim"][1].unzipped_bytes  # it really holds Powertools


def test_summary_uses_human_units() -> None:
    report = LayerReport(Path("dist/layer.zip"), 41, 39_117, 155_648, (), slim=True)
    assert report.summary() == (
        "layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim); sources only"
    )
    full = LayerReport(
        Path("layer.zip"),
        354,
        1_058_266,
        3_776_435,
        (("aws-lambda-powertools", "3.37.0"),),
        runtimes=("python3.12", "python3.13"),
        bytecode=True,
    )
    assert full.summary() == (
        "layer.zip: 354 files, 1.0 MB zipped, 3.6 MB unzipped (aws-lambda-powertools 3.37.0); "
        "bytecode for python3.12, python3.13"
    )
    folder = LayerReport(Path("artifacts"), 3, None, 900, (), slim=True)
    assert folder.summary() == "artifacts: 3 files, 900 B unzipped (slim); sources only"


def test_summary_and_publish_command_name_exactly_the_compiled_runtimes(
    built: dict[str, tuple[Path, LayerReport]],
) -> None:
    slim, full = built["slim"][1], built["full"][1]
    runtimes = ", ".join(full.runtimes)
    assert slim.summary().startswith(f"{slim.path.name}: ")
    assert slim.summary().endswith(f" unzipped (slim); bytecode for {runtimes}")
    assert "aws-lambda-powertools" in full.summary()
    command = full.publish_command()
    assert f"--compatible-runtimes {' '.join(full.runtimes)} --compatible-architectures" in command
    assert f"fileb://{full.path.as_posix()}" in command


# --- runtimes and interpreters ---------------------------------------------------------------


def test_every_declared_runtime_has_an_interpreter_and_the_others_a_notice(
    built: dict[str, tuple[Path, LayerReport]],
) -> None:
    report = built["full"][1]
    for runtime in SUPPORTED_RUNTIMES:
        found = find_interpreter(runtime)
        if runtime in report.runtimes:
            assert found is not None
            assert found.cache_tag == _cache_tag(runtime)
        else:
            assert found is None
            assert (
                f"{runtime}: no interpreter found on PATH or under pyenv; the layer is "
                f"declared for {', '.join(report.runtimes)}"
            ) in report.notices
    assert len(report.notices) == len(SUPPORTED_RUNTIMES) - len(report.runtimes)


def test_a_runtime_named_without_an_interpreter_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.X on PATH
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))  # and no pyenv versions
    runtime = next(
        r for r in SUPPORTED_RUNTIMES if r != f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    with pytest.raises(InterpreterNotFoundError, match=f"{runtime}: no interpreter found"):
        build_layer(tmp_path / "layer.zip", slim=True, runtimes=[runtime])
    with pytest.raises(InterpreterNotFoundError, match="declared for no runtime"):
        build_layer(tmp_path / "layer.zip", slim=True, runtimes=None)
    assert not list(tmp_path.glob("*.zip"))


@pytest.mark.parametrize("runtime", ["python3.11", "python3.9", "python3", "3.13", "pypy3.13"])
def test_unsupported_runtimes_are_refused(tmp_path: Path, runtime: str) -> None:
    with pytest.raises(UnsupportedRuntimeError, match=re.escape(repr(runtime))):
        build_layer(tmp_path / "layer.zip", slim=True, runtimes=[runtime])


def test_sources_only_layer_is_declared_for_the_runtimes_asked(tmp_path: Path) -> None:
    report = build_layer(tmp_path / "layer.zip", slim=True, bytecode=False)
    assert report.runtimes == SUPPORTED_RUNTIMES
    assert not report.bytecode
    assert not [n for n in _names(report.path) if n.endswith(".pyc")]
    named = build_layer(
        tmp_path / "one.zip", slim=True, bytecode=False, runtimes=["python3.14", "python3.12"]
    )
    assert named.runtimes == ("python3.12", "python3.14")


# --- directory form --------------------------------------------------------------------------


def test_directory_form_matches_the_zip(
    built: dict[str, tuple[Path, LayerReport]], tmp_path: Path
) -> None:
    # Slim only: both forms stage the same tree (full or slim alike), then zip it or move it.
    path, zipped = built["slim"]
    report = build_layer_directory(tmp_path / "artifacts", slim=True)
    root = tmp_path / "artifacts"
    on_disk = {
        p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
    assert on_disk == _contents(path)
    assert report.path == root
    assert report.zipped_bytes is None
    assert report.files == zipped.files
    assert report.unzipped_bytes == zipped.unzipped_bytes
    assert report.distributions == zipped.distributions
    assert report.runtimes == zipped.runtimes
    for file in root.rglob("*"):
        if file.is_file():
            assert stat.S_IMODE(file.stat().st_mode) == 0o644


def test_directory_rebuild_replaces_python_only(tmp_path: Path) -> None:
    (tmp_path / "python" / "stale").mkdir(parents=True)
    (tmp_path / "python" / "stale" / "old.py").write_text("x = 1\n")
    (tmp_path / "Makefile").write_text("keep me\n")
    build_layer_directory(tmp_path, slim=True, bytecode=False)
    assert not (tmp_path / "python" / "stale").exists()
    assert (tmp_path / "python" / "lambda_assume_role" / "__init__.py").is_file()
    assert (tmp_path / "Makefile").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile", "python"]


def test_directory_is_created(tmp_path: Path) -> None:
    report = build_layer_directory(tmp_path / "a" / "b", slim=True, bytecode=False)
    assert (report.path / "python" / "lambda_assume_role" / "py.typed").is_file()


# --- atomicity and errors --------------------------------------------------------------------


def test_failed_build_keeps_the_previous_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "layer.zip"
    target.write_bytes(b"previous")
    calls = 0
    real = layer_build.zip_info

    def failing(arcname: str) -> zipfile.ZipInfo:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full")
        return real(arcname)

    monkeypatch.setattr(layer_build, "zip_info", failing)
    with pytest.raises(OSError, match="disk full"):
        build_layer(target, slim=True, bytecode=False)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["layer.zip"]


def _fake_distribution(
    site: Path, name: str, files: dict[str, str], requires: tuple[str, ...] = ()
) -> None:
    dist_info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"]
    metadata += [f"Requires-Dist: {r}\n" for r in requires]
    all_files = {
        **files,
        f"{dist_info.name}/METADATA": "".join(metadata),
        f"{dist_info.name}/INSTALLER": "pip\n",
        f"{dist_info.name}/WHEEL": "Wheel-Version: 1.0\n",
        f"{dist_info.name}/REQUESTED": "",
        f"{dist_info.name}/direct_url.json": "{}",
        f"{dist_info.name}/top_level.txt": f"{name.replace('-', '_')}\n",
        f"{dist_info.name}/LICENSE.txt": "MIT\n",
    }
    for relative, text in all_files.items():
        file = site / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    record = [f"{relative},," for relative in all_files]
    record += [f"{dist_info.name}/RECORD,,", "../../../bin/fake-script,,"]
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def test_distribution_files_are_filtered(fake_site: Path) -> None:
    _fake_distribution(
        fake_site,
        "fake-pkg",
        {
            "fake_pkg/__init__.py": "",
            "fake_pkg/core.py": "x = 1\n",
            "fake_pkg/core.pyi": "x: int\n",
            "fake_pkg/py.typed": "",
            "fake_pkg/data/schema.json": "{}",
            "fake_pkg/__pycache__/core.cpython-311.pyc": "",
            "fake_pkg/tests/test_core.py": "",
            "fake_pkg/test/helper.py": "",
            "fake-pkg.pth": "",
        },
    )
    dist = importlib.metadata.distribution("fake-pkg")
    entries = dict(distribution_entries(dist))
    assert sorted(entries) == [
        "python/fake_pkg-1.0.dist-info/LICENSE.txt",
        "python/fake_pkg-1.0.dist-info/METADATA",
        "python/fake_pkg-1.0.dist-info/top_level.txt",
        "python/fake_pkg/__init__.py",
        "python/fake_pkg/core.py",
        "python/fake_pkg/data/schema.json",
        "python/fake_pkg/py.typed",
    ]
    assert entries["python/fake_pkg/core.py"] == fake_site / "fake_pkg" / "core.py"


def test_compiled_code_is_refused(fake_site: Path) -> None:
    _fake_distribution(fake_site, "fake-native", {"fake_native/_speedups.so": ""})
    dist = importlib.metadata.distribution("fake-native")
    with pytest.raises(LayerBuildError, match="compiled code"):
        list(distribution_entries(dist))


def test_requirements_walk_skips_extras_markers_and_runtime(fake_site: Path) -> None:
    _fake_distribution(
        fake_site,
        "fake-root",
        {"fake_root/__init__.py": ""},
        requires=(
            "fake-dep>=1.0",
            "boto3>=1.34",
            "jmespath<2.0.0,>=1.0.1",
            "fake-missing-optional; extra == 'all'",
            'fake-missing-old; python_version < "3.0"',
            f'fake-new; python_version >= "3.8" and os_name == "{os.name}"',
        ),
    )
    _fake_distribution(
        fake_site,
        "fake-dep",
        {"fake_dep.py": ""},
        requires=("fake-root", "fake-extra-dep; extra == 'speed'"),
    )
    _fake_distribution(fake_site, "fake-new", {"fake_new.py": ""}, requires=("fake-dep[speed]",))
    _fake_distribution(fake_site, "fake-extra-dep", {"fake_extra_dep.py": ""})
    found = [d.metadata["Name"] for d in runtime_distributions("fake-root")]
    # Extras are not followed; a requirement that is not installed had a marker
    # that did not apply to this interpreter.
    assert found == ["fake-root", "fake-dep", "fake-new"]


def test_a_file_a_runtime_cannot_compile_fails_the_build_naming_it(tmp_path: Path) -> None:
    interpreter = next(filter(None, map(find_interpreter, SUPPORTED_RUNTIMES)), None)
    if interpreter is None:
        pytest.skip("no interpreter for a supported runtime here")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "bad.py").write_text("x = 1\ndef (:\n")
    with pytest.raises(LayerBuildError) as raised:
        compile_sources(tmp_path, ["pkg/good.py", "pkg/bad.py"], interpreter)
    assert str(raised.value).startswith(f"{interpreter.runtime}: {interpreter.executable} ")
    assert "pkg/bad.py, line 2: SyntaxError: invalid syntax" in str(raised.value)


def test_missing_root_distribution_is_an_error(fake_site: Path) -> None:
    with pytest.raises(LayerBuildError, match="fake-not-installed is not installed"):
        runtime_distributions("fake-not-installed")


def test_zip_parent_folders_are_created(tmp_path: Path) -> None:
    report = build_layer(tmp_path / "dist" / "layers" / "slim.zip", slim=True, bytecode=False)
    assert zipfile.is_zipfile(report.path)


# --- supported runtimes: one list, and the template and README agree with it ----------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    found = {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }
    assert found, f"template.yaml has no {kind}"
    return found


def test_supported_runtimes_are_python_3_12_and_newer_without_duplicates() -> None:
    versions = [tuple(map(int, r.removeprefix("python").split("."))) for r in SUPPORTED_RUNTIMES]
    assert all(r.startswith("python3.") for r in SUPPORTED_RUNTIMES)
    assert versions == sorted(set(versions))
    assert min(versions) >= (3, 12)  # 3.10 and 3.11 were deprecated on 2026-06-30


def test_template_layer_is_compatible_with_supported_runtimes_only(
    template: dict[str, Any],
) -> None:
    # Which of them: the runtimes its SAM build target compiles for
    # (tests/functional/tools/test_sam_build.py).
    for name, properties in _resources(template, "AWS::Serverless::LayerVersion").items():
        runtimes = properties["CompatibleRuntimes"]
        assert runtimes, name
        assert set(runtimes) <= set(SUPPORTED_RUNTIMES), name


def test_every_template_function_runs_on_a_supported_runtime(template: dict[str, Any]) -> None:
    default = template.get("Globals", {}).get("Function", {}).get("Runtime")
    for name, properties in _resources(template, "AWS::Serverless::Function").items():
        runtime = properties.get("Runtime", default)
        assert runtime in SUPPORTED_RUNTIMES, f"{name} runs on {runtime}"


def test_readme_publish_command_is_the_one_build_layer_prints() -> None:
    text = " ".join((REPOSITORY / "README.md").read_text().split())
    commands = re.findall(r"--compatible-runtimes((?: python3\.\d+)+)", text)
    assert commands, "README.md no longer shows --compatible-runtimes"
    for listed in commands:
        runtimes = tuple(listed.split())
        assert set(runtimes) <= set(SUPPORTED_RUNTIMES)
        printed = LayerReport(Path("build/layer.zip"), 1, 1, 1, (), runtimes=runtimes)
        assert printed.publish_command() in text
