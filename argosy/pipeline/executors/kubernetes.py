"""Runs each pod node as a real Kubernetes pod and reports its outcome to the engine.

One executor serves one workflow (the controller makes one per running workflow). It creates
pods built by :func:`argosy.pipeline.kube.objects.build_pod`, follows them with a single watch on
the workflow's label, and turns a finished pod plus what its ``wait`` container reported
(a ``WorkflowTaskResult``, or the ``workflows.argoproj.io/outputs`` annotation) into a
:class:`PodResult` with Argo's node messages (``main: Error (exit code 1)``,
``main: OOMKilled (exit code 137)``, ``Pod was active on the node longer than the specified
deadline``, eviction messages, ``Pod failed before main container starts due to
ImagePullBackOff: ...``).

While a pod runs, its node is reported Running (or Pending with Argo's reason, e.g.
``ImagePullBackOff: Back-off pulling image "x"``) through the same result queue; only a final
result ends tracking.

Restart safety: :meth:`adopt` (called before the engine's first pass) picks up the workflow's
existing pods, so a restarted controller continues where the previous one stopped; a node whose
pod has vanished is reported ``Error: pod deleted``, as Argo does. Pod GC (``spec.podGC``) runs
after the engine has persisted the node's result (:meth:`on_persisted`), never before, so a
crash cannot lose a result whose pod was already deleted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argosy.errors import ArgosyError, ExecutorError
from argosy.pipeline.config import ControllerConfig
from argosy.pipeline.executors.base import Executor, PodRequest, PodResult, drain
from argosy.pipeline.kube.client import Conflict, Gone, KubeApiError, KubeClient, NotFound, resource_type
from argosy.pipeline.kube.objects import (
    ANNOTATION_NODE_ID,
    ANNOTATION_NODE_MESSAGE,
    ANNOTATION_OUTPUTS,
    ANNOTATION_POD_UID,
    LABEL_COMPLETED,
    LABEL_WORKFLOW,
    PodSettings,
    build_pod,
    combine_result,
    explain_pending,
    pod_outcome,
    pods_to_collect,
)
from argosy.pipeline.model import Outputs

__all__ = ["KubernetesExecutor", "ShutdownRequested", "collect_pods"]

log = logging.getLogger(__name__)

POD_DELETED = "pod deleted"
#: how long adoption waits for stale pods (of nodes a `retry` reset) to be gone before relaunching
STALE_POD_TIMEOUT = 60.0
#: a pod Pending this long with no reason in its status (PodInitializing, ContainerCreating) gets its
#: newest Warning event as the node's message; checked at most every STUCK_CHECK_PERIOD seconds
STUCK_AFTER = 10.0
STUCK_CHECK_PERIOD = 5.0


class ShutdownRequested(ArgosyError):
    """The controller is stopping: the engine loop must exit, leaving pods and the workflow running."""


@dataclass
class _Tracked:
    pod_name: str
    node_id: str
    kill_message: str | None = None
    #: the pod is known to exist (created or adopted); only then does its absence mean deletion
    exists: bool = False
    #: the last (phase, message) reported while the pod runs
    last_progress: tuple[str, str | None] | None = None
    #: when tracking began (monotonic), to tell a slow start from a stuck one
    since: float = field(default_factory=time.monotonic)


class KubernetesExecutor(Executor):
    """Pods on a cluster for one workflow."""

    def __init__(
        self,
        api: KubeClient,
        workflow: dict[str, Any],
        *,
        settings: PodSettings | None = None,
        config: ControllerConfig | None = None,
        stop: threading.Event | None = None,
        watch_timeout: int = 60,
    ) -> None:
        self.api = api
        self.workflow = workflow
        meta = workflow.get("metadata") or {}
        self.name = str(meta.get("name") or "")
        self.namespace = str(meta.get("namespace") or api.namespace)
        self.settings = settings or PodSettings()
        self.config = config or ControllerConfig()
        self.stop = stop or threading.Event()
        self.watch_timeout = watch_timeout
        self._pods = resource_type("Pod")
        self._results: queue.Queue[PodResult] = queue.Queue()
        self._tracked: dict[str, _Tracked] = {}
        self._reported: set[str] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._synced = threading.Event()
        self._rv: str | None = None
        self._watcher: threading.Thread | None = None
        self._labelled: set[str] = set()
        self._collected: set[str] = set()
        self._gc_fingerprint: tuple[frozenset[str], Any] | None = None
        self._next_diagnosis = 0.0

    # ------------------------------------------------------------------ Executor API

    def adopt(self) -> set[str]:
        """Track the workflow's existing pods and the pods its status says are running; start the watch.

        Returns the adopted pod names. Finished pods are reported on the first :meth:`wait`.
        """
        listing = self.api.list_objects(self._pods, self.namespace, label_selector=f"{LABEL_WORKFLOW}={self.name}")
        seen: dict[str, dict[str, Any]] = {p["metadata"]["name"]: p for p in listing.get("items") or []}
        status_nodes = (self.workflow.get("status") or {}).get("nodes") or {}
        stale = [n for n, p in seen.items()
                 if (p["metadata"].get("annotations") or {}).get(ANNOTATION_NODE_ID) not in status_nodes and pod_outcome(p).done]
        if stale:  # finished pods of nodes the status forgot (`retry`): they must not be taken for the new run
            for pod_name in stale:
                self.api.delete(self._pods, pod_name, self.namespace, grace_seconds=0, missing_ok=True)
                seen.pop(pod_name)
            remaining = set(stale)
            deadline = time.monotonic() + STALE_POD_TIMEOUT
            while remaining and time.monotonic() < deadline:
                remaining = {n for n in remaining if self._exists(n)}
                if remaining:
                    time.sleep(0.1)
            listing = self.api.list_objects(self._pods, self.namespace, label_selector=f"{LABEL_WORKFLOW}={self.name}")
        self._rv = (listing.get("metadata") or {}).get("resourceVersion")
        nodes = status_nodes.values()
        from argosy.pipeline.names import pod_name as argo_pod_name

        adopted = set()
        for node in nodes:
            if node.get("type") != "Pod" or node.get("phase") not in ("Pending", "Running"):
                continue
            ref = node.get("templateRef") or {}
            pname = argo_pod_name(self.name, str(node.get("name")), str(ref.get("template") or node.get("templateName") or ""))
            by_id = next((n for n, p in seen.items() if (p["metadata"].get("annotations") or {}).get(ANNOTATION_NODE_ID) == node.get("id")), None)
            pname = by_id or pname
            with self._lock:
                self._tracked[pname] = _Tracked(pname, str(node.get("id")), exists=pname in seen)
            adopted.add(pname)
            pod = seen.get(pname)
            if pod is None:
                self._finish(pname, PodResult(pname, str(node.get("id")), "Error", POD_DELETED))
            else:
                self._observe(pod)
        self._start_watch()
        return adopted

    def _exists(self, pod_name: str) -> bool:
        try:
            self.api.get(self._pods, pod_name, self.namespace)
        except NotFound:
            return False
        return True

    def launch(self, request: PodRequest) -> None:
        argv = self._main_argv(request)
        pod = build_pod(request, self.workflow, self.settings, argv)
        with self._lock:
            self._tracked[request.pod_name] = _Tracked(request.pod_name, request.node_id)
            self._reported.discard(request.pod_name)
        self._start_watch()
        try:
            self.api.create(self._pods, pod, self.namespace)
        except Conflict:
            existing = self.api.get(self._pods, request.pod_name, self.namespace)
            if (existing["metadata"].get("annotations") or {}).get(ANNOTATION_NODE_ID) != request.node_id:
                with self._lock:
                    self._tracked.pop(request.pod_name, None)
                raise ExecutorError(f'pods "{request.pod_name}" already exists and belongs to another node') from None
            with self._lock:
                self._tracked[request.pod_name].exists = True
            self._observe(existing)  # created by a previous controller before it stopped: adopt it
        except KubeApiError as exc:
            with self._lock:
                self._tracked.pop(request.pod_name, None)
            raise ExecutorError(f"cannot create pod {request.pod_name}: {exc}") from None
        with self._lock:
            if request.pod_name in self._tracked:
                self._tracked[request.pod_name].exists = True

    def _main_argv(self, request: PodRequest) -> list[str] | None:
        """Main's argv for the shim (command + args, script path appended), or None to run the image's entrypoint."""
        from argosy.pipeline.executors.local import command_for

        tmpl = request.template
        container = tmpl.script or tmpl.container
        if container is None:
            return None
        try:
            return command_for(container, self.config, script=tmpl.script is not None)
        except ExecutorError:
            if tmpl.script is not None:
                raise
            return None  # no command and not in the images index: the image's own entrypoint, unwrapped

    def wait(self, timeout: float | None) -> list[PodResult]:
        if self.stop.is_set():
            raise ShutdownRequested("controller is stopping")
        self._diagnose_stuck()  # the runner polls at least every POLL_INTERVAL: often enough
        return drain(self._results, timeout)

    def _diagnose_stuck(self) -> None:
        """Say why a pod does not start when its status does not (Argo shows nothing then): a missing
        Secret or ConfigMap volume, a PVC that does not bind ... are only in Warning events about the pod
        (``FailedMount: MountVolume.SetUp failed for volume "x" : secret "y" not found``)."""
        now = time.monotonic()
        if now < self._next_diagnosis:
            return
        self._next_diagnosis = now + STUCK_CHECK_PERIOD
        with self._lock:
            stuck = {t.pod_name: t for t in self._tracked.values()
                     if t.exists and now - t.since >= STUCK_AFTER and (t.last_progress is None or t.last_progress[0] == "Pending")}
        if not stuck:
            return
        try:
            events = self.api.list_objects(resource_type("Event"), self.namespace, field_selector="type=Warning").get("items") or []
        except KubeApiError as exc:
            log.debug("listing events for stuck pods: %s", exc)
            return
        by_pod: dict[str, list[dict[str, Any]]] = {}
        for ev in events:
            involved = ev.get("involvedObject") or {}
            if involved.get("kind") == "Pod" and involved.get("name") in stuck:
                by_pod.setdefault(str(involved["name"]), []).append(ev)
        for pod, evs in by_pod.items():
            tracked = stuck[pod]
            progress = ("Pending", explain_pending(evs))
            with self._lock:
                if tracked.last_progress == progress or pod in self._reported or pod not in self._tracked:
                    continue
                tracked.last_progress = progress
            self._results.put(PodResult(pod, tracked.node_id, "Pending", progress[1]))

    def kill(self, pod_name: str, message: str) -> None:
        with self._lock:
            tracked = self._tracked.get(pod_name)
            if tracked is None:
                return
            tracked.kill_message = message
        with contextlib.suppress(KubeApiError):
            self.api.delete(self._pods, pod_name, self.namespace, grace_seconds=5, missing_ok=True)
        self._finish(pod_name, PodResult(pod_name, tracked.node_id, "Failed", message, finished_at=_now()))

    def active(self) -> set[str]:
        with self._lock:
            return set(self._tracked)

    def close(self) -> None:
        """Stop watching; pods are left alone (on shutdown a new controller adopts them)."""
        self._closed.set()

    # ------------------------------------------------------------------ watching

    def _start_watch(self) -> None:
        if self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch_loop, name=f"pods-{self.name}", daemon=True)
        self._watcher.start()

    def _watch_loop(self) -> None:
        selector = f"{LABEL_WORKFLOW}={self.name}"
        delay = 0.2
        while not self._closed.is_set() and not self.stop.is_set():
            try:
                if self._rv is None:
                    listing = self.api.list_objects(self._pods, self.namespace, label_selector=selector)
                    self._rv = (listing.get("metadata") or {}).get("resourceVersion")
                    present = {p["metadata"]["name"] for p in listing.get("items") or []}
                    for pod in listing.get("items") or []:
                        self._observe(pod)
                    self._missing(present)
                timeout = max(1, min(self.watch_timeout, 5 if self._closed.is_set() else self.watch_timeout))
                for etype, pod in self.api.watch(self._pods, self.namespace, label_selector=selector,
                                                 resource_version=self._rv, timeout_seconds=timeout):
                    if self._closed.is_set() or self.stop.is_set():
                        return
                    self._rv = (pod.get("metadata") or {}).get("resourceVersion") or self._rv
                    if etype == "DELETED":
                        self._deleted(pod)
                    elif etype in ("ADDED", "MODIFIED"):
                        self._observe(pod)
                delay = 0.2
            except Gone:
                self._rv = None
            except ArgosyError as exc:
                log.warning("watching pods of workflow %s: %s", self.name, exc)
                self._closed.wait(delay)
                delay = min(delay * 2, 5.0)
                self._rv = None

    def _missing(self, present: set[str]) -> None:
        """After a relist: tracked pods that no longer exist were deleted while we were not watching."""
        with self._lock:
            gone = [t for name, t in self._tracked.items() if name not in present and t.exists and t.kill_message is None]
        for t in gone:
            self._finish(t.pod_name, PodResult(t.pod_name, t.node_id, "Error", POD_DELETED, finished_at=_now()))

    def _deleted(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        with self._lock:
            tracked = self._tracked.get(name)
        if tracked is None:
            return
        outcome = pod_outcome(pod)
        if outcome.done:
            self._observe(pod)
            return
        self._finish(name, PodResult(name, tracked.node_id, "Error", tracked.kill_message or POD_DELETED, finished_at=_now()))

    def _observe(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        with self._lock:
            tracked = self._tracked.get(name)
        if tracked is None:
            return
        outcome = pod_outcome(pod)
        if not outcome.done:
            self._progress(name, tracked, pod, outcome)
            return
        report = self._report(pod, tracked.node_id)
        phase, message = combine_result(outcome, report)
        outputs = None
        raw = (report or {}).get("outputs")
        if raw:
            try:
                outputs = Outputs.model_validate(raw)
            except Exception as exc:  # a malformed report is the node's error, not the controller's
                phase, message = "Error", f"invalid outputs reported by pod {name}: {exc}"
        if outputs is not None and outputs.exit_code is None and outcome.exit_code is not None:
            outputs.exit_code = str(outcome.exit_code)
        elif outputs is None and outcome.exit_code is not None:
            outputs = Outputs(exit_code=str(outcome.exit_code))
        self._finish(name, PodResult(name, tracked.node_id, phase, message, outputs,
                                     outcome.started_at, outcome.finished_at or _now()))

    def _progress(self, name: str, tracked: _Tracked, pod: dict[str, Any], outcome: Any) -> None:
        """A not-yet-finished pod's state for its node: Running once a container runs, else Pending with
        Argo's pending reason (``ImagePullBackOff: ...``). Sent only when it changes; the pod stays active."""
        statuses = (pod.get("status") or {}).get("initContainerStatuses", []) + (pod.get("status") or {}).get("containerStatuses", [])
        running = (pod.get("status") or {}).get("phase") == "Running" or any("running" in (cs.get("state") or {}) for cs in statuses)
        phase, message = ("Running", None) if running else ("Pending", outcome.pending_reason)
        if (phase, message) == tracked.last_progress or (phase, message) == ("Pending", None):
            return
        tracked.last_progress = (phase, message)
        with self._lock:
            if name in self._reported or name not in self._tracked:
                return
        self._results.put(PodResult(name, tracked.node_id, phase, message, started_at=outcome.started_at))

    def _report(self, pod: dict[str, Any], node_id: str) -> dict[str, Any] | None:
        """What the pod's wait/resource container reported: its WorkflowTaskResult, else its annotations."""
        try:
            tr = self.api.get(resource_type("WorkflowTaskResult"), node_id, self.namespace)
            from_pod = ((tr.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_POD_UID)
            if from_pod in (None, (pod.get("metadata") or {}).get("uid")):  # not a stale result of an earlier run
                return {"outputs": tr.get("outputs") or {}, "phase": tr.get("phase"), "message": tr.get("message")}
        except NotFound:
            pass
        except KubeApiError as exc:
            log.debug("reading task result %s: %s", node_id, exc)
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if ANNOTATION_OUTPUTS not in annotations and "argosy.io/node-phase" not in annotations:
            return None
        try:
            outputs = json.loads(annotations.get(ANNOTATION_OUTPUTS) or "{}")
        except ValueError:
            outputs = {}
        return {"outputs": outputs, "phase": annotations.get("argosy.io/node-phase"),
                "message": annotations.get(ANNOTATION_NODE_MESSAGE)}

    def _finish(self, pod_name: str, result: PodResult) -> None:
        with self._lock:
            if pod_name in self._reported or pod_name not in self._tracked:
                return
            self._reported.add(pod_name)
            del self._tracked[pod_name]
        self._results.put(result)

    # ------------------------------------------------------------------ after persistence

    def on_persisted(self, record: dict[str, Any]) -> None:
        """Called by the runner after each save: label completed pods, delete pods per ``podGC``."""
        self.workflow = {**self.workflow, "metadata": record.get("metadata") or self.workflow.get("metadata"),
                         "status": record.get("status") or {}}
        status = record.get("status") or {}
        nodes = status.get("nodes") or {}
        done = {nid for nid, n in nodes.items() if n.get("type") == "Pod" and n.get("phase") in ("Succeeded", "Failed", "Error")}
        fingerprint = (frozenset(done), status.get("phase"))
        if not done or fingerprint == self._gc_fingerprint:
            return
        self._gc_fingerprint = fingerprint
        try:
            collect_pods(self.api, record, labelled=self._labelled, collected=self._collected)
        except KubeApiError as exc:
            log.warning("pod GC of workflow %s: %s", self.name, exc)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect_pods(
    api: KubeClient,
    workflow: dict[str, Any],
    *,
    labelled: set[str] | None = None,
    collected: set[str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[str]:
    """Label pods of finished nodes ``completed=true`` and delete those ``spec.podGC`` releases; returns the deleted."""
    meta = workflow.get("metadata") or {}
    ns, name = str(meta.get("namespace") or api.namespace), str(meta.get("name"))
    pods_rt = resource_type("Pod")
    pods = api.list_objects(pods_rt, ns, label_selector=f"{LABEL_WORKFLOW}={name}").get("items") or []
    nodes = ((workflow.get("status") or {}).get("nodes") or {})
    labelled = labelled if labelled is not None else set()
    collected = collected if collected is not None else set()
    for pod in pods:
        pmeta = pod.get("metadata") or {}
        node = nodes.get((pmeta.get("annotations") or {}).get(ANNOTATION_NODE_ID)) or {}
        if node.get("phase") in ("Succeeded", "Failed", "Error") and (pmeta.get("labels") or {}).get(LABEL_COMPLETED) != "true" \
                and pmeta.get("name") not in labelled:
            with contextlib.suppress(NotFound):
                api.patch(pods_rt, pmeta["name"], {"metadata": {"labels": {LABEL_COMPLETED: "true"}}}, ns)
            labelled.add(str(pmeta.get("name")))
    deleted = []
    for pod_name in pods_to_collect(workflow, pods, now()):
        if pod_name in collected:
            continue
        api.delete(pods_rt, pod_name, ns, missing_ok=True)
        collected.add(pod_name)
        deleted.append(pod_name)
    return deleted


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until truthy or ``timeout`` (for callers that must wait on the cluster)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
