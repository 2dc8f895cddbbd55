"""Compile an expr-lang AST into nested Python closures and run them.

A DAG evaluates the same ``depends``/``when`` text for every task, so parsing and tree
walking happen once per expression: :func:`compile_node` turns each node into a closure
that only does the node's own work at run time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from .functions import BUILTINS, GoFunc, arity_error, sort_values
from .gofmt import GoError, is_number, kind_name, type_name, wrap_int64
from .parser import (
    Array,
    Binary,
    Builtin,
    Call,
    Chain,
    Closure,
    Conditional,
    Ident,
    Let,
    Literal,
    MapLit,
    Member,
    Node,
    ParseError,
    Pointer,
    Slice,
    Unary,
)
from .runtime import (
    Fault,
    add,
    as_bool,
    compare,
    compile_regex,
    contains_in,
    div,
    equal,
    fail,
    fetch,
    make_range,
    matches,
    mod,
    mul,
    negate,
    not_type,
    plus,
    power,
    slice_value,
    string_op,
    sub,
)

Fn = Callable[["Frame"], Any]


class Frame:
    """Per-run state: the environment, ``let`` bindings and the closure scope (``#``)."""

    __slots__ = ("env", "functions", "scope", "vars")

    def __init__(self, env: Mapping[str, Any], functions: Mapping[str, Any]) -> None:
        self.env = env
        self.functions = functions
        self.vars: dict[str, Any] | None = None
        self.scope: list[Any] | None = None  # [element, index, accumulator]


class _ChainNil(Exception):
    """A ``?.`` met nil: unwinds to the enclosing :class:`Chain`, which yields nil."""


_CHAIN_NIL = _ChainNil()


def _locate(fault: Fault, pos: int) -> Fault:
    if fault.pos is None:
        fault.pos = pos
    return fault


def compile_node(node: Node) -> Fn:
    """Return a closure computing ``node``; raises :class:`ParseError` for static errors."""
    compiler = _COMPILERS.get(type(node))
    if compiler is None:  # pragma: no cover - every node type is registered
        raise ParseError(f"unsupported node {type(node).__name__}", node.pos)
    return compiler(node)


def _literal(node: Literal) -> Fn:
    value = node.value
    return lambda frame: value


def _ident(node: Ident) -> Fn:
    name, pos = node.name, node.pos

    def run(frame: Frame) -> Any:
        local = frame.vars
        if local is not None and name in local:
            return local[name]
        functions = frame.functions
        if name in functions:
            return functions[name]
        try:
            return frame.env[name]
        except KeyError:
            raise Fault(f"unknown name {name}", pos) from None
        except TypeError:
            raise Fault(f"unknown name {name}", pos) from None

    return run


def _pointer(node: Pointer) -> Fn:
    slot = {"": 0, "index": 1, "acc": 2}.get(node.name)
    if slot is None:
        raise ParseError(f"unknown pointer #{node.name}", node.pos)

    def run(frame: Frame) -> Any:
        scope = frame.scope
        assert scope is not None
        return scope[slot]

    return run


def _unary(node: Unary) -> Fn:
    operand, pos, op = compile_node(node.operand), node.pos, node.op
    if op in ("!", "not"):

        def run(frame: Frame) -> Any:
            value = operand(frame)
            if value is True:
                return False
            if value is False:
                return True
            raise _locate(_bool_fault(value), pos)

        return run
    fn = negate if op == "-" else plus

    def run_num(frame: Frame) -> Any:
        try:
            return fn(operand(frame))
        except Fault as exc:
            raise _locate(exc, pos) from None

    return run_num


def _bool_fault(value: Any) -> Fault:
    try:
        not_type(value, "bool")
    except Fault as exc:
        return exc
    raise AssertionError("unreachable")  # pragma: no cover


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "%": mod,
    "**": power,
    "^": power,
    "..": make_range,
    "contains": functools.partial(string_op, "contains"),
    "startsWith": functools.partial(string_op, "startsWith"),
    "endsWith": functools.partial(string_op, "endsWith"),
    "in": contains_in,
    "matches": matches,
}


