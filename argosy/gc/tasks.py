"""WorkflowArtifactGCTask objects in Argo's shape, and where a workflow's artifacts live.

A task lists what one GC "pod" must delete (``spec.artifactsByNode[node] = {archiveLocation,
artifacts{name: Artifact}}``) and receives per-artifact results
(``status.artifactResultsByNode[node].artifactResults[name] = {name, success, error}``). Argo
starts one pod per (strategy, service account + pod metadata); its name is
``<wf>-artgc-<wfcomp|wfdel>-<fnv32a(SA + sorted labels + sorted annotations)>`` and the task is
that name plus ``-0``. Keeping the same names lets ``kubectl get wfat`` users recognise them.

Argosy adds to a result an optional ``kept`` reason and ``keptFor: {workflow, namespace}`` when
the object was deliberately not deleted because another live workflow still uses it (the result
is then a success).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from argosy.gc.strategy import ArtifactRef, Strategy, execution_spec, pod_access, workflow_gc
from argosy.pipeline.names import fnv32a

__all__ = [
    "GC_POD_LABEL",
    "STRATEGY_ANNOTATION",
    "WORKFLOW_LABEL",
    "build_tasks",
    "gc_pod_name",
    "owner",
    "pod_name_of",
    "repository_spec",
    "task_name",
    "task_results",
    "task_strategy",
]

GC_POD_LABEL = "workflows.argoproj.io/artifact-gc-pod"
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
STRATEGY_ANNOTATION = "workflows.argoproj.io/artifact-gc-strategy"
API_VERSION = "argoproj.io/v1alpha1"


def gc_pod_name(
    workflow_name: str, strategy: Strategy, service_account: str = "",
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
) -> str:
    """Argo's ``artGCPodName``: one name per strategy and access identity (2166136261 when none)."""
    text = service_account
    for mapping in (labels or {}, annotations or {}):
        text += "".join(f"{k}{mapping[k]}" for k in sorted(mapping))
    return f"{workflow_name}-artgc-{strategy.abbreviation}-{fnv32a(text)}"


def task_name(pod_name: str, index: int = 0) -> str:
    return f"{pod_name}-{index}"


def pod_name_of(task: dict[str, Any]) -> str:
    """The GC pod (Argosy: worker run) a task belongs to: its name without the ``-<index>`` suffix."""
    return str((task.get("metadata") or {}).get("name") or "").rsplit("-", 1)[0]


def owner(task: dict[str, Any]) -> tuple[str, str]:
    """(workflow name, workflow uid) from the task's controller owner reference."""
    meta = task.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "Workflow":
            return str(ref.get("name") or ""), str(ref.get("uid") or "")
    return str((meta.get("labels") or {}).get(WORKFLOW_LABEL) or ""), ""


def task_strategy(task: dict[str, Any]) -> Strategy:
    value = ((task.get("metadata") or {}).get("annotations") or {}).get(STRATEGY_ANNOTATION)
    return Strategy(value) if value in {s.value for s in Strategy} else Strategy.ON_WORKFLOW_COMPLETION


def task_results(task: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(node id, artifact name, result) for every result the worker wrote."""
    by_node = ((task.get("status") or {}).get("artifactResultsByNode")) or {}
    for node_id, node in by_node.items():
        for name, result in ((node or {}).get("artifactResults") or {}).items():
            if isinstance(result, dict):
                yield str(node_id), str(name), result


def _find_artifact(wf: dict[str, Any], node_id: str, name: str) -> dict[str, Any] | None:
    node = ((wf.get("status") or {}).get("nodes") or {}).get(node_id) or {}
    for art in ((node.get("outputs") or {}).get("artifacts")) or []:
        if isinstance(art, dict) and art.get("name") == name:
            return art
    return None


def build_tasks(
    wf: dict[str, Any],
    strategy: Strategy,
    refs: Iterable[ArtifactRef],
    archive_location: dict[str, Any],
    exec_spec: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One task per access identity for ``refs`` (all of ``strategy``), as Argo groups its GC pods."""
    meta = wf.get("metadata") or {}
    name = str(meta.get("name") or "")
    spec = exec_spec if exec_spec is not None else execution_spec(wf)
    wf_gc = workflow_gc(wf, spec)
    tasks: dict[str, dict[str, Any]] = {}
    for ref in refs:
        art = _find_artifact(wf, ref.node_id, ref.name)
        if art is None:
            continue
        pod = gc_pod_name(name, strategy, *pod_access(wf_gc, art.get("artifactGC")))
        task = tasks.get(pod)
        if task is None:
            task = tasks[pod] = {
                "apiVersion": API_VERSION,
                "kind": "WorkflowArtifactGCTask",
                "metadata": {
                    "name": task_name(pod),
                    "namespace": meta.get("namespace") or "default",
                    "labels": {GC_POD_LABEL: str(fnv32a(pod)), WORKFLOW_LABEL: name},
                    "annotations": {STRATEGY_ANNOTATION: strategy.value},
                    "ownerReferences": [{
                        "apiVersion": API_VERSION, "kind": "Workflow", "name": name,
                        "uid": meta.get("uid") or "", "controller": True, "blockOwnerDeletion": True,
                    }],
                },
                "spec": {"artifactsByNode": {}},
            }
        by_node = task["spec"]["artifactsByNode"]
        node = by_node.setdefault(ref.node_id, {"archiveLocation": copy.deepcopy(archive_location), "artifacts": {}})
        node["artifacts"][ref.name] = copy.deepcopy(art)
    return [tasks[k] for k in sorted(tasks)]


def repository_spec(store: Any, wf: dict[str, Any]) -> dict[str, Any]:
    """The repository the workflow's key-only artifacts live in (Argo's ``ArtifactRepository`` shape).

    ``status.artifactRepositoryRef.artifactRepository`` (frozen when the run started) wins; else it
    is resolved as the engine does: ``spec.artifactRepositoryRef``, ConfigMaps, the default folder.
    """
    frozen = (((wf.get("status") or {}).get("artifactRepositoryRef")) or {}).get("artifactRepository")
    if isinstance(frozen, dict) and frozen:
        return frozen
    from argosy.pipeline.artifacts import resolve_repository
    from argosy.pipeline.config import load_config

    ns = (wf.get("metadata") or {}).get("namespace")
    spec = execution_spec(wf)
    ref = (wf.get("spec") or {}).get("artifactRepositoryRef") or spec.get("artifactRepositoryRef")
    repo = resolve_repository(store, load_config(store, ns), ns, ref or None)
    return dict(repo.spec)
