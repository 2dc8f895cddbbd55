"""Linux namespace plumbing for step sandboxes: raw syscalls and the code run between fork and exec.

Why this shape: ``subprocess`` forks the *middle* process and runs :class:`ChildSetup` in it
(``preexec_fn``). The middle enters new user/mount/pid/uts/ipc namespaces, then forks the
*init* process, which becomes pid 1 of the new pid namespace, builds the step's root
filesystem and returns so that ``subprocess`` execs the step command as pid 1. The middle
stays in the parent pid namespace, waits for pid 1 and exits with its status; it kills pid 1
when asked through the *lifeline* pipe (one byte) or when the pipe hits EOF because Argosy
died. Killing pid 1 makes the kernel kill every other process of the namespace, and pid 1 only
becomes reapable once they are all gone, so "middle exited" means "no process of the step is
left". Exec failures travel back through ``subprocess``'s own error pipe (a clean
``FileNotFoundError`` in the parent); setup errors and warnings travel through the *diag* pipe.

Everything that runs in the child avoids locks, imports and logging: the parent may be
multi-threaded and only the forking thread exists in the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import select
import signal
from dataclasses import dataclass

__all__ = ["ChildSetup", "MountOp", "SetupPlan", "overlay_options"]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG = 1
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1

_SYS_PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41}.get(
    platform.machine().lower()
)
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscall table)

_libc = ctypes.CDLL(None, use_errno=True)
_c_mount = _libc.mount
_c_mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_c_mount.restype = ctypes.c_int
_c_umount2 = _libc.umount2
_c_umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_c_umount2.restype = ctypes.c_int
_c_unshare = _libc.unshare
_c_unshare.argtypes = [ctypes.c_int]
_c_unshare.restype = ctypes.c_int
_c_sethostname = _libc.sethostname
_c_sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_c_sethostname.restype = ctypes.c_int
_c_prctl = _libc.prctl
_c_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_c_prctl.restype = ctypes.c_int
_c_chroot = _libc.chroot
_c_chroot.argtypes = [ctypes.c_char_p]
_c_chroot.restype = ctypes.c_int
_c_syscall = _libc.syscall
_c_syscall.restype = ctypes.c_long


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: bytes | None, target: bytes, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    _check(_c_mount(source, target, fstype, flags, data), f"mount {target.decode(errors='replace')}")


def _make_readonly(target: bytes, recursive: bool) -> None:
    """Prefer mount_setattr (recursive, keeps locked flags); fall back to a bind remount."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    res = _c_syscall(
        ctypes.c_long(_SYS_MOUNT_SETATTR),
        ctypes.c_int(AT_FDCWD),
        ctypes.c_char_p(target),
        ctypes.c_uint(flags),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    if res == 0:
        return
    # Locked mounts (user namespace) refuse a remount that drops nosuid/nodev/noexec: keep them.
    keep = os.statvfs(target).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, None)


def overlay_options(lower: str, upper: str, work: str, userns: bool, volatile: bool) -> bytes:
    """Mount data for one overlay, escaping the characters the option parser splits on.

    ``volatile`` matters: without it, unmounting each overlay syncs the whole upper
    filesystem, so every step teardown would wait for all dirty data on the host's disk.
    """

    def esc(path: str) -> str:
        return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")

    opts = f"lowerdir={esc(lower)},upperdir={esc(upper)},workdir={esc(work)},index=off,xino=off"
    opts += ",userxattr" if userns else ""
    opts += ",volatile" if volatile else ""
    return os.fsencode(opts)


@dataclass(frozen=True, slots=True)
class MountOp:
    """One mount of the step's root, computed in the parent.

    ``kind`` is ``overlay`` (copy-on-write view of ``source`` with its upper dir at ``target``),
    ``rbind_ro`` (read-only recursive bind) or ``bind_file_ro``. Paths are bytes so the child
    never encodes; ``target`` is relative to the step directory.
    """

    kind: str
    source: bytes
    target: bytes
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """Everything the child needs, precomputed so the child only makes syscalls."""

    step_dir: bytes
    root: bytes  # relative to step_dir: the per-step upper dir, which becomes "/"
    ops: tuple[MountOp, ...]
    userns: bool
    uid: int
    gid: int
    hostname: bytes | None
    working_dir: bytes | None
    lifeline_fd: int
    diag_fd: int


