"""Argo Server's workflow API (same paths, parameters and JSON shapes) over the local store.

Clients written for Argo Server (the ``argo`` CLI in server mode, scripts using its REST API,
Argo's own UI) read these answers as they read Argo's; Argosy-only additions are marked.
"""

from __future__ import annotations

import json
import platform
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from argosy import __version__
from argosy.errors import WorkflowNotFound
from argosy.pipeline.names import pod_name
from argosy.server.app import HTTPError, Request, Response, Router

__all__ = ["TERMINAL", "WorkflowApi", "apply_fields", "pod_nodes"]

TERMINAL = ("Succeeded", "Failed", "Error")
API_VERSION = "argoproj.io/v1alpha1"
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


# ------------------------------------------------------------------------------------------ helpers


def apply_fields(obj: Any, fields: str | None) -> Any:
    """Argo's ``fields`` parameter: ``a,items.b.c`` keeps only those paths, ``-a,-b`` drops them."""
    if not fields:
        return obj
    paths = [f.strip() for f in fields.split(",") if f.strip()]
    if not paths:
        return obj
    if paths[0].startswith("-"):
        for p in paths:
            _drop(obj, p.lstrip("-").split("."))
        return obj
    tree: dict[str, Any] = {}
    for p in paths:
        node = tree
        for part in p.split("."):
            node = node.setdefault(part, {})
    return _keep(obj, tree)


