"""fetch_http against a real local HTTP(S) server."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError
from argosy.storage.sources import BasicAuth, ClientCert, HttpSource, OAuth2, fetch_http
from argosy.storage.sources.http import redact, safe_url
from tests.fixtures.httpserver import HttpServer, free_port, pattern


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --------------------------------------------------------------------------- basics


def test_plain_download(http_server: HttpServer, tmp_path: Path) -> None:
    body = bytes(range(256)) * 40
    url = http_server.serve("/files/blob.bin", body)
    dest = tmp_path / "nested" / "dir" / "blob.bin"
    fetch_http(HttpSource(url=url), dest)
    assert dest.read_bytes() == body
    assert leftovers(dest.parent) == ["blob.bin"]


def test_replaces_existing_file(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.serve("/files/new.txt", b"new")
    dest = tmp_path / "a.txt"
    dest.write_bytes(b"old contents")
    fetch_http(HttpSource(url=url), dest)
    assert dest.read_bytes() == b"new"


def test_custom_header_required_by_server(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.serve("/files/keyed.txt", b"keyed", require_headers={"X-Api-Key": "k-123"})
    with pytest.raises(StorageError, match="failed with reason: 403 Forbidden"):
        fetch_http(HttpSource(url=url), tmp_path / "a")
    fetch_http(HttpSource(url=url, headers=[("X-Api-Key", "k-123")]), tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"keyed"


def test_headers_are_sent(http_server: HttpServer, tmp_path: Path) -> None:
    dest = tmp_path / "h.json"
    fetch_http(HttpSource(url=http_server.url + "/echo-headers", headers=[("X-A", "1"), ("X-A", "2")]), dest)
    seen = json.loads(dest.read_bytes())
    assert seen["x-a"] == "1, 2"
    assert seen["user-agent"] == "argosy"
    assert seen.get("accept-encoding", "identity") == "identity"  # bytes arrive exactly as stored


# --------------------------------------------------------------------------- auth


def test_basic_auth(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.url + "/basic/data.txt"
    auth = BasicAuth(http_server.basic_user, http_server.basic_password)
    fetch_http(HttpSource(url=url, basic_auth=auth), tmp_path / "ok")
    assert (tmp_path / "ok").read_bytes() == b"ok /basic/data.txt"


def test_basic_auth_wrong_password(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.url + "/basic/data.txt"
    with pytest.raises(StorageError) as exc:
        fetch_http(
            HttpSource(url=url, basic_auth=BasicAuth(http_server.basic_user, "Wrong-Pass-42")), tmp_path / "x"
        )
    assert str(exc.value) == f"loading content from {url} failed with reason: 401 Unauthorized"
    assert not (tmp_path / "x").exists()


def test_basic_auth_from_url_userinfo(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.url.replace("http://", f"http://{http_server.basic_user}:{http_server.basic_password}@")
    fetch_http(HttpSource(url=url + "/basic/u.txt"), tmp_path / "u")
    assert (tmp_path / "u").read_bytes() == b"ok /basic/u.txt"
    bad = http_server.url.replace("http://", "http://who:Leaky-Secret@") + "/basic/u.txt"
    with pytest.raises(StorageError) as exc:
        fetch_http(HttpSource(url=bad), tmp_path / "v")
    assert "Leaky-Secret" not in str(exc.value)
    assert str(exc.value).startswith(f"loading content from {http_server.url}/basic/u.txt failed")


def oauth(server: HttpServer, path: str = "/oauth/token", **kw: object) -> OAuth2:
    return OAuth2(
        client_id=server.client_id,
        client_secret=str(kw.pop("client_secret", server.client_secret)),
        token_url=server.url + path,
        scopes=["read", "write"],
        endpoint_params=[("audience", "artifacts")],
    )


def test_oauth2_client_credentials_bearer(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.url + "/bearer/model.bin"
    with pytest.raises(StorageError, match="401 Unauthorized"):
        fetch_http(HttpSource(url=url), tmp_path / "no")
    del http_server.token_requests[:]
    fetch_http(HttpSource(url=url, oauth2=oauth(http_server)), tmp_path / "yes")
    assert (tmp_path / "yes").read_bytes() == b"ok /bearer/model.bin"
    [request] = http_server.token_requests
    assert request["style"] == "header"
    assert request["form"] == {
        "grant_type": ["client_credentials"],
        "scope": ["read write"],
        "audience": ["artifacts"],
    }


def test_oauth2_falls_back_to_credentials_in_body(http_server: HttpServer, tmp_path: Path) -> None:
    del http_server.token_requests[:]
    src = HttpSource(url=http_server.url + "/bearer/x", oauth2=oauth(http_server, "/oauth/token-body-only"))
    fetch_http(src, tmp_path / "x")
    assert [r["style"] for r in http_server.token_requests] == ["header", "body"]


def test_oauth2_bad_client_secret(http_server: HttpServer, tmp_path: Path) -> None:
    src = HttpSource(
        url=http_server.url + "/bearer/x", oauth2=oauth(http_server, client_secret="Bad-Secret-77")
    )
    with pytest.raises(RepositoryError) as exc:
        fetch_http(src, tmp_path / "x")
    assert str(exc.value) == "oauth2: cannot fetch token: 401 Unauthorized (invalid_client)"
    assert not (tmp_path / "x").exists()


def test_oauth2_cannot_overwrite_scope(http_server: HttpServer, tmp_path: Path) -> None:
    o = OAuth2(
        "id", "secret", http_server.url + "/oauth/token", scopes=["a"], endpoint_params=[("scope", "b")]
    )
    with pytest.raises(StorageError, match='cannot overwrite parameter "scope"'):
        fetch_http(HttpSource(url=http_server.url + "/bearer/x", oauth2=o), tmp_path / "x")


def test_repr_hides_secrets(http_server: HttpServer) -> None:
    src = HttpSource(
        url="https://u:url-secret@example.com/x",
        headers=[("X-Token", "header-secret")],
        basic_auth=BasicAuth("user", "basic-secret"),
        oauth2=OAuth2("cid", "oauth-secret", "https://idp/token", endpoint_params=[("k", "param-secret")]),
        client_cert=ClientCert("CERT", "KEY-secret"),
    )
    text = repr(src)
    for secret in (
        "url-secret",
        "header-secret",
        "basic-secret",
        "oauth-secret",
        "param-secret",
        "KEY-secret",
    ):
        assert secret not in text
    assert "X-Token" in text


# --------------------------------------------------------------------------- status codes


def test_404_is_artifact_not_found(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.url + "/status/404"
    with pytest.raises(ArtifactNotFound) as exc:
        fetch_http(HttpSource(url=url), tmp_path / "x")
    assert isinstance(exc.value, FileNotFoundError)
    assert str(exc.value) == f"loading content from {url} failed with reason: 404 Not Found"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("code", "status"), [(500, "500 Internal Server Error"), (403, "403 Forbidden")])
def test_other_errors_use_argo_text(http_server: HttpServer, tmp_path: Path, code: int, status: str) -> None:
    url = f"{http_server.url}/status/{code}"
    with pytest.raises(StorageError) as exc:
        fetch_http(HttpSource(url=url), tmp_path / "x")
    assert not isinstance(exc.value, ArtifactNotFound)
    assert str(exc.value) == f"loading content from {url} failed with reason: {status}"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirects_are_followed(http_server: HttpServer, tmp_path: Path, code: int) -> None:
    target = http_server.serve("/files/target.txt", b"target")
    fetch_http(HttpSource(url=f"{http_server.url}/redirect/{code}?to={target}"), tmp_path / "t")
    assert (tmp_path / "t").read_bytes() == b"target"


def test_redirect_to_other_host_drops_credentials(http_server: HttpServer, tmp_path: Path) -> None:
    auth = BasicAuth("user", "pw")
    same = http_server.url + "/echo-headers"
    other = same.replace("127.0.0.1", "localhost")
    fetch_http(
        HttpSource(url=f"{http_server.url}/redirect/302?to={same}", basic_auth=auth), tmp_path / "same"
    )
    fetch_http(
        HttpSource(
            url=f"{http_server.url}/redirect/302?to={other}", basic_auth=auth, headers=[("X-Keep", "1")]
        ),
        tmp_path / "other",
    )
    assert "authorization" in json.loads((tmp_path / "same").read_bytes())
    seen = json.loads((tmp_path / "other").read_bytes())
    assert "authorization" not in seen
    assert seen["x-keep"] == "1"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirect_to_non_http_is_refused(http_server: HttpServer, tmp_path: Path, target: str) -> None:
    with pytest.raises(StorageError, match=f"302 Found - Redirection to url '{target}' is not allowed"):
        fetch_http(HttpSource(url=f"{http_server.url}/redirect/302?to={target}"), tmp_path / "x")


# --------------------------------------------------------------------------- streaming and failures


@pytest.mark.parametrize("route", ["stream", "stream-chunked"])
def test_20_mb_download_streams(http_server: HttpServer, tmp_path: Path, route: str) -> None:
    size = 20 * 1024 * 1024
    expected = hashlib.sha256()
    for block in pattern(size):
        expected.update(block)
    dest = tmp_path / "big.bin"
    tracemalloc.start()
    try:
        fetch_http(HttpSource(url=f"{http_server.url}/{route}/{size}"), dest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert dest.stat().st_size == size
    actual = hashlib.sha256()
    with dest.open("rb") as fh:
        while block := fh.read(1 << 20):
            actual.update(block)
    assert actual.hexdigest() == expected.hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak} bytes: not streaming"


def test_truncated_body_is_an_error(http_server: HttpServer, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="reading .* failed"):
        fetch_http(HttpSource(url=http_server.url + "/truncated/100000"), tmp_path / "x")
    assert leftovers(tmp_path) == []


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="Connection refused"):
        fetch_http(HttpSource(url=f"http://127.0.0.1:{free_port()}/x"), tmp_path / "x")


def test_timeout(http_server: HttpServer, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="timed out"):
        fetch_http(HttpSource(url=http_server.url + "/slow?seconds=3"), tmp_path / "x", timeout=0.3)
    assert leftovers(tmp_path) == []


def test_unsupported_scheme(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match='unsupported protocol scheme "ftp"'):
        fetch_http(HttpSource(url="ftp://example.com/x"), tmp_path / "x")


# --------------------------------------------------------------------------- TLS


def test_https_certificate_is_verified(http_server: HttpServer, tmp_path: Path) -> None:
    url = http_server.https_url + "/status/200"
    with pytest.raises(RepositoryError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_http(HttpSource(url=url), tmp_path / "x")
    fetch_http(HttpSource(url=url, insecure_skip_verify=True), tmp_path / "y")
    assert (tmp_path / "y").read_bytes() == b"status 200"


def test_https_trusted_via_ssl_cert_file(
    http_server: HttpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert http_server.pki is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(http_server.pki.ca_file))
    fetch_http(HttpSource(url=http_server.https_url + "/status/200"), tmp_path / "x")


def test_client_certificate(http_server: HttpServer, tmp_path: Path) -> None:
    assert http_server.pki is not None
    url = http_server.https_url + "/mtls/data"
    with pytest.raises(StorageError, match="403 Forbidden"):
        fetch_http(HttpSource(url=url, insecure_skip_verify=True), tmp_path / "x")
    cert = ClientCert(http_server.pki.client_cert_pem, http_server.pki.client_key_pem)
    fetch_http(HttpSource(url=url, insecure_skip_verify=True, client_cert=cert), tmp_path / "y")
    assert (tmp_path / "y").read_bytes() == b"ok /mtls/data"


def test_invalid_client_certificate(http_server: HttpServer, tmp_path: Path) -> None:
    bad = ClientCert(
        "not a cert", "-----BEGIN PRIVATE KEY-----\nS3cretKeyMaterial\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(StorageError, match="invalid TLS client certificate") as exc:
        fetch_http(HttpSource(url=http_server.https_url + "/mtls/x", client_cert=bad), tmp_path / "x")
    assert "S3cretKeyMaterial" not in str(exc.value)


def test_redact() -> None:
    text = "fatal: hunter22 rejected for https://bob:hunter22@example.com/x (1)"
    assert redact(text, ["hunter22", "1", None]) == "fatal: *** rejected for https://example.com/x (1)"
    assert safe_url("https://tok@host:8443/p?q=1") == "https://host:8443/p?q=1"
    assert safe_url("git@github.com:org/repo.git") == "git@github.com:org/repo.git"
