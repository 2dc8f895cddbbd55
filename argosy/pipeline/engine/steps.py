"""``steps`` templates: the outer list runs in order, each inner list (a step group) in parallel."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from argosy.errors import ArgosyError, ExpressionError, TemplateError
from argosy.pipeline.engine.loops import expand, should_expand
from argosy.pipeline.engine.scope import ABSENT, Scope, aggregate_outputs, template_outputs_from_scope
from argosy.pipeline.model import Arguments, LifecycleHook, Template, WorkflowStep
from argosy.pipeline.status import ERROR, FAILED, RUNNING, SKIPPED, SUCCEEDED, NodeFlag, NodeStatus

if TYPE_CHECKING:
    from argosy.pipeline.engine.operator import Context, ExecOpts, Operator

__all__ = ["exit_hook_of", "resolve_references", "run_lifecycle_hooks", "when_allows"]


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
                found_art = scope.evaluate_artifact(art.from_expression, global_params)
                if found_art is None:
                    if art.optional:
                        continue
                    raise TemplateError(f"fromExpression '{art.from_expression}' evaluated to nil")
                bound = found_art.model_copy(deep=True)
                bound.name = art.name
                bound.from_expression = None
                arts.append(bound)
            else:
                arts.append(art)
        new.arguments.artifacts = arts
    return new



def execute_steps(op: Operator, node_name: str, holder: Any, ctx: Context, tmpl: Template, opts: ExecOpts) -> NodeStatus:
    from argosy.pipeline.engine.operator import ExecOpts as Opts

    node = op.get(node_name)
    if node is None:
        node = op.init_node(node_name, "Steps", holder, opts.boundary_id, RUNNING, template_name=tmpl.name, scope_name=ctx.scope_name)
        node.inputs = tmpl.inputs if tmpl.inputs and (tmpl.inputs.parameters or tmpl.inputs.artifacts) else None
    if node.fulfilled:
        return node
    op.remember_boundary(node, tmpl)
    scope = Scope()
    scope.add_outputs("workflow", op.global_outputs)
    child_opts = Opts(node.id, opts.on_exit, opts.depth)
    groups = tmpl.steps or []
    for i, group in enumerate(groups):
        sg_name = f"{node_name}[{i}]"
        if op.get(sg_name) is None:
            op.init_node(sg_name, "StepGroup", WorkflowStep(name=sg_name), node.id, RUNNING, template_name="", scope_name=ctx.scope_name)
            op.by_name[sg_name].template_name = None
        if i == 0:
            op.add_child(node_name, sg_name)
        else:
            prev = op.get(f"{node_name}[{i - 1}]")
            assert prev is not None
            if not prev.children:
                op.add_child(prev.name, sg_name)
            else:
                for child_id in prev.children:
                    for out_id in op.outbound_nodes(child_id):
                        op.add_child(op.nodes[out_id].name, sg_name)
        sg = op.execute_step_group(group, sg_name, ctx, scope, child_opts)
        if not sg.fulfilled:
            return node
        if sg.phase != SUCCEEDED:
            node.outbound_nodes = op.outbound_nodes(sg.id)
            return op.mark(node, FAILED, sg.message or "")
        for step in group:
            child_name = f"{sg_name}.{step.name}"
            prefix = f"steps.{step.name}"
            if should_expand(step):
                kids = [
                    n
                    for n in (op.nodes[c] for c in sg.children or [])
                    if n.name.startswith(child_name + "(") and n.type != "Skipped"
                ]
                kids = [op._effective(n) for n in kids]
                kids.sort(key=_loop_index)
                aggregate_outputs(scope, prefix, [k for k in kids if k.phase == SUCCEEDED])
                continue
            child = op.get(child_name)
            if child is None:
                continue
            scope.add_node(prefix, child, op._template_of(step, ctx), op._last_child(child))
    node.outbound_nodes = op.outbound_nodes(op.get(f"{node_name}[{len(groups) - 1}]").id) if groups else None  # type: ignore[union-attr]
    try:
        outputs = template_outputs_from_scope(tmpl, scope, op.global_params)
    except ArgosyError as exc:
        return op.mark_error(node, exc)
    if outputs is not None:
        node.outputs = outputs
        op.add_global_outputs(outputs)
    return op.mark(node, SUCCEEDED)

def execute_step_group(op: Operator, group: list[WorkflowStep], sg_name: str, ctx: Context, scope: Scope, opts: ExecOpts) -> NodeStatus:
    from argosy.pipeline.engine.operator import ParallelismReached

    sg = op.get(sg_name)
    assert sg is not None
    if sg.fulfilled:
        return sg
    node_steps: dict[str, WorkflowStep] = {}
    expanded: list[WorkflowStep] = []
    for step in group:
        try:
            resolved = resolve_references(step, scope, op.global_params, "steps")
            items = expand(resolved) if should_expand(resolved) else [resolved]
        except ArgosyError as exc:
            return op.mark_error(sg, exc)
        if should_expand(step) and not items:
            child_name = f"{sg_name}.{step.name}"
            if op.get(child_name) is None:
                op.init_node(child_name, "Skipped", step, opts.boundary_id, SKIPPED, "Skipped, empty params", scope_name=ctx.scope_name)
                op.add_child(sg_name, child_name)
            continue
        expanded.extend(items)
    for step in expanded:
        child_name = f"{sg_name}.{step.name}"
        node_steps[child_name] = step
        existing = op.get(child_name)
        if existing is None:
            try:
                proceed = when_allows(step.when)
            except ExpressionError as exc:
                op.init_node(child_name, "Skipped", step, opts.boundary_id, ERROR, str(exc), scope_name=ctx.scope_name)
                op.add_child(sg_name, child_name)
                return op.mark_error(sg, exc)
            if not proceed:
                op.init_node(child_name, "Skipped", step, opts.boundary_id, SKIPPED, f"when '{step.when}' evaluated false", scope_name=ctx.scope_name)
                op.add_child(sg_name, child_name)
                continue
        try:
            child = op.execute_template(child_name, step, ctx, step.arguments, opts)
        except ParallelismReached:
            child = op.get(child_name)
        if child is None:
            continue
        op.add_child(sg_name, child_name)
        if child.fulfilled and child.completed:
            has_exit, exit_node = op.run_exit_hook(exit_hook_of(step, op.wf.spec.arguments), child, opts, ctx, f"steps.{step.name}", scope)
            if has_exit and (exit_node is None or not exit_node.fulfilled):
                return sg
    sg = op.get(sg_name)
    assert sg is not None
    completed = not any(op.get(name) is None for name in node_steps)  # else a step could not start yet
    for child_id in sg.children or []:
        child = op.nodes[child_id]
        done_step = node_steps.get(child.name)
        if done_step is not None and done_step.hooks:
            scope.params[f"steps.{child.display_name}.status"] = child.phase
            try:
                hooks_done = op.run_lifecycle_hooks(done_step.hooks, child, opts, ctx, f"steps.{done_step.name}", scope)
            except ArgosyError as exc:
                return op.mark_error(sg, exc)
            if not hooks_done:
                return sg
        if not child.fulfilled:
            completed = False
        elif done_step is not None and child.completed:
            hook = exit_hook_of(done_step, op.wf.spec.arguments)
            if hook is not None:
                exit_node = op.get(f"{child.name}.onExit")
                if exit_node is None or not exit_node.fulfilled:
                    completed = False
    if not completed:
        return sg
    for child_id in sg.children or []:
        child = op.nodes[child_id]
        if child.failed_or_error and not _continues_on(node_steps.get(child.name), child.phase):
            return op.mark(sg, FAILED, f"child '{child_id}' failed")
    return op.mark(sg, SUCCEEDED)

# -------------------------------------------------------------- shared helpers

def run_exit_hook(
    op: Operator, hook: LifecycleHook | None, parent: NodeStatus, opts: ExecOpts, ctx: Context, prefix: str, scope: Scope
) -> tuple[bool, NodeStatus | None]:
    """``runOnExitNode``: a step/task's exit handler as ``<node>.onExit``, child of the node."""
    from argosy.pipeline.engine.operator import ExecOpts as Opts
    from argosy.pipeline.engine.operator import ParallelismReached

    if hook is None or op.wf.spec.shutdown == "Terminate":
        return False, None
    name = f"{parent.name}.onExit"
    args = _hook_arguments(op, hook.arguments, parent, prefix, scope)
    holder = WorkflowStep(name="onExit", template=hook.template, template_ref=hook.template_ref)
    try:
        node = op.execute_template(name, holder, ctx, args, Opts(opts.boundary_id, True, opts.depth))
    except ParallelismReached:
        node = op.get(name)
    if node is not None:
        if node.node_flag is None:
            node.node_flag = NodeFlag(hooked=True)
        else:
            node.node_flag.hooked = True
        op.add_child(parent.name, name)
    return True, node

