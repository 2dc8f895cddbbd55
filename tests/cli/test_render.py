"""Golden tests: ``render_workflow`` must print what ``argo get`` prints for the same workflow JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from argosy.cli.render import fnv32a, node_pod_name, render_workflow, workflow_status
from argosy.pipeline.names import display_name, node_id

NOW = datetime(2026, 11, 24, 10, 5, 0, tzinfo=UTC)


def ts(clock: str | None) -> str | None:
    """``"10:00:03"`` -> RFC3339 on the test day."""
    return None if clock is None else f"2026-11-24T{clock}Z"


class WF:
    """Builds Argo-shaped workflow dicts by hand, with Argo's ids and display names."""

    def __init__(self, name: str, phase: str = "Succeeded", **status: Any):
        self.name = name
        self.nodes: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, dict[str, Any]] = {}
        self.wf: dict[str, Any] = {
            "metadata": {"name": name, "namespace": "argo", "uid": "u-1", "creationTimestamp": ts("10:00:00")},
            "spec": {},
            "status": {"phase": phase, "startedAt": ts("10:00:00"), "nodes": self.nodes, **status},
        }

    def node(
        self,
        name: str,
        type_: str,
        phase: str = "Succeeded",
        start: str | None = "10:00:00",
        end: str | None = "10:00:10",
        *,
        template: str = "",
        boundary: str | None = None,
        parent: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        boundary_node = self.by_name.get(boundary) if boundary else None
        node = {
            "id": node_id(self.name, name),
            "name": name,
            "displayName": display_name(name, boundary),
            "type": type_,
            "phase": phase,
            "startedAt": ts(start),
            "finishedAt": ts(end),
            **extra,
        }
        if template:
            node["templateName"] = template
        if boundary_node:
            node["boundaryID"] = boundary_node["id"]
        if parent:
            self.by_name[parent].setdefault("children", []).append(node["id"])
        self.nodes[node["id"]] = node
        self.by_name[name] = node
        return node

    def get(self, **kwargs: Any) -> str:
        return render_workflow(self.wf, now=NOW, **kwargs)


def tree(text: str) -> list[str]:
    """The tree part of ``argo get`` output with trailing padding removed (as the docs show it)."""
    lines = text.split("\n\n", 1)[1].split("\n")
    return [line.rstrip() for line in lines]


def first_cell(line: str) -> str:
    """The STEP cell of a tree row (tree prefix, icon and display name)."""
    match = re.match(r"\s*\S.*?(?=\s{2,}|$)", line)
    return match.group(0) if match else ""


def test_fnv32a_vector() -> None:
    assert fnv32a("steps-z2zdn[0].hello1") == 27420706


def steps_example(pod_names: str = "v1") -> WF:
    w = WF("steps-z2zdn")
    w.wf["metadata"]["annotations"] = {"workflows.argoproj.io/pod-name-format": pod_names}
    root = "steps-z2zdn"
    w.node(root, "Steps", template="hello-hello-hello", end="10:00:06")
    w.node(f"{root}[0]", "StepGroup", template="hello-hello-hello", boundary=root, parent=root, end="10:00:02")
    w.node(f"{root}[0].hello1", "Pod", template="print-message", boundary=root, parent=f"{root}[0]", end="10:00:02")
    w.node(f"{root}[1]", "StepGroup", template="hello-hello-hello", boundary=root, parent=f"{root}[0].hello1",
           start="10:00:03", end="10:00:06")
    for step in ("hello2b", "hello2a"):  # insertion order must not matter
        w.node(f"{root}[1].{step}", "Pod", template="print-message", boundary=root, parent=f"{root}[1]",
               start="10:00:03", end="10:00:06")
    return w


def test_steps_doc_example() -> None:
    """docs/walk-through/steps.md, byte for byte (modulo the trailing padding the docs trim)."""
    assert tree(steps_example().get()) == [
        "STEP            TEMPLATE           PODNAME                 DURATION  MESSAGE",
        " ✔ steps-z2zdn  hello-hello-hello",
        " ├───✔ hello1   print-message      steps-z2zdn-27420706    2s",
        " └─┬─✔ hello2a  print-message      steps-z2zdn-2006760091  3s",
        "   └─✔ hello2b  print-message      steps-z2zdn-2023537710  3s",
        "",
    ]


def test_steps_v2_pod_names_and_exact_padding() -> None:
    out = steps_example(pod_names="v2").get()
    body = out.split("\n\n", 1)[1]
    assert body == (
        "STEP            TEMPLATE           PODNAME                               DURATION  MESSAGE\n"
        " ✔ steps-z2zdn  hello-hello-hello" + " " * (2 + 38 + 10 + 2) + "\n"
        " ├───✔ hello1   print-message      steps-z2zdn-print-message-27420706    2s          \n"
        " └─┬─✔ hello2a  print-message      steps-z2zdn-print-message-2006760091  3s          \n"
        "   └─✔ hello2b  print-message      steps-z2zdn-print-message-2023537710  3s          \n"
    )


def test_whalesay_full_output() -> None:
    w = WF(
        "whalesay-rsfsr",
        progress="1/1",
        finishedAt="2021-04-29T03:24:02Z",
        startedAt="2021-04-29T03:23:56Z",
        conditions=[{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "True"}],
        resourcesDuration={"memory": 3, "cpu": 3},
    )
    w.wf["metadata"]["creationTimestamp"] = "2021-04-29T03:23:56Z"
    node = w.node("whalesay-rsfsr", "Pod", template="whalesay")
    node.update(startedAt="2021-04-29T03:23:58Z", finishedAt="2021-04-29T03:24:02Z")
    out = render_workflow(w.wf, now=datetime(2021, 4, 29, 3, 24, 2, tzinfo=UTC))
    assert out == (
        "Name:                whalesay-rsfsr\n"
        "Namespace:           argo\n"
        "ServiceAccount:      unset (will run with the default ServiceAccount)\n"
        "Status:              Succeeded\n"
        "Conditions:          \n"
        " PodRunning          False\n"
        " Completed           True\n"
        "Created:             Thu Apr 29 03:23:56 +0000 (6 seconds ago)\n"
        "Started:             Thu Apr 29 03:23:56 +0000 (6 seconds ago)\n"
        "Finished:            Thu Apr 29 03:24:02 +0000 (now)\n"
        "Duration:            6 seconds\n"
        "Progress:            1/1\n"
        "ResourcesDuration:   3s*(1 cpu),3s*(100Mi memory)\n"
        "\n"
        "STEP               TEMPLATE  PODNAME         DURATION  MESSAGE\n"
        " ✔ whalesay-rsfsr  whalesay  whalesay-rsfsr  4s          \n"
    )


def test_header_optional_fields() -> None:
    w = WF("wf-1", phase="Running", estimatedDuration=65, progress="0/2")
    w.wf["status"].pop("startedAt")
    w.wf["spec"] = {
        "serviceAccountName": "robot",
        "arguments": {"parameters": [{"name": "message", "value": "hi"}, {"name": "n", "value": 3},
                                     {"name": "unset", "valueFrom": {"configMapKeyRef": {}}}]},
    }
    w.wf["status"]["outputs"] = {
        "parameters": [{"name": "out", "value": "v"}, {"name": "d", "default": "dv"}, {"name": "none"},
                       {"name": "sup", "valueFrom": {"supplied": {}}}],
        "artifacts": [{"name": "art", "s3": {"endpoint": "minio:9000", "bucket": "b", "key": "k/x.tgz", "insecure": True}},
                      {"name": "local", "path": "/tmp/x"}],
    }
    out = w.get()
    assert out == (
        "Name:                wf-1\n"
        "Namespace:           argo\n"
        "ServiceAccount:      robot\n"
        "Status:              Running\n"
        "Created:             Tue Nov 24 10:00:00 +0000 (5 minutes ago)\n"
        "EstimatedDuration:   1 minute 5 seconds\n"
        "Progress:            0/2\n"
        "Parameters:          \n"
        "  message:           hi\n"
        "  n:                 3\n"
        "Output Parameters:   \n"
        "  out:               v\n"
        "  d:                 dv\n"
        "  sup:               \n"
        "Output Artifacts:    \n"
        "  art:               http://minio:9000/b/k/x.tgz\n"
    )


def test_status_refinements() -> None:
    w = WF("wf-s", phase="Running")
    w.node("wf-s", "Steps")
    w.node("wf-s.approve", "Suspend", "Running", end=None, boundary="wf-s")
    assert workflow_status(w.wf) == "Running (Suspended)"
    w.wf["status"]["phase"] = "Failed"
    w.wf["spec"]["shutdown"] = "Terminate"
    assert workflow_status(w.wf) == "Failed (Terminated)"
    assert workflow_status({"metadata": {}, "status": {}}) == "Unknown"
    assert workflow_status({"metadata": {"creationTimestamp": ts("10:00:00")}, "status": {}}) == "Pending"


def test_workflow_template_ref_service_account() -> None:
    w = WF("wf-t")
    w.wf["spec"] = {"workflowTemplateRef": {"name": "tmpl"}}
    assert "ServiceAccount:      unset\n" in w.get()


def dag_diamond() -> WF:
    w = WF("dag-diamond-8q7vp")
    root = "dag-diamond-8q7vp"
    w.node(root, "DAG", template="diamond", end="10:00:30")
    times = {"A": ("10:00:00", "10:00:05"), "B": ("10:00:06", "10:00:12"), "C": ("10:00:06", "10:00:11"),
             "D": ("10:00:13", "10:00:30")}
    parents = {"A": root, "B": f"{root}.A", "C": f"{root}.A", "D": f"{root}.B"}
    for task in ("D", "C", "B", "A"):
        start, end = times[task]
        w.node(f"{root}.{task}", "Pod", template="echo", boundary=root, start=start, end=end)
    for task, parent in parents.items():
        w.by_name[parent].setdefault("children", []).append(w.by_name[f"{root}.{task}"]["id"])
    w.by_name[f"{root}.C"]["children"] = [w.by_name[f"{root}.D"]["id"]]
    return w


def test_dag_diamond_is_flat_and_time_ordered() -> None:
    out = dag_diamond().get()
    pod = node_pod_name("dag-diamond-8q7vp", {"name": "dag-diamond-8q7vp.A", "templateName": "echo"})
    assert pod == f"dag-diamond-8q7vp-echo-{fnv32a('dag-diamond-8q7vp.A')}"
    assert tree(out) == [
        "STEP                  TEMPLATE  PODNAME                           DURATION  MESSAGE",
        " ✔ dag-diamond-8q7vp  diamond",
        f" ├─✔ A                echo      {pod}  5s",
        " ├─✔ B                echo      dag-diamond-8q7vp-echo-510546829  6s",
        " ├─✔ C                echo      dag-diamond-8q7vp-echo-493769210  5s",
        " └─✔ D                echo      dag-diamond-8q7vp-echo-409881115  17s",
        "",
    ]


def retry_workflow(attempts: int) -> WF:
    phase = "Failed" if attempts == 1 else "Succeeded"
    w = WF("retry-abc", phase=phase)
    root = "retry-abc"
    w.node(root, "Steps", phase, template="main")
    w.node(f"{root}[0]", "StepGroup", template="main", boundary=root, parent=root)
    w.node(f"{root}[0].flaky", "Retry", template="flaky", boundary=root, parent=f"{root}[0]")
    for i in range(attempts):
        phase = "Succeeded" if i == attempts - 1 and attempts > 1 else "Failed"
        msg = {} if phase == "Succeeded" else {"message": "main: Error (exit code 1)"}
        w.node(f"{root}[0].flaky({i})", "Pod", phase, start=f"10:00:0{2 * i}", end=f"10:00:0{2 * i + 1}",
               template="flaky", boundary=root, parent=f"{root}[0].flaky", nodeFlag={"retried": True}, **msg)
    return w


def test_retry_with_several_attempts_is_shown() -> None:
    rows = [first_cell(row) for row in tree(retry_workflow(2).get())[1:]]
    assert rows == [" ✔ retry-abc", " └───✔ flaky", "     ├─✖ flaky(0)", "     └─✔ flaky(1)", ""]
    assert "main: Error (exit code 1)" in tree(retry_workflow(2).get())[3]


def test_retry_with_one_child_is_hidden() -> None:
    rows = tree(retry_workflow(1).get())
    assert rows[1].startswith(" ✖ retry-abc ")
    assert rows[2].startswith(" └───✖ flaky(0)  flaky     retry-abc-flaky-4010260084  1s")
    assert rows[2].endswith("1s        main: Error (exit code 1)")
    assert len(rows) == 4


def test_failed_step_with_message() -> None:
    w = WF("fail-x", phase="Failed", message="child 'fail-x-1' failed", finishedAt=ts("10:00:04"))
    w.node("fail-x", "Steps", "Failed", template="main", end="10:00:04", message="child 'fail-x-1' failed")
    w.node("fail-x[0]", "StepGroup", "Failed", template="main", boundary="fail-x", parent="fail-x",
           message="child 'fail-x-1' failed")
    w.node("fail-x[0].boom", "Pod", "Failed", template="boom", boundary="fail-x", parent="fail-x[0]",
           end="10:00:04", message="main: Error (exit code 1)")
    out = w.get()
    assert "Status:              Failed\nMessage:             child 'fail-x-1' failed\n" in out
    assert "Finished:            Tue Nov 24 10:00:04 +0000 (4 minutes ago)\nDuration:            4 seconds\n" in out
    assert tree(out) == [
        "STEP         TEMPLATE  PODNAME                DURATION  MESSAGE",
        " ✖ fail-x    main                                       child 'fail-x-1' failed",
        " └───✖ boom  boom      fail-x-boom-181199743  4s        main: Error (exit code 1)",
        "",
    ]
    assert fnv32a("fail-x[0].boom") == 181199743


def test_loop_children_ordered_by_index_then_time() -> None:
    w = WF("loops-z26lj")
    root = "loops-z26lj"
    w.node(root, "Steps", template="parallel-sleep")
    w.node(f"{root}[0]", "StepGroup", template="parallel-sleep", boundary=root, parent=root)
    items = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"]
    for i, item in reversed(list(enumerate(items))):
        start = "10:00:01" if item == "eleven" else "10:00:00"
        w.node(f"{root}[0].sleep({i}:{item})", "Pod", template="sleep", boundary=root, parent=f"{root}[0]", start=start)
    names = [row.split()[1] for row in tree(w.get())[2:-1]]
    assert names == [f"sleep({i}:{item})" for i, item in enumerate(items)]
    assert tree(w.get())[2].startswith(" └─┬─✔ sleep(0:zero)")
    assert tree(w.get())[3].startswith("   ├─✔ sleep(1:one)")
    assert tree(w.get())[-2].startswith("   └─✔ sleep(11:eleven)")


def test_exit_handler_after_blank_row() -> None:
    w = WF("exit-handlers-k8x", phase="Failed", message="main: Error (exit code 1)")
    root = "exit-handlers-k8x"
    w.node(root, "Pod", "Failed", template="intentional-fail", end="10:00:03", message="main: Error (exit code 1)")
    exit_root = f"{root}.onExit"
    w.node(exit_root, "Steps", template="exit-handler", start="10:00:05", end="10:00:20")
    w.node(f"{exit_root}[0]", "StepGroup", template="exit-handler", boundary=exit_root, parent=exit_root,
           start="10:00:05")
    w.node(f"{exit_root}[0].notify", "Pod", template="send-email", boundary=exit_root, parent=f"{exit_root}[0]",
           start="10:00:05", end="10:00:09")
    w.node(f"{exit_root}[0].celebrate", "Skipped", "Skipped", template="celebrate", boundary=exit_root,
           parent=f"{exit_root}[0]", start="10:00:05", end="10:00:05",
           message="when 'Failed == Succeeded' evaluated false")
    w.node(f"{exit_root}[0].cry", "Pod", template="cry", boundary=exit_root, parent=f"{exit_root}[0]",
           start="10:00:05", end="10:00:08")
    lines = tree(w.get())
    assert lines[1].startswith(" ✖ exit-handlers-k8x ")
    assert lines[1].endswith("3s        main: Error (exit code 1)")
    assert lines[2] == ""
    assert [first_cell(line) for line in lines[3:-1]] == [
        " ✔ exit-handlers-k8x.onExit",
        " └─┬─○ celebrate",
        "   ├─✔ cry",
        "   └─✔ notify",
    ]
    assert lines[4].endswith("when 'Failed == Succeeded' evaluated false")
    # The blank separator row is made of padded empty cells, exactly like Argo's.
    raw = w.get().split("\n\n", 1)[1].split("\n")[2]
    assert raw.strip() == "" and len(raw) > 0


def test_omitted_hidden_and_active_suspend_icon() -> None:
    w = WF("dag-x", phase="Running")
    w.node("dag-x", "DAG", "Running", template="main", end=None)
    w.node("dag-x.A", "Pod", template="a", boundary="dag-x", parent="dag-x")
    w.node("dag-x.gone", "Skipped", "Omitted", template="b", boundary="dag-x",
           message="omitted: depends condition not met")
    w.node("dag-x.wait", "Suspend", "Running", start="10:00:11", end=None, template="approve", boundary="dag-x")
    w.node("dag-x.B", "Pod", "Running", start="10:00:12", end=None, template="b", boundary="dag-x")
    w.node("dag-x.C", "Pod", "Pending", start=None, end=None, template="c", boundary="dag-x")
    rows = [first_cell(line) for line in tree(w.get())[1:-1]]
    assert rows == [" ● dag-x", " ├─◷ C", " ├─✔ A", " ├─ǁ wait", " └─● B"]
    running = tree(w.get())[-2]
    assert running.endswith("4m") and "dag-x-b-" in running
    pending = tree(w.get())[2]
    assert pending.endswith("0s")


def test_no_utf8_and_color() -> None:
    plain = steps_example().get(utf8=False)
    assert tree(plain)[1:5] == [
        " Succeeded steps-z2zdn  hello-hello-hello",
        " |---Succeeded hello1   print-message      steps-z2zdn-27420706    2s",
        " `-+-Succeeded hello2a  print-message      steps-z2zdn-2006760091  3s",
        "   `-Succeeded hello2b  print-message      steps-z2zdn-2023537710  3s",
    ]
    colored = steps_example().get(color=True)
    body = colored.split("\n\n", 1)[1].split("\n")
    assert body[0].startswith("\x1b[39mSTEP\x1b[0m            TEMPLATE")
    assert body[1].startswith(" \x1b[32m✔\x1b[0m steps-z2zdn  hello-hello-hello")
    assert "\x1b" not in steps_example().get()


def test_wide_and_short_outputs() -> None:
    w = WF("wf-w")
    node = w.node("wf-w", "Pod", template="main", hostNodeName="kind-worker",
                  resourcesDuration={"cpu": 1, "memory": 65},
                  outputs={"artifacts": [{"name": "a1"}, {"name": "a2"}]})
    assert node["id"] == "wf-w"
    wide = tree(w.get(output="wide"))
    assert wide[0] == (
        "STEP     TEMPLATE  PODNAME  DURATION  ARTIFACTS  MESSAGE  RESOURCESDURATION               NODENAME"
    )
    assert wide[1] == " ✔ wf-w  main      wf-w     10s       a1,a2               1s*(1 cpu),1m5s*(100Mi memory)  kind-worker"
    short = w.get(output="short")
    assert short == (
        "STEP     TEMPLATE  PODNAME  DURATION  MESSAGE  NODENAME\n"
        " ✔ wf-w  main      wf-w     10s                kind-worker\n"
    )


def test_node_field_selector() -> None:
    w = dag_diamond()
    w.by_name["dag-diamond-8q7vp.C"]["phase"] = "Failed"
    rows = [first_cell(line) for line in tree(w.get(node_field_selector="phase=Failed"))[1:-1]]
    assert rows == [" ✖ C"]  # a hidden parent passes its own prefix down, without glyphs
    rows = [first_cell(line) for line in tree(w.get(node_field_selector="phase!=Failed,displayName!=D"))[1:-1]]
    assert rows == [" ✔ dag-diamond-8q7vp", " ├─✔ A", " ├─✔ B"]
    with pytest.raises(ValueError):
        w.get(node_field_selector="phase")


def test_template_ref_column() -> None:
    w = WF("wf-r")
    w.node("wf-r", "Steps", template="main")
    w.node("wf-r[0]", "StepGroup", template="main", boundary="wf-r", parent="wf-r")
    w.node("wf-r[0].x", "Pod", boundary="wf-r", parent="wf-r[0]", templateRef={"name": "lib", "template": "echo"})
    row = tree(w.get())[2]
    assert row.startswith(f" └───✔ x  lib/echo  wf-r-echo-{fnv32a('wf-r[0].x')}  10s")


def test_no_tree_without_root_node() -> None:
    w = WF("wf-empty", phase="Pending")
    w.wf["status"].pop("startedAt")
    out = w.get()
    assert out.endswith("Progress:            \n")
    assert "STEP" not in out


def test_task_groups_and_containers_are_not_rows() -> None:
    """Argo renders only Steps/DAG, StepGroup/Retry and Pod/Skipped/Suspend/HTTP/Plugin nodes."""
    w = WF("loop-dag")
    w.node("loop-dag", "DAG", template="main")
    w.node("loop-dag.B", "TaskGroup", template="print", boundary="loop-dag", parent="loop-dag")
    for i, item in enumerate(["x", "y"]):
        w.node(f"loop-dag.B({i}:{item})", "Pod", template="print", boundary="loop-dag", parent="loop-dag.B")
    w.node("loop-dag.B(0:x).main", "Container", template="print", boundary="loop-dag")
    assert [first_cell(line) for line in tree(w.get())[1:-1]] == [" ✔ loop-dag", " ├─✔ B(0:x)", " └─✔ B(1:y)"]
