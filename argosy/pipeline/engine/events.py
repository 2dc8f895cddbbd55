"""Argo's workflow events, decided from two successive statuses (a pure function; the runner records them).

Argo emits ``WorkflowRunning`` / ``WorkflowSucceeded`` / ``WorkflowFailed`` / ``WorkflowTimedOut`` on the
workflow's phase changes and node events on node phase changes. Argosy emits the workflow events and
the node events that need attention (``WorkflowNodeFailed`` / ``WorkflowNodeError``): a 10,000-step
workflow then does not write 20,000 events, and `argosy events` / `kubectl get events` still say
what went wrong where.
"""

from __future__ import annotations

from typing import Any

__all__ = ["phase_events"]

Event = tuple[str, str, str]  # (type, reason, message)

_NODE_REASONS = {"Failed": "WorkflowNodeFailed", "Error": "WorkflowNodeError"}


def phase_events(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Event]:
    """Events for the changes from status ``before`` to status ``after``, in Argo's words."""
    before = before or {}
    out: list[Event] = []
    old_nodes = before.get("nodes") or {}
    for nid, node in (after.get("nodes") or {}).items():
        phase = node.get("phase")
        if phase in _NODE_REASONS and (old_nodes.get(nid) or {}).get("phase") != phase:
            text = f"{phase} node {node.get('name')}"
            if node.get("message"):
                text += f": {node['message']}"
            out.append(("Warning", _NODE_REASONS[phase], text))
    old, new = before.get("phase"), after.get("phase")
    if new != old:
        message = str(after.get("message") or "")
        if new == "Running":
            out.insert(0, ("Normal", "WorkflowRunning", "Workflow Running"))
        elif new == "Succeeded":
            out.append(("Normal", "WorkflowSucceeded", "Workflow completed"))
        elif new in ("Failed", "Error"):
            timed_out = "deadline" in message.lower() or "max duration" in message.lower()
            out.append(("Warning", "WorkflowTimedOut" if timed_out else "WorkflowFailed", message or f"Workflow {new.lower()}"))
    return out
