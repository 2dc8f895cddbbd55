"""Artifact bytes: archive formats, repository drivers, and artifact-level save/load.

* :mod:`.archives` — :class:`ArchiveFormat`, streaming :func:`pack`/:func:`unpack` (Argo layout and
  input semantics, path-safe).
* :mod:`.drivers` — one :class:`ArtifactDriver` contract; :class:`LocalDriver` (embedded default),
  :class:`FsspecDriver`, :class:`S3Driver` (the latter two load lazily: boto3 is slow to import).
* :mod:`.transfer` — :func:`save_artifact`/:func:`load_artifact` used by the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .archives import (
    ArchiveFormat,
    ArchiveKind,
    archive_format_from_spec,
    object_name,
    pack,
    safe_relpath,
    unpack,
)
from .drivers import ArtifactDriver, LocalDriver, ObjectInfo, driver_for_url
from .transfer import SavedArtifact, copy_artifact, delete_artifact, load_artifact, read_bytes, save_artifact

if TYPE_CHECKING:
    from .drivers.fsspec import FsspecDriver
    from .drivers.s3 import S3Config, S3Driver

__all__ = [
    "ArchiveFormat",
    "ArchiveKind",
    "ArtifactDriver",
    "FsspecDriver",
    "LocalDriver",
    "ObjectInfo",
    "S3Config",
    "S3Driver",
    "SavedArtifact",
    "archive_format_from_spec",
    "copy_artifact",
    "delete_artifact",
    "driver_for_url",
    "load_artifact",
    "object_name",
    "pack",
    "read_bytes",
    "safe_relpath",
    "save_artifact",
    "unpack",
]


def __getattr__(name: str) -> Any:
    if name in ("FsspecDriver", "S3Config", "S3Driver"):
        from . import drivers

        return getattr(drivers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
