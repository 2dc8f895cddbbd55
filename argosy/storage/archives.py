"""Archive strategies for artifacts: streaming, bounded-memory, path-safe pack and unpack.

Argo semantics (see ``/work/shared/research/argo-artifacts.md`` §3):

* ``pack`` lays a directory out as ``basename(dir)/<rel>`` (empty directories and symlinks kept) and a
  file as the single entry ``basename``.
* ``unpack`` extracts into a private temp directory next to ``dest``; a single top-level entry is then
  renamed to ``dest`` (a tgz of ``hello.txt`` becomes a file at ``dest``), otherwise the temp directory
  itself becomes ``dest``.  Consumers therefore never see a half-extracted artifact.

Tar streams are written and parsed here rather than with :mod:`tarfile`: a fixed-cost GNU header per
member (no PAX records, no user/group lookups, one reused 1 MiB buffer) packs about 2.5x faster per
member than an optimised ``tarfile`` and lets the reader validate every member *before* anything is
written, detect truncation, and keep memory flat whatever the member count.  The reader accepts
ustar, GNU (long names) and PAX archives, so archives from GNU tar, Go (Argo) and Python all load.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import itertools
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, cast

import zstandard

from argosy.errors import ArchiveError, ArtifactNotFound, StorageError

__all__ = [
    "ArchiveFormat",
    "ArchiveKind",
    "archive_format_from_spec",
    "object_name",
    "pack",
    "safe_relpath",
    "unpack",
]

ArchiveKind = Literal["tgz", "tar", "zstd", "zip", "none"]

_KINDS: Final = ("tgz", "tar", "zstd", "zip", "none")
_DEFAULT_LEVELS: Final[dict[str, int]] = {"tgz": 6, "zstd": 3}
COPY_BUFSIZE: Final = 1 << 20  # perf.md: big copy buffers, reused (page faults cost ~15x a memcpy)
_READ_CHUNK: Final = 256 << 10  # compressed input per decompressor call
_BLOCK: Final = 512
_RECORD: Final = 20 * _BLOCK  # GNU tar pads the archive to whole 10 KiB records
_ZERO_BLOCK: Final = bytes(_BLOCK)
_ZEROS: Final = memoryview(_ZERO_BLOCK)
_META_TYPES: Final = frozenset((b"L", b"K", b"x", b"X", b"g"))  # records about the next member
_NO_DATA_TYPES: Final = frozenset((b"1", b"2", b"3", b"4", b"6"))
_MAX_META: Final = 256 << 10  # longest accepted long-name / PAX record block
_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
_ZIP_MAGIC: Final = b"PK\x03\x04"
_GNU_TAR_MIN_MEMBERS: Final = 256
_ZSTD_MAX_JOB_LOG: Final = 22  # multi-threaded zstd: at most 4 MiB per job (memory: jobs x threads)
_GNU_UNTAR_MIN_MEMBERS: Final = 64  # extracted here first; past it, GNU tar writes the rest
_MAX_MTIME: Final = 1 << 34  # year ~2514: keeps hostile base-256 mtimes from overflowing utime
# A header GNU tar cannot read differently from us: mode, uid, gid as 7 octal digits, size and mtime
# as 11, each ended by NUL or space; the checksum as 6 digits, NUL, space (what GNU tar, Go,
# Python and Argo write).
_CANONICAL_NUMS: Final = re.compile(rb"(?:[0-7]{7}[\0 ]){3}(?:[0-7]{11}[\0 ]){2}[0-7]{6}\0 ")
_ZIP_EPOCH: Final = 315532800  # 1980-01-01, the earliest time a zip entry can carry


# --------------------------------------------------------------------------------------------------
# Formats


@dataclass(frozen=True)
class ArchiveFormat:
    """How an artifact's bytes are stored: ``kind`` plus a compression ``level`` where it applies.

    ``level`` defaults to gzip 6 for ``tgz`` (Argo's ``gzip.DefaultCompression``) and 3 for ``zstd``;
    ``tgz`` level 0 still produces a valid (stored, uncompressed) gzip stream, as Argo does.
    """

    kind: ArchiveKind = "tgz"
    level: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ArchiveError(f"unknown archive kind {self.kind!r}; expected one of {', '.join(_KINDS)}")
        level = self.level
        if level is None:
            if self.kind in _DEFAULT_LEVELS:
                object.__setattr__(self, "level", _DEFAULT_LEVELS[self.kind])
            return
        if self.kind == "tgz":
            _check_level(level, 0, 9, "tar compressionLevel")
        elif self.kind == "zstd":
            _check_level(level, 1, 22, "zstd level")
        else:
            raise ArchiveError(f"archive {self.kind!r} takes no compression level (got {level!r})")

    @property
    def is_tar(self) -> bool:
        """True for the tar family (``tgz``, ``tar``, ``zstd``)."""
        return self.kind in ("tgz", "tar", "zstd")


def _check_level(level: object, low: int, high: int, what: str) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
        raise ArchiveError(f"{what} must be an integer from {low} to {high}, got {level!r}")


def archive_format_from_spec(spec: Mapping[str, Any] | None) -> ArchiveFormat:
    """Map an Argo ``archive:`` object to an :class:`ArchiveFormat`.

    ``None``/``{}`` ⇒ tgz at gzip 6; ``{tar: {compressionLevel: N}}`` ⇒ tgz level N; ``{none: {}}``;
    ``{zip: {}}``; ``{zstd: {level: N}}`` (Argosy's addition).  A key written with an empty value
    (``none:``) counts as set, which is what a YAML author means.
    """
    if spec is None:
        return ArchiveFormat()
    if not isinstance(spec, Mapping):
        raise ArchiveError(f"archive must be a mapping such as {{tar: {{}}}} or {{none: {{}}}}, got {spec!r}")
    if not spec:
        return ArchiveFormat()
    unknown = sorted(str(k) for k in spec if k not in ("tar", "none", "zip", "zstd"))
    if unknown:
        raise ArchiveError(f"unknown archive strategy {', '.join(unknown)}; expected one of tar, none, zip, zstd")
    if len(spec) != 1:
        raise ArchiveError(f"archive must set exactly one of tar, none, zip, zstd; got {', '.join(sorted(spec))}")
    ((name, options),) = spec.items()
    options = {} if options is None else options
    if not isinstance(options, Mapping):
        raise ArchiveError(f"archive.{name} must be a mapping, got {options!r}")
    allowed = {"tar": {"compressionLevel"}, "zstd": {"level"}}.get(name, set())
    extra = sorted(str(k) for k in options if k not in allowed)
    if extra:
        raise ArchiveError(f"archive.{name} has unknown field(s) {', '.join(extra)}")
    if name == "tar":
        return ArchiveFormat("tgz", options.get("compressionLevel"))
    if name == "zstd":
        return ArchiveFormat("zstd", options.get("level"))
    return ArchiveFormat(cast(ArchiveKind, name))


def object_name(artifact_name: str, src_basename: str, fmt: ArchiveFormat) -> str:
    """File name Argo appends to the archive key: ``<name>.tgz``, ``.tar``, ``.tar.zst``, ``.zip``,
    or the source's basename for ``none``."""
    suffix = {"tgz": ".tgz", "tar": ".tar", "zstd": ".tar.zst", "zip": ".zip"}.get(fmt.kind)
    return src_basename if suffix is None else artifact_name + suffix


def safe_relpath(name: str) -> str:
    """Normalise an archive member name or object key suffix to a relative path, refusing escapes.

    Empty and ``.`` components are dropped; absolute names, ``..`` components and NUL bytes raise
    :class:`ArchiveError` naming the member, so nothing can be written outside the destination.
    """
    if "\0" in name:
        raise ArchiveError(f"refusing member {name!r}: name contains a NUL byte")
    if name.startswith("/"):
        raise ArchiveError(f"refusing member {name!r}: absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"refusing member {name!r}: '..' would escape the destination")
    return "/".join(parts)


# --------------------------------------------------------------------------------------------------
# Small stream helpers


def _readinto(stream: Any, view: memoryview) -> int:
    """``readinto`` when the stream has it (no allocation), else ``read`` plus one copy."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        n = readinto(view)
        return 0 if n is None else int(n)
    data = stream.read(len(view))
    view[: len(data)] = data
    return len(data)


def _read_source(stream: Any, view: memoryview) -> int:
    """Read from the caller's stream, reporting plain I/O failures as StorageError (not ArchiveError)."""
    try:
        return _readinto(stream, view)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"reading the artifact stream failed: {exc}") from exc


class _Peekable(io.RawIOBase):
    """Lets auto-detection look at the first bytes of a non-seekable stream without consuming them."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._head = b""

    def readable(self) -> bool:
        return True

    def peek(self, n: int) -> bytes:
        while len(self._head) < n:
            buf = bytearray(n - len(self._head))
            got = _read_source(self._stream, memoryview(buf))
            if not got:
                break
            self._head += bytes(buf[:got])
        return self._head[:n]

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return _read_source(self._stream, view)


class _GzipReader(io.RawIOBase):
    """Streaming gzip decoder: multi-member, bounded output per call, and truncation is an error."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._dec = zlib.decompressobj(31)
        self._pending = b""
        self._inbuf = bytearray(_READ_CHUNK)
        self._done = False
        self._any = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while not self._done:
            if not self._pending:
                n = _read_source(self._stream, memoryview(self._inbuf))
                if not n:
                    if not self._any or not self._dec.eof:
                        raise ArchiveError("truncated gzip stream: it ends before the gzip trailer")
                    self._done = True
                    break
                self._pending = bytes(self._inbuf[:n])
            try:
                out = self._dec.decompress(self._pending, len(view))
            except zlib.error as exc:
                raise ArchiveError(f"corrupt gzip stream: {exc}") from exc
            self._any = True
            self._pending = self._dec.unconsumed_tail
            if self._dec.eof:
                rest = self._dec.unused_data + self._pending
                self._pending = b""
                if rest:
                    self._next_member(rest)
            if out:
                view[: len(out)] = out
                return len(out)
        return 0

    def _next_member(self, rest: bytes) -> None:
        if rest.startswith(_GZIP_MAGIC[:1]) and (len(rest) < 2 or rest.startswith(_GZIP_MAGIC)):
            self._dec = zlib.decompressobj(31)
            self._pending = rest
        elif rest.count(0) == len(rest):
            self._pending = b""  # zero padding after the last member (some tape tools add it)
        else:
            raise ArchiveError("corrupt gzip stream: garbage after the end of the compressed data")


class _ZstdFrames:
    """Walks zstd frame/block headers of the compressed bytes so a truncated stream is detected.

    ``zstandard``'s streaming reader stops silently at a cut; the frame format (RFC 8878) is simple
    enough to track which frame or block we are in with a few operations per 128 KiB block.
    """

    def __init__(self) -> None:
        self._need = 4  # bytes still needed for the current field
        self._state = "magic"
        self._acc = b""
        self._checksum = 0
        self._frames = 0

    def complete(self) -> bool:
        return self._frames > 0 and self._state == "magic" and self._need == 4 and not self._acc

    def feed(self, data: bytes | memoryview) -> None:
        pos, end = 0, len(data)
        while pos < end:
            if self._state == "skip":
                step = min(self._need, end - pos)
                pos += step
                self._need -= step
                if not self._need:
                    self._after_skip()
                continue
            step = min(self._need - len(self._acc), end - pos)
            self._acc += bytes(data[pos : pos + step])
            pos += step
            if len(self._acc) == self._need:
                field, self._acc = self._acc, b""
                self._on_field(field)

    def _skip(self, n: int, then: str) -> None:
        self._then = then
        if n:
            self._state, self._need = "skip", n
        else:
            self._after_skip()

    def _after_skip(self) -> None:
        if self._then == "block":
            self._state, self._need = "block", 3
        elif self._then == "checksum":
            self._state, self._need = "checksum", 4
        else:
            self._frames += 1
            self._state, self._need = "magic", 4

    def _on_field(self, field: bytes) -> None:
        if self._state == "magic":
            magic = int.from_bytes(field, "little")
            if magic == 0xFD2FB528:
                self._state, self._need = "fhd", 1
            elif magic & 0xFFFFFFF0 == 0x184D2A50:
                self._state, self._need = "skipsize", 4
            else:
                raise ArchiveError("corrupt zstd stream: bad frame magic")
        elif self._state == "skipsize":
            self._skip(int.from_bytes(field, "little"), "frame")
        elif self._state == "fhd":
            fhd = field[0]
            single = (fhd >> 5) & 1
            fcs = {0: 1 if single else 0, 1: 2, 2: 4, 3: 8}[fhd >> 6]
            dict_id = {0: 0, 1: 1, 2: 2, 3: 4}[fhd & 3]
            self._checksum = (fhd >> 2) & 1
            self._skip((0 if single else 1) + dict_id + fcs, "block")
        elif self._state == "block":
            header = int.from_bytes(field, "little")
            last, btype, size = header & 1, (header >> 1) & 3, header >> 3
            if btype == 3:
                raise ArchiveError("corrupt zstd stream: reserved block type")
            after = ("checksum" if self._checksum else "frame") if last else "block"
            self._skip(1 if btype == 1 else size, after)
        elif self._state == "checksum":
            self._frames += 1
            self._state, self._need = "magic", 4


class _ZstdReader(io.RawIOBase):
    """Streaming zstd decoder (bounded output via ``stream_reader``) that refuses truncated input."""

    def __init__(self, stream: Any) -> None:
        self._frames = _ZstdFrames()
        tee: Any = _Tee(stream, self._frames.feed)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            tee, read_size=_READ_CHUNK, read_across_frames=True, closefd=False
        )

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            n = self._reader.readinto(b)
        except zstandard.ZstdError as exc:
            raise ArchiveError(f"corrupt zstd stream: {exc}") from exc
        if not n and not self._frames.complete():
            raise ArchiveError("truncated zstd stream: it ends inside a frame")
        return int(n)


class _Tee:
    """Source wrapper feeding every compressed byte to a checker as the decompressor reads it."""

    def __init__(self, stream: Any, sink: Callable[[bytes], None]) -> None:
        self._stream = stream
        self._sink = sink
        self._buf = bytearray(_READ_CHUNK)

    def read(self, size: int = -1) -> bytes:
        view = memoryview(self._buf)[: size if 0 < size <= _READ_CHUNK else _READ_CHUNK]
        n = _read_source(self._stream, view)
        data = bytes(view[:n])
        self._sink(data)
        return data


# --------------------------------------------------------------------------------------------------
# Pack


def pack(src: Path, fmt: ArchiveFormat, out: BinaryIO) -> None:
    """Stream ``src`` (a file or a directory) into ``out`` in format ``fmt``.

    Memory stays flat (one 1 MiB buffer, reused), and ``out.write`` receives views of that buffer
    for uncompressed output, so it must consume the data before returning (files, pipes and
    BytesIO all do).  A missing ``src`` raises ArtifactNotFound naming the path.
    """
    src = Path(src)
    try:
        st = os.stat(src)
    except FileNotFoundError:
        raise ArtifactNotFound(f"artifact path {src} does not exist") from None
    if fmt.kind == "none":
        if stat.S_ISDIR(st.st_mode):
            raise ArchiveError(
                f"{src} is a directory: with archive 'none' it is stored one object per file, not as one stream"
            )
        _check_packable(src, st.st_mode)
        with open(src, "rb", buffering=0) as f:
            buf = memoryview(bytearray(COPY_BUFSIZE))
            while n := f.readinto(buf):
                out.write(buf[:n])
        return
    try:
        if fmt.kind == "zip":
            _pack_zip(src, st, out)
            return
        emit, finish = _compressor(fmt, out)
        tar = _gnu_tar() if stat.S_ISDIR(st.st_mode) and not os.path.islink(src) else None
        if tar is None or not _gnu_tar_stream(tar, os.fsencode(src), emit):
            writer = _TarWriter(emit)
            writer.add_tree(os.fsencode(src), st)
            writer.close()
        finish()
    except (ArchiveError, StorageError):
        raise
    except OSError as exc:
        if exc.filename is None:
            raise  # the output side failed: let the caller see its own error
        raise StorageError(f"cannot archive {exc.filename}: {exc.strerror}") from exc


@functools.lru_cache(maxsize=1)
def _gnu_tar() -> str | None:
    """GNU tar ≥ 1.29 on PATH, unless ``ARGOSY_GNU_TAR=0``.

    Measured on 20,000 small files (92 MB, tmpfs, same run), walk included: letting GNU tar
    produce the plain tar stream and compressing it here packs ``tar`` in 0.17 s vs 0.33 s for the
    pure-Python writer, ``zstd`` 3 in 0.39 s vs 0.53 s, and gzip 6 in 2.2 s vs 2.5 s (compression
    dominates).  Single files and small trees stay in Python (see ``_gnu_tar_stream``).
    """
    if os.environ.get("ARGOSY_GNU_TAR", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return _find_gnu_tar()


def _gnu_untar() -> str | None:
    """GNU tar for extracting big archives (same conditions as :func:`_gnu_tar`)."""
    return _gnu_tar()


@functools.lru_cache(maxsize=1)
def _find_gnu_tar() -> str | None:
    path = shutil.which("tar")
    if path is None:
        return None
    try:
        banner = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = banner.decode("ascii", "replace").split("\n", 1)[0]
    if "GNU tar" not in first:
        return None
    try:
        major, minor = (int(x) for x in first.rsplit(" ", 1)[-1].split(".")[:2])
    except ValueError:
        return None
    return path if (major, minor) >= (1, 29) else None


def _gnu_tar_stream(tar: str, src: bytes, emit: Callable[[memoryview], None]) -> bool:
    """Let GNU tar write the tar stream of directory ``src``; we only choose and check the members.

    The member list comes from the same sorted walk as the Python writer (so both produce the same
    layout, and special files are refused) and is fed to tar through a pipe *while* the walk goes
    on, so walking overlaps with tar and compression (walking first cost ~5 µs per member of
    serial work before tar's first byte).  A walk error stops tar and is raised once its output is
    drained; nothing it wrote is reported as complete.  Returns False, having emitted nothing, for
    trees below ``_GNU_TAR_MIN_MEMBERS``: spawning tar costs ~1.7 ms and it saves ~6 µs per member,
    so small trees are faster in Python.
    """
    norm = os.path.normpath(os.path.abspath(src))
    base = os.path.basename(norm) or b"root"

    def names() -> Iterator[bytes]:
        yield base
        for name, path, st in _walk(src, base):
            if stat.S_ISSOCK(st.st_mode):
                continue
            _check_packable(path, st.st_mode)
            yield name

    members = names()
    first = list(itertools.islice(members, _GNU_TAR_MIN_MEMBERS))
    if len(first) < _GNU_TAR_MIN_MEMBERS:
        return False
    argv = [tar, "--create", "--file=-", "--format=gnu", "--numeric-owner", "--no-recursion",
            "--directory", os.fsdecode(os.path.dirname(norm)), "--null", "--verbatim-files-from",
            "--files-from=-"]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, bufsize=0)
        walk_error: list[BaseException] = []

        def feed() -> None:
            stdin: Any = proc.stdin
            batch = bytearray()
            try:
                for name in itertools.chain(first, members):
                    batch += name + b"\0"
                    if len(batch) >= 1 << 16:
                        stdin.write(batch)
                        batch.clear()
                stdin.write(batch)
            except BrokenPipeError:
                pass  # tar stopped early: its exit status says why
            except BaseException as exc:
                walk_error.append(exc)
                proc.kill()  # never let a partial member list pass for the whole tree
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        feeder = threading.Thread(target=feed, name="argosy-tar-names", daemon=True)
        feeder.start()
        pipe: Any = proc.stdout
        try:
            buf = memoryview(bytearray(COPY_BUFSIZE))
            while n := pipe.readinto(buf):
                emit(buf[:n])
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            pipe.close()
            feeder.join()
        if walk_error:
            raise walk_error[0]
        if rc:
            errors.seek(0)
            detail = errors.read(4000).decode("utf-8", "replace").strip().replace("\n", "; ")
            raise ArchiveError(f"GNU tar could not archive {os.fsdecode(src)} (exit {rc}): {detail}")
    return True


def _check_packable(path: str | bytes | Path, mode: int) -> None:
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
        raise ArchiveError(f"{os.fsdecode(path)} is not a regular file, directory or symlink")


def _compressor(fmt: ArchiveFormat, out: BinaryIO) -> tuple[Callable[[memoryview], None], Callable[[], None]]:
    """Return (emit, finish) feeding ``out`` through the format's compressor."""
    if fmt.kind == "tar":

        def write(data: memoryview) -> None:
            out.write(data)

        return write, lambda: None
    cobj: Any
    if fmt.kind == "tgz":
        cobj = zlib.compressobj(cast(int, fmt.level), zlib.DEFLATED, 31)
    else:
        threads = _zstd_threads()
        if threads:
            # zstd's job is 4 windows by default (8 MiB at level 3, more above): capped at 4 MiB,
            # level 3 peaks at ~45 instead of ~80 MB for the same speed and ~3 % less ratio on
            # the suite's small files (2 MiB jobs: 31 MB but -8 %).
            level = cast(int, fmt.level)
            window_log = zstandard.ZstdCompressionParameters.from_level(level).window_log
            job_size = 1 << min(_ZSTD_MAX_JOB_LOG, max(20, window_log + 2))
            params = zstandard.ZstdCompressionParameters.from_level(
                level, threads=threads, job_size=job_size, write_checksum=True
            )
            cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()
        else:
            cobj = zstandard.ZstdCompressor(level=cast(int, fmt.level), write_checksum=True).compressobj()

    def emit(data: memoryview) -> None:
        chunk = cobj.compress(data)
        if chunk:
            out.write(chunk)

    def finish() -> None:
        out.write(cobj.flush())

    return emit, finish


def _zstd_threads() -> int:
    """Worker threads for zstd compression: one per usable core when there are several, else 0.

    zstd's multi-threaded mode still writes one standard frame (``zstd -d`` reads it) and matches
    ``zstd -T0``: measured on 128 MiB of JSON lines at level 3 with the second core free, 0.60 s
    vs 1.14 s single-threaded.  0 (no worker threads) on one core, where workers only add memory.
    ``ARGOSY_ZSTD_THREADS`` overrides it (0 = single-threaded).
    """
    override = os.environ.get("ARGOSY_ZSTD_THREADS", "").strip()
    if override:
        try:
            return max(0, int(override))
        except ValueError:
            raise ArchiveError(f"ARGOSY_ZSTD_THREADS must be an integer, got {override!r}") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


_OCTAL_11: Final = 8**11


def _entry_template() -> bytes:
    h = bytearray(_BLOCK)
    h[108:116] = b"0000000\0"  # uid
    h[116:124] = b"0000000\0"  # gid
    h[148:156] = b"        "  # the checksum counts its own field as spaces
    h[257:265] = b"ustar  \0"
    return bytes(h)


_ENTRY_TEMPLATE: Final = _entry_template()


def _num(value: int, width: int) -> bytes:
    """A tar numeric field: octal when it fits, else GNU base-256 (sizes ≥ 8 GiB, big uids)."""
    if value < 0:
        value = 0
    if value < 8 ** (width - 1):
        return b"%0*o\0" % (width - 1, value)
    return b"\x80" + value.to_bytes(width - 1, "big")


class _TarWriter:
    """Minimal GNU-format tar writer over one reused buffer (see module docstring for why)."""

    def __init__(self, emit: Callable[[memoryview], None], chunk: int = COPY_BUFSIZE) -> None:
        self._emit = emit
        self._limit = chunk  # bytes handed to ``emit`` at a time
        self._buf = bytearray(chunk)
        self._mv = memoryview(self._buf)
        self._pos = 0
        self._total = 0

    def flush(self) -> None:
        if self._pos:
            self._emit(self._mv[: self._pos])
            self._total += self._pos
            self._pos = 0

    def _put(self, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if self._pos + n > self._limit:
            self.flush()
        if n > self._limit:
            self._emit(memoryview(data))
            self._total += n
            return
        self._mv[self._pos : self._pos + n] = data
        self._pos += n

    def _zeros(self, n: int) -> None:
        while n:
            if self._pos == self._limit:
                self.flush()
            step = min(n, self._limit - self._pos)
            self._mv[self._pos : self._pos + step] = _ZEROS[:step] if step <= _BLOCK else bytes(step)
            self._pos += step
            n -= step

    def _header(self, name: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, typeflag: bytes,
                linkname: bytes = b"") -> None:
        if len(name) > 100:
            self._long(b"L", name)
        if len(linkname) > 100:
            self._long(b"K", linkname)
        h = bytearray(_BLOCK)
        h[0 : min(len(name), 100)] = name[:100]
        h[100:108] = _num(mode, 8)
        h[108:116] = _num(uid, 8)
        h[116:124] = _num(gid, 8)
        h[124:136] = _num(size, 12)
        h[136:148] = _num(mtime, 12)
        h[148:156] = b"        "
        h[156:157] = typeflag
        h[157 : 157 + min(len(linkname), 100)] = linkname[:100]
        h[257:265] = b"ustar  \0"
        h[148:156] = b"%06o\0 " % sum(h)
        self._put(h)

    def entry(self, name: bytes, mode: int, size: int, mtime: int, typeflag: bytes, linkname: bytes = b"") -> None:
        """A member header for the delegated extraction (owner 0:0; tar is told not to chown).

        The common case (short names, octal-sized fields) is built in place in the buffer from a
        template: ~2 µs instead of ~8 µs for :meth:`_header`, which matters at 20,000 members.
        """
        if len(name) > 100 or len(linkname) > 100 or size >= _OCTAL_11 or not 0 <= mtime < _OCTAL_11:
            self._header(name, mode, 0, 0, size, mtime, typeflag, linkname)
            return
        if self._pos + _BLOCK > self._limit:
            self.flush()
        pos = self._pos
        h = self._mv[pos : pos + _BLOCK]
        h[:] = _ENTRY_TEMPLATE
        h[0 : len(name)] = name
        h[100:108] = b"%07o\0" % (mode & 0o7777)
        h[124:136] = b"%011o\0" % size
        h[136:148] = b"%011o\0" % mtime
        h[156:157] = typeflag
        if linkname:
            h[157 : 157 + len(linkname)] = linkname
        h[148:156] = b"%06o\0 " % _byte_sum(h)
        self._pos = pos + _BLOCK

    def data(self, view: memoryview) -> None:
        self._put(view)

    def pad(self, size: int) -> None:
        self._zeros(-size % _BLOCK)

    def _long(self, typeflag: bytes, value: bytes) -> None:
        data = value + b"\0"
        self._header(b"././@LongLink", 0o644, 0, 0, len(data), 0, typeflag)
        self._put(data)
        self._zeros(-len(data) % _BLOCK)

    def add(self, name: bytes, path: bytes, st: os.stat_result) -> None:
        mode = st.st_mode
        perm = stat.S_IMODE(mode)
        mtime = int(st.st_mtime)
        if stat.S_ISREG(mode):
            size = st.st_size
            self._header(name, perm, st.st_uid, st.st_gid, size, mtime, b"0")
            self._copy_file(path, size)
        elif stat.S_ISDIR(mode):
            self._header(name + b"/", perm, st.st_uid, st.st_gid, 0, mtime, b"5")
        elif stat.S_ISLNK(mode):
            self._header(name, perm, st.st_uid, st.st_gid, 0, mtime, b"2", os.readlink(path))
        elif not stat.S_ISSOCK(mode):  # sockets are runtime state: skipped, as GNU tar does
            _check_packable(path, mode)

    def _copy_file(self, path: bytes, size: int) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            left = size
            while left:
                if self._pos == self._limit:
                    self.flush()
                step = min(left, self._limit - self._pos)
                n = os.readv(fd, [self._mv[self._pos : self._pos + step]])
                if not n:
                    raise ArchiveError(f"{os.fsdecode(path)} shrank while it was being archived")
                self._pos += n
                left -= n
        finally:
            os.close(fd)
        self._zeros(-size % _BLOCK)

    def add_tree(self, src: bytes, st: os.stat_result) -> None:
        base = os.path.basename(os.path.normpath(src)) or b"root"
        _check_packable(src, st.st_mode)
        self.add(base, src, st)
        if stat.S_ISDIR(st.st_mode):
            for name, path, child in _walk(src, base):
                self.add(name, path, child)

    def close(self) -> None:
        self._zeros(2 * _BLOCK)
        self._zeros(-(self._total + self._pos) % _RECORD)
        self.flush()


def _walk(root: bytes, prefix: bytes) -> Iterator[tuple[bytes, bytes, os.stat_result]]:
    """Depth-first, name-sorted walk (reproducible archives); symlinks are not followed."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise StorageError(f"cannot list {os.fsdecode(root)}: {exc.strerror}") from exc
    for entry in entries:
        name = prefix + b"/" + entry.name
        st = entry.stat(follow_symlinks=False)
        yield name, entry.path, st
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(entry.path, name)


def _pack_zip(src: Path, st: os.stat_result, out: BinaryIO) -> None:
    """Zip with deflate; entries laid out like tar (``basename/<rel>``), symlinks stored as links."""
    base = os.path.basename(os.path.normpath(src)) or "root"
    _check_packable(src, st.st_mode)
    buf = memoryview(bytearray(COPY_BUFSIZE))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, path: str, st: os.stat_result) -> None:
            info = zipfile.ZipInfo(name, time.localtime(max(st.st_mtime, _ZIP_EPOCH + 86400))[:6])
            info.create_system = 3
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                info.filename = name + "/"
                info.external_attr = (mode & 0xFFFF) << 16 | 0x10
                zf.writestr(info, b"")
            elif stat.S_ISLNK(mode):
                info.external_attr = (mode & 0xFFFF) << 16
                zf.writestr(info, os.readlink(path))
            elif stat.S_ISREG(mode):
                info.external_attr = (mode & 0xFFFF) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                info.file_size = st.st_size
                with open(path, "rb", buffering=0) as f, zf.open(info, "w", force_zip64=st.st_size > 1 << 31) as w:
                    while n := f.readinto(buf):
                        w.write(buf[:n])
            elif not stat.S_ISSOCK(mode):
                _check_packable(path, mode)

        add(base, str(src), st)
        if stat.S_ISDIR(st.st_mode):
            for name, path, child in _walk(os.fsencode(src), os.fsencode(base)):
                add(os.fsdecode(name), os.fsdecode(path), child)


# --------------------------------------------------------------------------------------------------
# Unpack: reading tar


@dataclass
class _Member:
    name: str
    type: bytes
    size: int
    mode: int
    mtime: int
    linkname: str


def _parse_num(field: bytes) -> int:
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    try:  # the usual "0000644\0" / "012345\0 ": one int() call, same result as below
        return int(field.rstrip(b"\0 "), 8)
    except ValueError:
        pass
    digits = field.split(b"\0", 1)[0].strip()
    try:
        return int(digits, 8) if digits else 0
    except ValueError:
        raise ArchiveError(f"corrupt tar header: bad number {field!r}") from None


def _is_tar_header(block: bytes) -> bool:
    """Argo's test for "is a tarball": the first header parses and its checksum matches."""
    if len(block) < _BLOCK or block == _ZERO_BLOCK:
        return False
    try:
        return _checksum_ok(block)
    except ArchiveError:
        return False


def _byte_sum(block: bytes | bytearray | memoryview) -> int:
    """Sum of a 512-byte block's bytes, exactly, at C speed.

    Adler-32's low half is ``1 + sum mod 65521``; a 256-byte half sums to at most 65,280, below
    the modulus, so two halves give the exact sum (``sum()`` over the block costs ~10x more).
    """
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:512]) & 0xFFFF) - 2


