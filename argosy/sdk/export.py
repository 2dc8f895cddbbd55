"""Export to YAML a real Argo cluster accepts: ``argosy export --argo FILE|MODULE:OBJ``.

Argosy's additions are rewritten or removed, each with a note saying what changed and why:
the typed-artifact fields ``type``/``format`` and the run-time ``size``/``digest`` are dropped
(Argo's strict decoding rejects unknown fields; typed wiring is checked by ``argosy lint``
before export), ``archive: {zstd: ...}`` becomes Argo's default tar+gzip, and ``local: {key}``
locations become key-only ``s3: {key}`` (resolved against the cluster's default artifact
repository). ``status`` and server-set metadata are dropped.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from argosy.errors import SpecError
from argosy.sdk._yaml import dump_yaml

__all__ = ["export_argo", "load_source", "to_argo"]

ARGOSY_ARTIFACT_FIELDS = ("type", "format", "size", "digest")
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def _as_dict(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    to_dict = getattr(document, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        if isinstance(data, dict):
            return data
    raise SpecError(f"cannot export {type(document).__name__}: expected a Workflow builder, spec model or dict")


class _Rewriter:
    def __init__(self) -> None:
        self.typed: list[str] = []
        self.notes: list[str] = []

    def artifact(self, art: dict[str, Any], where: str) -> None:
        if [art.pop(k) for k in ARGOSY_ARTIFACT_FIELDS[:2] if k in art]:
            self.typed.append(where)
        for key in ARGOSY_ARTIFACT_FIELDS[2:]:
            art.pop(key, None)
        archive = art.get("archive")
        if isinstance(archive, dict) and "zstd" in archive:
            art["archive"] = {"tar": {}}
            self.notes.append(f"{where}: archive zstd became tar+gzip (Argo has no zstd)")
        self.location(art, where)

    def location(self, holder: dict[str, Any], where: str) -> None:
        local = holder.pop("local", None)
        if isinstance(local, dict) and local.get("key") and "s3" not in holder:
            holder["s3"] = {"key": local["key"]}
            self.notes.append(f"{where}: local location became key-only s3 (key {local['key']}), resolved against the cluster's default artifact repository")
        elif local is not None:
            self.notes.append(f"{where}: local location removed (Argo has none)")

    def walk(self, node: Any, where: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                label = str(item["name"]) if isinstance(item, dict) and isinstance(item.get("name"), str) else f"[{index}]"
                self.walk(item, f"{where}.{label}" if where else label)
            return
        if not isinstance(node, dict):
            return
        for key, value in list(node.items()):
            here = f"{where}.{key}" if where else key
            if key == "artifacts" and isinstance(value, list):
                for art in value:
                    if isinstance(art, dict):
                        self.artifact(art, f"{here}.{art.get('name')}")
            elif key == "artifact" and isinstance(value, dict):
                self.artifact(value, here)
            elif key == "archiveLocation" and isinstance(value, dict):
                self.location(value, here)
            self.walk(value, here)


def to_argo(document: Any) -> tuple[dict[str, Any], list[str]]:
    """One document (builder, spec model or dict) in Argo's dialect, and notes on what changed."""
    import copy

    doc = copy.deepcopy(_as_dict(document))
    doc.pop("status", None)
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_METADATA:
            meta.pop(key, None)
    if doc.get("kind") not in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"):
        return doc, []
    rewriter = _Rewriter()
    rewriter.walk(doc.get("spec") or {}, "spec")
    notes = list(rewriter.notes)
    if rewriter.typed:
        shown = ", ".join(rewriter.typed[:3]) + (f" and {len(rewriter.typed) - 3} more" if len(rewriter.typed) > 3 else "")
        notes.insert(0, f"removed Argosy's typed-artifact fields (type, format) from {shown}; argosy lint checks typed wiring")
    name = (meta or {}).get("name") or (meta or {}).get("generateName") or ""
    return doc, [f"{doc.get('kind')} {name}: {n}" for n in notes]


def _import_file(path: Path) -> Any:
    name = f"_argosy_export_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _documents_of(obj: Any, source: str) -> list[Any]:
    from argosy.sdk.workflow import Workflow

    if callable(obj) and not isinstance(obj, Workflow | dict) and not hasattr(obj, "to_dict"):
        obj = obj()
    if isinstance(obj, list | tuple):
        return list(obj)
    if isinstance(obj, Workflow | dict) or hasattr(obj, "to_dict"):
        return [obj]
    raise SpecError(f"{source}: {type(obj).__name__} is not a workflow")


def load_source(source: str) -> list[Any]:
    """Documents named by ``source``: a YAML/JSON file, ``module:obj`` / ``file.py:obj`` (a
    builder, model, dict, list of them, or a function returning one), or ``file.py`` (every
    module-level Workflow builder)."""
    from argosy.pipeline.loader import load_file
    from argosy.sdk.workflow import Workflow

    target, sep, attr = source.rpartition(":")
    if not sep or "/" in attr or "\\" in attr:
        target, attr = source, ""
    if not attr and not target.endswith(".py"):
        return [d.doc for d in load_file(target)]
    if target.endswith(".py") or Path(target).is_file():
        module = _import_file(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise SpecError(f"{source}: cannot import {target}: {exc}") from None
    if not attr:
        found = [v for v in vars(module).values() if isinstance(v, Workflow)]
        if not found:
            raise SpecError(f"{source}: no module-level Workflow; name one as {target}:NAME")
        return found
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpecError(f"{source}: {target} has no attribute {attr!r}") from None
    return _documents_of(obj, source)


def export_argo(source: Any, *, argo: bool = True) -> tuple[str, list[str]]:
    """YAML (``---`` between documents) for ``source`` (see :func:`load_source`, or objects),
    rewritten for a real Argo cluster unless ``argo=False``; plus the notes."""
    docs: Iterable[Any] = load_source(source) if isinstance(source, str) else _documents_of(source, repr(source))
    texts: list[str] = []
    notes: list[str] = []
    for doc in docs:
        if argo:
            data, more = to_argo(doc)
            notes.extend(more)
        else:
            data = _as_dict(doc)
        texts.append(dump_yaml(data))
    return "---\n".join(texts), notes
