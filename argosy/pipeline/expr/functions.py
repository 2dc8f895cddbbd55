"""expr-lang's builtin functions and the Go-typed function wrapper used for Argo's additions.

Builtins keep Go's edge behaviour users can observe: ``indexOf`` counts bytes, ``int("3.5")``
fails, ``keys`` order is unspecified (we sort), ``repeat`` refuses more than a million copies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import gofmt, gotime
from .gofmt import Duration, GoError, is_number, sprint, type_name, wrap_int64
from .runtime import (
    MEMORY_BUDGET,
    Fault,
    as_str,
    compare,
    equal,
    fail,
    fetch,
    length,
    to_int,
)

# --------------------------------------------------------------------------- Go-typed callables

_GO_TYPE = {
    "any": "interface {}",
    "string": "string",
    "int": "int",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "[]any": "[]interface {}",
    "map": "map[string]interface {}",
    "time": "time.Time",
    "[]string": "[]string",
}


def _accepts(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind in ("int", "int64"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float64":
        return isinstance(value, float)
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("[]any", "[]string"):
        return isinstance(value, (list, tuple)) and (
            kind == "[]any" or all(isinstance(v, str) for v in value)
        )
    if kind == "map":
        return isinstance(value, Mapping)
    if kind == "time":
        return isinstance(value, dt.datetime)
    return False


class GoFunc:
    """A Go function value with a signature, checked like expr's checker or ``reflect.Call``.

    ``static`` functions sit directly in the environment, where Argo's compile-time check
    reports ``too many arguments to call X``; functions reached through a map (``sprig.*``)
    are only known at run time and fail with reflect's wording instead.
    """

    __slots__ = ("impl", "name", "params", "static", "variadic")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        params: Sequence[str] = (),
        variadic: str | None = None,
        static: bool = False,
    ) -> None:
        self.name = name
        self.impl = impl
        self.params = tuple(params)
        self.variadic = variadic
        self.static = static

    def __repr__(self) -> str:
        return f"GoFunc({self.name})"

    def __call__(self, *args: Any) -> Any:
        n = len(self.params)
        if len(args) < n:
            fail(
                f"not enough arguments to call {self.name}"
                if self.static
                else "reflect: Call with too few input arguments"
            )
        if len(args) > n and self.variadic is None:
            fail(
                f"too many arguments to call {self.name}"
                if self.static
                else "reflect: Call with too many input arguments"
            )
        for i, value in enumerate(args):
            kind = self.params[i] if i < n else self.variadic
            assert kind is not None
            if not _accepts(kind, value):
                got = "interface {}" if value is None else type_name(value)
                if self.static:
                    fail(f"cannot use {got} as argument (type {_GO_TYPE[kind]}) to call {self.name} ")
                fail(f"reflect: Call using {got} as type {_GO_TYPE[kind]}")
        try:
            return self.impl(*args)
        except GoError as exc:
            raise Fault(str(exc)) from None


# --------------------------------------------------------------------------- conversions


def go_int(value: Any) -> int:
    """expr's ``int()`` (also Argo's ``asInt``): truncates floats, parses decimal strings."""
    if isinstance(value, bool):
        fail("invalid operation: int(bool)")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return to_int(value)
    if isinstance(value, str):
        try:
            return gofmt.atoi(value)
        except GoError:
            fail(f"invalid operation: int({value})")
    if isinstance(value, Duration):
        return value.ns
    fail(f"invalid operation: int({type_name(value)})")


def go_float(value: Any) -> float:
    """expr's ``float()`` (also Argo's ``asFloat``): Go ``strconv.ParseFloat`` for strings."""
    if isinstance(value, bool):
        fail("invalid operation: float(bool)")
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return gofmt.parse_float(value)
        except GoError:
            fail(f"invalid operation: float({value})")
    fail(f"invalid operation: float({type_name(value)})")


def type_of(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, dt.datetime):
        return "time.Time"
    if isinstance(value, Duration):
        return "time.Duration"
    return "func" if callable(value) else "unknown"


GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def go_upper(text: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def go_lower(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def go_split(text: str, sep: str, n: int = -1, after: bool = False) -> list[Any]:
    """``strings.SplitN``/``SplitAfterN`` (n<0: all, 0: none)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(text)
        if n > 0 and len(chars) > n:
            chars = chars[: n - 1] + ["".join(chars[n - 1 :])]
        return list(chars)
    parts = text.split(sep, n - 1 if n > 0 else -1)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return list(parts)


def byte_index(text: str, sub: str, last: bool = False) -> int:
    """``strings.Index``/``LastIndex``: the offset in UTF-8 bytes, as Go reports it."""
    hay, needle = text.encode("utf-8", "surrogatepass"), sub.encode("utf-8", "surrogatepass")
    return hay.rfind(needle) if last else hay.find(needle)


