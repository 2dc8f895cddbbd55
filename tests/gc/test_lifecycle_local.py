"""Artifact GC end to end on the default local repository, with real workflow runs."""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import WorkflowNotFound
from argosy.gc import lifecycle
from argosy.gc.finalizers import ARTIFACT_GC_FINALIZER
from argosy.pipeline.spawn import spawn_runner
from argosy.pipeline.store import Store

from .conftest import exists, key_of, local_objects, outputs, run, seed, submit, wait_until


def one_step(script: str, artifacts: list[dict[str, Any]], gc: dict[str, Any] | None = None,
             **spec: Any) -> dict[str, Any]:
    """A one-pod workflow running ``script`` with these output artifacts."""
    doc: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "gc-"},
        "spec": {"entrypoint": "main", **spec, "templates": [{
            "name": "main", "container": {"image": "alpine", "command": ["sh", "-c"], "args": [script]},
            "outputs": {"artifacts": artifacts}}]},
    }
    if gc is not None:
        doc["spec"]["artifactGC"] = gc
    return doc


def with_strategy(doc: dict[str, Any], strategy: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"]["artifactGC"]["strategy"] = strategy
    return out


def gc_events(store: Store, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in store.list_events(name) if "ArtifactGC" in e["reason"]]


@contextlib.contextmanager
def undeletable(directory: Path) -> Iterator[None]:
    """Make files in ``directory`` impossible to delete (chmod for users; chattr +i for root)."""
    if os.geteuid() != 0:
        mode = directory.stat().st_mode
        directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield
        finally:
            directory.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode:
        pytest.skip("running as root and cannot make a directory immutable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


# ---------------------------------------------------------------------------------- strategies


def test_seed_on_workflow_deletion_deletes_temporary_and_keeps_keep_this(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))
    wf = store.get_workflow(name)
    assert wf["status"]["phase"] == "Succeeded"
    assert wf["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER]  # OnWorkflowDeletion is still owed
    assert local_objects(store) == {"temporary-artifact.txt", "keep-this.txt"}

    assert lifecycle.request_delete(store, name) == "deleted"
    assert not exists(store, name)
    assert local_objects(store) == {"keep-this.txt"}
    assert store.list_gc_tasks() == []


def test_seed_on_workflow_completion_deletes_at_completion_and_releases_the_finalizer(store: Store) -> None:
    name = run(store, with_strategy(seed("002-artifact-gc"), "OnWorkflowCompletion"))
    assert local_objects(store) == {"keep-this.txt"}
    wf = store.get_workflow(name)
    arts = outputs(store, name)
    assert arts["temporary-artifact"]["deleted"] is True
    assert "deleted" not in arts["keep-this"]
    assert "finalizers" not in wf["metadata"]
    assert wf["status"]["artifactGCStatus"]["strategiesProcessed"] == {"OnWorkflowCompletion": True}
    assert lifecycle.request_delete(store, name) == "deleted"  # nothing holds it any more
    assert local_objects(store) == {"keep-this.txt"}


def test_per_artifact_overrides_mix_strategies(store: Store) -> None:
    doc = one_step(
        "echo a > /tmp/a; echo b > /tmp/b; echo c > /tmp/c",
        [{"name": "early", "path": "/tmp/a", "artifactGC": {"strategy": "OnWorkflowCompletion"}},
         {"name": "late", "path": "/tmp/b"},
         {"name": "kept", "path": "/tmp/c", "artifactGC": {"strategy": "Never"}}],
        gc={"strategy": "OnWorkflowDeletion"})
    name = run(store, doc)
    keys = {n: key_of(a) for n, a in outputs(store, name).items()}
    assert local_objects(store) == {keys["late"], keys["kept"]}
    assert lifecycle.request_delete(store, name) == "deleted"
    assert local_objects(store) == {keys["kept"]}


def test_directory_artifact_with_archive_none_is_deleted_completely(store: Store) -> None:
    doc = one_step(
        "mkdir -p /tmp/out/sub/deeper /tmp/out/empty && echo 1 > /tmp/out/a.txt && echo 2 > /tmp/out/sub/b.txt"
        " && echo 3 > /tmp/out/sub/deeper/c.txt",
        [{"name": "tree", "path": "/tmp/out", "archive": {"none": {}}}],
        gc={"strategy": "OnWorkflowDeletion"})
    name = run(store, doc)
    prefix = key_of(outputs(store, name)["tree"])
    stored = {k for k in local_objects(store) if k.startswith(prefix + "/")}
    assert len(stored) == 3
    assert lifecycle.request_delete(store, name) == "deleted"
    assert not any(k.startswith(prefix) for k in local_objects(store))
    assert not (store.artifacts_dir / prefix).exists()  # no empty directories left either


def test_failed_step_outputs_and_main_logs_are_collected(store: Store) -> None:
    doc = one_step("echo partial > /tmp/p; echo oops; exit 3", [{"name": "partial", "path": "/tmp/p"}],
                   gc={"strategy": "OnWorkflowCompletion"}, archiveLogs=True)
    name = run(store, doc)
    wf = store.get_workflow(name)
    assert wf["status"]["phase"] == "Failed"
    arts = outputs(store, name)
    assert set(arts) == {"partial", "main-logs"}
    assert all(a["deleted"] is True for a in arts.values())
    assert local_objects(store) == set()
    assert "finalizers" not in wf["metadata"]


def test_failed_workflow_without_artifacts_is_not_stuck_on_the_finalizer(store: Store) -> None:
    """Argo #13499: the finalizer must go at completion when there is nothing to collect."""
    doc: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "fails-"},
        "spec": {"entrypoint": "main", "artifactGC": {"strategy": "OnWorkflowDeletion"}, "templates": [
            {"name": "main", "steps": [[{"name": "fail", "template": "fail"}], [{"name": "make", "template": "make"}]]},
            {"name": "fail", "container": {"image": "alpine", "command": ["sh", "-c"], "args": ["exit 1"]}},
            {"name": "make", "container": {"image": "alpine", "command": ["sh", "-c"], "args": ["echo x > /tmp/x"]},
             "outputs": {"artifacts": [{"name": "x", "path": "/tmp/x"}]}},
        ]},
    }
    name = submit(store, doc)
    assert store.get_workflow(name)["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER]
    from argosy.pipeline.local import run_workflow

    run_workflow(store, name)
    lifecycle.on_completed(store, name)
    wf = store.get_workflow(name)
    assert wf["status"]["phase"] == "Failed"
    assert "finalizers" not in wf["metadata"]
    assert lifecycle.request_delete(store, name) == "deleted"


def test_workflow_without_gc_is_deleted_at_once_and_keeps_its_artifacts(store: Store) -> None:
    name = run(store, one_step("echo x > /tmp/x", [{"name": "x", "path": "/tmp/x"}]))
    wf = store.get_workflow(name)
    assert wf["status"]["artifactGCStatus"] == {"notSpecified": True}
    assert "finalizers" not in wf["metadata"]
    key = key_of(outputs(store, name)["x"])
    assert lifecycle.request_delete(store, name) == "deleted"
    assert local_objects(store) == {key}


def test_completion_hook_is_idempotent(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))
    before = store.get_workflow(name)
    events = store.list_events(name)
    lifecycle.on_completed(store, name)
    lifecycle.on_completed(store, name)
    assert store.get_workflow(name) == before  # not even a resourceVersion bump
    assert store.list_events(name) == events
    assert store.list_gc_tasks() == []


