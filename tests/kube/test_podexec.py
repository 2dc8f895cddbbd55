"""Inside the pod: the shell shim, ``argosy exec init``, ``wait``'s report channels (and their RBAC), ``gc``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argosy.pipeline.executors import podexec
from argosy.pipeline.kube.client import KubeClient

TEMPLATE = {"name": "t", "container": {"image": "busybox", "command": ["sh"]},
            "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p"}},
                                       {"name": "d", "valueFrom": {"path": "/tmp/missing", "default": "dflt"}}],
                        "artifacts": [{"name": "a", "path": "/tmp/out", "archive": {"none": {}}}, {"name": "p2", "path": "/tmp/p"}]}}


def pod_env(template: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"ARGO_TEMPLATE": json.dumps(template), "ARGO_POD_NAME": "wf-t-1", "ARGO_NAMESPACE": "default",
            "ARGO_WORKFLOW_NAME": "wf", "ARGO_WORKFLOW_UID": "uid", "ARGO_NODE_ID": "wf-1", "ARGO_NODE_NAME": "wf.t",
            "ARGO_INCLUDE_SCRIPT_OUTPUT": "true", "ARGOSY_OUTPUT_KEY_PREFIX": "wf/wf-t-1", **extra}


def test_output_paths_are_distinct_and_ordered() -> None:
    assert podexec.output_paths(TEMPLATE) == ["/tmp/p", "/tmp/missing", "/tmp/out"]


def test_init_writes_shim_script_and_raw_inputs(tmp_path: Path) -> None:
    tmpl = {"name": "s", "script": {"image": "python", "command": ["python"], "source": "print(1)"},
            "inputs": {"artifacts": [{"name": "cfg", "path": "/etc/app/cfg", "mode": 0o600, "raw": {"data": "k: v\n"}}]},
            "outputs": TEMPLATE["outputs"]}
    assert podexec.init(pod_env(tmpl), tmp_path) == 0
    argo = tmp_path / "var/run/argo"
    assert (argo / "argosy-shim").read_text() == podexec.SHIM and (argo / "argosy-shim").stat().st_mode & 0o755 == 0o755
    assert (argo / "outputs.list").read_text() == "0\t/tmp/p\n1\t/tmp/missing\n2\t/tmp/out\n"
    assert (tmp_path / "argo/staging/script").read_text() == "print(1)"
    loaded = tmp_path / "argo/inputs/artifacts/cfg"
    assert loaded.read_text() == "k: v\n" and loaded.stat().st_mode & 0o777 == 0o600


def test_init_fails_clearly_without_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = {"name": "c", "container": {"image": "busybox"}, "inputs": {"artifacts": [{"name": "in", "path": "/in", "s3": {"key": "k"}}]}}
    assert podexec.init(pod_env(tmpl), tmp_path) == 1
    assert capsys.readouterr().err.strip() == ("failed to load artifacts: artifact storage is not configured; see the docs for setup "
                                               "instructions: https://argo-workflows.readthedocs.io/en/latest/configure-artifact-repository/")
    optional = {**tmpl, "inputs": {"artifacts": [{"name": "in", "path": "/in", "optional": True}]}}
    assert podexec.init(pod_env(optional), tmp_path) == 0


def test_shim_in_a_sandbox(tmp_path: Path) -> None:
    """The POSIX shim: stdout tee'd, outputs copied (file, directory), exit code published last, sidecar stopped."""
    from argosy.pipeline.executors import sandbox

    if sandbox.detect_mode() != "overlay":
        pytest.skip("needs the overlay sandbox")
    fs = sandbox.StepFilesystem(tmp_path / "pod")
    argo = fs.host_path("/var/run/argo")
    argo.mkdir(parents=True, exist_ok=True)
    (argo / "argosy-shim").write_text(podexec.SHIM)
    (argo / "outputs.list").write_text("0\t/tmp/p\n1\t/tmp/missing\n2\t/tmp/out\n")
    script = "echo hello; echo -n v > /tmp/p; mkdir -p /tmp/out/sub; echo x > /tmp/out/sub/f; echo err >&2; exit 7"
    proc = sandbox.start(sandbox.SandboxSpec(argv=["/bin/sh", "/var/run/argo/argosy-shim", "main", "sh", "-c", script], fs=fs,
                                             stdout_path=tmp_path / "out", stderr_path=tmp_path / "err"))
    assert proc.wait(30).exit_code == 7
    assert (tmp_path / "out").read_text() == "hello\n" and (tmp_path / "err").read_text() == "err\n"
    assert fs.read_path("/var/run/argo/ctr/main/exitcode").read_text().strip() == "7"
    assert fs.read_path("/var/run/argo/ctr/main/stdout").read_text() == "hello\n"
    assert fs.read_path("/var/run/argo/outputs/0/p").read_text() == "v"
    assert fs.read_path("/var/run/argo/outputs/2/out/sub/f").read_text() == "x\n"
    with pytest.raises(FileNotFoundError):
        fs.read_path("/var/run/argo/outputs/1")
    # a sidecar ends once main has published its exit code
    side = sandbox.start(sandbox.SandboxSpec(argv=["/bin/sh", "/var/run/argo/argosy-shim", "sidecar", "sleep", "60"], fs=fs))
    assert side.wait(20).exit_code in (143, 137)


