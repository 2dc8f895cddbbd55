"""Documents applied with ``argosy apply -f``: ConfigMaps, Secrets, WorkflowTemplates and any other kind."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Literal

from argosy.errors import SpecError, StateError
from argosy.pipeline.store_db import DEFAULT_NAMESPACE, StoreBase, dumps, generate_name, now_rfc3339

__all__ = ["CLUSTER_SCOPED_KINDS", "ApplyResult", "DocumentsMixin", "is_cluster_scoped"]

ApplyResult = Literal["created", "configured", "unchanged"]

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "ClusterWorkflowTemplate",
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "CustomResourceDefinition",
    }
)
_CLUSTER_SCOPED_LOWER = frozenset(k.lower() for k in CLUSTER_SCOPED_KINDS)
# Maintained by the "server"; a re-apply that differs only in these is unchanged.
_SERVER_FIELDS = ("uid", "creationTimestamp", "resourceVersion", "generation", "managedFields", "selfLink")
_GENERATE_ATTEMPTS = 50


def is_cluster_scoped(kind: str) -> bool:
    """Kinds that live outside namespaces (their ``metadata.namespace`` is ignored)."""
    return kind.lower() in _CLUSTER_SCOPED_LOWER


def _resource(doc_or_kind: dict[str, Any] | str) -> str:
    """The API resource name used in Kubernetes messages, e.g. ``workflowtemplates.argoproj.io``."""
    if isinstance(doc_or_kind, str):
        kind, api_version = doc_or_kind, ""
    else:
        kind, api_version = str(doc_or_kind.get("kind") or ""), str(doc_or_kind.get("apiVersion") or "")
    plural = kind.lower()
    plural = plural[:-1] + "ies" if plural.endswith("y") else plural + ("es" if plural.endswith("s") else "s")
    group = api_version.rpartition("/")[0]
    return f"{plural}.{group}" if group else plural


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (doc.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    return {**doc, "metadata": meta}


class DocumentsMixin(StoreBase):
    """kubectl-like storage of arbitrary Kubernetes documents, keyed by (kind, namespace, name)."""

    def _scoped(self, doc: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """(kind, namespace, copy of doc with metadata.namespace set or, for cluster kinds, removed)."""
        if not isinstance(doc, dict) or not doc.get("kind"):
            raise SpecError("a document needs a kind")
        kind = str(doc["kind"])
        if kind == "Workflow":
            raise SpecError("Workflows are not applied as documents: submit them (argosy submit)")
        meta = dict(doc.get("metadata") or {})
        if is_cluster_scoped(kind):
            meta.pop("namespace", None)
            namespace = ""
        else:
            namespace = meta["namespace"] = str(meta.get("namespace") or DEFAULT_NAMESPACE)
        return kind, namespace, {**doc, "metadata": meta}

    def _doc_namespace(self, kind: str, name: str, namespace: str | None) -> str | None:
        if is_cluster_scoped(kind):
            return ""
        return self._resolve_namespace("documents", name, namespace, "AND kind = ?", (kind,))

    def apply_document(self, doc: dict[str, Any]) -> ApplyResult:
        """Create or replace a document; returns kubectl's word for what happened.

        A document with only ``generateName`` is always created anew (as ``kubectl create``);
        use :meth:`create_document` to learn the generated name.
        """
        kind, namespace, desired = self._scoped(doc)
        meta = desired["metadata"]
        name = meta.get("name")
        if not name:
            self.create_document(doc)
            return "created"
        with self._write() as conn:
            row = conn.execute(
                "SELECT seq, uid, created, resource_version, body FROM documents"
                " WHERE kind = ? AND namespace = ? AND name = ?",
                (kind, namespace, name),
            ).fetchone()
            if row is None:
                self._insert(conn, kind, namespace, desired)
                return "created"
            seq, uid, created, rv, body = row
            if _comparable(json.loads(body)) == _comparable(desired):
                return "unchanged"
            meta.update(uid=uid, creationTimestamp=created, resourceVersion=str(rv + 1))
            conn.execute(
                "UPDATE documents SET resource_version = ?, body = ? WHERE seq = ?",
                (rv + 1, dumps(desired), seq),
            )
        return "configured"

    def create_document(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Store a new document (``generateName`` supported); an existing name is an error."""
        kind, namespace, desired = self._scoped(doc)
        meta = desired["metadata"]
        name, prefix = meta.get("name"), meta.get("generateName")
        if not name and not prefix:
            raise SpecError(f"{_resource(doc)}: metadata.name or metadata.generateName is required")
        for _ in range(1 if name else _GENERATE_ATTEMPTS):
            meta["name"] = str(name or generate_name(str(prefix)))
            try:
                with self._write() as conn:
                    self._insert(conn, kind, namespace, desired)
            except sqlite3.IntegrityError:
                if name:
                    raise StateError(f'{_resource(doc)} "{name}" already exists') from None
                continue
            return desired
        raise StateError(f'{_resource(doc)}: cannot generate a free name from "{prefix}"')

    @staticmethod
    def _insert(conn: sqlite3.Connection, kind: str, namespace: str, doc: dict[str, Any]) -> None:
        meta = doc["metadata"]
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), resourceVersion="1")
        conn.execute(
            "INSERT INTO documents (kind, namespace, name, uid, resource_version, created, body)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            (kind, namespace, meta["name"], meta["uid"], meta["creationTimestamp"], dumps(doc)),
        )

    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The stored document, or None. ``kind`` is case-insensitive; no namespace means "wherever it is"."""
        ns = self._doc_namespace(kind, name, namespace)
        if ns is None:
            return None
        rows = self._query(
            "SELECT body FROM documents WHERE kind = ? AND namespace = ? AND name = ?", (kind, ns, name)
        )
        return json.loads(rows[0][0]) if rows else None

    def list_documents(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Documents of one kind ordered by namespace then name; all namespaces when none is given."""
        if namespace is None or is_cluster_scoped(kind):
            rows = self._query("SELECT body FROM documents WHERE kind = ? ORDER BY namespace, name", (kind,))
        else:
            rows = self._query(
                "SELECT body FROM documents WHERE kind = ? AND namespace = ? ORDER BY name", (kind, namespace)
            )
        return [json.loads(r[0]) for r in rows]

    def delete_document(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Remove a document; False when there was nothing to remove."""
        ns = self._doc_namespace(kind, name, namespace)
        if ns is None:
            return False
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM documents WHERE kind = ? AND namespace = ? AND name = ?", (kind, ns, name)
            )
        return cur.rowcount > 0
