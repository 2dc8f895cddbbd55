"""``when:`` conditions behave as Argo's shouldExecute (govaluate, bare words become strings)."""

from __future__ import annotations

import pytest

from argosy.errors import ExpressionError
from argosy.pipeline.expr import evaluate_when

HINT = ' (hint: try wrapping the affected expression in quotes ("))'


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param("", True, id="empty-runs"),
        pytest.param("heads == heads", True, id="coinflip-heads"),
        pytest.param("tails == heads", False, id="coinflip-tails"),
        pytest.param("Failed == Succeeded", False, id="status-words"),
        pytest.param("Failed != Succeeded", True, id="not-equal"),
        pytest.param("5 < 10", True, id="numbers"),
        pytest.param("10 < 10", False, id="numbers-strict"),
        pytest.param("1 < 2.5", True, id="float-compare"),
        pytest.param("10 == 10.0", True, id="numbers-are-float64"),
        pytest.param("-1 < 0", True, id="negative-prefix"),
        pytest.param("hello =~ hea", False, id="regex-no-match"),
        pytest.param("hello =~ 'h.*o'", True, id="regex-match"),
        pytest.param("hello !~ '^x'", True, id="regex-not-match"),
        pytest.param(
            "( heads == heads && tails == tails ) ||\n( tails == tails && x == y )",
            True,
            id="multiline-folded-yaml",
        ),
        pytest.param('"a-b" == "a-b"', True, id="quoted-hyphen"),
        pytest.param("'x' == x", True, id="single-quotes"),
        pytest.param("true == true", True, id="booleans"),
        pytest.param("true && false || true", True, id="and-binds-tighter"),
        pytest.param("a == b || c == c && d == e", False, id="or-of-ands"),
        pytest.param("!(a == b)", True, id="negated-clause"),
        pytest.param("b in (a, b)", True, id="in-list"),
        pytest.param("c in (a, b)", False, id="not-in-list"),
        pytest.param("abc > abb", True, id="string-ordering"),
        pytest.param("[my var] == [my var]", True, id="bracket-variable"),
        pytest.param("'2021-01-01' == '2021-01-01 00:00'", True, id="dates-compare-as-seconds"),
        pytest.param("'2021-01-01' < '2022-01-01'", True, id="date-ordering"),
        pytest.param("2 ** 3 ** 2 == 64", True, id="exponent-left-assoc"),
        pytest.param("(1 + 2) * 3 == 9", True, id="arithmetic"),
        pytest.param("a + 1 == a1", True, id="string-concat"),
        pytest.param("true ? false : true", False, id="ternary"),
    ],
)
def test_when(when: str, expected: bool) -> None:
    assert evaluate_when(when) is expected


@pytest.mark.parametrize(
    ("when", "message"),
    [
        pytest.param(
            "a-b == c",
            "Failed to evaluate 'when' expresion 'a-b == c': "
            "Value 'a' cannot be used with the modifier '-', it is not a number",
            id="hyphenated-word-is-subtraction",
        ),
        pytest.param(
            "a = b", f"Invalid 'when' expression 'a = b': Invalid token: '='{HINT}", id="invalid-token-hint"
        ),
        pytest.param("1 + 1", "Expected boolean evaluation for '1 + 1'. Got 2", id="non-bool"),
        pytest.param(
            "5 == 5 ? yes : no",
            "Expected boolean evaluation for '5 == 5 ? yes : no'. Got yes",
            id="non-bool-string",
        ),
        pytest.param("a, b", "Expected boolean evaluation for 'a, b'. Got [a b]", id="non-bool-list"),
        pytest.param(
            "x ==", "Invalid 'when' expression 'x ==': Unexpected end of expression", id="unexpected-end"
        ),
        pytest.param(
            "(a == b", "Invalid 'when' expression '(a == b': Unbalanced parenthesis", id="unbalanced"
        ),
        pytest.param(
            "foo(bar)",
            "Invalid 'when' expression 'foo(bar)': Undefined function foo",
            id="undefined-function",
        ),
        pytest.param(
            "!foo",
            "Failed to parse 'when' expression '!foo': Cannot transition token types from PREFIX [!] to STRING [foo]",
            id="negated-word",
        ),
        pytest.param(
            "5 (1)",
            "Invalid 'when' expression '5 (1)': Cannot transition token types from NUMERIC [5] to CLAUSE [40]",
            id="bad-transition",
        ),
        pytest.param(
            "1.2.3 == 1",
            "Invalid 'when' expression '1.2.3 == 1': Unable to parse numeric value '1.2.3' to float64\n",
            id="bad-number",
        ),
        pytest.param(
            "v1.2 == v1.2",
            "Failed to evaluate 'when' expresion 'v1.2 == v1.2': No parameter 'v1' found.",
            id="dotted-word-is-accessor",
        ),
        pytest.param(
            "foo.bar == x",
            "Invalid 'when' expression 'foo.bar == x': Unable to access unexported field 'bar' in token 'foo.bar'",
            id="unexported-accessor",
        ),
        pytest.param(
            "a < 5",
            "Failed to evaluate 'when' expresion 'a < 5': Value 'a' cannot be used with the comparator '<', it is not a number",
            id="mixed-compare",
        ),
        pytest.param(
            "Succeeded == Succeeded && 1",
            "Failed to evaluate 'when' expresion 'Succeeded == Succeeded && 1': "
            "Value '1' cannot be used with the logical operator '&&', it is not a bool",
            id="non-bool-logical",
        ),
        pytest.param(
            "a in (a)",
            "Failed to evaluate 'when' expresion 'a in (a)': Value 'a' cannot be used with the comparator 'in', it is not a number",
            id="in-needs-list",
        ),
        pytest.param(
            "it's == x", "Invalid 'when' expression 'it's == x': Unclosed string literal", id="apostrophe"
        ),
        pytest.param(
            "a =~ '('",
            "Invalid 'when' expression 'a =~ '('': error parsing regexp: missing closing ): `(`",
            id="bad-regex",
        ),
    ],
)
def test_when_errors(when: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate_when(when)
    assert str(info.value) == message
