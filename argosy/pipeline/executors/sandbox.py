"""Run one workflow step as a host process inside a private, copy-on-write view of "/".

Argo steps name absolute paths (``/tmp/out.txt``, ``/mnt/out``, ``/src``) because they run in
containers. Without a cluster we run the host's own tools instead, but each step still needs
its own writable "/": two parallel steps both writing ``/tmp/hello_world.txt`` must not clash,
and nothing may land on the host's real paths.

``overlay`` mode (Linux, root or unprivileged user namespaces): the step's root is the
per-step directory ``<step_dir>/root``; every host directory is shown through an overlay
whose upper dir is the matching directory inside it (see :mod:`.sandbox_view`). So:

* before the run, ``fs.host_path("/tmp/message")`` is where to *place* an input;
* during the run, every write of the step lands under ``<step_dir>/root``;
* after the run, ``fs.read_path(p)`` is the file the step saw at ``p`` (its own copy, else the
  host's); ``fs.remove()`` deletes the whole area.

``/tmp`` starts empty (like a container's), ``/proc`` belongs to a new pid namespace, and when
the main process ends or is killed, the kernel kills every other process of the step.

``none`` mode (no namespaces available, or ``ARGOSY_SANDBOX=none``): steps run directly on the
host, paths map to the host's own, and the process group is killed instead. Argosy warns once.

Limits: files lying directly beside a host mount (``/.dockerenv``, Docker's ``/etc/hosts``)
are read-only to the step; without root, the step is root only over files the user owns, so
it cannot change other users' files nor create entries in their directories (``/usr/share``)
unless the caller created that directory with ``host_path(d).mkdir(parents=True)`` first;
in ``none`` mode a process that leaves the session (``setsid``) escapes the kill. Overlays
are mounted "volatile" where the kernel allows (5.10+): a step's fsync is not forced to disk,
which keeps step teardown from waiting on every other writer's dirty data.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from argosy.errors import ExecutorError
from argosy.pipeline.executors import sandbox_view as view
from argosy.pipeline.executors.sandbox_ns import ChildSetup, SetupPlan

__all__ = [
    "MODES",
    "SandboxProcess",
    "SandboxResult",
    "SandboxSpec",
    "StepFilesystem",
    "detect_mode",
    "start",
]

log = logging.getLogger(__name__)

#: Sandbox modes, best first. ``ARGOSY_SANDBOX`` may force one of them.
MODES = ("overlay", "none")

_UPPER = "root"
_WORK = ".work"
_PLACEHOLDERS = ".placeholders"
_KILL_GRACE = 5.0  # seconds before a kill request escalates to SIGKILL of the supervisor
_DRAIN = 2.0  # seconds to keep reading output after the main process exited


# ---------------------------------------------------------------------------------------------
# mode detection


@dataclass(frozen=True)
class _Support:
    available: bool
    userns: bool  # mount through a user namespace (always, unless root may mount directly)
    volatile: bool  # overlayfs "volatile": no syncfs of the whole host disk per step teardown
    reason: str


def _sysctl(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _precheck() -> str:
    """A clear reason when namespaces are obviously off; "" when a probe is worth trying."""
    if sys.platform != "linux":
        return f"process namespaces need Linux, this is {sys.platform}"
    if os.geteuid() != 0:
        if _sysctl("/proc/sys/user/max_user_namespaces") == "0":
            return "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0"
        if _sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0":
            return (
                "unprivileged user namespaces are disabled: /proc/sys/kernel/unprivileged_userns_clone is 0"
            )
    return ""


def _probe(userns: bool, volatile: bool) -> str | None:
    """Run a real step writing to /tmp and through an overlay; None if it worked, else why not."""
    tmp = tempfile.mkdtemp(prefix="argosy-sandbox-probe-")
    try:
        fs = StepFilesystem._unchecked(Path(tmp) / "step", _Support(True, userns, volatile, ""))
        script = "echo ok > /tmp/probe && echo ok > /etc/.argosy-probe"
        proc = start(SandboxSpec(argv=["sh", "-c", script], fs=fs, timeout=30))
        res = proc.wait()
        if res.exit_code != 0:
            problem = f"a test step failed with exit code {res.exit_code}"
        elif fs.read_path("/etc/.argosy-probe") == Path("/etc/.argosy-probe"):
            problem = "a test step's output did not land in its sandbox"
        elif volatile and any(w.startswith("could not overlay") for w in proc.warnings):
            problem = "overlays fail with the volatile option"
        else:
            return None  # other warnings (say, an unusual host mount shown read-only) are fine
        return "; ".join([problem, *proc.warnings])
    except (ExecutorError, OSError) as exc:
        return str(exc)
    finally:
        view.rmtree(Path(tmp))


@functools.cache
def _overlay_support() -> _Support:
    reason = _precheck()
    if reason:
        return _Support(False, False, False, reason)
    # Root can mount directly; otherwise (or if that is forbidden, e.g. in a container)
    # a user namespace gives the step the mount rights it needs.
    errors = []
    for userns in [False, True] if os.geteuid() == 0 else [True]:
        for volatile in (True, False):  # "volatile" needs Linux 5.10
            err = _probe(userns, volatile)
            if err is None:
                return _Support(True, userns, volatile, "")
            errors.append(err)
    if _sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        errors.append("kernel.apparmor_restrict_unprivileged_userns is 1")
    return _Support(False, False, False, "; ".join(dict.fromkeys(errors)))


def detect_mode() -> str:
    """The sandbox mode steps get here: ``overlay`` if namespaces work, else ``none``.

    ``ARGOSY_SANDBOX=overlay|none`` forces a mode; forcing one that cannot work raises
    :class:`ExecutorError` with the reason. The probe (one real step, ~20 ms) runs once per process.
    """
    forced = os.environ.get("ARGOSY_SANDBOX", "").strip().lower()
    if forced in ("", "auto"):
        return "overlay" if _overlay_support().available else "none"
    if forced == "none":
        return "none"
    if forced == "overlay":
        support = _overlay_support()
        if not support.available:
            raise ExecutorError(f"ARGOSY_SANDBOX=overlay, but the sandbox cannot work here: {support.reason}")
        return "overlay"
    raise ExecutorError(
        f"ARGOSY_SANDBOX={forced!r} is not a sandbox mode; use one of: auto, {', '.join(MODES)}"
    )


_none_warned = False
_warn_lock = threading.Lock()


def _warn_no_isolation(reason: str) -> None:
    global _none_warned
    with _warn_lock:
        if _none_warned:
            return
        _none_warned = True
    log.warning(
        "Steps are not sandboxed (%s): they run directly on the host and share its filesystem, "
        "so files they write stay on the host and parallel steps writing the same absolute path "
        "(e.g. /tmp/out.txt) will clash.",
        reason,
    )


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Sandbox degradations (e.g. a host dir that cannot be overlaid) repeat for every step."""
    with _warn_lock:
        first = message not in _warned
        _warned.add(message)
    log.log(logging.WARNING if first else logging.DEBUG, "sandbox: %s", message)


