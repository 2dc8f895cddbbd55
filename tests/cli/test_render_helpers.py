"""Tests for the Go-compatible tabwriter and humanize helpers (vectors from Go's/Argo's own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from argosy.cli.humanize import (
    go_timestamp,
    humanize_duration,
    parse_time,
    relative_duration,
    relative_duration_short,
    relative_time,
    short_duration,
)
from argosy.cli.tabwriter import tabwrite

NOW = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def test_tabwriter_trailing_cell_is_not_a_column() -> None:
    text = "a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n"
    assert tabwrite(text, padding=1, padchar=".") == "a...b...c\naa..bbb.cccc\naaa.bbbb\n"


def test_tabwriter_blocks_are_separated_by_lines_without_the_column() -> None:
    text = "a\tb\naaaaaa\tc\nx\ny\tz\n"
    assert tabwrite(text, padding=1) == "a      b\naaaaaa c\nx\ny z\n"


def test_tabwriter_terminated_empty_cells_are_padded() -> None:
    assert tabwrite("ab\tc\t\n\t\t\n", padding=2) == "ab  c  \n       \n"


def test_tabwriter_minwidth_and_tab_padding() -> None:
    assert tabwrite("a\tb\n", minwidth=5, padding=1) == "a    b\n"
    assert tabwrite("a\tb\nabcdefghi\tc\n", tabwidth=8, padding=1, padchar="\t") == "a\t\tb\nabcdefghi\tc\n"


def test_tabwriter_without_final_newline() -> None:
    assert tabwrite("a\tb\nccc\td", padding=1) == "a   b\nccc d"


def test_argo_list_vectors() -> None:
    text = "NAME\tSTATUS\tAGE\tDURATION\tPRIORITY\tMESSAGE\nmy-wf\tRunning\t0s\t3s\t2\ttest-message\n"
    assert tabwrite(text, tabwidth=0, padding=3) == (
        "NAME    STATUS    AGE   DURATION   PRIORITY   MESSAGE\n"
        "my-wf   Running   0s    3s         2          test-message\n"
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute 0 seconds"),
        (65, "1 minute 5 seconds"),
        (90, "1 minute 30 seconds"),
        (3600, "1 hour 0 minutes"),
        (5400, "1 hour 30 minutes"),
        (7200, "2 hours 0 minutes"),
        (36000, "10 hours 0 minutes"),
        (86400, "1 day 0 hours"),
        (-1, "1 second"),
    ],
)
def test_humanize_duration(seconds: int, expected: str) -> None:
    assert humanize_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (0.9, "0s"), (1, "1s"), (5, "5s"), (59, "59s"), (60, "1m"), (119, "1m"), (3600, "1h"),
     (5400, "1h"), (7200, "2h"), (86400, "1d"), (3 * 86400, "3d"), (10 * 86400, "10d")],
)
def test_short_duration(seconds: float, expected: str) -> None:
    assert short_duration(seconds) == expected


def test_relative_durations_use_now_for_running() -> None:
    start = NOW - timedelta(seconds=90)
    assert relative_duration(start, None, NOW) == "1 minute 30 seconds"
    assert relative_duration(None, None, NOW) == "0 seconds"
    assert relative_duration_short(NOW - timedelta(hours=1, minutes=30), None, NOW) == "1h"
    assert relative_duration_short(None, None, NOW) == "0s"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "now"),
        (timedelta(seconds=1), "1 second ago"),
        (timedelta(seconds=6), "6 seconds ago"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(hours=1, minutes=59), "1 hour ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=-2), "2 days from now"),
    ],
)
def test_relative_time(delta: timedelta, expected: str) -> None:
    assert relative_time(NOW - delta, NOW) == expected


def test_go_timestamp_layout() -> None:
    ts = parse_time("2021-04-29T03:23:56Z")
    now = datetime(2021, 4, 29, 3, 24, 2, tzinfo=UTC)
    assert go_timestamp(ts, now) == "Thu Apr 29 03:23:56 +0000 (6 seconds ago)"
    eastern = now.astimezone(timezone(timedelta(hours=-5)))
    assert go_timestamp(ts, eastern) == "Wed Apr 28 22:23:56 -0500 (6 seconds ago)"
    assert go_timestamp(None, now) == "Mon Jan 01 00:00:00 +0000 (a long while ago)"
    plus_one = now.astimezone(timezone(timedelta(hours=1)))
    assert go_timestamp(None, plus_one) == "Mon Jan 01 00:00:00 +0000 (a long while ago)"


def test_parse_time() -> None:
    assert parse_time("") is None
    assert parse_time(None) is None
    assert parse_time("2026-11-24T10:00:00Z") == NOW
    assert parse_time("2026-11-24T10:00:00.5Z") == NOW + timedelta(milliseconds=500)
