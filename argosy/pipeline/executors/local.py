"""Runs each pod as a sandboxed host process: the embedded default executor (no cluster, no Docker).

A pod's life here mirrors Argo's init/main/wait containers: inputs are placed at their paths in
the step's private filesystem, the main command runs in the sandbox, then outputs (parameters,
result, artifacts, logs) are collected, also when main failed.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from argosy.errors import ArgosyError, ExecutorError
from argosy.pipeline.config import ControllerConfig
from argosy.pipeline.executors.base import Executor, PodRequest, PodResult, drain
from argosy.pipeline.model import Artifact, Outputs, Parameter, Template
from argosy.pipeline.status import format_time, now

__all__ = ["ArtifactService", "LocalExecutor", "collect_outputs", "command_for"]

SCRIPT_PATH = "/argo/staging/script"
MAX_RESULT = 256 * 1024
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


class ArtifactService(Protocol):
    """Moves artifact bytes for a pod (implemented in ``argosy.pipeline.artifacts``)."""

    def load_input(self, art: Artifact, dest: Path) -> bool: ...

    def save_output(self, art: Artifact, src: Path, key_prefix: str, pod: PodRequest) -> Artifact | None: ...

    def save_log(self, log: Path, key_prefix: str, pod: PodRequest) -> Artifact | None: ...


def command_for(container: Any, config: ControllerConfig, *, script: bool = False) -> list[str]:
    """The argv of a container: its command+args, or the image's entrypoint from the index."""
    command = list(container.command or [])
    args = list(container.args or [])
    if not command:
        entry = config.image_entry(container.image)
        if entry is None:
            raise ExecutorError(
                f"image '{container.image}' has no command and no entry in the controller config's images index; "
                "add `command:` to the template or `images: {" + str(container.image) + ": {entrypoint: [...]}}` "
                "to the workflow-controller-configmap"
            )
        command = list(entry.get("entrypoint") or [])
        if not args:
            args = list(entry.get("cmd") or [])
        if not command:
            command, args = args, []
    argv = command + args
    if script:
        argv.append(SCRIPT_PATH)
    if not argv:
        raise ExecutorError(f"image '{container.image}': nothing to run")
    return argv


@dataclass
class _Running:
    request: PodRequest
    thread: threading.Thread
    process: Any = None
    kill_message: str | None = None