def _checksum_ok(block: bytes) -> bool:
    """Header checksum, unsigned as POSIX says or signed as some old writers computed it."""
    stored = _parse_num(block[148:156])
    unsigned = _byte_sum(block) - sum(block[148:156]) + 256  # the checksum field counts as 8 spaces
    if stored == unsigned:
        return True
    rest = block[:148] + block[156:512]
    return stored == unsigned - 2 * sum(b for b in rest if b > 127)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _TarReader:
    """Pull parser for tar streams over one reused buffer; members' data goes straight to an fd."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buf = bytearray(COPY_BUFSIZE)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._eof = False
        self.offset = 0

    def _fill(self, need: int) -> int:
        """Make ``need`` bytes contiguous in the buffer if the stream has them; return what is there."""
        if self._end - self._start >= need:
            return need
        if self._start and COPY_BUFSIZE - self._start < need:
            n = self._end - self._start
            self._mv[:n] = self._mv[self._start : self._end]
            self._start, self._end = 0, n
        while self._end - self._start < need and not self._eof:
            got = _readinto(self._stream, self._mv[self._end :])
            if not got:
                self._eof = True
            self._end += got
        return min(need, self._end - self._start)

    def refill(self) -> bool:
        """Move the unread bytes to the front and read until the buffer is full; False if none came."""
        n = self._end - self._start
        if self._start:
            self._mv[:n] = self._mv[self._start : self._end]
            self._start, self._end = 0, n
        before = self._end
        while self._end < COPY_BUFSIZE and not self._eof:
            got = _readinto(self._stream, self._mv[self._end :])
            if not got:
                self._eof = True
            self._end += got
        return self._end > before

    def _take(self, n: int) -> memoryview:
        view = self._mv[self._start : self._start + n]
        self._start += n
        self.offset += n
        return view

    def _read_meta(self, size: int, what: str) -> bytes:
        if size > _MAX_META:
            raise ArchiveError(f"corrupt tar stream: {what} record of {size} bytes is implausibly large")
        padded = size + (-size % _BLOCK)
        if self._fill(padded) < padded:
            raise ArchiveError(f"truncated tar stream: {what} record is incomplete")
        return bytes(self._take(padded)[:size])

    def next(self) -> _Member | None:
        """The next member, or None at the end-of-archive marker; truncation raises ArchiveError.

        Written for speed (it runs once per member: ~3 µs instead of ~6): no helper calls on the
        usual path, checksum via :func:`_byte_sum`, link names decoded only for links.
        """
        pax: dict[str, str] = {}
        long_name: str | None = None
        long_link: str | None = None
        while True:
            start = self._start
            if self._end - start < _BLOCK:
                got = self._fill(_BLOCK)
                if got < _BLOCK:
                    if got == 0 and self.offset == 0:
                        raise ArchiveError("empty tar stream")
                    raise ArchiveError("truncated tar stream: it ends without the end-of-archive marker")
                start = self._start
            block = bytes(self._mv[start : start + _BLOCK])
            self._start = start + _BLOCK
            self.offset += _BLOCK
            if block == _ZERO_BLOCK:
                return None
            field = block[148:156]
            stored = _parse_num(field)
            unsigned = (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - sum(field) + 254
            if stored != unsigned and not _checksum_ok(block):
                raise ArchiveError(f"corrupt tar stream: bad header checksum at offset {self.offset - _BLOCK}")
            typeflag = block[156:157]
            size = _parse_num(block[124:136])
            if size < 0:  # base-256 allows it; it would move the reader backwards (a loop)
                raise ArchiveError(f"corrupt tar stream: negative size in the header at offset {self.offset - _BLOCK}")
            if typeflag in _META_TYPES:
                if typeflag == b"L":
                    long_name = _decode(self._read_meta(size, "GNU long name").rstrip(b"\0"))
                elif typeflag == b"K":
                    long_link = _decode(self._read_meta(size, "GNU long link").rstrip(b"\0"))
                elif typeflag == b"g":
                    self._read_meta(size, "PAX global")
                else:
                    pax.update(_parse_pax(self._read_meta(size, "PAX")))
                continue
            if long_name is None:
                name = block[0:100].split(b"\0", 1)[0]
                if block[257:263] == b"ustar\0":
                    prefix = block[345:500].split(b"\0", 1)[0]
                    if prefix:
                        name = prefix + b"/" + name
                long_name = name.decode("utf-8", "surrogateescape")
            if long_link is None:
                long_link = _decode(block[157:257].split(b"\0", 1)[0]) if typeflag in (b"1", b"2") else ""
            member = _Member(long_name, typeflag, size, _parse_num(block[100:108]), _parse_num(block[136:148]),
                             long_link)
            if pax:
                _apply_pax(member, pax)
            if typeflag in _NO_DATA_TYPES:
                member.size = 0  # links and devices carry no data, whatever the size field says
            return member

    def copy_to(self, fd: int, size: int, name: str) -> None:
        """Write the member's data to ``fd`` and skip its padding."""
        left = size
        while left:
            if self._start == self._end:
                self._start = self._end = 0
                if not self._fill(1):
                    raise ArchiveError(f"truncated tar stream: member {name!r} is incomplete")
            step = min(left, self._end - self._start)
            view = self._take(step)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            left -= step
        self.skip(-size % _BLOCK, name)

    def copy_into(self, writer: _TarWriter, size: int, name: str) -> None:
        """Hand the member's data and padding to ``writer`` (the delegated extraction's tar stream).

        The padding is passed on as it is: the layout is the same, and tar never reads it.
        """
        left = size + (-size % _BLOCK)
        while left:
            if self._start == self._end:
                self._start = self._end = 0
                if not self._fill(1):
                    raise ArchiveError(f"truncated tar stream: member {name!r} is incomplete")
            step = min(left, self._end - self._start)
            writer.data(self._take(step))
            left -= step

    def skip(self, size: int, name: str) -> None:
        left = size
        while left:
            if self._start == self._end:
                self._start = self._end = 0
                if not self._fill(1):
                    raise ArchiveError(f"truncated tar stream: member {name!r} is incomplete")
            step = min(left, self._end - self._start)
            self._take(step)
            left -= step

    def drain(self) -> None:
        """Read to the end so the decompressor verifies its trailer (CRC / frame completeness)."""
        self._start = self._end = 0
        while _readinto(self._stream, self._mv):
            pass


