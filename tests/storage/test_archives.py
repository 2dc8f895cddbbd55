"""Archive formats: round trips, Argo's layout and input semantics, safety, and corrupt input."""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argosy.errors import ArchiveError, ArtifactNotFound, StorageError
from argosy.storage import ArchiveFormat, archive_format_from_spec, archives, object_name, pack, unpack

from .helpers import hostile_tar, make_tree, snapshot

KINDS = ["tgz", "tar", "zstd", "zip"]


def packed(src: Path, fmt: ArchiveFormat) -> bytes:
    out = io.BytesIO()
    pack(src, fmt, out)
    return out.getvalue()


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(params=["python", "gnu-tar"])
def tar_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the pure-Python tar writer and with the GNU tar fast path."""
    if request.param == "gnu-tar" and archives._gnu_tar() is None:
        pytest.skip("GNU tar is not installed")
    monkeypatch.setenv("ARGOSY_GNU_TAR", "1" if request.param == "gnu-tar" else "0")
    monkeypatch.setattr(archives, "_GNU_TAR_MIN_MEMBERS", 1)
    archives._gnu_tar.cache_clear()
    yield request.param
    archives._gnu_tar.cache_clear()


@pytest.fixture(params=["python", "gnu-tar"])
def untar(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with members written by Python and with GNU tar writing them (from the first one)."""
    gnu = archives._find_gnu_tar()
    if request.param == "gnu-tar" and gnu is None:
        pytest.skip("GNU tar is not installed")
    monkeypatch.setattr(archives, "_gnu_untar", lambda: gnu if request.param == "gnu-tar" else None)
    monkeypatch.setattr(archives, "_GNU_UNTAR_MIN_MEMBERS", 0)
    return request.param


# -- formats and names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ArchiveFormat("tgz", 6)),
        ({}, ArchiveFormat("tgz", 6)),
        ({"tar": {}}, ArchiveFormat("tgz", 6)),
        ({"tar": {"compressionLevel": 0}}, ArchiveFormat("tgz", 0)),
        ({"tar": {"compressionLevel": 9}}, ArchiveFormat("tgz", 9)),
        ({"none": {}}, ArchiveFormat("none")),
        ({"none": None}, ArchiveFormat("none")),
        ({"zip": {}}, ArchiveFormat("zip")),
        ({"zstd": {}}, ArchiveFormat("zstd", 3)),
        ({"zstd": {"level": 19}}, ArchiveFormat("zstd", 19)),
    ],
)
def test_archive_spec_mapping(spec: dict[str, object] | None, expected: ArchiveFormat) -> None:
    assert archive_format_from_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"tar": {"compressionLevel": 10}}, "tar compressionLevel must be an integer from 0 to 9, got 10"),
        ({"tar": {"compressionLevel": "6"}}, "tar compressionLevel must be an integer from 0 to 9"),
        ({"zstd": {"level": 0}}, "zstd level must be an integer from 1 to 22, got 0"),
        ({"zstd": {"level": 23}}, "zstd level must be an integer from 1 to 22"),
        ({"rar": {}}, "unknown archive strategy rar"),
        ({"tar": {}, "none": {}}, "exactly one of"),
        ({"tar": {"level": 3}}, "archive.tar has unknown field(s) level"),
        ("tar", "must be a mapping"),
    ],
)
def test_archive_spec_errors_say_what_is_wrong(spec: object, message: str) -> None:
    with pytest.raises(ArchiveError) as caught:
        archive_format_from_spec(spec)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_object_names_follow_argo() -> None:
    assert object_name("hello-art", "hello.txt", ArchiveFormat()) == "hello-art.tgz"
    assert object_name("hello-art", "hello.txt", ArchiveFormat("zip")) == "hello-art.zip"
    assert object_name("hello-art", "hello.txt", ArchiveFormat("zstd")) == "hello-art.tar.zst"
    assert object_name("hello-art", "hello.txt", ArchiveFormat("tar")) == "hello-art.tar"
    assert object_name("hello-art", "hello.txt", ArchiveFormat("none")) == "hello.txt"


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_directory_round_trip(tmp_path: Path, kind: str, tar_writer: str, untar: str) -> None:
    src = make_tree(tmp_path / "out")
    data = packed(src, ArchiveFormat(kind))  # type: ignore[arg-type]
    dest = tmp_path / "inputs" / "art"
    unpack(io.BytesIO(data), dest, ArchiveFormat(kind))  # type: ignore[arg-type]
    assert snapshot(dest) == snapshot(src)  # empty dir, exec bit, symlink, long and unicode names kept
    assert [p.name for p in dest.parent.iterdir()] == ["art"]  # no temp dir left beside it


