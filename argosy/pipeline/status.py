"""Workflow and node status in Argo's model (``status.nodes``), so ``-o json`` reads like Argo's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from argosy.pipeline.clock import format_time, now, parse_time
from argosy.pipeline.model import Inputs, Outputs

__all__ = [
    "COMPLETED",
    "FULFILLED",
    "MemoizationStatus",
    "NodeFlag",
    "NodeStatus",
    "format_time",
    "now",
    "parse_time",
]

# Node phases (workflow_types.go) and the sets the engine reasons with.
PENDING, RUNNING, SUCCEEDED, SKIPPED, FAILED, ERROR, OMITTED = (
    "Pending",
    "Running",
    "Succeeded",
    "Skipped",
    "Failed",
    "Error",
    "Omitted",
)
FULFILLED = frozenset({SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED})
COMPLETED = frozenset({SUCCEEDED, FAILED, ERROR})


class _Status(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class NodeFlag(_Status):
    hooked: bool | None = None
    retried: bool | None = None


class MemoizationStatus(_Status):
    hit: bool
    key: str
    cache_name: str


class NodeStatus(_Status):
    """One node of ``status.nodes``. Times are kept as datetimes and dumped as RFC 3339."""

    id: str
    name: str
    display_name: str
    type: str
    template_name: str | None = None
    template_ref: dict[str, Any] | None = None
    template_scope: str | None = None
    phase: str = PENDING
    boundary_id: str | None = Field(default=None, alias="boundaryID")
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    progress: str | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    children: list[str] | None = None
    outbound_nodes: list[str] | None = None
    host_node_name: str | None = None
    pod_ip: str | None = Field(default=None, alias="podIP")
    daemoned: bool | None = None
    node_flag: NodeFlag | None = None
    memoization_status: MemoizationStatus | None = None
    estimated_duration: int | None = None
    resources_duration: dict[str, int] | None = None

    @property
    def fulfilled(self) -> bool:
        return self.phase in FULFILLED

    @property
    def completed(self) -> bool:
        return self.phase in COMPLETED

    @property
    def failed_or_error(self) -> bool:
        return self.phase in (FAILED, ERROR)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        for key in ("inputs", "outputs"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value.to_dict()
        return data