def _binary(node: Binary) -> Fn:
    op, pos = node.op, node.pos
    left, right = compile_node(node.left), compile_node(node.right)
    if op in ("&&", "and"):

        def run_and(frame: Frame) -> Any:
            lhs = left(frame)
            if lhs is False:
                return False
            if lhs is not True:
                raise _locate(_bool_fault(lhs), pos)
            return right(frame)

        return run_and
    if op in ("||", "or"):

        def run_or(frame: Frame) -> Any:
            lhs = left(frame)
            if lhs is True:
                return True
            if lhs is not False:
                raise _locate(_bool_fault(lhs), pos)
            return right(frame)

        return run_or
    if op == "??":

        def run_coalesce(frame: Frame) -> Any:
            lhs = left(frame)
            return right(frame) if lhs is None else lhs

        return run_coalesce
    if op in ("==", "!="):
        want = op == "=="

        def run_eq(frame: Frame) -> Any:
            a, b = left(frame), right(frame)
            if type(a) is str and type(b) is str:
                return (a == b) is want
            return equal(a, b) is want

        return run_eq
    if op in ("<", ">", "<=", ">="):

        def run_cmp(frame: Frame) -> Any:
            a, b = left(frame), right(frame)
            try:
                return compare(op, a, b)
            except Fault as exc:
                raise _locate(exc, pos) from None

        return run_cmp
    if op == "matches" and isinstance(node.right, Literal) and isinstance(node.right.value, str):
        try:
            pattern = compile_regex(node.right.value)
        except GoError as exc:
            raise ParseError(str(exc), node.right.pos) from None

        def run_match(frame: Frame) -> Any:
            text = left(frame)
            if not isinstance(text, str):
                raise Fault(f"invalid operation: {type_name(text)} matches string", pos)
            return pattern.search(text) is not None

        return run_match
    fn = _ARITH.get(op)
    if fn is None:  # pragma: no cover - parser only produces known operators
        raise ParseError(f"unknown operator ({op})", pos)
    if op == "+":

        def run_add(frame: Frame) -> Any:
            a, b = left(frame), right(frame)
            if type(a) is int and type(b) is int:
                return wrap_int64(a + b)
            try:
                return add(a, b)
            except Fault as exc:
                raise _locate(exc, pos) from None

        return run_add

    def run_arith(frame: Frame) -> Any:
        a, b = left(frame), right(frame)
        try:
            return fn(a, b)
        except Fault as exc:
            raise _locate(exc, pos) from None

    return run_arith


def _member(node: Member) -> Fn:
    obj_fn, pos, optional = compile_node(node.obj), node.pos, node.optional
    if isinstance(node.prop, Literal):
        key = node.prop.value

        def run_const(frame: Frame) -> Any:
            obj = obj_fn(frame)
            if type(obj) is dict and type(key) is str:
                return obj.get(key)
            if obj is None and optional:
                raise _CHAIN_NIL
            try:
                return fetch(obj, key)
            except Fault as exc:
                raise _locate(exc, pos) from None

        return run_const
    key_fn = compile_node(node.prop)

    def run(frame: Frame) -> Any:
        obj = obj_fn(frame)
        if obj is None and optional:
            raise _CHAIN_NIL
        key = key_fn(frame)
        try:
            return fetch(obj, key)
        except Fault as exc:
            raise _locate(exc, pos) from None

    return run


def _chain(node: Chain) -> Fn:
    inner = compile_node(node.node)

    def run(frame: Frame) -> Any:
        try:
            return inner(frame)
        except _ChainNil:
            return None

    return run


def _slice(node: Slice) -> Fn:
    obj_fn, pos = compile_node(node.obj), node.pos
    start_fn = compile_node(node.start) if node.start is not None else None
    end_fn = compile_node(node.end) if node.end is not None else None

    def run(frame: Frame) -> Any:
        obj = obj_fn(frame)
        start = start_fn(frame) if start_fn is not None else None
        end = end_fn(frame) if end_fn is not None else None
        try:
            return slice_value(obj, start, end)
        except Fault as exc:
            raise _locate(exc, pos) from None

    return run


def _call(node: Call) -> Fn:
    callee_fn, pos = compile_node(node.callee), node.pos
    arg_fns = [compile_node(a) for a in node.args]

    def run(frame: Frame) -> Any:
        fn = callee_fn(frame)
        args = [a(frame) for a in arg_fns]
        if fn is None:
            raise Fault("reflect: call of reflect.Value.Call on zero Value", pos)
        if not callable(fn):
            raise Fault(f"reflect: call of reflect.Value.Call on {kind_name(fn)} Value", pos)
        try:
            return fn(*args)
        except Fault as exc:
            raise _locate(exc, pos) from None
        except _ChainNil:
            raise
        except GoError as exc:
            raise Fault(str(exc), pos) from None
        except Exception as exc:  # a host function from the environment misbehaved
            raise Fault(str(exc) or type(exc).__name__, pos) from None

    return run


def _array(node: Array) -> Fn:
    item_fns = [compile_node(i) for i in node.items]
    return lambda frame: [f(frame) for f in item_fns]


