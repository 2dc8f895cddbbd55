"""Pure Kubernetes object functions: pods for nodes (every shape validated by the client's V1Pod model),
strategic merge / podSpecPatch, owner references, finalizer patches, selectors, pod GC and TTL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from kubernetes import client as kclient

from argosy.errors import ExecutorError
from argosy.pipeline.executors.base import PodRequest
from argosy.pipeline.kube.gcpods import gc_pod, task_access
from argosy.pipeline.kube.objects import (
    PodSettings,
    build_pod,
    finalizer_patch,
    input_artifact_dest,
    label_selector_matches,
    label_selector_string,
    owner_reference,
    parse_pod_spec_patch,
    pods_to_collect,
    secret_refs,
    set_owner_reference,
    strategic_merge,
    ttl_due,
)
from argosy.pipeline.model import Artifact, Template
from argosy.pipeline.names import pod_name

from .conftest import seed

WF = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
      "metadata": {"name": "wf", "namespace": "ns", "uid": "uid-1"}, "spec": {}}
REPO = {"s3": {"endpoint": "minio:9000", "bucket": "b", "insecure": True,
               "accessKeySecret": {"name": "minio", "key": "accesskey"}, "secretKeySecret": {"name": "minio", "key": "secretkey"}}}


def request(template: dict[str, Any], *, inputs: list[dict[str, Any]] | None = None, node: str = "wf.step",
            deadline: float | None = None, sa: str | None = None) -> PodRequest:
    tmpl = Template.model_validate(template)
    arts = [Artifact.model_validate(a) for a in inputs or []]
    return PodRequest(workflow_name="wf", workflow_uid="uid-1", namespace="ns", node_id="wf-1", node_name=node,
                      pod_name=pod_name("wf", node, tmpl.name or ""), template=tmpl, input_artifacts=arts,
                      output_key_prefix="wf/pod", deadline_seconds=deadline, service_account=sa)


def valid_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod as the API would take it: strict V1Pod (unknown fields and wrong types rejected)."""
    kclient.V1Pod.model_validate(pod)
    return pod


def containers(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]}


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


SETTINGS = PodSettings(image="argosy:1", repository=REPO)


def test_container_pod_shape() -> None:
    req = request({"name": "step", "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["echo hi"]},
                   "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p"}}]}})
    pod = valid_pod(build_pod(req, WF, SETTINGS, ["sh", "-c", "echo hi"]))
    meta = pod["metadata"]
    assert meta["name"] == req.pod_name and meta["name"].startswith("wf-step-")
    assert meta["labels"] == {"workflows.argoproj.io/workflow": "wf", "workflows.argoproj.io/completed": "false",
                              "workflows.argoproj.io/controller-instanceid": "argosy"}
    assert meta["annotations"] == {"workflows.argoproj.io/node-name": "wf.step", "workflows.argoproj.io/node-id": "wf-1"}
    assert meta["ownerReferences"] == [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": "wf", "uid": "uid-1",
                                        "controller": True, "blockOwnerDeletion": True}]
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert [c["name"] for c in spec["initContainers"]] == ["init"]
    assert [c["name"] for c in spec["containers"]] == ["wait", "main"]
    c = containers(pod)
    assert c["init"]["command"] == ["argosy", "exec", "init"] and c["wait"]["command"] == ["argosy", "exec", "wait"]
    assert c["main"]["command"] == ["/bin/sh", "/var/run/argo/argosy-shim", "main", "sh", "-c", "echo hi"]
    assert "args" not in c["main"]
    assert {"name": "var-run-argo", "mountPath": "/var/run/argo"} in c["main"]["volumeMounts"]
    tmpl = json.loads(env(c["wait"])["ARGO_TEMPLATE"])
    assert tmpl["outputs"]["parameters"][0]["name"] == "p"
    assert json.loads(env(c["wait"])["ARGOSY_ARTIFACT_REPOSITORY"]) == REPO
    # The repository's credentials are Secrets mounted into init and wait, never copied into the pod.
    assert {"name": "secret-minio", "secret": {"secretName": "minio"}} in spec["volumes"]
    assert {"name": "secret-minio", "mountPath": "/argo/secret/minio", "readOnly": True} in c["wait"]["volumeMounts"]


