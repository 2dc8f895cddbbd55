"""Argosy: artifact-centric data pipelines that run Argo Workflows YAML locally or on Kubernetes."""

from __future__ import annotations

from argosy.errors import (
    ArchiveError,
    ArgosyError,
    ArtifactNotFound,
    ExecutorError,
    ExpressionError,
    GCError,
    LintError,
    RepositoryError,
    SpecError,
    StateError,
    StorageError,
    TemplateError,
    WorkflowNotFound,
)

__version__ = "0.1.0"

__all__ = [
    "ArchiveError",
    "ArgosyError",
    "ArtifactNotFound",
    "ExecutorError",
    "ExpressionError",
    "GCError",
    "LintError",
    "RepositoryError",
    "SpecError",
    "StateError",
    "StorageError",
    "TemplateError",
    "WorkflowNotFound",
    "__version__",
]
