"""`argosy list` must stay instant with 1,000 finished workflows of 1,000 nodes each (~590 MB of state)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from argosy.pipeline.store import Store

pytestmark = pytest.mark.slow

WORKFLOWS, NODES = 1000, 1000
BUDGET_SECONDS = 0.5  # measured ~12 ms for a full listing; generous for slow CI machines


def big_workflow(i: int) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for j in range(NODES):
        node_id = f"big-{i}-{j:010d}"
        nodes[node_id] = {
            "id": node_id,
            "name": f"big-{i}[0].step-{j}",
            "displayName": f"step-{j}",
            "type": "Pod",
            "templateName": "work",
            "phase": "Succeeded",
            "boundaryID": f"big-{i}",
            "startedAt": "2024-01-01T00:00:00Z",
            "finishedAt": "2024-01-01T00:00:10Z",
            "progress": "1/1",
            "resourcesDuration": {"cpu": 3, "memory": 12},
            "inputs": {"parameters": [{"name": "x", "value": str(j)}]},
            "outputs": {
                "exitCode": "0",
                "artifacts": [{"name": "main-logs", "s3": {"key": f"{node_id}/main.log"}}],
            },
            "children": [f"big-{i}-{j + 1:010d}"],
        }
    return {
        "metadata": {"name": f"big-{i:04d}", "labels": {"team": "a" if i % 2 else "b"}},
        "spec": {"entrypoint": "main", "templates": [{"name": "work", "container": {"image": "alpine"}}]},
        "status": {
            "phase": "Failed" if i % 10 == 0 else "Succeeded",
            "progress": f"{NODES}/{NODES}",
            "nodes": nodes,
        },
    }


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("big-home")
    with Store(home) as store:
        for i in range(WORKFLOWS):
            store.create_workflow(big_workflow(i))
    return home


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def test_listing_large_workflows_is_fast(big_home: Path) -> None:
    store = Store(big_home)  # a fresh process-like open, as `argosy list` would do
    items, seconds = timed(store.list_workflows)
    assert len(items) == WORKFLOWS and items[0]["metadata"]["name"] == "big-0999"
    assert "nodes" not in items[0]["status"] and items[0]["status"]["progress"] == "1000/1000"
    assert seconds < BUDGET_SECONDS, f"listing took {seconds:.3f}s"

    failed, seconds = timed(
        lambda: store.list_workflows(phases=["Failed"], label_selector="team=b", limit=50)
    )
    assert len(failed) == 50 and all(w["status"]["phase"] == "Failed" for w in failed)
    assert seconds < BUDGET_SECONDS, f"filtered listing took {seconds:.3f}s"


def test_single_large_workflow_get_and_update(big_home: Path) -> None:
    store = Store(big_home)
    wf, seconds = timed(lambda: store.get_workflow("@latest"))
    assert len(wf["status"]["nodes"]) == NODES and seconds < BUDGET_SECONDS
    wf["status"]["phase"] = "Error"
    _, seconds = timed(lambda: store.update_workflow(wf))
    assert seconds < BUDGET_SECONDS
    assert store.list_workflows(phases=["Error"])[0]["metadata"]["name"] == "big-0999"
