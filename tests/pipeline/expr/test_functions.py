"""Builtins, ``sprig.*`` and ``jsonpath`` give the results a workflow author sees on Argo."""

from __future__ import annotations

from typing import Any

import pytest

from argosy.errors import ExpressionError
from argosy.pipeline.expr import evaluate, format_result
from argosy.pipeline.expr.gofmt import sprint

BOOKS = (
    '{"store":{"book":[{"title":"A","price":8.95,"cat":"ref"},{"title":"B","price":12.99,"cat":"fic"},'
    '{"title":"C","price":22.5,"cat":"fic"}],"bicycle":{"color":"red","price":19.95}}}'
)
ENV = {"j": BOOKS, "csv": "a,b,c"}


@pytest.mark.parametrize(
    ("expression", "rendered"),
    [
        # expr-lang builtins
        pytest.param("len('héllo')", "6", id="len-counts-bytes"),
        pytest.param("len([1, 2]) + len({a: 1})", "3", id="len-collections"),
        pytest.param("upper('abc') + lower('DEF')", "ABCdef", id="case"),
        pytest.param("trim('  x  ') + trim('xxaxx', 'x')", "xa", id="trim"),
        pytest.param(
            "trimPrefix('foobar', 'foo') + trimSuffix('foobar', 'bar')", "barfoo", id="trim-prefix-suffix"
        ),
        pytest.param("split('a,b,c', ',')", "[a b c]", id="split"),
        pytest.param("split('a,b,c', ',', 2)", "[a b,c]", id="splitN"),
        pytest.param("splitAfter('a,b', ',')", "[a, b]", id="splitAfter"),
        pytest.param("replace('aaa', 'a', 'b')", "bbb", id="replace-all"),
        pytest.param("replace('aaa', 'a', 'b', 2)", "bba", id="replace-n"),
        pytest.param("repeat('ab', 2)", "abab", id="repeat"),
        pytest.param("join(['a', 'b'], '-')", "a-b", id="join"),
        pytest.param("indexOf('héllo', 'l')", "3", id="indexOf-bytes"),
        pytest.param("lastIndexOf('hello', 'l')", "3", id="lastIndexOf"),
        pytest.param("hasPrefix('abc', 'ab') && hasSuffix('abc', 'bc')", "true", id="has-prefix-suffix"),
        pytest.param("int('42') + int(3.9)", "45", id="int"),
        pytest.param("float('1e3')", "1000", id="float"),
        pytest.param("string(1.5) + string(nil)", "1.5<nil>", id="string"),
        pytest.param("abs(-3) + abs(-1.5)", "4.5", id="abs"),
        pytest.param("[ceil(1.2), floor(-1.5), round(2.5)]", "[2 -2 3]", id="rounding"),
        pytest.param("max(1, 2.5, [7]) + min([3, 1])", "8", id="max-min"),
        pytest.param("[mean([1, 2]), median([3, 1, 2])]", "[1.5 2]", id="mean-median"),
        pytest.param("toJSON({a: [1, 'x']})", '{\n  "a": [\n    1,\n    "x"\n  ]\n}', id="toJSON-indents"),
        pytest.param("fromJSON('{\"a\": [1, 2]}').a", "[1 2]", id="fromJSON"),
        pytest.param("toBase64('hi') + fromBase64('aGk=')", "aGk=hi", id="base64"),
        pytest.param("keys({b: 1, a: 2})", "[a b]", id="keys"),
        pytest.param("values({b: 1, a: 2})", "[2 1]", id="values"),
        pytest.param("[first([1, 2]), last([1, 2]), first([])]", "[1 2 <nil>]", id="first-last"),
        pytest.param("get({a: 1}, 'a') + get([5], 0)", "6", id="get"),
        pytest.param("get({a: 1}, 'zz') ?? 'none'", "none", id="get-missing"),
        pytest.param("reverse([1, 2])", "[2 1]", id="reverse"),
        pytest.param("uniq([1, 1.0, 2])", "[1 2]", id="uniq"),
        pytest.param("concat([1], [2, 3])", "[1 2 3]", id="concat"),
        pytest.param("flatten([1, [2, [3]]])", "[1 2 3]", id="flatten"),
        pytest.param("sort([3, 1, 2])", "[1 2 3]", id="sort"),
        pytest.param("sort(['b', 'a', 'c'], 'desc')", "[c b a]", id="sort-desc"),
        pytest.param("take([1, 2, 3], 2)", "[1 2]", id="take"),
        pytest.param("toPairs({a: 1})", "[[a 1]]", id="toPairs"),
        pytest.param("fromPairs([['a', 1]])", "map[a:1]", id="fromPairs"),
        pytest.param("type([]) + type({}) + type(1.5)", "arraymapfloat", id="type"),
        pytest.param("[bitand(6, 3), bitor(4, 1), bitshl(1, 4), bitnot(0)]", "[2 5 16 -1]", id="bits"),
        pytest.param("duration('1h30m').Minutes()", "90", id="duration"),
        pytest.param(
            "date('2024-02-03 04:05:06').Format('Jan 2, 2006 at 3:04pm (MST)')",
            "Feb 3, 2024 at 4:05am (UTC)",
            id="date-format",
        ),
        pytest.param("date('03/02/2024', '02/01/2006').Month()", "2", id="date-layout"),
        # sprig (argument order, lenient casts, int64 results)
        pytest.param("sprig.trimAll('$', '$$5.00$')", "5.00", id="sprig-trimAll"),
        pytest.param(
            "sprig.trimSuffix('-x', 'a-x') + sprig.trimPrefix('x-', 'x-b')", "ab", id="sprig-trim-affixes"
        ),
        pytest.param("sprig.replace('a', 'b', 'banana')", "bbnbnb", id="sprig-replace"),
        pytest.param("sprig.contains('nan', 'banana')", "true", id="sprig-contains"),
        pytest.param(
            "sprig.hasPrefix('ba', 'banana') && sprig.hasSuffix('na', 'banana')", "true", id="sprig-affixes"
        ),
        pytest.param("sprig.upper('x') + sprig.lower('Y')", "Xy", id="sprig-case"),
        pytest.param("sprig.default('fallback', '')", "fallback", id="sprig-default-empty"),
        pytest.param("sprig.default('fallback', 'given')", "given", id="sprig-default-given"),
        pytest.param(
            "[sprig.empty(0), sprig.empty(''), sprig.empty([]), sprig.empty('x')]",
            "[true true true false]",
            id="sprig-empty",
        ),
        pytest.param(
            "sprig.b64enc('hello') + ' ' + sprig.b64dec('aGVsbG8=')", "aGVsbG8= hello", id="sprig-base64"
        ),
        pytest.param("sprig.toString(1000000.0)", "1e+06", id="sprig-toString"),
        pytest.param(
            "[sprig.int('42'), sprig.int('0x1F'), sprig.int('3.0'), sprig.int('abc')]",
            "[42 31 3 0]",
            id="sprig-int-casts",
        ),
        pytest.param("sprig.atoi('12') + sprig.atoi('x')", "12", id="sprig-atoi"),
        pytest.param("sprig.float64('1.5') * 2", "3", id="sprig-float64"),
        pytest.param(
            "[sprig.add(1, '2', 3.7), sprig.sub(10, '3'), sprig.mul(2, 3, '4')]",
            "[6 7 24]",
            id="sprig-int-math",
        ),
        pytest.param(
            "[sprig.div(7, 2), sprig.div(-7, 2), sprig.mod(-7, 3)]", "[3 -3 -1]", id="sprig-div-mod-truncate"
        ),
        pytest.param(
            "[sprig.max(1, 7, '3'), sprig.min(4, 2, 9), sprig.biggest(1, 2)]", "[7 2 2]", id="sprig-max-min"
        ),
        pytest.param(
            "[sprig.addf(1.1, 2.2), sprig.divf(1, 4), sprig.round(3.14159, 2)]",
            "[3.3 0.25 3.14]",
            id="sprig-float-math",
        ),
        pytest.param(
            "sprig.quote('a\"b', 1) + ' ' + sprig.squote('c')", '"a\\"b" "1" \'c\'', id="sprig-quote"
        ),
        pytest.param("sprig.list(1, 'a')", "[1 a]", id="sprig-list"),
        pytest.param("sprig.dict('a', 1, 'b')", "map[a:1 b:]", id="sprig-dict"),
        pytest.param("sprig.join('-', [1, 'a', nil])", "1-a", id="sprig-join"),
        pytest.param("sprig.split(',', csv)._1", "b", id="sprig-split-map"),
        pytest.param("sprig.splitList(',', csv)", "[a b c]", id="sprig-splitList"),
        pytest.param("sprig.toJson({a: '<b>'})", '{"a":"\\u003cb\\u003e"}', id="sprig-toJson-html-escapes"),
        pytest.param("sprig.fromJson('{\"a\": 1}').a + 1", "2", id="sprig-fromJson"),
        pytest.param(
            "sprig.substr(1, 3, 'hello') + sprig.trunc(2, 'hello')", "elhe", id="sprig-substr-trunc"
        ),
        pytest.param(
            "sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-", id="sprig-regexReplaceAll"
        ),
        pytest.param("sprig.until(3)", "[0 1 2]", id="sprig-until"),
        pytest.param("sprig.ternary('y', 'n', 1 > 0)", "y", id="sprig-ternary"),
        pytest.param("sprig.duration(95)", "1m35s", id="sprig-duration"),
        pytest.param("sprig.toDate('2006-01-02', '2024-02-03').Year()", "2024", id="sprig-toDate"),
        # jsonpath (definite paths give the value, everything else a list)
        pytest.param("jsonpath(j, '$.store.bicycle.color')", "red", id="jp-key"),
        pytest.param("jsonpath(j, \"$['store']['bicycle'].price\")", "19.95", id="jp-bracket-keys"),
        pytest.param("jsonpath(j, '$.store.book[-1].title')", "C", id="jp-negative-index"),
        pytest.param("jsonpath(j, '$.store.book[*].title')", "[A B C]", id="jp-wildcard"),
        pytest.param("jsonpath(j, '$.store.book[0,2].title')", "[A C]", id="jp-union"),
        pytest.param("jsonpath(j, '$.store.book[1:].price')", "[12.99 22.5]", id="jp-slice"),
        pytest.param("jsonpath(j, '$.store.book[?(@.price < 10)].title')", "[A]", id="jp-filter"),
        pytest.param(
            "jsonpath(j, '$.store.book[?(@.cat == \"fic\")].title')", "[B C]", id="jp-filter-string"
        ),
        pytest.param(
            "jsonpath(j, '$.store.book[?(@.title =~ /^[AB]$/)].price')", "[8.95 12.99]", id="jp-filter-regex"
        ),
        pytest.param("jsonpath(j, '$.store.book.length')", "3", id="jp-length"),
        pytest.param("jsonpath(j, '$.store.book[(@.length-1)].title')", "C", id="jp-script"),
        pytest.param("jsonpath(j, '$.store.bicycle')", "map[color:red price:19.95]", id="jp-object"),
        pytest.param("len(jsonpath(j, '$..price'))", "4", id="jp-recursive"),
    ],
)
def test_functions(expression: str, rendered: str) -> None:
    # rendered with Go's %v, which is what string() and sprig.toString show
    assert sprint(evaluate(expression, ENV)) == rendered


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("upper(1)", "interface conversion: interface {} is int, not string", id="upper-type"),
        pytest.param("int('3.5')", "invalid operation: int(3.5)", id="int-bad-string"),
        pytest.param("float('x')", "invalid operation: float(x)", id="float-bad-string"),
        pytest.param("fromJSON('{')", "unexpected end of JSON input", id="fromJSON-bad"),
        pytest.param("duration('1d')", 'time: unknown unit "d" in duration "1d"', id="duration-unit"),
        pytest.param("date('nope')", "invalid date nope", id="date-bad"),
        pytest.param("sort([1, 'a'])", "invalid operation: string < int", id="sort-mixed"),
        pytest.param(
            "sprig.repeat(1.5, 'a')", "reflect: Call using float64 as type int", id="sprig-int-param"
        ),
        pytest.param("sprig.upper()", "reflect: Call with too few input arguments", id="sprig-arity"),
        pytest.param("sprig.div(1, 0)", "runtime error: integer divide by zero", id="sprig-div-zero"),
        pytest.param("sprig.fail('stop here')", "stop here", id="sprig-fail"),
        pytest.param(
            "jsonpath(j, '$.store.book[9]')", "index: invalid token out of range", id="jp-out-of-range"
        ),
        pytest.param("jsonpath(j, 'store')", "unexpected token 's' at index 0", id="jp-no-root"),
        pytest.param(
            "jsonpath(1, '$')", "cannot use int as argument (type string) to call jsonpath ", id="jp-arg-type"
        ),
        pytest.param("toJson(1/0)", "json: unsupported value: +Inf", id="toJson-inf"),
    ],
)
def test_function_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, ENV)
    text = str(info.value)
    assert text.startswith(message + " (1:"), text
    assert text.endswith(f" in expression '{expression}'")


def test_jsonpath_numbers_are_float64_like_go() -> None:
    ages: Any = evaluate("jsonpath('[{\"age\": 43}]', '$[*].age')", {})
    assert ages == [43.0] and isinstance(ages[0], float)
    assert format_result(ages) == "[43]"
    assert format_result(evaluate("jsonpath('{\"a\": {\"b\": 1.5}}', '$.a')", {})) == '{"b":1.5}'
