"""Workflow documents: :class:`Workflow` and :class:`WorkflowTemplate`.

``with Workflow(generate_name="x-", entrypoint="main") as w:`` collects the templates created
inside it (and every template its tasks call, wherever it was defined); ``w.build()`` is the
same ``argosy.pipeline.model.Workflow`` that loading the equivalent YAML gives, and
``w.to_yaml()`` is that YAML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from argosy.errors import LintError, SpecError
from argosy.pipeline import model
from argosy.sdk._yaml import dump_yaml
from argosy.sdk.builder import Template, TemplateHost, _aliases, as_template, split_fields
from argosy.sdk.io import Artifact, Parameter, param_text, wire

if TYPE_CHECKING:
    from argosy.sdk.client import Client, WorkflowHandle, WorkflowRun

__all__ = ["Workflow", "WorkflowTemplate"]

_SPEC_FIELDS = _aliases(model.WorkflowSpec)
_META_FIELDS = _aliases(model.ObjectMeta)


def _arguments_wire(arguments: Any) -> dict[str, Any]:
    params: list[Any] = []
    arts: list[Any] = []
    items = list(arguments.items()) if isinstance(arguments, Mapping) else list(arguments or [])
    for item in items:
        if isinstance(item, Parameter | model.Parameter):
            params.append(wire(item))
        elif isinstance(item, Artifact | model.Artifact):
            arts.append(wire(item))
        else:
            name, value = item
            if isinstance(value, Artifact):
                entry = value.to_wire()
                entry["name"] = name
                arts.append(entry)
            else:
                params.append({"name": name, "value": param_text(value)})
    out: dict[str, Any] = {}
    if params:
        out["parameters"] = params
    if arts:
        out["artifacts"] = arts
    return out


class Workflow(TemplateHost):
    """A Workflow. Spec fields are snake_case keywords (``service_account_name``,
    ``artifact_gc`` ...); ``arguments`` is a dict of name to value (or Parameter/Artifact
    objects); ``entrypoint`` defaults to the first template added."""

    kind: ClassVar[str] = "Workflow"
    model_class: ClassVar[type[Any]] = model.Workflow

    def __init__(
        self,
        name: str | None = None,
        *,
        generate_name: str | None = None,
        namespace: str | None = None,
        entrypoint: str | Template | None = None,
        arguments: Mapping[str, Any] | Sequence[Any] | None = None,
        templates: Sequence[Any] = (),
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        on_exit: str | Template | None = None,
        **spec: Any,
    ) -> None:
        self.name = name
        self.generate_name = generate_name
        self.namespace = namespace
        self.entrypoint = entrypoint
        self.arguments = arguments
        self.labels = dict(labels) if labels else None
        self.annotations = dict(annotations) if annotations else None
        self.on_exit = on_exit
        self._spec = split_fields(spec, ("spec", _SPEC_FIELDS), owner=type(self).__name__)["spec"]
        self.templates: list[Template] = []
        for tmpl in templates:
            self._add_template(as_template(tmpl))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name or self.generate_name!r})"

    def __enter__(self) -> Workflow:
        self._enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit()

    def _add_template(self, template: Template) -> None:
        if not any(t is template for t in self.templates):
            self.templates.append(template)

    def add(self, *templates: Any) -> Workflow:
        """Add templates (builders, spec models or dicts) in function style; returns self."""
        for tmpl in templates:
            self._add_template(as_template(tmpl))
        return self

    def parameter(self, name: str) -> str:
        """``{{workflow.parameters.NAME}}``."""
        return "{{workflow.parameters." + name + "}}"

    # -- building

    def _all_templates(self) -> list[Template]:
        seen: list[Template] = []
        pending: list[Template] = list(self.templates)
        for extra in (self.on_exit, self.entrypoint):
            if isinstance(extra, Template):
                pending.append(extra)
        while pending:
            tmpl = pending.pop(0)
            if any(t is tmpl for t in seen):
                continue
            seen.append(tmpl)
            pending.extend(tmpl.referenced_templates())
        by_name: dict[str, Template] = {}
        for tmpl in seen:
            other = by_name.setdefault(tmpl.name, tmpl)
            if other is not tmpl and other.to_wire() != tmpl.to_wire():
                raise SpecError(f"{self.kind} {self.display_name!r}: two different templates are named '{tmpl.name}'")
        return list(by_name.values())

    @property
    def display_name(self) -> str:
        return self.name or self.generate_name or ""

    def to_wire(self) -> dict[str, Any]:
        """The document as a camelCase dict, before validation into the model."""
        meta: dict[str, Any] = {}
        for key, value in (("name", self.name), ("generateName", self.generate_name), ("namespace", self.namespace), ("labels", self.labels), ("annotations", self.annotations)):
            if value is not None:
                meta[key] = value
        templates = self._all_templates()
        spec: dict[str, Any] = {}
        entry = self.entrypoint.name if isinstance(self.entrypoint, Template) else self.entrypoint
        if entry is None and templates and self.kind == "Workflow":
            entry = templates[0].name
        if entry is not None:
            spec["entrypoint"] = entry
        args = _arguments_wire(self.arguments)
        if args:
            spec["arguments"] = args
        if self.on_exit is not None:
            spec["onExit"] = self.on_exit.name if isinstance(self.on_exit, Template) else self.on_exit
        spec.update(self._spec)
        spec["templates"] = [t.to_wire() for t in templates]
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": self.kind, "metadata": meta, "spec": spec}

    def build(self) -> Any:
        """The spec model (``argosy.pipeline.model.Workflow``), as loading the YAML gives."""
        return self.model_class.model_validate(self.to_wire())

    def to_dict(self) -> dict[str, Any]:
        """Argo's wire form: camelCase keys, no unset fields."""
        data: dict[str, Any] = self.build().to_dict()
        return data

    def to_yaml(self) -> str:
        """The document as Argo YAML (multi-line strings as ``|`` blocks)."""
        return dump_yaml(self.to_dict())

    def lint(self) -> list[str]:
        """Every error ``argosy lint`` would report for this document (empty: valid)."""
        from argosy.pipeline.validate import validate_document

        return validate_document(self.build())

    def validate(self) -> None:
        """Raise :class:`~argosy.errors.LintError` (all messages in ``errors``) unless valid."""
        errors = self.lint()
        if errors:
            raise LintError(f'{self.kind} "{self.display_name}" is invalid: {errors[0]}', errors)

    # -- running

    def run(self, parameters: Mapping[str, Any] | None = None, *, client: Client | None = None, timeout: float | None = None) -> WorkflowRun:
        """Submit and wait. Without a client, run in this process against the local store
        (``ARGOSY_HOME``); returns the finished :class:`~argosy.sdk.client.WorkflowRun`."""
        from argosy.sdk.client import Client

        return (client or Client()).run(self, parameters=parameters, timeout=timeout)

    def submit(self, parameters: Mapping[str, Any] | None = None, *, client: Client | None = None, wait: bool = False) -> WorkflowHandle:
        """Submit through ``client`` (default: the local store) and return its handle."""
        from argosy.sdk.client import Client

        return (client or Client()).submit(self, parameters=parameters, wait=wait)


class WorkflowTemplate(Workflow):
    """A WorkflowTemplate: the same builder, stored with ``Client.apply`` and run by
    ``templateRef``/``workflowTemplateRef``; needs a ``name``."""

    kind = "WorkflowTemplate"
    model_class = model.WorkflowTemplate

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
