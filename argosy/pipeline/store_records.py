"""Small side tables of the store: workflow events, the memoization cache and artifact GC tasks."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from argosy.errors import SpecError
from argosy.pipeline.store_db import DEFAULT_NAMESPACE, StoreBase, dumps, epoch_to_rfc3339, now_rfc3339

__all__ = ["CacheMixin", "EventsMixin", "EventType", "GcTasksMixin"]

EventType = Literal["Normal", "Warning"]
_WORKFLOW_API_VERSION = "argoproj.io/v1alpha1"
_WORKFLOW_LABEL = "workflows.argoproj.io/workflow"


class EventsMixin(StoreBase):
    """Kubernetes-style events about workflows; a repeat of an identical event bumps its ``count``."""

    def add_event(
        self,
        workflow_name: str,
        type: EventType,
        reason: str,
        message: str,
        *,
        namespace: str | None = None,
        involved_object: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event (involving the workflow itself unless ``involved_object`` says otherwise)."""
        if type not in ("Normal", "Warning"):
            raise SpecError(f'event type must be "Normal" or "Warning", not {type!r}')
        ns = namespace or self._resolve_namespace("workflows", workflow_name, None) or DEFAULT_NAMESPACE
        now = now_rfc3339()
        with self._write() as conn:
            row = conn.execute(
                "SELECT uid FROM workflows WHERE namespace = ? AND name = ?", (ns, workflow_name)
            ).fetchone()
            involved: dict[str, Any] = {
                "apiVersion": _WORKFLOW_API_VERSION,
                "kind": "Workflow",
                "name": workflow_name,
                "namespace": ns,
                "uid": row[0] if row else "",
            }
            if involved_object is not None:
                involved = {"namespace": ns, **involved_object}
            key = json.dumps([type, reason, message, involved], sort_keys=True)
            existing = conn.execute(
                "SELECT seq, count, body FROM events WHERE namespace = ? AND workflow_name = ? AND dedupe_key = ?",
                (ns, workflow_name, key),
            ).fetchone()
            if existing is not None:
                event: dict[str, Any] = json.loads(existing[2])
                event.update(count=existing[1] + 1, lastTimestamp=now)
                conn.execute(
                    "UPDATE events SET count = ?, last_ts = ?, body = ? WHERE seq = ?",
                    (existing[1] + 1, now, dumps(event), existing[0]),
                )
                return event
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{workflow_name}.{uuid.uuid4().hex[:16]}",
                    "namespace": ns,
                    "uid": str(uuid.uuid4()),
                    "creationTimestamp": now,
                },
                "involvedObject": involved,
                "type": type,
                "reason": reason,
                "message": message,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "source": {"component": "argosy"},
                "reportingComponent": "argosy",
            }
            conn.execute(
                "INSERT INTO events (namespace, workflow_name, dedupe_key, count, last_ts, body)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (ns, workflow_name, key, now, dumps(event)),
            )
        return event

    def list_events(
        self, workflow_name: str | None = None, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Events in order of first occurrence, optionally for one workflow and/or namespace."""
        where, params = [], []
        if workflow_name is not None:
            where.append("workflow_name = ?")
            params.append(workflow_name)
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        sql = "SELECT body FROM events" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        return [json.loads(r[0]) for r in self._query(sql, params)]


class CacheMixin(StoreBase):
    """Argo's ``memoize`` cache; a table here where Argo keeps one ConfigMap per cache name."""

    def cache_put(
        self,
        cache_name: str,
        key: str,
        node_id: str,
        outputs: dict[str, Any],
        *,
        namespace: str | None = None,
    ) -> None:
        """Remember a node's outputs under ``key`` (replacing an older entry)."""
        now = self._now()
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO memo_cache (namespace, cache_name, key, node_id, outputs, created_epoch,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    namespace or DEFAULT_NAMESPACE,
                    cache_name,
                    key,
                    node_id,
                    dumps(outputs),
                    now,
                    epoch_to_rfc3339(now),
                ),
            )

    def cache_get(
        self,
        cache_name: str,
        key: str,
        *,
        max_age_seconds: float | None = None,
        namespace: str | None = None,
    ) -> dict[str, Any] | None:
        """``{"nodeId", "outputs", "creationTimestamp"}``, or None when missing or older than ``max_age_seconds``."""
        rows = self._query(
            "SELECT node_id, outputs, created_epoch, created FROM memo_cache"
            " WHERE namespace = ? AND cache_name = ? AND key = ?",
            (namespace or DEFAULT_NAMESPACE, cache_name, key),
        )
        if not rows:
            return None
        node_id, outputs, created_epoch, created = rows[0]
        if max_age_seconds is not None and self._now() - created_epoch > max_age_seconds:
            return None
        return {"nodeId": node_id, "outputs": json.loads(outputs), "creationTimestamp": created}


def _gc_task_workflow(task: dict[str, Any]) -> str:
    """The workflow a WorkflowArtifactGCTask belongs to: its owner reference, else its label."""
    meta = task.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "Workflow" and ref.get("name"):
            return str(ref["name"])
    return str((meta.get("labels") or {}).get(_WORKFLOW_LABEL) or "")


class GcTasksMixin(StoreBase):
    """WorkflowArtifactGCTask records; they outlive their workflow (GC runs after deletion)."""

    def put_gc_task(self, task: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a task by ``metadata.name``; returns the stored copy (uid and version kept)."""
        meta = dict(task.get("metadata") or {})
        name = meta.get("name")
        if not name:
            raise SpecError("workflowartifactgctasks.argoproj.io: metadata.name is required")
        meta["namespace"] = meta.get("namespace") or DEFAULT_NAMESPACE
        out = {
            "apiVersion": _WORKFLOW_API_VERSION,
            "kind": "WorkflowArtifactGCTask",
            **task,
            "metadata": meta,
        }
        with self._write() as conn:
            row = conn.execute(
                "SELECT resource_version, body FROM gc_tasks WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                rv = 1
                meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339())
            else:
                rv = row[0] + 1
                old = json.loads(row[1])["metadata"]
                meta.update(uid=old["uid"], creationTimestamp=old["creationTimestamp"])
            meta["resourceVersion"] = str(rv)
            conn.execute(
                "INSERT OR REPLACE INTO gc_tasks (name, namespace, workflow_name, resource_version, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, meta["namespace"], _gc_task_workflow(out), rv, dumps(out)),
            )
        return out

    def get_gc_task(self, name: str) -> dict[str, Any] | None:
        """The task, or None."""
        rows = self._query("SELECT body FROM gc_tasks WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else None

    def list_gc_tasks(self, workflow_name: str | None = None) -> list[dict[str, Any]]:
        """All tasks, or those of one workflow, ordered by name."""
        if workflow_name is None:
            rows = self._query("SELECT body FROM gc_tasks ORDER BY name")
        else:
            rows = self._query(
                "SELECT body FROM gc_tasks WHERE workflow_name = ? ORDER BY name", (workflow_name,)
            )
        return [json.loads(r[0]) for r in rows]

    def delete_gc_task(self, name: str) -> bool:
        """Remove a task; False when there was none."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM gc_tasks WHERE name = ?", (name,))
        return cur.rowcount > 0
