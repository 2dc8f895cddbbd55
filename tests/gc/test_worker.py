"""The GC worker as the separate process the lifecycle starts: `python -m argosy.gc.worker TASK`."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from typing import Any

from argosy.gc.strategy import Strategy, artifact_refs, collectable
from argosy.gc.tasks import build_tasks, repository_spec
from argosy.gc.worker import DELETE_NOT_SUPPORTED
from argosy.pipeline.store import Store

from .conftest import local_objects, run, seed


def worker(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARGOSY_HOME=str(store.home))
    return subprocess.run([sys.executable, "-m", "argosy.gc.worker", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_usage_and_unknown_task_exit_2(store: Store) -> None:
    assert worker(store).returncode == 2
    missing = worker(store, "no-such-task-0")
    assert missing.returncode == 2
    assert 'workflowartifactgctasks.argoproj.io "no-such-task-0" not found' in missing.stderr


def test_worker_deletes_reports_each_artifact_and_fails_on_unsupported_storage(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))  # OnWorkflowDeletion: nothing deleted yet
    wf = store.get_workflow(name)
    node = next(iter(wf["status"]["nodes"].values()))
    arts = node["outputs"]["artifacts"]
    arts.append({"name": "web", "http": {"url": "https://example.com/x"}, "artifactGC": {"strategy": "OnWorkflowDeletion"}})
    arts.append(copy.deepcopy(arts[0]) | {"name": "twice"})  # same key again: already gone = success
    repo = repository_spec(store, wf)
    refs = collectable(artifact_refs(wf, repo), Strategy.ON_WORKFLOW_DELETION)
    [task] = build_tasks(wf, Strategy.ON_WORKFLOW_DELETION, refs, repo)
    store.put_gc_task(task)

    done = worker(store, task["metadata"]["name"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "deleted file://" in done.stdout
    stored = store.get_gc_task(task["metadata"]["name"])
    assert stored is not None
    results: dict[str, Any] = stored["status"]["artifactResultsByNode"][node["id"]]["artifactResults"]
    assert results["temporary-artifact"] == {"name": "temporary-artifact", "success": True, "error": None}
    assert results["twice"]["success"] is True
    assert results["web"]["success"] is False
    assert results["web"]["error"].startswith(DELETE_NOT_SUPPORTED)
    assert local_objects(store) == {"keep-this.txt"}
