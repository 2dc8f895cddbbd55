"""Workflows through ``argosy --kubeconfig ... submit`` on a real cluster, one case per test.

Every step runs in the e2e image (``localize``), so nothing is pulled from a registry. Each test
asserts on what the cluster itself shows (the Workflow object's status, pods, logs, S3 objects,
Jobs), not on what the CLI prints.
"""

from __future__ import annotations

import copy
import io
import tarfile
from datetime import datetime
from typing import Any

import pytest
import yaml

from .conftest import HostServices, Kube, nodes, outputs, seed

pytestmark = pytest.mark.slow


def _loc(kube: Kube, wf: dict[str, Any] | str) -> dict[str, Any]:
    from .conftest import localize

    return localize(copy.deepcopy(wf) if isinstance(wf, dict) else wf, kube.s)


def _ts(text: str | None) -> float:
    assert text, "missing timestamp"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------------------------ DAG diamond


def test_dag_diamond(ns: Kube) -> None:
    """Seed 000's diamond (A -> B,C -> D). The post never defines its ``echo`` template, so the verbatim
    seed must be refused at submit; with ``echo`` added it runs as four Argo-shaped pods in order."""
    kube = ns
    verbatim = seed("000-dag-diamond")
    r = kube.argosy("submit", str(_write(kube, verbatim)), "-n", kube.ns, check=False)
    assert r.returncode != 0 and "echo" in (r.stdout + r.stderr), f"the seed's undefined template was not refused: {r}"

    wf = copy.deepcopy(verbatim)
    wf["spec"]["templates"].append({"name": "echo", "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["echo diamond {{pod.name}}"]}})
    final = kube.run(_loc(kube, wf))
    n = nodes(final)
    for task in "ABCD":
        assert n[task]["phase"] == "Succeeded", n[task]
    assert _ts(n["B"]["startedAt"]) >= _ts(n["A"]["finishedAt"]) - 1
    assert _ts(n["C"]["startedAt"]) >= _ts(n["A"]["finishedAt"]) - 1
    assert _ts(n["D"]["startedAt"]) >= max(_ts(n["B"]["finishedAt"]), _ts(n["C"]["finishedAt"])) - 1

    pod = kube.pod_for(final, "D")
    assert [c.name for c in pod.spec.init_containers] == ["init"]
    assert [c.name for c in pod.spec.containers] == ["wait", "main"]
    assert pod.metadata.labels["workflows.argoproj.io/completed"] == "true"
    owner = pod.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid) == ("Workflow", final["metadata"]["name"], final["metadata"]["uid"])
    assert "diamond" in kube.logs(pod.metadata.name)
    # the CLI reads the same cluster
    listed = kube.argosy("list", "-n", kube.ns).stdout
    assert final["metadata"]["name"] in listed


def _write(kube: Kube, wf: dict[str, Any]) -> Any:
    path = kube.workdir / f"{wf['metadata'].get('generateName', 'wf')}seed.yaml"
    path.write_text(yaml.safe_dump(wf, sort_keys=False))
    return path


# ------------------------------------------------------------------------------------ parameters


def test_producer_consumer_parameters(ns: Kube) -> None:
    """Seed 000's producer/consumer: an output parameter from a file feeds the next pod's argument.
    It runs as the seed's ``argo-workflow-account`` (bound to configs' argosy-executor Role)."""
    kube = ns
    final = kube.run(_loc(kube, seed("000-producer-consumer")))
    n = nodes(final)
    assert outputs(n["producer-message"]) == {"message": "hello world"}
    consumer = kube.pod_for(final, "consumer-message")
    assert consumer.spec.service_account_name == "argo-workflow-account"
    assert kube.logs(consumer.metadata.name).strip() == "hello world"


# ------------------------------------------------------------------------------------ artifacts through S3

ARTIFACTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: artifacts-ARCHIVE-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: produce, template: produce}
    - - name: consume
        template: consume
        arguments:
          artifacts:
          - {name: file, from: "{{steps.produce.outputs.artifacts.file}}"}
          - {name: dir, from: "{{steps.produce.outputs.artifacts.dir}}"}
  - name: produce
    container:
      image: E2E_IMAGE
      command: [sh, -c]
      args: ["mkdir -p /tmp/out/dir/sub && echo file-content > /tmp/out/file.txt && echo a > /tmp/out/dir/a.txt && echo b > /tmp/out/dir/sub/b.txt"]
    outputs:
      artifacts:
      - {name: file, path: /tmp/out/file.txt}
      - {name: dir, path: /tmp/out/dir}
  - name: consume
    inputs:
      artifacts:
      - {name: file, path: /tmp/in/file.txt}
      - {name: dir, path: /tmp/in/dir}
    container:
      image: E2E_IMAGE
      command: [sh, -c]
      args: ["test \\"$(cat /tmp/in/file.txt)\\" = file-content && test \\"$(cat /tmp/in/dir/a.txt)\\" = a && test \\"$(cat /tmp/in/dir/sub/b.txt)\\" = b && echo verified"]
