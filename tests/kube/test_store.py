"""The cluster-backed store mirrors the local Store's API on Workflow, ConfigMap, Secret, Event, Lease,
WorkflowTemplate and WorkflowArtifactGCTask objects."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import pytest
import yaml

from argosy.errors import StateError, WorkflowNotFound
from argosy.pipeline.engine.runner import merge_workflow_template
from argosy.pipeline.kube.controller import _Documents, workflow_setup
from argosy.pipeline.kube.objects import PodSettings
from argosy.pipeline.kube.store import ConflictError, KubeStore

from .conftest import seed

WF = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "s-"},
      "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}}


def test_workflows_crud(store: KubeStore, kube: Any) -> None:
    first = store.create_workflow(WF)
    name = first["metadata"]["name"]
    assert first["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == "argosy"
    with pytest.raises(StateError, match="already exists"):
        store.create_workflow({**WF, "metadata": {"name": name}})
    with pytest.raises(WorkflowNotFound):
        store.get_workflow("missing")
    # creationTimestamp has one-second resolution: make the first one older (listings are newest first)
    kube.server.objects[("argoproj.io/workflows", "default", name)]["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"
    second = store.create_workflow({**WF, "metadata": {"name": "other"}})
    kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "foreign"}, "spec": {}})
    listed = [w["metadata"]["name"] for w in store.list_workflows()]
    assert listed == ["other", name]  # not the workflow without the instance label
    assert store.get_workflow("@latest")["metadata"]["name"] == "other"

    def fill(rec: dict[str, Any]) -> None:
        rec["status"] = {"phase": "Succeeded", "nodes": {"n": {"id": "n"}}}

    store.modify_workflow("other", fill)
    assert [w["metadata"]["name"] for w in store.list_workflows(phases=["Succeeded"])] == ["other"]
    assert "nodes" not in store.list_workflows(prefix="oth")[0]["status"]
    assert "nodes" in store.list_workflows(prefix="oth", full=True)[0]["status"]
    stale = dict(second)
    store.modify_workflow("other", lambda r: r.setdefault("metadata", {}).setdefault("labels", {}).__setitem__("x", "1"))
    with pytest.raises(ConflictError):
        store.update_workflow(stale)
    store.delete_workflow("other")
    with pytest.raises(WorkflowNotFound):
        store.get_workflow("other")


def test_modify_retries_conflicts(store: KubeStore) -> None:
    name = store.create_workflow(WF)["metadata"]["name"]

    def bump(rec: dict[str, Any]) -> None:
        labels = rec["metadata"].setdefault("labels", {})
        labels["n"] = str(int(labels.get("n", "0")) + 1)

    threads = [threading.Thread(target=lambda: [store.modify_workflow(name, bump) for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_workflow(name)["metadata"]["labels"]["n"] == "20"


def test_documents_events_cache_tasks_and_logs(store: Any, kube: Any) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    assert store.apply_document(cm) == "created"
    assert store.apply_document(cm) == "unchanged"
    assert store.apply_document({**cm, "data": {"a": "2"}}) == "configured"
    assert store.get_document("ConfigMap", "c")["data"] == {"a": "2"}
    store.apply_document({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "data": {"k": base64.b64encode(b"v").decode()}})
    assert store.secret_value("s", "k") == "v"
    tmpl = seed("004-workflow-template-submittable")[0]
    assert store.apply_document(tmpl) == "created"
    assert [d["metadata"]["name"] for d in store.list_documents("WorkflowTemplate")] == ["workflow-template-submittable"]
    merged = merge_workflow_template(seed("004-workflow-template-ref-entrypoint")[0] | {"metadata": {"namespace": "default"}}, store)
    assert merged["spec"]["templates"][0]["name"] == "whalesay-template"
    assert store.delete_document("WorkflowTemplate", "workflow-template-submittable") is True
    assert store.delete_document("WorkflowTemplate", "workflow-template-submittable") is False

    name = store.create_workflow(WF)["metadata"]["name"]
    store.add_event(name, "Warning", "ArtifactGCFailed", "boom")
    events = store.list_events(name)
    assert [(e["type"], e["reason"], e["message"], e["involvedObject"]["kind"]) for e in events] == [("Warning", "ArtifactGCFailed", "boom", "Workflow")]

    store.cache_put("memo", "key1", "node-1", {"result": "42"})
    assert store.cache_get("memo", "key1")["outputs"] == {"result": "42"}
    assert store.cache_get("memo", "key1", max_age_seconds=-1) is None
    assert store.get_document("ConfigMap", "memo")["metadata"]["labels"] == {"workflows.argoproj.io/configmap-type": "Cache"}

    task: dict[str, Any] = {"metadata": {"name": f"{name}-artgc-wfcomp-1-0", "labels": {"workflows.argoproj.io/workflow": name}},
            "spec": {"artifactsByNode": {}}}
    store.put_gc_task(task)
    store.put_gc_task({**task, "status": {"artifactResultsByNode": {"n": {"artifactResults": {}}}}})
    assert store.get_gc_task(task["metadata"]["name"])["status"] == {"artifactResultsByNode": {"n": {"artifactResults": {}}}}
    assert [t["metadata"]["name"] for t in store.list_gc_tasks(name)] == [task["metadata"]["name"]]
    assert store.delete_gc_task(task["metadata"]["name"]) is True

    assert not store.log_path(name, "no-such-pod").exists()


def test_lease_info_follows_the_controller_lease(store: KubeStore, kube: Any) -> None:
    assert store.lease_info("wf") is None
    now = time.time()
    from datetime import UTC, datetime

    def stamp(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    kube.apply({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "argosy-controller"},
                "spec": {"holderIdentity": "ctl-1", "leaseDurationSeconds": 15, "renewTime": stamp(now), "acquireTime": stamp(now)}})
    info = store.lease_info("wf")
    assert info is not None and info.alive and info.owner == "ctl-1"
    kube.apply({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "argosy-controller"},
                "spec": {"holderIdentity": "ctl-1", "leaseDurationSeconds": 15, "renewTime": stamp(now - 60)}})
    assert store.lease_info("wf").alive is False  # type: ignore[union-attr]
    assert store.acquire_lease("wf") and store.acquire_lease("wf")
    assert not store.acquire_lease("wf", owner="someone-else")
    assert store.release_lease("wf")


def test_seed_003_controller_configmap_gives_the_repository(store: KubeStore, kube: Any) -> None:
    """Seed 003's workflow-controller-configmap (S3) in the controller's namespace serves workflows elsewhere."""
    from .test_e2e import _seed_yaml

    cm = _seed_yaml("003_41b264c4db066fc9.txt", "workflow-controller-configmap")[0]
    config = yaml.safe_load(cm["data"]["config"].replace("S3 버킷명", "bucket-a").replace("S3 내부 경로", "'{{workflow.name}}/x'"))
    cm["data"]["config"] = yaml.safe_dump(config)
    kube.apply(cm)  # namespace argo
    wf = store.create_workflow(WF)
    docs = _Documents(store, "default", "argo")
    assert docs.get_document("ConfigMap", "workflow-controller-configmap") is not None
    _config, settings, key_format = workflow_setup(store, wf, PodSettings(), "argo")
    assert settings.repository == {"s3": {"bucket": "bucket-a", "keyFormat": "{{workflow.name}}/x", "endpoint": "s3.amazonaws.com"}}
    assert key_format == "{{workflow.name}}/x"


def test_a_repeated_event_is_counted_not_duplicated(store: KubeStore, kube: Any) -> None:
    """As client-go's EventRecorder: the same Warning again bumps ``count`` (a refused GC pod, retried at every resync)."""
    store.create_workflow({"metadata": {"name": "ev"}, "spec": {"entrypoint": "m", "templates": [{"name": "m", "suspend": {}}]}})
    for _ in range(3):
        store.add_event("ev", "Warning", "ArtifactGCFailed", "pod x could not be created: forbidden")
    store.add_event("ev", "Warning", "ArtifactGCFailed", "another reason")
    store.add_event("ev", "Normal", "WorkflowRunning", "Workflow Running")
    events = store.list_events("ev")
    assert sorted((e["reason"], e["message"], e["count"]) for e in events) == [
        ("ArtifactGCFailed", "another reason", 1),
        ("ArtifactGCFailed", "pod x could not be created: forbidden", 3),
        ("WorkflowRunning", "Workflow Running", 1),
    ]
    assert len(kube.list("v1", "Event", "default")) == 3
