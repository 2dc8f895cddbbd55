"""The Argo-shaped HTTP API, against real workflows run by the real CLI."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.server.conftest import Running, Seed, node_by_name, phase, wait_for

TICKER = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "ticker-", "labels": {"purpose": "test"}},
    "spec": {"entrypoint": "tick", "templates": [{"name": "tick", "container": {
        "image": "busybox", "command": ["sh", "-c", "i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done"]}}]},
}
HELLO = {
    "metadata": {"generateName": "hello-"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox", "command": ["echo", "hello from the api"]}}]},
}


def create(server: Running, wf: dict[str, Any]) -> str:
    return str(server.json("POST", "/api/v1/workflows/default", {"workflow": wf})["metadata"]["name"])


def test_version_info_and_openapi_describe_the_server(server: Running) -> None:
    assert server.json("GET", "/api/v1/version")["version"].startswith("v")
    info = server.json("GET", "/api/v1/info")
    assert info["authMode"] == "server" and "local" in info["artifactRepository"]
    doc = server.json("GET", "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/workflows/{namespace}", "/api/v1/workflows/{namespace}/{name}/log",
                 "/api/v1/workflows/{namespace}/submit", "/api/v1/workflows/{namespace}/{name}/retry",
                 "/artifact-files/{namespace}/{kind}/{name}/{nodeId}/{io}/{artifactName}/{path}",
                 "/artifacts/{namespace}/{name}/{nodeId}/{artifactName}", "/api/v1/workflow-templates/{namespace}/{name}"):
        assert path in doc["paths"], path
    assert set(doc["paths"]["/api/v1/workflows/{namespace}/{name}"]) == {"get", "delete"}


def test_list_filters_by_label_and_trims_fields(server: Running, seed: Seed) -> None:
    data = server.json("GET", "/api/v1/workflows/default")
    names = {w["metadata"]["name"] for w in data["items"]}
    assert {seed.report, seed.flaky} <= names
    assert all("nodes" not in (w.get("status") or {}) for w in data["items"])  # listings stay small
    only = server.json("GET", "/api/v1/workflows/default?listOptions.labelSelector=team%3Danalytics")
    assert [w["metadata"]["name"] for w in only["items"]] == [seed.report]
    failed = server.json("GET", "/api/v1/workflows/default?listOptions.labelSelector=workflows.argoproj.io/phase%20in%20(Failed)")
    assert [w["metadata"]["name"] for w in failed["items"]] == [seed.flaky]
    slim = server.json("GET", "/api/v1/workflows/?fields=items.metadata.name,items.status.phase")
    assert all(set(w) <= {"metadata", "status"} and set(w["metadata"]) == {"name"} for w in slim["items"])
    assert "metadata" not in slim  # fields not asked for are dropped, as Argo does
    page = server.json("GET", "/api/v1/workflows/default?listOptions.limit=1")
    assert len(page["items"]) == 1 and page["metadata"]["continue"] == "1"
    rest = server.json("GET", "/api/v1/workflows/default?listOptions.limit=1&listOptions.continue=1")
    assert rest["items"][0]["metadata"]["name"] != page["items"][0]["metadata"]["name"]
    status, _, body = server.get("/api/v1/workflows/default?listOptions.labelSelector=a%3D%3D%3Db")
    assert status == 400 and b"label selector" in body


def test_get_workflow_returns_nodes_and_unknown_is_404(server: Running, seed: Seed) -> None:
    wf = server.json("GET", f"/api/v1/workflows/default/{seed.report}")
    assert wf["status"]["phase"] == "Succeeded"
    assert {n["displayName"] for n in wf["status"]["nodes"].values()} >= {"extract", "clean", "enrich", "report"}
    body = server.json("GET", "/api/v1/workflows/default/nope-123", expect=404)
    assert body["code"] == 5 and "nope-123" in body["message"]
    server.json("GET", f"/api/v1/workflows/other-ns/{seed.report}", expect=404)
    status, _, _ = server.get("/api/v1/workflows/default/..%2f..%2fetc")
    assert status == 400


def test_create_runs_the_workflow_and_logs_come_back_as_argo_does(server: Running) -> None:
    name = create(server, HELLO)
    wait_for(lambda: phase(server, name) == "Succeeded", what=f"{name} to succeed")
    status, headers, body = server.get(f"/api/v1/workflows/default/{name}/log?logOptions.container=main")
    assert status == 200 and headers["content-type"] == "application/json"
    lines = [json.loads(x) for x in body.decode().splitlines() if x]
    assert lines == [{"result": {"content": "hello from the api", "podName": name}}]
    status, headers, body = server.get(f"/api/v1/workflows/default/{name}/log", headers={"Accept": "text/event-stream"})
    assert headers["content-type"] == "text/event-stream" and body.startswith(b"data: {\"result\"")


def test_create_rejects_invalid_workflows(server: Running) -> None:
    bad = {"metadata": {"generateName": "bad-"}, "spec": {"entrypoint": "missing", "templates": [{"name": "main", "container": {"image": "x"}}]}}
    body = server.json("POST", "/api/v1/workflows/default", {"workflow": bad}, expect=400)
    assert "missing" in body["message"]
    server.json("POST", "/api/v1/workflows/default", {"nope": 1}, expect=400)
    status, _, _ = server.request("POST", "/api/v1/workflows/default", b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400
    status, _, _ = server.request("POST", "/api/v1/workflows/default", json.dumps({"workflow": HELLO}).encode(), headers={"Content-Type": "text/plain"})
    assert status == 415  # a cross-site form cannot send JSON: no CSRF submits
    dry = server.json("POST", "/api/v1/workflows/default", {"workflow": HELLO, "serverDryRun": True})
    assert "uid" not in dry["metadata"]
    assert server.json("POST", "/api/v1/workflows/default/lint", {"workflow": HELLO})["spec"]["entrypoint"] == "main"


def test_submit_from_template_with_parameters(server: Running) -> None:
    body = {"resourceKind": "WorkflowTemplate", "resourceName": "greeter",
            "submitOptions": {"parameters": ["who=Ada", "lang=pt"], "labels": "origin=api"}}
    wf = server.json("POST", "/api/v1/workflows/default/submit", body)
    name = wf["metadata"]["name"]
    assert name.startswith("greeter-") and wf["metadata"]["labels"]["origin"] == "api"
    wait_for(lambda: phase(server, name) == "Succeeded", what="template run")
    _, _, logs = server.get(f"/api/v1/workflows/default/{name}/log")
    assert "hello Ada (pt)" in logs.decode()
    missing = server.json("POST", "/api/v1/workflows/default/submit", {"resourceKind": "WorkflowTemplate", "resourceName": "nope"}, expect=404)
    assert "nope" in missing["message"]
    server.json("POST", "/api/v1/workflows/default/submit", {"resourceKind": "Pod", "resourceName": "x"}, expect=400)


def test_templates_are_listed_and_fetched(server: Running) -> None:
    items = server.json("GET", "/api/v1/workflow-templates/default")["items"]
    assert [t["metadata"]["name"] for t in items] == ["greeter"]
    assert server.json("GET", "/api/v1/workflow-templates/default/greeter")["spec"]["entrypoint"] == "greet"
    server.json("GET", "/api/v1/workflow-templates/default/nope", expect=404)
    assert server.json("GET", "/api/v1/cluster-workflow-templates")["items"] == []


def test_follow_streams_a_running_step_until_the_workflow_ends(server: Running) -> None:
    name = create(server, TICKER)
    wait_for(lambda: phase(server, name) == "Running", what="running")
    lines: list[dict[str, Any]] = []
    done = threading.Event()

    def follow() -> None:
        import http.client

        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        conn.request("GET", f"/api/v1/workflows/default/{name}/log?logOptions.container=main&logOptions.follow=true&podName={name}")
        resp = conn.getresponse()
        for raw in resp:
            if raw.strip():
                lines.append(json.loads(raw))
        conn.close()
        done.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    wait_for(lambda: len(lines) >= 5, what="live log lines")
    assert not done.is_set()  # still following while the step runs
    assert [x["result"]["content"] for x in lines[:3]] == ["tick 0", "tick 1", "tick 2"]
    stopped = server.json("PUT", f"/api/v1/workflows/default/{name}/terminate", {})
    assert stopped["spec"]["shutdown"] == "Terminate"
    assert done.wait(30), "the log stream did not end with the workflow"
    assert phase(server, name) in ("Failed", "Error")


def test_stop_suspend_resume_and_conflicts(server: Running, seed: Seed) -> None:
    name = create(server, TICKER)
    wait_for(lambda: phase(server, name) == "Running", what="running")
    assert server.json("PUT", f"/api/v1/workflows/default/{name}/suspend", {})["spec"]["suspend"] is True
    resumed = server.json("PUT", f"/api/v1/workflows/default/{name}/resume", {})
    assert "suspend" not in resumed["spec"]
    assert server.json("PUT", f"/api/v1/workflows/default/{name}/stop", {})["spec"]["shutdown"] == "Stop"
    wait_for(lambda: phase(server, name) in ("Failed", "Error"), what="stopped workflow to end")
    body = server.json("PUT", f"/api/v1/workflows/default/{seed.report}/stop", {}, expect=409)
    assert "already completed" in body["message"]
    server.json("PUT", f"/api/v1/workflows/default/{seed.report}/retry", {}, expect=409)
    server.json("PUT", "/api/v1/workflows/default/nope/stop", {}, expect=404)


def test_retry_reruns_failed_steps_and_resubmit_makes_a_new_workflow(server: Running, seed: Seed) -> None:
    before = server.json("GET", f"/api/v1/workflows/default/{seed.flaky}")
    prepare = node_by_name(before, "prepare")
    retried = server.json("PUT", f"/api/v1/workflows/default/{seed.flaky}/retry", {})
    assert retried["status"]["phase"] == "Running"
    wait_for(lambda: phase(server, seed.flaky) == "Failed", what="retried workflow to fail again")
    after = server.json("GET", f"/api/v1/workflows/default/{seed.flaky}")
    assert node_by_name(after, "prepare")["finishedAt"] == prepare["finishedAt"]  # successful steps kept
    new = server.json("PUT", f"/api/v1/workflows/default/{seed.report}/resubmit", {"parameters": []})
    assert new["metadata"]["name"] != seed.report
    assert new["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"] == seed.report


def test_delete_removes_the_workflow(server: Running, seed: Seed) -> None:
    assert server.json("DELETE", f"/api/v1/workflows/default/{seed.flaky}?force=true") == {}
    server.json("GET", f"/api/v1/workflows/default/{seed.flaky}", expect=404)
    server.json("DELETE", f"/api/v1/workflows/default/{seed.flaky}", expect=404)


def test_logs_of_one_pod_and_unknown_pods(server: Running, seed: Seed) -> None:
    wf = server.json("GET", f"/api/v1/workflows/default/{seed.report}")
    node = node_by_name(wf, "report")
    _, _, body = server.get(f"/api/v1/workflows/default/{seed.report}/log?podName={node['id']}")
    contents = [json.loads(x)["result"]["content"] for x in body.decode().splitlines()]
    assert contents == ["step 1 of the report", "step 2 of the report", "step 3 of the report"]
    _, _, grep = server.get(f"/api/v1/workflows/default/{seed.report}/log?grep=step%202")
    assert [json.loads(x)["result"]["content"] for x in grep.decode().splitlines()] == ["step 2 of the report"]
    status, _, _ = server.get(f"/api/v1/workflows/default/{seed.report}/log?podName=nope")
    assert status == 404
    _, _, tail = server.get(f"/api/v1/workflows/default/{seed.report}/log?podName={node['id']}&logOptions.tailLines=1")
    assert [json.loads(x)["result"]["content"] for x in tail.decode().splitlines()] == ["step 3 of the report"]


def test_events_and_watch(server: Running, seed: Seed) -> None:
    assert "items" in server.json("GET", f"/api/v1/workflows/default/{seed.report}/events")
    import http.client

    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", f"/api/v1/workflow-events/default?listOptions.fieldSelector=metadata.name={seed.report}")
    resp = conn.getresponse()
    first = json.loads(resp.readline())
    conn.close()
    assert first["result"]["type"] == "ADDED" and first["result"]["object"]["metadata"]["name"] == seed.report
    assert "nodes" in first["result"]["object"]["status"]  # watching one workflow gives it whole


def test_routing_errors_and_cross_origin_writes(server: Running, seed: Seed) -> None:
    assert server.get("/api/v1/nope")[0] == 404
    status, headers, _ = server.request("PATCH", f"/api/v1/workflows/default/{seed.report}")
    assert status == 405 and "GET" in headers["allow"]
    status, _, body = server.request("DELETE", f"/api/v1/workflows/default/{seed.report}", headers={"Origin": "http://evil.example"})
    assert status == 403 and b"cross-origin" in body
    status, _, _ = server.get("/api/v1/version", headers={"Host": "evil.example:2746"})
    assert status == 403  # DNS rebinding: a loopback server answers only loopback names
    status, headers, body = server.get("/workflows/default/x")  # UI routes serve the app
    assert status == 200 and headers["content-type"].startswith("text/html") and b"app.js" in body
    assert server.get("/static/app.js")[0] == 200 and server.get("/static/../api.py")[0] in (400, 404)

