"""Every file in examples/ is valid (``argosy lint``), documented, and runs as its header says.

The examples run together in one ARGOSY_HOME (they are independent workflows; running them at
once keeps the suite fast), through the real CLI with detached runners and sandboxed steps.
Interactive or timing-sensitive ones (approval, parallelism, memoize) have their own tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pipeline.engine.harness import (  # noqa: F401
    EXAMPLES,
    Argosy,
    argosy_fixture,
    fresh_argosy,
    node,
    nodes_named,
    out_param,
    wait_until,
)

TEMPLATES = EXAMPLES / "templates"
ALL_FILES = sorted(EXAMPLES.glob("*.yaml")) + sorted(TEMPLATES.glob("*.yaml"))
WORKFLOWS = sorted(EXAMPLES.glob("*.yaml"))

# How each example ends when run as its header says; extra runs use the header's other commands.
EXPECTED: dict[str, str] = {
    "approval": "Succeeded",  # once resumed
    "conditionals": "Succeeded",
    "container-set": "Succeeded",
    "dag": "Succeeded",
    "dag-fail-fast": "Failed",
    "dag-target": "Succeeded",
    "exit-handlers": "Succeeded",
    "hello-world": "Succeeded",
    "lifecycle-hooks": "Succeeded",
    "loops": "Succeeded",
    "loops-param": "Succeeded",
    "memoize": "Succeeded",
    "output-parameters": "Succeeded",
    "parallelism": "Succeeded",
    "parameters": "Succeeded",
    "recursion": "Succeeded",
    "retry": "Succeeded",
    "scripts": "Succeeded",
    "steps": "Succeeded",
    "suspend": "Succeeded",
    "template-defaults": "Succeeded",
    "template-ref": "Succeeded",
    "timeouts": "Succeeded",
    "workflow-template-ref": "Succeeded",
}
OWN_TESTS = {"approval", "parallelism", "memoize"}  # run by their own tests below
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dag-target/load": ("dag-target", ("-p", "target=load")),
    "parameters/override": ("parameters", ("-p", "greeting=bonjour", "-p", "size=large")),
    "conditionals/big": ("conditionals", ("-p", "size=5000")),
    "exit-handlers/fail": ("exit-handlers", ("-p", "fail=true")),
    "workflow-template-ref/who": ("workflow-template-ref", ("-p", "who=Linus")),
    "hello-world/message": ("hello-world", ("-p", "message=bonjour")),
}


def ex(name: str) -> Path:
    return EXAMPLES / f"{name}.yaml"


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Argosy, dict[str, dict[str, Any]]]]:
    with fresh_argosy(tmp_path_factory.mktemp("examples")) as a:
        out = a.main("apply", "-f", TEMPLATES / "greetings.yaml").ok().out
        assert out.strip() == "workflowtemplate.argoproj.io/argosy-greetings created"
        jobs: dict[str, tuple[str | Path, tuple[str, ...]]] = {n: (ex(n), ()) for n in EXPECTED if n not in OWN_TESTS}
        jobs.update({key: (ex(n), args) for key, (n, args) in VARIANTS.items()})
        params = a.write("params.yaml", "greeting: hi\nsize: medium\n")
        jobs["parameters/file"] = (ex("parameters"), ("-f", str(params)))
        yield a, a.run_all(jobs, timeout=240)


def lines_of(a: Argosy, wf: dict[str, Any], display: str | None = None) -> list[str]:
    """Log lines (without the ``pod: `` prefix) of the workflow, or of one node's pod."""
    name = wf["metadata"]["name"]
    out = a.logs(name, node(wf, display)["id"]) if display else a.logs(name)
    return [line.split(": ", 1)[1] for line in out]


def phases(wf: dict[str, Any]) -> dict[str, str]:
    return {n["displayName"]: n["phase"] for n in wf["status"]["nodes"].values()}


# ------------------------------------------------------------------------------ every file


