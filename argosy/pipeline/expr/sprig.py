"""The ``sprig`` map Argo puts in every expression environment (Masterminds/sprig v3).

Sprig's argument order (``sprig.trimAll("$", s)``), its lenient casts (``sprig.add("2", 1)``
is 3, a bad number is 0) and its int64 results are kept, because workflows rely on them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import math
import posixpath
import re
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import gofmt, gotime
from .functions import GoFunc, go_lower, go_upper
from .gofmt import Duration, GoError, is_number, quote, sprint, type_name, wrap_int64
from .runtime import compile_regex, deep_equal, fail, go_div_int, go_mod

# --------------------------------------------------------------------------- casts (spf13/cast)


def _trim_zero_decimal(text: str) -> str:
    found_zero = False
    for i in range(len(text), 0, -1):
        ch = text[i - 1]
        if ch == ".":
            if found_zero:
                return text[: i - 1]
        elif ch == "0":
            found_zero = True
        else:
            return text
    return text


def to_int64(value: Any) -> int:
    """``cast.ToInt64``: lenient, anything unparsable is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return 0 if math.isnan(value) or math.isinf(value) else wrap_int64(int(value))
    if isinstance(value, Duration):
        return value.ns
    if isinstance(value, str):
        try:
            return gofmt.parse_int(_trim_zero_decimal(value), 0)
        except GoError:
            return 0
    return 0


def to_float64(value: Any) -> float:
    """``cast.ToFloat64``: lenient, anything unparsable is 0."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return gofmt.parse_float(value)
        except GoError:
            return 0.0
    return 0.0


def strval(value: Any) -> str:
    """sprig's ``strval``: strings as is, everything else via ``%v``."""
    return value if isinstance(value, str) else sprint(value)


def _strslice(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [strval(v) for v in value if v is not None]
    return [strval(value)]


def empty(value: Any) -> bool:
    """sprig's ``empty``: nil, zero numbers, false, empty strings/collections."""
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if is_number(value):
        return value == 0
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) == 0
    if isinstance(value, Duration):
        return value.ns == 0
    return False


# --------------------------------------------------------------------------- math


def _decimal_op(
    first: Any, rest: Sequence[Any], op: Callable[[decimal.Decimal, decimal.Decimal], decimal.Decimal]
) -> float:
    with decimal.localcontext() as ctx:
        ctx.prec = 34
        acc = decimal.Decimal(repr(to_float64(first)))
        for value in rest:
            try:
                acc = op(acc, decimal.Decimal(repr(to_float64(value))))
            except decimal.DivisionByZero:
                fail("decimal division by zero")
            except decimal.InvalidOperation:
                fail("decimal division by zero")
        return float(acc)


def _max(first: Any, *rest: Any) -> int:
    best = to_int64(first)
    for value in rest:
        best = max(best, to_int64(value))
    return best


def _min(first: Any, *rest: Any) -> int:
    best = to_int64(first)
    for value in rest:
        best = min(best, to_int64(value))
    return best


def _round(value: Any, places: int, *opts: float) -> float:
    round_on = opts[0] if opts else 0.5
    number = to_float64(value)
    pow10 = 10.0**places
    digit = pow10 * number
    frac, _ = math.modf(digit)
    if frac >= round_on:
        rounded = math.ceil(digit)
    else:
        rounded = math.floor(digit)
    return rounded / pow10


def _until_step(start: int, stop: int, step: int) -> list[int]:
    out: list[int] = []
    if step == 0:
        return out
    i = start
    while (step > 0 and i < stop) or (step < 0 and i > stop):
        out.append(i)
        i += step
        if len(out) > 1_000_000:
            fail("memory budget exceeded")
    return out


def _seq(*params: int) -> str:
    if len(params) == 1:
        end = params[0]
        return " ".join(str(i) for i in (range(1, end + 1) if end >= 1 else range(1, end - 1, -1)))
    if len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
        return " ".join(str(i) for i in range(start, end + step, step))
    if len(params) == 3:
        start, step, end = params
        if step == 0 or (end > start and step < 0) or (end < start and step > 0):
            return ""
        return " ".join(str(i) for i in range(start, end + (1 if step > 0 else -1), step))
    return ""


# --------------------------------------------------------------------------- strings


def _substr(start: int, end: int, text: str) -> str:
    data = text.encode("utf-8")
    if start < 0:
        piece = data[:end]
    elif end < 0 or end > len(data):
        piece = data[start:]
    else:
        piece = data[start:end]
    return piece.decode("utf-8", "replace")


