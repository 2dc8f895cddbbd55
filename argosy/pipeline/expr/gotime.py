"""Go ``time`` layouts (``2006-01-02T15:04:05Z07:00``) and ``time.ParseDuration``.

Workflows pass Go reference-time layouts to ``sprig.date`` and ``date()``, and govaluate turns
date-looking strings into Unix seconds, so we format and parse the same layouts Go does.
"""

from __future__ import annotations

import datetime as dt
import re
import time as _time
from dataclasses import dataclass

from .gofmt import Duration, GoError, quote

_LONG_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_LONG_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# (layout text, kind); the first match at a position wins, mirroring Go's nextStdChunk.
_STD: dict[str, list[tuple[str, str]]] = {
    "J": [("January", "LongMonth"), ("Jan", "Month")],
    "M": [("Monday", "LongWeekDay"), ("Mon", "WeekDay"), ("MST", "TZ")],
    "0": [
        ("002", "ZeroYearDay"),
        ("01", "ZeroMonth"),
        ("02", "ZeroDay"),
        ("03", "ZeroHour12"),
        ("04", "ZeroMinute"),
        ("05", "ZeroSecond"),
        ("06", "Year"),
    ],
    "1": [("15", "Hour"), ("1", "NumMonth")],
    "2": [("2006", "LongYear"), ("2", "Day")],
    "_": [("__2", "UnderYearDay"), ("_2", "UnderDay")],
    "3": [("3", "Hour12")],
    "4": [("4", "Minute")],
    "5": [("5", "Second")],
    "P": [("PM", "PM")],
    "p": [("pm", "pm")],
    "-": [
        ("-070000", "NumSecondsTz"),
        ("-07:00:00", "NumColonSecondsTZ"),
        ("-0700", "NumTZ"),
        ("-07:00", "NumColonTZ"),
        ("-07", "NumShortTZ"),
    ],
    "Z": [
        ("Z070000", "ISO8601SecondsTZ"),
        ("Z07:00:00", "ISO8601ColonSecondsTZ"),
        ("Z0700", "ISO8601TZ"),
        ("Z07:00", "ISO8601ColonTZ"),
        ("Z07", "ISO8601ShortTZ"),
    ],
}


def tokenize_layout(layout: str) -> list[tuple[str, str]]:
    """Split a layout into ``(kind, text)`` chunks; kind ``""`` is literal text."""
    chunks: list[tuple[str, str]] = []
    literal = ""
    i = 0
    while i < len(layout):
        ch = layout[i]
        found: tuple[str, str] | None = None
        if ch == "_" and layout.startswith("_2006", i):
            literal += "_"
            i += 1
            continue
        for text, kind in _STD.get(ch, []):
            if layout.startswith(text, i):
                found = (kind, text)
                break
        if found is None and ch in ".," and i + 1 < len(layout) and layout[i + 1] in "09":
            digit = layout[i + 1]
            j = i + 1
            while j < len(layout) and layout[j] == digit:
                j += 1
            if not (j < len(layout) and layout[j].isdigit()):
                found = ("Frac0" if digit == "0" else "Frac9", layout[i:j])
        if found is None:
            literal += ch
            i += 1
            continue
        if literal:
            chunks.append(("", literal))
            literal = ""
        chunks.append(found)
        i += len(found[1])
    if literal:
        chunks.append(("", literal))
    return chunks


def _offset_text(seconds: int, kind: str) -> str:
    if kind.startswith("ISO8601") and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds % 3600 // 60, seconds % 60
    suffix = kind.replace("ISO8601", "").replace("Num", "").lower()
    formats = {
        "shorttz": f"{sign}{hh:02d}",
        "tz": f"{sign}{hh:02d}{mm:02d}",
        "colontz": f"{sign}{hh:02d}:{mm:02d}",
        "secondstz": f"{sign}{hh:02d}{mm:02d}{ss:02d}",
        "colonsecondstz": f"{sign}{hh:02d}:{mm:02d}:{ss:02d}",
    }
    return formats[suffix]