def _map(node: MapLit) -> Fn:
    pair_fns = [(compile_node(k), compile_node(v), k.pos) for k, v in node.pairs]

    def run(frame: Frame) -> Any:
        out: dict[str, Any] = {}
        for key_fn, value_fn, pos in pair_fns:
            key = key_fn(frame)
            if not isinstance(key, str):
                try:
                    not_type(key, "string")
                except Fault as exc:
                    raise _locate(exc, pos) from None
            out[key] = value_fn(frame)
        return out

    return run


def _conditional(node: Conditional) -> Fn:
    cond_fn, then_fn, other_fn, pos = (
        compile_node(node.cond),
        compile_node(node.then),
        compile_node(node.other),
        node.pos,
    )

    def run(frame: Frame) -> Any:
        cond = cond_fn(frame)
        if cond is True:
            return then_fn(frame)
        if cond is False:
            return other_fn(frame)
        raise _locate(_bool_fault(cond), pos)

    return run


def _let(node: Let) -> Fn:
    name, value_fn, body_fn = node.name, compile_node(node.value), compile_node(node.body)
    missing = object()

    def run(frame: Frame) -> Any:
        value = value_fn(frame)
        if frame.vars is None:
            frame.vars = {}
        previous = frame.vars.get(name, missing)
        frame.vars[name] = value
        try:
            return body_fn(frame)
        finally:
            if previous is missing:
                del frame.vars[name]
            else:
                frame.vars[name] = previous

    return run


def _closure(node: Closure) -> Fn:
    return compile_node(node.body)


# --------------------------------------------------------------------------- builtins


def _builtin(node: Builtin) -> Fn:
    name, pos = node.name, node.pos
    if name in _PREDICATE_RUNNERS:
        return _predicate(node)
    problem = arity_error(name, len(node.args))
    if problem is not None:
        raise ParseError(problem, pos)
    impl = BUILTINS[name][0]
    arg_fns = [compile_node(a) for a in node.args]

    def run(frame: Frame) -> Any:
        args = [a(frame) for a in arg_fns]
        try:
            return impl(args)
        except Fault as exc:
            raise _locate(exc, pos) from None
        except GoError as exc:
            raise Fault(str(exc), pos) from None

    return run


def _items(name: str, value: Any) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, (list, tuple)):
        return value
    fail(f"invalid argument for {name} (type {type_name(value)})")


def _predicate(node: Builtin) -> Fn:
    name, pos = node.name, node.pos
    arr_fn = compile_node(node.args[0])
    body = compile_node(node.args[1]) if len(node.args) > 1 else None
    extra = compile_node(node.args[2]) if len(node.args) > 2 else None
    runner = _PREDICATE_RUNNERS[name]

    def run(frame: Frame) -> Any:
        items = arr_fn(frame)
        saved = frame.scope
        try:
            seq = _items(name, items)
            third = extra(frame) if extra is not None else _NO_ARG
            return runner(frame, seq, body, third)
        except Fault as exc:
            raise _locate(exc, pos) from None
        finally:
            frame.scope = saved

    return run


_NO_ARG = object()


def _each(frame: Frame, seq: Any, body: Fn | None) -> Any:
    """Yield ``(item, body result)`` pairs with ``#`` bound to each element."""
    for index, item in enumerate(seq):
        frame.scope = [item, index, None]
        yield item, (body(frame) if body is not None else item)


def _run_all(frame: Frame, seq: Any, body: Fn | None, _: Any) -> bool:
    return all(as_bool(v) for _, v in _each(frame, seq, body))


def _run_any(frame: Frame, seq: Any, body: Fn | None, _: Any) -> bool:
    return any(as_bool(v) for _, v in _each(frame, seq, body))


def _run_none(frame: Frame, seq: Any, body: Fn | None, _: Any) -> bool:
    return not any(as_bool(v) for _, v in _each(frame, seq, body))


def _run_one(frame: Frame, seq: Any, body: Fn | None, _: Any) -> bool:
    count = 0
    for _item, v in _each(frame, seq, body):
        if as_bool(v):
            count += 1
            if count > 1:
                return False
    return count == 1


def _run_filter(frame: Frame, seq: Any, body: Fn | None, _: Any) -> list[Any]:
    return [item for item, v in _each(frame, seq, body) if as_bool(v)]


def _run_map(frame: Frame, seq: Any, body: Fn | None, _: Any) -> list[Any]:
    return [v for _, v in _each(frame, seq, body)]


def _run_find(last: bool, want_index: bool) -> Callable[[Frame, Any, Fn | None, Any], Any]:
    def run(frame: Frame, seq: Any, body: Fn | None, _: Any) -> Any:
        found: Any = -1 if want_index else None
        for index, (item, v) in enumerate(_each(frame, seq, body)):
            if as_bool(v):
                found = index if want_index else item
                if not last:
                    break
        return found

    return run


