r"""model.check: STS's whole AssumeRole model and the doc-only limits, before the network.

The pattern translation is compared with the `regex` library (which supports
Java-style ``\p{..}`` classes) as an oracle; `regex` is a dev dependency only.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
import regex
from botocore.model import Shape, ShapeResolver
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.model import (
    DOC_LIMITS,
    UnsupportedPatternError,
    check,
    compile_pattern,
)

ROLE = "arn:aws:iam::123456789012:role/Reader"
POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
BASE: dict[str, Any] = {"RoleArn": ROLE, "RoleSessionName": "session"}
TAG_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"

_STS = botocore.session.get_session().get_service_model("sts")
_INPUT = _STS.operation_model("AssumeRole").input_shape
assert _INPUT is not None
REQUEST: Any = _INPUT
# Limits that changed between botocore releases are read from the installed model, so the
# tests hold on the botocore floor (1.34: SourceIdentity at most 64, no minimum on
# ProvidedContexts) and on the newest (256, and at least 1).
SOURCE_IDENTITY_MAX: int = REQUEST.members["SourceIdentity"].metadata["max"]
_PROVIDED = REQUEST.members.get("ProvidedContexts")
PROVIDED_CONTEXTS_MIN: int = _PROVIDED.metadata.get("min", 0) if _PROVIDED is not None else 0


def _tags(count: int) -> list[dict[str, str]]:
    return [{"Key": f"k{i}", "Value": "v"} for i in range(count)]


def _rejection(params: Any, shape: Shape = REQUEST) -> str:
    with pytest.raises(InvalidParameterError) as caught:
        check(shape, params)
    message = str(caught.value)
    assert "\n" not in message
    assert "\r" not in message
    return message


# --- Every rule of the issue, by parameter path and rule ---------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"Tags": _tags(51)}, "Tags must have at most 50 items; got 51"),
        (
            {"Tags": [{"Key": "k" * 129, "Value": ""}]},
            "Tags[0].Key must be at most 128 characters; got 129",
        ),
        (
            {"Tags": [{"Key": "k", "Value": "v" * 257}]},
            "Tags[0].Value must be at most 256 characters; got 257",
        ),
        (
            {"Tags": [*_tags(3), {"Key": "a,b", "Value": ""}]},
            rf"Tags[3].Key must match {TAG_PATTERN}; got 'a,b'",
        ),
        (
            {"Tags": [{"Key": "k", "Value": "semi;colon"}]},
            r"Tags[0].Value must match [\p{L}\p{Z}\p{N}_.:/=+\-@]*; got 'semi;colon'",
        ),
        (
            {"TransitiveTagKeys": [f"k{i}" for i in range(51)]},
            "TransitiveTagKeys must have at most 50 items; got 51",
        ),
        ({"TransitiveTagKeys": ["a,b"]}, f"TransitiveTagKeys[0] must match {TAG_PATTERN}"),
        ({"ExternalId": "has space"}, r"ExternalId must match [\w+=,.@:\/-]*; got 'has space'"),
        ({"ExternalId": "x"}, "ExternalId must be at least 2 characters; got 1: 'x'"),
        ({"SourceIdentity": "has space"}, r"SourceIdentity must match [\w+=,.@-]*"),
        (
            {"SourceIdentity": "s" * (SOURCE_IDENTITY_MAX + 1)},
            f"SourceIdentity must be at most {SOURCE_IDENTITY_MAX} characters",
        ),
        ({"SerialNumber": "arn:aws:iam::1:mfa/has space"}, "SerialNumber must match"),
        ({"RoleSessionName": "s" * 65}, "RoleSessionName must be at most 64 characters"),
        ({"RoleSessionName": "has space"}, r"RoleSessionName must match [\w+=,.@-]*"),
        (
            {"PolicyArns": [{"arn": POLICY_ARN}] * 11},
            "PolicyArns must have at most 10 items (AWS STS API Reference, AssumeRole); got 11",
        ),
        (
            {"Policy": "x" * 2049},
            "Policy must be at most 2048 characters (AWS STS API Reference, AssumeRole); got 2049",
        ),
        ({"Policy": '{"é": "日本"}'}, r"Policy must match [\u0009\u000A\u000D\u0020-\u00FF]+"),
        (
            {"PolicyArns": [{"arn": "arn:short"}]},
            "PolicyArns[0].arn must be at least 20 characters",
        ),
        ({"DurationSeconds": 899}, "DurationSeconds must be between 900 and 43200; got 899"),
        ({"DurationSeconds": 43201}, "DurationSeconds must be between 900 and 43200; got 43201"),
        pytest.param(
            {"ProvidedContexts": []},
            "ProvidedContexts must have at least 1 item; got 0",
            marks=pytest.mark.skipif(
                PROVIDED_CONTEXTS_MIN < 1,
                reason="this botocore's STS model sets no minimum on ProvidedContexts",
            ),
        ),
    ],
)
def test_each_model_and_doc_rule_is_enforced_and_named(
    given: dict[str, Any], expected: str
) -> None:
    assert expected in _rejection({**BASE, **given})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"Tags": 5}, "Tags must be a list; got int: 5"),
        ({"Tags": {"team": "data"}}, "Tags must be a list; got dict"),
        ({"Tags": [5]}, "Tags[0] must be a mapping with members Key, Value; got int: 5"),
        ({"Tags": [{"Key": "k", "Value": 5}]}, "Tags[0].Value must be a string; got int: 5"),
        ({"PolicyArns": [1]}, "PolicyArns[0] must be a mapping with members arn; got int: 1"),
        ({"PolicyArns": POLICY_ARN}, "PolicyArns must be a list; got str"),
        ({"DurationSeconds": True}, "DurationSeconds must be an integer; got bool: True"),
        ({"DurationSeconds": 900.0}, "DurationSeconds must be an integer; got float: 900.0"),
        ({"DurationSeconds": "900"}, "DurationSeconds must be an integer; got str: '900'"),
        ({"ExternalId": None}, "ExternalId must be a string; got NoneType: None"),
        ({"RoleArn": 5}, "RoleArn must be a string; got int: 5"),
    ],
)
def test_a_wrong_type_names_the_parameter(given: dict[str, Any], expected: str) -> None:
    assert expected in _rejection({**BASE, **given})


def test_a_missing_required_member_is_reported() -> None:
    assert _rejection({"RoleArn": ROLE}) == "RoleSessionName is required"
    assert _rejection({**BASE, "Tags": [{"Key": "k"}]}) == "Tags[0].Value is required"


def test_an_unknown_parameter_is_named_and_its_value_never_shown() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    message = _rejection({**BASE, "SecretAccessKey": secret})
    assert message.startswith("SecretAccessKey is not an AssumeRole parameter (known: ")
    assert "RoleSessionName" in message
    assert secret not in message
    nested = _rejection({**BASE, "Tags": [{"Key": "k", "Value": "v", "key": secret}]})
    assert nested.startswith("Tags[0].key is not a member of Tag (known: Key, Value)")
    assert secret not in nested


def test_the_request_itself_must_be_a_mapping() -> None:
    members = ", ".join(REQUEST.members)
    expected = f"the request must be a mapping with members {members}; got list"
    assert _rejection(["RoleArn", ROLE]) == expected


def test_errors_are_value_errors_and_botocore_param_validation_errors() -> None:
    with pytest.raises(ValueError, match="Tags must have at most 50 items"):
        check(REQUEST, {**BASE, "Tags": _tags(51)})
    with pytest.raises(botocore.exceptions.ParamValidationError):
        check(REQUEST, {**BASE, "Tags": _tags(51)})


# --- Boundaries: the largest and smallest legal values pass, one more fails ---------


def test_the_largest_and_smallest_legal_values_pass() -> None:
    check(
        REQUEST,
        {
            "RoleArn": ROLE,
            "RoleSessionName": "s" * 64,
            "Tags": [
                {"Key": "k" * 128, "Value": "v" * 256},
                {"Key": "Größe", "Value": ""},
                {"Key": "日本", "Value": "東京 ١٢٣ Ⅻ"},
                {"Key": "with space\u3000ideographic", "Value": "_.:/=+-@"},
                *_tags(46),
            ],
            "TransitiveTagKeys": ["Größe", *(f"k{i}" for i in range(49))],
            "PolicyArns": [{"arn": POLICY_ARN}] * 10,
            "Policy": "x" * 2048,
            "ExternalId": "ab",
            "SerialNumber": "arn:aws:iam::123456789012:mfa/user",
            "TokenCode": "012345",
            "SourceIdentity": "a" * SOURCE_IDENTITY_MAX,
            "DurationSeconds": 43200,
        },
    )
    check(
        REQUEST, {**BASE, "ExternalId": "x" * 1224, "DurationSeconds": 900, "RoleSessionName": "ab"}
    )


@pytest.mark.parametrize(
    ("name", "legal", "one_more"),
    [
        ("Tags", _tags(50), _tags(51)),
        ("Tags", [{"Key": "k" * 128, "Value": ""}], [{"Key": "k" * 129, "Value": ""}]),
        ("Tags", [{"Key": "k", "Value": "v" * 256}], [{"Key": "k", "Value": "v" * 257}]),
        ("TransitiveTagKeys", ["k"] * 50, ["k"] * 51),
        ("ExternalId", "ab", "a"),
        ("ExternalId", "x" * 1224, "x" * 1225),
        ("PolicyArns", [{"arn": POLICY_ARN}] * 10, [{"arn": POLICY_ARN}] * 11),
        ("Policy", "x" * 2048, "x" * 2049),
        ("TokenCode", "123456", "1234567"),
        ("DurationSeconds", 900, 899),
        ("RoleSessionName", "ab", "a"),
    ],
)
def test_a_bound_is_legal_and_one_past_it_is_not(name: str, legal: Any, one_more: Any) -> None:
    check(REQUEST, {**BASE, name: legal})
    assert _rejection({**BASE, name: one_more}).startswith(name)


def test_doc_limits_are_only_for_what_the_model_does_not_carry() -> None:
    members = REQUEST.members
    for name, limit in DOC_LIMITS.items():
        model_max = members[name].metadata.get("max")
        assert model_max is None or model_max > limit.max, name


# --- Secrets and long values ---------------------------------------------------------


@pytest.mark.parametrize("token", ["abcdef", "9876543", "98765", "98 76 5"])
def test_a_token_code_never_appears_in_a_message(token: str) -> None:
    message = _rejection({**BASE, "SerialNumber": "arn:aws:iam::1:mfa/u", "TokenCode": token})
    assert message.startswith("TokenCode must ")
    assert token not in message
    assert "not shown" in message or "got " in message


def test_a_token_code_of_the_wrong_type_shows_only_its_type() -> None:
    assert _rejection({**BASE, "TokenCode": 987654}) == "TokenCode must be a string; got int"


def test_a_sensitive_shape_is_never_echoed() -> None:
    message = _rejection({"Name": "n", "Password": "Hunter2!"}, DEMO)
    assert message == "Password must match [a-z]+; got a value that is not shown (it is secret)"


def test_a_long_or_multi_line_value_is_cut_and_kept_on_one_line() -> None:
    message = _rejection({**BASE, "ExternalId": "bad value " * 100})
    assert message.endswith(
        "got 'bad value bad value bad value bad value bad value bad value bad '..."
    )
    assert len(message) < 200
    assert "\\n" in _rejection({**BASE, "Tags": [{"Key": "line\nbreak", "Value": ""}]})
    assert "\\u2028" in _rejection({**BASE, "ExternalId": "x\u2028y"})


# --- The walker is generic: other shape types and rules -------------------------------

DEMO = ShapeResolver(
    {
        "DemoRequest": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Name"},
                "Mode": {"shape": "Mode"},
                "Flag": {"shape": "Flag"},
                "When": {"shape": "When"},
                "Data": {"shape": "Data"},
                "Labels": {"shape": "Labels"},
                "Size": {"shape": "Size"},
                "Ratio": {"shape": "Ratio"},
                "Password": {"shape": "Password"},
                "Lookahead": {"shape": "Lookahead"},
            },
        },
        "Name": {"type": "string", "min": 1, "max": 8},
        "Mode": {"type": "string", "enum": ["fast", "slow"]},
        "Flag": {"type": "boolean"},
        "When": {"type": "timestamp"},
        "Data": {"type": "blob", "max": 4},
        "Labels": {
            "type": "map",
            "key": {"shape": "Name"},
            "value": {"shape": "Name"},
            "max": 2,
        },
        "Size": {"type": "long", "min": 1},
        "Ratio": {"type": "double", "max": 1},
        "Password": {"type": "string", "sensitive": True, "pattern": "[a-z]+"},
        "Lookahead": {"type": "string", "pattern": "(?=x)x"},
    }
).get_shape_by_name("DemoRequest")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"Mode": "medium"}, "Mode must be one of fast, slow; got 'medium'"),
        ({"Flag": 1}, "Flag must be True or False; got int: 1"),
        ({"When": 5}, "When must be a datetime or a timestamp string; got int"),
        ({"Data": b"12345"}, "Data must be at most 4 bytes; got 5"),
        ({"Data": 5}, "Data must be bytes, a string or a file-like object; got int"),
        ({"Labels": {"a": "1", "b": "2", "c": "3"}}, "Labels must have at most 2 entries; got 3"),
        ({"Labels": {"a": "123456789"}}, "Labels['a'] must be at most 8 characters"),
        ({"Labels": {"": "x"}}, "Labels key must be at least 1 character; got 0"),
        ({"Size": 0}, "Size must be at least 1; got 0"),
        ({"Size": False}, "Size must be an integer; got bool"),
        ({"Ratio": 1.5}, "Ratio must be at most 1; got 1.5"),
        ({"Extra": 1}, "Extra is not a Demo parameter"),
    ],
)
def test_every_shape_type_is_checked(given: dict[str, Any], expected: str) -> None:
    assert expected in _rejection({"Name": "n", **given}, DEMO)


def test_values_of_every_shape_type_pass() -> None:
    import datetime
    import io

    check(
        DEMO,
        {
            "Name": "n",
            "Mode": "fast",
            "Flag": False,
            "When": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            "Data": io.BytesIO(b"anything"),
            "Labels": {"a": "1", "b": "2"},
            "Size": 2**40,
            "Ratio": 1,
            "Password": "secret",
        },
    )


def test_a_pattern_it_cannot_translate_is_left_to_sts() -> None:
    with pytest.raises(UnsupportedPatternError):
        compile_pattern("(?=x)x")
    check(DEMO, {"Name": "n", "Lookahead": "anything"})


# --- Pattern translation against the `regex` oracle ----------------------------------


def _model_patterns() -> set[str]:
    patterns = set()
    for name in _STS.shape_names:
        pattern = _STS.shape_for(name).metadata.get("pattern")
        if pattern is not None:
            patterns.add(pattern)
    return patterns


STS_PATTERNS = sorted(_model_patterns())


def _oracle(pattern: str) -> Any:
    # Java's \w, \d and \s are ASCII; its \p{..} are Unicode. `regex` applies its
    # ASCII flag to \p{..} too, so a pattern is compiled with it only when it
    # has no property class (no STS pattern mixes both: checked below).
    has_properties = "\\p" in pattern or "\\P" in pattern
    return regex.compile(pattern, regex.V0 | (0 if has_properties else regex.ASCII))


def test_every_pattern_in_the_sts_model_translates() -> None:
    assert len(STS_PATTERNS) >= 10
    assert TAG_PATTERN in STS_PATTERNS
    for pattern in STS_PATTERNS:
        translated = compile_pattern(pattern)  # raises UnsupportedPatternError if not
        translated.fullmatch("é")  # the non-ASCII translation too
        has_properties = "\\p" in pattern or "\\P" in pattern
        has_ascii_escapes = any(f"\\{c}" in pattern for c in "dDwWsS")
        assert not (has_properties and has_ascii_escapes), pattern


# Characters from every assigned general category (the oracle's Unicode tables
# may be newer than this interpreter's, so unassigned code points are left out),
# plus the edges of the model's ranges and the characters the patterns name.
_EDGES = (
    '\t\n\r\x0b\x1f !"#,-09:;@AZ[\\]_`az{~\x7f\x84\x85\x86\x9f\xa0\xa1\xff\u0100\u1000\u10ff\u1100'
)
_EDGES += "\ud7ff\ud800\udfff\ue000\ufffd\ufffe\U00010000\U0010ffff\u3000\u2028\u00b2\u0661Ⅻ"
CHARACTERS = st.one_of(
    st.characters(exclude_categories=("Cn",)),
    st.sampled_from(_EDGES),
    st.characters(max_codepoint=0x7F),
)


def _samples_per_category(per_category: int = 40) -> list[str]:
    found: dict[str, list[str]] = {}
    for code_point in range(0x110000):
        char = chr(code_point)
        category = unicodedata.category(char)
        if category != "Cn":
            found.setdefault(category, []).append(char)
    samples = []
    for chars in found.values():
        step = max(1, len(chars) // per_category)
        samples.extend(chars[::step])
        samples.append(chars[-1])
    return samples


SYNTHETIC_PATTERNS = [
    TAG_PATTERN,
    r"[^\p{L}\p{N}]+",
    r"\P{L}*",
    r"(\p{Lu}\p{Ll}+|[0-9]{2,3})+",
    r"[\p{Zs}x-z]?\pN",
    r"[\p{Lu}\p{Nd}_]*",
    r"\p{Cs}|\p{Co}|\p{Cc}",
    r"[^\P{Lo}\u3042]+",
]
"""Patterns beyond the model's, for the property-class translation's other paths."""

ALL_PATTERNS = sorted({*STS_PATTERNS, *SYNTHETIC_PATTERNS})


@pytest.fixture(scope="module")
def samples() -> list[str]:
    """Code points of every assigned general category, spread over each."""
    return _samples_per_category()


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
def test_translation_agrees_with_the_regex_library_for_every_category(
    pattern: str, samples: list[str]
) -> None:
    oracle = _oracle(pattern)
    translated = compile_pattern(pattern)
    for char in samples:
        for value in (char, char * 3, f"A{char}", f"{char}12", f"{char} x"):
            assert translated.fullmatch(value) is (oracle.fullmatch(value) is not None), (
                pattern,
                value,
                unicodedata.category(char),
            )


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
@settings(max_examples=100, deadline=None)
@given(value=st.text(CHARACTERS, max_size=12))
def test_translation_agrees_with_the_regex_library(pattern: str, value: str) -> None:
    expected = _oracle(pattern).fullmatch(value) is not None
    assert compile_pattern(pattern).fullmatch(value) is expected


def test_java_escapes_keep_their_java_meaning() -> None:
    # \w and \d are ASCII in Java (and in STS's rules), Unicode in Python's re.
    assert not compile_pattern(r"[\w+=,.@-]*").fullmatch("Größe")
    assert not compile_pattern(r"[\d]*").fullmatch("١٢٣٤٥٦")
    assert compile_pattern(r"[\d]*").fullmatch("123456")
    # \uXXXX takes four hex digits: \u10000 is U+1000 then "0", as in Java.
    arn = compile_pattern(r"[\u10000-\u10FFFF]+")
    assert arn.fullmatch("\u1000F0")
    assert not arn.fullmatch("\U00010000")
    # Java's "." stops at all of its line terminators, not just "\n".
    dot = compile_pattern("a.b")
    assert dot.fullmatch("a-b")
    assert dot.fullmatch("a\U0001f600b")
    assert not any(dot.fullmatch(f"a{t}b") for t in "\n\r\x85\u2028\u2029")
    assert compile_pattern(r"\x41\t\/").fullmatch("A\t/")
    assert compile_pattern(r"[\x{1F600}-\x{1F64F}]").fullmatch("\U0001f600")
    # Java's other spellings of a general category (`regex` knows neither).
    for spelling in (r"\p{IsLu}", r"\p{gc=Lu}", r"\p{general_category=Lu}"):
        assert compile_pattern(spelling).fullmatch("É")
        assert not compile_pattern(spelling).fullmatch("é")


@pytest.mark.parametrize(
    "pattern",
    [
        "(?=x)x",
        "(?i)x",
        r"\Qx\E",
        r"[a&&b]",
        r"[a[b]]",
        r"\p{Alpha}",
        r"\p{IsLatin}",
        "a*+",
        r"(a)\1",
        "a^b",
        "[]a]",
        "[b-a]",
        "[a",
        "\\",
        r"\u12",
        r"\bword",
        "a{,2}",
    ],
)
def test_syntax_it_does_not_translate_is_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedPatternError):
        compile_pattern(pattern)


# --- Cold-start cost ------------------------------------------------------------------


def test_translating_the_tag_pattern_is_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted work, not wall-clock time: a table over all 0x110000 code points
    # (~0.2 s at cold start) shows as category look-ups or as pattern text.
    calls = 0
    category = unicodedata.category

    def counting(char: str) -> str:
        nonlocal calls
        calls += 1
        return category(char)

    monkeypatch.setattr(unicodedata, "category", counting)
    fresh = compile_pattern.__wrapped__(TAG_PATTERN)  # not the memoised one
    assert fresh.fullmatch("team")
    assert fresh.fullmatch("Größe")
    # 128 ASCII look-ups for the ASCII fast path, then at most one per character
    # of the non-ASCII value: no table over all code points.
    assert calls <= 128 + len("Größe")
    # The translations grow with the pattern, not with Unicode: \p{L} alone
    # written as ranges would be ~650 ranges, some 9,000 characters.
    assert fresh.paired is not None
    assert len(fresh.plain) + len(fresh.paired) < 1000


def test_a_pattern_is_translated_once() -> None:
    assert compile_pattern(TAG_PATTERN) is compile_pattern(TAG_PATTERN)
