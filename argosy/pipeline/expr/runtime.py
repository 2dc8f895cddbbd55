"""Operator semantics of expr-lang's VM (``vm/runtime``) over our Go value model.

Equality across int/float, ``/`` always float64, Go's truncated ``%``, int64 wrap-around,
``cannot fetch x from <nil>``: each rule matches what Argo's expr build does, so a
condition behaves the same locally as on a cluster.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from .gofmt import Duration, GoError, is_number, sprint, type_name, wrap_int64

MEMORY_BUDGET = 1_000_000


class Fault(Exception):
    """A runtime error raised while evaluating; ``pos`` is attached by the nearest node."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def fail(message: str) -> NoReturn:
    raise Fault(message)


def not_type(value: Any, want: str) -> NoReturn:
    """Go's failed type assertion ``value.(want)``."""
    got = "nil" if value is None else type_name(value)
    raise Fault(f"interface conversion: interface {{}} is {got}, not {want}")


def as_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    not_type(value, "bool")


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    not_type(value, "string")


# --------------------------------------------------------------------------- equality


def deep_equal(a: Any, b: Any) -> bool:
    """``reflect.DeepEqual`` on our values: types must match exactly."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if type(a) is not type(b):
        if (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            or isinstance(a, Mapping)
            and isinstance(b, Mapping)
        ):
            pass
        else:
            return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping):
        if len(a) != len(b):
            return False
        return all(k in b and deep_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    return bool(a == b)


def equal(a: Any, b: Any) -> bool:
    """``runtime.Equal``: numbers compare by value across int/float, else DeepEqual."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return _aware(a) == _aware(b)
    return deep_equal(a, b)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def compare(op: str, a: Any, b: Any) -> bool:
    """``<``, ``>``, ``<=``, ``>=`` for numbers, strings, times and durations."""
    if is_number(a) and is_number(b) or isinstance(a, str) and isinstance(b, str):
        pass
    elif isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        a, b = _aware(a), _aware(b)
    elif isinstance(a, Duration) and isinstance(b, Duration):
        a, b = a.ns, b.ns
    else:
        fail(f"invalid operation: {type_name(a)} {op} {type_name(b)}")
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


# --------------------------------------------------------------------------- arithmetic


def _invalid(a: Any, op: str, b: Any) -> NoReturn:
    fail(f"invalid operation: {type_name(a)} {op} {type_name(b)}")


def add(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
        return wrap_int64(a + b)
    if is_number(a) and is_number(b):
        return float(a) + float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, dt.datetime) and isinstance(b, Duration):
        return a + b.to_timedelta()
    if isinstance(a, Duration) and isinstance(b, dt.datetime):
        return b + a.to_timedelta()
    if isinstance(a, Duration) and isinstance(b, Duration):
        return Duration(a.ns + b.ns)
    _invalid(a, "+", b)