def _parse_pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveError("corrupt tar stream: bad PAX record") from None
        if space < 0 or length <= 0 or pos + length > len(data):
            raise ArchiveError("corrupt tar stream: bad PAX record")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[_decode(key)] = _decode(value)
        pos += length
    return records


def _apply_pax(member: _Member, pax: dict[str, str]) -> None:
    if any(k.startswith("GNU.sparse") for k in pax):
        raise ArchiveError(f"refusing member {member.name!r}: sparse files are not supported")
    try:
        if "path" in pax:
            member.name = pax["path"]
        if "linkpath" in pax:
            member.linkname = pax["linkpath"]
        if "size" in pax:
            member.size = int(pax["size"])
            if member.size < 0:
                raise ValueError
        if "mtime" in pax:
            member.mtime = int(float(pax["mtime"]))
    except (ValueError, OverflowError):  # OverflowError: an "inf" mtime
        raise ArchiveError(f"corrupt tar stream: bad PAX value for member {member.name!r}") from None


# --------------------------------------------------------------------------------------------------
# Unpack: writing safely


def _plain_file(buf: bytearray, mv: memoryview, pos: int) -> tuple[bytes, int] | None:
    """(name, size) of the header at ``pos`` if GNU tar cannot read it differently from us, else None.

    That is: type ``0``; every numeric field fixed-width octal (so both sides get the same size,
    hence the same framing); GNU magic without the sparse-map flag, or POSIX magic without a
    prefix (the name is the name field alone); permission bits only; the unsigned checksum exact
    (a header GNU tar rejects makes it skip to the next one, reading member data as headers); a
    plain relative name (no empty, ``.`` or ``..`` component, not hidden, no trailing slash).
    """
    if buf[pos + 156] != 0x30 or _CANONICAL_NUMS.match(buf, pos + 100) is None or buf[pos + 100 : pos + 104] != b"0000":
        return None
    magic = buf[pos + 257 : pos + 265]
    if buf[pos + 482] if magic == b"ustar  \0" else magic != b"ustar\x0000" or buf[pos + 345]:
        return None
    adler32 = zlib.adler32  # :func:`_byte_sum` inlined (hot path); the field's own 8 bytes count as spaces
    if int(buf[pos + 148 : pos + 154], 8) != (adler32(mv[pos : pos + 256]) & 0xFFFF) + (
            adler32(mv[pos + 256 : pos + 512]) & 0xFFFF) - (adler32(mv[pos + 148 : pos + 156]) & 0xFFFF) + 255:
        return None  # the general path reports it (or accepts a signed checksum)
    nul = buf.find(0, pos, pos + 100)
    name = bytes(buf[pos : nul if nul >= 0 else pos + 100])
    if not name or name[:1] in b"./" or name[-1:] == b"/" or b"/." in name or b"//" in name:
        return None
    return name, int(buf[pos + 124 : pos + 135], 8)


