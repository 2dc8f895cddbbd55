"""Templates and their invocations: :class:`Container`, :class:`Script`, :class:`Resource`,
:class:`Suspend`, :class:`DAG` with :class:`Task`, :class:`Steps` with :class:`Step`.

Two styles build the same spec. Context style: inside ``with DAG(name="main"):`` calling a
template (``echo(name="A", message="hi")``) adds a task, and ``a >> b`` / ``[b, c] >> d`` add
dependencies. Function style: ``DAG(name="main", tasks=[Task(name="A", template=echo), ...])``.

Wiring is checked as it is written, so a mistake fails on the line that made it: an argument
must name an input of the called template, a task's outputs must be declared by its template,
and an artifact of one declared ``type``/``format`` cannot feed an input expecting another
(:class:`~argosy.sdk.errors.WiringError`, in the words ``argosy lint`` uses).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from argosy.pipeline import model
from argosy.sdk._context import Context, innermost
from argosy.sdk._runtime import parse_param
from argosy.sdk.errors import WiringError
from argosy.sdk.io import Artifact, ArtifactRef, Parameter, param_text, wire

__all__ = [
    "DAG",
    "Container",
    "Resource",
    "Script",
    "Step",
    "Steps",
    "Suspend",
    "Task",
    "Template",
    "TemplateHost",
]

#: keyword options of a task/step (everything else passed to a template call is an argument)
TASK_OPTIONS = frozenset(
    {"when", "with_items", "with_param", "with_sequence", "continue_on", "on_exit", "hooks", "dependencies", "depends", "template_ref"}
)


def _aliases(cls: type[BaseModel]) -> dict[str, str]:
    return {name: info.alias or name for name, info in cls.model_fields.items()}


_TEMPLATE_FIELDS = _aliases(model.Template)
_CONTAINER_FIELDS = _aliases(model.Container)


def split_fields(kwargs: Mapping[str, Any], *targets: tuple[str, Mapping[str, str]], owner: str) -> dict[str, dict[str, Any]]:
    """Route snake_case keyword arguments to the first target model that has the field, as wire
    (camelCase) items; an unknown keyword is a TypeError naming the owner."""
    out: dict[str, dict[str, Any]] = {label: {} for label, _ in targets}
    for key, value in kwargs.items():
        if value is None:
            continue
        for label, fields in targets:
            if key in fields:
                out[label][fields[key]] = wire(value)
                break
        else:
            raise TypeError(f"{owner}() got an unexpected keyword argument '{key}'")
    return out


def _as_list(items: Any) -> list[Any]:
    if items is None:
        return []
    if isinstance(items, list | tuple):
        return list(items)
    return [items]


def _io_wire(items: Sequence[Any], owner: str) -> dict[str, Any]:
    params, arts = [], []
    for item in items:
        if isinstance(item, Parameter | model.Parameter):
            params.append(wire(item))
        elif isinstance(item, Artifact | model.Artifact):
            arts.append(wire(item))
        else:
            raise TypeError(f"{owner}: inputs/outputs take Parameter and Artifact objects, not {item!r}")
    out: dict[str, Any] = {}
    if params:
        out["parameters"] = params
    if arts:
        out["artifacts"] = arts
    return out


class TemplateHost(Context):
    """An open ``with Workflow(...)``: templates created inside it register with it."""

    def _add_template(self, template: Template) -> None:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------- templates


class Template:
    """Base of template builders. Template-level fields of the Argo spec (``retry_strategy``,
    ``timeout``, ``node_selector``, ``metadata`` ...) are accepted as snake_case keywords.

    Calling a template inside ``with DAG(...)``/``with Steps(...)`` adds a task/step that runs
    it: ``tmpl(name="A", message="hi", when="...")``; keywords naming the template's inputs are
    its arguments, the others are task options (``when``, ``with_items`` ...).
    """

    body_key: ClassVar[str] = ""

    def __init__(self, name: str, *, inputs: Any = None, outputs: Any = None, **fields: Any) -> None:
        self.name = name
        self.inputs: list[Any] = _as_list(inputs)
        self.outputs: list[Any] = _as_list(outputs)
        self._fields = split_fields(fields, ("template", _TEMPLATE_FIELDS), owner=type(self).__name__)["template"]
        host = innermost(TemplateHost)
        if host is not None:
            host._add_template(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _body(self) -> Any:
        return {}

    def to_wire(self) -> dict[str, Any]:
        """The template as Argo's camelCase dict."""
        out: dict[str, Any] = {"name": self.name}
        if self.inputs:
            out["inputs"] = _io_wire(self.inputs, f"template '{self.name}'")
        if self.outputs:
            out["outputs"] = _io_wire(self.outputs, f"template '{self.name}'")
        out.update(self._fields)
        if self.body_key:
            out[self.body_key] = self._body()
        return out

    def build(self) -> model.Template:
        """This template as the spec model (what loading its YAML gives)."""
        return model.Template.model_validate(self.to_wire())

    # -- declarations seen by wiring checks

    def declared(self, io: str, kind: str) -> dict[str, dict[str, Any]]:
        """Declared ``inputs``/``outputs`` ``parameters``/``artifacts`` by name."""
        section = self.to_wire().get(io) or {}
        return {item["name"]: item for item in section.get(kind) or []}

    def param_kinds(self) -> dict[str, str]:
        """Python kinds of input parameters, where known (``@script`` functions)."""
        return {}

    def referenced_templates(self) -> Iterator[Template]:
        """Templates this one invokes (collected into the workflow when building)."""
        return iter(())

    # -- invocation

    def __call__(self, name: str | None = None, *, arguments: Any = None, **kwargs: Any) -> Any:
        host = innermost((DAG, Steps, _Parallel))
        if host is None:
            raise TypeError(
                f"template '{self.name}' was called outside `with DAG(...)` / `with Steps(...)`; "
                "create Task(...) or Step(...) to use it in function style"
            )
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in TASK_OPTIONS}
        items = _argument_items(arguments) + list(kwargs.items())
        cls = Task if isinstance(host, DAG) else Step
        return cls(name, template=self, arguments=items, **options)


