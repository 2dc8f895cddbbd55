"""Resource templates: Argo's condition syntax, jsonPath/jqFilter outputs, and every action against the API.

The actions run in-process here against the fake API server (the pod that runs them is covered
end to end in test_e2e.py); the seeds' Kubernetes manifests (CronTab CRD, Jobs, a batch/v1beta1
CronJob, a Deployment and a Service) are the objects acted on.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from argosy.pipeline.kube.resource import (
    ConditionError,
    Requirement,
    evaluate_conditions,
    jq_filter,
    kube_jsonpath,
    parse_condition,
    run_resource,
)
from argosy.pipeline.model import Template

from .conftest import seed
from .test_e2e import _seed_yaml

CRONTAB_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}
OWNER = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": "wf", "uid": "wf-uid", "controller": True,
         "blockOwnerDeletion": True}


@pytest.mark.parametrize(("text", "reqs"), [
    pytest.param("status.succeeded > 0", [Requirement("status.succeeded", ">", ("0",))], id="gt"),
    pytest.param("status.failed > 0", [Requirement("status.failed", ">", ("0",))], id="seed-failure"),
    pytest.param("status.phase in (Failed, Error),metadata.name", [Requirement("status.phase", "in", ("Failed", "Error")),
                                                                   Requirement("metadata.name", "exists")], id="in-and-exists"),
    pytest.param("status.phase != Running", [Requirement("status.phase", "!=", ("Running",))], id="ne"),
    pytest.param("status.phase==Done,!status.error", [Requirement("status.phase", "==", ("Done",)), Requirement("status.error", "!exists")], id="eq-notexists"),
    pytest.param("status.count<3", [Requirement("status.count", "<", ("3",))], id="lt"),
    pytest.param("status.phase notin (A)", [Requirement("status.phase", "notin", ("A",))], id="notin"),
])
def test_parse_condition(text: str, reqs: list[Requirement]) -> None:
    assert parse_condition(text) == reqs


@pytest.mark.parametrize("text", ["status.x > abc", "status.phase in ()", "a,,b", "status.phase in Failed", "bad key!=x"])
def test_parse_condition_errors(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


OBJ = {"metadata": {"name": "j"}, "status": {"succeeded": 1, "failed": 0, "phase": "Running", "ready": True,
                                             "conditions": [{"type": "Complete"}]}}


@pytest.mark.parametrize(("success", "failure", "expected"), [
    pytest.param("status.succeeded > 0", "status.failed > 0", ("Succeeded", None), id="seed-job-succeeded"),
    pytest.param("status.succeeded > 1", "status.failed > 0", (None, None), id="keep-waiting"),
    pytest.param("status.succeeded > 0", "status.phase in (Running)", ("Failed", "failure condition 'status.phase in (Running)' evaluated true"),
                 id="failure-first"),
    pytest.param("status.ready=true,status.conditions.0.type=Complete", "", ("Succeeded", None), id="bool-and-index"),
    pytest.param("status.missing > 0", "", (None, None), id="missing-gt-false"),
    pytest.param("status.phase!=Pending", "status.missing", ("Succeeded", None), id="missing-exists-false"),
])
def test_evaluate_conditions(success: str, failure: str, expected: tuple[str | None, str | None]) -> None:
    s = parse_condition(success) if success else []
    f = parse_condition(failure) if failure else []
    assert evaluate_conditions(OBJ, s, f) == expected
    assert str(parse_condition("status.failed > 0")[0]) == "status.failed>0"  # Kubernetes' String() form


@pytest.mark.parametrize(("template", "expected"), [
    pytest.param("{.metadata.name}", "j", id="name"),
    pytest.param("{.status.succeeded}", "1", id="number"),
    pytest.param("{.status.conditions[0].type}", "Complete", id="index"),
    pytest.param("{.status.conditions[*].type}", "Complete", id="wildcard"),
    pytest.param("name={.metadata.name}/{.status.phase}", "name=j/Running", id="text"),
    pytest.param(".metadata.name", "j", id="no-braces"),
    pytest.param("{.status.conditions}", '[{"type":"Complete"}]', id="json"),
])
def test_kube_jsonpath(template: str, expected: str) -> None:
    assert kube_jsonpath(OBJ, template) == expected


@pytest.mark.parametrize(("flt", "expected"), [
    pytest.param(".", '{"metadata":{"name":"j"},"status":{"conditions":[{"type":"Complete"}],"failed":0,"phase":"Running","ready":true,"succeeded":1}}', id="identity"),
    pytest.param(".metadata.name", "j", id="string-raw"),
    pytest.param(".status.conditions[0]", '{"type":"Complete"}', id="index"),
    pytest.param(".status.conditions[].type", "Complete", id="iterate"),
    pytest.param(".status | keys", '["conditions","failed","phase","ready","succeeded"]', id="pipe-keys"),
    pytest.param(".status.conditions | length", "1", id="length"),
    pytest.param(".metadata.name, .status.phase", "j\nRunning", id="comma"),
    pytest.param('.status.conditions[] | select(.type == "Complete") | .type', "Complete", id="select"),
])
def test_jq_filter(flt: str, expected: str) -> None:
    assert jq_filter(OBJ, flt) == expected


def _tmpl(resource: dict[str, Any], outputs: dict[str, Any] | None = None) -> Template:
    return Template.model_validate({"name": "r", "resource": resource, **({"outputs": outputs} if outputs else {})})


def test_seed_crontab_without_name_fails_like_kubectl(kube: Any) -> None:
    """Seed 000's CronTab manifest has neither name nor generateName: the API refuses it (422)."""
    kube.apply(CRONTAB_CRD)
    doc = seed("000-k8s-create-crd")[0]
    tmpl = Template.model_validate(doc["spec"]["templates"][0])
    assert tmpl.resource is not None
    result = run_resource(kube.client(), tmpl, tmpl.resource.manifest or "", "default", owner=OWNER)
    assert result.phase == "Failed"
    assert "metadata.name: Required value: name or generateName is required" in (result.message or "")


