"""Text renderers that reproduce Argo's CLI output (``argo get``, ``argo list``, ``argo lint``).

Users compare our output with Argo's docs and scripts grep it, so every layout
rule mirrors Argo's Go sources (``cmd/argo/commands/common/get.go``,
``util/printer/workflow-printer.go``, ``cmd/argo/lint/formatter_*.go``):
the same tabwriter parameters, icons, tree glyphs, ordering and humanized times.
All functions are pure; ``now`` is injected so outputs are testable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argosy.cli.humanize import (
    go_timestamp,
    humanize_duration,
    parse_time,
    relative_duration,
    relative_duration_short,
)
from argosy.cli.tabwriter import tabwrite
from argosy.pipeline.names import fnv32a
from argosy.pipeline.names import pod_name as _v2_pod_name

__all__ = [
    "fnv32a",
    "node_pod_name",
    "node_selector_matches",
    "render_lint",
    "render_list",
    "render_workflow",
    "workflow_status",
]

Node = Mapping[str, Any]
Workflow = Mapping[str, Any]

# ANSI SGR codes used by Argo's ansiFormat.
_FG_RED, _FG_GREEN, _FG_YELLOW, _FG_CYAN, _FG_DEFAULT = 31, 32, 33, 36, 39

_PHASE_ICONS: dict[str, tuple[str, str, int]] = {
    # phase: (utf8 icon, --no-utf8 word, colour)
    "Pending": ("◷", "Pending", _FG_YELLOW),
    "Running": ("●", "Running", _FG_CYAN),
    "Succeeded": ("✔", "Succeeded", _FG_GREEN),
    "Skipped": ("○", "Skipped", _FG_DEFAULT),
    "Failed": ("✖", "Failed", _FG_RED),
    "Error": ("⚠", "Error", _FG_RED),
}
_SUSPEND_ICON = ("ǁ", "Suspend", _FG_CYAN)
_CONDITION_ICONS: dict[str, tuple[str, str, int]] = {
    "MetricsError": ("✖", "Error", _FG_RED),
    "SpecWarning": ("⚠", "Warning", _FG_YELLOW),
}

_BOUNDARY_TYPES = {"DAG", "Steps"}
_NON_BOUNDARY_PARENT_TYPES = {"StepGroup", "Retry"}
_EXECUTION_TYPES = {"Pod", "Skipped", "Suspend", "HTTP", "Plugin"}
_FULFILLED = {"Succeeded", "Failed", "Error", "Skipped", "Omitted"}
_POD_NAME_ANNOTATION = "workflows.argoproj.io/pod-name-format"
_MAX_POD_PREFIX = 253 - 10 - 1


def _ansi(text: str, code: int, color: bool) -> str:
    """Argo's ansiFormat: wrap in an SGR sequence (only when colour is on)."""
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _icon(entry: tuple[str, str, int] | None, utf8: bool, color: bool) -> str:
    if entry is None:
        return ""
    return _ansi(entry[0] if utf8 else entry[1], entry[2], color)


def _str(value: Any) -> str:
    """Go's ``%v`` of a JSON scalar as Argo would have decoded it (AnyString etc.)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _go_duration(seconds: int) -> str:
    """Go ``time.Duration.String()`` for whole seconds: ``5s``, ``1m5s``, ``1h0m0s``."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


_DENOMINATORS = {"memory": "100Mi", "storage": "10Gi", "ephemeral-storage": "10Gi"}


def _resources_duration(value: Any) -> str:
    """Argo ``ResourcesDuration.String()``, e.g. ``5s*(1 cpu),10s*(100Mi memory)`` (sorted by resource)."""
    if not isinstance(value, Mapping):
        return ""
    parts = [
        f"{_go_duration(int(secs or 0))}*({_DENOMINATORS.get(name, '1')} {name})"
        for name, secs in sorted(value.items())
    ]
    return ",".join(parts)


# --------------------------------------------------------------------------- names