def _hook_arguments(op: Operator, args: Arguments | None, parent: NodeStatus, prefix: str, scope: Scope) -> Arguments | None:
    """``resolveExitTmplArgument``: a hook's arguments may use the outputs of the node it hangs on."""
    if args is None or not (args.parameters or args.artifacts):
        return args
    local = Scope()
    local.params.update(scope.params)
    local.artifacts.update(scope.artifacts)
    local.add_node(prefix, parent, None, op._last_child(parent))
    holder = WorkflowStep(name="hook", arguments=args)
    with contextlib.suppress(ArgosyError):
        args = resolve_references(holder, local, op.global_params, prefix).arguments
    return args


def run_lifecycle_hooks(op: Operator, hooks: dict[str, LifecycleHook] | None, parent: NodeStatus, opts: ExecOpts, ctx: Context, prefix: str, scope: Scope) -> bool:
    """``executeTmplLifeCycleHook``: a step's/task's hooks other than ``exit``.

    A hook runs once its ``expression`` (over the globals and the scope, where ``steps.X.status``
    / ``tasks.X.status`` is the node's phase now) holds, as node ``<node>.hooks.<name>``, a child
    of the node; once started it runs to its end. True when every started hook has finished.
    Raises on an expression that is missing, invalid or not a boolean.
    """
    from argosy.pipeline.engine.operator import ExecOpts as Opts
    from argosy.pipeline.engine.operator import ParallelismReached, _eval_bool, _flag_hooked

    items = {k: v for k, v in (hooks or {}).items() if k != "exit"}
    if not items:
        return True
    env = scope.expression_env(op.global_params)
    started = []
    for hook_name, hook in items.items():
        name = f"{parent.name}.hooks.{hook_name}"
        if op.get(name) is None and not _eval_bool(hook.expression, name, env):
            continue
        args = _hook_arguments(op, hook.arguments, parent, prefix, scope)
        holder = WorkflowStep(name=hook_name, template=hook.template, template_ref=hook.template_ref)
        try:
            node = op.execute_template(name, holder, ctx, args, Opts(opts.boundary_id, opts.on_exit, opts.depth))
        except ParallelismReached:
            node = op.get(name)
        if node is not None:
            _flag_hooked(node)
            op.add_child(parent.name, name)
            started.append(node)
    return all(n.fulfilled for n in started)


