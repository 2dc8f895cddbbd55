"""Artifact-level operations the engine calls: pack+upload as one stream, download+unpack back.

``save_artifact`` packs in the calling thread into a bounded in-memory pipe that ``put_stream``
drains in another thread, so an artifact of any size moves with a few MiB of memory and no
temporary archive on disk.  A failure on either side aborts the other; since ``put_stream`` is
atomic, a failed save leaves no object at the key.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar, cast

from argosy.errors import ArchiveError, ArtifactNotFound, StorageError

from .archives import ArchiveFormat, _move_into_place, pack, safe_relpath, unpack
from .drivers.base import ArtifactDriver, ObjectInfo, copy_stream, readinto

__all__ = ["SavedArtifact", "copy_artifact", "delete_artifact", "load_artifact", "save_artifact"]

PIPE_CAPACITY: Final = 8 << 20
T = TypeVar("T")


@dataclass(frozen=True)
class SavedArtifact:
    """What was stored: ``sha256``/``size`` are of the stored bytes (for a ``none`` directory, the
    total file size and a digest over sorted ``(relpath, file sha256)``, stable across runs)."""

    key: str
    size: int
    sha256: str
    is_dir: bool
    format: ArchiveFormat


# --------------------------------------------------------------------------------------------------
# Save


def save_artifact(driver: ArtifactDriver, key: str, src: Path, fmt: ArchiveFormat) -> SavedArtifact:
    """Store ``src`` (file or directory) at ``key`` in format ``fmt``.

    Archive formats stream pack → upload.  ``none`` uploads a file as is, and a directory as one
    object per file under ``key/`` plus zero-byte markers for empty directories (Argo's layout;
    symlinks are skipped, as Argo's ``PutDirectory`` does).  A missing ``src`` raises
    ArtifactNotFound naming the path.
    """
    src = Path(src)
    try:
        st = os.stat(src)
    except FileNotFoundError:
        raise ArtifactNotFound(f"artifact path {src} does not exist") from None
    is_dir = stat.S_ISDIR(st.st_mode)
    if fmt.kind == "none":
        if is_dir:
            return _save_dir(driver, key, src, fmt)
        digest, size = _put_hashed(driver, key, src)
        return SavedArtifact(key, size, digest, False, fmt)
    digest, size = _save_stream(driver, key, src, fmt)
    return SavedArtifact(key, size, digest, is_dir, fmt)


class _ConsumerGone(StorageError):
    """The uploading side stopped reading; its own error, if any, is what the caller gets."""

    def __init__(self) -> None:
        super().__init__("the upload stopped reading before the artifact was complete")


class _Pipe(io.RawIOBase):
    """Bounded in-memory pipe from the packing thread to the uploading thread.

    Unlike an OS pipe, the writer can *fail* it: the reader then raises instead of seeing EOF, so a
    half-packed artifact can never be committed as a complete (truncated) object.
    """

    def __init__(self, capacity: int = PIPE_CAPACITY) -> None:
        self._chunks: collections.deque[memoryview] = collections.deque()
        self._size = 0
        self._capacity = capacity
        self._cond = threading.Condition()
        self._eof = False
        self._failed: BaseException | None = None
        self._gone = False

    # writer side
    def write(self, data: Any) -> int:
        chunk = data if isinstance(data, bytes) else bytes(data)
        if not chunk:
            return 0
        with self._cond:
            while self._size >= self._capacity and not self._gone:
                self._cond.wait()
            if self._gone:
                raise _ConsumerGone()
            self._chunks.append(memoryview(chunk))
            self._size += len(chunk)
            self._cond.notify_all()
        return len(chunk)

    def finish(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def fail(self, exc: BaseException) -> None:
        with self._cond:
            self._failed = exc
            self._cond.notify_all()

    # reader side
    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        with self._cond:
            while not self._chunks and not self._eof and self._failed is None:
                self._cond.wait()
            if self._failed is not None:
                raise StorageError(f"packing the artifact failed: {self._failed}")
            n = 0
            while self._chunks and n < len(view):
                head = self._chunks[0]
                step = min(len(head), len(view) - n)
                view[n : n + step] = head[:step]
                n += step
                if step == len(head):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = head[step:]
            self._size -= n
            self._cond.notify_all()
            return n

    def reader_done(self) -> None:
        with self._cond:
            self._gone = True
            self._chunks.clear()
            self._cond.notify_all()


class _HashingWriter:
    def __init__(self, out: _Pipe) -> None:
        self._out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self._out.write(data)

    def flush(self) -> None:
        """Nothing is buffered here; zipfile calls this."""


def _save_stream(driver: ArtifactDriver, key: str, src: Path, fmt: ArchiveFormat) -> tuple[str, int]:
    pipe = _Pipe()
    writer = _HashingWriter(pipe)
    failure: list[BaseException] = []

    def upload() -> None:
        try:
            driver.put_stream(key, cast(BinaryIO, pipe))
        except BaseException as exc:
            failure.append(exc)
        finally:
            pipe.reader_done()

    thread = threading.Thread(target=upload, name=f"argosy-upload-{key}", daemon=True)
    thread.start()
    try:
        pack(src, fmt, writer)  # type: ignore[arg-type]
    except BaseException as exc:
        pipe.fail(exc)
        thread.join()
        if isinstance(exc, _ConsumerGone) and failure:
            raise failure[0] from None
        raise
    pipe.finish()
    thread.join()
    if failure:
        raise failure[0]
    return writer.hash.hexdigest(), writer.size


class _HashingReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = readinto(self._raw, view)
        self.hash.update(view[:n])
        return n


def _put_hashed(driver: ArtifactDriver, key: str, path: Path) -> tuple[str, int]:
    with open(path, "rb", buffering=0) as f:
        reader = _HashingReader(f)
        info = driver.put_stream(key, reader, os.fstat(f.fileno()).st_size)  # type: ignore[arg-type]
    return reader.hash.hexdigest(), info.size


def _tree(root: Path) -> Iterator[tuple[str, Path, bool]]:
    """(relpath, path, is_empty_dir) for every regular file and every empty directory, sorted."""
    stack = [("", root)]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
        children = 0
        subdirs = []
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
                continue
            children += 1
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((child, Path(entry.path)))
            elif stat.S_ISREG(st.st_mode):
                yield child, Path(entry.path), False
            else:
                raise ArchiveError(f"{entry.path} is not a regular file, directory or symlink")
        if not children:
            yield rel, path, True
        stack.extend(reversed(subdirs))


def _save_dir(driver: ArtifactDriver, key: str, src: Path, fmt: ArchiveFormat) -> SavedArtifact:
    base = key.rstrip("/")
    files: list[tuple[str, str]] = []
    total = 0

    def upload(item: tuple[str, Path, bool]) -> tuple[str, str, int]:
        rel, path, empty = item
        target = f"{base}/{rel}" if rel else base
        if empty:
            driver.make_dir(target)
            return rel + "/", "", 0
        digest, size = _put_hashed(driver, target, path)
        return rel, digest, size

    for rel, digest, size in _bounded_map(driver.max_concurrency, upload, _tree(src)):
        files.append((rel, digest))
        total += size
    tree = hashlib.sha256()
    for rel, digest in sorted(files):
        tree.update(f"{rel}\0{digest}\n".encode("utf-8", "surrogateescape"))
    return SavedArtifact(key, total, tree.hexdigest(), True, fmt)


def _bounded_map(workers: int, fn: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
    """Map ``fn`` over ``items`` with at most ``2 × workers`` in flight (lazy, bounded memory)."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="argosy-transfer") as pool:
        pending: set[Future[T]] = set()
        try:
            for item in items:
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
                pending.add(pool.submit(fn, item))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        finally:
            for fut in pending:
                fut.cancel()


# --------------------------------------------------------------------------------------------------
# Load


def load_artifact(driver: ArtifactDriver, key: str, dest: Path, fmt: ArchiveFormat | None) -> None:
    """Materialise the artifact at ``key`` as ``dest`` (file or directory), atomically.

    A key that is a directory prefix (a ``none``-archived directory) is downloaded object by object;
    otherwise the object streams into :func:`~argosy.storage.archives.unpack` (``fmt=None``
    auto-detects as Argo does, ``none`` copies the raw bytes).  Either way the result is built
    beside ``dest`` and renamed into place, so consumers never see a partial artifact.
    """
    dest = Path(dest)
    try:
        reader = driver.open_read(key)
    except ArtifactNotFound:
        if driver.is_dir(key):
            _load_dir(driver, key, dest)
            return
        raise
    with reader:
        unpack(reader, dest, fmt)


def _load_dir(driver: ArtifactDriver, key: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    tmp.chmod(0o755)  # mkdtemp made it private; it becomes the artifact directory
    base = key.strip("/") + "/"

    def jobs() -> Iterator[tuple[str, Path]]:
        for obj in driver.list(key, include_dirs=True):
            rel = safe_relpath(obj.key[len(base) :] if obj.key.startswith(base) else obj.key)
            if not rel:
                continue
            target = tmp / rel
            try:
                if obj.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise StorageError(f"object {obj.key!r} in {driver.describe()} conflicts with another object") from None
            yield obj.key, target

    try:
        for _ in _bounded_map(driver.max_concurrency, lambda job: driver.get_file(*job), jobs()):
            pass
        _move_into_place(str(tmp), dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------------------------------
# Helpers


def copy_artifact(src: ArtifactDriver, src_key: str, dst: ArtifactDriver, dst_key: str) -> int:
    """Copy an artifact between repositories (streamed, no temp files); returns bytes copied.

    Works for single objects and for directory prefixes (each object, plus empty-dir markers).
    """
    try:
        reader = src.open_read(src_key)
    except ArtifactNotFound:
        if not src.is_dir(src_key):
            raise
        return _copy_dir(src, src_key, dst, dst_key)
    with reader:
        return dst.put_stream(dst_key, reader).size


def _copy_dir(src: ArtifactDriver, src_key: str, dst: ArtifactDriver, dst_key: str) -> int:
    base = src_key.strip("/") + "/"
    target = dst_key.rstrip("/")

    def copy(obj: ObjectInfo) -> int:
        rel = safe_relpath(obj.key[len(base) :])
        if obj.is_dir:
            dst.make_dir(f"{target}/{rel}")
            return 0
        with src.open_read(obj.key) as reader:
            return dst.put_stream(f"{target}/{rel}", reader, obj.size).size

    total = sum(_bounded_map(dst.max_concurrency, copy, src.list(src_key, include_dirs=True)))
    if not total and not dst.is_dir(target):
        dst.make_dir(target)
    return total


def delete_artifact(driver: ArtifactDriver, key: str) -> int:
    """Delete an artifact whether it is one object or a directory prefix; returns objects removed."""
    removed = driver.delete_prefix(key)
    if driver.exists(key):
        driver.delete(key)
        removed += 1
    return removed


def read_bytes(driver: ArtifactDriver, key: str, limit: int = 16 << 20) -> bytes:
    """Small helper for tests and previews: the whole object, refusing more than ``limit`` bytes."""
    out = io.BytesIO()
    with driver.open_read(key) as reader:
        copy_stream(_Limited(reader, limit, key), out)
    return out.getvalue()


class _Limited(io.RawIOBase):
    def __init__(self, raw: Any, limit: int, key: str) -> None:
        self._raw, self._left, self._limit, self._key = raw, limit, limit, key

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = readinto(self._raw, view[: self._left + 1])
        if n > self._left:
            raise StorageError(f"artifact {self._key!r} is larger than the {self._limit}-byte limit")
        self._left -= n
        return n