def _template_from_node(node: Node) -> str:
    """``util.GetTemplateFromNode``: the templateRef's template wins over templateName."""
    ref = node.get("templateRef")
    if isinstance(ref, Mapping) and ref:
        return str(ref.get("template") or "")
    return str(node.get("templateName") or "")


def node_pod_name(workflow_name: str, node: Node, *, version: str = "v2") -> str:
    """The pod name Argo derives for a Pod node (v2 naming by default, v1 = node id)."""
    if version == "v1":
        return str(node.get("id") or "")
    node_name = str(node.get("name") or "")
    template = _template_from_node(node)
    if template:
        return _v2_pod_name(workflow_name, node_name, template)
    if workflow_name == node_name:
        return workflow_name
    return f"{workflow_name[:_MAX_POD_PREFIX]}-{fnv32a(node_name)}"


def _pod_name_version(wf: Workflow) -> str:
    annotations = (wf.get("metadata") or {}).get("annotations") or {}
    return "v1" if annotations.get(_POD_NAME_ANNOTATION) == "v1" else "v2"


def _display_name(node: Node) -> str:
    return str(node.get("displayName") or node.get("name") or "")


# --------------------------------------------------------------------------- selectors


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, buf, escaped = [], [], False
    for ch in text:
        if escaped:
            buf.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if escaped:
        buf.append("\\")
    parts.append("".join(buf))
    return parts


def _unescape(value: str) -> str:
    out, escaped = [], False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    if escaped:
        raise ValueError("invalid field selector: unterminated escape sequence")
    return "".join(out)


def _parse_selector(selector: str) -> list[tuple[str, bool, str]]:
    """Kubernetes ``fields.ParseSelector``: ``k=v``, ``k==v``, ``k!=v`` terms joined by commas."""
    terms: list[tuple[str, bool, str]] = []
    for raw in _split_unescaped(selector, ","):
        if not raw:
            continue
        for i in range(len(raw)):
            op = next((o for o in ("!=", "==", "=") if raw.startswith(o, i)), None)
            if op:
                terms.append((raw[:i], op != "!=", _unescape(raw[i + len(op) :])))
                break
        else:
            raise ValueError(f"invalid selector: '{selector}'; can't understand '{raw}'")
    return terms


def _node_fields(node: Node) -> dict[str, str]:
    fields = {
        "displayName": str(node.get("displayName") or ""),
        "templateName": _template_from_node(node),
        "phase": str(node.get("phase") or ""),
        "name": str(node.get("name") or ""),
        "id": str(node.get("id") or ""),
    }
    ref = node.get("templateRef")
    if isinstance(ref, Mapping) and ref:
        fields["templateRef.name"] = str(ref.get("name") or "")
        fields["templateRef.template"] = str(ref.get("template") or "")
    for param in (node.get("inputs") or {}).get("parameters") or []:
        fields[f"inputs.parameters.{param.get('name')}.value"] = _str(param.get("value"))
    return fields


def node_selector_matches(selector: str | None, node: Node) -> bool:
    """``util.SelectorMatchesNode`` for ``--node-field-selector`` (raises ValueError when invalid)."""
    if not selector:
        return True
    fields = _node_fields(node)
    return all((fields.get(key, "") == value) == equal for key, equal, value in _parse_selector(selector))


# --------------------------------------------------------------------------- argo get


def workflow_status(wf: Workflow) -> str:
    """``printer.WorkflowStatus``: phase with ``(Suspended)``/``(Terminated)`` refinements."""
    spec = wf.get("spec") or {}
    status = wf.get("status") or {}
    phase = str(status.get("phase") or "")
    if phase == "Running":
        if spec.get("suspend") is True:
            return "Running (Suspended)"
        for node in (status.get("nodes") or {}).values():
            if node.get("type") == "Suspend" and node.get("phase") == "Running":
                return "Running (Suspended)"
    elif phase == "Failed":
        if spec.get("shutdown"):
            return "Failed (Terminated)"
    elif phase in ("", "Pending"):
        return "Pending" if (wf.get("metadata") or {}).get("creationTimestamp") else "Unknown"
    return phase


