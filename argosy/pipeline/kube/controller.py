"""``argosy controller``: the long-lived reconcile loop over Workflow objects (Argo's workflow-controller).

* **Leader election** with a ``coordination.k8s.io/v1`` Lease (:func:`lease_decision` is the pure
  rule): only the leader runs workflows; a standby takes over when the leader's renewals stop.
* **Watch + resync**: a watch on Workflows labelled ``controller-instanceid=<id>`` and on artifact
  GC pods feeds a de-duplicating work queue; a periodic full list catches anything missed.
* **Running workflows**: each unfinished workflow runs in a thread (:class:`WorkflowRunner` with a
  :class:`KubernetesExecutor`). The engine's state is the workflow's status, so a restarted
  controller rebuilds it from there and **adopts** the pods already running.
* **After completion**: artifact GC through pods (:mod:`.gcpods`), pod GC, ``ttlStrategy``.
* **Deletion**: a running workflow being deleted is terminated first; its finalizer holds the
  object until OnWorkflowDeletion GC is done.

Stopping (or losing the lease) leaves workflows Running and pods alone, for the next leader.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from argosy.errors import ArgosyError, WorkflowNotFound
from argosy.pipeline.kube.client import Conflict, Gone, KubeApiError, KubeClient, NotFound, resource_type
from argosy.pipeline.kube.objects import (
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_WORKFLOW,
    PodSettings,
    is_deleting,
    pod_gc_due_at,
    ttl_due,
    ttl_due_at,
)
from argosy.pipeline.kube.store import KubeStore

__all__ = ["Controller", "ControllerSettings", "LeaderElector", "lease_decision", "needs_reconcile", "run_workflow"]

log = logging.getLogger(__name__)

TERMINAL = ("Succeeded", "Failed", "Error")


def _micro(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class ControllerSettings:
    """How the controller runs; the defaults suit a cluster, tests shorten the periods."""

    #: namespace to watch; None watches all namespaces (needs the ClusterRole)
    namespace: str | None = None
    instance_id: str = "argosy"
    lease_name: str = "argosy-controller"
    lease_namespace: str = "argo"
    lease_duration: float = 15.0
    retry_period: float = 2.0
    resync_seconds: float = 30.0
    watch_timeout: int = 60
    workers: int = 2
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}")
    pods: PodSettings = field(default_factory=PodSettings)


# ------------------------------------------------------------------------------------ leader election


def lease_decision(lease: dict[str, Any] | None, identity: str, now: float) -> str:
    """``create`` (no Lease), ``renew`` (ours), ``takeover`` (free or expired) or ``wait`` (someone else's)."""
    if lease is None:
        return "create"
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity") or ""
    if holder == identity:
        return "renew"
    renewed = _epoch(spec.get("renewTime")) or 0.0
    duration = float(spec.get("leaseDurationSeconds") or 15)
    if not holder or now >= renewed + duration:
        return "takeover"
    return "wait"


class LeaderElector:
    """One Lease, renewed while we hold it; released on shutdown so a successor need not wait."""

    def __init__(self, api: KubeClient, name: str, namespace: str, identity: str, duration: float) -> None:
        self.api, self.name, self.namespace, self.identity, self.duration = api, name, namespace, identity, duration
        self.rt = resource_type("Lease")

    def try_acquire_or_renew(self) -> bool:
        try:
            lease: dict[str, Any] | None = self.api.get(self.rt, self.name, self.namespace)
        except NotFound:
            lease = None
        decision = lease_decision(lease, self.identity, time.time())
        now = _micro()
        try:
            if decision == "create":
                self.api.create(self.rt, {
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": int(max(1, self.duration)),
                             "acquireTime": now, "renewTime": now, "leaseTransitions": 0},
                }, self.namespace)
                return True
            if decision == "wait" or lease is None:
                return False
            spec = dict(lease.get("spec") or {})
            if decision == "takeover":
                spec.update(holderIdentity=self.identity, acquireTime=now,
                            leaseTransitions=int(spec.get("leaseTransitions") or 0) + 1)
            spec.update(renewTime=now, leaseDurationSeconds=int(max(1, self.duration)))
            self.api.replace(self.rt, {**lease, "spec": spec}, self.namespace)
            return True
        except Conflict:
            return False

    def release(self) -> None:
        with contextlib.suppress(KubeApiError, ArgosyError):
            lease = self.api.get(self.rt, self.name, self.namespace)
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                return
            spec.update(holderIdentity="", leaseDurationSeconds=1, renewTime=_micro())
            self.api.replace(self.rt, {**lease, "spec": spec}, self.namespace)


