"""S3Driver against a real S3 server process (moto), plus MinIO-client interoperability."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError
from argosy.storage import ArchiveFormat, S3Config, S3Driver, load_artifact, read_bytes, save_artifact
from tests.fixtures.s3server import S3Server

from .contract import DriverContract
from .faultproxy import fault_proxy
from .helpers import FailingReader, make_tree, snapshot

pytestmark = pytest.mark.s3
MIB = 1 << 20


def make_driver(server: S3Server, bucket: str, **overrides: Any) -> S3Driver:
    options: dict[str, Any] = {
        "endpoint": server.endpoint,
        "bucket": bucket,
        "region": server.region,
        "insecure": True,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "part_size_mib": 5,
        "threads": 2,
        "retry_base_delay": 0.01,
    }
    options.update(overrides)
    return S3Driver(S3Config(**options))


class TestS3Contract(DriverContract):
    @pytest.fixture()
    def driver(self, s3_server: S3Server, s3_bucket: str) -> Iterator[S3Driver]:
        with make_driver(s3_server, s3_bucket) as driver:
            yield driver


class Generated(io.RawIOBase):
    """An unknown-length stream of ``size`` deterministic pseudo-random bytes, made on the fly."""

    def __init__(self, size: int, seed: bytes = b"argosy") -> None:
        self._left = size
        self._block = hashlib.sha256(seed).digest() * 2048  # 64 KiB, not compressible by design
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = min(len(view), len(self._block), self._left)
        view[:n] = self._block[:n]
        self.sha.update(view[:n])
        self._left -= n
        return n


def test_multipart_upload_of_an_unknown_size_stream(s3_server: S3Server, s3_bucket: str) -> None:
    driver = make_driver(s3_server, s3_bucket)
    source = Generated(40 * MIB + 123)
    tracemalloc.start()
    try:
        info = driver.put_stream("big/blob.bin", source)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.size == 40 * MIB + 123
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="big/blob.bin")
    assert head["ContentLength"] == info.size
    assert head["ETag"].strip('"').endswith("-9")  # 8 full 5 MiB parts + the tail: it was multipart
    # memory ≈ part_size × (threads + 1), not the object size
    assert peak < 5 * MIB * (2 + 1) + 4 * MIB, f"peak {peak / MIB:.1f} MiB"
    digest = hashlib.sha256()
    with driver.open_read("big/blob.bin") as reader:
        while chunk := reader.read(MIB):
            digest.update(chunk)
    assert digest.hexdigest() == source.sha.hexdigest()


def test_a_failed_multipart_upload_leaves_no_object_and_no_pending_upload(s3_server: S3Server, s3_bucket: str) -> None:
    driver = make_driver(s3_server, s3_bucket)
    reader = FailingReader(os.urandom(12 * MIB), fail_after=11 * MIB)  # two parts already uploaded
    with pytest.raises(OSError, match="disk on fire"):
        driver.put_stream("wf/pod/out.tgz", reader)  # type: ignore[arg-type]
    client = s3_server.client()
    assert "Contents" not in client.list_objects_v2(Bucket=s3_bucket)
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_minio_client_reads_what_argosy_wrote(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    from minio import Minio

    driver = make_driver(s3_server, s3_bucket)
    src = make_tree(tmp_path / "result")
    packed = save_artifact(driver, "wf/pod/result.tgz", src, ArchiveFormat())
    flat = save_artifact(driver, "wf/pod/result", src, ArchiveFormat("none"))
    big = Generated(11 * MIB)
    driver.put_stream("wf/pod/big.bin", big)  # type: ignore[arg-type]

    mc = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key,
               secure=False, region=s3_server.region)
    response = mc.get_object(s3_bucket, packed.key)
    try:
        assert hashlib.sha256(response.read()).hexdigest() == packed.sha256
    finally:
        response.close()
        response.release_conn()
    response = mc.get_object(s3_bucket, "wf/pod/big.bin")
    try:
        assert hashlib.sha256(response.read()).hexdigest() == big.sha.hexdigest()
    finally:
        response.close()
        response.release_conn()
    names = {o.object_name for o in mc.list_objects(s3_bucket, prefix=flat.key + "/", recursive=True)}
    assert {"wf/pod/result/a.txt", "wf/pod/result/sub/deeper/c.bin", "wf/pod/result/empty/"} <= names


def test_none_directory_layout_matches_argo(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    driver = make_driver(s3_server, s3_bucket)
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "empty" / "nested-empty").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    save_artifact(driver, "wf/pod/data", src, ArchiveFormat("none"))
    keys = sorted(o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == ["wf/pod/data/a.txt", "wf/pod/data/empty/nested-empty/", "wf/pod/data/sub/b.txt"]
    dest = tmp_path / "back"
    load_artifact(driver, "wf/pod/data", dest, None)
    assert snapshot(dest) == {k: v for k, v in snapshot(src).items()}


def test_missing_bucket_names_bucket_and_endpoint(s3_server: S3Server) -> None:
    driver = make_driver(s3_server, "argosy-no-such-bucket", secret_key="TOP-SECRET-value-1234")
    for action in (
        lambda: driver.open_read("k"),
        lambda: driver.put_stream("k", io.BytesIO(b"x")),
        lambda: driver.exists("k"),
        lambda: list(driver.list("")),
    ):
        with pytest.raises(RepositoryError) as caught:
            action()
        message = str(caught.value)
        assert f"bucket 'argosy-no-such-bucket' does not exist at endpoint http://{s3_server.endpoint}" in message
        assert "TOP-SECRET" not in message


def test_unreachable_endpoint_is_a_repository_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    driver = S3Driver(S3Config(endpoint=f"127.0.0.1:{port}", bucket="b-unreachable", insecure=True,
                               access_key="AKIDEXAMPLE", secret_key="TOP-SECRET-value-1234",
                               session_token="SESSION-SECRET-5678", retry_attempts=2, retry_base_delay=0.01))
    with pytest.raises(RepositoryError) as caught:
        driver.get_file("wf/out.tgz", tmp_path / "x")
    message = str(caught.value)
    assert message.startswith(f"cannot reach S3 endpoint http://127.0.0.1:{port}")
    assert "TOP-SECRET" not in message and "SESSION-SECRET" not in message
    assert not (tmp_path / "x").exists()


def test_secrets_never_appear_in_repr() -> None:
    config = S3Config(bucket="bkt", endpoint="minio:9000", access_key="AKIDSECRETISH", secret_key="TOP-SECRET",
                      session_token="SESSION-SECRET", sse_customer_key="C" * 32)
    driver = S3Driver(config)
    for text in (repr(config), repr(driver), driver.describe(), str(config)):
        for secret in ("AKIDSECRETISH", "TOP-SECRET", "SESSION-SECRET", "C" * 32):
            assert secret not in text
    assert driver.describe() == "s3://bkt@minio:9000"


def test_kms_and_customer_key_together_are_rejected() -> None:
    with pytest.raises(RepositoryError, match="serverSideCustomerKeySecret and kmsKeyId cannot be set together"):
        S3Config(bucket="b", kms_key_id="arn:aws:kms:key", sse_customer_key="K" * 32)


def test_part_size_and_threads_come_from_config_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert S3Config(bucket="b").part_size() == 12 * MIB  # the default 64 MiB budget over 4 + 1 buffers
    monkeypatch.setenv("ARGOSY_S3_PART_SIZE_MIB", "64")
    monkeypatch.setenv("ARGOSY_S3_UPLOAD_THREADS", "8")
    assert S3Config(bucket="b").part_size() == 64 * MIB
    assert S3Config(bucket="b").upload_threads() == 8
    assert S3Config(bucket="b", part_size_mib=5).part_size() == 5 * MIB  # explicit beats environment
    for bad in ("4", "5121", "lots"):
        monkeypatch.setenv("ARGOSY_S3_PART_SIZE_MIB", bad)
        with pytest.raises(RepositoryError, match="part size"):
            S3Config(bucket="b")


def test_default_part_size_shares_the_buffer_budget_among_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGOSY_S3_PART_SIZE_MIB", "ARGOSY_S3_UPLOAD_THREADS", "ARGOSY_S3_BUFFER_MIB"):
        monkeypatch.delenv(name, raising=False)

    def part_mib(**fields: Any) -> int:
        return S3Config(bucket="b", **fields).part_size() // MIB

    assert part_mib() == 12  # 64 MiB // (4 threads + 1)
    assert part_mib(threads=8) == 7  # 63 MiB: thread count no longer multiplies the memory
    assert part_mib(threads=64) == 5  # never below S3's minimum part
    assert part_mib(threads=1) == 16  # never above the old default
    assert part_mib(buffer_mib=40) == 8
    monkeypatch.setenv("ARGOSY_S3_BUFFER_MIB", "30")
    monkeypatch.setenv("ARGOSY_S3_UPLOAD_THREADS", "2")
    assert part_mib() == 10
    assert part_mib(buffer_mib=200) == 16
    assert part_mib(part_size_mib=64) == 64  # an explicit part size is honoured as given


def test_invalid_buffer_budget_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RepositoryError, match=r"S3 part buffer budget must be at least 10 MiB .*got 9 MiB"):
        S3Config(bucket="b", buffer_mib=9)
    monkeypatch.setenv("ARGOSY_S3_BUFFER_MIB", "lots")
    with pytest.raises(RepositoryError, match=r"\$ARGOSY_S3_BUFFER_MIB must be an integer, got 'lots'"):
        S3Config(bucket="b", part_size_mib=5)  # checked even when the part size is explicit
    monkeypatch.setenv("ARGOSY_S3_BUFFER_MIB", "0")
    with pytest.raises(RepositoryError, match="got 0 MiB"):
        S3Config(bucket="b")


class PartRecorder:
    """Records each UploadPart request's size and the most requests in flight at once."""

    def __init__(self, driver: S3Driver) -> None:
        self.sizes: list[int] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        events = driver.client.meta.events
        events.register("provide-client-params.s3.UploadPart", self._params)
        events.register("before-call.s3.UploadPart", self._start)
        events.register("after-call.s3.UploadPart", self._end)

    def _params(self, params: dict[str, Any], **_: Any) -> None:
        self.sizes.append(params["ContentLength"])

    def _start(self, **_: Any) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _end(self, **_: Any) -> None:
        with self._lock:
            self._in_flight -= 1


