"""Argo's ``util/humanize`` (on top of go-humanize) re-implemented for identical CLI texts.

Go works on integer nanosecond durations with integer division; we do the same
(``int`` nanoseconds) so boundaries such as "59 seconds" vs "1 minute" match.
A missing timestamp is Go's zero time (year 1), which is what Argo subtracts
from when a field is unset — hence results like "a long while ago".
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = [
    "GO_ZERO_TIME",
    "go_timestamp",
    "humanize_duration",
    "parse_time",
    "relative_duration",
    "relative_duration_short",
    "relative_time",
    "short_duration",
    "truncated_duration",
]

GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

_NS = 1
_SECOND = 1_000_000_000 * _NS
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_MONTH = 30 * _DAY
_YEAR = 12 * _MONTH
_LONG_TIME = 37 * _YEAR
_MAX_DURATION = 2**63 - 1
_MIN_DURATION = -(2**63)

# (upper bound D, format, divisor) — a magnitude applies when diff < D.
_Magnitudes = list[tuple[int, str, int]]

_DEFAULT_MAGNITUDES: _Magnitudes = [
    (_SECOND, "now", _SECOND),
    (2 * _SECOND, "1 second %s", 1),
    (_MINUTE, "%d seconds %s", _SECOND),
    (2 * _MINUTE, "1 minute %s", 1),
    (_HOUR, "%d minutes %s", _MINUTE),
    (2 * _HOUR, "1 hour %s", 1),
    (_DAY, "%d hours %s", _HOUR),
    (2 * _DAY, "1 day %s", 1),
    (_WEEK, "%d days %s", _DAY),
    (2 * _WEEK, "1 week %s", 1),
    (_MONTH, "%d weeks %s", _WEEK),
    (2 * _MONTH, "1 month %s", 1),
    (_YEAR, "%d months %s", _MONTH),
    (18 * _MONTH, "1 year %s", 1),
    (2 * _YEAR, "2 years %s", 1),
    (_LONG_TIME, "%d years %s", _YEAR),
    (_MAX_DURATION, "a long while %s", 1),
]

# Argo's duration table: as the default one but "0 seconds" instead of "now".
_RELATIVE_MAGNITUDES: _Magnitudes = [(_SECOND, "0 seconds", _SECOND), *_DEFAULT_MAGNITUDES[1:]]

_SHORT_MAGNITUDES: _Magnitudes = [
    (_SECOND, "0s", _SECOND),
    (2 * _SECOND, "1s %s", 1),
    (_MINUTE, "%ds %s", _SECOND),
    (2 * _MINUTE, "1m %s", 1),
    (_HOUR, "%dm %s", _MINUTE),
    (2 * _HOUR, "1h %s", 1),
    (_DAY, "%dh %s", _HOUR),
    (2 * _DAY, "1d %s", 1),
    (_WEEK, "%dd %s", _DAY),
]

_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_time(value: object) -> datetime | None:
    """Parse an RFC3339 timestamp as found in Argo JSON; empty/None means Go's zero time (None)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("0001-01-01T00:00:00"):
        return None
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(t: datetime | None) -> datetime:
    if t is None:
        return GO_ZERO_TIME
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _sub_ns(a: datetime | None, b: datetime | None) -> int:
    """Go's ``a.Sub(b)``: nanoseconds, saturating at the int64 range."""
    delta = _aware(a) - _aware(b)
    ns = (delta.days * 86_400 + delta.seconds) * _SECOND + delta.microseconds * 1_000
    return max(_MIN_DURATION, min(_MAX_DURATION, ns))


