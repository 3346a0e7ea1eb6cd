"""The AssumeRole parameter tables are the one list: assume_role's signature agrees with them."""

from __future__ import annotations

import inspect

from lambda_assume_role import assume_role
from lambda_assume_role.parameters import ASSUME_ROLE_KEYWORDS, ASSUME_ROLE_PARAMETERS
from lambda_assume_role.session_options import SESSION_OPTIONS, SESSION_OPTIONS_TABLE


def test_assume_role_signature_is_session_role_then_the_tables() -> None:
    names = list(inspect.signature(assume_role).parameters)
    assert names[:2] == ["session", "RoleArn"]
    assert set(names[2:]) == set(ASSUME_ROLE_KEYWORDS) | set(SESSION_OPTIONS)
    assert len(names) == 2 + len(ASSUME_ROLE_KEYWORDS) + len(SESSION_OPTIONS)


def test_every_keyword_is_keyword_only_and_defaults_to_none_or_true() -> None:
    parameters = inspect.signature(assume_role).parameters
    for name in (*ASSUME_ROLE_KEYWORDS, *SESSION_OPTIONS):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default in (None, True)


def test_table_entries_are_unique_and_documented() -> None:
    names = [p.name for p in ASSUME_ROLE_PARAMETERS] + [o.name for o in SESSION_OPTIONS_TABLE]
    assert len(names) == len(set(names))
    assert all(p.help for p in ASSUME_ROLE_PARAMETERS)
    assert all(p.cli in {"text", "int", "object", "list", "pairs"} for p in ASSUME_ROLE_PARAMETERS)


def test_the_docstring_documents_every_keyword() -> None:
    doc = inspect.getdoc(assume_role) or ""
    for name in (*ASSUME_ROLE_KEYWORDS, *SESSION_OPTIONS):
        assert f"{name}:" in doc


def test_the_session_options_reach_the_session_builder_and_the_registry_key() -> None:
    from lambda_assume_role.assume import session_for_parameters
    from lambda_assume_role.registry import PreparedRole

    built = set(SESSION_OPTIONS) - {"validate"}  # validate is spent in prepare_parameters
    builder = set(inspect.signature(session_for_parameters).parameters) - {"session", "params"}
    assert builder == built
    prepared = set(PreparedRole.__slots__) - {"params", "key"}
    assert prepared == built
