"""Generate the Python API reference (``docs/api/*.md``) from the docstrings of ``argosy.sdk``.

Standard library only (``inspect``, pydoc-style): one Markdown page per public module, listing
each name in its ``__all__`` with its signature and docstring, plus an index. Run
``python scripts/gen_api_docs.py`` after changing a docstring; ``tests/sdk/test_docs.py`` fails
while the committed pages are stale.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "api"

#: (module, one-line summary) in reading order
MODULES = [
    ("argosy.sdk", "What to import: every public name of the Python API."),
    ("argosy.sdk.workflow", "Workflow and WorkflowTemplate documents."),
    ("argosy.sdk.builder", "Templates (Container, Script, Resource, Suspend, DAG, Steps) and tasks/steps."),
    ("argosy.sdk.io", "Parameters, artifacts, artifact locations and archives."),
    ("argosy.sdk.script", "@script: a typed Python function as a script template."),
    ("argosy.sdk.artifacts", "Typed artifacts: Input/Output, Dataset, Model, Metrics ..."),
    ("argosy.sdk.loaders", "Artifact formats (serialisers)."),
    ("argosy.sdk.client", "Client, WorkflowRun, ArtifactHandle."),
    ("argosy.sdk.export", "Export to the dialect a real Argo cluster accepts."),
    ("argosy.sdk.cli", "The `argosy export` command."),
    ("argosy.sdk.errors", "Errors of the Python API."),
]


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__) if obj.__doc__ else ""


def _signature(obj: Any) -> str:
    fields = getattr(obj, "model_fields", None)
    if inspect.isclass(obj) and isinstance(fields, dict):  # a pydantic model: its fields, by keyword
        parts = [name if info.is_required() else f"{name}=None" for name, info in fields.items()]
        return "(*, " + ", ".join(parts) + ")"
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def _members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties of ``cls`` and of its private (``_Name``) argosy bases."""
    out: dict[str, Any] = {}
    owners = [c for c in cls.__mro__ if c is cls or (c.__name__.startswith("_") and c.__module__.startswith("argosy."))]
    for owner in reversed(owners):
        for name, value in owner.__dict__.items():
            if name.startswith("_") or not (_doc(value) or isinstance(value, property)):
                continue
            if callable(value) or isinstance(value, property | classmethod | staticmethod):
                out[name] = value
    return sorted(out.items())


def _render_class(name: str, cls: type, lines: list[str]) -> None:
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    lines += [f"### class `{name}`", ""]
    if inspect.isclass(cls) and cls.__init__ is not object.__init__:
        lines += ["```python", f"{name}{_signature(cls)}", "```", ""]
    if bases:
        lines += [f"Bases: {', '.join(f'`{b}`' for b in bases)}", ""]
    if _doc(cls):
        lines += [_doc(cls), ""]
    for member, value in _members(cls):
        if isinstance(value, property):
            lines += [f"- **`{member}`** (property): {_doc(value) or ''}".rstrip()]
        else:
            func = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            lines += [f"- **`{member}{_signature(func)}`**: {_doc(func)}".rstrip()]
    if _members(cls):
        lines.append("")


def render_module(module_name: str) -> str:
    module = importlib.import_module(module_name)
    lines = [f"# `{module_name}`", ""]
    if _doc(module):
        lines += [_doc(module), ""]
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if module_name == "argosy.sdk":
            origin = getattr(obj, "__module__", "") if inspect.isclass(obj) or inspect.isfunction(obj) else ""
            page = f"{origin}.md" if any(origin == m for m, _ in MODULES) else ""
            lines.append(f"- `{name}`" + (f" — [{origin}]({page})" if page else ""))
            continue
        if inspect.isclass(obj):
            _render_class(name, obj, lines)
        elif callable(obj):
            lines += [f"### `{name}{_signature(obj)}`", ""]
            if _doc(obj):
                lines += [_doc(obj), ""]
        else:
            lines += [f"### `{name}`", "", f"`{obj!r}`" if isinstance(obj, str | int | float) else f"{type(obj).__name__}", ""]
    return "\n".join(lines).rstrip() + "\n"


def render() -> dict[str, str]:
    """Every page, by file name."""
    pages = {f"{name}.md": render_module(name) for name, _ in MODULES}
    index = ["# Python API reference", "", "Generated from docstrings by `scripts/gen_api_docs.py`; do not edit.", ""]
    index += [f"- [`{name}`]({name}.md) — {summary}" for name, summary in MODULES]
    pages["index.md"] = "\n".join(index) + "\n"
    return pages


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    pages = render()
    for stale in out.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