def test_workflow_stored_without_on_submit_is_still_collected(store: Store) -> None:
    """Until every submit path calls on_submit, GC decides late and still honours the strategies."""
    from argosy.pipeline.local import run_workflow

    rec = store.create_workflow(seed("002-artifact-gc"))
    run_workflow(store, rec["metadata"]["name"])
    assert lifecycle.request_delete(store, rec["metadata"]["name"]) == "deleted"
    assert local_objects(store) == {"keep-this.txt"}


# ---------------------------------------------------------------------------------- deletion


def test_missing_object_counts_as_deleted(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))
    (store.artifacts_dir / "temporary-artifact.txt").unlink()  # someone cleaned up by hand
    assert lifecycle.request_delete(store, name) == "deleted"
    assert local_objects(store) == {"keep-this.txt"}


def test_gc_failure_blocks_deletion_with_condition_and_event_then_retry_succeeds(store: Store) -> None:
    doc = one_step("mkdir -p /tmp/d && echo x > /tmp/d/f", [{"name": "d", "path": "/tmp/d", "archive": {"none": {}}}],
                   gc={"strategy": "OnWorkflowDeletion"})
    name = run(store, doc)
    prefix = key_of(outputs(store, name)["d"])
    task = f"{name}-artgc-wfdel-2166136261-0"
    with undeletable(store.artifacts_dir / prefix):
        outcome = lifecycle.request_delete(store, name)
        assert outcome.startswith("deletion blocked by finalizer workflows.argoproj.io/artifact-gc")
        assert f"argosy gc retry {name}" in outcome
        wf = store.get_workflow(name)
        assert wf["metadata"]["deletionTimestamp"]
        assert wf["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER]
        [cond] = [c for c in wf["status"]["conditions"] if c["type"] == "ArtifactGCError"]
        assert cond["status"] == "True"
        assert cond["message"].endswith(f"(artifactGCTask: {task})")
        assert outputs(store, name)["d"]["deleted"] is False
        [event] = gc_events(store, name)
        assert event[:2] == ("Warning", "ArtifactGCFailed")
        assert event[2].startswith("Artifact Garbage Collection failed for strategy OnWorkflowDeletion, err:")
        kept = store.get_gc_task(task)
        assert kept is not None  # a failed task stays for inspection
        assert kept["status"]["artifactResultsByNode"][name]["artifactResults"]["d"]["success"] is False
        # Asking again changes nothing and does not flood events.
        assert lifecycle.request_delete(store, name).startswith("deletion blocked")
        failures = [e for e in store.list_events(name) if e["reason"] == "ArtifactGCFailed"]
        assert len(failures) == 1 and failures[0]["count"] == 1
        assert (store.artifacts_dir / prefix / "f").exists()
    report = lifecycle.retry(store, name)
    assert report.record_deleted and not report.failed
    assert not exists(store, name)
    assert not (store.artifacts_dir / prefix).exists()
    assert store.list_gc_tasks() == []


def test_force_delete_skips_gc_and_removes_a_blocked_workflow(store: Store) -> None:
    name = run(store, seed("002-artifact-gc"))
    with undeletable(store.artifacts_dir):
        assert lifecycle.request_delete(store, name).startswith("deletion blocked")
        assert exists(store, name)
        assert lifecycle.request_delete(store, name, force=True) == "deleted"
    assert not exists(store, name)
    assert store.list_gc_tasks() == []
    assert "temporary-artifact.txt" in local_objects(store)  # --force leaves the artifacts behind


def test_force_finalizer_removal_releases_after_gc_ran_even_when_it_failed(store: Store) -> None:
    doc = seed("002-artifact-gc")
    doc["spec"]["artifactGC"]["forceFinalizerRemoval"] = True
    name = run(store, doc)
    assert store.get_workflow(name)["metadata"]["finalizers"] == [ARTIFACT_GC_FINALIZER]  # deletion GC still owed
    with undeletable(store.artifacts_dir):
        assert lifecycle.request_delete(store, name) == "deleted"
    assert not exists(store, name)
    assert "temporary-artifact.txt" in local_objects(store)


def test_deleting_one_of_two_concurrent_uid_keyed_workflows_leaves_the_other_intact(store: Store) -> None:
    doc = seed("002-artifact-gc-service-account")
    first, second = run(store, doc), run(store, doc)
    keys2 = {key_of(a) for a in outputs(store, second).values()}
    keys1 = {n: key_of(a) for n, a in outputs(store, first).items()}
    assert lifecycle.request_delete(store, first) == "deleted"
    assert local_objects(store) == keys2 | {keys1["keep-this"]}
    assert lifecycle.request_delete(store, second) == "deleted"
    assert local_objects(store) == {keys1["keep-this"], *(k for k in keys2 if k.startswith("keep-this"))}


def test_shared_key_of_two_live_workflows_is_kept_and_reported(store: Store) -> None:
    doc = seed("002-artifact-gc")  # fixed keys: both runs write temporary-artifact.txt
    first, second = run(store, doc), run(store, doc)
    outcome = lifecycle.request_delete(store, first)
    assert outcome.startswith("deleted (objects still in use were kept: temporary-artifact:")
    assert f"workflow '{second}'" in outcome
    assert not exists(store, first)
    assert local_objects(store) == {"temporary-artifact.txt", "keep-this.txt"}
    [(etype, reason, message)] = gc_events(store, second)
    assert (etype, reason) == ("Normal", "ArtifactGCSkipped")
    assert f"Artifact temporary-artifact of workflow {first} was not deleted" in message
    # The last user collects it.
    assert lifecycle.request_delete(store, second) == "deleted"
    assert local_objects(store) == {"keep-this.txt"}


def test_shared_key_at_completion_is_collected_by_the_last_user(store: Store) -> None:
    from tests.gc.conftest import run_engine_only

    doc = with_strategy(seed("002-artifact-gc"), "OnWorkflowCompletion")
    first, second = submit(store, doc), submit(store, doc)
    run_engine_only(store, first)
    run_engine_only(store, second)
    lifecycle.on_completed(store, first)
    assert "temporary-artifact.txt" in local_objects(store)
    [(etype, reason, message)] = gc_events(store, first)
    assert (etype, reason) == ("Warning", "ArtifactGCSkipped")
    assert f"key 'temporary-artifact.txt' is also used by workflow '{second}'" in message
    assert "finalizers" not in store.get_workflow(first)["metadata"]  # released: nothing owed
    lifecycle.on_completed(store, second)
    assert local_objects(store) == {"keep-this.txt"}


def _long_running() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "long-"},
        "spec": {"entrypoint": "main", "artifactGC": {"strategy": "OnWorkflowDeletion"}, "templates": [
            {"name": "main", "steps": [[{"name": "make", "template": "make"}], [{"name": "wait", "template": "wait"}]]},
            {"name": "make", "container": {"image": "alpine", "command": ["sh", "-c"], "args": ["echo x > /tmp/x"]},
             "outputs": {"artifacts": [{"name": "x", "path": "/tmp/x"}]}},
            {"name": "wait", "container": {"image": "alpine", "command": ["sleep", "600"]}},
        ]},
    }