def _keep(obj: Any, tree: dict[str, Any]) -> Any:
    if not tree:
        return obj
    if isinstance(obj, list):
        return [_keep(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    return {k: _keep(obj[k], sub) for k, sub in tree.items() if k in obj}


def _drop(obj: Any, parts: list[str]) -> None:
    if isinstance(obj, list):
        for x in obj:
            _drop(x, parts)
    elif isinstance(obj, dict) and parts:
        if len(parts) == 1:
            obj.pop(parts[0], None)
        elif parts[0] in obj:
            _drop(obj[parts[0]], parts[1:])


def pod_nodes(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(pod name, node) for every Pod node, in start order: the names ``logs/<wf>/<pod>.log`` uses."""
    name = record["metadata"]["name"]
    nodes = [n for n in ((record.get("status") or {}).get("nodes") or {}).values() if n.get("type") == "Pod"]
    nodes.sort(key=lambda n: (n.get("startedAt") or "", n.get("name") or ""))
    out = []
    for n in nodes:
        ref = n.get("templateRef") or {}
        out.append((pod_name(name, n["name"], ref.get("template") or n.get("templateName") or ""), n))
    return out


def _phase(record: dict[str, Any]) -> str:
    return str((record.get("status") or {}).get("phase") or "")


def _conflict(message: str) -> HTTPError:
    return HTTPError(409, message)


def stream_events(req: Request, events: Iterator[dict[str, Any]]) -> Response:
    """Newline-delimited JSON (grpc-gateway's streaming shape), or SSE when the client asks for it."""
    sse = req.accepts("text/event-stream")

    def body() -> Iterator[bytes]:
        for ev in events:
            if not ev:  # heartbeat: keeps proxies from timing out and notices a gone client
                yield b":\n\n" if sse else b"\n"
                continue
            data = json.dumps(ev, separators=(",", ":"), ensure_ascii=False).encode()
            yield b"data: " + data + b"\n\n" if sse else data + b"\n"

    ctype = "text/event-stream" if sse else "application/json"
    return Response(200, body(), {"Content-Type": ctype, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ------------------------------------------------------------------------------------------ the API


class WorkflowApi:
    """Handlers for ``/api/v1/...``; one instance per server, shared by its threads."""

    def __init__(self, store: Any, info: dict[str, Any]) -> None:  # a Store or a cluster's KubeStore
        self.store = store
        self.info_extra = info

    # -- plumbing ------------------------------------------------------------------------------

    def _list(self, namespace: str | None, **kwargs: Any) -> list[dict[str, Any]]:
        """Workflows of ``namespace``, or of every namespace when None."""
        return self.store.list_workflows(namespace, all_namespaces=namespace is None, **kwargs)  # type: ignore[no-any-return]

    def _load(self, name: str, namespace: str | None) -> dict[str, Any]:
        from argosy.pipeline.spawn import detect_orphan

        record = self.store.get_workflow(name, namespace)
        ns = (record.get("metadata") or {}).get("namespace")
        if namespace and ns and ns != namespace:
            raise WorkflowNotFound(f'workflows.argoproj.io "{name}" not found')
        return detect_orphan(self.store, record)

    @staticmethod
    def _ns(req: Request) -> str | None:
        ns = req.params.get("namespace") or None
        return ns

    def _create_and_run(self, wf: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """What ``argosy submit`` does (:mod:`argosy.pipeline.actions`): validate, record, start."""
        from argosy.pipeline import actions

        wf = json.loads(json.dumps(wf))
        wf.pop("status", None)
        wf.setdefault("apiVersion", API_VERSION)
        wf.setdefault("kind", "Workflow")
        if wf.get("kind") != "Workflow":
            raise HTTPError(400, f"expected a Workflow, got kind {wf.get('kind')!r}")
        try:
            if dry_run:
                actions.validate(self.store, wf)
                return wf
            return actions.submit(self.store, wf)
        except ValueError as exc:  # pydantic's ValidationError: the document does not parse
            raise HTTPError(400, f"invalid workflow: {exc}") from None

    # -- info ----------------------------------------------------------------------------------

    def version(self, req: Request) -> Response:
        return Response.json({
            "version": f"v{__version__}", "buildDate": "", "gitCommit": "", "gitTag": f"v{__version__}",
            "gitTreeState": "clean", "goVersion": f"python{platform.python_version()}",
            "compiler": "cpython", "platform": f"{platform.system().lower()}/{platform.machine()}",
        })

    def info(self, req: Request) -> Response:
        return Response.json({"managedNamespace": "", "links": [], "columns": [], "navColor": "",
                              "modals": {}, **self.info_extra})

    def userinfo(self, req: Request) -> Response:
        return Response.json({"subject": req.identity or "", "issuer": "argosy",
                              "serviceAccountName": "", "serviceAccountNamespace": ""})

    # -- workflows -----------------------------------------------------------------------------

    def list_workflows(self, req: Request) -> Response:
        from argosy.pipeline.spawn import detect_orphan

        ns = self._ns(req)
        selector = req.arg("listOptions.labelSelector") or None
        field_sel = _field_selector(req.arg("listOptions.fieldSelector"))
        limit = _int(req.arg("listOptions.limit"), "listOptions.limit")
        offset = _int(req.arg("listOptions.continue"), "listOptions.continue") or 0
        phases = req.args("phase") or None  # Argosy: filter by phase without a label selector
        prefix = req.arg("nameFilter") if req.arg("nameFilterType", "Prefix") == "Prefix" else None
        fetch = None if limit is None else offset + limit + 1
        records = self._list(ns, phases=phases, label_selector=selector, prefix=prefix or None, limit=fetch)
        if field_sel.get("metadata.name"):
            records = [r for r in records if r["metadata"]["name"] == field_sel["metadata.name"]]
        records = records[offset:]
        more = limit is not None and len(records) > limit
        if limit is not None:
            records = records[:limit]
        items = [detect_orphan(self.store, r) if _phase(r) in ("", "Pending", "Running") else r for r in records]
        meta: dict[str, Any] = {"resourceVersion": str(int(time.time()))}
        if more:
            meta["continue"] = str(offset + len(items))
        body = apply_fields({"metadata": meta, "items": items}, req.arg("fields"))
        return Response.json(body)

    def create_workflow(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("workflow"), dict):
            raise HTTPError(400, 'expected a body {"workflow": {...}}')
        wf = body["workflow"]
        ns = self._ns(req)
        meta = wf.setdefault("metadata", {})
        if meta.get("namespace") and ns and meta["namespace"] != ns:
            raise HTTPError(400, f"the workflow's namespace {meta['namespace']!r} does not match the URL's {ns!r}")
        if ns:
            meta["namespace"] = ns
        dry = bool(body.get("serverDryRun")) or bool((body.get("createOptions") or {}).get("dryRun"))
        return Response.json(self._create_and_run(wf, dry_run=dry))

    def lint_workflow(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("workflow"), dict):
            raise HTTPError(400, 'expected a body {"workflow": {...}}')
        return Response.json(self._create_and_run(body["workflow"], dry_run=True))

    def submit(self, req: Request) -> Response:
        body = req.json()
        kind = str(body.get("resourceKind") or "")
        name = str(body.get("resourceName") or "")
        kinds = {"workflowtemplate": "WorkflowTemplate", "clusterworkflowtemplate": "ClusterWorkflowTemplate"}
        k = kinds.get(kind.lower())
        if k is None or not name:
            raise HTTPError(400, "resourceKind must be WorkflowTemplate or ClusterWorkflowTemplate, with a resourceName")
        ns = self._ns(req)
        if self.store.get_document(k, name, None if k.startswith("Cluster") else ns) is None:
            raise HTTPError(404, f'{k.lower()}s.argoproj.io "{name}" not found')
        opts = body.get("submitOptions") or {}
        ref: dict[str, Any] = {"name": name}
        if k.startswith("Cluster"):
            ref["clusterScope"] = True
        meta: dict[str, Any] = {"namespace": ns} if ns else {}
        if opts.get("name"):
            meta["name"] = opts["name"]
        else:
            meta["generateName"] = opts.get("generateName") or f"{name}-"
        labels = _parse_pairs(opts.get("labels") or "", "labels")
        if labels:
            meta["labels"] = labels
        annotations = _parse_pairs(opts.get("annotations") or "", "annotations")
        if annotations:
            meta["annotations"] = annotations
        spec: dict[str, Any] = {"workflowTemplateRef": ref}
        if opts.get("entryPoint"):
            spec["entrypoint"] = opts["entryPoint"]
        if opts.get("serviceAccount"):
            spec["serviceAccountName"] = opts["serviceAccount"]
        params = []
        for item in opts.get("parameters") or []:
            if not isinstance(item, str) or "=" not in item:
                raise HTTPError(400, f"expected NAME=VALUE in submitOptions.parameters, got {item!r}")
            k2, v = item.split("=", 1)
            params.append({"name": k2, "value": v})
        if params:
            spec["arguments"] = {"parameters": params}
        wf = {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": meta, "spec": spec}
        return Response.json(self._create_and_run(wf, dry_run=bool(opts.get("dryRun") or opts.get("serverDryRun"))))

    def get_workflow(self, req: Request) -> Response:
        record = self._load(req.params["name"], self._ns(req))
        return Response.json(apply_fields(record, req.arg("fields")))

    def delete_workflow(self, req: Request) -> Response:
        from argosy.pipeline import actions

        name, ns = req.params["name"], self._ns(req)
        self._load(name, ns)
        outcome = actions.delete(self.store, name, namespace=ns, force=req.flag("force"))
        return Response.json({} if outcome == "deleted" else {"message": outcome})

    def _control(self, req: Request, verb: str, act: Callable[..., dict[str, Any]], *args: Any) -> Response:
        """Argo answers 409-like errors for actions on completed workflows; say which and why."""
        name, ns = req.params["name"], self._ns(req)
        record = self._load(name, ns)
        phase = _phase(record)
        if verb == "retry" and phase not in ("Failed", "Error"):
            raise _conflict(f"workflow {name} is not failed or errored (phase {phase or 'Pending'}): nothing to retry")
        if verb in ("stop", "terminate", "suspend", "resume") and phase in TERMINAL:
            raise _conflict(f"cannot {verb} workflow {name}: it has already completed ({phase})")
        return Response.json(act(self.store, name, *args, namespace=ns))

    def stop(self, req: Request) -> Response:
        from argosy.pipeline import actions

        return self._control(req, "stop", actions.set_shutdown, "Stop")

    def terminate(self, req: Request) -> Response:
        from argosy.pipeline import actions

        return self._control(req, "terminate", actions.set_shutdown, "Terminate")

    def suspend(self, req: Request) -> Response:
        from argosy.pipeline import actions

        return self._control(req, "suspend", actions.suspend)

    def resume(self, req: Request) -> Response:
        from argosy.pipeline import actions

        return self._control(req, "resume", actions.resume)

    def retry(self, req: Request) -> Response:
        from argosy.pipeline import actions

        return self._control(req, "retry", actions.retry)

    def resubmit(self, req: Request) -> Response:
        from argosy.pipeline import actions

        body = req.json() if req.body else {}
        params: list[tuple[str, str]] = []
        for item in body.get("parameters") or []:
            if not isinstance(item, str) or "=" not in item:
                raise HTTPError(400, f"expected NAME=VALUE in parameters, got {item!r}")
            k, v = item.split("=", 1)
            params.append((k, v))
        self._load(req.params["name"], self._ns(req))
        return Response.json(actions.resubmit(self.store, req.params["name"], parameters=params, namespace=self._ns(req)))

    def events(self, req: Request) -> Response:
        """Argosy: the Kubernetes-style events recorded for one workflow."""
        record = self._load(req.params["name"], self._ns(req))
        meta = record["metadata"]
        return Response.json({"metadata": {}, "items": self.store.list_events(meta["name"], meta.get("namespace"))})

    # -- watching ------------------------------------------------------------------------------

    def watch_workflows(self, req: Request) -> Response:
        """Argo's WatchWorkflows: ADDED for what exists, then MODIFIED/DELETED as things change."""
        ns = self._ns(req)
        selector = req.arg("listOptions.labelSelector") or None
        only = _field_selector(req.arg("listOptions.fieldSelector")).get("metadata.name")
        fields = req.arg("fields")
        if only:
            self._load(only, ns)  # 404 now rather than an empty stream

        def events() -> Iterator[dict[str, Any]]:
            seen: dict[str, str] = {}
            last_beat = time.monotonic()
            while not req.client_gone():
                records = self._list(ns, label_selector=selector, prefix=only)
                if only:
                    records = [r for r in records if r["metadata"]["name"] == only]
                current: dict[str, str] = {}
                for r in records:
                    meta = r["metadata"]
                    key = f"{meta.get('namespace')}/{meta['name']}"
                    current[key] = str(meta.get("resourceVersion"))
                    if seen.get(key) == current[key]:
                        continue
                    obj = self.store.get_workflow(meta["name"], meta.get("namespace")) if only else r
                    kind = "MODIFIED" if key in seen else "ADDED"
                    yield {"result": {"type": kind, "object": apply_fields(obj, fields)}}
                    last_beat = time.monotonic()
                for key in set(seen) - set(current):
                    ns2, _, name = key.partition("/")
                    yield {"result": {"type": "DELETED", "object": {"metadata": {"name": name, "namespace": ns2}}}}
                seen = current
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    yield {}
                time.sleep(POLL_SECONDS * 2)

        return stream_events(req, events())

    def watch_events(self, req: Request) -> Response:
        """Argo's WatchEvents (``/api/v1/stream/events``): Kubernetes events as they are recorded."""
        ns = self._ns(req)
        sel = _field_selector(req.arg("listOptions.fieldSelector"))
        wf_name = sel.get("involvedObject.name")

        def events() -> Iterator[dict[str, Any]]:
            counts: dict[str, int] = {}
            last_beat = time.monotonic()
            while not req.client_gone():
                for ev in self.store.list_events(wf_name, ns):
                    uid = ev["metadata"]["uid"]
                    if counts.get(uid) != ev.get("count"):
                        counts[uid] = ev.get("count", 1)
                        yield {"result": ev}
                        last_beat = time.monotonic()
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    yield {}
                time.sleep(POLL_SECONDS * 4)

        return stream_events(req, events())

    # -- logs ----------------------------------------------------------------------------------

    def logs(self, req: Request) -> Response:
        """Argo's WorkflowLogs: ``{"result": {"content", "podName"}}`` per line; follow ends with the workflow."""
        name, ns = req.params["name"], self._ns(req)
        record = self._load(name, ns)
        wf_name = record["metadata"]["name"]
        pod = req.params.get("podName") or req.arg("podName") or None
        container = req.arg("logOptions.container") or "main"
        follow = req.flag("logOptions.follow")
        grep = req.arg("grep") or None
        try:
            pattern = re.compile(grep) if grep else None
        except re.error as exc:
            raise HTTPError(400, f"invalid grep pattern: {exc}") from None
        tail = _int(req.arg("logOptions.tailLines"), "logOptions.tailLines")
        if pod is not None:
            known = {p: n for p, n in pod_nodes(record)}
            ids = {n.get("id"): p for p, n in pod_nodes(record)}
            if pod in ids:
                pod = ids[pod]
            elif pod not in known:
                raise HTTPError(404, f'pod "{pod}" not found in workflow {wf_name}')
        if container != "main":  # Argosy runs one process per step: only main has output
            return stream_events(req, iter(()))
        store = self.store

        def lines() -> Iterator[dict[str, Any]]:
            offsets: dict[str, int] = {}
            rec = record
            first = True
            last_beat = time.monotonic()
            while True:
                done = _phase(rec) in TERMINAL
                batch: list[tuple[str, str]] = []
                for pname, node in pod_nodes(rec):
                    if pod and pname != pod:
                        continue
                    batch.extend(_read_new(store.log_path(wf_name, pname, ns), pname, offsets,
                                           final=done or node.get("phase") in TERMINAL))
                if first and tail is not None:
                    batch = _tail(batch, tail)
                first = False
                for pname, line in batch:
                    if pattern is None or pattern.search(line):
                        yield {"result": {"content": line, "podName": pname}}
                        last_beat = time.monotonic()
                if not follow or done:
                    return
                if pod and any(p == pod and n.get("phase") in TERMINAL for p, n in pod_nodes(rec)) and batch == []:
                    return
                if req.client_gone():
                    return
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    yield {}
                time.sleep(POLL_SECONDS)
                try:
                    rec = self._load(wf_name, ns)
                except WorkflowNotFound:
                    return

        return stream_events(req, lines())

    # -- templates -----------------------------------------------------------------------------

    def list_templates(self, req: Request) -> Response:
        items = self.store.list_documents("WorkflowTemplate", self._ns(req))
        return Response.json(apply_fields({"metadata": {}, "items": items}, req.arg("fields")))

    def get_template(self, req: Request) -> Response:
        doc = self.store.get_document("WorkflowTemplate", req.params["name"], self._ns(req))
        if doc is None:
            raise HTTPError(404, f'workflowtemplates.argoproj.io "{req.params["name"]}" not found')
        return Response.json(doc)

    def list_cluster_templates(self, req: Request) -> Response:
        return Response.json({"metadata": {}, "items": self.store.list_documents("ClusterWorkflowTemplate")})

    def get_cluster_template(self, req: Request) -> Response:
        doc = self.store.get_document("ClusterWorkflowTemplate", req.params["name"])
        if doc is None:
            raise HTTPError(404, f'clusterworkflowtemplates.argoproj.io "{req.params["name"]}" not found')
        return Response.json(doc)

    # -- routes --------------------------------------------------------------------------------

    def register(self, r: Router) -> None:
        ns_list = (("listOptions.labelSelector", "Kubernetes label selector, e.g. workflows.argoproj.io/phase=Running"),
                   ("listOptions.fieldSelector", "only metadata.name=NAME is supported"),
                   ("listOptions.limit", "page size"), ("listOptions.continue", "token from metadata.continue"),
                   ("fields", "keep (a,b.c) or drop (-a,-b.c) fields, e.g. -items.status.nodes"),
                   ("phase", "Argosy: only workflows in these phases (repeatable)"),
                   ("nameFilter", "only workflows whose name starts with this"))
        log_q = (("podName", "a pod name or node id; all pods when absent"),
                 ("logOptions.container", "main (the only container with output in Argosy)"),
                 ("logOptions.follow", "true: stream until the workflow ends"),
                 ("logOptions.tailLines", "only the last N lines per request"), ("grep", "regular expression lines must match"))
        watch_q = (("listOptions.labelSelector", "label selector"), ("listOptions.fieldSelector", "metadata.name=NAME"),
                   ("fields", "field filter applied to each object"))
        r.add("GET", "/api/v1/version", self.version, "Server version", tag="info", response="Version")
        r.add("GET", "/api/v1/info", self.info, "Server information (auth mode, artifact repository)", tag="info", response="Info")
        r.add("GET", "/api/v1/userinfo", self.userinfo, "Who the request is authenticated as", tag="info", response="UserInfo")
        r.add("GET", "/api/v1/workflows", self.list_workflows, "List workflows of every namespace", query=ns_list, response="WorkflowList")
        r.add("GET", "/api/v1/workflows/", self.list_workflows, "List workflows of every namespace", query=ns_list, response="WorkflowList")
        r.add("GET", "/api/v1/workflows/{namespace}", self.list_workflows, "List workflows, newest first", query=ns_list, response="WorkflowList")
        r.add("POST", "/api/v1/workflows/{namespace}", self.create_workflow, "Create (submit) a workflow", body="WorkflowCreateRequest", response="Workflow")
        r.add("POST", "/api/v1/workflows/{namespace}/lint", self.lint_workflow, "Validate a workflow without creating it", body="WorkflowCreateRequest", response="Workflow")
        r.add("POST", "/api/v1/workflows/{namespace}/submit", self.submit, "Submit a workflow from a (Cluster)WorkflowTemplate", body="WorkflowSubmitRequest", response="Workflow")
        r.add("GET", "/api/v1/workflows/{namespace}/{name}", self.get_workflow, "Get a workflow with its node status", query=(("fields", "field filter"),), response="Workflow")
        r.add("DELETE", "/api/v1/workflows/{namespace}/{name}", self.delete_workflow, "Delete a workflow (after artifact GC unless force)", query=(("force", "true: skip artifact GC finalizers"),), response="Empty")
        for verb, fn, what in (("stop", self.stop, "Stop: no new steps, exit handlers run"),
                               ("terminate", self.terminate, "Terminate: stop at once, no exit handlers"),
                               ("suspend", self.suspend, "Suspend: start no new steps until resumed"),
                               ("resume", self.resume, "Resume a suspended workflow"),
                               ("retry", self.retry, "Retry a Failed/Error workflow from its failed steps"),
                               ("resubmit", self.resubmit, "Submit a new workflow with the same spec")):
            r.add("PUT", f"/api/v1/workflows/{{namespace}}/{{name}}/{verb}", fn, what, body="WorkflowActionRequest", response="Workflow")
        r.add("GET", "/api/v1/workflows/{namespace}/{name}/log", self.logs, "Logs of a workflow's pods (NDJSON, or SSE with Accept: text/event-stream)", query=log_q, response="LogEntry", streaming=True)
        r.add("GET", "/api/v1/workflows/{namespace}/{name}/{podName}/log", self.logs, "Logs of one pod (deprecated Argo path)", query=log_q[1:], response="LogEntry", streaming=True)
        r.add("GET", "/api/v1/workflows/{namespace}/{name}/events", self.events, "Argosy: events recorded for a workflow", response="EventList")
        r.add("GET", "/api/v1/workflow-events/{namespace}", self.watch_workflows, "Watch workflows (NDJSON/SSE stream)", query=watch_q, response="WatchEvent", streaming=True)
        r.add("GET", "/api/v1/stream/events/{namespace}", self.watch_events, "Watch Kubernetes-style events (NDJSON/SSE stream)",
              query=(("listOptions.fieldSelector", "involvedObject.name=WORKFLOW"),), response="EventEntry", streaming=True)
        r.add("GET", "/api/v1/workflow-templates/", self.list_templates, "List WorkflowTemplates of every namespace", tag="templates", query=(("fields", "field filter"),), response="TemplateList")
        r.add("GET", "/api/v1/workflow-templates/{namespace}", self.list_templates, "List WorkflowTemplates", tag="templates", query=(("fields", "field filter"),), response="TemplateList")
        r.add("GET", "/api/v1/workflow-templates/{namespace}/{name}", self.get_template, "Get a WorkflowTemplate", tag="templates", response="Template")
        r.add("GET", "/api/v1/cluster-workflow-templates", self.list_cluster_templates, "List ClusterWorkflowTemplates", tag="templates", response="TemplateList")
        r.add("GET", "/api/v1/cluster-workflow-templates/{name}", self.get_cluster_template, "Get a ClusterWorkflowTemplate", tag="templates", response="Template")


def _int(value: str | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise HTTPError(400, f"{what} must be an integer, got {value!r}") from None
    if n < 0:
        raise HTTPError(400, f"{what} must not be negative")
    return n


def _field_selector(text: str | None) -> dict[str, str]:
    out = {}
    for part in (text or "").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip().lstrip("=")
    return out


def _parse_pairs(text: str, what: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise HTTPError(400, f"expected KEY=VALUE in submitOptions.{what}, got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _read_new(path: Any, pname: str, offsets: dict[str, int], final: bool) -> list[tuple[str, str]]:
    """Complete lines appended since the last call (the partial last line too once the pod ended)."""
    start = offsets.get(pname, 0)
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(8 << 20)  # bounded: a huge burst is sent over several polls
    except FileNotFoundError:
        return []
    cut = len(data) if final and len(data) < (8 << 20) else data.rfind(b"\n") + 1
    data = data[:cut]
    offsets[pname] = start + len(data)
    return [(pname, line) for line in data.decode("utf-8", errors="replace").splitlines()]


def _tail(batch: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    per: dict[str, list[tuple[str, str]]] = {}
    for item in batch:
        per.setdefault(item[0], []).append(item)
    keep = {id(x) for lines in per.values() for x in (lines[-n:] if n else [])}
    return [x for x in batch if id(x) in keep]