@dataclass
class _RenderNode:
    """A node of Argo's render forest: boundary (Steps/DAG), non-boundary parent, or execution node."""

    id: str
    kind: str
    children: list[_RenderNode] = field(default_factory=list)


class _TreeRenderer:
    """Port of get.go's convertToRenderTrees/renderNodes producing tab-separated rows."""

    def __init__(self, wf: Workflow, *, now: datetime, utf8: bool, color: bool, output: str, selector: str | None):
        self.wf_name = str((wf.get("metadata") or {}).get("name") or "")
        self.nodes: dict[str, Node] = dict((wf.get("status") or {}).get("nodes") or {})
        self.now = now
        self.utf8 = utf8
        self.color = color
        self.output = output
        self.selector = selector
        self.pod_version = _pod_name_version(wf)
        self.rows: list[str] = []
        if selector:
            _parse_selector(selector)  # fail early, as Argo does, on a bad selector

    # -- forest construction ------------------------------------------------
    def _start(self, item: _RenderNode) -> datetime | None:
        return parse_time(self.nodes[item.id].get("startedAt"))

    @staticmethod
    def _index(name: str) -> int:
        """``RecoverIndexFromNodeName``: the loop index in ``name(3:x)``, else -1."""
        start, end = name.find("("), name.find(":")
        if start < 0 or end < 0 or end <= start:
            return -1
        try:
            return int(name[start + 1 : end])
        except ValueError:
            return -1

    def _insert_sorted(self, items: list[_RenderNode], item: _RenderNode) -> None:
        """Insert by startedAt, ties by loop index or display name (get.go insertSorted)."""
        t_new = self._start(item)
        index = 0
        while index < len(items):
            t_old = self._start(items[index])
            if _before(t_new, t_old):
                break
            if t_new == t_old:
                new_name = _display_name(self.nodes[item.id])
                old_name = _display_name(self.nodes[items[index].id])
                new_idx, old_idx = self._index(new_name), self._index(old_name)
                if new_idx >= 0 and old_idx >= 0:
                    if new_idx < old_idx:
                        break
                elif new_name < old_name:
                    break
            index += 1
        items.insert(index, item)

    def build(self) -> dict[str, _RenderNode]:
        roots: dict[str, _RenderNode] = {}
        boundaries: dict[str, _RenderNode] = {}
        pending: dict[str, list[_RenderNode]] = {}
        nbp_of_child: dict[str, _RenderNode] = {}
        nbp: dict[str, _RenderNode] = {}
        ids = sorted(self.nodes)
        for node_id in ids:
            node = self.nodes[node_id]
            if node.get("type") in _NON_BOUNDARY_PARENT_TYPES:
                parent = _RenderNode(node_id, "parent")
                nbp[node_id] = parent
                for child in node.get("children") or []:
                    nbp_of_child[child] = parent

        def attach(item: _RenderNode, boundary_id: str) -> bool:
            parent = nbp_of_child.get(item.id)
            if parent is not None:
                self._insert_sorted(parent.children, item)
                return False
            if not boundary_id:
                return True
            if boundary_id in boundaries:
                self._insert_sorted(boundaries[boundary_id].children, item)
            else:
                pending.setdefault(boundary_id, []).append(item)
            return False

        for node_id in ids:
            node = self.nodes[node_id]
            node_type = node.get("type")
            boundary_id = str(node.get("boundaryID") or "")
            if node_type in _BOUNDARY_TYPES:
                item = _RenderNode(node_id, "boundary")
                boundaries[node_id] = item
                if attach(item, boundary_id):
                    roots[node_id] = item
                for waiting in pending.get(node_id, []):
                    self._insert_sorted(item.children, waiting)
            elif node_type in _NON_BOUNDARY_PARENT_TYPES:
                if attach(nbp[node_id], boundary_id):
                    roots[node_id] = nbp[node_id]
            elif node_type in _EXECUTION_TYPES:
                item = _RenderNode(node_id, "exec")
                if attach(item, boundary_id):
                    roots[node_id] = item
        return roots

    # -- rendering -------------------------------------------------------------
    def _filter(self, node: Node) -> tuple[bool, bool]:
        """(hidden, children need the step-group glyphs)."""
        node_type = node.get("type")
        if node_type == "Retry" and len(node.get("children") or []) == 1:
            return True, False
        if node_type == "StepGroup":
            return True, True
        if node_type == "Skipped" and node.get("phase") == "Omitted":
            return True, False
        if not node_selector_matches(self.selector, node):
            return True, False
        return False, False

    def _glyphs(self, filtered: bool, indent: bool, index: int, last: int) -> tuple[str, str]:
        u = self.utf8
        if filtered and indent:
            if last == 0:
                return ("──" if u else "--"), "  "
            if index == 0:
                return ("┬─" if u else "+-"), ("│ " if u else "| ")
            if index == last:
                return ("└─" if u else "`-"), "  "
            return ("├─" if u else "|-"), ("│ " if u else "| ")
        if not filtered:
            if index == last:
                return ("└─" if u else "`-"), "  "
            return ("├─" if u else "|-"), ("│ " if u else "| ")
        return "", ""

    def render(self, item: _RenderNode, node_prefix: str, child_prefix: str) -> None:
        node = self.nodes[item.id]
        filtered, indent = self._filter(node)
        if not filtered:
            self._print_node(node, node_prefix)
        if item.kind == "exec":
            return
        last = len(item.children) - 1
        for index, child in enumerate(item.children):
            part, subp = self._glyphs(filtered, indent, index, last)
            if not filtered:
                child_node_prefix = child_prefix + part
            else:
                child_node_prefix = (node_prefix if index == 0 else child_prefix) + part
            self.render(child, child_node_prefix, child_prefix + subp)

    def _print_node(self, node: Node, prefix: str) -> None:
        if node.get("type") == "Suspend" and node.get("phase") == "Running":
            icon = _icon(_SUSPEND_ICON, self.utf8, self.color)
        else:
            icon = _icon(_PHASE_ICONS.get(str(node.get("phase") or "")), self.utf8, self.color)
        name = f"{icon} {_display_name(node)}"
        ref = node.get("templateRef")
        if isinstance(ref, Mapping) and ref:
            template = f"{ref.get('name') or ''}/{ref.get('template') or ''}"
        else:
            template = str(node.get("templateName") or "")
        message = str(node.get("message") or "")
        is_pod = node.get("type") == "Pod"
        pod = duration = host = ""
        if is_pod:
            pod = node_pod_name(self.wf_name, node, version=self.pod_version)
            started = parse_time(node.get("startedAt"))
            finished = parse_time(node.get("finishedAt"))
            duration = relative_duration_short(started, finished, self.now)
            host = str(node.get("hostNodeName") or "")
        if self.output == "wide":
            arts = ",".join(str(a.get("name") or "") for a in (node.get("outputs") or {}).get("artifacts") or [])
            rd = _resources_duration(node.get("resourcesDuration"))
            cells = [prefix + name, template, pod, duration, arts, message, rd, host]
        elif self.output == "short":
            cells = [prefix + name, template, pod, duration, message, host]
        else:
            cells = [prefix + name, template, pod, duration, message, ""]
        self.rows.append("\t".join(cells) + "\n")


