"""A port of Argo's workflow validator (``workflow/validate/validate.go``, v4.1).

It works on the wire form of a document (camelCase dicts, as ``to_dict()`` gives) because Argo
validates the JSON of a template after substituting placeholders into it. Each check raises
:class:`Invalid` with Argo's exact text, and callers add the path prefix the way Go wraps its
errors (``templates.main.steps[0].a templates.whalesay inputs.parameters.message was not
supplied``). Argo stops at the first error; :class:`ArgoValidator` keeps going at the
independent points (each top-level phase, each template) so one run reports every template's
first problem.

Known, deliberate differences from Argo are marked ``ARGOSY:`` in comments.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

__all__ = [
    "UNKNOWN",
    "ArgoValidator",
    "Invalid",
    "TemplateBase",
    "TemplateFinder",
    "has_location_or_key",
    "template_type",
    "walk_strings",
]

Obj = dict[str, Any]


class Invalid(Exception):
    """One validation failure; ``message`` is the text Argo prints."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _wrap(prefix: str, exc: Invalid) -> Invalid:
    return Invalid(f"{prefix} {exc.message}")


# ----------------------------------------------------------------------------------------- names

_WORKFLOW_FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_PARAM_OR_ARTIFACT_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
_PARAMETER_TAG = re.compile(r"\{\{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*\}\}")
_METRIC_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_WORKFLOW_FIELD_MAX = 128

FIELD_NAME_MESSAGE = (
    "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character"
    " (e.g. My-name1-2, 123-NAME)"
)
PARAM_NAME_MESSAGE = (
    "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1"
)


def field_name_errors(name: str) -> list[str]:
    """``isValidWorkflowFieldName``: template, step, task and container names."""
    errs = []
    if len(name) > _WORKFLOW_FIELD_MAX:
        errs.append(f"must be no more than {_WORKFLOW_FIELD_MAX} characters")
    if not _WORKFLOW_FIELD_NAME.match(name):
        errs.append(FIELD_NAME_MESSAGE)
    return errs


def param_name_errors(name: str) -> list[str]:
    """``isValidParamOrArtifactName``: parameter, artifact and globalName names."""
    return [] if _PARAM_OR_ARTIFACT_NAME.match(name) else [PARAM_NAME_MESSAGE]


def is_parameter(text: str) -> bool:
    """Argo's ``isParameter``: the string contains a plain ``{{a.b-c}}`` reference."""
    return bool(_PARAMETER_TAG.search(text))


def check_field_names(items: list[Any], *, params: bool) -> str | None:
    """``validateWorkflowFieldNames``: the error suffix (``[1].name 'x' is not unique``) or None."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else item
        name = name if isinstance(name, str) else ""
        if not name:
            return f"[{i}].name is required"
        errs = param_name_errors(name) if params else field_name_errors(name)
        if errs:
            return f"[{i}].name: '{name}' is invalid: {';'.join(errs)}"
        if name in seen:
            return f"[{i}].name '{name}' is not unique"
        seen.add(name)
    return None


# ----------------------------------------------------------------------------------------- types

_TYPES = (
    ("container", "Container"),
    ("containerSet", "ContainerSet"),
    ("steps", "Steps"),
    ("dag", "DAG"),
    ("script", "Script"),
    ("resource", "Resource"),
    ("data", "Data"),
    ("suspend", "Suspend"),
    ("http", "HTTP"),
    ("plugin", "Plugin"),
)
_LEAF = {"Container", "ContainerSet", "Script", "Resource", "Data", "HTTP", "Plugin"}
_POD = {"Container", "ContainerSet", "Script", "Resource", "Data"}


def template_type(tmpl: Obj) -> str | None:
    """``Template.GetType``: the first type field present, in Argo's order (None = Unknown)."""
    for key, kind in _TYPES:
        if tmpl.get(key) is not None:
            return kind
    return None


def _is_leaf(tmpl: Obj) -> bool:
    return template_type(tmpl) in _LEAF


def _has_output(tmpl: Obj) -> bool:
    """``Template.HasOutput``: whether ``outputs.result``/``exitCode`` exist for callers."""
    if any(tmpl.get(k) is not None for k in ("container", "script", "data", "http", "plugin")):
        return True
    containers = (tmpl.get("containerSet") or {}).get("containers") or []
    return any(isinstance(c, dict) and c.get("name") == "main" for c in containers)


def has_location_or_key(art: Obj) -> bool:
    """``ArtifactLocation.HasLocationOrKey`` for an artifact dict."""
    s3 = art.get("s3")
    if isinstance(s3, dict) and s3.get("key"):
        return True
    git = art.get("git")
    if isinstance(git, dict) and git.get("repo"):
        return True
    http = art.get("http")
    if isinstance(http, dict) and http.get("url"):
        return True
    if art.get("raw") is not None:
        return True
    for loc, key in (("gcs", "key"), ("oss", "key"), ("azure", "blob"), ("hdfs", "path"), ("artifactory", "url"), ("plugin", "key")):
        value = art.get(loc)
        if isinstance(value, dict) and value.get(key):
            return True
    return False


def clean_path_error(art: Obj) -> str | None:
    """``Artifact.CleanPath``: a missing path or a ``..`` escape."""
    name = art.get("name", "")
    path = art.get("path") or ""
    if not path:
        return f"Artifact '{name}' did not specify a path"
    safe = ""
    if "/../" in path:
        safe = path[: path.index("/../")]
    elif path.endswith("/.."):
        safe = path[:-3]
    if safe:
        import posixpath

        cleaned = posixpath.normpath(path)
        with_slash = safe + "/"
        if not cleaned.startswith(with_slash) or len(cleaned) <= len(with_slash):
            return f"Artifact '{name}' attempted to use a path containing '..'. Directory traversal is not permitted"
    return None


# ----------------------------------------------------------------------------------------- tags

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_VALID_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
_WILDCARD = "\x00"  # scope keys starting with this accept every reference below the prefix


def walk_strings(obj: Any) -> Iterator[str]:
    """Every string in a JSON-like object, map keys included (Argo scans the JSON text)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str):
                yield key
            yield from walk_strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk_strings(value)


def _replace(text: str, values: dict[str, str]) -> str:
    if "{{" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner.startswith("="):
            return m.group(0)
        return values.get(inner.strip(), m.group(0))

    return _TAG.sub(repl, text)


def _substitute(obj: Any, values: dict[str, str]) -> Any:
    """Replace simple tags found in ``values`` anywhere in ``obj`` (a new object)."""
    if isinstance(obj, str):
        return _replace(obj, values)
    if isinstance(obj, dict):
        return {(_replace(k, values) if isinstance(k, str) else k): _substitute(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_substitute(v, values) for v in obj]
    return obj


def _has_simple_tag(obj: Any) -> bool:
    return any(not m.group(1).startswith("=") for s in walk_strings(obj) for m in _TAG.finditer(s))


@dataclass(frozen=True)
class _TagRef:
    kind: str
    expr: str
    raw: str


def _iter_tags(text: str) -> Iterator[_TagRef]:
    """Tags of ``text`` via ``templating.iter_tags`` when present, else fasttemplate's scan."""
    try:
        from argosy.pipeline.templating import iter_tags
    except ImportError:  # pragma: no cover - templating.py is part of the tree
        for m in _TAG.finditer(text):
            inner = m.group(1)
            if inner.startswith("="):
                yield _TagRef("expression", inner[1:].strip(), m.group(0))
            else:
                yield _TagRef("simple", inner.strip(), m.group(0))
        return
    for tag in iter_tags(text):
        yield _TagRef(tag.kind, tag.expr, tag.raw)


