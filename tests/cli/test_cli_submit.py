"""``argosy submit``: its options and outputs, as a user sees them, and concurrent submits."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.pipeline.engine.harness import Argosy, argosy_fixture, node  # noqa: F401

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: cli-
  labels:
    origin: file
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: msg
      value: hello
  templates:
  - name: main
    inputs:
      parameters:
      - name: msg
    steps:
    - - name: say
        template: say
        arguments:
          parameters:
          - name: msg
            value: "{{inputs.parameters.msg}}"
  - name: say
    inputs:
      parameters:
      - name: msg
    container:
      image: alpine:3.19
      command: [echo, "{{inputs.parameters.msg}} as {{workflow.serviceAccountName}}"]
  - name: alt
    container:
      image: alpine:3.19
      command: [echo, "alternative entrypoint"]
  - name: fail
    container:
      image: alpine:3.19
      command: [sh, -c, "exit 4"]
"""


@pytest.fixture
def wf_file(argosy: Argosy) -> Path:
    return argosy.write("cli.yaml", WORKFLOW)


def test_submit_name_labels_service_account_and_parameters(argosy: Argosy, wf_file: Path) -> None:
    res = argosy("submit", wf_file, "--name", "cli-one", "-l", "team=data,tier=1", "--serviceaccount", "robot", "-p", "msg=bonjour", "--wait", "-o", "json")
    assert res.code == 0, res.err
    wf = res.json()
    assert wf["metadata"]["name"] == "cli-one"
    assert {"origin": "file", "team": "data", "tier": "1"}.items() <= wf["metadata"]["labels"].items()
    assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Succeeded"
    assert wf["spec"]["serviceAccountName"] == "robot"
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "msg", "value": "bonjour"}]
    assert wf["status"]["phase"] == "Succeeded"
    say = node(wf, "say")
    assert argosy.logs("cli-one") == [f"cli-one-say-{say['id'].rsplit('-', 1)[1]}: bonjour as robot"]
    text = argosy.cli("get", "cli-one").out
    assert re.search(r"^ServiceAccount:\s+robot$", text, re.M)
    assert re.search(r"^Parameters:\s*\n\s+msg:\s+bonjour$", text, re.M)


def test_submit_parameter_file_entrypoint_and_generate_name(argosy: Argosy, wf_file: Path) -> None:
    params = argosy.write("params.yaml", "msg: from-file\n")
    wf = argosy.cli("submit", wf_file, "-f", params, "--wait", "-o", "json").ok().json()
    assert argosy.logs(wf["metadata"]["name"])[0].endswith(": from-file as ")  # no service account set
    wf = argosy.cli("submit", wf_file, "--entrypoint", "alt", "--generate-name", "custom-", "--wait", "-o", "json").ok().json()
    name = wf["metadata"]["name"]
    assert re.fullmatch(r"custom-[a-z0-9]{5}", name)
    root = node(wf, name)
    assert (root["type"], root["templateName"]) == ("Pod", "alt")
    assert argosy.logs(name) == [f"{name}: alternative entrypoint"]


def test_submit_output_formats(argosy: Argosy, wf_file: Path) -> None:
    name = argosy.cli("submit", wf_file, "-o", "name").ok().out
    assert re.fullmatch(r"cli-[a-z0-9]{5}\n", name)
    doc = yaml.safe_load(argosy.cli("submit", wf_file, "-o", "yaml").ok().out)
    assert (doc["kind"], doc["metadata"]["generateName"]) == ("Workflow", "cli-")
    doc = argosy.cli("submit", wf_file, "-o", "json").ok().json()
    assert doc["metadata"]["name"].startswith("cli-") and doc["spec"]["entrypoint"] == "main"
    text = argosy.cli("submit", wf_file).ok().out
    first = text.splitlines()[:4]
    assert [line.split(":")[0] for line in first] == ["Name", "Namespace", "ServiceAccount", "Status"]
    wide = argosy.cli("submit", wf_file, "-o", "wide", "--wait").out
    assert re.search(r"^STEP\s+TEMPLATE\s+PODNAME\s+DURATION\s+ARTIFACTS\s+MESSAGE\s+RESOURCESDURATION\s+NODENAME$", wide, re.M), wide
    assert len(argosy.cli("list", "-o", "name").out.split()) == 5