"""

ARCHIVES: dict[str, dict[str, Any] | None] = {"tgz": None, "none": {"none": {}}, "zstd": {"zstd": {}}}


@pytest.mark.parametrize("archive", list(ARCHIVES))
def test_artifacts(ns: Kube, host_services: HostServices, archive: str) -> None:
    """A file and a directory cross pods through S3 (moto on the node's address), archived tgz/none/zstd."""
    s3 = host_services.need_s3()
    kube = ns
    wf = _loc(kube, ARTIFACTS.replace("ARCHIVE", archive))
    if ARCHIVES[archive] is not None:
        for art in wf["spec"]["templates"][1]["outputs"]["artifacts"]:
            art["archive"] = ARCHIVES[archive]
    final = kube.run(wf)
    n = nodes(final)
    assert "verified" in kube.logs(kube.pod_for(final, "consume").metadata.name)
    arts = {a["name"]: a for a in n["produce"]["outputs"]["artifacts"]}
    present = s3.list_keys()
    for name in ("file", "dir"):
        key = arts[name]["s3"]["key"]
        assert key in present or any(k.startswith(key.rstrip("/") + "/") for k in present), (name, key, present)
    file_key = arts["file"]["s3"]["key"]
    if archive == "none":
        assert s3.get(file_key) == b"file-content\n"
        dir_key = arts["dir"]["s3"]["key"].rstrip("/")
        assert s3.get(f"{dir_key}/sub/b.txt") == b"b\n"
    elif archive == "tgz":
        with tarfile.open(fileobj=io.BytesIO(s3.get(file_key)), mode="r:gz") as t:
            assert [m.name for m in t.getmembers() if m.isfile()] == ["file.txt"]
    else:
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(s3.get(file_key))).read()
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as t:
            assert [m.name for m in t.getmembers() if m.isfile()] == ["file.txt"]


# ------------------------------------------------------------------------------------ git and http inputs

GIT_HTTP = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: git-http-}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts:
      - name: src
        path: /src
        git: {repo: GIT_URL, revision: main, depth: 1}
      - name: page
        path: /tmp/page.txt
        http: {url: HTTP_URL/page.txt}
    container:
      image: E2E_IMAGE
      command: [sh, -c]
      args: ["cat /src/README.md /src/data/numbers.txt /tmp/page.txt"]
"""


def test_git_and_http_inputs(ns: Kube, host_services: HostServices) -> None:
    """Input artifacts from a git server (git daemon, shallow clone) and an HTTP server on the node's address."""
    host_services.need_host()
    kube = ns
    text = GIT_HTTP.replace("GIT_URL", str(host_services.git_url)).replace("HTTP_URL", str(host_services.http_url))
    final = kube.run(_loc(kube, text))
    log = kube.logs(kube.pod_for(final, final["metadata"]["name"]).metadata.name)
    assert log.split() == ["argosy", "e2e", "repository", "1", "2", "3", "served", "over", "http"], log


# ------------------------------------------------------------------------------------ script templates

SCRIPTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: scripts-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: py, template: py}
      - {name: sh, template: sh}
    - - name: print
        template: print
        arguments:
          parameters:
          - {name: message, value: "py={{steps.py.outputs.result}} sh={{steps.sh.outputs.result}}"}
  - name: py
    script:
      image: E2E_IMAGE
      command: [python3]
      source: |
        import json, sys
        print(json.dumps({"sum": sum(range(10)), "py": sys.version_info[0]}))
  - name: sh
    script:
      image: E2E_IMAGE
      command: [sh]
      source: |
        x=20; echo $((x + 1))
  - name: print
    inputs: {parameters: [{name: message}]}
    container:
      image: E2E_IMAGE
      command: [echo, "{{inputs.parameters.message}}"]