# ---------------------------------------------------------------------------------------------
# the step's filesystem


class StepFilesystem:
    """A step's private view of "/", kept in ``step_dir`` (see the module docstring).

    Layout: ``root/`` is the step's "/" (everything it or the caller wrote), ``.work/`` holds
    overlayfs scratch dirs. Use a fresh ``step_dir`` per attempt (a retry, like a new
    container, must not see the previous attempt's files) and run one process at a time in it.
    """

    step_dir: Path
    mode: str
    private: frozenset[str]
    _support: _Support
    _quiet: bool  # the detection probe collects warnings instead of logging them

    def __init__(
        self,
        step_dir: str | os.PathLike[str],
        mode: str | None = None,
        *,
        private_dirs: Iterable[str] = ("/tmp",),
    ) -> None:
        """``mode`` defaults to :func:`detect_mode`; ``private_dirs`` (top-level only) start empty."""
        requested = mode
        if mode is None:
            mode = detect_mode()
        elif mode not in MODES:
            raise ExecutorError(f"unknown sandbox mode {mode!r}; use one of: {', '.join(MODES)}")
        support = _Support(False, False, False, "")
        if mode == "overlay":
            support = _overlay_support()
            if not support.available:
                raise ExecutorError(f"the overlay sandbox cannot work here: {support.reason}")
        elif requested == "none":
            _warn_no_isolation("mode='none' was requested")
        elif os.environ.get("ARGOSY_SANDBOX", "").strip().lower() == "none":
            _warn_no_isolation("ARGOSY_SANDBOX=none")
        else:
            _warn_no_isolation(_overlay_support().reason)
        self._setup(Path(step_dir), mode, support, private_dirs)

    @classmethod
    def _unchecked(cls, step_dir: Path, support: _Support) -> StepFilesystem:
        """Build without detection (the detection probe itself needs one)."""
        fs = cls.__new__(cls)
        fs._setup(step_dir, "overlay", support, ("/tmp",))
        fs._quiet = True
        return fs

    def _setup(self, step_dir: Path, mode: str, support: _Support, private_dirs: Iterable[str]) -> None:
        self.step_dir = step_dir.absolute()
        self.mode = mode
        self._support = support
        self._quiet = False
        names = set()
        for d in private_dirs:
            parts = [p for p in d.split("/") if p]
            if (
                not d.startswith("/")
                or len(parts) != 1
                or parts[0] in view.SPECIAL_DIRS
                or parts[0] in (".", "..")
            ):
                raise ExecutorError(f"private_dirs must be top-level directories like /tmp, got {d!r}")
            names.add(parts[0])
        self.private = frozenset(names)
        if self.isolated:
            self.root.mkdir(parents=True, exist_ok=True)

    @property
    def isolated(self) -> bool:
        """False in ``none`` mode, where sandbox paths are the host's own."""
        return self.mode != "none"

    @property
    def root(self) -> Path:
        """The host directory that is the step's "/" (its upper dir); the real "/" if not isolated."""
        return self.step_dir / _UPPER if self.isolated else Path("/")

    def host_path(self, path: str) -> Path:
        """Host location of the absolute sandbox ``path``: write here to place an input.

        Symlinks in the directories are followed as the step would (``/bin/kubectl`` lands in
        ``usr/bin`` on a merged-/usr host); a final symlink is not, so a placed file replaces it.
        Parent directories are the caller's to create; directories created here are writable
        by the step even when it runs without root.
        """
        return self._map(path, follow_last=False)

    def _map(self, path: str, follow_last: bool) -> Path:
        if not self.isolated:
            if not path.startswith("/"):
                raise ExecutorError(f"sandbox paths must be absolute, got {path!r}")
            return Path("/" + os.path.normpath(path).lstrip("/"))
        parts = view.resolve(self.root, self.private, path, follow_last)
        if parts and parts[0] in view.SPECIAL_DIRS:
            raise ExecutorError(f"{path} is under /{parts[0]}, which the sandbox provides itself")
        return self.root.joinpath(*parts)

    def read_path(self, path: str) -> Path:
        """The host file holding what the step saw at ``path``: its own copy, else the host's.

        Symlinks are followed, as reading the path inside the step would. Raises
        FileNotFoundError if neither exists or the step deleted it. For a directory the step's
        copy holds only what it (or the caller) wrote there, not the host's entries.
        """
        target = self._map(path, follow_last=True)
        if not self.isolated:
            if not os.path.lexists(target):
                raise FileNotFoundError(errno.ENOENT, "no such file on the host", path)
            return target
        parts = list(target.relative_to(self.root).parts)
        try:
            st = os.lstat(target)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None:
            if view.is_whiteout(st):
                raise FileNotFoundError(errno.ENOENT, "the step deleted this file", path)
            return target
        if view.host_visible(self.root, self.private, parts):
            host = Path("/", *parts)
            if os.path.lexists(host):
                return host
        raise FileNotFoundError(errno.ENOENT, "no such file in the step's filesystem", path)

    def remove(self) -> None:
        """Delete the per-step area; call after the step ended and its outputs were collected.

        Mounts live only in the step's own mount namespace, which the kernel tears down when
        its last process exits, so there is nothing to unmount on the host.
        """
        view.rmtree(self.step_dir)

    def __repr__(self) -> str:
        return f"StepFilesystem({str(self.step_dir)!r}, mode={self.mode!r})"