class _Placeholders:
    """Argo's placeholder generator: ``placeholder-N`` values stand for runtime-only strings."""

    def __init__(self) -> None:
        self.index = 0

    def next(self) -> str:
        value = f"placeholder-{self.index}"
        self.index += 1
        return value


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("placeholder-")


# ----------------------------------------------------------------------------------------- arguments


class _Args(Protocol):
    def param(self, name: str) -> Obj | None: ...

    def artifact(self, name: str) -> Obj | None: ...


class _FakeArgs:
    """``FakeArguments``: every input is supplied (with a placeholder)."""

    def __init__(self, ph: _Placeholders) -> None:
        self.ph = ph

    def param(self, name: str) -> Obj | None:
        return {"name": name, "value": self.ph.next()}

    def artifact(self, name: str) -> Obj | None:
        return {"name": name}


class _RealArgs:
    """An ``arguments`` block as an arguments provider."""

    def __init__(self, arguments: Obj | None) -> None:
        self.arguments = arguments or {}

    def _find(self, key: str, name: str) -> Obj | None:
        for item in self.arguments.get(key) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item
        return None

    def param(self, name: str) -> Obj | None:
        return self._find("parameters", name)

    def artifact(self, name: str) -> Obj | None:
        return self._find("artifacts", name)


def merge_named(primary: list[Obj] | None, secondary: list[Obj] | None) -> list[Obj]:
    """``util.MergeParameters``/``MergeArtifacts``: ``primary`` wins, ``secondary`` fills in."""
    out = list(primary or [])
    names = {p.get("name") for p in out}
    out.extend(p for p in secondary or [] if p.get("name") not in names)
    return out


def validate_arguments(prefix: str, arguments: Obj | None, allow_empty: bool) -> None:
    """``validateArguments``: names, then values (raises :class:`Invalid`)."""
    arguments = arguments or {}
    params = arguments.get("parameters") or []
    arts = arguments.get("artifacts") or []
    for key, items in (("parameters", params), ("artifacts", arts)):
        err = check_field_names(items, params=True)
        if err:
            raise Invalid(f"{prefix}{key}{err}")
    for p in params:
        name = p.get("name", "")
        value_from = p.get("valueFrom")
        if value_from is None and p.get("value") is None and not allow_empty:
            raise Invalid(f"{prefix}{name}.value or {prefix}{name}.valueFrom is required")
        if value_from is not None:
            ok = value_from.get("configMapKeyRef") is not None or value_from.get("event") or value_from.get("supplied") is not None
            bad = any(value_from.get(k) for k in ("path", "jsonPath", "parameter", "expression"))
            if not ok or bad:
                raise Invalid(f"{prefix}{name}.valueFrom only allows: default, configMapKeyRef and supplied")
        enum = p.get("enum")
        if enum is not None:
            if len(enum) == 0:
                raise Invalid(f"{prefix}{name}.enum should contain at least one value")
            if p.get("value") is None:
                if allow_empty:
                    return
                raise Invalid(f"{prefix}{name}.value is required")
            if p["value"] not in enum:
                raise Invalid(f"{prefix}{name}.value should be present in {prefix}{name}.enum list")
    for art in arts:
        name = art.get("name", "")
        if not art.get("from") and not has_location_or_key(art):
            raise Invalid(f"{prefix}{name}.from, artifact location, or key is required")
        if art.get("from") and art.get("fromExpression"):
            raise Invalid(f"{prefix}{name} shouldn't have both `from` and `fromExpression` in Artifact")


# ----------------------------------------------------------------------------------------- DAG helpers

_TASK_NAME = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")
TASK_RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")


def parse_depends(depends: str) -> tuple[list[tuple[str, str]], str | None]:
    """``common.ParseDepends``: (task, result) references and the first bad-result error."""
    refs: list[tuple[str, str]] = []
    err = None
    for m in _TASK_NAME.finditer(depends):
        if m.group(1):
            task, result = m.group(1).split(".", 1)
            if result not in TASK_RESULTS and err is None:
                err = f"task result '{result}' for task '{task}' is invalid"
            refs.append((task, result))
        elif m.group(2):
            refs.append((m.group(2), ""))
    return refs, err


def _expand_dependency(name: str) -> str:
    return f"({name}.Succeeded || {name}.Skipped || {name}.Daemoned)"


def task_dependencies(task: Obj) -> dict[str, str]:
    """``GetTaskDependencies``: dependency name -> ``task`` or ``items`` (in order of appearance)."""
    depends = task.get("depends") or ""
    if not depends:
        depends = " && ".join(_expand_dependency(d) for d in task.get("dependencies") or [] if isinstance(d, str))
    out: dict[str, str] = {}
    for name, result in parse_depends(depends)[0]:
        if result in ("AnySucceeded", "AllFailed"):
            out[name] = "items"
        else:
            out.setdefault(name, "task")
    return out


def _sort_tasks(tasks: list[Obj]) -> list[Obj]:
    """``sortDAGTasks`` (Kahn's algorithm, roots in declaration order)."""
    by_name: dict[str, Obj] = {}
    deps: dict[str, list[str]] = {}
    for task in tasks:
        name = task.get("name", "")
        if name in by_name:
            raise Invalid(f"duplicated nodeName {name}")
        by_name[name] = task
        deps[name] = list(task_dependencies(task))
    following: dict[str, list[str]] = {n: [] for n in by_name}
    for name, names in deps.items():
        for dep in names:
            if dep not in by_name:
                raise Invalid(f"invalid dependency {dep}")
            following[dep].append(name)
    waiting = {n: len(d) for n, d in deps.items()}
    queue = [n for n in by_name if waiting[n] == 0]
    head = 0
    while head < len(queue):
        for nxt in following[queue[head]]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                queue.append(nxt)
        head += 1
    if len(queue) != len(by_name):
        raise Invalid("graph with cycle")
    return [by_name[n] for n in queue]


def find_cycle(graph: dict[str, list[str]], names: list[str]) -> str | None:
    """Argo's ``noCyclesHelper`` DFS: ``a->b->a`` for the first cycle found, else None."""
    visited: set[str] = set()

    def helper(current: str, cycle: list[str]) -> str | None:
        if current in visited or current not in graph:
            return None
        for dep in graph[current]:
            if dep in cycle:
                return "->".join(cycle) + "->" + dep
            cycle.append(dep)
            found = helper(dep, cycle)
            if found:
                return found
            cycle.pop()
        visited.add(current)
        return None

    for name in names:
        found = helper(name, [])
        if found:
            return found
    return None


def _ancestry(tasks: dict[str, Obj], name: str) -> list[str]:
    """``GetTaskAncestry``: every task ``name`` depends on, transitively (post-order)."""
    seen: dict[str, None] = {}

    def visit(current: str, stack: frozenset[str]) -> None:
        if current in seen or current in stack:
            return
        task = tasks.get(current)
        for dep in task_dependencies(task) if task else {}:
            visit(dep, stack | {current})
        if current != name:
            seen[current] = None

    visit(name, frozenset())
    return list(seen)


# ----------------------------------------------------------------------------------------- holders


@dataclass
class TemplateBase:
    """Where template names are looked up: a Workflow (or a wrapped template) or a WorkflowTemplate."""

    kind: str
    name: str
    spec: Obj

    def template(self, name: str) -> Obj | None:
        for tmpl in self.spec.get("templates") or []:
            if isinstance(tmpl, dict) and tmpl.get("name") == name:
                return tmpl
        return None

    @property
    def scope(self) -> str:
        prefix = {"WorkflowTemplate": "namespaced", "ClusterWorkflowTemplate": "cluster"}.get(self.kind, "local")
        return f"{prefix}/{self.name}"

    def default_image(self, key: str) -> bool:
        """``templateDefaults.<container|script>.image`` is set (never for cluster templates)."""
        if self.kind == "ClusterWorkflowTemplate":
            return False
        defaults = self.spec.get("templateDefaults") or {}
        return bool((defaults.get(key) or {}).get("image"))


