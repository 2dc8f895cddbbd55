"""Go's spelling of values: ``fmt`` ``%v``/``%T``/``%q``, ``encoding/json`` and ``strconv``.

Argo inserts an expression's result with ``encoding/json`` (older releases: ``%v``), ``string()``
and ``sprig.toString`` use ``%v``, and ``asInt``/``sprig.int`` parse with ``strconv``; users
see Go's output (``1e+06``, ``map[a:1]``, ``\\u003c``), so we reproduce it rather than Python's.

Value model shared by the whole package: ``None`` is Go ``nil``, ``bool``, ``int`` (int64),
``float`` (float64), ``str``, ``list`` (``[]interface{}``), ``dict`` (``map[string]interface{}``),
aware ``datetime`` (``time.Time``), :class:`Duration` (``time.Duration``), callables (funcs).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class GoError(Exception):
    """A Go runtime error or panic; its text is what Go would print."""


class Duration:
    """A Go ``time.Duration``: integer nanoseconds (timedelta would lose the nanoseconds)."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = wrap_int64(int(ns))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and other.ns == self.ns

    def __hash__(self) -> int:
        return hash(("Duration", self.ns))

    def __repr__(self) -> str:
        return f"Duration({format_duration(self.ns)})"

    def __str__(self) -> str:
        return format_duration(self.ns)

    def to_timedelta(self) -> dt.timedelta:
        return dt.timedelta(microseconds=self.ns // 1000)


def wrap_int64(value: int) -> int:
    """Two's-complement wrap, as Go's int64 arithmetic overflows silently."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    value &= (1 << 64) - 1
    return value - (1 << 64) if value > INT64_MAX else value


def is_number(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, float)


# --------------------------------------------------------------------------- floats


def _digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``|x|`` (x finite, non-zero) and the decimal point position."""
    _, digit_tuple, exp = Decimal(repr(abs(x))).as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    digits = stripped.lstrip("0") or "0"
    return digits, len(digits) + exp


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * (-point) + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _sci(digits: str, point: int, min_exp_digits: int = 2) -> str:
    exp = point - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if exp < 0 else "+"
    return f"{mantissa}e{sign}{abs(exp):0{min_exp_digits}d}"


def format_float(x: float) -> str:
    """``fmt.Sprint(float64)`` (``%v``): shortest digits, exponent form below 1e-4 or from 1e6.

    strconv's shortest ``'g'`` decides with precision 6, hence Go's famous ``1e+06``.
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    digits, point = _digits(x)
    exp = point - 1
    body = _sci(digits, point) if exp < -4 or exp >= 6 else _fixed(digits, point)
    return "-" + body if x < 0 else body


def json_float(x: float) -> str:
    """``encoding/json`` float64: fixed notation unless below 1e-6 or from 1e21."""
    if math.isnan(x) or math.isinf(x):
        raise GoError(f"json: unsupported value: {format_float(x)}")
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    digits, point = _digits(x)
    ax = abs(x)
    if ax < 1e-6 or ax >= 1e21:
        body = _sci(digits, point)
        body = re.sub(r"e-0(\d)$", r"e-\1", body)
    else:
        body = _fixed(digits, point)
    return "-" + body if x < 0 else body


# --------------------------------------------------------------------------- durations & times


def _frac(value: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: fractional digits of value/10**prec without trailing zeros."""
    digits = ""
    printed = False
    for _ in range(prec):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def format_duration(ns: int) -> str:
    """``time.Duration.String()``: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u < 1000:
            out = f"{u}ns"
        elif u < 1_000_000:
            frac, whole = _frac(u, 3)
            out = f"{whole}{frac}µs"
        else:
            frac, whole = _frac(u, 6)
            out = f"{whole}{frac}ms"
    else:
        frac, secs = _frac(u, 9)
        out = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours:
                out = f"{hours}h" + out
    return "-" + out if neg else out


def zone_name(value: dt.datetime) -> str:
    """Go's zone abbreviation for a time; unnamed fixed offsets print as ``+0200``."""
    offset = value.utcoffset() or dt.timedelta(0)
    name = value.tzname() or ""
    if value.tzinfo is dt.UTC or name in ("UTC", "UTC+00:00"):
        return "UTC"
    if re.fullmatch(r"[A-Za-z]{3,5}", name):
        return name
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 3600:02d}{total % 3600 // 60:02d}"


def format_time(value: dt.datetime) -> str:
    """``time.Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    offset = int((value.utcoffset() or dt.timedelta(0)).total_seconds())
    sign = "-" if offset < 0 else "+"
    off = abs(offset)
    frac = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{frac} "
        f"{sign}{off // 3600:02d}{off % 3600 // 60:02d} {zone_name(value)}"
    )


def rfc3339nano(value: dt.datetime) -> str:
    """``time.RFC3339Nano`` (how encoding/json writes a time.Time)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    frac = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    offset = int((value.utcoffset() or dt.timedelta(0)).total_seconds())
    if offset == 0:
        zone = "Z"
    else:
        sign = "-" if offset < 0 else "+"
        off = abs(offset)
        zone = f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"
    return f"{value.strftime('%Y-%m-%dT%H:%M:%S')}{frac}{zone}"


# --------------------------------------------------------------------------- %v and %T


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, bool):
        return (0, key)
    if is_number(key):
        return (1, key)
    return (2, str(key))


def sprint(value: Any) -> str:
    """``fmt.Sprintf("%v", value)``."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(sprint(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{sprint(k)}:{sprint(v)}" for k, v in items) + "]"
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, Duration):
        return format_duration(value.ns)
    if isinstance(value, re.Pattern):
        return value.pattern
    if callable(value):
        return "0x0"
    return str(value)


def type_name(value: Any) -> str:
    """``fmt.Sprintf("%T", value)`` for our value model."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, dt.datetime):
        return "time.Time"
    if isinstance(value, Duration):
        return "time.Duration"
    if callable(value):
        return "func(...interface {}) interface {}"
    return type(value).__name__


