"""Fixtures for ``argosy server`` tests: real workflows run once, then each test gets its own copy.

Workflows are run by the real CLI (``argosy submit --wait`` in a subprocess) into a seed home; a
test's ``home`` is a fresh copy of it, so every test has its own ARGOSY_HOME and may change it.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def argosy_env(home: Path) -> dict[str, str]:
    # The working tree's argosy, whatever an editable install points at.
    return {**os.environ, "ARGOSY_HOME": str(home), "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def argosy(home: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "argosy.cli.main", *args], env=argosy_env(home),
                         capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"argosy {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out


def submit_all(home: Path, *files: str) -> list[str]:
    """Submit workflow files concurrently with ``--wait``; their names, in order."""
    procs = [subprocess.Popen([sys.executable, "-m", "argosy.cli.main", "submit", str(DATA / f), "--wait", "-o", "name"],
                              env=argosy_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    names = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert out.strip(), f"submit failed: {err}"
        names.append(out.strip().splitlines()[-1])
    return names


def wait_idle(home: Path, names: list[str], timeout: float = 60) -> None:
    """Until no runner process holds these workflows (so copying the home copies a quiet database)."""
    from argosy.pipeline.store import Store

    store = Store(home)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            infos = [store.lease_info(n) for n in names]
            if all(i is None or not i.alive for i in infos):
                return
            time.sleep(0.1)
    finally:
        store.close()
    raise AssertionError(f"runners of {names} still alive after {timeout}s")


@dataclass
class Seed:
    home: Path
    report: str
    flaky: str


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    home = tmp_path_factory.mktemp("seed-home")
    argosy(home, "apply", "-f", str(DATA / "template.yaml"))
    report, flaky = submit_all(home, "dag-artifacts.yaml", "steps-fail.yaml")
    wait_idle(home, [report, flaky])
    return Seed(home, report, flaky)


@pytest.fixture
def home(seed: Seed, tmp_path: Path) -> Path:
    """This test's own ARGOSY_HOME: a copy of the seed home."""
    dest = tmp_path / "home"
    shutil.copytree(seed.home, dest, symlinks=True)
    return dest


@dataclass
class Running:
    url: str
    host: str
    port: int
    home: Path

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request (no redirect following, no path normalisation)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, **kw)

    def json(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        status, _, data = self.request(method, path, body, **kw)
        assert status == expect, f"{method} {path}: {status} {data[:500]!r}"
        return json.loads(data) if data else None


def start_server(home: Path, auth_mode: str = "server") -> tuple[Any, Running]:
    from argosy.server.app import serve_in_thread
    from argosy.server.service import ServerConfig, create_server

    httpd = create_server(ServerConfig(home=home, port=0, auth_mode=auth_mode))  # type: ignore[arg-type]
    serve_in_thread(httpd)
    port = httpd.server_address[1]
    return httpd, Running(f"http://127.0.0.1:{port}", "127.0.0.1", port, home)


@pytest.fixture
def server(home: Path) -> Iterator[Running]:
    httpd, running = start_server(home)
    yield running
    httpd.shutdown()
    httpd.server_close()


def wait_for(fn: Any, timeout: float = 60, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``fn`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def phase(server: Running, name: str) -> str:
    wf = server.json("GET", f"/api/v1/workflows/default/{name}?fields=status.phase")
    return str((wf.get("status") or {}).get("phase") or "")


def node_by_name(wf: dict[str, Any], display: str) -> dict[str, Any]:
    return next(n for n in wf["status"]["nodes"].values() if n["displayName"] == display)
