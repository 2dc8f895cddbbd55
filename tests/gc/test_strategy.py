"""Which artifacts GC deletes and when: Argo's rules as tables over workflow dicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from argosy.gc import lifecycle
from argosy.gc.strategy import (
    ArtifactRef,
    SharingIndex,
    Strategy,
    artifact_refs,
    blocks_deletion,
    collectable,
    conflicts,
    declares_gc,
    effective_strategy,
    location,
    pending,
    sharing,
    strategies_ready,
)
from argosy.gc.tasks import build_tasks, gc_pod_name
from argosy.pipeline.names import fnv32a

C, D, N = Strategy.ON_WORKFLOW_COMPLETION, Strategy.ON_WORKFLOW_DELETION, Strategy.NEVER
LOCAL = {"local": {"path": "/repo"}}
S3REPO = {"s3": {"bucket": "art", "endpoint": "minio:9000"}}


def art(name: str, key: str, strategy: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "s3": {"key": key}, **extra}
    if strategy is not None:
        out["artifactGC"] = {"strategy": strategy}
    return out


def wf(nodes: dict[str, dict[str, Any]], strategy: str | None = None, **kw: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"templates": kw.pop("templates", [])}
    if strategy is not None:
        spec["artifactGC"] = {"strategy": strategy}
    spec.update(kw.pop("spec", {}))
    meta = {"name": "w", "namespace": "default", "uid": "u1", **kw.pop("meta", {})}
    return {"metadata": meta, "spec": spec, "status": {"nodes": nodes, **kw.pop("status", {})}}


def pod(*outputs: dict[str, Any], inputs: tuple[dict[str, Any], ...] = (), node_type: str = "Pod",
        template: str = "main") -> dict[str, Any]:
    return {"type": node_type, "templateName": template, "outputs": {"artifacts": list(outputs)},
            "inputs": {"artifacts": list(inputs)}}


@pytest.mark.parametrize(
    ("artifact", "workflow", "template", "expected"),
    [
        pytest.param({}, None, None, N, id="nothing-set-is-Never"),
        pytest.param({}, "", None, N, id="empty-workflow-strategy-is-unset"),
        pytest.param({}, "OnWorkflowDeletion", None, D, id="workflow-default"),
        pytest.param({"artifactGC": {"strategy": "Never"}}, "OnWorkflowDeletion", None, N, id="seed-keep-this"),
        pytest.param({"artifactGC": {"strategy": ""}}, "OnWorkflowCompletion", None, C, id="empty-artifact-falls-back"),
        pytest.param({"artifactGC": {"serviceAccountName": "sa"}}, "OnWorkflowDeletion", None, D, id="sa-only-override"),
        pytest.param({}, "OnWorkflowDeletion", {"artifactGC": {"strategy": "OnWorkflowCompletion"}}, C,
                     id="template-definition-when-status-lacks-it"),
        pytest.param({"artifactGC": {"strategy": "OnWorkflowCompletion"}}, None, None, C, id="artifact-only"),
    ],
)
def test_effective_strategy(artifact: dict[str, Any], workflow: str | None, template: dict[str, Any] | None,
                            expected: Strategy) -> None:
    assert effective_strategy(artifact, workflow, template) == expected


def _tmpl(*outs: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"name": "main", "container": {"image": "x"}, "outputs": {"artifacts": list(outs)}, **kw}


@pytest.mark.parametrize(
    ("doc", "finalizer"),
    [
        pytest.param(wf({}, templates=[_tmpl({"name": "a", "path": "/a"})]), False, id="no-gc-anywhere"),
        pytest.param(wf({}, "OnWorkflowDeletion", templates=[_tmpl({"name": "a", "path": "/a"})]), True,
                     id="workflow-level"),
        pytest.param(wf({}, templates=[_tmpl(art("a", "k", "OnWorkflowCompletion"))]), True, id="artifact-level"),
        pytest.param(wf({}, "OnWorkflowDeletion", templates=[_tmpl(art("a", "k", "Never"))]), False,
                     id="all-overridden-to-Never"),
        pytest.param(wf({}, "OnWorkflowCompletion", templates=[_tmpl()]), False, id="no-outputs-no-logs"),
        pytest.param(wf({}, "OnWorkflowCompletion", templates=[_tmpl()], spec={"archiveLogs": True}), True,
                     id="archived-logs-count-13421"),
        pytest.param(wf({}, status={"storedTemplates": {"x": _tmpl(art("a", "k", "OnWorkflowDeletion"))}}), True,
                     id="stored-templates"),
        pytest.param(wf({}, status={"storedWorkflowTemplateSpec": {
            "artifactGC": {"strategy": "OnWorkflowDeletion"}, "templates": [_tmpl({"name": "a"})]}}), True,
            id="workflow-template-spec"),
    ],
)
def test_on_submit_decides_finalizer_or_not_specified(doc: dict[str, Any], finalizer: bool) -> None:
    lifecycle.on_submit(doc)
    has = "workflows.argoproj.io/artifact-gc" in (doc["metadata"].get("finalizers") or [])
    assert has is finalizer
    assert doc["status"]["artifactGCStatus"].get("notSpecified", False) is (not finalizer)
    assert declares_gc(doc) is finalizer


def test_on_submit_resolves_workflow_template_ref_and_template_ref(store: Any) -> None:
    store.apply_document({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
                          "metadata": {"name": "lib"},
                          "spec": {"templates": [_tmpl(art("a", "k", "OnWorkflowDeletion"))]}})
    via_ref: dict[str, Any] = {"metadata": {"name": "a"}, "spec": {"workflowTemplateRef": {"name": "lib"}}}
    lifecycle.on_submit(via_ref, store)
    assert via_ref["metadata"]["finalizers"] == ["workflows.argoproj.io/artifact-gc"]
    steps: dict[str, Any] = {"metadata": {"name": "b"}, "spec": {"entrypoint": "s", "templates": [
        {"name": "s", "steps": [[{"name": "x", "templateRef": {"name": "lib", "template": "main"}}]]}]}}
    blind = copy.deepcopy(steps)
    lifecycle.on_submit(steps, store)
    assert steps["metadata"]["finalizers"] == ["workflows.argoproj.io/artifact-gc"]
    lifecycle.on_submit(blind)  # without a store the referenced template cannot be seen
    assert blind["status"]["artifactGCStatus"] == {"notSpecified": True}


def test_eligibility_only_saved_pod_outputs() -> None:
    doc = wf({
        "n1": pod(art("out", "w/p1/out.tgz"), art("main-logs", "w/p1/main.log"), inputs=(art("in", "shared/in"),)),
        "n2": pod(art("failed-step-out", "w/p2/o.tgz"), template="main"),
        "steps": pod(art("out", "w/p1/out.tgz"), node_type="Steps"),
        "dag": pod(art("out", "w/p1/out.tgz"), node_type="DAG"),
        "n3": pod({"name": "not-saved", "path": "/x"}),  # no location: never uploaded
        "n4": pod(art("gone", "w/p4/g.tgz", deleted=True)),
    }, "OnWorkflowCompletion")
    doc["status"]["nodes"]["n2"]["phase"] = "Failed"
    names = sorted((r.node_id, r.name) for r in collectable(artifact_refs(doc, LOCAL), C))
    assert names == [("n1", "main-logs"), ("n1", "out"), ("n2", "failed-step-out")]
    assert collectable(artifact_refs(doc, LOCAL), D) == []


def test_pending_ignores_never_deleted_and_released() -> None:
    doc = wf({"n": pod(art("a", "k1"), art("b", "k2", "Never"), art("c", "k3", deleted=True), art("d", "k4"))},
             "OnWorkflowDeletion", status={"artifactGCStatus": {"keptShared": {"n": {"d": "shared"}}}})
    assert [r.name for r in pending(artifact_refs(doc, LOCAL))] == ["a"]


@pytest.mark.parametrize(
    ("labels", "deleting", "processed", "ready"),
    [
        pytest.param({}, False, {}, [], id="running"),
        pytest.param({"workflows.argoproj.io/completed": "true"}, False, {}, [C], id="completed"),
        pytest.param({"workflows.argoproj.io/completed": "true"}, False, {"OnWorkflowCompletion": True}, [],
                     id="completed-processed"),
        pytest.param({}, True, {}, [C, D], id="deleting-runs-both"),
        pytest.param({"workflows.argoproj.io/completed": "true"}, True, {"OnWorkflowCompletion": True}, [D],
                     id="deleting-after-completion-gc"),
        pytest.param({}, True, {"OnWorkflowCompletion": True, "OnWorkflowDeletion": True}, [], id="all-done"),
    ],
)
def test_strategies_ready(labels: dict[str, str], deleting: bool, processed: dict[str, bool],
                          ready: list[Strategy]) -> None:
    meta: dict[str, Any] = {"labels": labels}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    doc = wf({}, meta=meta, status={"artifactGCStatus": {"strategiesProcessed": processed}})
    assert strategies_ready(doc) == ready


@pytest.mark.parametrize(
    ("artifact", "repo", "expected"),
    [
        pytest.param(art("a", "k.tgz"), S3REPO, ("s3://art@minio:9000", "k.tgz", False), id="key-only-s3"),
        pytest.param(art("a", "k.tgz"), LOCAL, ("local:/repo", "k.tgz", False), id="key-only-on-local-repo"),
        pytest.param({"name": "a", "s3": {"bucket": "other", "endpoint": "http://h:1/", "key": "/d/"}}, S3REPO,
                     ("s3://other@h:1", "d", True), id="full-location-trailing-slash-is-dir"),
        pytest.param({"name": "a", "local": {"key": "w/p/dir"}, "archive": {"none": {}}}, LOCAL,
                     ("local:/repo", "w/p/dir", True), id="archive-none-may-be-dir"),
        pytest.param({"name": "a", "path": "/x"}, LOCAL, None, id="no-location"),
        pytest.param({"name": "a", "s3": {"key": ""}}, S3REPO, None, id="empty-key"),
    ],
)
def test_location(artifact: dict[str, Any], repo: dict[str, Any], expected: Any) -> None:
    assert location(artifact, repo) == expected


def ref(key: str, *, wf_name: str = "a", is_dir: bool = False, repo: str = "r", strategy: Strategy = C,
        deleting: bool = False, is_input: bool = False, deleted: bool = False) -> ArtifactRef:
    return ArtifactRef(wf_name, "ns", f"uid-{wf_name}", "n", f"art-{key}", strategy, repo, key, is_dir,
                       deleted=deleted, is_input=is_input, workflow_deleting=deleting)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(ref("k"), ref("k", wf_name="b"), True, id="same-key"),
        pytest.param(ref("k"), ref("k", wf_name="b", repo="other"), False, id="other-repository"),
        pytest.param(ref("d", is_dir=True), ref("d/x", wf_name="b"), True, id="inside-my-directory"),
        pytest.param(ref("d/x"), ref("d", wf_name="b", is_dir=True), True, id="inside-their-directory"),
        pytest.param(ref("d", is_dir=True), ref("dx", wf_name="b"), False, id="prefix-is-a-directory"),
        pytest.param(ref("d"), ref("d/x", wf_name="b"), False, id="file-is-not-a-prefix"),
    ],
)
def test_conflicts(a: ArtifactRef, b: ArtifactRef, expected: bool) -> None:
    assert conflicts(a, b) is expected


@pytest.mark.parametrize(
    ("other", "blocks"),
    [
        pytest.param(ref("k", wf_name="b"), True, id="live-workflow"),
        pytest.param(ref("k", wf_name="b", deleted=True), False, id="already-deleted"),
        pytest.param(ref("k", wf_name="b", deleting=True), False, id="also-being-deleted-and-collected"),
        pytest.param(ref("k", wf_name="b", deleting=True, strategy=N), True, id="being-deleted-but-kept-Never"),
        pytest.param(ref("k", wf_name="b", is_input=True, strategy=N), True, id="input-of-live-workflow"),
    ],
)
def test_sharing(other: ArtifactRef, blocks: bool) -> None:
    target = ref("k")
    assert (sharing(target, [other]) is other) is blocks
    assert sharing(target, [other], batch=[other]) is None  # deleted together in one task


def _linear_sharing(target: ArtifactRef, others: list[ArtifactRef], batch: list[ArtifactRef]) -> ArtifactRef | None:
    """The original quadratic definition, kept as the oracle for the index."""
    skip = {r.ident for r in batch} | {target.ident}
    return next((o for o in others if o.ident not in skip and blocks_deletion(o) and conflicts(target, o)), None)


def test_sharing_index_agrees_with_a_linear_scan() -> None:
    import random

    rnd = random.Random(9)
    keys = ["", "/x", "a", "a/b", "a/b/c", "a/bc", "a//b", "b", "b/a", "ab", "a/b/c/d"]
    refs = [
        ref(rnd.choice(keys), wf_name=f"w{i % 7}", is_dir=rnd.random() < 0.4, repo=rnd.choice("rs"),
            deleted=rnd.random() < 0.1, deleting=rnd.random() < 0.1,
            strategy=rnd.choice([C, N]), is_input=rnd.random() < 0.1)
        for i in range(300)
    ]
    for i, r in enumerate(refs):  # distinct idents apart from deliberate duplicates
        object.__setattr__(r, "node_id", f"n{i % 150}")
    batch = [r for r in refs if r.workflow == "w3"]
    index = SharingIndex(refs, batch)
    for target in refs:
        assert index.holder(target) is _linear_sharing(target, refs, batch)
        assert sharing(target, refs) is _linear_sharing(target, refs, [])


def test_gc_pod_name_hashes_service_account_and_sorted_metadata() -> None:
    assert gc_pod_name("wf", C) == "wf-artgc-wfcomp-2166136261"
    assert gc_pod_name("wf", D, "sa", {"b": "2", "a": "1"}, {"z": "9"}) == f"wf-artgc-wfdel-{fnv32a('saa1b2z9')}"
    assert gc_pod_name("wf", D, "sa", {"a": "1", "b": "2"}, {"z": "9"}) == gc_pod_name("wf", D, "sa", {"b": "2", "a": "1"}, {"z": "9"})


def test_seed_service_accounts_give_one_task_per_access_identity() -> None:
    """The blog's second example: the artifact-level SA gets its own task, named as Argo names its pod."""
    role = "eks.amazonaws.com/role-arn"
    tmp = art("temporary-artifact", "t-u1.txt")
    tmp["artifactGC"] = {"serviceAccountName": "artifact-specific-sa",
                         "podMetadata": {"annotations": {role: "arn:aws:iam::111122223333:role/artifact-specific-iam-role"}}}
    logs = art("main-logs", "w/w/main.log")
    doc = wf({"w": pod(tmp, logs, art("keep-this", "k-u1.txt", "Never"))}, "OnWorkflowDeletion")
    doc["spec"]["artifactGC"].update(serviceAccountName="my-sa",
                                     podMetadata={"annotations": {role: "arn:aws:iam::111122223333:role/my-iam-role"}})
    tasks = build_tasks(doc, D, collectable(artifact_refs(doc, S3REPO), D), S3REPO)
    by_name = {t["metadata"]["name"]: sorted(t["spec"]["artifactsByNode"]["w"]["artifacts"]) for t in tasks}
    specific = fnv32a(f"artifact-specific-sa{role}arn:aws:iam::111122223333:role/artifact-specific-iam-role")
    general = fnv32a(f"my-sa{role}arn:aws:iam::111122223333:role/my-iam-role")
    assert by_name == {f"w-artgc-wfdel-{specific}-0": ["temporary-artifact"], f"w-artgc-wfdel-{general}-0": ["main-logs"]}
    task = tasks[0]
    assert task["spec"]["artifactsByNode"]["w"]["archiveLocation"] == S3REPO
    assert task["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert task["metadata"]["labels"]["workflows.argoproj.io/artifact-gc-pod"] == str(
        fnv32a(task["metadata"]["name"][:-2]))