# ---------------------------------------------------------------------------------------------
# running a step


@dataclass(kw_only=True)
class SandboxSpec:
    """What to run. ``env`` is exactly the step's environment (plus the host's PATH if absent)."""

    argv: list[str]
    fs: StepFilesystem
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None  # created if missing, as container runtimes do
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    log_path: Path | None = None  # stdout and stderr lines, interleaved in arrival order
    timeout: float | None = None  # wall-clock seconds; then the whole process tree is killed
    hostname: str | None = None  # ignored in "none" mode


@dataclass(frozen=True)
class SandboxResult:
    """How a step ended. Signal deaths are reported as 128 + signal, as container runtimes do."""

    exit_code: int
    timed_out: bool
    killed: bool
    started_at: datetime
    finished_at: datetime
    error: str | None = None

    @property
    def duration(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class _Sinks:
    """Writes each stream to its own file and complete lines of both to the combined log."""

    def __init__(self, spec: SandboxSpec) -> None:
        self._files: dict[int, BinaryIO | None] = {}
        self.log: BinaryIO | None = None
        self.error: str | None = None
        self._partial = {1: bytearray(), 2: bytearray()}
        try:
            self._files[1] = self._open(spec.stdout_path)
            self._files[2] = self._open(spec.stderr_path)
            self.log = self._open(spec.log_path)
        except OSError as exc:
            self.close()
            raise ExecutorError(f"cannot open the step's log file {exc.filename}: {exc.strerror}") from exc

    @staticmethod
    def _open(path: Path | None) -> BinaryIO | None:
        if path is None:
            return None
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")  # noqa: SIM115 - closed by close()

    def feed(self, stream: int, data: bytes) -> None:
        try:
            out = self._files.get(stream)
            if out is not None:
                out.write(data)
                out.flush()
            if self.log is not None:
                buf = self._partial[stream]
                buf += data
                end = buf.rfind(b"\n") + 1
                if end:
                    self.log.write(buf[:end])
                    self.log.flush()
                    del buf[:end]
        except OSError as exc:
            self._fail(exc)

    def end(self, stream: int) -> None:
        buf = self._partial[stream]
        try:
            if self.log is not None and buf:
                self.log.write(bytes(buf) + b"\n")
                self.log.flush()
        except OSError as exc:
            self._fail(exc)
        buf.clear()

    def _fail(self, exc: OSError) -> None:
        """Keep the step running (its pipes must be drained) but stop writing and say why."""
        self.error = f"writing the step's logs failed: {exc}"
        self.close()
        self._files = {}
        self.log = None

    def close(self) -> None:
        for f in (*self._files.values(), self.log):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()


class SandboxProcess:
    """A running step. One supervisor thread reads its output, enforces the timeout and reaps it."""

    def __init__(
        self,
        spec: SandboxSpec,
        sinks: _Sinks,
        started_at: datetime,
        popen: subprocess.Popen[bytes] | None,
        *,
        lifeline: int | None = None,
        placeholders: list[Path] | None = None,
        failure: tuple[int, str] | None = None,
    ) -> None:
        self.spec = spec
        #: Host pid of the supervised process (None if the command could not be started).
        self.pid: int | None = popen.pid if popen is not None else None
        #: How the sandbox is degraded, e.g. a host dir that could only be shown read-only.
        self.warnings: list[str] = []
        self._popen = popen
        self._sinks = sinks
        self._started_at = started_at
        self._lifeline = lifeline
        self._lifeline_used = lifeline is not None  # i.e. a namespace sandbox
        self._placeholders = placeholders or []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result: SandboxResult | None = None
        self._killed = False
        self._timed_out = False
        self._kill_sent_at: float | None = None
        self._exited = False
        self._finished_at = started_at
        self._deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
        if popen is None:
            code, message = failure or (127, "the step could not be started")
            sinks.feed(2, message.encode() + b"\n")
            sinks.close()
            self._result = SandboxResult(code, False, False, started_at, _now(), message)
            self._done.set()
            return
        self._wake_r, self._wake_w = os.pipe()  # lets kill() interrupt the supervisor's select
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._supervise, name=f"sandbox-{popen.pid}", daemon=True)
        self._thread.start()

    # -- public API ----------------------------------------------------------------------------

    def poll(self) -> SandboxResult | None:
        """The result if the step has ended (and its output is written), else None."""
        return self._result if self._done.is_set() else None

    def wait(self, timeout: float | None = None) -> SandboxResult:
        """Block until the step has ended; raises TimeoutError if ``timeout`` seconds pass first."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"step (pid {self.pid}) still running after {timeout}s")
        assert self._result is not None
        return self._result

    def kill(self) -> None:
        """Kill the step's whole process tree; harmless if it already ended."""
        self._terminate(timed_out=False)

    # -- supervision ---------------------------------------------------------------------------

    def _terminate(self, timed_out: bool) -> None:
        popen = self._popen
        with self._lock:
            if popen is None or self._exited or self._kill_sent_at is not None:
                return
            if timed_out:
                self._timed_out = True
            else:
                self._killed = True
            self._kill_sent_at = time.monotonic()
            with contextlib.suppress(OSError):  # already gone
                if self._lifeline is not None:
                    os.write(self._lifeline, b"k")  # the supervisor in the sandbox kills pid 1
                else:
                    os.killpg(popen.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"w")

    def _mark_exited(self) -> None:
        with self._lock:
            self._exited = True
            self._finished_at = _now()
            if self._lifeline is None and self._popen is not None:
                # No pid namespace: end what the main process left behind, as a container
                # runtime would. The unreaped leader keeps the group id from being reused.
                with contextlib.suppress(OSError):
                    os.killpg(self._popen.pid, signal.SIGKILL)

    def _supervise(self) -> None:
        popen = self._popen
        assert popen is not None
        failure = None
        try:
            if self._lifeline_used:
                _relax_scratch_dirs(self.spec.fs.step_dir / _WORK)
            self._pump(popen)
        except BaseException as exc:  # a bug here must neither hang wait() nor leak the step
            failure = f"supervising the step failed: {exc!r}"
            with contextlib.suppress(OSError):
                os.kill(popen.pid, signal.SIGKILL)  # unreaped, so it is still ours to kill
        finally:
            self._finish(popen, failure)

    def _pump(self, popen: subprocess.Popen[bytes]) -> None:
        """Copy output to the sinks until the process exited and its pipes closed."""
        assert popen.stdout is not None and popen.stderr is not None
        sel = selectors.DefaultSelector()
        streams = {popen.stdout.fileno(): 1, popen.stderr.fileno(): 2}
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ, fd)
        sel.register(self._wake_r, selectors.EVENT_READ, -2)
        pidfd: int | None
        try:
            pidfd = os.pidfd_open(popen.pid)
            sel.register(pidfd, selectors.EVENT_READ, -1)
        except (AttributeError, OSError):
            pidfd = None
        drain_until: float | None = None
        escalated = False
        try:
            while True:
                now = time.monotonic()
                if not self._exited:
                    if self._deadline is not None and now >= self._deadline:
                        self._terminate(timed_out=True)
                    sent = self._kill_sent_at
                    if sent is not None and not escalated and now - sent > _KILL_GRACE:
                        escalated = True  # the in-sandbox supervisor did not react: kill it
                        os.kill(popen.pid, signal.SIGKILL)
                elif not streams or (drain_until is not None and now >= drain_until):
                    break
                for key, _ in sel.select(self._select_timeout(now, drain_until, pidfd)):
                    fd = key.data
                    if fd == -2:
                        os.read(self._wake_r, 64)
                    elif fd == -1:
                        sel.unregister(key.fileobj)
                        self._mark_exited()
                    else:
                        try:
                            chunk = os.read(fd, 65536)
                        except OSError:
                            chunk = b""
                        if chunk:
                            self._sinks.feed(streams[fd], chunk)
                        else:
                            sel.unregister(fd)
                            self._sinks.end(streams.pop(fd))
                if not self._exited and pidfd is None and _has_exited(popen.pid):
                    self._mark_exited()
                if self._exited and drain_until is None:
                    drain_until = time.monotonic() + _DRAIN
        finally:
            sel.close()
            if pidfd is not None:
                os.close(pidfd)

    def _select_timeout(self, now: float, drain_until: float | None, pidfd: int | None) -> float | None:
        limits = []
        if self._exited:
            limits.append(max(0.0, (drain_until or now) - now))
        else:
            if self._deadline is not None:
                limits.append(max(0.0, self._deadline - now))
            if self._kill_sent_at is not None:
                limits.append(max(0.0, self._kill_sent_at + _KILL_GRACE - now) + 0.01)
            if pidfd is None:
                limits.append(0.05)
        return min(limits) if limits else None

    def _finish(self, popen: subprocess.Popen[bytes], failure: str | None) -> None:
        code = -1
        try:
            code = popen.wait()
            if code < 0:
                code = 128 - code
            with self._lock:
                self._exited = True
                for fd in (self._lifeline, self._wake_r, self._wake_w):
                    if fd is not None:
                        os.close(fd)
                self._lifeline = None
            for pipe in (popen.stdout, popen.stderr):
                if pipe is not None:
                    pipe.close()
            self._sinks.close()
            _drop_placeholders(self.spec.fs, self._placeholders)
        except BaseException as exc:
            failure = failure or f"cleaning up after the step failed: {exc!r}"
        finally:
            if failure is not None or self._sinks.error is not None:
                error = failure or self._sinks.error
            elif self._timed_out:
                error = f"timed out after {self.spec.timeout:g}s; the step's processes were killed"
            elif self._killed:
                error = "killed; the step's processes were killed"
            else:
                error = None
            if self._finished_at == self._started_at:
                self._finished_at = _now()
            self._result = SandboxResult(
                code, self._timed_out, self._killed, self._started_at, self._finished_at, error
            )
            self._done.set()