class LocalExecutor(Executor):
    """Pods as sandboxed processes, each supervised by a thread."""

    starts_immediately = True

    def __init__(
        self,
        *,
        runs_dir: Path,
        log_path: Callable[[str, str], Path],
        config: ControllerConfig,
        artifacts: ArtifactService | None,
        env_resolver: Callable[[dict[str, Any]], str | None] | None = None,
        keep_runs: bool = False,
    ) -> None:
        self.runs_dir = runs_dir
        self.log_path = log_path
        self.config = config
        self.artifacts = artifacts
        self.env_resolver = env_resolver
        self.keep_runs = keep_runs or bool(os.environ.get("ARGOSY_KEEP_RUNS"))
        self._results: queue.Queue[PodResult] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Executor API

    def launch(self, request: PodRequest) -> None:
        thread = threading.Thread(target=self._run, args=(request,), name=f"pod-{request.pod_name}", daemon=True)
        with self._lock:
            self._running[request.pod_name] = _Running(request, thread)
        thread.start()

    def wait(self, timeout: float | None) -> list[PodResult]:
        return drain(self._results, timeout)

    def kill(self, pod_name: str, message: str) -> None:
        with self._lock:
            running = self._running.get(pod_name)
        if running is None:
            return
        running.kill_message = message
        if running.process is not None:
            running.process.kill()

    def active(self) -> set[str]:
        with self._lock:
            return set(self._running)

    def close(self) -> None:
        for name in list(self.active()):
            self.kill(name, "executor closed")

    # ------------------------------------------------------------------ one pod

    def _run(self, req: PodRequest) -> None:
        started = format_time(now())
        try:
            result = self._run_pod(req)
        except ArgosyError as exc:
            result = PodResult(req.pod_name, req.node_id, "Error", str(exc))
        except Exception as exc:  # a bug must not hang the workflow; report it on the node
            result = PodResult(req.pod_name, req.node_id, "Error", f"internal error running pod: {type(exc).__name__}: {exc}")
        result.started_at = result.started_at or started
        result.finished_at = result.finished_at or format_time(now())
        with self._lock:
            self._running.pop(req.pod_name, None)
        self._results.put(result)

    def _run_pod(self, req: PodRequest) -> PodResult:
        from argosy.pipeline.executors import sandbox

        tmpl = req.template
        step_dir = self.runs_dir / req.workflow_name / req.pod_name
        if step_dir.exists():
            shutil.rmtree(step_dir, ignore_errors=True)
        step_dir.mkdir(parents=True, exist_ok=True)
        fs = sandbox.StepFilesystem(step_dir)
        log = self.log_path(req.workflow_name, req.pod_name)
        try:
            _make_empty_dirs(req, fs)
            container = tmpl.script or tmpl.container
            if container is None:
                if tmpl.container_set is not None:
                    return self._run_container_set(req, fs, log, step_dir)
                kind = "resource" if tmpl.resource is not None else "this template type"
                return PodResult(req.pod_name, req.node_id, "Error", f"{kind} templates need Kubernetes: run with --kubernetes")
            # init: inputs
            for art in req.input_artifacts:
                if not art.path:
                    continue
                loaded = self._load_input(art, fs.host_path(art.path))
                if not loaded and not art.optional:
                    return PodResult(req.pod_name, req.node_id, "Error", f"required artifact '{art.name}' not supplied")
            self._image_paths(container, fs)
            if tmpl.script is not None:
                script = fs.host_path(SCRIPT_PATH)
                script.parent.mkdir(parents=True, exist_ok=True)
                script.write_text(tmpl.script.source)
                script.chmod(0o755)
            argv = command_for(container, self.config, script=tmpl.script is not None)
            env = self._env(req, container)
            stdout_path = step_dir / "stdout"
            stderr_path = step_dir / "stderr"
            spec = sandbox.SandboxSpec(
                argv=argv,
                env=env,
                working_dir=container.working_dir,
                fs=fs,
                stdout_path=stdout_path,
                stderr_path=stderr_path,
                log_path=log,
                timeout=req.deadline_seconds,
            )
            with self._lock:
                running = self._running.get(req.pod_name)
            proc = sandbox.start(spec)
            if running is not None:
                running.process = proc
                if running.kill_message:
                    proc.kill()
            res = proc.wait()
            # wait: outputs (also when main failed)
            outputs, problems = collect_outputs(self.artifacts, req, tmpl, fs, stdout_path, res.exit_code, log)
            if running is not None and running.kill_message:
                return PodResult(req.pod_name, req.node_id, "Failed", running.kill_message, outputs, format_time(res.started_at), format_time(res.finished_at))
            if res.timed_out:
                return PodResult(req.pod_name, req.node_id, "Failed", DEADLINE_MESSAGE, outputs, format_time(res.started_at), format_time(res.finished_at))
            if problems:
                return PodResult(req.pod_name, req.node_id, "Error", "; ".join(problems), outputs, format_time(res.started_at), format_time(res.finished_at))
            if res.exit_code != 0:
                message = res.error or f"main: Error (exit code {res.exit_code})"
                if res.error:
                    message = res.error
                return PodResult(req.pod_name, req.node_id, "Failed", message, outputs, format_time(res.started_at), format_time(res.finished_at))
            return PodResult(req.pod_name, req.node_id, "Succeeded", None, outputs, format_time(res.started_at), format_time(res.finished_at))
        finally:
            if not self.keep_runs:
                try:
                    fs.remove()
                except Exception:  # cleanup must not mask the pod's result
                    shutil.rmtree(step_dir, ignore_errors=True)

    def _run_container_set(self, req: PodRequest, fs: Any, log: Path, step_dir: Path) -> PodResult:
        """One pod, several containers sharing its filesystem, run in dependency order."""
        from argosy.pipeline.executors import sandbox

        tmpl = req.template
        cset = tmpl.container_set
        assert cset is not None
        for art in req.input_artifacts:
            if art.path and not self._load_input(art, fs.host_path(art.path)) and not art.optional:
                return PodResult(req.pod_name, req.node_id, "Error", f"required artifact '{art.name}' not supplied")
        retries = int(str(cset.retry_strategy.retries)) if cset.retry_strategy is not None else 0
        states: dict[str, dict[str, Any]] = {}
        pending = {c.name or "": c for c in cset.containers}
        started = format_time(now())
        main_stdout: Path | None = None
        while pending:
            ready = [c for c in pending.values() if all(states.get(d, {}).get("phase") == "Succeeded" for d in c.dependencies or [])]
            blocked = [c for c in pending.values() if any(states.get(d, {}).get("phase") not in (None, "Succeeded") for d in c.dependencies or [])]
            for c in blocked:
                states[c.name or ""] = {"phase": "Omitted", "message": "a dependency did not succeed"}
                pending.pop(c.name or "")
            if not ready:
                break
            procs = []
            for c in ready:
                pending.pop(c.name or "")
                out = step_dir / f"stdout.{c.name}"
                if c.name == "main":
                    main_stdout = out
                for attempt in range(retries + 1):
                    argv = command_for(c, self.config)
                    spec = sandbox.SandboxSpec(argv=argv, env=self._env(req, c), working_dir=c.working_dir, fs=fs, stdout_path=out, stderr_path=step_dir / f"stderr.{c.name}", log_path=step_dir / f"log.{c.name}", timeout=req.deadline_seconds)
                    procs.append((c, attempt, sandbox.start(spec)))
                    break
            for c, _attempt, proc in procs:
                res = proc.wait()
                for _tries in range(retries):
                    if res.exit_code == 0 or res.timed_out:
                        break
                    spec = sandbox.SandboxSpec(argv=command_for(c, self.config), env=self._env(req, c), working_dir=c.working_dir, fs=fs, stdout_path=step_dir / f"stdout.{c.name}", stderr_path=step_dir / f"stderr.{c.name}", log_path=step_dir / f"log.{c.name}", timeout=req.deadline_seconds)
                    res = sandbox.start(spec).wait()
                phase = "Succeeded" if res.exit_code == 0 else ("Error" if res.exit_code == 64 else "Failed")
                message = None if phase == "Succeeded" else (DEADLINE_MESSAGE if res.timed_out else res.error or f"Error (exit code {res.exit_code})")
                states[c.name or ""] = {"phase": phase, "message": message, "startedAt": format_time(res.started_at), "finishedAt": format_time(res.finished_at), "exitCode": res.exit_code}
                part = step_dir / f"log.{c.name}"
                if part.exists():
                    with log.open("ab") as dst, part.open("rb") as src:
                        shutil.copyfileobj(src, dst)
        failed = [n for n, st in states.items() if st.get("phase") in ("Failed", "Error")]
        exit_code = int(states.get("main", {}).get("exitCode") or 0)
        outputs, problems = collect_outputs(self.artifacts, req, tmpl, fs, main_stdout or (step_dir / "stdout.none"), exit_code, log)
        if main_stdout is None:
            outputs.result = None
        if failed:
            first = states[failed[0]]
            return PodResult(req.pod_name, req.node_id, first["phase"], f"{failed[0]}: {first['message']}", outputs, started, containers=states)
        if problems:
            return PodResult(req.pod_name, req.node_id, "Error", "; ".join(problems), outputs, started, containers=states)
        return PodResult(req.pod_name, req.node_id, "Succeeded", None, outputs, started, containers=states)

    def _image_paths(self, container: Any, fs: Any) -> None:
        """Files the images index says the image has (``images.IMAGE.paths``), copied into the step."""
        entry = self.config.image_entry(container.image) or {}
        for target, source in (entry.get("paths") or {}).items():
            src = Path(source)
            if not src.exists():
                raise ExecutorError(f"images index: '{container.image}' path {target} maps to {source}, which does not exist")
            dest = fs.host_path(target)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest)

    def _load_input(self, art: Artifact, dest: Path) -> bool:
        if self.artifacts is None:
            raise ExecutorError(f"input artifact '{art.name}': no artifact service configured")
        dest.parent.mkdir(parents=True, exist_ok=True)
        loaded = self.artifacts.load_input(art, dest)
        if loaded and art.mode is not None:
            _chmod(dest, art.mode, bool(art.recurse_mode))
        return loaded

    def _env(self, req: PodRequest, container: Any) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": "/root" if os.geteuid() == 0 else os.environ.get("HOME", "/tmp"),
            "ARGO_POD_NAME": req.pod_name,
            "ARGO_NODE_ID": req.node_id,
            "ARGO_WORKFLOW_NAME": req.workflow_name,
            "ARGO_WORKFLOW_UID": req.workflow_uid,
            "ARGO_CONTAINER_NAME": "main",
            "ARGO_PROGRESS_FILE": "/var/run/argo/progress",
        }
        for var in ("LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_ROOT", "PYENV_VERSION"):
            if var in os.environ:
                env[var] = os.environ[var]
        for item in container.env or []:
            if item.value is not None:
                env[item.name] = item.value
            elif item.value_from is not None and self.env_resolver is not None:
                value = self.env_resolver(item.value_from)
                if value is not None:
                    env[item.name] = value
        return env


