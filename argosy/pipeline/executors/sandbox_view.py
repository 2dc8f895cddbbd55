"""The step's view of the filesystem, computed on the host side.

A step's root is its *upper* directory (``<step_dir>/root``), bind-mounted as "/". Each host
directory next to it is shown through its own overlay whose upper dir is the matching
directory inside the step's root, so "what the step sees at /a/b" is always
``<root>/a/b`` if that exists, else the host's ``/a/b``. One overlay per directory (instead of
one with ``lowerdir=/``) is what makes this work without root: in a user namespace the kernel
refuses an overlay, or any bind, of a mount that has other mounts under it. Directories that
hold host mounts (``/mnt`` here holds one, ``/run`` or ``/home`` often do) are therefore
split further, down to mount-free subtrees; regular files found along the way are bound
read-only onto empty placeholders, which are deleted again after the run.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from argosy.errors import ExecutorError
from argosy.pipeline.executors.sandbox_ns import MountOp, overlay_options

__all__ = [
    "SPECIAL_DIRS",
    "MountPlanner",
    "is_whiteout",
    "clean_placeholders",
    "host_visible",
    "read_mountpoints",
    "resolve",
    "rmtree",
]

#: Top-level directories the sandbox replaces with its own (fresh /proc, minimal /dev, ro /sys).
SPECIAL_DIRS = frozenset({"proc", "sys", "dev"})

_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
_MAX_OPS = 512  # beyond this, directories holding mounts are bound read-only instead of split
_MAX_SPLIT_ENTRIES = 256
_MAX_SYMLINK_HOPS = 40


def is_whiteout(st: os.stat_result) -> bool:
    """Overlayfs records a deletion as a 0/0 character device in the upper dir."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_opaque(path: Path) -> bool:
    for name in _OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def host_visible(root: Path, private: frozenset[str], parts: list[str]) -> bool:
    """Whether the host's file at ``/parts`` shows through, i.e. no upper entry hides it."""
    if not parts or parts[0] in private or parts[0] in SPECIAL_DIRS:
        return not parts
    for i in range(1, len(parts)):
        upper = root.joinpath(*parts[:i])
        st = _lstat(upper)
        if st is None:
            continue
        if not stat.S_ISDIR(st.st_mode) or _is_opaque(upper):
            return False
    return True


def _readlink_in_view(root: Path, private: frozenset[str], parts: list[str]) -> str | None:
    upper = root.joinpath(*parts)
    st = _lstat(upper)
    if st is not None:
        return os.readlink(upper) if stat.S_ISLNK(st.st_mode) else None
    if not host_visible(root, private, parts):
        return None
    try:
        return os.readlink("/" + "/".join(parts))
    except OSError:  # not a symlink, missing, or unreadable
        return None


def resolve(root: Path, private: frozenset[str], path: str, follow_last: bool = True) -> list[str]:
    """Normalise an absolute sandbox path and follow its symlinks as the step would see them.

    ``/bin/kubectl`` becomes ``["usr", "bin", "kubectl"]`` on a merged-/usr host, so a file
    placed there before the run is found by the step. With ``follow_last=False`` a final
    symlink is kept, so placing a file replaces the link instead of writing through it.
    """
    if not path.startswith("/"):
        raise ExecutorError(f"sandbox paths must be absolute, got {path!r}")
    todo = [p for p in reversed(path.split("/")) if p]
    done: list[str] = []
    hops = 0
    while todo:
        name = todo.pop()
        if name == ".":
            continue
        if name == "..":
            if done:
                done.pop()
            continue
        if not todo and not follow_last:
            done.append(name)
            break
        target = _readlink_in_view(root, private, [*done, name])
        if target is None:
            done.append(name)
            continue
        hops += 1
        if hops > _MAX_SYMLINK_HOPS:
            raise ExecutorError(f"too many levels of symbolic links resolving {path!r} in the sandbox")
        if target.startswith("/"):
            done = []
        todo.extend(p for p in reversed(target.split("/")) if p)
    return done


def read_mountpoints() -> list[str]:
    """Mount points of the current mount namespace (octal escapes of mountinfo decoded)."""
    points = []
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh:
            field = line.split(b" ", 5)[4]
            points.append(os.fsdecode(field.decode("unicode_escape").encode("latin-1")))
    return points


