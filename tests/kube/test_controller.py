"""The controller: leader election, restart safety (adopting pods), deletion and TTL."""

from __future__ import annotations

import re
from typing import Any

import pytest

from argosy.pipeline.kube.client import resource_type
from argosy.pipeline.kube.controller import lease_decision, needs_reconcile

from .conftest import Gate, deleted, nodes_by_display, submit, wait_done


def _micro(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(("lease", "decision"), [
    pytest.param(None, "create", id="no-lease"),
    pytest.param({"spec": {"holderIdentity": "me", "renewTime": _micro(0), "leaseDurationSeconds": 15}}, "renew", id="ours-even-if-stale"),
    pytest.param({"spec": {"holderIdentity": "other", "renewTime": _micro(995), "leaseDurationSeconds": 15}}, "wait", id="held"),
    pytest.param({"spec": {"holderIdentity": "other", "renewTime": _micro(980), "leaseDurationSeconds": 15}}, "takeover", id="expired"),
    pytest.param({"spec": {"holderIdentity": "", "renewTime": _micro(999), "leaseDurationSeconds": 15}}, "takeover", id="released"),
])
def test_lease_decision(lease: dict[str, Any] | None, decision: str) -> None:
    assert lease_decision(lease, "me", 1000.0) == decision


DONE: dict[str, Any] = {"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}},
        "status": {"phase": "Succeeded", "artifactGCStatus": {"notSpecified": True}}, "spec": {}}


@pytest.mark.parametrize(("wf", "needed"), [
    pytest.param({"metadata": {}, "status": {}}, True, id="new"),
    pytest.param({"metadata": {"labels": {}}, "status": {"phase": "Running"}}, True, id="running"),
    pytest.param(DONE, False, id="finished-and-clean"),
    pytest.param({**DONE, "metadata": {**DONE["metadata"], "finalizers": ["workflows.argoproj.io/artifact-gc"]}}, True, id="gc-pending"),
    pytest.param({**DONE, "metadata": {**DONE["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}}, True, id="deleting"),
    pytest.param({**DONE, "spec": {"ttlStrategy": {"secondsAfterCompletion": 5}}}, True, id="ttl"),
    pytest.param({**DONE, "status": {"phase": "Succeeded"}}, True, id="gc-not-evaluated"),
])
def test_needs_reconcile(wf: dict[str, Any], needed: bool) -> None:
    assert needs_reconcile(wf) is needed


def test_one_leader_and_takeover(kube: Any, start_controller: Any) -> None:
    first = start_controller(identity="first")
    second = start_controller(identity="second", wait_lead=False)
    assert first.leading.is_set() and not second.leading.is_set()
    lease = kube.get("coordination.k8s.io/v1", "Lease", "argosy-controller")
    assert lease["spec"]["holderIdentity"] == "first"
    first.stop()  # releases the Lease: the standby need not wait for it to expire
    kube.wait_for(second.leading.is_set, 10, "the standby to take over")
    lease = kube.get("coordination.k8s.io/v1", "Lease", "argosy-controller")
    assert lease["spec"]["holderIdentity"] == "second" and lease["spec"]["leaseTransitions"] == 1


def _gated() -> tuple[dict[str, Any], dict[str, Gate]]:
    gates = {"a": Gate(), "b": Gate()}
    wf = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "restart-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "steps": [[{"name": "a", "template": "gate-a"}, {"name": "b", "template": "gate-b"}],
                                       [{"name": "after", "template": "after"}]]},
            {"name": "gate-a", "container": {"image": "busybox", "command": gates["a"].command("a")}},
            {"name": "gate-b", "container": {"image": "busybox", "command": gates["b"].command("b")}},
            {"name": "after", "container": {"image": "busybox", "command": ["echo", "after"]}},
        ]},
    }
    return wf, gates


def _main_running(kube: Any, name: str, count: int) -> list[dict[str, Any]] | None:
    pods = kube.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}")
    running = [p for p in pods if any(cs["name"] == "main" and "running" in cs["state"]
                                      for cs in p["status"].get("containerStatuses") or [])]
    return running if len(running) == count else None


