"""End to end on the fake cluster: artifacts through S3, a resource template, artifact GC by pods.

Everything runs for real except the cluster: the controller (with its own service account and
the RBAC from configs/kubernetes/), pods built by the executor and run by the fake kubelet
(``argosy exec init`` / the shim / ``argosy exec wait``), the resource template's
``argosy exec resource`` pod, and the artifact GC pod. RBAC is enforced for every service account.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.pipeline.kube.client import resource_type
from argosy.pipeline.names import pod_name

from .conftest import deleted, nodes_by_display, seed, submit, wait_done

pytestmark = pytest.mark.s3

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "kubernetes"
SEED_DIR = Path("/work/shared/seeds")

# Seed 000's Job (``dummy-first``), with generateName as the post says a template-created Job needs.
JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  generateName: dummy-
spec:
  completions: 1
  template:
    spec:
      containers:
        - name: dummy-job
          image: gcr.io/k8s-staging-perf-tests/sleep:v0.1.0
          args: ["10s"]
      restartPolicy: Never
"""

WORKFLOW: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "e2e-"},
    "spec": {
        "entrypoint": "main",
        "serviceAccountName": "argo-workflow-account",
        "artifactGC": {"strategy": "OnWorkflowCompletion"},
        "templates": [
            {"name": "main", "dag": {"tasks": [
                {"name": "produce", "template": "produce"},
                {"name": "consume", "template": "consume", "dependencies": ["produce"], "arguments": {
                    "artifacts": [{"name": "message", "from": "{{tasks.produce.outputs.artifacts.hello}}"}]}},
                {"name": "job", "template": "job", "dependencies": ["consume"]},
            ]}},
            {"name": "produce", "container": {"image": "busybox", "command": ["sh", "-c"],
                                              "args": ["mkdir -p /tmp/out && echo hello artifacts > /tmp/out/hello.txt && echo -n 42 > /tmp/n"]},
             "outputs": {"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n"}}],
                         "artifacts": [{"name": "hello", "path": "/tmp/out/hello.txt"}]}},
            {"name": "consume", "inputs": {"artifacts": [{"name": "message", "path": "/tmp/message"}]},
             "container": {"image": "alpine:latest", "command": ["sh", "-c"], "args": ["cat /tmp/message"]}},
            {"name": "job", "resource": {"action": "create", "setOwnerReference": True,
                                         "successCondition": "status.succeeded > 0", "failureCondition": "status.failed > 0",
                                         "manifest": JOB},
             "outputs": {"parameters": [{"name": "job-name", "valueFrom": {"jsonPath": "{.metadata.name}"}}]}},
        ],
    },
}


def _in_namespace(docs: list[dict[str, Any]], ns: str) -> list[dict[str, Any]]:
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if "namespace" in meta:
            meta["namespace"] = ns
        for subject in doc.get("subjects") or []:
            subject["namespace"] = ns
    return docs


def _seed_yaml(seed_file: str, marker: str) -> list[dict[str, Any]]:
    """The YAML block of a seed post that contains ``marker`` (the posts are the source of truth)."""
    text = (SEED_DIR / seed_file).read_text()
    for block in text.split("```")[1::2]:
        if not block.startswith("yaml"):
            continue
        # posts elide with "..." lines and bold names with markdown "**": neither is YAML
        body = "\n".join(line for line in block.split("\n")[1:] if line.strip(" .") or not line.strip()).replace("**", "")
        if marker in body:
            return [d for d in yaml.safe_load_all(body) if d]
    raise AssertionError(f"{marker!r} not found in {seed_file}")


