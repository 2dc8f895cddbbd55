"""Finalizer and deletion-timestamp rules, as pure functions over a Kubernetes-style object dict.

The local store deletes a record at once; these functions give records the API server's
semantics on top (a finalizer blocks deletion, ``metadata.deletionTimestamp`` marks an object
being deleted, no finalizer may be added once deletion started), so the same lifecycle code can
later drive Workflow objects in a cluster. Functions that change ``body`` edit it in place and
return whether anything changed, which makes them safe inside ``Store.modify_workflow`` retries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ARTIFACT_GC_FINALIZER",
    "add_finalizer",
    "clear_finalizers",
    "finalizers",
    "has_finalizer",
    "is_deleting",
    "is_deletion_blocked",
    "is_gone",
    "mark_deleting",
    "remove_finalizer",
]

ARTIFACT_GC_FINALIZER = "workflows.argoproj.io/artifact-gc"


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        body["metadata"] = meta
    return meta


def finalizers(body: dict[str, Any]) -> list[str]:
    """The object's finalizers (``null`` and a missing list both mean none)."""
    return [str(f) for f in ((body.get("metadata") or {}).get("finalizers") or [])]


def has_finalizer(body: dict[str, Any], name: str = ARTIFACT_GC_FINALIZER) -> bool:
    return name in finalizers(body)


def add_finalizer(body: dict[str, Any], name: str = ARTIFACT_GC_FINALIZER) -> bool:
    """Add ``name`` once; refused (False) on an object already being deleted, as the API server does."""
    if is_deleting(body) or has_finalizer(body, name):
        return False
    _meta(body)["finalizers"] = [*finalizers(body), name]
    return True


def remove_finalizer(body: dict[str, Any], name: str = ARTIFACT_GC_FINALIZER) -> bool:
    """Drop ``name``; an emptied list is removed so the object reads as Kubernetes returns it."""
    current = finalizers(body)
    if name not in current:
        return False
    rest = [f for f in current if f != name]
    meta = _meta(body)
    if rest:
        meta["finalizers"] = rest
    else:
        meta.pop("finalizers", None)
    return True


def clear_finalizers(body: dict[str, Any]) -> bool:
    """Drop every finalizer: ``argo delete --force``'s merge patch ``{"metadata":{"finalizers":null}}``."""
    meta = _meta(body)
    had = bool(meta.get("finalizers"))
    meta.pop("finalizers", None)
    return had


def is_deleting(body: dict[str, Any]) -> bool:
    """Deletion was requested (``metadata.deletionTimestamp`` is set)."""
    return bool((body.get("metadata") or {}).get("deletionTimestamp"))


def mark_deleting(body: dict[str, Any], now: datetime | str) -> bool:
    """Set ``deletionTimestamp`` (RFC 3339, seconds) unless already set: the first request's time stays."""
    if is_deleting(body):
        return False
    if isinstance(now, datetime):
        stamp = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        stamp = now
    _meta(body)["deletionTimestamp"] = stamp
    return True


def is_deletion_blocked(body: dict[str, Any]) -> bool:
    """Being deleted but held by at least one finalizer."""
    return is_deleting(body) and bool(finalizers(body))


def is_gone(body: dict[str, Any]) -> bool:
    """Being deleted and nothing holds it: the record may be removed now."""
    return is_deleting(body) and not finalizers(body)
