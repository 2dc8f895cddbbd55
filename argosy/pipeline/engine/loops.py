"""``withItems`` / ``withParam`` / ``withSequence`` expansion with Argo's child names."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from argosy.errors import TemplateError
from argosy.pipeline.model import DAGTask, Sequence, WorkflowStep

__all__ = ["expand", "item_text", "sequence_items", "should_expand"]

Inv = TypeVar("Inv", WorkflowStep, DAGTask)


def should_expand(inv: WorkflowStep | DAGTask) -> bool:
    return inv.with_items is not None or bool(inv.with_param) or inv.with_sequence is not None


def item_text(value: Any) -> str:
    """How an item (or a map value) is written into a template: strings raw, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return json.dumps(value, separators=(",", ":"))


def _go_value(value: Any) -> str:
    """``%v`` of an item in a node name: maps and lists as Go prints them."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    return item_text(value)


def sequence_items(seq: Sequence) -> list[str]:
    def to_int(v: Any, field: str) -> int:
        try:
            return int(str(v))
        except ValueError:
            raise TemplateError(f"withSequence.{field} '{v}' is not an integer") from None

    start = to_int(seq.start, "start") if seq.start is not None else 0
    if seq.end is not None:
        end = to_int(seq.end, "end")
    elif seq.count is not None:
        count = to_int(seq.count, "count")
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise TemplateError("neither end nor count was specified in withSequence")
    fmt = seq.format or "%d"
    step = 1 if start <= end else -1
    try:
        return [fmt % i for i in range(start, end + step, step)]
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"withSequence.format '{fmt}' is invalid: {exc}") from None


def _items(inv: WorkflowStep | DAGTask) -> list[Any]:
    if inv.with_items is not None:
        return list(inv.with_items)
    if inv.with_param:
        try:
            value = json.loads(inv.with_param)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"withParam value could not be parsed as a JSON list: {inv.with_param.strip()}: {exc}") from None
        if not isinstance(value, list):
            raise TemplateError(f"withParam value could not be parsed as a JSON list: {inv.with_param.strip()}")
        return value
    if inv.with_sequence is not None:
        return list(sequence_items(inv.with_sequence))
    return []


def expand(inv: Inv) -> list[Inv]:
    """One invocation per item, named ``name(i:desc)`` with ``{{item}}``/``{{item.k}}`` substituted."""
    from argosy.pipeline.templating import substitute

    items = _items(inv)
    base = inv.model_copy(update={"with_items": None, "with_param": None, "with_sequence": None})
    data = base.model_dump(by_alias=True, exclude_unset=True, mode="json")
    for key in ("withItems", "withParam", "withSequence"):
        data.pop(key, None)
    text = json.dumps(data)
    out: list[Inv] = []
    for index, item in enumerate(items):
        values: dict[str, str] = {}
        if isinstance(item, dict):
            for k, v in item.items():
                values[f"item.{k}"] = item_text(v)
            desc = ",".join(sorted(f"{k}:{_go_value(v)}" for k, v in item.items()))
        else:
            desc = _go_value(item)
        values["item"] = item_text(item)
        new_data = json.loads(substitute(text, values))
        desc = desc.replace("(", "").replace(")", "")
        new_data["name"] = f"{inv.name}({index}:{desc})"
        new_data["template"] = inv.template
        if inv.template is None:
            new_data.pop("template", None)
        out.append(type(inv).model_validate(new_data))
    return out