def setup_cluster(kube: Any, s3_server: Any, bucket: str) -> None:
    """RBAC (configs + seed 000), the artifact repository (seed 001's ConfigMap and Secret)."""
    for name in ("00-namespace.yaml", "02-controller-rbac.yaml"):
        kube.apply((CONFIGS / name).read_text())
    kube.apply(_in_namespace([d for d in yaml.safe_load_all((CONFIGS / "04-artifactgc-rbac.yaml").read_text()) if d], "default"))
    # Seed 000: the workflow service account and its ClusterRole on Argo's resources.
    kube.apply(_seed_yaml("000_babe6a2ae261cb90.txt", "argo-workflow-account"))
    # The post's note: the account also needs rights on the Jobs the resource template creates.
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "jobs", "namespace": "default"},
                "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch"]}]})
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "jobs", "namespace": "default"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "jobs"},
                "subjects": [{"kind": "ServiceAccount", "name": "argo-workflow-account", "namespace": "default"}]})
    # Seed 001: the MinIO Secret and workflow-controller-configmap, pointed at the loopback S3 server.
    secret = _seed_yaml("001_07ee91215189f0cd.txt", "kind: Secret")[0]
    secret["metadata"]["namespace"] = "default"
    kube.apply(secret)
    cm = next(d for d in _seed_yaml("001_07ee91215189f0cd.txt", "artifactRepository") if True)
    config = cm.get("data", {}).get("config") or ""
    config = config.replace("minio.argo:9000", s3_server.endpoint).replace("my-bucket", bucket)
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "workflow-controller-configmap", "namespace": "argo"}, "data": {"config": config}})
    kube.server.enforce_rbac = True