# ------------------------------------------------------------------------------------ configuration lookups


class _Documents:
    """Document lookups that fall back from the workflow's namespace to the controller's (Argo's order)."""

    def __init__(self, store: KubeStore, namespace: str, controller_namespace: str) -> None:
        self.store, self.namespace, self.controller_namespace = store, namespace, controller_namespace
        self.artifacts_dir = store.artifacts_dir

    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        if namespace is not None:
            return self.store.get_document(kind, name, namespace)
        return self.store.get_document(kind, name, self.namespace) or self.store.get_document(kind, name, self.controller_namespace)


def workflow_setup(store: KubeStore, wf: dict[str, Any], pods: PodSettings, controller_namespace: str) -> tuple[Any, PodSettings, str | None]:
    """(controller config, pod settings with the artifact repository, output key format) for ``wf``.

    The repository is the one frozen in ``status.artifactRepositoryRef`` if the run already started
    (so later ConfigMap edits do not affect it, as in Argo), else resolved now.
    """
    from argosy.pipeline.artifacts import Repository, resolve_repository
    from argosy.pipeline.config import load_config

    ns = str((wf.get("metadata") or {}).get("namespace") or store.namespace)
    docs = _Documents(store, ns, controller_namespace)
    config = load_config(docs)
    frozen = ((wf.get("status") or {}).get("artifactRepositoryRef") or {}).get("artifactRepository")
    if isinstance(frozen, dict) and frozen:
        repo = Repository(dict(frozen), "status.artifactRepositoryRef")
    else:
        repo = resolve_repository(docs, config, ns, (wf.get("spec") or {}).get("artifactRepositoryRef") or None)
    settings = replace(pods, repository=dict(repo.spec) if repo.kind != "local" else {})
    if config.raw.get("executor", {}).get("image") and pods.image == PodSettings().image:
        settings = replace(settings, image=str(config.raw["executor"]["image"]))
    return config, settings, repo.key_format


def run_workflow(
    api: KubeClient,
    store: KubeStore,
    name: str,
    namespace: str,
    pods: PodSettings,
    *,
    stop: threading.Event | None = None,
    controller_namespace: str | None = None,
    watch_timeout: int = 60,
) -> dict[str, Any] | None:
    """Run one workflow to its end (or until ``stop``) with pods on the cluster; None when stopped."""
    from argosy.pipeline.engine.runner import WorkflowRunner
    from argosy.pipeline.executors.kubernetes import KubernetesExecutor, ShutdownRequested

    store = store.for_namespace(namespace)
    wf = store.get_workflow(name, namespace)
    config, settings, key_format = workflow_setup(store, wf, pods, controller_namespace or namespace)
    if settings.repository and not (wf.get("status") or {}).get("artifactRepositoryRef"):
        frozen = {"artifactRepository": settings.repository, "default": True}

        def freeze(rec: dict[str, Any]) -> None:
            rec.setdefault("status", {}).setdefault("artifactRepositoryRef", frozen)

        wf = store.modify_workflow(name, freeze, namespace)
    executor = KubernetesExecutor(api, wf, settings=settings, config=config, stop=stop, watch_timeout=watch_timeout)
    executor.adopt()
    runner = WorkflowRunner(store, executor, output_key_format=key_format, on_update=executor.on_persisted)
    try:
        return runner.run(name, namespace)
    except ShutdownRequested:
        return None
    finally:
        executor.close()


# ------------------------------------------------------------------------------------ the controller


def needs_reconcile(wf: dict[str, Any]) -> bool:
    """Whether a listed workflow may have work for the controller (others are finished and left alone)."""
    meta = wf.get("metadata") or {}
    spec = wf.get("spec") or {}
    if (wf.get("status") or {}).get("phase") not in TERMINAL or meta.get("labels", {}).get("workflows.argoproj.io/completed") != "true":
        return True
    return bool(meta.get("deletionTimestamp") or meta.get("finalizers") or spec.get("podGC") or spec.get("ttlStrategy")
                or "artifactGCStatus" not in (wf.get("status") or {}))