def _prepare_wait(base: Path, exit_code: int = 0) -> None:
    argo = base / "var/run/argo"
    (argo / "ctr/main").mkdir(parents=True)
    (argo / "ctr/main/stdout").write_text("the result\n")
    (argo / "outputs/0").mkdir(parents=True)
    (argo / "outputs/0/p").write_text("value\n")
    (argo / "ctr/main/exitcode").write_text(f"{exit_code}\n")


def _pod(kube: Any) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wf-t-1"},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    kube.kubelet.reset()  # the pod object only: nothing runs it


def _role(kube: Any, sa: str, rules: list[dict[str, Any]]) -> KubeClient:
    kube.apply([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": sa}, "rules": rules},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
                 "subjects": [{"kind": "ServiceAccount", "name": sa}]}])
    kube.server.enforce_rbac = True
    return KubeClient.for_url(kube.url, f"sa:default:{sa}")


def test_wait_reports_a_task_result(kube: Any, tmp_path: Path) -> None:
    tmpl = {"name": "t", "container": {"image": "busybox"},
            "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p"}},
                                       {"name": "d", "valueFrom": {"path": "/tmp/missing", "default": "dflt"}}]}}
    _prepare_wait(tmp_path)
    api = _role(kube, "executor", [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "get", "update"]}])
    env = podexec.PodEnv.from_environ(pod_env(tmpl))
    assert podexec.wait(env, tmp_path, api=api) == 0
    tr = kube.get("argoproj.io/v1alpha1", "WorkflowTaskResult", "wf-1")
    assert tr["outputs"] == {"parameters": [{"name": "p", "value": "value"}, {"name": "d", "value": "dflt"}],
                             "result": "the result", "exitCode": "0"}
    assert tr["metadata"]["labels"] == {"workflows.argoproj.io/workflow": "wf", "workflows.argoproj.io/report-outputs-completed": "true"}
    assert tr["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is False
    # a second report (a retried node) replaces the first
    assert podexec.report(env, {"result": "again"}, api=api) == 0
    assert kube.get("argoproj.io/v1alpha1", "WorkflowTaskResult", "wf-1")["outputs"] == {"result": "again"}


def test_wait_falls_back_to_the_pod_annotation_with_seed_003_role(kube: Any, tmp_path: Path) -> None:
    """Seed 003's minimal role (pods get/watch/patch, pods/log get/watch) has no WorkflowTaskResults."""
    from .test_e2e import _seed_yaml

    role = _seed_yaml("003_41b264c4db066fc9.txt", "pod patch is used")[0]
    _pod(kube)
    api = _role(kube, "minimal", role["rules"])
    tmpl = {"name": "t", "container": {"image": "busybox"}, "outputs": {"artifacts": [{"name": "a", "path": "/tmp/nothing"}]}}
    _prepare_wait(tmp_path, exit_code=2)
    assert podexec.wait(podexec.PodEnv.from_environ(pod_env(tmpl)), tmp_path, api=api) == 0
    pod = kube.get("v1", "Pod", "wf-t-1")
    annotations = pod["metadata"]["annotations"]
    assert json.loads(annotations["workflows.argoproj.io/outputs"]) == {"result": "the result", "exitCode": "2"}
    message = annotations["workflows.argoproj.io/node-message"]  # the local executor's wording (shared code)
    assert message.startswith("output artifact 'a'") and "/tmp/nothing" in message
    assert annotations["argosy.io/node-phase"] == "Error"


def test_report_without_rights_names_the_service_account(kube: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _pod(kube)
    api = _role(kube, "nobody", [])
    monkeypatch.setenv("ARGOSY_SERVICE_ACCOUNT", "nobody")
    env = podexec.PodEnv.from_environ(pod_env(TEMPLATE))
    assert podexec.report(env, {"result": "x"}, api=api) == 1
    assert "failed to save outputs: verify serviceaccount default:nobody has necessary privileges" in capsys.readouterr().err


@pytest.mark.s3
def test_gc_pod_with_seed_002_artifactgc_role(kube: Any, s3_server: Any, s3_bucket: str) -> None:
    """Seed 002's ``artifactgc`` Role is enough for ``argosy exec gc`` (without the workflows list it skips the sharing check)."""
    from argosy.gc.tasks import GC_POD_LABEL
    from argosy.pipeline.names import fnv32a

    from .test_e2e import _seed_yaml

    role = _seed_yaml("002_469287e087a84fe1.txt", "name: artifactgc")[0]
    s3 = s3_server.client()
    s3.put_object(Bucket=s3_bucket, Key="wf/pod/a.tgz", Body=b"x")
    kube.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                "stringData": {"a": s3_server.access_key, "s": s3_server.secret_key}})
    repo = {"s3": {"endpoint": s3_server.endpoint, "bucket": s3_bucket, "insecure": True,
                   "accessKeySecret": {"name": "creds", "key": "a"}, "secretKeySecret": {"name": "creds", "key": "s"}}}
    pod = "wf-artgc-wfcomp-2166136261"
    kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowArtifactGCTask",
                "metadata": {"name": f"{pod}-0", "labels": {GC_POD_LABEL: str(fnv32a(pod)), "workflows.argoproj.io/workflow": "wf"}},
                "spec": {"artifactsByNode": {"n1": {"archiveLocation": repo, "artifacts": {"a": {"name": "a", "s3": {"key": "wf/pod/a.tgz"}}}}}}})
    api = _role(kube, "gc", role["rules"])
    secrets = kube.tmp / "root"
    (secrets / "argo/secret/creds").mkdir(parents=True)
    (secrets / "argo/secret/creds/a").write_text(s3_server.access_key)
    (secrets / "argo/secret/creds/s").write_text(s3_server.secret_key)
    assert podexec.gc({"ARGO_POD_NAME": pod, "ARGO_NAMESPACE": "default"}, secrets, api=api) == 0
    assert "Contents" not in s3.list_objects_v2(Bucket=s3_bucket)
    task = kube.get("argoproj.io/v1alpha1", "WorkflowArtifactGCTask", f"{pod}-0")
    assert task["status"]["artifactResultsByNode"]["n1"]["artifactResults"]["a"]["success"] is True


