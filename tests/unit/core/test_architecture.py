"""The house's shape: no circle, no hall, a public surface built from one list.

import-linter (``lint-imports`` in ``make test``, contracts in pyproject.toml)
checks the layers; these tests check what its contracts cannot say.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import textwrap
from pathlib import Path

import grimp
import pytest

import lambda_assume_role
from tests.support.import_contracts import module_level_lines

PACKAGE_DIR = Path(lambda_assume_role.__file__).parent
MAX_LINES = 450


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="lambda_assume_role.")
    )


def test_no_module_is_a_hall() -> None:
    long = {
        str(path.relative_to(PACKAGE_DIR)): lines
        for path in PACKAGE_DIR.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them into rooms"


def test_the_package_has_no_import_circle() -> None:
    graph = grimp.build_graph("lambda_assume_role", exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    circles = [
        (a, b)
        for i, a in enumerate(modules)
        for b in modules[i + 1 :]
        if graph.chain_exists(importer=a, imported=b)
        and graph.chain_exists(importer=b, imported=a)
        # A package and its own modules: __init__ re-exports them (PEP 562 keeps it lazy).
        and not (b.startswith(a + ".") or a.startswith(b + "."))
    ]
    assert circles == []


def test_every_public_name_resolves_from_the_one_list() -> None:
    for name in lambda_assume_role.__all__:
        assert getattr(lambda_assume_role, name) is not None, name
    assert sorted(lambda_assume_role.__all__) == sorted(set(lambda_assume_role.__all__))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = lambda_assume_role.nope  # type: ignore[attr-defined]


def test_the_type_checking_imports_repeat_the_one_list() -> None:
    tree = ast.parse((PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name  # an explicit re-export
    }
    sources = lambda_assume_role._SOURCES  # type: ignore[attr-defined]
    assert {name: f"lambda_assume_role.{module}" for name, module in sources.items()} == typed


@pytest.mark.parametrize("module", _modules())
def test_every_module_says_what_it_exports_and_it_resolves(module: str) -> None:
    if module.endswith("__main__"):
        pytest.skip("__main__ runs the CLI when imported: it exports nothing")
    imported = importlib.import_module(module)
    exported = getattr(imported, "__all__", None)
    assert isinstance(exported, list), f"{module} has no __all__ list"
    for name in exported:
        assert hasattr(imported, name), f"{module}.__all__ names {name!r}, which is not there"


def test_module_level_lines_sees_only_imports_that_run_at_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import json
        if TYPE_CHECKING:
            import decimal
        else:
            import fractions
        def use():
            import aws_lambda_powertools
        class Holder:
            import array
            def method(self):
                import aws_xray_sdk
        """
    )
    (tmp_path / "probe_module.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    lines = module_level_lines("probe_module")
    text = source.splitlines()
    eager = sorted(text[n - 1].strip() for n in lines)
    assert eager == [
        "from typing import TYPE_CHECKING",
        "import array",
        "import fractions",
        "import json",
    ]