def go_round(value: float) -> float:
    """``math.Round``: half away from zero."""
    if math.isnan(value) or math.isinf(value):
        return value
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _round_func(name: str, fn: Callable[[float], float]) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        value = args[0]
        if isinstance(value, float):
            return float(fn(value)) if not (math.isnan(value) or math.isinf(value)) else value
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        fail(f"invalid argument for {name} (type {type_name(value)})")

    return run


def _abs(args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, bool) or not is_number(value):
        fail(f"invalid argument for abs (type {type_name(value)})")
    return wrap_int64(abs(value)) if isinstance(value, int) else abs(value)


def _min_max(name: str, op: str) -> Callable[[list[Any]], Any]:
    def scan(args: Sequence[Any], top: bool) -> Any:
        best: Any = None
        for arg in args:
            if isinstance(arg, (list, tuple)):
                for item in arg:
                    value = scan([item], False)
                    if isinstance(value, bool) or not is_number(value):
                        fail(f"invalid argument for {name} (type {type_name(value)})")
                    if best is None or compare(op, best, value):
                        best = value
            elif is_number(arg) and not isinstance(arg, bool):
                if best is None or compare(op, best, arg):
                    best = arg
            else:
                if top and len(args) == 1:
                    return arg
                fail(f"invalid argument for {name} (type {type_name(arg)})")
        return best

    return lambda args: scan(args, True)


def _numbers(name: str, args: Sequence[Any]) -> list[float]:
    out: list[float] = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            out.extend(_numbers(name, arg))
        elif is_number(arg) and not isinstance(arg, bool):
            out.append(float(arg))
        else:
            fail(f"invalid argument for {name} (type {type_name(arg)})")
    return out


def _mean(args: list[Any]) -> float:
    values = _numbers("mean", args)
    return sum(values) / len(values) if values else 0.0


def _median(args: list[Any]) -> float:
    values = sorted(_numbers("median", args))
    if not values:
        return 0.0
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _trim(args: list[Any]) -> str:
    text = as_str(args[0])
    return text.strip(GO_SPACE) if len(args) == 1 else text.strip(as_str(args[1]))


def _trim_prefix(args: list[Any]) -> str:
    text, prefix = as_str(args[0]), as_str(args[1]) if len(args) == 2 else " "
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def _trim_suffix(args: list[Any]) -> str:
    text, suffix = as_str(args[0]), as_str(args[1]) if len(args) == 2 else " "
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _split(after: bool) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        n = to_int(args[2]) if len(args) == 3 else -1
        return go_split(as_str(args[0]), as_str(args[1]), n, after)

    return run


def _replace(args: list[Any]) -> str:
    text, old, new = as_str(args[0]), as_str(args[1]), as_str(args[2])
    n = to_int(args[3]) if len(args) == 4 else -1
    return text.replace(old, new, n if n >= 0 else -1)


def _repeat(args: list[Any]) -> str:
    text, n = as_str(args[0]), to_int(args[1])
    if n < 0:
        fail(f"invalid argument for repeat (expected positive integer, got {n})")
    if n > MEMORY_BUDGET:
        fail("memory budget exceeded")
    return text * n


def _join(args: list[Any]) -> str:
    items, glue = args[0], as_str(args[1]) if len(args) == 2 else ""
    if not isinstance(items, (list, tuple)):
        fail(f"invalid argument for join (type {type_name(items)})")
    return glue.join(as_str(item) for item in items)


def _to_json(args: list[Any]) -> str:
    try:
        return gofmt.to_json(args[0], indent="  ")
    except GoError as exc:
        fail(str(exc))


def _from_json(args: list[Any]) -> Any:
    try:
        return gofmt.from_json(as_str(args[0]))
    except GoError as exc:
        fail(str(exc))