"""


def test_script_template(ns: Kube) -> None:
    """Script templates (python3 and sh): the source is staged by init, ``outputs.result`` is stdout."""
    kube = ns
    final = kube.run(_loc(kube, SCRIPTS))
    n = nodes(final)
    assert n["py"]["outputs"]["result"] == '{"sum": 45, "py": 3}'
    assert n["sh"]["outputs"]["result"] == "21"
    assert kube.logs(kube.pod_for(final, "print").metadata.name).strip() == 'py={"sum": 45, "py": 3} sh=21'


# ------------------------------------------------------------------------------------ when


def test_when(ns: Kube) -> None:
    """Seed 000's conditional execution: ``when`` on the producer's result runs one consumer, skips the other."""
    kube = ns
    final = kube.run(_loc(kube, seed("000-conditional-execution")))
    n = nodes(final)
    assert n["producer-message"]["outputs"]["result"] == "hello"
    assert n["consumer-execute"]["phase"] == "Succeeded"
    assert n["consumer-noexecute"]["phase"] == "Skipped"
    executed = {(p.metadata.annotations or {}).get("workflows.argoproj.io/node-name", "") for p in kube.pods(final["metadata"]["name"])}
    assert not any(name.endswith(".consumer-noexecute") for name in executed), executed


# ------------------------------------------------------------------------------------ loops

LOOPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: loops-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: items
        template: echo
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withItems: [a, b]
      - name: params
        template: echo
        arguments: {parameters: [{name: v, value: "{{item.n}}"}]}
        withParam: "{{steps.gen.outputs.result}}"
  - name: gen
    script:
      image: E2E_IMAGE
      command: [python3]
      source: |
        import json; print(json.dumps([{"n": i} for i in range(3)]))
  - name: echo
    inputs: {parameters: [{name: v}]}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo item={{inputs.parameters.v}}"]
"""


def test_loop(ns: Kube) -> None:
    """``withItems`` and ``withParam`` (from a script's JSON result) fan out one pod per item."""
    kube = ns
    final = kube.run(_loc(kube, LOOPS))
    n = nodes(final)
    fanned = sorted(k for k, v in n.items() if v.get("type") == "Pod" and (k.startswith("items(") or k.startswith("params(")))
    assert len(fanned) == 5, sorted(n)
    assert all(n[k]["phase"] == "Succeeded" for k in fanned)
    logs = sorted(kube.logs(kube.pod_for(final, k).metadata.name).strip() for k in fanned)
    assert logs == ["item=0", "item=1", "item=2", "item=a", "item=b"]


# ------------------------------------------------------------------------------------ failing steps, retries

RETRY = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: retry-}
spec:
  entrypoint: TARGET
  templates:
  - name: flaky
    retryStrategy: {limit: "2"}
    container:
      image: E2E_IMAGE
      command: [sh, -c]
      args: ["if [ {{retries}} -lt 2 ]; then echo attempt {{retries}} fails; exit 1; fi; echo ok on attempt {{retries}}"]
  - name: always-fails
    retryStrategy: {limit: 1}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo failing; exit 3"]