class _Extractor:
    """Writes validated entries under a fresh private temp dir, then moves the result to ``dest``.

    Safety: names are checked before anything is written; nothing is ever written *through* a
    symlink of the archive (a member under one, or replacing one, is refused), symlinks are created
    only after every file and directory, their parents must resolve to themselves, and at the end
    every link must resolve inside the final root.  Hardlinks may only point at regular files
    already extracted.  Devices and FIFOs are refused.

    After :meth:`delegate`, validated members are no longer written here but piped into GNU tar,
    which writes them into the same temp dir: re-encoded as canonical headers (plain names,
    sanitized modes, no PAX or global records), or, for regular files whose header GNU tar
    cannot read differently, passed on byte for byte (:meth:`forward`).  Either way GNU tar sees
    exactly what was checked.
    """

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        self._dirs: set[str] = {""}
        self._files: set[str] = set()
        self._symlinks: set[str] = set()
        self._links: list[tuple[str, str, str]] = []  # to create at the end
        self._made_links: list[tuple[str, str, str]] = []  # created by GNU tar; checked at the end
        self._sink: _UntarSink | None = None

    def _abs(self, rel: str) -> str:
        return os.path.join(self.tmp, rel)

    def delegate(self, tar: str) -> None:
        """From now on, let GNU tar write the (still validated here) members."""
        self._sink = _UntarSink(tar, self.tmp)

    @property
    def delegated(self) -> bool:
        return self._sink is not None

    def _check_parents(self, rel: str, name: str) -> str:
        """Refuse a member whose parent path is a file or a symlink of the archive; return the parent."""
        parent = rel.rpartition("/")[0]
        if parent in self._dirs:
            return parent
        up = parent
        while up not in self._dirs:
            if up in self._symlinks:
                raise ArchiveError(f"refusing member {name!r}: its parent {up!r} is a symlink")
            if up in self._files:
                raise ArchiveError(f"refusing member {name!r}: a parent path is not a directory")
            up = up.rpartition("/")[0]
        return parent

    def _add_dirs(self, parent: str) -> None:
        while parent not in self._dirs:
            self._dirs.add(parent)
            parent = parent.rpartition("/")[0]

    def _parent(self, rel: str, name: str) -> None:
        parent = self._check_parents(rel, name)
        if parent in self._dirs:
            return
        if self._sink is None:
            try:
                os.makedirs(self._abs(parent), exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise ArchiveError(f"refusing member {name!r}: a parent path is not a directory") from None
        self._add_dirs(parent)

    def directory(self, name: str, mode: int, mtime: int = 0) -> None:
        rel = safe_relpath(name)
        if rel in self._dirs:
            return
        if rel in self._files or rel in self._symlinks:
            raise ArchiveError(f"refusing member {name!r}: conflicts with a file of the same name")
        self._parent(rel, name)
        if self._sink is not None:
            self._sink.writer.entry(os.fsencode(rel) + b"/", (mode & 0o777) | 0o700, 0, mtime, b"5")
        else:
            try:
                os.mkdir(self._abs(rel), (mode & 0o777) | 0o700)
            except FileExistsError:
                if not os.path.isdir(self._abs(rel)) or os.path.islink(self._abs(rel)):
                    raise ArchiveError(f"refusing member {name!r}: conflicts with a file of the same name") from None
        self._dirs.add(rel)

    def _check_file(self, name: str) -> str:
        rel = safe_relpath(name)
        if not rel or rel in self._dirs:
            raise ArchiveError(f"refusing member {name!r}: conflicts with a directory of the same name")
        if rel in self._symlinks:
            raise ArchiveError(f"refusing member {name!r}: conflicts with a symlink of the same name")
        self._parent(rel, name)
        return rel

    def file(self, name: str, mode: int, mtime: int, write: Callable[[int], None]) -> None:
        rel = self._check_file(name)
        if rel in self._files:  # a later duplicate replaces the file, never writes through its hardlinks
            os.unlink(self._abs(rel))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self._abs(rel), flags, mode & 0o777)
        except IsADirectoryError:
            raise ArchiveError(f"refusing member {name!r}: conflicts with a directory of the same name") from None
        try:
            write(fd)
            os.utime(fd, (min(max(mtime, 0), _MAX_MTIME),) * 2)
        finally:
            os.close(fd)
        self._files.add(rel)

    def pipe_file(self, reader: _TarReader, m: _Member) -> None:
        """Delegated form of :meth:`file`: the same checks, then header and data go to GNU tar.

        Runs once per member of a big archive, so the usual case is inlined (~1.5 µs saved).
        """
        assert self._sink is not None
        name = m.name
        rel = safe_relpath(name)
        parent = rel.rpartition("/")[0]
        if not rel or rel in self._dirs or rel in self._symlinks or parent not in self._dirs:
            rel = self._check_file(name)  # the exact error, or create the parent entries
        self._files.add(rel)  # GNU tar replaces a duplicate (unlink, then create)
        writer = self._sink.writer
        size = m.size
        mtime = m.mtime
        writer.entry(os.fsencode(rel), m.mode & 0o777, size, mtime if 0 <= mtime <= _MAX_MTIME else
                     min(max(mtime, 0), _MAX_MTIME), b"0")
        padded = size + (-size % _BLOCK)
        start = reader._start
        if reader._end - start >= padded:  # data and padding already buffered: one copy
            reader._start = start + padded
            reader.offset += padded
            writer.data(reader._mv[start : start + padded])
        else:
            reader.copy_into(writer, size, name)

    def forward(self, reader: _TarReader) -> None:
        """Pass regular files GNU tar reads exactly as we do (:func:`_plain_file`) on unchanged.

        The delegated hot path (20,000 small files: ~3 µs per member instead of ~10): header, data
        and padding go to GNU tar in whole ranges of the read buffer.  It starts only between
        members, so no PAX or long-name record precedes a header it looks at (those are read by
        :meth:`_TarReader.next`).  At the first member it does not take, it returns, and the
        general path parses, validates and re-encodes that one.
        """
        assert self._sink is not None
        send = self._sink.send_raw
        buf, mv = reader._buf, reader._mv
        dirs, files, symlinks = self._dirs, self._files, self._symlinks
        while True:
            run = pos = reader._start
            end = reader._end
            taken_all = True  # False: stopped at a member this path does not take
            while end - pos >= _BLOCK:
                plain = _plain_file(buf, mv, pos)
                if plain is None:
                    taken_all = False
                    break
                name, size = plain
                after = pos + _BLOCK + size + (-size % _BLOCK)
                if after > end:
                    break  # its data is not all buffered yet
                rel = name.decode("utf-8", "surrogateescape")
                if rel in dirs or rel in symlinks or rel.rpartition("/")[0] not in dirs:
                    taken_all = False  # the exact error, or parents to register: the general path
                    break
                files.add(rel)  # GNU tar replaces a duplicate (unlink, then create)
                pos = after
            if pos > run:
                send(mv[run:pos])
                reader._start = pos
                reader.offset += pos - run
            if not taken_all or not reader.refill():
                return

    def symlink(self, name: str, target: str) -> None:
        rel = safe_relpath(name)
        if not rel:
            raise ArchiveError(f"refusing member {name!r}: a symlink cannot replace the destination root")
        if not target or target.startswith("/") or "\0" in target:
            raise ArchiveError(f"refusing member {name!r}: symlink target {target!r} escapes the destination")
        depth = rel.count("/")
        for part in target.split("/"):
            if part == "..":
                depth -= 1
                if depth < 0:
                    raise ArchiveError(
                        f"refusing member {name!r}: symlink target {target!r} escapes the destination"
                    )
            elif part not in ("", "."):
                depth += 1
        if rel in self._dirs or rel in self._files or rel in self._symlinks:
            raise ArchiveError(f"refusing member {name!r}: conflicts with an existing entry")
        if self._sink is not None:
            self._parent(rel, name)
            self._sink.writer.entry(os.fsencode(rel), 0o777, 0, 0, b"2", os.fsencode(target))
            self._made_links.append((rel, target, name))
        else:
            self._check_parents(rel, name)
            self._links.append((rel, target, name))
        self._symlinks.add(rel)

    def hardlink(self, name: str, target: str) -> None:
        rel = safe_relpath(name)
        try:
            source = safe_relpath(target)
        except ArchiveError:
            raise ArchiveError(f"refusing member {name!r}: hardlink target {target!r} escapes the destination") from None
        if source not in self._files:
            raise ArchiveError(
                f"refusing member {name!r}: hardlink target {target!r} is not a file extracted earlier"
            )
        if rel in self._dirs or rel in self._symlinks:
            raise ArchiveError(f"refusing member {name!r}: conflicts with an existing entry")
        self._parent(rel, name)
        if self._sink is not None:
            self._sink.writer.entry(os.fsencode(rel), 0o644, 0, 0, b"1", os.fsencode(source))
            self._files.add(rel)
            return
        if rel in self._files:
            os.unlink(self._abs(rel))
        try:
            os.link(self._abs(source), self._abs(rel), follow_symlinks=False)
        except FileExistsError:
            raise ArchiveError(f"refusing member {name!r}: conflicts with an existing entry") from None
        self._files.add(rel)

    def finish(self) -> None:
        """Let GNU tar finish, create the deferred symlinks, verify containment, move into place."""
        if self._sink is not None:
            self._sink.close()
        for rel, target, name in self._links:
            self._parent(rel, name)
            parent = os.path.dirname(self._abs(rel))
            if os.path.realpath(parent) != parent:
                raise ArchiveError(f"refusing member {name!r}: its parent directory is a symlink")
            try:
                os.symlink(target, self._abs(rel))
            except FileExistsError:
                raise ArchiveError(f"refusing member {name!r}: conflicts with an existing entry") from None
        entries = os.listdir(self.tmp)
        single = os.path.join(self.tmp, entries[0]) if len(entries) == 1 else None
        if single is not None and os.path.islink(single):
            raise ArchiveError(f"refusing archive: its only entry {entries[0]!r} is a symlink")
        root = single if single is not None and os.path.isdir(single) else self.tmp
        for rel, target, name in self._links + self._made_links:
            real = os.path.realpath(self._abs(rel))
            if real != root and not real.startswith(root + os.sep):
                raise ArchiveError(f"refusing member {name!r}: symlink target {target!r} escapes the destination")
        if single is None:
            os.chmod(self.tmp, 0o755)  # mkdtemp made it private; it becomes the artifact directory
        _move_into_place(single or self.tmp, self.dest)
        if single is not None:
            os.rmdir(self.tmp)

    def cleanup(self) -> None:
        if self._sink is not None:
            self._sink.abort()  # before removing the tree tar writes into
        shutil.rmtree(self.tmp, ignore_errors=True)


