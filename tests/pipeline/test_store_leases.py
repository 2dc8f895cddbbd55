"""Workflow leases: a crashed `argosy` process must be recognised as dead, a live one respected."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from argosy.pipeline.store import Store, process_owner, process_start_time

ctx = multiprocessing.get_context("spawn")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as s:
        s.create_workflow({"metadata": {"name": "wf"}, "spec": {}})
        yield s


def _crash_holding_lease(home: str) -> None:
    assert Store(home).acquire_lease("wf")
    os._exit(3)  # no release, no cleanup: like a SIGKILL'd runner


def _hold_lease_until_told(home: str, ready: Event, done: Event) -> None:
    assert Store(home).acquire_lease("wf")
    ready.set()
    done.wait(60)


def _race_for_lease(home: str, barrier: Barrier, results: Any) -> None:
    store = Store(home)
    barrier.wait(60)
    results.put(store.acquire_lease("wf"))
    barrier.wait(60)  # stay alive until everyone has tried, or a loser could take over from a dead winner


def test_owner_string_names_this_process() -> None:
    host, pid, start = process_owner().rsplit(":", 2)
    assert (
        host == socket.gethostname() and int(pid) == os.getpid() and start == process_start_time(os.getpid())
    )


def test_acquire_renew_release_by_the_same_process(store: Store) -> None:
    assert store.lease_info("wf") is None
    assert store.acquire_lease("wf")
    info = store.lease_info("wf")
    assert info is not None and info.alive and info.pid == os.getpid()
    assert info.owner == process_owner() and info.host == socket.gethostname()
    assert info.acquired_at == info.renewed_at and info.workflow_name == "wf" and info.namespace == "default"
    assert store.acquire_lease("wf"), "re-acquiring our own lease succeeds"
    assert store.renew_lease("wf")
    assert store.release_lease("wf")
    assert store.lease_info("wf") is None
    assert not store.renew_lease("wf"), "a released lease cannot be renewed"


def test_lease_of_crashed_process_can_be_taken_over(store: Store) -> None:
    child = ctx.Process(target=_crash_holding_lease, args=(str(store.home),))
    child.start()
    child.join(60)
    assert child.exitcode == 3
    info = store.lease_info("wf")
    assert info is not None and info.pid == child.pid and not info.alive
    assert store.acquire_lease("wf")
    info = store.lease_info("wf")
    assert info is not None and info.pid == os.getpid() and info.alive


def test_lease_of_live_process_is_respected(store: Store) -> None:
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lease_until_told, args=(str(store.home), ready, done))
    child.start()
    try:
        assert ready.wait(60)
        info = store.lease_info("wf")
        assert info is not None and info.alive and info.pid == child.pid
        assert not store.acquire_lease("wf")
        assert not store.renew_lease("wf") and not store.release_lease("wf"), "not ours"
    finally:
        done.set()
        child.join(60)
    assert store.acquire_lease("wf"), "free once the holder has exited"


def test_only_one_of_many_processes_gets_the_lease(store: Store) -> None:
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_race_for_lease, args=(str(store.home), barrier, results)) for _ in range(8)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert sorted(outcomes) == [False] * 7 + [True]


def test_recycled_pid_does_not_count_as_alive(store: Store) -> None:
    host, pid, start = process_owner().rsplit(":", 2)
    impostor = f"{host}:{pid}:{int(start) + 1}"  # our pid, but a different process start
    assert store.acquire_lease("wf", impostor)
    info = store.lease_info("wf")
    assert info is not None and info.owner == impostor and not info.alive
    assert store.acquire_lease("wf")
    assert store.lease_info("wf").owner == process_owner()  # type: ignore[union-attr]


@pytest.mark.skipif(not hasattr(os, "waitid"), reason="needs waitid(WNOWAIT) to keep a zombie")
def test_exited_but_unreaped_process_is_dead(store: Store) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert store.acquire_lease("wf", process_owner(proc.pid))
        assert store.lease_info("wf").alive  # type: ignore[union-attr]
        assert proc.stdin is not None
        proc.stdin.close()
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # now a zombie
        assert not store.lease_info("wf").alive  # type: ignore[union-attr]
    finally:
        proc.wait()


def test_lease_from_another_host_expires_without_renewal(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.acquire_lease("wf", "elsewhere:12345:999")
    assert not store.acquire_lease("wf"), "cannot check a remote pid, so trust a fresh lease"
    now = store._now()
    monkeypatch.setattr(store, "_now", lambda: now + store.lease_ttl_seconds + 1)
    assert not store.lease_info("wf").alive  # type: ignore[union-attr]
    assert store.acquire_lease("wf")


def test_force_release_and_namespaces(store: Store) -> None:
    store.create_workflow({"metadata": {"name": "wf", "namespace": "argo"}, "spec": {}})
    assert store.acquire_lease("wf", "elsewhere:1:1", namespace="argo")
    assert store.acquire_lease("wf", namespace="default"), "separate workflow, separate lease"
    assert not store.release_lease("wf", namespace="argo")
    assert store.release_lease("wf", namespace="argo", force=True)
    assert store.lease_info("wf", namespace="argo") is None
    assert store.lease_info("wf", namespace="default") is not None