def upload_traced(driver: S3Driver, key: str, source: Generated) -> int:
    """Upload ``source``; the peak of Python memory during the upload, in bytes."""
    tracemalloc.start()
    try:
        driver.put_stream(key, source)  # type: ignore[arg-type]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def read_sha256(driver: S3Driver, key: str) -> str:
    digest = hashlib.sha256()
    with driver.open_read(key) as reader:
        while chunk := reader.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def test_multipart_upload_under_a_small_buffer_budget(s3_server: S3Server, s3_bucket: str) -> None:
    # 10 MiB for 2 threads: 5 MiB parts, one uploading while the next fills
    driver = make_driver(s3_server, s3_bucket, part_size_mib=None, buffer_mib=10)
    parts = PartRecorder(driver)
    source = Generated(12 * MIB + 7)
    peak = upload_traced(driver, "small/budget.bin", source)
    assert parts.sizes == [5 * MIB, 5 * MIB, 2 * MIB + 7]
    assert parts.max_in_flight == 1
    assert peak < 10 * MIB + 4 * MIB, f"peak {peak / MIB:.1f} MiB"
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="small/budget.bin")
    assert head["ContentLength"] == 12 * MIB + 7 and head["ETag"].strip('"').endswith("-3")
    assert read_sha256(driver, "small/budget.bin") == source.sha.hexdigest()