def kind_name(value: Any) -> str:
    """``reflect.Kind`` spelling (``slice``, ``map``, ``string``...) used in some Go errors."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "slice"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, (dt.datetime,)):
        return "struct"
    if isinstance(value, Duration):
        return "int64"
    if callable(value):
        return "func"
    return "interface"


# --------------------------------------------------------------------------- %q


_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def quote(text: str) -> str:
    """``strconv.Quote`` / ``%q``: Go escapes, printable Unicode kept as is."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            code = ord(ch)
            if 0xD800 <= code <= 0xDFFF:
                out.append("\\ufffd")
            elif code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------- encoding/json


def _json_string(text: str, html: bool) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20:
            out.append(
                {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(ch, f"\\u{code:04x}")
            )
        elif html and ch in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_json(value: Any, *, indent: str | None = None, html: bool = True) -> str:
    """``json.Marshal`` (or ``MarshalIndent(v, "", indent)``): compact, sorted keys, Go floats."""
    return _json(value, indent, html, "")


def _json(value: Any, indent: str | None, html: bool, level: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, str):
        return _json_string(value, html)
    if isinstance(value, dt.datetime):
        return _json_string(rfc3339nano(value), html)
    if isinstance(value, Duration):
        return str(value.ns)
    inner = level + indent if indent is not None else ""
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        parts = [_json(v, indent, html, inner) for v in value]
        if indent is None:
            return "[" + ",".join(parts) + "]"
        return "[\n" + ",\n".join(inner + p for p in parts) + "\n" + level + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = sorted(((sprint(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        sep = ":" if indent is None else ": "
        parts = [_json_string(k, html) + sep + _json(v, indent, html, inner) for k, v in items]
        if indent is None:
            return "{" + ",".join(parts) + "}"
        return "{\n" + ",\n".join(inner + p for p in parts) + "\n" + level + "}"
    if callable(value):
        raise GoError("json: unsupported type: func(...interface {}) interface {}")
    raise GoError(f"json: unsupported type: {type_name(value)}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def from_json(text: str) -> Any:
    """``json.Unmarshal`` into ``interface{}``: every number becomes float64."""
    try:
        return json.loads(text, parse_int=float, parse_float=float, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise GoError("unexpected end of JSON input") from None
        ch = text[exc.pos]
        raise GoError(f"invalid character {_char_quote(ch)} {_json_context(exc.msg)}") from None
    except (ValueError, RecursionError) as exc:
        raise GoError(str(exc)) from None


def _char_quote(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch.isprintable():
        return f"'{ch}'"
    return quote(ch).replace('"', "'")


def _json_context(msg: str) -> str:
    if "Expecting value" in msg:
        return "looking for beginning of value"
    if "Extra data" in msg:
        return "after top-level value"
    if "Expecting property name" in msg:
        return "looking for beginning of object key string"
    if "Expecting ':'" in msg:
        return "after object key"
    if "delimiter" in msg:
        return "after object key:value pair" if "','" in msg else "after array element"
    return "in string literal"


# --------------------------------------------------------------------------- strconv

_DEC_FLOAT = re.compile(r"[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP][+-]?\d+")
_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def parse_float(text: str) -> float:
    """``strconv.ParseFloat(s, 64)``; raises :class:`GoError` with Go's message."""
    if _SPECIAL_FLOAT.fullmatch(text):
        return float(text.lower().replace("infinity", "inf"))
    if _DEC_FLOAT.fullmatch(text) and ("_" not in text):
        value = float(text)
    elif _HEX_FLOAT.fullmatch(text):
        try:
            value = float.fromhex(text.replace("_", ""))
        except (ValueError, OverflowError):
            raise GoError(f"strconv.ParseFloat: parsing {quote(text)}: invalid syntax") from None
    else:
        raise GoError(f"strconv.ParseFloat: parsing {quote(text)}: invalid syntax")
    if math.isinf(value):
        raise GoError(f"strconv.ParseFloat: parsing {quote(text)}: value out of range")
    return value


_INT_BASES = {"0x": 16, "0o": 8, "0b": 2}


def parse_int(text: str, base: int = 10, func: str = "ParseInt") -> int:
    """``strconv.ParseInt(s, base, 64)`` (base 0 understands 0x/0o/0b/0 prefixes and ``_``)."""
    err = GoError(f"strconv.{func}: parsing {quote(text)}: invalid syntax")
    body = text
    sign = 1
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        raise err
    if base == 0:
        prefix = body[:2].lower()
        if prefix in _INT_BASES:
            base, body = _INT_BASES[prefix], body[2:]
            body = body[1:] if body.startswith("_") else body
        elif body.startswith("0") and len(body) > 1:
            base, body = 8, body[1:]
        else:
            base = 10
        if "__" in body or body.startswith("_") or body.endswith("_"):
            raise err
        body = body.replace("_", "")
    elif "_" in body:
        raise err
    if not body:
        raise err
    try:
        value = sign * int(body, base)
    except ValueError:
        raise err from None
    if not body.isascii():
        raise err
    if not INT64_MIN <= value <= INT64_MAX:
        raise GoError(f"strconv.{func}: parsing {quote(text)}: value out of range")
    return value


def atoi(text: str) -> int:
    """``strconv.Atoi``: base 10, optional sign, no spaces or underscores."""
    return parse_int(text, 10, "Atoi")
