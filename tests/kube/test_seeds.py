"""The seeds' Kubernetes YAML on the fake cluster, with RBAC enforced for every service account.

Where each seed's Kubernetes YAML is covered:

* 000 — Job ``dummy-first`` and the ``argo-workflow-account`` ServiceAccount/ClusterRole/Binding:
  test_e2e.py; producer-consumer and conditional execution with ``serviceAccountName``: here;
  the CronTab resource templates (with and without conditions) and the Go example's Jobs:
  test_resource.py.
* 001 — workflow-controller-configmap (MinIO) and the ``minio`` Secret: test_e2e.py; the
  coinflip "verify serviceaccount default:default has necessary privileges" failure and its
  rolebinding fix: here.
* 002 — podSpecPatch on the init container and artifact GC service accounts/podMetadata:
  test_objects.py; the ``artifactgc`` Role: test_configs.py; removing finalizers with a JSON
  patch: test_fakekube.py and test_cli.py.
* 003 — the minimal executor Role (pods get/watch/patch, pods/log): test_podexec.py; the S3
  workflow-controller-configmap: test_store.py; CronJob (batch/v1beta1), Service and Deployment:
  test_resource.py; whalesay: here.
* 004 — Role/ServiceAccount/RoleBinding and ``hello-whale`` with ``serviceAccountName``, the
  WorkflowTemplate and both ways to reference it: here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .conftest import CONFIGS_DIR, nodes_by_display, seed, submit, wait_done


def _cowsay(kube: Any, tmp_path: Path) -> str:
    """A stand-in for docker/whalesay's ``cowsay`` (the fake kubelet runs this machine's tools).

    It lives under the kubelet's root: containers do not see the host's /tmp.
    """
    bindir = kube.kubelet.root / f"bin-{tmp_path.name}"
    bindir.mkdir(exist_ok=True)
    tool = bindir / "cowsay"
    tool.write_text('#!/bin/sh\necho "< $* >"\n')
    tool.chmod(0o755)
    return str(bindir)


def test_seed_000_service_account_workflows(kube_pods: Any, start_controller: Any, store: Any) -> None:
    kube = kube_pods
    from .test_e2e import _seed_yaml

    kube.apply(_seed_yaml("000_babe6a2ae261cb90.txt", "argo-workflow-account"))
    kube.server.enforce_rbac = True
    start_controller()
    producer_consumer = submit(store, seed("000-producer-consumer")[0])
    condition = submit(store, seed("000-conditional-execution")[0])
    pc, cond = wait_done(kube, store, producer_consumer), wait_done(kube, store, condition)
    assert pc["status"]["phase"] == "Succeeded", pc["status"].get("message")
    assert nodes_by_display(pc)["consumer-message"]["outputs"]["result"] == "hello world"
    assert cond["status"]["phase"] == "Succeeded", cond["status"].get("message")
    nodes = nodes_by_display(cond)
    assert nodes["consumer-execute"]["outputs"]["result"] == "hello"
    assert nodes["consumer-noexecute"]["phase"] == "Skipped"
    assert nodes["consumer-noexecute"]["message"] == "when 'hello != hello' evaluated false"
    for pod in kube.list("v1", "Pod", "default"):
        assert pod["spec"]["serviceAccountName"] == "argo-workflow-account"
    # The seed's ClusterRole allows WorkflowTaskResults, so that is how outputs travelled.
    assert kube.list("argoproj.io/v1alpha1", "WorkflowTaskResult", "default")


def test_seed_004_rbac_and_workflow_templates(kube_pods: Any, start_controller: Any, store: Any, tmp_path: Path) -> None:
    kube = kube_pods
    kube.kubelet.extra_path = [_cowsay(kube, tmp_path)]
    docs = seed("004-hello-whale-rbac")
    kube.apply([d for d in docs if d["kind"] != "Workflow"])
    kube.apply(seed("004-workflow-template-submittable"))
    kube.server.enforce_rbac = True
    start_controller()

    # Seed 001's coinflip failure: the default service account may not report outputs.
    denied = wait_done(kube, store, submit(store, seed("003-whalesay")[0]))
    assert denied["status"]["phase"] == "Error"
    assert "failed to save outputs: verify serviceaccount default:default has necessary privileges" in denied["status"]["message"]
    # ... and the posts' fix: bind a role to default:default (here, the executor role from configs/).
    role = [d for d in yaml.safe_load_all((CONFIGS_DIR / "03-executor-rbac.yaml").read_text()) if d]
    for doc in role:
        doc["metadata"]["namespace"] = "default"
        for subject in doc.get("subjects") or []:
            subject["namespace"] = "default"
    kube.apply(role)

    hello = submit(store, next(d for d in docs if d["kind"] == "Workflow"))
    by_ref = submit(store, seed("004-workflow-template-ref")[0])
    by_ref_entry = submit(store, seed("004-workflow-template-ref-entrypoint")[0])
    missing_ref = submit(store, seed("004-template-ref")[0])
    whalesay = submit(store, seed("003-whalesay")[0])
    results = {n: wait_done(kube, store, n) for n in (hello, by_ref, by_ref_entry, missing_ref, whalesay)}

    def result(name: str) -> str:
        wf = results[name]
        assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
        return str(next(n for n in wf["status"]["nodes"].values() if n["type"] == "Pod")["outputs"]["result"])

    assert result(hello) == "< hello world >"
    assert result(by_ref_entry) == "< from workflow >"
    # The post's WorkflowTemplate lost its entrypoint, so referencing it without one cannot run.
    assert results[by_ref]["status"]["phase"] in ("Error", "Failed")
    assert result(whalesay) == "< This is an Argo Workflow! >"
    # workflow-sa's Role grants pods get/watch/patch only: outputs came back as a pod annotation.
    hello_pod = next(p for p in kube.list("v1", "Pod", "default") if p["spec"].get("serviceAccountName") == "workflow-sa")
    assert "workflows.argoproj.io/outputs" in hello_pod["metadata"]["annotations"]
    assert results[missing_ref]["status"]["phase"] in ("Error", "Failed")
    assert "workflow-template-1" in str(results[missing_ref]["status"])
