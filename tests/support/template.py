"""template.yaml as data: its resources, with CloudFormation's short tags kept as mappings.

``!GetAtt TenantDataRole.Arn`` reads as ``{"GetAtt": "TenantDataRole.Arn"}`` and
``!Ref Table`` as ``{"Ref": "Table"}``, so a test can inspect a policy document
or substitute the names a moto deployment has (`resolve_intrinsics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (``!Ref``, ``!GetAtt``, ...) read as mappings."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


_TemplateLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short tags as ``{"Ref": ...}``-style mappings."""
    loaded = yaml.load(path.read_text(), Loader=_TemplateLoader)
    assert isinstance(loaded, dict)
    return loaded


def resolve_intrinsics(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with every ``{"GetAtt": x}`` / ``{"Ref": x}`` replaced by ``names[x]``.

    Any other intrinsic, or a name missing from ``names``, raises KeyError: a test
    never deploys a document it has not fully resolved.
    """
    if isinstance(value, dict):
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key in ("GetAtt", "Ref"):
                return names[argument]
            if key in ("Sub", "Join", "Select", "If", "ImportValue", "FindInMap", "Split"):
                raise KeyError(f"cannot resolve !{key} {argument!r}")
        return {key: resolve_intrinsics(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_intrinsics(item, names) for item in value]
    return value
