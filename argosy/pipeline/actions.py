"""What users do to workflows — submit, stop, terminate, suspend, resume, retry, resubmit, delete —
in one place, so the CLI, the HTTP server and the Python client behave the same.

Each action edits the workflow record through the store; a running workflow's runner process
picks the change up between passes (``argosy.pipeline.engine.runner``). The store is the local
SQLite one or a cluster's (:class:`argosy.pipeline.kube.store.KubeStore`, ``store.is_cluster``):
on a cluster the controller runs workflows, so nothing is started here (unless ``foreground``)
and deletion goes through the API server's finalizers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from argosy.errors import ArgosyError, LintError
from argosy.pipeline.kube import is_cluster
from argosy.pipeline.model import ClusterWorkflowTemplate, Workflow, WorkflowTemplate
from argosy.pipeline.spawn import WarmRunner, spawn_runner

__all__ = [
    "StoreTemplates",
    "TERMINAL",
    "apply_overrides",
    "delete",
    "launch",
    "resubmit",
    "resume",
    "retry",
    "set_shutdown",
    "submit",
    "suspend",
    "validate",
]

TERMINAL = ("Succeeded", "Failed", "Error")


class StoreTemplates:
    """WorkflowTemplates applied to the store, for lint and ``templateRef`` resolution."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get_workflow_template(self, name: str) -> WorkflowTemplate | None:
        doc = self.store.get_document("WorkflowTemplate", name, None)
        return WorkflowTemplate.model_validate(doc) if doc else None

    def get_cluster_workflow_template(self, name: str) -> ClusterWorkflowTemplate | None:
        doc = self.store.get_document("ClusterWorkflowTemplate", name, None)
        return ClusterWorkflowTemplate.model_validate(doc) if doc else None


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def apply_overrides(
    wf: dict[str, Any],
    *,
    parameters: Iterable[tuple[str, Any]] = (),
    entrypoint: str | None = None,
    service_account: str | None = None,
    labels: dict[str, str] | None = None,
    name: str | None = None,
    generate_name: str | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """``argo submit`` flags applied to a workflow document (in place; also returned)."""
    spec = wf.setdefault("spec", {})
    meta = wf.setdefault("metadata", {})
    if entrypoint:
        spec["entrypoint"] = entrypoint
    if service_account:
        spec["serviceAccountName"] = service_account
    if name:
        meta["name"] = name
    if generate_name:
        meta.pop("name", None)
        meta["generateName"] = generate_name
    if namespace:
        meta["namespace"] = namespace
    for k, v in (labels or {}).items():
        meta.setdefault("labels", {})[k] = v
    params = list(parameters)
    if params:
        existing = spec.setdefault("arguments", {}).setdefault("parameters", [])
        for k, v in params:
            text = _param_text(v)
            for p in existing:
                if p.get("name") == k:
                    p["value"] = text
                    p.pop("valueFrom", None)
                    break
            else:
                existing.append({"name": k, "value": text})
    return wf


def validate(store: Any, wf: dict[str, Any]) -> Workflow:
    """The model of ``wf``; :class:`LintError` with every message Argo's validator would give."""
    from argosy.pipeline.validate import validate_workflow

    model = Workflow.model_validate(wf)
    errors = validate_workflow(model, templates=StoreTemplates(store))
    if errors:
        raise LintError("Failed to submit workflow: " + "; ".join(errors), errors)
    return model


def launch(store: Any, name: str, namespace: str | None = None, *, foreground: bool = False,
           warm: WarmRunner | None = None) -> dict[str, Any] | None:
    """Get a stored workflow running: a detached runner process locally, the controller on a cluster.

    ``foreground`` runs the engine in this process until the workflow ends and returns its record
    (on a cluster: pods on the cluster, engine here, for development without a controller).
    ``warm``: a runner started beforehand takes it (or, once used, starts a fresh one).
    """
    if is_cluster(store):
        if not foreground:
            return None
        from argosy.pipeline.kube.cli import run_in_cluster

        return run_in_cluster(store, name, namespace)
    if foreground:
        from argosy.pipeline.local import run_workflow

        return run_workflow(store, name, namespace)  # type: ignore[no-any-return]
    if warm is not None:
        warm.start(name, namespace)
    else:
        spawn_runner(store, name, namespace)
    return None


def submit(store: Any, wf: dict[str, Any], *, start: bool = True, foreground: bool = False) -> dict[str, Any]:
    """Validate, decide the artifact-GC finalizer, store, and start the workflow."""
    from argosy.gc.lifecycle import on_submit

    doc = dict(wf)
    doc.pop("status", None)
    validate(store, doc)
    on_submit(doc, store)
    record: dict[str, Any] = store.create_workflow(doc)
    meta = record["metadata"]
    if foreground or start:
        ran = launch(store, meta["name"], meta.get("namespace"), foreground=foreground)
        if ran is not None:
            return ran
    return record


def _record(store: Any, name: str, namespace: str | None) -> dict[str, Any]:
    from argosy.pipeline.spawn import detect_orphan

    return detect_orphan(store, store.get_workflow(name, namespace))  # type: ignore[no-any-return]


def set_shutdown(store: Any, name: str, strategy: str, namespace: str | None = None) -> dict[str, Any]:
    """``stop`` (``Stop``: exit handlers still run) or ``terminate`` (``Terminate``)."""
    record = _record(store, name, namespace)
    if (record.get("status") or {}).get("phase") in TERMINAL:
        raise ArgosyError(f"cannot {'stop' if strategy == 'Stop' else 'terminate'} completed workflow {record['metadata']['name']}")
    return store.modify_workflow(record["metadata"]["name"], lambda r: r.setdefault("spec", {}).__setitem__("shutdown", strategy), namespace=namespace)  # type: ignore[no-any-return]


def suspend(store: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
    record = _record(store, name, namespace)
    if (record.get("status") or {}).get("phase") in TERMINAL:
        raise ArgosyError(f"cannot suspend completed workflow {record['metadata']['name']}")
    return store.modify_workflow(record["metadata"]["name"], lambda r: r.setdefault("spec", {}).__setitem__("suspend", True), namespace=namespace)  # type: ignore[no-any-return]


def resume(store: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
    """Clear ``spec.suspend`` and ask the runner to resume suspend steps."""
    from argosy.pipeline.engine.runner import RESUME_ANNOTATION
    from argosy.pipeline.status import format_time, now

    stamp = f"{format_time(now())}-{time.monotonic_ns()}"

    def fn(r: dict[str, Any]) -> None:
        r.setdefault("spec", {}).pop("suspend", None)
        r.setdefault("metadata", {}).setdefault("annotations", {})[RESUME_ANNOTATION] = stamp

    record = _record(store, name, namespace)
    return store.modify_workflow(record["metadata"]["name"], fn, namespace=namespace)  # type: ignore[no-any-return]


def retry(store: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
    """Run a failed workflow again from its failed steps; successful steps are kept."""
    from argosy.pipeline.engine.retry import reset_failed

    record = _record(store, name, namespace)
    phase = (record.get("status") or {}).get("phase")
    if phase not in ("Failed", "Error"):
        raise ArgosyError(f"workflow {record['metadata']['name']} is not failed or errored (phase {phase})")
    # on a cluster the controller's executor deletes the reset nodes' old pods before re-running them
    record = store.modify_workflow(record["metadata"]["name"], reset_failed, namespace=namespace)
    launch(store, record["metadata"]["name"], namespace)
    return record  # type: ignore[no-any-return]


def resubmit(store: Any, name: str, *, parameters: Iterable[tuple[str, Any]] = (), namespace: str | None = None) -> dict[str, Any]:
    """A new workflow with the same spec (``workflows.argoproj.io/resubmitted-from-workflow``)."""
    old = store.get_workflow(name, namespace)
    meta = old.get("metadata") or {}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if not k.startswith("workflows.argoproj.io/")}
    labels["workflows.argoproj.io/resubmitted-from-workflow"] = meta["name"]
    new: dict[str, Any] = {
        "apiVersion": old.get("apiVersion", "argoproj.io/v1alpha1"),
        "kind": "Workflow",
        "metadata": {"generateName": f"{meta['name']}-", "labels": labels},
        "spec": dict(old.get("spec") or {}),
    }
    if meta.get("namespace"):
        new["metadata"]["namespace"] = meta["namespace"]
    new["spec"].pop("shutdown", None)
    new["spec"].pop("suspend", None)
    apply_overrides(new, parameters=parameters)
    return submit(store, new)


def delete(store: Any, name: str, *, namespace: str | None = None, force: bool = False) -> str:
    """Delete through the artifact-GC finalizer path; the outcome text starts with ``deleted`` on success
    (on a cluster a deletion the controller still holds for GC says ``deletion pending``)."""
    from argosy.gc.lifecycle import request_delete

    if is_cluster(store):
        from argosy.pipeline.kube.cli import cluster_delete

        return cluster_delete(store, name, namespace, force=force)

    return request_delete(store, name, namespace=namespace, force=force)