def test_explicit_part_size_is_kept_and_the_budget_bounds_parts_in_flight(s3_server: S3Server, s3_bucket: str) -> None:
    # 8 threads of 6 MiB parts would hold 54 MiB; an 18 MiB budget allows 3 buffers: 2 uploading, 1 filling
    driver = make_driver(s3_server, s3_bucket, part_size_mib=6, threads=8, buffer_mib=18)
    parts = PartRecorder(driver)
    source = Generated(40 * MIB)
    peak = upload_traced(driver, "bounded/blob.bin", source)
    assert parts.sizes == [6 * MIB] * 6 + [4 * MIB]
    assert parts.max_in_flight <= 2
    assert peak < 18 * MIB + 4 * MIB, f"peak {peak / MIB:.1f} MiB"
    assert read_sha256(driver, "bounded/blob.bin") == source.sha.hexdigest()


def test_create_bucket_if_not_present(s3_server: S3Server) -> None:
    name = "argosy-created-" + os.urandom(4).hex()
    try:
        driver = make_driver(s3_server, name, create_bucket_if_not_present=True)
        driver.put_stream("k", io.BytesIO(b"made"))
        assert read_bytes(driver, "k") == b"made"
        again = make_driver(s3_server, name, create_bucket_if_not_present=True)
        again.put_stream("k2", io.BytesIO(b"ok"))  # the bucket already exists: still fine
    finally:
        s3_server.remove_bucket(name)


def test_delete_many_sends_at_most_1000_keys_per_request(s3_server: S3Server, s3_bucket: str) -> None:
    driver = make_driver(s3_server, s3_bucket)
    for i in range(3):
        driver.put_stream(f"gc/{i}", io.BytesIO(b"x"))
    sizes: list[int] = []
    driver.client.meta.events.register(
        "provide-client-params.s3.DeleteObjects", lambda params, **_: sizes.append(len(params["Delete"]["Objects"]))
    )
    assert driver.delete_many(f"gc/{i}" for i in range(2500)) == 2500
    assert sizes == [1000, 1000, 500]
    assert list(driver.list("gc")) == []


