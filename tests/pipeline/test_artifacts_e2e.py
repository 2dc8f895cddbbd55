"""The seeds' artifact workflows end to end: real sandboxed steps, real repositories.

Each workflow runs through the real CLI (``argosy submit --wait -o json``) twice: on the
embedded default (a folder under ARGOSY_HOME) and on the loopback S3 server (moto, over HTTP),
and what the steps wrote is read back from the repository — with the ``minio`` client for S3, to
prove MinIO users see the same objects.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"


def argosy(home: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARGOSY_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "argosy.cli.main", *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode not in (0, 1):
        raise AssertionError(f"argosy {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def submit(home: Path, text: str, *extra: str) -> dict[str, Any]:
    path = home / f"wf-{abs(hash(text))}.yaml"
    path.write_text(textwrap.dedent(text))
    proc = argosy(home, "submit", str(path), "--wait", "-o", "json", *extra)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def node(wf: dict[str, Any], display: str) -> dict[str, Any]:
    for n in wf["status"]["nodes"].values():
        if n["displayName"] == display:
            return n  # type: ignore[no-any-return]
    raise AssertionError(f"no node {display!r} in {[n['displayName'] for n in wf['status']['nodes'].values()]}")


def logs(home: Path, name: str) -> str:
    return argosy(home, "logs", name).stdout


@pytest.fixture(params=["local", "s3"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """An ARGOSY_HOME configured for one repository kind, with a reader for stored objects."""
    home = tmp_path / "home"
    home.mkdir()
    # The seeds' `yky8/argosay:v2` image has /usr/local/bin/argosay: give the sandbox a stand-in.
    shim = tmp_path / "argosay"
    shim.write_text('#!/bin/sh\n[ "$1" = echo ] && shift && printf "%s\\n" "$*"\n')
    shim.chmod(0o755)
    images = f"images: {{yky8/argosay:v2: {{paths: {{/usr/local/bin/argosay: {shim}}}}}}}"
    if request.param == "local":
        (home / "config.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: workflow-controller-configmap}\n"
            f"data:\n  config: |\n    {images}\n"
        )
        argosy(home, "apply", "-f", str(home / "config.yaml"))

        def read(key: str) -> bytes:
            return (home / "artifacts" / key).read_bytes()

        def keys() -> list[str]:
            root = home / "artifacts"
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

        return {"kind": "local", "home": home, "read": read, "keys": keys}
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    (home / "repo.yaml").write_text(
        textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Secret
            metadata: {{name: my-minio-cred}}
            stringData: {{accessKey: {server.access_key}, secretKey: {server.secret_key}}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: workflow-controller-configmap}}
            data:
              config: |
                {images}
                artifactRepository:
                  s3:
                    bucket: {bucket}
                    endpoint: {server.endpoint}
                    insecure: true
                    accessKeySecret: {{name: my-minio-cred, key: accessKey}}
                    secretKeySecret: {{name: my-minio-cred, key: secretKey}}
            """
        )
    )
    argosy(home, "apply", "-f", str(home / "repo.yaml"))
    from minio import Minio

    client = Minio(server.endpoint, access_key=server.access_key, secret_key=server.secret_key, secure=False, region=server.region)

    def read_s3(key: str) -> bytes:
        resp = client.get_object(bucket, key)
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def keys_s3() -> list[str]:
        return sorted(o.object_name for o in client.list_objects(bucket, recursive=True))

    return {"kind": "s3", "home": home, "read": read_s3, "keys": keys_s3, "bucket": bucket}


def stored_key(art: dict[str, Any]) -> str:
    return str((art.get("s3") or art.get("local"))["key"])


def test_seed_artifact_passing_file(repo: dict[str, Any]) -> None:
    """Seed 002: a step's /tmp file becomes `hello-art`, unpacked at the consumer's /tmp/message."""
    text = (SEEDS / "002-artifact-passing.yaml").read_text()
    wf = submit(repo["home"], text)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    produced = node(wf, "generate-artifact")["outputs"]["artifacts"][0]
    assert produced["name"] == "hello-art"
    key = stored_key(produced)
    assert key.endswith("/hello-art.tgz") and key.startswith(wf["metadata"]["name"] + "/")
    assert produced["digest"].startswith("sha256:") and produced["size"] > 0
    blob = repo["read"](key)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        assert tar.getnames() == ["hello_world.txt"]
        member = tar.extractfile("hello_world.txt")
        assert member is not None and member.read() == b"hello world\n"
    assert "hello world" in logs(repo["home"], wf["metadata"]["name"])


