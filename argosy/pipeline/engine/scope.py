"""Variables in scope while a steps/DAG template runs, and template inputs/outputs processing.

Mirrors Argo's ``wfScope``, ``ProcessArgs``/``substituteParams`` and
``getTemplateOutputsFromScope``: values are plain strings keyed by their dotted name
(``steps.gen.outputs.result``); artifacts are kept beside them by the same keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from argosy.errors import ExpressionError, TemplateError
from argosy.pipeline.model import Arguments, Artifact, Outputs, Parameter, Template, ValueFrom
from argosy.pipeline.status import OMITTED, SKIPPED, NodeStatus, format_time

__all__ = [
    "ABSENT",
    "Scope",
    "aggregate_outputs",
    "process_args",
    "template_outputs_from_scope",
]


class _Absent(str):
    """Marks the output of a skipped/omitted node that declared no default (Argo v4 'absent optional')."""


ABSENT = _Absent("")


class Scope:
    """Parameters (strings) and artifacts visible to a steps/DAG template's children."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.artifacts: dict[str, Artifact] = {}

    def add_node(self, prefix: str, node: NodeStatus, template: Template | None, last_child: NodeStatus | None = None) -> None:
        """``buildLocalScope``: id, times, status, outputs of ``node`` under ``prefix``."""
        if node.type == "Retry" and last_child is not None:
            node = last_child
        p = self.params
        p[f"{prefix}.id"] = node.id
        if node.started_at:
            p[f"{prefix}.startedAt"] = node.started_at
        if node.finished_at:
            p[f"{prefix}.finishedAt"] = node.finished_at
        if node.pod_ip:
            p[f"{prefix}.ip"] = node.pod_ip
        p[f"{prefix}.status"] = node.phase
        if node.host_node_name:
            p[f"{prefix}.hostNodeName"] = node.host_node_name
        if node.phase in (SKIPPED, OMITTED) and template is not None and template.outputs:
            # Declared outputs of a node that never ran: its default, else an absent optional.
            for param in template.outputs.parameters or []:
                default = param.value_from.default if param.value_from else None
                p[f"{prefix}.outputs.parameters.{param.name}"] = default if default is not None else ABSENT
        self.add_outputs(prefix, node.outputs)

    def add_outputs(self, prefix: str, outputs: Outputs | None) -> None:
        if outputs is None:
            return
        if prefix != "workflow" and outputs.result is not None:
            self.params[f"{prefix}.outputs.result"] = outputs.result
        if prefix != "workflow" and outputs.exit_code is not None:
            self.params[f"{prefix}.exitCode"] = outputs.exit_code
        for param in outputs.parameters or []:
            if param.value is not None:
                self.params[f"{prefix}.outputs.parameters.{param.name}"] = param.value
        for art in outputs.artifacts or []:
            self.artifacts[f"{prefix}.outputs.artifacts.{art.name}"] = art

    def resolve_artifact(self, ref: str, sub_path: str | None = None) -> Artifact:
        """``{{steps.x.outputs.artifacts.y}}`` -> the artifact (with its location)."""
        key = ref.strip()
        if key.startswith("{{") and key.endswith("}}"):
            key = key[2:-2].strip()
        art = self.artifacts.get(key)
        if art is None:
            raise TemplateError(f"Unable to resolve: {{{{{key}}}}}")
        if sub_path:
            art = art.model_copy(deep=True)
            for loc in ("s3", "local"):
                obj = getattr(art, loc, None)
                if obj is not None and getattr(obj, "key", None):
                    obj.key = obj.key.rstrip("/") + "/" + sub_path.strip("/")
        return art

    def evaluate_artifact(self, expression: str, global_params: Mapping[str, str]) -> Artifact | None:
        """``fromExpression``: an expr over parameters and artifacts that yields an artifact (or nil)."""
        from argosy.pipeline.expr import evaluate, expand_env

        flat: dict[str, Any] = dict(global_params)
        for key, value in self.params.items():
            flat[key] = None if value is ABSENT else value
        for key, art in self.artifacts.items():
            flat[key] = art.model_dump(by_alias=True, exclude_none=True, mode="json")
        try:
            result = evaluate(expression, expand_env(flat))
        except ExpressionError as exc:
            raise TemplateError(f"failed to evaluate fromExpression '{expression}': {exc}") from None
        if result is None:
            return None
        if not isinstance(result, dict) or "name" not in result:
            raise TemplateError(f"fromExpression '{expression}' did not evaluate to an artifact")
        return Artifact.model_validate(result)

    def expression_env(self, global_params: Mapping[str, str]) -> dict[str, Any]:
        from argosy.pipeline.expr import expand_env

        flat: dict[str, Any] = dict(global_params)
        for key, value in self.params.items():
            flat[key] = None if value is ABSENT else value
        return expand_env(flat)


