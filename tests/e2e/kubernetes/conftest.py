"""Argosy on a real Kubernetes cluster: fixtures for the end-to-end suite.

The suite runs only when ``ARGOSY_E2E_KUBECONFIG`` names a kubeconfig; otherwise every test here
is skipped with that reason. It works against any cluster where the Argosy image can run (the
local one from ``scripts/k8s/cluster.sh``, kind, k3s, EKS ...). Settings (all optional):

====================================  ===========================================================
``ARGOSY_E2E_KUBECONFIG``             kubeconfig of the cluster (required)
``ARGOSY_E2E_CONTEXT``                its context (default: the current one)
``ARGOSY_E2E_IMAGE``                  the Argosy image (default ``docker.io/library/argosy:dev``,
                                      see ``scripts/k8s/build-image.sh``); used for the controller,
                                      the executor containers and every step's container
``ARGOSY_E2E_IMAGE_PULL_POLICY``      ``Never`` (default: image imported into the node), ``IfNotPresent``
``ARGOSY_E2E_CONTROLLER``             ``deployment`` (default: ``kubectl apply -f configs/kubernetes/``
                                      with the image swapped in), ``local`` (``argosy controller`` as a
                                      subprocess here, admin kubeconfig) or ``external`` (already running)
``ARGOSY_E2E_CONTROLLER_NAMESPACE``   the controller's namespace (default ``argo``, as in the configs)
``ARGOSY_E2E_NAMESPACE``              the workflows' namespace (default: a fresh ``argosy-e2e-XXXXXX``,
                                      deleted afterwards unless ``ARGOSY_E2E_KEEP=1``)
``ARGOSY_E2E_HOST_IP``                an address of this machine that pods can reach; S3 (moto), git
                                      and HTTP servers for the artifact cases listen there. Default:
                                      a node's InternalIP if it is an address of this machine (true
                                      for the local single-node cluster); otherwise those cases skip
``ARGOSY_E2E_S3_ENDPOINT``            use this S3 (``host:port``) instead of moto, with
                                      ``..._S3_ACCESS_KEY``, ``..._S3_SECRET_KEY``, ``..._S3_BUCKET``,
                                      ``..._S3_INSECURE`` (default ``true``: plain HTTP)
``ARGOSY_E2E_TIMEOUT_SCALE``          multiply every wait (default 1; slow or busy clusters: 2-3)
``ARGOSY_E2E_ARGOSY``                 the ``argosy`` command line to run (default: this Python's ``argosy``)
====================================  ===========================================================

At the end the terminal summary lists the cases covered and their outcome (one line).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CONFIGS = REPO / "configs" / "kubernetes"
SEEDS = REPO / "tests" / "data" / "seeds"
KUBECONFIG_ENV = "ARGOSY_E2E_KUBECONFIG"
DEFAULT_IMAGE = "docker.io/library/argosy:dev"
#: the image the shipped configs name; replaced by the e2e image when installing
CONFIG_IMAGE = "ghcr.io/argosy/argosy:latest"
TERMINAL = ("Succeeded", "Failed", "Error")
CONTROLLER_LABEL = "app.kubernetes.io/name=argosy-controller"
SKIP_REASON = (f"{KUBECONFIG_ENV} is not set: the Kubernetes end-to-end suite needs a cluster "
               "(scripts/k8s/cluster.sh up, or any kubeconfig; see scripts/k8s/README.md)")


# ------------------------------------------------------------------------------------ collection and summary


def _ours(item: pytest.Item) -> bool:
    try:
        return Path(str(item.fspath)).resolve().is_relative_to(HERE)
    except (OSError, ValueError):
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(KUBECONFIG_ENV):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if _ours(item):
            item.add_marker(skip)


_OUTCOMES: dict[str, str] = {}


def case_name(nodeid: str) -> str:
    """``tests/e2e/kubernetes/test_x.py::test_artifacts[zstd]`` -> ``artifacts[zstd]``."""
    name = nodeid.rpartition("::")[2]
    return name[5:] if name.startswith("test_") else name


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/e2e/kubernetes/" not in report.nodeid.replace("\\", "/"):
        return
    name = case_name(report.nodeid)
    if report.when == "call" or (report.when == "setup" and (report.failed or report.skipped)):
        _OUTCOMES[name] = "passed" if report.passed else ("skipped" if report.skipped else "failed")
    elif report.when == "teardown" and report.failed and _OUTCOMES.get(name) == "passed":
        _OUTCOMES[name] = "failed"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _OUTCOMES or not os.environ.get(KUBECONFIG_ENV):
        return
    by: dict[str, list[str]] = {}
    for name, outcome in _OUTCOMES.items():
        by.setdefault(outcome, []).append(name)
    parts = [f"{k} ({len(v)}): {', '.join(v)}" for k, v in sorted(by.items())]
    terminalreporter.write_line("kubernetes e2e cases covered -- " + "; ".join(parts))


# ------------------------------------------------------------------------------------ settings


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    kubeconfig: str
    context: str | None
    image: str
    pull_policy: str
    controller: str
    controller_ns: str
    namespace: str
    namespace_given: bool
    host_ip: str | None
    timeout_scale: float
    keep: bool

    @classmethod
    def from_env(cls) -> Settings:
        kubeconfig = os.environ.get(KUBECONFIG_ENV) or ""
        ns = os.environ.get("ARGOSY_E2E_NAMESPACE")
        mode = os.environ.get("ARGOSY_E2E_CONTROLLER", "deployment")
        if mode not in ("deployment", "local", "external"):
            raise pytest.UsageError(f"ARGOSY_E2E_CONTROLLER must be deployment, local or external, not {mode!r}")
        return cls(
            kubeconfig=kubeconfig,
            context=os.environ.get("ARGOSY_E2E_CONTEXT") or None,
            image=os.environ.get("ARGOSY_E2E_IMAGE") or DEFAULT_IMAGE,
            pull_policy=os.environ.get("ARGOSY_E2E_IMAGE_PULL_POLICY") or "Never",
            controller=mode,
            controller_ns=os.environ.get("ARGOSY_E2E_CONTROLLER_NAMESPACE") or "argo",
            namespace=ns or f"argosy-e2e-{uuid.uuid4().hex[:6]}",
            namespace_given=bool(ns),
            host_ip=os.environ.get("ARGOSY_E2E_HOST_IP") or None,
            timeout_scale=float(os.environ.get("ARGOSY_E2E_TIMEOUT_SCALE") or "1"),
            keep=_flag("ARGOSY_E2E_KEEP"),
        )

    def t(self, seconds: float) -> float:
        return seconds * self.timeout_scale


# ------------------------------------------------------------------------------------ the cluster


class CommandError(AssertionError):
    """A kubectl/argosy command failed; the message has its output."""


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> Result:
        if self.returncode != 0:
            raise CommandError(f"{' '.join(self.argv)} exited {self.returncode}\nstdout: {self.stdout[-3000:]}\nstderr: {self.stderr[-3000:]}")
        return self


def _argosy_argv() -> list[str]:
    """``$ARGOSY_E2E_ARGOSY`` (a command line), else the ``argosy`` of this Python environment."""
    if os.environ.get("ARGOSY_E2E_ARGOSY"):
        return shlex.split(os.environ["ARGOSY_E2E_ARGOSY"])
    exe = shutil.which("argosy")
    if exe and Path(exe).resolve().parent == Path(sys.executable).resolve().parent:
        return [exe]
    return [sys.executable, "-c", "import sys; from argosy.cli.main import main; sys.exit(main())"]


class Kube:
    """The cluster under test: the official client for reads, kubectl for applies, the argosy CLI for workflows."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        from kubernetes import client, config

        self.s = settings
        self.workdir = workdir
        api_client = config.new_client_from_config(config_file=settings.kubeconfig, context=settings.context)
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.ext = client.ApiextensionsV1Api(api_client)
        self.ns = settings.namespace
        self._argosy = _argosy_argv()
        self.argosy_env = {**os.environ, "ARGOSY_HOME": str(workdir / "argosy-home"),
                           "ARGOSY_CONTROLLER_NAMESPACE": settings.controller_ns, "NO_COLOR": "1"}
        self.argosy_env.pop("ARGOSY_BACKEND", None)

    # -------------------------------------------------------------- commands

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120) -> Result:
        argv = ["kubectl", "--kubeconfig", self.s.kubeconfig, *(["--context", self.s.context] if self.s.context else []), *args]
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
        r = Result(argv, p.returncode, p.stdout, "\n".join(line for line in p.stderr.splitlines() if "version difference" not in line))
        return r.check() if check else r

    def argosy(self, *args: str, check: bool = True, timeout: float = 180) -> Result:
        """``argosy --kubeconfig K [--context C] ARGS`` (the CLI's cluster switch)."""
        argv = [*self._argosy, "--kubeconfig", self.s.kubeconfig, *(["--context", self.s.context] if self.s.context else []), *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.argosy_env, cwd=self.workdir)
        r = Result(argv, p.returncode, p.stdout, p.stderr)
        return r.check() if check else r

    def apply(self, docs: Any) -> None:
        text = docs if isinstance(docs, str) else yaml.safe_dump_all(docs if isinstance(docs, list) else [docs])
        self.kubectl("apply", "-f", "-", stdin=text)

    # -------------------------------------------------------------- workflows

    def submit(self, wf: dict[str, Any] | str, *extra: str, namespace: str | None = None) -> str:
        """``argosy submit FILE -n NS -o name``; returns the workflow's name."""
        text = wf if isinstance(wf, str) else yaml.safe_dump(wf, sort_keys=False)
        path = self.workdir / f"wf-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(text)
        r = self.argosy("submit", str(path), "-n", namespace or self.ns, "-o", "name", *extra)
        name = r.stdout.strip().splitlines()[-1].strip() if r.stdout.strip() else ""
        assert name, f"argosy submit printed no name: {r.stdout!r} {r.stderr!r}"
        return name.rpartition("/")[2]

    def get_wf(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            wf: dict[str, Any] = self.custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", namespace or self.ns, "workflows", name)
            return wf
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def wait_for(self, what: str, fn: Callable[[], Any], timeout: float, interval: float = 1.0, diag: str | None = None) -> Any:
        deadline = time.monotonic() + self.s.t(timeout)
        last: Any = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {self.s.t(timeout):.0f}s waiting for {what}\n" + (self.diagnose(diag) if diag else ""))

    def wait_phase(self, name: str, phases: tuple[str, ...] = TERMINAL, timeout: float = 300) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            wf = self.get_wf(name)
            return wf if wf and ((wf.get("status") or {}).get("phase") in phases) else None

        wf: dict[str, Any] = self.wait_for(f"workflow {name} to reach {'/'.join(phases)}", done, timeout, diag=name)
        return wf

    def run(self, wf: dict[str, Any] | str, expect: str | tuple[str, ...] = "Succeeded", timeout: float = 300) -> dict[str, Any]:
        """Submit, wait until finished, check the phase; the final Workflow object."""
        name = self.submit(wf)
        final = self.wait_phase(name, timeout=timeout)
        phase = final["status"].get("phase")
        wanted = (expect,) if isinstance(expect, str) else expect
        assert phase in wanted, f"workflow {name} ended {phase}, expected {'/'.join(wanted)}\n{self.diagnose(name, final)}"
        return final

    # -------------------------------------------------------------- pods

    def pods(self, workflow: str) -> list[Any]:
        return list(self.core.list_namespaced_pod(self.ns, label_selector=f"workflows.argoproj.io/workflow={workflow}").items)

    def pod_for(self, wf: dict[str, Any], display: str) -> Any:
        node = nodes(wf)[display]
        for pod in self.pods(wf["metadata"]["name"]):
            if (pod.metadata.annotations or {}).get("workflows.argoproj.io/node-id") == node["id"]:
                return pod
        raise AssertionError(f"no pod for node {display} ({node['id']}) of {wf['metadata']['name']}")

    def logs(self, pod: str, container: str = "main") -> str:
        return str(self.core.read_namespaced_pod_log(pod, self.ns, container=container))

    def controller_logs(self, tail: int = 60) -> str:
        if self.s.controller == "deployment":
            r = self.kubectl("-n", self.s.controller_ns, "logs", "deployment/argosy-controller", "--tail", str(tail), check=False)
            return r.stdout + r.stderr
        log = self.workdir / "controller.log"
        if log.exists():
            return "\n".join(log.read_text(errors="replace").splitlines()[-tail:])
        return "(controller is external)"

    def diagnose(self, name: str, wf: dict[str, Any] | None = None) -> str:
        """What a failing case needs to be understood: status, nodes, pods, controller log."""
        out: list[str] = []
        with contextlib.suppress(Exception):
            wf = wf or self.get_wf(name)
            if wf is None:
                out.append(f"workflow {name}: not found")
            else:
                st = wf.get("status") or {}
                out.append(f"workflow {name}: phase={st.get('phase')} message={st.get('message')!r} "
                           f"finalizers={wf['metadata'].get('finalizers')} conditions={st.get('conditions')}")
                for n in (st.get("nodes") or {}).values():
                    out.append(f"  node {n.get('displayName')} [{n.get('type')}] {n.get('phase')} {n.get('message') or ''}")
        with contextlib.suppress(Exception):
            for pod in self.pods(name):
                cs = [(c.name, _state(c.state)) for c in (pod.status.init_container_statuses or []) + (pod.status.container_statuses or [])]
                out.append(f"  pod {pod.metadata.name} {pod.status.phase} {pod.status.message or ''} {cs}")
        with contextlib.suppress(Exception):
            events = [e for e in self.core.list_namespaced_event(self.ns).items
                      if str(e.involved_object.name).startswith(name) and e.reason not in ("Pulled", "Created", "Started", "MissingClusterDNS")]
            events.sort(key=lambda e: str(e.last_timestamp or e.event_time or ""))
            out += [f"  event {e.involved_object.kind}/{e.involved_object.name}: {e.reason} {e.message}" for e in events[-20:]]
        with contextlib.suppress(Exception):
            out.append("controller log (tail):\n" + self.controller_logs(40))
        return "\n".join(out)


def _state(state: Any) -> str:
    if state is None:
        return "?"
    if state.terminated is not None:
        return f"terminated({state.terminated.reason},{state.terminated.exit_code})"
    if state.waiting is not None:
        return f"waiting({state.waiting.reason}: {state.waiting.message or ''})"
    return "running"


def nodes(wf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Status nodes by display name."""
    return {n.get("displayName") or n.get("name"): n for n in ((wf.get("status") or {}).get("nodes") or {}).values()}


def outputs(node: dict[str, Any]) -> dict[str, Any]:
    """A node's output parameters as a dict."""
    return {p["name"]: p.get("value") for p in ((node.get("outputs") or {}).get("parameters") or [])}


def seed(name: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((SEEDS / f"{name}.yaml").read_text()) if d]
    return docs[0]


def localize(wf: dict[str, Any] | str, settings: Settings) -> dict[str, Any]:
    """Every step's image becomes the e2e image (the suite pulls nothing from registries); IMAGE/PULL placeholders are filled."""
    if isinstance(wf, str):
        wf = yaml.safe_load(wf.replace("E2E_IMAGE", settings.image).replace("E2E_PULL", settings.pull_policy))
    assert isinstance(wf, dict)
    for tmpl in (wf.get("spec") or {}).get("templates") or []:
        for key in ("container", "script"):
            if isinstance(tmpl.get(key), dict):
                tmpl[key]["image"] = settings.image
                tmpl[key]["imagePullPolicy"] = settings.pull_policy
        for side in [*(tmpl.get("sidecars") or []), *(tmpl.get("initContainers") or [])]:
            side["image"] = settings.image
            side["imagePullPolicy"] = settings.pull_policy
    return wf


# ------------------------------------------------------------------------------------ session fixtures


@pytest.fixture(scope="session")
def settings() -> Settings:
    s = Settings.from_env()
    if not Path(s.kubeconfig).is_file():
        pytest.fail(f"{KUBECONFIG_ENV}={s.kubeconfig!r} is not a file")
    if not shutil.which("kubectl"):
        pytest.fail("kubectl is required on PATH for the Kubernetes e2e suite")
    return s


@pytest.fixture(scope="session")
def kube(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Kube:
    k = Kube(settings, tmp_path_factory.mktemp("k8s-e2e"))
    try:
        k.core.list_namespace(limit=1)
    except Exception as exc:
        pytest.fail(f"cannot reach the cluster of {settings.kubeconfig}: {exc}")
    return k


def _config_docs(settings: Settings) -> list[dict[str, Any]]:
    """configs/kubernetes/*.yaml with the e2e image, controller namespace and pull policy; CRDs skipped when Argo's exist."""
    docs: list[dict[str, Any]] = []
    for path in sorted(CONFIGS.glob("*.yaml")):
        text = path.read_text().replace(CONFIG_IMAGE, settings.image)
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            meta = doc.setdefault("metadata", {})
            if settings.controller_ns != "argo":
                if doc["kind"] == "Namespace" and meta.get("name") == "argo":
                    meta["name"] = settings.controller_ns
                if meta.get("namespace") == "argo":
                    meta["namespace"] = settings.controller_ns
                for subj in doc.get("subjects") or []:
                    if subj.get("namespace") == "argo":
                        subj["namespace"] = settings.controller_ns
            if doc["kind"] == "Deployment":
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    c["imagePullPolicy"] = settings.pull_policy
                    c["args"] = [*c.get("args", []), "--image-pull-policy", settings.pull_policy]
            docs.append(doc)
    return docs


@pytest.fixture(scope="session")
def installed(kube: Kube, settings: Settings) -> Iterator[Kube]:
    """Argosy installed on the cluster: CRDs, RBAC, controller (Deployment, local process or external)."""
    if not CONFIGS.is_dir():
        pytest.fail(f"{CONFIGS} does not exist: the Kubernetes install manifests are missing")
    docs = _config_docs(settings)
    have_crds = {c.metadata.name for c in kube.ext.list_custom_resource_definition().items}
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition" and d["metadata"]["name"] not in have_crds]
    rest = [d for d in docs if d["kind"] != "CustomResourceDefinition"]
    if settings.controller != "deployment":
        rest = [d for d in rest if d["kind"] != "Deployment"]
    if crds:
        kube.apply(crds)
        for crd in crds:
            kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd['metadata']['name']}")
    kube.apply(rest)
    proc = None
    if settings.controller == "deployment":
        kube.kubectl("-n", settings.controller_ns, "rollout", "status", "deployment/argosy-controller",
                     f"--timeout={int(settings.t(180))}s", timeout=settings.t(200))
    elif settings.controller == "local":
        proc = _start_local_controller(kube)
    kube.controller_proc = proc  # type: ignore[attr-defined]
    wait_controller_leading(kube)
    yield kube
    proc = getattr(kube, "controller_proc", None)
    if proc is not None:
        _stop_local_controller(proc)


def _controller_pods(kube: Kube) -> list[Any]:
    return [p for p in kube.core.list_namespaced_pod(kube.s.controller_ns, label_selector=CONTROLLER_LABEL).items
            if not p.metadata.deletion_timestamp]


def wait_controller_leading(kube: Kube, timeout: float = 180) -> str:
    """Until the controller holds its leader Lease (``argosy-controller`` in the controller namespace);
    in deployment mode the holder must be a running controller pod. Fails early on a crashing pod."""
    from kubernetes import client

    s = kube.s

    def leading() -> str | None:
        if s.controller == "deployment":
            pods = _controller_pods(kube)
            for p in pods:
                for cs in p.status.container_statuses or []:
                    waiting = cs.state.waiting if cs.state else None
                    if cs.restart_count or (waiting and waiting.reason in ("CrashLoopBackOff", "ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff")):
                        raise AssertionError(f"the controller pod {p.metadata.name} is failing "
                                             f"({waiting.reason if waiting else 'restarted'}):\n{kube.controller_logs(40)}")
            running = {p.metadata.name for p in pods if p.status.phase == "Running"}
        elif s.controller == "local":
            proc = getattr(kube, "controller_proc", None)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"argosy controller exited {proc.returncode}:\n{kube.controller_logs(40)}")
        try:
            lease = client.CoordinationV1Api(kube.api_client).read_namespaced_lease("argosy-controller", s.controller_ns)
        except Exception:
            return None
        holder = str(lease.spec.holder_identity or "")
        if not holder:
            return None
        if s.controller == "deployment" and holder not in running:
            return None
        return holder

    holder: str = kube.wait_for("the controller to hold its leader Lease", leading, timeout, interval=2)
    return holder


def _start_local_controller(kube: Kube) -> subprocess.Popen[bytes]:
    s = kube.s
    log = (kube.workdir / "controller.log").open("ab")
    argv = [*_argosy_argv(), "controller", "--kubeconfig", s.kubeconfig, *(["--context", s.context] if s.context else []),
            "--executor-image", s.image, "--image-pull-policy", s.pull_policy, "--lease-namespace", s.controller_ns]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=kube.argosy_env, cwd=kube.workdir)
    time.sleep(3)
    if proc.poll() is not None:
        raise CommandError(f"argosy controller exited {proc.returncode}:\n{(kube.workdir / 'controller.log').read_text()[-3000:]}")
    return proc


