"""The workflow operator: one reconcile pass walks the template tree and advances it.

A port of Argo's ``wfOperationCtx``: the status (``nodes``) is the only state, every pass
re-walks from the entrypoint, leaf nodes become pods handed to an :class:`Executor`, and a
pod's result is applied before the next pass. That makes a run restartable from its status
and keeps node names, ids, messages and phases identical to Argo's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argosy.errors import ArgosyError, ExpressionError, TemplateError
from argosy.pipeline.engine import dag as _dag
from argosy.pipeline.engine import steps as _steps
from argosy.pipeline.engine.scope import _out_param, process_args
from argosy.pipeline.executors.base import Executor, PodRequest, PodResult
from argosy.pipeline.model import (
    Arguments,
    LifecycleHook,
    Outputs,
    Parameter,
    RetryStrategy,
    Template,
    TemplateRef,
    Workflow,
    WorkflowStep,
)
from argosy.pipeline.names import display_name, fnv32a, node_id, pod_name
from argosy.pipeline.status import (
    ERROR,
    FAILED,
    OMITTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    MemoizationStatus,
    NodeFlag,
    NodeStatus,
    format_time,
    now,
    parse_time,
)

__all__ = ["Operator", "ParallelismReached", "TemplateResolver"]

MAX_STACK_DEPTH = 100
RECURSION_MESSAGE = "Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth"
POD_TYPES = {"container", "script", "containerSet", "resource", "data", "http", "plugin"}
_TYPE_KEYS = ("container", "script", "steps", "dag", "suspend", "resource", "containerSet", "data", "http", "plugin")


class ParallelismReached(Exception):
    """A parallelism limit stops new work this pass (not an error)."""


class DeadlineExceeded(Exception):
    pass


# A function returning the WorkflowTemplate/ClusterWorkflowTemplate spec by name (or None).
TemplateResolver = Callable[[str, bool], Workflow | None]


@dataclass
class Context:
    """Where template names resolve: the workflow itself, or a WorkflowTemplate (templateRef)."""

    templates: dict[str, Template]
    scope_name: str = ""  # "" = the workflow; else "namespaced/NAME" or "cluster/NAME"


@dataclass
class ExecOpts:
    boundary_id: str = ""
    on_exit: bool = False
    depth: int = 0


@dataclass
class Operator:
    """Advances one workflow. Call :meth:`reconcile` until :attr:`done`; feed pod results in."""

    wf: Workflow
    executor: Executor
    status: dict[str, Any] = field(default_factory=dict)
    resolve_workflow_template: TemplateResolver | None = None
    config_map_lookup: Callable[[str, str], str | None] | None = None
    output_key_format: str = "{{workflow.name}}/{{pod.name}}"
    memo: Any = None  # store with cache_get/cache_put
    events: Callable[[str, str, str], None] | None = None

    # steps and DAG logic live in their own modules, as functions of the operator
    execute_steps = _steps.execute_steps
    execute_step_group = _steps.execute_step_group
    run_exit_hook = _steps.run_exit_hook
    run_lifecycle_hooks = _steps.run_lifecycle_hooks
    outbound_nodes = _steps.outbound_nodes
    _last_child = _steps._last_child
    _effective = _steps._effective
    _template_of = _steps._template_of
    execute_dag = _dag.execute_dag
    _targets_outbound = _dag._targets_outbound
    _add_task_to_scope = _dag._add_task_to_scope
    _task_scope = _dag._task_scope
    _execute_task = _dag._execute_task
    _evaluate_depends = _dag._evaluate_depends
    _assess = _dag._assess

    def __post_init__(self) -> None:
        self.name = self.wf.metadata.name or ""
        self.nodes: dict[str, NodeStatus] = {}
        for nid, raw in (self.status.get("nodes") or {}).items():
            self.nodes[nid] = NodeStatus.model_validate(raw)
        self.by_name: dict[str, NodeStatus] = {n.name: n for n in self.nodes.values()}
        self.global_params: dict[str, str] = {}
        self.global_outputs: Outputs = Outputs.model_validate(self.status.get("outputs") or {})
        self.wf_context = Context({t.name or "": t for t in self.wf.spec.templates or []})
        self.wakeups: list[float] = []
        self.active_pods = 0
        self.done = bool(self.status.get("phase") in (SUCCEEDED, FAILED, ERROR))
        self.result_refs = self._result_refs()
        self._memo_miss: dict[str, MemoizationStatus] = {}
        # Per-pass work that does not change between passes (profiled: deep copies of a 5,000-task
        # DAG template every pass were 60 % of the engine's time, and grew with N x passes).
        self._child_sets: dict[str, set[str]] = {}  # parent id -> its children, for O(1) membership
        self._merged: dict[int, tuple[Template, Template]] = {}  # id(template) -> (template, with defaults)
        self._processed: dict[str, tuple[Template, str, tuple[tuple[str, str], ...], Template]] = {}  # per node
        self.dag_shapes: dict[int, tuple[Template, Any]] = {}  # id(processed dag template) -> its tasks/deps

    # ------------------------------------------------------------------ node bookkeeping

    def get(self, name: str) -> NodeStatus | None:
        return self.by_name.get(name)

    def init_node(
        self,
        name: str,
        type_: str,
        holder: Any,
        boundary_id: str,
        phase: str,
        message: str = "",
        *,
        template_name: str | None = None,
        scope_name: str = "",
    ) -> NodeStatus:
        nid = node_id(self.name, name)
        boundary = self.nodes.get(boundary_id) if boundary_id else None
        ref = getattr(holder, "template_ref", None)
        node = NodeStatus(
            id=nid,
            name=name,
            display_name=display_name(name, boundary.name if boundary else None),
            type=type_,
            template_name=template_name if template_name is not None else getattr(holder, "template", None),
            template_ref=ref.to_dict() if isinstance(ref, TemplateRef) else None,
            template_scope=scope_name if scope_name else f"local/{self.name}",
            phase=phase,
            boundary_id=boundary_id or None,
            message=message or None,
            started_at=format_time(now()),
        )
        if node.template_name is None and ref is None:
            inline = getattr(holder, "inline", None)
            node.template_name = None if inline is not None else node.template_name
        if phase in (SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED):
            node.finished_at = node.started_at
        miss = self._memo_miss.pop(nid, None)
        if miss is not None:
            node.memoization_status = miss
        self.nodes[nid] = node
        self.by_name[name] = node
        return node

    def add_child(self, parent_name: str, child_name: str) -> None:
        parent = self.by_name.get(parent_name)
        if parent is None:
            return
        child = self.by_name.get(child_name)  # its id is a hash of the name: slow for deep names
        child_id = child.id if child is not None else node_id(self.name, child_name)
        if parent.children is None:
            parent.children = []
        known = self._child_sets.get(parent.id)
        if known is None or len(known) != len(parent.children):  # first use, or changed elsewhere
            known = self._child_sets[parent.id] = set(parent.children)
        if child_id not in known:
            parent.children.append(child_id)
            known.add(child_id)

    def mark(self, node: NodeStatus, phase: str, message: str | None = None) -> NodeStatus:
        if node.phase != phase:
            node.phase = phase
        if message is not None:
            node.message = message or None
        if node.fulfilled and not node.finished_at:
            node.finished_at = format_time(now())
        return node

    def mark_error(self, node: NodeStatus, err: Exception | str) -> NodeStatus:
        return self.mark(node, ERROR, str(err))

    # ------------------------------------------------------------------ globals

    def setup_globals(self) -> None:
        """``setGlobalParameters``: workflow.* variables, spec arguments, previous global outputs."""
        meta = self.wf.metadata
        g = self.global_params
        g["workflow.name"] = self.name
        g["workflow.namespace"] = meta.namespace or "default"
        g["workflow.uid"] = meta.uid or ""
        g["workflow.mainEntrypoint"] = self.wf.spec.entrypoint or ""
        g["workflow.serviceAccountName"] = self.wf.spec.service_account_name or ""
        created = parse_time(meta.creation_timestamp) or now()
        g["workflow.creationTimestamp"] = format_time(created) or ""
        g["workflow.creationTimestamp.RFC3339"] = format_time(created) or ""
        g["workflow.creationTimestamp.s"] = str(int(created.timestamp()))
        for ch in "BbmAadHIMSYypZzL":
            g[f"workflow.creationTimestamp.{ch}"] = _strftime(created, ch)
        if self.wf.spec.priority is not None:
            g["workflow.priority"] = str(self.wf.spec.priority)
        params: list[dict[str, Any]] = []
        for p in (self.wf.spec.arguments.parameters if self.wf.spec.arguments else None) or []:
            value = p.value
            if value is None and p.value_from is not None:
                if p.value_from.config_map_key_ref is not None and self.config_map_lookup is not None:
                    ref = p.value_from.config_map_key_ref
                    value = self.config_map_lookup(ref.name or "", ref.key)
                if value is None and p.value_from.default is not None:
                    value = p.value_from.default
                if value is None and p.value_from.expression:
                    from argosy.pipeline.expr import evaluate, expand_env, format_result

                    value = format_result(evaluate(p.value_from.expression, expand_env(dict(g))))
            if value is None:
                value = p.default
            if value is None:
                raise TemplateError(f"spec.arguments.{p.name}.value or spec.arguments.{p.name}.valueFrom is required")
            g[f"workflow.parameters.{p.name}"] = value
            params.append({"name": p.name, "value": value})
        g["workflow.parameters.json"] = json.dumps(params, separators=(",", ":"))
        g["workflow.parameters"] = g["workflow.parameters.json"]
        for k, v in (meta.labels or {}).items():
            g[f"workflow.labels.{k}"] = v
        g["workflow.labels.json"] = json.dumps(meta.labels or {}, separators=(",", ":"), sort_keys=True)
        for k, v in (meta.annotations or {}).items():
            g[f"workflow.annotations.{k}"] = v
        g["workflow.annotations.json"] = json.dumps(meta.annotations or {}, separators=(",", ":"), sort_keys=True)
        for p in self.global_outputs.parameters or []:
            if p.value is not None:
                g[f"workflow.outputs.parameters.{p.name}"] = p.value

    def add_global_outputs(self, outputs: Outputs | None) -> None:
        if outputs is None:
            return
        for p in outputs.parameters or []:
            if p.global_name and p.value is not None:
                self.global_params[f"workflow.outputs.parameters.{p.global_name}"] = p.value
                params = self.global_outputs.parameters or []
                params = [x for x in params if x.name != p.global_name]
                params.append(Parameter(name=p.global_name, value=p.value))
                self.global_outputs.parameters = params
        for a in outputs.artifacts or []:
            if a.global_name:
                arts = [x for x in self.global_outputs.artifacts or [] if x.name != a.global_name]
                art = a.model_copy(deep=True)
                art.name = a.global_name
                arts.append(art)
                self.global_outputs.artifacts = arts

    # ------------------------------------------------------------------ templates

    def resolve(self, holder: Any, ctx: Context) -> tuple[Context, Template]:
        """The template a step/task/hook names (``template``, ``templateRef`` or ``inline``)."""
        inline = getattr(holder, "inline", None)
        if inline is not None:
            return ctx, inline
        ref = getattr(holder, "template_ref", None)
        if ref is not None:
            wft = self.resolve_workflow_template(ref.name, bool(ref.cluster_scope)) if self.resolve_workflow_template else None
            if wft is None:
                kind = "clusterworkflowtemplate" if ref.cluster_scope else "workflowtemplate"
                raise TemplateError(f'{kind}s.argoproj.io "{ref.name}" not found')
            templates = {t.name or "": t for t in wft.spec.templates or []}
            tmpl = templates.get(ref.template)
            if tmpl is None:
                raise TemplateError(f"template {ref.template} not found in workflow template {ref.name}")
            scope = ("cluster/" if ref.cluster_scope else "namespaced/") + ref.name
            return Context(templates, scope), tmpl
        name = getattr(holder, "template", None)
        if not name:
            raise TemplateError("template name is required")
        tmpl = ctx.templates.get(name)
        if tmpl is None:
            raise TemplateError(f"template name '{name}' undefined")
        return ctx, tmpl

    def merged_defaults(self, tmpl: Template) -> Template:
        """``templateDefaults`` merged under the template (template fields win); once per template."""
        defaults = self.wf.spec.template_defaults
        if defaults is None:
            return tmpl
        cached = self._merged.get(id(tmpl))
        if cached is not None and cached[0] is tmpl:
            return cached[1]
        merged = self._merge_defaults(tmpl, defaults)
        if len(self._merged) >= 4096:  # templateRefs resolve to fresh objects each pass: stay bounded
            self._merged.clear()
        self._merged[id(tmpl)] = (tmpl, merged)
        return merged

    def _merge_defaults(self, tmpl: Template, defaults: Any) -> Template:
        base = defaults.model_dump(by_alias=True, exclude_unset=True, mode="json")
        own = tmpl.model_dump(by_alias=True, exclude_unset=True, mode="json")
        merged = _merge(base, own)
        # Argo's SetType: the template keeps its own type; defaults for other types
        # (``container`` defaults on a steps template) are dropped, not added.
        kind = self.template_type(tmpl)
        for key in _TYPE_KEYS:
            if key != kind:
                merged.pop(key, None)
        return Template.model_validate(merged)

    @staticmethod
    def template_type(tmpl: Template) -> str:
        for t in ("container", "script", "steps", "dag", "suspend", "resource", "containerSet", "data", "http", "plugin"):
            attr = "container_set" if t == "containerSet" else t
            if getattr(tmpl, attr) is not None:
                return t
        return ""

    # ------------------------------------------------------------------ the pass

    def reconcile(self) -> None:
        """One pass: advance everything that can advance now."""
        if self.done:
            return
        self.wakeups = []
        try:
            if not self.global_params:
                self.setup_globals()
        except ArgosyError as exc:
            self.finish(FAILED, f"failed to set global parameters: {exc}")
            return
        self.active_pods = sum(1 for n in self.nodes.values() if n.type == "Pod" and n.phase in (PENDING, RUNNING))
        if self.status.get("phase") in (None, "", PENDING):
            self.status["phase"] = RUNNING
            self.status["startedAt"] = format_time(now())
        self._check_workflow_deadline()
        # As in Argo's operate(): the run's status is a variable only once the entry template has
        # been walked this pass, so hooks and exit handlers see it, ordinary steps don't.
        for var in ("workflow.status", "workflow.failures", "workflow.duration"):
            self.global_params.pop(var, None)
        entry = WorkflowStep(name=self.name, template=self.wf.spec.entrypoint)
        args = self.wf.spec.arguments
        try:
            node = self.execute_template(self.name, entry, self.wf_context, args, ExecOpts())
        except ParallelismReached:
            node = self.get(self.name)
        if node is None:
            return
        self.global_params["workflow.status"] = _WORKFLOW_STATUS.get(node.phase, RUNNING)
        self.global_params["workflow.failures"] = self._failures_json()
        self.global_params["workflow.duration"] = f"{self._duration():f}"
        hooks_done = self._workflow_hooks(node)
        if not node.fulfilled or not hooks_done:
            return
        exit_hook = self.wf.spec.on_exit or (self.wf.spec.hooks or {}).get("exit")
        if exit_hook and self.wf.spec.shutdown != "Terminate":
            holder: Any
            if isinstance(exit_hook, str):
                holder = WorkflowStep(name="onExit", template=exit_hook)
                exit_args = self.wf.spec.arguments
            else:
                holder = _hook_holder(exit_hook)
                exit_args = exit_hook.arguments or self.wf.spec.arguments
            try:
                exit_node = self.execute_template(f"{self.name}.onExit", holder, self.wf_context, exit_args, ExecOpts(on_exit=True))
            except ParallelismReached:
                exit_node = None
            if exit_node is None or not exit_node.fulfilled:
                return
            if node.phase in (SUCCEEDED, SKIPPED, OMITTED) and exit_node.failed_or_error:
                self.finish(exit_node.phase, exit_node.message or "")
                return
        wf_phase = SUCCEEDED if node.phase in (SUCCEEDED, SKIPPED, OMITTED) else node.phase
        message = node.message or "" if wf_phase != SUCCEEDED else ""
        if wf_phase != SUCCEEDED and self.wf.spec.shutdown in ("Stop", "Terminate"):
            message = self._shutdown_message()  # Argo: a stopped workflow says why it failed
        self.finish(wf_phase, message)

    def finish(self, phase: str, message: str) -> None:
        self.status["phase"] = phase
        if message:
            self.status["message"] = message
        else:
            self.status.pop("message", None)
        self.status["finishedAt"] = format_time(now())
        for n in self.nodes.values():
            if not n.fulfilled:
                # Anything still open when the workflow ends did not run to completion.
                self.mark(n, FAILED if phase != SUCCEEDED else n.phase, n.message or message or None)
        self._update_progress()
        self.done = True

    def _duration(self) -> float:
        started = parse_time(self.status.get("startedAt"))
        return (now() - started).total_seconds() if started else 0.0

    def _failures_json(self) -> str:
        """``{{workflow.failures}}``: every Failed/Error node, as Argo's operate() builds it.

        JSON of ``{displayName, message, templateName, phase, podName, finishedAt}`` (``null``
        when none), then ``strconv.Quote``d: the value keeps its quotes and escaped inner quotes,
        so ``echo "{{workflow.failures}}" | jq`` in a shell sees plain JSON.
        """
        failures = []
        for n in self.nodes.values():
            if n.phase not in (FAILED, ERROR):
                continue
            template = (n.template_ref or {}).get("template") or n.template_name or ""
            failures.append(
                {
                    "displayName": n.display_name,
                    "message": n.message or "",
                    "templateName": template,
                    "phase": n.phase,
                    "podName": n.name if n.name == self.name else f"{self.name}-{template}-{fnv32a(n.name)}",
                    "finishedAt": n.finished_at,
                }
            )
        text = json.dumps(failures or None, separators=(",", ":"), ensure_ascii=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # Go's json.Marshal
        return _go_quote(text)

    def _workflow_hooks(self, root: NodeStatus) -> bool:
        """``executeWfLifeCycleHook``: ``spec.hooks`` other than ``exit``, run once their expression holds.

        Each becomes node ``<workflow>.hooks.<name>`` (a child of the root, nodeFlag hooked);
        the workflow does not end before the hooks it started have.
        """
        hooks = {k: v for k, v in (self.wf.spec.hooks or {}).items() if k != "exit"}
        if not hooks:
            return True
        from argosy.pipeline.expr import expand_env

        env = expand_env(dict(self.global_params))
        started = []
        for hook_name, hook in hooks.items():
            name = f"{self.name}.hooks.{hook_name}"
            try:
                execute = self.get(name) is not None or _eval_bool(hook.expression, name, env)
            except ArgosyError as exc:
                if not root.fulfilled:
                    self.mark_error(root, exc)
                continue
            if not execute:
                continue
            holder = WorkflowStep(name=hook_name, template=hook.template, template_ref=hook.template_ref)
            try:
                node = self.execute_template(name, holder, self.wf_context, hook.arguments, ExecOpts())
            except ParallelismReached:
                node = self.get(name)
            if node is not None:
                _flag_hooked(node)
                self.add_child(self.name, name)
                started.append(node)
        return all(n.fulfilled for n in started)

    def _check_workflow_deadline(self) -> None:
        deadline = self.wf.spec.active_deadline_seconds
        started = parse_time(self.status.get("startedAt"))
        if deadline is None or started is None:
            return
        end = started + timedelta(seconds=int(deadline))
        remaining = (end - now()).total_seconds()
        if remaining > 0:
            self.wakeups.append(time.monotonic() + remaining)
            return
        if self.wf.spec.shutdown is None:
            self.wf.spec.shutdown = "Deadline"

    # ------------------------------------------------------------------ results

    def apply_result(self, result: PodResult) -> None:
        node = self.nodes.get(result.node_id)
        if node is None or node.fulfilled:
            return
        if result.started_at:
            node.started_at = result.started_at
        node.outputs = result.outputs
        for cname, cstate in result.containers.items():
            child = self.get(f"{node.name}.{cname}")
            if child is None or child.fulfilled:
                continue
            child.started_at = cstate.get("startedAt") or child.started_at
            if cstate.get("exitCode") is not None:
                child.outputs = Outputs(exit_code=str(cstate["exitCode"]))
            self.mark(child, cstate.get("phase") or result.phase, cstate.get("message") or "")
            child.finished_at = cstate.get("finishedAt") or child.finished_at
        self.mark(node, result.phase, result.message or "")
        for child in self.nodes.values() if node.children else ():  # only containerSet pods have Container nodes
            if child.type == "Container" and child.boundary_id == node.id and not child.fulfilled:
                self.mark(child, node.phase if node.phase != SUCCEEDED else OMITTED, node.message or "")
        if result.finished_at:
            node.finished_at = result.finished_at
        if node.phase == SUCCEEDED:
            self.add_global_outputs(node.outputs)
            self._memo_store(node)

    # ------------------------------------------------------------------ execute

    def execute_template(self, node_name: str, holder: Any, ctx: Context, args: Arguments | None, opts: ExecOpts) -> NodeStatus | None:
        """``executeTemplate``: create/advance the node for ``holder`` and return it."""
        node = self.get(node_name)
        if node is not None and node.fulfilled:
            self._memo_store(node)
            return node
        if opts.depth > MAX_STACK_DEPTH:
            node = node or self.init_node(node_name, "Skipped", holder, opts.boundary_id, ERROR)
            return self.mark_error(node, RECURSION_MESSAGE)
        try:
            new_ctx, tmpl = self.resolve(holder, ctx)
        except ArgosyError as exc:
            node = node or self.init_node(node_name, "Skipped", holder, opts.boundary_id, ERROR)
            return self.mark_error(node, exc)
        tmpl = self.merged_defaults(tmpl)
        kind = self.template_type(tmpl)
        if self.wf.spec.shutdown and node is None and not (opts.on_exit and self.wf.spec.shutdown == "Stop"):
            # Stopped/terminated workflows start nothing new.
            node = self.init_node(node_name, "Skipped", holder, opts.boundary_id, FAILED, self._shutdown_message(), scope_name=new_ctx.scope_name)
            return node
        local = {"node.name": node_name}
        retry = tmpl.retry_strategy or self.wf.spec.retry_strategy
        if kind in POD_TYPES:
            local["pod.name"] = pod_name(self.name, self._attempt_name(node_name, retry), tmpl.name or "")
        try:
            processed = self._process_args(tmpl, args, local, kind)
        except ArgosyError as exc:
            node = node or self.init_node(node_name, "Skipped", holder, opts.boundary_id, ERROR, scope_name=new_ctx.scope_name)
            return self.mark_error(node, exc)

        # memoization
        if node is None and processed.memoize is not None and self.memo is not None:
            hit = self._memo_lookup(node_name, holder, processed, opts, new_ctx)
            if hit is not None:
                return hit

        self.check_parallelism(processed, node, opts.boundary_id, kind)
        if self.wf.spec.suspend and node is None:
            raise ParallelismReached()  # a suspended workflow starts nothing new
        if retry is not None:
            retry = processed.retry_strategy or retry

        retry_parent: NodeStatus | None = None
        if retry is not None and kind != "suspend":
            if node is None:
                node = self.init_node(node_name, "Retry", holder, opts.boundary_id, RUNNING, scope_name=new_ctx.scope_name)
                node.inputs = processed.inputs
            retry_parent = node
            finished, node = self._process_retries(retry_parent, retry, processed)
            if finished:
                return retry_parent
            if node is None:
                if self.wf.spec.suspend:
                    raise ParallelismReached()
                attempt = len(self.attempts(retry_parent))
                node_name = f"{retry_parent.name}({attempt})"
                local["retries"] = str(attempt)
                if kind in POD_TYPES:
                    local["pod.name"] = pod_name(self.name, node_name, tmpl.name or "")
                try:
                    processed = process_args(tmpl, args, self.global_params, local, config_map_lookup=self.config_map_lookup)
                except ArgosyError as exc:
                    return self.mark_error(retry_parent, exc)
            else:
                node_name = node.name

        sub_opts = ExecOpts(opts.boundary_id, opts.on_exit, opts.depth + 1)
        if kind in ("container", "script", "containerSet", "resource", "data", "http", "plugin"):
            node = self.execute_pod(node_name, holder, processed, sub_opts, new_ctx, kind)
        elif kind == "steps":
            node = self.execute_steps(node_name, holder, new_ctx, processed, sub_opts)
        elif kind == "dag":
            node = self.execute_dag(node_name, holder, new_ctx, processed, sub_opts)
        elif kind == "suspend":
            node = self.execute_suspend(node_name, holder, processed, sub_opts, new_ctx)
        else:
            node = node or self.init_node(node_name, "Skipped", holder, opts.boundary_id, ERROR)
            self.mark_error(node, f"template '{tmpl.name}' type unspecified")

        if retry_parent is not None and node is not None:
            if node.node_flag is None:
                node.node_flag = NodeFlag(retried=True)
            self.add_child(retry_parent.name, node.name)
            if node.fulfilled:
                finished, _ = self._process_retries(retry_parent, retry, processed)  # type: ignore[arg-type]
            self._memo_store(retry_parent)
            return retry_parent
        if node is not None:
            self._memo_store(node)
        return node

    def _process_args(self, tmpl: Template, args: Arguments | None, local: dict[str, str], kind: str) -> Template:
        """``process_args``, reused from the last pass for a ``steps``/``dag`` node whose inputs are unchanged.

        The result depends only on the template, the arguments, the local and the global
        parameters (all compared here), unless a parameter comes from a ConfigMap (never cached).
        Only steps/DAG templates are kept: they are walked every pass and can be large (a whole
        task list), while a pod template is processed about once and then handed to an executor.
        """
        if kind not in ("steps", "dag") or _reads_config_map(tmpl, args):
            return process_args(tmpl, args, self.global_params, local, config_map_lookup=self.config_map_lookup)
        key = json.dumps(local, sort_keys=True)  # node.name (+ pod.name, retries): one entry per node
        args_key = args.model_dump_json(by_alias=True, exclude_unset=True) if args is not None else ""
        globals_key = tuple(self.global_params.items())
        cached = self._processed.get(key)
        if cached is not None and cached[0] is tmpl and cached[1] == args_key and cached[2] == globals_key:
            return cached[3]
        processed = process_args(tmpl, args, self.global_params, local, config_map_lookup=self.config_map_lookup)
        if cached is not None:
            self.dag_shapes.pop(id(cached[3]), None)  # the stale template's shape goes with it
        self._processed[key] = (tmpl, args_key, globals_key, processed)
        return processed

    def _attempt_name(self, node_name: str, retry: RetryStrategy | None) -> str:
        if retry is None:
            return node_name
        parent = self.get(node_name)
        attempts = self.attempts(parent) if parent is not None else []
        if attempts and not attempts[-1].fulfilled:
            return attempts[-1].name
        return f"{node_name}({len(attempts)})"

    def attempts(self, parent: NodeStatus) -> list[NodeStatus]:
        """A Retry node's attempts: its children except the hook nodes hung on it."""
        out = []
        for cid in parent.children or []:
            child = self.nodes.get(cid)
            if child is not None and not (child.node_flag and child.node_flag.hooked):
                out.append(child)
        return out

    def _shutdown_message(self) -> str:
        if self.wf.spec.shutdown == "Deadline":
            return "Step exceeded its deadline"
        return f"Stopped with strategy '{self.wf.spec.shutdown}'"

    # ------------------------------------------------------------------ parallelism

    def _count(self, boundary_id: str, types: tuple[str, ...]) -> int:
        return sum(1 for n in self.nodes.values() if n.boundary_id == boundary_id and n.type in types and n.phase in (PENDING, RUNNING))

    def _unsuccessful(self, boundary_id: str) -> int:
        return sum(1 for n in self.nodes.values() if n.boundary_id == boundary_id and n.phase in (FAILED, ERROR) and n.type != "Retry" and not (n.node_flag and n.node_flag.retried and self._retry_parent_open(n)))

    def _retry_parent_open(self, n: NodeStatus) -> bool:
        for p in self.nodes.values():
            if p.type == "Retry" and p.children and n.id in p.children:
                return not p.fulfilled
        return False

    def _pods_under(self, boundary_id: str) -> int:
        return self._count(boundary_id, ("Pod",))

    def check_parallelism(self, tmpl: Template, node: NodeStatus | None, boundary_id: str, kind: str) -> None:
        limit = self.wf.spec.parallelism
        if limit is not None and self.active_pods >= limit and (node is None or kind in POD_TYPES and node.phase not in (PENDING, RUNNING)):
            raise ParallelismReached()
        if node is not None and kind in ("steps", "dag"):
            if tmpl.fail_fast and self._unsuccessful(node.id) > 0:
                if self._pods_under(node.id) == 0:
                    self.mark(node, FAILED, "template has failed or errored children and failFast enabled")
                raise ParallelismReached()
            if tmpl.parallelism is not None and self._count(node.id, ("Pod",)) >= int(tmpl.parallelism):
                raise ParallelismReached()
        if boundary_id and (node is None or node.phase not in (PENDING, RUNNING)):
            boundary = self.nodes.get(boundary_id)
            if boundary is None:
                return
            btmpl = getattr(self, "_boundary_templates", {}).get(boundary_id)
            if btmpl is None:
                return
            if btmpl.fail_fast and self._unsuccessful(boundary_id) > 0:
                if self._pods_under(boundary_id) == 0:
                    self.mark(boundary, FAILED, "template has failed or errored children and failFast enabled")
                raise ParallelismReached()
            if btmpl.parallelism is not None and self._count(boundary_id, ("Pod", "Steps", "DAG")) >= int(btmpl.parallelism):
                raise ParallelismReached()

    def remember_boundary(self, node: NodeStatus, tmpl: Template) -> None:
        if not hasattr(self, "_boundary_templates"):
            self._boundary_templates: dict[str, Template] = {}
        self._boundary_templates[node.id] = tmpl

    # ------------------------------------------------------------------ retries

    def _process_retries(self, parent: NodeStatus, retry: RetryStrategy, tmpl: Template) -> tuple[bool, NodeStatus | None]:
        """``processNodeRetries``: (finished?, the attempt to continue with or None for a new one)."""
        if parent.fulfilled:
            return True, None
        children = self.attempts(parent)
        if not children:
            return False, None
        last = children[-1]
        if not last.fulfilled:
            return False, last
        if not last.failed_or_error:
            parent.outputs = last.outputs
            self.mark(parent, last.phase if last.phase != OMITTED else SUCCEEDED, "")
            parent.message = last.message
            return True, None
        if self.wf.spec.shutdown:
            self.mark(parent, last.phase, last.message or "")
            return True, None
        policy = retry.retry_policy or ("Always" if retry.expression else "OnFailure")
        retry_failed = policy in ("Always", "OnFailure")
        retry_error = policy in ("Always", "OnError")
        if policy == "OnTransientError":
            retry_failed = retry_error = _is_transient(last.message or "")
        if (last.phase == FAILED and not retry_failed) or (last.phase == ERROR and not retry_error):
            self.mark(parent, last.phase, last.message or "")
            return True, None
        if retry.expression:
            from argosy.pipeline.expr import evaluate, expand_env

            env = expand_env(
                {
                    **self.global_params,
                    "retries": str(len(children) - 1),
                    "lastRetry.exitCode": (last.outputs.exit_code if last.outputs and last.outputs.exit_code else "-1"),
                    "lastRetry.status": last.phase,
                    "lastRetry.duration": str(int(_seconds_between(last.started_at, last.finished_at))),
                    "lastRetry.message": last.message or "",
                }
            )
            try:
                ok = evaluate(retry.expression, env)
            except ExpressionError as exc:
                self.mark(parent, ERROR, str(exc))
                return True, None
            if ok is not True:
                self.mark(parent, last.phase, "retryStrategy.expression evaluated to false")
                return True, None
        if retry.limit is not None:
            try:
                limit = int(str(retry.limit))
            except ValueError:
                self.mark(parent, ERROR, f"retryStrategy.limit '{retry.limit}' is not an integer")
                return True, None
            if len(children) > limit:
                parent.outputs = last.outputs
                self.mark(parent, last.phase, "No more retries left")
                return True, None
        if retry.backoff is not None and retry.backoff.duration:
            base = _duration_seconds(retry.backoff.duration)
            factor = float(retry.backoff.factor) if retry.backoff.factor is not None else 1.0
            wait = base * (factor ** (len(children) - 1))
            if retry.backoff.cap:
                wait = min(wait, _duration_seconds(retry.backoff.cap))
            first_start = parse_time(children[0].started_at)
            if retry.backoff.max_duration and first_start is not None:
                max_d = _duration_seconds(retry.backoff.max_duration)
                if (now() - first_start).total_seconds() >= max_d:
                    self.mark(parent, last.phase, "Max duration limit exceeded")
                    return True, None
            finished = parse_time(last.finished_at) or now()
            ready = finished + timedelta(seconds=wait)
            remaining = (ready - now()).total_seconds()
            if remaining > 0:
                parent.message = f"Backoff for {_humanize(wait)}"
                self.wakeups.append(time.monotonic() + remaining)
                raise ParallelismReached()
            parent.message = None
        return False, None

    # ------------------------------------------------------------------ pods

    def _result_refs(self) -> bool:
        return True

    def execute_pod(self, node_name: str, holder: Any, tmpl: Template, opts: ExecOpts, ctx: Context, kind: str) -> NodeStatus:
        node = self.get(node_name)
        if node is not None:
            return node
        node = self.init_node(node_name, "Pod", holder, opts.boundary_id, PENDING, template_name=tmpl.name, scope_name=ctx.scope_name)
        if getattr(holder, "template", None) is None and getattr(holder, "template_ref", None) is None:
            node.template_name = tmpl.name
        node.inputs = _node_inputs(tmpl)
        pname = pod_name(self.name, node_name, tmpl.name or "")
        deadline = None
        if tmpl.active_deadline_seconds is not None:
            try:
                deadline = float(str(tmpl.active_deadline_seconds))
            except ValueError:
                return self.mark_error(node, f"activeDeadlineSeconds '{tmpl.active_deadline_seconds}' is not a number")
        if tmpl.timeout:
            deadline = _duration_seconds(tmpl.timeout)
        from argosy.pipeline.templating import substitute_text

        key_prefix = substitute_text(self.output_key_format, {**self.global_params, "pod.name": pname})
        request = PodRequest(
            workflow_name=self.name,
            workflow_uid=self.wf.metadata.uid or "",
            namespace=self.wf.metadata.namespace or "default",
            node_id=node.id,
            node_name=node_name,
            pod_name=pname,
            template=tmpl,
            input_artifacts=list((tmpl.inputs.artifacts if tmpl.inputs else None) or []),
            output_key_prefix=key_prefix,
            deadline_seconds=deadline,
            archive_logs=bool((tmpl.archive_location and tmpl.archive_location.archive_logs) or self.wf.spec.archive_logs),
            service_account=tmpl.service_account_name or self.wf.spec.service_account_name,
            extra={"volumes": list(self.wf.spec.volumes or [])},
        )
        if kind == "containerSet" and tmpl.container_set is not None:
            self._container_nodes(node, tmpl, ctx)
        try:
            self.executor.launch(request)
        except ArgosyError as exc:
            return self.mark(node, ERROR, str(exc))
        if getattr(self.executor, "starts_immediately", False):
            node.phase = RUNNING  # a local process starts at once; a cluster pod stays Pending until scheduled
        self.active_pods += 1
        return node

    def _container_nodes(self, node: NodeStatus, tmpl: Template, ctx: Context) -> None:
        """A containerSet pod's containers as ``Container`` nodes, linked by their dependencies."""
        assert tmpl.container_set is not None
        for c in tmpl.container_set.containers:
            name = f"{node.name}.{c.name}"
            if self.get(name) is None:
                child = self.init_node(name, "Container", WorkflowStep(name=c.name or ""), node.id, PENDING, template_name="", scope_name=ctx.scope_name)
                child.template_name = None
        for c in tmpl.container_set.containers:
            name = f"{node.name}.{c.name}"
            if not c.dependencies:
                self.add_child(node.name, name)
            for dep in c.dependencies or []:
                self.add_child(f"{node.name}.{dep}", name)

    def execute_suspend(self, node_name: str, holder: Any, tmpl: Template, opts: ExecOpts, ctx: Context) -> NodeStatus:
        node = self.get(node_name)
        if node is None:
            node = self.init_node(node_name, "Suspend", holder, opts.boundary_id, RUNNING, template_name=tmpl.name, scope_name=ctx.scope_name)
            node.inputs = _node_inputs(tmpl)
        if node.fulfilled:
            return node
        duration = tmpl.suspend.duration if tmpl.suspend else None
        if duration:
            started = parse_time(node.started_at) or now()
            remaining = (started + timedelta(seconds=_duration_seconds(duration)) - now()).total_seconds()
            if remaining <= 0:
                self._resume_node(node, tmpl)
            else:
                self.wakeups.append(time.monotonic() + remaining)
        return node

    def _resume_node(self, node: NodeStatus, tmpl: Template | None) -> None:
        outputs = node.outputs or Outputs()
        declared = (tmpl.outputs.parameters if tmpl and tmpl.outputs else None) or []
        params = {p.name: p for p in outputs.parameters or []}
        result_params = []
        for p in declared:
            got = params.get(p.name)
            if got is not None and got.value is not None:
                result_params.append(_out_param(p.name, got.value, p.global_name))
            elif p.value_from is not None and p.value_from.default is not None:
                result_params.append(_out_param(p.name, p.value_from.default, p.global_name))
            elif p.value_from is not None and p.value_from.supplied is not None:
                self.mark(node, ERROR, f"raw output parameter '{p.name}' has not been set and does not have a default value")
                return
        if result_params:
            outputs.parameters = result_params
            node.outputs = outputs
            self.add_global_outputs(outputs)
        self.mark(node, SUCCEEDED)

    def resume(self, node_field: str | None = None) -> int:
        """Resume every running Suspend node (``argosy resume``); returns how many."""
        count = 0
        for node in self.nodes.values():
            if node.type == "Suspend" and node.phase == RUNNING:
                tmpl = self.wf_context.templates.get(node.template_name or "")
                self._resume_node(node, tmpl)
                count += 1
        return count

    # ------------------------------------------------------------------ memoization

    def _memo_lookup(self, node_name: str, holder: Any, tmpl: Template, opts: ExecOpts, ctx: Context) -> NodeStatus | None:
        memo = tmpl.memoize
        assert memo is not None
        cache_name = str((memo.cache.config_map or {}).get("name", ""))
        max_age = _duration_seconds(memo.max_age) if memo.max_age else None
        entry = self.memo.cache_get(cache_name, memo.key, max_age_seconds=max_age)
        if entry is None:
            if not hasattr(self, "_pending_memo"):
                self._pending_memo: dict[str, tuple[str, str]] = {}
            self._pending_memo[node_id(self.name, node_name)] = (cache_name, memo.key)
            self._memo_miss[node_id(self.name, node_name)] = MemoizationStatus(hit=False, key=memo.key, cache_name=cache_name)
            return None
        kind = self.template_type(tmpl)
        node_type = {"steps": "Steps", "dag": "DAG"}.get(kind, "Pod")
        node = self.init_node(node_name, node_type, holder, opts.boundary_id, SUCCEEDED, template_name=tmpl.name, scope_name=ctx.scope_name)
        node.inputs = _node_inputs(tmpl)
        node.outputs = Outputs.model_validate(entry.get("outputs") or {})
        node.memoization_status = MemoizationStatus(hit=True, key=memo.key, cache_name=cache_name)
        self.add_global_outputs(node.outputs)
        return node

    # ------------------------------------------------------------------ progress

    def _memo_store(self, node: NodeStatus) -> None:
        """Cache the outputs of a memoized node (pod, steps, DAG or retry) once it Succeeded."""
        pending = getattr(self, "_pending_memo", None)
        if not pending or node.phase != SUCCEEDED or node.id not in pending or self.memo is None:
            return
        cache_name, key = pending.pop(node.id)
        self.memo.cache_put(cache_name, key, node.id, node.outputs.to_dict() if node.outputs else {})

    def _update_progress(self) -> None:
        """Argo's ``progress.UpdateProgress``.

        Executable nodes (pod, container, suspend, ...) are ``0/1``, complete once Succeeded,
        Skipped or Omitted; the workflow's progress is their sum. Every other node sums the
        executable nodes reachable through ``children``, each counted once: as in Argo, that
        includes the later step groups (they hang off the earlier group's pods).
        """
        executable = ("Pod", "Container", "Suspend", "HTTP", "Plugin")
        own: dict[str, tuple[int, int]] = {}
        for nid, node in self.nodes.items():
            if node.type in executable:
                own[nid] = (1 if node.phase in (SUCCEEDED, SKIPPED, OMITTED) else 0, 1)
                node.progress = f"{own[nid][0]}/{own[nid][1]}"
        for node in self.nodes.values():
            if node.type in executable:
                continue
            done = total = 0
            visited: set[str] = set()
            stack = list(reversed(node.children or []))
            while stack:
                child_id = stack.pop()
                if child_id in visited:
                    continue
                visited.add(child_id)
                child = self.nodes.get(child_id)
                if child is None:
                    continue
                if child_id in own:
                    done += own[child_id][0]
                    total += own[child_id][1]
                stack.extend(reversed(child.children or []))
            node.progress = f"{done}/{total}"
        self.status["progress"] = f"{sum(d for d, _ in own.values())}/{sum(t for _, t in own.values())}"

    # ------------------------------------------------------------------ output

    def to_status(self) -> dict[str, Any]:
        self._update_progress()
        status = dict(self.status)
        status["nodes"] = {nid: n.to_dict() for nid, n in self.nodes.items()}
        # Argo's conditions: PodRunning after every pod reconciliation, Completed once fulfilled
        running = any(n.type == "Pod" and n.phase == RUNNING for n in self.nodes.values())
        conditions = upsert_condition(status.get("conditions"), "PodRunning", running)
        if self.done:
            conditions = upsert_condition(conditions, "Completed", True)
        status["conditions"] = conditions
        outputs = self.global_outputs.to_dict()
        if outputs:
            status["outputs"] = outputs
        return status

    def fingerprint(self) -> tuple[int, int]:
        """Cheap change detector: node count and how many are fulfilled."""
        return len(self.nodes), sum(1 for n in self.nodes.values() if n.fulfilled)

    def next_wakeup(self) -> float | None:
        return min(self.wakeups) if self.wakeups else None