_DEV_NODES = (b"null", b"zero", b"full", b"random", b"urandom", b"tty")
_DEV_LINKS = (
    (b"fd", b"/proc/self/fd"),
    (b"stdin", b"/proc/self/fd/0"),
    (b"stdout", b"/proc/self/fd/1"),
    (b"stderr", b"/proc/self/fd/2"),
    (b"ptmx", b"pts/ptmx"),
)


class ChildSetup:
    """The ``preexec_fn`` of a sandboxed step; see the module docstring for the process layout."""

    def __init__(self, plan: SetupPlan) -> None:
        self.plan = plan

    # -- middle process -------------------------------------------------------------------

    def __call__(self) -> None:
        plan = self.plan
        try:
            flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC
            _check(_c_unshare(flags | (CLONE_NEWUSER if plan.userns else 0)), "unshare")
            if plan.userns:
                self._write(b"/proc/self/setgroups", b"deny")
                self._write(b"/proc/self/uid_map", b"0 %d 1" % plan.uid)
                self._write(b"/proc/self/gid_map", b"0 %d 1" % plan.gid)
            alive_r, alive_w = os.pipe()
            pid = os.fork()
        except BaseException as exc:
            self._report(exc)
            raise
        if pid == 0:
            try:
                self._init(alive_r, alive_w)
            except BaseException as exc:
                self._report(exc)
                raise
            return  # subprocess now closes fds and execs the step command as pid 1
        self._supervise(pid, alive_r, alive_w)

    def _supervise(self, pid: int, alive_r: int, alive_w: int) -> None:
        """Wait for pid 1, killing it on request or when Argosy goes away; never returns."""
        code = 255
        try:
            lifeline = self.plan.lifeline_fd
            os.close(alive_r)
            keep = sorted({lifeline, alive_w})
            low = 0
            for fd in keep:  # drop every inherited fd: other steps' pipes, the error pipes...
                os.closerange(low, fd)
                low = fd + 1
            os.closerange(low, max(low, os.sysconf("SC_OPEN_MAX")))
            try:
                pidfd: int | None = os.pidfd_open(pid)
            except (AttributeError, OSError):
                pidfd = None
            poller = select.poll()
            poller.register(lifeline, select.POLLIN)
            if pidfd is not None:
                poller.register(pidfd, select.POLLIN)
            listening = True
            while True:
                events = poller.poll(None if pidfd is not None else 100)
                if listening and any(fd == lifeline for fd, _ in events):
                    os.kill(pid, signal.SIGKILL)
                    poller.unregister(lifeline)
                    listening = False
                if pidfd is not None:
                    if any(fd == pidfd for fd, _ in events):
                        break
                elif os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    break
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = 128 - code  # as a container runtime reports a signal death (137 = SIGKILL)
        finally:
            os._exit(code)

    # -- pid 1 of the new namespace --------------------------------------------------------

    def _init(self, alive_r: int, alive_w: int) -> None:
        plan = self.plan
        os.close(alive_w)
        _check(_c_prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        if select.select([alive_r], [], [], 0)[0]:  # EOF: the middle died before prctl
            os._exit(137)
        os.close(alive_r)
        os.close(plan.lifeline_fd)
        os.chdir(plan.step_dir)
        _mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        if plan.hostname:
            _check(_c_sethostname(plan.hostname, len(plan.hostname)), "sethostname")
        for op in plan.ops:
            self._apply(op)
        self._special_mounts(plan.root)
        _mount(plan.root, plan.root, None, MS_BIND | MS_REC, None)
        os.chdir(plan.root)  # enter the bind mount just created on top of it
        self._switch_root()
        if plan.working_dir:
            try:
                os.chdir(plan.working_dir)
            except FileNotFoundError:
                os.makedirs(plan.working_dir, exist_ok=True)
                os.chdir(plan.working_dir)
        os.set_inheritable(plan.diag_fd, False)  # closes on exec; kept open if exec fails

    def _apply(self, op: MountOp) -> None:
        """Mount one entry; a host dir that cannot be shown degrades (with a warning), not fails."""
        source = op.source.decode(errors="replace")
        if op.kind == "overlay":
            try:
                _mount(b"overlay", op.target, b"overlay", 0, op.data)
                return
            except OSError as exc:
                self._warn(f"could not overlay {source} ({exc.strerror}); it is read-only in the sandbox")
        if op.kind in ("overlay", "rbind_ro", "bind_file_ro"):
            try:
                self._bind_readonly(op.source, op.target, recursive=op.kind != "bind_file_ro")
            except OSError as exc:
                self._warn(f"could not show {source} ({exc.strerror}); it is empty in the sandbox")
        else:  # pragma: no cover - plans are built by sandbox.py
            raise ValueError(f"unknown mount op {op.kind}")

    @staticmethod
    def _bind_readonly(source: bytes, target: bytes, recursive: bool) -> None:
        _mount(source, target, None, MS_BIND | (MS_REC if recursive else 0), None)
        try:
            _make_readonly(target, recursive)
        except OSError:
            _c_umount2(target, MNT_DETACH)  # never leave a writable view of host files
            raise

    def _special_mounts(self, root: bytes) -> None:
        """A fresh /proc for the new pid namespace, a minimal /dev, and a read-only /sys."""
        proc = root + b"/proc"
        try:
            _mount(b"proc", proc, b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        except OSError as exc:  # e.g. a container that masks parts of /proc
            self._warn(f"could not mount a new /proc ({exc.strerror}); the host's is shown")
            _mount(b"/proc", proc, None, MS_BIND | MS_REC, None)
        for knob in (b"/sys", b"/sysrq-trigger"):  # kernel settings are not the step's, as in Docker
            with contextlib.suppress(OSError):
                self._bind_readonly(proc + knob, proc + knob, recursive=True)
        dev = root + b"/dev"
        _mount(b"tmpfs", dev, b"tmpfs", MS_NOSUID, b"mode=755,size=64k")
        for name in _DEV_NODES:
            path = dev + b"/" + name
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o666))
            try:
                _mount(b"/dev/" + name, path, None, MS_BIND, None)
            except OSError:
                os.unlink(path)
        os.mkdir(dev + b"/pts", 0o755)
        with contextlib.suppress(OSError):  # no pseudo-terminals then: steps have no tty anyway
            _mount(
                b"devpts",
                dev + b"/pts",
                b"devpts",
                MS_NOSUID | MS_NOEXEC,
                b"newinstance,ptmxmode=0666,mode=620",
            )
        os.mkdir(dev + b"/shm", 0o1777)
        _mount(b"tmpfs", dev + b"/shm", b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777")
        for name, target in _DEV_LINKS:
            os.symlink(target, dev + b"/" + name)
        sys_dir = root + b"/sys"
        try:
            self._bind_readonly(b"/sys", sys_dir, recursive=True)
        except OSError as exc:
            self._warn(f"/sys is not available in the sandbox: {exc.strerror}")

    @staticmethod
    def _switch_root() -> None:
        """Make the current directory "/" and detach the host's root from this namespace."""
        if _SYS_PIVOT_ROOT is not None:
            _check(_c_syscall(ctypes.c_long(_SYS_PIVOT_ROOT), b".", b"."), "pivot_root")
            _check(_c_umount2(b".", MNT_DETACH), "umount old root")
        else:  # unknown architecture: the switch_root way
            _mount(b".", b"/", None, MS_MOVE, None)
            _check(_c_chroot(b"."), "chroot")
        os.chdir(b"/")

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _write(path: bytes, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def _warn(self, message: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self.plan.diag_fd, b"W " + message.encode(errors="replace") + b"\n")

    def _report(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, OSError) and exc.args else repr(exc)
        if isinstance(exc, OSError) and exc.errno in (errno.EPERM, errno.EACCES) and self.plan.userns:
            text += " (are unprivileged user namespaces restricted, e.g. by AppArmor?)"
        with contextlib.suppress(OSError):
            os.write(self.plan.diag_fd, b"E " + text.encode(errors="replace") + b"\n")
