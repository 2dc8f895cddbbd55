"""Inputs and outputs of templates: :class:`Parameter`, :class:`Artifact`, where an artifact lives
(``S3Location`` ...) and how it is packed (``TarArchive`` ...).

These are small builders for the wire objects of ``argosy.pipeline.model``: positional names,
Python values instead of strings (``Parameter("n", default=3)``), typed-artifact classes
instead of type names (``Artifact("data", type=Dataset, format="csv")``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from argosy.pipeline import model
from argosy.sdk._runtime import TypedArtifact

__all__ = [
    "Artifact",
    "ArtifactRef",
    "GitLocation",
    "HTTPLocation",
    "LocalLocation",
    "NoArchive",
    "Parameter",
    "RawLocation",
    "S3Location",
    "TarArchive",
    "ValueFrom",
    "ZipArchive",
    "ZstdArchive",
    "param_text",
    "wire",
]


def param_text(value: Any) -> str:
    """A Python value as Argo parameter text: str as is, bool as ``true``/``false``, list/dict as
    JSON, numbers as written."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, ArtifactRef):
        return value.expression
    return json.dumps(value, sort_keys=True)


def wire(value: Any) -> Any:
    """The wire form (camelCase dicts, lists, scalars) of a model, builder, or nesting of them."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_unset=True, mode="json")
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        return to_wire()
    if isinstance(value, Mapping):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    return value


def _set(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = wire(value)


# ------------------------------------------------------------------------------------- parameters


class ValueFrom(model.ValueFrom):
    """Where a parameter's value comes from: a file ``path`` the step wrote, a ``json_path``
    or ``jq_filter`` of a resource, an ``expression``, a ``default`` ..."""


@dataclass
class Parameter:
    """An input/output/argument parameter. ``value``/``default`` may be any JSON-able value;
    ``value_from`` is a :class:`argosy.pipeline.model.ValueFrom` or its dict
    (``{"path": "/tmp/out"}``)."""

    name: str
    value: Any = None
    default: Any = None
    enum: list[Any] | None = None
    description: str | None = None
    global_name: str | None = None
    value_from: model.ValueFrom | Mapping[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.value is not None:
            out["value"] = param_text(self.value)
        if self.default is not None:
            out["default"] = param_text(self.default)
        if self.enum is not None:
            out["enum"] = [param_text(v) for v in self.enum]
        _set(out, "description", self.description)
        _set(out, "globalName", self.global_name)
        _set(out, "valueFrom", self.value_from)
        return out


# ------------------------------------------------------------------------------------- locations


class S3Location(model.S3Artifact):
    """An S3/MinIO object (``key`` alone: in the configured repository's bucket)."""


class GitLocation(model.GitArtifact):
    """A git checkout (``repo`` and ``revision``)."""


class HTTPLocation(model.HTTPArtifact):
    """A file downloaded from ``url``."""


class RawLocation(model.RawArtifact):
    """Inline content (``data``), written to the artifact's path."""


class LocalLocation(model.LocalArtifact):
    """Argosy only: a key in the local/fsspec repository (``argosy export --argo`` rewrites it)."""


_LOCATIONS: tuple[tuple[type[BaseModel], str], ...] = (
    (model.S3Artifact, "s3"),
    (model.GitArtifact, "git"),
    (model.HTTPArtifact, "http"),
    (model.RawArtifact, "raw"),
    (model.LocalArtifact, "local"),
)


def location_wire(location: Any) -> dict[str, Any]:
    """``{"s3": {...}}`` for a location model, or a ``{kind: {...}}`` dict given as is."""
    for cls, key in _LOCATIONS:
        if isinstance(location, cls):
            return {key: wire(location)}
    if isinstance(location, Mapping) and len(location) == 1:
        return wire(location)  # type: ignore[no-any-return]
    raise TypeError(f"not an artifact location: {location!r} (use S3Location, GitLocation, HTTPLocation, RawLocation, LocalLocation)")


# ------------------------------------------------------------------------------------- archives


@dataclass
class TarArchive:
    """tar + gzip, Argo's default; ``compression_level`` 0 (none) to 9."""

    compression_level: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"tar": {} if self.compression_level is None else {"compressionLevel": self.compression_level}}


@dataclass
class NoArchive:
    """Store the file or directory as is (previewable, no unpacking)."""

    def to_wire(self) -> dict[str, Any]:
        return {"none": {}}


@dataclass
class ZipArchive:
    """A zip file."""

    def to_wire(self) -> dict[str, Any]:
        return {"zip": {}}


@dataclass
class ZstdArchive:
    """Argosy only: tar + zstd, ``level`` 1-22 (``argosy export --argo`` turns it into tar)."""

    level: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"zstd": {} if self.level is None else {"level": self.level}}


# ------------------------------------------------------------------------------------- artifacts


def type_name(kind: str | type[TypedArtifact] | None) -> str | None:
    """``Dataset`` -> ``"Dataset"``; strings pass through."""
    if kind is None or isinstance(kind, str):
        return kind
    if isinstance(kind, type) and issubclass(kind, TypedArtifact):
        return kind.type_name or kind.__name__
    raise TypeError(f"artifact type must be a TypedArtifact subclass or a name, not {kind!r}")


@dataclass
class Artifact:
    """An input/output/argument artifact. ``type``/``format`` declare what it carries, so wiring
    an output into an input of another type fails before submission; ``location`` says where it
    is (S3Location ...), ``archive`` how it is packed (TarArchive, NoArchive ...)."""

    name: str
    path: str | None = None
    type: str | type[TypedArtifact] | None = None
    format: str | None = None
    location: Any = None
    archive: Any = None
    from_: str | ArtifactRef | None = None
    from_expression: str | None = None
    optional: bool | None = None
    mode: int | None = None
    sub_path: str | None = None
    global_name: str | None = None
    recurse_mode: bool | None = None
    archive_logs: bool | None = None
    artifact_gc: model.ArtifactGC | Mapping[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        _set(out, "path", self.path)
        _set(out, "mode", self.mode)
        if self.from_ is not None:
            out["from"] = self.from_.expression if isinstance(self.from_, ArtifactRef) else self.from_
        _set(out, "fromExpression", self.from_expression)
        _set(out, "archiveLogs", self.archive_logs)
        _set(out, "archive", self.archive)
        _set(out, "optional", self.optional)
        _set(out, "subPath", self.sub_path)
        _set(out, "globalName", self.global_name)
        _set(out, "recurseMode", self.recurse_mode)
        _set(out, "artifactGC", self.artifact_gc)
        if self.location is not None:
            out.update(location_wire(self.location))
        _set(out, "type", type_name(self.type))
        _set(out, "format", self.format)
        return out


@dataclass(frozen=True)
class ArtifactRef:
    """An output artifact of a task/step, to pass as an argument (``from``). ``declared`` is the
    producer's declaration (with its ``type``/``format``) when the builder can see it."""

    expression: str
    reference: str
    declared: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        return self.expression
