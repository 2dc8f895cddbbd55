"""What runs inside a workflow pod: ``argosy exec init|wait|resource|gc`` (Argo's ``argoexec``).

* ``init`` (init container) writes the main-container shim and the output path list into
  ``/var/run/argo``, a script's source to ``/argo/staging/script``, and downloads input
  artifacts into ``/argo/inputs/artifacts/<name>`` (main mounts each at its path with ``subPath``).
* main runs ``/bin/sh /var/run/argo/argosy-shim main <argv>``: the step's stdout is tee'd for
  ``outputs.result``, declared output paths are copied to ``/var/run/argo/outputs/<i>/``, and the
  exit code is published last in ``/var/run/argo/ctr/main/exitcode``.
* ``wait`` waits for that file, collects outputs exactly as the local executor does (shared
  code), uploads artifacts, and reports to the controller: a ``WorkflowTaskResult`` named after
  the node (Argo 3.4+), or, when the service account may not create those (older minimal roles
  grant only ``pods: get, watch, patch``), an ``workflows.argoproj.io/outputs`` annotation on its
  own pod.
* ``resource`` (resource templates' only container) creates/applies/... the manifest, waits for
  the success/failure condition and reports outputs the same way.
* ``gc`` (artifact GC pods) deletes what its WorkflowArtifactGCTasks list and patches their status.

Images without a shell: when main has no known command, or the controller runs with
``--no-shim``, main runs unwrapped; ``wait`` then learns the exit code from the pod status,
``outputs.result`` from the container log (needs ``pods/log get``), and can only collect output
files that main wrote to a volume. Secrets the artifacts need are mounted at
``/argo/secret/<name>/<key>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from argosy.errors import ArgosyError, ExecutorError, RepositoryError
from argosy.pipeline.executors.base import PodRequest
from argosy.pipeline.model import Artifact, Outputs, Template

__all__ = ["SHIM", "MountedSecrets", "PodEnv", "gc", "init", "main", "output_paths", "resource", "wait"]

ARGO_DIR = "/var/run/argo"
#: how often wait asks the API whether main ended without the shim's record
SHIM_CHECK_SECONDS = 2.0
SHIM = r"""#!/bin/sh
# Argosy's container shim, written by `argosy exec init` (POSIX sh + tee, cp, mkdir, mv, sleep).
# main MODE: run the step, tee stdout to ctr/main/stdout (outputs.result), copy the declared output
#   paths into outputs/<i>/ for the wait container, then publish the exit code (last, so wait never
#   reads outputs before they are complete).
# sidecar MODE: run the container's command; stop it once main has ended.
ARGO=/var/run/argo
mode=$1
shift
if [ "$mode" = sidecar ]; then
  "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT
  while kill -0 "$child" 2>/dev/null; do
    if [ -f "$ARGO/ctr/main/exitcode" ]; then
      kill -TERM "$child" 2>/dev/null
      n=0
      while kill -0 "$child" 2>/dev/null && [ "$n" -lt 20 ]; do sleep 0.5 2>/dev/null || sleep 1; n=$((n+1)); done
      kill -KILL "$child" 2>/dev/null
      break
    fi
    sleep 0.5 2>/dev/null || sleep 1
  done
  wait "$child"
  exit $?
fi
mkdir -p "$ARGO/ctr/main" "$ARGO/outputs"
{ "$@"; echo $? > "$ARGO/ctr/main/exitcode.tmp"; } | tee "$ARGO/ctr/main/stdout"
rc=$(cat "$ARGO/ctr/main/exitcode.tmp" 2>/dev/null || echo 1)
if [ -f "$ARGO/outputs.list" ]; then
  tab=$(printf '\t')
  while IFS="$tab" read -r idx src; do
    [ -n "$src" ] || continue
    if [ -e "$src" ] || [ -L "$src" ]; then
      mkdir -p "$ARGO/outputs/$idx"
      cp -R -P -p "$src" "$ARGO/outputs/$idx/" 2>/dev/null || cp -R "$src" "$ARGO/outputs/$idx/"
    fi
  done < "$ARGO/outputs.list"