class _Unknown:
    """A referenced WorkflowTemplate that this lint run cannot see (not linted, no store)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

#: ``(name, cluster_scope) -> TemplateBase | None (missing) | UNKNOWN (cannot tell)``
TemplateFinder = Callable[[str, bool], "TemplateBase | None | _Unknown"]

_OPAQUE: Obj = {"name": "", "__opaque__": True}  # resolved through a WorkflowTemplate we cannot see

_RETRY_POLICIES = ("Always", "OnError", "OnFailure", "OnTransientError", "")
_POD_GC = ("", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")
_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist")
_INT_STR = re.compile(r"^[+-]?\d+$")
_ARGO_VARIABLE = re.compile(r"^\{\{.+\}\}$", re.S)
_MANIFEST_EXPR = re.compile(r"\{\{\s*=\s*(.+?)\s*\}\}", re.S)


# ----------------------------------------------------------------------------------------- validator


@dataclass
class ArgoValidator:
    """One validation run over one document (``templateValidationCtx`` + its options)."""

    find: TemplateFinder
    lint: bool = True
    workflow_template: bool = False
    submit: bool = False
    #: Argosy checks inside steps/tasks (``when`` and ``{{=...}}`` syntax, hook templates)
    extra_checks: bool = True
    globals: dict[str, str] = field(default_factory=dict)
    results: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    ph: _Placeholders = field(default_factory=_Placeholders)

    def __post_init__(self) -> None:
        for key in ("workflow.name", "workflow.namespace", "workflow.mainEntrypoint", "workflow.serviceAccountName", "workflow.uid"):
            self.globals[key] = self.ph.next()

    # ------------------------------------------------------------------------------ workflow

    def validate_workflow(self, wf: Obj, *, ignore_entrypoint: bool = False) -> list[str]:
        """``validate.Workflow``: every independent error, in Argo's order."""
        errors: list[str] = []
        meta = wf.get("metadata") or {}
        spec = wf.get("spec") or {}
        name = meta.get("name") or ""
        if len(name.encode()) > 63:
            errors.append(f"workflow name {_go_quote(name)} must not be more than 63 characters long (currently {len(name.encode())})")
        base = TemplateBase("Workflow", name, spec)
        wft_ref = spec.get("workflowTemplateRef")
        wft: TemplateBase | None = None
        wft_unknown = False
        entrypoint = spec.get("entrypoint") or ""
        if wft_ref is not None:
            if spec.get("templates"):
                errors.append("Templates is invalid field in spec if workflow referred WorkflowTemplate reference")
            cluster = bool(wft_ref.get("clusterScope"))
            found = self.find(wft_ref.get("name") or "", cluster)
            if isinstance(found, _Unknown):
                wft_unknown = True
            elif found is None:
                kind = "clusterworkflowtemplates" if cluster else "workflowtemplates"
                errors.append(f'{kind}.argoproj.io "{wft_ref.get("name") or ""}" not found')
                return errors
            else:
                wft = found
                entrypoint = entrypoint or wft.spec.get("entrypoint") or ""
        err = check_field_names(spec.get("templates") or [], params=False)
        if err:
            errors.append(f"spec.templates{err}")
        wf_args: Obj = dict(spec.get("arguments") or {})
        if wft is not None:
            wft_args = wft.spec.get("arguments") or {}
            wf_args["parameters"] = merge_named(wf_args.get("parameters"), wft_args.get("parameters"))
            wf_args["artifacts"] = merge_named(wf_args.get("artifacts"), wft_args.get("artifacts"))
        allow_empty = self.lint or (self.workflow_template and not self.submit)
        try:
            validate_arguments("spec.arguments.", wf_args, allow_empty)
        except Invalid as exc:
            errors.append(exc.message)
        self._set_globals(wf, wf_args, wft)
        if not ignore_entrypoint and not entrypoint and not wft_unknown:
            errors.append("spec.entrypoint is required")
        elif not ignore_entrypoint and entrypoint and not wft_unknown:
            args: _Args = _FakeArgs(self.ph) if self.workflow_template else _RealArgs(wf_args)
            holder: Obj = {"template": entrypoint}
            if wft_ref is not None:
                holder = {"templateRef": _ref(wft_ref, entrypoint)}
            self._collect(errors, holder, base, args)
        on_exit = spec.get("onExit") or ""
        exit_holder: Obj | None = None
        if on_exit:
            exit_holder = {"templateRef": _ref(wft_ref, on_exit)} if wft_ref is not None else {"template": on_exit}
        elif wft is not None and wft.spec.get("onExit"):
            exit_holder = {"templateRef": _ref(wft_ref or {}, wft.spec["onExit"])}
        if exit_holder is not None and not (wft_ref is not None and wft_unknown):
            self.globals["workflow.failures"] = self.ph.next()
            templates = list(spec.get("templates") or []) + list((wft.spec.get("templates") if wft else None) or [])
            if any(
                isinstance(a, dict) and a.get("globalName") and is_parameter(a["globalName"])
                for t in templates
                for a in ((t.get("outputs") or {}).get("artifacts") or [])
            ):
                self.globals["workflow.outputs.artifacts.*"] = "true"
            self._collect(errors, exit_holder, base, _RealArgs(spec.get("arguments")))
        try:
            _validate_hooks(spec.get("hooks"), "hooks")
        except Invalid as exc:
            errors.append(exc.message)
        if self.extra_checks:
            errors.extend(self._hook_templates(spec.get("hooks"), "hooks", base))
        pod_gc = spec.get("podGC") or {}
        strategy = pod_gc.get("strategy") or ""
        if strategy not in _POD_GC:
            errors.append(f"podGC.strategy unknown strategy '{strategy}'")
        selector_err = _label_selector_error(pod_gc.get("labelSelector"))
        if selector_err:
            errors.append(f"podGC.labelSelector invalid: {selector_err}")
        if wft_ref is not None:
            if wft is not None:
                for tmpl in wft.spec.get("templates") or []:
                    tname = tmpl.get("name") or ""
                    if tname and wft.scope + tname not in self.failed:
                        ref_holder = {"templateRef": _ref(wft_ref, tname)}
                        self._collect(errors, ref_holder, base, _FakeArgs(self.ph), f"templates.{tname}")
            return _dedupe(errors)
        for tmpl in spec.get("templates") or []:
            tname = tmpl.get("name") or "" if isinstance(tmpl, dict) else ""
            if not tname or base.scope + tname in self.failed:
                continue
            self._collect(errors, {"template": tname}, base, _FakeArgs(self.ph), f"templates.{tname}")
        return _dedupe(errors)

    def _collect(self, errors: list[str], holder: Obj, base: TemplateBase, args: _Args, prefix: str = "") -> None:
        """Validate one holder, adding its first error (with ``prefix``) to ``errors``."""
        try:
            self.validate_holder(holder, base, args)
        except Invalid as exc:
            errors.append(f"{prefix} {exc.message}" if prefix else exc.message)

    def _set_globals(self, wf: Obj, wf_args: Obj, wft: TemplateBase | None) -> None:
        params = wf_args.get("parameters") or []
        if params:
            self.globals["workflow.parameters"] = self.ph.next()
            self.globals["workflow.parameters.json"] = self.ph.next()
        for p in params:
            if p.get("name"):
                value = p.get("value")
                self.globals[f"workflow.parameters.{p['name']}"] = value if isinstance(value, str) else self.ph.next()
        meta = wf.get("metadata") or {}
        spec = wf.get("spec") or {}
        annotations = set(meta.get("annotations") or {})
        labels = set(meta.get("labels") or {})
        metas = [spec.get("workflowMetadata")]
        if wft is not None:
            metas.append(wft.spec.get("workflowMetadata"))
        for wm in metas:
            if isinstance(wm, dict):
                annotations |= set(wm.get("annotations") or {})
                labels |= set(wm.get("labels") or {}) | set(wm.get("labelsFrom") or {})
        for key in sorted(annotations):
            self.globals[f"workflow.annotations.{key}"] = self.ph.next()
        self.globals["workflow.annotations"] = self.ph.next()
        self.globals["workflow.annotations.json"] = self.ph.next()
        for key in sorted(labels):
            self.globals[f"workflow.labels.{key}"] = self.ph.next()
        self.globals["workflow.labels"] = self.ph.next()
        self.globals["workflow.labels.json"] = self.ph.next()
        if spec.get("priority") is not None:
            self.globals["workflow.priority"] = str(spec["priority"])
        self.globals["workflow.status"] = self.ph.next()

    # ------------------------------------------------------------------------------ holders

    def validate_holder(self, holder: Obj, base: TemplateBase, args: _Args) -> Obj | None:
        """``validateTemplateHolder``: resolve a step/task/entrypoint and validate its template."""
        ref = holder.get("templateRef")
        name = holder.get("template") or ""
        if ref is not None:
            if name:
                raise Invalid("template name cannot be specified with templateRef")
            if not ref.get("name"):
                raise Invalid("resource name is required")
            if not ref.get("template"):
                raise Invalid("template name is required")
            if _has_simple_tag(ref):
                return None  # "template reference needs resolution": runtime only
        elif name and base.template(name) is None:
            raise Invalid(f"template name '{name}' undefined")
        inline = holder.get("inline")
        new_base = base
        if inline is not None:
            tmpl: Obj | None = inline
        elif ref is not None:
            found = self.find(ref["name"], bool(ref.get("clusterScope")))
            if isinstance(found, _Unknown):
                return _OPAQUE  # ARGOSY: a WorkflowTemplate this run cannot see; Argo asks the server
            tmpl = found.template(ref["template"]) if found is not None else None
            if tmpl is None:
                if "placeholder-" in ref["template"]:
                    return None
                raise Invalid(f"template reference {ref['name']}.{ref['template']} not found")
            assert found is not None
            new_base = found
        elif name:
            tmpl = base.template(name)
        else:
            raise Invalid("failed to get a template")
        assert tmpl is not None
        key = new_base.scope + self._template_id(tmpl)
        try:
            if template_type(tmpl) is None:
                raise Invalid(f"template '{tmpl.get('name') or ''}' type is unknown")
            retry = tmpl.get("retryStrategy")
            if isinstance(retry, dict):
                policy = retry.get("retryPolicy") or ""
                if policy not in _RETRY_POLICIES:
                    raise Invalid(f"{policy} is not a valid RetryPolicy")
            self._validate_template(tmpl, new_base, args, key)
        except Invalid:
            self.failed.add(key)  # reported once: the all-templates pass skips it
            raise
        return tmpl

    # ------------------------------------------------------------------------------ templates

    @staticmethod
    def _template_id(tmpl: Obj) -> str:
        name = tmpl.get("name") or ""
        if name:
            return name
        # ARGOSY: Argo keys inline templates by their (empty) name, so only the first inline
        # template of a scope is ever checked; we key them by content and check each one.
        return "\x00inline\x00" + json.dumps(tmpl, default=str)

    def _validate_template(self, tmpl: Obj, base: TemplateBase, args: _Args, key: str) -> None:
        tname = tmpl.get("name") or ""
        ttype = template_type(tmpl)
        count = sum(1 for k, _ in _TYPES if tmpl.get(k) is not None)
        choose = "choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref"
        if count == 0:
            raise Invalid(f"templates.{tname} template type unspecified. {choose}")
        if count > 1:
            raise Invalid(f"templates.{tname} multiple template types specified. {choose}")
        scope = self._validate_inputs(tmpl)
        for ctr in tmpl.get("initContainers") or []:
            if not (isinstance(ctr, dict) and ctr.get("name")):
                raise Invalid("initContainers must all have container name")
        local: dict[str, str] = {}
        if ttype in _POD:
            local["pod.name"] = self.ph.next()
            scope["pod.name"] = True
        if tmpl.get("retryStrategy") is not None:
            for var in ("retries", "lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message"):
                local[var] = self.ph.next()
                scope[var] = True
        outputs = tmpl.get("outputs") or {}
        if ttype in _LEAF:
            for art in outputs.get("artifacts") or []:
                if art.get("path"):
                    scope[f"outputs.artifacts.{art.get('name')}.path"] = True
            for param in outputs.get("parameters") or []:
                if (param.get("valueFrom") or {}).get("path"):
                    scope[f"outputs.parameters.{param.get('name')}.path"] = True
        try:
            new = self._process_args(tmpl, args, local)
        except Invalid as exc:
            raise Invalid(f"templates.{tname} {exc.message}") from None
        timeout = new.get("timeout")
        if timeout:
            if template_type(new) not in _LEAF:
                raise Invalid(f"{template_type(new)} template doesn't support timeout field")
            if _INT_STR.match(str(timeout)):
                raise Invalid(f"{tname} has invalid duration format in timeout")
        if key in self.results:
            return
        self.results.add(key)
        scope.update(self.globals)
        if ttype == "Steps":
            self._validate_steps(scope, base, new)
        elif ttype == "DAG":
            self._validate_dag(scope, base, new)
        else:
            self._validate_leaf(scope, base, new)
        self._validate_outputs(scope, new)
        metrics = new.get("metrics")
        if isinstance(metrics, dict):
            self._validate_metrics(tname, metrics)

    def _validate_inputs(self, tmpl: Obj) -> dict[str, Any]:
        tname = tmpl.get("name") or ""
        inputs = tmpl.get("inputs") or {}
        params = inputs.get("parameters") or []
        arts = inputs.get("artifacts") or []
        err = check_field_names(params, params=True)
        if err:
            raise Invalid(f"templates.{tname}.inputs.parameters{err}")
        err = check_field_names(arts, params=True)
        if err:
            raise Invalid(f"templates.{tname}.inputs.artifacts{err}")
        scope: dict[str, Any] = {f"inputs.parameters.{p.get('name')}": True for p in params}
        if params:
            scope["inputs.parameters"] = True
        leaf = _is_leaf(tmpl)
        for art in arts:
            ref = f"inputs.artifacts.{art.get('name')}"
            scope[ref] = True
            if leaf:
                path_err = clean_path_error(art)
                if path_err:
                    raise Invalid(f"error in templates.{tname}.{ref}: {path_err}")
                scope[f"{ref}.path"] = True
            elif art.get("path"):
                raise Invalid(f"templates.{tname}.{ref}.path only valid in container/script templates")
            if art.get("from"):
                raise Invalid(f"templates.{tname}.{ref}.from not valid in inputs")
            git = art.get("git")
            if isinstance(git, dict) and not git.get("repo"):
                raise Invalid(f"templates.{tname}.{ref}.git.repo is required")
        return scope

    def _process_args(self, tmpl: Obj, args: _Args, local: dict[str, str]) -> Obj:
        """``common.ProcessArgs`` (validate-only): supply inputs, then substitute placeholders."""
        new = copy.deepcopy(tmpl)
        inputs = new.get("inputs") or {}
        for p in inputs.get("parameters") or []:
            name = p.get("name", "")
            if p.get("value") is None and p.get("default") is not None:
                p["value"] = p["default"]
            arg = args.param(name)
            if arg is not None:
                if arg.get("value") is not None:
                    p["value"] = arg["value"]
                    p.pop("valueFrom", None)
                else:
                    p.pop("value", None)
                    if arg.get("valueFrom") is not None:
                        p["valueFrom"] = arg["valueFrom"]
                    else:
                        p.pop("valueFrom", None)
            value_from = p.get("valueFrom")
            if not (isinstance(value_from, dict) and value_from.get("configMapKeyRef") is not None) and p.get("value") is None:
                raise Invalid(f"inputs.parameters.{name} was not supplied")
        arts = inputs.get("artifacts") or []
        for i, art in enumerate(arts):
            arg = args.artifact(art.get("name", ""))
            if not art.get("optional") and not has_location_or_key(art) and arg is None:
                raise Invalid(f"inputs.artifacts.{art.get('name', '')} was not supplied")
            if arg is not None:
                replaced = copy.deepcopy(arg)
                for k in ("path", "mode", "recurseMode"):
                    if art.get(k) is not None:
                        replaced[k] = art[k]
                    else:
                        replaced.pop(k, None)
                arts[i] = replaced
        return self._substitute_params(new, local)

    def _substitute_params(self, tmpl: Obj, local: dict[str, str]) -> Obj:
        values = dict(self.globals)
        values.update(local)
        new: Obj = _substitute(tmpl, values)
        inputs = new.get("inputs") or {}
        outputs = new.get("outputs") or {}
        repl: dict[str, str] = {}
        params = inputs.get("parameters") or []
        for p in params:
            if p.get("value") is None and p.get("valueFrom") is None:
                raise Invalid(f"inputs.parameters.{p.get('name')} had no value")
            if p.get("value") is not None:
                repl[f"inputs.parameters.{p.get('name')}"] = str(p["value"])
        repl["inputs.parameters"] = json.dumps(params, separators=(",", ":"))
        for art in inputs.get("artifacts") or []:
            if art.get("path"):
                repl[f"inputs.artifacts.{art.get('name')}.path"] = art["path"]
        for art in outputs.get("artifacts") or []:
            if art.get("path"):
                repl[f"outputs.artifacts.{art.get('name')}.path"] = art["path"]
        for p in outputs.get("parameters") or []:
            path = (p.get("valueFrom") or {}).get("path")
            if path:
                repl[f"outputs.parameters.{p.get('name')}.path"] = path
        result: Obj = _substitute(new, repl)
        return result

    # ------------------------------------------------------------------------------ variables

    def resolve_all(self, scope: dict[str, Any], obj: Any) -> None:
        """``resolveAllVariables``: every simple tag must be in scope (or runtime-only)."""
        any_item = "item.*" in scope
        any_out_param = "workflow.outputs.parameters.*" in scope
        any_out_art = "workflow.outputs.artifacts.*" in scope
        wildcards = [k[1:] for k in scope if k.startswith(_WILDCARD)]
        for text in walk_strings(obj):
            if "{{" not in text:
                continue
            for tag in _iter_tags(text):
                if tag.kind == "expression":
                    if self.extra_checks:
                        _check_expression(tag)
                    continue
                key = tag.expr
                if not key.startswith(_VALID_PREFIXES):
                    continue
                if key in scope or key in self.globals:
                    continue
                if (key == "item" or key.startswith("item.")) and any_item:
                    continue
                if key.startswith("workflow.outputs.parameters.") and any_out_param:
                    continue
                if key.startswith("workflow.outputs.artifacts.") and any_out_art:
                    continue
                if key.startswith(("outputs.", "workflow.creationTimestamp", "workflow.scheduledTime", "workflow.duration")):
                    continue
                if key.startswith(("tasks.name", "steps.name", "node.name")):
                    continue
                if key.startswith("workflow.parameters") and self.workflow_template:
                    continue
                if any(key.startswith(w) for w in wildcards):
                    continue
                raise Invalid(f"failed to resolve {tag.raw}")

    def _add_outputs(self, tmpl: Obj | None, kind: str, name: str, scope: dict[str, Any], aggregate: bool, ancestor: bool) -> None:
        """``addOutputsToScope``: what ``steps.<name>.*`` / ``tasks.<name>.*`` may reference."""
        prefix = f"{kind}.{name}"
        for suffix in ("id", "startedAt", "finishedAt", "hostNodeName"):
            scope[f"{prefix}.{suffix}"] = True
        if tmpl is None:
            return
        if tmpl is _OPAQUE:
            scope[f"{_WILDCARD}{prefix}."] = True
            return
        if tmpl.get("daemon"):
            scope[f"{prefix}.ip"] = True
        if _has_output(tmpl):
            scope[f"{prefix}.outputs.result"] = True
            scope[f"{prefix}.exitCode"] = True
        outputs = tmpl.get("outputs") or {}
        for param in outputs.get("parameters") or []:
            scope[f"{prefix}.outputs.parameters.{param.get('name')}"] = True
            global_name = param.get("globalName")
            if global_name:
                if not is_parameter(global_name):
                    key = f"workflow.outputs.parameters.{global_name}"
                    scope[key] = True
                    self.globals[key] = self.ph.next()
                else:
                    scope["workflow.outputs.parameters.*"] = True
        for art in outputs.get("artifacts") or []:
            scope[f"{prefix}.outputs.artifacts.{art.get('name')}"] = True
            global_name = art.get("globalName")
            if global_name:
                if not is_parameter(global_name):
                    key = f"workflow.outputs.artifacts.{global_name}"
                    scope[key] = True
                    self.globals[key] = self.ph.next()
                else:
                    scope["workflow.outputs.artifacts.*"] = True
        if aggregate:
            if template_type(tmpl) in ("Script", "ContainerSet"):
                scope[f"{prefix}.outputs.result"] = True
                scope[f"{prefix}.exitCode"] = True
            scope[f"{prefix}.outputs.parameters"] = True
        if ancestor:
            scope[f"{prefix}.status"] = True

    # ------------------------------------------------------------------------------ steps

    def _validate_steps(self, scope: dict[str, Any], base: TemplateBase, tmpl: Obj) -> None:
        tname = tmpl.get("name") or ""
        _validate_non_leaf(tmpl)
        names: set[str] = set()
        for i, group in enumerate(tmpl.get("steps") or []):
            for step in group or []:
                name = step.get("name") or ""
                if not name:
                    raise Invalid(f"templates.{tname}.steps[{i}].name is required")
                if name in names:
                    raise Invalid(f"templates.{tname}.steps[{i}].name '{name}' is not unique")
                errs = field_name_errors(name)
                if errs:
                    raise Invalid(f"templates.{tname}.steps[{i}].name '{name}' is invalid: {';'.join(errs)}")
                names.add(name)
                where = f"templates.{tname}.steps[{i}].{name}"
                scope[f"steps.{name}.status"] = True
                try:
                    _add_items(step, scope)
                except Invalid as exc:
                    raise _wrap(where, exc) from None
                validate_arguments(f"{where}.arguments.", step.get("arguments"), False)
                try:
                    resolved = self.validate_holder(step, base, _FakeArgs(self.ph))
                except Invalid as exc:
                    raise _wrap(where, exc) from None
                if _has_exit_hook(step):
                    self._add_outputs(resolved, "steps", name, scope, False, False)
                _validate_hooks(step.get("hooks"), where)
                if self.extra_checks:
                    extra = self._invocation_templates(step, where, base)
                    if extra:
                        raise Invalid(extra[0])
                step_scope = dict(scope)
                for p in ((step.get("inline") or {}).get("inputs") or {}).get("parameters") or []:
                    step_scope[f"inputs.parameters.{p.get('name')}"] = True
                try:
                    self.resolve_all(step_scope, step)
                except Invalid as exc:
                    raise Invalid(f"templates.{tname}.steps {exc.message}") from None
                if self.extra_checks:
                    _check_when(step.get("when"), where)
                aggregate = bool(step.get("withItems")) or bool(step.get("withParam"))
                self._add_outputs(resolved, "steps", name, scope, aggregate, False)
                try:
                    self.validate_holder(step, base, _RealArgs(step.get("arguments")))
                except Invalid as exc:
                    raise _wrap(where, exc) from None

    # ------------------------------------------------------------------------------ DAG

    def _validate_dag(self, scope: dict[str, Any], base: TemplateBase, tmpl: Obj) -> None:
        tname = tmpl.get("name") or ""
        _validate_non_leaf(tmpl)
        dag = tmpl.get("dag") or {}
        tasks = [t for t in dag.get("tasks") or [] if isinstance(t, dict)]
        if not tasks:
            raise Invalid(f"templates.{tname} must have at least one task")
        using_depends = any(t.get("depends") for t in tasks)
        by_name = {t.get("name", ""): t for t in tasks}
        # Name the missing dependency / the cycle path (clearer than v4's "sorting failed" text).
        for task in tasks:
            for dep in task_dependencies(task):
                if dep not in by_name:
                    raise Invalid(f"templates.{tname}.tasks.{task.get('name', '')} dependency '{dep}' not defined")
        pre_cycle = find_cycle({t.get("name", ""): list(task_dependencies(t)) for t in tasks}, [t.get("name", "") for t in tasks])
        if pre_cycle:
            raise Invalid(f"templates.{tname}.tasks dependency cycle detected: {pre_cycle}")
        try:
            tasks = _sort_tasks(tasks)
        except Invalid as exc:
            raise Invalid(f"templates.{tname} sorting failed: {exc.message}") from None
        err = check_field_names(tasks, params=False)
        if err:
            raise Invalid(f"templates.{tname}.tasks{err}")
        resolved: dict[str, Obj | None] = {}
        for task in tasks:
            name = task.get("name", "")
            where = f"templates.{tname}.tasks.{name}"
            if (using_depends or task.get("dependencies")) and name[:1].isdigit():
                raise Invalid(f"{where} name cannot begin with a digit when using either 'depends' or 'dependencies'")
            if using_depends and task.get("dependencies"):
                raise Invalid(f"templates.{tname} cannot use both 'depends' and 'dependencies' in the same DAG template")
            if using_depends and task.get("continueOn") is not None:
                raise Invalid(
                    f"templates.{tname} cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'"
                )
            try:
                resolved[name] = self.validate_holder(task, base, _FakeArgs(self.ph))
            except Invalid as exc:
                raise _wrap(where, exc) from None
            aggregate = bool(task.get("withItems")) or bool(task.get("withParam"))
            self._add_outputs(resolved[name], "tasks", name, scope, aggregate, False)
            if task.get("depends"):
                depends_err = parse_depends(task["depends"])[1]
                if depends_err:
                    raise Invalid(f"{where} {depends_err}")
            for dep, kind in task_dependencies(task).items():
                dep_task = by_name.get(dep)
                if dep_task is None:
                    raise Invalid(f"templates.{tname}.tasks.{name} dependency '{dep}' not defined")
                if kind == "items" and not (dep_task.get("withItems") or dep_task.get("withParam") or dep_task.get("withSequence") is not None):
                    raise Invalid(
                        f"templates.{tname}.tasks.{dep} dependency '{dep}' uses an items-based condition such as"
                        " .AnySucceeded or .AllFailed but does not contain any items"
                    )
        graph = {t.get("name", ""): list(task_dependencies(t)) for t in tasks}
        cycle = find_cycle(graph, [t.get("name", "") for t in tasks])
        if cycle:
            raise Invalid(f"templates.{tname}.tasks dependency cycle detected: {cycle}")
        target = dag.get("target") or ""
        try:
            self.resolve_all(scope, target)
        except Invalid as exc:
            raise Invalid(f"templates.{tname}.targets {exc.message}") from None
        if target:
            for target_name in target.split(" "):
                if not is_parameter(target_name) and target_name not in by_name:
                    raise Invalid(f"templates.{tname}.targets: target '{target_name}' is not defined")
        for task in tasks:
            name = task.get("name", "")
            where = f"templates.{tname}.tasks.{name}"
            if task.get("hooks") is not None:
                scope[f"tasks.{name}.status"] = True
            self._add_outputs(resolved.get(name), "tasks", name, scope, False, False)
            task_scope = dict(scope)
            ancestry = _ancestry(by_name, name)
            for ancestor in ancestry:
                anc = by_name.get(ancestor) or {}
                aggregate = bool(anc.get("withItems")) or bool(anc.get("withParam"))
                self._add_outputs(resolved.get(ancestor), "tasks", ancestor, task_scope, aggregate, True)
            for p in ((task.get("inline") or {}).get("inputs") or {}).get("parameters") or []:
                task_scope[f"inputs.parameters.{p.get('name')}"] = True
            try:
                _add_items(task, task_scope)
                self.resolve_all(task_scope, task)
            except Invalid as exc:
                raise _wrap(where, exc) from None
            if self.extra_checks:
                # ARGOSY: Argo checks hook expressions for steps only; a DAG task's hook needs one too.
                _validate_hooks(task.get("hooks"), where)
                _check_when(task.get("when"), where)
                extra = self._invocation_templates(task, where, base)
                if extra:
                    raise Invalid(extra[0])
            validate_arguments(f"{where}.arguments.", task.get("arguments"), False)
            try:
                _argument_dependencies(task.get("arguments") or {}, set(ancestry))
            except Invalid as exc:
                raise _wrap(where, exc) from None
            try:
                self.validate_holder(task, base, _RealArgs(task.get("arguments")))
            except Invalid as exc:
                raise _wrap(where, exc) from None

    # ------------------------------------------------------------------------------ leaves

    def _validate_leaf(self, scope: dict[str, Any], base: TemplateBase, tmpl: Obj) -> None:
        tname = tmpl.get("name") or ""
        try:
            self.resolve_all(scope, tmpl)
        except Invalid as exc:
            raise Invalid(f"templates.{tname}: {exc.message}") from None
        container = tmpl.get("container")
        if isinstance(container, dict):
            mounts: dict[str, str] = {}
            for i, mount in enumerate(container.get("volumeMounts") or []):
                path = mount.get("mountPath")
                if path in mounts:
                    raise Invalid(f"templates.{tname}.container.volumeMounts[{i}].mountPath '{path}' already mounted in {mounts[path]}")
                mounts[path] = f"container.volumeMounts.{mount.get('name')}"
            for i, art in enumerate((tmpl.get("inputs") or {}).get("artifacts") or []):
                path = art.get("path") or ""
                if path in mounts:
                    raise Invalid(f"templates.{tname}.inputs.artifacts[{i}].path '{path}' already mounted in {mounts[path]}")
                mounts[path] = f"inputs.artifacts.{art.get('name')}"
            if not container.get("image") and not base.default_image("container"):
                raise Invalid(f"templates.{tname}.container.image may not be empty")
        container_set = tmpl.get("containerSet")
        if isinstance(container_set, dict):
            err = _container_set_error(container_set)
            if err:
                raise Invalid(f"templates.{tname}.containerSet.{err}")
            ins, outs = tmpl.get("inputs") or {}, tmpl.get("outputs") or {}
            has_io = bool(ins.get("artifacts") or outs.get("parameters") or outs.get("artifacts"))
            if has_io and not any(c.get("name") == "main" for c in container_set.get("containers") or []):
                raise Invalid(f'templates.{tname}.containerSet.containers must have a container named "main" for input or output')
        resource = tmpl.get("resource")
        if isinstance(resource, dict):
            _validate_resource(tname, resource, tmpl)
        script = tmpl.get("script")
        if isinstance(script, dict) and not script.get("image") and not base.default_image("script"):
            raise Invalid(f"templates.{tname}.script.image may not be empty")
        deadline = tmpl.get("activeDeadlineSeconds")
        if deadline is not None:
            message = f"templates.{tname}.activeDeadlineSeconds must be a positive integer > 0 or an argo variable"
            if isinstance(deadline, int) and not isinstance(deadline, bool):
                if deadline < 0:
                    raise Invalid(message)
            elif isinstance(deadline, str):
                if _INT_STR.match(deadline):
                    if int(deadline) < 0:
                        raise Invalid(message)
                elif not _ARGO_VARIABLE.match(deadline) and not _is_placeholder(deadline):
                    raise Invalid(message)
        if tmpl.get("parallelism") is not None:
            raise Invalid(f"templates.{tname}.parallelism is only valid for steps and dag templates")

    def _validate_outputs(self, scope: dict[str, Any], tmpl: Obj) -> None:
        tname = tmpl.get("name") or ""
        outputs = tmpl.get("outputs") or {}
        params = outputs.get("parameters") or []
        arts = outputs.get("artifacts") or []
        err = check_field_names(params, params=True)
        if err:
            raise Invalid(f"templates.{tname}.outputs.parameters {err}")
        err = check_field_names(arts, params=True)
        if err:
            raise Invalid(f"templates.{tname}.outputs.artifacts {err}")
        try:
            self.resolve_all(scope, outputs)
        except Invalid as exc:
            raise Invalid(f"templates.{tname}.outputs {exc.message}") from None
        ttype = template_type(tmpl)
        for art in arts:
            ref = f"outputs.artifacts.{art.get('name')}"
            if ttype in _LEAF:
                path_err = clean_path_error(art)
                if path_err:
                    raise Invalid(f"error in templates.{tname}.{ref}: {path_err}")
            elif art.get("path"):
                raise Invalid(f"templates.{tname}.{ref}.path only valid in container/script templates")
            global_name = art.get("globalName")
            if global_name and not is_parameter(global_name):
                errs = param_name_errors(global_name)
                if errs:
                    raise Invalid(f"templates.{tname}.{ref}.globalName: {errs[0]}")
        for param in params:
            ref = f"templates.{tname}.outputs.parameters.{param.get('name')}"
            _validate_output_parameter(ref, param)
            value_from = param.get("valueFrom")
            if isinstance(value_from, dict):
                if ttype in ("Container", "ContainerSet", "Script") and not value_from.get("path"):
                    raise Invalid(f"{ref}.path must be specified for {ttype} templates")
                if ttype == "Resource" and not value_from.get("jqFilter") and not value_from.get("jsonPath"):
                    raise Invalid(f"{ref} .jqFilter or jsonPath must be specified for {ttype} templates")
                if ttype in ("DAG", "Steps"):
                    if not value_from.get("parameter") and not value_from.get("expression"):
                        raise Invalid(f"{ref}.parameter or expression must be specified for {ttype} templates")
                    if value_from.get("parameter") and value_from.get("expression"):
                        raise Invalid(f"{ref} shouldn't have both `from` and `expression` specified in `ValueFrom` for {ttype} templates")
            global_name = param.get("globalName")
            if global_name and not is_parameter(global_name):
                errs = param_name_errors(global_name)
                if errs:
                    raise Invalid(f"{ref}.globalName: {errs[0]}")

    @staticmethod
    def _validate_metrics(tname: str, metrics: Obj) -> None:
        prometheus = metrics.get("prometheus")
        for metric in prometheus if isinstance(prometheus, list) else []:
            if not isinstance(metric, dict):
                continue
            name = str(metric.get("name") or "")
            if not _METRIC_NAME.match(name):
                raise Invalid(
                    f"templates.{tname} metric name '{name}' is invalid. Metric names must contain alphanumeric characters or '_'"
                )
            labels = metric.get("labels")
            for label in labels if isinstance(labels, list) else []:
                key = str(label.get("key") or "") if isinstance(label, dict) else ""
                if not _METRIC_NAME.match(key):
                    raise Invalid(f"metric label '{key}' is invalid: keys may only contain alphanumeric characters or '_'")
            if not metric.get("help"):
                raise Invalid(f"templates.{tname} metric '{name}' must contain a help string under 'help: ' field")

    # ------------------------------------------------------------------------------ Argosy checks

    def _invocation_templates(self, inv: Obj, where: str, base: TemplateBase) -> list[str]:
        """ARGOSY: a step's/task's ``onExit`` and hook templates must exist (Argo finds out at runtime)."""
        errors = []
        on_exit = inv.get("onExit")
        if on_exit and base.template(on_exit) is None:
            errors.append(f"{where}.onExit template name '{on_exit}' undefined")
        errors.extend(self._hook_templates(inv.get("hooks"), f"{where}.hooks", base))
        return errors

    def _hook_templates(self, hooks: Any, where: str, base: TemplateBase) -> list[str]:
        errors = []
        for hook_name, hook in (hooks or {}).items():
            if not isinstance(hook, dict):
                continue
            name = hook.get("template")
            ref = hook.get("templateRef")
            if name and base.template(name) is None:
                errors.append(f"{where}.{hook_name} template name '{name}' undefined")
            elif isinstance(ref, dict) and ref.get("name") and ref.get("template") and not _has_simple_tag(ref):
                found = self.find(ref["name"], bool(ref.get("clusterScope")))
                if found is None or (isinstance(found, TemplateBase) and found.template(ref["template"]) is None):
                    errors.append(f"{where}.{hook_name} template reference {ref['name']}.{ref['template']} not found")
        return errors


