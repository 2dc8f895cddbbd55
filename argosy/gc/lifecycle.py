"""Artifact GC glue: finalizer on submit, collection on completion and deletion, blocked deletes, retry.

This is Argo's controller logic (``garbageCollectArtifacts``) over store records, with its known
failures fixed:

* a workflow with nothing left to collect releases its finalizer at completion, whatever its
  phase and even with no artifacts at all (#13499), and archived logs are collected with a
  workflow-level strategy even when no output declares one (#13421);
* templates reached through ``workflowTemplateRef`` and ``templateRef`` count (#10015, #13354);
* directory artifacts are deleted completely (#14565) and missing objects are success (#12857);
* the deleting process is a child process whose failure is always reported (#9953);
* ``forceFinalizerRemoval`` waits for every strategy that still owes deletions (Argo drops the
  finalizer at completion when only OnWorkflowDeletion artifacts remain), and :func:`retry`
  re-runs failed tasks instead of leaving them to block (#12621);
* an object another live workflow still references is never deleted, and an event says so.

Every entry point is idempotent and serialised per workflow across processes by a store lease.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from argosy.errors import ArgosyError, GCError, WorkflowNotFound
from argosy.gc import finalizers as fz
from argosy.gc.strategy import (
    GC_STRATEGIES,
    Strategy,
    artifact_refs,
    collectable,
    declares_gc,
    execution_spec,
    gc_status,
    pending,
    strategies_ready,
    template_definitions,
    workflow_gc,
)
from argosy.gc.tasks import build_tasks, owner, pod_name_of, repository_spec, task_results, task_strategy

__all__ = [
    "CONDITION_TYPE",
    "DELETED",
    "EVENT_REASON",
    "GCReport",
    "needs_attention",
    "on_completed",
    "on_submit",
    "reconcile",
    "reconcile_all",
    "request_delete",
    "resolved_spec",
    "retry",
]

log = logging.getLogger(__name__)

CONDITION_TYPE = "ArtifactGCError"
EVENT_REASON = "ArtifactGCFailed"
SKIPPED_REASON = "ArtifactGCSkipped"
DELETED = "deleted"
_TERMINAL = ("Succeeded", "Failed", "Error")
#: How long ``request_delete`` waits for a running workflow to stop before leaving the rest to others.
DELETE_WAIT_SECONDS = 30.0
#: A GC worker that runs longer than this is killed and reported as failed.
WORKER_TIMEOUT_SECONDS = float(os.environ.get("ARGOSY_GC_WORKER_TIMEOUT", "3600"))
LOCK_TIMEOUT_SECONDS = WORKER_TIMEOUT_SECONDS + 60.0

_thread_locks: dict[tuple[str, str, str], threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@dataclass
class GCReport:
    """What one reconcile did, for the CLI and tests."""

    workflow: str
    namespace: str = ""
    strategies: list[str] = field(default_factory=list)
    tasks_run: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    finalizer_removed: bool = False
    record_deleted: bool = False
    waiting: bool = False
    error: str | None = None

    @property
    def blocked(self) -> bool:
        """GC failed and the workflow still holds its finalizer."""
        return bool(self.failed or self.error) and not self.finalizer_removed and not self.record_deleted


# ------------------------------------------------------------------------------ submit


def resolved_spec(store: Any | None, wf: dict[str, Any]) -> dict[str, Any]:
    """The spec the workflow runs with: the stored merged spec, else its WorkflowTemplate merged now."""
    own = wf.get("spec") or {}
    spec = execution_spec(wf)
    if spec is not own or store is None or not own.get("workflowTemplateRef"):
        return spec  # already stored by the engine, or nothing to merge
    from argosy.pipeline.engine.runner import merge_workflow_template

    try:
        return dict(merge_workflow_template(wf, store).get("spec") or {})
    except ArgosyError:
        return spec


def _referenced_templates(store: Any, wf: dict[str, Any], exec_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Templates reached through ``templateRef`` (steps, DAG tasks, hooks), recursively."""
    if store is None:
        return []
    ns = (wf.get("metadata") or {}).get("namespace")
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str, bool]] = set()
    queue = list(template_definitions(wf, exec_spec))
    while queue:
        tmpl = queue.pop()
        invocations: list[Any] = [s for group in tmpl.get("steps") or [] for s in (group or [])]
        invocations += list((tmpl.get("dag") or {}).get("tasks") or [])
        invocations += list((tmpl.get("hooks") or {}).values())
        for inv in invocations:
            ref = (inv or {}).get("templateRef") if isinstance(inv, dict) else None
            if not isinstance(ref, dict) or not ref.get("name"):
                continue
            cluster = bool(ref.get("clusterScope"))
            key = (str(ref["name"]), str(ref.get("template") or ""), cluster)
            if key in seen:
                continue
            seen.add(key)
            kind = "ClusterWorkflowTemplate" if cluster else "WorkflowTemplate"
            doc = store.get_document(kind, ref["name"], None if cluster else ns)
            for candidate in ((doc or {}).get("spec") or {}).get("templates") or []:
                if isinstance(candidate, dict) and candidate.get("name") == ref.get("template"):
                    found.append(candidate)
                    queue.append(candidate)
    return found


