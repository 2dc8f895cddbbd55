"""Bad input gives one clear message naming the file or field, a non-zero exit, no traceback.

They go through ``argosy``'s real entry point (``main()``), which turns any error into one line;
the first case also runs as its own process. Both fail the test on a traceback.
"""

from __future__ import annotations

import pytest

from tests.pipeline.engine.harness import Argosy, argosy_fixture  # noqa: F401

HEADER = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: bad-\nspec:\n  entrypoint: main\n"

CASES = {
    "invalid-yaml": (
        HEADER + "  templates:\n  - name: main\n    container: {image: alpine, command: [echo, hi]\n",
        r"{path}:\d+:\d+: invalid YAML: ",
    ),
    "unknown-template": (
        HEADER + "  templates:\n  - name: main\n    steps:\n    - - name: a\n        template: nope\n",
        "{path}: Failed to submit workflow: templates.main.steps[0].a template name 'nope' undefined",
    ),
    "cycle": (
        HEADER
        + "  templates:\n  - name: main\n    dag:\n      tasks:\n"
        + "      - {name: A, template: e, dependencies: [B]}\n      - {name: B, template: e, dependencies: [A]}\n"
        + "  - name: e\n    container: {image: alpine, command: [echo, hi]}\n",
        "{path}: Failed to submit workflow: templates.main.tasks dependency cycle detected: B->A->B",
    ),
    "image-without-command": (
        HEADER + "  templates:\n  - name: main\n    container: {image: 'alpine:3.19'}\n",
        "{path}: templates.main.container: image 'alpine:3.19' has no command and no entry in the images index;",
    ),
    "not-a-mapping": ("- just\n- a list\n", "{path}:"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_workflow_files_give_one_clear_message(argosy: Argosy, case: str) -> None:
    import re

    text, expected = CASES[case]
    path = argosy.write(f"{case}.yaml", text)
    res = argosy("submit", path, "--wait") if case == "invalid-yaml" else argosy.main("submit", path, "--wait")
    assert res.code != 0
    assert res.out == ""
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    pattern = re.escape(expected.format(path="\0")).replace(re.escape("\0"), re.escape(str(path))).replace(re.escape(r"\d+"), r"\d+")
    assert re.match(pattern, lines[0]), lines[0]
    assert argosy.cli("list").out.strip() == "No workflows found"  # nothing was created


def test_missing_file(argosy: Argosy) -> None:
    missing = argosy.home / "nowhere.yaml"
    for args in (("submit", missing), ("lint", missing), ("apply", "-f", missing), ("template", "create", missing)):
        res = argosy.main(*args)
        assert res.code != 0, args
        assert res.err.strip().splitlines() == [res.err.strip()] and str(missing) in res.err, (args, res.err)


def test_unknown_workflow_names(argosy: Argosy) -> None:
    for args in (("get", "nope"), ("logs", "nope"), ("retry", "nope")):
        res = argosy.main(*args)
        assert (res.code, res.err) == (1, 'workflows.argoproj.io "nope" not found\n'), args
    res = argosy.main("get", "@latest")
    assert res.code == 1 and res.err.strip() == "no workflows found"


def test_bad_options_and_parameters(argosy: Argosy) -> None:
    path = argosy.write("ok.yaml", HEADER + "  templates:\n  - name: main\n    container: {image: alpine, command: [echo, hi]}\n")
    res = argosy.main("submit", path, "-p", "novalue")
    assert res.code != 0 and res.err.strip() == "expected NAME=VALUE for -p, got 'novalue'"
    res = argosy.main("submit", path, "--entrypoint", "nope")
    assert res.code != 0 and "template name 'nope' undefined" in res.err and len(res.err.strip().splitlines()) == 1
    bad_params = argosy.write("params.yaml", "- not\n- a mapping\n")
    res = argosy.main("submit", path, "-f", bad_params)
    assert res.code != 0 and res.err.startswith(f"{bad_params}: ")
    res = argosy.main("submit", path, "-o", "bogus")
    assert res.code == 2 and "Invalid value for '-o'" in res.err


def test_a_file_with_no_workflow(argosy: Argosy) -> None:
    path = argosy.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n")
    res = argosy.main("submit", path)
    assert res.code != 0 and res.err.strip() == "no Workflow found in the given files"
    wf = argosy.write("wf.yaml", HEADER + "  templates:\n  - name: main\n    container: {image: alpine, command: [echo, hi]}\n")
    res = argosy.main("apply", "-f", wf)
    assert res.code != 0 and res.err.strip() == f"{wf}: use `argosy submit` for Workflows"

