"""Lint: Argo's validation rules, with Argo's messages, for every Argo kind.

:func:`validate_workflow`, :func:`validate_template` and :func:`validate_cron` return every
error message found (an empty list means valid); :func:`lint_paths` loads files and folders the
way ``argo lint`` walks them and reports per document.

**References to other WorkflowTemplates.** ``argo lint`` sends each document to the Argo
server, which resolves ``templateRef``/``workflowTemplateRef`` against the cluster, so a
missing target is an error (``template reference N.T not found``,
``workflowtemplates.argoproj.io "N" not found``); ``argo lint --offline`` resolves them
against the files being linted instead. Argosy does both: targets are looked up first among
the documents linted together, then in ``templates`` (the local store) when one is given.
When neither can see the target, the reference is *not* reported: without a cluster or a
store a lint run cannot know what will exist at submit time, and the step's outputs are then
accepted unchecked.

Argo validates up to the first error; Argosy reports the first error of every independent part
(each top-level check and each template), so one run shows everything ``argo lint`` would make
you fix one at a time. Beyond Argo: ``{{=...}}`` tags and ``when`` conditions must parse, the
templates of step/task ``onExit`` and hooks must exist, archive levels must be in range, and
typed artifacts (``type``/``format``) must agree across ``from`` wiring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from argosy.errors import LintError, SpecError
from argosy.pipeline.loader import LoadedDocument, iter_files, load_file
from argosy.pipeline.model import ClusterWorkflowTemplate, CronWorkflow, Workflow, WorkflowTemplate
from argosy.pipeline.validate_argo import (
    UNKNOWN,
    ArgoValidator,
    Obj,
    TemplateBase,
    TemplateFinder,
    _Unknown,
)
from argosy.pipeline.validate_extra import (
    archive_errors,
    artifact_gc_errors,
    cron_spec_errors,
    typed_artifact_errors,
)

__all__ = [
    "ARGO_KINDS",
    "LintResult",
    "TemplateLookup",
    "ensure_valid",
    "lint_documents",
    "lint_paths",
    "validate_cron",
    "validate_document",
    "validate_template",
    "validate_workflow",
]

#: The kinds ``argo lint`` checks; others in the same files are skipped.
ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")

ArgoDocument = Workflow | WorkflowTemplate | ClusterWorkflowTemplate | CronWorkflow
TemplateDocument = WorkflowTemplate | ClusterWorkflowTemplate


class TemplateLookup(Protocol):
    """Where stored WorkflowTemplates come from (the local state, a cluster ...)."""

    def get_workflow_template(self, name: str) -> WorkflowTemplate | None: ...

    def get_cluster_workflow_template(self, name: str) -> ClusterWorkflowTemplate | None: ...


@dataclass
class LintResult:
    """The verdict on one document (or on a file that could not be read: ``kind`` is empty)."""

    file: str
    name: str
    kind: str
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# ----------------------------------------------------------------------------------------- lookup


def _base(doc: TemplateDocument) -> TemplateBase:
    data = doc.to_dict()
    return TemplateBase(doc.kind, doc.metadata.name or "", data.get("spec") or {})


def _finder(documents: Iterable[Any], templates: TemplateLookup | None) -> TemplateFinder:
    namespaced: dict[str, WorkflowTemplate] = {}
    cluster: dict[str, ClusterWorkflowTemplate] = {}
    for doc in documents:
        if isinstance(doc, WorkflowTemplate) and doc.metadata.name:
            namespaced.setdefault(doc.metadata.name, doc)
        elif isinstance(doc, ClusterWorkflowTemplate) and doc.metadata.name:
            cluster.setdefault(doc.metadata.name, doc)
    cache: dict[tuple[str, bool], TemplateBase | None | _Unknown] = {}

    def find(name: str, cluster_scope: bool) -> TemplateBase | None | _Unknown:
        key = (name, cluster_scope)
        if key not in cache:
            local: TemplateDocument | None = cluster.get(name) if cluster_scope else namespaced.get(name)
            if local is None and templates is not None:
                local = templates.get_cluster_workflow_template(name) if cluster_scope else templates.get_workflow_template(name)
                cache[key] = _base(local) if local is not None else None
            else:
                cache[key] = _base(local) if local is not None else UNKNOWN
        return cache[key]

    return find


# ----------------------------------------------------------------------------------------- validation


def _extra(spec: Obj, base: TemplateBase, find: TemplateFinder) -> list[str]:
    return archive_errors(spec) + artifact_gc_errors(spec) + typed_artifact_errors(spec, base, find)


def validate_workflow(
    wf: Workflow,
    *,
    templates: TemplateLookup | None = None,
    documents: Iterable[Any] = (),
    lint: bool = True,
) -> list[str]:
    """Every error Argo's validator would find in ``wf`` (``lint=False``: as at submission,
    where ``spec.arguments`` parameters need values)."""
    find = _finder(documents, templates)
    data = wf.to_dict()
    errors = ArgoValidator(find, lint=lint).validate_workflow(data)
    spec = data.get("spec") or {}
    errors += _extra(spec, TemplateBase("Workflow", wf.metadata.name or "", spec), find)
    return _unique(errors)


def validate_template(
    wftmpl: TemplateDocument,
    *,
    templates: TemplateLookup | None = None,
    documents: Iterable[Any] = (),
    lint: bool = True,
) -> list[str]:
    """Every error in a WorkflowTemplate or ClusterWorkflowTemplate (entrypoint optional;
    ``workflow.parameters.*`` may come from the Workflow that uses it)."""
    find = _finder(documents, templates)
    data = wftmpl.to_dict()
    meta = data.get("metadata") or {}
    spec = data.get("spec") or {}
    errors = []
    name = meta.get("name") or ""
    if len(name.encode()) > 63:
        what = "cluster workflow template" if wftmpl.kind == "ClusterWorkflowTemplate" else "workflow template"
        errors.append(f'{what} name "{name}" must not be more than 63 characters long (currently {len(name.encode())})')
    wrapped = {"metadata": {k: meta[k] for k in ("labels", "annotations") if k in meta}, "spec": spec}
    validator = ArgoValidator(find, lint=lint, workflow_template=True)
    errors += validator.validate_workflow(wrapped, ignore_entrypoint=not spec.get("entrypoint"))
    errors += _extra(spec, TemplateBase("Workflow", "", spec), find)
    return _unique(errors)


def validate_cron(
    cron: CronWorkflow,
    *,
    templates: TemplateLookup | None = None,
    documents: Iterable[Any] = (),
    lint: bool = True,
) -> list[str]:
    """Every error in a CronWorkflow: its schedule settings, then (as Argo, always with
    submission rules) the Workflow it creates, prefixed ``cannot validate Workflow:``."""
    find = _finder(documents, templates)
    data = cron.to_dict()
    errors = cron_spec_errors(data)
    spec = data.get("spec") or {}
    meta = spec.get("workflowMetadata") or {}
    name = cron.metadata.name or ""
    labels = dict(meta.get("labels") or {})
    labels["workflows.argoproj.io/cron-workflow"] = name
    annotations = dict(meta.get("annotations") or {})
    annotations["workflows.argoproj.io/scheduled-time"] = ""
    wf = {"metadata": {"generateName": f"{name}-", "labels": labels, "annotations": annotations}, "spec": spec.get("workflowSpec") or {}}
    # Argo validates the created Workflow with empty options (not lint): ``lint`` is ignored here.
    inner = ArgoValidator(find, lint=False).validate_workflow(wf)
    errors += [f"cannot validate Workflow: {e}" for e in inner]
    wf_spec = wf["spec"]
    errors += _extra(wf_spec, TemplateBase("Workflow", name, wf_spec), find)
    return _unique(errors)


def validate_document(
    doc: ArgoDocument,
    *,
    templates: TemplateLookup | None = None,
    documents: Iterable[Any] = (),
    lint: bool = True,
) -> list[str]:
    """Dispatch on the kind of ``doc``."""
    if isinstance(doc, Workflow):
        return validate_workflow(doc, templates=templates, documents=documents, lint=lint)
    if isinstance(doc, WorkflowTemplate | ClusterWorkflowTemplate):
        return validate_template(doc, templates=templates, documents=documents, lint=lint)
    return validate_cron(doc, templates=templates, documents=documents, lint=lint)


def ensure_valid(doc: ArgoDocument, *, templates: TemplateLookup | None = None, documents: Iterable[Any] = ()) -> None:
    """Raise :class:`LintError` (with every message in ``errors``) unless ``doc`` is valid."""
    errors = validate_document(doc, templates=templates, documents=documents)
    if errors:
        head = f'{doc.kind} "{doc.display_name}"' if doc.display_name else doc.kind
        raise LintError(f"{head} is invalid: {errors[0]}", errors)


def _unique(errors: list[str]) -> list[str]:
    return list(dict.fromkeys(errors))


# ----------------------------------------------------------------------------------------- lint


def lint_documents(loaded: Sequence[LoadedDocument], *, templates: TemplateLookup | None = None) -> list[LintResult]:
    """Lint already-loaded documents; they may reference each other's WorkflowTemplates."""
    docs = [item.doc for item in loaded]
    results = []
    for item in loaded:
        doc = item.doc
        if not isinstance(doc, Workflow | WorkflowTemplate | ClusterWorkflowTemplate | CronWorkflow):
            continue
        errors = validate_document(doc, templates=templates, documents=docs)
        results.append(LintResult(item.source, doc.display_name or f"object #{item.index + 1}", doc.kind, errors))
    return results


def lint_paths(paths: Iterable[str | Path], *, templates: TemplateLookup | None = None) -> list[LintResult]:
    """Lint files and folders (recursing into ``.yaml``/``.yml``/``.json``), as ``argo lint``.

    Non-Argo kinds are skipped; a file that cannot be read or parsed gives one result with an
    empty ``kind`` and the loader's message. Documents of every file linted together can
    reference each other's WorkflowTemplates.
    """
    loaded: list[LoadedDocument] = []
    failures: dict[str, LintResult] = {}
    order: list[str] = []
    for path in iter_files(paths):
        source = str(path)
        order.append(source)
        try:
            loaded.extend(load_file(path))
        except SpecError as exc:
            failures[source] = LintResult(source, "", "", [str(exc) or "invalid document"])
    by_file: dict[str, list[LintResult]] = {}
    for result in lint_documents(loaded, templates=templates):
        by_file.setdefault(result.file, []).append(result)
    out: list[LintResult] = []
    for source in dict.fromkeys(order):
        if source in failures:
            out.append(failures[source])
        out.extend(by_file.pop(source, []))
    for rest in by_file.values():
        out.extend(rest)
    return out
