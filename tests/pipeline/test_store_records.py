"""Events, the memoization cache and artifact GC tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import SpecError
from argosy.pipeline.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as s:
        yield s


# -- events -----------------------------------------------------------------------------------


def test_event_has_kubernetes_fields(store: Store) -> None:
    created = store.create_workflow({"metadata": {"name": "wf", "namespace": "argo"}, "spec": {}})
    event = store.add_event("wf", "Normal", "WorkflowRunning", "Workflow Running")
    assert store.list_events("wf") == [event]
    assert event["kind"] == "Event" and event["metadata"]["namespace"] == "argo"
    assert (event["type"], event["reason"], event["message"], event["count"]) == (
        "Normal",
        "WorkflowRunning",
        "Workflow Running",
        1,
    )
    assert event["firstTimestamp"] == event["lastTimestamp"]
    assert event["involvedObject"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "name": "wf",
        "namespace": "argo",
        "uid": created["metadata"]["uid"],
    }


def test_repeated_event_bumps_count(store: Store) -> None:
    store.create_workflow({"metadata": {"name": "wf"}, "spec": {}})
    for _ in range(3):
        store.add_event("wf", "Warning", "WorkflowNodeFailed", "Failed node wf.a")
    store.add_event("wf", "Warning", "WorkflowNodeFailed", "Failed node wf.b")
    events = store.list_events("wf")
    assert [(e["message"], e["count"]) for e in events] == [("Failed node wf.a", 3), ("Failed node wf.b", 1)]


def test_events_filters_and_involved_object(store: Store) -> None:
    store.add_event("one", "Normal", "R", "m", namespace="a")
    pod = {"kind": "Pod", "name": "two-123"}
    store.add_event("two", "Normal", "R", "m", namespace="b", involved_object=pod)
    store.add_event("two", "Normal", "R", "m", namespace="b")  # same text, other object: a separate event
    assert len(store.list_events()) == 3
    assert [e["involvedObject"]["kind"] for e in store.list_events("two")] == ["Pod", "Workflow"]
    assert store.list_events("two")[0]["involvedObject"] == {
        "kind": "Pod",
        "name": "two-123",
        "namespace": "b",
    }
    assert [e["metadata"]["namespace"] for e in store.list_events(namespace="a")] == ["a"]
    assert store.list_events("one", namespace="b") == []
    with pytest.raises(SpecError):
        store.add_event("one", "Error", "R", "m")  # type: ignore[arg-type]


# -- memoization cache ------------------------------------------------------------------------


def test_cache_hit_miss_and_overwrite(store: Store) -> None:
    assert store.cache_get("cache", "k") is None
    outputs: dict[str, Any] = {"parameters": [{"name": "out", "value": "42"}]}
    store.cache_put("cache", "k", "wf-123", outputs)
    hit = store.cache_get("cache", "k")
    assert hit is not None and hit["nodeId"] == "wf-123" and hit["outputs"] == outputs
    assert hit["creationTimestamp"].endswith("Z")
    assert store.cache_get("other-cache", "k") is None
    assert store.cache_get("cache", "k", namespace="argo") is None
    store.cache_put("cache", "k", "wf-456", {})
    again = store.cache_get("cache", "k")
    assert again is not None and (again["nodeId"], again["outputs"]) == ("wf-456", {})


def test_cache_entry_expires(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.cache_put("cache", "k", "n", {})
    now = store._now()
    monkeypatch.setattr(store, "_now", lambda: now + 3600)
    assert store.cache_get("cache", "k", max_age_seconds=7200) is not None
    assert store.cache_get("cache", "k", max_age_seconds=600) is None
    assert store.cache_get("cache", "k") is not None, "no max age: never expires"


# -- artifact GC tasks ------------------------------------------------------------------------


def gc_task(name: str, workflow: str, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowArtifactGCTask",
        "metadata": {
            "name": name,
            "namespace": "argo",
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": workflow}],
        },
        "spec": {"artifactsByNode": {"n1": {"artifacts": {"out": {"s3": {"key": "k"}}}}}},
        "status": status,
    }


def test_gc_tasks_roundtrip(store: Store) -> None:
    first = store.put_gc_task(gc_task("wf-a-gc-1", "wf-a"))
    assert first["metadata"]["resourceVersion"] == "1" and first["metadata"]["uid"]
    store.put_gc_task(gc_task("wf-a-gc-0", "wf-a"))
    store.put_gc_task(gc_task("wf-b-gc-0", "wf-b"))
    again = store.put_gc_task(gc_task("wf-a-gc-1", "wf-a", artifactResultsByNode={"n1": {}}))
    assert (
        again["metadata"]["resourceVersion"] == "2" and again["metadata"]["uid"] == first["metadata"]["uid"]
    )
    assert store.get_gc_task("wf-a-gc-1") == again
    assert [t["metadata"]["name"] for t in store.list_gc_tasks("wf-a")] == ["wf-a-gc-0", "wf-a-gc-1"]
    assert len(store.list_gc_tasks()) == 3
    assert store.delete_gc_task("wf-a-gc-1") and not store.delete_gc_task("wf-a-gc-1")
    assert store.get_gc_task("wf-a-gc-1") is None


def test_gc_tasks_survive_workflow_deletion(store: Store) -> None:
    store.create_workflow({"metadata": {"name": "wf-a"}, "spec": {}})
    labelled = {"metadata": {"name": "t", "labels": {"workflows.argoproj.io/workflow": "wf-a"}}, "spec": {}}
    store.put_gc_task(labelled)
    store.delete_workflow("wf-a")
    assert [t["metadata"]["name"] for t in store.list_gc_tasks("wf-a")] == ["t"]
    with pytest.raises(SpecError):
        store.put_gc_task({"metadata": {}})
