"""Argosy on Kubernetes: pods for steps, Workflows as cluster objects, resource templates, artifact GC pods.

Modules (lowest first): ``client`` (the only HTTP), ``objects`` (pure functions over dicts),
``resource`` (resource template actions and conditions), ``store`` (the cluster-backed store),
``gcpods`` (artifact GC as pods), ``controller`` (``argosy controller``), ``cli`` (click commands).
The executor is :mod:`argosy.pipeline.executors.kubernetes`; what runs inside pods is
:mod:`argosy.pipeline.executors.podexec`. See ``docs/kubernetes.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from argosy.pipeline.kube.client import (
        Conflict,
        Forbidden,
        Gone,
        Invalid,
        KubeApiError,
        KubeClient,
        KubeError,
        NotFound,
        ResourceType,
    )

__all__ = [
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "KubeApiError",
    "KubeClient",
    "KubeError",
    "NotFound",
    "ResourceType",
    "is_cluster",
]


def is_cluster(store: Any) -> bool:
    """Whether ``store`` is a cluster's (:class:`~argosy.pipeline.kube.store.KubeStore`: Workflow objects run by
    the controller) rather than the local SQLite store; the one test every layer uses."""
    return bool(getattr(store, "is_cluster", False))


def __getattr__(name: str) -> Any:
    """The client's names, imported on first use (the CLI imports ``kube.cli`` on every start)."""
    if name in __all__ and name != "is_cluster":
        from argosy.pipeline.kube import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
