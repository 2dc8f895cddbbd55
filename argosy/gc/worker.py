"""Executes WorkflowArtifactGCTasks: Argo's ``argoexec artifact delete``, as a separate process.

``python -m argosy.gc.worker TASK [TASK...]`` (with ``ARGOSY_HOME``) deletes every artifact a task
lists through the driver of its location and writes per-artifact results back to the task. The
lifecycle runs it as a child process so a crash or hang while talking to storage cannot take the
engine down, exactly as Argo isolates deletion in a GC pod.

Deletion rules: a missing object is success; a directory artifact (``archive: none`` saved from
a directory, i.e. a key prefix) is deleted completely, every object under it (Argo only issues a
single DeleteObject there, #14565); deletes go in batches per repository; an object that another
live workflow still references is kept, reported as a success with a ``kept`` reason and
``keptFor`` (the workflow that uses it).
Exit status: 0 all deleted (or kept), 1 some artifact failed, 2 the task could not be run.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from argosy.errors import ArgosyError, GCError
from argosy.gc.strategy import ArtifactRef, SharingIndex, Strategy, artifact_refs, location
from argosy.gc.tasks import owner, repository_spec

__all__ = ["DELETE_NOT_SUPPORTED", "main", "run_task", "run_tasks"]

DELETE_NOT_SUPPORTED = (
    "delete not supported for this artifact storage, please check the following issue for details: "
    "https://github.com/argoproj/argo-workflows/issues/3102"
)
_DELETABLE = ("s3", "local")
_UNSUPPORTED = ("gcs", "oss", "azure", "hdfs", "artifactory", "http", "git", "raw", "plugin")

Log = Callable[[str], None]


@dataclass
class _Item:
    node_id: str
    name: str
    key: str
    is_dir: bool
    driver: Any
    url: str


@dataclass
class _Plan:
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)

    def set(self, node_id: str, name: str, error: str | None = None, kept: ArtifactRef | None = None,
            reason: str = "") -> None:
        result: dict[str, Any] = {"name": name, "success": error is None, "error": error}
        if kept is not None:
            result["kept"] = reason
            result["keptFor"] = {"workflow": kept.workflow, "namespace": kept.namespace}
        self.results.setdefault(node_id, {})[name] = result


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, ArgosyError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc.strerror)
    return str(exc) or type(exc).__name__


def _locator(art: dict[str, Any]) -> dict[str, Any]:
    """The fields ``ArtifactManager.driver_for`` needs (status artifacts carry more than the model may accept)."""
    out: dict[str, Any] = {"name": art["name"]}
    for kind in _DELETABLE:
        if isinstance(art.get(kind), dict):
            out[kind] = art[kind]
    return out


def _references(store: Any, fallback_repo: dict[str, Any]) -> list[ArtifactRef]:
    """Every artifact use recorded in the store (outputs, and inputs of unfinished workflows)."""
    refs: list[ArtifactRef] = []
    cache: dict[str, dict[str, Any]] = {}
    for wf in store.list_workflows(full=True):
        meta = wf.get("metadata") or {}
        cache_key = json.dumps([meta.get("namespace"), (wf.get("spec") or {}).get("artifactRepositoryRef"),
                                ((wf.get("status") or {}).get("artifactRepositoryRef"))], sort_keys=True, default=str)
        if cache_key not in cache:
            try:
                cache[cache_key] = repository_spec(store, wf)
            except ArgosyError:  # unknown repository: assume ours, so a shared key is never missed
                cache[cache_key] = fallback_repo
        refs.extend(artifact_refs(wf, cache[cache_key], inputs=True))
    return refs


def _plan(store: Any, task: dict[str, Any], log: Log) -> _Plan:
    from argosy.pipeline.artifacts import ArtifactManager, Repository
    from argosy.pipeline.model import Artifact

    meta = task.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    wf_name, wf_uid = owner(task)
    by_node: dict[str, Any] = ((task.get("spec") or {}).get("artifactsByNode")) or {}
    plan = _Plan()
    batch: list[ArtifactRef] = []
    own: list[tuple[str, dict[str, Any], dict[str, Any], ArtifactRef | None]] = []
    first_repo: dict[str, Any] = {}
    for node_id, node in by_node.items():
        repo = (node or {}).get("archiveLocation") or {}
        first_repo = first_repo or repo
        for name, art in ((node or {}).get("artifacts") or {}).items():
            art = {**(art or {}), "name": name}
            loc = location(art, repo)
            ref = None
            if loc is not None:
                ref = ArtifactRef(wf_name, namespace, wf_uid, str(node_id), str(name), Strategy.NEVER, *loc)
                batch.append(ref)
            own.append((str(node_id), art, repo, ref))
    shared = SharingIndex(_references(store, first_repo), batch)
    managers: dict[str, Any] = {}
    for node_id, art, repo, ref in own:
        name = art["name"]
        if ref is None:
            plan.set(node_id, name, f"artifact '{name}' has no location to delete")
            continue
        if not any(isinstance(art.get(k), dict) for k in _DELETABLE):
            kind = next((k for k in _UNSUPPORTED if art.get(k)), "unknown")
            plan.set(node_id, name, f"{DELETE_NOT_SUPPORTED} ({kind} artifact '{name}')")
            continue
        holder = shared.holder(ref)
        if holder is not None:
            reason = f"key '{ref.key}' is also used by {holder.describe()}"
            log(f"kept {name} (node {node_id}): {reason}")
            plan.set(node_id, name, kept=holder, reason=reason)
            continue
        try:
            repo_key = json.dumps(repo, sort_keys=True, default=str)
            if repo_key not in managers:
                managers[repo_key] = ArtifactManager(store, Repository(dict(repo), "artifact GC task"), namespace)
            driver, key = managers[repo_key].driver_for(Artifact.model_validate(_locator(art)))
            url = driver.url(key)
        except Exception as exc:  # a bad location or secret fails this artifact, not the task
            plan.set(node_id, name, _error_text(exc))
            continue
        plan.items.append(_Item(node_id, name, key.strip("/"), ref.is_dir, driver, url))
    return plan


def _delete_one(item: _Item) -> None:
    item.driver.delete(item.key)
    if item.is_dir:
        item.driver.delete_prefix(item.key)


def _execute(plan: _Plan, log: Log) -> None:
    by_driver: dict[int, list[_Item]] = {}
    for item in plan.items:
        by_driver.setdefault(id(item.driver), []).append(item)
    for items in by_driver.values():
        driver = items[0].driver
        files = [i for i in items if not i.is_dir]
        done: set[int] = set()
        if len(files) > 1:
            try:
                driver.delete_many([i.key for i in files])
                done = {id(i) for i in files}
            except Exception as exc:  # find out which keys failed, one by one
                log(f"batch delete from {driver.describe()} failed ({_error_text(exc)}); retrying one by one")
        for item in items:
            try:
                if id(item) not in done:
                    _delete_one(item)
            except Exception as exc:
                log(f"FAILED {item.url}: {_error_text(exc)}")
                plan.set(item.node_id, item.name, _error_text(exc))
                continue
            log(f"deleted {item.url}{'/ (all objects under the prefix)' if item.is_dir else ''}")
            plan.set(item.node_id, item.name)


def run_task(store: Any, name: str, log: Log | None = None) -> dict[str, Any]:
    """Delete everything task ``name`` lists and store the results on it; returns the updated task."""
    emit = log or (lambda _line: None)
    task = store.get_gc_task(name)
    if task is None:
        raise GCError(f'workflowartifactgctasks.argoproj.io "{name}" not found')
    plan = _plan(store, task, emit)
    _execute(plan, emit)
    results = {node: {"artifactResults": arts} for node, arts in plan.results.items()}
    fresh = store.get_gc_task(name) or task
    fresh["status"] = {**(fresh.get("status") or {}), "artifactResultsByNode": results}
    stored: dict[str, Any] = store.put_gc_task(fresh)
    return stored


def run_tasks(store: Any, names: list[str], log: Log | None = None) -> bool:
    """Run several tasks; True when every artifact of every task succeeded."""
    ok = True
    for name in names:
        task = run_task(store, name, log)
        ok = ok and all(r.get("success") for node in
                        (((task.get("status") or {}).get("artifactResultsByNode")) or {}).values()
                        for r in ((node or {}).get("artifactResults") or {}).values())
    return ok


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m argosy.gc.worker TASK...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m argosy.gc.worker TASK_NAME [TASK_NAME...]   (uses $ARGOSY_HOME)", file=sys.stderr)
        return 2
    from argosy.pipeline.store import Store

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        store = Store(os.environ.get("ARGOSY_HOME") or None)
        log(f"artifact GC worker pid {os.getpid()}: tasks {', '.join(args)}")
        ok = run_tasks(store, args, log)
    except ArgosyError as exc:
        print(f"artifact GC worker: {exc}", file=sys.stderr, flush=True)
        return 2
    except Exception:
        traceback.print_exc()
        return 2
    log("artifacts deleted" if ok else "some artifacts could not be deleted")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