def _relax_scratch_dirs(work: Path) -> None:
    """Overlayfs makes its scratch dirs mode 000, which a plain rmtree by a non-root user cannot
    delete. Relaxing them while the step runs keeps a step dir removable by ordinary tools."""
    with contextlib.suppress(OSError), os.scandir(work) as entries:
        for entry in entries:
            for sub in ("work", "work/incompat", "work/incompat/volatile"):
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(entry.path, sub), 0o700)


def _drop_placeholders(fs: StepFilesystem, paths: list[Path]) -> None:
    view.clean_placeholders(paths)
    (fs.step_dir / _PLACEHOLDERS).unlink(missing_ok=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _has_exited(pid: int) -> bool:
    """Exited, without reaping (so the pid and process group cannot be reused yet)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _exec_failure(argv0: str, exc: OSError) -> tuple[int, str]:
    """Exit code and message as a shell / Argo would report an exec failure."""
    if "/" not in argv0 and exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
        # A PATH search skips directories it may not read, as Go's exec.LookPath does.
        return 127, f'exec: "{argv0}": executable file not found in $PATH'
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return 127, f'exec: "{argv0}": stat {argv0}: no such file or directory'
    if exc.errno == errno.EACCES:
        return 126, f'exec: "{argv0}": permission denied'
    return 126, f'exec: "{argv0}": {(exc.strerror or str(exc)).lower()}'


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def start(spec: SandboxSpec) -> SandboxProcess:
    """Start a step. A missing or non-executable command is a result (127/126), not an error;
    ExecutorError means the sandbox itself could not be set up."""
    if not spec.argv:
        raise ExecutorError("the step has no command to run (argv is empty)")
    env = dict(spec.env)
    if "PATH" not in env:
        env["PATH"] = os.environ.get("PATH") or os.defpath
    sinks = _Sinks(spec)
    started_at = _now()
    try:
        if spec.fs.isolated:
            return _start_isolated(spec, env, sinks, started_at)
        return _start_direct(spec, env, sinks, started_at)
    except _ExecFailed as failed:
        return SandboxProcess(spec, sinks, started_at, None, failure=failed.args[0])
    except BaseException:
        sinks.close()
        raise


class _ExecFailed(Exception):
    """The command itself could not be executed (carries exit code and message)."""


def _start_direct(
    spec: SandboxSpec, env: dict[str, str], sinks: _Sinks, started_at: datetime
) -> SandboxProcess:
    cwd = None
    if spec.working_dir:
        cwd = spec.fs.host_path(spec.working_dir)
        try:
            cwd.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExecutorError(f"cannot create the working directory {cwd}: {exc.strerror}") from exc
    try:
        popen = subprocess.Popen(
            spec.argv,
            env=env,
            cwd=cwd,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        if cwd is not None and exc.filename == str(cwd):
            raise ExecutorError(f"cannot enter the working directory {cwd}: {exc.strerror}") from exc
        raise _ExecFailed(_exec_failure(spec.argv[0], exc)) from exc
    return SandboxProcess(spec, sinks, started_at, popen)


def _start_isolated(
    spec: SandboxSpec, env: dict[str, str], sinks: _Sinks, started_at: datetime
) -> SandboxProcess:
    fs = spec.fs
    manifest = fs.step_dir / _PLACEHOLDERS
    if manifest.exists():  # left by a run that did not finish cleanly
        view.clean_placeholders(Path(p) for p in manifest.read_text().splitlines())
    planner = view.MountPlanner(
        fs.root, fs.step_dir / _WORK, fs.private, fs._support.userns, fs._support.volatile
    )
    try:
        ops = planner.plan(view.read_mountpoints())
        if planner.placeholders:
            manifest.write_text("".join(f"{p}\n" for p in planner.placeholders))
        working_dir = None
        if spec.working_dir:
            fs.host_path(spec.working_dir).mkdir(parents=True, exist_ok=True)
            working_dir = os.fsencode(spec.working_dir)
    except OSError as exc:
        _drop_placeholders(fs, planner.placeholders)
        raise ExecutorError(f"cannot prepare the sandbox in {fs.step_dir}: {exc}") from exc
    lifeline_r, lifeline_w = os.pipe()
    diag_r, diag_w = os.pipe()
    plan = SetupPlan(
        step_dir=os.fsencode(fs.step_dir),
        root=_UPPER.encode(),
        ops=tuple(ops),
        userns=fs._support.userns,
        uid=os.getuid(),
        gid=os.getgid(),
        hostname=spec.hostname.encode() if spec.hostname else None,
        working_dir=working_dir,
        lifeline_fd=lifeline_r,
        diag_fd=diag_w,
    )
    try:
        popen = subprocess.Popen(
            spec.argv,
            env=env,
            preexec_fn=ChildSetup(plan),
            pass_fds=(lifeline_r, diag_w),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except BaseException as exc:
        os.close(lifeline_w)
        os.close(diag_w)
        diag = _read_all(diag_r)
        _drop_placeholders(fs, planner.placeholders)
        view.rmtree(fs.step_dir / _WORK)
        if isinstance(exc, subprocess.SubprocessError):
            errors = [line[2:] for line in diag.splitlines() if line.startswith("E ")] or ["unknown error"]
            raise ExecutorError(f"cannot set up the sandbox in {fs.step_dir}: {'; '.join(errors)}") from None
        if isinstance(exc, OSError):
            raise _ExecFailed(_exec_failure(spec.argv[0], exc)) from exc
        raise
    finally:
        os.close(lifeline_r)
    os.close(diag_w)
    warnings = [line[2:] for line in _read_all(diag_r).splitlines()]
    if not fs._quiet:
        for message in warnings:
            _warn_once(message)
    proc = SandboxProcess(
        spec, sinks, started_at, popen, lifeline=lifeline_w, placeholders=planner.placeholders
    )
    proc.warnings = warnings
    return proc