def collect_outputs(artifacts: Any, req: PodRequest, tmpl: Template, fs: Any, stdout_path: Path, exit_code: int, log: Path) -> tuple[Outputs, list[str]]:
    """A finished main container's outputs: exit code, ``result``, parameters, artifacts, logs.

    ``fs`` maps the template's paths to where main left them (``read_path``); ``artifacts`` is the
    ArtifactManager that saves them (or None). Shared by the local executor and the pod's ``wait``
    container; returns the outputs and one message per problem (the node fails with them).
    """
    outputs = Outputs(exit_code=str(exit_code))
    problems: list[str] = []
    if req.include_result:
        outputs.result = _read_result(stdout_path)
    declared = tmpl.outputs
    if declared is not None:
        params = []
        for p in declared.parameters or []:
            vf = p.value_from
            value: str | None = None
            if vf is not None and vf.path:
                try:
                    src = fs.read_path(vf.path)
                    value = src.read_text(errors="replace") if src.is_file() else None
                except OSError:
                    value = None
                if value is not None and value.endswith("\n"):
                    value = value[:-1]
                if value is None:
                    if vf.default is not None:
                        value = vf.default
                    else:
                        problems.append(f"failed to get output parameter '{p.name}': open {vf.path}: no such file or directory")
                        continue
            elif vf is not None and vf.default is not None:
                value = vf.default
            elif p.value is not None:
                value = p.value
            if value is not None:
                params.append(_out_param(p.name, value, p.global_name))
        if params:
            outputs.parameters = params
        arts = []
        for art in declared.artifacts or []:
            if not art.path:
                continue
            try:
                src = fs.read_path(art.path)
            except OSError:
                src = None
            if src is None or not (src.exists() or src.is_symlink()):
                if art.optional:
                    continue
                problems.append(f"output artifact '{art.name}': {art.path}: no such file or directory")
                continue
            if artifacts is None:
                problems.append(f"output artifact '{art.name}': no artifact repository configured")
                continue
            try:
                saved = artifacts.save_output(art, src, req.output_key_prefix, req)
            except ArgosyError as exc:
                problems.append(f"failed to save output artifact '{art.name}': {exc}")
                continue
            if saved is not None:
                arts.append(saved)
        if req.archive_logs and artifacts is not None and log.exists():
            try:
                saved_log = artifacts.save_log(log, req.output_key_prefix, req)
                if saved_log is not None:
                    arts.append(saved_log)
            except ArgosyError as exc:
                problems.append(f"failed to save main-logs: {exc}")
        if arts:
            outputs.artifacts = arts
    elif req.archive_logs and artifacts is not None and log.exists():
        try:
            saved_log = artifacts.save_log(log, req.output_key_prefix, req)
            if saved_log is not None:
                outputs.artifacts = [saved_log]
        except ArgosyError as exc:
            problems.append(f"failed to save main-logs: {exc}")
    return outputs, problems




