"""Artifact GC on a cluster: ``WorkflowArtifactGCTask`` objects deleted by pods, as Argo does.

The rules (which artifacts, which strategy, when the finalizer goes) are ``argosy.gc``'s; only
the worker differs: instead of a local child process, one pod per (strategy, service account +
pod metadata) named ``<wf>-artgc-<wfcomp|wfdel>-<fnv32a(...)>`` runs ``argosy exec gc`` with the
GC service account (the namespace's ``default`` one unless ``artifactGC.serviceAccountName`` is
set, as Argo), the GC ``podMetadata`` and ``podSpecPatch``, and the Secrets the artifacts need.
Each pod patches the status of the tasks labelled with its name hash; when the pod ends the
controller applies the results to the workflow (``deleted: true``, ``ArtifactGCError``
condition and ``ArtifactGCFailed`` events on failure) and removes the finalizer when allowed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any

from argosy.errors import ArgosyError
from argosy.pipeline.kube.client import KubeApiError, KubeClient, NotFound, resource_type
from argosy.pipeline.kube.objects import (
    LABEL_COMPLETED,
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_WORKFLOW,
    SECRETS_DIR,
    PodSettings,
    _secret_volume_name,
    owner_reference,
    parse_pod_spec_patch,
    secret_refs,
    strategic_merge,
)

__all__ = ["gc_pod", "reconcile_gc", "task_access"]

log = logging.getLogger(__name__)

GC_RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


def task_access(workflow: dict[str, Any], task: dict[str, Any], exec_spec: dict[str, Any] | None = None) -> tuple[str, dict[str, str], dict[str, str]]:
    """(service account, pod labels, pod annotations) the task's pod runs with (from its first artifact)."""
    from argosy.gc.strategy import pod_access, workflow_gc

    wf_gc = workflow_gc(workflow, exec_spec)
    for node in ((task.get("spec") or {}).get("artifactsByNode") or {}).values():
        for art in ((node or {}).get("artifacts") or {}).values():
            return pod_access(wf_gc, (art or {}).get("artifactGC"))
    return pod_access(wf_gc, None)


def gc_pod(
    task: dict[str, Any],
    workflow: dict[str, Any],
    settings: PodSettings,
    *,
    service_account: str = "",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    pod_spec_patch: str | None = None,
) -> dict[str, Any]:
    """The GC pod for ``task`` (pure). Owned by the task, so deleting the task deletes the pod."""
    from argosy.gc.tasks import GC_POD_LABEL, STRATEGY_ANNOTATION, pod_name_of

    tmeta = task.get("metadata") or {}
    name = pod_name_of(task)
    wf_name = str((workflow.get("metadata") or {}).get("name"))
    secrets = sorted(secret_refs(task.get("spec")))
    pod_labels = {**(labels or {}), LABEL_WORKFLOW: wf_name, LABEL_COMPONENT: "artifact-gc", LABEL_COMPLETED: "false",
                  GC_POD_LABEL: (tmeta.get("labels") or {}).get(GC_POD_LABEL, "")}
    if settings.instance_id:
        pod_labels[LABEL_INSTANCE] = settings.instance_id
    pod_annotations = {**(annotations or {}), STRATEGY_ANNOTATION: (tmeta.get("annotations") or {}).get(STRATEGY_ANNOTATION, "")}
    container: dict[str, Any] = {
        "name": "main",
        "image": settings.image,
        "command": ["argosy", "exec", "gc"],
        "env": [
            {"name": "ARGO_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "ARGO_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ],
        "resources": copy.deepcopy(GC_RESOURCES),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": _secret_volume_name(s), "mountPath": f"{SECRETS_DIR}/{s}", "readOnly": True} for s in secrets],
    }
    if settings.image_pull_policy:
        container["imagePullPolicy"] = settings.image_pull_policy
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": [{"name": _secret_volume_name(s), "secret": {"secretName": s}} for s in secrets],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 8737},
    }
    if service_account:
        spec["serviceAccountName"] = service_account
    patch = parse_pod_spec_patch(pod_spec_patch, "spec.artifactGC.podSpecPatch")
    if patch:
        spec = strategic_merge(spec, patch)
    owner = owner_reference(task) if (tmeta.get("uid")) else owner_reference(workflow)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": tmeta.get("namespace"), "labels": pod_labels,
                     "annotations": pod_annotations, "ownerReferences": [owner]},
        "spec": spec,
    }