def test_seed_crontab_conditions_succeed_and_fail(kube: Any) -> None:
    """Seed 000's success/failure conditions on a CronTab whose status something else sets."""
    kube.apply(CRONTAB_CRD)
    doc = seed("000-k8s-create-crd-conditions")[0]
    res = dict(doc["spec"]["templates"][0]["resource"])
    api = kube.client()
    verdicts = {}
    for outcome, status in (("ok", {"succeeded": 1}), ("bad", {"failed": 2})):
        manifest = res["manifest"].replace("kind: CronTab", f"kind: CronTab\nmetadata:\n  name: tab-{outcome}")
        tmpl = _tmpl({**res, "manifest": manifest}, {"parameters": [{"name": "n", "valueFrom": {"jsonPath": "{.metadata.name}"}}]})

        def controller(name: str = f"tab-{outcome}", status: dict[str, Any] = status) -> None:
            kube.wait_for(lambda: kube.get("stable.example.com/v1", "CronTab", name), 10, "the CronTab")
            kube.set_status("stable.example.com/v1", "CronTab", name, status)

        thread = threading.Thread(target=controller)
        thread.start()
        result = run_resource(api, tmpl, manifest, "default", owner=OWNER)
        thread.join()
        verdicts[outcome] = (result.phase, result.message, result.outputs)
        created = kube.get("stable.example.com/v1", "CronTab", f"tab-{outcome}")
        assert created["metadata"]["ownerReferences"] == [OWNER]
    assert verdicts["ok"] == ("Succeeded", None, {"parameters": [{"name": "n", "value": "tab-ok"}]})
    assert verdicts["bad"][:2] == ("Failed", "failure condition 'status.failed>0' evaluated true")


def test_go_client_seed_job_with_parameters(kube: Any) -> None:
    """Seed 000's Go example: a Job per task, created with generateName and the task's message."""
    job = """apiVersion: batch/v1
kind: Job
metadata:
  generateName: job-
spec:
  template:
    spec:
      containers:
      - name: main
        image: busybox
        command: [echo, "my name is A"]
      restartPolicy: Never
"""
    tmpl = _tmpl({"action": "create", "setOwnerReference": True, "manifest": job, "successCondition": "status.succeeded > 0"},
                 {"parameters": [{"name": "name", "valueFrom": {"jqFilter": ".metadata.name"}},
                                 {"name": "cmd", "valueFrom": {"jsonPath": "{.spec.template.spec.containers[0].command[1]}"}}]})
    result = run_resource(kube.client(), tmpl, job, "default", owner=OWNER)
    assert result.phase == "Succeeded"
    params = {p["name"]: p["value"] for p in result.outputs["parameters"]}
    assert params["name"].startswith("job-") and params["cmd"] == "my name is A"
    kube.kubelet.job_failures.add("failing-job")
    failing = job.replace("generateName: job-", "name: failing-job")
    verdict = run_resource(kube.client(), _tmpl({"action": "create", "manifest": failing, "successCondition": "status.succeeded > 0",
                                                  "failureCondition": "status.failed > 0"}), failing, "default")
    assert (verdict.phase, verdict.message) == ("Failed", "failure condition 'status.failed>0' evaluated true")


