"""The workflows of the seed blog posts run locally and end as the posts say.

Seeds are in /work/shared/seeds; their YAML is in tests/data/seeds (extracted) and, for the
examples a post only downloads from Argo (coinflip, coinflip-recursive, loops, dag-diamond),
in ./seeds. Everything runs through the real ``argosy`` CLI. Seeds that need a cluster
(``resource`` templates) or an artifact repository are left to their own tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pipeline.engine.harness import Argosy, argosy_fixture, fresh_argosy, node, nodes_named, out_param  # noqa: F401

DATA = Path(__file__).resolve().parents[2] / "data" / "seeds"
OWN = Path(__file__).resolve().parent / "seeds"

COWSAY = """#!/bin/sh
# stand-in for the cowsay of docker/whalesay: the message in a speech bubble
msg="$*"
bar=$(printf '%s' "$msg" | sed 's/./-/g')
echo " _${bar}_"
echo "< $msg >"
echo " -${bar}-"
echo "    \\\\"
echo "     \\\\   (a whale)"
"""

ARGOSAY = """#!/bin/sh
# stand-in for /usr/local/bin/argosay of the yky8/argosay:v2 image: `argosay echo WORDS...`
[ "$1" = echo ] && shift
echo "$@"
"""


def whalesay_index(a: Argosy, entrypoint: bool = False) -> None:
    """The images index: docker/whalesay has /usr/local/bin/cowsay (and cowsay as entrypoint)."""
    cowsay = a.tool("cowsay", COWSAY)
    entry: dict[str, Any] = {"paths": {"/usr/local/bin/cowsay": str(cowsay)}}
    if entrypoint:
        entry["entrypoint"] = ["cowsay"]
    a.images({"docker/whalesay": entry, "docker/whalesay:latest": entry})


def logs(a: Argosy, name: str, *args: str) -> list[str]:
    return a.logs(name, *args)


# Seeds that run to their end in one shared home, all at once (they are independent workflows).
BATCH = {
    "producer-consumer": DATA / "000-producer-consumer.yaml",
    "conditional": DATA / "000-conditional-execution.yaml",
    "k8s": DATA / "000-k8s-create-crd.yaml",
    "coinflip": OWN / "coinflip.yaml",
    "coinflip-recursive": OWN / "coinflip-recursive.yaml",
    "loops": OWN / "loops.yaml",
    "dag-diamond": OWN / "dag-diamond.yaml",
    "scripts": DATA / "002-scripts.yaml",
    "output-parameter": DATA / "002-output-parameter.yaml",
    "hello-world": DATA / "004-hello-world.yaml",
    "hello-whale": DATA / "004-hello-whale-rbac.yaml",
    "wft-entrypoint": DATA / "004-workflow-template-ref-entrypoint.yaml",
    "template-ref": DATA / "004-template-ref.yaml",
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Argosy, dict[str, dict[str, Any]]]]:
    base = tmp_path_factory.mktemp("seeds")
    with fresh_argosy(base) as a:
        cowsay = a.tool("cowsay", COWSAY)
        argosay = a.tool("argosay", ARGOSAY)
        whale = {"entrypoint": ["cowsay"], "paths": {"/usr/local/bin/cowsay": str(cowsay)}}
        # The post's image has /usr/local/bin/argosay; the images index puts a stand-in there.
        a.images({"docker/whalesay": whale, "yky8/argosay:v2": {"paths": {"/usr/local/bin/argosay": str(argosay)}}})
        out = a.main("apply", "-f", DATA / "004-workflow-template-submittable.yaml").ok().out
        assert out.strip() == "workflowtemplate.argoproj.io/workflow-template-submittable created"
        # 004's templateRef names workflow-template-1, which the post never shows: one with that template
        doc = yaml.safe_load((DATA / "004-workflow-template-submittable.yaml").read_text())
        doc["metadata"]["name"] = "workflow-template-1"
        a.main("apply", "-f", a.write("wft1.yaml", yaml.safe_dump(doc))).ok()
        # 003's whalesay relying on the images index for its entrypoint
        doc = yaml.safe_load((DATA / "003-whalesay.yaml").read_text())
        del doc["spec"]["templates"][0]["container"]["command"]
        jobs: dict[str, tuple[str | Path, tuple[str, ...]]] = {key: (path, ()) for key, path in BATCH.items()}
        jobs["whalesay-no-command"] = (a.write("whalesay-no-command.yaml", yaml.safe_dump(doc)), ())
        yield a, a.run_all(jobs)


def pod_lines(a: Argosy, wf: dict[str, Any], display: str) -> list[str]:
    """Log lines of one node's pod (``argosy logs WF POD``), without the ``pod: `` prefix."""
    n = node(wf, display)
    lines = logs(a, wf["metadata"]["name"], n["id"])
    assert lines, f"no log lines for {display}"
    pods = {line.split(": ", 1)[0] for line in lines}
    assert len(pods) == 1, pods
    return [line.split(": ", 1)[1] for line in lines]