def _run_count(frame: Frame, seq: Any, body: Fn | None, _: Any) -> int:
    return sum(1 for _, v in _each(frame, seq, body) if as_bool(v))


def _run_sum(frame: Frame, seq: Any, body: Fn | None, _: Any) -> Any:
    total: Any = 0
    for _, v in _each(frame, seq, body):
        if isinstance(v, bool) or not is_number(v):
            fail(f"invalid operation: {type_name(total)} + {type_name(v)}")
        total = add(total, v)
    return total


def _run_group_by(frame: Frame, seq: Any, body: Fn | None, _: Any) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for item, key in _each(frame, seq, body):
        try:
            groups.setdefault(key, []).append(item)
        except TypeError:
            fail(f"runtime error: hash of unhashable type {type_name(key)}")
    return groups


def _run_sort_by(frame: Frame, seq: Any, body: Fn | None, order: Any) -> list[Any]:
    desc = False
    if order is not _NO_ARG:
        if order not in ("asc", "desc"):
            fail(f"unknown order, use asc or desc (got {order})")
        desc = order == "desc"
    pairs = list(_each(frame, seq, body))
    keys = sort_values([k for _, k in pairs], desc)
    remaining = list(pairs)
    out: list[Any] = []
    for key in keys:
        for i, (item, k) in enumerate(remaining):
            if k is key:
                out.append(item)
                del remaining[i]
                break
    return out


def _run_reduce(frame: Frame, seq: Any, body: Fn | None, initial: Any) -> Any:
    assert body is not None
    items = list(seq)
    if initial is _NO_ARG:
        if not items:
            fail("reduce of empty array with no initial value")
        acc, start = items[0], 1
    else:
        acc, start = initial, 0
    for index in range(start, len(items)):
        frame.scope = [items[index], index, acc]
        acc = body(frame)
    return acc


_PREDICATE_RUNNERS: dict[str, Callable[[Frame, Any, Fn | None, Any], Any]] = {
    "all": _run_all,
    "any": _run_any,
    "none": _run_none,
    "one": _run_one,
    "filter": _run_filter,
    "map": _run_map,
    "find": _run_find(False, False),
    "findIndex": _run_find(False, True),
    "findLast": _run_find(True, False),
    "findLastIndex": _run_find(True, True),
    "count": _run_count,
    "sum": _run_sum,
    "groupBy": _run_group_by,
    "sortBy": _run_sort_by,
    "reduce": _run_reduce,
}

_COMPILERS: dict[type, Callable[[Any], Fn]] = {
    Literal: _literal,
    Ident: _ident,
    Pointer: _pointer,
    Unary: _unary,
    Binary: _binary,
    Member: _member,
    Chain: _chain,
    Slice: _slice,
    Call: _call,
    Builtin: _builtin,
    Array: _array,
    MapLit: _map,
    Conditional: _conditional,
    Let: _let,
    Closure: _closure,
}


def free_names(node: Node, bound: frozenset[str] = frozenset()) -> set[str]:
    """Top-level identifiers ``node`` reads from the environment (``let`` names excluded)."""
    names: set[str] = set()

    def walk(n: Node | None, scope: frozenset[str]) -> None:
        if n is None:
            return
        if isinstance(n, Ident):
            if n.name not in scope:
                names.add(n.name)
        elif isinstance(n, Let):
            walk(n.value, scope)
            walk(n.body, scope | {n.name})
        elif isinstance(n, Member):
            walk(n.obj, scope)
            walk(n.prop, scope)
        elif isinstance(n, (Unary,)):
            walk(n.operand, scope)
        elif isinstance(n, Binary):
            walk(n.left, scope)
            walk(n.right, scope)
        elif isinstance(n, Chain):
            walk(n.node, scope)
        elif isinstance(n, Slice):
            walk(n.obj, scope)
            walk(n.start, scope)
            walk(n.end, scope)
        elif isinstance(n, Call):
            walk(n.callee, scope)
            for a in n.args:
                walk(a, scope)
        elif isinstance(n, Builtin):
            for a in n.args:
                walk(a, scope)
        elif isinstance(n, Closure):
            walk(n.body, scope)
        elif isinstance(n, Array):
            for a in n.items:
                walk(a, scope)
        elif isinstance(n, MapLit):
            for k, v in n.pairs:
                walk(k, scope)
                walk(v, scope)
        elif isinstance(n, Conditional):
            walk(n.cond, scope)
            walk(n.then, scope)
            walk(n.other, scope)

    walk(node, bound)
    return names


__all__ = ["Frame", "Fn", "GoFunc", "compile_node", "free_names"]