def _from_base64(args: list[Any]) -> str:
    text = as_str(args[0])
    try:
        return base64.b64decode(text.encode("utf-8"), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        fail(f"illegal base64 data at input byte {_bad_b64_byte(text)}")


def _bad_b64_byte(text: str) -> int:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i, ch in enumerate(text):
        if ch not in alphabet and ch != "=":
            return i
    return max(len(text) - len(text) % 4, 0) if len(text) % 4 else len(text)


def _now(args: list[Any]) -> dt.datetime:
    if args:
        if isinstance(args[0], dt.tzinfo):
            return dt.datetime.now(args[0])
        fail(f"invalid number of arguments (expected 0, got {len(args)})")
    return dt.datetime.now().astimezone()


def _duration(args: list[Any]) -> Duration:
    try:
        return gotime.parse_duration(as_str(args[0]))
    except GoError as exc:
        fail(str(exc))


_DATE_LAYOUTS = [
    "2006-01-02",
    "15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05Z07:00",
    "02 Jan 06 15:04 MST",
    "Monday, 02-Jan-06 15:04:05 MST",
    "Mon, 02 Jan 2006 15:04:05 MST",
]


def _date(args: list[Any]) -> dt.datetime:
    tz: dt.tzinfo | None = None
    if args and isinstance(args[0], dt.tzinfo):
        tz, args = args[0], args[1:]
    if not args or len(args) > 3:
        fail(f"invalid number of arguments (expected at least 1, got {len(args)})")
    text = as_str(args[0])
    if len(args) == 3:
        tz = _load_location(as_str(args[2]))
    layouts = [as_str(args[1])] if len(args) >= 2 else _DATE_LAYOUTS
    error: GoError | None = None
    for layout in layouts:
        try:
            return gotime.parse_time(layout, text).to_datetime(tz or dt.UTC)
        except GoError as exc:
            error = exc
    if len(layouts) == 1 and error is not None:
        fail(str(error))
    fail(f"invalid date {text}")


def _load_location(name: str) -> dt.tzinfo:
    if name in ("", "UTC"):
        return dt.UTC
    if name == "Local":
        return gotime.local_tz()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        fail(f"unknown time zone {name}")


def _safe_fetch(obj: Any, key: Any) -> Any:
    try:
        return fetch(obj, key)
    except Fault:
        return None


def _take(args: list[Any]) -> Any:
    items, n = args[0], args[1]
    if not isinstance(items, (list, tuple)):
        fail(f"cannot take from {gofmt.kind_name(items)}")
    if isinstance(n, bool) or not isinstance(n, int):
        fail(f"cannot take {gofmt.kind_name(n)} elements")
    return list(items[: max(n, 0)])


def _map_arg(args: list[Any], verb: str) -> Mapping[Any, Any]:
    value = args[0]
    if not isinstance(value, Mapping):
        fail(f"cannot {verb} {gofmt.kind_name(value)}")
    return value


def _sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return sorted(mapping.items(), key=lambda kv: (type(kv[0]).__name__, kv[0]))


def _from_pairs(args: list[Any]) -> dict[Any, Any]:
    pairs = args[0]
    if not isinstance(pairs, (list, tuple)):
        fail(f"cannot transform {sprint(pairs)} from pairs")
    out: dict[Any, Any] = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)):
            fail(f"invalid pair {sprint(pair)}")
        if len(pair) != 2:
            fail(f"invalid pair length {sprint(pair)}")
        out[pair[0]] = pair[1]
    return out


def _array_arg(value: Any, verb: str) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)):
        fail(f"cannot {verb} {gofmt.kind_name(value)}")
    return value


