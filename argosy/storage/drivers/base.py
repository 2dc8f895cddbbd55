"""The one storage contract every artifact backend implements, plus small shared stream helpers.

Keys are ``/``-separated strings relative to the repository root (a bucket, a folder, a URL).
A "directory" is a key prefix: ``is_dir(k)`` is true when objects exist under ``k/``, which is how
Argo stores a directory saved with ``archive: none`` (one object per file, ``k/<rel>``; empty
directories as zero-byte marker objects ``k/<rel>/``).
"""

from __future__ import annotations

import abc
import contextlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Self

from argosy.errors import StorageError

__all__ = ["ArtifactDriver", "ObjectInfo", "BufferReader", "COPY_BUFSIZE"]

COPY_BUFSIZE: Final = 1 << 20


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object (or, with ``is_dir``, one directory/prefix); ``mtime`` is epoch seconds."""

    key: str
    size: int
    mtime: float
    is_dir: bool = False


class ArtifactDriver(abc.ABC):
    """Abstract artifact repository.

    Guarantees every backend gives (and ``tests/storage/contract.py`` checks):

    * ``put_stream``/``put_file`` are atomic: readers see the old object or the complete new one,
      never a partial one, even when the reader raises midway.
    * ``open_read``/``get_file`` raise :class:`~argosy.errors.ArtifactNotFound` for a missing key
      (also when the key is only a directory prefix); ``get_file`` writes ``dest`` atomically.
    * ``delete`` of a missing key succeeds; ``delete_many``/``delete_prefix`` work in batches.
    * Messages name the repository (``describe()``) and key, and never contain secrets.
    """

    #: How many transfers the backend is happy to run at once (used for per-file uploads).
    max_concurrency: int = 1

    # -- writing ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def put_stream(self, key: str, reader: BinaryIO, size: int | None = None) -> ObjectInfo:
        """Store everything ``reader`` yields at ``key``, streaming and atomically.

        ``size``, when given, must match the stream's length (a mismatch is an error and nothing
        is stored); backends use it to pick single-request vs. multipart uploads.
        """

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        """Upload a local file (streamed, atomic)."""
        with open(path, "rb") as f:
            return self.put_stream(key, f, os.fstat(f.fileno()).st_size)

    @abc.abstractmethod
    def make_dir(self, key: str) -> None:
        """Record an (empty) directory at ``key`` so ``is_dir(key)`` holds and downloads recreate it."""

    # -- reading ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def open_read(self, key: str) -> BinaryIO:
        """A streaming reader of the object at ``key`` (close it when done)."""

    def get_file(self, key: str, dest: Path) -> ObjectInfo:
        """Download ``key`` to ``dest`` atomically (temp file beside it, then rename)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.open_read(key) as src:
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.tmp-", dir=dest.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    size = copy_stream(src, out)
                os.chmod(tmp, 0o644)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        return ObjectInfo(key, size, dest.stat().st_mtime)

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """True if an object is stored at exactly ``key``."""

    @abc.abstractmethod
    def is_dir(self, key: str) -> bool:
        """True if objects (or directory markers) exist under ``key/``."""

    @abc.abstractmethod
    def list(self, prefix: str = "", recursive: bool = True, *, include_dirs: bool = False) -> Iterator[ObjectInfo]:
        """Objects under the directory ``prefix`` (``""`` = everything), keys relative to the root.

        ``prefix`` is a directory: ``list("a/b")`` never yields ``a/bc``.  Non-recursive listings
        yield immediate children, sub-directories as ``is_dir`` entries.  Recursive listings yield
        files only, unless ``include_dirs`` also asks for empty directories (S3 ``key/`` markers,
        empty local directories), which is what recreating a directory tree needs.
        """

    # -- deleting --------------------------------------------------------------------------------

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object at ``key``; a missing key is success (S3 semantics)."""

    def delete_many(self, keys: Iterable[str]) -> int:
        """Delete many keys (batched where the backend can); returns how many keys were given."""
        count = 0
        for key in keys:
            self.delete(key)
            count += 1
        return count

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix/`` (not ``prefix`` itself); returns the count."""
        norm = check_prefix(prefix)
        return self.delete_many(o.key for o in self.list(norm, include_dirs=True))

    # -- naming ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def describe(self) -> str:
        """Where this repository is, for messages (``s3://bucket@endpoint``); never secrets."""

    @abc.abstractmethod
    def url(self, key: str) -> str:
        """A URL naming ``key`` in this repository (``s3://bucket/key``, ``file:///…``)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release pooled connections or buffers."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


def check_key(key: str) -> str:
    """Reject keys no backend can store; returns the key without a leading ``/``."""
    if not isinstance(key, str) or not key.strip("/"):
        raise StorageError(f"invalid artifact key {key!r}: it must be a non-empty path")
    if "\0" in key:
        raise StorageError(f"invalid artifact key {key!r}: it contains a NUL byte")
    return key.lstrip("/")


def check_prefix(prefix: str) -> str:
    """A directory prefix for bulk deletes: refusing ``""`` keeps a typo from wiping a repository."""
    norm = prefix.strip("/")
    if not norm:
        raise StorageError("refusing to delete everything in the repository: give a non-empty prefix")
    return norm


def readinto(stream: Any, view: memoryview) -> int:
    """``readinto`` when available (no allocation), else ``read`` plus one copy."""
    fn = getattr(stream, "readinto", None)
    if fn is not None:
        n = fn(view)
        return 0 if n is None else int(n)
    data = stream.read(len(view))
    view[: len(data)] = data
    return len(data)


def fill(stream: Any, view: memoryview) -> int:
    """Read until ``view`` is full or the stream ends; returns the bytes read."""
    total = 0
    while total < len(view):
        n = readinto(stream, view[total:])
        if not n:
            break
        total += n
    return total


def copy_stream(src: Any, out: Any, size: int | None = None, buf: memoryview | None = None) -> int:
    """Copy ``src`` to ``out`` through one reused buffer; enforce ``size`` when given."""
    view = buf if buf is not None else memoryview(bytearray(COPY_BUFSIZE))
    total = 0
    while n := readinto(src, view):
        out.write(view[:n])
        total += n
    check_size(total, size)
    return total


def check_size(actual: int, expected: int | None) -> None:
    if expected is not None and actual != expected:
        raise StorageError(f"stream length {actual} does not match the declared size {expected}; nothing was stored")


class BufferReader(io.RawIOBase):
    """Seekable reader over a memoryview without copying it (retryable request bodies)."""

    def __init__(self, view: memoryview, *, release_on_close: bool = False) -> None:
        self._view = view
        self._pos = 0
        self._release = release_on_close

    def close(self) -> None:
        if self._release and not self.closed:
            self._view.release()  # lets the exporter (e.g. a BytesIO) be resized or freed again
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        out = memoryview(b).cast("B")
        n = min(len(out), len(self._view) - self._pos)
        out[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = bytes(self._view[self._pos : end])
        self._pos = end
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def __len__(self) -> int:
        return len(self._view)
