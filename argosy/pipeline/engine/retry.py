"""``argosy retry``: forget failed nodes so the next run redoes only what failed (as ``argo retry``)."""

from __future__ import annotations

from typing import Any

__all__ = ["reset_failed"]

_FAILED = ("Failed", "Error")
_CONTAINERS = ("Steps", "StepGroup", "DAG", "TaskGroup", "Retry")


def reset_failed(record: dict[str, Any]) -> None:
    """Drop failed leaf nodes (and what was created after them); reopen their ancestors."""
    status = record.setdefault("status", {})
    nodes: dict[str, dict[str, Any]] = status.get("nodes") or {}
    drop = {nid for nid, n in nodes.items() if n.get("phase") in _FAILED and n.get("type") not in _CONTAINERS}
    drop |= {nid for nid, n in nodes.items() if n.get("type") == "Skipped" and n.get("phase") in _FAILED}
    drop |= {nid for nid, n in nodes.items() if n.get("phase") == "Omitted" or n.get("name", "").endswith(".onExit")}
    for nid in list(drop):
        nodes.pop(nid, None)
    for n in nodes.values():
        if n.get("children"):
            n["children"] = [c for c in n["children"] if c in nodes]
        if n.get("type") in _CONTAINERS and n.get("phase") in _FAILED:
            n["phase"] = "Running"
            n.pop("finishedAt", None)
            n.pop("message", None)
            n.pop("outboundNodes", None)
    status["nodes"] = nodes
    status["phase"] = "Running"
    status.pop("finishedAt", None)
    status.pop("message", None)
    record.setdefault("spec", {}).pop("shutdown", None)
    labels = record.setdefault("metadata", {}).setdefault("labels", {})
    labels.pop("workflows.argoproj.io/completed", None)
    labels["workflows.argoproj.io/phase"] = "Running"