class _RawTemplate(Template):
    """A template given as a spec model or wire dict (an escape hatch for any template type)."""

    def __init__(self, spec: model.Template | Mapping[str, Any]) -> None:
        self._wire = wire(spec)
        if not self._wire.get("name"):
            raise TypeError("a template needs a name")
        super().__init__(self._wire["name"])

    def to_wire(self) -> dict[str, Any]:
        return dict(self._wire)


def as_template(value: Any) -> Template:
    """A builder for a Template builder, spec model or wire dict."""
    if isinstance(value, Template):
        return value
    if isinstance(value, model.Template | Mapping):
        return _RawTemplate(value)
    raise TypeError(f"not a template: {value!r}")


def _env_wire(env: Any) -> list[Any]:
    if isinstance(env, Mapping):
        return [{"name": str(k), "value": param_text(v)} for k, v in env.items()]
    return [wire(e) for e in env]


class Container(Template):
    """Runs ``command``/``args`` in ``image`` (locally: the command on the host, sandboxed).
    Other ``corev1.Container`` fields (``working_dir``, ``resources`` ...) are keywords too;
    ``env`` may be a dict of name to value."""

    body_key = "container"

    def __init__(
        self,
        name: str,
        *,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[Any] | None = None,
        env: Mapping[str, Any] | Sequence[Any] | None = None,
        inputs: Any = None,
        outputs: Any = None,
        **fields: Any,
    ) -> None:
        parts = split_fields(fields, ("container", _CONTAINER_FIELDS), ("template", _TEMPLATE_FIELDS), owner=type(self).__name__)
        self._container: dict[str, Any] = {}
        if image is not None:
            self._container["image"] = image
        if command is not None:
            self._container["command"] = [str(c) for c in command]
        if args is not None:
            self._container["args"] = [param_text(a) for a in args]
        if env is not None:
            self._container["env"] = _env_wire(env)
        self._container.update(parts["container"])
        super().__init__(name, inputs=inputs, outputs=outputs)
        self._fields.update(parts["template"])

    def _body(self) -> Any:
        return dict(self._container)