# ---------------------------------------------------------------------------------------- 000


def test_000_producer_consumer_passes_the_output_parameter(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["producer-consumer"]
    assert wf["status"]["phase"] == "Succeeded"
    consumer = node(wf, "consumer-message")
    assert consumer["phase"] == "Succeeded"
    assert consumer["inputs"]["parameters"] == [{"name": "message", "value": "hello world"}]
    assert out_param(node(wf, "producer-message"), "message") == "hello world"
    assert pod_lines(argosy, wf, "consumer-message") == ["hello world"]
    # the post's service account is shown as the workflow's
    text = argosy.cli("get", wf["metadata"]["name"]).ok().out
    assert re.search(r"^ServiceAccount:\s+argo-workflow-account$", text, re.M)


def test_000_conditional_execution_runs_only_the_matching_consumer(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["conditional"]
    assert wf["status"]["phase"] == "Succeeded"
    assert node(wf, "producer-message")["outputs"]["result"] == "hello"
    assert node(wf, "consumer-execute")["phase"] == "Succeeded"
    skipped = node(wf, "consumer-noexecute")
    assert (skipped["type"], skipped["phase"]) == ("Skipped", "Skipped")
    assert skipped["message"] == "when 'hello != hello' evaluated false"
    assert pod_lines(argosy, wf, "consumer-execute") == ["hello"]


def test_000_simplified_dag_diamond_is_refused_naming_the_missing_template(argosy: Argosy) -> None:
    # The post shows the DAG "simplified", without its `echo` template: Argo refuses it.
    res = argosy.main("submit", DATA / "000-dag-diamond.yaml")
    assert res.code != 0
    assert "templates.diamond.tasks.A template name 'echo' undefined" in res.err
    assert "000-dag-diamond.yaml" in res.err
    assert argosy.cli("list").ok().out.strip() == "No workflows found"


def test_000_resource_template_needs_a_cluster_and_says_so(shared: tuple[Argosy, dict[str, Any]]) -> None:
    wf = shared[1]["k8s"]
    assert wf["status"]["phase"] in ("Error", "Failed")
    assert "Kubernetes" in wf["status"]["message"]


# ---------------------------------------------------------------------------------------- 001


def test_001_coinflip_takes_the_branch_of_the_flip(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["coinflip"]
    assert wf["status"]["phase"] == "Succeeded"
    side = node(wf, "flip-coin")["outputs"]["result"]
    assert side in ("heads", "tails")
    other = "tails" if side == "heads" else "heads"
    assert node(wf, side)["phase"] == "Succeeded"
    assert node(wf, other)["phase"] == "Skipped"
    assert node(wf, other)["message"] == f"when '{side} == {other}' evaluated false"
    assert pod_lines(argosy, wf, side) == [f"it was {side}"]
    assert wf["status"]["progress"] == "2/2"


def test_001_coinflip_recursive_flips_until_heads(shared: tuple[Argosy, dict[str, Any]]) -> None:
    wf = shared[1]["coinflip-recursive"]
    assert wf["status"]["phase"] == "Succeeded"
    nodes = wf["status"]["nodes"]
    flips = sorted((n for n in nodes.values() if n.get("templateName") == "flip-coin"), key=lambda n: len(n["name"]))
    results = [n["outputs"]["result"] for n in flips]
    # every flip but the last was tails (which recursed); the last was heads
    assert results[-1] == "heads" and all(r == "tails" for r in results[:-1])
    tails = [n for n in nodes.values() if n["displayName"] == "tails"]
    assert sum(1 for n in tails if n["type"] == "Steps" and n["phase"] == "Succeeded") == len(flips) - 1
    assert sum(1 for n in tails if n["phase"] == "Skipped") == 1
    heads = nodes_named(wf, "heads")
    assert [n["phase"] for n in heads if n["type"] == "Pod"] == ["Succeeded"]
    # one pod per flip plus the final heads, as the post counts
    assert sum(1 for n in nodes.values() if n["type"] == "Pod") == len(flips) + 1
    nested = max(flips, key=lambda n: len(n["name"]))
    assert nested["name"] == wf["metadata"]["name"] + "".join("[1].tails" for _ in flips[1:]) + "[0].flip-coin"


def test_001_loops_run_one_pod_per_item(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["loops"]
    assert wf["status"]["phase"] == "Succeeded"
    for i, msg in enumerate(["hello kubernetes", "hello argo"]):
        n = node(wf, f"print-message({i}:{msg})")
        assert n["phase"] == "Succeeded"
        assert n["inputs"]["parameters"] == [{"name": "message", "value": msg}]
        assert f"< {msg} >" in pod_lines(argosy, wf, f"print-message({i}:{msg})")
    assert wf["status"]["progress"] == "2/2"


def test_001_dag_diamond_runs_b_and_c_between_a_and_d(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["dag-diamond"]
    assert wf["status"]["phase"] == "Succeeded"
    nodes = {n["displayName"]: n for n in wf["status"]["nodes"].values()}
    root = nodes[wf["metadata"]["name"]]
    assert root["type"] == "DAG"
    assert [wf["status"]["nodes"][c]["displayName"] for c in root["children"]] == ["A"]
    assert sorted(wf["status"]["nodes"][c]["displayName"] for c in nodes["A"]["children"]) == ["B", "C"]
    assert nodes["B"]["children"] == [nodes["D"]["id"]] == nodes["C"]["children"]
    assert root["outboundNodes"] == [nodes["D"]["id"]]
    # D starts only after both B and C finished
    assert nodes["D"]["startedAt"] >= max(nodes["B"]["finishedAt"], nodes["C"]["finishedAt"])
    assert nodes["B"]["startedAt"] >= nodes["A"]["finishedAt"]
    lines = logs(argosy, wf["metadata"]["name"])
    assert sorted(line.split(": ", 1)[1] for line in lines) == ["A", "B", "C", "D"]


# ---------------------------------------------------------------------------------------- 002


def test_002_scripts_in_bash_python_and_javascript(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["scripts"]
    assert wf["status"]["phase"] == "Succeeded"
    for lang, tag in (("bash", "BASH"), ("python", "PY"), ("javascript", "JS")):
        result = node(wf, f"generate-from-{lang}")["outputs"]["result"]
        assert result.isdigit() and 0 <= int(result) <= 101, (lang, result)
        assert pod_lines(argosy, wf, f"print-for-{lang}") == [f"result was: [{tag}] {result}"]


def test_002_output_parameter_feeds_the_next_step(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["output-parameter"]
    assert wf["status"]["phase"] == "Succeeded"
    assert out_param(node(wf, "generate-parameter"), "hello-param") == "hello world"
    consume = node(wf, "consume-parameter")
    assert consume["inputs"]["parameters"] == [{"name": "message", "value": "hello world"}]
    assert pod_lines(argosy, wf, "consume-parameter") == ["hello world"]


# ---------------------------------------------------------------------------------------- 003


def test_003_whalesay_batch_job(argosy: Argosy) -> None:
    """`argo submit --watch whale-say.yaml`, `argo logs $(argo list -o name)`, `argo delete --all`."""
    whalesay_index(argosy)
    res = argosy("submit", DATA / "003-whalesay.yaml", "--wait")
    assert res.code == 0, res.err
    name = argosy.cli("list", "-o", "name").ok().out.strip()
    assert name.startswith("whalesay-")
    assert re.search(r"^Status:\s+Succeeded$", res.out, re.M)
    tree = res.out.split("\n\n")[-1].splitlines()
    assert tree[0].split() == ["STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE"]
    assert tree[1].split()[:4] == ["✔", name, "whalesay", name]  # the root pod is named as the workflow
    lines = logs(argosy, name)
    assert f"{name}: < This is an Argo Workflow! >" in lines
    assert all(line.startswith(f"{name}: ") for line in lines)
    assert argosy.cli("delete", "--all").ok().out.strip() == f"Workflow '{name}' deleted"
    assert argosy.cli("list").ok().out.strip() == "No workflows found"


def test_003_whalesay_without_command_uses_the_images_entrypoint(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["whalesay-no-command"]
    assert wf["status"]["phase"] == "Succeeded"
    assert "< This is an Argo Workflow! >" in pod_lines(argosy, wf, wf["metadata"]["name"])


# ---------------------------------------------------------------------------------------- 004


def test_004_hello_world_and_hello_whale_with_a_service_account(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["hello-world"]
    assert wf["status"]["phase"] == "Succeeded"
    assert "< hello world >" in pod_lines(argosy, wf, wf["metadata"]["name"])
    # a file with RBAC documents and a Workflow: only the Workflow is submitted
    wf = shared[1]["hello-whale"]
    assert wf["metadata"]["name"] == "hello-whale"
    assert wf["spec"]["serviceAccountName"] == "workflow-sa"
    assert wf["status"]["phase"] == "Succeeded"


def test_004_workflow_template_ref_with_entrypoint_and_arguments(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["wft-entrypoint"]
    assert wf["status"]["phase"] == "Succeeded"
    root = node(wf, wf["metadata"]["name"])
    assert root["templateName"] == "whalesay-template"
    assert root["inputs"]["parameters"] == [{"name": "message", "value": "from workflow"}]
    assert "< from workflow >" in pod_lines(argosy, wf, wf["metadata"]["name"])
    # neither the workflow nor the post's template names an entrypoint: refused as Argo does
    res = argosy.main("submit", DATA / "004-workflow-template-ref.yaml")
    assert res.code != 0 and "spec.entrypoint is required" in res.err


def test_004_template_ref_runs_the_referenced_template(shared: tuple[Argosy, dict[str, Any]]) -> None:
    argosy, wf = shared[0], shared[1]["template-ref"]
    assert wf["status"]["phase"] == "Succeeded"
    call = node(wf, "call-whalesay-template")
    assert call["templateRef"] == {"name": "workflow-template-1", "template": "whalesay-template"}
    assert call["inputs"]["parameters"] == [{"name": "message", "value": "hello world"}]
    assert "< hello world >" in pod_lines(argosy, wf, "call-whalesay-template")


def test_004_template_ref_to_a_missing_template_is_refused(argosy: Argosy) -> None:
    res = argosy.main("submit", DATA / "004-template-ref.yaml")
    assert res.code != 0
    assert "template reference workflow-template-1.whalesay-template not found" in res.err
    assert len(res.err.strip().splitlines()) == 1
