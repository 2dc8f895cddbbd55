"""JSONPath for Argo's ``jsonpath(json, path)`` (github.com/evilmonkeyinc/jsonpath semantics).

A definite path (keys and indexes only) yields the value itself; a wildcard, filter, slice,
union or ``..`` yields a list, and elements where the rest of the path fails are dropped,
so ``$.employees[?(@.age>42)].age`` is ``[43]`` while ``$.avg`` is ``35.8``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .gofmt import GoError, from_json, is_number, kind_name
from .runtime import compile_regex, deep_equal


class JSONPathError(GoError):
    """A malformed query or a path that does not match the document."""


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # root current key index wildcard union range filter script recursive length
    arg: Any = None


def _kind(value: Any) -> str:
    k = kind_name(value)
    return {"string": "string", "slice": "slice", "map": "map"}.get(k, k)


# --------------------------------------------------------------------------- tokenizer


def _split_brackets(text: str, start: int) -> int:
    """Index just past the ``]`` closing the bracket opened at ``start``."""
    depth = 0
    quote: str | None = None
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise JSONPathError(f"invalid token. '{text[start:]}' does not match any token format")


@functools.lru_cache(maxsize=256)
def parse_path(query: str) -> tuple[_Tok, ...]:
    if not query:
        raise JSONPathError("unexpected token '' at index 0")
    if query[0] not in "$@":
        raise JSONPathError(f"unexpected token '{query[0]}' at index 0")
    tokens: list[_Tok] = [_Tok("root" if query[0] == "$" else "current")]
    i = 1
    n = len(query)
    while i < n:
        ch = query[i]
        if query.startswith("..", i):
            tokens.append(_Tok("recursive"))
            i += 2
            if i < n and query[i] == "[":
                continue
            m = re.match(r"[^.\[]+", query[i:])
            if m:
                tokens.append(_name_token(m.group()))
                i += m.end()
            continue
        if ch == ".":
            i += 1
            m = re.match(r"[^.\[]+", query[i:])
            if not m:
                raise JSONPathError(f"invalid token. '{query[i - 1 :]}' does not match any token format")
            tokens.append(_name_token(m.group().strip()))
            i += m.end()
            continue
        if ch == "[":
            end = _split_brackets(query, i)
            tokens.append(_subscript(query[i + 1 : end - 1].strip(), query[i:end]))
            i = end
            continue
        raise JSONPathError(f"unexpected token '{ch}' at index {i}")
    return tuple(tokens)


def _name_token(name: str) -> _Tok:
    if name == "*":
        return _Tok("wildcard")
    if name == "length":
        return _Tok("length")
    if re.fullmatch(r"-?\d+", name):
        raise JSONPathError(f"invalid token. '{name}' does not match any token format")
    return _Tok("key", name)


def _unquote(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return None


def _split_top(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    buf = ""
    for ch in text:
        if quote:
            buf += ch
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(buf.strip())
            buf = ""
            continue
        buf += ch
    parts.append(buf.strip())
    return parts


def _subscript(inner: str, raw: str) -> _Tok:
    bad = JSONPathError(f"invalid token. '{raw}' does not match any token format")
    if not inner:
        raise bad
    if inner == "*":
        return _Tok("wildcard")
    if inner.startswith("?"):
        if not (inner.startswith("?(") and inner.endswith(")")):
            raise bad
        return _Tok("filter", _parse_script(inner[2:-1].strip()))
    if inner.startswith("(") and inner.endswith(")") and _split_top(inner, ",") == [inner]:
        return _Tok("script", _parse_script(inner[1:-1]))
    unions = _split_top(inner, ",")
    if len(unions) > 1:
        return _Tok("union", tuple(_union_item(p, bad) for p in unions))
    key = _unquote(inner)
    if key is not None:
        return _Tok("key", key)
    ranges = _split_top(inner, ":")
    if len(ranges) > 1:
        if len(ranges) > 3:
            raise bad
        values = [(_union_item(p, bad) if p else None) for p in ranges]
        while len(values) < 3:
            values.append(None)
        return _Tok("range", tuple(values))
    if re.fullmatch(r"-?\d+", inner):
        return _Tok("index", int(inner))
    raise bad


def _union_item(text: str, bad: JSONPathError) -> Any:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    key = _unquote(text)
    if key is not None:
        return key
    if text.startswith("(") and text.endswith(")"):
        return _parse_script(text[1:-1])
    raise bad


# --------------------------------------------------------------------------- evaluation


def query(path: str, data: Any) -> Any:
    """Apply ``path`` to decoded JSON ``data``."""
    tokens = parse_path(path)
    return _apply(data, data, tokens[1:])


def query_json(json_text: str, path: str) -> Any:
    """Argo's ``jsonpath(jsonStr, path)``: decode with Go's rules (numbers are float64)."""
    data = from_json(json_text)
    return query(path, data)


def _elements(tok: _Tok, current: Any) -> list[Any]:
    if isinstance(current, Mapping):
        return [current[k] for k in sorted(current, key=str)]
    if isinstance(current, (list, tuple)):
        return list(current)
    if current is None:
        raise JSONPathError(f"{tok.kind}: invalid token target. expected [array map slice] got [nil]")
    raise JSONPathError(
        f"{tok.kind}: invalid token target. expected [array map slice] got [{_kind(current)}]"
    )


def _fan_out(root: Any, items: list[Any], rest: tuple[_Tok, ...]) -> list[Any]:
    if not rest:
        return items
    out: list[Any] = []
    for item in items:
        try:
            result = _apply(root, item, rest)
        except JSONPathError:
            continue
        if result is not None:
            out.append(result)
    return out


def _index_of(tok_kind: str, current: Any, index: int) -> Any:
    if isinstance(current, Mapping):
        keys = sorted(current, key=str)
        seq: Any = [current[k] for k in keys]
    elif isinstance(current, (list, tuple, str)):
        seq = current
    elif current is None:
        raise JSONPathError(f"{tok_kind}: invalid token target. expected [array map slice string] got [nil]")
    else:
        raise JSONPathError(
            f"{tok_kind}: invalid token target. expected [array map slice string] got [{_kind(current)}]"
        )
    if index < 0:
        index += len(seq)
    if index < 0 or index >= len(seq):
        raise JSONPathError(f"{tok_kind}: invalid token out of range")
    return seq[index]


def _apply(root: Any, current: Any, tokens: tuple[_Tok, ...]) -> Any:
    if not tokens:
        return current
    tok, rest = tokens[0], tokens[1:]
    kind = tok.kind
    if kind == "key":
        if not isinstance(current, Mapping):
            got = "nil" if current is None else _kind(current)
            raise JSONPathError(f"key: invalid token target. expected [map] got [{got}]")
        if tok.arg not in current:
            raise JSONPathError(f"key: invalid token key '{tok.arg}' not found")
        return _apply(root, current[tok.arg], rest)
    if kind == "index":
        return _apply(root, _index_of("index", current, tok.arg), rest)
    if kind == "length":
        if isinstance(current, Mapping) and "length" in current:
            return _apply(root, current["length"], rest)
        if isinstance(current, (list, tuple, Mapping, str)):
            return _apply(root, len(current), rest)
        raise JSONPathError("length: invalid token target. expected [array map slice string]")
    if kind == "wildcard":
        return _fan_out(root, _elements(tok, current), rest)
    if kind == "recursive":
        return _fan_out(root, _descendants(current), rest)
    if kind == "filter":
        items = _elements(tok, current)
        picked = [item for item in items if _truthy(_eval_safe(tok.arg, root, item))]
        if rest and rest[0].kind == "index":
            return _apply(root, _index_of("index", picked, rest[0].arg), rest[1:])
        return _fan_out(root, picked, rest)
    if kind == "script":
        key = _eval(tok.arg, root, current)
        if isinstance(key, str):
            return _apply(root, current, (_Tok("key", key), *rest))
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            return _apply(root, _index_of("script", current, int(key)), rest)
        raise JSONPathError("script: invalid token unexpected expression result")
    if kind == "union":
        picked = []
        for arg in tok.arg:
            value = _eval(arg, root, current) if isinstance(arg, _Expr) else arg
            if isinstance(value, str):
                if not isinstance(current, Mapping) or value not in current:
                    raise JSONPathError(f"union: invalid token key '{value}' not found")
                picked.append(current[value])
            else:
                picked.append(_index_of("union", current, int(value)))
        if isinstance(current, str):
            return "".join(picked)
        return _fan_out(root, picked, rest)
    if kind == "range":
        return _range(tok, root, current, rest)
    if kind in ("root", "current"):
        return _apply(root, root if kind == "root" else current, rest)
    raise JSONPathError(f"unexpected token '{kind}'")  # pragma: no cover


def _range(tok: _Tok, root: Any, current: Any, rest: tuple[_Tok, ...]) -> Any:
    if isinstance(current, Mapping):
        seq: Any = [current[k] for k in sorted(current, key=str)]
    elif isinstance(current, (list, tuple, str)):
        seq = current
    else:
        got = "nil" if current is None else _kind(current)
        raise JSONPathError(f"range: invalid token target. expected [array map slice string] got [{got}]")
    bounds = [(_eval(v, root, current) if isinstance(v, _Expr) else v) for v in tok.arg]
    start, end, step = bounds
    length = len(seq)
    start = 0 if start is None else int(start)
    end = length if end is None else int(end)
    step = 1 if step is None else int(step)
    if step == 0:
        raise JSONPathError("range: invalid token argument. step must be non-zero")
    if start < 0:
        start = max(start + length, 0)
    if end < 0:
        end = max(end + length, 0)
    start, end = min(start, length), min(end, length)
    picked = list(seq[start:end:step]) if step > 0 else list(seq[start:end])[::step]
    if isinstance(current, str):
        return "".join(picked)
    return _fan_out(root, picked, rest)


def _descendants(value: Any) -> list[Any]:
    out = [value]
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            out.extend(_descendants(value[key]))
    elif isinstance(value, (list, tuple)):
        for item in value:
            out.extend(_descendants(item))
    return out


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip('"') != ""
    return True


# --------------------------------------------------------------------------- filter/script expressions


@dataclass(frozen=True, slots=True)
class _Expr:
    op: str
    args: tuple[Any, ...]


_SCRIPT_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+\.\d*|\.\d+|\d+)
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)
      | (?P<path>[@$](?:\.\.?[^\s.\[()=!<>&|+\-*/%,]+|\.\.?\*|\[(?:[^\[\]]|\[[^\]]*\])*\])*)
      | (?P<word>true|false|null|nil)
      | (?P<op>&&|\|\||==|!=|<=|>=|=~|[<>!+\-*/%()])
    )""",
    re.VERBOSE,
)