fi
echo "$rc" > "$ARGO/ctr/main/exitcode.tmp" && mv "$ARGO/ctr/main/exitcode.tmp" "$ARGO/ctr/main/exitcode"
exit "$rc"
"""

Log = Callable[[str], None]


def _flag(value: str | None) -> bool:
    return str(value or "").lower() in ("1", "true", "yes")


@dataclass
class PodEnv:
    """The pod's instructions, from the environment the controller set (see ``objects.build_pod``)."""

    template: Template
    pod_name: str
    namespace: str
    workflow_name: str
    workflow_uid: str
    node_id: str
    node_name: str = ""
    include_result: bool = True
    output_key_prefix: str = ""
    archive_logs: bool = False
    repository: dict[str, Any] = field(default_factory=dict)
    main_wrapped: bool = True

    @classmethod
    def from_environ(cls, env: dict[str, str] | None = None) -> PodEnv:
        env = dict(os.environ if env is None else env)
        raw = env.get("ARGO_TEMPLATE")
        if not raw:
            raise ExecutorError("ARGO_TEMPLATE is not set: `argosy exec` runs inside pods the controller creates")
        try:
            template = Template.model_validate(json.loads(raw))
            repository = json.loads(env.get("ARGOSY_ARTIFACT_REPOSITORY") or "{}")
        except (ValueError, ArgosyError) as exc:
            raise ExecutorError(f"cannot read the pod's template: {exc}") from None
        return cls(
            template=template,
            pod_name=env.get("ARGO_POD_NAME", ""),
            namespace=env.get("ARGO_NAMESPACE") or "default",
            workflow_name=env.get("ARGO_WORKFLOW_NAME", ""),
            workflow_uid=env.get("ARGO_WORKFLOW_UID", ""),
            node_id=env.get("ARGO_NODE_ID", ""),
            node_name=env.get("ARGO_NODE_NAME", ""),
            include_result=_flag(env.get("ARGO_INCLUDE_SCRIPT_OUTPUT", "true")),
            output_key_prefix=env.get("ARGOSY_OUTPUT_KEY_PREFIX", ""),
            archive_logs=_flag(env.get("ARGOSY_ARCHIVE_LOGS")),
            repository=repository if isinstance(repository, dict) else {},
            main_wrapped=_flag(env.get("ARGOSY_MAIN_WRAPPED", "true")),
        )

    def request(self) -> PodRequest:
        return PodRequest(
            workflow_name=self.workflow_name, workflow_uid=self.workflow_uid, namespace=self.namespace,
            node_id=self.node_id, node_name=self.node_name, pod_name=self.pod_name, template=self.template,
            input_artifacts=list((self.template.inputs.artifacts if self.template.inputs else None) or []),
            output_key_prefix=self.output_key_prefix, include_result=self.include_result,
            archive_logs=self.archive_logs,
        )