def test_every_example_has_an_expectation() -> None:
    assert {p.stem for p in WORKFLOWS} == set(EXPECTED)
    assert [p.name for p in TEMPLATES.glob("*.yaml")] == ["greetings.yaml"]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_example_has_a_header_saying_what_it_shows_and_how_to_run_it(path: Path) -> None:
    text = path.read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 3, f"{path.name}: needs a header comment"
    assert any(re.search(r"argosy (submit|apply)", line) for line in header), f"{path.name}: header says how to run it"
    docs = list(yaml.safe_load_all(text))
    assert all(d.get("apiVersion") == "argoproj.io/v1alpha1" for d in docs)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_example_passes_lint(argosy: Argosy, path: Path) -> None:
    # templateRef/workflowTemplateRef examples are linted with the template they use, as Argo lints
    res = argosy.cli("lint", TEMPLATES / "greetings.yaml", path)
    assert res.code == 0, res.out + res.err
    assert res.out.strip() == "✔ no linting errors found!"


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - OWN_TESTS))
def test_example_ends_as_its_header_says(ran: tuple[Argosy, dict[str, dict[str, Any]]], name: str) -> None:
    wf = ran[1][name]
    assert wf["status"]["phase"] == EXPECTED[name], wf["status"].get("message")
    for n in wf["status"]["nodes"].values():
        assert n["phase"] not in ("Pending", "Running"), n["name"]


# ------------------------------------------------------------------------------ per example


