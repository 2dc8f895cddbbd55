"""Who may use the server: token auth in client mode, loopback-only server mode, TLS."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from argosy.errors import ArgosyError
from argosy.server.cli import auth
from argosy.server.service import ServerConfig, create_server
from tests.server.conftest import Running, Seed, argosy_env, node_by_name, start_server


@pytest.fixture
def client_server(home: Path) -> Iterator[Running]:
    httpd, running = start_server(home, "client")
    yield running
    httpd.shutdown()
    httpd.server_close()


def token_for(home: Path, *args: str) -> str:
    result = CliRunner().invoke(auth, ["token", *args], env={"ARGOSY_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_auth_token_prints_a_stable_token_kept_private(home: Path) -> None:
    first = token_for(home)
    assert re.fullmatch(r"argosy_[A-Za-z0-9_-]{40,}", first)
    assert token_for(home) == first
    other = token_for(home, "--new")
    assert other != first
    assert (home / "tokens").stat().st_mode & 0o777 == 0o600


def test_client_mode_requires_a_valid_token_everywhere(client_server: Running, seed: Seed) -> None:
    token = token_for(client_server.home)
    wf_path = f"/api/v1/workflows/default/{seed.report}"
    status, headers, body = client_server.get(wf_path)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer") and b"argosy auth token" in body
    assert client_server.get(wf_path, headers={"Authorization": "Bearer argosy_wrong"})[0] == 401
    assert client_server.get(wf_path, headers={"Authorization": f"Basic {token}"})[0] == 401
    wf = client_server.json("GET", wf_path, headers={"Authorization": f"Bearer {token}"})
    node = node_by_name(wf, "report")["id"]
    for path in (f"/artifacts/default/{seed.report}/{node}/report",
                 f"/artifact-files/default/workflows/{seed.report}/{node}/outputs/report/stats.json",
                 "/api/v1/workflows/default", "/api/v1/openapi.json", "/api/v1/workflow-templates/default",
                 f"/api/v1/workflows/default/{seed.report}/log"):
        assert client_server.get(path)[0] == 401, path
        assert client_server.get(path, headers={"Cookie": f"authorization=Bearer%20{token}"})[0] == 200, path
    assert client_server.request("DELETE", wf_path)[0] == 401
    assert client_server.json("GET", "/api/v1/userinfo", headers={"Authorization": f"Bearer {token}"})["subject"].startswith("token:")
    # the UI shell itself is public so that it can show the login page
    status, _, body = client_server.get("/login")
    assert status == 200 and b"app.js" in body


def test_revoking_a_token_takes_effect_at_once(client_server: Running) -> None:
    token = token_for(client_server.home)
    headers = {"Authorization": f"Bearer {token}"}
    assert client_server.get("/api/v1/info", headers=headers)[0] == 200
    (client_server.home / "tokens").write_text("# all revoked\n")
    assert client_server.get("/api/v1/info", headers=headers)[0] == 401


def test_server_mode_refuses_to_listen_beyond_loopback(home: Path) -> None:
    with pytest.raises(ArgosyError, match="auth-mode client"):
        create_server(ServerConfig(home=home, host="0.0.0.0", port=0))
    httpd = create_server(ServerConfig(home=home, host="0.0.0.0", port=0, insecure_bind=True))
    httpd.server_close()
    httpd = create_server(ServerConfig(home=home, host="0.0.0.0", port=0, auth_mode="client"))
    httpd.server_close()


def test_python_m_server_with_tls_and_a_generated_certificate(home: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "argosy.server", "--port", "0", "--secure", "--auth-mode", "client"],
                            env=argosy_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"https://127\.0\.0\.1:(\d+)", line)
        assert m, line
        cert = home / "server" / "tls.crt"
        assert cert.exists() and os.stat(home / "server" / "tls.key").st_mode & 0o777 == 0o600
        ctx = ssl.create_default_context(cafile=str(cert))
        token = token_for(home)
        req = urllib.request.Request(f"https://localhost:{m.group(1)}/api/v1/version", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            assert resp.status == 200 and b"version" in resp.read()
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # a client that does not trust the certificate is refused by TLS
            urllib.request.urlopen(f"https://localhost:{m.group(1)}/healthz", context=ssl.create_default_context(), timeout=10)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_reports_a_refused_bind_in_one_line(home: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "argosy.server", "--host", "0.0.0.0", "--port", "0"],
                         env=argosy_env(home), capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "refusing to listen on 0.0.0.0" in out.stderr and "Traceback" not in out.stderr
