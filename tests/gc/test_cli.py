"""The `argosy gc` commands, `argosy events`, and the `argosy submit`/`argosy delete` path."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from argosy.gc import lifecycle
from argosy.gc.cli import events, gc
from argosy.pipeline.store import Store
from tests.gc.conftest import run_engine_only

from .conftest import SEEDS, exists, local_objects, run, seed
from .test_lifecycle_local import undeletable


def test_events_and_retry_after_a_failed_collection(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))
    with undeletable(store.artifacts_dir):
        assert lifecycle.request_delete(store, name).startswith("deletion blocked")
        cli = CliRunner()
        listed = cli.invoke(events, [name])
        assert listed.exit_code == 0, listed.output
        header, *lines = listed.output.splitlines()
        assert header.split() == ["TYPE", "REASON", "MESSAGE"]
        assert [ln.split()[:2] for ln in lines] == [["Normal", "WorkflowRunning"], ["Normal", "WorkflowSucceeded"], ["Warning", "ArtifactGCFailed"]]
        line = lines[-1]
        assert "Artifact Garbage Collection failed for strategy OnWorkflowDeletion, err:" in line
        still = cli.invoke(gc, ["retry", name])
        assert still.exit_code == 1
        assert "failed" in still.output
    fixed = CliRunner().invoke(gc, ["retry", name])
    assert fixed.exit_code == 0, fixed.output
    assert f"Workflow '{name}' deleted" in fixed.output
    assert local_objects(store) == {"keep-this.txt"}


def test_events_of_a_workflow_without_any() -> None:
    assert CliRunner().invoke(events, ["nope"]).output == "No events found\n"


def test_gc_run_catches_up_on_completion_and_ttl(store: Store) -> None:
    completion = copy.deepcopy(seed("002-artifact-gc"))
    completion["spec"]["artifactGC"]["strategy"] = "OnWorkflowCompletion"
    missed = store.create_workflow(completion)["metadata"]["name"]
    run_engine_only(store, missed)  # the runner died before the completion hook
    expiring = copy.deepcopy(seed("002-artifact-gc-service-account"))
    expiring["spec"]["ttlStrategy"] = {"secondsAfterCompletion": 0}
    expired = run(store, expiring)
    uid = store.get_workflow(expired)["metadata"]["uid"]

    result = CliRunner().invoke(gc, ["run"])
    assert result.exit_code == 0, result.output
    assert f"Workflow '{expired}' deleted" in result.output
    assert f"Workflow '{missed}': artifact GC OnWorkflowCompletion done" in result.output
    assert not exists(store, expired)
    assert local_objects(store) == {"keep-this.txt", f"keep-this-{uid}.txt"}
    again = CliRunner().invoke(gc, ["run", "--watch", "--passes", "2", "--interval", "0.1"])
    assert again.exit_code == 0 and again.output == ""  # nothing left to do


def test_argosy_submit_then_delete_collects_artifacts(store: Store) -> None:
    env = dict(os.environ, ARGOSY_HOME=str(store.home))
    cmd = [sys.executable, "-m", "argosy.cli.main"]
    submitted = subprocess.run([*cmd, "submit", str(Path(SEEDS) / "002-artifact-gc.yaml"), "--wait", "-o", "json"],
                               env=env, capture_output=True, text=True, timeout=120)
    assert submitted.returncode == 0, submitted.stderr
    name = json.loads(submitted.stdout)["metadata"]["name"]
    assert local_objects(store) == {"temporary-artifact.txt", "keep-this.txt"}
    deleted = subprocess.run([*cmd, "delete", name], env=env, capture_output=True, text=True, timeout=120)
    assert deleted.returncode == 0, deleted.stderr
    assert f"Workflow '{name}' deleted" in deleted.stdout
    assert not exists(store, name)
    assert local_objects(store) == {"keep-this.txt"}
