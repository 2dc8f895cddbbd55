"""The cluster commands and the backend switch the main CLI uses."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

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
