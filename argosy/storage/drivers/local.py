"""Local-folder artifact repository: Argosy's embedded default.

Keys map to paths under ``root``; directory prefixes are real directories.  Writes go to a hidden
temp file in the target directory, are fsync-ed, then ``os.replace``-d into place, so a reader (or
a crash) never sees a partial object.  Empty parent directories left behind by deletes are pruned
so garbage collection leaves no husks.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from argosy.errors import ArtifactNotFound, StorageError

from .base import ArtifactDriver, ObjectInfo, check_key, check_prefix, copy_stream

__all__ = ["LocalDriver"]

_TMP_MARK = ".argosy-tmp-"


class LocalDriver(ArtifactDriver):
    """Artifacts as files under ``root``; ``fsync=False`` trades durability for speed (tests, scratch)."""

    max_concurrency = 4

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root).expanduser().absolute()
        self.fsync = fsync
        self._root_real = os.path.realpath(self.root)

    # -- paths -----------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        """Absolute path of ``key``; keys that would leave the root are refused."""
        rel = check_key(key)
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise StorageError(f"invalid artifact key {key!r}: '..' would escape the repository {self.describe()}")
        path = os.path.join(self._root_real, *parts)
        real = os.path.realpath(path)
        if real != self._root_real and not real.startswith(self._root_real + os.sep):
            raise StorageError(f"invalid artifact key {key!r}: it resolves outside the repository {self.describe()}")
        return path

    def _key(self, path: str) -> str:
        return os.path.relpath(path, self._root_real).replace(os.sep, "/")

    # -- writing ---------------------------------------------------------------------------------

    def put_stream(self, key: str, reader: BinaryIO, size: int | None = None) -> ObjectInfo:
        path = self._path(key)
        parent, name = os.path.split(path)
        for attempt in range(3):  # a concurrent delete may prune the parent between makedirs and mkstemp
            self._makedirs(parent, key)
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{name[:40]}{_TMP_MARK}", dir=parent)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        try:
            with os.fdopen(fd, "wb") as out:
                total = copy_stream(reader, out, size)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except IsADirectoryError:
            self._discard(tmp)
            raise StorageError(f"cannot store {key!r} in {self.describe()}: a directory exists at that key") from None
        except BaseException:
            self._discard(tmp)
            raise
        if self.fsync:
            self._fsync_dir(parent)
        return ObjectInfo(key, total, os.stat(path).st_mtime)

    def _makedirs(self, path: str, key: str) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StorageError(f"cannot store {key!r} in {self.describe()}: a parent of it is a file") from None

    @staticmethod
    def _discard(tmp: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

    @staticmethod
    def _fsync_dir(path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def make_dir(self, key: str) -> None:
        path = self._path(key)
        self._makedirs(path, key)
        if not os.path.isdir(path):
            raise StorageError(f"cannot create directory {key!r} in {self.describe()}: a file exists there")

    # -- reading ---------------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller owns and closes the stream
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ArtifactNotFound(f"artifact {key!r} not found in {self.describe()}") from None

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def is_dir(self, key: str) -> bool:
        return os.path.isdir(self._path(key))

    def list(self, prefix: str = "", recursive: bool = True, *, include_dirs: bool = False) -> Iterator[ObjectInfo]:
        norm = prefix.strip("/")
        top = self._path(norm) if norm else self._root_real
        if not os.path.isdir(top):
            return
        yield from self._scan(top, recursive, include_dirs)

    def _scan(self, top: str, recursive: bool, include_dirs: bool) -> Iterator[ObjectInfo]:
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            return  # removed while listing
        for entry in entries:
            if _TMP_MARK in entry.name:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if not recursive:
                    yield ObjectInfo(self._key(entry.path), 0, st.st_mtime, is_dir=True)
                    continue
                empty = True
                for info in self._scan(entry.path, recursive, include_dirs):
                    empty = False
                    yield info
                if empty and include_dirs:  # only empty directories need recording
                    yield ObjectInfo(self._key(entry.path), 0, st.st_mtime, is_dir=True)
            elif stat.S_ISREG(st.st_mode):
                yield ObjectInfo(self._key(entry.path), st.st_size, st.st_mtime)

    # -- deleting --------------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except (IsADirectoryError, PermissionError) as exc:
            if os.path.isdir(path):
                return  # a directory is a prefix, not an object: like S3, nothing to delete at the key
            raise StorageError(f"cannot delete {key!r} from {self.describe()}: {exc.strerror}") from exc
        self._prune(os.path.dirname(path))

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(check_prefix(prefix))
        if not os.path.isdir(path) or os.path.islink(path):
            return 0
        count = sum(1 for _ in self._scan(path, True, True))
        with contextlib.suppress(FileNotFoundError):  # a concurrent delete got there first
            shutil.rmtree(path)
        self._prune(os.path.dirname(path))
        return count

    def _prune(self, path: str) -> None:
        """Remove now-empty parents up to (not including) the root."""
        while path != self._root_real and path.startswith(self._root_real + os.sep):
            try:
                os.rmdir(path)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.EBUSY):
                    return
                raise
            path = os.path.dirname(path)

    # -- naming ----------------------------------------------------------------------------------

    def describe(self) -> str:
        return f"local folder {self.root}"

    def url(self, key: str) -> str:
        return Path(self._path(key)).as_uri()

