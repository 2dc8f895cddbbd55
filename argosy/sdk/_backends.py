"""Where a :class:`~argosy.sdk.client.Client` sends its requests: the local store under
``ARGOSY_HOME`` (what the CLI uses), or an Argo-Server-shaped HTTP API (``argosy server`` or
Argo's own), spoken with urllib so the SDK needs no HTTP dependency.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from argosy.errors import ArtifactNotFound, WorkflowNotFound
from argosy.sdk.errors import ServerError

__all__ = ["Backend", "HTTPBackend", "LocalBackend", "pod_nodes"]

TERMINAL = ("Succeeded", "Failed", "Error")


def pod_nodes(record: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(node, pod name) of every pod of a workflow, in start order."""
    from argosy.pipeline.names import pod_name

    name = record["metadata"]["name"]
    nodes = [n for n in ((record.get("status") or {}).get("nodes") or {}).values() if n.get("type") == "Pod"]
    nodes.sort(key=lambda n: (n.get("startedAt") or "", n.get("name") or ""))
    for node in nodes:
        ref = node.get("templateRef") or {}
        yield node, pod_name(name, node["name"], ref.get("template") or node.get("templateName") or "")


class Backend(Protocol):
    """The operations a Client needs; each returns Argo-shaped dicts."""

    def create(self, wf: dict[str, Any], namespace: str | None) -> dict[str, Any]: ...

    def start(self, record: dict[str, Any], *, foreground: bool) -> None: ...

    def get(self, name: str, namespace: str | None) -> dict[str, Any]: ...

    def list_workflows(self, namespace: str | None, *, phases: list[str] | None, labels: str | None, prefix: str | None) -> list[dict[str, Any]]: ...

    def delete(self, name: str, namespace: str | None, *, force: bool) -> str: ...

    def logs(self, record: dict[str, Any]) -> list[tuple[str, str]]: ...

    def fetch_artifact(self, record: dict[str, Any], node_id: str, artifact: dict[str, Any], io: str, dest: Path) -> None: ...

    def apply(self, doc: dict[str, Any]) -> str: ...

    def lint(self, wf: Any) -> list[str]: ...


# ----------------------------------------------------------------------------------------- local


