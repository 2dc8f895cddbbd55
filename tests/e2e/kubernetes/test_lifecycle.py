"""The workflow lifecycle on a real cluster: artifact GC (completion, deletion with the finalizer),
``argosy delete --force``, and a controller restart in the middle of a running workflow."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import TERMINAL, HostServices, Kube, Restarter, localize, nodes, seed

pytestmark = pytest.mark.slow

FINALIZER = "workflows.argoproj.io/artifact-gc"


def _loc(kube: Kube, wf: dict[str, Any] | str) -> dict[str, Any]:
    return localize(copy.deepcopy(wf) if isinstance(wf, dict) else wf, kube.s)


def _running_pod(kube: Kube, workflow: str, display: str) -> Any:
    """The pod of node ``display`` once its main container runs (or None)."""
    wf = kube.get_wf(workflow)
    if not wf:
        return None
    node = nodes(wf).get(display)
    if not node:
        return None
    for pod in kube.pods(workflow):
        if (pod.metadata.annotations or {}).get("workflows.argoproj.io/node-id") != node["id"]:
            continue
        for cs in pod.status.container_statuses or []:
            if cs.name == "main" and cs.state and cs.state.running:
                return pod
    return None


# ------------------------------------------------------------------------------------ artifact GC

GC_ON_COMPLETION = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: gc-completion-}
spec:
  entrypoint: main
  artifactGC: {strategy: OnWorkflowCompletion}
  templates:
  - name: main
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo collect me > /tmp/gc.txt"]
    outputs:
      artifacts:
      - {name: gc, path: /tmp/gc.txt}
"""


def test_artifact_gc_on_completion(ns: Kube, host_services: HostServices) -> None:
    """OnWorkflowCompletion: a GC pod deletes the object from S3, the artifact is marked deleted, the finalizer goes."""
    s3 = host_services.need_s3()
    kube = ns
    final = kube.run(_loc(kube, GC_ON_COMPLETION))
    name = final["metadata"]["name"]
    key = nodes(final)[name]["outputs"]["artifacts"][0]["s3"]["key"]

    def collected() -> dict[str, Any] | None:
        wf = kube.get_wf(name)
        return wf if wf and FINALIZER not in (wf["metadata"].get("finalizers") or []) else None

    wf = kube.wait_for("artifact GC to lift the finalizer", collected, 180, diag=name)
    assert key not in s3.list_keys(), f"{key} still in the bucket after GC"
    assert nodes(wf)[name]["outputs"]["artifacts"][0].get("deleted") is True
    tasks = kube.custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", kube.ns, "workflowartifactgctasks",
                                                      label_selector=f"workflows.argoproj.io/workflow={name}")["items"]
    assert tasks == [], [t["metadata"]["name"] for t in tasks]


def test_artifact_gc_on_deletion(ns: Kube, host_services: HostServices) -> None:
    """Seed 002: OnWorkflowDeletion. The finalizer holds the deleted workflow until a GC pod removed
    the temporary artifact; the artifact with ``strategy: Never`` stays."""
    s3 = host_services.need_s3()
    kube = ns
    final = kube.run(_loc(kube, seed("002-artifact-gc")))
    name = final["metadata"]["name"]
    assert FINALIZER in (final["metadata"].get("finalizers") or [])
    assert {"temporary-artifact.txt", "keep-this.txt"} <= s3.list_keys()

    kube.argosy("delete", name, "-n", kube.ns)
    kube.wait_for(f"workflow {name} to be deleted after its GC", lambda: kube.get_wf(name) is None, 180, diag=name)
    keys = s3.list_keys()
    assert "temporary-artifact.txt" not in keys
    assert "keep-this.txt" in keys


# ------------------------------------------------------------------------------------ delete --force

STUCK = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: force-}
spec:
  entrypoint: main
  artifactGC:
    strategy: OnWorkflowDeletion
    serviceAccountName: argosy-e2e-does-not-exist
  templates:
  - name: main
    steps:
    - - {name: produce, template: produce}
    - - {name: sleep, template: sleep}
  - name: produce
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo x > /tmp/x.txt"]
    outputs:
      artifacts:
      - {name: x, path: /tmp/x.txt}
  - name: sleep
    container:
      image: E2E_IMAGE
      command: [sh, -c, "sleep 600"]
