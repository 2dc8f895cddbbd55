"""Argo's naming rules for nodes and pods (ids must match Argo's so tools reading our JSON agree)."""

from __future__ import annotations

import re

__all__ = ["display_name", "fnv32a", "node_id", "pod_name"]

_MAX_POD_PREFIX = 253 - 10 - 1  # k8s name limit minus hash length and dash (Argo's pod_name.go)


def fnv32a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (Go's hash/fnv New32a)."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def node_id(workflow_name: str, node_name: str) -> str:
    """``Workflow.NodeID``: the root node's id is the workflow name, others ``WF-<fnv32a(name)>``."""
    if node_name == workflow_name:
        return workflow_name
    return f"{workflow_name}-{fnv32a(node_name)}"


def pod_name(workflow_name: str, node_name: str, template_name: str) -> str:
    """Argo's v2 pod name: ``WF`` for the root pod, else ``WF-<template>-<fnv32a(node name)>``."""
    if workflow_name == node_name:
        return workflow_name
    prefix = f"{workflow_name}-{template_name}" if template_name else workflow_name
    if len(prefix) > _MAX_POD_PREFIX:
        prefix = prefix[:_MAX_POD_PREFIX]
    return f"{prefix}-{fnv32a(node_name)}"


_BOUNDARY_PREFIX = re.compile(r"^(\[\d+\])?\.")


def display_name(node_name: str, boundary_name: str | None) -> str:
    """Name relative to the boundary node (``hello1``, ``[0]``, ``A.onExit``), as Argo shows it."""
    if not boundary_name or not node_name.startswith(boundary_name) or node_name == boundary_name:
        return node_name
    rest = node_name[len(boundary_name):]
    return _BOUNDARY_PREFIX.sub("", rest, count=1)