def format_time(value: dt.datetime, layout: str) -> str:
    """``time.Time.Format(layout)``."""
    from .gofmt import zone_name

    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    offset = int((value.utcoffset() or dt.timedelta(0)).total_seconds())
    out: list[str] = []
    for kind, text in tokenize_layout(layout):
        hour12 = value.hour % 12 or 12
        match kind:
            case "":
                out.append(text)
            case "LongYear":
                out.append(f"{value.year:04d}")
            case "Year":
                out.append(f"{value.year % 100:02d}")
            case "LongMonth":
                out.append(_LONG_MONTHS[value.month - 1])
            case "Month":
                out.append(_LONG_MONTHS[value.month - 1][:3])
            case "NumMonth":
                out.append(str(value.month))
            case "ZeroMonth":
                out.append(f"{value.month:02d}")
            case "LongWeekDay":
                out.append(_LONG_DAYS[value.weekday()])
            case "WeekDay":
                out.append(_LONG_DAYS[value.weekday()][:3])
            case "Day":
                out.append(str(value.day))
            case "UnderDay":
                out.append(f"{value.day:2d}")
            case "ZeroDay":
                out.append(f"{value.day:02d}")
            case "UnderYearDay":
                out.append(f"{value.timetuple().tm_yday:3d}")
            case "ZeroYearDay":
                out.append(f"{value.timetuple().tm_yday:03d}")
            case "Hour":
                out.append(f"{value.hour:02d}")
            case "Hour12":
                out.append(str(hour12))
            case "ZeroHour12":
                out.append(f"{hour12:02d}")
            case "Minute":
                out.append(str(value.minute))
            case "ZeroMinute":
                out.append(f"{value.minute:02d}")
            case "Second":
                out.append(str(value.second))
            case "ZeroSecond":
                out.append(f"{value.second:02d}")
            case "PM":
                out.append("PM" if value.hour >= 12 else "AM")
            case "pm":
                out.append("pm" if value.hour >= 12 else "am")
            case "TZ":
                out.append(zone_name(value))
            case "Frac0" | "Frac9":
                digits = f"{value.microsecond * 1000:09d}"[: len(text) - 1]
                if kind == "Frac9":
                    digits = digits.rstrip("0")
                    out.append(text[0] + digits if digits else "")
                else:
                    out.append(text[0] + digits)
            case _:
                out.append(_offset_text(offset, kind))
    return "".join(out)


@dataclass
class ParsedTime:
    """Fields of a parsed time; ``offset`` is ``None`` when the text named no zone."""

    year: int = 0
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanos: int = 0
    offset: int | None = None

    def unix(self, default_offset: int) -> int:
        """Seconds since the epoch (works for Go's year 0, which datetime cannot hold)."""
        days = _days_from_civil(self.year, self.month, self.day)
        secs = days * 86400 + self.hour * 3600 + self.minute * 60 + self.second
        return secs - (self.offset if self.offset is not None else default_offset)

    def to_datetime(self, default: dt.tzinfo) -> dt.datetime:
        tz = dt.timezone(dt.timedelta(seconds=self.offset)) if self.offset is not None else default
        if self.offset == 0:
            tz = dt.UTC
        try:
            return dt.datetime(
                self.year,
                self.month,
                self.day,
                self.hour,
                self.minute,
                self.second,
                self.nanos // 1000,
                tzinfo=tz,
            )
        except (ValueError, OverflowError) as exc:
            raise GoError(f"parsing time: {exc}") from None


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_error(layout: str, value: str, elem: str, rest: str, msg: str = "") -> GoError:
    if msg:
        return GoError(f"parsing time {quote(value)}{msg}")
    return GoError(
        f"parsing time {quote(value)} as {quote(layout)}: cannot parse {quote(rest)} as {quote(elem)}"
    )


def _num(rest: str, fixed: bool, width: int = 2) -> tuple[int, str] | None:
    m = re.match(rf"\d{{{width}}}" if fixed else rf"\d{{1,{width}}}", rest)
    if not m:
        return None
    return int(m.group()), rest[m.end() :]