def outbound_nodes(op: Operator, nid: str) -> list[str]:
    """``getOutboundNodes``: the nodes a successor attaches to."""
    node = op.nodes.get(nid)
    if node is None:
        return []
    if node.type in ("Skipped", "Suspend", "HTTP", "Plugin", "Pod"):
        return [node.id]
    if node.type == "TaskGroup" and not node.children:
        return [node.id]
    if node.type in ("TaskGroup", "StepGroup"):
        out: list[str] = []
        for child in node.children or []:
            out.extend(op.outbound_nodes(child))
        return out
    if node.type == "Retry":
        attempts = op.attempts(node)
        return [attempts[-1].id] if attempts else [node.id]
    out = []
    for o in node.outbound_nodes or []:
        out.extend(op.outbound_nodes(o))
    return out or ([node.id] if not node.outbound_nodes and not node.children else out)

def _last_child(op: Operator, node: NodeStatus) -> NodeStatus | None:
    if node.type == "Retry":
        attempts = op.attempts(node)
        return attempts[-1] if attempts else None
    return None

def _effective(op: Operator, node: NodeStatus) -> NodeStatus:
    last = op._last_child(node)
    if last is not None:
        eff = last.model_copy()
        eff.name = node.name
        eff.phase = node.phase
        return eff
    return node

def _template_of(op: Operator, inv: Any, ctx: Context) -> Template | None:
    try:
        return op.resolve(inv, ctx)[1]
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
