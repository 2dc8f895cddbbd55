"""Test helpers: sample trees, tree snapshots, hostile archives and misbehaving readers."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

__all__ = ["FailingReader", "hostile_tar", "make_tree", "snapshot"]


def make_tree(root: Path) -> Path:
    """A directory exercising what artifacts contain: nesting, an empty dir, an executable,
    a relative symlink, a non-ASCII name, a >100-byte path, and a file larger than one buffer."""
    root.mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "bin").mkdir()
    (root / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "deeper" / "c.bin").write_bytes(os.urandom((3 << 19) + 7))
    (root / "sub" / "link").symlink_to("../a.txt")
    (root / "empty").mkdir()
    (root / "ünïcode name.txt").write_text("ü\n")
    (root / "long").mkdir()
    (root / "long" / ("n" * 120 + ".txt")).write_text("long name\n")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """relpath → "dir" | "-> target" | "<sha256> <exec?>" for every entry under ``root``."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "-> " + os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            else:
                out[rel] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {'x' if st.st_mode & 0o100 else '-'}"
    return out


def hostile_tar(*members: tuple[str, str, str | bytes], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """Build a tar in memory from (type, name, payload): type is file|dir|symlink|hardlink|chr|fifo;
    payload is the content for files and the target for links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            data = None
            if kind == "file":
                data = payload.encode() if isinstance(payload, str) else payload
                info.size = len(data)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


class FailingReader(io.RawIOBase):
    """Yields ``data`` but raises OSError once ``fail_after`` bytes were read: a producer dying midway."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._fail_after:
            raise OSError("disk on fire")
        view = memoryview(b).cast("B")
        n = min(len(view), self._fail_after - self._pos, len(self._data) - self._pos)
        view[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n