# ---------------------------------------------------------------------- helpers


def upsert_condition(conditions: list[dict[str, Any]] | None, kind: str, value: bool) -> list[dict[str, Any]]:
    """Argo's ``Conditions.UpsertCondition`` for a True/False condition: replaced in place, else appended."""
    out = [dict(c) for c in conditions or []]
    entry = {"type": kind, "status": "True" if value else "False"}
    for i, cond in enumerate(out):
        if cond.get("type") == kind:
            out[i] = {**cond, **entry}
            return out
    out.append(entry)
    return out


_WORKFLOW_STATUS = {PENDING: PENDING, RUNNING: RUNNING, SUCCEEDED: SUCCEEDED, SKIPPED: SUCCEEDED, OMITTED: SUCCEEDED, FAILED: FAILED, ERROR: ERROR}


def _reads_config_map(tmpl: Template, args: Arguments | None) -> bool:
    """Does processing read a ConfigMap (``valueFrom.configMapKeyRef``), i.e. state outside the workflow?"""
    params = list((tmpl.inputs.parameters or []) if tmpl.inputs is not None else []) + list((args.parameters or []) if args else [])
    return any(p.value_from is not None and p.value_from.config_map_key_ref is not None for p in params)


def _go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: double-quoted, with ``"``, ``\\`` and control characters escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _eval_bool(expression: str | None, hook_node: str, env: dict[str, Any]) -> bool:
    """``argoexpr.EvalBool`` of a lifecycle hook's expression (required for non-exit hooks)."""
    from argosy.pipeline.expr import evaluate

    if not expression:
        raise TemplateError(f"Expression required for hook {hook_node}")
    try:
        result = evaluate(expression, env)
    except ExpressionError as exc:
        raise ExpressionError(f"unable to evaluate expression '{expression}': {exc}") from None
    if not isinstance(result, bool):
        raise ExpressionError(f"unable to cast expression result '{result}' to bool")
    return result


