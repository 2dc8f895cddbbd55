"""The controller configuration (Argo's ``workflow-controller-configmap``), read from the store.

Users ``argosy apply -f`` the same ConfigMap they give Argo; its ``data.config`` is YAML with
``images`` (the entrypoint index used when a container has no ``command``) and
``artifactRepository``, plus Argosy's own keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from argosy.errors import SpecError

__all__ = ["CONFIG_MAP_NAME", "ControllerConfig", "DocumentSource", "load_config"]

CONFIG_MAP_NAME = "workflow-controller-configmap"


class DocumentSource(Protocol):
    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None: ...


@dataclass
class ControllerConfig:
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_repository: dict[str, Any] | None = None
    parallelism: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def image_entry(self, image: str | None) -> dict[str, Any] | None:
        """The index entry for ``image``; ``name:latest`` and ``name`` are the same image."""
        if not image:
            return None
        for candidate in (image, image.removesuffix(":latest"), f"{image}:latest"):
            if candidate in self.images:
                return self.images[candidate]
        return None


def load_config(store: DocumentSource, namespace: str | None = None) -> ControllerConfig:
    doc = store.get_document("ConfigMap", CONFIG_MAP_NAME, namespace)
    if doc is None and namespace is not None:
        doc = store.get_document("ConfigMap", CONFIG_MAP_NAME, None)
    if doc is None:
        return ControllerConfig()
    text = (doc.get("data") or {}).get("config") or ""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SpecError(f"ConfigMap {CONFIG_MAP_NAME}: data.config is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"ConfigMap {CONFIG_MAP_NAME}: data.config must be a mapping")
    images: dict[str, dict[str, Any]] = {}
    for name, entry in (raw.get("images") or {}).items():
        entry = entry or {}
        images[str(name)] = {
            "entrypoint": [str(x) for x in entry.get("entrypoint") or []],
            "cmd": [str(x) for x in entry.get("cmd") or []],
            # Argosy's addition for local runs: host files shown at paths of the image's filesystem
            "paths": {str(k): str(v) for k, v in (entry.get("paths") or {}).items()},
        }
    return ControllerConfig(
        images=images,
        artifact_repository=raw.get("artifactRepository"),
        parallelism=raw.get("parallelism"),
        raw=raw,
    )