def test_apply_replace_patch_get_delete(kube: Any) -> None:
    """Seed 003's Service and Deployment (argo-server) and its batch/v1beta1 CronJob through every action."""
    api = kube.client()
    docs = _seed_yaml("003_41b264c4db066fc9.txt", "kind: Service") + _seed_yaml("003_41b264c4db066fc9.txt", "kind: Deployment")
    cronjob = _seed_yaml("003_41b264c4db066fc9.txt", "kind: CronJob")[0]
    import yaml

    kube.server.ensure_namespace("argo")
    kube.server.ensure_namespace("modules")
    for doc in [*docs, cronjob]:
        text = yaml.safe_dump(doc)
        applied = run_resource(api, _tmpl({"action": "apply", "manifest": text}), text, "default")
        assert applied.phase == "Succeeded", applied.message
        again = run_resource(api, _tmpl({"action": "apply", "manifest": text}), text, "default")
        assert again.phase == "Succeeded"
        ns = doc["metadata"].get("namespace", "default")
        live = kube.get(doc["apiVersion"], doc["kind"], doc["metadata"]["name"], ns)
        assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]
    svc = yaml.safe_dump(docs[0])
    create_again = run_resource(api, _tmpl({"action": "create", "manifest": svc}), svc, "default")
    assert create_again.phase == "Failed" and 'services "argo-server" already exists' in (create_again.message or "")
    patch = "apiVersion: v1\nkind: Service\nmetadata:\n  name: argo-server\n  namespace: argo\n  labels: {patched: 'yes'}\n"
    assert run_resource(api, _tmpl({"action": "patch", "manifest": patch}), patch, "default").phase == "Succeeded"
    assert kube.get("v1", "Service", "argo-server", "argo")["metadata"]["labels"] == {"patched": "yes"}
    merge = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: cronjob-instantsearch, namespace: modules}\nspec: {suspend: true}\n"
    assert run_resource(api, _tmpl({"action": "patch", "mergeStrategy": "merge", "manifest": merge}), merge, "default").phase == "Succeeded"
    assert kube.get("batch/v1beta1", "CronJob", "cronjob-instantsearch", "modules")["spec"]["suspend"] is True
    jpatch = '[{"op": "replace", "path": "/spec/schedule", "value": "*/5 * * * *"}]'
    jres = run_resource(api, _tmpl({"action": "patch", "mergeStrategy": "json", "flags": ["cronjobs", "cronjob-instantsearch"],
                                    "manifest": jpatch}), jpatch, "modules")
    assert jres.phase == "Succeeded", jres.message
    assert kube.get("batch/v1beta1", "CronJob", "cronjob-instantsearch", "modules")["spec"]["schedule"] == "*/5 * * * *"
    got = run_resource(api, _tmpl({"action": "get", "manifest": svc}, {"parameters": [{"name": "port", "valueFrom": {"jsonPath": "{.spec.ports[0].port}"}}]}),
                       svc, "default")
    assert got.outputs == {"parameters": [{"name": "port", "value": "2746"}]}
    dep = yaml.safe_dump(docs[1])
    replaced = run_resource(api, _tmpl({"action": "replace", "manifest": dep}), dep, "default")
    assert replaced.phase == "Succeeded"
    for doc in (docs[0], cronjob):
        text = yaml.safe_dump(doc)
        assert run_resource(api, _tmpl({"action": "delete", "manifest": text}), text, "default").phase == "Succeeded"
        assert kube.get(doc["apiVersion"], doc["kind"], doc["metadata"]["name"], doc["metadata"]["namespace"]) is None
        # deleting what is gone is fine (kubectl delete --ignore-not-found)
        assert run_resource(api, _tmpl({"action": "delete", "manifest": text}), text, "default").phase == "Succeeded"


def test_strategic_patch_on_custom_resource_is_refused(kube: Any) -> None:
    kube.apply(CRONTAB_CRD)
    kube.apply({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "t"}, "spec": {"a": 1}})
    patch = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: t}\nspec: {b: 2}\n"
    refused = run_resource(kube.client(), _tmpl({"action": "patch", "manifest": patch}), patch, "default")
    assert refused.phase == "Failed" and "UnsupportedMediaType" in (refused.message or "")
    merged = run_resource(kube.client(), _tmpl({"action": "patch", "mergeStrategy": "merge", "manifest": patch}), patch, "default")
    assert merged.phase == "Succeeded"
    assert kube.get("stable.example.com/v1", "CronTab", "t")["spec"] == {"a": 1, "b": 2}


def test_object_deleted_while_waiting(kube: Any) -> None:
    kube.apply(CRONTAB_CRD)
    manifest = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: doomed}\n"

    def delete_it() -> None:
        kube.wait_for(lambda: kube.get("stable.example.com/v1", "CronTab", "doomed"), 10, "the CronTab")
        kube.server.delete(kube.rd("stable.example.com/v1", "CronTab"), "default", "doomed")

    thread = threading.Thread(target=delete_it)
    thread.start()
    result = run_resource(kube.client(), _tmpl({"action": "create", "manifest": manifest, "successCondition": "status.done"}),
                          manifest, "default")
    thread.join()
    assert result.phase == "Failed"
    assert (result.message or "").startswith("The resource has been deleted while its status was still being checked")
