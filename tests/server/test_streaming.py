"""Big downloads stream: the server's memory does not grow with the artifact's size."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import argosy_env, submit_all, wait_idle

BIG = 300 * 1024 * 1024
MEMBER = 64 * 1024 * 1024
MAX_GROWTH = 48 * 1024 * 1024


def _status_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert m, text
    return int(m.group(1)) * 1024


def _drain(port: int, path: str, headers: dict[str, str] | None = None, zeros: bool = True) -> tuple[int, int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    total = 0
    while chunk := resp.read(1 << 20):
        assert not zeros or chunk.count(0) == len(chunk)  # zeros all the way: nothing garbled
        total += len(chunk)
    conn.close()
    return resp.status, total, {k.lower(): v for k, v in resp.getheaders()}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to read the server's memory")
def test_downloads_of_huge_artifacts_keep_server_memory_flat(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (name,) = submit_all(home, "big.yaml")
    wait_idle(home, [name])
    proc = subprocess.Popen([sys.executable, "-m", "argosy.server", "--port", "0"], env=argosy_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        m = re.search(r":(\d+) ", proc.stdout.readline())
        assert m
        port = int(m.group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/api/v1/workflows/default/{name}")
        wf = json.loads(conn.getresponse().read())
        conn.close()
        node = wf["metadata"]["name"]  # a single-pod workflow: the root node is the pod
        base = f"/artifacts/default/{name}/{node}"
        files = f"/artifact-files/default/workflows/{name}/{node}/outputs"
        # warm up every code path on small objects before measuring
        assert _drain(port, f"{files}/tiny", zeros=False)[1] == len("tiny\n")
        _drain(port, f"{base}/big", {"Range": "bytes=0-1048575"})
        before = _status_kib(proc.pid, "VmHWM")

        status, total, headers = _drain(port, f"{base}/big")
        assert status == 200 and total == BIG and headers["content-length"] == str(BIG)
        status, total, headers = _drain(port, f"{base}/big", {"Range": f"bytes={BIG - 1000}-"})
        assert status == 206 and total == 1000 and headers["content-range"] == f"bytes {BIG - 1000}-{BIG - 1}/{BIG}"
        status, total, headers = _drain(port, f"{files}/pack/in/zeros.bin")  # read out of the tgz as it streams
        assert status == 200 and total == MEMBER and headers["content-length"] == str(MEMBER)

        growth = _status_kib(proc.pid, "VmHWM") - before
        assert growth < MAX_GROWTH, f"server peak memory grew by {growth / 2**20:.1f} MiB while streaming {BIG / 2**20:.0f} MiB"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