# ----------------------------------------------------------------------------------------- helpers


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the printable names Kubernetes allows."""
    return json.dumps(text, ensure_ascii=False)


def _ref(wft_ref: Obj, template: str) -> Obj:
    ref: Obj = {"name": wft_ref.get("name") or "", "template": template}
    if wft_ref.get("clusterScope"):
        ref["clusterScope"] = True
    return ref


def _dedupe(errors: list[str]) -> list[str]:
    return list(dict.fromkeys(errors))


def _has_exit_hook(inv: Obj) -> bool:
    return bool(inv.get("onExit")) or "exit" in (inv.get("hooks") or {})


def _validate_hooks(hooks: Any, where: str) -> None:
    """``validateHooks``: every hook but ``exit`` needs an expression."""
    for name, hook in (hooks or {}).items():
        if name != "exit" and not (hook or {}).get("expression"):
            raise Invalid(f"{where}.{name} Expression required")


def _validate_non_leaf(tmpl: Obj) -> None:
    if tmpl.get("activeDeadlineSeconds") is not None:
        raise Invalid(f"templates.{tmpl.get('name') or ''}.activeDeadlineSeconds is only valid for leaf templates")


def _add_items(inv: Obj, scope: dict[str, Any]) -> None:
    """``addItemsToScope``: what ``{{item...}}`` may reference inside a loop."""
    items = inv.get("withItems")
    param = inv.get("withParam")
    sequence = inv.get("withSequence")
    if sum(1 for x in (bool(items), bool(param), sequence is not None) if x) > 1:
        raise Invalid("only one of withItems, withParam, withSequence can be specified")
    if items:
        for item in items:
            if isinstance(item, list):
                for i in range(len(item)):
                    scope[f"item.[{i}]"] = True
            elif isinstance(item, dict):
                for key in item:
                    scope[f"item.{key}"] = True
            elif item is None:
                raise Invalid(f"unsupported withItems type: {item}")
            else:
                scope["item"] = True
    elif param:
        scope["item"] = True
        scope["item.*"] = True
    elif sequence is not None:
        if isinstance(sequence, dict) and sequence.get("count") is not None and sequence.get("end") is not None:
            raise Invalid("only one of count or end can be defined in withSequence")
        scope["item"] = True


def _argument_dependencies(arguments: Obj, ancestry: set[str]) -> None:
    """``validateDAGTaskArgumentDependency``: ``{{tasks.X...}}`` arguments need X as an ancestor."""
    for param in arguments.get("parameters") or []:
        value = param.get("value")
        if isinstance(value, str) and value.startswith("{{tasks."):
            ref = value.split(".")[1]
            if ref not in ancestry:
                raise Invalid(f"missing dependency '{ref}' for parameter '{param.get('name')}'")
    for art in arguments.get("artifacts") or []:
        source = art.get("from")
        if isinstance(source, str) and source.startswith("{{tasks."):
            ref = source.split(".")[1]
            if ref not in ancestry:
                raise Invalid(f"missing dependency '{ref}' for artifact '{art.get('name')}'")


def _validate_output_parameter(ref: str, param: Obj) -> None:
    value_from = param.get("valueFrom")
    if value_from is not None and param.get("value") is not None:
        raise Invalid(f"{ref} has both valueFrom and value specified, choose one")
    if param.get("value") is not None:
        return
    if value_from is None:
        raise Invalid(f"{ref} does not have valueFrom or value specified")
    kinds = sum(1 for k in ("path", "jqFilter", "jsonPath", "parameter", "expression") if value_from.get(k))
    if value_from.get("supplied") is not None:
        kinds += 1
    if kinds == 0:
        raise Invalid("valueFrom type unspecified. choose one of: path, jqFilter, jsonPath, parameter, raw, expression")
    if kinds > 1:
        raise Invalid("multiple valueFrom types specified. choose one of: path, jqFilter, jsonPath, parameter, raw")


def _container_set_error(container_set: Obj) -> str | None:
    """``ContainerSetTemplate.Validate`` (without the ``templates.X.containerSet.`` prefix)."""
    containers = [c for c in container_set.get("containers") or [] if isinstance(c, dict)]
    if not containers:
        return "containers must have at least one container"
    err = check_field_names([c.get("name") or "" for c in containers], params=False)
    if err:
        return f"containers{err}"
    mounts: dict[str, str] = {}
    for i, mount in enumerate(container_set.get("volumeMounts") or []):
        path = mount.get("mountPath")
        if path in mounts:
            return f"volumeMounts[{i}].mountPath '{path}' already mounted in {mounts[path]}"
        mounts[path] = f"volumeMounts.{mount.get('name')}"
    names = {c.get("name") for c in containers}
    for ctr in containers:
        for dep in ctr.get("dependencies") or []:
            if dep not in names:
                return f"containers.{ctr.get('name')} dependency '{dep}' not defined"
    graph = {str(c.get("name")): list(c.get("dependencies") or []) for c in containers}
    cycle = find_cycle(graph, sorted(graph))
    if cycle:
        return f"containers dependency cycle detected: {cycle}"
    return None


def _validate_resource(tname: str, resource: Obj, tmpl: Obj) -> None:
    action = resource.get("action") or ""
    if not _is_placeholder(action) and "{{" not in action and action not in ("get", "create", "apply", "delete", "replace", "patch"):
        raise Invalid(f"templates.{tname}.resource.action must be one of: get, create, apply, delete, replace, patch")
    if action in ("delete", "get"):
        return
    manifest = resource.get("manifest") or ""
    manifest_from = resource.get("manifestFrom")
    if not manifest and manifest_from is None:
        raise Invalid(f"either templates.{tname}.resource.manifest or templates.{tname}.resource.manifestFrom must be specified")
    if manifest and manifest_from is not None:
        raise Invalid("shouldn't have both `manifest` and `manifestFrom` specified in `Manifest` for resource template")
    if isinstance(manifest_from, dict) and isinstance(manifest_from.get("artifact"), dict):
        wanted = manifest_from["artifact"].get("name")
        if not any(a.get("name") == wanted for a in (tmpl.get("inputs") or {}).get("artifacts") or []):
            raise Invalid(f"artifact {wanted} in `manifestFrom` refer to a non-exist artifact")
    if manifest and not _is_placeholder(manifest):
        replaced = _MANIFEST_EXPR.sub("placeholder-expr", manifest)
        try:
            list(yaml.safe_load_all(replaced))
        except yaml.YAMLError:
            raise Invalid(f"templates.{tname}.resource.manifest must be a valid yaml") from None
        except (ValueError, TypeError, RecursionError):
            raise Invalid(f"templates.{tname}.resource.manifest must be a valid yaml") from None


def _label_selector_error(selector: Any) -> str | None:
    if not isinstance(selector, dict):
        return None
    reqs = selector.get("matchExpressions")
    for req in reqs if isinstance(reqs, list) else []:
        op = req.get("operator") if isinstance(req, dict) else None
        if op not in _SELECTOR_OPS:
            return f'"{op}" is not a valid label selector operator'
    return None


# ----------------------------------------------------------------------------------------- expressions


def _check_expression(tag: _TagRef) -> None:
    """ARGOSY: a ``{{=...}}`` tag must at least parse (Argo finds out when it runs)."""
    try:
        from argosy.pipeline.expr import compile_expression  # type: ignore[attr-defined]
    except ImportError:
        return
    from argosy.errors import ExpressionError

    try:
        compile_expression(tag.expr)
    except ExpressionError as exc:
        raise Invalid(f"failed to parse expression {tag.raw}: {exc}") from None
    except Exception:  # a helper bug must not crash lint; the run will report it
        return


def when_error(when: str) -> str | None:
    """ARGOSY: why a ``when`` condition cannot parse (tags stand in as plain words), or None."""
    if not when or not isinstance(when, str):
        return None
    try:
        from argosy.pipeline import expr as expr_module
    except ImportError:  # pragma: no cover
        return None
    from argosy.errors import ExpressionError

    text = _TAG.sub("x", when)
    parser = getattr(expr_module, "parse_when", None) or getattr(expr_module, "compile_when", None)
    if parser is not None:
        try:
            parser(text)
        except ExpressionError as exc:
            return str(exc)
        except Exception:  # a helper bug must not crash lint
            return None
        return None
    evaluate = getattr(expr_module, "evaluate_when", None)
    if evaluate is None:
        return None
    try:
        evaluate(text)
    except ExpressionError as exc:
        message = str(exc)
        return message if message.startswith("Invalid 'when' expression") else None
    except Exception:  # only parse errors matter here; a helper bug must not crash lint
        return None
    return None


def _check_when(when: Any, where: str) -> None:
    if not isinstance(when, str):
        return
    err = when_error(when)
    if err is None:
        return
    detail = err
    marker = "': "
    if err.startswith("Invalid 'when' expression") and marker in err:
        detail = err.split(marker, 1)[1]
    raise Invalid(f"{where} Invalid 'when' expression '{when}': {detail}")