def test_restarted_controller_adopts_running_and_finished_pods(kube_pods: Any, start_controller: Any, store: Any) -> None:
    kube = kube_pods
    wf, gates = _gated()
    first = start_controller(identity="first")
    name = submit(store, wf)
    pods = kube.wait_for(lambda: _main_running(kube, name, 2), 30, "both gated pods to run")
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods}
    first.stop()

    # With no controller: the workflow stays Running and its pods keep running; one finishes.
    assert store.get_workflow(name)["status"]["phase"] == "Running"
    gates["a"].open()
    pod_a = next(n for n in uids if n.startswith(f"{name}-gate-a-"))
    kube.wait_for(lambda: kube.get("v1", "Pod", pod_a)["status"]["phase"] == "Succeeded", 30,
                  "gate a's pod to finish while no controller runs")

    second = start_controller(identity="second")
    assert second.leading.is_set()
    gates["b"].open()
    done = wait_done(kube, store, name, 60)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    nodes = nodes_by_display(done)
    assert nodes["after"]["phase"] == "Succeeded"
    # Adopted, not recreated: the same pods (uids) finished the gated steps.
    for pod_name, uid in uids.items():
        events = [e for e in kube.server.events if e.rd.kind == "Pod" and e.type == "ADDED" and e.obj["metadata"]["name"] == pod_name]
        assert [e.obj["metadata"]["uid"] for e in events] == [uid]
    results = {n["displayName"]: n.get("outputs", {}).get("result") for n in done["status"]["nodes"].values() if n["type"] == "Pod"}
    assert results["a"] == "a opened" and results["b"] == "b opened"


def test_deleting_a_running_workflow_terminates_it(kube_pods: Any, start_controller: Any, store: Any) -> None:
    kube = kube_pods
    wf, _gates = _gated()
    start_controller()
    held = {**wf, "metadata": {**wf["metadata"], "finalizers": ["test.argosy.io/hold"]}}
    name = submit(store, held)
    kube.wait_for(lambda: _main_running(kube, name, 2), 30, "both gated pods to run")
    store.delete_workflow(name)  # the finalizer keeps the object (deletionTimestamp set)

    def terminated() -> Any:
        current = store.get_workflow(name)
        return current if current.get("status", {}).get("phase") in ("Failed", "Error") else None

    stopped = kube.wait_for(terminated, 30, "the deleted workflow to be terminated")
    assert stopped["spec"]["shutdown"] == "Terminate"
    assert stopped["metadata"]["deletionTimestamp"]
    assert {n["displayName"]: n["message"] for n in stopped["status"]["nodes"].values() if n["type"] == "Pod"} == {
        "a": "Stopped with strategy 'Terminate'", "b": "Stopped with strategy 'Terminate'"}
    store.api.patch(store.workflows, name, {"metadata": {"finalizers": None}})

    kube.wait_for(lambda: deleted(store, name), 10, "the workflow to be deleted once its last finalizer went")
    kube.wait_for(lambda: not kube.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}"), 10, "its pods to go")


def test_ttl_strategy_deletes_completed_workflow(kube_pods: Any, start_controller: Any, store: Any) -> None:
    kube = kube_pods
    start_controller()
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "ttl-"},
                          "spec": {"entrypoint": "main", "ttlStrategy": {"secondsAfterCompletion": 0},
                                   "podGC": {"strategy": "OnPodSuccess"},
                                   "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}]}})

    kube.wait_for(lambda: deleted(store, name), 30, "ttlStrategy to delete the workflow")
    assert kube.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}") == []


def test_retry_replaces_the_failed_pod(kube_pods: Any, start_controller: Any, store: Any, tmp_path: Any) -> None:
    """`argosy retry` on a cluster: the failed node's old pod (same name) is removed, a new one runs."""

    from argosy.pipeline.engine.retry import reset_failed

    kube = kube_pods
    flag = kube.kubelet.root / f"retry-{tmp_path.name}"  # containers see the host here, not in /tmp
    flag.unlink(missing_ok=True)
    start_controller()
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "retry-"},
                          "spec": {"entrypoint": "main", "templates": [
                              {"name": "main", "container": {"image": "busybox", "command": ["test", "-e", str(flag)]}}]}})
    failed = wait_done(kube, store, name, 30)
    assert failed["status"]["phase"] == "Failed"
    first_uid = kube.get("v1", "Pod", name)["metadata"]["uid"]
    flag.touch()
    try:
        store.modify_workflow(name, reset_failed)
        done = wait_done(kube, store, name, 30)
    finally:
        flag.unlink(missing_ok=True)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert kube.get("v1", "Pod", name)["metadata"]["uid"] != first_uid


def test_a_sidecar_stopped_after_main_does_not_fail_the_step(kube_pods: Any, start_controller: Any, store: Any) -> None:
    """A real kubelet marks the pod Failed (the sidecar exits 143 when stopped); the node, as in Argo, Succeeded."""
    start_controller()
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "side-"},
                          "spec": {"entrypoint": "m", "templates": [{"name": "m",
                                   "container": {"image": "alpine", "command": ["sh", "-c", "echo main done"]},
                                   "sidecars": [{"name": "db", "image": "alpine", "command": ["sleep", "600"]}]}]}})
    wf = wait_done(kube_pods, store, name)
    pod = kube_pods.client().get(resource_type("Pod"), name, "default")
    assert pod["status"]["phase"] == "Failed"  # what the kubelet says ...
    assert wf["status"]["phase"] == "Succeeded"  # ... and what the user sees
    assert nodes_by_display(wf)[name]["phase"] == "Succeeded"


