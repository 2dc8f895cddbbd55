"""Click commands for the cluster backend: ``argosy controller``, ``argosy exec init|wait|resource|gc``,
and the switch that makes the other CLI verbs talk to a cluster (``--kubernetes``).

The switch is environment-based so every command's ``_store()`` sees it without plumbing:
:func:`cluster_options` adds ``--kubernetes/--local``, ``--kubeconfig`` and ``--context`` to the
root group and exports them as ``ARGOSY_BACKEND=kubernetes``, ``ARGOSY_KUBECONFIG`` and
``ARGOSY_KUBE_CONTEXT`` (which users may also set directly); :func:`cluster_store_from_env`
then returns a :class:`KubeStore` (or None for the local backend).

This module also runs on its own (``python -m argosy.pipeline.kube.cli exec wait``), which is
what executor images without the full CLI entry point need.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from argosy.pipeline.kube import is_cluster

__all__ = [
    "cluster_delete",
    "cluster_options",
    "cluster_store_from_env",
    "controller",
    "exec_group",
    "is_cluster",
    "run_in_cluster",
]

BACKEND_ENV = "ARGOSY_BACKEND"


def cluster_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate the root click group: ``--kubernetes/--local``, ``--kubeconfig``, ``--context``."""

    @click.option("--kubernetes/--local", "kubernetes", default=None,
                  help="Use the cluster of the current kubeconfig context (or $ARGOSY_BACKEND=kubernetes) instead of the local state.")
    @click.option("--kubeconfig", default=None, help="Kubeconfig file (implies --kubernetes).")
    @click.option("--context", "kube_context", default=None, help="Kubeconfig context (implies --kubernetes).")
    @functools.wraps(fn)
    def wrapper(*args: Any, kubernetes: bool | None, kubeconfig: str | None, kube_context: str | None, **kwargs: Any) -> Any:
        configure_backend(kubernetes, kubeconfig, kube_context)
        return fn(*args, **kwargs)

    return wrapper


def configure_backend(kubernetes: bool | None, kubeconfig: str | None = None, context: str | None = None) -> None:
    """Record the backend choice for this process (and the children it starts)."""
    if kubeconfig:
        os.environ["ARGOSY_KUBECONFIG"] = kubeconfig
    if context:
        os.environ["ARGOSY_KUBE_CONTEXT"] = context
    if kubernetes is None and (kubeconfig or context):
        kubernetes = True
    if kubernetes is not None:
        os.environ[BACKEND_ENV] = "kubernetes" if kubernetes else "local"


def cluster_store_from_env(namespace: str | None = None) -> Any:
    """A KubeStore when the cluster backend is selected, else None."""
    if os.environ.get(BACKEND_ENV, "").lower() not in ("kubernetes", "k8s", "kube"):
        return None
    from argosy.pipeline.kube.client import KubeClient
    from argosy.pipeline.kube.store import KubeStore

    api = KubeClient.connect(os.environ.get("ARGOSY_KUBECONFIG") or None, os.environ.get("ARGOSY_KUBE_CONTEXT") or None, namespace)
    return KubeStore(api, instance_id=os.environ.get("ARGOSY_INSTANCE_ID", "argosy"),
                     lease_namespace=os.environ.get("ARGOSY_CONTROLLER_NAMESPACE") or None)


def cluster_delete(store: Any, name: str, namespace: str | None = None, *, force: bool = False) -> str:
    """``argosy delete`` on a cluster: the API delete (the controller collects artifacts and lifts the
    finalizer); ``force`` drops finalizers first, as ``argo delete --force``."""
    from argosy.errors import WorkflowNotFound
    from argosy.pipeline.kube.client import NotFound

    if force:
        try:
            store.api.patch(store.workflows, name, {"metadata": {"finalizers": None}}, namespace or store.namespace)
        except NotFound:
            return "not found"
    try:
        store.delete_workflow(name, namespace)
    except WorkflowNotFound:
        if force:  # it was already deleting: dropping the finalizers finished it
            return "deleted"
        raise
    try:
        wf = store.get_workflow(name, namespace)
    except Exception:
        return "deleted"
    if wf["metadata"].get("finalizers"):
        return "deletion pending: the controller deletes it once its artifacts are collected"
    return "deleted"