def _before(a: datetime | None, b: datetime | None) -> bool:
    """Go ``a.Before(b)`` where None is the zero time (earlier than everything)."""
    if a is None:
        return b is not None
    if b is None:
        return False
    return a < b


def _render_tree(wf: Workflow, *, now: datetime, utf8: bool, color: bool, output: str, selector: str | None) -> str | None:
    """The tabwriter-formatted node tree, or None when Argo would print no tree."""
    name = str((wf.get("metadata") or {}).get("name") or "")
    nodes: Mapping[str, Node] = (wf.get("status") or {}).get("nodes") or {}
    if not nodes:
        return None
    root_id = name if name in nodes else next((i for i, n in nodes.items() if n.get("name") == name), None)
    if root_id is None:
        return None
    renderer = _TreeRenderer(wf, now=now, utf8=utf8, color=color, output=output, selector=selector)
    roots = renderer.build()
    if root_id not in roots:
        return None
    step = _ansi("STEP", _FG_DEFAULT, color)
    if output == "wide":
        header = f"{step}\tTEMPLATE\tPODNAME\tDURATION\tARTIFACTS\tMESSAGE\tRESOURCESDURATION\tNODENAME\n"
    elif output == "short":
        header = f"{step}\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\tNODENAME\n"
    else:
        header = f"{step}\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\n"
    renderer.render(roots[root_id], " ", " ")
    exit_name = f"{name}.onExit"
    exit_id = f"{name}-{fnv32a(exit_name)}"
    if exit_id not in roots:
        exit_id = next((i for i in roots if nodes[i].get("name") == exit_name), "")
    if exit_id in roots:
        renderer.rows.append("\t\t\t\t\t\n")
        renderer.render(roots[exit_id], " ", " ")
    return tabwrite(header + "".join(renderer.rows), minwidth=0, tabwidth=8, padding=2, padchar=" ")


