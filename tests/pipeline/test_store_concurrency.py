"""Several `argosy` processes sharing one ARGOSY_HOME: nothing lost, nothing corrupted."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from argosy.pipeline.store import Store

ctx = multiprocessing.get_context("spawn")  # fresh interpreters, like separate `argosy` commands


def _submit_many(home: str, barrier: Barrier, count: int) -> None:
    store = Store(home)  # every process opens a fresh home at the same moment: schema creation races too
    barrier.wait(60)
    for i in range(count):
        store.create_workflow(
            {
                "metadata": {"generateName": "burst-", "labels": {"pid": str(os.getpid()), "i": str(i)}},
                "spec": {},
            }
        )


def _increment(home: str, barrier: Barrier, count: int) -> None:
    store = Store(home)
    barrier.wait(60)

    def bump(wf: dict[str, Any]) -> None:
        labels = wf["metadata"]["labels"]
        labels["counter"] = str(int(labels["counter"]) + 1)

    for _ in range(count):
        store.modify_workflow("shared", bump)


def _run(target: Any, home: Path, processes: int, count: int) -> None:
    barrier = ctx.Barrier(processes)
    procs = [ctx.Process(target=target, args=(str(home), barrier, count)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * processes


def test_concurrent_generate_name_submits(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"  # not created yet
    _run(_submit_many, home, processes=8, count=50)
    store = Store(home)
    listed = store.list_workflows()
    names = [w["metadata"]["name"] for w in listed]
    assert len(names) == 400 and len(set(names)) == 400
    assert all(n.startswith("burst-") and len(n) == 11 for n in names)
    per_process: dict[str, int] = {}
    for w in listed:
        pid = w["metadata"]["labels"]["pid"]
        per_process[pid] = per_process.get(pid, 0) + 1
    assert sorted(per_process.values()) == [50] * 8
    assert len({w["metadata"]["uid"] for w in listed}) == 400
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_concurrent_modify_loses_no_update(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_workflow({"metadata": {"name": "shared", "labels": {"counter": "0"}}, "spec": {}})
    _run(_increment, tmp_path, processes=4, count=50)
    final = store.get_workflow("shared")
    assert final["metadata"]["labels"]["counter"] == "200"
    assert final["metadata"]["resourceVersion"] == "201"
    assert store.list_workflows(label_selector="counter=200")[0]["metadata"]["name"] == "shared"


def _use_inherited_store(store: Store, queue: Any) -> None:
    created = store.create_workflow({"metadata": {"generateName": "child-"}, "spec": {}})
    queue.put(created["metadata"]["name"])


def test_store_opened_before_fork_works_in_child(tmp_path: Path) -> None:
    fork = multiprocessing.get_context("fork")
    store = Store(tmp_path)
    store.create_workflow({"metadata": {"name": "parent"}, "spec": {}})
    queue = fork.Queue()
    child = fork.Process(target=_use_inherited_store, args=(store, queue))
    child.start()
    name = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert {w["metadata"]["name"] for w in store.list_workflows()} == {"parent", name}
    store.create_workflow({"metadata": {"name": "parent-again"}, "spec": {}})  # parent connection still fine