def test_artifacts_resource_template_and_gc(kube_pods: Any, start_controller: Any, store: Any, s3_server: Any, s3_bucket: str) -> None:
    kube = kube_pods
    setup_cluster(kube, s3_server, s3_bucket)
    controller_api = kube.client(token="sa:argo:argosy-controller")
    start_controller(api=controller_api, lease_namespace="argo")
    name = submit(store, WORKFLOW)
    wf = wait_done(kube, store, name, 90)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)

    # Parameters and artifacts crossed pods through the shim, the wait container and S3.
    produce, consume, job = nodes["produce"], nodes["consume"], nodes["job"]
    assert {p["name"]: p["value"] for p in produce["outputs"]["parameters"]} == {"n": "42"}
    art = produce["outputs"]["artifacts"][0]
    produce_pod = pod_name(name, produce["name"], "produce")
    assert art["s3"]["key"] == f"{name}/{produce_pod}/hello.tgz"
    assert consume["outputs"]["result"] == "hello artifacts"
    assert consume["inputs"]["artifacts"][0]["name"] == "message"

    # The resource template created a Job owned by the workflow and waited for its success.
    job_name = {p["name"]: p["value"] for p in job["outputs"]["parameters"]}["job-name"]
    created = kube.get("batch/v1", "Job", job_name)
    assert created is not None and created["status"]["succeeded"] == 1
    owner = created["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == ("Workflow", name, wf["metadata"]["uid"], True)

    # Pods are Argo-shaped and ran as the workflow's service account.
    pods = {p["metadata"]["name"]: p for p in kube.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}")}
    assert produce_pod in pods
    spec = pods[produce_pod]["spec"]
    assert spec["serviceAccountName"] == "argo-workflow-account"
    assert [c["name"] for c in spec["initContainers"]] == ["init"] and [c["name"] for c in spec["containers"]] == ["wait", "main"]
    assert pods[produce_pod]["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"

    # Artifact GC: a pod named as Argo names it deleted the object, then the finalizer went.
    def collected() -> Any:
        current = store.get_workflow(name)
        return current if not current["metadata"].get("finalizers") else None

    final = kube.wait_for(collected, 60, "artifact GC to release the finalizer")
    gc_pods = [p for p in kube.server.events if p.rd.kind == "Pod" and p.type == "ADDED"
               and p.obj["metadata"]["labels"].get("workflows.argoproj.io/component") == "artifact-gc"]
    assert [p.obj["metadata"]["name"] for p in gc_pods] == [f"{name}-artgc-wfcomp-2166136261"]
    assert gc_pods[0].obj["spec"]["containers"][0]["command"] == ["argosy", "exec", "gc"]
    assert "serviceAccountName" not in gc_pods[0].obj["spec"] or gc_pods[0].obj["spec"]["serviceAccountName"] == "default"
    deleted = nodes_by_display(final)["produce"]["outputs"]["artifacts"][0]
    assert deleted["deleted"] is True
    assert art["s3"]["key"] not in {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    assert kube.list("argoproj.io/v1alpha1", "WorkflowArtifactGCTask", "default") == []

    # setOwnerReference: deleting the workflow deletes the Job (garbage collection by owner).
    store.delete_workflow(name)
    kube.wait_for(lambda: kube.get("batch/v1", "Job", job_name) is None, 10, "the owned Job to be deleted")
    assert seed("000-producer-consumer")  # the seed corpus is present (used by test_seeds.py)
    assert kube.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={name}") == []
    assert resource_type("Workflow").plural == "workflows"


def test_seed_002_artifact_gc_on_deletion(kube_pods: Any, start_controller: Any, store: Any, s3_server: Any, s3_bucket: str) -> None:
    """Seed 002's OnWorkflowDeletion GC: the temporary artifact goes with the workflow, ``Never`` keeps the other."""
    kube = kube_pods
    setup_cluster(kube, s3_server, s3_bucket)
    kube.apply(_in_namespace([d for d in yaml.safe_load_all((CONFIGS / "03-executor-rbac.yaml").read_text()) if d], "default"))
    start_controller(api=kube.client(token="sa:argo:argosy-controller"), lease_namespace="argo")
    name = submit(store, seed("002-artifact-gc")[0])
    wf = wait_done(kube, store, name, 60)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    assert wf["metadata"]["finalizers"] == ["workflows.argoproj.io/artifact-gc"]

    def keys() -> set[str]:
        return {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket).get("Contents", [])}

    assert keys() == {"temporary-artifact.txt", "keep-this.txt"}
    store.delete_workflow(name)

    kube.wait_for(lambda: deleted(store, name), 60, "OnWorkflowDeletion GC to release the deleted workflow")
    assert keys() == {"keep-this.txt"}
    gc = [e.obj["metadata"]["name"] for e in kube.server.events if e.rd.kind == "Pod" and e.type == "ADDED"
          and e.obj["metadata"]["labels"].get("workflows.argoproj.io/component") == "artifact-gc"]
    assert gc == [f"{name}-artgc-wfdel-2166136261"]


def test_gc_pod_refused_by_the_api_says_so_and_keeps_the_finalizer(kube_pods: Any, start_controller: Any, store: Any,
                                                                   s3_server: Any, s3_bucket: str) -> None:
    """A GC pod the API server refuses is reported as such (not as a pod that "exited non-zero"); nothing is released."""
    kube = kube_pods
    setup_cluster(kube, s3_server, s3_bucket)
    start_controller(api=kube.client(token="sa:argo:argosy-controller"), lease_namespace="argo")
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "refused-"},
           "spec": {"entrypoint": "main", "serviceAccountName": "argo-workflow-account",
                    "artifactGC": {"strategy": "OnWorkflowCompletion", "podMetadata": {"labels": {"team": "not a valid label!"}}},
                    "templates": [{"name": "main", "container": {"image": "busybox", "command": ["sh", "-c", "echo x > /tmp/x"]},
                                   "outputs": {"artifacts": [{"name": "x", "path": "/tmp/x"}]}}]}}
    name = submit(store, doc)
    wf = wait_done(kube, store, name, 60)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")

    def condition() -> Any:
        conds = [c for c in store.get_workflow(name)["status"].get("conditions") or [] if c["type"] == "ArtifactGCError"]
        return conds[0] if conds else None

    cond = kube.wait_for(condition, 30, "the ArtifactGCError condition")
    assert re.match(rf"Artifact Garbage Collection failed for strategy OnWorkflowCompletion: pod {name}-artgc-wfcomp-\d+ "
                    "could not be created: ", cond["message"]), cond["message"]
    assert "not a valid label!" in cond["message"] and "exit code" not in cond["message"]
    assert store.get_workflow(name)["metadata"]["finalizers"] == ["workflows.argoproj.io/artifact-gc"]
    events = kube.wait_for(lambda: [e for e in store.list_events(name) if e.get("reason") == "ArtifactGCFailed"], 10, "the event")
    assert events[0]["message"] == cond["message"] and events[0]["type"] == "Warning"