class MountedSecrets:
    """The document source artifact code reads secrets from: ``/argo/secret/<name>/<key>`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.artifacts_dir = Path("/nonexistent/argosy-local-repository")

    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        if kind != "Secret":
            return None
        folder = self.root / name
        if not folder.is_dir():
            return None
        data = {p.name: p.read_text() for p in folder.iterdir() if not p.name.startswith("..") and p.is_file()}
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


def output_paths(tmpl: dict[str, Any]) -> list[str]:
    """Every distinct output path (parameters' ``valueFrom.path``, artifacts' ``path``) of a template's wire
    form, in declaration order: init writes this list for the shim, wait reads the copies by index."""
    paths: list[str] = []
    outs = tmpl.get("outputs") or {}
    for p in outs.get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path and path not in paths:
            paths.append(str(path))
    for a in outs.get("artifacts") or []:
        if a.get("path") and a["path"] not in paths:
            paths.append(str(a["path"]))
    return paths


def _in(base: Path, path: str) -> Path:
    return base / path.lstrip("/")


def _fail(message: str) -> int:
    """Print the reason as the last log line and as the termination message; exit status 1."""
    print(message, file=sys.stderr, flush=True)
    with contextlib.suppress(OSError):
        Path("/dev/termination-log").write_text(message)
    return 1


def _manager(env: PodEnv, base: Path) -> Any:
    from argosy.pipeline.artifacts import ArtifactManager, Repository

    repo = dict(env.repository or {})
    return _PodArtifacts(ArtifactManager(MountedSecrets(_in(base, "argo/secret")), Repository(repo, "controller"), env.namespace))


class _PodArtifacts:
    """ArtifactManager, except that the embedded local folder repository means "not configured" in a pod."""

    NOT_CONFIGURED = ("artifact storage is not configured; see the docs for setup instructions: "
                      "https://argo-workflows.readthedocs.io/en/latest/configure-artifact-repository/")

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def _check(self, art: Artifact | None = None) -> None:
        """Anything that needs the repository (key-only S3, local keys, outputs without a bucket) needs a real one."""
        standalone = art is not None and (
            any(getattr(art, k) is not None for k in ("git", "http", "raw"))
            or (art.s3 is not None and bool(art.s3.bucket))
        )
        if self.manager.repository.kind == "local" and not standalone:
            raise RepositoryError(self.NOT_CONFIGURED)

    def load_input(self, art: Artifact, dest: Path) -> bool:
        if art.local is not None or art.s3 is not None:
            self._check(art)
        loaded: bool = self.manager.load_input(art, dest)
        return loaded

    def save_output(self, art: Artifact, src: Path, key_prefix: str, pod: PodRequest) -> Artifact | None:
        self._check(art)
        out: Artifact | None = self.manager.save_output(art, src, key_prefix, pod)
        return out

    def save_log(self, log: Path, key_prefix: str, pod: PodRequest) -> Artifact | None:
        self._check()
        out: Artifact | None = self.manager.save_log(log, key_prefix, pod)
        return out


def _chmod(path: Path, mode: int, recurse: bool) -> None:
    path.chmod(mode)
    if recurse and path.is_dir():
        for p in path.rglob("*"):
            if not p.is_symlink():
                p.chmod(mode)


# ------------------------------------------------------------------------------------ init


def init(env_vars: dict[str, str] | None = None, base: Path = Path("/")) -> int:
    """Prepare the pod: shim, output list, script source, input artifacts.

    Works on the template's JSON; the pydantic models (slow to import) load only when there are
    input artifacts to download.
    """
    from argosy.pipeline.kube.objects import input_artifact_dest

    raw_env = dict(os.environ if env_vars is None else env_vars)
    try:
        tmpl = json.loads(raw_env.get("ARGO_TEMPLATE") or "")
    except ValueError:
        return _fail("ARGO_TEMPLATE is not set or not JSON: `argosy exec` runs inside pods the controller creates")
    argo = _in(base, ARGO_DIR)
    argo.mkdir(parents=True, exist_ok=True)
    shim = argo / "argosy-shim"
    shim.write_text(SHIM)
    shim.chmod(0o755)
    lines = [f"{i}\t{p}\n" for i, p in enumerate(output_paths(tmpl))]
    (argo / "outputs.list").write_text("".join(lines))
    if tmpl.get("script") is not None:
        script = _in(base, "argo/staging/script")
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(str(tmpl["script"].get("source") or ""))
        script.chmod(0o755)
    if not any(a.get("path") for a in (tmpl.get("inputs") or {}).get("artifacts") or []):
        return 0
    try:
        env = PodEnv.from_environ(raw_env)
        container = env.template.script or env.template.container
        mounts = list((container.volume_mounts if container is not None else None) or [])
        artifacts = _manager(env, base)
        for art in (env.template.inputs.artifacts if env.template.inputs else None) or []:
            if not art.path:
                continue
            dest = _in(base, input_artifact_dest(art.path, art.name, mounts))
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not artifacts.load_input(art, dest):
                if art.optional:
                    continue
                return _fail(f"required artifact '{art.name}' not supplied")
            if art.mode is not None:
                _chmod(dest, art.mode, bool(art.recurse_mode))
            print(f"loaded input artifact {art.name} to {art.path}", flush=True)
    except (ArgosyError, OSError) as exc:
        return _fail(f"failed to load artifacts: {exc}")
    return 0


# ------------------------------------------------------------------------------------ wait


class _CopiedOutputs:
    """The wait container's view of main's output paths: the shim's copies under ``outputs/<i>/``."""

    def __init__(self, argo: Path, paths: list[str]) -> None:
        self.where = {p: argo / "outputs" / str(i) / (Path(p).name or "root") for i, p in enumerate(paths)}

    def read_path(self, path: str) -> Path:
        return self.where.get(path, Path("/nonexistent/argosy") / path.lstrip("/"))