def test_hello_world(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["hello-world"]
    name = wf["metadata"]["name"]
    assert a.logs(name) == [f"{name}: hello argosy"]
    root = node(wf, name)
    assert (root["type"], root["templateName"]) == ("Pod", "main")
    assert lines_of(a, runs["hello-world/message"]) == ["bonjour"]


def test_steps_run_in_order_and_parallel_steps_keep_their_own_files(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["steps"]
    left, right, done = node(wf, "left"), node(wf, "right"), node(wf, "done")
    # both wrote /tmp/shared.txt at the same time; each read back its own
    assert left["outputs"]["result"] == "left"
    assert right["outputs"]["result"] == "right"
    assert left["startedAt"] <= right["finishedAt"] and right["startedAt"] <= left["finishedAt"]
    assert done["startedAt"] >= max(left["finishedAt"], right["finishedAt"])
    assert node(wf, "prepare")["finishedAt"] <= min(left["startedAt"], right["startedAt"])
    assert lines_of(a, wf, "done") == ["left read left, right read right"]
    groups = [n for n in wf["status"]["nodes"].values() if n["type"] == "StepGroup"]
    assert sorted(n["displayName"] for n in groups) == ["[0]", "[1]", "[2]"]


def test_scripts_bash_and_python_results(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["scripts"]
    assert node(wf, "bash")["outputs"]["result"] == "3"
    assert node(wf, "python")["outputs"]["result"] == "49"
    assert lines_of(a, wf, "report") == ["bash counted 3 words, python squared 7 to 49"]


def test_dag_depends_on_succeeded_and_failed(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["dag"]
    p = phases(wf)
    assert p["unit-tests"] == "Failed" and p["notify-failure"] == "Succeeded" and p["summary"] == "Succeeded"
    deploy = node(wf, "deploy")
    assert (deploy["type"], deploy["phase"], deploy["message"]) == ("Skipped", "Omitted", "omitted: depends condition not met")
    assert node(wf, "unit-tests")["message"] == "main: Error (exit code 1)"
    assert lines_of(a, wf, "summary") == ["unit-tests ended Failed"]
    assert "message" not in wf["status"]


def test_dag_fail_fast_false_lets_other_branches_finish(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["dag-fail-fast"]
    assert node(wf, "broken")["message"] == "main: Error (exit code 3)"
    assert node(wf, "after-slow")["phase"] == "Succeeded"
    assert node(wf, "after-slow")["startedAt"] >= node(wf, "broken")["finishedAt"]
    assert lines_of(a, wf, "after-slow") == ["still ran"]


def test_dag_target_runs_only_what_the_target_needs(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    _, runs = ran
    assert sorted(p for p in phases(runs["dag-target"]) if not p.startswith("dag-target-")) == ["extract", "transform"]
    assert sorted(p for p in phases(runs["dag-target/load"]) if not p.startswith("dag-target-")) == ["extract", "load", "transform"]


def test_parameters_arguments_overrides_defaults(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    assert lines_of(a, runs["parameters"]) == ["hello world (small)!"]
    assert lines_of(a, runs["parameters/override"]) == ["bonjour world (large)!"]
    assert lines_of(a, runs["parameters/file"]) == ["hi world (medium)!"]
    wf = runs["parameters/override"]
    assert wf["spec"]["arguments"]["parameters"][:2] == [
        {"name": "greeting", "value": "bonjour"},
        {"name": "size", "value": "large", "enum": ["small", "medium", "large"]},
    ]
    root = node(wf, wf["metadata"]["name"])
    assert {"name": "punctuation", "value": "!", "default": "!"} in root["inputs"]["parameters"]


def test_parameters_enum_refuses_other_values(argosy: Argosy) -> None:
    res = argosy.main("submit", ex("parameters"), "-p", "size=huge")
    assert res.code != 0
    assert "spec.arguments.size.value should be present in spec.arguments.size.enum list" in res.err
    assert argosy.cli("list").out.strip() == "No workflows found"


def test_output_parameters_path_default_expression_global(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["output-parameters"]
    build = node(wf, "build")
    assert out_param(build, "version") == "1.4.2"
    assert out_param(build, "checksum") == "0123456789abcdef"
    assert out_param(build, "notes") == "no release notes"
    assert build["outputs"]["result"] == "build finished"
    root = node(wf, wf["metadata"]["name"])
    assert out_param(root, "checksum-size") == "16"
    assert wf["status"]["outputs"]["parameters"] == [{"name": "release", "value": "1.4.2"}, {"name": "checksum-size", "value": "16"}]
    assert lines_of(a, wf, "show") == ["version=1.4.2 notes=no release notes stdout=build finished"]
    text = a.cli("get", wf["metadata"]["name"]).ok().out
    assert re.search(r"^Output Parameters:\s*\n\s+release:\s+1\.4\.2\n\s+checksum-size:\s+16$", text, re.M), text


def test_conditionals_when(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    small = runs["conditionals"]
    assert node(small, "small-file")["phase"] == "Succeeded"
    skipped = node(small, "big-file")
    assert (skipped["phase"], skipped["message"]) == ("Skipped", "when '12 >= 1000' evaluated false")
    assert lines_of(a, small, "small-file") == ["small: 12 bytes"]
    big = runs["conditionals/big"]
    assert node(big, "small-file")["message"] == "when '5000 < 1000' evaluated false"
    assert lines_of(a, big, "big-file") == ["big: 5000 bytes"]


def test_loops_items_maps_and_sequences(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["loops"]
    expected = {
        "greet(0:alice)": "hello alice",
        "greet(1:bob)": "hello bob",
        "build(0:arch:amd64,os:linux)": "building for linux/amd64",
        "build(1:arch:arm64,os:linux)": "building for linux/arm64",
        "shard(0:shard-01)": "processing shard-01",
        "shard(1:shard-02)": "processing shard-02",
        "shard(2:shard-03)": "processing shard-03",
    }
    for display, line in expected.items():
        assert lines_of(a, wf, display) == [line]
    # all of them are children of the one step group: they ran in parallel
    group = node(wf, "[0]")
    assert len(group["children"]) == 7
    assert wf["status"]["progress"] == "7/7"


def test_loops_with_param_and_aggregated_outputs(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["loops-param"]
    for i, (name, lines) in enumerate([("a.txt", 3), ("b.txt", 5), ("c.txt", 1)]):
        n = node(wf, f"measure({i}:lines:{lines},name:{name})")
        assert out_param(n, "size") == str(lines * 10)
    total = node(wf, "total")
    params = {p["name"]: p["value"] for p in total["inputs"]["parameters"]}
    assert params["sizes"] == '["30","50","10"]'
    assert params["results"] == '[{"file":"a.txt","lines":3},{"file":"b.txt","lines":5},{"file":"c.txt","lines":1}]'
    assert lines_of(a, wf, "total") == ["files: a.txt,b.txt,c.txt", "lines: 9", "bytes: 90"]


def test_recursion_counts_down(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["recursion"]
    says = sorted(nodes_named(wf, "say"), key=lambda n: len(n["name"]))
    assert [lines_of(a, wf, n["name"]) for n in says] == [["3"], ["2"], ["1"], ["0"]]
    last = max(nodes_named(wf, "next"), key=lambda n: len(n["name"]))
    assert (last["phase"], last["message"]) == ("Skipped", "when '0 > 0' evaluated false")
    deepest = wf["metadata"]["name"] + "[1].next" * 3 + "[0].say"
    assert says[-1]["name"] == deepest


def test_retry_limit_policy_backoff_and_continue_on(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["retry"]
    flaky = node(wf, "flaky")
    assert (flaky["type"], flaky["phase"]) == ("Retry", "Succeeded")
    attempts = [wf["status"]["nodes"][c] for c in flaky["children"]]
    assert [n["displayName"] for n in attempts] == ["flaky(0)", "flaky(1)", "flaky(2)"]
    assert [n["phase"] for n in attempts] == ["Failed", "Failed", "Succeeded"]
    assert all(n["nodeFlag"] == {"retried": True} for n in attempts)
    # backoff: 1s after the first failure, 2s after the second (times have 1s resolution)
    from argosy.pipeline.status import parse_time

    def gap(x: dict[str, Any], y: dict[str, Any]) -> float:
        return (parse_time(y["startedAt"]) - parse_time(x["finishedAt"])).total_seconds()  # type: ignore[operator]

    assert gap(attempts[0], attempts[1]) >= 1
    assert gap(attempts[1], attempts[2]) >= 2
    assert flaky["outputs"]["result"] == "attempt 2 worked"
    broken = node(wf, "broken")
    assert (broken["phase"], len(broken["children"])) == ("Failed", 1)  # OnError: a failure is not retried
    assert lines_of(a, wf, "after") == ["flaky printed: attempt 2 worked"]


def test_timeouts_kill_the_step_with_argos_message(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["timeouts"]
    from argosy.pipeline.status import parse_time

    for display in ("too-slow", "past-deadline"):
        n = node(wf, display)
        assert (n["phase"], n["message"]) == ("Failed", "Pod was active on the node longer than the specified deadline")
        assert (parse_time(n["finishedAt"]) - parse_time(n["startedAt"])).total_seconds() < 30  # type: ignore[operator]
    assert lines_of(a, wf, "report") == ["too-slow Failed, past-deadline Failed"]


def test_exit_handlers_on_success_and_failure(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    ok = runs["exit-handlers"]
    name = ok["metadata"]["name"]
    assert node(ok, f"{name}.onExit")["phase"] == "Succeeded"
    assert lines_of(a, ok, "celebrate") == [f"{name} succeeded"]
    assert node(ok, "cry")["message"] == "when 'Succeeded != Succeeded' evaluated false"
    hook = node(ok, "work.onExit")
    assert (hook["templateName"], hook["nodeFlag"]) == ("cleanup", {"hooked": True})
    assert lines_of(a, ok, "work.onExit") == ["cleaning up after a step that Succeeded"]

    bad = runs["exit-handlers/fail"]
    name = bad["metadata"]["name"]
    assert (bad["status"]["phase"], bad["status"]["message"]) == ("Failed", node(bad, name)["message"])
    assert node(bad, "celebrate")["phase"] == "Skipped"
    assert lines_of(a, bad, "work.onExit") == ["cleaning up after a step that Failed"]
    (cry,) = lines_of(a, bad, "cry")
    prefix = f"{name} Failed: "
    assert cry.startswith(prefix)
    import json

    # {{workflow.failures}}: every failed node (the step, its step group, the root), as Argo lists them
    failures = sorted(json.loads(cry[len(prefix):]), key=lambda f: f["displayName"])
    work, group, root = node(bad, "work"), node(bad, f"{name}[0]"), node(bad, name)
    assert failures == [
        {"displayName": "[0]", "message": group["message"], "templateName": "", "phase": "Failed", "podName": f"{name}--{group['id'].rsplit('-', 1)[1]}", "finishedAt": group["finishedAt"]},
        {"displayName": name, "message": root["message"], "templateName": "main", "phase": "Failed", "podName": name, "finishedAt": root["finishedAt"]},
        {"displayName": "work", "message": "main: Error (exit code 1)", "templateName": "work", "phase": "Failed", "podName": f"{name}-work-{work['id'].rsplit('-', 1)[1]}", "finishedAt": work["finishedAt"]},
    ]
    assert root["message"] == group["message"] == f"child '{work['id']}' failed"


def test_lifecycle_hooks_run_when_their_expression_holds(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["lifecycle-hooks"]
    name = wf["metadata"]["name"]
    assert lines_of(a, wf, f"{name}.hooks.started") == [f"workflow {name} is running"]
    assert lines_of(a, wf, "build.hooks.running") == ["build started"]
    assert lines_of(a, wf, "build.hooks.succeeded") == ["build succeeded"]
    assert not nodes_named(wf, "build.hooks.failed")
    for hook in ("build.hooks.running", "build.hooks.succeeded"):
        assert node(wf, hook)["nodeFlag"] == {"hooked": True}
    assert node(wf, "publish")["startedAt"] >= node(wf, "build.hooks.succeeded")["finishedAt"]


def test_suspend_with_duration_resumes_by_itself(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["suspend"]
    pause = node(wf, "pause")
    assert (pause["type"], pause["phase"]) == ("Suspend", "Succeeded")
    from argosy.pipeline.status import parse_time

    assert (parse_time(pause["finishedAt"]) - parse_time(pause["startedAt"])).total_seconds() >= 2  # type: ignore[operator]
    assert node(wf, "after")["startedAt"] >= pause["finishedAt"]
    assert lines_of(a, wf) == ["before the pause", "after the pause"]


def test_template_ref_and_workflow_template_ref(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["template-ref"]
    for display, line in (("english", "hello Ada"), ("french", "bonjour Grace")):
        n = node(wf, display)
        assert n["templateRef"] == {"name": "argosy-greetings", "template": "greet"}
        assert lines_of(a, wf, display) == [line]
    text = a.cli("get", wf["metadata"]["name"]).ok().out
    assert re.search(r"✔ english\s+argosy-greetings/greet\s", text), text
    whole = runs["workflow-template-ref"]
    assert node(whole, whole["metadata"]["name"])["templateName"] == "greet-all"
    assert lines_of(a, whole) == ["hello the whole team"]
    assert lines_of(a, runs["workflow-template-ref/who"]) == ["hello Linus"]


def test_container_set_shares_the_pod_filesystem(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["container-set"]
    name = wf["metadata"]["name"]
    pod = node(wf, name)
    assert pod["type"] == "Pod" and out_param(pod, "words") == "2"
    containers = {n["name"][len(name) + 1 :]: n for n in wf["status"]["nodes"].values() if n["type"] == "Container"}
    assert {k: n["phase"] for k, n in containers.items()} == dict.fromkeys(("fetch", "lint", "test", "main"), "Succeeded")
    assert sorted(wf["status"]["nodes"][c]["name"] for c in containers["fetch"]["children"]) == [f"{name}.lint", f"{name}.test"]
    assert lines_of(a, wf)[-1] == "packaged 2 words"
    assert set(lines_of(a, wf)) == {"lint ok", "tests ok", "packaged 2 words"}


def test_template_defaults_merge_into_templates(ran: tuple[Argosy, dict[str, dict[str, Any]]]) -> None:
    a, runs = ran
    wf = runs["template-defaults"]
    assert lines_of(a, wf, "inherits") == ["stage is default-stage"]
    assert lines_of(a, wf, "overrides") == ["stage is custom-stage"]
    assert node(wf, wf["metadata"]["name"])["type"] == "Steps"  # container defaults don't make it a pod


# ------------------------------------------------------------------------------ own tests


def test_approval_waits_for_resume(argosy: Argosy) -> None:
    name = argosy.start(ex("approval"))
    wf = argosy.wait_node(name, "approve", ("Running",))
    assert node(wf, "approve")["type"] == "Suspend"
    assert not nodes_named(wf, "deploy")
    assert re.search(r"ǁ approve", argosy.cli("get", name).out)
    assert argosy.cli("resume", name).ok().out.strip() == f"workflow {name} resumed"
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert node(wf, "approve")["phase"] == "Succeeded"
    assert argosy.logs(name) == [f"{node(wf, 'deploy')['id'].replace(name + '-', name + '-deploy-')}: approved, deploying"]


def test_parallelism_limits_running_steps(argosy: Argosy) -> None:
    name = argosy.start(ex("parallelism"))
    seen: list[int] = []

    def check() -> bool:
        wf = argosy.get(name)
        pods = [n for n in wf["status"].get("nodes", {}).values() if n["type"] == "Pod"]
        seen.append(sum(1 for n in pods if n["phase"] in ("Pending", "Running")))
        return wf["status"].get("phase") in ("Succeeded", "Failed", "Error")

    wait_until(check, 90, 0.05, "parallelism example to finish")
    wf = argosy.get(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert max(seen) <= 2, seen
    assert max(seen) == 2, seen  # it did run two at once
    assert len([n for n in wf["status"]["nodes"].values() if n["type"] == "Pod"]) == 5


def test_memoize_reuses_outputs_on_the_next_run(argosy: Argosy) -> None:
    first = argosy.submit(ex("memoize"))
    second = argosy.submit(ex("memoize"))
    other = argosy.submit(ex("memoize"), "-p", "input=other")
    for wf in (first, second, other):
        assert wf["status"]["phase"] == "Succeeded"
    status = {"key": "expensive-dataset-v1", "cacheName": "argosy-example-cache"}
    assert node(first, "expensive")["memoizationStatus"] == {"hit": False, **status}
    assert node(second, "expensive")["memoizationStatus"] == {"hit": True, **status}
    assert node(other, "expensive")["memoizationStatus"]["hit"] is False
    token = node(first, "expensive")["outputs"]["result"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert node(second, "expensive")["outputs"]["result"] == token
    assert node(other, "expensive")["outputs"]["result"] != token
    assert lines_of(argosy, second, "use") == [f"token {token}"]
    assert argosy.logs(second["metadata"]["name"], node(second, "expensive")["id"]) == []  # it did not run
