"""expr-lang as Argo evaluates it: expressions from Argo's examples and docs, operators, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from argosy.errors import ExpressionError
from argosy.pipeline.expr import (
    Program,
    compile_expression,
    evaluate,
    expand_env,
    format_result,
    identifiers,
)

CONFIG = '{"employees":[{"name":"Ann","age":41},{"name":"Bob","age":43},{"name":"Cid","age":45}]}'

ENV: dict[str, Any] = expand_env(
    {
        "steps.flip-coin.outputs.result": "heads",
        "steps.heads.outputs.result": "it was heads",
        "steps.tails.outputs.result": "it was tails",
        "steps.step-a.status": "Running",
        "inputs.parameters.foo": "5",
        "inputs.parameters.week-temps": '{"avg": 35.8, "max": 41}',
        "inputs.parameters.should-print": "true",
        "inputs.parameters.numbers": "[1, 2, 3]",
        "inputs.parameters.my-string-param": "  padded  ",
        "workflow.parameters.config": CONFIG,
        "workflow.parameters.json": '[{"value": "true"}, {"value": "false"}]',
        "workflow.status": "Succeeded",
        "lastRetry.exitCode": "2",
        "lastRetry.status": "Failed",
        "lastRetry.duration": "30",
        "lastRetry.message": "pod deleted",
        "retries": "1",
    }
)
ENV["tasks"] = {"producer": {"outputs": {"parameters": {"other": "x"}}}}
# depends: task names a-b are rewritten to a_b and each status is a boolean
ENV.update(
    {
        "A": True,
        "C": {"Succeeded": False, "Failed": True},
        "should_execute_2": {"Succeeded": True},
        "should_not_execute": False,
        "items": [{"name": "a", "size": 1}, {"name": "b", "size": 3}, {"name": "c", "size": 5}],
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param(
            "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result",
            "it was heads",
            id="coinflip-ternary",
        ),
        pytest.param(
            "tasks.producer.outputs.parameters.msg ?? 'expr-fallback'", "expr-fallback", id="nil-coalescing"
        ),
        pytest.param(
            "tasks.producer.outputs.parameters.other ?? 'expr-fallback'", "x", id="coalescing-keeps-value"
        ),
        pytest.param("asInt(inputs.parameters.foo) * 10", 50, id="asInt"),
        pytest.param("asFloat(inputs.parameters.foo) / 2", 2.5, id="asFloat"),
        pytest.param("jsonpath(inputs.parameters['week-temps'], '$.avg')", 35.8, id="jsonpath-scalar"),
        pytest.param(
            "jsonpath(workflow.parameters.config, '$.employees[?(@.age>42 && @.age<44)].age')",
            [43.0],
            id="jsonpath-filter",
        ),
        pytest.param(
            "jsonpath(workflow.parameters.config, '$.employees[*].name')",
            ["Ann", "Bob", "Cid"],
            id="jsonpath-wildcard",
        ),
        pytest.param(
            "jsonpath(workflow.parameters.config, '$.employees[0:1]')",
            [{"name": "Ann", "age": 41.0}],
            id="jsonpath-slice",
        ),
        pytest.param("inputs.parameters[\"should-print\"] == 'true'", True, id="bracket-double-quotes"),
        pytest.param(
            "jsonpath(workflow.parameters.json, '$[0].value') == 'true'", True, id="jsonpath-root-array"
        ),
        pytest.param(
            'asInt(lastRetry.exitCode) > 1 && lastRetry.status != "Error" && asInt(lastRetry.duration) < 120 '
            "&& (true == true || lastRetry.message matches 'imminent node shutdown|pod deleted')",
            True,
            id="retry-strategy-expression",
        ),
        pytest.param("lastRetry.message matches 'imminent node shutdown|pod deleted'", True, id="matches"),
        pytest.param("A && (C.Succeeded || C.Failed)", True, id="depends-enhanced"),
        pytest.param("should_execute_2.Succeeded || should_not_execute", True, id="depends-or"),
        pytest.param('steps["step-a"].status == "Running"', True, id="hook-expression"),
        pytest.param('workflow.status == "Succeeded"', True, id="exit-hook"),
        pytest.param("sprig.trim(inputs.parameters['my-string-param'])", "padded", id="sprig-trim"),
        pytest.param("map(filter(items, {#.size > 1}), {#.name})", ["b", "c"], id="filter-map"),
        pytest.param("map(items, .name)", ["a", "b", "c"], id="dot-shorthand"),
        pytest.param(
            "toJson(filter(items, .size < 4))", '[{"name":"a","size":1},{"name":"b","size":3}]', id="toJson"
        ),
        pytest.param(
            "sprig.join(',', map(fromJSON(inputs.parameters.numbers), {# * 2}))", "2,4,6", id="sprig-join"
        ),
        pytest.param("let t = fromJSON(inputs.parameters['week-temps']); t.max - t.avg", 41 - 35.8, id="let"),
        pytest.param("inputs.parameters.foo | asInt() | string()", "5", id="pipe"),
        pytest.param("sprig.add(1, 2)", 3, id="sprig-add"),
        pytest.param("sprig.add(inputs.parameters.foo, '2', 1.9)", 8, id="sprig-add-casts"),
        pytest.param("sprig.max(1, 7, '3')", 7, id="sprig-max"),
        pytest.param("sprig.min(4, 2, 9)", 2, id="sprig-min"),
        pytest.param("sprig.int(retries) + 1", 2, id="sprig-int-retries"),
        pytest.param("all(items, .size > 0) and none(items, .size > 9)", True, id="all-none"),
        pytest.param("any(items, .name == 'b') && one(items, .size == 3)", True, id="any-one"),
        pytest.param("count(items, .size >= 3)", 2, id="count"),
        pytest.param("sum(map(items, .size))", 9, id="sum"),
    ],
)
def test_argo_expressions(expression: str, expected: Any) -> None:
    assert evaluate(expression, ENV) == expected


def test_sprig_date_formats_times_and_uses_now_for_strings() -> None:
    # sprig's date() only understands time values and Unix ints; a string means "now".
    created = dt.datetime(2021, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert evaluate("sprig.date('2006-01-02', t)", {"t": created}) == "2021-07-01"
    assert evaluate("sprig.dateInZone('2006-01-02T15:04:05Z07:00', 0, 'UTC')", {}) == "1970-01-01T00:00:00Z"
    year = str(dt.datetime.now().year)
    assert (
        evaluate(
            "sprig.date('2006', workflow.creationTimestamp)",
            {"workflow": {"creationTimestamp": "2021-07-01T12:00:00Z"}},
        )
        == year
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("1 + 2", 3, id="int-plus-int-stays-int"),
        pytest.param("1 + 2.5", 3.5, id="int-plus-float"),
        pytest.param("7 / 2", 3.5, id="division-is-float"),
        pytest.param("6 / 3", 2.0, id="exact-division-still-float"),
        pytest.param("7 % 3", 1, id="modulo"),
        pytest.param("-7 % 3", -1, id="modulo-truncates-like-go"),
        pytest.param("2 ** 10", 1024.0, id="power-is-float"),
        pytest.param("2 ^ 3 ^ 2", 512.0, id="power-right-assoc"),
        pytest.param("-2 ** 2", -4.0, id="unary-minus-below-power"),
        pytest.param("'a' + 'b'", "ab", id="string-concat"),
        pytest.param("1 == 1.0", True, id="int-float-equal"),
        pytest.param("'1' == 1", False, id="mixed-types-unequal"),
        pytest.param("nil == nil", True, id="nil-equal"),
        pytest.param("[1, 'a'] == [1, 'a']", True, id="array-equal"),
        pytest.param("1 < 2 < 3", True, id="chained-comparison"),
        pytest.param("3 > 2 > 2", False, id="chained-comparison-false"),
        pytest.param("'abc' < 'abd'", True, id="string-compare"),
        pytest.param("2 in [1, 2]", True, id="in-array"),
        pytest.param("'a' in {a: 1}", True, id="in-map"),
        pytest.param("3 not in [1, 2]", True, id="not-in"),
        pytest.param("'x' in nil", False, id="in-nil"),
        pytest.param("'foobar' contains 'oba'", True, id="contains"),
        pytest.param("'foobar' startsWith 'foo' and 'foobar' endsWith 'bar'", True, id="starts-ends"),
        pytest.param("'abc' not matches '^b'", True, id="not-matches"),
        pytest.param("not true or !false", True, id="not-and-bang"),
        pytest.param("1..4", [1, 2, 3, 4], id="range"),
        pytest.param("3..1", [], id="empty-range"),
        pytest.param("[1, 2, 3][-1]", 3, id="negative-index"),
        pytest.param("[1, 2, 3, 4][1:3]", [2, 3], id="slice"),
        pytest.param("[1, 2, 3][:2]", [1, 2], id="slice-open-start"),
        pytest.param("'hello'[1:]", "ello", id="string-slice"),
        pytest.param("{a: 1, 'b-c': 2}['b-c']", 2, id="map-literal"),
        pytest.param("{a: {b: 1}}.a.b", 1, id="nested-map-literal"),
        pytest.param("{a: 1}.missing", None, id="missing-key-is-nil"),
        pytest.param("m?.a?.b", None, id="optional-chaining-nil"),
        pytest.param("m?.a.b.c", None, id="optional-chain-short-circuits"),
        pytest.param("true ? 1 : 2", 1, id="ternary"),
        pytest.param("false ? 1 : true ? 2 : 3", 2, id="nested-ternary"),
        pytest.param("nil ?? nil ?? 'z'", "z", id="chained-coalescing"),
        pytest.param("true && 'x'", "x", id="and-returns-right-operand"),
        pytest.param("9223372036854775807 + 1", -9223372036854775808, id="int64-overflow-wraps"),
        pytest.param("0x1F + 0b11 + 0o7 + 1_000", 1041, id="number-literals"),
        pytest.param("'\\u00e9\\t' + \"\\x41\"", "é\tA", id="string-escapes"),
        pytest.param("`raw\\n`", "raw\\n", id="raw-string"),
        pytest.param("1 + /* comment */ 1 // trailing", 2, id="comments"),
        pytest.param("reduce(1..4, #acc + #, 0)", 10, id="reduce"),
        pytest.param("map(['a', 'b'], #index)", [0, 1], id="closure-index"),
        pytest.param("sortBy([{n: 2}, {n: 1}], .n)", [{"n": 1}, {"n": 2}], id="sortBy"),
        pytest.param("groupBy([1, 2, 3], # % 2 == 0)", {False: [1, 3], True: [2]}, id="groupBy"),
        pytest.param("find([1, 2, 3], # > 1)", 2, id="find"),
        pytest.param("findLastIndex([1, 2, 3], # > 1)", 2, id="findLastIndex"),
    ],
)
def test_operators(expression: str, expected: Any) -> None:
    result = evaluate(expression, {"m": None})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("a == )", "unexpected token ')' (1:6) in expression 'a == )'", id="unexpected-token"),
        pytest.param("1 +", "unexpected end of expression (1:3) in expression '1 +'", id="unexpected-end"),
        pytest.param("'abc", "literal not terminated (1:5) in expression ''abc'", id="unterminated-string"),
        pytest.param(
            "1 @ 2", "unrecognized character: U+0040 '@' (1:3) in expression '1 @ 2'", id="bad-character"
        ),
        pytest.param("12abc", "bad number syntax: \"12a\" (1:3) in expression '12abc'", id="bad-number"),
        pytest.param(
            "a ?? b + c",
            "Operator (+) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses. (1:8) "
            "in expression 'a ?? b + c'",
            id="coalesce-mixing",
        ),
        pytest.param(
            "len(1, 2)",
            "invalid number of arguments (expected 1, got 2) (1:1) in expression 'len(1, 2)'",
            id="arity",
        ),
        pytest.param(
            "# > 1",
            "cannot use pointer accessor outside predicate (1:1) in expression '# > 1'",
            id="pointer-outside",
        ),
        pytest.param(
            "x matches '('",
            "error parsing regexp: missing closing ): `(` (1:11) in expression 'x matches '(''",
            id="bad-regex-literal",
        ),
        pytest.param("a.\n+", "expected name (2:1) in expression 'a.\n+'", id="multiline-position"),
    ],
)
def test_syntax_errors_name_expression_and_position(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(expression)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param(
            "nope + 1", "unknown name nope (1:1) in expression 'nope + 1'", id="unknown-top-level-name"
        ),
        pytest.param(
            "steps.nope.outputs.result",
            "cannot fetch outputs from <nil> (1:12) in expression 'steps.nope.outputs.result'",
            id="member-of-nil",
        ),
        pytest.param(
            "asInt('4.5')",
            "invalid operation: int(4.5) (1:1) in expression 'asInt('4.5')'",
            id="asInt-bad-text",
        ),
        pytest.param(
            "asInt()", "not enough arguments to call asInt (1:1) in expression 'asInt()'", id="asInt-no-args"
        ),
        pytest.param(
            "'a' + 1", "invalid operation: string + int (1:5) in expression ''a' + 1'", id="mismatched-plus"
        ),
        pytest.param(
            "'a' < 1",
            "invalid operation: string < int (1:5) in expression ''a' < 1'",
            id="mismatched-compare",
        ),
        pytest.param(
            "1 % 0", "runtime error: integer divide by zero (1:3) in expression '1 % 0'", id="modulo-zero"
        ),
        pytest.param(
            "[1][5]",
            "index out of range: 5 (array length is 1) (1:4) in expression '[1][5]'",
            id="index-range",
        ),
        pytest.param(
            "'x' ? 1 : 2",
            "interface conversion: interface {} is string, not bool (1:5) in expression ''x' ? 1 : 2'",
            id="non-bool-condition",
        ),
        pytest.param(
            "sprig.upper(1)",
            "reflect: Call using int as type string (1:7) in expression 'sprig.upper(1)'",
            id="sprig-type",
        ),
        pytest.param(
            "sprig.nope(1)",
            "reflect: call of reflect.Value.Call on zero Value (1:7) in expression 'sprig.nope(1)'",
            id="sprig-missing",
        ),
        pytest.param(
            "jsonpath('{}', '$.a')",
            "key: invalid token key 'a' not found (1:1) in expression 'jsonpath('{}', '$.a')'",
            id="jsonpath-missing-key",
        ),
        pytest.param(
            "jsonpath('{', '$.a')",
            "unexpected end of JSON input (1:1) in expression 'jsonpath('{', '$.a')'",
            id="jsonpath-bad-json",
        ),
        pytest.param(
            "repeat('x', 2000000)",
            "memory budget exceeded (1:1) in expression 'repeat('x', 2000000)'",
            id="memory-budget",
        ),
    ],
)
def test_runtime_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, ENV)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("raw <string>", "raw <string>", id="string-raw"),
        pytest.param(3, "3", id="int"),
        pytest.param(3.0, "3", id="float-whole"),
        pytest.param(35.8, "35.8", id="float"),
        pytest.param(1e21, "1e+21", id="float-big"),
        pytest.param(1e6, "1000000", id="float-million"),
        pytest.param(1e-7, "1e-7", id="float-small"),
        pytest.param(True, "true", id="bool"),
        pytest.param([1, "a", 2.5], '[1,"a",2.5]', id="list"),
        pytest.param(
            {"b": 1, "a": [True], "c": "<x>"}, '{"a":[true],"b":1,"c":"\\u003cx\\u003e"}', id="map-sorted"
        ),
    ],
)
def test_format_result_is_go_json_with_raw_strings(value: Any, text: str) -> None:
    assert format_result(value) == text


def test_format_result_of_infinity_fails_like_json_marshal() -> None:
    with pytest.raises(ExpressionError) as info:
        format_result(evaluate("1 / 0", {}))
    assert str(info.value) == "failed to marshal evaluated expression: json: unsupported value: +Inf"


def test_format_result_of_nil_fails() -> None:
    with pytest.raises(ExpressionError) as info:
        format_result(evaluate("x ?? nil", {"x": None}), "x ?? nil")
    assert str(info.value) == 'failed to evaluate expression "x ?? nil"'


def test_results_from_argo_examples_render_as_argo_does() -> None:
    assert (
        format_result(
            evaluate("jsonpath(workflow.parameters.config, '$.employees[?(@.age>42 && @.age<44)].age')", ENV)
        )
        == "[43]"
    )
    assert format_result(evaluate("asInt(inputs.parameters.foo) / 2", ENV)) == "2.5"
    assert format_result(evaluate("map(filter(items, .size > 1), .name)", ENV)) == '["b","c"]'
    assert format_result(evaluate("inputs.parameters.foo", ENV)) == "5"
    assert format_result(evaluate("asInt(inputs.parameters.foo) * 10", ENV)) == "50"


def test_expand_env_nests_dotted_keys_and_prefers_nested_maps() -> None:
    flat = {
        "workflow.parameters.x": "1",
        "workflow.parameters": '{"x": "1"}',
        "inputs.parameters.a-b": "2",
        "workflow.name": "wf",
    }
    assert expand_env(flat) == {
        "workflow": {"parameters": {"x": "1"}, "name": "wf"},
        "inputs": {"parameters": {"a-b": "2"}},
    }
    assert evaluate("inputs.parameters['a-b'] + workflow.parameters.x", expand_env(flat)) == "21"


def test_identifiers_lists_top_level_names_only() -> None:
    assert identifiers("asInt(inputs.parameters.foo) > tasks.a.outputs.result") == {"inputs", "tasks"}
    assert identifiers("let x = 1; x + filter(items, # > y)[0]") == {"items", "y"}
    assert identifiers("sprig.upper('a') + 'b'") == set()
    assert identifiers("task_a.Succeeded || task_b.Failed") == {"task_a", "task_b"}


def test_compile_once_run_many() -> None:
    program = compile_expression("(a.Succeeded || a.Skipped) && !b.Failed")
    assert isinstance(program, Program)
    assert compile_expression("(a.Succeeded || a.Skipped) && !b.Failed") is program
    assert program.run({"a": {"Succeeded": True, "Skipped": False}, "b": {"Failed": False}}) is True
    assert program.run({"a": {"Succeeded": False, "Skipped": False}, "b": {"Failed": False}}) is False
    with pytest.raises(ExpressionError, match="unknown name b"):
        program.run({"a": {"Succeeded": True}})


def test_time_and_duration_arithmetic() -> None:
    env = {"t": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}
    assert evaluate("string(duration('1h30m') + duration('15s'))", env) == "1h30m15s"
    assert format_result(evaluate("duration('1s')", env)) == "1000000000"  # json: int64 nanoseconds
    assert evaluate("(t + duration('36h')).Format('2006-01-02 15:04')", env) == "2024-01-02 12:00"
    assert evaluate("date('2024-01-03') - t", env).ns == 2 * 86400 * 10**9
    assert evaluate("now() > t", env) is True
