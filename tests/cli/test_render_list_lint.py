"""``argo list`` and ``argo lint`` layouts (vectors from Argo's workflow-printer and lint formatter tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argosy.cli.render import render_lint, render_list

NOW = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def argo_test_workflow() -> dict[str, Any]:
    """The workflow of Argo's TestPrintWorkflows."""
    phases = ["Pending", "Running", "Running", "Succeeded", "Failed", "Error"]
    return {
        "metadata": {"name": "my-wf", "namespace": "my-ns", "creationTimestamp": iso(NOW)},
        "spec": {"priority": 2, "arguments": {"parameters": [{"name": "my-param", "value": "my-value"}]}},
        "status": {
            "phase": "Running",
            "startedAt": iso(NOW),
            "finishedAt": iso(NOW + timedelta(seconds=3)),
            "message": "test-message",
            "nodes": {f"n{i}": {"phase": p, "type": "Pod", "templateName": "t0"} for i, p in enumerate(phases)},
        },
    }


def test_list_empty() -> None:
    assert render_list([], now=NOW) == "No workflows found\n"
    assert render_list([], now=NOW, output="name") == "No workflows found\n"


def test_list_default() -> None:
    assert render_list([argo_test_workflow()], now=NOW) == (
        "NAME    STATUS    AGE   DURATION   PRIORITY   MESSAGE\n"
        "my-wf   Running   0s    3s         2          test-message\n"
    )


def test_list_no_headers() -> None:
    assert render_list([argo_test_workflow()], now=NOW, no_headers=True) == "my-wf   Running   0s   3s   2   test-message\n"


def test_list_all_namespaces() -> None:
    assert render_list([argo_test_workflow()], now=NOW, all_namespaces=True) == (
        "NAMESPACE   NAME    STATUS    AGE   DURATION   PRIORITY   MESSAGE\n"
        "my-ns       my-wf   Running   0s    3s         2          test-message\n"
    )


def test_list_wide() -> None:
    assert render_list([argo_test_workflow()], now=NOW, output="wide") == (
        "NAME    STATUS    AGE   DURATION   PRIORITY   MESSAGE        P/R/C   PARAMETERS\n"
        "my-wf   Running   0s    3s         2          test-message   1/2/3   my-param=my-value\n"
    )


def test_list_name() -> None:
    assert render_list([argo_test_workflow()], now=NOW, output="name") == "my-wf\n"


def test_list_status_ages_and_long_parameters() -> None:
    suspended = argo_test_workflow()
    suspended["metadata"].update(name="suspended", creationTimestamp=iso(NOW - timedelta(hours=2, minutes=5)))
    suspended["spec"] = {"suspend": True, "arguments": {"parameters": [{"name": "p", "value": "x" * 40 + "y" * 20}]}}
    suspended["status"].update(startedAt=iso(NOW - timedelta(minutes=90)), finishedAt=None, message="")
    terminated = {
        "metadata": {"name": "term", "creationTimestamp": iso(NOW - timedelta(days=3))},
        "spec": {"shutdown": "Terminate"},
        "status": {"phase": "Failed", "startedAt": iso(NOW - timedelta(days=3)),
                   "finishedAt": iso(NOW - timedelta(days=3) + timedelta(seconds=65)), "message": "Stopped with strategy 'Terminate'"},
    }
    out = render_list([suspended, terminated], now=NOW, output="wide")
    assert out == (
        "NAME        STATUS                AGE   DURATION   PRIORITY   MESSAGE                             P/R/C   PARAMETERS\n"
        "suspended   Running (Suspended)   2h    1h         0                                              1/2/3   "
        "p=" + "x" * 32 + "...yyyyyyyyyyyyyyy\n"
        "term        Failed (Terminated)   3d    1m         0          Stopped with strategy 'Terminate'   0/0/0   \n"
    )


def test_list_cost_nudge() -> None:
    done = [{"metadata": {"name": f"w{i}"}, "status": {"phase": "Succeeded"}} for i in range(101)]
    out = render_list(done, now=NOW)
    assert out.endswith(
        "\nYou have at least 101 completed workflows. Reducing the total number of workflows will reduce your costs.\n"
        "Learn more at https://argo-workflows.readthedocs.io/en/latest/cost-optimisation/\n"
    )


def test_lint_pretty_errors() -> None:
    results = [
        ("wf.yaml", "steps-", "Workflow", ["spec.entrypoint is required"]),
        ("wf.yaml", "other", "Workflow", []),
        ("ok.yaml", "fine", "WorkflowTemplate", []),
        ("tmpl.yaml", "", "WorkflowTemplate", ["templates.main.steps[0].a template name 'x' undefined", "boom"]),
    ]
    text, code = render_lint(results)
    assert code == 1
    assert text == (
        "wf.yaml:\n"
        '   ✖ in "steps-" (Workflow): spec.entrypoint is required\n'
        "\n"
        "tmpl.yaml:\n"
        "   ✖ in \"object #1\" (WorkflowTemplate): templates.main.steps[0].a template name 'x' undefined\n"
        '   ✖ in "object #1" (WorkflowTemplate): boom\n'
        "\n"
        "✖ 3 linting errors found!\n"
    )


def test_lint_single_error_is_still_plural() -> None:
    text, code = render_lint([("a.yaml", "x", "Workflow", ["bad"])])
    assert text.endswith("✖ 1 linting errors found!\n") and code == 1


def test_lint_success_and_nothing() -> None:
    assert render_lint([("a.yaml", "x", "Workflow", [])]) == ("✔ no linting errors found!\n", 0)
    assert render_lint([]) == ("✖ found nothing to lint in the specified paths, failing...\n", 1)
    assert render_lint([], "simple") == ("found nothing to lint in the specified paths, failing...\n", 1)
    assert render_lint([("a.yaml", "x", "Workflow", [])], "simple") == ("no linting errors found!\n", 0)


def test_lint_simple_errors() -> None:
    text, code = render_lint([("a.yaml", "x", "Workflow", ["e1", "e2"]), ("b.yaml", "y", "CronWorkflow", ["e3"])], "simple")
    assert code == 1
    assert text == (
        'a.yaml: in "x" (Workflow): e1\n'
        'a.yaml: in "x" (Workflow): e2\n'
        'b.yaml: in "y" (CronWorkflow): e3\n'
    )


def test_lint_colors() -> None:
    text, _ = render_lint([("test1", "x", "Workflow", ["some error"])], color=True)
    assert text == (
        '\x1b[4mtest1\x1b[0m:\n   \x1b[31m✖\x1b[0m in "x" (Workflow): some error\n\n'
        "\x1b[31m✖ 1 linting errors found!\x1b[0m\n"
    )
    assert render_lint([("a", "x", "Workflow", [])], color=True)[0] == "\x1b[32m✔\x1b[0m no linting errors found!\n"
    with pytest.raises(ValueError):
        render_lint([], "json")