def parse_time(layout: str, value: str) -> ParsedTime:
    """``time.Parse(layout, value)`` into fields; raises :class:`GoError` as Go would."""
    result = ParsedTime()
    rest = value
    pm: bool | None = None
    chunks = tokenize_layout(layout)
    for index, (kind, text) in enumerate(chunks):
        if kind == "":
            stripped_text = text
            if not rest.startswith(stripped_text):
                raise _parse_error(layout, value, text, rest)
            rest = rest[len(stripped_text) :]
            continue
        before = rest
        got: tuple[int, str] | None = None
        match kind:
            case "LongYear":
                got = _num(rest, True, 4)
                if got:
                    result.year = got[0]
            case "Year":
                got = _num(rest, True, 2)
                if got:
                    result.year = got[0] + (1900 if got[0] >= 69 else 2000)
            case "LongMonth" | "Month":
                names = _LONG_MONTHS if kind == "LongMonth" else [n[:3] for n in _LONG_MONTHS]
                for i, name in enumerate(names):
                    if rest[: len(name)].lower() == name.lower():
                        result.month = i + 1
                        got = (i + 1, rest[len(name) :])
                        break
            case "NumMonth" | "ZeroMonth":
                got = _num(rest, kind == "ZeroMonth")
                if got:
                    result.month = got[0]
            case "LongWeekDay" | "WeekDay":
                names = _LONG_DAYS if kind == "LongWeekDay" else [n[:3] for n in _LONG_DAYS]
                for i, name in enumerate(names):
                    if rest[: len(name)].lower() == name.lower():
                        got = (i, rest[len(name) :])
                        break
            case "Day" | "UnderDay" | "ZeroDay":
                if kind == "UnderDay" and rest.startswith(" "):
                    rest = rest[1:]
                got = _num(rest, kind == "ZeroDay")
                if got:
                    result.day = got[0]
            case "UnderYearDay" | "ZeroYearDay":
                got = _num(rest.lstrip(" ") if kind == "UnderYearDay" else rest, kind == "ZeroYearDay", 3)
            case "Hour":
                got = _num(rest, False)
                if got:
                    result.hour = got[0]
            case "Hour12" | "ZeroHour12":
                got = _num(rest, kind == "ZeroHour12")
                if got:
                    result.hour = got[0]
            case "Minute" | "ZeroMinute":
                got = _num(rest, kind == "ZeroMinute")
                if got:
                    result.minute = got[0]
            case "Second" | "ZeroSecond":
                got = _num(rest, kind == "ZeroSecond")
                if got:
                    result.second = got[0]
                    next_kind = chunks[index + 1][0] if index + 1 < len(chunks) else ""
                    frac = re.match(r"[.,](\d+)", got[1])
                    if frac and next_kind not in ("Frac0", "Frac9"):
                        result.nanos = int(frac.group(1)[:9].ljust(9, "0"))
                        got = (got[0], got[1][frac.end() :])
            case "PM" | "pm":
                word = rest[:2].upper()
                if word in ("AM", "PM"):
                    pm = word == "PM"
                    got = (0, rest[2:])
            case "TZ":
                m = re.match(r"UTC|GMT|[A-Z]{3,5}|ChST|MeST", rest)
                if m:
                    name = m.group()
                    result.offset = 0 if name in ("UTC", "GMT") else _local_offset_for(name)
                    got = (0, rest[m.end() :])
            case "Frac0" | "Frac9":
                m = re.match(r"[.,](\d+)" if kind == "Frac9" else rf"[.,](\d{{{len(text) - 1}}})", rest)
                if m:
                    result.nanos = int(m.group(1)[:9].ljust(9, "0"))
                    got = (0, rest[m.end() :])
                elif kind == "Frac9":
                    got = (0, rest)
            case _:
                got = _parse_offset(kind, rest)
                if got:
                    result.offset = got[0]
        if got is None:
            raise _parse_error(layout, value, text, before)
        rest = got[1]
    if rest:
        raise GoError(f"parsing time {quote(value)}: extra text: {quote(rest)}")
    if pm is not None:
        if result.hour > 12:
            raise GoError(f"parsing time {quote(value)}: hour out of range")
        if pm and result.hour < 12:
            result.hour += 12
        elif not pm and result.hour == 12:
            result.hour = 0
    limits = [
        ("month", result.month, 1, 12),
        ("hour", result.hour, 0, 23),
        ("minute", result.minute, 0, 59),
        ("second", result.second, 0, 59),
    ]
    for name, val, lo, hi in limits:
        if not lo <= val <= hi:
            raise GoError(f"parsing time {quote(value)}: {name} out of range")
    if result.day < 1 or result.day > _month_days(result.year, result.month):
        raise GoError(f"parsing time {quote(value)}: day out of range")
    return result


