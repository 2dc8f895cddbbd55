"""save_artifact / load_artifact: streaming, digests, atomicity and bounded memory."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from argosy.errors import ArchiveError, ArtifactNotFound, StorageError
from argosy.storage import (
    ArchiveFormat,
    FsspecDriver,
    LocalDriver,
    archives,
    copy_artifact,
    delete_artifact,
    load_artifact,
    read_bytes,
    save_artifact,
)

from .helpers import make_tree, snapshot

MIB = 1 << 20


@pytest.fixture()
def repo(tmp_path: Path) -> LocalDriver:
    return LocalDriver(tmp_path / "repo", fsync=False)


def test_missing_source_names_the_path(repo: LocalDriver, tmp_path: Path) -> None:
    for kind in ("tgz", "none"):
        with pytest.raises(ArtifactNotFound, match=str(tmp_path / "gone")):
            save_artifact(repo, "k", tmp_path / "gone", ArchiveFormat(kind))  # type: ignore[arg-type]


def test_missing_key_is_not_found(repo: LocalDriver, tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound):
        load_artifact(repo, "wf/none/such.tgz", tmp_path / "in", None)
    assert not (tmp_path / "in").exists()


def test_none_directory_digest_is_stable_and_content_addressed(repo: LocalDriver, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "d")
    first = save_artifact(repo, "a/d", src, ArchiveFormat("none"))
    os.utime(src / "a.txt", (1, 1))  # mtimes do not matter
    second = save_artifact(repo, "b/d", src, ArchiveFormat("none"))
    assert first.sha256 == second.sha256 and first.size == second.size and first.is_dir
    (src / "a.txt").write_text("changed\n")
    assert save_artifact(repo, "c/d", src, ArchiveFormat("none")).sha256 != first.sha256


def test_stored_bytes_match_the_reported_digest(repo: LocalDriver, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "d")
    for kind in ("tgz", "tar", "zstd", "zip"):
        saved = save_artifact(repo, f"x/d.{kind}", src, ArchiveFormat(kind))  # type: ignore[arg-type]
        stored = (tmp_path / "repo" / "x" / f"d.{kind}").read_bytes()
        assert (saved.size, saved.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())


def test_a_pack_failure_midway_stores_nothing(
    repo: LocalDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_GNU_TAR", "0")  # the Python writer streams a.bin before reaching the FIFO
    archives._gnu_tar.cache_clear()
    src = tmp_path / "out"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(3 * MIB))
    os.mkfifo(src / "zz-fifo")
    try:
        with pytest.raises(ArchiveError, match="zz-fifo"):
            save_artifact(repo, "wf/pod/out.tar", src, ArchiveFormat("tar"))
    finally:
        archives._gnu_tar.cache_clear()
    assert not repo.exists("wf/pod/out.tar")
    assert not any(p.is_file() for p in (tmp_path / "repo").rglob("*"))  # no temp file left either


def test_an_upload_failure_is_the_error_the_caller_sees(repo: LocalDriver, tmp_path: Path) -> None:
    repo.make_dir("wf/pod/out.tgz")  # a directory squats on the key: the upload side fails
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(20 * MIB))  # more than the pipe holds, so the packer is mid-stream
    with pytest.raises(StorageError, match="a directory exists at that key"):
        save_artifact(repo, "wf/pod/out.tgz", src, ArchiveFormat("tgz", 1))


def test_load_is_atomic_when_the_archive_is_corrupt(repo: LocalDriver, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "d")
    saved = save_artifact(repo, "wf/d.tgz", src, ArchiveFormat())
    stored = tmp_path / "repo" / "wf" / "d.tgz"
    stored.write_bytes(stored.read_bytes()[: saved.size // 2])
    (tmp_path / "inputs").mkdir()
    with pytest.raises(ArchiveError, match="truncated"):
        load_artifact(repo, "wf/d.tgz", tmp_path / "inputs" / "d", None)
    assert list((tmp_path / "inputs").iterdir()) == []


def test_none_file_with_archive_none_is_copied_verbatim(repo: LocalDriver, tmp_path: Path) -> None:
    payload = b"\x1f\x8b looks like gzip but is not"
    (tmp_path / "f.bin").write_bytes(payload)
    save_artifact(repo, "k/f.bin", tmp_path / "f.bin", ArchiveFormat("none"))
    load_artifact(repo, "k/f.bin", tmp_path / "back.bin", ArchiveFormat("none"))
    assert (tmp_path / "back.bin").read_bytes() == payload


def test_copy_and_delete_artifacts_across_repositories(repo: LocalDriver, tmp_path: Path) -> None:
    other = FsspecDriver(f"file://{tmp_path}/other")
    src = make_tree(tmp_path / "d")
    save_artifact(repo, "wf/d.tgz", src, ArchiveFormat())
    save_artifact(repo, "wf/d", src, ArchiveFormat("none"))
    assert copy_artifact(repo, "wf/d.tgz", other, "copied/d.tgz") > 0
    assert copy_artifact(repo, "wf/d", other, "copied/d") > 0
    load_artifact(other, "copied/d.tgz", tmp_path / "x", None)
    load_artifact(other, "copied/d", tmp_path / "y", None)
    assert snapshot(tmp_path / "x") == snapshot(src)
    assert set(snapshot(tmp_path / "y")) == {k for k, v in snapshot(src).items() if not v.startswith("->")}
    assert delete_artifact(other, "copied/d") >= 6 and delete_artifact(other, "copied/d.tgz") == 1
    assert list(other.list("")) == []


@pytest.mark.parametrize("kind", ["zstd", "tar"])
def test_memory_stays_flat_for_a_200_mb_artifact(tmp_path: Path, kind: str) -> None:
    """Save + load of 200 MB must not hold the artifact in memory (bounded pipe + reused buffers)."""
    src = tmp_path / "big.bin"
    with src.open("wb") as f:
        f.truncate(200 * MIB)  # sparse: cheap to make, still 200 MB to stream
        f.seek(123 * MIB)
        f.write(os.urandom(MIB))
    repo = LocalDriver(tmp_path / "repo", fsync=False)
    tracemalloc.start()
    try:
        saved = save_artifact(repo, "big/big.bin", src, ArchiveFormat(kind, 1 if kind == "zstd" else None))  # type: ignore[arg-type]
        _, save_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        load_artifact(repo, "big/big.bin", tmp_path / "back.bin", None if kind == "zstd" else ArchiveFormat("tar"))
        _, load_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert save_peak < 16 * MIB, f"save peak {save_peak / MIB:.1f} MiB"  # 8 MiB pipe + 1 MiB buffers
    assert load_peak < 4 * MIB, f"load peak {load_peak / MIB:.1f} MiB"
    assert saved.size > 0 and (tmp_path / "back.bin").stat().st_size == 200 * MIB
    with (tmp_path / "back.bin").open("rb") as f:
        f.seek(123 * MIB)
        assert f.read(MIB) == src.read_bytes()[123 * MIB : 124 * MIB]


def test_read_bytes_refuses_more_than_the_limit(repo: LocalDriver) -> None:
    repo.put_stream("k", io.BytesIO(b"x" * 100))
    assert read_bytes(repo, "k", limit=100) == b"x" * 100
    with pytest.raises(StorageError, match="limit"):
        read_bytes(repo, "k", limit=99)