def process_args(
    tmpl: Template,
    args: Arguments | None,
    global_params: Mapping[str, str],
    local_params: Mapping[str, str],
    *,
    config_map_lookup: Callable[[str, str], str | None] | None = None,
) -> Template:
    """``ProcessArgs``: bind arguments to inputs, then substitute globals, locals and inputs."""
    from argosy.pipeline.templating import substitute

    # Only ``inputs`` is changed in place below; the rest is rebuilt by the dump/substitute/parse
    # at the end, so a deep copy of the whole template (every task of a DAG) is not needed.
    new = tmpl.model_copy(update={"inputs": tmpl.inputs.model_copy(deep=True)}) if tmpl.inputs is not None else tmpl
    args = args or Arguments()
    arg_params = {p.name: p for p in args.parameters or []}
    arg_arts = {a.name: a for a in args.artifacts or []}
    if new.inputs is not None:
        for param in new.inputs.parameters or []:
            if param.value is None and param.default is not None:
                param.value = param.default
            supplied = arg_params.get(param.name)
            if supplied is not None:
                if supplied.value is not None:
                    param.value = supplied.value
                elif supplied.value_from is not None:
                    param.value_from = supplied.value_from
            if param.value_from is not None and param.value_from.config_map_key_ref is not None:
                ref = param.value_from.config_map_key_ref
                found = config_map_lookup(ref.name or "", ref.key) if config_map_lookup else None
                if found is None:
                    if param.value_from.default is not None:
                        found = param.value_from.default
                    elif not ref.optional:
                        raise TemplateError(f"unable to retrieve inputs.parameters.{param.name} from ConfigMap '{ref.name}' key '{ref.key}'")
                if found is not None:
                    param.value = found
            if param.value is None and param.value_from is None:
                raise TemplateError(f"inputs.parameters.{param.name} was not supplied")
            if param.enum and param.value is not None and param.value not in param.enum:
                raise TemplateError(f"value '{param.value}' is not in the enum list for inputs.parameters.{param.name}: {param.enum}")
        new_arts = []
        for art in new.inputs.artifacts or []:
            supplied_art = arg_arts.get(art.name)
            if supplied_art is not None and _has_location(supplied_art):
                bound = supplied_art.model_copy(deep=True)
                bound.name = art.name
                bound.path = art.path
                bound.mode = art.mode if art.mode is not None else bound.mode
                bound.recurse_mode = art.recurse_mode
                if art.type and not bound.type:
                    bound.type = art.type
                new_arts.append(bound)
            elif supplied_art is not None and supplied_art.optional:
                new_arts.append(art.model_copy(update={"optional": True}))
            elif _has_location(art) or art.optional:
                new_arts.append(art)
            else:
                raise TemplateError(f"inputs.artifacts.{art.name} was not supplied")
        if new.inputs.artifacts is not None:
            new.inputs.artifacts = new_arts

    # Pass 1: globals and locals (inputs may reference globals).
    replace = dict(global_params)
    replace.update(local_params)
    text = substitute(json.dumps(new.model_dump(by_alias=True, exclude_unset=True, mode="json")), replace)
    data = json.loads(text)
    # Pass 2: inputs.* and outputs.*.path.
    inner: dict[str, str] = {}
    params_json = []
    for p in (data.get("inputs") or {}).get("parameters") or []:
        if p.get("value") is not None:
            inner[f"inputs.parameters.{p['name']}"] = str(p["value"])
        params_json.append(p)
    inner["inputs.parameters"] = json.dumps(params_json, separators=(",", ":"))
    for a in (data.get("inputs") or {}).get("artifacts") or []:
        if a.get("path"):
            inner[f"inputs.artifacts.{a['name']}.path"] = a["path"]
    for a in (data.get("outputs") or {}).get("artifacts") or []:
        if a.get("path"):
            inner[f"outputs.artifacts.{a['name']}.path"] = a["path"]
    for p in (data.get("outputs") or {}).get("parameters") or []:
        vf = p.get("valueFrom") or {}
        if vf.get("path"):
            inner[f"outputs.parameters.{p['name']}.path"] = vf["path"]
    text = substitute(text, inner)
    return Template.model_validate(json.loads(text))


LOCATIONS = ("s3", "git", "http", "raw", "local", "gcs", "oss", "azure", "hdfs", "artifactory", "plugin")


def _has_location(art: Artifact) -> bool:
    return any(getattr(art, loc) is not None for loc in LOCATIONS)