def test_transient_errors_are_retried(s3_server: S3Server, s3_bucket: str) -> None:
    with fault_proxy(s3_server.endpoint) as proxy:
        driver = make_driver(s3_server, s3_bucket, endpoint=proxy.endpoint, retry_attempts=4)
        proxy.fail = {"PUT": 2}
        driver.put_stream("retry/obj", io.BytesIO(b"eventually"))
        assert proxy.injected == 2
        assert read_bytes(driver, "retry/obj") == b"eventually"

        impatient = make_driver(s3_server, s3_bucket, endpoint=proxy.endpoint, retry_attempts=2)
        proxy.fail = {"PUT": 5}
        with pytest.raises(StorageError, match="SlowDown"):
            impatient.put_stream("retry/other", io.BytesIO(b"never"))
    assert not driver.exists("retry/other")


@pytest.mark.parametrize("code", ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"])
def test_rejected_credentials_say_so_without_leaking_them(s3_server: S3Server, s3_bucket: str, code: str) -> None:
    with fault_proxy(s3_server.endpoint) as proxy:
        driver = make_driver(s3_server, s3_bucket, endpoint=proxy.endpoint, secret_key="TOP-SECRET-value-1234")
        proxy.error = (403, code, "The request signature we calculated does not match")
        proxy.fail = {"GET": 1, "PUT": 1}
        for action in (lambda: driver.open_read("wf/a.tgz"), lambda: driver.put_stream("wf/a.tgz", io.BytesIO(b"x"))):
            with pytest.raises(RepositoryError) as caught:
                action()
            message = str(caught.value)
            assert message.startswith(f"access denied to s3://{s3_bucket}/wf/a.tgz at endpoint http://{proxy.endpoint}")
            assert message.endswith("check the credentials") and "TOP-SECRET" not in message
        assert proxy.injected == 2  # denied requests are not retried


def test_a_download_cut_midway_resumes_where_it_stopped(s3_server: S3Server, s3_bucket: str) -> None:
    data = os.urandom(3 * MIB)
    make_driver(s3_server, s3_bucket).put_stream("cut/blob", io.BytesIO(data))
    with fault_proxy(s3_server.endpoint) as proxy:
        driver = make_driver(s3_server, s3_bucket, endpoint=proxy.endpoint)
        proxy.cut_get_after = MIB + 5
        assert read_bytes(driver, "cut/blob") == data
        gets = [headers for method, _, headers in proxy.requests if method == "GET"]
    assert len(gets) == 2 and "Range" not in gets[0]
    assert gets[1]["Range"].startswith("bytes=") and gets[1]["If-Match"]


def test_assume_role_through_sts(s3_server: S3Server, s3_bucket: str) -> None:
    driver = make_driver(s3_server, s3_bucket, role_arn="arn:aws:iam::123456789012:role/argosy-artifacts")
    driver.put_stream("role/obj", io.BytesIO(b"as the role"))
    assert read_bytes(driver, "role/obj") == b"as the role"


def test_missing_key_on_s3_is_not_found(s3_server: S3Server, s3_bucket: str) -> None:
    driver = make_driver(s3_server, s3_bucket)
    with pytest.raises(ArtifactNotFound, match=f"s3://{s3_bucket}/nope.tgz at endpoint http://"):
        driver.open_read("nope.tgz")
    assert not driver.exists("nope.tgz")


def test_failed_save_midway_leaves_nothing_on_s3(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argosy.storage import archives

    monkeypatch.setenv("ARGOSY_GNU_TAR", "0")
    archives._gnu_tar.cache_clear()
    src = tmp_path / "out"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(12 * MIB))  # streamed into two parts before the failure
    os.mkfifo(src / "zz.fifo")
    driver = make_driver(s3_server, s3_bucket)
    try:
        with pytest.raises(StorageError, match="zz.fifo"):
            save_artifact(driver, "wf/pod/out.tar", src, ArchiveFormat("tar"))
    finally:
        archives._gnu_tar.cache_clear()
    client = s3_server.client()
    assert "Contents" not in client.list_objects_v2(Bucket=s3_bucket)
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_concurrent_uploads_share_one_buffer_budget(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    """A flat directory saves several files at once; together they stay within the budget."""
    src = tmp_path / "flat"
    src.mkdir()
    for i in range(4):  # four files of three 5 MiB parts each, saved concurrently
        (src / f"f{i}.bin").write_bytes(os.urandom(12 * MIB + i))
    driver = make_driver(s3_server, s3_bucket, buffer_mib=10)
    assert driver.max_concurrency >= 4
    tracemalloc.start()
    try:
        save_artifact(driver, "wf/pod/flat", src, ArchiveFormat("none"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 15 * MIB, f"peak {peak / MIB:.1f} MiB"  # budget 10 MiB + transfer overhead; per upload: 44
    load_artifact(driver, "wf/pod/flat", tmp_path / "back", ArchiveFormat("none"))
    assert snapshot(tmp_path / "back") == snapshot(src)
