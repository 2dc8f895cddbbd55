"""``argosy --kubernetes server``: the web UI's HTTP API over a cluster's Workflow objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Running

from .conftest import submit, wait_done


@pytest.fixture
def cluster_server(kube_pods: Any, store: Any, tmp_path: Path) -> Iterator[Running]:
    from argosy.server.app import serve_in_thread
    from argosy.server.service import ServerConfig, create_server

    httpd = create_server(ServerConfig(home=tmp_path / "home", port=0, store=store))
    serve_in_thread(httpd)
    port = httpd.server_address[1]
    yield Running(f"http://127.0.0.1:{port}", "127.0.0.1", port, tmp_path / "home")
    httpd.shutdown()
    httpd.server_close()


def test_the_server_shows_the_clusters_workflows_and_logs(kube_pods: Any, store: Any, start_controller: Any, cluster_server: Running) -> None:
    start_controller(namespace=None)
    docs = {ns: {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "srv-"},
                 "spec": {"entrypoint": "m", "templates": [{"name": "m", "container": {"image": "alpine", "command": ["echo", f"hi from {ns}"]}}]}}
            for ns in ("default", "team-a")}
    kube_pods.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    names = {ns: submit(store, doc, namespace=ns) for ns, doc in docs.items()}
    for ns, name in names.items():
        wait_done(kube_pods, store, name, namespace=ns)

    everywhere = cluster_server.json("GET", "/api/v1/workflows")
    assert {(w["metadata"]["namespace"], w["metadata"]["name"]) for w in everywhere["items"]} >= {(ns, n) for ns, n in names.items()}
    team = cluster_server.json("GET", "/api/v1/workflows/team-a")
    assert [w["metadata"]["name"] for w in team["items"]] == [names["team-a"]]
    wf = cluster_server.json("GET", f"/api/v1/workflows/team-a/{names['team-a']}")
    assert wf["status"]["phase"] == "Succeeded"
    status, _, body = cluster_server.get(f"/api/v1/workflows/team-a/{names['team-a']}/log?logOptions.container=main")
    assert status == 200
    lines = [json.loads(line)["result"] for line in body.decode().splitlines() if line.strip()]
    assert [(r["podName"], r["content"]) for r in lines] == [(names["team-a"], "hi from team-a")]
    info = cluster_server.json("GET", "/api/v1/info")
    assert info["home"] == f"cluster {kube_pods.url}"