@contextlib.contextmanager
def engine_running_second_step(store: Store) -> Iterator[tuple[str, int]]:
    """A workflow whose engine runs in its own process (as after `argosy submit`), now in a long step."""
    name = submit(store, _long_running())
    runner = spawn_runner(store, name)
    try:

        def sleeping() -> bool:
            nodes = (store.get_workflow(name).get("status") or {}).get("nodes") or {}
            return any(n.get("displayName") == "wait" for n in nodes.values())

        wait_until(sleeping, what="the second step to start")
        assert len(local_objects(store)) == 1
        yield name, runner
    finally:
        if _alive(runner):  # the test failed midway: do not leave a sleeping engine behind
            os.killpg(runner, signal.SIGKILL)


def test_deleting_a_running_workflow_terminates_it_first(store: Store) -> None:
    with engine_running_second_step(store) as (name, runner):
        assert lifecycle.request_delete(store, name) == "deleted"
        assert not exists(store, name)
        assert local_objects(store) == set()
        wait_until(lambda: not _alive(runner), what="the engine process to exit")
        with pytest.raises(WorkflowNotFound):
            lifecycle.request_delete(store, name)


def test_deletion_pending_is_finished_by_the_completion_hook(store: Store) -> None:
    with engine_running_second_step(store) as (name, _):
        outcome = lifecycle.request_delete(store, name, wait_seconds=0)
        assert outcome.startswith("deletion pending: the workflow is being terminated")
        wf = store.get_workflow(name)
        assert wf["spec"]["shutdown"] == "Terminate" and wf["metadata"]["deletionTimestamp"]
        wait_until(lambda: store.get_workflow(name)["status"].get("phase") in ("Failed", "Error"),
                   what="the engine to stop the workflow")
        lifecycle.on_completed(store, name)  # what the engine calls once it has stopped
        assert not exists(store, name)
        assert local_objects(store) == set()


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):  # reap it if it is our child
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