def _stop_local_controller(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@dataclass
class Restarter:
    """Restart the controller in the middle of things (what the restart case needs)."""

    kube: Kube

    def restart(self) -> str:
        s = self.kube.s
        if s.controller == "local":
            _stop_local_controller(self.kube.controller_proc)  # type: ignore[attr-defined]
            self.kube.controller_proc = _start_local_controller(self.kube)  # type: ignore[attr-defined]
            return f"local controller process restarted; {wait_controller_leading(self.kube)} leads"
        if s.controller != "deployment":
            pytest.skip("ARGOSY_E2E_CONTROLLER=external: the suite cannot restart a controller it does not run")
        before = {p.metadata.name for p in _controller_pods(self.kube)}
        self.kube.kubectl("-n", s.controller_ns, "delete", "pod", "-l", CONTROLLER_LABEL, "--wait=false")
        self.kube.wait_for("the old controller pod to go", lambda: not any(p.metadata.name in before for p in _controller_pods(self.kube)), 120)
        holder = wait_controller_leading(self.kube)
        return f"controller pod(s) {sorted(before)} deleted; {holder} leads"


    def scale(self, replicas: int) -> None:
        """Deployment mode only: run ``replicas`` controller pods (all Running)."""
        s = self.kube.s
        if s.controller != "deployment":
            pytest.skip(f"ARGOSY_E2E_CONTROLLER={s.controller}: replicas need the controller Deployment")
        self.kube.kubectl("-n", s.controller_ns, "scale", "deployment/argosy-controller", f"--replicas={replicas}")

        def settled() -> bool:
            pods = _controller_pods(self.kube)
            return len(pods) == replicas and all(p.status.phase == "Running" for p in pods)

        self.kube.wait_for(f"{replicas} running controller pod(s)", settled, 180)

    def stop(self) -> None:
        """Stop the controller (deployment: scale to 0) until :meth:`start`."""
        s = self.kube.s
        if s.controller == "local":
            _stop_local_controller(self.kube.controller_proc)  # type: ignore[attr-defined]
            return
        if s.controller != "deployment":
            pytest.skip("ARGOSY_E2E_CONTROLLER=external: the suite cannot stop a controller it does not run")
        self.kube.kubectl("-n", s.controller_ns, "scale", "deployment/argosy-controller", "--replicas=0")
        self.kube.wait_for("the controller pods to go", lambda: not _controller_pods(self.kube), 120)

    def start(self) -> str:
        s = self.kube.s
        if s.controller == "local":
            self.kube.controller_proc = _start_local_controller(self.kube)  # type: ignore[attr-defined]
        else:
            self.kube.kubectl("-n", s.controller_ns, "scale", "deployment/argosy-controller", "--replicas=1")
        return wait_controller_leading(self.kube)


@pytest.fixture(scope="session")
def restarter(installed: Kube) -> Restarter:
    return Restarter(installed)


# ------------------------------------------------------------------------------------ the workflow namespace


def _local_addresses() -> set[str]:
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout if shutil.which("ip") else ""
    addrs = {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}
    return addrs - {"127.0.0.1"}


def _pick_host_ip(kube: Kube) -> str | None:
    if kube.s.host_ip:
        return kube.s.host_ip
    local = _local_addresses()
    for node in kube.core.list_node().items:
        for addr in node.status.addresses or []:
            if addr.type == "InternalIP" and addr.address in local:
                return str(addr.address)
    return None


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class S3:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    insecure: bool = True
    proc: subprocess.Popen[bytes] | None = None
    _client: Any = field(default=None, repr=False)

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("s3", endpoint_url=("http://" if self.insecure else "https://") + self.endpoint,
                                        aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
        return self._client

    def list_keys(self, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out |= {o["Key"] for o in page.get("Contents", ())}
        return out

    def get(self, key: str) -> bytes:
        data: bytes = self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return data


@dataclass
class HostServices:
    """Servers on this machine that pods reach at ``host_ip``: S3, git (git daemon), HTTP."""

    host_ip: str | None
    s3: S3 | None
    git_url: str | None = None
    http_url: str | None = None
    why_not: str = ""
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def need_s3(self) -> S3:
        if self.s3 is None:
            pytest.skip(f"no S3 reachable from pods: {self.why_not}")
        return self.s3

    def need_host(self) -> str:
        if self.host_ip is None:
            pytest.skip(f"no address of this machine reachable from pods: {self.why_not}")
        return self.host_ip


def _start_moto(host: str) -> S3:
    port = _free_port(host)
    log = open(os.path.join(tempfile.gettempdir(), f"argosy-e2e-moto-{port}.log"), "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    s3 = S3(f"{host}:{port}", "argosy-e2e-access", "argosy-e2e-secret-0123456789", f"argosy-e2e-{uuid.uuid4().hex[:8]}", proc=proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            s3.client().create_bucket(Bucket=s3.bucket)
            return s3
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.5)


def _git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.com",
           "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture(scope="session")
def host_services(kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostServices]:
    host = _pick_host_ip(kube)
    svc = HostServices(host, None)
    if host is None:
        svc.why_not = "no node InternalIP is an address of this machine (set ARGOSY_E2E_HOST_IP, or ARGOSY_E2E_S3_ENDPOINT for S3)"
    endpoint = os.environ.get("ARGOSY_E2E_S3_ENDPOINT")
    if endpoint:
        svc.s3 = S3(endpoint, os.environ.get("ARGOSY_E2E_S3_ACCESS_KEY", ""), os.environ.get("ARGOSY_E2E_S3_SECRET_KEY", ""),
                    os.environ.get("ARGOSY_E2E_S3_BUCKET", "argosy-e2e"), insecure=_flag("ARGOSY_E2E_S3_INSECURE", "1"))
    elif host is not None:
        svc.s3 = _start_moto(host)
    if host is not None:
        root = tmp_path_factory.mktemp("host-services")
        # git daemon (git:// supports shallow clones, unlike dumb HTTP)
        work = root / "work"
        work.mkdir()
        _git("init", "-q", "-b", "main", cwd=work)
        (work / "README.md").write_text("argosy e2e repository\n")
        (work / "data").mkdir()
        (work / "data" / "numbers.txt").write_text("1\n2\n3\n")
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", "first", cwd=work)
        (root / "git").mkdir()
        _git("clone", "-q", "--bare", str(work), str(root / "git" / "repo.git"), cwd=root)
        port = _free_port(host)
        daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={root / 'git'}",
                                   f"--listen={host}", f"--port={port}", str(root / "git")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svc._stops.append(lambda: (daemon.terminate(), daemon.wait(10)))
        svc.git_url = f"git://{host}:{port}/repo.git"
        # HTTP
        (root / "www").mkdir()
        (root / "www" / "page.txt").write_text("served over http\n")
        handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
        httpd = ThreadingHTTPServer((host, 0), lambda *a: handler(*a, directory=str(root / "www")))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        svc._stops.append(httpd.shutdown)
        svc.http_url = f"http://{host}:{httpd.server_address[1]}"
    yield svc
    for stop in svc._stops:
        with contextlib.suppress(Exception):
            stop()
    if svc.s3 is not None and svc.s3.proc is not None:
        svc.s3.proc.terminate()
        with contextlib.suppress(Exception):
            svc.s3.proc.wait(10)


def _rebind(path: Path, namespace: str, subject_sa: str | None = None) -> list[dict[str, Any]]:
    """A config file's Roles/RoleBindings moved into ``namespace`` (bindings to ``subject_sa`` if given)."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
        if doc["kind"] == "RoleBinding":
            for subj in doc.get("subjects") or []:
                subj["namespace"] = namespace
                if subject_sa:
                    subj["name"] = subject_sa
            if subject_sa:
                doc["metadata"]["name"] = f"{doc['metadata']['name'].rsplit('-', 1)[0]}-{subject_sa}"
    return docs


#: service accounts of the suite: name -> Roles bound to it (from configs/kubernetes/ unless noted)
ACCOUNTS = {
    "default": ["argosy-executor", "argosy-artifactgc"],
    "argo-workflow-account": ["argosy-executor", "e2e-jobs"],  # the seeds' account; jobs for resource templates
    "argosy-e2e-minimal": ["argosy-executor"],  # least privilege: only the executor Role
    "argosy-e2e-norights": [],  # nothing bound: steps cannot report outputs
}


@pytest.fixture(scope="session")
def ns(installed: Kube, host_services: HostServices) -> Iterator[Kube]:
    """The workflows' namespace: service accounts + RBAC from configs/kubernetes/, the artifact repository."""
    kube, s = installed, installed.s
    name = s.namespace
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "argosy-e2e"}}})
    docs: list[dict[str, Any]] = []
    docs += _rebind(CONFIGS / "03-executor-rbac.yaml", name)
    docs += _rebind(CONFIGS / "04-artifactgc-rbac.yaml", name)
    docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "e2e-jobs", "namespace": name},
                 "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch", "patch", "delete"]}]})
    for sa, roles in ACCOUNTS.items():
        if sa != "default":
            docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": name}})
        for role in roles:
            if sa == "default" and role in ("argosy-executor", "argosy-artifactgc"):
                continue  # bound to default by the config files themselves
            docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                         "metadata": {"name": f"{role}-{sa}", "namespace": name},
                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                         "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": name}]})
    s3 = host_services.s3
    if s3 is not None:
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "e2e-s3", "namespace": name},
                     "data": {"accesskey": base64.b64encode(s3.access_key.encode()).decode(),
                              "secretkey": base64.b64encode(s3.secret_key.encode()).decode()}})
        repo = {"s3": {"bucket": s3.bucket, "endpoint": s3.endpoint, "insecure": s3.insecure,
                       "accessKeySecret": {"name": "e2e-s3", "key": "accesskey"},
                       "secretKeySecret": {"name": "e2e-s3", "key": "secretkey"}}}
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "artifact-repositories", "namespace": name,
                                  "annotations": {"workflows.argoproj.io/default-artifact-repository": "default-v1"}},
                     "data": {"default-v1": yaml.safe_dump(repo)}})
    kube.apply(docs)

    projected = _token_requests_ok(kube)

    def accounts_ready() -> bool:  # < 1.24: pods are refused until the token controller made each account's secret
        for sa in ACCOUNTS:
            try:
                obj = kube.core.read_namespaced_service_account(sa, name)
            except Exception:
                return False
            if not obj.secrets and not projected:
                return False
        return True

    kube.wait_for("service accounts and their tokens", accounts_ready, 60)
    yield kube
    if s.keep or s.namespace_given:
        return
    _cleanup_namespace(kube, name)


def _token_requests_ok(kube: Kube) -> bool:
    """Kubernetes >= 1.24 no longer creates token Secrets for service accounts (pods get projected tokens)."""
    from kubernetes import client

    v = client.VersionApi(kube.api_client).get_code()
    return (int(v.major), int("".join(ch for ch in v.minor if ch.isdigit()) or 0)) >= (1, 24)


def _cleanup_namespace(kube: Kube, name: str) -> None:
    """Drop workflow finalizers (no GC owed to a throwaway bucket), then delete the namespace."""
    with contextlib.suppress(Exception):
        for wf in kube.custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", name, "workflows").get("items", []):
            if wf["metadata"].get("finalizers"):
                kube.kubectl("-n", name, "patch", "workflow", wf["metadata"]["name"], "--type", "merge", "-p",
                             json.dumps({"metadata": {"finalizers": None}}), check=False)
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)