"""


def test_failing_step_with_retries(ns: Kube) -> None:
    """``retryStrategy``: a step failing twice succeeds on its third pod; one that always fails ends Failed after limit+1 pods."""
    kube = ns
    flaky = kube.run(_loc(kube, RETRY.replace("TARGET", "flaky")))
    n = nodes(flaky)
    attempts = sorted((v for v in n.values() if v.get("type") == "Pod"), key=lambda v: v["displayName"])
    assert [a["phase"] for a in attempts] == ["Failed", "Failed", "Succeeded"], [(a["displayName"], a["phase"]) for a in attempts]
    assert len(kube.pods(flaky["metadata"]["name"])) == 3

    failed = kube.run(_loc(kube, RETRY.replace("TARGET", "always-fails")), expect="Failed")
    pods = [v for v in nodes(failed).values() if v.get("type") == "Pod"]
    assert len(pods) == 2 and all(p["phase"] == "Failed" for p in pods), pods
    assert all("exit code 3" in (p.get("message") or "") for p in pods), [p.get("message") for p in pods]


# ------------------------------------------------------------------------------------ resource template

RESOURCE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: resource-}
spec:
  entrypoint: job
  serviceAccountName: argo-workflow-account
  templates:
  - name: job
    resource:
      action: create
      setOwnerReference: true
      successCondition: status.succeeded > 0
      failureCondition: status.failed > 0
      manifest: |
        apiVersion: batch/v1
        kind: Job
        metadata:
          generateName: e2e-job-
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: c
                image: E2E_IMAGE
                imagePullPolicy: E2E_PULL
                command: [sh, -c, "sleep 2; echo job-JOBEXIT; exit JOBEXIT"]
    outputs:
      parameters:
      - name: job-name
        valueFrom: {jsonPath: "{.metadata.name}"}
"""


def test_resource_job(ns: Kube) -> None:
    """A resource template creates a Job owned by the workflow (``setOwnerReference``) and waits for
    ``successCondition``; a failing Job trips ``failureCondition``; deleting the workflow deletes its Job."""
    kube = ns
    final = kube.run(_loc(kube, RESOURCE.replace("JOBEXIT", "0")))
    name = final["metadata"]["name"]
    job_name = outputs(nodes(final)[name])["job-name"]
    job = kube.batch.read_namespaced_job(job_name, kube.ns)
    assert job.status.succeeded == 1
    owner = job.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Workflow", name, final["metadata"]["uid"], True)

    failed = kube.run(_loc(kube, RESOURCE.replace("JOBEXIT", "1")), expect="Failed")
    msg = nodes(failed)[failed["metadata"]["name"]].get("message") or ""
    assert "failure condition" in msg and "status.failed" in msg, msg

    kube.argosy("delete", name, "-n", kube.ns)

    def job_gone() -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            kube.batch.read_namespaced_job(job_name, kube.ns)
            return False
        except ApiException as exc:
            return exc.status == 404

    kube.wait_for(f"Job {job_name} to be garbage-collected with its workflow", job_gone, 120)


# ------------------------------------------------------------------------------------ podSpecPatch

PATCHED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: podspecpatch-}
spec:
  entrypoint: main
  podSpecPatch: '{"containers":[{"name":"main","env":[{"name":"FROM_WF_PATCH","value":"wf-level"}]}]}'
  templates:
  - name: main
    podSpecPatch: |
      containers:
      - name: main
        resources: {limits: {memory: 300Mi}}
      initContainers:
      - name: init
        resources: {limits: {memory: 600Mi}}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo patched=$FROM_WF_PATCH"]
"""


def test_pod_spec_patch(ns: Kube) -> None:
    """Workflow- and template-level ``podSpecPatch`` (JSON and YAML) reach the real pod spec."""
    kube = ns
    final = kube.run(_loc(kube, PATCHED))
    pod = kube.pod_for(final, final["metadata"]["name"])
    main = next(c for c in pod.spec.containers if c.name == "main")
    init = next(c for c in pod.spec.init_containers if c.name == "init")
    assert main.resources.limits["memory"] == "300Mi"
    assert init.resources.limits["memory"] == "600Mi"
    assert kube.logs(pod.metadata.name).strip() == "patched=wf-level"


# ------------------------------------------------------------------------------------ service accounts and RBAC

OUTPUT_PARAM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: rbac-}
spec:
  entrypoint: main
  serviceAccountName: ACCOUNT
  templates:
  - name: main
    container:
      image: E2E_IMAGE
      command: [sh, -c, "echo -n from-a-minimal-account > /tmp/out"]
    outputs:
      parameters:
      - name: out
        valueFrom: {path: /tmp/out}
"""