def _make_empty_dirs(req: PodRequest, fs: Any) -> None:
    """``emptyDir`` volumes: their mount paths exist (empty) in the step, as in a pod.

    Mounts of the template's containers (and a containerSet's shared ``volumeMounts``) whose
    volume is an ``emptyDir`` of the template or the workflow become directories in the step's
    private filesystem; containers of one containerSet share them.
    """
    tmpl = req.template
    volumes = {str(v.get("name")): v for v in (req.extra.get("volumes") or []) if isinstance(v, dict)}
    volumes.update({str(v.get("name")): v for v in tmpl.volumes or [] if isinstance(v, dict)})
    mounts: list[Any] = []
    for c in (tmpl.container, tmpl.script, *(tmpl.container_set.containers if tmpl.container_set else [])):
        if c is not None:
            mounts.extend(c.volume_mounts or [])
    if tmpl.container_set is not None:
        mounts.extend(tmpl.container_set.volume_mounts or [])
    for mount in mounts:
        if not isinstance(mount, dict) or not mount.get("mountPath"):
            continue
        volume = volumes.get(str(mount.get("name")))
        if volume is not None and "emptyDir" in volume:
            fs.host_path(str(mount["mountPath"])).mkdir(parents=True, exist_ok=True)


def _read_result(path: Path) -> str:
    """``outputs.result``: stdout, one trailing newline trimmed, the last 256 KiB kept."""
    try:
        size = path.stat().st_size
    except OSError:
        return ""
    with path.open("rb") as fh:
        if size > MAX_RESULT:
            fh.seek(size - MAX_RESULT)
        data = fh.read()
    text = data.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\n") else text


def _chmod(path: Path, mode: int, recurse: bool) -> None:
    try:
        path.chmod(mode)
        if recurse and path.is_dir():
            for p in path.rglob("*"):
                if not p.is_symlink():
                    p.chmod(mode)
    except OSError as exc:
        raise ExecutorError(f"cannot set mode {oct(mode)} on {path}: {exc}") from None


def _out_param(name: str, value: str | None, global_name: str | None) -> Parameter:
    """An output parameter as Argo serialises it: no ``globalName: null`` when there is none."""
    if global_name is None:
        return Parameter(name=name, value=value)
    return Parameter(name=name, value=value, global_name=global_name)