def _lex_script(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _SCRIPT_TOKEN.match(text, i)
        if not m or m.end() == i:
            raise JSONPathError(f"invalid expression. invalid format '{text}'")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


@functools.lru_cache(maxsize=256)
def _parse_script(text: str) -> _Expr:
    if not text.strip():
        raise JSONPathError("invalid expression. is empty")
    tokens = _lex_script(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise JSONPathError(f"invalid expression. invalid format '{text}'")
        pos += 1
        return tok

    def binary(level: int) -> _Expr:
        levels = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "=~"), ("+", "-"), ("*", "/", "%")]
        if level == len(levels):
            return unary()
        left = binary(level + 1)
        while (tok := peek()) is not None and tok[0] == "op" and tok[1] in levels[level]:
            take()
            left = _Expr(tok[1], (left, binary(level + 1)))
        return left

    def unary() -> _Expr:
        tok = take()
        kind, value = tok
        if kind == "op" and value in ("!", "-"):
            return _Expr("neg" if value == "-" else "not", (unary(),))
        if kind == "op" and value == "(":
            inner = binary(0)
            if take() != ("op", ")"):
                raise JSONPathError(f"invalid expression. invalid format '{text}'")
            return inner
        if kind == "num":
            return _Expr("lit", (float(value) if "." in value else int(value),))
        if kind == "str":
            return _Expr("lit", (re.sub(r"\\(.)", r"\1", value[1:-1]),))
        if kind == "regex":
            body, _, flags = value[1:].rpartition("/")
            return _Expr("lit", (("(?i)" if "i" in flags else "") + body,))
        if kind == "word":
            return _Expr("lit", ({"true": True, "false": False}.get(value),))
        if kind == "path":
            return _Expr("path", (value,))
        raise JSONPathError(f"invalid expression. invalid format '{text}'")

    expr = binary(0)
    if pos != len(tokens):
        raise JSONPathError(f"invalid expression. invalid format '{text}'")
    return expr


