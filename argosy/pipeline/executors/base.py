"""The seam between the engine and whatever runs pods (local sandboxed processes, Kubernetes).

The engine decides what runs; an :class:`Executor` runs one pod per container/script node and
reports back a :class:`PodResult`. Nothing here knows about steps, DAGs or retries.
"""

from __future__ import annotations

import abc
import queue
from dataclasses import dataclass, field
from typing import Any

from argosy.pipeline.model import Artifact, Outputs, Template

__all__ = ["Executor", "PodRequest", "PodResult", "drain"]


@dataclass
class PodRequest:
    """Everything needed to run one node's pod, already resolved by the engine."""

    workflow_name: str
    workflow_uid: str
    namespace: str
    node_id: str
    node_name: str
    pod_name: str
    template: Template
    #: resolved input artifacts (with concrete locations) to place at their paths
    input_artifacts: list[Artifact] = field(default_factory=list)
    #: key prefix for output artifacts without a key of their own (``{{workflow.name}}/{{pod.name}}``)
    output_key_prefix: str = ""
    #: whether stdout must be captured as ``outputs.result``
    include_result: bool = True
    #: seconds after start at which the pod is killed (template activeDeadlineSeconds/timeout)
    deadline_seconds: float | None = None
    archive_logs: bool = False
    service_account: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PodResult:
    """What a finished pod tells the engine."""

    pod_name: str
    node_id: str
    phase: str  # Succeeded | Failed | Error
    message: str | None = None
    outputs: Outputs | None = None
    started_at: str | None = None
    finished_at: str | None = None
    #: containerSet only: per-container {phase, message, startedAt, finishedAt, exitCode}
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)


class Executor(abc.ABC):
    """Runs pods asynchronously; the engine polls :meth:`wait` for results."""

    @abc.abstractmethod
    def launch(self, request: PodRequest) -> None:
        """Start the pod; must not block on the step itself."""

    @abc.abstractmethod
    def wait(self, timeout: float | None) -> list[PodResult]:
        """Results of pods that finished since the last call; waits up to ``timeout`` for one."""

    @abc.abstractmethod
    def kill(self, pod_name: str, message: str) -> None:
        """Stop a running pod; its result reports ``message``."""

    @abc.abstractmethod
    def active(self) -> set[str]:
        """Names of pods launched and not yet reported."""

    def close(self) -> None:  # noqa: B027 - optional hook, most executors need nothing
        """Release resources; running pods are killed."""


def drain(results: queue.Queue[PodResult], timeout: float | None) -> list[PodResult]:
    """:meth:`Executor.wait` over a results queue: wait up to ``timeout`` (None: forever, 0: not at
    all) for the first result, then take every other one already there."""
    out: list[PodResult] = []
    try:
        out.append(results.get(timeout=timeout) if timeout is None or timeout > 0 else results.get_nowait())
    except queue.Empty:
        return out
    while True:
        try:
            out.append(results.get_nowait())
        except queue.Empty:
            return out
