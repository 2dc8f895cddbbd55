"""The cluster-backed store: what :class:`argosy.pipeline.store.Store` keeps in SQLite, kept as Kubernetes objects.

Workflows are ``Workflow`` objects (labelled ``workflows.argoproj.io/controller-instanceid``, so a
real Argo controller in the same cluster leaves them alone); ConfigMaps, Secrets and
(Cluster)WorkflowTemplates are themselves; events are core ``Event`` objects involving the
workflow; the memoization cache is one ConfigMap per cache (Argo's layout); artifact GC tasks are
``WorkflowArtifactGCTask`` objects. Finalizers are real: deleting a workflow that holds
``workflows.argoproj.io/artifact-gc`` only sets its ``deletionTimestamp`` until GC removes it.

Leases: the controller holds one ``coordination.k8s.io/v1`` Lease (leader election); per-workflow
leases are in-process, because only the leader runs workflows. :meth:`lease_info` reports the
leader's Lease, so "is anybody running this?" has a truthful answer for the CLI and GC.

Method names and semantics mirror the local ``Store`` where the runner, the GC lifecycle and the
CLI use them; ``namespace=None`` means this store's default namespace.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy.errors import SpecError, StateError, WorkflowNotFound
from argosy.pipeline.kube.client import (
    Conflict,
    KubeApiError,
    KubeClient,
    NotFound,
    ResourceType,
    resource_type,
)
from argosy.pipeline.kube.objects import LABEL_INSTANCE, LABEL_PHASE, LABEL_WORKFLOW

__all__ = ["LATEST", "KubeStore", "LeaseInfo"]

LATEST = "@latest"
MODIFY_ATTEMPTS = 20
CACHE_LABEL = "workflows.argoproj.io/configmap-type"
DEFAULT_LEASE = "argosy-controller"


class ConflictError(StateError):
    """An update raced another writer (stale resourceVersion); re-read and retry."""


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def summarize(wf: dict[str, Any]) -> dict[str, Any]:
    """A listing entry: the workflow without ``status.nodes``/``storedTemplates`` (as the local store lists)."""
    out = dict(wf)
    status = dict(out.get("status") or {})
    for key in ("nodes", "storedTemplates", "storedWorkflowTemplateSpec"):
        status.pop(key, None)
    out["status"] = status
    return out


class LeaseInfo:
    """Who leads (holds the controller Lease) and whether that is current; the local Store's shape."""

    def __init__(self, workflow_name: str, namespace: str, owner: str, acquired_at: str, renewed_at: str, alive: bool) -> None:
        self.workflow_name, self.namespace, self.owner = workflow_name, namespace, owner
        self.host, _, pid = owner.partition(":")
        self.pid = int(pid.split(":")[0]) if pid.split(":")[0].isdigit() else 0
        self.acquired_at, self.renewed_at, self.alive = acquired_at, renewed_at, alive


