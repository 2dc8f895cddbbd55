"""Drives one workflow to its end: operator passes, pod results, persistence, external commands.

The runner owns a workflow while it runs (a lease in the store), so a crash of its process is
detectable by the next ``argosy get``. Commands from other processes (stop, terminate, suspend,
resume) arrive through the workflow record and are picked up between passes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from argosy.errors import ArgosyError
from argosy.pipeline.engine.events import phase_events
from argosy.pipeline.engine.operator import Operator
from argosy.pipeline.executors.base import Executor
from argosy.pipeline.model import Workflow
from argosy.pipeline.status import format_time, now

log = logging.getLogger(__name__)

__all__ = ["RESUME_ANNOTATION", "WorkflowRunner", "merge_workflow_template"]

RESUME_ANNOTATION = "argosy.io/resume-requested"
PERSIST_INTERVAL = 0.25
POLL_INTERVAL = 0.5


def merge_workflow_template(wf: dict[str, Any], store: Any) -> dict[str, Any]:
    """``workflowTemplateRef``: the template's spec under the workflow's (workflow fields win)."""
    spec = wf.get("spec") or {}
    ref = spec.get("workflowTemplateRef")
    if not ref:
        return wf
    kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
    doc = store.get_document(kind, ref.get("name"), None if kind.startswith("Cluster") else (wf.get("metadata") or {}).get("namespace"))
    if doc is None:
        raise ArgosyError(f'{kind.lower()}s.argoproj.io "{ref.get("name")}" not found')
    base = dict(doc.get("spec") or {})
    merged = dict(base)
    for key, value in spec.items():
        if key == "workflowTemplateRef":
            continue
        if key == "arguments":
            merged["arguments"] = _merge_arguments(base.get("arguments") or {}, value or {})
        else:
            merged[key] = value
    out = dict(wf)
    out["spec"] = {**merged, "workflowTemplateRef": ref}
    return out


def _merge_arguments(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("parameters", "artifacts"):
        items = {p["name"]: p for p in base.get(kind) or []}
        for p in own.get(kind) or []:
            items[p["name"]] = {**items.get(p["name"], {}), **p}
        if items:
            out[kind] = list(items.values())
    return out


class WorkflowRunner:
    """Runs a stored workflow to completion with an executor."""

    def __init__(self, store: Any, executor: Executor, *, output_key_format: str | None = None, on_update: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.store = store
        self.executor = executor
        self.output_key_format = output_key_format or "{{workflow.name}}/{{pod.name}}"
        self.on_update = on_update
        #: the artifact repository resolved for this run, frozen into the status at start (as Argo)
        self.repository: Any = None

    def _lookup_template(self, namespace: str) -> Callable[[str, bool], Workflow | None]:
        def lookup(name: str, cluster: bool) -> Workflow | None:
            kind = "ClusterWorkflowTemplate" if cluster else "WorkflowTemplate"
            doc = self.store.get_document(kind, name, None if cluster else namespace)
            if doc is None:
                return None
            return Workflow.model_validate({"metadata": doc.get("metadata") or {}, "spec": doc.get("spec") or {}})

        return lookup

    def _config_map_lookup(self, namespace: str) -> Callable[[str, str], str | None]:
        def lookup(name: str, key: str) -> str | None:
            doc = self.store.get_document("ConfigMap", name, namespace)
            if doc is None:
                return None
            value = (doc.get("data") or {}).get(key)
            return None if value is None else str(value)

        return lookup

    def run(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        record = self.store.get_workflow(name, namespace)
        ns = (record.get("metadata") or {}).get("namespace") or "default"
        if not self.store.acquire_lease(record["metadata"]["name"]):
            info = self.store.lease_info(record["metadata"]["name"])
            raise ArgosyError(f"workflow {name} is already being run by {info.owner if info else 'another process'}")
        try:
            return self._run(record, ns)
        except ArgosyError:
            raise
        except Exception as exc:
            # A bug must never leave a workflow Running forever: record it on the workflow.
            import traceback

            traceback.print_exc()
            message = f"internal error in argosy: {type(exc).__name__}: {exc} (see {self.store.log_path(record['metadata']['name'], 'controller')})"

            def fail(rec: dict[str, Any]) -> None:
                st = rec.setdefault("status", {})
                st.update(phase="Error", message=message, finishedAt=format_time(now()))
                labels = rec.setdefault("metadata", {}).setdefault("labels", {})
                labels["workflows.argoproj.io/phase"] = "Error"
                labels["workflows.argoproj.io/completed"] = "true"

            return self.store.modify_workflow(record["metadata"]["name"], fail, namespace=ns)  # type: ignore[no-any-return]
        finally:
            self.executor.close()
            self.store.release_lease(record["metadata"]["name"])

    def _run(self, record: dict[str, Any], ns: str) -> dict[str, Any]:
        name = record["metadata"]["name"]
        status = dict(record.get("status") or {})
        if self.repository is not None and "artifactRepositoryRef" not in status:
            ref = (record.get("spec") or {}).get("artifactRepositoryRef") or {}
            status["artifactRepositoryRef"] = {
                "configMap": ref.get("configMap") or "artifact-repositories",
                "key": ref.get("key") or "",
                "namespace": ns,
                "default": self.repository.source == "default",
                "artifactRepository": self.repository.spec,
            }
        try:
            merged = merge_workflow_template(record, self.store)
            wf = Workflow.model_validate({k: v for k, v in merged.items() if k != "status"})
        except Exception as exc:  # invalid at start: Argo's "invalid spec"
            status.update(phase="Failed", message=f"invalid spec: {exc}", finishedAt=format_time(now()))
            status.setdefault("startedAt", status["finishedAt"])
            return self._persist(name, ns, status, final=True)
        op = Operator(
            wf=wf,
            executor=self.executor,
            status=status,
            resolve_workflow_template=self._lookup_template(ns),
            config_map_lookup=self._config_map_lookup(ns),
            output_key_format=self.output_key_format,
            memo=self.store,
        )
        try:
            op.setup_globals()
        except ArgosyError as exc:
            op.finish("Failed", f"failed to set global parameters: {exc}")
            return self._persist(name, ns, op.to_status(), final=True)
        self._apply_workflow_metadata(name, ns, op)
        last_persist = 0.0
        persist_every = PERSIST_INTERVAL
        last_poll = 0.0
        resume_seen = ((record.get("metadata") or {}).get("annotations") or {}).get(RESUME_ANNOTATION)
        stalled = 0
        while True:
            before = op.fingerprint()
            op.reconcile()
            if not op.done and op.fingerprint() == before and not self.executor.active() and op.next_wakeup() is None and not _has_open_suspend(op) and not op.wf.spec.suspend:
                stalled += 1
                if stalled >= 3:
                    # Nothing runs, nothing is scheduled, nothing changed: say so instead of hanging.
                    op.finish("Error", "workflow made no progress: no step is running or can start (this is a bug in argosy; please report it)")
            else:
                stalled = 0
            t = time.monotonic()
            if op.done or t - last_persist >= persist_every:
                current = self._persist(name, ns, op.to_status(), final=op.done, workflow=op.wf)
                last_persist = time.monotonic()
                # The whole status is rewritten each time (4.5 MB at 10,000 nodes): space the
                # writes so they take at most ~1/6 of the run, or a big workflow spends O(N) per
                # write on O(N) writes (profiled: the main superlinear term of large DAGs).
                persist_every = max(PERSIST_INTERVAL, 5 * (last_persist - t))
                if op.done:
                    self._kill_leftovers(op)
                    return current
            if t - last_poll >= POLL_INTERVAL:
                last_poll = t
                resume_seen = self._poll_commands(name, ns, op, resume_seen)
            wake = op.next_wakeup()
            timeout = POLL_INTERVAL if wake is None else max(0.0, min(POLL_INTERVAL, wake - time.monotonic()))
            if stalled == 0 and not self.executor.active() and wake is None and op.wf.spec.shutdown is None and not op.wf.spec.suspend and not _has_open_suspend(op):
                timeout = 0.01  # the last pass advanced and nothing is in flight: the next can go on at once
            for result in self.executor.wait(timeout):
                op.apply_result(result)

    def _apply_workflow_metadata(self, name: str, ns: str, op: Operator) -> None:
        """``spec.workflowMetadata``: labels/annotations, and labels computed by expressions."""
        meta = op.wf.spec.workflow_metadata
        if meta is None:
            return
        labels = dict(meta.labels or {})
        if meta.labels_from:
            from argosy.pipeline.expr import evaluate, expand_env, format_result

            env = expand_env(dict(op.global_params))
            for key, src in meta.labels_from.items():
                expression = (src or {}).get("expression")
                if not expression:
                    continue
                try:
                    labels[key] = format_result(evaluate(expression, env))
                except ArgosyError as exc:
                    raise ArgosyError(f"spec.workflowMetadata.labelsFrom.{key}: {exc}") from None
        annotations = dict(meta.annotations or {})

        def apply(rec: dict[str, Any]) -> None:
            m = rec.setdefault("metadata", {})
            m.setdefault("labels", {}).update(labels)
            if annotations:
                m.setdefault("annotations", {}).update(annotations)

        self.store.modify_workflow(name, apply, namespace=ns)

    def _kill_leftovers(self, op: Operator) -> None:
        for pod in self.executor.active():
            self.executor.kill(pod, "workflow completed")

    def _poll_commands(self, name: str, ns: str, op: Operator, resume_seen: str | None) -> str | None:
        db_path = getattr(self.store, "db_path", None)
        if db_path is not None and not db_path.exists():
            # ARGOSY_HOME was removed under us: nobody can see or stop this run any more; end it
            # (run() kills the pods) rather than run on forever.
            raise ArgosyError(f"{db_path} was removed; stopping the run of {name}")
        try:
            record = self.store.get_workflow(name, ns)
        except ArgosyError:
            return resume_seen
        spec = record.get("spec") or {}
        shutdown = spec.get("shutdown")
        if shutdown and op.wf.spec.shutdown != shutdown:
            op.wf.spec.shutdown = shutdown
            message = f"Stopped with strategy '{shutdown}'"
            for pod in self.executor.active():
                self.executor.kill(pod, message)
            for node in op.nodes.values():
                if node.type == "Suspend" and not node.fulfilled:
                    op.mark(node, "Failed", message)
        annotations = (record.get("metadata") or {}).get("annotations") or {}
        resume = annotations.get(RESUME_ANNOTATION)
        if resume and resume != resume_seen:
            op.resume()
            resume_seen = resume
        op.wf.spec.suspend = spec.get("suspend")
        return resume_seen

    def _persist(self, name: str, ns: str, status: dict[str, Any], *, final: bool = False, workflow: Workflow | None = None) -> dict[str, Any]:
        events: list[tuple[str, str, str]] = []

        def apply(rec: dict[str, Any]) -> None:
            events[:] = phase_events(rec.get("status"), status)
            rec["status"] = status
            labels = rec.setdefault("metadata", {}).setdefault("labels", {})
            phase = status.get("phase") or "Running"
            labels["workflows.argoproj.io/phase"] = phase
            if final:
                labels["workflows.argoproj.io/completed"] = "true"
            if workflow is not None and workflow.spec.shutdown and not (rec.get("spec") or {}).get("shutdown"):
                rec.setdefault("spec", {})["shutdown"] = workflow.spec.shutdown

        record = self.store.modify_workflow(name, apply, namespace=ns)
        for etype, reason, message in events:
            try:
                self.store.add_event(name, etype, reason, message, namespace=ns)
            except ArgosyError as exc:  # an event is a courtesy: never fail a run for it
                log.warning("event %s for %s/%s not recorded: %s", reason, ns, name, exc)
        if self.on_update is not None:
            self.on_update(record)
        return record  # type: ignore[no-any-return]


def _has_open_suspend(op: Operator) -> bool:
    return any(n.type == "Suspend" and not n.fulfilled for n in op.nodes.values())
