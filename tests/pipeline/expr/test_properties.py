"""Properties: arbitrary text only ever fails with ExpressionError; Go number spelling round-trips."""

from __future__ import annotations

import contextlib
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from argosy.errors import ExpressionError
from argosy.pipeline.expr import compile_expression, evaluate, evaluate_when, format_result
from argosy.pipeline.expr.gofmt import sprint

FRAGMENTS = [
    "a",
    "b.c",
    "x['y-z']",
    "1",
    "2.5",
    "0x1F",
    "1e3",
    "'s'",
    '"t"',
    "`r`",
    "nil",
    "true",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "and",
    "or",
    "not",
    "!",
    "in",
    "not in",
    "matches",
    "contains",
    "??",
    "?",
    ":",
    "?.",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "^",
    "|",
    "#",
    "#index",
    "let",
    "=",
    ";",
    "filter(",
    "map(",
    "all(",
    "reduce(",
    "len(",
    "asInt(",
    "asFloat(",
    "jsonpath(",
    "toJson(",
    "sprig.add(",
    "sprig.date(",
    "'$.a[*]'",
    "'{\"a\":[1]}'",
    "=~",
    "!~",
    "IN",
    "~",
    "<<",
    ">>",
    "&",
    "'2021-01-01'",
    "[my var]",
    "\\",
    "\n",
    "  ",
]
ENV = {"a": [1, "two", {"c": None}], "b": {"c": 3}, "x": {"y-z": "w"}}


def _only_expression_errors(text: str) -> None:
    for attempt in (
        lambda: compile_expression(text),
        lambda: evaluate(text, ENV),
        lambda: evaluate_when(text),
    ):
        with contextlib.suppress(ExpressionError):
            attempt()


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_random_text_raises_only_expression_errors(text: str) -> None:
    _only_expression_errors(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join))
def test_random_token_soup_raises_only_expression_errors(text: str) -> None:
    _only_expression_errors(text)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_float_spelling_round_trips(value: float) -> None:
    as_json = format_result(value)  # encoding/json: exponent only below 1e-6 or from 1e21
    assert float(as_json) == value
    assert ("e" in as_json) == (value != 0 and not 1e-6 <= abs(value) < 1e21)
    as_v = sprint(value)  # fmt %v: exponent below 1e-4 or from 1e6
    assert float(as_v) == value
    assert ("e" in as_v) == (value != 0 and not 1e-4 <= abs(value) < 1e6)


_WORD = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda w: w not in ("true", "false", "in", "IN")
)


@settings(max_examples=200, deadline=None)
@given(_WORD, _WORD)
def test_when_bare_words_compare_as_strings(left: str, right: str) -> None:
    assert evaluate_when(f"{left} == {right}") is (left == right)
    assert evaluate_when(f"{left} != {right}") is (left != right)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**31), 2**31), st.integers(-(2**31), 2**31))
def test_int_arithmetic_matches_go(a: int, b: int) -> None:
    env = {"a": a, "b": b}
    assert evaluate("a + b", env) == a + b
    assert evaluate("a * b", env) == a * b
    if b:
        assert evaluate("a % b", env) == int(math.fmod(a, b))
        assert evaluate("a / b", env) == a / b