def _trunc(count: int, text: str) -> str:
    data = text.encode("utf-8")
    if count < 0 and len(data) + count > 0:
        return data[len(data) + count :].decode("utf-8", "replace")
    if count >= 0 and len(data) > count:
        return data[:count].decode("utf-8", "replace")
    return text


def _abbrev(width: int, text: str) -> str:
    if width < 4 or len(text) <= width:
        return text
    return text[: width - 3] + "..."


def _indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _title(text: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), text)


def _initials(text: str) -> str:
    return "".join(word[0] for word in text.split() if word)


def _swapcase(text: str) -> str:
    return "".join(c.lower() if c.isupper() else c.upper() for c in text)


def _split_map(sep: str, text: str, n: int = -1) -> dict[str, Any]:
    if n == 0:
        return {}
    parts = text.split(sep, n - 1) if n > 0 else text.split(sep)
    return {f"_{i}": part for i, part in enumerate(parts)}


def _b64dec(text: str) -> str:
    try:
        return base64.b64decode(text.encode("utf-8"), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "illegal base64 data at input byte 0"


def _b32dec(text: str) -> str:
    try:
        return base64.b32decode(text.encode("utf-8")).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


# --------------------------------------------------------------------------- dates


def _as_time(value: Any) -> dt.datetime:
    """sprig's date argument: a time, Unix seconds as int, anything else means now."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.now(dt.UTC)


def _zone(name: str) -> dt.tzinfo:
    if name == "Local":
        return gotime.local_tz()
    if name in ("", "UTC"):
        return dt.UTC
    try:
        import zoneinfo

        return zoneinfo.ZoneInfo(name)
    except Exception:
        return dt.UTC


def date_in_zone(layout: str, value: Any, zone: str) -> str:
    """``sprig.dateInZone``; note a string date is *not* parsed: sprig formats the current time."""
    return gotime.format_time(_as_time(value).astimezone(_zone(zone)), layout)


def _to_date(layout: str, text: str) -> dt.datetime:
    return gotime.parse_time(layout, text).to_datetime(gotime.local_tz())


def _date_modify(fmt: str, date: dt.datetime) -> dt.datetime:
    duration = gotime.parse_duration(fmt)
    return date + duration.to_timedelta()


def _duration(sec: Any) -> str:
    if isinstance(sec, str):
        try:
            n = gofmt.parse_int(sec)
        except GoError:
            n = 0
    elif isinstance(sec, int) and not isinstance(sec, bool):
        n = sec
    else:
        n = 0
    return gofmt.format_duration(wrap_int64(n * 1_000_000_000))


# --------------------------------------------------------------------------- lists & dicts


def _list_arg(name: str, value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    fail(f"Cannot find {name} on type {type_name(value)}")


def _first(value: Any) -> Any:
    items = _list_arg("first", value)
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = _list_arg("last", value)
    return items[-1] if items else None


def _rest(value: Any) -> Any:
    items = _list_arg("rest", value)
    return items[1:] if items else None


def _initial(value: Any) -> Any:
    items = _list_arg("initial", value)
    return items[:-1] if items else None


def _uniq(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list_arg("uniq", value):
        if not any(deep_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _without(value: Any, *omit: Any) -> list[Any]:
    return [item for item in _list_arg("without", value) if not any(deep_equal(item, o) for o in omit)]


def _has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    return any(deep_equal(item, needle) for item in _list_arg("has", haystack))


def _dict(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = list(pairs)
    if len(items) % 2:
        items.append("")
    for i in range(0, len(items), 2):
        out[strval(items[i])] = items[i + 1]
    return out


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        fail("dig needs at least three arguments")
    *keys, default, mapping = args
    current: Any = mapping
    for key in keys:
        if not isinstance(current, Mapping) or strval(key) not in current:
            return default
        current = current[strval(key)]
    return current


def _slice(value: Any, *indices: Any) -> Any:
    items = _list_arg("slice", value)
    if not indices:
        return items
    start = to_int64(indices[0])
    end = to_int64(indices[1]) if len(indices) > 1 else len(items)
    if start < 0 or end > len(items) or start > end:
        fail(f"runtime error: slice bounds out of range [{start}:{end}]")
    return items[start:end]


def _chunk(size: int, value: Any) -> list[Any]:
    items = _list_arg("chunk", value)
    if size <= 0:
        fail("runtime error: integer divide by zero")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _merge(dst: Any, *srcs: Any) -> Any:
    for src in srcs:
        if isinstance(src, Mapping):
            for key, val in src.items():
                if key not in dst:
                    dst[key] = val
    return dst


def _merge_overwrite(dst: Any, *srcs: Any) -> Any:
    for src in srcs:
        if isinstance(src, Mapping):
            dst.update(src)
    return dst


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return compile_regex(pattern)
    except GoError as exc:
        fail(str(exc))


def _expand_go_template(repl: str) -> str:
    """Go's ``${1}``/``$1``/``$name`` replacement syntax in Python's ``\\g<1>`` form."""
    out = repl.replace("\\", "\\\\")
    out = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", out)
    out = re.sub(r"\$(\d+)", r"\\g<\1>", out)
    out = re.sub(r"\$([A-Za-z_]\w*)", r"\\g<\1>", out)
    return out.replace("$$", "$")


def _regex_replace_all(pattern: str, text: str, repl: str) -> str:
    try:
        return _regex(pattern).sub(_expand_go_template(repl), text)
    except (re.error, IndexError):
        return _regex(pattern).sub(lambda m: "", text)


def _regex_find_all(pattern: str, text: str, n: int) -> list[Any]:
    found = [m.group(0) for m in _regex(pattern).finditer(text)]
    return found if n < 0 else found[:n]


def _regex_split(pattern: str, text: str, n: int) -> list[Any]:
    if n == 0:
        return []
    parts = _regex(pattern).split(text, maxsplit=max(n - 1, 0))
    return parts


def _to_json(value: Any) -> str:
    try:
        return gofmt.to_json(value)
    except GoError:
        return ""


def _from_json(text: str) -> Any:
    try:
        return gofmt.from_json(text)
    except GoError:
        return None


def _must_from_json(text: str) -> Any:
    return gofmt.from_json(text)


def _kind_of(value: Any) -> str:
    return gofmt.kind_name(value) if value is not None else "invalid"


def _sort_alpha(value: Any) -> list[str]:
    return sorted(_strslice(value) if isinstance(value, (list, tuple)) else [strval(value)])


def _fail(message: str) -> Any:
    raise GoError(message)


def _typed(spec: str) -> tuple[list[str], str | None]:
    """``"string,int,...any"`` -> (["string", "int"], "any")."""
    params: list[str] = []
    variadic = None
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part.startswith("..."):
            variadic = part[3:]
        else:
            params.append(part)
    return params, variadic


_TABLE: dict[str, tuple[str, Callable[..., Any]]] = {
    # strings
    "hello": ("", lambda: "Hello!"),
    "upper": ("string", go_upper),
    "lower": ("string", go_lower),
    "title": ("string", _title),
    "untitle": ("string", lambda s: re.sub(r"\b(\w)", lambda m: m.group(1).lower(), s)),
    "trim": ("string", lambda s: s.strip(" \t\n\v\f\r\x85\xa0")),
    "trimAll": ("string,string", lambda cut, s: s.strip(cut)),
    "trimall": ("string,string", lambda cut, s: s.strip(cut)),
    "trimSuffix": ("string,string", lambda suf, s: s[: -len(suf)] if suf and s.endswith(suf) else s),
    "trimPrefix": ("string,string", lambda pre, s: s[len(pre) :] if pre and s.startswith(pre) else s),
    "nospace": ("string", lambda s: "".join(s.split())),
    "abbrev": ("int,string", _abbrev),
    "trunc": ("int,string", _trunc),
    "substr": ("int,int,string", _substr),
    "repeat": ("int,string", lambda n, s: s * n if n <= 1_000_000 else fail("memory budget exceeded")),
    "initials": ("string", _initials),
    "swapcase": ("string", _swapcase),
    "contains": ("string,string", lambda sub, s: sub in s),
    "hasPrefix": ("string,string", lambda pre, s: s.startswith(pre)),
    "hasSuffix": ("string,string", lambda suf, s: s.endswith(suf)),
    "quote": ("...any", lambda *a: " ".join(quote(strval(v)) for v in a if v is not None)),
    "squote": ("...any", lambda *a: " ".join(f"'{strval(v)}'" for v in a if v is not None)),
    "cat": ("...any", lambda *a: " ".join(sprint(v) for v in a if v is not None)),
    "indent": ("int,string", _indent),
    "nindent": ("int,string", lambda n, s: "\n" + _indent(n, s)),
    "replace": ("string,string,string", lambda old, new, s: s.replace(old, new)),
    "plural": ("string,string,int", lambda one, many, n: one if n == 1 else many),
    "sha1sum": ("string", lambda s: hashlib.sha1(s.encode()).hexdigest()),
    "sha256sum": ("string", lambda s: hashlib.sha256(s.encode()).hexdigest()),
    "adler32sum": ("string", lambda s: str(zlib.adler32(s.encode()))),
    "toString": ("any", strval),
    "atoi": ("string", lambda s: _atoi(s)),
    "int64": ("any", to_int64),
    "int": ("any", to_int64),
    "float64": ("any", to_float64),
    "toDecimal": ("any", lambda v: _octal(v)),
    "split": ("string,string", _split_map),
    "splitList": ("string,string", lambda sep, s: list(s.split(sep)) if sep else list(s)),
    "splitn": ("string,int,string", lambda sep, n, s: _split_map(sep, s, n)),
    "toStrings": ("any", _strslice),
    "join": ("string,any", lambda sep, v: sep.join(_strslice(v))),
    "sortAlpha": ("any", _sort_alpha),
    "seq": ("...int", _seq),
    "until": ("int", lambda n: _until_step(0, n, 1 if n >= 0 else -1)),
    "untilStep": ("int,int,int", _until_step),
    # math
    "add1": ("any", lambda v: wrap_int64(to_int64(v) + 1)),
    "add": ("...any", lambda *a: wrap_int64(sum(to_int64(v) for v in a))),
    "sub": ("any,any", lambda a, b: wrap_int64(to_int64(a) - to_int64(b))),
    "div": ("any,any", lambda a, b: go_div_int(to_int64(a), to_int64(b))),
    "mod": ("any,any", lambda a, b: go_mod(to_int64(a), to_int64(b))),
    "mul": ("any,...any", lambda a, *r: wrap_int64(math.prod([to_int64(a), *(to_int64(v) for v in r)]))),
    "max": ("any,...any", _max),
    "biggest": ("any,...any", _max),
    "min": ("any,...any", _min),
    "add1f": ("any", lambda v: _decimal_op(v, [1], lambda x, y: x + y)),
    "addf": ("...any", lambda *a: _decimal_op(0, a, lambda x, y: x + y)),
    "subf": ("any,...any", lambda a, *r: _decimal_op(a, r, lambda x, y: x - y)),
    "mulf": ("any,...any", lambda a, *r: _decimal_op(a, r, lambda x, y: x * y)),
    "divf": ("any,...any", lambda a, *r: _decimal_op(a, r, lambda x, y: x / y)),
    "maxf": ("any,...any", lambda a, *r: max([to_float64(a), *(to_float64(v) for v in r)])),
    "minf": ("any,...any", lambda a, *r: min([to_float64(a), *(to_float64(v) for v in r)])),
    "ceil": ("any", lambda v: float(math.ceil(to_float64(v)))),
    "floor": ("any", lambda v: float(math.floor(to_float64(v)))),
    "round": ("any,int,...float64", _round),
    # defaults & types
    "default": ("any,...any", lambda d, *given: d if not given or empty(given[0]) else given[0]),
    "empty": ("any", empty),
    "coalesce": ("...any", lambda *a: next((v for v in a if not empty(v)), None)),
    "all": ("...any", lambda *a: all(not empty(v) for v in a)),
    "any": ("...any", lambda *a: any(not empty(v) for v in a)),
    "compact": ("any", lambda v: [x for x in _list_arg("compact", v) if not empty(x)]),
    "ternary": ("any,any,bool", lambda t, f, cond: t if cond else f),
    "fromJson": ("string", _from_json),
    "mustFromJson": ("string", _must_from_json),
    "toJson": ("any", _to_json),
    "mustToJson": ("any", gofmt.to_json),
    "toPrettyJson": ("any", lambda v: gofmt.to_json(v, indent="  ")),
    "toRawJson": ("any", lambda v: gofmt.to_json(v, html=False)),
    "deepCopy": ("any", lambda v: gofmt.from_json(gofmt.to_json(v)) if v is not None else None),
    "typeOf": ("any", lambda v: type_name(v)),
    "typeIs": ("string,any", lambda t, v: type_name(v) == t),
    "typeIsLike": ("string,any", lambda t, v: type_name(v) in (t, "*" + t)),
    "kindOf": ("any", _kind_of),
    "kindIs": ("string,any", lambda k, v: _kind_of(v) == k),
    "deepEqual": ("any,any", deep_equal),
    # paths & encodings
    "base": ("string", lambda p: posixpath.basename(p.rstrip("/")) or ("/" if p.startswith("/") else ".")),
    "dir": ("string", lambda p: posixpath.dirname(p.rstrip("/")) or ("/" if p.startswith("/") else ".")),
    "clean": ("string", lambda p: posixpath.normpath(p) if p else "."),
    "ext": ("string", lambda p: posixpath.splitext(p)[1]),
    "isAbs": ("string", lambda p: p.startswith("/")),
    "b64enc": ("string", lambda s: base64.b64encode(s.encode()).decode()),
    "b64dec": ("string", _b64dec),
    "b32enc": ("string", lambda s: base64.b32encode(s.encode()).decode()),
    "b32dec": ("string", _b32dec),
    # lists & dicts
    "list": ("...any", lambda *a: list(a)),
    "tuple": ("...any", lambda *a: list(a)),
    "dict": ("...any", _dict),
    "get": ("map,string", lambda m, k: m.get(k, "")),
    "set": ("map,string,any", lambda m, k, v: (m.__setitem__(k, v), m)[1]),
    "unset": ("map,string", lambda m, k: (m.pop(k, None), m)[1]),
    "hasKey": ("map,string", lambda m, k: k in m),
    "pluck": ("string,...map", lambda k, *ms: [m[k] for m in ms if k in m]),
    "keys": ("...map", lambda *ms: [k for m in ms for k in m]),
    "values": ("map", lambda m: list(m.values())),
    "pick": ("map,...string", lambda m, *ks: {k: m[k] for k in ks if k in m}),
    "omit": ("map,...string", lambda m, *ks: {k: v for k, v in m.items() if k not in ks}),
    "merge": ("map,...any", _merge),
    "mergeOverwrite": ("map,...any", _merge_overwrite),
    "append": ("any,any", lambda lst, v: [*_list_arg("append", lst), v]),
    "push": ("any,any", lambda lst, v: [*_list_arg("push", lst), v]),
    "prepend": ("any,any", lambda lst, v: [v, *_list_arg("prepend", lst)]),
    "first": ("any", _first),
    "last": ("any", _last),
    "rest": ("any", _rest),
    "initial": ("any", _initial),
    "reverse": ("any", lambda v: list(reversed(_list_arg("reverse", v)))),
    "uniq": ("any", _uniq),
    "without": ("any,...any", _without),
    "has": ("any,any", _has),
    "slice": ("any,...any", _slice),
    "concat": ("...any", lambda *ls: [x for lst in ls for x in _list_arg("concat", lst)]),
    "dig": ("...any", _dig),
    "chunk": ("int,any", _chunk),
    # regex
    "regexMatch": ("string,string", lambda p, s: _regex(p).search(s) is not None),
    "regexFind": ("string,string", lambda p, s: (lambda m: m.group(0) if m else "")(_regex(p).search(s))),
    "regexFindAll": ("string,string,int", _regex_find_all),
    "regexReplaceAll": ("string,string,string", _regex_replace_all),
    "regexReplaceAllLiteral": ("string,string,string", lambda p, s, r: _regex(p).sub(lambda m: r, s)),
    "regexSplit": ("string,string,int", _regex_split),
    "regexQuoteMeta": ("string", lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s)),
    # dates
    "now": ("", lambda: dt.datetime.now().astimezone()),
    "date": ("string,any", lambda layout, d: date_in_zone(layout, d, "Local")),
    "dateInZone": ("string,any,string", date_in_zone),
    "date_in_zone": ("string,any,string", date_in_zone),
    "htmlDate": ("any", lambda d: date_in_zone("2006-01-02", d, "Local")),
    "htmlDateInZone": ("any,string", lambda d, z: date_in_zone("2006-01-02", d, z)),
    "toDate": ("string,string", _to_date),
    "mustToDate": ("string,string", _to_date),
    "dateModify": ("string,time", _date_modify),
    "date_modify": ("string,time", _date_modify),
    "mustDateModify": ("string,time", _date_modify),
    "unixEpoch": ("time", lambda t: str(int(t.timestamp() // 1))),
    "duration": ("any", _duration),
    "ago": (
        "any",
        lambda t: gofmt.format_duration(
            ((dt.datetime.now(dt.UTC) - _as_time(t)) // dt.timedelta(seconds=1)) * 1_000_000_000
        ),
    ),
    # misc
    "uuidv4": ("", lambda: str(uuid.uuid4())),
    "fail": ("string", _fail),
}


def _atoi(text: str) -> int:
    try:
        return gofmt.atoi(text)
    except GoError:
        return 0


def _octal(value: Any) -> int:
    try:
        return gofmt.parse_int(strval(value), 8)
    except GoError:
        return 0


def build_sprig() -> dict[str, GoFunc]:
    """A fresh ``sprig`` map (functions are stateless, so sharing one is fine)."""
    out: dict[str, GoFunc] = {}
    for name, (spec, impl) in _TABLE.items():
        params, variadic = _typed(spec)
        out[name] = GoFunc(f"sprig.{name}", impl, params, variadic)
    return out


SPRIG: Mapping[str, GoFunc] = build_sprig()

__all__ = ["SPRIG", "build_sprig", "date_in_zone", "empty", "strval", "to_float64", "to_int64"]
