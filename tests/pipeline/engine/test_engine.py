"""The engine with real processes in real sandboxes: isolation, deadlines, crashes, and the
Argo semantics that were broken (memoized steps/DAGs, progress, hooks, failures, retries).
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.pipeline.store import Store
from tests.pipeline.engine.harness import (  # noqa: F401
    EXAMPLES,
    Argosy,
    argosy_fixture,
    fresh_argosy,
    node,
    nodes_named,
    out_param,
    pids_of_home,
    pids_with_marker,
    wait_until,
)

DEADLINE = "Pod was active on the node longer than the specified deadline"


def workflow(argosy: Argosy, name: str, spec: dict[str, Any]) -> Path:
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": f"{name}-"}, "spec": spec}
    return argosy.write(f"{name}.yaml", yaml.safe_dump(doc, sort_keys=False))


def sh(script: str, **extra: Any) -> dict[str, Any]:
    return {"container": {"image": "alpine:3.19", "command": ["sh", "-c", script]}, **extra}


def sleeper(marker: str, seconds: int = 60) -> str:
    """A shell whose own process and two children carry ``marker`` on their command lines."""
    py = f"python3 -c 'import time; time.sleep({seconds})' {marker}"
    return f"{py} & {py} & wait; : {marker}"


Batch = tuple[Argosy, dict[str, dict[str, Any]], dict[str, Path]]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    """The workflows that need no interaction, run at once in one home: (argosy, runs, files)."""
    with fresh_argosy(tmp_path_factory.mktemp("engine")) as a:
        a.main("apply", "-f", a.write("lib.yaml", yaml.safe_dump(LIB))).ok()
        specs = {"clash": clash_spec(), "memo": memo_spec(), "progress": progress_spec(), "hooks": hooks_spec(),
                 "failures": failures_spec(), "nofail": nofail_spec()}
        files = {key: workflow(a, key, spec) for key, spec in specs.items()}
        yield a, a.run_all({key: (path, ()) for key, path in files.items()}), files


# ---------------------------------------------------------------------------------- sandbox


HOST_PATH = Path("/var/tmp") / f"argosy-test-{uuid.uuid4().hex}"


def clash_spec() -> dict[str, Any]:
    script = (
        f"echo {{{{inputs.parameters.who}}}} > /tmp/same.txt && mkdir -p {HOST_PATH} && echo {{{{inputs.parameters.who}}}} > {HOST_PATH}/out"
        f" && sleep 1 && echo $(cat /tmp/same.txt) $(cat {HOST_PATH}/out)"
    )
    return {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "w", "template": "write", "withItems": ["a", "b", "c", "d"], "arguments": {"parameters": [{"name": "who", "value": "{{item}}"}]}}]]},
            {"name": "write", "inputs": {"parameters": [{"name": "who"}]}, **sh(script)},
        ],
    }


def test_parallel_steps_writing_the_same_absolute_paths_do_not_clash(batch: Batch) -> None:
    wf = batch[1]["clash"]
    assert wf["status"]["phase"] == "Succeeded"
    kids = [n for n in wf["status"]["nodes"].values() if n["type"] == "Pod"]
    assert len(kids) == 4
    for n in kids:
        who = n["inputs"]["parameters"][0]["value"]
        assert n["outputs"]["result"] == f"{who} {who}", n["name"]  # each read back what it wrote
    starts = {n["startedAt"] for n in kids}
    assert max(n["startedAt"] for n in kids) < min(n["finishedAt"] for n in kids) or len(starts) == 1  # they overlapped
    assert not HOST_PATH.exists()  # nothing landed on the host


def test_step_deadlines_kill_the_step_and_all_its_processes(argosy: Argosy) -> None:
    marker = f"argosy-deadline-{uuid.uuid4().hex}"
    path = workflow(argosy, "deadline", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[
                {"name": "by-timeout", "template": "by-timeout", "continueOn": {"failed": True}},
                {"name": "by-active-deadline", "template": "by-active-deadline"},
            ]]},
            {"name": "by-timeout", "timeout": "2s", **sh(sleeper(marker + "-t"))},
            {"name": "by-active-deadline", "activeDeadlineSeconds": 2, **sh(sleeper(marker + "-a"))},
        ],
    })
    name = argosy.start(path)
    wait_until(lambda: pids_with_marker(marker + "-t") and pids_with_marker(marker + "-a"), 30, 0.05, "both steps' processes to run")
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Failed"
    for display in ("by-timeout", "by-active-deadline"):
        n = node(wf, display)
        assert (n["phase"], n["message"]) == ("Failed", DEADLINE)
    assert wf["status"]["message"] == f"child '{node(wf, 'by-active-deadline')['id']}' failed"
    assert pids_with_marker(marker) == []  # nothing of the steps survives the workflow


def test_a_crashed_engine_is_reported_and_retry_finishes_the_run(argosy: Argosy) -> None:
    marker = f"argosy-crash-{uuid.uuid4().hex}"
    path = workflow(argosy, "crash", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "first", "template": "quick"}], [{"name": "slow", "template": "slow"}]]},
            {"name": "quick", **sh("echo quick")},
            {"name": "slow", **sh(f"python3 -c 'import time; time.sleep(3)' {marker}; echo slow done")},
        ],
    })
    name = argosy.start(path)
    argosy.wait_node(name, "slow", ("Running",))
    wait_until(lambda: pids_with_marker(marker), 30, 0.05, "the slow step's process")
    lease = Store(argosy.home).lease_info(name)  # the runner holds the workflow's lease
    runners = [lease.pid] if lease is not None and lease.pid in pids_of_home(argosy.home) else []
    assert runners, "no runner process found"
    for pid in runners:
        os.kill(pid, signal.SIGKILL)  # the engine dies mid-run
    wait_until(lambda: all(_dead(pid) for pid in runners), 10, 0.02, "the runner to die")
    wf = argosy.get(name)
    assert wf["status"]["phase"] == "Error"
    assert "exited unexpectedly" in wf["status"]["message"] and f"argosy retry {name}" in wf["status"]["message"]
    assert not [n["name"] for n in wf["status"]["nodes"].values() if n["phase"] in ("Pending", "Running")]
    assert node(wf, "slow")["phase"] == "Error"
    text = argosy.cli("get", name).out
    assert "Status:              Error" in text
    wait_until(lambda: not pids_with_marker(marker), 10, 0.1, "the killed runner's step to go away")
    first = node(wf, "first")

    assert argosy.cli("retry", name).ok().out
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    assert "message" not in wf["status"]
    assert node(wf, "first")["startedAt"] == first["startedAt"]  # kept, not run again
    assert node(wf, "slow")["outputs"]["result"] == "slow done"
    assert argosy.logs(name, node(wf, "first")["id"]) == [f"{name}-quick-{first['id'].rsplit('-', 1)[1]}: quick"]


# ---------------------------------------------------------------------------------- semantics


def memo_spec() -> dict[str, Any]:
    memo = {"key": "k-{{inputs.parameters.x}}", "cache": {"configMap": {"name": "memo-test"}}}
    return {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[
                {"name": "s", "template": "steps-part", "arguments": {"parameters": [{"name": "x", "value": "1"}]}},
                {"name": "d", "template": "dag-part", "arguments": {"parameters": [{"name": "x", "value": "1"}]}},
            ]]},
            {"name": "steps-part", "inputs": {"parameters": [{"name": "x"}]}, "memoize": memo,
             "steps": [[{"name": "gen", "template": "gen"}]],
             "outputs": {"parameters": [{"name": "token", "valueFrom": {"parameter": "{{steps.gen.outputs.result}}"}}]}},
            {"name": "dag-part", "inputs": {"parameters": [{"name": "x"}]}, "memoize": {**memo, "key": "d-{{inputs.parameters.x}}"},
             "dag": {"tasks": [{"name": "gen", "template": "gen"}]},
             "outputs": {"parameters": [{"name": "token", "valueFrom": {"parameter": "{{tasks.gen.outputs.result}}"}}]}},
            {"name": "gen", "script": {"image": "python:3.12-alpine", "command": ["python"], "source": "import uuid; print(uuid.uuid4().hex)"}},
        ],
    }


def test_memoize_on_steps_and_dag_templates(batch: Batch) -> None:
    argosy, first = batch[0], batch[1]["memo"]
    second = argosy.submit(batch[2]["memo"])
    for display, key in (("s", "k-1"), ("d", "d-1")):
        a, b = node(first, display), node(second, display)
        assert a["memoizationStatus"] == {"hit": False, "key": key, "cacheName": "memo-test"}
        assert b["memoizationStatus"] == {"hit": True, "key": key, "cacheName": "memo-test"}
        assert out_param(b, "token") == out_param(a, "token") and len(out_param(a, "token") or "") == 32
        assert b["phase"] == "Succeeded" and not b.get("children")  # nothing ran
    assert len(nodes_named(second, "gen")) == 0


def progress_spec() -> dict[str, Any]:
    return {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "a", "template": "ok"}], [{"name": "inner", "template": "inner"}], [{"name": "z", "template": "ok"}]]},
            {"name": "inner", "steps": [[{"name": "b", "template": "ok"}, {"name": "c", "template": "ok"}], [{"name": "bad", "template": "bad"}]]},
            {"name": "ok", **sh("true")},
            {"name": "bad", **sh("exit 1")},
        ],
    }


def test_progress_counts_nested_nodes(batch: Batch) -> None:
    wf = batch[1]["progress"]
    assert wf["status"]["phase"] == "Failed"
    assert wf["status"]["progress"] == "3/4"  # a, b, c succeeded; bad failed; z never ran
    name = wf["metadata"]["name"]
    assert node(wf, name)["progress"] == "3/4"
    assert node(wf, "inner")["progress"] == "2/3"
    assert node(wf, "bad")["progress"] == "0/1"
    assert node(wf, f"{name}[1]")["progress"] == "2/3"


def hooks_spec() -> dict[str, Any]:
    say = {"name": "say", "inputs": {"parameters": [{"name": "text"}]}, "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.text}}"]}}

    def hook(expression: str, text: str) -> dict[str, Any]:
        return {"expression": expression, "template": "say", "arguments": {"parameters": [{"name": "text", "value": text}]}}

    return {
        "entrypoint": "main",
        "hooks": {"running": hook('workflow.status == "Running"', "workflow running"), "never": hook('workflow.status == "Failed"', "no")},
        "templates": [
            {"name": "main", "steps": [
                [{"name": "step1", "template": "slow", "hooks": {
                    "running": hook('steps["step1"].status == "Running"', "step1 running"),
                    "done": hook("steps.step1.status == 'Succeeded'", "step1 done"),
                }}],
                [{"name": "d", "template": "dag"}],
            ]},
            {"name": "dag", "dag": {"tasks": [
                {"name": "A", "template": "slow", "hooks": {"ok": hook('tasks.A.status == "Succeeded"', "A ok")}},
                {"name": "B", "depends": "A", "template": "slow"},
            ]}},
            {"name": "slow", **sh("sleep 1; echo slept")},
            say,
        ],
    }


def test_workflow_and_step_lifecycle_hooks_with_expressions(batch: Batch) -> None:
    argosy, wf = batch[0], batch[1]["hooks"]
    assert wf["status"]["phase"] == "Succeeded"
    name = wf["metadata"]["name"]
    expected = {
        f"{name}.hooks.running": "workflow running",
        f"{name}[0].step1.hooks.running": "step1 running",
        f"{name}[0].step1.hooks.done": "step1 done",
        f"{name}[1].d.A.hooks.ok": "A ok",
    }
    for hook_node, text in expected.items():
        n = node(wf, hook_node)
        assert (n["phase"], n["nodeFlag"], n["templateName"]) == ("Succeeded", {"hooked": True}, "say"), hook_node
        assert argosy.logs(name, n["id"])[0].endswith(f": {text}")
    assert not nodes_named(wf, f"{name}.hooks.never")
    step1 = node(wf, "step1")
    assert {wf["status"]["nodes"][c]["name"] for c in step1["children"]} >= {f"{name}[0].step1.hooks.running", f"{name}[0].step1.hooks.done"}
    # the next step group waits for the hooks of the previous one
    assert node(wf, "d")["startedAt"] >= node(wf, f"{name}[0].step1.hooks.done")["finishedAt"]


def test_a_hook_without_expression_is_refused(argosy: Argosy) -> None:
    path = workflow(argosy, "bad-hook", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "s", "template": "ok", "hooks": {"oops": {"template": "ok"}}}]]},
            {"name": "ok", **sh("true")},
        ],
    })
    res = argosy.main("submit", path)
    assert res.code != 0
    assert res.err.strip() == f"{path}: Failed to submit workflow: templates.main.steps[0].s.oops Expression required"


def failures_spec() -> dict[str, Any]:
    return {
        "entrypoint": "main",
        "onExit": "report",
        "templates": [
            {"name": "main", "steps": [[{"name": "lib", "templateRef": {"name": "lib", "template": "boom"}}]]},
            {"name": "report", "container": {"image": "alpine", "command": ["echo", "{{workflow.failures}}"]}},
        ],
    }


LIB = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "lib"},
       "spec": {"templates": [{"name": "boom", **sh("echo '<oops> & {{pod.name}}'; exit 2")}]}}


def test_workflow_failures_is_argos_quoted_json(batch: Batch) -> None:
    argosy, wf = batch[0], batch[1]["failures"]
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Failed"
    boom = node(wf, "lib")
    assert boom["templateRef"] == {"name": "lib", "template": "boom"}
    pod = f"{name}-boom-{boom['id'].rsplit('-', 1)[1]}"
    # the templateRef'd step's pod is named after the referenced template, in logs and {{pod.name}}
    assert argosy.logs(name, boom["id"]) == [f"{pod}: <oops> & {pod}"]
    (line,) = argosy.logs(name, node(wf, f"{name}.onExit")["id"])
    raw = line.split(": ", 1)[1]
    assert raw.startswith('"[{\\"displayName\\":') and raw.endswith('}]"')  # strconv.Quote'd, as in Argo
    failures = {f["displayName"]: f for f in json.loads(json.loads(raw))}
    assert set(failures) == {name, "[0]", "lib"}
    assert failures["lib"] == {
        "displayName": "lib", "message": "main: Error (exit code 2)", "templateName": "boom", "phase": "Failed",
        "podName": pod, "finishedAt": boom["finishedAt"],
    }


def nofail_spec() -> dict[str, Any]:
    return {
        "entrypoint": "ok",
        "onExit": "report",
        "templates": [
            {"name": "ok", **sh("true")},
            {"name": "report", "container": {"image": "alpine", "command": ["echo", "{{workflow.status}} {{workflow.failures}}"]}},
        ],
    }


def test_no_failures_is_quoted_null(batch: Batch) -> None:
    argosy, wf = batch[0], batch[1]["nofail"]
    name = wf["metadata"]["name"]
    assert argosy.logs(name, node(wf, f"{name}.onExit")["id"])[0].endswith(': Succeeded "null"')


def test_parallelism_on_a_steps_template_with_nested_templates(argosy: Argosy) -> None:
    path = workflow(argosy, "par", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "parallelism": 1, "steps": [[
                {"name": "x", "template": "nested"}, {"name": "y", "template": "nested"}, {"name": "z", "template": "leaf"},
            ]]},
            {"name": "nested", "steps": [[{"name": "leaf", "template": "leaf"}]]},
            {"name": "leaf", **sh("sleep 0.5")},
        ],
    })
    name = argosy.start(path)
    seen: list[int] = []

    def check() -> bool:
        wf = argosy.get(name)
        nodes = wf["status"].get("nodes", {}).values()
        seen.append(sum(1 for n in nodes if n["type"] == "Pod" and n["phase"] in ("Pending", "Running")))
        return wf["status"].get("phase") in ("Succeeded", "Failed", "Error")

    wait_until(check, 60, 0.05, "workflow to finish")
    wf = argosy.get(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert max(seen) == 1, seen
    pods = sorted((n for n in wf["status"]["nodes"].values() if n["type"] == "Pod"), key=lambda n: n["startedAt"])
    assert len(pods) == 3
    for earlier, later in zip(pods, pods[1:], strict=False):
        assert later["startedAt"] >= earlier["finishedAt"]


def test_retry_of_a_dag_runs_only_what_failed_and_what_follows(argosy: Argosy) -> None:
    def config(ok: str) -> Path:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "switch"}, "data": {"ok": ok}}
        return argosy.write("switch.yaml", yaml.safe_dump(cm))

    argosy.main("apply", "-f", config("no")).ok()
    env = [{"name": "OK", "valueFrom": {"configMapKeyRef": {"name": "switch", "key": "ok"}}}]
    path = workflow(argosy, "dagretry", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "dag": {"tasks": [
                {"name": "a", "template": "ok"},
                {"name": "b", "template": "flaky", "depends": "a"},
                {"name": "side", "template": "ok", "depends": "a"},
                {"name": "c", "template": "ok", "depends": "b && side"},
            ]}},
            {"name": "ok", **sh("echo fine")},
            {"name": "flaky", "container": {"image": "alpine", "command": ["sh", "-c", 'echo "ok=$OK"; [ "$OK" = yes ]'], "env": env}},
        ],
    })
    wf = argosy.submit(path)
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Failed"
    assert node(wf, "b")["phase"] == "Failed" and node(wf, "c")["phase"] == "Omitted"
    before = {d: node(wf, d)["startedAt"] for d in ("a", "side")}
    assert argosy.main("apply", "-f", config("yes")).ok().out.strip() == "configmap/switch configured"
    assert argosy.cli("retry", name).code == 0
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert {d: node(wf, d)["startedAt"] for d in ("a", "side")} == before
    assert node(wf, "b")["outputs"]["result"] == "ok=yes"
    assert node(wf, "c")["phase"] == "Succeeded"
    assert [line.split(": ", 1)[1] for line in argosy.logs(name, node(wf, "b")["id"])][-1] == "ok=yes"


def test_suspended_workflow_starts_nothing_until_resumed(argosy: Argosy) -> None:
    path = workflow(argosy, "pause", {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "one", "template": "slow"}], [{"name": "two", "template": "slow"}]]},
            {"name": "slow", **sh("sleep 2; echo done")},
        ],
    })
    name = argosy.start(path)
    argosy.wait_node(name, "one", ("Running",))
    assert argosy.cli("suspend", name).ok().out.strip() == f"workflow {name} suspended"
    wf = argosy.wait_node(name, "one", ("Succeeded",))
    # one finished while suspended; two must not start: poll a while (bounded) to be sure
    for _ in range(10):
        wf = argosy.get(name)
        assert not nodes_named(wf, "two")
        assert wf["status"]["phase"] == "Running"
    assert "Running (Suspended)" in argosy.cli("get", name).out
    assert "Running (Suspended)" in argosy.cli("list").out
    assert argosy.cli("resume", name).ok().out.strip() == f"workflow {name} resumed"
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert node(wf, "two")["startedAt"] >= node(wf, "one")["finishedAt"]


def test_a_runner_stops_when_its_home_is_removed(argosy: Argosy) -> None:
    import shutil

    name = argosy.start(EXAMPLES / "approval.yaml")
    argosy.wait_node(name, "approve", ("Running",))  # waits for `argosy resume`, i.e. forever
    assert pids_of_home(argosy.home)
    shutil.rmtree(argosy.home)
    wait_until(lambda: not pids_of_home(argosy.home), 15, 0.1, "the runner to notice its home is gone and exit")


def _dead(pid: int) -> bool:
    """Gone, or a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"
