"""Artifact garbage collection with Argo's semantics (finalizer, strategies, GC tasks) minus its known failures.

Entry points for the rest of Argosy:

* :func:`on_submit` — before storing a submitted workflow: adds the finalizer or marks ``notSpecified``;
* :func:`on_completed` — after the engine finished a workflow: OnWorkflowCompletion GC;
* :func:`request_delete` — ``argosy delete``: deletion behind the finalizer (``force`` skips GC);
* :func:`retry` — ``argosy gc retry``; :func:`reconcile_all` / :func:`run_retention` — ``argosy gc run``;
* :func:`sweep` — ``argosy gc orphans``: objects no workflow references.

Submodules: ``finalizers`` and ``strategy`` (pure rules), ``tasks`` (WorkflowArtifactGCTask
shape), ``worker`` (the deleting child process), ``lifecycle`` (the glue), ``orphans``,
``retention`` and ``cli``.
"""

from __future__ import annotations

from argosy.gc.finalizers import (
    ARTIFACT_GC_FINALIZER,
    add_finalizer,
    clear_finalizers,
    has_finalizer,
    is_deleting,
    is_deletion_blocked,
    mark_deleting,
    remove_finalizer,
)
from argosy.gc.lifecycle import (
    CONDITION_TYPE,
    DELETED,
    EVENT_REASON,
    GCReport,
    on_completed,
    on_submit,
    reconcile,
    reconcile_all,
    request_delete,
    retry,
)
from argosy.gc.orphans import OrphanReport, find_orphans, sweep
from argosy.gc.retention import due_deletions
from argosy.gc.retention import run_once as run_retention
from argosy.gc.strategy import GC_STRATEGIES, Strategy, effective_strategy

__all__ = [
    "ARTIFACT_GC_FINALIZER",
    "CONDITION_TYPE",
    "DELETED",
    "EVENT_REASON",
    "GC_STRATEGIES",
    "GCReport",
    "OrphanReport",
    "Strategy",
    "add_finalizer",
    "clear_finalizers",
    "due_deletions",
    "effective_strategy",
    "find_orphans",
    "has_finalizer",
    "is_deleting",
    "is_deletion_blocked",
    "mark_deleting",
    "on_completed",
    "on_submit",
    "reconcile",
    "reconcile_all",
    "remove_finalizer",
    "request_delete",
    "retry",
    "run_retention",
    "sweep",
]