class MountPlanner:
    """Builds the mount list for one run and prepares the upper dirs it needs."""

    def __init__(self, root: Path, work: Path, private: frozenset[str], userns: bool, volatile: bool) -> None:
        self.root = root
        self.work = work
        self.private = private
        self.userns = userns
        self.volatile = volatile
        self.as_root = os.geteuid() == 0 and not userns
        self.ops: list[MountOp] = []
        self.placeholders: list[Path] = []
        self._split: set[str] = set()

    def plan(self, mountpoints: Iterable[str]) -> list[MountOp]:
        """Walk "/" and return the mounts; creates mount-point dirs, symlinks and placeholders."""
        for point in mountpoints:
            parts = [p for p in point.split("/") if p]
            if not parts or parts[0] in SPECIAL_DIRS or parts[0] in self.private:
                continue
            for i in range(1, len(parts)):  # every ancestor of a mount must be split
                self._split.add("/" + "/".join(parts[:i]))
        self.root.mkdir(mode=0o755, exist_ok=True)
        rmtree(self.work)  # a crashed run's scratch dirs; a "volatile" overlay refuses them
        self.work.mkdir(mode=0o700)
        for name in SPECIAL_DIRS:
            (self.root / name).mkdir(mode=0o755, exist_ok=True)
        for name in self.private:  # world-writable and sticky, whoever created it
            private_dir = self.root / name
            private_dir.mkdir(exist_ok=True)
            os.chmod(private_dir, 0o1777)
        try:
            names = os.listdir("/")
        except OSError as exc:
            raise ExecutorError(f"cannot list / to build the sandbox: {exc.strerror}") from exc
        self._walk("/", names)
        return self.ops

    def _walk(self, host_dir: str, names: list[str]) -> None:
        for name in sorted(names):
            host = os.path.join(host_dir, name)
            if host_dir == "/" and (name in SPECIAL_DIRS or name in self.private):
                continue
            upper = self.root / host.lstrip("/")
            ust = _lstat(upper)
            if ust is not None and (not stat.S_ISDIR(ust.st_mode) or _is_opaque(upper)):
                continue  # the step's own entry replaces the host's
            try:
                hst = os.lstat(host)
            except OSError:
                continue
            if stat.S_ISLNK(hst.st_mode):
                if ust is None:
                    os.symlink(os.readlink(host), upper)
            elif stat.S_ISDIR(hst.st_mode):
                if ust is None:
                    self._mkdir_like(upper, hst)
                if host in self._split:
                    self._split_dir(host, upper)
                else:
                    self._overlay(host, upper)
            elif stat.S_ISREG(hst.st_mode) and ust is None:
                upper.touch(mode=0o644)
                self.placeholders.append(upper)
                self.ops.append(MountOp("bind_file_ro", os.fsencode(host), self._rel(upper)))

    def _split_dir(self, host: str, upper: Path) -> None:
        try:
            names = os.listdir(host)
        except OSError:  # unreadable (e.g. another user's home): show it as it is, read-only
            names = None
        if names is None or len(names) > _MAX_SPLIT_ENTRIES or len(self.ops) > _MAX_OPS:
            self.ops.append(MountOp("rbind_ro", os.fsencode(host), self._rel(upper)))
        else:
            self._walk(host, names)

    def _overlay(self, host: str, upper: Path) -> None:
        work = self.work / str(len(self.ops))
        work.mkdir(mode=0o700)
        rel_upper = os.path.relpath(upper, self.root.parent)
        rel_work = os.path.relpath(work, self.root.parent)
        data = overlay_options(host, rel_upper, rel_work, self.userns, self.volatile)
        self.ops.append(MountOp("overlay", os.fsencode(host), os.fsencode(rel_upper), data))

    def _mkdir_like(self, upper: Path, hst: os.stat_result) -> None:
        upper.mkdir()
        os.chmod(upper, stat.S_IMODE(hst.st_mode) | (0 if self.as_root else stat.S_IRWXU))
        if self.as_root:
            os.chown(upper, hst.st_uid, hst.st_gid)

    def _rel(self, path: Path) -> bytes:
        return os.fsencode(os.path.relpath(path, self.root.parent))


def rmtree(path: Path) -> None:
    """Remove a tree, even with dirs lacking owner permissions (overlay work dirs are mode 000)."""

    def fix_and_retry(func: Callable[..., object], p: str, exc: BaseException) -> None:
        if isinstance(exc, FileNotFoundError):
            return
        if not isinstance(exc, PermissionError):
            raise exc
        os.chmod(os.path.dirname(p), 0o700)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o700)
            _rmtree(p, fix_and_retry)
        else:
            func(p)

    if os.path.lexists(path):
        _rmtree(str(path), fix_and_retry)


def _rmtree(path: str, onexc: Callable[[Callable[..., object], str, BaseException], None]) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=onexc)
    else:
        shutil.rmtree(path, onerror=lambda func, p, info: onexc(func, p, info[1]))


def clean_placeholders(paths: Iterable[Path]) -> None:
    """Delete the empty placeholder files a run left in the upper dir."""
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            try:
                os.unlink(path)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