class _WorkQueue:
    """Keys are processed one at a time each; a key added while processing is processed again after."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.lock = threading.Lock()
        self.dirty: set[tuple[str, str]] = set()
        self.processing: set[tuple[str, str]] = set()

    def add(self, key: tuple[str, str]) -> None:
        with self.lock:
            if key in self.dirty:
                return
            self.dirty.add(key)
            if key in self.processing:
                return
        self.q.put(key)

    def get(self, timeout: float) -> tuple[str, str] | None:
        try:
            key = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        if key is None:
            return None
        with self.lock:
            self.dirty.discard(key)
            self.processing.add(key)
        return key

    def done(self, key: tuple[str, str]) -> None:
        with self.lock:
            self.processing.discard(key)
            again = key in self.dirty
        if again:
            self.q.put(key)


class Controller:
    """Reconciles Workflow objects; :meth:`run` blocks until ``stop`` is set."""

    def __init__(self, api: KubeClient, settings: ControllerSettings | None = None) -> None:
        self.api = api
        self.settings = settings or ControllerSettings()
        s = self.settings
        self.store = KubeStore(api, s.namespace or api.namespace, instance_id=s.instance_id,
                               lease_name=s.lease_name, lease_namespace=s.lease_namespace, identity=s.identity)
        self.elector = LeaderElector(api, s.lease_name, s.lease_namespace, s.identity, s.lease_duration)
        self.queue = _WorkQueue()
        self.leading = threading.Event()
        self._lead_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._runners: dict[tuple[str, str], threading.Thread] = {}
        self._results_deleted: set[str] = set()
        self._timers: dict[tuple[str, str], tuple[float, threading.Timer]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._main: threading.Thread | None = None
        self.on_error: Callable[[tuple[str, str], BaseException], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Controller:
        """Run in a background thread (tests, embedding)."""
        self._main = threading.Thread(target=self.run, name="argosy-controller", daemon=True)
        self._main.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        with self._lock:
            for _due, timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        if self._main is not None:
            self._main.join(timeout)

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        s = self.settings
        log.info("argosy controller %s starting (namespace %s, instance %s)", s.identity, s.namespace or "<all>", s.instance_id)
        try:
            while not stop.is_set() and not self._stop.is_set():
                try:
                    ok = self.elector.try_acquire_or_renew()
                except ArgosyError as exc:
                    log.warning("leader election: %s", exc)
                    ok = False
                if ok and not self.leading.is_set():
                    self._start_leading()
                elif not ok and self.leading.is_set():
                    log.warning("lost the leader lease; stopping work")
                    self._stop_leading()
                (stop if stop is not self._stop else self._stop).wait(s.retry_period)
        finally:
            if self.leading.is_set():
                self._stop_leading()
            self.elector.release()
            log.info("argosy controller %s stopped", s.identity)

    def _start_leading(self) -> None:
        log.info("%s is the leader", self.settings.identity)
        self._lead_stop = threading.Event()
        self.leading.set()
        targets: list[tuple[str, Callable[[], None]]] = [("workflow-watch", self._watch_workflows),
                                                         ("gc-pod-watch", self._watch_gc_pods), ("resync", self._resync_loop)]
        targets += [(f"worker-{i}", self._worker) for i in range(max(1, self.settings.workers))]
        self._threads = [threading.Thread(target=fn, name=f"argosy-{name}", daemon=True) for name, fn in targets]
        for t in self._threads:
            t.start()

    def _stop_leading(self) -> None:
        """Stop all work: runners leave their workflows Running (the next leader adopts them).

        Watch threads are not waited for (they notice at their next event or timeout); workers
        finish the reconcile in hand, runners their current engine pass.
        """
        self._lead_stop.set()
        self.leading.clear()
        for _ in range(max(1, self.settings.workers)):
            self.queue.q.put(None)
        for t in self._threads:
            if t.name.startswith("argosy-worker"):
                t.join(timeout=10)
        with self._lock:
            runners = list(self._runners.values())
        for t in runners:
            t.join(timeout=15)
        self._threads = []

    # ------------------------------------------------------------------ event sources

    def _key(self, wf: dict[str, Any]) -> tuple[str, str]:
        meta = wf.get("metadata") or {}
        return str(meta.get("namespace") or self.store.namespace), str(meta.get("name"))

    def _list_workflows(self) -> dict[str, Any]:
        s = self.settings
        return self.api.list_objects(resource_type("Workflow"), s.namespace, all_namespaces=s.namespace is None,
                                     label_selector=f"{LABEL_INSTANCE}={s.instance_id}" if s.instance_id else None)

    def _watch_workflows(self) -> None:
        def handle(wf: dict[str, Any]) -> None:
            key = self._key(wf)
            if self._is_running(*key) and not is_deleting(wf):
                return  # its own runner's status updates: nothing for the controller to do
            if needs_reconcile(wf) or not self._is_running(*key):
                self.queue.add(key)

        self._watch_loop(resource_type("Workflow"), f"{LABEL_INSTANCE}={self.settings.instance_id}" if self.settings.instance_id else None,
                         handle)

    def _watch_gc_pods(self) -> None:
        def handle(pod: dict[str, Any]) -> None:
            wf = ((pod.get("metadata") or {}).get("labels") or {}).get(LABEL_WORKFLOW)
            if wf:
                self.queue.add((str(pod["metadata"].get("namespace")), str(wf)))

        self._watch_loop(resource_type("Pod"), f"{LABEL_COMPONENT}=artifact-gc", handle)

    def _watch_loop(self, rt: Any, selector: str | None, handle: Callable[[dict[str, Any]], None]) -> None:
        s = self.settings
        rv: str | None = None
        delay = 0.2
        while not self._lead_stop.is_set():
            try:
                if rv is None:
                    listing = self.api.list_objects(rt, s.namespace, all_namespaces=s.namespace is None, label_selector=selector)
                    rv = (listing.get("metadata") or {}).get("resourceVersion")
                    for obj in listing.get("items") or []:
                        handle(obj)
                for etype, obj in self.api.watch(rt, s.namespace, all_namespaces=s.namespace is None, label_selector=selector,
                                                 resource_version=rv, timeout_seconds=min(s.watch_timeout, int(max(1, s.resync_seconds)))):
                    if self._lead_stop.is_set():
                        return
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if etype in ("ADDED", "MODIFIED", "DELETED"):
                        handle(obj)
                delay = 0.2
            except Gone:
                rv = None
            except ArgosyError as exc:
                log.warning("watch %s: %s", rt.plural, exc)
                rv = None
                self._lead_stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _resync_loop(self) -> None:
        while not self._lead_stop.is_set():
            try:
                for wf in self._list_workflows().get("items") or []:
                    if needs_reconcile(wf):
                        self.queue.add(self._key(wf))
            except ArgosyError as exc:
                log.warning("resync: %s", exc)
            self._lead_stop.wait(self.settings.resync_seconds)

    def _worker(self) -> None:
        while not self._lead_stop.is_set():
            key = self.queue.get(timeout=0.5)
            if key is None:
                continue
            try:
                self.reconcile(*key)
            except Exception as exc:  # one broken workflow must not stop the controller
                log.warning("reconcile %s/%s: %s", key[0], key[1], exc, exc_info=not isinstance(exc, ArgosyError))
                if self.on_error is not None:
                    self.on_error(key, exc)
            finally:
                self.queue.done(key)

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, namespace: str, name: str) -> None:
        """Bring one workflow forward: decide GC, run it, terminate it on deletion, collect after completion."""
        from argosy.gc import finalizers as fz
        from argosy.gc import lifecycle as lc

        store = self.store.for_namespace(namespace)
        try:
            wf = store.get_workflow(name, namespace)
        except WorkflowNotFound:
            return
        status = wf.get("status") or {}
        phase = status.get("phase")
        deleting = is_deleting(wf)
        if "artifactGCStatus" not in status and not fz.has_finalizer(wf) and not deleting:
            wf = store.modify_workflow(name, lambda r: lc.on_submit(r, store), namespace)
        if phase not in TERMINAL:
            if deleting and not (wf.get("spec") or {}).get("shutdown"):
                wf = store.modify_workflow(name, lambda r: r.setdefault("spec", {}).__setitem__("shutdown", "Terminate"), namespace)
            self._ensure_running(namespace, name)
            return
        if self._is_running(namespace, name):
            return  # the runner is writing its last status; the next event brings us back
        self._delete_task_results(wf)
        if fz.has_finalizer(wf):
            from argosy.pipeline.kube.gcpods import reconcile_gc

            docs = _Documents(store, namespace, self.settings.lease_namespace)
            reconcile_gc(self.store, self.api, name, namespace, self._pod_settings(), docs)
        if (wf.get("spec") or {}).get("podGC"):
            from argosy.pipeline.executors.kubernetes import collect_pods

            with contextlib.suppress(NotFound):
                collect_pods(self.api, store.get_workflow(name, namespace))
        now = datetime.now(UTC)
        if not deleting and ttl_due(wf, now):
            log.info("deleting %s/%s (ttlStrategy)", namespace, name)
            with contextlib.suppress(WorkflowNotFound):
                store.delete_workflow(name, namespace)
            return
        for due in (ttl_due_at(wf), pod_gc_due_at(wf)):  # come back when it is time, not at the next resync
            if due is not None and due > now:
                self._requeue_after((namespace, name), (due - now).total_seconds())

    def _delete_task_results(self, wf: dict[str, Any]) -> None:
        """Drop a completed workflow's WorkflowTaskResults (Argo's ``deleteTaskResults``): their outputs
        are in the status now, and a long-lived workflow must not leave one object per step behind."""
        meta = wf.get("metadata") or {}
        if meta.get("labels", {}).get("workflows.argoproj.io/completed") != "true":
            return
        uid = str(meta.get("uid") or "")
        with self._lock:
            if uid in self._results_deleted:
                return
        try:
            self.api.delete_collection(resource_type("WorkflowTaskResult"), meta.get("namespace"),
                                       label_selector=f"{LABEL_WORKFLOW}={meta.get('name')}")
        except KubeApiError as exc:
            log.warning("deleting the task results of %s/%s: %s", meta.get("namespace"), meta.get("name"), exc)
            return
        with self._lock:
            self._results_deleted.add(uid)

    def _requeue_after(self, key: tuple[str, str], seconds: float) -> None:
        """Reconcile ``key`` again in ``seconds`` (Argo's ``requeueAfter``); one timer per key, the earliest."""
        due = time.monotonic() + seconds
        with self._lock:
            current = self._timers.get(key)
            if current is not None and current[0] <= due + 0.05:
                return
            if current is not None:
                current[1].cancel()
            timer = threading.Timer(seconds + 0.05, self._fire, args=(key,))
            timer.daemon = True
            self._timers[key] = (due, timer)
        timer.start()

    def _fire(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._timers.pop(key, None)
        if not self._lead_stop.is_set():
            self.queue.add(key)

    def _pod_settings(self) -> PodSettings:
        return replace(self.settings.pods, instance_id=self.settings.instance_id)

    def _is_running(self, namespace: str, name: str) -> bool:
        with self._lock:
            t = self._runners.get((namespace, name))
            return t is not None and t.is_alive()

    def _ensure_running(self, namespace: str, name: str) -> None:
        with self._lock:
            t = self._runners.get((namespace, name))
            if t is not None and t.is_alive():
                return
            t = threading.Thread(target=self._run_one, args=(namespace, name), name=f"wf-{name}", daemon=True)
            self._runners[(namespace, name)] = t
            t.start()

    def _run_one(self, namespace: str, name: str) -> None:
        try:
            run_workflow(self.api, self.store, name, namespace, self._pod_settings(), stop=self._lead_stop,
                         controller_namespace=self.settings.lease_namespace, watch_timeout=self.settings.watch_timeout)
        except WorkflowNotFound:
            return
        except Exception as exc:
            log.warning("workflow %s/%s: %s", namespace, name, exc, exc_info=not isinstance(exc, ArgosyError))
            if self.on_error is not None:
                self.on_error((namespace, name), exc)
        finally:
            with self._lock:
                if self._runners.get((namespace, name)) is threading.current_thread():
                    del self._runners[(namespace, name)]
            if not self._lead_stop.is_set():
                self.queue.add((namespace, name))


def default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
