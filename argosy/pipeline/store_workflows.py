"""Workflow records: Argo-shaped dicts plus indexed columns so listing never parses node status."""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from argosy.errors import SpecError, StateError, WorkflowNotFound
from argosy.pipeline.store_db import (
    DEFAULT_NAMESPACE,
    ConflictError,
    StoreBase,
    check_dns_name,
    dumps,
    generate_name,
    now_rfc3339,
)

__all__ = ["LabelMatcher", "WorkflowsMixin", "parse_label_selector", "summarize_workflow"]

API_VERSION = "argoproj.io/v1alpha1"
LATEST = "@latest"
MODIFY_ATTEMPTS = 200
_GENERATE_ATTEMPTS = 50
# The parts of a workflow that grow with its size; listings leave them out.
_HEAVY_STATUS_FIELDS = ("nodes", "storedTemplates", "storedWorkflowTemplateSpec")

LabelMatcher = Callable[[dict[str, str]], bool]
_SET_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_KEY = re.compile(r"^[A-Za-z0-9_./-]+$")


def _not_found(name: str) -> WorkflowNotFound:
    return WorkflowNotFound(f'workflows.argoproj.io "{name}" not found')


def summarize_workflow(wf: dict[str, Any]) -> dict[str, Any]:
    """The workflow without node-by-node status: what ``argo list`` shows, at a fraction of the size."""
    out = {k: v for k, v in wf.items() if k != "status"}
    status = wf.get("status")
    if isinstance(status, dict):
        out["status"] = {k: v for k, v in status.items() if k not in _HEAVY_STATUS_FIELDS}
    elif status is not None:
        out["status"] = status
    return out


def parse_label_selector(selector: str) -> LabelMatcher:
    """Compile a Kubernetes label selector: ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``, ``k notin (a)``."""
    terms: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(selector):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    checks: list[LabelMatcher] = []
    for raw in terms:
        term = raw.strip()
        if not term:
            if len(terms) > 1:
                raise SpecError(f"invalid label selector {selector!r}: empty requirement")
            continue
        checks.append(_parse_term(term, selector))
    return lambda labels: all(check(labels) for check in checks)


def _parse_term(term: str, selector: str) -> LabelMatcher:
    def bad() -> SpecError:
        return SpecError(f"invalid label selector {selector!r}: cannot parse {term!r}")

    if m := _SET_TERM.match(term):
        key, op = m.group(1), m.group(2)
        values = frozenset(v.strip() for v in m.group(3).split(","))
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in term:
            key, value = (s.strip() for s in term.split(op, 1))
            if not _KEY.match(key) or any(c in value for c in "=!(), "):
                raise bad()
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = term[1:].strip()
        if not _KEY.match(key):
            raise bad()
        return lambda labels: key not in labels
    if not _KEY.match(term):
        raise bad()
    return lambda labels: term in labels


def _columns(wf: dict[str, Any]) -> tuple[str, str | None, str]:
    """(phase, finishedAt, labels JSON): the indexed copies of what listings filter on."""
    status = wf.get("status") or {}
    labels = (wf.get("metadata") or {}).get("labels") or {}
    return str(status.get("phase") or ""), status.get("finishedAt") or None, dumps(labels)