def _artifact_location(art: Mapping[str, Any]) -> str | None:
    """Location text for ``Output Artifacts:`` (S3 as Argo's S3Artifact.String)."""
    s3 = art.get("s3")
    if isinstance(s3, Mapping):
        protocol = "http" if s3.get("insecure") else "https"
        return f"{protocol}://{s3.get('endpoint') or ''}/{s3.get('bucket') or ''}/{s3.get('key') or ''}"
    for kind, key in (("artifactory", "url"), ("http", "url"), ("git", "repo"), ("raw", "data")):
        loc = art.get(kind)
        if isinstance(loc, Mapping):
            return str(loc.get(key) or "")
    for kind, scheme in (("gcs", "gs"), ("oss", "oss"), ("azure", "azure")):
        loc = art.get(kind)
        if isinstance(loc, Mapping):
            bucket = loc.get("bucket") or loc.get("container") or ""
            return f"{scheme}://{bucket}/{loc.get('key') or loc.get('blob') or ''}"
    hdfs = art.get("hdfs")
    if isinstance(hdfs, Mapping):
        return f"hdfs://{hdfs.get('path') or ''}"
    return None


def render_workflow(
    wf: Workflow,
    *,
    now: datetime,
    utf8: bool = True,
    color: bool = False,
    output: str = "",
    node_field_selector: str | None = None,
) -> str:
    """``argo get`` text: the ``%-20s`` summary block, a blank line, then the node tree.

    ``output`` is "" (default), "wide" or "short" (tree only, with NODENAME).
    Raises ValueError on an invalid ``node_field_selector``.
    """
    line = "{:<20} {}\n".format
    meta = wf.get("metadata") or {}
    spec = wf.get("spec") or {}
    status = wf.get("status") or {}
    exec_spec = status.get("storedWorkflowTemplateSpec") or spec
    out: list[str] = [line("Name:", meta.get("name") or ""), line("Namespace:", meta.get("namespace") or "")]
    service_account = exec_spec.get("serviceAccountName") or ""
    if not service_account:
        if spec.get("workflowTemplateRef"):
            service_account = "unset"
        else:
            service_account = "unset (will run with the default ServiceAccount)"
    out.append(line("ServiceAccount:", service_account))
    out.append(line("Status:", workflow_status(wf)))
    if status.get("message"):
        out.append(line("Message:", status["message"]))
    conditions = status.get("conditions") or []
    if conditions:
        out.append(line("Conditions:", ""))
        for cond in conditions:
            ctype = str(cond.get("type") or "")
            prefix = f"{_icon(_CONDITION_ICONS.get(ctype), utf8, color)} {ctype}"
            out.append(line(prefix, cond.get("message") or cond.get("status") or ""))
    created = parse_time(meta.get("creationTimestamp"))
    started = parse_time(status.get("startedAt"))
    finished = parse_time(status.get("finishedAt"))
    out.append(line("Created:", go_timestamp(created, now)))
    if started is not None:
        out.append(line("Started:", go_timestamp(started, now)))
    if finished is not None:
        out.append(line("Finished:", go_timestamp(finished, now)))
    if started is not None:
        out.append(line("Duration:", relative_duration(started, finished, now)))
    if status.get("phase") == "Running" and (status.get("estimatedDuration") or 0) > 0:
        out.append(line("EstimatedDuration:", humanize_duration(int(status["estimatedDuration"]))))
    out.append(line("Progress:", status.get("progress") or ""))
    if status.get("resourcesDuration"):
        out.append(line("ResourcesDuration:", _resources_duration(status["resourcesDuration"])))
    params = (exec_spec.get("arguments") or {}).get("parameters") or []
    if params:
        out.append(line("Parameters:", ""))
        for param in params:
            if param.get("value") is None:
                continue
            out.append(line(f"  {param.get('name')}:", _str(param["value"])))
    outputs = status.get("outputs")
    if outputs:
        out_params = outputs.get("parameters") or []
        if out_params:
            out.append(line("Output Parameters:", ""))
            for param in out_params:
                # Parameter.HasValue / GetValue: value, else default, else "" when only valueFrom is set.
                value = param.get("value")
                if value is None:
                    value = param.get("default")
                if value is None and param.get("valueFrom") is None:
                    continue
                out.append(line(f"  {param.get('name')}:", _str(value)))
        out_arts = outputs.get("artifacts") or []
        if out_arts:
            out.append(line("Output Artifacts:", ""))
            for art in out_arts:
                location = _artifact_location(art)
                if location is not None:
                    out.append(line(f"  {art.get('name')}:", location))
    text = "".join(out)
    tree = _render_tree(wf, now=now, utf8=utf8, color=color, output=output, selector=node_field_selector)
    if tree is None:
        return text
    if output == "short":
        return tree
    return text + "\n" + tree