def _needs_gc(wf: dict[str, Any], store: Any | None) -> bool:
    exec_spec = resolved_spec(store, wf)
    archive_logs = False
    if store is not None:
        with contextlib.suppress(ArgosyError):
            archive_logs = bool(repository_spec(store, wf).get("archiveLogs"))
    return declares_gc(wf, exec_spec, _referenced_templates(store, wf, exec_spec), archive_logs)


def _apply_decision(wf: dict[str, Any], needed: bool) -> None:
    if not isinstance(wf.get("status"), dict):
        wf["status"] = {}
    gcs = wf["status"].setdefault("artifactGCStatus", {})
    if needed and (fz.add_finalizer(wf) or fz.has_finalizer(wf)):
        gcs.pop("notSpecified", None)
    else:
        gcs["notSpecified"] = True


def on_submit(wf: dict[str, Any], store: Any | None = None) -> None:
    """Add the artifact-GC finalizer if anything may need collecting, else mark ``notSpecified``.

    Call just before storing a submitted workflow (after any ``status`` was dropped). ``store``
    lets templates behind ``workflowTemplateRef``/``templateRef`` and the repository's
    ``archiveLogs`` be considered.
    """
    if wf.get("status") is None:
        wf["status"] = {}
    _apply_decision(wf, _needs_gc(wf, store))


def _ensure_evaluated(store: Any, wf: dict[str, Any]) -> dict[str, Any]:
    """Workflows stored without :func:`on_submit` get the same decision late (before any deletion starts)."""
    if "artifactGCStatus" in (wf.get("status") or {}) or fz.has_finalizer(wf) or fz.is_deleting(wf):
        return wf
    needed = _needs_gc(wf, store)
    meta = wf.get("metadata") or {}
    updated: dict[str, Any] = store.modify_workflow(
        meta["name"], lambda r: _apply_decision(r, needed), namespace=meta.get("namespace"))
    return updated


# ------------------------------------------------------------------------------ locking


@contextlib.contextmanager
def _gc_lock(store: Any, name: str, namespace: str) -> Iterator[None]:
    """One GC pass per workflow at a time: a thread lock here, a store lease across processes."""
    key = (str(store.home), namespace, name)
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(key, threading.Lock())
    if not lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
        raise GCError(f"artifact GC of workflow {name} is busy in this process")
    lease = f"{name}/artifact-gc"  # "/" cannot occur in a workflow name: no clash with runner leases
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        delay = 0.02
        while not store.acquire_lease(lease, namespace=namespace):
            if time.monotonic() > deadline:
                raise GCError(f"artifact GC of workflow {name} is being run by another process")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            store.release_lease(lease, namespace=namespace)
    finally:
        lock.release()


# ------------------------------------------------------------------------------ helpers


def _ns(wf: dict[str, Any]) -> str:
    return str((wf.get("metadata") or {}).get("namespace") or "default")


def own_tasks(store: Any, wf: dict[str, Any]) -> list[dict[str, Any]]:
    meta = wf.get("metadata") or {}
    return [
        t for t in store.list_gc_tasks(meta.get("name"))
        if (t.get("metadata") or {}).get("namespace") == _ns(wf) and owner(t)[1] in ("", meta.get("uid"))
    ]


def has_results(task: dict[str, Any]) -> bool:
    return "artifactResultsByNode" in (task.get("status") or {})


def task_ok(task: dict[str, Any]) -> bool:
    results = list(task_results(task))
    return has_results(task) and all(r.get("success") for _, _, r in results)