class WorkflowsMixin(StoreBase):
    """Create, read, update (optimistically), list and delete workflows."""

    def create_workflow(self, wf: dict[str, Any]) -> dict[str, Any]:
        """Store a new workflow, filling in what the API server would: name, uid, timestamps, version.

        The caller's dict is not modified; the stored copy is returned.
        """
        meta = dict(wf.get("metadata") or {})
        name, prefix = meta.get("name"), meta.get("generateName")
        if not name and not prefix:
            raise SpecError("workflows.argoproj.io: metadata.name or metadata.generateName is required")
        meta["namespace"] = meta.get("namespace") or DEFAULT_NAMESPACE
        meta.pop("deletionTimestamp", None)
        out = {"apiVersion": wf.get("apiVersion") or API_VERSION, "kind": wf.get("kind") or "Workflow", **wf}
        for _ in range(1 if name else _GENERATE_ATTEMPTS):
            candidate = str(name or generate_name(str(prefix)))
            check_dns_name(candidate, "workflow name")
            fresh = {"name": candidate, "generateName": prefix, "namespace": meta["namespace"]}
            fresh.update(uid=str(uuid.uuid4()), resourceVersion="1", creationTimestamp=now_rfc3339())
            out["metadata"] = {k: v for k, v in {**fresh, **meta, **fresh}.items() if v is not None}
            phase, finished, labels = _columns(out)
            body, summary = dumps(out), dumps(summarize_workflow(out))
            try:
                with self._write() as conn:
                    cur = conn.execute(
                        "INSERT INTO workflows (namespace, name, uid, phase, created, finished, labels,"
                        " resource_version, summary) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                        (
                            meta["namespace"],
                            candidate,
                            fresh["uid"],
                            phase,
                            fresh["creationTimestamp"],
                            finished,
                            labels,
                            summary,
                        ),
                    )
                    conn.execute(
                        "INSERT INTO workflow_bodies (seq, body) VALUES (?, ?)", (cur.lastrowid, body)
                    )
            except sqlite3.IntegrityError:
                if name:
                    raise StateError(f'workflows.argoproj.io "{name}" already exists') from None
                continue
            return out
        raise StateError(f'workflows.argoproj.io: cannot generate a free name from "{prefix}"')

    def get_workflow(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The full stored workflow; ``@latest`` is the most recently created one."""
        select = "SELECT b.body FROM workflows w JOIN workflow_bodies b ON b.seq = w.seq"
        if name == LATEST:
            where, params = ("WHERE w.namespace = ?", (namespace,)) if namespace else ("", ())
            rows = self._query(f"{select} {where} ORDER BY w.created DESC, w.seq DESC LIMIT 1", params)
            if not rows:
                raise WorkflowNotFound(
                    "no workflows found" + (f' in namespace "{namespace}"' if namespace else "")
                )
        else:
            ns = self._resolve_namespace("workflows", name, namespace)
            rows = self._query(f"{select} WHERE w.namespace = ? AND w.name = ?", (ns, name)) if ns else []
            if not rows:
                raise _not_found(name)
        result: dict[str, Any] = json.loads(rows[0][0])
        return result

    def update_workflow(self, wf: dict[str, Any], *, check_version: bool = True) -> dict[str, Any]:
        """Replace a stored workflow; with ``check_version`` a stale ``resourceVersion`` raises ConflictError.

        Returns the stored copy with the bumped version (the caller's dict is not modified).
        uid and creationTimestamp are immutable and always kept from the stored record.
        """
        meta = wf.get("metadata") or {}
        name = meta.get("name")
        if not name:
            raise SpecError("workflows.argoproj.io: metadata.name is required for an update")
        namespace = self._resolve_namespace("workflows", name, meta.get("namespace"))
        if namespace is None:
            raise _not_found(name)
        given_rv = meta.get("resourceVersion")
        try:
            expected = int(given_rv) if given_rv is not None else None
        except (TypeError, ValueError):
            expected = None

        def build(uid: Any, created: Any, rv: int) -> tuple[dict[str, Any], str, str]:
            out = dict(wf)
            out["metadata"] = {
                **meta,
                "namespace": namespace,
                "uid": uid,
                "creationTimestamp": created,
                "resourceVersion": str(rv + 1),
            }
            return out, dumps(out), dumps(summarize_workflow(out))

        # Serialise outside the write lock, guessing the stored identity from the caller's copy;
        # only if the guess is wrong is the (possibly large) body serialised again under the lock.
        guess = (meta.get("uid"), meta.get("creationTimestamp"), expected)
        out, body, summary = build(guess[0], guess[1], expected) if expected is not None else ({}, "", "")
        with self._write() as conn:
            row = conn.execute(
                "SELECT seq, uid, created, resource_version FROM workflows WHERE namespace = ? AND name = ?",
                (namespace, name),
            ).fetchone()
            if row is None:
                raise _not_found(name)
            seq, uid, created, stored_rv = row
            if check_version and expected != stored_rv:
                raise ConflictError(
                    f'Operation cannot be fulfilled on workflows.argoproj.io "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again"
                )
            if guess != (uid, created, stored_rv):
                out, body, summary = build(uid, created, stored_rv)
            phase, finished, labels = _columns(out)
            conn.execute(
                "UPDATE workflows SET phase = ?, finished = ?, labels = ?, resource_version = ?, summary = ?"
                " WHERE seq = ?",
                (phase, finished, labels, stored_rv + 1, summary, seq),
            )
            conn.execute("UPDATE workflow_bodies SET body = ? WHERE seq = ?", (body, seq))
        return out

    def modify_workflow(
        self, name: str, fn: Callable[[dict[str, Any]], None], namespace: str | None = None
    ) -> dict[str, Any]:
        """Apply ``fn`` (which edits the dict in place) to the latest copy, retrying on conflicts.

        For small patches from another process (``spec.shutdown``, labels) racing the engine;
        ``fn`` may run more than once, so it must be a pure edit of the dict it is given.
        """
        for attempt in range(MODIFY_ATTEMPTS):
            wf = self.get_workflow(name, namespace)
            fn(wf)
            try:
                return self.update_workflow(wf)
            except ConflictError:
                if attempt >= 3:  # de-synchronise persistent colliders
                    time.sleep(random.uniform(0, min(0.05, 0.001 * attempt)))
        raise ConflictError(
            f'workflows.argoproj.io "{name}": gave up after {MODIFY_ATTEMPTS} conflicting updates'
        )

    def list_workflows(
        self,
        namespace: str | None = None,
        *,
        phases: Iterable[str] | None = None,
        label_selector: str | None = None,
        prefix: str | None = None,
        limit: int | None = None,
        full: bool = False,
        all_namespaces: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Workflows newest first, from all namespaces when ``namespace`` is None (or ``all_namespaces``,
        which a cluster store needs said explicitly: there None means the context's namespace).

        Items are summaries without ``status.nodes`` / ``status.storedTemplates`` (listing 1,000 big
        workflows must not parse gigabytes); pass ``full=True`` for complete documents.
        A workflow with no phase yet counts as ``Pending``.
        """
        matches = parse_label_selector(label_selector) if label_selector else None
        if full:
            sql = "SELECT w.labels, b.body FROM workflows w JOIN workflow_bodies b ON b.seq = w.seq"
        else:
            sql = "SELECT w.labels, w.summary FROM workflows w"
        where: list[str] = []
        params: list[Any] = []
        if namespace and not all_namespaces:
            where.append("w.namespace = ?")
            params.append(namespace)
        if phases is not None:
            wanted = {phases} if isinstance(phases, str) else set(phases)
            if "Pending" in wanted:
                wanted.add("")
            where.append(f"w.phase IN ({', '.join('?' * len(wanted))})" if wanted else "0")
            params.extend(sorted(wanted))
        if prefix:
            where.append("substr(w.name, 1, ?) = ?")
            params.extend([len(prefix), prefix])
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY w.created DESC, w.seq DESC"
        if limit is not None and matches is None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        out: list[dict[str, Any]] = []
        for labels, doc in self._query(sql, params):
            if limit is not None and len(out) >= limit:
                break
            if matches is None or matches(json.loads(labels)):
                out.append(json.loads(doc))
        return out

    def delete_workflow(self, name: str, namespace: str | None = None) -> None:
        """Forget a workflow: its record, events, lease and logs directory (artifacts are GC's business)."""
        ns = self._resolve_namespace("workflows", name, namespace)
        with self._write() as conn:
            row = conn.execute(
                "SELECT seq FROM workflows WHERE namespace = ? AND name = ?", (ns or "", name)
            ).fetchone()
            if row is None:
                raise _not_found(name)
            conn.execute("DELETE FROM workflows WHERE seq = ?", (row[0],))
            conn.execute("DELETE FROM workflow_bodies WHERE seq = ?", (row[0],))
            conn.execute("DELETE FROM events WHERE namespace = ? AND workflow_name = ?", (ns, name))
            conn.execute("DELETE FROM leases WHERE namespace = ? AND name = ?", (ns, name))
            same_name_elsewhere = conn.execute("SELECT 1 FROM workflows WHERE name = ?", (name,)).fetchone()
        if not same_name_elsewhere:  # logs/<name> is shared by same-named workflows in other namespaces
            shutil.rmtree(self.logs_dir / name, ignore_errors=True)