def test_resource_from_manifest_artifact_reports_its_verdict(kube: Any, tmp_path: Path) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-artifact\ndata:\n  k: v\n"
    tmpl = {"name": "r", "inputs": {"artifacts": [{"name": "manifest", "path": "/tmp/manifest.yaml", "raw": {"data": manifest}}]},
            "resource": {"action": "create", "setOwnerReference": True, "manifestFrom": {"artifact": {"name": "manifest"}}},
            "outputs": {"parameters": [{"name": "k", "valueFrom": {"jqFilter": ".data.k"}}]}}
    env = podexec.PodEnv.from_environ(pod_env(tmpl))
    assert podexec.resource(env, tmp_path, api=kube.client()) == 0
    created = kube.get("v1", "ConfigMap", "from-artifact")
    assert created["metadata"]["ownerReferences"][0]["name"] == "wf"
    tr = kube.get("argoproj.io/v1alpha1", "WorkflowTaskResult", "wf-1")
    assert (tr["phase"], tr["outputs"]) == ("Succeeded", {"parameters": [{"name": "k", "value": "v"}]})
    # creating it again fails, and the verdict says why
    assert podexec.resource(env, tmp_path, api=kube.client()) == 1
    tr = kube.get("argoproj.io/v1alpha1", "WorkflowTaskResult", "wf-1")
    assert tr["phase"] == "Failed" and 'configmaps "from-artifact" already exists' in tr["message"]


def test_wait_notices_a_main_that_never_ran_the_shim(kube: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No /bin/sh in the image: main dies before the shim writes its exit code; wait reads the pod status."""
    _pod(kube)
    kube.server.mutate(kube.rd("v1", "Pod"), "default", "wf-t-1", lambda o: o["status"].update(containerStatuses=[
        {"name": "main", "ready": False, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"terminated": {"exitCode": 127, "reason": "StartError"}}}]))
    (tmp_path / "var/run/argo").mkdir(parents=True)
    monkeypatch.setattr(podexec, "SHIM_CHECK_SECONDS", 0.0)
    env = podexec.PodEnv.from_environ(pod_env({"name": "t", "container": {"image": "distroless"}}))
    assert podexec.wait(env, tmp_path, api=kube.client()) == 0
    tr = kube.get("argoproj.io/v1alpha1", "WorkflowTaskResult", "wf-1")
    assert tr["outputs"]["exitCode"] == "127"