class _UntarSink:
    """GNU tar ``-x`` into ``directory``, fed through a pipe by a :class:`_TarWriter`.

    Only canonical members validated by :class:`_Extractor` are written, so tar's own parsing and
    options cannot widen what is accepted.  ``--no-same-owner``/``--no-same-permissions``: files
    belong to the caller and get the archive's permission bits minus the umask, as the Python
    writer does; ``--numeric-owner`` spares a user lookup per member.  The pipe is enlarged (to
    1 MiB where allowed), fed in chunks of up to 1 MiB, and tar reads 1 MiB records: with tar's
    default 10 KiB records, reading 20,000 small files from a pipe cost it 0.19 s of CPU instead of
    0.14 s (one pipe wake-up per 10 KiB), the same 1 MiB records bring it back to reading a file.
    """

    _CHUNK: Final = 1 << 20

    def __init__(self, tar: str, directory: str) -> None:
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the tar process
        argv = [tar, "--extract", "--file=-", f"--blocking-factor={self._CHUNK // _BLOCK}", "--directory",
                directory, "--no-same-owner", "--no-same-permissions", "--numeric-owner", "--warning=no-timestamp"]
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._errors, bufsize=0)
        except OSError:
            self._errors.close()
            raise
        self._stdin: Any = cast(Any, self._proc.stdin)
        self._fd = self._stdin.fileno()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        self.writer = _TarWriter(self._send, self._CHUNK)

    def send_raw(self, data: memoryview) -> None:
        """Bytes that are already tar stream (see :meth:`_Extractor.forward`), after what is buffered."""
        self.writer.flush()
        self._send(data)

    def _send(self, data: memoryview) -> None:
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except BrokenPipeError:
            raise self._failure() from None

    def _failure(self) -> ArchiveError:
        rc = self._proc.wait()
        self._errors.seek(0)
        detail = self._errors.read(4000).decode("utf-8", "replace").strip().replace("\n", "; ")
        return ArchiveError(f"GNU tar could not extract the archive (exit {rc}): {detail or 'no message'}")

    def close(self) -> None:
        """End the stream, wait for tar, and raise if it failed."""
        try:
            self.writer.close()
        except ArchiveError:
            if self._proc.wait():
                raise
            # tar stopped reading after the end-of-archive blocks, before our record padding: fine
        finally:
            with contextlib.suppress(OSError):
                self._stdin.close()
        if self._proc.wait():
            raise self._failure()
        self._errors.close()

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        with contextlib.suppress(OSError):
            self._stdin.close()
        self._errors.close()


