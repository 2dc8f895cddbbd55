"""Client: local store (detached runner, as the CLI) and an Argo-Server-shaped HTTP API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import LintError, SpecError, WorkflowNotFound
from argosy.pipeline.local import open_store, run_workflow
from argosy.sdk import Client, ServerError, WorkflowFailed

from .conftest import EXAMPLES

HELLO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: world}]}
  templates:
  - name: main
    inputs: {parameters: [{name: who}]}
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo hello {{inputs.parameters.who}} | tee /tmp/out.txt"]
    outputs:
      artifacts: [{name: out, path: /tmp/out.txt, type: File, format: text}]
"""


def test_submit_waits_on_the_detached_runner_and_reads_everything_back(client: Client) -> None:
    handle = client.submit(HELLO, parameters={"who": "argosy"}, wait=True, timeout=60)
    run = handle.get()
    assert run.succeeded and run.name.startswith("hello-")
    assert run.result("main") == "hello argosy"
    assert [ln.line for ln in handle.logs()] == ["hello argosy"]
    art = handle.artifact("main", "out")
    assert (art.type, art.format, art.load()) == ("File", "text", "hello argosy\n")
    with art.open() as fh:
        assert fh.read() == b"hello argosy\n"
    assert [r.name for r in client.list()] == [run.name]
    assert client.get("@latest").name == run.name
    assert handle.delete() == "deleted"
    with pytest.raises(WorkflowNotFound):
        client.get(run.name)


def test_run_takes_dicts_files_and_reports_failure(client: Client, tmp_path: Path) -> None:
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "fail-"},
           "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "alpine", "command": ["sh", "-c", "exit 3"]}}]}}
    run = client.run(doc)
    assert run.phase == "Failed"
    with pytest.raises(WorkflowFailed, match=r"Failed: main: Error \(exit code 3\)"):
        run.raise_for_status()
    ok = client.run(EXAMPLES / "producer_consumer.yaml")
    assert ok.parameters["producer-message"] == {"message": "hello world"}
    target = ok.artifacts  # no artifacts in this workflow
    assert target == {}
    path = tmp_path / "wf.yaml"
    path.write_text(HELLO)
    assert client.run(str(path)).succeeded


def test_submit_refuses_what_lint_refuses(client: Client) -> None:
    with pytest.raises(LintError, match="Failed to submit workflow: template name 'nope' undefined"):
        client.submit({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "x-"},
                       "spec": {"entrypoint": "nope", "templates": [{"name": "main", "container": {"image": "a"}}]}})
    with pytest.raises(SpecError, match="no Workflow found"):
        client.submit("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert client.list() == []


def test_artifact_download_unpacks_to_a_path(client: Client, tmp_path: Path) -> None:
    run = client.run(HELLO)
    dest = client.artifact(run.name, "main", "out").download(tmp_path / "copy.txt")
    assert dest.read_text() == "hello world\n"
    with pytest.raises(KeyError, match="has no step 'missing'"):
        run.artifact("missing", "out")


# ----------------------------------------------------------------------------------------- HTTP


class _FakeArgoServer(BaseHTTPRequestHandler):
    """Just enough of Argo Server's API, backed by a local store, to exercise the HTTP client."""

    store: Any = None
    token = "secret"
    seen_auth: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        self.seen_auth.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(401, {"code": 16, "message": "token not valid"})
        path, _, _query = self.path.partition("?")
        parts = path.strip("/").split("/")
        try:
            if parts[:3] == ["api", "v1", "workflows"]:
                ns = parts[3]
                if method == "POST":
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    wf = body["workflow"]
                    wf.setdefault("metadata", {})["namespace"] = ns
                    record = self.store.create_workflow(wf)
                    run_workflow(self.store, record["metadata"]["name"], ns)
                    return self._send(200, record)
                if len(parts) == 4:
                    return self._send(200, {"items": self.store.list_workflows(ns) or None})
                name = parts[4]
                if method == "DELETE":
                    self.store.delete_workflow(name, ns)
                    return self._send(200, {})
                record = self.store.get_workflow(name, ns)
                if len(parts) == 6 and parts[5] == "log":
                    from argosy.sdk._backends import pod_nodes

                    lines = []
                    for _node, pod in pod_nodes(record):
                        log = self.store.log_path(name, pod)
                        for text in log.read_text().splitlines() if log.exists() else []:
                            lines.append(json.dumps({"result": {"content": text, "podName": pod}}))
                    return self._send(200, ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
                return self._send(200, record)
            if parts[0] == "artifact-files":
                _ns, _kind, name, node_id, io, art_name = parts[1:7]
                node = self.store.get_workflow(name)["status"]["nodes"][node_id]
                art = next(a for a in node[io]["artifacts"] if a["name"] == art_name)
                return self._send(200, (self.store.artifacts_dir / art["local"]["key"]).read_bytes(), "application/octet-stream")
        except WorkflowNotFound as exc:
            return self._send(404, {"code": 5, "message": str(exc)})
        return self._send(404, {"code": 5, "message": "no route"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")


@pytest.fixture
def server(home: Path) -> Iterator[str]:
    store = open_store(home)
    handler = type("Handler", (_FakeArgoServer,), {"store": store, "seen_auth": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        store.close()


def test_http_client_speaks_argo_servers_api(server: str) -> None:
    remote = Client(server, token="secret")
    handle = remote.submit(HELLO, parameters={"who": "server"})
    assert handle.namespace == "default"
    run = handle.wait(timeout=30)
    assert run.succeeded and run.result("main") == "hello server"
    assert [r.name for r in remote.list()] == [run.name]
    assert [ln.line for ln in remote.logs(run.name, step="main")] == ["hello server"]
    assert remote.artifact(run.name, "main", "out").load() == "hello server\n"
    remote.delete(run.name)
    with pytest.raises(WorkflowNotFound):
        remote.get(run.name)


def test_http_client_reports_auth_and_connection_errors(server: str) -> None:
    with pytest.raises(ServerError, match="HTTP 401: token not valid") as caught:
        Client(server, token="wrong").list()
    assert caught.value.status == 401
    with pytest.raises(ServerError, match="cannot reach"):
        Client("http://127.0.0.1:9", timeout=2).list()


def test_client_against_argosy_server(home: Path) -> None:
    """The real ``argosy server`` (skipped where it is not part of the tree)."""
    service = pytest.importorskip("argosy.server.service")
    app = pytest.importorskip("argosy.server.app")
    httpd = service.create_server(service.ServerConfig(home=home, port=0, auth_mode="server"))
    app.serve_in_thread(httpd)
    try:
        remote = Client(f"http://127.0.0.1:{httpd.server_address[1]}")
        run = remote.submit(HELLO, parameters={"who": "real server"}).wait(timeout=60)
        assert run.succeeded and run.result("main") == "hello real server"
        assert [ln.line for ln in remote.logs(run.name)] == ["hello real server"]
        assert remote.artifact(run.name, "main", "out").read_text() == "hello real server\n"
        assert remote.delete(run.name) == "deleted"
    finally:
        httpd.shutdown()
        httpd.server_close()