def test_service_account_least_privilege(ns: Kube) -> None:
    """Pods run as the workflow's ``serviceAccountName``; configs' argosy-executor Role alone is enough to
    report outputs; an account without it fails with Argo's "verify serviceaccount" message."""
    kube = ns
    final = kube.run(_loc(kube, OUTPUT_PARAM.replace("ACCOUNT", "argosy-e2e-minimal")))
    name = final["metadata"]["name"]
    assert outputs(nodes(final)[name]) == {"out": "from-a-minimal-account"}
    pod = kube.pod_for(final, name)
    assert pod.spec.service_account_name == "argosy-e2e-minimal"

    denied = kube.run(_loc(kube, OUTPUT_PARAM.replace("ACCOUNT", "argosy-e2e-norights")), expect=("Failed", "Error"))
    node = nodes(denied)[denied["metadata"]["name"]]
    assert "argosy-e2e-norights" in (node.get("message") or "") and "privileges" in (node.get("message") or ""), node.get("message")


# ------------------------------------------------------------------------------------ sidecars, volumes, failures

SIDECAR = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sidecar-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: with-sidecar}
      - {name: b, template: with-sidecar}
      - {name: c, template: with-sidecar}
  - name: with-sidecar
    sidecars:
    - name: helper
      image: E2E_IMAGE
      command: [sh, -c, "echo helper up > /shared/ready; sleep 3600"]
      mirrorVolumeMounts: true
    volumes:
    - {name: shared, emptyDir: {}}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "while [ ! -f /shared/ready ]; do sleep 0.2; done; cat /shared/ready"]
      volumeMounts:
      - {name: shared, mountPath: /shared}
"""


def test_sidecar(ns: Kube) -> None:
    """A long-running sidecar is stopped once main ends (the real kubelet then records it as killed,
    exit 143/137, and the pod's phase becomes Failed); as in Argo that is not a failure: the step
    Succeeds. Three pods, because whether the sidecar or the wait container ends last is a race."""
    kube = ns
    final = kube.run(_loc(kube, SIDECAR), timeout=240)
    for task in "abc":
        pod = kube.pod_for(final, task)
        assert kube.logs(pod.metadata.name).strip() == "helper up"


VOLUMES = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: volumes-}
spec:
  entrypoint: main
  volumes:
  - {name: work, emptyDir: {}}
  templates:
  - name: main
    inputs:
      artifacts:
      - name: raw
        path: /work/in/raw.txt
        raw: {data: "raw input\\n"}
    container:
      image: E2E_IMAGE
      command: [sh, -c, "cat /work/in/raw.txt && tr a-z A-Z < /work/in/raw.txt > /work/out.txt"]
      volumeMounts:
      - {name: work, mountPath: /work}
    outputs:
      parameters:
      - name: upper
        valueFrom: {path: /work/out.txt}
"""


def test_volume_paths(ns: Kube) -> None:
    """An input artifact whose path lies under a user volume is written into that volume (init sees it at
    /mainctrfs); an output parameter is read from a path on that volume."""
    kube = ns
    final = kube.run(_loc(kube, VOLUMES))
    name = final["metadata"]["name"]
    assert outputs(nodes(final)[name]) == {"upper": "RAW INPUT"}
    assert kube.logs(kube.pod_for(final, name).metadata.name).strip() == "raw input"


FAILURES = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: failures-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: oom, template: oom}
      - {name: deadline, template: deadline}
  - name: oom
    container:
      image: E2E_IMAGE
      command: [python3, -c, "x = bytearray(400 * 1024 * 1024); print(len(x))"]
      resources: {limits: {memory: 64Mi}}
  - name: deadline
    activeDeadlineSeconds: 20
    container:
      image: E2E_IMAGE
      command: [sleep, "300"]
"""


def test_failure_messages(ns: Kube) -> None:
    """What the real kubelet reports reads as Argo's node messages: OOMKilled, activeDeadlineSeconds."""
    kube = ns
    final = kube.run(_loc(kube, FAILURES), expect="Failed", timeout=240)
    n = nodes(final)
    assert n["oom"]["phase"] == "Failed" and "OOMKilled (exit code 137)" in (n["oom"].get("message") or ""), n["oom"]
    assert n["deadline"]["phase"] == "Failed", n["deadline"]
    assert "longer than the specified deadline" in (n["deadline"].get("message") or ""), n["deadline"]


MISSING_SECRET = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: stuck-}
spec:
  entrypoint: main
  volumes: [{name: creds, secret: {secretName: created-later}}]
  templates:
  - name: main
    container:
      image: E2E_IMAGE
      command: [cat, /creds/token]
      volumeMounts: [{name: creds, mountPath: /creds}]
