"""``Client``: submit, watch and inspect workflows from Python, locally or through a server.

``Client()`` works on the local store (``ARGOSY_HOME``, as the CLI); ``Client(url, token=...)``
talks to an Argo-Server-shaped API (``argosy server``, or Argo's). Both return the same objects:
:class:`WorkflowHandle` for a submitted workflow, :class:`WorkflowRun` for a snapshot of one
(phase, output parameters and artifact handles by step), :class:`ArtifactHandle` to read an
artifact (``open``, ``download``, ``read_text``, ``load`` with its declared format).
"""

from __future__ import annotations

import builtins
import copy
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from argosy.errors import ArtifactNotFound, LintError, SpecError, StorageError
from argosy.sdk._backends import TERMINAL, Backend, HTTPBackend, LocalBackend, pod_nodes
from argosy.sdk.errors import WorkflowFailed
from argosy.sdk.io import param_text

__all__ = ["ArtifactHandle", "Client", "LogLine", "WorkflowHandle", "WorkflowRun"]

POLL_SECONDS = 0.2


class LogLine(NamedTuple):
    """One line a step printed: its pod, its step (display name) and the text."""

    pod: str
    step: str
    line: str


# ----------------------------------------------------------------------------------------- documents


def _workflow_document(workflow: Any) -> dict[str, Any]:
    """A Workflow as a wire dict, from a builder, a spec model, a dict, YAML text or a path."""
    from argosy.pipeline.loader import load_file, load_text

    if hasattr(workflow, "to_dict") and callable(workflow.to_dict):
        data = workflow.to_dict()
        if not isinstance(data, dict):
            raise SpecError(f"cannot submit {workflow!r}")
        doc: dict[str, Any] = data
    elif isinstance(workflow, Mapping):
        doc = copy.deepcopy(dict(workflow))
    elif isinstance(workflow, os.PathLike) or (isinstance(workflow, str) and "\n" not in workflow and workflow.endswith((".yaml", ".yml", ".json"))):
        docs = [d.doc for d in load_file(os.fspath(workflow)) if d.kind == "Workflow"]
        if not docs:
            raise SpecError(f"{workflow}: no Workflow found")
        doc = docs[0].to_dict()
    elif isinstance(workflow, str):
        docs = [d.doc for d in load_text(workflow) if d.kind == "Workflow"]
        if not docs:
            raise SpecError("no Workflow found in the given text")
        doc = docs[0].to_dict()
    else:
        raise SpecError(f"cannot submit {type(workflow).__name__}: pass a Workflow, a dict, YAML text or a file path")
    if doc.get("kind", "Workflow") != "Workflow":
        raise SpecError(f"submit takes a Workflow, not a {doc.get('kind')} (use Client.apply)")
    return doc


def _apply_parameters(doc: dict[str, Any], parameters: Mapping[str, Any] | None) -> None:
    """Set ``spec.arguments.parameters`` values, as ``argosy submit -p name=value`` does."""
    if not parameters:
        return
    existing = doc.setdefault("spec", {}).setdefault("arguments", {}).setdefault("parameters", [])
    for name, value in parameters.items():
        text = param_text(value)
        for param in existing:
            if param.get("name") == name:
                param["value"] = text
                param.pop("valueFrom", None)
                break
        else:
            existing.append({"name": name, "value": text})


# ----------------------------------------------------------------------------------------- artifacts