def test_script_inputs_and_scheduling_fields() -> None:
    wf = {**WF, "spec": {"nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "k", "operator": "Exists"}],
                         "imagePullSecrets": [{"name": "regcred"}], "serviceAccountName": "wf-sa",
                         "volumes": [{"name": "data", "emptyDir": {}}],
                         "podMetadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}}}}
    req = request({
        "name": "step", "script": {"image": "python:3", "command": ["python"], "source": "print(1)",
                                   "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                                   "resources": {"limits": {"memory": "1Gi", "cpu": "1"}}},
        "inputs": {"artifacts": [{"name": "in", "path": "/tmp/in"}, {"name": "vol", "path": "/data/in"}]},
        "nodeSelector": {"zone": "z1"}, "affinity": {"nodeAffinity": {}}, "activeDeadlineSeconds": 30,
        "metadata": {"labels": {"step": "s"}, "annotations": {"a": "b"}},
        "sidecars": [{"name": "nginx", "image": "nginx", "command": ["nginx"], "mirrorVolumeMounts": True}],
        "initContainers": [{"name": "prep", "image": "busybox", "command": ["true"]}],
    }, inputs=[{"name": "in", "path": "/tmp/in", "s3": {"key": "k1"}}, {"name": "vol", "path": "/data/in", "s3": {"key": "k2"}}],
        deadline=29.5)
    pod = valid_pod(build_pod(req, wf, SETTINGS, ["python", "/argo/staging/script"]))
    spec, c = pod["spec"], containers(pod)
    assert spec["nodeSelector"] == {"disk": "ssd", "zone": "z1"}
    assert spec["tolerations"] == [{"key": "k", "operator": "Exists"}] and spec["affinity"] == {"nodeAffinity": {}}
    assert spec["imagePullSecrets"] == [{"name": "regcred"}] and spec["serviceAccountName"] == "wf-sa"
    assert spec["activeDeadlineSeconds"] == 30
    assert pod["metadata"]["labels"]["team"] == "a" and pod["metadata"]["labels"]["step"] == "s"
    assert pod["metadata"]["annotations"]["note"] == "x" and pod["metadata"]["annotations"]["a"] == "b"
    assert [x["name"] for x in spec["initContainers"]] == ["init", "prep"]
    assert [x["name"] for x in spec["containers"]] == ["wait", "main", "nginx"]
    assert c["main"]["resources"] == {"limits": {"memory": "1Gi", "cpu": "1"}}
    assert "source" not in c["main"]
    assert {"name": "argo-staging", "mountPath": "/argo/staging"} in c["main"]["volumeMounts"]
    # /tmp/in comes through the input-artifacts emptyDir; /data/in is written by init into the user volume.
    assert {"name": "input-artifacts", "mountPath": "/tmp/in", "subPath": "in"} in c["main"]["volumeMounts"]
    assert {"name": "data", "mountPath": "/mainctrfs/data", "readOnly": False} in c["init"]["volumeMounts"]
    assert input_artifact_dest("/data/in", "vol", [{"name": "data", "mountPath": "/data"}]) == "/mainctrfs/data/in"
    assert input_artifact_dest("/tmp/in", "in", [{"name": "data", "mountPath": "/data"}]) == "/argo/inputs/artifacts/in"
    # Sidecars are wrapped so they stop after main; mirrorVolumeMounts copies main's user mounts.
    assert c["nginx"]["command"][:4] == ["/bin/sh", "/var/run/argo/argosy-shim", "sidecar", "nginx"]
    assert {"name": "data", "mountPath": "/data"} in c["nginx"]["volumeMounts"]
    assert {v["name"] for v in spec["volumes"]} >= {"var-run-argo", "argo-staging", "input-artifacts", "data", "secret-minio"}


def test_unknown_entrypoint_runs_unwrapped_and_resource_pod() -> None:
    pod = valid_pod(build_pod(request({"name": "s", "container": {"image": "docker/whalesay", "args": ["hi"]}}), WF, SETTINGS, None))
    main = containers(pod)["main"]
    assert "command" not in main and main["args"] == ["hi"]
    assert env(containers(pod)["wait"])["ARGOSY_MAIN_WRAPPED"] == "false"
    distroless = request({"name": "s", "metadata": {"annotations": {"argosy.io/shim": "false"}},
                          "container": {"image": "gcr.io/distroless/static", "command": ["/app"], "args": ["--x"]}})
    plain = containers(valid_pod(build_pod(distroless, WF, SETTINGS, ["/app", "--x"])))
    assert plain["main"]["command"] == ["/app"] and plain["main"]["args"] == ["--x"]
    assert env(plain["wait"])["ARGOSY_MAIN_WRAPPED"] == "false"
    res = valid_pod(build_pod(request({"name": "r", "resource": {"action": "create", "manifest": "kind: ConfigMap"}}), WF, SETTINGS))
    assert "initContainers" not in res["spec"]
    assert [(x["name"], x["command"]) for x in res["spec"]["containers"]] == [("main", ["argosy", "exec", "resource"])]
    with pytest.raises(ExecutorError, match="containerSet templates are not supported"):
        build_pod(request({"name": "c", "containerSet": {"containers": [{"name": "main", "image": "x"}]}}), WF, SETTINGS)


def test_seed_pod_spec_patch_on_init_container() -> None:
    """Seed 002 (hardwired-artifact): podSpecPatch raises the init container's resources."""
    doc = seed("002-hardwired-artifact")[0]
    tmpl = doc["spec"]["templates"][0]
    inputs = tmpl["inputs"]["artifacts"]
    pod = valid_pod(build_pod(request(tmpl, inputs=inputs), {**WF, "spec": doc["spec"]}, SETTINGS, ["sh", "-c", "ls -l /src /bin/kubectl"]))
    init = containers(pod)["init"]
    assert init["resources"]["requests"] == {"memory": "2Gi", "cpu": "300m"}
    assert init["command"] == ["argosy", "exec", "init"]  # merged by name, not replaced
    main = containers(pod)["main"]
    assert {"name": "input-artifacts", "mountPath": "/src", "subPath": "argo-source"} in main["volumeMounts"]
    assert {"name": "input-artifacts", "mountPath": "/bin/kubectl", "subPath": "kubectl"} in main["volumeMounts"]


def test_workflow_and_template_pod_spec_patch_templated_json() -> None:
    wf = {**WF, "spec": {"podSpecPatch": '{"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}'}}
    req = request({"name": "s", "container": {"image": "busybox", "command": ["true"]},
                   "podSpecPatch": "containers:\n- name: main\n  resources: {limits: {cpu: 500m}}\n"})
    pod = valid_pod(build_pod(req, wf, SETTINGS, ["true"]))
    main = containers(pod)["main"]
    assert main["resources"] == {"limits": {"cpu": "500m"}}
    assert {"name": "A", "value": "1"} in main["env"]
    with pytest.raises(ExecutorError, match="Error applying PodSpecPatch"):
        parse_pod_spec_patch("- a list")


@pytest.mark.parametrize(("base", "patch", "expected"), [
    pytest.param({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, {"a": 1, "b": {"c": 2, "d": 3}}, id="maps-merge"),
    pytest.param({"a": 1}, {"a": None}, {}, id="null-deletes"),
    pytest.param({"containers": [{"name": "x", "image": "1"}, {"name": "y"}]}, {"containers": [{"name": "x", "image": "2"}]},
                 {"containers": [{"name": "x", "image": "2"}, {"name": "y"}]}, id="merge-by-name"),
    pytest.param({"containers": [{"name": "x"}]}, {"containers": [{"name": "z"}]}, {"containers": [{"name": "x"}, {"name": "z"}]}, id="append-new"),
    pytest.param({"containers": [{"name": "x"}, {"name": "y"}]}, {"containers": [{"name": "x", "$patch": "delete"}]},
                 {"containers": [{"name": "y"}]}, id="delete-directive"),
    pytest.param({"tolerations": [{"key": "a"}]}, {"tolerations": [{"key": "b"}]}, {"tolerations": [{"key": "b"}]}, id="atomic-list-replaced"),
    pytest.param({"securityContext": {"runAsUser": 1, "fsGroup": 2}}, {"securityContext": {"$patch": "replace", "runAsUser": 3}},
                 {"securityContext": {"runAsUser": 3}}, id="replace-directive"),
    pytest.param({"volumeMounts": [{"mountPath": "/a", "name": "v"}]}, {"volumeMounts": [{"mountPath": "/a", "readOnly": True}]},
                 {"volumeMounts": [{"mountPath": "/a", "name": "v", "readOnly": True}]}, id="mounts-by-path"),
])
def test_strategic_merge(base: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    assert strategic_merge(base, patch) == expected


def test_owner_references() -> None:
    ref = owner_reference(WF)
    obj = set_owner_reference({"kind": "Job", "metadata": {"name": "j"}}, ref)
    assert obj["metadata"]["ownerReferences"] == [ref]
    assert set_owner_reference(obj, ref) == obj  # idempotent
    second = set_owner_reference(obj, {**ref, "uid": "other"})
    assert [r["controller"] for r in second["metadata"]["ownerReferences"]] == [True, False]  # one controller only


@pytest.mark.parametrize(("meta", "add", "remove", "expected"), [
    pytest.param({"resourceVersion": "5"}, ["f"], [], [{"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
                                                      {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}], id="add-first"),
    pytest.param({"resourceVersion": "5", "finalizers": ["f", "g"]}, [], ["f"],
                 [{"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
                  {"op": "replace", "path": "/metadata/finalizers", "value": ["g"]}], id="remove"),
    pytest.param({"finalizers": ["f"]}, ["f"], [], [], id="nothing-to-do"),
])
def test_finalizer_patch(meta: dict[str, Any], add: list[str], remove: list[str], expected: list[dict[str, Any]]) -> None:
    assert finalizer_patch({"metadata": meta}, add=add, remove=remove) == expected


@pytest.mark.parametrize(("selector", "labels", "match"), [
    pytest.param(None, {"a": "b"}, True, id="empty"),
    pytest.param({"matchLabels": {"a": "b"}}, {"a": "b"}, True, id="labels"),
    pytest.param({"matchLabels": {"a": "b"}}, {"a": "c"}, False, id="labels-differ"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", "y"]}]}, {"a": "y"}, True, id="in"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, {"a": "x"}, False, id="notin"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {}, False, id="exists"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}, True, id="does-not-exist"),
])
def test_label_selectors(selector: dict[str, Any] | None, labels: dict[str, str], match: bool) -> None:
    assert label_selector_matches(selector, labels) is match


def test_label_selector_string() -> None:
    sel = {"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [{"key": "c", "operator": "In", "values": ["x", "y"]},
                                                                     {"key": "d", "operator": "DoesNotExist"}]}
    assert label_selector_string(sel) == "a=1,b=2,c in (x,y),!d"


NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def _gc_wf(strategy: str, wf_phase: str = "Running", **gc: Any) -> dict[str, Any]:
    done = (NOW - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spec": {"podGC": {"strategy": strategy, **gc}},
            "status": {"phase": wf_phase, "finishedAt": done, "nodes": {
                "ok": {"id": "ok", "phase": "Succeeded", "finishedAt": done},
                "bad": {"id": "bad", "phase": "Failed", "finishedAt": done},
                "run": {"id": "run", "phase": "Running"}}}}


PODS = [{"metadata": {"name": n, "labels": {"keep": "yes"} if n == "bad" else {},
                      "annotations": {"workflows.argoproj.io/node-id": n}}} for n in ("ok", "bad", "run")]


@pytest.mark.parametrize(("wf", "expected"), [
    pytest.param(_gc_wf("OnPodCompletion"), ["ok", "bad"], id="on-pod-completion"),
    pytest.param(_gc_wf("OnPodSuccess"), ["ok"], id="on-pod-success"),
    pytest.param(_gc_wf("OnWorkflowCompletion"), [], id="workflow-running"),
    pytest.param(_gc_wf("OnWorkflowCompletion", "Failed"), ["ok", "bad", "run"], id="on-workflow-completion"),
    pytest.param(_gc_wf("OnWorkflowSuccess", "Failed"), [], id="on-workflow-success-failed"),
    pytest.param(_gc_wf("OnPodCompletion", deleteDelayDuration="1m"), [], id="delay-not-yet"),
    pytest.param(_gc_wf("OnPodCompletion", deleteDelayDuration="10s"), ["ok", "bad"], id="delay-passed"),
    pytest.param(_gc_wf("OnPodCompletion", labelSelector={"matchLabels": {"keep": "yes"}}), ["bad"], id="label-selector"),
    pytest.param({"spec": {}, "status": {}}, [], id="no-pod-gc"),
])
def test_pods_to_collect(wf: dict[str, Any], expected: list[str]) -> None:
    assert pods_to_collect(wf, PODS, NOW) == expected


@pytest.mark.parametrize(("ttl", "phase", "due"), [
    pytest.param({"secondsAfterCompletion": 10}, "Failed", True, id="completion"),
    pytest.param({"secondsAfterCompletion": 60}, "Failed", False, id="not-yet"),
    pytest.param({"secondsAfterSuccess": 60, "secondsAfterFailure": 5}, "Failed", True, id="failure-specific"),
    pytest.param({"secondsAfterSuccess": 5}, "Running", False, id="running"),
])
def test_ttl_due(ttl: dict[str, Any], phase: str, due: bool) -> None:
    wf = {"spec": {"ttlStrategy": ttl}, "status": {"phase": phase, "finishedAt": (NOW - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    assert ttl_due(wf, NOW) is due


def test_secret_refs() -> None:
    assert secret_refs({"s3": REPO["s3"], "git": {"usernameSecret": {"name": "git", "key": "u"}}}) == {"minio", "git"}


def test_gc_pods_for_seed_service_accounts() -> None:
    """Seed 002: workflow-level SA/podMetadata and a per-artifact override give two GC pods."""
    from argosy.gc.strategy import Strategy
    from argosy.gc.tasks import build_tasks, gc_pod_name

    doc = seed("002-artifact-gc-service-account")[0]
    wf = {**doc, "metadata": {"name": "artifact-gc-x", "namespace": "ns", "uid": "u1"},
          "status": {"nodes": {"n1": {"id": "n1", "type": "Pod", "name": "artifact-gc-x", "templateName": "main", "outputs": {"artifacts": [
              {"name": "temporary-artifact", "s3": {"key": "t.txt"},
               "artifactGC": doc["spec"]["templates"][0]["outputs"]["artifacts"][0]["artifactGC"]},
              {"name": "other", "s3": {"key": "o.txt"}}]}}}}}
    from argosy.gc.strategy import ArtifactRef

    refs = [ArtifactRef("artifact-gc-x", "ns", "u1", "n1", n, Strategy.ON_WORKFLOW_DELETION, "repo", k, False)
            for n, k in (("temporary-artifact", "t.txt"), ("other", "o.txt"))]
    tasks = build_tasks(wf, Strategy.ON_WORKFLOW_DELETION, refs, REPO)
    names = sorted(t["metadata"]["name"] for t in tasks)
    wf_sa = gc_pod_name("artifact-gc-x", Strategy.ON_WORKFLOW_DELETION, "my-sa", {},
                        {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/my-iam-role"})
    assert len(names) == 2 and f"{wf_sa}-0" in names
    for task in tasks:
        task["metadata"]["uid"] = "task-uid"
        sa, labels, annotations = task_access(wf, task)
        pod = valid_pod(gc_pod(task, wf, SETTINGS, service_account=sa, labels=labels, annotations=annotations,
                               pod_spec_patch="containers:\n- name: main\n  resources: {limits: {memory: 1Gi}}\n"))
        assert pod["metadata"]["name"] == task["metadata"]["name"].rsplit("-", 1)[0]
        assert pod["metadata"]["name"].startswith("artifact-gc-x-artgc-wfdel-")
        assert pod["spec"]["containers"][0]["command"] == ["argosy", "exec", "gc"]
        assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "WorkflowArtifactGCTask"
        assert pod["metadata"]["labels"]["workflows.argoproj.io/component"] == "artifact-gc"
        assert {"name": "secret-minio", "secret": {"secretName": "minio"}} in pod["spec"]["volumes"]
        if pod["metadata"]["name"] == wf_sa:
            assert pod["spec"]["serviceAccountName"] == "my-sa"
            assert pod["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("my-iam-role")
        else:
            assert pod["spec"]["serviceAccountName"] == "artifact-specific-sa"
            assert pod["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("artifact-specific-iam-role")
        assert pod["metadata"]["annotations"]["workflows.argoproj.io/artifact-gc-strategy"] == "OnWorkflowDeletion"


def test_every_pod_yaml_is_valid_yaml_roundtrip() -> None:
    pod = build_pod(request({"name": "s", "container": {"image": "busybox", "command": ["true"]}}), WF, SETTINGS, ["true"])
    assert yaml.safe_load(yaml.safe_dump(pod)) == pod