def _exit_code(pod: dict[str, Any]) -> int | None:
    """The GC container's exit code once the pod has ended, else None."""
    phase = (pod.get("status") or {}).get("phase")
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated")
        if term is not None and phase in ("Succeeded", "Failed"):
            return int(term.get("exitCode") or 0)
    if phase == "Failed":
        return 2
    if phase == "Succeeded":
        return 0
    return None


def reconcile_gc(store: Any, api: KubeClient, name: str, namespace: str, settings: PodSettings, documents: Any = None) -> Any:
    """One GC pass for a workflow (idempotent): create tasks and pods, apply finished pods' results, release the finalizer.

    Returns a ``argosy.gc.GCReport``; ``report.waiting`` means GC pods are still running.
    ``documents`` resolves the repository when the run did not freeze one (with Argo's namespace fallback).
    """
    from argosy.gc import finalizers as fz
    from argosy.gc import lifecycle as lc
    from argosy.gc.strategy import gc_status, workflow_gc
    from argosy.gc.tasks import pod_name_of, repository_spec

    store = store.for_namespace(namespace)
    wf = store.get_workflow(name, namespace)
    report = lc.GCReport(name, namespace)
    if not fz.has_finalizer(wf):
        return report
    if (wf.get("status") or {}).get("phase") not in ("Succeeded", "Failed", "Error"):
        report.waiting = True  # a running (or terminating) workflow is collected once it has stopped
        return report
    exec_spec = lc.resolved_spec(store, wf)
    try:
        repo = repository_spec(documents or store, wf)
    except ArgosyError as exc:
        report.error = f"cannot resolve the artifact repository: {exc}"
        store.modify_workflow(name, lambda r: lc.upsert_condition(r.setdefault("status", {}), report.error or ""), namespace)
        store.add_event(name, "Warning", lc.EVENT_REASON, f"Artifact Garbage Collection failed, err:{report.error}", namespace=namespace)
        return report
    wf = lc.create_tasks(store, wf, repo, exec_spec, report)
    recouped = gc_status(wf).get("podsRecouped") or {}
    open_tasks = [t for t in lc.own_tasks(store, wf) if not recouped.get(pod_name_of(t))]
    pods_rt = resource_type("Pod")
    runs: dict[str, tuple[int, str]] = {}
    wf_gc = workflow_gc(wf, exec_spec)
    for task in open_tasks:
        pod_name = pod_name_of(task)
        try:
            pod: dict[str, Any] | None = api.get(pods_rt, pod_name, namespace)
        except NotFound:
            pod = None
        if pod is None:
            if lc.has_results(task):
                ok = lc.task_ok(task)
                runs[task["metadata"]["name"]] = (0 if ok else 1, f"pod {pod_name} (gone)")
                continue
            sa, labels, annotations = task_access(wf, task, exec_spec)
            body = gc_pod(task, wf, settings, service_account=sa, labels=labels, annotations=annotations,
                          pod_spec_patch=wf_gc.get("podSpecPatch"))
            try:
                api.create(pods_rt, body, namespace)
            except KubeApiError as exc:
                runs[task["metadata"]["name"]] = (lc.NOT_STARTED, f"pod {pod_name} could not be created: {exc}")
                continue
            report.tasks_run.append(task["metadata"]["name"])
            report.waiting = True
            continue
        code = _exit_code(pod)
        if code is None:
            report.waiting = True
            continue
        runs[task["metadata"]["name"]] = (code, f"kubectl logs -n {namespace} {pod_name}")
    if runs:
        names = set(runs)
        fresh = [t for t in lc.own_tasks(store, wf) if t["metadata"]["name"] in names]
        wf = lc.apply_results(store, wf, fresh, runs, report)
        for task in fresh:
            code = runs[task["metadata"]["name"]][0]
            if code == 0 and lc.task_ok(task):  # failed pods stay for their logs
                with contextlib.suppress(KubeApiError):
                    api.delete(pods_rt, pod_name_of(task), namespace, missing_ok=True)
    recouped = gc_status(wf).get("podsRecouped") or {}
    tasks_left = any(not recouped.get(pod_name_of(t)) for t in lc.own_tasks(store, wf))
    if lc.may_release(wf, repo, exec_spec, tasks_left):
        store.modify_workflow(name, fz.remove_finalizer, namespace)
        report.finalizer_removed = True
    return report
