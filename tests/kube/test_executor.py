"""Pod outcomes -> Argo's node phases and messages: the pure rules, then for real on the fake cluster."""

from __future__ import annotations

from typing import Any

import pytest

from argosy.pipeline.kube.objects import (
    PodOutcome,
    combine_result,
    explain_pending,
    infer_failed,
    pod_outcome,
)

from .conftest import Gate, nodes_by_display, submit, wait_done


def _pod(phase: str, containers: dict[str, dict[str, Any]], *, init: dict[str, dict[str, Any]] | None = None,
         message: str | None = None, reason: str | None = None, spec_names: tuple[str, ...] = ("wait", "main")) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "startTime": "2024-01-01T00:00:00Z",
                              "containerStatuses": [{"name": n, "state": s} for n, s in containers.items()]}
    if init:
        status["initContainerStatuses"] = [{"name": n, "state": s} for n, s in init.items()]
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    return {"metadata": {"name": "p"}, "spec": {"containers": [{"name": n} for n in spec_names]}, "status": status}


def _term(code: int, reason: str = "", message: str = "") -> dict[str, Any]:
    t: dict[str, Any] = {"exitCode": code, "reason": reason or ("Completed" if code == 0 else "Error"), "finishedAt": "2024-01-01T00:00:05Z"}
    if message:
        t["message"] = message
    return {"terminated": t}


OK = _term(0)
RUNNING = {"running": {"startedAt": "2024-01-01T00:00:01Z"}}


@pytest.mark.parametrize(("pod", "expected"), [
    pytest.param(_pod("Succeeded", {"wait": OK, "main": OK}), ("Succeeded", None, None), id="succeeded"),
    pytest.param(_pod("Failed", {"wait": OK, "main": _term(1)}), ("Failed", "main: Error (exit code 1)", "main"), id="main-exit-1"),
    pytest.param(_pod("Failed", {"wait": OK, "main": _term(137, "OOMKilled")}), ("Failed", "main: OOMKilled (exit code 137)", "main"), id="oom"),
    pytest.param(_pod("Failed", {"wait": RUNNING, "main": RUNNING}, message="Pod was active on the node longer than the specified deadline",
                      reason="DeadlineExceeded"),
                 ("Failed", "Pod was active on the node longer than the specified deadline", "pod"), id="deadline"),
    pytest.param(_pod("Failed", {"wait": OK, "main": _term(137)}, message="The node was low on resource: memory.", reason="Evicted"),
                 ("Failed", "The node was low on resource: memory.", "pod"), id="evicted"),
    pytest.param(_pod("Failed", {"wait": {"waiting": {"reason": "PodInitializing"}}, "main": {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}}}),
                 ("Error", 'Pod failed before main container starts due to ImagePullBackOff: Back-off pulling image "x"', "waiting"),
                 id="image-pull-backoff"),
    pytest.param(_pod("Failed", {"wait": {"waiting": {}}, "main": {"waiting": {}}}, init={"init": _term(1, message="required artifact 'x' not supplied")}),
                 ("Error", "init: Error (exit code 1): required artifact 'x' not supplied", "init"), id="init-failed"),
    pytest.param(_pod("Failed", {"wait": _term(1, message="failed to save outputs"), "main": OK}),
                 ("Error", "wait: Error (exit code 1): failed to save outputs", "wait"), id="wait-failed"),
    # a real kubelet marks the pod Failed when a sidecar exits 143 after the executor's SIGTERM;
    # Argo (inferFailedReason) still reports the node Succeeded: main and wait did
    pytest.param(_pod("Failed", {"wait": OK, "main": OK, "nginx": _term(143)}, spec_names=("wait", "main", "nginx")),
                 ("Succeeded", None, None), id="sidecar-killed-pod-failed"),
    pytest.param(_pod("Failed", {"wait": OK, "main": OK, "nginx": _term(137)}, spec_names=("wait", "main", "nginx")),
                 ("Succeeded", None, None), id="sidecar-sigkilled-pod-failed"),
    pytest.param(_pod("Failed", {}, reason="NodeLost"), ("Failed", "NodeLost", "pod"), id="pod-failed-no-container-ended"),
    pytest.param(_pod("Running", {"wait": OK, "main": OK, "nginx": _term(2)}, spec_names=("wait", "main", "nginx")),
                 ("Failed", "nginx: Error (exit code 2)", "sidecar"), id="sidecar-failed"),
    pytest.param(_pod("Running", {"wait": OK, "main": OK, "nginx": RUNNING}, spec_names=("wait", "main", "nginx")),
                 ("Succeeded", None, None), id="sidecar-still-running"),
])
def test_infer_failed(pod: dict[str, Any], expected: tuple[str, str | None, str | None]) -> None:
    outcome = pod_outcome(pod)
    assert outcome.done
    if expected[1] == "Failed":  # a failed pod with no message falls back to its reason
        pod["status"]["reason"] = "Failed"
    assert infer_failed(pod) == expected


@pytest.mark.parametrize(("pod", "done", "pending"), [
    pytest.param(_pod("Pending", {"wait": {"waiting": {"reason": "PodInitializing"}}, "main": {"waiting": {"reason": "ErrImagePull", "message": "not found"}}}),
                 False, "ErrImagePull: not found", id="pull-error-pending"),
    pytest.param(_pod("Running", {"wait": RUNNING, "main": OK}), False, None, id="wait-still-collecting"),
    pytest.param(_pod("Running", {"main": OK}, spec_names=("main",)), True, None, id="resource-pod-main-done"),
])
def test_pod_outcome_progress(pod: dict[str, Any], done: bool, pending: str | None) -> None:
    outcome = pod_outcome(pod)
    assert outcome.done is done
    assert outcome.pending_reason == pending