class Script(Container):
    """Runs ``source`` with ``command`` (e.g. ``["python"]``) in ``image``; stdout becomes
    ``outputs.result``. See :func:`argosy.sdk.script` to make one from a Python function."""

    body_key = "script"

    def __init__(self, name: str, *, source: str, image: str | None = None, command: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(name, image=image, command=command, **kwargs)
        self.source = source

    def _body(self) -> Any:
        return {**self._container, "source": self.source}


class Resource(Template):
    """Creates/applies/patches/deletes a Kubernetes object from ``manifest`` (needs a cluster:
    the local executor reports such steps as needing Kubernetes)."""

    body_key = "resource"

    def __init__(
        self,
        name: str,
        *,
        action: str,
        manifest: str | None = None,
        set_owner_reference: bool | None = None,
        success_condition: str | None = None,
        failure_condition: str | None = None,
        merge_strategy: str | None = None,
        flags: Sequence[str] | None = None,
        manifest_from: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        **fields: Any,
    ) -> None:
        self._resource: dict[str, Any] = {"action": action}
        for key, value in (
            ("manifest", manifest),
            ("setOwnerReference", set_owner_reference),
            ("successCondition", success_condition),
            ("failureCondition", failure_condition),
            ("mergeStrategy", merge_strategy),
            ("flags", list(flags) if flags is not None else None),
            ("manifestFrom", manifest_from),
        ):
            if value is not None:
                self._resource[key] = wire(value)
        super().__init__(name, inputs=inputs, outputs=outputs, **fields)

    def _body(self) -> Any:
        return dict(self._resource)


class Suspend(Template):
    """Pauses until resumed, or for ``duration`` (``"30s"``, ``"5m"``)."""

    body_key = "suspend"

    def __init__(self, name: str, *, duration: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.duration = duration

    def _body(self) -> Any:
        return {} if self.duration is None else {"duration": str(self.duration)}


# ----------------------------------------------------------------------------------------- invocations


def _argument_items(arguments: Any) -> list[Any]:
    if arguments is None:
        return []
    if isinstance(arguments, Mapping):
        return list(arguments.items())
    return list(arguments)


def _template_ref_wire(ref: Any) -> dict[str, Any]:
    if isinstance(ref, tuple) and len(ref) == 2:
        return {"name": ref[0], "template": ref[1]}
    return wire(ref)  # type: ignore[no-any-return]


class _Invocation:
    """What a task and a step share: a template to run, its arguments, loops and conditions."""

    prefix: ClassVar[str] = ""
    host_type: ClassVar[tuple[type[Any], ...]] = ()

    def __init__(
        self,
        name: str | None = None,
        template: Template | model.Template | str | None = None,
        *,
        template_ref: model.TemplateRef | Mapping[str, Any] | tuple[str, str] | None = None,
        inline: Template | None = None,
        arguments: Any = None,
        when: str | None = None,
        with_items: Sequence[Any] | None = None,
        with_param: str | None = None,
        with_sequence: model.Sequence | Mapping[str, Any] | None = None,
        continue_on: model.ContinueOn | Mapping[str, Any] | None = None,
        on_exit: Template | str | None = None,
        hooks: Mapping[str, Any] | None = None,
    ) -> None:
        self.template: Template | str | None = as_template(template) if template is not None and not isinstance(template, str) else template
        self.inline = inline
        self.template_ref = _template_ref_wire(template_ref) if template_ref is not None else None
        if sum(x is not None for x in (self.template, self.inline, self.template_ref)) != 1:
            raise TypeError(f"{type(self).__name__} needs exactly one of template, template_ref, inline")
        called = self.template if self.template is not None else self.inline
        default = called if isinstance(called, str) else called.name if called is not None else None
        self.name: str = name or default or str((self.template_ref or {}).get("template") or "")
        if not self.name:
            raise TypeError(f"{type(self).__name__} needs a name")
        self.arguments = _argument_items(arguments)
        self.when = when
        self.with_items = list(with_items) if with_items is not None else None
        self.with_param = with_param
        self.with_sequence = with_sequence
        self.continue_on = continue_on
        self.on_exit = on_exit
        self.hooks = hooks
        self.parent: Any = None
        self._arguments_wire: dict[str, Any] = {}
        host = innermost(self.host_type)
        if host is not None:
            host._adopt(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    # -- the template, when the builder can see it

    def template_object(self) -> Template | None:
        """The template builder this runs (None for a name or templateRef)."""
        if isinstance(self.template, Template):
            return self.template
        return self.inline

    def referenced_templates(self) -> Iterator[Template]:
        if isinstance(self.template, Template):
            yield self.template
        if isinstance(self.on_exit, Template):
            yield self.on_exit

    # -- outputs as arguments of later tasks

    def _output(self, kind: str, name: str) -> Mapping[str, Any] | None:
        tmpl = self.template_object()
        if tmpl is None:
            return None
        declared = tmpl.declared("outputs", kind)
        if name not in declared:
            have = ", ".join(declared) or "none"
            what = "artifact" if kind == "artifacts" else "parameter"
            raise WiringError(f"{self.prefix}.{self.name} has no output {what} '{name}': template '{tmpl.name}' declares {have}")
        return declared[name]

    def artifact(self, name: str) -> ArtifactRef:
        """This task's output artifact ``name``, to pass as another task's argument."""
        declared = self._output("artifacts", name)
        ref = f"{self.prefix}.{self.name}.outputs.artifacts.{name}"
        return ArtifactRef("{{" + ref + "}}", ref, declared)

    def parameter(self, name: str) -> str:
        """``{{tasks.NAME.outputs.parameters.P}}`` (``steps.`` in Steps), checked against the template."""
        self._output("parameters", name)
        return "{{" + f"{self.prefix}.{self.name}.outputs.parameters.{name}" + "}}"

    @property
    def result(self) -> str:
        """``{{tasks.NAME.outputs.result}}``: the step's standard output."""
        return "{{" + f"{self.prefix}.{self.name}.outputs.result" + "}}"

    @property
    def status(self) -> str:
        """``{{tasks.NAME.status}}``: the step's phase, for ``when`` conditions."""
        return "{{" + f"{self.prefix}.{self.name}.status" + "}}"

    @property
    def output(self) -> str:
        """The return value of a ``@script`` function (its single output parameter)."""
        tmpl = self.template_object()
        names = list(tmpl.declared("outputs", "parameters")) if tmpl is not None else []
        if len(names) != 1:
            raise WiringError(f"{self.prefix}.{self.name}: `.output` needs exactly one output parameter; template declares {', '.join(names) or 'none'}")
        return self.parameter(names[0])

    # -- arguments

    def _compile(self, where: str) -> None:
        """Turn the given arguments into wire form, checking them against the template."""
        tmpl = self.template_object()
        in_params = tmpl.declared("inputs", "parameters") if tmpl is not None else {}
        in_arts = tmpl.declared("inputs", "artifacts") if tmpl is not None else {}
        kinds = tmpl.param_kinds() if tmpl is not None else {}
        params: list[dict[str, Any]] = []
        arts: list[dict[str, Any]] = []
        for item in self.arguments:
            ref: ArtifactRef | None = None
            if isinstance(item, Parameter | model.Parameter):
                entry, is_art = wire(item), False
            elif isinstance(item, Artifact | model.Artifact):
                entry, is_art = wire(item), True
                ref = item.from_ if isinstance(item, Artifact) and isinstance(item.from_, ArtifactRef) else None
            elif isinstance(item, tuple) and len(item) == 2:
                name, value = item
                entry, is_art, ref = self._argument(str(name), value, in_arts, where)
            else:
                raise TypeError(f"{where}: arguments are a dict of name to value, or Parameter/Artifact objects; got {item!r}")
            name = entry["name"]
            if tmpl is not None and name not in in_params and name not in in_arts:
                have = ", ".join([*in_params, *in_arts]) or "none"
                raise WiringError(f"{where}: template '{tmpl.name}' has no input '{name}' (inputs: {have})")
            if is_art:
                if ref is not None and tmpl is not None and name in in_arts:
                    _check_artifact_types(f"{where}.arguments.artifacts.{name}", ref, tmpl.name, name, in_arts[name])
                arts.append(entry)
            else:
                value = entry.get("value")
                kind = kinds.get(name)
                if kind and isinstance(value, str) and "{{" not in value:
                    try:
                        parse_param(value, kind)
                    except ValueError:
                        raise WiringError(f"{where}.arguments.parameters.{name}: template '{tmpl.name if tmpl is not None else ''}' expects {kind}, got {value!r}") from None
                params.append(entry)
        self._arguments_wire = {}
        if params:
            self._arguments_wire["parameters"] = params
        if arts:
            self._arguments_wire["artifacts"] = arts

    def _argument(self, name: str, value: Any, in_arts: Mapping[str, Any], where: str) -> tuple[dict[str, Any], bool, ArtifactRef | None]:
        if isinstance(value, ArtifactRef):
            return {"name": name, "from": value.expression}, True, value
        if isinstance(value, Artifact):
            entry = value.to_wire()
            entry["name"] = name
            return entry, True, value.from_ if isinstance(value.from_, ArtifactRef) else None
        if isinstance(value, _Invocation):
            raise WiringError(f"{where}: argument '{name}' is a whole task; pass {value.name}.artifact(...) or {value.name}.parameter(...)")
        if name in in_arts:
            if isinstance(value, str) and "{{" in value:
                return {"name": name, "from": value}, True, None
            return {"name": name, "raw": {"data": param_text(value)}}, True, None
        return {"name": name, "value": param_text(value)}, False, None

    def _base_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if isinstance(self.template, Template):
            out["template"] = self.template.name
        elif isinstance(self.template, str):
            out["template"] = self.template
        if self.inline is not None:
            inline = self.inline.to_wire()
            inline.pop("name", None)
            out["inline"] = inline
        if self.template_ref is not None:
            out["templateRef"] = self.template_ref
        if self._arguments_wire:
            out["arguments"] = self._arguments_wire
        for key, value in (
            ("when", self.when),
            ("withItems", self.with_items),
            ("withParam", self.with_param),
            ("withSequence", self.with_sequence),
            ("continueOn", self.continue_on),
            ("hooks", self.hooks),
        ):
            if value is not None:
                out[key] = wire(value)
        if self.on_exit is not None:
            out["onExit"] = self.on_exit.name if isinstance(self.on_exit, Template) else self.on_exit
        return out


def _check_artifact_types(here: str, ref: ArtifactRef, template: str, name: str, expected: Mapping[str, Any]) -> None:
    for attr in ("type", "format"):
        have, want = (ref.declared or {}).get(attr), expected.get(attr)
        if have and want and have != want:
            raise WiringError(
                f"{here}: artifact {attr} mismatch: {ref.reference} is '{have}' but "
                f"templates.{template}.inputs.artifacts.{name} expects '{want}'"
            )


class Task(_Invocation):
    """A DAG task. ``a >> b`` makes ``b`` depend on ``a`` (``dependencies``); ``depends`` takes
    Argo's expression form (``"A.Succeeded || B.Failed"``)."""

    prefix = "tasks"

    def __init__(self, name: str | None = None, template: Any = None, *, dependencies: Sequence[str | Task] | None = None, depends: str | None = None, **kwargs: Any) -> None:
        self.dependencies: list[str] = [d.name if isinstance(d, Task) else d for d in dependencies or []]
        self.depends = depends
        super().__init__(name, template, **kwargs)

    def after(self, *tasks: Task) -> Task:
        """Depend on ``tasks`` (what ``task >> self`` does)."""
        for task in tasks:
            if self.depends is not None:
                self.depends = f"({self.depends}) && {task.name}"
            elif task.name not in self.dependencies:
                self.dependencies.append(task.name)
        return self

    def __rshift__(self, other: Task | Sequence[Task]) -> Any:
        for task in _tasks(other):
            task.after(self)
        return other

    def __rrshift__(self, other: Sequence[Task]) -> Task:
        return self.after(*_tasks(other))

    def to_wire(self) -> dict[str, Any]:
        out = self._base_wire()
        if self.dependencies:
            out["dependencies"] = list(self.dependencies)
        if self.depends is not None:
            out["depends"] = self.depends
        return out


def _tasks(value: Any) -> list[Task]:
    items = list(value) if isinstance(value, list | tuple) else [value]
    for item in items:
        if not isinstance(item, Task):
            raise TypeError(f">> links DAG tasks, not {item!r}")
    return items


class Step(_Invocation):
    """A step of a :class:`Steps` template; each step runs after the previous group, unless
    created inside ``with steps.parallel():``."""

    prefix = "steps"

    def to_wire(self) -> dict[str, Any]:
        return self._base_wire()


# ----------------------------------------------------------------------------------------- DAG / Steps


class DAG(Template, Context):
    """A DAG template; tasks created inside ``with DAG(...)`` (or given as ``tasks=``) are its
    tasks, in creation order."""

    body_key = "dag"

    def __init__(self, name: str, *, tasks: Iterable[Task] = (), target: str | None = None, fail_fast: bool | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.tasks: list[Task] = []
        self.target = target
        self.fail_fast = fail_fast
        for task in tasks:
            self._adopt(task)

    def __enter__(self) -> DAG:
        self._enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit()

    def _adopt(self, task: _Invocation) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"a DAG holds Task objects, not {task!r}")
        if task.parent is self:
            return
        if any(t.name == task.name for t in self.tasks):
            raise WiringError(f"templates.{self.name}.tasks.{task.name}: a task named '{task.name}' already exists; pass name=")
        task._compile(f"templates.{self.name}.tasks.{task.name}")
        task.parent = self
        self.tasks.append(task)

    def referenced_templates(self) -> Iterator[Template]:
        for task in self.tasks:
            yield from task.referenced_templates()

    def _body(self) -> Any:
        out: dict[str, Any] = {"tasks": [t.to_wire() for t in self.tasks]}
        if self.target is not None:
            out["target"] = self.target
        if self.fail_fast is not None:
            out["failFast"] = self.fail_fast
        return out


class _Parallel(Context):
    """``with steps.parallel():`` — steps created inside run side by side, as one group."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        self.group: list[Step] = []

    def __enter__(self) -> _Parallel:
        self.steps.groups.append(self.group)
        self._enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit()
        if not self.group:
            self.steps.groups.remove(self.group)

    def _adopt(self, step: _Invocation) -> None:
        self.steps._add(step, self.group)


class Steps(Template, Context):
    """A steps template: a list of groups run one after another, the steps of a group in
    parallel. Steps created inside ``with Steps(...)`` each form a group, unless created inside
    ``with steps.parallel():``; function style takes ``steps=[[s1], [s2, s3]]``."""

    body_key = "steps"

    def __init__(self, name: str, *, steps: Iterable[Step | Iterable[Step]] = (), **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.groups: list[list[Step]] = []
        for group in steps:
            items = [group] if isinstance(group, Step) else list(group)
            target: list[Step] = []
            self.groups.append(target)
            for step in items:
                self._add(step, target)

    def __enter__(self) -> Steps:
        self._enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit()

    def parallel(self) -> _Parallel:
        """A block whose steps form one parallel group."""
        return _Parallel(self)

    def _adopt(self, step: _Invocation) -> None:
        group: list[Step] = []
        self.groups.append(group)
        self._add(step, group)

    def _add(self, step: _Invocation, group: list[Step]) -> None:
        if not isinstance(step, Step):
            raise TypeError(f"Steps hold Step objects, not {step!r}")
        if step.parent is self:
            return
        if any(s.name == step.name for g in self.groups for s in g):
            raise WiringError(f"templates.{self.name}: a step named '{step.name}' already exists; pass name=")
        index = next(i for i, g in enumerate(self.groups) if g is group)
        step._compile(f"templates.{self.name}.steps[{index}].{step.name}")
        step.parent = self
        group.append(step)

    def referenced_templates(self) -> Iterator[Template]:
        for group in self.groups:
            for step in group:
                yield from step.referenced_templates()

    def _body(self) -> Any:
        return [[s.to_wire() for s in group] for group in self.groups]


Task.host_type = (DAG,)
Step.host_type = (Steps, _Parallel)