def _eval_safe(expr: _Expr, root: Any, current: Any) -> Any:
    try:
        return _eval(expr, root, current)
    except (JSONPathError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


def _num(value: Any) -> float | int:
    if is_number(value) and not isinstance(value, bool):
        return value  # type: ignore[no-any-return]
    raise JSONPathError("invalid expression. expected number")


def _eval(expr: _Expr, root: Any, current: Any) -> Any:
    op, args = expr.op, expr.args
    if op == "lit":
        return args[0]
    if op == "path":
        path: str = args[0]
        tokens = parse_path(path)
        base = root if path[0] == "$" else current
        return _apply(root, base, tokens[1:])
    if op == "not":
        return not _truthy(_eval(args[0], root, current))
    if op == "neg":
        return -_num(_eval(args[0], root, current))
    if op == "&&":
        return _truthy(_eval(args[0], root, current)) and _truthy(_eval(args[1], root, current))
    if op == "||":
        return _truthy(_eval_safe(args[0], root, current)) or _truthy(_eval(args[1], root, current))
    left, right = _eval(args[0], root, current), _eval(args[1], root, current)
    if op in ("==", "!="):
        same = (left == right) if (is_number(left) and is_number(right)) else deep_equal(left, right)
        return same if op == "==" else not same
    if op == "=~":
        if not isinstance(left, str) or not isinstance(right, str):
            raise JSONPathError("invalid expression. regex requires strings")
        return compile_regex(right).search(left) is not None
    if op in ("<", "<=", ">", ">="):
        a: Any
        b: Any
        if isinstance(left, str) and isinstance(right, str):
            a, b = left, right
        else:
            a, b = _num(left), _num(right)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    a, b = _num(left), _num(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if isinstance(a, int) and isinstance(b, int):
            return int(a / b)
        return a / b
    return a % b


__all__ = ["JSONPathError", "parse_path", "query", "query_json"]