def collect_outputs(env: PodEnv, artifacts: Any, fs: Any, stdout: Path, exit_code: int, log: Path) -> tuple[Outputs, list[str]]:
    """The local executor's output collection (parameters, result, artifacts, logs) over main's copied files."""
    from argosy.pipeline.executors.local import collect_outputs as collect

    return collect(artifacts, env.request(), env.template, fs, stdout, exit_code, log)


def _api() -> Any:
    from argosy.pipeline.kube.client import KubeClient

    return KubeClient.connect()


def _main_status(api: Any, env: PodEnv) -> dict[str, Any] | None:
    from argosy.pipeline.kube.client import resource_type

    pod = api.get(resource_type("Pod"), env.pod_name, env.namespace)
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == "main":
            term = (cs.get("state") or {}).get("terminated")
            return dict(term) if term else None
    return None


def _wait_for_shim(env: PodEnv, exit_file: Path, api: Any, poll: float) -> tuple[int, Any]:
    """Main's exit code from the shim's file; if main ended without writing it (its command could not
    even start, e.g. no /bin/sh in the image), from the pod status, checked every ``SHIM_CHECK_SECONDS``."""
    last_check = time.monotonic()
    while not exit_file.exists():
        time.sleep(poll)
        if time.monotonic() - last_check < SHIM_CHECK_SECONDS:
            continue
        last_check = time.monotonic()
        try:
            api = api or _api()
            term = _main_status(api, env)
        except ArgosyError:
            continue  # no API access: the file is the only signal
        if term is not None and not exit_file.exists():
            print(f"main ended ({term.get('reason')}, exit code {term.get('exitCode')}) without the shim's record", file=sys.stderr)
            return int(term.get("exitCode") or 1), api
    try:
        return int(exit_file.read_text().strip() or "1"), api
    except ValueError:
        return 1, api


def wait(env: PodEnv, base: Path = Path("/"), *, api: Any = None, poll: float = 0.1) -> int:
    """Wait for main, collect and upload its outputs, report them to the controller."""
    argo = _in(base, ARGO_DIR)
    exit_file = argo / "ctr" / "main" / "exitcode"
    stdout = argo / "ctr" / "main" / "stdout"
    tmpdir = Path(tempfile.mkdtemp(prefix="argosy-wait-"))
    try:
        if env.main_wrapped:
            exit_code, api = _wait_for_shim(env, exit_file, api, poll)
        else:
            api = api or _api()
            while (term := _main_status(api, env)) is None:
                time.sleep(max(poll, 1.0))
            exit_code = int(term.get("exitCode") or 0)
            stdout = tmpdir / "stdout"
            stdout.write_text(api.log(env.namespace, env.pod_name, "main") if env.include_result else "")
        log = stdout
        if env.archive_logs:
            log = tmpdir / "main.log"
            try:
                api = api or _api()
                log.write_text(api.log(env.namespace, env.pod_name, "main"))
            except ArgosyError as exc:  # no pods/log permission: archive stdout only
                print(f"cannot read main's log through the API ({exc}); archiving its stdout only", file=sys.stderr)
                log = stdout
        paths = output_paths(env.template.to_dict())
        try:
            artifacts = _manager(env, base)
        except ArgosyError as exc:
            return _fail(f"failed to save outputs: {exc}")
        outputs, problems = collect_outputs(env, artifacts, _CopiedOutputs(argo, paths), stdout, exit_code, log)
        _log_outputs(exit_code, outputs, problems)
        phase, message = ("Error", "; ".join(problems)) if problems else (None, None)
        return report(env, outputs.to_dict(), phase=phase, message=message, api=api)
    finally:
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)