def _move_into_place(src: str, dest: Path) -> None:
    """Rename ``src`` to ``dest``, replacing a file, a symlink or an *empty* directory found there
    (a mount point such as Argo's emptyDir); a non-empty directory is never clobbered."""
    try:
        if os.path.lexists(dest):
            if os.path.isdir(dest) and not os.path.islink(dest):
                if os.listdir(dest):
                    raise StorageError(f"cannot unpack the artifact to {dest}: a non-empty directory is in the way")
                if not os.path.isdir(src):
                    os.rmdir(dest)
            elif os.path.isdir(src):
                os.unlink(dest)
        os.replace(src, dest)
    except OSError as exc:
        raise StorageError(f"cannot move the unpacked artifact into place at {dest}: {exc.strerror}") from exc


def _extract_tar(stream: Any, ex: _Extractor) -> None:
    reader = _TarReader(stream)
    count = 0
    while True:
        if ex.delegated:
            ex.forward(reader)
        if (m := reader.next()) is None:
            break
        count += 1
        if count > _GNU_UNTAR_MIN_MEMBERS and not ex.delegated and (tar := _gnu_untar()) is not None:
            ex.delegate(tar)
        t = m.type
        if t in (b"0", b"\0", b"7") or t not in b"123456DSVM":
            if ex.delegated:
                ex.pipe_file(reader, m)
            else:
                ex.file(m.name, m.mode, m.mtime, functools.partial(reader.copy_to, size=m.size, name=m.name))
        elif t in (b"5", b"D"):
            ex.directory(m.name, m.mode, m.mtime)
            reader.skip(m.size + (-m.size % _BLOCK), m.name)
        elif t == b"2":
            ex.symlink(m.name, m.linkname)
        elif t == b"1":
            ex.hardlink(m.name, m.linkname)
        elif t == b"V":
            reader.skip(m.size + (-m.size % _BLOCK), m.name)
        else:
            what = {b"3": "character device", b"4": "block device", b"6": "FIFO", b"S": "sparse file"}.get(
                t, "multi-volume entry"
            )
            raise ArchiveError(f"refusing member {m.name!r}: {what} entries are not allowed")
    reader.drain()