def _flag_hooked(node: NodeStatus) -> None:
    if node.node_flag is None:
        node.node_flag = NodeFlag(hooked=True)
    else:
        node.node_flag.hooked = True


def _hook_holder(hook: LifecycleHook) -> WorkflowStep:
    return WorkflowStep(name="onExit", template=hook.template, template_ref=hook.template_ref, arguments=hook.arguments)


def _node_inputs(tmpl: Template) -> Any:
    if tmpl.inputs is None or not (tmpl.inputs.parameters or tmpl.inputs.artifacts):
        return None
    return tmpl.inputs


# Lists that a Kubernetes strategic merge patch merges by key instead of replacing.
_MERGE_KEYS = {"env": "name", "volumeMounts": "mountPath", "ports": "containerPort", "envFrom": None}


def _merge(base: Any, own: Any, key: str = "") -> Any:
    """Strategic-merge-like: maps merge recursively; ``env``/``volumeMounts`` lists merge by key."""
    if isinstance(base, dict) and isinstance(own, dict):
        out = dict(base)
        for k, v in own.items():
            out[k] = _merge(base[k], v, k) if k in base else v
        return out
    merge_key = _MERGE_KEYS.get(key)
    if merge_key and isinstance(base, list) and isinstance(own, list):
        own_keys = {item.get(merge_key) for item in own if isinstance(item, dict)}
        return own + [item for item in base if not (isinstance(item, dict) and item.get(merge_key) in own_keys)]
    return own


