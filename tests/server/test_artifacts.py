"""Artifact routes: stored objects as is, Argo's directory browsing, and browsing inside archives."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from typing import Any

import pytest

from tests.server.conftest import Running, Seed, node_by_name

CSP = "sandbox allow-same-origin; base-uri 'none'; default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'"


@pytest.fixture
def wf(server: Running, seed: Seed) -> dict[str, Any]:
    return server.json("GET", f"/api/v1/workflows/default/{seed.report}")  # type: ignore[no-any-return]


def files(wf: dict[str, Any], step: str, art: str, io_kind: str = "outputs") -> str:
    node = node_by_name(wf, step)
    return f"/artifact-files/default/workflows/{wf['metadata']['name']}/{node['id']}/{io_kind}/{art}"


def stored(wf: dict[str, Any], step: str, art: str, route: str = "artifacts") -> str:
    node = node_by_name(wf, step)
    return f"/{route}/default/{wf['metadata']['name']}/{node['id']}/{art}"


def test_download_serves_the_stored_object_with_argos_headers(server: Running, wf: dict[str, Any]) -> None:
    status, headers, body = server.get(stored(wf, "report", "report"))
    assert status == 200
    assert headers["content-disposition"] == 'filename="report.tgz"'
    assert headers["content-security-policy"] == CSP and headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["content-type"] == "application/gzip" and headers["accept-ranges"] == "bytes"
    with tarfile.open(fileobj=io.BytesIO(body)) as tf:
        assert "report/stats.json" in tf.getnames()
    status, headers, body = server.get(stored(wf, "extract", "data"))
    assert status == 200 and body.startswith(b"city,population\n") and headers["content-type"].startswith("text/csv")
    status, _, body = server.get(stored(wf, "clean", "data", route="input-artifacts"))
    assert status == 200 and body.startswith(b"city,population")


def test_range_requests(server: Running, wf: dict[str, Any]) -> None:
    url = stored(wf, "extract", "data")
    full = server.get(url)[2]
    status, headers, body = server.get(url, headers={"Range": "bytes=5-14"})
    assert status == 206 and body == full[5:15] and headers["content-range"] == f"bytes 5-14/{len(full)}"
    status, headers, body = server.get(url, headers={"Range": "bytes=-6"})
    assert status == 206 and body == full[-6:]
    status, _, body = server.get(url, headers={"Range": "bytes=10-"})
    assert status == 206 and body == full[10:]
    status, headers, _ = server.get(url, headers={"Range": f"bytes={len(full) + 5}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(full)}"
    # a file inside a tgz: ranges work there too (the prefix is skipped while streaming)
    status, _, body = server.get(files(wf, "report", "report") + "/stats.json", headers={"Range": "bytes=0-9"})
    assert status == 206 and body == b'{"cities":'


def test_tgz_artifact_is_browsed_as_the_directory_a_step_would_see(server: Running, wf: dict[str, Any]) -> None:
    base = files(wf, "report", "report")
    status, headers, _ = server.get(base)
    assert status == 307 and headers["location"] == base + "/"
    status, headers, body = server.get(base + "/")
    assert status == 200 and headers["content-security-policy"] == CSP
    page = body.decode()
    assert page.index('<li><a href="..">..</a></li>') < page.index('<li><a href="./charts/">charts/</a></li>')
    assert '<li><a href="./stats.json">stats.json</a></li>' in page
    listing = server.json("GET", base + "/charts/?format=json")
    assert listing["archive"] == "tgz" and [i["name"] for i in listing["items"]] == ["bars.svg"]
    status, headers, body = server.get(base + "/charts/bars.svg")
    assert status == 200 and body.startswith(b"<svg") and headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert headers["content-disposition"] == 'filename="bars.svg"' and int(headers["content-length"]) == len(body)
    assert server.get(base + "/charts")[1]["location"] == base + "/charts/"
    assert json.loads(server.get(base + "/stats.json")[2]) == {"cities": 3, "total": 970000, "ok": True}
    assert server.get(base + "/nope.txt")[0] == 404
    assert server.get(base + "/stats.json/")[0] == 404


def test_zip_and_zstd_archives_are_browsed_too(server: Running, wf: dict[str, Any]) -> None:
    for art, kind in (("bundle", "zip"), ("bundle-zst", "zstd")):
        base = files(wf, "report", art)
        listing = server.json("GET", base + "?format=json")
        assert listing["archive"] == kind and [i["name"] for i in listing["items"]] == ["notes.txt"]
        assert server.get(base + "/notes.txt")[2] == b"notes for the zip\n"
    raw = server.get(stored(wf, "report", "bundle"))[2]
    assert zipfile.ZipFile(io.BytesIO(raw)).namelist()  # the stored object itself is the zip


def test_plain_directory_listing_and_index_redirect(server: Running, wf: dict[str, Any]) -> None:
    charts = files(wf, "report", "charts")
    assert server.get(charts)[1]["location"] == charts + "/"
    body = server.get(charts + "/")[2].decode()
    assert '<li><a href="./bars.svg">bars.svg</a></li>' in body
    site = files(wf, "report", "site")
    status, headers, _ = server.get(site + "/")
    assert status == 307 and headers["location"] == site + "/index.html"
    assert server.get(site + "/index.html")[2] == b"<h1>site</h1>\n"
    assert [i["name"] for i in server.json("GET", site + "/?format=json")["items"]] == ["css", "index.html"]
    assert server.get(site + "/css/site.css")[2] == b"h1{}\n"
    status, headers, _ = server.get(stored(wf, "report", "site"))
    assert status == 307 and headers["location"] == site + "/"


def test_raw_file_artifact_is_served_and_a_single_file_tgz_unwraps(server: Running, wf: dict[str, Any]) -> None:
    status, headers, body = server.get(files(wf, "extract", "data"))
    assert status == 200 and body.startswith(b"city,population") and headers["content-disposition"] == 'filename="data.csv"'
    assert server.get(files(wf, "extract", "data") + "/")[0] == 404  # a CSV has nothing inside
    info = server.json("GET", files(wf, "extract", "data") + "?format=json")
    assert info["type"] == "file" and info["size"] == len(body)


@pytest.mark.parametrize("suffix", [
    "/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc",
    "/%252e%252e/%252e%252e/etc/passwd", "/..%5c..%5cetc%5cpasswd", "/..\\..\\etc\\passwd", "/charts/%2e%2e/%2e%2e/%2e%2e/etc",
    "/./stats.json", "/%00", "/.%2e/x",
])
def test_traversal_attempts_never_leave_the_artifact(server: Running, wf: dict[str, Any], suffix: str) -> None:
    for base in (files(wf, "report", "report"), files(wf, "report", "charts")):
        status, _, body = server.get(base + suffix)
        assert status in (400, 404), (base + suffix, status)
        assert b"root:" not in body


def test_errors_name_what_is_missing(server: Running, wf: dict[str, Any], seed: Seed) -> None:
    node = node_by_name(wf, "report")["id"]
    cases = {
        f"/artifacts/default/nope/{node}/report": "nope",
        f"/artifacts/default/{seed.report}/no-such-node/report": "no-such-node",
        f"/artifacts/default/{seed.report}/{node}/no-such-art": "no-such-art",
        f"/artifact-files/default/workflows/{seed.report}/{node}/outputs/no-such-art/": "no-such-art",
        f"/artifact-files/default/archived-workflows/{seed.report}/{node}/outputs/report": "archived",
        f"/artifact-files/default/workflows/{seed.report}/{node}/sideways/report": "inputs or outputs",
        f"/artifacts/other/{seed.report}/{node}/report": seed.report,
    }
    for url, words in cases.items():
        status, _, body = server.get(url)
        assert status == 404, url
        assert words in json.loads(body)["message"], (url, body)


def test_deleted_and_missing_objects(server: Running, wf: dict[str, Any], seed: Seed) -> None:
    from argosy.pipeline.store import Store

    node = node_by_name(wf, "report")["id"]

    def mark(rec: dict[str, Any]) -> None:
        for art in rec["status"]["nodes"][node]["outputs"]["artifacts"]:
            if art["name"] == "report":
                art["deleted"] = True

    Store(server.home).modify_workflow(seed.report, mark)
    status, _, body = server.get(stored(wf, "report", "report"))
    assert status == 404 and b"garbage collection" in body
    key = next(a for a in node_by_name(wf, "report")["outputs"]["artifacts"] if a["name"] == "bundle")["local"]["key"]
    (server.home / "artifacts" / key).unlink()
    status, _, body = server.get(stored(wf, "report", "bundle"))
    assert status == 404 and b"missing" in body