def _resolve_value_from(vf: ValueFrom, scope: Scope, global_params: Mapping[str, str]) -> str:
    from argosy.pipeline.expr import evaluate, format_result

    if vf.expression:
        try:
            result = evaluate(vf.expression, scope.expression_env(global_params))
        except ExpressionError as exc:
            raise TemplateError(f"failed to evaluate expression '{vf.expression}': {exc}") from None
        if result is None:
            raise TemplateError(f"expression '{vf.expression}' evaluated to nil")
        return format_result(result)
    if vf.parameter:
        key = vf.parameter.strip()
        if key.startswith("{{") and key.endswith("}}"):
            key = key[2:-2].strip()
        value = scope.params.get(key)
        if value is None:
            value = global_params.get(key)
        if value is None or value is ABSENT:
            raise TemplateError(f"Unable to resolve: {{{{{key}}}}}")
        return value
    raise TemplateError("output parameters must have a valueFrom specified")


def template_outputs_from_scope(tmpl: Template, scope: Scope, global_params: Mapping[str, str]) -> Outputs | None:
    """Outputs of a steps/DAG template, taken from its children (``valueFrom.parameter/expression``)."""
    outs = tmpl.outputs
    if outs is None or not (outs.parameters or outs.artifacts):
        return None
    result = Outputs()
    if outs.parameters:
        result.parameters = []
        for param in outs.parameters:
            if param.value_from is None:
                raise TemplateError("output parameters must have a valueFrom specified")
            try:
                value = _resolve_value_from(param.value_from, scope, global_params)
            except TemplateError:
                if param.value_from.default is None:
                    raise
                value = param.value_from.default
            result.parameters.append(_out_param(param.name, value, param.global_name))
    if outs.artifacts:
        result.artifacts = []
        for art in outs.artifacts:
            ref = art.from_ or ""
            found: Artifact | None
            try:
                if ref:
                    found = scope.resolve_artifact(ref, art.sub_path)
                elif art.from_expression:
                    found = scope.evaluate_artifact(art.from_expression, global_params)
                else:
                    found = None
            except TemplateError:
                if art.optional:
                    continue
                raise
            if found is None:
                if art.optional:
                    continue
                raise TemplateError(f"Unable to resolve outputs.artifacts.{art.name}: it has no 'from' or 'fromExpression', or it evaluated to nil")
            found = found.model_copy(deep=True)
            found.name = art.name
            found.global_name = art.global_name
            found.from_ = None
            found.from_expression = None
            result.artifacts.append(found)
    return result


def _json_value(text: str) -> Any:
    """Aggregated parameter: parse as JSON object/array when it is one, else keep the string."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text
    return value if isinstance(value, dict | list) else text


def aggregate_outputs(scope: Scope, prefix: str, children: list[NodeStatus]) -> None:
    """``processAggregateNodeOutputs``: loop children's outputs as JSON lists under ``prefix``."""
    results: list[Any] = []
    param_lists: dict[str, list[str]] = {}
    param_maps: list[dict[str, str]] = []
    for child in children:
        outs = child.outputs
        if outs is None:
            continue
        if outs.result is not None:
            try:
                results.append(json.loads(outs.result))
            except json.JSONDecodeError:
                results.append(outs.result)
        if outs.parameters:
            row: dict[str, str] = {}
            for param in outs.parameters:
                if param.value is None:
                    continue
                param_lists.setdefault(param.name, []).append(param.value)
                row[param.name] = param.value
            param_maps.append(row)
    if results or any(c.outputs is not None and c.outputs.result is not None for c in children):
        scope.params[f"{prefix}.outputs.result"] = json.dumps(results, separators=(",", ":"))
    if param_maps:
        scope.params[f"{prefix}.outputs.parameters"] = json.dumps(param_maps, separators=(",", ":"), sort_keys=True)
    for name, values in param_lists.items():
        parsed = [_json_value(v) for v in values]
        if all(isinstance(v, dict | list) for v in parsed):
            scope.params[f"{prefix}.outputs.parameters.{name}"] = json.dumps(parsed, separators=(",", ":"))
        else:
            scope.params[f"{prefix}.outputs.parameters.{name}"] = json.dumps(values, separators=(",", ":"))


def node_times(node: NodeStatus) -> tuple[str | None, str | None]:
    return node.started_at, node.finished_at


__all__ += ["node_times", "format_time"]


def _out_param(name: str, value: str | None, global_name: str | None) -> Parameter:
    """An output parameter as Argo serialises it: no ``globalName: null`` when there is none."""
    if global_name is None:
        return Parameter(name=name, value=value)
    return Parameter(name=name, value=value, global_name=global_name)