def _parse_micro(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class KubeStore:
    """Workflows and documents in a cluster, through a :class:`KubeClient`."""

    is_cluster = True

    def __init__(
        self,
        api: KubeClient,
        namespace: str | None = None,
        *,
        instance_id: str = "argosy",
        lease_name: str = DEFAULT_LEASE,
        lease_namespace: str | None = None,
        identity: str | None = None,
        home: Path | None = None,
    ) -> None:
        self.api = api
        self.namespace = namespace or api.namespace
        self.instance_id = instance_id
        self.lease_name = lease_name
        self.lease_namespace = lease_namespace or self.namespace
        self.identity = identity
        self.home = home or Path(tempfile.gettempdir()) / f"argosy-kube-{os.getuid()}"
        self.logs_dir = self.home / "logs"
        self.artifacts_dir = self.home / "artifacts"
        self.runs_dir = self.home / "runs"
        self._leases: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.workflows = resource_type("Workflow")

    def for_namespace(self, namespace: str) -> KubeStore:
        """The same store with another default namespace (shares the in-process leases)."""
        other = copy.copy(self)
        other.namespace = namespace
        return other

    def close(self) -> None:
        return

    def __enter__(self) -> KubeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ns(self, namespace: str | None) -> str:
        return namespace or self.namespace

    # ------------------------------------------------------------------ workflows

    def _selector(self, extra: str | None = None) -> str:
        parts = [f"{LABEL_INSTANCE}={self.instance_id}"] if self.instance_id else []
        if extra:
            parts.append(extra)
        return ",".join(parts)

    def create_workflow(self, wf: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(wf)
        body.pop("status", None) if body.get("status") in (None, {}) else None
        body.setdefault("apiVersion", "argoproj.io/v1alpha1")
        body.setdefault("kind", "Workflow")
        meta = body.setdefault("metadata", {})
        if not meta.get("name") and not meta.get("generateName"):
            raise SpecError("workflows.argoproj.io: metadata.name or metadata.generateName is required")
        if self.instance_id:
            meta.setdefault("labels", {})[LABEL_INSTANCE] = self.instance_id
        try:
            return self.api.create(self.workflows, body, self._ns(meta.get("namespace")))
        except Conflict:
            raise StateError(f'workflows.argoproj.io "{meta.get("name")}" already exists') from None
        except KubeApiError as exc:
            raise StateError(f"cannot create the workflow: {exc}") from None

    def get_workflow(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        if name == LATEST:
            items = self.list_workflows(namespace, full=True)
            if not items:
                raise WorkflowNotFound("no workflows found")
            return items[0]
        try:
            return self.api.get(self.workflows, name, self._ns(namespace))
        except NotFound:
            raise WorkflowNotFound(f'workflows.argoproj.io "{name}" not found') from None

    def update_workflow(self, wf: dict[str, Any], *, check_version: bool = True) -> dict[str, Any]:
        body = copy.deepcopy(wf)
        meta = body.setdefault("metadata", {})
        if not check_version:
            meta.pop("resourceVersion", None)
        try:
            return self.api.replace(self.workflows, body, self._ns(meta.get("namespace")))
        except Conflict:
            raise ConflictError(
                f'Operation cannot be fulfilled on workflows.argoproj.io "{meta.get("name")}": the object has been '
                "modified; please apply your changes to the latest version and try again") from None
        except NotFound:
            raise WorkflowNotFound(f'workflows.argoproj.io "{meta.get("name")}" not found') from None

    def modify_workflow(self, name: str, fn: Callable[[dict[str, Any]], None], namespace: str | None = None) -> dict[str, Any]:
        """Apply ``fn`` to the latest copy and write it back, retrying on conflicts (``fn`` may run more than once)."""
        for attempt in range(MODIFY_ATTEMPTS):
            wf = self.get_workflow(name, namespace)
            before = json.dumps(wf, sort_keys=True)
            fn(wf)
            if json.dumps(wf, sort_keys=True) == before:
                return wf
            try:
                return self.update_workflow(wf)
            except ConflictError:
                if attempt >= 3:
                    time.sleep(random.uniform(0, min(0.1, 0.005 * attempt)))
        raise ConflictError(f'workflows.argoproj.io "{name}": gave up after {MODIFY_ATTEMPTS} conflicting updates')

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
        """Newest first; all namespaces when ``namespace`` is None and this store is cluster-wide (``namespace=""``)."""
        everywhere = all_namespaces if all_namespaces is not None else namespace is None and self.namespace == ""
        listing = self.api.list_objects(self.workflows, self._ns(namespace) or None, all_namespaces=everywhere,
                                        label_selector=self._selector(label_selector))
        wanted = None if phases is None else ({phases} if isinstance(phases, str) else set(phases))
        out = []
        for wf in listing.get("items") or []:
            phase = (wf.get("status") or {}).get("phase") or "Pending"
            if wanted is not None and phase not in wanted:
                continue
            if prefix and not str(wf["metadata"]["name"]).startswith(prefix):
                continue
            out.append(wf if full else summarize(wf))
        out.sort(key=lambda w: (w["metadata"].get("creationTimestamp") or "", w["metadata"].get("name") or ""), reverse=True)
        return out[:limit] if limit is not None else out

    def delete_workflow(self, name: str, namespace: str | None = None) -> None:
        """Delete (background propagation: its pods and owned objects go too; finalizers hold it until GC)."""
        try:
            self.api.delete(self.workflows, name, self._ns(namespace), propagation="Background")
        except NotFound:
            raise WorkflowNotFound(f'workflows.argoproj.io "{name}" not found') from None

    # ------------------------------------------------------------------ documents

    def _doc_rt(self, doc_or_kind: dict[str, Any] | str) -> ResourceType:
        if isinstance(doc_or_kind, str):
            return resource_type(doc_or_kind)
        api_version, kind = str(doc_or_kind.get("apiVersion") or ""), str(doc_or_kind.get("kind") or "")
        if not kind:
            raise SpecError("a document needs a kind")
        if kind == "Workflow":
            raise SpecError("Workflows are not applied as documents: submit them (argosy submit)")
        try:
            return self.api.resource_for(api_version or resource_type(kind).api_version, kind)
        except Exception as exc:
            raise SpecError(str(exc)) from None

    def apply_document(self, doc: dict[str, Any]) -> str:
        """``kubectl apply`` for one object: ``created``, ``configured`` or ``unchanged``."""
        rt = self._doc_rt(doc)
        body = copy.deepcopy(doc)
        meta = body.setdefault("metadata", {})
        ns = self._ns(meta.get("namespace")) if rt.namespaced else None
        if not meta.get("name"):
            self.api.create(rt, body, ns)
            return "created"
        try:
            current = self.api.get(rt, meta["name"], ns)
        except NotFound:
            self.api.create(rt, body, ns)
            return "created"
        merged = copy.deepcopy(current)
        for key, value in body.items():
            if key == "metadata":
                for mk in ("labels", "annotations"):
                    if mk in meta:
                        merged["metadata"][mk] = meta[mk]
            elif key != "status":
                merged[key] = value
        if merged == current:
            return "unchanged"
        self.api.replace(rt, merged, ns)
        return "configured"

    def create_document(self, doc: dict[str, Any]) -> dict[str, Any]:
        rt = self._doc_rt(doc)
        ns = self._ns((doc.get("metadata") or {}).get("namespace")) if rt.namespaced else None
        try:
            return self.api.create(rt, doc, ns)
        except Conflict:
            raise StateError(f'{rt.plural} "{(doc.get("metadata") or {}).get("name")}" already exists') from None

    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            rt = resource_type(kind)
        except Exception:
            return None
        try:
            return self.api.get(rt, name, self._ns(namespace) if rt.namespaced else None)
        except NotFound:
            return None

    def list_documents(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        rt = resource_type(kind)
        items = self.api.list_objects(rt, self._ns(namespace) if rt.namespaced else None).get("items") or []
        return sorted(items, key=lambda d: (d["metadata"].get("namespace") or "", d["metadata"]["name"]))

    def delete_document(self, kind: str, name: str, namespace: str | None = None) -> bool:
        rt = resource_type(kind)
        return self.api.delete(rt, name, self._ns(namespace) if rt.namespaced else None, missing_ok=True) is not None

    def secret_value(self, name: str, key: str, namespace: str | None = None) -> str | None:
        doc = self.get_document("Secret", name, namespace)
        if doc is None:
            return None
        if key in (doc.get("stringData") or {}):
            return str(doc["stringData"][key])
        raw = (doc.get("data") or {}).get(key)
        return None if raw is None else base64.b64decode(raw).decode()

    # ------------------------------------------------------------------ leases

    def acquire_lease(self, workflow_name: str, owner: str | None = None, *, namespace: str | None = None) -> bool:
        """In-process: only the elected controller runs workflows, so a lock per workflow is enough."""
        key = (self._ns(namespace), workflow_name)
        me = owner or f"thread-{threading.get_ident()}"
        with self._lock:
            holder = self._leases.get(key)
            if holder not in (None, me):
                return False
            self._leases[key] = me
            return True

    def renew_lease(self, workflow_name: str, owner: str | None = None, *, namespace: str | None = None) -> bool:
        with self._lock:
            return (self._ns(namespace), workflow_name) in self._leases

    def release_lease(self, workflow_name: str, owner: str | None = None, *, namespace: str | None = None, force: bool = False) -> bool:
        with self._lock:
            return self._leases.pop((self._ns(namespace), workflow_name), None) is not None

    def lease_info(self, workflow_name: str, *, namespace: str | None = None) -> LeaseInfo | None:
        """The controller's leader Lease, standing for "is a controller running this workflow"."""
        try:
            lease = self.api.get(resource_type("Lease"), self.lease_name, self.lease_namespace)
        except KubeApiError:
            return None
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if not holder:
            return None
        renewed = _parse_micro(spec.get("renewTime")) or 0.0
        duration = float(spec.get("leaseDurationSeconds") or 15)
        alive = time.time() < renewed + duration
        return LeaseInfo(workflow_name, self._ns(namespace), holder, str(spec.get("acquireTime") or ""),
                         str(spec.get("renewTime") or ""), alive)

    # ------------------------------------------------------------------ events

    def add_event(
        self, workflow_name: str, type: str, reason: str, message: str, *,
        namespace: str | None = None, involved_object: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ns = self._ns(namespace)
        involved = involved_object
        if involved is None:
            uid = ""
            with contextlib.suppress(WorkflowNotFound, KubeApiError):
                uid = self.get_workflow(workflow_name, ns)["metadata"].get("uid") or ""
            involved = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": workflow_name, "namespace": ns, "uid": uid}
        stamp = _now_rfc3339()
        # as client-go's EventRecorder: the same event again bumps count/lastTimestamp of the one there
        # (a GC pod refused at every resync must not add an Event object every 30 s)
        with contextlib.suppress(KubeApiError):
            same = self.api.list_objects(resource_type("Event"), ns, field_selector=(
                f"involvedObject.name={involved['name']},involvedObject.kind={involved['kind']},reason={reason},type={type}")).get("items") or []
            for old in same:
                if old.get("message") == message and (old.get("involvedObject") or {}).get("uid", "") == involved.get("uid", ""):
                    return self.api.patch(resource_type("Event"), old["metadata"]["name"],
                                          {"count": int(old.get("count") or 1) + 1, "lastTimestamp": stamp}, ns)
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{workflow_name}.", "namespace": ns, "labels": {LABEL_WORKFLOW: workflow_name}},
            "involvedObject": {"namespace": ns, **involved}, "reason": reason, "message": message, "type": type,
            "source": {"component": "workflow-controller"}, "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
            "reportingComponent": "argosy",
        }
        return self.api.create(resource_type("Event"), event, ns)

    def list_events(self, workflow_name: str, namespace: str | None = None, **_: Any) -> list[dict[str, Any]]:
        items = self.api.list_objects(resource_type("Event"), self._ns(namespace),
                                      field_selector=f"involvedObject.name={workflow_name}").get("items") or []
        def order(e: dict[str, Any]) -> tuple[str, int, str]:
            # timestamps have whole seconds: within one, the API server's write order (resourceVersion)
            rv = str(e["metadata"].get("resourceVersion") or "")
            return e.get("lastTimestamp") or "", int(rv) if rv.isdigit() else 0, e["metadata"].get("name") or ""

        return sorted(items, key=order)

    # ------------------------------------------------------------------ memoization cache (Argo's ConfigMaps)

    def cache_put(self, cache_name: str, key: str, node_id: str, outputs: dict[str, Any], *, namespace: str | None = None) -> None:
        rt, ns = resource_type("ConfigMap"), self._ns(namespace)
        entry = json.dumps({"nodeID": node_id, "outputs": outputs, "creationTimestamp": _now_rfc3339(),
                            "lastHitTimestamp": _now_rfc3339()}, separators=(",", ":"))
        for _ in range(MODIFY_ATTEMPTS):
            try:
                cm = self.api.get(rt, cache_name, ns)
            except NotFound:
                try:
                    self.api.create(rt, {"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": {"name": cache_name, "labels": {CACHE_LABEL: "Cache"}},
                                         "data": {key: entry}}, ns)
                    return
                except Conflict:
                    continue
            cm.setdefault("data", {})[key] = entry
            try:
                self.api.replace(rt, cm, ns)
                return
            except Conflict:
                continue
        raise ConflictError(f"memoization cache {cache_name}: gave up after {MODIFY_ATTEMPTS} conflicting updates")

    def cache_get(self, cache_name: str, key: str, *, max_age_seconds: float | None = None, namespace: str | None = None) -> dict[str, Any] | None:
        cm = self.get_document("ConfigMap", cache_name, namespace)
        raw = ((cm or {}).get("data") or {}).get(key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
        except ValueError:
            return None
        created = entry.get("creationTimestamp")
        if max_age_seconds is not None:
            ts = _parse_micro(created)
            if ts is None or time.time() - ts > max_age_seconds:
                return None
        return {"nodeId": entry.get("nodeID"), "outputs": entry.get("outputs") or {}, "creationTimestamp": created}

    # ------------------------------------------------------------------ artifact GC tasks

    def put_gc_task(self, task: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a WorkflowArtifactGCTask; its ``status`` goes through the status subresource."""
        rt = resource_type("WorkflowArtifactGCTask")
        body = copy.deepcopy(task)
        body.setdefault("apiVersion", "argoproj.io/v1alpha1")
        body.setdefault("kind", "WorkflowArtifactGCTask")
        meta = body.setdefault("metadata", {})
        ns = self._ns(meta.get("namespace"))
        status = body.get("status")
        try:
            current = self.api.get(rt, meta["name"], ns)
        except NotFound:
            current = None
        if current is None:
            stored = self.api.create(rt, body, ns)
        else:
            body["metadata"] = {**current["metadata"], **{k: v for k, v in meta.items() if k in ("labels", "annotations", "ownerReferences")}}
            stored = self.api.replace(rt, body, ns)
        if status is not None and stored.get("status") != status:
            stored = self.api.patch(rt, meta["name"], {"status": status}, ns, subresource="status")
        return stored

    def get_gc_task(self, name: str) -> dict[str, Any] | None:
        with contextlib.suppress(NotFound):
            return self.api.get(resource_type("WorkflowArtifactGCTask"), name, self.namespace)
        return None

    def list_gc_tasks(self, workflow_name: str | None = None) -> list[dict[str, Any]]:
        selector = f"{LABEL_WORKFLOW}={workflow_name}" if workflow_name else None
        items = self.api.list_objects(resource_type("WorkflowArtifactGCTask"), self.namespace, label_selector=selector).get("items") or []
        return sorted(items, key=lambda t: t["metadata"]["name"])

    def delete_gc_task(self, name: str) -> bool:
        return self.api.delete(resource_type("WorkflowArtifactGCTask"), name, self.namespace, missing_ok=True) is not None

    # ------------------------------------------------------------------ logs

    def log_path(self, workflow_name: str, pod_name: str, namespace: str | None = None, *, container: str = "main") -> Path:
        """A local copy of a container's log (``main`` unless said; fetched now); the path does not exist if it has none."""
        ns = self._ns(namespace)
        for part in (ns, workflow_name, pod_name, container):
            if not part or part in (".", "..") or "/" in part:
                raise SpecError(f"invalid name for a log file: {part!r}")
        path = self.logs_dir / ns / workflow_name / (f"{pod_name}.log" if container == "main" else f"{pod_name}.{container}.log")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            text = self.api.log(ns, pod_name, container)
        except KubeApiError:
            return path
        path.write_text(text)
        return path


def phase_label(wf: dict[str, Any]) -> str | None:
    return ((wf.get("metadata") or {}).get("labels") or {}).get(LABEL_PHASE)


def now_micro() -> str:
    return _micro_now()
