"""Detached runners: a warm runner (started before its workflow exists) and its fallbacks."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.pipeline.actions import submit
from argosy.pipeline.spawn import WarmRunner
from argosy.pipeline.store import Store
from tests.pipeline.engine.harness import pids_of_home, wait_until

HELLO: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "warm-"},
    "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "container": {"image": "busybox", "command": ["echo", "hello from the warm runner"]}}]},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    home = tmp_path / "home"
    yield Store(home)
    for pid in pids_of_home(home.resolve()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _stored(store: Store) -> str:
    return str(submit(store, dict(HELLO), start=False)["metadata"]["name"])


def _finished(store: Store, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        record = store.get_workflow(name)
        return record if (record.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error") else None

    return wait_until(check, timeout=60, what=f"{name} to finish")


def _exited(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists()
    return waited == pid


def test_a_warm_runner_runs_the_workflow_it_is_handed(store: Store) -> None:
    warm = WarmRunner(store)
    pid = warm.pid
    name = _stored(store)  # created after the runner started, as in `argosy submit`
    assert warm.start(name) == pid
    lease = store.lease_info(name)
    assert lease is not None and lease.pid == pid and lease.alive  # taken on its behalf at once
    final = _finished(store, name)
    assert final["status"]["phase"] == "Succeeded", final["status"]
    controller = store.log_path(name, "controller")
    assert controller.exists()
    pod_logs = [p for p in controller.parent.iterdir() if p.name != "controller.log"]
    assert any("hello from the warm runner" in p.read_text() for p in pod_logs)
    assert (store.logs_dir / "runner-start.log").read_text() == ""  # nothing went wrong while it waited


def test_an_unused_warm_runner_ends_on_its_own_and_touches_nothing(store: Store) -> None:
    warm = WarmRunner(store)
    pid = warm.pid
    assert pid is not None
    warm.close()
    wait_until(lambda: _exited(pid), timeout=30, what="the unused warm runner to exit")
    assert store.list_workflows() == []
    assert (store.logs_dir / "runner-start.log").read_text() == ""


def test_a_dead_warm_runner_is_replaced_by_a_fresh_one(store: Store) -> None:
    warm = WarmRunner(store)
    pid = warm.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _exited(pid), timeout=30, what="the warm runner to die")
    name = _stored(store)
    started = warm.start(name)
    assert started != pid
    assert _finished(store, name)["status"]["phase"] == "Succeeded"
    assert warm.start(_stored(store)) not in (pid, started)  # used once: later workflows get fresh runners