@pytest.mark.parametrize("kind", KINDS + ["none"])
def test_single_file_becomes_a_file_at_dest(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "hello.txt"
    src.write_text("hello world\n")
    data = packed(src, ArchiveFormat(kind))  # type: ignore[arg-type]
    dest = tmp_path / "in" / "message"
    unpack(io.BytesIO(data), dest, ArchiveFormat(kind))  # type: ignore[arg-type]
    assert dest.is_file() and dest.read_text() == "hello world\n"


def test_tar_layout_is_basename_then_relative_paths(tmp_path: Path, tar_writer: str) -> None:
    src = tmp_path / "results"
    (src / "empty").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    with tarfile.open(fileobj=io.BytesIO(packed(src, ArchiveFormat("tgz")))) as tar:
        names = [(m.name, m.type) for m in tar.getmembers()]
        assert all(isinstance(m.mtime, int) for m in tar.getmembers())
        assert not any(m.pax_headers for m in tar.getmembers())  # no PAX header per member
    assert names == [("results", tarfile.DIRTYPE), ("results/a.txt", tarfile.REGTYPE), ("results/empty", tarfile.DIRTYPE)]


def test_several_top_level_entries_make_dest_a_directory(tmp_path: Path, untar: str) -> None:
    data = hostile_tar(("file", "one.txt", "1"), ("file", "two.txt", "2"))
    dest = tmp_path / "dest"
    unpack(io.BytesIO(data), dest, ArchiveFormat("tar"))
    assert snapshot(dest).keys() == {"one.txt", "two.txt"}


def test_unpack_replaces_an_empty_mount_point_but_not_a_full_directory(tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    data = packed(src, ArchiveFormat())
    (tmp_path / "mount").mkdir()
    unpack(io.BytesIO(data), tmp_path / "mount", ArchiveFormat())
    assert (tmp_path / "mount").read_text() == "x"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(StorageError, match="non-empty directory"):
        unpack(io.BytesIO(data), tmp_path / "full", ArchiveFormat())
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "full", "mount"]


def test_gnu_tar_and_python_writers_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if archives._gnu_tar() is None:
        pytest.skip("GNU tar is not installed")
    src = make_tree(tmp_path / "out")
    for i in range(300):  # above the member count where GNU tar takes over
        (src / "many").mkdir(exist_ok=True)
        (src / "many" / f"f{i:03d}.txt").write_text(str(i))
    monkeypatch.setenv("ARGOSY_GNU_TAR", "0")
    archives._gnu_tar.cache_clear()
    python_bytes = packed(src, ArchiveFormat("tar"))
    monkeypatch.setenv("ARGOSY_GNU_TAR", "1")
    archives._gnu_tar.cache_clear()
    gnu_bytes = packed(src, ArchiveFormat("tar"))
    for name, data in (("py", python_bytes), ("gnu", gnu_bytes)):
        unpack(io.BytesIO(data), tmp_path / name, ArchiveFormat("tar"))
        assert snapshot(tmp_path / name) == snapshot(src)
    assert len(python_bytes) == len(gnu_bytes)


def test_archives_from_other_tools_unpack(tmp_path: Path, untar: str) -> None:
    """GNU tar (hardlinks, long names) and Python's PAX writer, as Argo's Go executor may produce."""
    src = make_tree(tmp_path / "made-by-tar")
    os.link(src / "a.txt", src / "a-hardlink.txt")
    archive = tmp_path / "x.tgz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(tmp_path), "made-by-tar"], check=True)
    with archive.open("rb") as f:
        unpack(f, tmp_path / "gnu", ArchiveFormat())
    assert snapshot(tmp_path / "gnu") == snapshot(src)

    pax = io.BytesIO()
    with tarfile.open(fileobj=pax, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(src, arcname="made-by-tar")
    unpack(io.BytesIO(pax.getvalue()), tmp_path / "pax", None)
    assert snapshot(tmp_path / "pax") == snapshot(src)


def test_gnu_tar_reads_our_archives(tmp_path: Path, tar_writer: str) -> None:
    src = make_tree(tmp_path / "ours")
    (tmp_path / "ours.tgz").write_bytes(packed(src, ArchiveFormat()))
    (tmp_path / "by-tar").mkdir()
    subprocess.run(["tar", "-xzf", str(tmp_path / "ours.tgz"), "-C", str(tmp_path / "by-tar")], check=True)
    assert snapshot(tmp_path / "by-tar" / "ours") == snapshot(src)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.dictionaries(
        st.lists(st.text(st.characters(min_codepoint=48, max_codepoint=0x24F, exclude_characters="/\\"), min_size=1,
                         max_size=12).filter(lambda s: s not in (".", "..")), min_size=1, max_size=3).map("/".join),
        st.binary(max_size=3000),
        min_size=1,
        max_size=8,
    ),
    kind=st.sampled_from(["tar", "zstd", "tgz"]),
)
def test_any_tree_round_trips(tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], kind: str) -> None:
    base = tmp_path_factory.mktemp("prop")
    src = base / "src"
    src.mkdir()
    written = {}
    for rel, data in files.items():
        path = src / rel
        if any(p.is_file() for p in path.parents if p != src and p.exists()):
            continue  # a file already sits where this needs a directory
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[rel] = data
    unpack(io.BytesIO(packed(src, ArchiveFormat(kind))), base / "dest", ArchiveFormat(kind))  # type: ignore[arg-type]
    assert snapshot(base / "dest") == snapshot(src)