def sub(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
        return wrap_int64(a - b)
    if is_number(a) and is_number(b):
        return float(a) - float(b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        delta = _aware(a) - _aware(b)
        return Duration((delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000)
    if isinstance(a, dt.datetime) and isinstance(b, Duration):
        return a - b.to_timedelta()
    if isinstance(a, Duration) and isinstance(b, Duration):
        return Duration(a.ns - b.ns)
    _invalid(a, "-", b)


def mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
        return wrap_int64(a * b)
    if is_number(a) and is_number(b):
        return float(a) * float(b)
    if isinstance(a, Duration) and is_number(b):
        return Duration(int(a.ns * b))
    if is_number(a) and isinstance(b, Duration):
        return Duration(int(a * b.ns))
    _invalid(a, "*", b)


def div(a: Any, b: Any) -> float:
    """``/`` is always float64 division; x/0 is ±Inf or NaN as in Go."""
    if not (is_number(a) and is_number(b)):
        _invalid(a, "/", b)
    x, y = float(a), float(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def go_mod(a: int, b: int) -> int:
    """Go's integer remainder: truncated, takes the sign of the dividend."""
    if b == 0:
        fail("runtime error: integer divide by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def go_div_int(a: int, b: int) -> int:
    """Go's integer division: truncates toward zero."""
    if b == 0:
        fail("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return wrap_int64(q if (a < 0) == (b < 0) else -q)


def mod(a: Any, b: Any) -> int:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
        return go_mod(a, b)
    _invalid(a, "%", b)


def power(a: Any, b: Any) -> float:
    """``**``/``^``: ``math.Pow`` on float64 (overflow gives +Inf, not an error)."""
    if not (is_number(a) and is_number(b)):
        _invalid(a, "**", b)
    x, y = float(a), float(b)
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf if x > 0 or float(y).is_integer() and int(y) % 2 == 0 else -math.inf
    except ValueError:
        if x == 0 and y < 0:
            return math.inf
        return math.nan


def negate(value: Any) -> Any:
    if isinstance(value, bool) or not is_number(value):
        if isinstance(value, Duration):
            return Duration(-value.ns)
        fail(f"invalid operation: - {type_name(value)}")
    return wrap_int64(-value) if isinstance(value, int) else -value


def plus(value: Any) -> Any:
    if isinstance(value, bool) or not is_number(value):
        fail(f"invalid operation: + {type_name(value)}")
    return value


def to_int(value: Any) -> int:
    """``runtime.ToInt``: numbers only (floats truncate)."""
    if isinstance(value, bool) or not is_number(value):
        fail(f"invalid operation: int({type_name(value)})")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return -(1 << 63)
        return wrap_int64(int(value))
    return value


def make_range(a: Any, b: Any) -> list[int]:
    if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
        _invalid(a, "..", b)
    if b - a + 1 > MEMORY_BUDGET:
        fail("memory budget exceeded")
    return list(range(a, b + 1))


# --------------------------------------------------------------------------- strings


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go RE2 pattern with Python's ``re`` (``\\z`` translated)."""
    translated = pattern.replace("\\z", "\\Z")
    try:
        return re.compile(translated)
    except re.error as exc:
        reason = str(exc.msg)
        for python_text, go_text in _RE2_ERRORS:
            if reason.startswith(python_text):
                reason = go_text
                break
        raise GoError(f"error parsing regexp: {reason}: `{pattern}`") from None
    except (OverflowError, RecursionError) as exc:
        raise GoError(f"error parsing regexp: {exc}: `{pattern}`") from None


# Python's wording -> RE2's (Go's regexp/syntax ErrorCode texts).
_RE2_ERRORS = (
    ("missing ), unterminated subpattern", "missing closing )"),
    ("unbalanced parenthesis", "unexpected )"),
    ("unterminated character set", "missing closing ]"),
    ("nothing to repeat", "missing argument to repetition operator"),
    ("multiple repeat", "invalid nested repetition operator"),
    ("bad escape", "invalid escape sequence"),
    ("bad character range", "invalid character class range"),
)


def matches(text: Any, pattern: Any) -> bool:
    if not isinstance(text, str) or not isinstance(pattern, str):
        _invalid(text, "matches", pattern)
    try:
        return compile_regex(pattern).search(text) is not None
    except GoError as exc:
        fail(str(exc))


def string_op(op: str, a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        _invalid(a, op, b)
    if op == "contains":
        return b in a
    if op == "startsWith":
        return a.startswith(b)
    return a.endswith(b)


# --------------------------------------------------------------------------- containers


def fetch(obj: Any, key: Any) -> Any:
    """``runtime.Fetch``: map lookup (missing is nil), index with negatives, errors on nil."""
    if isinstance(obj, Mapping):
        if key is not None and not isinstance(key, str):
            fail(f"reflect.Value.MapIndex: value of type {type_name(key)} is not assignable to type string")
        return obj.get(key) if key is not None else obj.get("")
    if isinstance(obj, (list, tuple, str)):
        index = to_int(key)
        length = len(obj) if not isinstance(obj, str) else len(obj.encode("utf-8"))
        if index < 0:
            index += length
        if index < 0 or index >= length:
            fail(f"index out of range: {index} (array length is {length})")
        if isinstance(obj, str):
            return obj.encode("utf-8")[index]
        return obj[index]
    if obj is None:
        fail(f"cannot fetch {sprint(key)} from <nil>")
    if isinstance(key, str):
        method = _method(obj, key)
        if method is not None:
            return method
    fail(f"cannot fetch {sprint(key)} from {type_name(obj)}")


def slice_value(obj: Any, start: Any, end: Any) -> Any:
    if isinstance(obj, (list, tuple, str)):
        data: Any = obj.encode("utf-8") if isinstance(obj, str) else obj
        length = len(data)
        a = 0 if start is None else to_int(start)
        b = length if end is None else to_int(end)
        if a < 0:
            a = max(length + a, 0)
        if b < 0:
            b = max(length + b, 0)
        b = min(b, length)
        a = min(a, b)
        piece = data[a:b]
        if isinstance(obj, str):
            return piece.decode("utf-8", errors="replace")
        return list(piece)
    fail(f"cannot slice {sprint(start if start is not None else 0)}")


def contains_in(needle: Any, haystack: Any) -> bool:
    """``runtime.In``: element of an array, key of a map; ``x in nil`` is false."""
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(equal(item, needle) for item in haystack)
    if isinstance(haystack, Mapping):
        if needle is not None and not isinstance(needle, str):
            fail(
                f"reflect.Value.MapIndex: value of type {type_name(needle)} is not assignable to type string"
            )
        return (needle if needle is not None else "") in haystack
    fail(f'operator "in" not defined on {type_name(haystack)}')


def length(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, (list, tuple, Mapping)):
        return len(value)
    fail(f"invalid argument for len (type {type_name(value)})")


# --------------------------------------------------------------------------- methods on time values


def _method(obj: Any, name: str) -> Any:
    """Go methods reachable as ``t.Format("2006")``/``d.Hours()`` on times and durations."""
    from . import gotime

    if isinstance(obj, dt.datetime):
        t = _aware(obj)
        table: dict[str, Any] = {
            "Year": lambda: t.year,
            "Month": lambda: t.month,
            "Day": lambda: t.day,
            "Hour": lambda: t.hour,
            "Minute": lambda: t.minute,
            "Second": lambda: t.second,
            "Nanosecond": lambda: t.microsecond * 1000,
            "YearDay": lambda: t.timetuple().tm_yday,
            "Weekday": lambda: (t.weekday() + 1) % 7,
            "Unix": lambda: int(t.timestamp() // 1),
            "UnixMilli": lambda: int(t.timestamp() * 1000),
            "UnixNano": lambda: int(t.timestamp() * 1e9),
            "Format": lambda layout: gotime.format_time(t, as_str(layout)),
            "UTC": lambda: t.astimezone(dt.UTC),
            "Local": lambda: t.astimezone(),
            "Add": lambda d: add(t, d),
            "Sub": lambda other: sub(t, other),
            "Before": lambda other: _aware(other) > t,
            "After": lambda other: _aware(other) < t,
            "Equal": lambda other: _aware(other) == t,
            "String": lambda: sprint(t),
            "IsZero": lambda: False,
        }
        return table.get(name)
    if isinstance(obj, Duration):
        ns = obj.ns
        table = {
            "Hours": lambda: ns / 3.6e12,
            "Minutes": lambda: ns / 6e10,
            "Seconds": lambda: ns / 1e9,
            "Milliseconds": lambda: ns // 1_000_000 if ns >= 0 else -(-ns // 1_000_000),
            "Microseconds": lambda: ns // 1000 if ns >= 0 else -(-ns // 1000),
            "Nanoseconds": lambda: ns,
            "String": lambda: sprint(obj),
            "Abs": lambda: Duration(abs(ns)),
        }
        return table.get(name)
    return None