# --------------------------------------------------------------------------- argo list


def _parameter_string(params: Iterable[Mapping[str, Any]]) -> str:
    """``printer.parameterString``: ``name=value`` pairs, values over 50 chars middle-truncated."""
    parts = []
    for param in params:
        if param.get("value") is None:
            continue
        value = _str(param["value"])
        if len(value) > 50:
            value = value[: 50 - 3 - 15] + "..." + value[-15:]
        parts.append(f"{param.get('name')}={value}")
    return ",".join(parts)


def _pending_running_completed(wf: Workflow) -> tuple[int, int, int]:
    pending = running = completed = 0
    for node in ((wf.get("status") or {}).get("nodes") or {}).values():
        if node.get("type") != "Pod":
            continue
        phase = node.get("phase")
        if phase in _FULFILLED:
            completed += 1
        elif phase == "Running":
            running += 1
        else:
            pending += 1
    return pending, running, completed


def _cost_nudges(workflows: Sequence[Workflow]) -> str:
    completed = sum(1 for wf in workflows if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"))
    incomplete = len(workflows) - completed
    if completed <= 100 and incomplete <= 100:
        return ""
    text = "\nYou have at least "
    if incomplete > 100:
        text += f"{incomplete} incomplete "
    if incomplete > 100 and completed > 100:
        text += "and "
    if completed > 100:
        text += f"{completed} completed "
    text += "workflows. Reducing the total number of workflows will reduce your costs.\n"
    return text + "Learn more at https://argo-workflows.readthedocs.io/en/latest/cost-optimisation/\n"


def render_list(
    workflows: Sequence[Workflow],
    *,
    now: datetime,
    output: str = "",
    all_namespaces: bool = False,
    no_headers: bool = False,
    uid: bool = False,
) -> str:
    """``argo list`` table (tabwriter padding 3), ``-o name`` names, or ``No workflows found``."""
    if not workflows:
        return "No workflows found\n"
    if output == "name":
        return "".join(f"{(wf.get('metadata') or {}).get('name') or ''}\n" for wf in workflows)
    buf: list[str] = []
    if not no_headers:
        head = "NAMESPACE\t" if all_namespaces else ""
        head += "NAME\tSTATUS\tAGE\tDURATION\tPRIORITY\tMESSAGE"
        if output == "wide":
            head += "\tP/R/C\tPARAMETERS"
        if uid:
            head += "\tUID"
        buf.append(head + "\n")
    for wf in workflows:
        meta = wf.get("metadata") or {}
        spec = wf.get("spec") or {}
        status = wf.get("status") or {}
        age = relative_duration_short(parse_time(meta.get("creationTimestamp")), now, now)
        duration = relative_duration_short(parse_time(status.get("startedAt")), parse_time(status.get("finishedAt")), now)
        row = f"{meta.get('namespace') or ''}\t" if all_namespaces else ""
        priority = int(spec.get("priority") or 0)
        row += f"{meta.get('name') or ''}\t{workflow_status(wf)}\t{age}\t{duration}\t{priority}\t{status.get('message') or ''}"
        if output == "wide":
            p, r, c = _pending_running_completed(wf)
            row += f"\t{p}/{r}/{c}\t{_parameter_string((spec.get('arguments') or {}).get('parameters') or [])}"
        if uid:
            row += f"\t{meta.get('uid') or ''}"
        buf.append(row + "\n")
    return tabwrite("".join(buf), minwidth=0, tabwidth=0, padding=3, padchar=" ") + _cost_nudges(workflows)


# --------------------------------------------------------------------------- argo lint


def render_lint(
    results: Sequence[tuple[str, str, str, Sequence[str]]],
    fmt: str = "pretty",
    *,
    color: bool = False,
) -> tuple[str, int]:
    """``argo lint`` output and exit code from ``(file, name, kind, errors)`` per linted object.

    Objects of one file are grouped like Argo's per-file LintResult; an empty
    name becomes ``object #N``. Nothing linted or any error ⇒ exit code 1.
    """
    if fmt not in ("pretty", "simple"):
        raise ValueError(f"unknown formatter: {fmt}")
    files: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for file, name, kind, errors in results:
        counts[file] = counts.get(file, 0) + 1
        label = name or f"object #{counts[file]}"
        files.setdefault(file, []).extend(f'in "{label}" ({kind}): {err}' for err in errors)
    total = sum(len(errs) for errs in files.values())
    out: list[str] = []
    for file, errs in files.items():
        if not errs:
            continue
        if fmt == "simple":
            out.extend(f"{file}: {err}\n" for err in errs)
        else:
            out.append(f"{_ansi(file, 4, color)}:\n")
            out.extend(f"   {_ansi('✖', _FG_RED, color)} {err}\n" for err in errs)
            out.append("\n")
    if not files:
        msg = "found nothing to lint in the specified paths, failing..."
        if fmt == "pretty":
            return _ansi("✖ " + msg, _FG_RED, color) + "\n", 1
        return msg + "\n", 1
    if total == 0:
        summary = f"{_ansi('✔', _FG_GREEN, color)} no linting errors found!\n" if fmt == "pretty" else "no linting errors found!\n"
        return "".join(out) + summary, 0
    if fmt == "pretty":
        out.append(_ansi(f"✖ {total} linting errors found!", _FG_RED, color) + "\n")
    return "".join(out), 1