# -- compression -------------------------------------------------------------------------------


def test_compression_level_is_honoured(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("".join(f"line {i} of a fairly repetitive log file\n" for i in range(20000)))
    stored = packed(src, ArchiveFormat("tgz", 0))
    best = packed(src, ArchiveFormat("tgz", 9))
    assert stored[:2] == b"\x1f\x8b" and gzip.decompress(stored)  # level 0 is still a valid gzip stream
    assert len(stored) > src.stat().st_size > 10 * len(best)
    assert len(packed(src, ArchiveFormat("zstd", 1))) != len(packed(src, ArchiveFormat("zstd", 19)))


# -- auto-detection (archive unset) ------------------------------------------------------------


def test_auto_detect_untars_gzip_and_zstd(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "tree")
    for kind in ("tgz", "zstd"):
        unpack(io.BytesIO(packed(src, ArchiveFormat(kind))), tmp_path / kind, None)  # type: ignore[arg-type]
        assert snapshot(tmp_path / kind) == snapshot(src)


@pytest.mark.parametrize(
    "payload",
    [
        gzip.compress(b"just some gzipped text, not a tar\n" * 50),
        zstandard.ZstdCompressor().compress(b"zstd text, not a tar\n" * 50),
        b"plain text\n",
        b"",
    ],
    ids=["gzip-not-tar", "zstd-not-tar", "text", "empty"],
)
def test_auto_detect_keeps_other_content_as_a_raw_file(tmp_path: Path, payload: bytes) -> None:
    unpack(io.BytesIO(payload), tmp_path / "input", None)
    assert (tmp_path / "input").read_bytes() == payload


def test_zip_and_plain_tar_are_not_auto_detected_like_argo(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("a")
    for kind in ("zip", "tar"):
        data = packed(src, ArchiveFormat(kind))  # type: ignore[arg-type]
        unpack(io.BytesIO(data), tmp_path / f"raw-{kind}", None)
        assert (tmp_path / f"raw-{kind}").read_bytes() == data
    unpack(io.BytesIO(packed(src, ArchiveFormat("zip"))), tmp_path / "opted-in", None, detect_zip=True)
    assert (tmp_path / "opted-in").read_text() == "a"


def test_format_mismatch_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("a")
    with pytest.raises(ArchiveError, match="not a gzip stream"):
        unpack(io.BytesIO(packed(src, ArchiveFormat("zstd"))), tmp_path / "x", ArchiveFormat("tgz"))
    with pytest.raises(ArchiveError, match="not a zstd stream"):
        unpack(io.BytesIO(packed(src, ArchiveFormat("tgz"))), tmp_path / "y", ArchiveFormat("zstd"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# -- safety ------------------------------------------------------------------------------------


def _outside(tmp_path: Path) -> Path:
    return tmp_path / "outside"


HOSTILE = {
    "dotdot": (lambda o: hostile_tar(("file", "../outside/evil.txt", "pwned")), "../outside/evil.txt"),
    "dotdot-nested": (lambda o: hostile_tar(("dir", "ok", ""), ("file", "ok/../../outside/evil.txt", "x")),
                      "ok/../../outside/evil.txt"),
    "absolute": (lambda o: hostile_tar(("file", f"{o}/evil.txt", "pwned")), "evil.txt"),
    "absolute-etc-passwd-name": (lambda o: hostile_tar(("file", "/etc/passwd", "root::0:0::/:/bin/sh")), "/etc/passwd"),
    "symlink-to-absolute-then-through-it": (
        lambda o: hostile_tar(("symlink", "etc", "/etc"), ("file", "etc/passwd", "pwned")), "etc"),
    "symlink-escape-then-through-it": (
        lambda o: hostile_tar(("symlink", "door", "../outside"), ("file", "door/evil.txt", "pwned")), "door"),
    "symlink-chain": (
        lambda o: hostile_tar(("dir", "a", ""), ("symlink", "a/up", ".."), ("symlink", "esc", "a/up/.."),
                              ("file", "keep.txt", "k")), "esc"),
    "symlink-escapes-after-rename": (
        lambda o: hostile_tar(("dir", "top", ""), ("symlink", "top/sib", "../sibling")), "top/sib"),
    "hardlink-absolute": (lambda o: hostile_tar(("hardlink", "h", "/etc/passwd")), "h"),
    "hardlink-dotdot": (lambda o: hostile_tar(("hardlink", "h", "../outside/secret")), "h"),
    "character-device": (lambda o: hostile_tar(("chr", "null", "")), "null"),
    "fifo": (lambda o: hostile_tar(("fifo", "pipe", "")), "pipe"),
    "pax-path-dotdot": (
        lambda o: hostile_tar(("file", "../" + "p" * 120 + "/evil.txt", "x"), fmt=tarfile.PAX_FORMAT), "evil.txt"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("compress", [False, True], ids=["tar", "tgz"])
def test_hostile_members_are_refused_and_nothing_is_written(tmp_path: Path, case: str, compress: bool, untar: str) -> None:
    build, member = HOSTILE[case]
    outside = _outside(tmp_path)
    outside.mkdir()
    (outside / "secret").write_text("secret")
    data = build(outside)
    fmt = ArchiveFormat("tar")
    if compress:
        data, fmt = gzip.compress(data), ArchiveFormat("tgz")
    work = tmp_path / "work"
    work.mkdir()
    before = everything_under(tmp_path)
    with pytest.raises(ArchiveError) as caught:
        unpack(io.BytesIO(data), work / "dest", fmt)
    assert member in str(caught.value)
    assert everything_under(tmp_path) == before  # no dest, no temp dir, nothing outside
    assert (outside / "secret").read_text() == "secret"


def test_zip_traversal_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../evil.txt", "pwned")
    before = everything_under(tmp_path)
    with pytest.raises(ArchiveError, match=r"\.\./evil\.txt"):
        unpack(io.BytesIO(buf.getvalue()), tmp_path / "dest", ArchiveFormat("zip"))
    assert everything_under(tmp_path) == before


def test_safe_links_inside_the_archive_are_kept(tmp_path: Path, untar: str) -> None:
    data = hostile_tar(("dir", "d", ""), ("file", "d/real.txt", "r"), ("symlink", "d/rel", "real.txt"),
                       ("hardlink", "d/hard", "d/real.txt"), ("symlink", "d/self", "."))
    unpack(io.BytesIO(data), tmp_path / "dest", ArchiveFormat("tar"))
    assert (tmp_path / "dest" / "rel").read_text() == "r" and os.readlink(tmp_path / "dest" / "rel") == "real.txt"
    assert os.stat(tmp_path / "dest" / "hard").st_ino == os.stat(tmp_path / "dest" / "real.txt").st_ino


# -- corrupt and truncated input ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "data"
    root.mkdir()
    for i in range(20):
        (root / f"f{i}.bin").write_bytes(os.urandom(5000))
    return root


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", ["half", "tail", "one-byte"])
def test_truncated_archives_are_archive_errors(tmp_path: Path, sample: Path, kind: str, where: str, untar: str) -> None:
    data = packed(sample, ArchiveFormat(kind))  # type: ignore[arg-type]
    end = len(data.rstrip(b"\0")) if kind == "tar" else len(data)  # a plain tar may lose zero padding
    cut = {"half": len(data) // 2, "tail": end - 9, "one-byte": 1}[where]
    before = everything_under(tmp_path)
    with pytest.raises(ArchiveError, match="truncated|corrupt|end"):
        unpack(io.BytesIO(data[:cut]), tmp_path / "dest", ArchiveFormat(kind))  # type: ignore[arg-type]
    assert everything_under(tmp_path) == before


def test_tar_cut_at_a_member_boundary_is_detected(tmp_path: Path, sample: Path, untar: str) -> None:
    data = packed(sample, ArchiveFormat("tar"))
    end = data.rstrip(b"\0")
    boundary = len(end) + (-len(end) % 512)  # right after the last member's data: no end marker
    with pytest.raises(ArchiveError, match="end-of-archive marker"):
        unpack(io.BytesIO(data[:boundary]), tmp_path / "dest", ArchiveFormat("tar"))
    zst = zstandard.ZstdCompressor().compress(data[:boundary])  # a *complete* zstd frame of a cut tar
    with pytest.raises(ArchiveError, match="end-of-archive marker"):
        unpack(io.BytesIO(zst), tmp_path / "dest", ArchiveFormat("zstd"))


@pytest.mark.parametrize("kind", KINDS)
def test_corrupt_archives_are_archive_errors(tmp_path: Path, sample: Path, kind: str, untar: str) -> None:
    data = bytearray(packed(sample, ArchiveFormat(kind)))  # type: ignore[arg-type]
    start = 512 if kind == "tar" else len(data) // 3  # plain tar has no data checksum: hit a header
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    with pytest.raises(ArchiveError):
        unpack(io.BytesIO(bytes(data)), tmp_path / "dest", ArchiveFormat(kind))  # type: ignore[arg-type]
    assert not (tmp_path / "dest").exists()


def test_bad_tar_header_checksum(tmp_path: Path) -> None:
    data = bytearray(hostile_tar(("file", "a.txt", "a")))
    data[0:1] = b"b"
    with pytest.raises(ArchiveError, match="bad header checksum"):
        unpack(io.BytesIO(bytes(data)), tmp_path / "dest", ArchiveFormat("tar"))


# -- packing errors ----------------------------------------------------------------------------


def test_pack_missing_source_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match=str(tmp_path / "nope")):
        pack(tmp_path / "nope", ArchiveFormat(), io.BytesIO())


@pytest.mark.parametrize("kind", ["tgz", "zip"])
def test_pack_refuses_special_files(tmp_path: Path, kind: str, tar_writer: str) -> None:
    src = tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text("a")
    os.mkfifo(src / "queue")
    with pytest.raises(ArchiveError, match="queue"):
        pack(src, ArchiveFormat(kind), io.BytesIO())  # type: ignore[arg-type]


def test_none_format_cannot_stream_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="one object per file"):
        pack(tmp_path, ArchiveFormat("none"), io.BytesIO())


def test_big_file_streams_across_buffers(tmp_path: Path, untar: str) -> None:
    src = tmp_path / "big.bin"
    with src.open("wb") as f:
        for _ in range(5):
            f.write(os.urandom((1 << 20) + 333))
    for kind in ("tar", "zstd"):
        dest = tmp_path / f"out-{kind}"
        unpack(io.BytesIO(packed(src, ArchiveFormat(kind))), dest, ArchiveFormat(kind))  # type: ignore[arg-type]
        assert dest.read_bytes() == src.read_bytes()
    shutil.rmtree(tmp_path / "out-tar", ignore_errors=True)


@pytest.mark.parametrize("threads", ["0", "2"])
def test_multithreaded_zstd_is_one_standard_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    """Worker threads (one per core) still write a standard zstd stream: the zstd CLI and we read it."""
    monkeypatch.setenv("ARGOSY_ZSTD_THREADS", threads)
    src = tmp_path / "big.json"
    with src.open("wb") as f:
        for i in range(60_000):  # ~3 MB, several zstd jobs
            f.write(b'{"i": %d, "v": "%s"}\n' % (i, os.urandom(16).hex().encode()))
    data = packed(src, ArchiveFormat("zstd", 3))
    assert zstandard.ZstdDecompressor().decompressobj().decompress(data)[:512].startswith(b"big.json")
    if shutil.which("zstd"):
        tar_bytes = subprocess.run(["zstd", "-q", "-dc"], input=data, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tf:
            assert tf.extractfile("big.json").read() == src.read_bytes()  # type: ignore[union-attr]
    unpack(io.BytesIO(data), tmp_path / "out", ArchiveFormat("zstd"))
    assert (tmp_path / "out").read_bytes() == src.read_bytes()


def test_zstd_threads_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOSY_ZSTD_THREADS", "3")
    assert archives._zstd_threads() == 3
    monkeypatch.setenv("ARGOSY_ZSTD_THREADS", "many")
    with pytest.raises(ArchiveError, match="ARGOSY_ZSTD_THREADS"):
        archives._zstd_threads()
    monkeypatch.delenv("ARGOSY_ZSTD_THREADS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert archives._zstd_threads() == 0  # one core: no worker threads
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert archives._zstd_threads() == 2


# -- extraction through GNU tar ------------------------------------------------------------------


def _benign(n: int) -> list[tuple[str, str, str | bytes]]:
    return [("dir", "top", "")] + [("file", f"top/f{i:04d}.txt", f"content {i}\n") for i in range(n)]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_member_after_gnu_tar_started_is_refused(tmp_path: Path, case: str) -> None:
    """The default threshold: many benign members reach GNU tar first, then the hostile one arrives."""
    if archives._gnu_untar() is None:
        pytest.skip("GNU tar is not installed")
    build, member = HOSTILE[case]
    outside = _outside(tmp_path)
    outside.mkdir()
    (outside / "secret").write_text("secret")
    hostile = tarfile.open(fileobj=io.BytesIO(build(outside)))  # noqa: SIM115 - read into a list at once
    members = hostile.getmembers()
    buf = io.BytesIO()
    fmt = tarfile.PAX_FORMAT if case.startswith("pax") else tarfile.GNU_FORMAT
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        benign = tarfile.open(fileobj=io.BytesIO(hostile_tar(*_benign(archives._GNU_UNTAR_MIN_MEMBERS + 50))))  # noqa: SIM115
        for m in benign.getmembers():
            tar.addfile(m, benign.extractfile(m))
        for m in members:
            tar.addfile(m, hostile.extractfile(m) if m.isfile() else None)
    work = tmp_path / "work"
    work.mkdir()
    before = everything_under(tmp_path)
    with pytest.raises(ArchiveError) as caught:
        unpack(io.BytesIO(gzip.compress(buf.getvalue())), work / "dest", ArchiveFormat("tgz"))
    assert member in str(caught.value)
    assert everything_under(tmp_path) == before  # GNU tar stopped, its partial tree removed
    assert (outside / "secret").read_text() == "secret"


def test_gnu_tar_sees_only_checked_canonical_members(tmp_path: Path, untar: str) -> None:
    """PAX records (even a global ``path``), setuid bits and owners never reach GNU tar as such."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"path": "../outside/global.txt"}) as tar:  # a 'g' record: GNU tar would apply it
        for i, mode in enumerate((0o4755, 0o2644, 0o644)):
            info = tarfile.TarInfo(f"d/f{i}")
            info.mode, info.uid, info.gid, info.uname = mode, 4242, 4242, "nobody-here"
            info.pax_headers = {"comment": "hello", "mtime": "1700000000.5"}
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    dest = tmp_path / "dest"
    unpack(io.BytesIO(buf.getvalue()), dest, ArchiveFormat("tar"))
    assert sorted(p.name for p in dest.iterdir()) == ["f0", "f1", "f2"]
    for p in dest.iterdir():
        st = p.stat()
        assert st.st_mode & 0o7000 == 0 and st.st_uid == os.getuid() and st.st_mtime == 1_700_000_000
        assert p.read_bytes() == b"abc"
    assert not (tmp_path / "outside").exists()


def test_gnu_tar_failure_is_reported_and_cleaned_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    false = shutil.which("false")
    if false is None:
        pytest.skip("no false(1)")
    monkeypatch.setattr(archives, "_GNU_UNTAR_MIN_MEMBERS", 0)
    monkeypatch.setattr(archives, "_gnu_tar", lambda: false)
    data = hostile_tar(*_benign(2000))
    before = everything_under(tmp_path)
    with pytest.raises(ArchiveError, match=r"GNU tar could not extract the archive \(exit 1\)"):
        unpack(io.BytesIO(data), tmp_path / "dest", ArchiveFormat("tar"))
    assert everything_under(tmp_path) == before


def test_many_members_switch_to_gnu_tar_midway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default threshold: the first members are written here, the rest by GNU tar, one result."""
    src = tmp_path / "src"
    for i in range(500):
        d = src / f"d{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.txt").write_text(f"{i}\n" * (i % 50))
    (src / "d0" / "link").symlink_to("f0.txt")
    os.link(src / "d1" / "f1.txt", src / "d1" / "hard.txt")
    archive = tmp_path / "x.tar.zst"
    subprocess.run(f"tar -C {tmp_path} -cf - src | zstd -q > {archive}", shell=True, check=True)
    sinks = []

    class Counting(archives._UntarSink):
        def __init__(self, tar: str, directory: str) -> None:
            sinks.append(directory)
            super().__init__(tar, directory)

    monkeypatch.setattr(archives, "_UntarSink", Counting)
    with archive.open("rb") as f:
        unpack(f, tmp_path / "out", ArchiveFormat("zstd"))
    assert len(sinks) == (1 if archives._gnu_untar() else 0)
    assert snapshot(tmp_path / "out") == snapshot(src)
    assert os.stat(tmp_path / "out" / "d1" / "hard.txt").st_ino == os.stat(tmp_path / "out" / "d1" / "f1.txt").st_ino


# -- GNU tar fed byte-for-byte (the small-file fast path) ------------------------------------------


class _Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read, like a slow network or decompressor."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._step, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.fixture
def tar_input(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytearray]:
    """GNU tar from the first member; records the stream tar receives, and which of it went through as is."""
    gnu = archives._find_gnu_tar()
    if gnu is None:
        pytest.skip("GNU tar is not installed")
    monkeypatch.setattr(archives, "_gnu_untar", lambda: gnu)
    monkeypatch.setattr(archives, "_GNU_UNTAR_MIN_MEMBERS", 0)
    seen = {"all": bytearray(), "raw": bytearray()}
    send, send_raw = archives._UntarSink._send, archives._UntarSink.send_raw

    def recording_send(self: archives._UntarSink, data: memoryview) -> None:
        seen["all"] += data
        send(self, data)

    def recording_send_raw(self: archives._UntarSink, data: memoryview) -> None:
        seen["raw"] += data
        send_raw(self, data)

    monkeypatch.setattr(archives._UntarSink, "_send", recording_send)
    monkeypatch.setattr(archives._UntarSink, "send_raw", recording_send_raw)
    return seen


def _member_headers(data: bytes) -> list[tuple[int, bytes]]:
    return [(off, data[off : off + 512]) for off in _header_offsets(data)]


def _header_offsets(data: bytes) -> list[int]:
    out, pos = [], 0
    while data[pos : pos + 512] != bytes(512):
        out.append(pos)
        size = tarfile.nti(data[pos + 124 : pos + 136])  # type: ignore[attr-defined]
        pos += 512 + size + (-size % 512)
    return out


def _patch(data: bytes, member: str, *, signed: bool = False, **fields: bytes) -> bytes:
    """Rewrite raw header fields of ``member`` (mode, size, name, typeflag, magic), fixing the checksum."""
    where = {"name": (0, 100), "mode": (100, 8), "size": (124, 12), "typeflag": (156, 1), "magic": (257, 8),
             "prefix": (345, 155), "isextended": (482, 1)}
    buf = bytearray(data)
    for off, block in _member_headers(data):
        if block[:100].split(b"\0", 1)[0].decode() != member:
            continue
        for field, value in fields.items():
            start, width = where[field]
            buf[off + start : off + start + width] = value.ljust(width, b"\0")
        buf[off + 148 : off + 156] = b" " * 8
        header = buf[off : off + 512]
        total = sum(header) - (2 * sum(b for b in header if b > 127) if signed else 0)
        buf[off + 148 : off + 156] = b"%06o\0 " % total
        return bytes(buf)
    raise AssertionError(f"no member {member!r}")


def _strict_header(block: bytes) -> bool:
    return archives._CANONICAL_NUMS.match(block, 100) is not None and block[156:157] in b"0125LK"


def test_canonical_members_reach_gnu_tar_unchanged(tmp_path: Path, tar_input: dict[str, bytearray]) -> None:
    """Archives from GNU tar and Python's tarfile: regular files pass through as they are, and the tree is right."""
    src = tmp_path / "src"
    for i in range(300):
        (src / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 5}" / f"f{i}.txt").write_bytes(os.urandom(i * 37 % 4000))
    gnu = subprocess.run(["tar", "-C", str(tmp_path), "-cf", "-", "src"], capture_output=True, check=True).stdout
    for label, data in (("gnu", gnu), ("python", packed(src, ArchiveFormat("tar")))):
        tar_input["raw"].clear()
        dest = tmp_path / f"out-{label}"
        unpack(_Trickle(data, 70_001), dest, ArchiveFormat("tar"))
        assert snapshot(dest) == snapshot(src)
        file_headers = [h for _, h in _member_headers(data) if h[156:157] == b"0"]
        assert len(file_headers) == 300
        assert all(h in tar_input["raw"] for h in file_headers), label  # forwarded byte for byte


QUIRKS: dict[str, dict[str, Any]] = {
    "setuid-mode": {"mode": b"0004755"},
    "sticky-setgid-mode": {"mode": b"0003644"},
    "size-with-leading-spaces": {"size": b"         12 "},
    "size-base-256": {"size": b"\x80" + (12).to_bytes(11, "big")},
    "signed-checksum": {"signed": True},
    "dot-slash-name": {"name": b"./top/q.txt"},
    "double-slash-name": {"name": b"top//q.txt"},
    "dot-component": {"name": b"top/./q.txt"},
    "hidden-name": {"name": b"top/.q.txt"},
    "regular-file-with-trailing-slash": {"name": b"top/q.txt/"},
    "old-regular-type": {"typeflag": b"\0"},
    "posix-prefix": {"magic": b"ustar\x0000", "prefix": b"top", "name": b"q2.txt"},
    "v7-no-magic": {"magic": b""},
    "gnu-sparse-map-flag": {"isextended": b"\x01"},
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_headers_gnu_tar_could_read_differently_are_re_encoded(
        tmp_path: Path, quirk: str, tar_input: dict[str, bytearray], monkeypatch: pytest.MonkeyPatch) -> None:
    """Only headers GNU tar must read exactly as we do pass through; the rest reach it canonical,
    and the result is the one of the pure-Python extraction."""
    fields = dict(QUIRKS[quirk])
    name = "é-q.txt" if fields.get("signed") else "q.txt"  # a byte > 127 makes signed and unsigned sums differ
    members = _benign(20) + [("file", f"top/{name}", "twelve bytes")] + [("file", "top/z.txt", "after\n")]
    data = _patch(hostile_tar(*members), f"top/{name}", **fields)
    dest = tmp_path / "gnu"
    unpack(io.BytesIO(data), dest, ArchiveFormat("tar"))
    monkeypatch.setattr(archives, "_gnu_untar", lambda: None)
    unpack(io.BytesIO(data), tmp_path / "python", ArchiveFormat("tar"))
    assert snapshot(dest) == snapshot(tmp_path / "python")
    assert (dest / "z.txt").read_text() == "after\n"
    modes = {p.name: p.stat().st_mode for p in dest.rglob("*")}
    assert all(mode & 0o7000 == 0 for mode in modes.values())
    quirky = _member_headers(data)[21][1]  # after "top" and its 20 files
    assert quirky not in tar_input["raw"]  # re-encoded, never forwarded as it was
    sent = [h for _, h in _member_headers(bytes(tar_input["all"]))]
    assert sent and all(_strict_header(h) for h in sent)
    assert all(h[100:104] == b"0000" for h in sent if h[156:157] == b"0")  # permission bits only
    assert {h[:100].split(b"\0")[0] for h in sent if h[156:157] == b"0"} >= {b"top/z.txt"}


def test_corrupt_header_in_the_fast_path_is_refused_and_cleaned_up(tmp_path: Path,
                                                                    tar_input: dict[str, bytearray]) -> None:
    data = bytearray(hostile_tar(*_benign(200)))
    off = _header_offsets(bytes(data))[150]
    data[off + 124 : off + 136] = b"00000777777\0"  # size changed, checksum not: framing would drift
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ArchiveError, match=f"bad header checksum at offset {off}"):
        unpack(_Trickle(bytes(data), 9_000), work / "dest", ArchiveFormat("tar"))
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("step", [511, 4096, 1 << 20])
def test_members_straddling_buffers_and_big_members_mix(tmp_path: Path, step: int,
                                                        tar_input: dict[str, bytearray]) -> None:
    """Headers and data cut at every buffer edge; members bigger than the buffer take the general path."""
    src = tmp_path / "src"
    src.mkdir()
    rnd = random.Random(step)
    for i in range(700):
        size = (archives.COPY_BUFSIZE + 1000) if i in (100, 500) else rnd.randrange(0, 9000)
        (src / f"f{i:03d}").write_bytes(rnd.randbytes(size))
    data = packed(src, ArchiveFormat("tar"))
    unpack(_Trickle(data, step), tmp_path / "out", ArchiveFormat("tar"))
    assert snapshot(tmp_path / "out") == snapshot(src)
    assert len(tar_input["raw"]) > len(data) // 2


@pytest.mark.parametrize("clash", ["top", "top/sub"])
def test_file_over_a_directory_is_refused_in_the_fast_path(tmp_path: Path, clash: str,
                                                           tar_input: dict[str, bytearray]) -> None:
    data = hostile_tar(*_benign(100), ("dir", "top/sub", ""), ("file", "top/sub/x", "x"), ("file", clash, "file"))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ArchiveError, match=f"refusing member '{clash}': conflicts with a directory"):
        unpack(io.BytesIO(data), work / "dest", ArchiveFormat("tar"))
    assert list(work.iterdir()) == []


NEGATIVE = {
    "base-256-size-minus-512": ({"size": b"\xff" * 10 + b"\xfe\x00"}, "negative size in the header at offset 0"),
    "long-name-record-size-minus-512": (None, "negative size"),
    "pax-size-minus-512": ({}, "bad PAX value"),
    "pax-mtime-infinite": ({}, "bad PAX value"),
}


@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_negative_sizes_and_impossible_times_are_refused(tmp_path: Path, case: str, untar: str) -> None:
    """A size of -512 used to move the reader back onto the same header: an endless loop."""
    fields, message = NEGATIVE[case]
    if case.startswith("pax"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo("a.txt")
            info.size = 5
            info.pax_headers = {"size": "-512"} if "size" in case else {"mtime": "inf"}
            tar.addfile(info, io.BytesIO(b"hello"))
        data = buf.getvalue()
    elif case.startswith("long-name"):
        data = bytearray(hostile_tar(("file", "n" * 150, "hello")))  # a GNU 'L' record first
        data[124:136] = b"\xff" * 10 + b"\xfe\x00"
        data[148:156] = b" " * 8
        data[148:156] = b"%06o\0 " % sum(data[:512])
        data = bytes(data)
    else:
        data = _patch(hostile_tar(("file", "a.txt", "hello")), "a.txt", **fields)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ArchiveError, match=message):
        unpack(io.BytesIO(data), work / "dest", ArchiveFormat("tar"))
    assert list(work.iterdir()) == []


_FUZZ_MEMBERS = _benign(30)
_FUZZ_BASE = hostile_tar(*_FUZZ_MEMBERS)
_FUZZ_FIELDS = [(0, 100), (100, 108), (108, 116), (124, 136), (136, 148), (148, 156), (156, 157), (257, 265),
                (345, 350), (482, 483)]  # name, mode, uid, size, mtime, checksum, type, magic, prefix, sparse flag


def _extract_or_error(data: bytes, dest: Path) -> object:
    try:
        unpack(io.BytesIO(data), dest, ArchiveFormat("tar"))
    except (ArchiveError, StorageError):
        return "error"
    return snapshot(dest), {p.relative_to(dest).as_posix(): p.stat().st_mode & 0o7777 for p in dest.rglob("*")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(member=st.integers(5, 30),
       edits=st.lists(st.tuples(st.sampled_from(_FUZZ_FIELDS), st.integers(0, 7),
                                st.sampled_from([0, 32, 0x30, 0x31, 0x34, 0x37, 0x38, 0x2E, 0x2F, 0x80, 0xFF, 0x41])),
                      min_size=1, max_size=3),
       fix_checksum=st.sampled_from([True, True, True, False]))
def test_gnu_tar_and_python_paths_agree_on_mutated_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          member: int, edits: list[tuple[tuple[int, int], int, int]],
                                                          fix_checksum: bool) -> None:
    """Differential: whatever a header says, GNU tar (fed byte for byte or re-encoded) and the
    pure-Python writer produce the same tree, or both refuse the archive."""
    gnu = archives._find_gnu_tar()
    if gnu is None:
        pytest.skip("GNU tar is not installed")
    data = bytearray(_FUZZ_BASE)
    off = _header_offsets(_FUZZ_BASE)[member]
    for (start, end), where, value in edits:
        data[off + start + where % (end - start)] = value
    if fix_checksum:
        data[off + 148 : off + 156] = b" " * 8
        data[off + 148 : off + 156] = b"%06o\0 " % sum(data[off : off + 512])
    monkeypatch.setattr(archives, "_GNU_UNTAR_MIN_MEMBERS", 0)
    run = tmp_path / os.urandom(4).hex()
    monkeypatch.setattr(archives, "_gnu_untar", lambda: gnu)
    through_tar = _extract_or_error(bytes(data), run / "tar")
    monkeypatch.setattr(archives, "_gnu_untar", lambda: None)
    assert through_tar == _extract_or_error(bytes(data), run / "python")