def _uniq(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in _array_arg(args[0], "uniq"):
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    return out


def _concat(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        out.extend(_array_arg(arg, "concat"))
    if len(out) > MEMORY_BUDGET:
        fail("memory budget exceeded")
    return out


def _flatten(args: list[Any]) -> list[Any]:
    def walk(items: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            out.extend(walk(item) if isinstance(item, (list, tuple)) else [item])
        return out

    return walk(_array_arg(args[0], "flatten"))


def sort_values(items: Sequence[Any], desc: bool) -> list[Any]:
    """``sort.Sort`` with runtime.Less: mixing types is an error, as in Go."""
    import functools

    def cmp(a: Any, b: Any) -> int:
        if compare("<", a, b):
            return -1
        return 1 if compare("<", b, a) else 0

    return sorted(items, key=functools.cmp_to_key(cmp), reverse=desc)


def _sort(args: list[Any]) -> list[Any]:
    items = args[0]
    if not isinstance(items, (list, tuple)):
        fail(f"invalid argument for sort (type {type_name(items)})")
    desc = False
    if len(args) == 2:
        order = as_str(args[1])
        if order not in ("asc", "desc"):
            fail(f"invalid order {order}, expected asc or desc")
        desc = order == "desc"
    return sort_values(items, desc)


def _bit(name: str, fn: Callable[[int, int], int]) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> int:
        x, y = args
        for v in (x, y):
            if isinstance(v, bool) or not isinstance(v, int):
                fail(f"invalid operation: {name}({type_name(x)}, {type_name(y)})")
        if name in ("bitshl", "bitshr", "bitushr") and y < 0:
            fail(f"invalid operation: negative shift count {y} (type int)")
        return wrap_int64(fn(x, y))

    return run


def _bitnot(args: list[Any]) -> int:
    x = args[0]
    if isinstance(x, bool) or not isinstance(x, int):
        fail(f"invalid operation: int({type_name(x)}) to call bitnot")
    return ~x


# name -> (implementation over the evaluated argument list, min args, max args or -1)
BUILTINS: dict[str, tuple[Callable[[list[Any]], Any], int, int]] = {
    "len": (lambda a: length(a[0]), 1, 1),
    "type": (lambda a: type_of(a[0]), 1, 1),
    "abs": (_abs, 1, 1),
    "ceil": (_round_func("ceil", math.ceil), 1, 1),
    "floor": (_round_func("floor", math.floor), 1, 1),
    "round": (_round_func("round", go_round), 1, 1),
    "int": (lambda a: go_int(a[0]), 1, 1),
    "float": (lambda a: go_float(a[0]), 1, 1),
    "string": (lambda a: sprint(a[0]), 1, 1),
    "trim": (_trim, 1, 2),
    "trimPrefix": (_trim_prefix, 1, 2),
    "trimSuffix": (_trim_suffix, 1, 2),
    "upper": (lambda a: go_upper(as_str(a[0])), 1, 1),
    "lower": (lambda a: go_lower(as_str(a[0])), 1, 1),
    "split": (_split(False), 2, 3),
    "splitAfter": (_split(True), 2, 3),
    "replace": (_replace, 3, 4),
    "repeat": (_repeat, 2, 2),
    "join": (_join, 1, 2),
    "indexOf": (lambda a: byte_index(as_str(a[0]), as_str(a[1])), 2, 2),
    "lastIndexOf": (lambda a: byte_index(as_str(a[0]), as_str(a[1]), last=True), 2, 2),
    "hasPrefix": (lambda a: as_str(a[0]).startswith(as_str(a[1])), 2, 2),
    "hasSuffix": (lambda a: as_str(a[0]).endswith(as_str(a[1])), 2, 2),
    "max": (_min_max("max", "<"), 1, -1),
    "min": (_min_max("min", ">"), 1, -1),
    "mean": (_mean, 1, -1),
    "median": (_median, 1, -1),
    "toJSON": (_to_json, 1, 1),
    "fromJSON": (_from_json, 1, 1),
    "toBase64": (
        lambda a: base64.b64encode(as_str(a[0]).encode("utf-8", "surrogatepass")).decode("ascii"),
        1,
        1,
    ),
    "fromBase64": (_from_base64, 1, 1),
    "now": (_now, 0, 1),
    "duration": (_duration, 1, 1),
    "date": (_date, 1, 4),
    "timezone": (lambda a: _load_location(as_str(a[0])), 1, 1),
    "first": (lambda a: _safe_fetch(a[0], 0), 1, 1),
    "last": (lambda a: _safe_fetch(a[0], -1), 1, 1),
    "get": (lambda a: _safe_fetch(a[0], a[1]), 2, 2),
    "take": (_take, 2, 2),
    "keys": (lambda a: [k for k, _ in _sorted_items(_map_arg(a, "get keys from"))], 1, 1),
    "values": (lambda a: [v for _, v in _sorted_items(_map_arg(a, "get values from"))], 1, 1),
    "toPairs": (lambda a: [[k, v] for k, v in _sorted_items(_map_arg(a, "transform"))], 1, 1),
    "fromPairs": (_from_pairs, 1, 1),
    "reverse": (lambda a: list(reversed(_array_arg(a[0], "reverse"))), 1, 1),
    "uniq": (_uniq, 1, 1),
    "concat": (_concat, 1, -1),
    "flatten": (_flatten, 1, 1),
    "sort": (_sort, 1, 2),
    "bitand": (_bit("bitand", lambda x, y: x & y), 2, 2),
    "bitor": (_bit("bitor", lambda x, y: x | y), 2, 2),
    "bitxor": (_bit("bitxor", lambda x, y: x ^ y), 2, 2),
    "bitnand": (_bit("bitnand", lambda x, y: x & ~y), 2, 2),
    "bitshl": (_bit("bitshl", lambda x, y: x << min(y, 64)), 2, 2),
    "bitshr": (_bit("bitshr", lambda x, y: x >> min(y, 64)), 2, 2),
    "bitushr": (_bit("bitushr", lambda x, y: (x & ((1 << 64) - 1)) >> min(y, 64)), 2, 2),
    "bitnot": (_bitnot, 1, 1),
}


def arity_error(name: str, got: int) -> str | None:
    """The compile-time complaint about calling builtin ``name`` with ``got`` arguments, if any."""
    _, lo, hi = BUILTINS[name]
    if got >= lo and (hi < 0 or got <= hi):
        return None
    if lo == hi:
        return f"invalid number of arguments (expected {lo}, got {got})"
    if hi < 0:
        return f"invalid number of arguments (expected at least {lo}, got {got})"
    return f"invalid number of arguments for {name} (expected {lo} or {hi}, got {got})"


__all__ = ["BUILTINS", "GoFunc", "arity_error", "go_float", "go_int", "sort_values"]
