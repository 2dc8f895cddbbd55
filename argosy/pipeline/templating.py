"""``{{...}}`` substitution with Argo's rules (util/template).

Argo substitutes on the JSON text of an object: simple tags ``{{ a.b }}`` are looked up verbatim
(after trimming) in a flat map of strings and JSON-string-escaped into place; expression tags
``{{= expr }}`` are evaluated with expr-lang over the same map expanded into nested objects.
With ``allow_unresolved`` (every runtime pass), unknown tags stay as they are so a later pass
can fill them; otherwise they are an error naming the tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from argosy.errors import ExpressionError, TemplateError

__all__ = ["Tag", "iter_tags", "substitute", "substitute_object", "substitute_text"]

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)

T = TypeVar("T")


@dataclass(frozen=True)
class Tag:
    """One ``{{...}}`` occurrence: ``kind`` is ``simple`` or ``expression``."""

    kind: str
    expr: str
    raw: str
    start: int
    end: int


def iter_tags(text: str) -> Iterator[Tag]:
    """Every tag in ``text``, in order (fasttemplate's scan: ``{{`` up to the next ``}}``)."""
    for m in _TAG.finditer(text):
        inner = m.group(1)
        if inner.startswith("="):
            yield Tag("expression", inner[1:].strip(), m.group(0), m.start(), m.end())
        else:
            yield Tag("simple", inner.strip(), m.group(0), m.start(), m.end())


def _escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _expression_env(values: Mapping[str, Any]) -> dict[str, Any]:
    from argosy.pipeline.expr import expand_env

    return expand_env(values)


def substitute(
    text: str,
    values: Mapping[str, Any],
    *,
    allow_unresolved: bool = True,
    json_escape: bool = True,
    env: Callable[[], Mapping[str, Any]] | None = None,
) -> str:
    """Replace tags in ``text``. ``json_escape`` when ``text`` is JSON (the object form)."""
    if "{{" not in text:
        return text
    from argosy.pipeline.expr import evaluate, format_result

    cached_env: list[Mapping[str, Any]] = []

    def get_env() -> Mapping[str, Any]:
        if not cached_env:
            cached_env.append(env() if env else _expression_env(values))
        return cached_env[0]

    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        inner = m.group(1)
        if inner.startswith("="):
            expression = inner[1:]
            if json_escape:
                try:
                    expression = json.loads(f'"{expression}"')
                except json.JSONDecodeError:
                    if allow_unresolved:
                        out.append(m.group(0))
                        continue
                    raise TemplateError(f"failed to resolve {m.group(0)}") from None
            if allow_unresolved and _needs_late_binding(expression, get_env()):
                out.append(m.group(0))
                continue
            try:
                result = evaluate(expression, get_env())
            except ExpressionError as exc:
                if allow_unresolved:
                    out.append(m.group(0))
                    continue
                raise TemplateError(f"failed to evaluate expression: {exc}") from None
            if result is None:
                if allow_unresolved:
                    out.append(m.group(0))
                    continue
                raise TemplateError(f'failed to evaluate expression "{expression.strip()}"')
            text_value = format_result(result)
            out.append(_escape(text_value) if json_escape else text_value)
            continue
        key = inner.strip()
        if key in values:
            value = values[key]
            if not isinstance(value, str):
                raise TemplateError(f"failed to resolve {{{{{inner}}}}} to string")
            out.append(_escape(value) if json_escape else value)
        elif allow_unresolved:
            out.append(m.group(0))
        else:
            raise TemplateError(f"failed to resolve {{{{{inner}}}}}")
    out.append(text[pos:])
    return "".join(out)


def _needs_late_binding(expression: str, env: Mapping[str, Any]) -> bool:
    """``workflow.status``/``workflow.failures`` exist only in exit handlers: keep those tags."""
    for var in ("workflow.status", "workflow.failures"):
        if var in expression:
            wf = env.get("workflow")
            leaf = var.split(".")[1]
            if not isinstance(wf, Mapping) or leaf not in wf:
                return True
    return False


def substitute_object(obj: T, values: Mapping[str, Any], *, allow_unresolved: bool = True) -> T:
    """Substitute inside a JSON-able object (dict/list) or a pydantic model, Argo-style."""
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        data = obj.model_dump(by_alias=True, exclude_unset=True, mode="json")
        new = json.loads(substitute(json.dumps(data), values, allow_unresolved=allow_unresolved))
        model = type(obj).model_validate(new)
        return model  # type: ignore[return-value]
    text = json.dumps(obj)
    return json.loads(substitute(text, values, allow_unresolved=allow_unresolved))  # type: ignore[no-any-return]


def substitute_text(text: str, values: Mapping[str, Any], *, allow_unresolved: bool = True) -> str:
    """Substitute in plain text (a ``when`` condition, a key format)."""
    return substitute(text, values, allow_unresolved=allow_unresolved, json_escape=False)