def _stopped(store: Any, wf: dict[str, Any]) -> bool:
    """Nothing runs the workflow any more: a terminal phase, or no live runner holding its lease."""
    if (wf.get("status") or {}).get("phase") in _TERMINAL:
        return True
    meta = wf.get("metadata") or {}
    try:
        info = store.lease_info(meta.get("name"), namespace=_ns(wf))
    except ArgosyError:
        return True
    return info is None or not info.alive


def upsert_condition(status: dict[str, Any], message: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != CONDITION_TYPE]
    conditions.append({"type": CONDITION_TYPE, "status": "True", "message": message})
    status["conditions"] = conditions


def _modify(store: Any, wf: dict[str, Any], fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    meta = wf.get("metadata") or {}
    updated: dict[str, Any] = store.modify_workflow(meta["name"], fn, namespace=_ns(wf))
    return updated


def _delete_record(store: Any, wf: dict[str, Any]) -> None:
    meta = wf.get("metadata") or {}
    for task in store.list_gc_tasks(meta.get("name")):
        if (task.get("metadata") or {}).get("namespace") == _ns(wf):
            store.delete_gc_task(task["metadata"]["name"])
    with contextlib.suppress(WorkflowNotFound):
        store.delete_workflow(meta["name"], _ns(wf))


def _worker_env(store: Any) -> dict[str, str]:
    import argosy

    env = dict(os.environ)
    env["ARGOSY_HOME"] = str(store.home)
    root = os.path.dirname(os.path.dirname(os.path.abspath(argosy.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _run_workers(store: Any, wf: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
    """Run each task's worker as a child process (in parallel), wait for all: {task: (exit code, log)}."""
    name = (wf.get("metadata") or {}).get("name")
    started: list[tuple[str, subprocess.Popen[bytes], str, Any]] = []
    out: dict[str, tuple[int, str]] = {}
    env = _worker_env(store)
    for task in tasks:
        tname = task["metadata"]["name"]
        log_path = store.log_path(name, pod_name_of(task))
        handle = open(log_path, "ab")  # noqa: SIM115 - closed below, after the child exits
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "argosy.gc.worker", tname],
                stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, env=env, close_fds=True,
            )
        except OSError as exc:
            handle.close()
            out[tname] = (127, f"{log_path} (could not start the worker: {exc})")
            continue
        started.append((tname, proc, str(log_path), handle))
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    for tname, proc, log_path, handle in started:
        try:
            code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            handle.write(f"killed after {WORKER_TIMEOUT_SECONDS:.0f}s\n".encode())
            code = -9
        finally:
            handle.close()
        out[tname] = (code, log_path)
    return out


# ------------------------------------------------------------------------------ reconcile


def create_tasks(store: Any, wf: dict[str, Any], repo: dict[str, Any], exec_spec: dict[str, Any],
                  report: GCReport) -> dict[str, Any]:
    for strategy in strategies_ready(wf):
        todo = collectable(artifact_refs(wf, repo, exec_spec), strategy)
        uid = (wf.get("metadata") or {}).get("uid")
        for task in build_tasks(wf, strategy, todo, repo, exec_spec):
            existing = store.get_gc_task(task["metadata"]["name"])
            if existing is None or owner(existing)[1] != uid:
                store.put_gc_task(task)

        def processed(rec: dict[str, Any], s: Strategy = strategy) -> None:
            gcs = rec.setdefault("status", {}).setdefault("artifactGCStatus", {})
            gcs.setdefault("strategiesProcessed", {})[s.value] = True

        wf = _modify(store, wf, processed)
        report.strategies.append(strategy.value)
    return wf


#: the exit code :func:`apply_results` takes for a task whose GC pod or worker never started; the
#: text beside it says why (not "exited with non-zero exit code", which would send users to logs that do not exist)
NOT_STARTED = -1


def apply_results(store: Any, wf: dict[str, Any], tasks: list[dict[str, Any]],
                   runs: dict[str, tuple[int, str]], report: GCReport) -> dict[str, Any]:
    """Record finished GC runs on the workflow: ``runs`` maps task name -> (exit code, log hint or reason)."""
    events: list[tuple[str, str, str]] = []
    others: list[tuple[str, Any, str]] = []  # events for the workflows that keep a shared object alive
    outcome: dict[str, Any] = {}

    def apply(rec: dict[str, Any]) -> None:
        events.clear()
        others.clear()
        outcome.clear()
        status = rec.setdefault("status", {})
        gcs = status.setdefault("artifactGCStatus", {})
        recouped = gcs.setdefault("podsRecouped", {})
        nodes = status.get("nodes") or {}
        for task in tasks:
            pod, tname = pod_name_of(task), task["metadata"]["name"]
            if recouped.get(pod):
                continue
            strategy = task_strategy(task)
            code, log_path = runs.get(tname, (0, ""))
            if code == NOT_STARTED:  # no pod/worker ran (e.g. refused by the API): say why; retried next pass
                msg = f"Artifact Garbage Collection failed for strategy {strategy}: {log_path}"
                upsert_condition(status, msg)
                events.append(("Warning", EVENT_REASON, msg))
                outcome.setdefault("failed", {})[pod] = msg
                continue
            if (code != 0 and not any(True for _ in task_results(task))) or code not in (0, 1):
                msg = (f"Artifact Garbage Collection failed for strategy {strategy}, pod {pod} exited with "
                       f"non-zero exit code: check pod logs for more information (log: {log_path})")
                upsert_condition(status, msg)
                events.append(("Warning", EVENT_REASON, msg))
                outcome.setdefault("failed", {})[pod] = msg
            reported = False
            for node_id, art_name, result in task_results(task):
                label = f"{node_id}/{art_name}"
                for art in ((nodes.get(node_id) or {}).get("outputs") or {}).get("artifacts") or []:
                    if art.get("name") != art_name:
                        continue
                    if result.get("kept"):
                        gcs.setdefault("keptShared", {}).setdefault(node_id, {})[art_name] = result["kept"]
                        events.append(("Warning", SKIPPED_REASON,
                                       f"Artifact {art_name} (node {node_id}) was not deleted: {result['kept']}"))
                        user = result.get("keptFor") or {}
                        if user.get("workflow") and user.get("workflow") != rec["metadata"]["name"]:
                            others.append((str(user["workflow"]), user.get("namespace"),
                                           f"Artifact {art_name} of workflow {rec['metadata']['name']} was not "
                                           f"deleted because this workflow uses the same object: {result['kept']}"))
                        outcome.setdefault("kept", {})[label] = result["kept"]
                    else:
                        art["deleted"] = bool(result.get("success"))
                        if art["deleted"]:
                            outcome.setdefault("deleted", []).append(label)
                if result.get("error"):
                    err = str(result["error"])
                    upsert_condition(status, f"{err} (artifactGCTask: {tname})")
                    outcome.setdefault("failed", {})[label] = err
                    if not reported:  # one event per task, as Argo, to avoid flooding
                        reported = True
                        events.append(("Warning", EVENT_REASON,
                                       f"Artifact Garbage Collection failed for strategy {strategy}, err:{err}"))
            recouped[pod] = True

    wf = _modify(store, wf, apply)
    report.deleted += outcome.get("deleted", [])
    report.failed.update(outcome.get("failed", {}))
    report.kept.update(outcome.get("kept", {}))
    name = (wf.get("metadata") or {}).get("name")
    for etype, reason, message in events:
        store.add_event(name, etype, reason, message, namespace=_ns(wf))
    for other, other_ns, message in others:
        with contextlib.suppress(ArgosyError):
            store.add_event(other, "Normal", SKIPPED_REASON, message, namespace=other_ns)
    for task in tasks:
        code = runs.get(task["metadata"]["name"], (0, ""))[0]
        if code == 0 and task_ok(task):  # failed tasks stay for inspection and `argosy gc retry`
            store.delete_gc_task(task["metadata"]["name"])
    return wf


def may_release(wf: dict[str, Any], repo: dict[str, Any], exec_spec: dict[str, Any], tasks_left: bool) -> bool:
    """Every collectable artifact is gone (or released); with forceFinalizerRemoval, GC at least ran for each."""
    owed = pending(artifact_refs(wf, repo, exec_spec))
    if not owed:
        return True
    if not workflow_gc(wf, exec_spec).get("forceFinalizerRemoval"):
        return False
    processed = gc_status(wf).get("strategiesProcessed") or {}
    return not tasks_left and all(processed.get(r.strategy.value) for r in owed)


def _reconcile_locked(store: Any, name: str, namespace: str | None) -> GCReport:
    wf = _ensure_evaluated(store, store.get_workflow(name, namespace))
    ns = _ns(wf)
    report = GCReport(name, ns)
    if not fz.has_finalizer(wf):
        if fz.is_deleting(wf):
            if _stopped(store, wf):
                _delete_record(store, wf)
                report.record_deleted = True
            else:
                report.waiting = True
        return report
    if not _stopped(store, wf):
        report.waiting = True
        return report
    exec_spec = resolved_spec(store, wf)
    try:
        repo = repository_spec(store, wf)
    except ArgosyError as exc:
        report.error = f"cannot resolve the artifact repository: {exc}"
        wf = _modify(store, wf, lambda r: upsert_condition(r.setdefault("status", {}), report.error or ""))
        store.add_event(name, "Warning", EVENT_REASON, f"Artifact Garbage Collection failed, err:{report.error}",
                        namespace=ns)
        return report
    wf = create_tasks(store, wf, repo, exec_spec, report)
    recouped = gc_status(wf).get("podsRecouped") or {}
    open_tasks = [t for t in own_tasks(store, wf) if not recouped.get(pod_name_of(t))]
    to_run = [t for t in open_tasks if not has_results(t)]
    runs = _run_workers(store, wf, to_run) if to_run else {}
    report.tasks_run = sorted(runs)
    names = {t["metadata"]["name"] for t in open_tasks}
    fresh = [t for t in own_tasks(store, wf) if t["metadata"]["name"] in names]
    if fresh:
        wf = apply_results(store, wf, fresh, runs, report)
    recouped = gc_status(wf).get("podsRecouped") or {}
    tasks_left = any(not recouped.get(pod_name_of(t)) for t in own_tasks(store, wf))
    if may_release(wf, repo, exec_spec, tasks_left):

        def release(rec: dict[str, Any]) -> None:
            fz.remove_finalizer(rec)

        wf = _modify(store, wf, release)
        report.finalizer_removed = True
    if fz.is_gone(wf):
        _delete_record(store, wf)
        report.record_deleted = True
    return report


def reconcile(store: Any, name: str, namespace: str | None = None) -> GCReport:
    """Do whatever artifact GC the workflow is ready for (idempotent; safe from any process)."""
    wf = store.get_workflow(name, namespace)
    with _gc_lock(store, name, _ns(wf)):
        try:
            return _reconcile_locked(store, name, _ns(wf))
        except WorkflowNotFound:  # deleted meanwhile (by another process, or force)
            return GCReport(name, _ns(wf), record_deleted=True)


def on_completed(store: Any, name: str, namespace: str | None = None) -> None:
    """The engine's hook once a workflow is Succeeded/Failed/Error: run OnWorkflowCompletion GC.

    Never raises for GC trouble (it is recorded on the workflow); the engine must not fail
    because storage did.
    """
    try:
        reconcile(store, name, namespace)
    except WorkflowNotFound:
        return
    except Exception as exc:  # the engine's own work is done; GC trouble must not undo it
        log.warning("artifact GC of workflow %s failed: %s", name, exc, exc_info=not isinstance(exc, ArgosyError))
        with contextlib.suppress(Exception):
            store.add_event(name, "Warning", EVENT_REASON,
                            f"Artifact Garbage Collection failed for strategy {Strategy.ON_WORKFLOW_COMPLETION}, "
                            f"err:{exc}", namespace=namespace)


def _outcome(store: Any, name: str, namespace: str, report: GCReport) -> str:
    if report.record_deleted:
        if report.kept:
            kept = "; ".join(f"{label.split('/', 1)[-1]}: {why}" for label, why in sorted(report.kept.items()))
            return f"{DELETED} (objects still in use were kept: {kept})"
        return DELETED
    if report.waiting:
        return ("deletion pending: the workflow is being terminated; it is deleted once it has stopped "
                "and its artifacts are collected (`argosy gc run` finishes it if its engine is gone)")
    try:
        wf = store.get_workflow(name, namespace)
    except WorkflowNotFound:
        return DELETED
    reason = report.error or next(iter(report.failed.values()), None)
    if reason is None:
        cond = [c for c in (wf.get("status") or {}).get("conditions") or [] if c.get("type") == CONDITION_TYPE]
        reason = cond[-1]["message"] if cond else "artifacts are still to be collected"
    return (f"deletion blocked by finalizer {fz.ARTIFACT_GC_FINALIZER}: artifact garbage collection failed: "
            f"{reason}; run `argosy gc retry {name}` to try again, or `argosy delete --force {name}` "
            "to delete the workflow and leave its artifacts")


def request_delete(store: Any, name: str, namespace: str | None = None, force: bool = False,
                   wait_seconds: float = DELETE_WAIT_SECONDS) -> str:
    """``argosy delete``: returns ``"deleted"`` (plus `` (objects still in use were kept: …)`` when a
    shared object was left for another workflow), ``"deletion pending: …"`` or ``"deletion blocked …"``.

    Without the finalizer the record goes at once. With it, ``deletionTimestamp`` is set and
    OnWorkflowDeletion GC (plus any OnWorkflowCompletion not yet done) runs; the record is deleted
    when nothing is owed, else kept with an ``ArtifactGCError`` condition and event. ``force``
    drops every finalizer first (Argo's ``delete --force``). A running workflow is terminated
    first; its engine (another process) stops it, and this call waits up to ``wait_seconds``.
    """
    wf = store.get_workflow(name, namespace)
    ns = _ns(wf)
    running = not _stopped(store, wf)

    def mark(rec: dict[str, Any]) -> None:
        if force:
            fz.clear_finalizers(rec)
        fz.mark_deleting(rec, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        if (rec.get("status") or {}).get("phase") not in _TERMINAL and not (rec.get("spec") or {}).get("shutdown"):
            rec.setdefault("spec", {})["shutdown"] = "Terminate"

    if not force:
        wf = _ensure_evaluated(store, wf)
    wf = _modify(store, wf, mark)
    if force:
        _delete_record(store, wf)
        return DELETED
    deadline = time.monotonic() + (wait_seconds if running else 0.0)
    delay = 0.05
    while running and time.monotonic() < deadline:
        try:
            wf = store.get_workflow(name, ns)
        except WorkflowNotFound:
            return DELETED
        if _stopped(store, wf):
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    try:
        report = reconcile(store, name, ns)
    except WorkflowNotFound:
        return DELETED
    return _outcome(store, name, ns, report)


def retry(store: Any, name: str, namespace: str | None = None) -> GCReport:
    """Re-run failed GC: drop failed tasks and their results, re-open their strategies, reconcile.

    Artifacts already deleted are not touched again; the ``ArtifactGCError`` condition is cleared
    and comes back only if the new attempt fails too.
    """
    ns = _ns(store.get_workflow(name, namespace))
    with _gc_lock(store, name, ns):
        wf = store.get_workflow(name, ns)
        failed = [t for t in own_tasks(store, wf) if not task_ok(t)]
        pods = {pod_name_of(t) for t in failed}
        for task in failed:
            store.delete_gc_task(task["metadata"]["name"])
        repo: dict[str, Any] = {}
        with contextlib.suppress(ArgosyError):
            repo = repository_spec(store, wf)
        exec_spec = resolved_spec(store, wf)
        owed = {r.strategy.value for r in pending(artifact_refs(wf, repo, exec_spec))} if repo else {
            s.value for s in GC_STRATEGIES}

        def reopen(rec: dict[str, Any]) -> None:
            status = rec.setdefault("status", {})
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != CONDITION_TYPE]
            if not status["conditions"]:
                status.pop("conditions")
            gcs = status.setdefault("artifactGCStatus", {})
            for pod in pods:
                (gcs.get("podsRecouped") or {}).pop(pod, None)
            for strategy in owed:
                (gcs.get("strategiesProcessed") or {}).pop(strategy, None)

        _modify(store, wf, reopen)
        try:
            return _reconcile_locked(store, name, ns)
        except WorkflowNotFound:
            return GCReport(name, ns, record_deleted=True)


# ------------------------------------------------------------------------------ background work


def needs_attention(wf: dict[str, Any]) -> bool:
    """Cheap test on a listing summary: is there GC or deletion work a reconcile could do now?"""
    if fz.is_deleting(wf):
        return True
    if not fz.has_finalizer(wf):
        return "artifactGCStatus" not in (wf.get("status") or {}) and (wf.get("status") or {}).get("phase") in _TERMINAL
    return bool(strategies_ready(wf))


def reconcile_all(store: Any, namespace: str | None = None) -> list[GCReport]:
    """Reconcile every workflow that :func:`needs_attention` (what ``argosy gc run`` does each pass)."""
    reports: list[GCReport] = []
    for summary in store.list_workflows(namespace):
        if not needs_attention(summary):
            continue
        meta = summary.get("metadata") or {}
        try:
            reports.append(reconcile(store, meta["name"], meta.get("namespace")))
        except WorkflowNotFound:
            continue
        except Exception as exc:  # one broken workflow must not stop the others (`gc run --watch`)
            log.warning("artifact GC of workflow %s failed: %s", meta["name"], exc,
                        exc_info=not isinstance(exc, ArgosyError))
            reports.append(GCReport(meta["name"], meta.get("namespace") or "", error=str(exc)))
    return reports