class ArtifactHandle:
    """An artifact a step consumed or produced. Nothing is fetched until asked; the first
    access downloads it once into a private temporary directory."""

    def __init__(self, run: WorkflowRun, node: Mapping[str, Any], artifact: Mapping[str, Any], io: str = "outputs") -> None:
        self.run = run
        self.node_id = str(node.get("id", ""))
        self.step = str(node.get("displayName", ""))
        self.spec = dict(artifact)
        self.io = io
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __repr__(self) -> str:
        kind = f" {self.type}" if self.type else ""
        return f"<ArtifactHandle {self.step}/{self.name}{kind}>"

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def type(self) -> str | None:
        """The declared kind (``Dataset``, ``Model`` ...), if any."""
        return self.spec.get("type")

    @property
    def format(self) -> str | None:
        """The declared format (``csv``, ``json`` ...), if any."""
        return self.spec.get("format")

    @property
    def size(self) -> int | None:
        """Bytes stored (after packing)."""
        return self.spec.get("size")

    @property
    def digest(self) -> str | None:
        """``sha256:<hex>`` of the stored bytes."""
        return self.spec.get("digest")

    def download(self, path: str | os.PathLike[str]) -> Path:
        """Unpack the artifact to ``path`` (a file or directory, as the step wrote it)."""
        dest = Path(path)
        backend = self.run._backend()
        backend.fetch_artifact(self.run.record, self.node_id, self.spec, self.io, dest)
        return dest

    def local_path(self) -> Path:
        """Where the artifact is unpacked locally (downloaded on first use)."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="argosy-artifact-")
            self.download(Path(self._tmp.name) / (self.name or "artifact"))
        return Path(self._tmp.name) / (self.name or "artifact")

    def open(self) -> IO[bytes]:
        """The content of a single-file artifact, as a binary file object."""
        path = self.local_path()
        if path.is_dir():
            raise StorageError(f"artifact '{self.name}' of step '{self.step}' is a directory; use download() or local_path()")
        return path.open("rb")

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def load(self) -> Any:
        """The content deserialised by the loader of its declared format (``json`` -> objects,
        ``csv`` -> rows ...); bytes without a format, the local directory for a ``Directory``."""
        from argosy.sdk.loaders import load_path

        path = self.local_path()
        if path.is_dir():
            return path
        return load_path(path, self.format)


# ----------------------------------------------------------------------------------------- runs


class WorkflowRun:
    """A snapshot of a workflow: its phase and, by step (task/step name), output parameters,
    results and artifact handles."""

    def __init__(self, record: dict[str, Any], client: Client | None = None) -> None:
        self.record = record
        self.client = client

    def __repr__(self) -> str:
        return f"<WorkflowRun {self.name} {self.phase or 'Pending'}>"

    def _backend(self) -> Backend:
        if self.client is None:
            raise StorageError("this WorkflowRun has no client to fetch artifacts with")
        return self.client.backend

    @property
    def name(self) -> str:
        return str(self.record["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        return self.record["metadata"].get("namespace")

    @property
    def status(self) -> dict[str, Any]:
        return self.record.get("status") or {}

    @property
    def phase(self) -> str:
        """``Pending``, ``Running``, ``Succeeded``, ``Failed`` or ``Error``."""
        return str(self.status.get("phase") or "Pending")

    @property
    def message(self) -> str | None:
        return self.status.get("message")

    @property
    def done(self) -> bool:
        return self.phase in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.phase == "Succeeded"

    def raise_for_status(self) -> WorkflowRun:
        """Raise :class:`~argosy.sdk.errors.WorkflowFailed` unless the workflow succeeded."""
        if not self.succeeded:
            failed = [f"{n.get('displayName')}: {n.get('message')}" for n in self.nodes.values() if n.get("type") == "Pod" and n.get("phase") in ("Failed", "Error")]
            detail = f" ({'; '.join(failed)})" if failed else ""
            raise WorkflowFailed(f"workflow {self.name} {self.phase}: {self.message or 'no message'}{detail}", self)
        return self

    @property
    def nodes(self) -> dict[str, dict[str, Any]]:
        return dict(self.status.get("nodes") or {})

    def node(self, step: str) -> dict[str, Any]:
        """The node of a step by display name (task/step name), node name or node id; the
        node that has outputs wins when several share a display name."""
        nodes = self.nodes
        for key in ("displayName", "name", "id", "templateName"):
            found = [n for n in nodes.values() if n.get(key) == step]
            if found:
                return next((n for n in found if n.get("outputs")), found[0])
        steps = sorted({str(n.get("displayName")) for n in nodes.values() if n.get("type") == "Pod"})
        raise KeyError(f"workflow {self.name} has no step {step!r} (steps: {', '.join(steps) or 'none'})")

    def _steps_with(self, section: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for node in self.nodes.values():
            items = ((node.get(section) or {}).get("parameters") or [])
            if items and node.get("displayName") not in out:
                out[str(node.get("displayName"))] = {p["name"]: p.get("value") for p in items}
        return out

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """Output parameters by step: ``{"train": {"return": "0.98"}}``."""
        return self._steps_with("outputs")

    def parameter(self, step: str, name: str) -> str | None:
        """One output parameter of a step."""
        for p in (self.node(step).get("outputs") or {}).get("parameters") or []:
            if p.get("name") == name:
                return p.get("value")
        raise KeyError(f"step {step!r} has no output parameter {name!r}")

    def result(self, step: str) -> str | None:
        """A step's ``outputs.result`` (its standard output)."""
        return (self.node(step).get("outputs") or {}).get("result")

    @property
    def outputs(self) -> dict[str, str]:
        """The workflow's global outputs (``globalName``): name to value."""
        return {p["name"]: p.get("value") for p in (self.status.get("outputs") or {}).get("parameters") or []}

    @property
    def artifacts(self) -> dict[str, dict[str, ArtifactHandle]]:
        """Output artifact handles by step (``main-logs`` left out)."""
        out: dict[str, dict[str, ArtifactHandle]] = {}
        for node in self.nodes.values():
            arts = [a for a in (node.get("outputs") or {}).get("artifacts") or [] if a.get("name") != "main-logs"]
            if arts and node.get("displayName") not in out:
                out[str(node.get("displayName"))] = {a["name"]: ArtifactHandle(self, node, a) for a in arts}
        return out

    def artifact(self, step: str, name: str, *, io: str = "outputs") -> ArtifactHandle:
        """A step's artifact by name (``io="inputs"`` for what it consumed)."""
        node = self.node(step)
        for art in (node.get(io) or {}).get("artifacts") or []:
            if art.get("name") == name:
                return ArtifactHandle(self, node, art, io)
        have = [a.get("name") for a in (node.get(io) or {}).get("artifacts") or []]
        raise ArtifactNotFound(f"step {step!r} of {self.name} has no {io[:-1]} artifact {name!r} (has: {', '.join(map(str, have)) or 'none'})")