def test_directory_artifact_and_archive_variants(repo: dict[str, Any]) -> None:
    """A directory output, and the seed's three archive choices (default tgz, none, level 0)."""
    wf = submit(
        repo["home"],
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: archives-}
        spec:
          entrypoint: main
          templates:
          - name: main
            steps:
            - - {name: make, template: make}
            - - name: use
                template: use
                arguments:
                  artifacts:
                  - {name: dir, from: "{{steps.make.outputs.artifacts.dir}}"}
                  - {name: raw, from: "{{steps.make.outputs.artifacts.hello-art-2}}"}
                  - {name: plain, from: "{{steps.make.outputs.artifacts.hello-art-3}}"}
          - name: make
            container:
              image: alpine
              command: [sh, -c]
              args: ["mkdir -p /out/sub /out/empty && echo one > /out/a.txt && echo two > /out/sub/b.txt && echo hello world > /tmp/hello_world.txt"]
            outputs:
              artifacts:
              - {name: dir, path: /out, archive: {none: {}}}
              - {name: hello-art-1, path: /tmp/hello_world.txt}
              - {name: hello-art-2, path: /tmp/hello_world.txt, archive: {none: {}}}
              - {name: hello-art-3, path: /tmp/hello_world.txt, archive: {tar: {compressionLevel: 0}}}
              - {name: zstd-dir, path: /out, archive: {zstd: {level: 3}}}
          - name: use
            inputs:
              artifacts:
              - {name: dir, path: /in/dir}
              - {name: raw, path: /in/raw.txt}
              - {name: plain, path: /in/plain.txt}
            container:
              image: alpine
              command: [sh, -c]
              args: ["cat /in/dir/a.txt /in/dir/sub/b.txt /in/raw.txt /in/plain.txt && test -d /in/dir/empty && echo empty-dir-kept"]
        """,
    )
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    outs = {a["name"]: a for a in node(wf, "make")["outputs"]["artifacts"]}
    keys = repo["keys"]()
    dir_key = stored_key(outs["dir"])
    assert f"{dir_key}/a.txt" in keys and f"{dir_key}/sub/b.txt" in keys
    assert repo["read"](f"{dir_key}/sub/b.txt") == b"two\n"
    assert repo["read"](stored_key(outs["hello-art-2"])) == b"hello world\n"
    assert stored_key(outs["hello-art-2"]).endswith("/hello_world.txt")
    assert stored_key(outs["zstd-dir"]).endswith("/zstd-dir.tar.zst")
    assert repo["read"](stored_key(outs["zstd-dir"]))[:4] == b"\x28\xb5\x2f\xfd"
    level0 = repo["read"](stored_key(outs["hello-art-3"]))
    level6 = repo["read"](stored_key(outs["hello-art-1"]))
    assert level0[:2] == level6[:2] == b"\x1f\x8b"
    assert len(level0) > len(level6)  # compressionLevel 0 really is uncompressed gzip
    out = logs(repo["home"], wf["metadata"]["name"])
    for line in ("one", "two", "hello world", "empty-dir-kept"):
        assert line in out


def test_uid_keys_keep_concurrent_runs_apart(repo: dict[str, Any]) -> None:
    """Seed 002's `{{workflow.uid}}` keys: two runs of one spec write two objects."""
    text = """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: uid-keys-}
        spec:
          entrypoint: main
          templates:
          - name: main
            container:
              image: alpine
              command: [sh, -c]
              args: ["echo {{workflow.name}} > /tmp/me.txt"]
            outputs:
              artifacts:
              - name: me
                path: /tmp/me.txt
                s3: {key: "runs/me-{{workflow.uid}}.txt"}
                archive: {none: {}}
        """
    path = repo["home"] / "uid.yaml"
    path.write_text(textwrap.dedent(text))
    env = dict(os.environ, ARGOSY_HOME=str(repo["home"]))
    procs = [subprocess.Popen([sys.executable, "-m", "argosy.cli.main", "submit", str(path), "--wait", "-o", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    uids = {w["metadata"]["uid"] for w in results}
    assert len(uids) == 2
    for w in results:
        assert w["status"]["phase"] == "Succeeded"
        key = f"runs/me-{w['metadata']['uid']}.txt"
        assert repo["read"](key).decode().strip() == w["metadata"]["name"]


def test_seed_output_parameter_beside_artifact(repo: dict[str, Any]) -> None:
    """Seed 002: an output parameter from a file, next to an artifact of the same step."""
    wf = submit(
        repo["home"],
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: param-and-art-}
        spec:
          entrypoint: main
          templates:
          - name: main
            steps:
            - - {name: gen, template: gen}
            - - name: show
                template: show
                arguments:
                  parameters: [{name: message, value: "{{steps.gen.outputs.parameters.hello-param}}"}]
          - name: gen
            container:
              image: alpine
              command: [sh, -c]
              args: ["echo -n hello world > /tmp/hello_world.txt"]
            outputs:
              parameters: [{name: hello-param, valueFrom: {path: /tmp/hello_world.txt}}]
              artifacts: [{name: hello-art, path: /tmp/hello_world.txt}]
          - name: show
            inputs: {parameters: [{name: message}]}
            container: {image: alpine, command: [echo], args: ["got: {{inputs.parameters.message}}"]}
        """,
    )
    assert wf["status"]["phase"] == "Succeeded"
    gen = node(wf, "gen")
    assert gen["outputs"]["parameters"][0]["value"] == "hello world"
    assert gen["outputs"]["artifacts"][0]["name"] == "hello-art"
    assert "got: hello world" in logs(repo["home"], wf["metadata"]["name"])


def test_seed_hardwired_git_http_s3_inputs(tmp_path: Path, git_server: Any, http_server: Any, s3_server: Any, s3_bucket: str) -> None:
    """Seed 002's hardwired inputs, pointed at local servers: git checkout, http file (mode 0755), s3 prefix."""
    repo_ = git_server.make_repo("argo-src", {"README.md": "argo source\n", "cmd/main.go": "package main\n"})
    http_url = http_server.serve("/kubectl", b"#!/bin/sh\necho kubectl-stub-ok\n")
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="path/in/bucket/one.txt", Body=b"one\n")
    client.put_object(Bucket=s3_bucket, Key="path/in/bucket/deep/two.txt", Body=b"two\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "cred.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: my-s3-credentials}}\nstringData: {{accessKey: {s3_server.access_key}, secretKey: {s3_server.secret_key}}}\n"
    )
    argosy(home, "apply", "-f", str(home / "cred.yaml"))
    wf = submit(
        home,
        f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {{generateName: hardwired-artifact-}}
        spec:
          entrypoint: hardwired-artifact
          templates:
          - name: hardwired-artifact
            inputs:
              artifacts:
              - name: argo-source
                path: /src
                git: {{repo: "{repo_.http_url}", revision: main}}
              - name: kubectl
                path: /bin/kubectl
                mode: 0755
                http: {{url: "{http_url}"}}
              - name: objects
                path: /s3
                s3:
                  endpoint: {s3_server.endpoint}
                  insecure: true
                  bucket: {s3_bucket}
                  key: path/in/bucket
                  accessKeySecret: {{name: my-s3-credentials, key: accessKey}}
                  secretKeySecret: {{name: my-s3-credentials, key: secretKey}}
            container:
              image: debian
              command: [sh, -c]
              args: ["ls -l /src /bin/kubectl && cat /src/README.md /s3/one.txt /s3/deep/two.txt && /bin/kubectl"]
        """,
    )
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    out = logs(home, wf["metadata"]["name"])
    for text in ("argo source", "one", "two", "kubectl-stub-ok", "-rwxr-xr-x"):
        assert text in out, out
    assert not Path("/src/README.md").exists()  # the checkout stayed inside the step's sandbox


def test_missing_output_fails_the_step_naming_the_path(tmp_path: Path) -> None:
    wf = submit(
        tmp_path,
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: missing-out-}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {image: alpine, command: ["true"]}
            outputs:
              artifacts:
              - {name: report, path: /tmp/report.json}
              - {name: extra, path: /tmp/extra.json, optional: true}
        """,
    )
    assert wf["status"]["phase"] in ("Error", "Failed")
    root = wf["status"]["nodes"][wf["metadata"]["name"]]
    assert "/tmp/report.json" in root["message"] and "extra" not in root["message"]


def test_required_input_not_supplied_is_reported(tmp_path: Path) -> None:
    wf = submit(
        tmp_path,
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: no-input-}
        spec:
          entrypoint: main
          templates:
          - name: main
            steps:
            - - name: use
                template: use
                arguments:
                  artifacts:
                  - {name: data, s3: {key: does/not/exist.tgz}}
          - name: use
            inputs: {artifacts: [{name: data, path: /tmp/data}]}
            container: {image: alpine, command: [cat, /tmp/data]}
        """,
    )
    assert wf["status"]["phase"] != "Succeeded"
    use = node(wf, "use")
    assert "does/not/exist.tgz" in (use.get("message") or "") or "not" in (use.get("message") or "")
