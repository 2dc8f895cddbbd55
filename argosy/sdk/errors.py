"""Errors of the Python API; they live in :mod:`argosy.errors` with the rest of the hierarchy."""

from __future__ import annotations

from argosy.errors import ServerError, WiringError, WorkflowFailed

__all__ = ["ServerError", "WiringError", "WorkflowFailed"]
