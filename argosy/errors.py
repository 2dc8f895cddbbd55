"""Argosy's exception hierarchy.

Every error a user can cause is an :class:`ArgosyError`, so the CLI can print one clear
message instead of a traceback::

    ArgosyError
    ├── SpecError                 malformed YAML/JSON, unknown fields, bad documents
    │   └── LintError             a document Argo's validator would reject
    │       └── WiringError       (Python API) a step's arguments do not fit the template it calls
    ├── TemplateError             an unresolvable {{...}} tag
    ├── ExpressionError           a bad expr / govaluate expression
    ├── StorageError              anything about artifact bytes
    │   ├── ArtifactNotFound      (also a FileNotFoundError) the object/path is not there
    │   ├── RepositoryError       unreachable endpoint, bad credentials, missing bucket
    │   └── ArchiveError          corrupt archive, path traversal, unsupported format
    ├── ExecutorError             a step could not be started (sandbox, image index)
    ├── StateError                the local state database
    │   └── WorkflowNotFound      no such workflow / template / document
    ├── GCError                   artifact garbage collection
    ├── WorkflowFailed            (Python API) a workflow ended Failed/Error
    └── ServerError               the Argo-shaped HTTP server refused a request
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ArgosyError",
    "ArtifactNotFound",
    "ExecutorError",
    "ExpressionError",
    "GCError",
    "LintError",
    "RepositoryError",
    "ServerError",
    "SpecError",
    "StateError",
    "StorageError",
    "TemplateError",
    "WiringError",
    "WorkflowFailed",
    "WorkflowNotFound",
]


class ArgosyError(Exception):
    """Root of every error Argosy raises on purpose; its message is meant for users."""


class SpecError(ArgosyError):
    """A document could not be read as a workflow spec (file, line and field path in the message)."""


class LintError(SpecError):
    """A document is well-formed but invalid; ``errors`` holds every message found."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class TemplateError(ArgosyError):
    """A ``{{...}}`` tag could not be resolved."""


class ExpressionError(ArgosyError):
    """An expression (``{{= ...}}``, ``when``, ``depends``, retry expression) is invalid."""


class StorageError(ArgosyError):
    """Reading, writing, packing or unpacking artifact bytes failed."""


class ArtifactNotFound(StorageError, FileNotFoundError):
    """The artifact (object, key, URL or path) does not exist."""


class RepositoryError(StorageError):
    """The artifact repository cannot be used: unreachable, denied, misconfigured."""


class ArchiveError(StorageError):
    """An archive is corrupt, of an unknown format, or tries to escape its destination."""


class ExecutorError(ArgosyError):
    """A step could not be started or supervised."""


class StateError(ArgosyError):
    """The local state database failed or holds something unexpected."""


class WorkflowNotFound(StateError, KeyError):
    """No workflow (or stored document) by that name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"


class GCError(ArgosyError):
    """Artifact garbage collection failed."""


class WiringError(LintError):
    """Raised while building, before anything is submitted: an argument names no input of the
    called template, a task asks for an output its template does not declare, or an artifact of
    one declared type/format is wired into an input expecting another (lint's words)."""


class WorkflowFailed(ArgosyError):
    """A workflow finished without succeeding; ``run`` holds the finished run."""

    def __init__(self, message: str, run: object = None) -> None:
        super().__init__(message)
        self.run = run


class ServerError(ArgosyError):
    """The server answered an error status; ``status`` is the HTTP code (0: unreachable)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