@dataclass
class WorkflowHandle:
    """A submitted workflow, by name: ask for its state, wait, read logs and artifacts."""

    client: Client
    name: str
    namespace: str | None = None

    def get(self) -> WorkflowRun:
        return self.client.get(self.name, namespace=self.namespace)

    @property
    def phase(self) -> str:
        return self.get().phase

    def wait(self, timeout: float | None = None) -> WorkflowRun:
        return self.client.wait(self.name, timeout=timeout, namespace=self.namespace)

    def logs(self, step: str | None = None) -> list[LogLine]:
        return self.client.logs(self.name, step=step, namespace=self.namespace)

    def artifact(self, step: str, name: str) -> ArtifactHandle:
        return self.client.artifact(self.name, step, name, namespace=self.namespace)

    def delete(self, *, force: bool = False) -> str:
        return self.client.delete(self.name, force=force, namespace=self.namespace)


# ----------------------------------------------------------------------------------------- client


class Client:
    """Submit and inspect workflows. ``Client()``: the local store (``home`` or
    ``$ARGOSY_HOME``); ``Client("http://127.0.0.1:2746", token=...)``: an Argo-shaped server."""

    def __init__(self, url: str | None = None, *, token: str | None = None, namespace: str | None = None, home: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> None:
        self.url = url
        self.namespace = namespace
        self.backend: Backend = HTTPBackend(url, token, timeout, namespace or "default") if url else LocalBackend(os.fspath(home) if home is not None else None)

    def __repr__(self) -> str:
        return f"Client({self.url!r})" if self.url else "Client(local)"

    def _ns(self, namespace: str | None) -> str | None:
        return namespace or self.namespace

    def _prepare(self, workflow: Any, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        from argosy.pipeline.loader import parse_document

        doc = _workflow_document(workflow)
        _apply_parameters(doc, parameters)
        model = parse_document(doc, source="<submit>")
        errors = self.backend.lint(model)
        if errors:
            raise LintError("Failed to submit workflow: " + "; ".join(errors), errors)
        return doc

    def lint(self, workflow: Any) -> list[str]:
        """Every lint error of a workflow (builder, dict, YAML or path), templates resolved
        against the local store where there is one."""
        from argosy.pipeline.loader import parse_document

        return self.backend.lint(parse_document(_workflow_document(workflow), source="<lint>"))

    def submit(self, workflow: Any, parameters: Mapping[str, Any] | None = None, *, wait: bool = False, timeout: float | None = None, namespace: str | None = None) -> WorkflowHandle:
        """Lint and submit a workflow (builder, spec model, dict, YAML text or file path) with
        ``parameters`` overriding its arguments; locally a detached runner runs it, so it goes
        on after this process exits. ``wait=True`` returns once it finished."""
        doc = self._prepare(workflow, parameters)
        record = self.backend.create(doc, self._ns(namespace))
        self.backend.start(record, foreground=False)
        handle = WorkflowHandle(self, record["metadata"]["name"], record["metadata"].get("namespace"))
        if wait:
            handle.wait(timeout)
        return handle

    def run(self, workflow: Any, parameters: Mapping[str, Any] | None = None, *, timeout: float | None = None, namespace: str | None = None) -> WorkflowRun:
        """Submit and wait for the end; locally the engine runs in this process."""
        doc = self._prepare(workflow, parameters)
        record = self.backend.create(doc, self._ns(namespace))
        if isinstance(self.backend, LocalBackend):
            self.backend.start(record, foreground=True)
            return self.get(record["metadata"]["name"], namespace=record["metadata"].get("namespace"))
        return self.wait(record["metadata"]["name"], timeout=timeout, namespace=record["metadata"].get("namespace"))

    def get(self, name: str, *, namespace: str | None = None) -> WorkflowRun:
        """The workflow's current state (``@latest`` works locally)."""
        return WorkflowRun(self.backend.get(name, self._ns(namespace)), self)

    def list(self, *, phases: list[str] | None = None, labels: str | None = None, prefix: str | None = None, namespace: str | None = None) -> list[WorkflowRun]:
        """Workflows, newest first, as summaries (no per-node status: ``get`` one for that)."""
        return [WorkflowRun(r, self) for r in self.backend.list_workflows(self._ns(namespace), phases=phases, labels=labels, prefix=prefix)]

    def wait(self, name: str, timeout: float | None = None, *, namespace: str | None = None) -> WorkflowRun:
        """Poll until the workflow finished; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get(name, namespace=namespace)
            if run.done:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"workflow {run.name} still {run.phase} after {timeout}s")
            time.sleep(POLL_SECONDS)

    def delete(self, name: str, *, force: bool = False, namespace: str | None = None) -> str:
        """Delete a workflow (a running one is terminated first); returns what happened."""
        return self.backend.delete(name, self._ns(namespace), force=force)

    def logs(self, name: str, *, step: str | None = None, namespace: str | None = None) -> builtins.list[LogLine]:
        """Every line the workflow's steps printed, in start order (``step``: one step's)."""
        record = self.backend.get(name, self._ns(namespace))
        pods = list(pod_nodes(record))
        steps = {pod: str(node.get("displayName", "")) for node, pod in pods}
        lines = [LogLine(pod, steps.get(pod, ""), text) for pod, text in self.backend.logs(record)]
        if step is None:
            return lines
        wanted = {step}
        try:
            node_id = WorkflowRun(record, self).node(step).get("id")
            wanted.update(pod for node, pod in pods if node.get("id") == node_id)
        except KeyError:
            pass
        return [ln for ln in lines if ln.step in wanted or ln.pod in wanted]

    def artifact(self, name: str, step: str, artifact_name: str, *, namespace: str | None = None) -> ArtifactHandle:
        """The output artifact ``artifact_name`` of ``step`` in workflow ``name``."""
        return self.get(name, namespace=namespace).artifact(step, artifact_name)

    def apply(self, document: Any) -> str:
        """Store a WorkflowTemplate (builder or dict), ConfigMap, Secret ... as ``argosy apply``."""
        doc = document.to_dict() if hasattr(document, "to_dict") else dict(document)
        return self.backend.apply(doc)