def _log_outputs(exit_code: int, outputs: Any, problems: list[str]) -> None:
    """What ``kubectl logs POD -c wait`` (``argosy logs -c wait``) shows: what was saved, and what was not."""
    print(f"main exited with code {exit_code}", flush=True)
    for p in outputs.parameters or []:
        print(f"output parameter {p.name} saved", flush=True)
    for art in outputs.artifacts or []:
        where = ""
        if art.s3 is not None:
            where = f" to s3 key {art.s3.key}"
        elif getattr(art, "size", None) is not None:
            where = f" ({art.size} bytes)"
        print(f"output artifact {art.name} saved{where}", flush=True)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)


def report(env: PodEnv, outputs: dict[str, Any], *, phase: str | None = None, message: str | None = None, api: Any = None) -> int:
    """Hand the node's outputs to the controller: a WorkflowTaskResult, else an annotation on this pod."""
    from argosy.pipeline.kube.client import Forbidden, KubeApiError, NotFound, resource_type
    from argosy.pipeline.kube.objects import (
        ANNOTATION_NODE_MESSAGE,
        ANNOTATION_OUTPUTS,
        owner_reference,
        task_result,
    )

    try:
        api = api or _api()
    except ArgosyError as exc:
        return _fail(f"failed to save outputs: {exc}")
    owner = owner_reference({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                             "metadata": {"name": env.workflow_name, "uid": env.workflow_uid}}, controller=False)
    owner["blockOwnerDeletion"] = False  # would need update on workflows/finalizers, which executors lack
    body = task_result(env.workflow_name, env.node_id, outputs, owner=owner if env.workflow_uid else None,
                       phase=phase, message=message, pod_uid=os.environ.get("ARGO_POD_UID"))
    rt = resource_type("WorkflowTaskResult")
    first_error: KubeApiError | None = None
    try:
        try:
            api.create(rt, body, env.namespace)
        except KubeApiError as exc:
            if exc.status != 409:
                raise
            current = api.get(rt, env.node_id, env.namespace)
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            api.replace(rt, body, env.namespace)
        return 0
    except (Forbidden, NotFound) as exc:  # no CRD, or a role without workflowtaskresults: use the pod
        first_error = exc
    except KubeApiError as exc:
        first_error = exc
    annotations = {ANNOTATION_OUTPUTS: json.dumps(outputs, separators=(",", ":"))}
    if message:
        annotations[ANNOTATION_NODE_MESSAGE] = message
    if phase:
        annotations["argosy.io/node-phase"] = phase
    try:
        api.patch(resource_type("Pod"), env.pod_name, {"metadata": {"annotations": annotations}}, env.namespace)
        return 0
    except KubeApiError as exc:
        hint = ""
        if isinstance(exc, Forbidden) or isinstance(first_error, Forbidden):
            sa = os.environ.get("ARGOSY_SERVICE_ACCOUNT") or "default"
            hint = f": verify serviceaccount {env.namespace}:{sa} has necessary privileges"
        return _fail(f"failed to save outputs{hint} ({first_error}; {exc})")


# ------------------------------------------------------------------------------------ resource


def resource(env: PodEnv, base: Path = Path("/"), *, api: Any = None) -> int:
    """Run a resource template's action and report its verdict and output parameters."""
    from argosy.pipeline.kube.resource import run_resource

    tmpl = env.template
    if tmpl.resource is None:
        return _fail("argosy exec resource: the template has no resource")
    manifest = tmpl.resource.manifest or ""
    try:
        api = api or _api()
        if tmpl.resource.manifest_from is not None:
            wanted = tmpl.resource.manifest_from.artifact.name
            art = next((a for a in (tmpl.inputs.artifacts if tmpl.inputs else None) or [] if a.name == wanted), None)
            if art is None:
                return _fail(f"manifestFrom: input artifact '{wanted}' not found")
            with tempfile.TemporaryDirectory(prefix="argosy-manifest-") as tmp:
                dest = Path(tmp) / "manifest.yaml"
                if not _manager(env, base).load_input(art, dest):
                    return _fail(f"required artifact '{art.name}' not supplied")
                manifest = dest.read_text()
        owner = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": env.workflow_name,
                 "uid": env.workflow_uid, "controller": True, "blockOwnerDeletion": True}
        result = run_resource(api, tmpl, manifest, env.namespace, owner=owner, log=lambda line: print(line, flush=True))
    except ArgosyError as exc:
        result = None
        error = str(exc)
    if result is None:
        code = report(env, {}, phase="Failed", message=error, api=api)
        _fail(error)
        return 1 if code == 0 else code
    code = report(env, result.outputs, phase=result.phase, message=result.message, api=api)
    if code:
        return code
    if result.phase != "Succeeded":
        return _fail(result.message or "resource failed")
    return 0


