"""Argosy's local state: what a Kubernetes API server and etcd hold for Argo, in one SQLite file.

``Store`` keeps workflows, applied documents, events, memoization caches, artifact GC tasks and
the leases that tell which ``argosy`` process runs which workflow, under ``ARGOSY_HOME``
(default ``~/.argosy``). Several ``argosy`` processes may use the same home at once.

The implementation is split by table into ``store_*.py``; import everything from here.
"""

from __future__ import annotations

from pathlib import Path

from argosy.pipeline.store_db import (
    DEFAULT_NAMESPACE,
    SCHEMA_VERSION,
    ConflictError,
    StoreBase,
    generate_name,
    now_rfc3339,
)
from argosy.pipeline.store_documents import (
    CLUSTER_SCOPED_KINDS,
    ApplyResult,
    DocumentsMixin,
    is_cluster_scoped,
)
from argosy.pipeline.store_leases import (
    LeaseInfo,
    LeasesMixin,
    owner_is_alive,
    process_owner,
    process_start_time,
)
from argosy.pipeline.store_records import CacheMixin, EventsMixin, EventType, GcTasksMixin
from argosy.pipeline.store_workflows import WorkflowsMixin, parse_label_selector, summarize_workflow

__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "DEFAULT_NAMESPACE",
    "SCHEMA_VERSION",
    "ApplyResult",
    "ConflictError",
    "EventType",
    "LeaseInfo",
    "Store",
    "generate_name",
    "is_cluster_scoped",
    "now_rfc3339",
    "owner_is_alive",
    "parse_label_selector",
    "process_owner",
    "process_start_time",
    "summarize_workflow",
]


class Store(WorkflowsMixin, DocumentsMixin, LeasesMixin, EventsMixin, CacheMixin, GcTasksMixin, StoreBase):
    """The state database of one ``ARGOSY_HOME``; thread-safe, and safe across processes.

    ``Store(home)`` uses ``home``, else ``$ARGOSY_HOME``, else ``~/.argosy``, creating it with
    ``logs/``, ``artifacts/`` (the default local artifact repository) and ``runs/`` (step scratch).
    """

    def __init__(self, home: Path | str | None = None) -> None:
        super().__init__(home)

    def __enter__(self) -> Store:
        return self