def _month_days(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _parse_offset(kind: str, rest: str) -> tuple[int, str] | None:
    if kind.startswith("ISO8601") and rest.startswith("Z"):
        return 0, rest[1:]
    patterns = {
        "ShortTZ": r"([+-])(\d{2})",
        "TZ": r"([+-])(\d{2})(\d{2})",
        "ColonTZ": r"([+-])(\d{2}):(\d{2})",
        "SecondsTz": r"([+-])(\d{2})(\d{2})(\d{2})",
        "SecondsTZ": r"([+-])(\d{2})(\d{2})(\d{2})",
        "ColonSecondsTZ": r"([+-])(\d{2}):(\d{2}):(\d{2})",
    }
    suffix = kind.replace("ISO8601", "").replace("Num", "")
    m = re.match(patterns.get(suffix, r"(?!)"), rest)
    if not m:
        return None
    parts = [int(p) for p in m.groups()[1:]] + [0, 0]
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return (-seconds if m.group(1) == "-" else seconds), rest[m.end() :]


def _local_offset_for(name: str) -> int:
    """Offset of a zone abbreviation if it is the local zone's, else 0 (Go's fabricated zone)."""
    names = _time.tzname
    if name in names:
        return -(_time.altzone if name == names[1] and _time.daylight else _time.timezone)
    return 0


def local_offset(seconds_hint: float | None = None) -> int:
    """The local zone's UTC offset (at ``seconds_hint``, default now)."""
    stamp = _time.time() if seconds_hint is None else seconds_hint
    try:
        return int(dt.datetime.fromtimestamp(stamp).astimezone().utcoffset().total_seconds())  # type: ignore[union-attr]
    except (OverflowError, OSError, ValueError):
        return int(dt.datetime.now().astimezone().utcoffset().total_seconds())  # type: ignore[union-attr]


def local_tz() -> dt.tzinfo:
    tz = dt.datetime.now().astimezone().tzinfo
    return tz if tz is not None else dt.UTC


# --------------------------------------------------------------------------- durations

_UNITS = {
    "ns": 1,
    "us": 1000,
    "µs": 1000,
    "μs": 1000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_duration(text: str) -> Duration:
    """``time.ParseDuration``: ``1h30m``, ``-1.5s``, ``300ms``."""
    original = text
    neg = False
    if text[:1] in "+-" and text:
        neg = text[0] == "-"
        text = text[1:]
    if text == "0":
        return Duration(0)
    if not text:
        raise GoError(f"time: invalid duration {quote(original)}")
    total = 0
    while text:
        m = re.match(r"(\d*)(?:\.(\d*))?", text)
        assert m is not None
        whole, frac = m.group(1), m.group(2)
        if not whole and not frac:
            raise GoError(f"time: invalid duration {quote(original)}")
        text = text[m.end() :]
        unit_match = re.match(r"[^\d.]+", text)
        if not unit_match:
            raise GoError(f"time: missing unit in duration {quote(original)}")
        unit = unit_match.group()
        if unit not in _UNITS:
            raise GoError(f"time: unknown unit {quote(unit)} in duration {quote(original)}")
        text = text[unit_match.end() :]
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > (1 << 63) - 1:
            raise GoError(f"time: invalid duration {quote(original)}")
    return Duration(-total if neg else total)