"""


def test_delete_force(ns: Kube, host_services: HostServices) -> None:
    """Deleting a running workflow terminates it; its GC cannot run (the GC service account does not
    exist), so the finalizer holds it; ``argosy delete --force`` drops the finalizer and it goes, pods too."""
    host_services.need_s3()
    kube = ns
    name = kube.submit(_loc(kube, STUCK))
    kube.wait_for("the sleep step to run", lambda: _running_pod(kube, name, "sleep"), 240, diag=name)

    kube.argosy("delete", name, "-n", kube.ns)

    def terminated_and_held() -> dict[str, Any] | None:
        wf = kube.get_wf(name)
        assert wf is not None, f"{name} was deleted although its artifact GC cannot run"
        return wf if wf["metadata"].get("deletionTimestamp") and (wf.get("status") or {}).get("phase") in TERMINAL else None

    held = kube.wait_for("the deleted workflow to be terminated and held by its finalizer", terminated_and_held, 120, diag=name)
    assert FINALIZER in (held["metadata"].get("finalizers") or [])

    kube.argosy("delete", name, "--force", "-n", kube.ns)
    kube.wait_for(f"{name} to go after delete --force", lambda: kube.get_wf(name) is None, 60, diag=name)
    kube.wait_for(f"the pods of {name} to be garbage-collected", lambda: not kube.pods(name), 180)


# ------------------------------------------------------------------------------------ controller restart

RESTART = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: restart-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: slow, template: slow}
    - - name: after
        template: echo
        arguments: {parameters: [{name: v, value: "{{steps.slow.outputs.parameters.x}}"}]}
  - name: slow
    container:
      image: E2E_IMAGE
      command: [sh, -c, "sleep 30; echo -n adopted > /tmp/x"]
    outputs:
      parameters:
      - name: x
        valueFrom: {path: /tmp/x}
  - name: echo
    inputs: {parameters: [{name: v}]}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo got={{inputs.parameters.v}}"]
"""


def test_controller_restart(ns: Kube, restarter: Restarter) -> None:
    """The controller is restarted while a step's pod runs: the new one adopts that pod (same UID, not
    re-created), collects its output and finishes the workflow."""
    kube = ns
    name = kube.submit(_loc(kube, RESTART))
    pod = kube.wait_for("the slow step to run", lambda: _running_pod(kube, name, "slow"), 240, diag=name)
    uid = pod.metadata.uid
    how = restarter.restart()
    final = kube.wait_phase(name, timeout=300)
    assert final["status"]["phase"] == "Succeeded", f"after '{how}':\n{kube.diagnose(name, final)}"
    slow_pods = [p for p in kube.pods(name) if (p.metadata.annotations or {}).get("workflows.argoproj.io/node-id") == nodes(final)["slow"]["id"]]
    assert [p.metadata.uid for p in slow_pods] == [uid], "the running pod was not adopted (re-created or lost)"
    assert len(kube.pods(name)) == 2
    assert kube.logs(kube.pod_for(final, "after").metadata.name).strip() == "got=adopted"


def test_controller_down_while_step_finishes(ns: Kube, restarter: Restarter) -> None:
    """No controller runs while a step's pod finishes; the next controller adopts the finished pod
    (reads its reported outputs, does not re-run it) and the workflow continues."""
    kube = ns
    name = kube.submit(_loc(kube, RESTART.replace("sleep 30", "sleep 8")))
    pod = kube.wait_for("the slow step to run", lambda: _running_pod(kube, name, "slow"), 240, diag=name)
    uid = pod.metadata.uid
    restarter.stop()
    try:
        def finished() -> bool:
            p = kube.core.read_namespaced_pod(pod.metadata.name, kube.ns)
            return p.status.phase in ("Succeeded", "Failed")

        kube.wait_for("the slow pod to finish without a controller", finished, 120)
        assert (kube.get_wf(name) or {}).get("status", {}).get("phase") == "Running"
    finally:
        restarter.start()
    final = kube.wait_phase(name, timeout=300)
    assert final["status"]["phase"] == "Succeeded", kube.diagnose(name, final)
    slow_pods = [p for p in kube.pods(name) if (p.metadata.annotations or {}).get("workflows.argoproj.io/node-id") == nodes(final)["slow"]["id"]]
    assert [p.metadata.uid for p in slow_pods] == [uid], "the finished pod was not adopted (re-created or lost)"
    assert kube.logs(kube.pod_for(final, "after").metadata.name).strip() == "got=adopted"


def test_two_replicas_leader_failover(ns: Kube, restarter: Restarter) -> None:
    """Two controller replicas: one leads (only it runs workflows: no duplicate pods); when the leader
    dies without releasing its Lease (force-deleted), the standby takes over after the lease expires
    and finishes the running workflow."""
    from .conftest import _controller_pods, wait_controller_leading

    kube = ns
    restarter.scale(2)
    try:
        leader = wait_controller_leading(kube)
        name = kube.submit(_loc(kube, RESTART.replace("sleep 30", "sleep 20")))
        pod = kube.wait_for("the slow step to run", lambda: _running_pod(kube, name, "slow"), 240, diag=name)
        kube.kubectl("-n", kube.s.controller_ns, "delete", "pod", leader, "--grace-period=0", "--force")
        standby = kube.wait_for("the standby to take the Lease",
                                lambda: (h := wait_controller_leading(kube)) != leader and h, 120)
        assert standby in {p.metadata.name for p in _controller_pods(kube)}
        final = kube.wait_phase(name, timeout=300)
        assert final["status"]["phase"] == "Succeeded", kube.diagnose(name, final)
        slow = [p for p in kube.pods(name) if (p.metadata.annotations or {}).get("workflows.argoproj.io/node-id") == nodes(final)["slow"]["id"]]
        assert [p.metadata.uid for p in slow] == [pod.metadata.uid]
        assert len(kube.pods(name)) == 2, [p.metadata.name for p in kube.pods(name)]
    finally:
        restarter.scale(1)
        wait_controller_leading(kube)
