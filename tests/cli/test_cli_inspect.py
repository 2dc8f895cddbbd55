"""``argosy list | get | logs | wait | delete``: what a user reads, in Argo's formats."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.pipeline.engine.harness import Argosy, argosy_fixture, fresh_argosy, node, wait_until  # noqa: F401

STEPS = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: {prefix}-
  labels: {{team: {team}}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: first
        template: print
        arguments: {{parameters: [{{name: text, value: "one\\ntwo"}}]}}
    - - name: second
        template: {second}
  - name: print
    inputs: {{parameters: [{{name: text}}]}}
    container:
      image: alpine:3.19
      command: [sh, -c, "printf '%s\\n' \\"{{{{inputs.parameters.text}}}}\\""]
  - name: ok
    container: {{image: alpine:3.19, command: [echo, three]}}
  - name: fail
    container: {{image: alpine:3.19, command: [sh, -c, "echo oops; exit 3"]}}
  - name: hold
    suspend: {{}}
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Argosy, dict[str, str]]]:
    """One home with a succeeded, a failed and a (suspended, so) running workflow."""
    with fresh_argosy(tmp_path_factory.mktemp("inspect")) as a:
        names = {}
        for key, prefix, team, second in (("ok", "alpha", "a", "ok"), ("bad", "beta", "b", "fail"), ("held", "gamma", "a", "hold")):
            names[key] = a.start(a.write(f"{key}.yaml", STEPS.format(prefix=prefix, team=team, second=second)))
        a.wait_phase(names["ok"])
        a.wait_phase(names["bad"])
        a.wait_node(names["held"], "second", ("Running",))
        yield a, names


def rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]


def test_list_filters_and_formats(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    table = rows(a.cli("list").ok().out)
    assert table[0] == ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"]
    status = {r[0]: r[1] for r in table[1:]}
    assert status == {n["ok"]: "Succeeded", n["bad"]: "Failed", n["held"]: "Running"}
    assert [r[0] for r in table[1:]] == [n["held"], n["bad"], n["ok"]]  # newest first
    assert [r[0] for r in rows(a.cli("list", "--running").out)[1:]] == [n["held"]]
    assert sorted(r[0] for r in rows(a.cli("list", "--completed").out)[1:]) == sorted([n["ok"], n["bad"]])
    assert sorted(a.cli("list", "-l", "team=a", "-o", "name").out.split()) == sorted([n["ok"], n["held"]])
    assert a.cli("list", "--prefix", "beta-", "-o", "name").out.split() == [n["bad"]]
    assert a.cli("list", "--prefix", "nothing-").out.strip() == "No workflows found"
    failed_row = next(r for r in table if r[0] == n["bad"])
    assert failed_row[-1] == f"child '{node(a.get(n['bad']), 'second')['id']}' failed"


def test_list_in_an_empty_home(argosy: Argosy) -> None:
    res = argosy.cli("list")
    assert (res.code, res.out) == (0, "No workflows found\n")


def test_get_json_is_argos_workflow_schema(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    wf = a.get(n["bad"])
    assert (wf["apiVersion"], wf["kind"]) == ("argoproj.io/v1alpha1", "Workflow")
    meta = wf["metadata"]
    assert {"name", "namespace", "uid", "creationTimestamp", "labels"} <= set(meta)
    assert meta["namespace"] == "default" and meta["labels"]["workflows.argoproj.io/completed"] == "true"
    assert wf["spec"]["entrypoint"] == "main"
    st = wf["status"]
    assert st["phase"] == "Failed" and st["progress"] == "1/2"
    assert {"startedAt", "finishedAt", "nodes", "message"} <= set(st)
    name = meta["name"]
    root = st["nodes"][name]
    assert root["id"] == name and root["type"] == "Steps" and root["displayName"] == name
    second = node(wf, "second")
    assert {"id", "name", "displayName", "type", "templateName", "templateScope", "phase", "boundaryID", "message", "startedAt", "finishedAt", "progress", "outputs"} <= set(second)
    assert second["boundaryID"] == name and second["templateScope"] == f"local/{name}"
    assert second["outputs"]["exitCode"] == "3"
    assert re.fullmatch(rf"{name}-\d+", second["id"])
    for nid, nd in st["nodes"].items():
        assert nid == nd["id"]
        for child in nd.get("children", []):
            assert child in st["nodes"]


def test_get_text_view_header_and_tree(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    name = n["bad"]
    text = a.cli("get", name).ok().out
    head, tree = text.split("\n\n", 1)
    keys = [line.split(":")[0] for line in head.splitlines() if not line.startswith(" ")]
    assert keys == ["Name", "Namespace", "ServiceAccount", "Status", "Message", "Conditions", "Created", "Started", "Finished", "Duration", "Progress"]
    assert re.search(r"^Created:\s+\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \(.+ ago\)$", head, re.M)
    assert re.search(r"^Duration:\s+\d+ seconds?$", head, re.M)
    lines = tree.splitlines()
    assert lines[0].split() == ["STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE"]
    assert lines[1].startswith(f" ✖ {name}") and "main" in lines[1]
    assert re.match(r" ├───✔ first\s+print\s+" + re.escape(name) + r"-print-\d+\s+\d+s", lines[2]), lines[2]
    assert re.match(r" └───✖ second\s+fail\s+" + re.escape(name) + r"-fail-\d+\s+\d+s\s+main: Error \(exit code 3\)", lines[3]), lines[3]
    plain = a.cli("get", name, "--no-utf8").out
    assert "✔" not in plain and "├" not in plain
    assert re.search(r"^ \|---Succeeded first\s", plain, re.M), plain
    assert re.search(r"^ `---Failed second\s", plain, re.M), plain
    held = a.cli("get", n["held"]).out
    assert re.search(r"└───ǁ second\s+hold", held), held


def test_get_latest_is_the_newest(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    assert a.cli("get", "@latest", "-o", "name").out.strip() == n["held"]
    assert a.cli("get", "@latest", "-o", "json").json()["metadata"]["name"] == n["held"]


def test_logs_all_pods_one_pod_and_grep(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    name = n["bad"]
    wf = a.get(name)
    first = f"{name}-print-{node(wf, 'first')['id'].rsplit('-', 1)[1]}"
    second = f"{name}-fail-{node(wf, 'second')['id'].rsplit('-', 1)[1]}"
    assert a.logs(name) == [f"{first}: one", f"{first}: two", f"{second}: oops"]
    assert a.logs(name, second) == [f"{second}: oops"]
    assert a.logs(name, "--grep", "t[wx]o") == [f"{first}: two"]


def test_logs_follow_ends_when_the_workflow_ends(argosy: Argosy) -> None:
    path = argosy.write("slow.yaml", STEPS.format(prefix="follow", team="x", second="ok").replace("echo, three", "sh, -c, 'sleep 1; echo three'"))
    name = argosy.start(path)
    proc = argosy.popen("logs", name, "-f")
    out, err = proc.communicate(timeout=60)  # returns only because the workflow ended
    assert proc.returncode == 0, err
    assert argosy.phase(name) == "Succeeded"
    assert [line.split(": ", 1)[1] for line in out.splitlines()] == ["one", "two", "three"]


def test_wait_prints_phase_and_time(home: tuple[Argosy, dict[str, str]]) -> None:
    a, n = home
    res = a.cli("wait", n["ok"])
    assert res.code == 0
    assert re.fullmatch(rf"{n['ok']} Succeeded at \d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}} [+-]\d{{4}} \w+\n", res.out), res.out
    res = a.cli("wait", n["bad"])
    assert res.code == 1 and res.out.startswith(f"{n['bad']} Failed at ")


def test_delete_by_name_completed_all_and_unknown(argosy: Argosy) -> None:
    done = [argosy.start(argosy.write(f"d{i}.yaml", STEPS.format(prefix=f"del{i}", team="d", second="ok"))) for i in range(2)]
    held = argosy.start(argosy.write("held.yaml", STEPS.format(prefix="held", team="d", second="hold")))
    for name in done:
        argosy.wait_phase(name)
    assert argosy.cli("delete", "nope").out == "Workflow 'nope' not found\n"
    assert argosy.cli("delete", done[0]).out == f"Workflow '{done[0]}' deleted\n"
    assert argosy.cli("delete", "--completed").out == f"Workflow '{done[1]}' deleted\n"
    assert argosy.cli("list", "-o", "name").out.split() == [held]
    assert argosy.cli("delete", "--all").out == f"Workflow '{held}' deleted\n"
    assert argosy.cli("list").out.strip() == "No workflows found"
    assert argosy.cli("delete", "--all").out.strip() == "No resources found"
    res = argosy.main("get", done[0])
    assert res.code == 1 and res.err.strip() == f'workflows.argoproj.io "{done[0]}" not found'



def test_get_shows_argos_conditions_of_a_finished_workflow(argosy: Argosy) -> None:
    """Argo's status conditions: PodRunning (False once nothing runs) then Completed, also in `argosy get`."""
    name = argosy.start(argosy.write("c.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: cond-}\n"
                                     "spec:\n  entrypoint: m\n  templates:\n  - name: m\n    container: {image: alpine, command: [true]}\n"))
    wf = argosy.wait_phase(name)
    assert wf["status"]["conditions"] == [{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "True"}]
    out = argosy.cli("get", name).ok().out
    assert re.search(r"^Conditions:\s*\n PodRunning\s+False\n Completed\s+True$", out, re.M), out