def run_in_cluster(store: Any, name: str, namespace: str | None = None) -> dict[str, Any] | None:
    """``argosy submit --foreground`` on a cluster: run the engine here (pods on the cluster), no controller."""
    from argosy.pipeline.kube.controller import run_workflow
    from argosy.pipeline.kube.objects import PodSettings

    ns = namespace or store.namespace
    pods = PodSettings(image=os.environ.get("ARGOSY_EXECUTOR_IMAGE") or PodSettings().image)
    return run_workflow(store.api, store, name, ns, pods, controller_namespace=store.lease_namespace)


# ------------------------------------------------------------------------------------ argosy controller


@click.command("controller")
@click.option("--kubeconfig", default=None, envvar="KUBECONFIG", help="Kubeconfig (default: in-cluster, else ~/.kube/config).")
@click.option("--context", "kube_context", default=None, help="Kubeconfig context.")
@click.option("--namespaced", is_flag=True, help="Watch only --namespace (Argo's --namespaced install).")
@click.option("-n", "--namespace", default=None, help="The namespace to watch with --namespaced; default: the context's.")
@click.option("--instance-id", default="argosy", show_default=True, help="Handle workflows labelled workflows.argoproj.io/controller-instanceid=ID.")
@click.option("--executor-image", envvar="ARGOSY_EXECUTOR_IMAGE", default=None, help="Image of the init/wait/GC containers.")
@click.option("--image-pull-policy", default=None, type=click.Choice(["Always", "IfNotPresent", "Never"]))
@click.option("--lease-name", default="argosy-controller", show_default=True)
@click.option("--lease-namespace", envvar="POD_NAMESPACE", default=None, help="Where the leader Lease lives (default: the context's namespace).")
@click.option("--resync", default=30.0, show_default=True, type=float, help="Seconds between full resyncs.")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--no-shim", is_flag=True, help="Never wrap main's command (images without /bin/sh).")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
def controller(kubeconfig: str | None, kube_context: str | None, namespaced: bool, namespace: str | None, instance_id: str,
               executor_image: str | None, image_pull_policy: str | None, lease_name: str, lease_namespace: str | None,
               resync: float, workers: int, no_shim: bool, log_level: str) -> None:
    """Run the workflow controller: reconcile Workflow objects on the cluster until stopped (SIGTERM)."""
    from argosy.pipeline.kube.client import KubeClient
    from argosy.pipeline.kube.controller import Controller, ControllerSettings, default_identity
    from argosy.pipeline.kube.objects import PodSettings

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api = KubeClient.connect(kubeconfig, kube_context, namespace)
    info = api.version()
    click.echo(f"argosy controller: Kubernetes {info.get('gitVersion')} at {api.host}", err=True)
    pods = PodSettings(image=executor_image or PodSettings().image, image_pull_policy=image_pull_policy,
                       instance_id=instance_id, shim=not no_shim)
    settings = ControllerSettings(
        namespace=(namespace or api.namespace) if namespaced else None, instance_id=instance_id, lease_name=lease_name,
        lease_namespace=lease_namespace or api.namespace, resync_seconds=resync, workers=workers,
        identity=default_identity(), pods=pods,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        click.echo(f"argosy controller: signal {signum}, stopping (running workflows continue under the next leader)", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    Controller(api, settings).run(stop)


# ------------------------------------------------------------------------------------ argosy exec


@click.group("exec")
def exec_group() -> None:
    """Executor commands that run inside workflow pods (Argo's argoexec)."""


def _exec(command: str) -> None:
    from argosy.pipeline.executors.podexec import main as podexec_main

    sys.exit(podexec_main(command))


@exec_group.command("init")
def exec_init() -> None:
    """Init container: write the shim, the script, download input artifacts."""
    _exec("init")


@exec_group.command("wait")
def exec_wait() -> None:
    """Wait container: collect main's outputs, upload artifacts, report to the controller."""
    _exec("wait")


@exec_group.command("resource")
def exec_resource() -> None:
    """Resource template: run the action on the manifest, wait for its conditions."""
    _exec("resource")


@exec_group.command("gc")
def exec_gc() -> None:
    """Artifact GC pod: delete the artifacts of this pod's WorkflowArtifactGCTasks."""
    _exec("gc")


@click.group()
def main_group() -> None:
    """argosy's cluster commands (standalone entry point for executor images)."""


main_group.add_command(controller)
main_group.add_command(exec_group)


if __name__ == "__main__":
    main_group()
