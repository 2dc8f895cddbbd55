"""Helpers for the Kubernetes tests: a controller on the fake cluster, submitting, waiting.

The fake API server and kubelet come from ``tests.fixtures.fakekube`` (imported here, so these
tests run whether or not tests/conftest.py registers it as a plugin). Waiting is always a bounded
poll on observable state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.fixtures.fakekube as _fakekube_fixtures
from argosy.pipeline.kube.client import KubeClient
from argosy.pipeline.kube.controller import Controller, ControllerSettings
from argosy.pipeline.kube.objects import PodSettings
from argosy.pipeline.kube.store import KubeStore

# The fake cluster's fixtures, here too so these tests run whether or not tests/conftest.py lists the
# plugin (when it does, these same functions are simply found twice).
fakekube = _fakekube_fixtures.fakekube
kube = _fakekube_fixtures.kube
kube_pods = _fakekube_fixtures.kube_pods

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs" / "kubernetes"
TERMINAL = ("Succeeded", "Failed", "Error")


def seed(name: str) -> list[dict[str, Any]]:
    """The documents of a seed file (tests/data/seeds/<name>.yaml)."""
    return [d for d in yaml.safe_load_all((SEEDS / f"{name}.yaml").read_text()) if d]


def fast_settings(namespace: str | None = "default", **overrides: Any) -> ControllerSettings:
    """Controller settings with test-sized periods (leases, resync, watches)."""
    base: dict[str, Any] = dict(namespace=namespace, lease_namespace="default", lease_duration=3.0, retry_period=0.2,
                resync_seconds=1.0, watch_timeout=5, pods=PodSettings(image="argosy:test"))
    base.update(overrides)
    return ControllerSettings(**base)


@pytest.fixture
def start_controller(kube: Any) -> Iterator[Callable[..., Controller]]:
    """Start controllers on the fake cluster; all are stopped after the test."""
    started: list[Controller] = []

    def start(api: KubeClient | None = None, *, wait_lead: bool = True, **overrides: Any) -> Controller:
        ctl = Controller(api or kube.client(), fast_settings(**overrides)).start()
        started.append(ctl)
        if wait_lead:
            kube.wait_for(ctl.leading.is_set, 10, "the controller to lead")
        return ctl

    yield start
    for ctl in started:
        ctl.stop()


@pytest.fixture
def store(kube: Any) -> KubeStore:
    return KubeStore(kube.client())


def submit(store: KubeStore, doc: dict[str, Any], namespace: str = "default") -> str:
    """Create the Workflow object the way ``argosy submit --kubernetes`` does; returns its name."""
    from argosy.gc import lifecycle

    wf = copy.deepcopy(doc)
    wf.pop("status", None)
    wf.setdefault("metadata", {})["namespace"] = namespace
    lifecycle.on_submit(wf, None)
    return str(store.create_workflow(wf)["metadata"]["name"])


def deleted(store: KubeStore, name: str, namespace: str = "default") -> bool:
    """The workflow object is gone from the cluster (its finalizers lifted, the API delete done)."""
    try:
        store.get_workflow(name, namespace)
    except KeyError:
        return True
    return False


def wait_done(kube: Any, store: KubeStore, name: str, timeout: float = 60.0, namespace: str = "default") -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        wf = store.get_workflow(name, namespace)
        return wf if (wf.get("status") or {}).get("phase") in TERMINAL and wf["metadata"]["labels"].get(
            "workflows.argoproj.io/completed") == "true" else None

    result: dict[str, Any] = kube.wait_for(done, timeout, f"workflow {name} to finish")
    return result


class Gate:
    """A step that blocks until the test opens it: the container connects here and waits for a byte.

    (A file would not do: containers see the host through overlays, which cache missing names.)
    """

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.opened = threading.Event()
        self.conns: list[Any] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
                if self.opened.is_set():
                    conn.sendall(b"x")

    def command(self, label: str) -> list[str]:
        import sys

        code = ("import socket, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); "
                "s.recv(1); print(sys.argv[2], 'opened')")
        return [sys.executable, "-c", code, str(self.port), label]

    def open(self) -> None:
        with self.lock:
            self.opened.set()
            for conn in self.conns:
                conn.sendall(b"x")

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


def nodes_by_display(wf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["displayName"]: n for n in (wf.get("status") or {}).get("nodes", {}).values()}
