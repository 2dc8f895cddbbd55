"""Retention (beyond Argo's controller, same field): delete finished workflows after ``spec.ttlStrategy``.

Argo's TTL controller deletes a workflow ``secondsAfterSuccess`` / ``secondsAfterFailure`` after it
finished (Failed and Error count as failure), falling back to ``secondsAfterCompletion``. Here the
deletion goes through :func:`argosy.gc.lifecycle.request_delete`, so the artifact-GC finalizer
applies exactly as for ``argosy delete``: OnWorkflowDeletion artifacts are collected first, and a
failed collection keeps the record (with its condition and event) instead of leaking objects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from argosy.errors import ArgosyError, WorkflowNotFound
from argosy.gc.finalizers import is_deleting
from argosy.gc.lifecycle import request_delete, resolved_spec
from argosy.pipeline.status import now as utcnow
from argosy.pipeline.status import parse_time

__all__ = ["due_at", "due_deletions", "run_once", "ttl_seconds"]

_FAILED = ("Failed", "Error")


def ttl_seconds(wf: dict[str, Any], spec: dict[str, Any] | None = None) -> float | None:
    """The TTL that applies to the workflow's final phase, or None (keep forever / not finished)."""
    phase = (wf.get("status") or {}).get("phase")
    if phase not in ("Succeeded", *_FAILED):
        return None
    ttl = (wf.get("spec") or {}).get("ttlStrategy") or (spec or {}).get("ttlStrategy") or {}
    specific = ttl.get("secondsAfterSuccess") if phase == "Succeeded" else ttl.get("secondsAfterFailure")
    value = specific if specific is not None else ttl.get("secondsAfterCompletion")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def due_at(wf: dict[str, Any], spec: dict[str, Any] | None = None) -> datetime | None:
    """When the workflow's TTL runs out (None: no TTL, or not finished)."""
    seconds = ttl_seconds(wf, spec)
    finished = parse_time((wf.get("status") or {}).get("finishedAt"))
    if seconds is None or finished is None:
        return None
    return finished + timedelta(seconds=seconds)


def _due(store: Any, now: datetime) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for wf in store.list_workflows():
        if is_deleting(wf):  # already on its way (or blocked): the GC reconcile owns it
            continue
        spec = resolved_spec(store, wf) if (wf.get("spec") or {}).get("workflowTemplateRef") else None
        when = due_at(wf, spec)
        if when is not None and when <= now:
            meta = wf.get("metadata") or {}
            out.append((str(meta.get("name")), meta.get("namespace")))
    return out


def due_deletions(store: Any, now: datetime | None = None) -> list[str]:
    """Names of workflows whose TTL has run out at ``now`` and that are not being deleted yet."""
    return [name for name, _ in _due(store, now or utcnow())]


def run_once(store: Any, now: datetime | None = None) -> list[tuple[str, str]]:
    """Delete every due workflow through the finalizer path; returns (name, outcome) pairs."""
    results: list[tuple[str, str]] = []
    for name, namespace in _due(store, now or utcnow()):
        try:
            results.append((name, request_delete(store, name, namespace, wait_seconds=0.0)))
        except WorkflowNotFound:
            continue
        except ArgosyError as exc:
            results.append((name, f"deletion failed: {exc}"))
    return results
