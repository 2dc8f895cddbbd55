"""Artifact GC end to end against a real S3 server process (moto over HTTP), with real workflow runs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from argosy.gc import lifecycle
from argosy.gc.finalizers import ARTIFACT_GC_FINALIZER
from argosy.pipeline.store import Store

from .conftest import exists, key_of, outputs, run, s3_objects, seed, use_s3

pytestmark = pytest.mark.s3


def with_strategy(doc: dict[str, Any], strategy: str, **gc: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"]["artifactGC"].update(strategy=strategy, **gc)
    return out


def test_seed_on_workflow_deletion(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    name = run(store, seed("002-artifact-gc"))
    assert set(s3_objects(s3_server, s3_bucket)) == {"temporary-artifact.txt", "keep-this.txt"}
    assert lifecycle.request_delete(store, name) == "deleted"
    assert set(s3_objects(s3_server, s3_bucket)) == {"keep-this.txt"}
    assert not exists(store, name)


def test_seed_on_workflow_completion(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    name = run(store, with_strategy(seed("002-artifact-gc"), "OnWorkflowCompletion"))
    assert set(s3_objects(s3_server, s3_bucket)) == {"keep-this.txt"}
    assert outputs(store, name)["temporary-artifact"]["deleted"] is True
    assert "finalizers" not in store.get_workflow(name)["metadata"]


def test_directory_artifact_and_logs_under_the_key_format_are_deleted_completely(
        store: Store, s3_server: Any, s3_bucket: str) -> None:
    """Argo only issues one DeleteObject for an ``archive: none`` directory (#14565); every object must go."""
    use_s3(store, s3_server, s3_bucket, key_format="runs/{{workflow.name}}/{{pod.name}}")
    doc: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "tree-"},
        "spec": {"entrypoint": "main", "archiveLogs": True, "artifactGC": {"strategy": "OnWorkflowDeletion"},
                 "templates": [{"name": "main", "container": {
                     "image": "alpine", "command": ["sh", "-c"],
                     "args": ["mkdir -p /tmp/t/a/b /tmp/t/empty && for i in 1 2 3; do echo $i > /tmp/t/a/b/f$i; done"
                              " && echo top > /tmp/t/top.txt"]},
                     "outputs": {"artifacts": [{"name": "tree", "path": "/tmp/t", "archive": {"none": {}}}]}}]},
    }
    name = run(store, doc)
    prefix = key_of(outputs(store, name)["tree"])
    before = s3_objects(s3_server, s3_bucket)
    assert len([k for k in before if k.startswith(prefix + "/")]) >= 4
    assert any(k.endswith("main.log") for k in before)
    assert lifecycle.request_delete(store, name) == "deleted"
    assert s3_objects(s3_server, s3_bucket) == {}


def test_object_deleted_out_of_band_counts_as_deleted(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    name = run(store, seed("002-artifact-gc"))
    s3_server.client().delete_object(Bucket=s3_bucket, Key="temporary-artifact.txt")
    assert lifecycle.request_delete(store, name) == "deleted"
    assert set(s3_objects(s3_server, s3_bucket)) == {"keep-this.txt"}


def _run_then_lose_the_bucket(store: Store, s3_server: Any, doc: dict[str, Any]) -> tuple[str, str]:
    bucket = s3_server.new_bucket("argosy-gone")
    use_s3(store, s3_server, bucket)
    name = run(store, doc)
    s3_server.remove_bucket(bucket)  # the repository disappears before deletion GC
    return name, bucket


def test_missing_bucket_blocks_deletion_until_forced(store: Store, s3_server: Any) -> None:
    name, bucket = _run_then_lose_the_bucket(store, s3_server, seed("002-artifact-gc"))
    outcome = lifecycle.request_delete(store, name)
    assert outcome.startswith("deletion blocked")
    assert f"bucket '{bucket}' does not exist" in outcome
    wf = store.get_workflow(name)
    assert wf["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER] and wf["metadata"]["deletionTimestamp"]
    assert [c["type"] for c in wf["status"]["conditions"]] == ["PodRunning", "Completed", "ArtifactGCError"]  # Argo's order
    cond = wf["status"]["conditions"][-1]
    assert cond["status"] == "True"
    assert cond["message"] == (f"bucket '{bucket}' does not exist at endpoint {s3_server.url} "
                               f"(artifactGCTask: {name}-artgc-wfdel-2166136261-0)")
    [event] = [e for e in store.list_events(name) if e["reason"].startswith("ArtifactGC")]
    assert (event["type"], event["reason"]) == ("Warning", "ArtifactGCFailed")
    assert event["message"] == ("Artifact Garbage Collection failed for strategy OnWorkflowDeletion, "
                                f"err:bucket '{bucket}' does not exist at endpoint {s3_server.url}")
    assert lifecycle.request_delete(store, name, force=True) == "deleted"
    assert not exists(store, name)
    assert store.list_gc_tasks() == []


def test_force_finalizer_removal_deletes_despite_the_failure(store: Store, s3_server: Any) -> None:
    doc = with_strategy(seed("002-artifact-gc"), "OnWorkflowDeletion", forceFinalizerRemoval=True)
    name, _ = _run_then_lose_the_bucket(store, s3_server, doc)
    assert store.get_workflow(name)["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER]
    assert lifecycle.request_delete(store, name) == "deleted"
    assert not exists(store, name)


def test_uid_keys_keep_concurrent_workflows_apart(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    doc = seed("002-artifact-gc-service-account")
    first, second = run(store, doc), run(store, doc)
    uid1, uid2 = (store.get_workflow(n)["metadata"]["uid"] for n in (first, second))
    assert lifecycle.request_delete(store, first) == "deleted"
    assert set(s3_objects(s3_server, s3_bucket)) == {
        f"keep-this-{uid1}.txt", f"keep-this-{uid2}.txt", f"temporary-artifact-{uid2}.txt"}


def test_shared_key_is_kept_for_the_other_live_workflow(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    first, second = run(store, seed("002-artifact-gc")), run(store, seed("002-artifact-gc"))
    outcome = lifecycle.request_delete(store, first)
    assert outcome.startswith("deleted (objects still in use were kept:")
    assert f"key 'temporary-artifact.txt' is also used by workflow '{second}'" in outcome
    assert set(s3_objects(s3_server, s3_bucket)) == {"temporary-artifact.txt", "keep-this.txt"}
    assert lifecycle.request_delete(store, second) == "deleted"
    assert set(s3_objects(s3_server, s3_bucket)) == {"keep-this.txt"}