def _extract_zip(path: str, ex: _Extractor) -> None:
    buf = memoryview(bytearray(COPY_BUFSIZE))
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            unix_mode = info.external_attr >> 16 if info.create_system == 3 else 0
            mtime = int(time.mktime((*info.date_time, 0, 0, -1)))
            if info.is_dir():
                ex.directory(info.filename, unix_mode or 0o755)
            elif stat.S_ISLNK(unix_mode):
                with zf.open(info) as f:
                    ex.symlink(info.filename, _decode(f.read(4096)))
            elif stat.S_IFMT(unix_mode) not in (0, stat.S_IFREG):  # 0: writers that store only permissions
                raise ArchiveError(f"refusing member {info.filename!r}: special files are not allowed")
            else:

                def write(fd: int, info: zipfile.ZipInfo = info) -> None:
                    with zf.open(info) as f:
                        while n := _readinto(f, buf):
                            view = buf[:n]
                            while view:
                                view = view[os.write(fd, view) :]

                ex.file(info.filename, (unix_mode & 0o777) or 0o644, mtime, write)


# --------------------------------------------------------------------------------------------------
# Unpack: entry point


def unpack(stream: BinaryIO, dest: Path, fmt: ArchiveFormat | None, *, detect_zip: bool = False) -> None:
    """Unpack ``stream`` to ``dest`` with Argo's input semantics, atomically.

    ``fmt=None`` auto-detects like Argo: gzip or zstd whose first decompressed block is a tar header
    is untarred, anything else is stored as a raw file.  Zip is *not* auto-detected by default
    (Argo does not, and ``.jar``/``.docx``/``.whl`` inputs are zips users want as files); pass
    ``detect_zip=True`` to opt in.  Unsafe members raise ArchiveError naming the member before
    anything is written for them, and the temp dir is removed on any failure.
    """
    dest = Path(dest)
    kind: str
    source: Any = stream
    if fmt is None:
        peek = _Peekable(stream)
        kind = _detect(peek, detect_zip)
        source = peek
    else:
        kind = fmt.kind
    if kind == "none":
        _write_raw(source, dest)
        return
    ex = _Extractor(dest)
    try:
        if kind == "zip":
            _unpack_zip(source, ex)
        else:
            _extract_tar(_decoder(kind, source), ex)
        ex.finish()
    except BaseException:
        ex.cleanup()
        raise


