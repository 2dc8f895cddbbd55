"""Argo's timestamps (``metav1.Time``): RFC 3339, second precision, UTC.

Its own module so that light callers (the CLI's orphan check) need not import the status models.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_time", "now", "parse_time"]


def now() -> datetime:
    return datetime.now(UTC)


def format_time(t: datetime | None) -> str | None:
    """Argo's ``metav1.Time``: RFC 3339 with second precision, UTC."""
    if t is None:
        return None
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
