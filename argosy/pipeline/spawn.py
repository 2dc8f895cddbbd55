"""Detached runner processes (``argosy _run``): starting them, and telling when one died.

Light to import (no engine): the CLI uses it before, or instead of, loading the engine.

A runner is a fresh interpreter that imports the engine (~0.4 s, most of it building the
workflow models) before it runs anything.  :class:`WarmRunner` lets ``argosy submit`` start one
*before* it validates and stores the workflow, so that import overlaps the CLI's own work and a
small workflow finishes ~0.3 s sooner; the runner then reads which workflow to run from its stdin.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import IO, Any

from argosy.errors import ArgosyError, StateError
from argosy.pipeline.clock import format_time, now, parse_time
from argosy.pipeline.kube import is_cluster
from argosy.pipeline.store import Store, process_owner

__all__ = ["ORPHAN_GRACE_SECONDS", "WarmRunner", "detect_orphan", "receive_assignment", "spawn_runner"]

ORPHAN_GRACE_SECONDS = 60.0

_ASSIGNED_BY_STDIN = "-"  # ``argosy _run -``: the workflow's name comes on stdin


def _command(name: str, namespace: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "argosy.cli.main", "_run", name]
    return cmd + ["-n", namespace] if namespace else cmd


def _start(store: Store, cmd: list[str], stdin: Any, out: IO[bytes]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["ARGOSY_HOME"] = str(store.home)
    return subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, close_fds=True)


def _take_lease(store: Store, name: str, namespace: str | None, pid: int) -> None:
    # Taken on the runner's behalf at once: if it dies before it gets going (a crash on start, a
    # kill), the next `argosy get` says so instead of waiting for a grace period.
    with contextlib.suppress(ArgosyError, StateError):
        store.acquire_lease(name, process_owner(pid), namespace=namespace)


def spawn_runner(store: Store, name: str, namespace: str | None = None) -> int:
    """Start a detached ``argosy _run`` for ``name``; its own log goes beside the pod logs."""
    with open(store.log_path(name, "controller"), "ab") as out:
        proc = _start(store, _command(name, namespace), subprocess.DEVNULL, out)
    _take_lease(store, name, namespace, proc.pid)
    return proc.pid


class WarmRunner:
    """A detached runner started before its workflow exists; :meth:`start` hands it one.

    Until then its output goes to ``logs/runner-start.log`` (an import failure would show there),
    afterwards to the workflow's controller log as with :func:`spawn_runner`.  If it is never
    used (validation failed, :meth:`close`, or this process exits) it sees its stdin close and
    ends without touching anything; if it died, :meth:`start` falls back to :func:`spawn_runner`.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        store.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(store.logs_dir / "runner-start.log", "ab") as out:
            self._proc: subprocess.Popen[bytes] | None = _start(
                store, _command(_ASSIGNED_BY_STDIN, None), subprocess.PIPE, out)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, name: str, namespace: str | None = None) -> int:
        """Run ``name`` in the warm process (or, if it is gone, in a new one); returns its pid."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None and proc.poll() is None:
            try:
                proc.stdin.write(f"{name}\t{namespace or ''}\n".encode())
                proc.stdin.close()
            except OSError:  # it died meanwhile: start a fresh one
                pass
            else:
                _take_lease(self._store, name, namespace, proc.pid)
                return proc.pid
        return spawn_runner(self._store, name, namespace)

    def close(self) -> None:
        """Not needed after all: the warm process ends on its own."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def receive_assignment(store: Store) -> tuple[str, str | None] | None:
    """In ``argosy _run -`` (engine already imported): read ``name<TAB>namespace`` from stdin.

    None when stdin closes first (the submitter did not need this runner).  Once assigned, the
    process's output moves to the workflow's controller log.
    """
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        return None
    name, _, namespace = line.partition("\t")
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(store.log_path(name, "controller"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return name, namespace or None


def detect_orphan(store: Store, record: dict[str, Any]) -> dict[str, Any]:
    """A Running workflow whose runner process died becomes Error with a message that says why.

    Cluster workflows are left alone: their controller, not a local process, runs them.
    """
    if is_cluster(store):
        return record
    status = record.get("status") or {}
    if status.get("phase") not in (None, "", "Pending", "Running"):
        return record
    meta = record.get("metadata") or {}
    name = meta.get("name", "")
    info = store.lease_info(name)
    if info is not None and info.alive:
        return record
    if info is None:
        created = parse_time(meta.get("creationTimestamp"))
        if created is None or (now() - created).total_seconds() < ORPHAN_GRACE_SECONDS:
            return record
        why = "no argosy process is running this workflow"
    else:
        why = f"the argosy process running this workflow (pid {info.pid} on {info.host}) exited unexpectedly; last heartbeat {info.renewed_at}"

    def mark(rec: dict[str, Any]) -> None:
        st = rec.setdefault("status", {})
        if st.get("phase") not in (None, "", "Pending", "Running"):
            return
        message = f"{why}; run `argosy retry {name}` to run it again"
        st["phase"] = "Error"
        st["message"] = message
        st["finishedAt"] = format_time(now())
        for node in (st.get("nodes") or {}).values():
            if node.get("phase") in ("Pending", "Running"):
                node["phase"] = "Error"
                node["message"] = "runner process exited"
                node["finishedAt"] = st["finishedAt"]
        rec.setdefault("metadata", {}).setdefault("labels", {})["workflows.argoproj.io/phase"] = "Error"
        rec["metadata"]["labels"]["workflows.argoproj.io/completed"] = "true"

    try:
        if info is not None:
            store.release_lease(name)
        return store.modify_workflow(name, mark, namespace=meta.get("namespace"))  # type: ignore[no-any-return]
    except (ArgosyError, StateError):
        return record
