"""configs/kubernetes/: kubectl accepts it, the API server accepts every object, roles stay least-privilege."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import CONFIGS_DIR

REPO = CONFIGS_DIR.parents[1]


def docs() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(CONFIGS_DIR.glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_apply_dry_run_client(kube: Any) -> None:
    config = kube.kubeconfig()
    proc = subprocess.run(["kubectl", "--kubeconfig", str(config), "apply", "--dry-run=client", "-f", str(CONFIGS_DIR)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == len(docs()) and all(line.endswith("(dry run)") for line in lines)


def test_every_object_is_accepted_by_the_api(kube: Any) -> None:
    """The fake server validates built-in kinds strictly against the client's models (unknown fields fail)."""
    applied = kube.apply(docs())
    assert {d["kind"] for d in applied} == {"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole",
                                            "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Deployment"}
    kube.apply(docs())  # idempotent


def test_roles_are_least_privilege() -> None:
    rules: dict[str, list[dict[str, Any]]] = {d["metadata"]["name"]: d["rules"] for d in docs() if d["kind"] in ("Role", "ClusterRole")}
    for name, items in rules.items():
        for rule in items:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], name
            assert "secrets" not in rule["resources"], f"{name} must not read Secrets (pods mount them)"
    assert rules["argosy-executor"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "get", "update", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    gc_rules = {r["resources"][0]: r["verbs"] for r in rules["argosy-artifactgc"]}
    assert gc_rules == {"workflowartifactgctasks": ["list", "watch"], "workflowartifactgctasks/status": ["patch"], "workflows": ["list"]}
    # The controller's own rights are exercised under enforced RBAC by test_e2e.py.


def test_deployment_and_configmap() -> None:
    by_kind = {d["kind"]: d for d in docs()}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "argosy-controller"
    assert container["args"][0] == "controller" and container["image"] == container["args"][2]
    assert {e["name"] for e in container["env"]} == {"POD_NAME", "POD_NAMESPACE"}
    config = yaml.safe_load(by_kind["ConfigMap"]["data"]["config"])
    assert config["executor"]["image"] == container["image"] and "s3" in config["artifactRepository"]


def test_dockerfile_and_docs() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "ENTRYPOINT [\"argosy\"]" in text and "USER 8737" in text and "FROM python:3.11" in text
    guide = (REPO / "docs" / "kubernetes.md").read_text()
    assert guide.startswith("# Run on Kubernetes")
    for topic in ("kubectl apply -f configs/kubernetes/", "argosy controller", "--kubernetes", "serviceAccountName",
                  "artifactGC", "setOwnerReference"):
        assert topic in guide, topic


def test_crds_match_the_fixture() -> None:
    crds = [d for d in docs() if d["kind"] == "CustomResourceDefinition"]
    assert sorted(d["spec"]["names"]["kind"] for d in crds) == ["ClusterWorkflowTemplate", "CronWorkflow", "Workflow",
                                                                  "WorkflowArtifactGCTask", "WorkflowTaskResult", "WorkflowTemplate"]
    gc = next(d for d in crds if d["spec"]["names"]["kind"] == "WorkflowArtifactGCTask")
    assert gc["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert Path(REPO / "configs/kubernetes/01-crds.yaml").exists()
