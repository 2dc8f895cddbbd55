"""The fake API server answers the official client (typed APIs included) as a real one would."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client as kclient
from kubernetes import watch as kwatch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from argosy.pipeline.kube.client import Forbidden, Gone, Invalid, KubeClient, NotFound, resource_type

CM = {"apiVersion": "v1", "kind": "ConfigMap"}


def typed(kube: Any) -> kclient.ApiClient:
    return kube.client().api_client


def test_version_and_discovery(kube: Any) -> None:
    info = kclient.VersionApi(typed(kube)).get_code()  # strict model: every field must be present
    assert info.git_version.startswith("v1.20")
    dyn = DynamicClient(typed(kube))
    jobs = dyn.resources.get(api_version="batch/v1", kind="Job")
    assert jobs.namespaced and jobs.name == "jobs"
    wfs = dyn.resources.get(api_version="argoproj.io/v1alpha1", kind="Workflow")
    assert wfs.name == "workflows"


def test_create_get_list_errors(kube: Any) -> None:
    api: Any = kclient.CustomObjectsApi(typed(kube))
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "w-"}, "spec": {}}
    created = api.create_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", body)
    assert isinstance(created, dict) and created["metadata"]["name"].startswith("w-")  # a 201, not None
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"] and created["metadata"]["creationTimestamp"]
    with pytest.raises(ApiException) as conflict:
        api.create_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows",
                                            {**body, "metadata": {"name": created["metadata"]["name"]}})
    assert conflict.value.status == 409
    core: Any = kclient.CoreV1Api(typed(kube))
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", "default")
    assert missing.value.status == 404 and "NotFound" in str(missing.value.body)
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map("default", {**CM, "metadata": {}})
    assert invalid.value.status == 422
    pods = core.list_namespaced_pod("default")
    assert pods.kind == "PodList" and pods.items == []
    with pytest.raises(Invalid, match="strict decoding error"):
        kube.client().create(resource_type("Pod"), {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                                     "spec": {"containers": [{"name": "c", "image": "x", "bogus": 1}]}})


def test_selectors(kube: Any) -> None:
    core: Any = kclient.CoreV1Api(typed(kube))
    for name, labels in (("a", {"app": "x", "tier": "1"}), ("b", {"app": "y"}), ("c", {})):
        core.create_namespaced_config_map("default", {**CM, "metadata": {"name": name, "labels": labels}})

    def names(**kw: Any) -> list[str]:
        return sorted(i.metadata.name for i in core.list_namespaced_config_map("default", **kw).items)

    assert names(label_selector="app=x") == ["a"]
    assert names(label_selector="app in (x,y)") == ["a", "b"]
    assert names(label_selector="app notin (x)") == ["b", "c"]
    assert names(label_selector="!app") == ["c"]
    assert names(label_selector="app,tier!=2") == ["a", "b"]  # != also matches a missing label
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b") == ["a", "c"]


def test_watch_resource_version_timeout_and_gone(kube: Any) -> None:
    core: Any = kclient.CoreV1Api(typed(kube))
    first = core.create_namespaced_config_map("default", {**CM, "metadata": {"name": "w1", "labels": {"w": "1"}}})
    rv = first.metadata.resource_version
    core.patch_namespaced_config_map("w1", "default", {"data": {"k": "v"}})
    core.patch_namespaced_config_map("w1", "default", {"metadata": {"labels": {"w": "2"}}})  # leaves the selector
    events = [(e["type"], e["object"].metadata.name) for e in
              kwatch.Watch().stream(core.list_namespaced_config_map, "default", label_selector="w=1", resource_version=rv, timeout_seconds=1)]
    assert events == [("MODIFIED", "w1"), ("DELETED", "w1")]
    # without a resourceVersion the watch starts with the current objects
    initial = [(e["type"], e["object"].metadata.name) for e in
               kwatch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=1)]
    assert initial == [("ADDED", "w1")]
    kube.server.compacted = kube.server.rv
    with pytest.raises(Gone):
        list(kube.client().watch(resource_type("ConfigMap"), "default", resource_version=rv, timeout_seconds=1))


def test_live_watch_event(kube: Any) -> None:
    api = kube.client()
    rv = api.list_objects(resource_type("ConfigMap"), "default")["metadata"]["resourceVersion"]
    seen: list[tuple[str, str]] = []

    def watch() -> None:
        for etype, obj in api.watch(resource_type("ConfigMap"), "default", resource_version=rv, timeout_seconds=5):
            seen.append((etype, obj["metadata"]["name"]))
            return

    thread = threading.Thread(target=watch)
    thread.start()
    api.create(resource_type("ConfigMap"), {**CM, "metadata": {"name": "live"}})
    thread.join(10)
    assert seen == [("ADDED", "live")]


def test_finalizers_and_deletion_timestamp(kube: Any) -> None:
    """Seed 002: a workflow held by the artifact GC finalizer, released with `kubectl patch --type json`."""
    api: Any = kclient.CustomObjectsApi(typed(kube))
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "my-wf", "finalizers": ["workflows.argoproj.io/artifact-gc"]}, "spec": {}}
    api.create_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", body)
    held = api.delete_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", "my-wf")
    assert held["metadata"]["deletionTimestamp"]
    still = api.get_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", "my-wf")
    assert still["metadata"]["finalizers"] == ["workflows.argoproj.io/artifact-gc"]
    api.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", "my-wf",
                                       [{"op": "remove", "path": "/metadata/finalizers"}], _content_type="application/json-patch+json")
    with pytest.raises(ApiException) as gone:
        api.get_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows", "my-wf")
    assert gone.value.status == 404


def test_status_subresource_and_patch_types(kube: Any) -> None:
    api = kube.client()
    rt = resource_type("WorkflowArtifactGCTask")
    api.create(rt, {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowArtifactGCTask", "metadata": {"name": "t-0"},
                    "spec": {"artifactsByNode": {}}, "status": {"ignored": True}})
    assert "status" not in api.get(rt, "t-0")  # status is not set on create
    api.patch(rt, "t-0", {"spec": {"x": 1}, "status": {"also": "ignored"}})
    api.patch(rt, "t-0", {"status": {"artifactResultsByNode": {"n": {}}}}, subresource="status")
    task = api.get(rt, "t-0")
    assert task["spec"] == {"artifactsByNode": {}, "x": 1} and task["status"] == {"artifactResultsByNode": {"n": {}}}
    with pytest.raises(Invalid) as refused:
        api.patch(rt, "t-0", {"spec": {"y": 1}}, patch_type="strategic")
    assert refused.value.status == 415
    cm = api.create(resource_type("ConfigMap"), {**CM, "metadata": {"name": "c"}, "data": {"a": "1"}})
    api.patch(resource_type("ConfigMap"), "c", {"data": {"b": "2"}}, patch_type="strategic")
    stale = {**cm, "data": {"c": "3"}}
    with pytest.raises(Exception) as conflict:
        api.replace(resource_type("ConfigMap"), stale)
    assert getattr(conflict.value, "status", None) == 409


def test_owner_references_cascade(kube: Any) -> None:
    api = kube.client()
    owner = api.create(resource_type("ConfigMap"), {**CM, "metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    api.create(resource_type("ConfigMap"), {**CM, "metadata": {"name": "child", "ownerReferences": [ref]}})
    api.delete(resource_type("ConfigMap"), "owner")
    with pytest.raises(NotFound):
        api.get(resource_type("ConfigMap"), "child")


def test_rbac_for_service_account_tokens(kube: Any) -> None:
    kube.server.enforce_rbac = True
    sa = KubeClient.for_url(kube.url, "sa:default:robot")
    with pytest.raises(Forbidden) as denied:
        sa.get(resource_type("ConfigMap"), "x")
    assert 'User "system:serviceaccount:default:robot" cannot get resource "configmaps"' in str(denied.value)
    kube.apply([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
                 "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["x"]}]},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "r"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                 "subjects": [{"kind": "ServiceAccount", "name": "robot"}]}])
    with pytest.raises(NotFound):
        sa.get(resource_type("ConfigMap"), "x")  # allowed now, and absent
    with pytest.raises(Forbidden):
        sa.get(resource_type("ConfigMap"), "y")  # resourceNames restricts


def test_pod_log_from_the_kubelet(kube_pods: Any) -> None:
    kube = kube_pods
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello"},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo hi; echo there"]}]}})
    kube.wait_for(lambda: kube.get("v1", "Pod", "hello")["status"]["phase"] == "Succeeded", 20, "the pod to succeed")
    core: Any = kclient.CoreV1Api(typed(kube))
    assert core.read_namespaced_pod_log("hello", "default") == "hi\nthere\n"
    assert kube.client().log("default", "hello", "c", tail_lines=1) == "there\n"
    pod = core.read_namespaced_pod("hello", "default")
    assert pod.status.container_statuses[0].state.terminated.reason == "Completed"
