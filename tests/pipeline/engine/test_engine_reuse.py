"""What the engine reuses from pass to pass (processed steps/DAG templates, task dependencies),
and that reuse never hides a change: in-process runs with a scripted executor, no timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from argosy.pipeline.engine import operator as operator_module
from argosy.pipeline.engine.runner import WorkflowRunner
from argosy.pipeline.executors.base import Executor, PodRequest, PodResult
from argosy.pipeline.model import Outputs
from argosy.pipeline.status import format_time, now
from argosy.pipeline.store import Store


class ScriptedExecutor(Executor):
    """Finishes each pod at launch: Failed when its node name contains ``fail``, else Succeeded
    with the outputs given for its task (by the last part of the node name)."""

    def __init__(self, outputs: dict[str, dict[str, Any]] | None = None) -> None:
        self.outputs = outputs or {}
        self.requests: list[PodRequest] = []
        self._done: list[PodResult] = []

    def launch(self, request: PodRequest) -> None:
        self.requests.append(request)
        task = request.node_name.rsplit(".", 1)[-1]
        phase = "Failed" if "fail" in task else "Succeeded"
        outputs = Outputs.model_validate({"exitCode": "1" if phase == "Failed" else "0", **self.outputs.get(task, {})})
        stamp = format_time(now())
        self._done.append(PodResult(request.pod_name, request.node_id, phase, None, outputs, stamp, stamp))

    def wait(self, timeout: float | None) -> list[PodResult]:
        out, self._done = self._done, []
        return out

    def kill(self, pod_name: str, message: str) -> None:
        pass

    def active(self) -> set[str]:
        return set()

    def close(self) -> None:
        pass


def run(tmp_path: Path, spec: dict[str, Any], executor: ScriptedExecutor) -> dict[str, Any]:
    store = Store(tmp_path / "home")
    store.create_workflow({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "wf"}, "spec": spec})
    return WorkflowRunner(store, executor).run("wf")


def phases(record: dict[str, Any]) -> dict[str, str]:
    return {n["displayName"]: n["phase"] for n in record["status"]["nodes"].values()}


ECHO = {"name": "echo", "inputs": {"parameters": [{"name": "v", "value": "-"}]},
        "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p"}, "globalName": "g"}]},
        "container": {"image": "x", "command": ["echo", "{{inputs.parameters.v}}"]}}


def test_a_dag_template_is_processed_again_only_when_its_inputs_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processed: list[str] = []
    original = operator_module.process_args

    def counting(tmpl: Any, *args: Any, **kwargs: Any) -> Any:
        processed.append(tmpl.name or "")
        return original(tmpl, *args, **kwargs)

    monkeypatch.setattr(operator_module, "process_args", counting)
    chain = [{"name": "a", "template": "echo", "arguments": {"parameters": [{"name": "v", "value": "first"}]}}]
    chain += [{"name": f"t{i}", "template": "echo", "dependencies": ["a" if i == 0 else f"t{i - 1}"]} for i in range(4)]
    chain += [{"name": "last", "template": "echo", "dependencies": ["t3"],
               "arguments": {"parameters": [{"name": "v", "value": "{{workflow.outputs.parameters.g}}"}]}}]
    executor = ScriptedExecutor({"a": {"parameters": [{"name": "p", "value": "from-a", "globalName": "g"}]}})
    record = run(tmp_path, {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": chain}}, ECHO]}, executor)
    assert record["status"]["phase"] == "Succeeded"
    assert processed.count("echo") == 6  # one pod per task, one pass per task of this chain
    # the DAG template: at the first pass, and once more after ``a`` set a global output, not 7 times
    assert processed.count("main") == 2
    last = next(r for r in executor.requests if r.node_name.endswith(".last"))
    assert last.template.container is not None and last.template.container.command == ["echo", "from-a"]


def test_plain_dependencies_follow_continue_on(tmp_path: Path) -> None:
    tasks = [
        {"name": "fail-tolerated", "template": "echo", "continueOn": {"failed": True}},
        {"name": "after-tolerated", "template": "echo", "dependencies": ["fail-tolerated"]},
        {"name": "fail-hard", "template": "echo"},
        {"name": "after-hard", "template": "echo", "dependencies": ["fail-hard"]},
        {"name": "ok", "template": "echo"},
        {"name": "after-both", "template": "echo", "dependencies": ["ok", "fail-tolerated"]},
        {"name": "depends-expr", "template": "echo", "depends": "fail-hard.Failed && ok"},
    ]
    record = run(tmp_path, {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}, ECHO]},
                 ScriptedExecutor())
    got = phases(record)
    assert got["after-tolerated"] == "Succeeded"
    assert got["after-both"] == "Succeeded"
    assert got["after-hard"] == "Omitted"
    assert got["depends-expr"] == "Succeeded"
    assert record["status"]["phase"] == "Failed"