class LocalBackend:
    """The embedded backend: SQLite store, detached or in-process runner, local artifacts."""

    def __init__(self, home: str | Path | None = None) -> None:
        from argosy.pipeline.local import open_store

        self.store = open_store(home or os.environ.get("ARGOSY_HOME"))

    def _templates(self) -> Any:
        from argosy.pipeline.actions import StoreTemplates

        return StoreTemplates(self.store)

    def lint(self, wf: Any) -> list[str]:
        from argosy.pipeline.validate import validate_workflow

        return validate_workflow(wf, templates=self._templates())

    def create(self, wf: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        doc = dict(wf)
        doc.pop("status", None)
        if namespace:
            doc["metadata"] = {**doc.get("metadata", {}), "namespace": namespace}
        from argosy.gc.lifecycle import on_submit

        on_submit(doc, self.store)  # the artifact-GC finalizer decision, as `argosy submit`
        record: dict[str, Any] = self.store.create_workflow(doc)
        return record

    def start(self, record: dict[str, Any], *, foreground: bool) -> None:
        from argosy.pipeline.actions import launch

        meta = record["metadata"]
        launch(self.store, meta["name"], meta.get("namespace"), foreground=foreground)

    def get(self, name: str, namespace: str | None) -> dict[str, Any]:
        from argosy.pipeline.spawn import detect_orphan

        record: dict[str, Any] = detect_orphan(self.store, self.store.get_workflow(name, namespace))
        return record

    def list_workflows(self, namespace: str | None, *, phases: list[str] | None, labels: str | None, prefix: str | None) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.store.list_workflows(namespace, phases=phases, label_selector=labels, prefix=prefix)
        return records

    def delete(self, name: str, namespace: str | None, *, force: bool) -> str:
        from argosy.pipeline.actions import delete

        return delete(self.store, name, namespace=namespace, force=force)

    def logs(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for _node, pod in pod_nodes(record):
            path = self.store.log_path(record["metadata"]["name"], pod)
            if path.exists():
                out.extend((pod, line) for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
        return out

    def fetch_artifact(self, record: dict[str, Any], node_id: str, artifact: dict[str, Any], io: str, dest: Path) -> None:
        from argosy.pipeline.artifacts import ArtifactManager
        from argosy.pipeline.config import load_config
        from argosy.pipeline.model import Artifact

        namespace = record["metadata"].get("namespace")
        ref = (record.get("spec") or {}).get("artifactRepositoryRef")
        manager = ArtifactManager.from_config(self.store, load_config(self.store, namespace), namespace, ref)
        art = Artifact.model_validate({k: v for k, v in artifact.items() if v is not None})
        if not manager.load_input(art, dest):
            raise ArtifactNotFound(f"artifact '{art.name}' of node {node_id} has no stored location")

    def apply(self, doc: dict[str, Any]) -> str:
        return str(self.store.apply_document(doc))


# ----------------------------------------------------------------------------------------- HTTP


class HTTPBackend:
    """Argo Server's REST API (``/api/v1/workflows/{namespace}`` ...) over urllib."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0, default_namespace: str = "default") -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.default_namespace = default_namespace

    def _ns(self, namespace: str | None) -> str:
        return urllib.parse.quote(namespace or self.default_namespace, safe="")

    def _request(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None, *, raw: bool = False) -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", self.token if self.token.startswith(("Bearer ", "Basic ")) else f"Bearer {self.token}")
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 - the user's server URL
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", errors="replace")
            try:
                message = json.loads(text).get("message") or text
            except (ValueError, AttributeError):
                message = text
            if exc.code == 404 and path.startswith("/api/v1/workflows/"):
                raise WorkflowNotFound(message or f"not found: {path}") from None
            if exc.code == 404:
                raise ArtifactNotFound(message or f"not found: {path}") from None
            raise ServerError(f"{method} {path}: HTTP {exc.code}: {message.strip()}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ServerError(f"cannot reach {self.url}: {getattr(exc, 'reason', exc)}") from None
        if raw:
            return resp
        with resp:
            text = resp.read().decode("utf-8")
        return json.loads(text) if text.strip() else {}

    def lint(self, wf: Any) -> list[str]:
        from argosy.pipeline.validate import validate_workflow

        return validate_workflow(wf)

    def create(self, wf: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        ns = namespace or (wf.get("metadata") or {}).get("namespace")
        record: dict[str, Any] = self._request("POST", f"/api/v1/workflows/{self._ns(ns)}", {"workflow": wf})
        return record

    def start(self, record: dict[str, Any], *, foreground: bool) -> None:
        """The server runs what it stores."""

    def get(self, name: str, namespace: str | None) -> dict[str, Any]:
        record: dict[str, Any] = self._request("GET", f"/api/v1/workflows/{self._ns(namespace)}/{urllib.parse.quote(name)}")
        return record

    def list_workflows(self, namespace: str | None, *, phases: list[str] | None, labels: str | None, prefix: str | None) -> list[dict[str, Any]]:
        selector = ",".join(filter(None, [labels, f"workflows.argoproj.io/phase in ({','.join(phases)})" if phases else None]))
        query = {"listOptions.labelSelector": selector} if selector else None
        data = self._request("GET", f"/api/v1/workflows/{self._ns(namespace)}", query=query)
        items = [i for i in data.get("items") or [] if not prefix or i["metadata"]["name"].startswith(prefix)]
        return items

    def delete(self, name: str, namespace: str | None, *, force: bool) -> str:
        query = {"force": "true"} if force else None
        self._request("DELETE", f"/api/v1/workflows/{self._ns(namespace)}/{urllib.parse.quote(name)}", query=query)
        return "deleted"

    def logs(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        meta = record["metadata"]
        resp = self._request(
            "GET", f"/api/v1/workflows/{self._ns(meta.get('namespace'))}/{urllib.parse.quote(meta['name'])}/log",
            query={"logOptions.container": "main"}, raw=True,
        )
        out: list[tuple[str, str]] = []
        with resp:
            for raw_line in resp:
                line = raw_line.decode("utf-8", errors="replace").strip()
                if not line:
                    continue
                entry = json.loads(line).get("result") or {}
                for text in str(entry.get("content", "")).splitlines() or [""]:
                    out.append((str(entry.get("podName", "")), text))
        return out

    def fetch_artifact(self, record: dict[str, Any], node_id: str, artifact: dict[str, Any], io: str, dest: Path) -> None:
        from argosy.storage.archives import unpack

        meta = record["metadata"]
        ns, name, art = self._ns(meta.get("namespace")), urllib.parse.quote(meta["name"]), urllib.parse.quote(artifact["name"])
        path = f"/artifact-files/{ns}/workflows/{name}/{urllib.parse.quote(node_id)}/{io}/{art}"
        try:
            resp = self._request("GET", path, raw=True)
        except ArtifactNotFound:
            resp = self._request("GET", f"/{'input-artifacts' if io == 'inputs' else 'artifacts'}/{ns}/{name}/{urllib.parse.quote(node_id)}/{art}", raw=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with resp, tempfile.TemporaryFile() as tmp:
            shutil.copyfileobj(resp, tmp)
            tmp.seek(0)
            unpack(tmp, dest, None)

    def apply(self, doc: dict[str, Any]) -> str:
        kind = doc.get("kind")
        ns = self._ns((doc.get("metadata") or {}).get("namespace"))
        routes = {
            "WorkflowTemplate": (f"/api/v1/workflow-templates/{ns}", "template"),
            "ClusterWorkflowTemplate": ("/api/v1/cluster-workflow-templates", "template"),
            "CronWorkflow": (f"/api/v1/cron-workflows/{ns}", "cronWorkflow"),
        }
        if kind not in routes:
            raise ServerError(f"cannot apply a {kind} through the Argo server API (only WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow)")
        path, key = routes[str(kind)]
        self._request("POST", path, {key: doc})
        return "created"