def test_submit_dry_run_creates_nothing(argosy: Argosy, wf_file: Path) -> None:
    res = argosy.main("submit", wf_file, "--dry-run", "-p", "msg=dry", "--name", "dry-one")
    assert res.code == 0, res.err
    doc = yaml.safe_load(res.out)
    assert doc["metadata"]["name"] == "dry-one"
    assert doc["spec"]["arguments"]["parameters"] == [{"name": "msg", "value": "dry"}]
    assert "status" not in doc
    assert argosy.cli("list").out.strip() == "No workflows found"
    assert json.loads(argosy.cli("submit", wf_file, "--dry-run", "-o", "json").out)["kind"] == "Workflow"


def test_submit_wait_exits_non_zero_when_the_workflow_fails(argosy: Argosy, wf_file: Path) -> None:
    res = argosy.cli("submit", wf_file, "--entrypoint", "fail", "--wait")
    assert res.code == 1
    assert re.search(r"^Status:\s+Failed$", res.out, re.M)
    assert re.search(r"^Message:\s+main: Error \(exit code 4\)$", res.out, re.M)


def test_six_concurrent_submits_all_complete(argosy: Argosy, wf_file: Path) -> None:
    procs = [argosy.popen("submit", wf_file, "-p", f"msg=run-{i}", "--wait", "-o", "json") for i in range(6)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        outs.append(json.loads(out))
    names = [wf["metadata"]["name"] for wf in outs]
    assert len(set(names)) == 6
    for i, wf in enumerate(outs):
        assert wf["status"]["phase"] == "Succeeded"
        assert wf["spec"]["arguments"]["parameters"] == [{"name": "msg", "value": f"run-{i}"}]
        # every record is whole and its own: nodes, outputs and logs match its parameter
        stored = argosy.get(wf["metadata"]["name"])
        assert stored["status"]["nodes"] == wf["status"]["nodes"]
        assert node(stored, "say")["outputs"]["exitCode"] == "0"
        assert argosy.logs(wf["metadata"]["name"])[0].endswith(f": run-{i} as ")
    listed = argosy.cli("list").out.splitlines()
    assert len(listed) == 7 and all(" Succeeded " in line for line in listed[1:])


def test_submit_from_a_workflow_template(argosy: Argosy) -> None:
    tmpl = yaml.safe_load(WORKFLOW)
    tmpl["kind"] = "WorkflowTemplate"
    tmpl["metadata"] = {"name": "cli-template"}
    argosy.cli("apply", "-f", argosy.write("t.yaml", yaml.safe_dump(tmpl))).ok()
    wf = argosy.cli("submit", "--from", "workflowtemplate/cli-template", "-p", "msg=templated", "--wait", "-o", "json").ok().json()
    assert wf["metadata"]["name"].startswith("cli-template-")
    assert wf["spec"]["workflowTemplateRef"] == {"name": "cli-template"}
    assert wf["status"]["phase"] == "Succeeded"
    assert argosy.logs(wf["metadata"]["name"])[0].endswith(": templated as ")
    res = argosy.cli("submit", "--from", "workflowtemplate/nope")
    assert res.code == 1 and res.err.strip() == 'workflowtemplates.argoproj.io "nope" not found'


def test_submit_watch_without_a_terminal_prints_the_final_view(argosy: Argosy, wf_file: Path) -> None:
    proc = subprocess.run(argosy.argv("submit", str(wf_file), "--watch"), env=argosy.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^Status:\s+Succeeded$", proc.stdout, re.M)
    assert re.search(r"^ └───✔ say\s+say\s", proc.stdout, re.M), proc.stdout