@pytest.mark.parametrize(("outcome", "report", "expected"), [
    pytest.param(PodOutcome(True, "Succeeded"), {"outputs": {}}, ("Succeeded", None), id="ok"),
    pytest.param(PodOutcome(True, "Succeeded"), {"phase": "Error", "message": "output artifact 'a': path /a does not exist"},
                 ("Error", "output artifact 'a': path /a does not exist"), id="output-problem"),
    pytest.param(PodOutcome(True, "Failed", "main: Error (exit code 1)", 1, source="main"), {"outputs": {}},
                 ("Failed", "main: Error (exit code 1)"), id="main-failed"),
    pytest.param(PodOutcome(True, "Failed", "Pod was active on the node longer than the specified deadline", source="pod"),
                 {"phase": "Succeeded"}, ("Failed", "Pod was active on the node longer than the specified deadline"), id="deadline-wins"),
    pytest.param(PodOutcome(True, "Failed", "main: Error (exit code 1)", 1, source="main"),
                 {"phase": "Failed", "message": "failure condition 'status.failed>0' evaluated true"},
                 ("Failed", "failure condition 'status.failed>0' evaluated true"), id="resource-verdict"),
])
def test_combine_result(outcome: PodOutcome, report: dict[str, Any], expected: tuple[str, str | None]) -> None:
    assert combine_result(outcome, report) == expected


def test_failures_on_the_cluster(kube_pods: Any, start_controller: Any, store: Any) -> None:
    """Deadline (image never pulled), OOMKilled, exit 1 and eviction, as Argo reports them."""
    kube = kube_pods
    start_controller()
    gate = Gate()

    def wf(name: str, template: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": f"{name}-"},
                "spec": {"entrypoint": "main", "templates": [{"name": "main", **template}]}}

    names = {
        "deadline": submit(store, wf("deadline", {"activeDeadlineSeconds": 3,
                                                  "container": {"image": "registry.invalid/missing:1", "command": ["true"]}})),
        "oom": submit(store, wf("oom", {"container": {"image": "busybox", "command": ["sh", "-c", "kill -9 $$"],
                                                      "resources": {"limits": {"memory": "8Mi"}}}})),
        "exit": submit(store, wf("exit", {"container": {"image": "busybox", "command": ["sh", "-c", "echo boom >&2; exit 3"]}})),
        "evict": submit(store, wf("evict", {"container": {"image": "busybox", "command": gate.command("evict")}})),
    }
    evict_pod = names["evict"]

    def node(name: str) -> dict[str, Any]:
        return dict(store.get_workflow(name).get("status", {}).get("nodes", {}).get(name) or {})

    # While pulling fails the node stays Pending with Argo's reason; a running pod's node is Running.
    kube.wait_for(lambda: node(names["deadline"]).get("message") == 'ImagePullBackOff: Back-off pulling image "registry.invalid/missing:1"',
                  10, "the pending node to show the image pull back-off")
    kube.wait_for(lambda: node(evict_pod).get("phase") == "Running", 30, "the pod to be evicted to run")
    kube.kubelet.evict("default", evict_pod)
    results = {k: wait_done(kube, store, v, 60) for k, v in names.items()}
    messages = {k: (w["status"]["phase"], nodes_by_display(w)[w["metadata"]["name"]]["message"]) for k, w in results.items()}
    assert messages == {
        "deadline": ("Failed", "Pod was active on the node longer than the specified deadline"),
        "oom": ("Failed", "main: OOMKilled (exit code 137)"),
        "exit": ("Failed", "main: Error (exit code 3)"),
        "evict": ("Failed", "The node was low on resource: memory. Container main was using 1Gi, which exceeds its request of 0."),
    }
    assert nodes_by_display(results["exit"])[names["exit"]]["outputs"]["exitCode"] == "3"
    gate.close()


def test_explain_pending_prefers_the_specific_repeated_message() -> None:
    """Events a real kubelet gave for a pod whose Secret volume was missing (seen on the e2e cluster)."""
    events = [
        {"reason": "FailedMount", "count": 9, "lastTimestamp": "2026-11-24T10:17:02Z",
         "message": 'MountVolume.SetUp failed for volume "secret-minio" : secret "minio" not found'},
        {"reason": "FailedMount", "count": 1, "lastTimestamp": "2026-11-24T10:18:05Z",
         "message": "Unable to attach or mount volumes: unmounted volumes=[secret-minio]: timed out waiting for the condition"},
        {"reason": "Scheduled", "count": 1, "lastTimestamp": "2026-11-24T10:14:00Z", "message": "Successfully assigned demo/p to vm"},
    ]
    assert explain_pending(events) == 'FailedMount: MountVolume.SetUp failed for volume "secret-minio" : secret "minio" not found'
    later = {"reason": "FailedCreatePodSandBox", "count": 1, "lastTimestamp": "2026-11-24T10:19:00Z", "message": "network not ready"}
    assert explain_pending([*events, later]) == "FailedCreatePodSandBox: network not ready"
