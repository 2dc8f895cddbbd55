"""Commands that act on runs and stored documents: stop, terminate, suspend/resume, retry,
resubmit, apply, template, lint, version, completion."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import yaml

from tests.pipeline.engine.harness import (  # noqa: F401
    EXAMPLES,
    Argosy,
    argosy_fixture,
    node,
    nodes_named,
    pids_with_marker,
    wait_until,
)


def long_workflow(argosy: Argosy, marker: str) -> Path:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "long-"},
        "spec": {
            "entrypoint": "main",
            "onExit": "bye",
            "templates": [
                {"name": "main", "steps": [[{"name": "work", "template": "work"}], [{"name": "never", "template": "bye"}]]},
                {"name": "work", "container": {"image": "alpine", "command": ["sh", "-c", f"python3 -c 'import time; time.sleep(60)' {marker}"]}},
                {"name": "bye", "container": {"image": "alpine", "command": ["echo", "exit handler saw {{workflow.status}}"]}},
            ],
        },
    }
    return argosy.write("long.yaml", yaml.safe_dump(doc))


def test_stop_kills_the_step_and_still_runs_the_exit_handler(argosy: Argosy) -> None:
    marker = f"argosy-stop-{uuid.uuid4().hex}"
    name = argosy.start(long_workflow(argosy, marker))
    argosy.wait_node(name, "work", ("Running",))
    wait_until(lambda: pids_with_marker(marker), 30, 0.05, "the step's process")
    assert argosy.cli("stop", name).ok().out == f"workflow {name} stopped\n"
    wf = argosy.wait_phase(name)
    assert (wf["status"]["phase"], wf["status"]["message"]) == ("Failed", "Stopped with strategy 'Stop'")
    assert wf["spec"]["shutdown"] == "Stop"
    assert node(wf, "work")["phase"] == "Failed"
    assert not nodes_named(wf, "never")
    exit_node = node(wf, f"{name}.onExit")
    assert exit_node["phase"] == "Succeeded"
    assert argosy.logs(name, exit_node["id"])[0].endswith(": exit handler saw Failed")
    assert pids_with_marker(marker) == []
    res = argosy.cli("stop", name)
    assert res.code == 1 and res.err.strip() == f"cannot stop completed workflow {name}"


def test_terminate_stops_everything_without_exit_handlers(argosy: Argosy) -> None:
    marker = f"argosy-terminate-{uuid.uuid4().hex}"
    name = argosy.start(long_workflow(argosy, marker))
    argosy.wait_node(name, "work", ("Running",))
    assert argosy.cli("terminate", name).ok().out == f"workflow {name} terminated\n"
    wf = argosy.wait_phase(name)
    assert (wf["status"]["phase"], wf["status"]["message"]) == ("Failed", "Stopped with strategy 'Terminate'")
    assert node(wf, "work")["message"] == "Stopped with strategy 'Terminate'"
    assert not nodes_named(wf, f"{name}.onExit")
    assert pids_with_marker(marker) == []
    assert re.search(r"^Status:\s+Failed \(Terminated\)$", argosy.cli("get", name).out, re.M)


def test_retry_runs_only_the_failed_steps_again(argosy: Argosy) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gate"}, "data": {"open": "no"}}
    path_cm = argosy.write("gate.yaml", yaml.safe_dump(cm))
    argosy.main("apply", "-f", path_cm).ok()
    env = [{"name": "OPEN", "valueFrom": {"configMapKeyRef": {"name": "gate", "key": "open"}}}]
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "retry-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [
                    [{"name": "prepare", "template": "ok"}, {"name": "gated", "template": "gated"}],
                    [{"name": "after", "template": "ok"}],
                ]},
                {"name": "ok", "script": {"image": "python:3.12-alpine", "command": ["python"], "source": "import uuid; print(uuid.uuid4().hex)"}},
                {"name": "gated", "container": {"image": "alpine", "command": ["sh", "-c", '[ "$OPEN" = yes ]'], "env": env}},
            ],
        },
    }
    wf = argosy.submit(argosy.write("retry.yaml", yaml.safe_dump(doc)))
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Failed"
    prepared = node(wf, "prepare")["outputs"]["result"]
    res = argosy.cli("retry", name)  # nothing changed: it fails again the same way
    assert res.code == 0
    assert argosy.wait_phase(name)["status"]["phase"] == "Failed"
    argosy.main("apply", "-f", argosy.write("open.yaml", yaml.safe_dump({**cm, "data": {"open": "yes"}}))).ok()
    argosy.cli("retry", name).ok()
    wf = argosy.wait_phase(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert node(wf, "prepare")["outputs"]["result"] == prepared  # the succeeded step was not run again
    assert node(wf, "gated")["phase"] == "Succeeded" and node(wf, "after")["phase"] == "Succeeded"
    res = argosy.cli("retry", name)
    assert res.code == 1 and "is not failed or errored" in res.err


def test_resubmit_creates_a_new_run_of_the_same_spec(argosy: Argosy) -> None:
    first = argosy.submit(EXAMPLES / "hello-world.yaml", "-p", "message=first")
    name = first["metadata"]["name"]
    res = argosy.cli("resubmit", name, "-p", "message=again", "--wait", "-o", "json")
    assert res.code == 0, res.err
    again = res.json()
    assert again["metadata"]["name"] != name and again["metadata"]["name"].startswith(f"{name}-")
    assert again["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"] == name
    assert again["status"]["phase"] == "Succeeded"
    assert argosy.logs(again["metadata"]["name"]) == [f"{again['metadata']['name']}: again"]
    assert argosy.logs(name) == [f"{name}: first"]


def test_apply_configmap_secret_and_template_created_configured_unchanged(argosy: Argosy) -> None:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"level": "debug"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"token": "s3cr3t"}},
    ]
    path = argosy.write("docs.yaml", yaml.safe_dump_all(docs))
    assert argosy.cli("apply", "-f", path).out == "configmap/settings created\nsecret/creds created\n"
    assert argosy.cli("apply", "-f", path).out == "configmap/settings unchanged\nsecret/creds unchanged\n"
    docs[0]["data"]["level"] = "info"
    argosy.write("docs.yaml", yaml.safe_dump_all(docs))
    assert argosy.cli("apply", "-f", path).out == "configmap/settings configured\nsecret/creds unchanged\n"
    tmpl = EXAMPLES / "templates" / "greetings.yaml"
    assert argosy.cli("apply", "-f", tmpl).out == "workflowtemplate.argoproj.io/argosy-greetings created\n"
    assert argosy.cli("apply", "-f", tmpl).out == "workflowtemplate.argoproj.io/argosy-greetings unchanged\n"
    # the values reach steps: env from the ConfigMap and the Secret
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "env-"},
        "spec": {"entrypoint": "show", "templates": [{"name": "show", "container": {
            "image": "alpine", "command": ["sh", "-c", "echo $LEVEL $TOKEN"],
            "env": [
                {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            ],
        }}]},
    }
    done = argosy.submit(argosy.write("env.yaml", yaml.safe_dump(wf)))
    assert argosy.logs(done["metadata"]["name"]) == [f"{done['metadata']['name']}: info s3cr3t"]


def test_template_create_list_get_delete_lint(argosy: Argosy) -> None:
    tmpl = EXAMPLES / "templates" / "greetings.yaml"
    assert argosy.cli("template", "list").out.strip() == "No workflow templates found"
    out = argosy.cli("template", "create", tmpl).ok().out
    assert re.fullmatch(r"Name:\s+argosy-greetings\nNamespace:\s+default\nCreated:\s+.+\n", out), out
    res = argosy.cli("template", "create", tmpl)
    assert res.code == 1 and 'workflowtemplates.argoproj.io "argosy-greetings" already exists' in res.err
    assert argosy.cli("template", "list").out.split() == ["NAME", "argosy-greetings"]
    assert argosy.cli("template", "get", "argosy-greetings").out.startswith("Name:                argosy-greetings\n")
    got = yaml.safe_load(argosy.cli("template", "get", "argosy-greetings", "-o", "yaml").out)
    assert got["spec"]["entrypoint"] == "greet-all"
    assert argosy.cli("template", "lint", tmpl).out == "✔ no linting errors found!\n"
    assert argosy.cli("template", "delete", "argosy-greetings").out == "WorkflowTemplate 'argosy-greetings' deleted\n"
    res = argosy.cli("template", "delete", "argosy-greetings")
    assert res.code == 1 and res.err.strip() == 'workflowtemplates.argoproj.io "argosy-greetings" not found'
    bad = argosy.write("bad-template.yaml", tmpl.read_text().replace("template: greet\n", "template: nope\n"))
    res = argosy.cli("template", "create", bad)
    assert res.code == 1 and "template name 'nope' undefined" in res.err
    assert argosy.cli("template", "list").out.strip() == "No workflow templates found"


def test_lint_exit_codes_and_argos_texts(argosy: Argosy) -> None:
    good = EXAMPLES / "steps.yaml"
    res = argosy.cli("lint", good)
    assert (res.code, res.out) == (0, "✔ no linting errors found!\n")
    bad = argosy.write("bad.yaml", good.read_text().replace("template: write-and-read", "template: missing", 1))
    res = argosy.cli("lint", bad, good)
    assert res.code == 1
    assert res.out == (
        f"{bad}:\n"
        '   ✖ in "steps-" (Workflow): templates.main.steps[1].left template name \'missing\' undefined\n'
        "\n"
        "✖ 1 linting errors found!\n"
    )
    res = argosy.cli("lint", "-o", "simple", bad)
    assert (res.code, res.out) == (1, f"{bad}: in \"steps-\" (Workflow): templates.main.steps[1].left template name 'missing' undefined\n")
    empty = argosy.home / "empty"
    empty.mkdir()
    res = argosy.cli("lint", empty)
    assert (res.code, res.out) == (1, "✖ found nothing to lint in the specified paths, failing...\n")
    res = argosy.main("lint", argosy.home / "nope.yaml")
    assert res.code == 1 and res.err == f"{argosy.home / 'nope.yaml'}: no such file or directory\n"


def test_version_and_completion(argosy: Argosy) -> None:
    from argosy import __version__

    out = argosy.cli("version").ok().out.splitlines()
    assert out[0] == f"argosy: v{__version__}"
    assert all(line.startswith("  ") and ": " in line for line in out[1:])
    res = argosy.main("completion", "bash")
    assert res.code == 0
    assert "_argosy_completion()" in res.out and "complete -o nosort -F _argosy_completion argosy" in res.out