# ------------------------------------------------------------------------------------ gc


class PodGCStore:
    """What ``argosy.gc.worker`` needs from a store, inside an artifact GC pod (API + mounted secrets)."""

    def __init__(self, api: Any, namespace: str, secrets: MountedSecrets) -> None:
        from argosy.pipeline.kube.client import resource_type

        self.api = api
        self.namespace = namespace
        self.secrets = secrets
        self.artifacts_dir = secrets.artifacts_dir
        self.rt = resource_type("WorkflowArtifactGCTask")

    def get_document(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.secrets.get_document(kind, name, namespace)

    def get_gc_task(self, name: str) -> dict[str, Any] | None:
        items = self.api.list_objects(self.rt, self.namespace, field_selector=f"metadata.name={name}").get("items") or []
        return dict(items[0]) if items else None

    def put_gc_task(self, task: dict[str, Any]) -> dict[str, Any]:
        """Only the status is ours to write (the ``artifactgc`` role grants ``patch`` on the status)."""
        name = task["metadata"]["name"]
        out: dict[str, Any] = self.api.patch(self.rt, name, {"status": task.get("status") or {}}, self.namespace, subresource="status")
        return out

    def list_workflows(self, namespace: str | None = None, **_: Any) -> list[dict[str, Any]]:
        """Workflows that may share objects with the ones deleted; empty (no sharing check) if forbidden."""
        from argosy.pipeline.kube.client import KubeApiError, resource_type

        try:
            return list(self.api.list_objects(resource_type("Workflow"), namespace or self.namespace).get("items") or [])
        except KubeApiError as exc:
            print(f"cannot list workflows ({exc}); objects shared with other workflows are not protected", file=sys.stderr)
            return []


def gc(env_vars: dict[str, str] | None = None, base: Path = Path("/"), *, api: Any = None) -> int:
    """Run every WorkflowArtifactGCTask of this pod (label ``workflows.argoproj.io/artifact-gc-pod``)."""
    from argosy.gc.tasks import GC_POD_LABEL
    from argosy.gc.worker import run_tasks
    from argosy.pipeline.kube.client import resource_type
    from argosy.pipeline.names import fnv32a

    env = dict(os.environ if env_vars is None else env_vars)
    pod, namespace = env.get("ARGO_POD_NAME", ""), env.get("ARGO_NAMESPACE") or "default"
    try:
        api = api or _api()
        store = PodGCStore(api, namespace, MountedSecrets(_in(base, "argo/secret")))
        listing = api.list_objects(resource_type("WorkflowArtifactGCTask"), namespace, label_selector=f"{GC_POD_LABEL}={fnv32a(pod)}")
        names = sorted(str(t["metadata"]["name"]) for t in listing.get("items") or [])
        if not names:
            return _fail(f"no WorkflowArtifactGCTask for pod {pod}")
        print(f"artifact GC pod {pod}: tasks {', '.join(names)}", flush=True)
        ok = run_tasks(cast(Any, store), names, lambda line: print(line, flush=True))
    except ArgosyError as exc:
        return _fail(f"artifact GC failed: {exc}")
    print("artifacts deleted" if ok else "some artifacts could not be deleted", flush=True)
    return 0 if ok else 1


# ------------------------------------------------------------------------------------ entry


def main(command: str) -> int:
    """``argosy exec COMMAND`` inside a pod."""
    try:
        if command == "gc":
            return gc()
        if command == "init":
            return init()
        env = PodEnv.from_environ()
        if command == "wait":
            return wait(env)
        if command == "resource":
            return resource(env)
    except ArgosyError as exc:
        return _fail(str(exc))
    return _fail(f"unknown exec command {command!r}")
