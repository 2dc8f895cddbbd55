"""``steps`` templates: the outer list runs in order, each inner list (a step group) in parallel."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from argosy.errors import ArgosyError, ExpressionError, TemplateError
from argosy.pipeline.engine.loops import expand, should_expand
from argosy.pipeline.engine.scope import ABSENT, Scope, aggregate_outputs, template_outputs_from_scope
from argosy.pipeline.model import Arguments, LifecycleHook, Template, WorkflowStep
from argosy.pipeline.status import ERROR, FAILED, RUNNING, SKIPPED, SUCCEEDED, NodeFlag, NodeStatus

if TYPE_CHECKING:
    from argosy.pipeline.engine.operator import Context, ExecOpts, Operator

__all__ = ["StepsMixin", "exit_hook_of", "resolve_references", "when_allows"]


def exit_hook_of(inv: Any, wf_args: Arguments | None) -> LifecycleHook | None:
    """A step's/task's exit handler: ``onExit`` or ``hooks.exit`` (with the workflow's arguments)."""
    if inv.on_exit:
        return LifecycleHook(template=inv.on_exit, arguments=wf_args)
    hook = (inv.hooks or {}).get("exit")
    if hook is None:
        return None
    if hook.arguments is None and wf_args is not None:
        hook = hook.model_copy(update={"arguments": wf_args})
    return hook


def when_allows(expression: str | None) -> bool:
    """Argo's ``shouldExecute``: govaluate over the substituted text (empty = run)."""
    if not expression:
        return True
    from argosy.pipeline.expr import evaluate_when

    return evaluate_when(expression)


def resolve_references(inv: Any, scope: Scope, global_params: dict[str, str], prefix: str) -> Any:
    """Substitute ``steps.*``/``tasks.*`` (and globals) into a step/task, then bind ``from`` artifacts.

    A tag that names an absent optional output (skipped node, no default) is an error unless it is
    the whole value of an argument, which is then dropped so the callee's default applies.
    """
    from argosy.pipeline.templating import iter_tags, substitute

    data = inv.model_dump(by_alias=True, exclude_unset=True, mode="json")
    absent = {k for k, v in scope.params.items() if v is ABSENT}
    if absent:
        for p in (data.get("arguments") or {}).get("parameters") or []:
            value = p.get("value")
            if isinstance(value, str):
                tags = list(iter_tags(value))
                if len(tags) == 1 and tags[0].raw == value.strip() and tags[0].kind == "simple" and tags[0].expr in absent:
                    p["__drop__"] = True
        if "arguments" in data and data["arguments"].get("parameters"):
            data["arguments"]["parameters"] = [p for p in data["arguments"]["parameters"] if not p.get("__drop__")]
        text = json.dumps(data)
        for tag in iter_tags(text):
            if tag.kind == "simple" and tag.expr in absent:
                raise TemplateError(f"unable to substitute {tag.raw}: output is an absent optional (skipped/omitted node with no default)")
    values = dict(global_params)
    values.update({k: v for k, v in scope.params.items() if v is not ABSENT})
    text = substitute(json.dumps(data), values, env=lambda: scope.expression_env(global_params))
    new = type(inv).model_validate(json.loads(text))
    # Don't resolve artifacts of a step that will not run (its `when` may be false).
    try:
        proceed = when_allows(new.when) if not should_expand(new) else True
    except ExpressionError:
        proceed = True
    if not proceed:
        return new
    if new.arguments and new.arguments.artifacts:
        arts = []
        for art in new.arguments.artifacts:
            if art.from_:
                try:
                    found = scope.resolve_artifact(art.from_, art.sub_path)
                except TemplateError:
                    if art.optional:
                        continue
                    raise
                bound = found.model_copy(deep=True)
                bound.name = art.name
                bound.from_ = None
                bound.global_name = None
                arts.append(bound)
            elif art.from_expression:
                from argosy.pipeline.expr import evaluate

                env = scope.expression_env(global_params)
                try:
                    result = evaluate(art.from_expression, _artifact_env(env, scope))
                except ExpressionError as exc:
                    raise TemplateError(f"failed to evaluate fromExpression '{art.from_expression}': {exc}") from None
                if result is None:
                    if art.optional:
                        continue
                    raise TemplateError(f"fromExpression '{art.from_expression}' evaluated to nil")
                bound = result.model_copy(deep=True) if hasattr(result, "model_copy") else None
                if bound is None:
                    raise TemplateError(f"fromExpression '{art.from_expression}' did not evaluate to an artifact")
                bound.name = art.name
                arts.append(bound)
            else:
                arts.append(art)
        new.arguments.artifacts = arts
    return new


def _artifact_env(env: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Expression env where ``steps.x.outputs.artifacts.y`` are artifact objects."""
    from argosy.pipeline.expr import expand_env

    flat: dict[str, Any] = dict(scope.artifacts)
    nested = expand_env(flat)
    return _deep_merge(dict(env), nested)


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            a[k] = _deep_merge(dict(a[k]), v)
        else:
            a[k] = v
    return a


class StepsMixin:
    """``executeSteps`` / ``executeStepGroup`` for :class:`Operator`."""

    def execute_steps(self: Operator, node_name: str, holder: Any, ctx: Context, tmpl: Template, opts: ExecOpts) -> NodeStatus:
        from argosy.pipeline.engine.operator import ExecOpts as Opts

        node = self.get(node_name)
        if node is None:
            node = self.init_node(node_name, "Steps", holder, opts.boundary_id, RUNNING, template_name=tmpl.name, scope_name=ctx.scope_name)
            node.inputs = tmpl.inputs if tmpl.inputs and (tmpl.inputs.parameters or tmpl.inputs.artifacts) else None
        if node.fulfilled:
            return node
        self.remember_boundary(node, tmpl)
        scope = Scope()
        scope.add_outputs("workflow", self.global_outputs)
        child_opts = Opts(node.id, opts.on_exit, opts.depth)
        groups = tmpl.steps or []
        for i, group in enumerate(groups):
            sg_name = f"{node_name}[{i}]"
            if self.get(sg_name) is None:
                self.init_node(sg_name, "StepGroup", WorkflowStep(name=sg_name), node.id, RUNNING, template_name="", scope_name=ctx.scope_name)
                self.by_name[sg_name].template_name = None
            if i == 0:
                self.add_child(node_name, sg_name)
            else:
                prev = self.get(f"{node_name}[{i - 1}]")
                assert prev is not None
                if not prev.children:
                    self.add_child(prev.name, sg_name)
                else:
                    for child_id in prev.children:
                        for out_id in self.outbound_nodes(child_id):
                            self.add_child(self.nodes[out_id].name, sg_name)
            sg = self.execute_step_group(group, sg_name, ctx, scope, child_opts)
            if not sg.fulfilled:
                return node
            if sg.phase != SUCCEEDED:
                node.outbound_nodes = self.outbound_nodes(sg.id)
                return self.mark(node, FAILED, sg.message or "")
            for step in group:
                child_name = f"{sg_name}.{step.name}"
                prefix = f"steps.{step.name}"
                if should_expand(step):
                    kids = [
                        n
                        for n in (self.nodes[c] for c in sg.children or [])
                        if n.name.startswith(child_name + "(") and n.type != "Skipped"
                    ]
                    kids = [self._effective(n) for n in kids]
                    kids.sort(key=_loop_index)
                    aggregate_outputs(scope, prefix, [k for k in kids if k.phase == SUCCEEDED])
                    continue
                child = self.get(child_name)
                if child is None:
                    continue
                scope.add_node(prefix, child, self._template_of(step, ctx), self._last_child(child))
        node.outbound_nodes = self.outbound_nodes(self.get(f"{node_name}[{len(groups) - 1}]").id) if groups else None  # type: ignore[union-attr]
        try:
            outputs = template_outputs_from_scope(tmpl, scope, self.global_params)
        except ArgosyError as exc:
            return self.mark_error(node, exc)
        if outputs is not None:
            node.outputs = outputs
            self.add_global_outputs(outputs)
        return self.mark(node, SUCCEEDED)

    def execute_step_group(self: Operator, group: list[WorkflowStep], sg_name: str, ctx: Context, scope: Scope, opts: ExecOpts) -> NodeStatus:
        from argosy.pipeline.engine.operator import ParallelismReached

        sg = self.get(sg_name)
        assert sg is not None
        if sg.fulfilled:
            return sg
        node_steps: dict[str, WorkflowStep] = {}
        expanded: list[WorkflowStep] = []
        for step in group:
            try:
                resolved = resolve_references(step, scope, self.global_params, "steps")
                items = expand(resolved) if should_expand(resolved) else [resolved]
            except ArgosyError as exc:
                return self.mark_error(sg, exc)
            if should_expand(step) and not items:
                child_name = f"{sg_name}.{step.name}"
                if self.get(child_name) is None:
                    self.init_node(child_name, "Skipped", step, opts.boundary_id, SKIPPED, "Skipped, empty params", scope_name=ctx.scope_name)
                    self.add_child(sg_name, child_name)
                continue
            expanded.extend(items)
        for step in expanded:
            child_name = f"{sg_name}.{step.name}"
            node_steps[child_name] = step
            existing = self.get(child_name)
            if existing is None:
                try:
                    proceed = when_allows(step.when)
                except ExpressionError as exc:
                    n = self.init_node(child_name, "Skipped", step, opts.boundary_id, ERROR, str(exc), scope_name=ctx.scope_name)
                    self.add_child(sg_name, child_name)
                    return self.mark_error(sg, exc)
                if not proceed:
                    self.init_node(child_name, "Skipped", step, opts.boundary_id, SKIPPED, f"when '{step.when}' evaluated false", scope_name=ctx.scope_name)
                    self.add_child(sg_name, child_name)
                    continue
            try:
                child = self.execute_template(child_name, step, ctx, step.arguments, opts)
            except ParallelismReached:
                child = self.get(child_name)
            if child is None:
                continue
            self.add_child(sg_name, child_name)
            if child.fulfilled and child.completed:
                has_exit, exit_node = self.run_exit_hook(exit_hook_of(step, self.wf.spec.arguments), child, opts, ctx, f"steps.{step.name}", scope)
                if has_exit and (exit_node is None or not exit_node.fulfilled):
                    return sg
        sg = self.get(sg_name)
        assert sg is not None
        for child_id in sg.children or []:
            child = self.nodes[child_id]
            if not child.fulfilled:
                return sg
            step = node_steps.get(child.name)
            if step is not None and child.completed:
                hook = exit_hook_of(step, self.wf.spec.arguments)
                if hook is not None:
                    exit_node = self.get(f"{child.name}.onExit")
                    if exit_node is None or not exit_node.fulfilled:
                        return sg
        for child_id in sg.children or []:
            child = self.nodes[child_id]
            step = node_steps.get(child.name)
            if child.failed_or_error and not _continues_on(step, child.phase):
                return self.mark(sg, FAILED, f"child '{child_id}' failed")
        return self.mark(sg, SUCCEEDED)

    # -------------------------------------------------------------- shared helpers

    def run_exit_hook(
        self: Operator, hook: LifecycleHook | None, parent: NodeStatus, opts: ExecOpts, ctx: Context, prefix: str, scope: Scope
    ) -> tuple[bool, NodeStatus | None]:
        """``runOnExitNode``: a step/task's exit handler as ``<node>.onExit``, child of the node."""
        from argosy.pipeline.engine.operator import ExecOpts as Opts
        from argosy.pipeline.engine.operator import ParallelismReached

        if hook is None or self.wf.spec.shutdown == "Terminate":
            return False, None
        name = f"{parent.name}.onExit"
        args = hook.arguments
        if args is not None and (args.parameters or args.artifacts):
            local = Scope()
            local.params.update(scope.params)
            local.artifacts.update(scope.artifacts)
            local.add_node(prefix, parent, None, self._last_child(parent))
            holder = WorkflowStep(name="onExit", arguments=args)
            try:
                args = resolve_references(holder, local, self.global_params, prefix).arguments
            except ArgosyError:
                pass
        holder = WorkflowStep(name="onExit", template=hook.template, template_ref=hook.template_ref)
        try:
            node = self.execute_template(name, holder, ctx, args, Opts(opts.boundary_id, True, opts.depth))
        except ParallelismReached:
            node = self.get(name)
        if node is not None:
            if node.node_flag is None:
                node.node_flag = NodeFlag(hooked=True)
            else:
                node.node_flag.hooked = True
            self.add_child(parent.name, name)
        return True, node

    def outbound_nodes(self: Operator, nid: str) -> list[str]:
        """``getOutboundNodes``: the nodes a successor attaches to."""
        node = self.nodes.get(nid)
        if node is None:
            return []
        if node.type in ("Skipped", "Suspend", "HTTP", "Plugin", "Pod"):
            return [node.id]
        if node.type == "TaskGroup" and not node.children:
            return [node.id]
        if node.type in ("TaskGroup", "StepGroup"):
            out: list[str] = []
            for child in node.children or []:
                out.extend(self.outbound_nodes(child))
            return out
        if node.type == "Retry":
            return [node.children[-1]] if node.children else [node.id]
        out = []
        for o in node.outbound_nodes or []:
            out.extend(self.outbound_nodes(o))
        return out or ([node.id] if not node.outbound_nodes and not node.children else out)

    def _last_child(self: Operator, node: NodeStatus) -> NodeStatus | None:
        if node.type == "Retry" and node.children:
            return self.nodes.get(node.children[-1])
        return None

    def _effective(self: Operator, node: NodeStatus) -> NodeStatus:
        last = self._last_child(node)
        if last is not None:
            eff = last.model_copy()
            eff.name = node.name
            eff.phase = node.phase
            return eff
        return node

    def _template_of(self: Operator, inv: Any, ctx: Context) -> Template | None:
        try:
            return self.resolve(inv, ctx)[1]
        except ArgosyError:
            return None


def _continues_on(inv: Any, phase: str) -> bool:
    if inv is None or inv.continue_on is None:
        return False
    if phase == FAILED:
        return bool(inv.continue_on.failed)
    if phase == ERROR:
        return bool(inv.continue_on.error)
    return False


def _loop_index(node: NodeStatus) -> int:
    name = node.name
    start = name.rfind("(")
    try:
        return int(name[start + 1 : name.index(":", start)])
    except ValueError:
        return 0