"""


def test_missing_secret_is_reported_then_the_step_runs(ns: Kube) -> None:
    """Found here, not on the fake: a pod whose Secret volume is missing stays PodInitializing with
    nothing in its status; the node's message must say why (the kubelet's FailedMount event)."""
    kube = ns
    name = kube.submit(_loc(kube, MISSING_SECRET))

    def reported() -> Any:
        node = ((kube.get_wf(name) or {}).get("status") or {}).get("nodes", {}).get(name) or {}
        return node if 'secret "created-later" not found' in (node.get("message") or "") else None

    node = kube.wait_for("the FailedMount message on the node", reported, 120, diag=name)
    assert node["phase"] == "Pending" and node["message"].startswith("FailedMount: "), node
    kube.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "created-later", "namespace": kube.ns},
                "stringData": {"token": "now-here"}})
    final = kube.wait_phase(name, timeout=180)
    assert final["status"]["phase"] == "Succeeded", kube.diagnose(name, final)
    assert nodes(final)[name]["outputs"]["result"] == "now-here"


# ------------------------------------------------------------------------------------ pod GC, TTL, task results

POD_GC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: podgc-}
spec:
  entrypoint: main
  podGC: {strategy: OnPodSuccess}
  ttlStrategy: {secondsAfterCompletion: 5}
  templates:
  - name: main
    steps:
    - - {name: ok, template: ok}
      - {name: bad, template: bad, continueOn: {failed: true}}
  - name: ok
    container: {image: E2E_IMAGE, command: [sh, -c, "echo ok"]}
  - name: bad
    container: {image: E2E_IMAGE, command: [sh, -c, "exit 1"]}
"""


def test_pod_gc_and_ttl(ns: Kube) -> None:
    """``podGC: OnPodSuccess`` deletes the succeeded pod and keeps the failed one; ``ttlStrategy`` then
    deletes the workflow (and, through owner references, its remaining pod)."""
    kube = ns
    final = kube.run(_loc(kube, POD_GC))
    name = final["metadata"]["name"]
    bad_id = nodes(final)["bad"]["id"]

    def only_bad_left() -> bool:
        pods = kube.pods(name)
        return len(pods) == 1 and (pods[0].metadata.annotations or {}).get("workflows.argoproj.io/node-id") == bad_id

    kube.wait_for("podGC to delete the succeeded pod only", only_bad_left, 60, diag=name)
    finished = kube.get_wf(name)
    if finished is not None:
        kube.wait_for("ttlStrategy (5 s) to delete the workflow", lambda: kube.get_wf(name) is None, 90, diag=name)
    kube.wait_for("the failed pod to go with its workflow", lambda: not kube.pods(name), 120)


def test_task_results_deleted_on_completion(ns: Kube) -> None:
    """The wait containers' WorkflowTaskResults are deleted once the workflow is complete (Argo's
    ``deleteTaskResults``); they must not pile up in the namespace."""
    kube = ns
    final = kube.run(_loc(kube, seed("000-producer-consumer")))
    name = final["metadata"]["name"]

    def results() -> list[Any]:
        items: list[Any] = kube.custom.list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", kube.ns, "workflowtaskresults", label_selector=f"workflows.argoproj.io/workflow={name}")["items"]
        return items

    kube.wait_for(f"the WorkflowTaskResults of {name} to be deleted", lambda: not results(), 60, diag=name)


# ------------------------------------------------------------------------------------ several at once


def test_concurrent_workflows(ns: Kube) -> None:
    """Five workflows submitted together all finish (one controller, parallel runners and pod watches)."""
    kube = ns
    wf = _loc(kube, seed("000-producer-consumer"))
    names = [kube.submit(wf) for _ in range(5)]
    finals = [kube.wait_phase(n, timeout=420) for n in names]
    assert [f["status"]["phase"] for f in finals] == ["Succeeded"] * 5, [kube.diagnose(f["metadata"]["name"], f) for f in finals if f["status"]["phase"] != "Succeeded"]
    assert all(outputs(nodes(f)["producer-message"]) == {"message": "hello world"} for f in finals)
