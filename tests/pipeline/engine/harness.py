"""Drive the real ``argosy`` command line from tests, each test with its own ``ARGOSY_HOME``.

Every call is a real process (``python -m argosy.cli.main``) so detached runners, sandboxes and
the SQLite store are exercised exactly as a user's shell would. Nothing sleeps a fixed time:
:func:`wait_until` polls a condition with a bounded timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

__all__ = ["Argosy", "argosy_fixture", "fresh_argosy", "node", "nodes_named", "wait_until"]

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"


def wait_until(check: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Result:
    """A finished ``argosy`` invocation."""

    args: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def ok(self) -> Result:
        assert self.code == 0, f"argosy {' '.join(self.args)} exited {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"
        return self


@dataclass
class Argosy:
    """The ``argosy`` CLI bound to one private ``ARGOSY_HOME``."""

    home: Path
    bin_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("ARGOSY_DEBUG", None)
        env["ARGOSY_HOME"] = str(self.home)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["NO_COLOR"] = "1"
        env.update(self.extra_env)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "argosy.cli.main", *args]

    def __call__(self, *args: str | Path, timeout: float = 90.0, input: str | None = None) -> Result:
        argv = [str(a) for a in args]
        proc = subprocess.run(self.argv(*argv), env=self.env, capture_output=True, text=True, timeout=timeout, input=input, cwd=self.home)
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, f"argosy {' '.join(argv)} printed a traceback:\n{proc.stderr}"
        return result

    def cli(self, *args: str | Path, input: str | None = None) -> Result:
        """The same command in this process (click's CliRunner): for reads, no interpreter start-up.

        Steps still run in detached ``argosy _run`` processes when a command starts a workflow.
        """
        from click.testing import CliRunner

        from argosy.cli.main import cli

        argv = [str(a) for a in args]
        env = {k: v for k, v in self.env.items() if os.environ.get(k) != v}
        res = CliRunner().invoke(cli, argv, env=env, input=input, catch_exceptions=True)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        return Result(argv, res.exit_code, res.stdout, res.stderr)

    def main(self, *args: str | Path) -> Result:
        """``argosy ARGS`` through the real entry point (``main()``: its error handling included),
        in this process. Fails the test if it printed a traceback or an internal error."""
        import io

        from argosy.cli import main as cli_main

        argv = [str(a) for a in args]
        out, err = io.StringIO(), io.StringIO()
        saved_env, saved_argv = dict(os.environ), sys.argv
        os.environ.update(self.env)
        sys.argv = ["argosy", *argv]
        code = 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                cli_main.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            sys.argv = saved_argv
        result = Result(argv, code, out.getvalue(), err.getvalue())
        assert "Traceback" not in result.err and "internal error" not in result.err, result.err
        return result

    def popen(self, *args: str | Path) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*[str(a) for a in args]), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.home)

    def submit(self, path: str | Path, *args: str, process: bool = False) -> dict[str, Any]:
        """``argosy submit FILE ARGS --wait -o json``: the final Workflow object.

        The workflow runs in a detached ``argosy _run`` either way; ``process`` also runs the
        submitting CLI as its own process (else in this one, which saves an interpreter start).
        """
        res = self("submit", path, *args, "--wait", "-o", "json", timeout=120) if process else self.cli("submit", path, *args, "--wait", "-o", "json")
        try:
            return res.json()  # type: ignore[no-any-return]
        except json.JSONDecodeError:
            raise AssertionError(f"submit printed no JSON (exit {res.code})\nstdout:\n{res.out}\nstderr:\n{res.err}") from None

    def get(self, name: str) -> dict[str, Any]:
        return self.cli("get", name, "-o", "json").ok().json()  # type: ignore[no-any-return]

    def logs(self, name: str, *args: str) -> list[str]:
        return self.cli("logs", name, *args).ok().out.splitlines()

    def start(self, path: str | Path, *args: str) -> str:
        """Submit without waiting (the runner is detached); the workflow's name."""
        return self.cli("submit", path, *args, "-o", "name").ok().out.strip()

    def run_all(self, jobs: dict[str, tuple[str | Path, tuple[str, ...]]], timeout: float = 150.0) -> dict[str, dict[str, Any]]:
        """Submit several workflows at once and wait for them all: key -> final workflow."""
        names = {key: self.start(path, *args) for key, (path, args) in jobs.items()}
        done: dict[str, dict[str, Any]] = {}

        def check() -> bool:
            for key, name in names.items():
                if key not in done:
                    wf = self.get(name)
                    if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
                        done[key] = wf
            return len(done) == len(names)

        wait_until(check, timeout, 0.3, f"workflows {sorted(set(names) - set(done))} to finish")
        return done

    def phase(self, name: str) -> str:
        return str((self.get(name).get("status") or {}).get("phase") or "")

    def write(self, name: str, text: str) -> Path:
        path = self.home / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def tool(self, name: str, script: str) -> Path:
        """A host executable standing in for a program an image has (see :meth:`images`)."""
        path = self.bin_dir / name
        path.write_text(script)
        path.chmod(0o755)
        return path

    def images(self, index: dict[str, dict[str, Any]]) -> Result:
        """``argosy apply -f`` the workflow-controller-configmap with this ``images`` index."""
        import yaml

        config = yaml.safe_dump({"images": index}, sort_keys=False)
        doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "workflow-controller-configmap"}, "data": {"config": config}}
        path = self.write("controller-config.yaml", yaml.safe_dump(doc, sort_keys=False))
        return self.main("apply", "-f", path).ok()

    def wait_phase(self, name: str, phases: tuple[str, ...] = ("Succeeded", "Failed", "Error"), timeout: float = 60.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            wf = self.get(name)
            return wf if (wf.get("status") or {}).get("phase") in phases else None

        return wait_until(check, timeout, 0.2, f"workflow {name} to reach {phases}")

    def wait_node(self, name: str, display: str, phases: tuple[str, ...], timeout: float = 60.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            wf = self.get(name)
            for n in nodes_named(wf, display):
                if n.get("phase") in phases:
                    return wf
            return None

        return wait_until(check, timeout, 0.2, f"node {display} of {name} to reach {phases}")


def nodes_named(wf: dict[str, Any], display: str) -> list[dict[str, Any]]:
    return [n for n in (wf.get("status") or {}).get("nodes", {}).values() if n.get("displayName") == display or n.get("name") == display]


def node(wf: dict[str, Any], display: str) -> dict[str, Any]:
    """The one node with this displayName (or full name)."""
    found = nodes_named(wf, display)
    names = sorted(n.get("name", "") for n in (wf.get("status") or {}).get("nodes", {}).values())
    assert len(found) == 1, f"expected one node {display!r}, found {len(found)} among {names}"
    return found[0]


def out_param(n: dict[str, Any], name: str) -> str | None:
    for p in (n.get("outputs") or {}).get("parameters") or []:
        if p.get("name") == name:
            return p.get("value")  # type: ignore[no-any-return]
    return None


def log_lines(res: Result) -> list[str]:
    return [line for line in res.out.splitlines() if line]


def pids_with_marker(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (scans /proc)."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry))
    return found


def pids_of_home(home: Path) -> list[int]:
    """Processes started for this ``ARGOSY_HOME`` (runners and their steps): it is in their environment."""
    needle = f"ARGOSY_HOME={home}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            found.append(int(entry))
    return found


@contextlib.contextmanager
def fresh_argosy(base: Path) -> Iterator[Argosy]:
    """An ``Argosy`` with its own ``ARGOSY_HOME`` under ``base``; leftover runners stopped at the end."""
    home = base / "home"
    home.mkdir(parents=True)
    bin_dir = base / "bin"
    bin_dir.mkdir()
    try:
        yield Argosy(home, bin_dir)
    finally:
        for pid in pids_of_home(home):  # only processes started for this home
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(name="argosy")
def argosy_fixture(tmp_path: Path) -> Iterator[Argosy]:
    """A fresh ``ARGOSY_HOME`` for one test."""
    with fresh_argosy(tmp_path) as a:
        yield a
