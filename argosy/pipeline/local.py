"""The embedded default backend: SQLite store, local sandboxed executor, local artifact folder.

``submit`` records the workflow and starts a detached runner process for it (``argosy _run``),
so a workflow keeps running when the CLI that submitted it exits, as on a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argosy.errors import ArgosyError
from argosy.pipeline.config import load_config
from argosy.pipeline.engine.runner import WorkflowRunner
from argosy.pipeline.executors.local import LocalExecutor
from argosy.pipeline.status import format_time, now
from argosy.pipeline.store import Store

__all__ = ["make_runner", "open_store", "run_workflow"]


def open_store(home: str | Path | None = None) -> Store:
    return Store(Path(home) if home else None)


def _secret_value(store: Store, namespace: str | None, name: str, key: str) -> str | None:
    import base64

    doc = store.get_document("Secret", name, namespace) or store.get_document("Secret", name, None)
    if doc is None:
        return None
    if key in (doc.get("stringData") or {}):
        return str(doc["stringData"][key])
    raw = (doc.get("data") or {}).get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def make_runner(store: Store, namespace: str | None = None, ref: dict[str, Any] | None = None) -> WorkflowRunner:
    from argosy.pipeline.artifacts import ArtifactManager

    config = load_config(store, namespace)
    artifacts = ArtifactManager.from_config(store, config, namespace, ref)
    key_format = artifacts.key_format

    def env_resolver(value_from: dict[str, Any]) -> str | None:
        if "secretKeyRef" in value_from:
            ref = value_from["secretKeyRef"]
            return _secret_value(store, namespace, ref.get("name", ""), ref.get("key", ""))
        if "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            doc = store.get_document("ConfigMap", ref.get("name", ""), namespace)
            return None if doc is None else (doc.get("data") or {}).get(ref.get("key", ""))
        return None

    executor = LocalExecutor(
        runs_dir=store.runs_dir,
        log_path=store.log_path,
        config=config,
        artifacts=artifacts,
        env_resolver=env_resolver,
    )
    runner = WorkflowRunner(store, executor, output_key_format=key_format)
    runner.repository = artifacts.repository
    return runner


def run_workflow(store: Store, name: str, namespace: str | None = None) -> dict[str, Any]:
    """Run a stored workflow in this process until it ends."""
    record = store.get_workflow(name, namespace)
    ref = (record.get("spec") or {}).get("artifactRepositoryRef")
    try:
        runner = make_runner(store, namespace, ref)
    except ArgosyError as exc:
        # e.g. an invalid workflow-controller-configmap: the workflow cannot start; say why on it
        return _fail_before_start(store, name, namespace, str(exc))
    try:
        final = runner.run(name, namespace)
    finally:
        runner.executor.close()
    if (final.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
        from argosy.gc.lifecycle import on_completed

        on_completed(store, name, namespace)
        final = store.get_workflow(name, namespace)
    return final


def _fail_before_start(store: Store, name: str, namespace: str | None, message: str) -> dict[str, Any]:
    def mark(rec: dict[str, Any]) -> None:
        st = rec.setdefault("status", {})
        if st.get("phase") not in (None, "", "Pending", "Running"):
            return
        st["phase"] = "Error"
        st["message"] = message
        st["finishedAt"] = format_time(now())
        st.setdefault("startedAt", st["finishedAt"])
        labels = rec.setdefault("metadata", {}).setdefault("labels", {})
        labels["workflows.argoproj.io/phase"] = "Error"
        labels["workflows.argoproj.io/completed"] = "true"

    return store.modify_workflow(name, mark, namespace=namespace)  # type: ignore[no-any-return]