def _custom_rel(diff_ns: int, albl: str, blbl: str, magnitudes: _Magnitudes) -> str:
    """go-humanize ``CustomRelTime`` given ``b - a`` in nanoseconds."""
    lbl = albl
    if diff_ns < 0:
        lbl = blbl
        diff_ns = -diff_ns
    index = next((i for i, mag in enumerate(magnitudes) if mag[0] > diff_ns), len(magnitudes) - 1)
    _, fmt, div = magnitudes[index]
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            verb = fmt[i + 1]
            out.append(lbl if verb == "s" else str(diff_ns // div) if verb == "d" else "%" + verb)
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _to_ns(seconds: float | timedelta) -> int:
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    return max(_MIN_DURATION, min(_MAX_DURATION, round(seconds * _SECOND)))


def truncated_duration(seconds: float | timedelta) -> str:
    """Argo ``TruncatedDuration``: a single unit, e.g. ``1 minute``."""
    return _custom_rel(_to_ns(seconds), "", "", _RELATIVE_MAGNITUDES).strip()


def _humanize_ns(d: int) -> str:
    secs = d / _SECOND
    head = _custom_rel(d, "", "", _RELATIVE_MAGNITUDES).strip()
    if secs < 60.0:
        return head
    if secs / 60 < 60.0:
        return f"{head} {int(math.fmod(secs, 60))} seconds"
    if secs / 3600 < 24.0:
        return f"{head} {int(math.fmod(secs / 60, 60))} minutes"
    return f"{head} {int(math.fmod(secs / 3600, 24))} hours"


def humanize_duration(seconds: float | timedelta) -> str:
    """Argo ``humanize.Duration``: up to two units, e.g. ``1 minute 5 seconds``, ``2 hours 0 minutes``."""
    return _humanize_ns(_to_ns(seconds))


def short_duration(seconds: float | timedelta) -> str:
    """The short single-unit form Argo uses in tables: ``0s 5s 1m 2h 1d``."""
    return _custom_rel(_to_ns(seconds), "", "", _SHORT_MAGNITUDES).strip()


def _finish_or_now(start: datetime | None, finish: datetime | None, now: datetime) -> datetime | None:
    # Argo: a running thing (started, not finished) is measured up to now.
    if finish is None and start is not None:
        return now
    return finish


def relative_duration(start: datetime | None, finish: datetime | None, now: datetime) -> str:
    """Argo ``RelativeDuration(start, finish)`` with ``now`` standing in for ``time.Now()``."""
    return _humanize_ns(_sub_ns(_finish_or_now(start, finish, now), start))


def relative_duration_short(start: datetime | None, finish: datetime | None, now: datetime) -> str:
    """Argo ``RelativeDurationShort(start, finish)``: ``4s``, ``1m``, ``0s`` when neither is set."""
    diff = _sub_ns(_finish_or_now(start, finish, now), start)
    return _custom_rel(diff, "", "", _SHORT_MAGNITUDES).strip()


def relative_time(ts: datetime | None, now: datetime) -> str:
    """go-humanize ``Time(ts)``: ``now``, ``5 minutes ago``, ``3 days from now``."""
    return _custom_rel(_sub_ns(now, ts), "ago", "from now", _DEFAULT_MAGNITUDES)


def _display_zone(now: datetime) -> tzinfo:
    return now.tzinfo if now.tzinfo is not None else UTC


def go_timestamp(ts: datetime | None, now: datetime) -> str:
    """Argo ``humanize.Timestamp``: ``Mon Jan 02 15:04:05 -0700 (5 minutes ago)``.

    Go renders in the process's local zone; we use ``now``'s zone so callers
    choose (the CLI passes a local-aware ``now``, tests pass UTC).
    """
    shown = _aware(ts)
    if ts is not None:  # an unset time stays Go's zero time in UTC
        with contextlib.suppress(OverflowError, ValueError):
            shown = shown.astimezone(_display_zone(now))
    offset = shown.utcoffset() or timedelta(0)
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    zone = f"{sign}{abs(total) // 60:02d}{abs(total) % 60:02d}"
    text = (
        f"{_WEEKDAYS[shown.weekday()]} {_MONTHS[shown.month - 1]} {shown.day:02d} "
        f"{shown.hour:02d}:{shown.minute:02d}:{shown.second:02d} {zone}"
    )
    return f"{text} ({relative_time(ts, now)})"
