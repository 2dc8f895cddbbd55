"""Argosy: artifact-centric data pipelines that run Argo Workflows YAML locally or on Kubernetes.

The public surface lives here: the Python API (``Workflow``, ``DAG``, ``Task``, ``script``,
``Client`` ...) and the error hierarchy rooted in :class:`ArgosyError`. The Python API is loaded
on first use, so ``import argosy`` (and the CLI) stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from argosy.errors import (
    ArchiveError,
    ArgosyError,
    ArtifactNotFound,
    ExecutorError,
    ExpressionError,
    GCError,
    LintError,
    RepositoryError,
    ServerError,
    SpecError,
    StateError,
    StorageError,
    TemplateError,
    WiringError,
    WorkflowFailed,
    WorkflowNotFound,
)

__version__ = "0.1.0"

_SDK = frozenset(
    {
        "Artifact",
        "ArtifactHandle",
        "ArtifactRef",
        "Client",
        "Container",
        "DAG",
        "Dataset",
        "Directory",
        "File",
        "Format",
        "FunctionScript",
        "GitLocation",
        "HTTPLocation",
        "Input",
        "LocalLocation",
        "LogLine",
        "Metrics",
        "Model",
        "NoArchive",
        "Output",
        "Parameter",
        "RawLocation",
        "Resource",
        "S3Location",
        "Script",
        "Step",
        "Steps",
        "Suspend",
        "TarArchive",
        "Task",
        "Template",
        "TypedArtifact",
        "ValueFrom",
        "Workflow",
        "WorkflowHandle",
        "WorkflowRun",
        "WorkflowTemplate",
        "ZipArchive",
        "ZstdArchive",
        "export_argo",
        "register_format",
        "script",
        "to_argo",
    }
)

if TYPE_CHECKING:
    from argosy.sdk import (  # type: ignore[no-redef]
        DAG,
        Artifact,
        ArtifactHandle,
        ArtifactRef,
        Client,
        Container,
        Dataset,
        Directory,
        File,
        Format,
        FunctionScript,
        GitLocation,
        HTTPLocation,
        Input,
        LocalLocation,
        LogLine,
        Metrics,
        Model,
        NoArchive,
        Output,
        Parameter,
        RawLocation,
        Resource,
        S3Location,
        Script,
        Step,
        Steps,
        Suspend,
        TarArchive,
        Task,
        Template,
        TypedArtifact,
        ValueFrom,
        Workflow,
        WorkflowHandle,
        WorkflowRun,
        WorkflowTemplate,
        ZipArchive,
        ZstdArchive,
        export_argo,
        register_format,
        script,
        to_argo,
    )

__all__ = [
    "ArchiveError",
    "ArgosyError",
    "Artifact",
    "ArtifactHandle",
    "ArtifactNotFound",
    "ArtifactRef",
    "Client",
    "Container",
    "DAG",
    "Dataset",
    "Directory",
    "ExecutorError",
    "ExpressionError",
    "File",
    "Format",
    "FunctionScript",
    "GCError",
    "GitLocation",
    "HTTPLocation",
    "Input",
    "LintError",
    "LocalLocation",
    "LogLine",
    "Metrics",
    "Model",
    "NoArchive",
    "Output",
    "Parameter",
    "RawLocation",
    "RepositoryError",
    "Resource",
    "S3Location",
    "Script",
    "ServerError",
    "SpecError",
    "StateError",
    "Step",
    "Steps",
    "StorageError",
    "Suspend",
    "TarArchive",
    "Task",
    "Template",
    "TemplateError",
    "TypedArtifact",
    "ValueFrom",
    "WiringError",
    "Workflow",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowNotFound",
    "WorkflowRun",
    "WorkflowTemplate",
    "ZipArchive",
    "ZstdArchive",
    "export_argo",
    "register_format",
    "script",
    "to_argo",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _SDK:
        import argosy.sdk

        value = getattr(argosy.sdk, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'argosy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