def _decoder(kind: str, source: Any) -> Any:
    peek = source if isinstance(source, _Peekable) else _Peekable(source)
    magic = peek.peek(4)
    expected = {"tgz": _GZIP_MAGIC, "zstd": _ZSTD_MAGIC}.get(kind, b"")
    if len(magic) < len(expected) and expected.startswith(magic):
        raise ArchiveError(f"truncated {'gzip' if kind == 'tgz' else 'zstd'} stream: only {len(magic)} byte(s)")
    if kind == "tgz":
        if not magic.startswith(_GZIP_MAGIC):
            raise ArchiveError("not a gzip stream (archive 'tar' expects a .tgz; was it saved with another format?)")
        return _GzipReader(peek)
    if kind == "zstd":
        if magic != _ZSTD_MAGIC:
            raise ArchiveError("not a zstd stream (archive 'zstd' expects a .tar.zst)")
        return _ZstdReader(peek)
    return peek


def _detect(peek: _Peekable, detect_zip: bool) -> str:
    head = peek.peek(_READ_CHUNK)
    if head.startswith(_GZIP_MAGIC):
        probe: Any = _GzipReader(io.BytesIO(head))
        kind = "tgz"
    elif head.startswith(_ZSTD_MAGIC):
        probe = _ZstdReader(io.BytesIO(head))
        kind = "zstd"
    elif detect_zip and head.startswith(_ZIP_MAGIC):
        return "zip"
    else:
        return "none"
    block = bytearray(_BLOCK)
    got = 0
    try:
        while got < _BLOCK and (n := probe.readinto(memoryview(block)[got:])):
            got += n
    except ArchiveError:
        pass  # the probe sees only a prefix; judge by what it decoded
    return kind if _is_tar_header(bytes(block[:got])) else "none"


def _unpack_zip(source: Any, ex: _Extractor) -> None:
    """Zip needs random access: spool the stream to a temp file beside the destination first."""
    fd, spool = tempfile.mkstemp(prefix=f".{ex.dest.name}.zip-", dir=ex.dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _copy(source, f)
        try:
            _extract_zip(spool, ex)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError) as exc:
            raise ArchiveError(f"corrupt zip archive: {exc}") from exc
        except RuntimeError as exc:  # encrypted members
            raise ArchiveError(f"unsupported zip archive: {exc}") from exc
    finally:
        os.unlink(spool)


def _copy(source: Any, out: BinaryIO) -> int:
    buf = memoryview(bytearray(COPY_BUFSIZE))
    total = 0
    while n := _read_source(source, buf):
        out.write(buf[:n])
        total += n
    return total


def _write_raw(source: Any, dest: Path) -> None:
    """Archive ``none``: the bytes become a file at ``dest`` via temp file + rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.tmp-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _copy(source, f)
        os.chmod(tmp, 0o644)
        _move_into_place(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
