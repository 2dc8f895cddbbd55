"""Reading workflow documents from YAML/JSON text, with errors that name file, line and field.

A file may hold several documents (``---``). Argo kinds become their pydantic models; other
Kubernetes kinds (ServiceAccount, Role ...) are kept as :class:`RawDocument` so ``apply`` can
store them and ``lint`` can skip them, as ``argo lint`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pydantic
import yaml

from argosy.errors import SpecError
from argosy.pipeline.model import (
    ClusterWorkflowTemplate,
    ConfigMap,
    CronWorkflow,
    Secret,
    Workflow,
    WorkflowTemplate,
)

__all__ = [
    "Document",
    "KINDS",
    "LoadedDocument",
    "RawDocument",
    "format_path",
    "load_file",
    "load_text",
    "parse_document",
]

Document: TypeAlias = Workflow | WorkflowTemplate | ClusterWorkflowTemplate | CronWorkflow | ConfigMap | Secret

KINDS: dict[str, type[Any]] = {
    "Workflow": Workflow,
    "WorkflowTemplate": WorkflowTemplate,
    "ClusterWorkflowTemplate": ClusterWorkflowTemplate,
    "CronWorkflow": CronWorkflow,
    "ConfigMap": ConfigMap,
    "Secret": Secret,
}


@dataclass
class RawDocument:
    """A Kubernetes document Argosy stores but does not interpret (ServiceAccount, Role ...)."""

    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def display_name(self) -> str:
        meta = self.data.get("metadata") or {}
        return str(meta.get("name") or meta.get("generateName") or "")

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass
class LoadedDocument:
    """One document of a file, with where it came from (for messages)."""

    source: str
    index: int
    line: int
    doc: Document | RawDocument

    @property
    def kind(self) -> str:
        return self.doc.kind

    @property
    def name(self) -> str:
        return self.doc.display_name


def format_path(loc: Sequence[int | str]) -> str:
    """``('spec', 'templates', 0, 'name')`` -> ``spec.templates[0].name``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Follow ``loc`` through a composed YAML node tree; the 1-based line of the deepest match."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    nxt = value
                    line = key.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
        if node is None:
            break
    return line


def _describe_error(err: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    """A pydantic error as (wire path, message) in Argo's words where it has them."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, f'unknown field "{loc[-1]}"'
    if kind == "missing":
        return loc, f'missing required field "{loc[-1]}"'
    if kind == "literal_error":
        return loc, err["msg"]
    got = err.get("input")
    got_text = type(got).__name__ if isinstance(got, dict | list) else repr(got)
    return loc, f"{err['msg'].lower()} (got {got_text})"


def parse_document(data: Any, *, source: str = "<input>", node: yaml.Node | None = None, index: int = 0) -> Document | RawDocument:
    """Turn one decoded document into its model; :class:`SpecError` names file, line and field."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: document {index + 1} is not a mapping (got {type(data).__name__})")
    kind = data.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        if not kind:
            line = _line_of(node, ())
            where = f"{source}:{line}" if line else source
            raise SpecError(f"{where}: document {index + 1} has no \"kind\"")
        return RawDocument(data)
    try:
        return model.model_validate(data)  # type: ignore[no-any-return]
    except pydantic.ValidationError as exc:
        messages = []
        for err in exc.errors():
            loc, text = _describe_error(dict(err))
            line = _line_of(node, loc)
            where = f"{source}:{line}" if line else source
            messages.append(f"{where}: {format_path(loc)}: {text}")
        meta = data.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        name = meta.get("name") or meta.get("generateName") or ""
        head = f'{kind} "{name}"' if name else kind
        detail = "\n  ".join(messages[:20])
        more = f"\n  ... and {len(messages) - 20} more" if len(messages) > 20 else ""
        raise SpecError(f"invalid {head}:\n  {detail}{more}") from None


def _compose(text: str, source: str) -> list[tuple[Any, yaml.Node | None]]:
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise SpecError(f"{where}: invalid YAML: {problem}" + (f" ({context})" if context else "")) from None
    out: list[tuple[Any, yaml.Node | None]] = []
    loader_cls: Any = yaml.SafeLoader
    for node in nodes:
        if node is None:
            continue
        loader = loader_cls("")
        try:
            value = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise SpecError(f"{source}: invalid YAML: {exc}") from None
        except (TypeError, ValueError, RecursionError) as exc:
            raise SpecError(f"{source}: invalid YAML: {exc}") from None
        out.append((value, node))
    return out


def load_text(text: str, *, source: str = "<input>") -> list[LoadedDocument]:
    """Every document in ``text`` (YAML or JSON, one or many)."""
    stripped = text.lstrip()
    pairs: list[tuple[Any, yaml.Node | None]]
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
            pairs = [(v, None) for v in (value if isinstance(value, list) else [value])]
        except json.JSONDecodeError:
            pairs = _compose(text, source)  # YAML flow style is not always valid JSON
    else:
        pairs = _compose(text, source)
    docs: list[LoadedDocument] = []
    for index, (value, node) in enumerate(pairs):
        if value is None:
            continue
        if isinstance(value, dict) and value.get("kind") == "List" and isinstance(value.get("items"), list):
            for sub in value["items"]:
                docs.append(LoadedDocument(source, len(docs), 1, parse_document(sub, source=source, index=len(docs))))
            continue
        line = node.start_mark.line + 1 if node is not None else 1
        docs.append(LoadedDocument(source, index, line, parse_document(value, source=source, node=node, index=index)))
    return docs


def load_file(path: str | Path) -> list[LoadedDocument]:
    """Every document in a file; ``-`` reads standard input."""
    import sys

    if str(path) == "-":
        return load_text(sys.stdin.read(), source="<stdin>")
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{p}: is a directory") from None
    except OSError as exc:
        raise SpecError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    return load_text(text, source=str(p))


def iter_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their ``.yaml``/``.yml``/``.json`` files, as ``argo lint`` does."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml", ".json") and q.is_file()))
        else:
            out.append(p)
    return out