def _is_transient(message: str) -> bool:
    needles = ("connection refused", "connection reset", "i/o timeout", "timeout", "EOF", "transient", "ServiceUnavailable", "SlowDown")
    return any(n.lower() in message.lower() for n in needles)


def _seconds_between(a: str | None, b: str | None) -> float:
    ta, tb = parse_time(a), parse_time(b)
    if ta is None or tb is None:
        return 0.0
    return (tb - ta).total_seconds()


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _duration_seconds(text: str | int | float) -> float:
    """Go duration strings (``1m30s``, ``500ms``, ``2h``) or bare seconds."""
    import re

    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    total = 0.0
    pos = 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)", s):
        if m.start() != pos:
            raise TemplateError(f"invalid duration '{text}'")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise TemplateError(f"invalid duration '{text}'")
    return total


def _humanize(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes, sec = divmod(seconds, 60)
    out = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if sec:
        out += f" {sec} second{'s' if sec != 1 else ''}"
    return out


_STRFTIME = {
    "B": "%B",
    "b": "%b",
    "m": "%m",
    "A": "%A",
    "a": "%a",
    "d": "%d",
    "H": "%H",
    "I": "%I",
    "M": "%M",
    "S": "%S",
    "Y": "%Y",
    "y": "%y",
    "p": "%p",
    "Z": "%Z",
    "z": "%z",
}


def _strftime(t: datetime, ch: str) -> str:
    if ch == "L":
        return f"{t.microsecond // 1000:03d}"
    return t.strftime(_STRFTIME[ch])


def duration_seconds(text: str | int | float) -> float:
    return _duration_seconds(text)

