"""Helpers for artifact-GC tests: a fresh ARGOSY_HOME, real workflow runs, S3 repository setup.

Workflows are run for real (``run_workflow`` in this process, or the detached runner) and then
handed to GC exactly as the engine will: ``on_submit`` before storing, ``on_completed`` after the
run. Waiting is always a bounded poll on observable state, never a fixed sleep.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.gc import lifecycle
from argosy.pipeline.local import run_workflow
from argosy.pipeline.store import Store

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"


def seed(name: str) -> dict[str, Any]:
    """A seed workflow document (tests/data/seeds/<name>.yaml)."""
    doc: dict[str, Any] = yaml.safe_load((SEEDS / f"{name}.yaml").read_text())
    return doc


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def submit(store: Store, doc: dict[str, Any]) -> str:
    """Store a workflow the way ``argosy submit`` will (with ``on_submit``); returns its name."""
    wf = copy.deepcopy(doc)
    wf.pop("status", None)
    lifecycle.on_submit(wf, store)
    return str(store.create_workflow(wf)["metadata"]["name"])


def run_engine_only(store: Store, name: str) -> None:
    """Run a stored workflow to its end WITHOUT the completion GC hook (a runner that died right after)."""
    from argosy.pipeline.local import make_runner

    runner = make_runner(store)
    try:
        runner.run(name)
    finally:
        runner.executor.close()


def run(store: Store, doc: dict[str, Any]) -> str:
    """Submit, run to the end in this process, then call the completion hook as the engine will."""
    name = submit(store, doc)
    run_workflow(store, name)
    lifecycle.on_completed(store, name)
    return name


def local_objects(store: Store) -> set[str]:
    """Keys of every object in the default local repository."""
    root = store.artifacts_dir
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def outputs(store: Store, name: str) -> dict[str, dict[str, Any]]:
    """Pod-node output artifacts of a workflow by name (``main-logs`` of several pods: last wins)."""
    out: dict[str, dict[str, Any]] = {}
    for node in (store.get_workflow(name).get("status") or {}).get("nodes", {}).values():
        if node.get("type") == "Pod":
            for art in (node.get("outputs") or {}).get("artifacts") or []:
                out[art["name"]] = art
    return out


def key_of(art: dict[str, Any]) -> str:
    return str((art.get("s3") or art.get("local") or {})["key"])


def exists(store: Store, name: str) -> bool:
    try:
        store.get_workflow(name)
    except KeyError:
        return False
    return True


def use_s3(store: Store, server: Any, bucket: str, *, key_format: str | None = None) -> None:
    """Make ``bucket`` on the loopback S3 server the default artifact repository of ``store``."""
    store.apply_document({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-creds"},
        "stringData": {"accessKey": server.access_key, "secretKey": server.secret_key},
    })
    repo: dict[str, Any] = {"s3": {
        "endpoint": server.endpoint, "bucket": bucket, "insecure": True, "region": server.region,
        "accessKeySecret": {"name": "s3-creds", "key": "accessKey"},
        "secretKeySecret": {"name": "s3-creds", "key": "secretKey"},
    }}
    if key_format:
        repo["s3"]["keyFormat"] = key_format
    store.apply_document({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "artifact-repositories",
                     "annotations": {"workflows.argoproj.io/default-artifact-repository": "default-v1"}},
        "data": {"default-v1": yaml.safe_dump(repo)},
    })


def s3_objects(server: Any, bucket: str) -> dict[str, int]:
    """Key -> size of every object in ``bucket``."""
    out: dict[str, int] = {}
    for page in server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", ()):
            out[obj["Key"]] = int(obj["Size"])
    return out


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A Store in a fresh ARGOSY_HOME (also exported, for child processes and the CLI)."""
    home = tmp_path / "home"
    monkeypatch.setenv("ARGOSY_HOME", str(home))
    s = Store(home)
    yield s
    s.close()
