"""An import-linter contract for cold start: some packages may be imported only inside functions.

import-linter's own ``forbidden`` contract forbids an import anywhere in a
module. Cold start needs a finer rule: Powertools, aws_xray_sdk and the durable
execution SDK may be imported by the runtime package only where they are used
(inside a function), never when a module is imported. This contract reads each
import that import-linter's graph reports and checks, from the importer's
source, that it sits inside a function body (or an ``if TYPE_CHECKING:``
block, which never runs).

Configured in pyproject.toml::

    [[tool.importlinter.contracts]]
    type = "module_level_forbidden"
    source_modules = ["lambda_assume_role"]
    forbidden_modules = ["aws_lambda_powertools", "aws_xray_sdk"]
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from importlinter import Contract, ContractCheck, fields, output

__all__ = ["ModuleLevelForbiddenContract", "module_level_lines"]


class ModuleLevelForbiddenContract(Contract):  # type: ignore[misc]
    """Source modules (and their descendants) never import the forbidden ones at module level."""

    type_name = "module_level_forbidden"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        broken: list[dict[str, Any]] = []
        present = [m.name for m in self.forbidden_modules if m.name in graph.modules]
        for source in self.source_modules:
            importers = {source.name} | set(graph.find_descendants(source.name))
            for importer in sorted(importers):
                for forbidden in present:
                    details = graph.get_import_details(importer=importer, imported=forbidden)
                    eager = module_level_lines(importer)
                    broken.extend(
                        {"importer": importer, "imported": forbidden, **detail}
                        for detail in details
                        if detail["line_number"] in eager
                    )
        return ContractCheck(kept=not broken, warnings=[], metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            output.print_error(
                f"{item['importer']} imports {item['imported']} when it is imported "
                f"(l.{item['line_number']}: {item['line_contents']}); import it inside the "
                "function that uses it",
                bold=False,
            )
            output.new_line()


@cache
def module_level_lines(module: str) -> frozenset[int]:
    """The line numbers of the import statements that run when ``module`` is imported.

    Imports inside a function or class-method body, or under ``if TYPE_CHECKING:``,
    are not among them.

    Example:
        >>> 1 in module_level_lines("tests.support.import_contracts")
        False
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return frozenset()
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    lines: set[int] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return frozenset(lines)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
