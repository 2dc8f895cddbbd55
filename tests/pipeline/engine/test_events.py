"""Argo's workflow events: decided from successive statuses, recorded by the runner."""

from __future__ import annotations

from typing import Any

import pytest

from argosy.pipeline.engine.events import phase_events
from tests.pipeline.engine.harness import Argosy, argosy_fixture, fresh_argosy, node, wait_until  # noqa: F401


def _status(phase: str | None, message: str = "", **nodes: tuple[str, str]) -> dict[str, Any]:
    return {"phase": phase, "message": message,
            "nodes": {nid: {"name": f"wf.{nid}", "phase": p, "message": m} for nid, (p, m) in nodes.items()}}


@pytest.mark.parametrize(("before", "after", "expected"), [
    pytest.param(None, _status("Running"), [("Normal", "WorkflowRunning", "Workflow Running")], id="started"),
    pytest.param(_status("Running"), _status("Running"), [], id="no-change"),
    pytest.param(_status("Running", a=("Running", "")), _status("Succeeded", a=("Succeeded", "")),
                 [("Normal", "WorkflowSucceeded", "Workflow completed")], id="succeeded"),
    pytest.param(_status("Running", a=("Running", "")), _status("Failed", "child 'wf.a' failed", a=("Failed", "main: Error (exit code 3)")),
                 [("Warning", "WorkflowNodeFailed", "Failed node wf.a: main: Error (exit code 3)"),
                  ("Warning", "WorkflowFailed", "child 'wf.a' failed")], id="failed"),
    pytest.param(_status("Running"), _status("Failed", "Max duration limit exceeded"),
                 [("Warning", "WorkflowTimedOut", "Max duration limit exceeded")], id="timed-out"),
    pytest.param(_status("Running", a=("Error", "x")), _status("Running", a=("Error", "x"), b=("Error", "")),
                 [("Warning", "WorkflowNodeError", "Error node wf.b")], id="node-error-once"),
])
def test_phase_events(before: dict[str, Any] | None, after: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert phase_events(before, after) == expected


def test_a_run_records_argos_events(argosy: Argosy) -> None:
    path = argosy.write("ev.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: ev-}\n"
                                   "spec:\n  entrypoint: m\n  templates:\n  - name: m\n    container: {image: alpine, command: [sh, -c, 'exit 3']}\n")
    name = argosy.start(path)
    argosy.wait_phase(name)
    expected = [["TYPE", "REASON"], ["Normal", "WorkflowRunning"], ["Warning", "WorkflowNodeFailed"], ["Warning", "WorkflowFailed"]]

    def listed() -> list[str] | None:  # recorded by the runner just after it writes the final status
        lines = argosy.cli("events", name).out.splitlines()
        return lines if [ln.split()[:2] for ln in lines] == expected else None

    lines = wait_until(listed, 10, 0.05, "the workflow's events")
    assert lines[2].split(None, 2)[2] == f"Failed node {name}: main: Error (exit code 3)"
