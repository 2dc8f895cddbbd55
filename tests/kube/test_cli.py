"""The cluster commands and the backend switch the main CLI uses."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from argosy.errors import WorkflowNotFound
from argosy.pipeline.kube.cli import (
    cluster_delete,
    cluster_options,
    cluster_store_from_env,
    main_group,
    run_in_cluster,
)

from .conftest import submit


@pytest.fixture(autouse=True)
def _clean_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ARGOSY_BACKEND", "ARGOSY_KUBECONFIG", "ARGOSY_KUBE_CONTEXT"):
        monkeypatch.delenv(var, raising=False)


def test_cluster_options_switch_the_backend(kube: Any) -> None:
    seen: dict[str, Any] = {}

    @click.group(invoke_without_command=True)
    @cluster_options
    def cli() -> None:
        seen["store"] = cluster_store_from_env()

    assert CliRunner().invoke(cli, []).exit_code == 0
    assert seen["store"] is None
    result = CliRunner().invoke(cli, ["--kubeconfig", str(kube.kubeconfig(namespace="team-a"))])
    assert result.exit_code == 0, result.output
    store: Any = seen["store"]
    assert store.is_cluster and store.api.host == kube.url and store.namespace == "team-a"
    assert CliRunner().invoke(cli, ["--local"]).exit_code == 0 and seen["store"] is None


def test_commands_are_registered() -> None:
    result = CliRunner().invoke(main_group, ["--help"])
    assert "controller" in result.output and "exec" in result.output
    result = CliRunner().invoke(main_group, ["exec", "--help"])
    for command in ("init", "wait", "resource", "gc"):
        assert command in result.output
    assert "--kubeconfig" in CliRunner().invoke(main_group, ["controller", "--help"]).output


def test_exec_outside_a_pod_says_so() -> None:
    proc = subprocess.run([sys.executable, "-m", "argosy.pipeline.kube.cli", "exec", "wait"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False)
    assert proc.returncode == 1
    assert "ARGO_TEMPLATE is not set" in proc.stderr


def test_cluster_delete(kube: Any, store: Any) -> None:
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "held", "finalizers": ["workflows.argoproj.io/artifact-gc"]},
          "spec": {"entrypoint": "m", "templates": [{"name": "m", "container": {"image": "busybox"}}]}}
    store.create_workflow(wf)
    assert cluster_delete(store, "held").startswith("deletion pending")
    assert store.get_workflow("held")["metadata"]["deletionTimestamp"]
    assert cluster_delete(store, "held", force=True) == "deleted"  # `argo delete --force`
    with pytest.raises(KeyError):
        store.get_workflow("held")


def test_run_in_cluster_without_a_controller(kube_pods: Any, store: Any) -> None:
    name = submit(store, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "fg-"},
                          "spec": {"entrypoint": "m", "templates": [{"name": "m", "script": {"image": "python", "command": ["sh"], "source": "echo from script"}}]}})
    final = run_in_cluster(store, name)
    assert final is not None and final["status"]["phase"] == "Succeeded"
    node = next(iter(final["status"]["nodes"].values()))
    assert node["outputs"]["result"] == "from script"


def _argosy(kubeconfig: Any, *args: str) -> Any:
    """The real ``argosy`` command line (root options first), as a user types it."""
    from argosy.cli.main import cli

    return CliRunner().invoke(cli, ["--kubeconfig", str(kubeconfig), *args])


def test_the_argosy_cli_drives_a_cluster(kube_pods: Any, store: Any, start_controller: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """submit / list / get / logs / delete with ``--kubeconfig``: Workflow objects, the controller runs them."""
    from .conftest import wait_done

    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path / "local-home"))  # must stay untouched
    start_controller()
    cfg = kube_pods.kubeconfig(namespace="default")
    path = tmp_path / "wf.yaml"
    path.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: cli-}\n"
        "spec:\n  entrypoint: m\n  templates:\n  - name: m\n    container: {image: alpine, command: [sh, -c, 'echo hello from the cluster']}\n"
    )
    submitted = _argosy(cfg, "submit", str(path), "-n", "default", "-o", "name")
    assert submitted.exit_code == 0, submitted.output
    name = submitted.output.strip()
    assert store.get_workflow(name)["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == "argosy"
    wait_done(kube_pods, store, name)

    listed = _argosy(cfg, "list", "-n", "default")
    assert listed.exit_code == 0 and re.search(rf"^{name}\s+Succeeded", listed.output, re.M), listed.output
    got = _argosy(cfg, "get", name, "-n", "default")
    assert got.exit_code == 0 and re.search(r"^Status:\s+Succeeded$", got.output, re.M), got.output
    logs = _argosy(cfg, "logs", name, "-n", "default")
    assert logs.output == f"{name}: hello from the cluster\n"
    waited = _argosy(cfg, "logs", name, "-n", "default", "-c", "wait")  # the wait container's own log
    assert waited.output.splitlines()[0] == f"{name}: main exited with code 0", waited.output
    expected = [["TYPE", "REASON"], ["Normal", "WorkflowRunning"], ["Normal", "WorkflowSucceeded"]]

    def events_listed() -> list[list[str]] | None:  # Kubernetes Events, recorded just after the final status
        listed = [line.split()[:2] for line in _argosy(cfg, "events", name, "-n", "default").output.splitlines()]
        return listed if listed == expected else None

    kube_pods.wait_for(events_listed, 10, "the workflow's events")
    refused = _argosy(cfg, "gc", "retry", name, "-n", "default")
    assert refused.exit_code != 0 and "on a cluster the controller collects artifacts with GC pods" in str(refused.exception)
    assert not (tmp_path / "local-home").exists()  # nothing went to the local store

    deleted = _argosy(cfg, "delete", name, "-n", "default")
    assert deleted.exit_code == 0 and deleted.output == f"Workflow '{name}' deleted\n"
    with pytest.raises(KeyError):
        store.get_workflow(name)
    missing = _argosy(cfg, "get", name, "-n", "default")
    assert isinstance(missing.exception, WorkflowNotFound) and str(missing.exception) == f'workflows.argoproj.io "{name}" not found'


def test_cluster_retry_leaves_the_run_to_the_controller(kube_pods: Any, store: Any, start_controller: Any, tmp_path: Any) -> None:
    """``argosy retry`` on a cluster resets the failed nodes; the controller (not a local runner) re-runs them."""
    import socket
    import threading

    from .conftest import wait_done

    server = socket.create_server(("127.0.0.1", 0))  # says "fail" to the first run only
    runs: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            runs.append(1)
            conn.sendall(b"fail" if len(runs) == 1 else b"pass")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    code = (f"import socket, sys; s = socket.create_connection(('127.0.0.1', {server.getsockname()[1]})); "
            "sys.exit(3 if s.recv(4) == b'fail' else 0)")
    start_controller()
    cfg = kube_pods.kubeconfig(namespace="default")
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "retry-"},
        "spec": {"entrypoint": "m", "templates": [{"name": "m", "container": {"image": "python", "command": [sys.executable, "-c", code]}}]},
    }))
    name = _argosy(cfg, "submit", str(path), "-o", "name").output.strip()
    assert wait_done(kube_pods, store, name)["status"]["phase"] == "Failed"
    retried = _argosy(cfg, "retry", name)
    assert retried.exit_code == 0, retried.output
    assert wait_done(kube_pods, store, name)["status"]["phase"] == "Succeeded"
    again = _argosy(cfg, "retry", name)
    assert again.exit_code == 1 and "is not failed or errored" in again.output
    assert len(runs) == 2
    server.close()


def test_submit_foreground_runs_the_engine_in_the_cli_without_a_controller(kube_pods: Any, store: Any, tmp_path: Any) -> None:
    """``argosy --kubeconfig K submit --foreground``: pods on the cluster, the engine in this process."""
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "fg-"},
        "spec": {"entrypoint": "m", "templates": [{"name": "m", "script": {"image": "python", "command": ["sh"], "source": "echo in a pod"}}]},
    }))
    result = _argosy(kube_pods.kubeconfig(namespace="default"), "submit", str(path), "--foreground", "-o", "json")
    assert result.exit_code == 0, result.output
    import json

    record = json.loads(result.output)
    assert record["status"]["phase"] == "Succeeded"
    assert next(iter(record["status"]["nodes"].values()))["outputs"]["result"] == "in a pod"
    assert kube_pods.list("v1", "Pod", "default", f"workflows.argoproj.io/workflow={record['metadata']['name']}")