def test_task_results_are_deleted_once_the_workflow_completes(kube_pods: Any, start_controller: Any, store: Any) -> None:
    """Argo's deleteTaskResults: the wait containers' WorkflowTaskResults go once their outputs are in the status."""
    start_controller()
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "tr-"},
                          "spec": {"entrypoint": "m", "templates": [
                              {"name": "m", "steps": [[{"name": "a", "template": "out"}], [{"name": "b", "template": "out"}]]},
                              {"name": "out", "container": {"image": "alpine", "command": ["sh", "-c", "echo -n 7 > /tmp/n"]},
                               "outputs": {"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n"}}]}}]}})
    wf = wait_done(kube_pods, store, name)
    assert [nodes_by_display(wf)[s]["outputs"]["parameters"][0]["value"] for s in ("a", "b")] == ["7", "7"]
    api = kube_pods.client()

    def results() -> list[Any]:
        return api.list_objects(resource_type("WorkflowTaskResult"), "default",
                                label_selector=f"workflows.argoproj.io/workflow={name}")["items"]

    kube_pods.wait_for(lambda: results() == [], 10, "the task results to be deleted")


def test_ttl_and_pod_gc_delays_are_honoured_on_time_not_at_the_next_resync(kube_pods: Any, start_controller: Any, store: Any) -> None:
    """With a resync far away, the controller comes back when ``deleteDelayDuration`` / the TTL are due."""
    import time

    start_controller(resync_seconds=600.0)
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "due-"},
                          "spec": {"entrypoint": "main", "ttlStrategy": {"secondsAfterCompletion": 4},
                                   "podGC": {"strategy": "OnWorkflowCompletion", "deleteDelayDuration": "1s"},
                                   "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}]}})
    wait_done(kube_pods, store, name)
    finished = time.monotonic()
    pods = lambda: kube_pods.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}")  # noqa: E731
    kube_pods.wait_for(lambda: pods() == [], 20, "podGC after its delay")
    assert store.get_workflow(name)  # the TTL is not due yet

    kube_pods.wait_for(lambda: deleted(store, name), 20, "ttlStrategy to delete the workflow")
    assert time.monotonic() - finished >= 2.5  # not before its time either


def test_a_pod_stuck_on_a_missing_secret_says_why_and_starts_once_it_exists(kube_pods: Any, start_controller: Any, store: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on the real cluster: such a pod stays PodInitializing (no reason in its status, so Argo shows
    nothing); the kubelet's FailedMount event becomes the node's message."""
    from argosy.pipeline.executors import kubernetes as kx

    monkeypatch.setattr(kx, "STUCK_AFTER", 0.5)
    monkeypatch.setattr(kx, "STUCK_CHECK_PERIOD", 0.2)
    start_controller()
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "stuck-"},
                          "spec": {"entrypoint": "m", "volumes": [{"name": "creds", "secret": {"secretName": "later"}}],
                                   "templates": [{"name": "m", "container": {
                                       "image": "alpine", "command": ["cat", "/creds/token"],
                                       "volumeMounts": [{"name": "creds", "mountPath": "/creds"}]}}]}})
    expected = 'FailedMount: MountVolume.SetUp failed for volume "creds" : secret "later" not found'

    def message() -> Any:
        node = (store.get_workflow(name).get("status") or {}).get("nodes", {}).get(name) or {}
        return node if node.get("message") == expected else None

    node = kube_pods.wait_for(message, 20, "the FailedMount message on the node")
    assert node["phase"] == "Pending"
    for var in ("ARGOSY_BACKEND", "ARGOSY_KUBECONFIG", "ARGOSY_KUBE_CONTEXT"):  # the CLI sets them in-process
        monkeypatch.delenv(var, raising=False)
    assert expected in re.sub(r"\s+", " ", _argosy_get(kube_pods, name))
    kube_pods.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "later", "namespace": "default"},
                     "stringData": {"token": "s3cr3t"}})
    wf = wait_done(kube_pods, store, name)
    assert wf["status"]["phase"] == "Succeeded"
    assert nodes_by_display(wf)[name]["outputs"]["result"] == "s3cr3t"


def _argosy_get(kube: Any, name: str) -> str:
    from click.testing import CliRunner

    from argosy.cli.main import cli

    return CliRunner().invoke(cli, ["--kubeconfig", str(kube.kubeconfig(namespace="default")), "get", name]).output
