"""Shared machinery of the benchmark suite: workspace, timing, peak RSS, statistics, tables, moto.

Measuring on a busy 2-core machine (see ``docs/performance.md``):

* every figure that matters is a **ratio against a baseline run in the same session**, with the
  cases of one comparison interleaved (``interleave`` rotates their order every repetition) and the
  ratio taken per repetition, then the median over repetitions;
* each measured operation runs in its **own child process**, so its peak RSS (``ru_maxrss`` from
  ``os.wait4``: the largest process of the child's tree) is that operation's alone;
* archives live on a **tmpfs** (``Workspace``): ext4 shortly after mass deletes measures the file
  system, not the code (``/work/shared/research/perf.md`` §1).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
MB = 1_000_000
MIB = 1 << 20


def log(message: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Running one measured process


@dataclass
class Run:
    """One measured process: wall seconds (the child's own op time when it reports one), CPU seconds
    (user+sys of the whole process tree), peak RSS in MB of the largest process of the tree."""

    wall: float
    cpu: float
    rss_mb: float
    rc: int
    out: str = ""
    err: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    process_wall: float = 0.0

    def check(self, what: str) -> Run:
        if self.rc != 0:
            raise RuntimeError(f"{what} failed (exit {self.rc}): {self.err.strip()[-2000:] or self.out[-2000:]}")
        return self


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


_GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else ""


def run(cmd: Sequence[str] | str, *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
        timeout: float | None = None, on_start: Callable[[int], None] | None = None) -> Run:
    """Run ``cmd`` (argv, or a shell string) in a new session and measure it.

    Peak RSS comes from GNU ``time -f %M`` wrapped around the command, which reports the largest
    process of the tree.  (``os.wait4`` on a child of *this* process is no good: ``vfork`` + exec
    records the parent's RSS as the child's high-water mark, so every child would look as big as
    the benchmark driver.)  CPU is user+sys of the whole tree from ``wait4``.  If the command
    prints a JSON object as its last stdout line with ``seconds``, that is ``wall`` (the operation
    itself, without interpreter start-up); ``process_wall`` keeps the outside view.
    """
    argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="argosy-bench-rss-") as rss:
        if _GNU_TIME:
            argv = [_GNU_TIME, "-f", "%M", "-o", rss.name, "--", *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, (proc.pid,)) if timeout else None
        if timer is not None:
            timer.start()
        if on_start is not None:
            on_start(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        errors = err.read().decode("utf-8", "replace")
        rss.seek(0)
        lines = rss.read().decode("utf-8", "replace").split()
    maxrss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else usage.ru_maxrss
    extra: dict[str, Any] = {}
    out_lines = text.strip().splitlines()
    if out_lines and out_lines[-1].startswith("{"):
        with contextlib.suppress(ValueError):
            extra = json.loads(out_lines[-1])
    rc = proc.returncode
    if timeout is not None and rc != 0 and wall >= timeout:
        errors += f"\n(killed after the {timeout:.0f} s time limit)"
        extra.setdefault("timed_out", True)
    op_wall = float(extra.get("seconds", wall))
    return Run(op_wall, usage.ru_utime + usage.ru_stime, maxrss_kb * 1024 / MB, rc, text, errors, extra, wall)


def py_child(module: str, *args: str, env: dict[str, str] | None = None, timeout: float | None = None) -> Run:
    """``python -m bench.<module> child ARGS``: an Argosy operation in a fresh process."""
    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), full_env.get("PYTHONPATH", "")) if p)
    return run([PY, "-m", f"bench.{module}", "child", *args], env=full_env, cwd=REPO, timeout=timeout)


def child_report(seconds: float, **extra: Any) -> None:
    """Last stdout line of a child: its op time and facts, read back by :func:`run`."""
    import resource

    extra.setdefault("self_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB)
    print(json.dumps({"seconds": seconds, **extra}), flush=True)


class TreeMonitor:
    """Samples the peak RSS (``VmHWM``) of every process descended from ``root`` (every 50 ms).

    Processes that leave the tree (a detached runner outliving its CLI) stay watched.  ``classify``
    names each process from its command line; the result maps pid to (name, peak MB).
    """

    def __init__(self, classify: Callable[[bytes], str], interval: float = 0.05) -> None:
        self.classify = classify
        self.interval = interval
        self.procs: dict[int, list[Any]] = {}  # pid -> [name, peak MB, cmdline]
        self._others: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, root: int) -> None:
        self.procs[root] = ["root", 0.0, b""]
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @staticmethod
    def _status(pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1]) * 1024 / MB
        except OSError:
            return None
        return 0.0

    def _scan(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid in self.procs or pid in self._others:
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmdline = fh.read()
            except (OSError, ValueError, IndexError):
                continue
            parent = self.procs.get(ppid)
            if parent is not None:
                name = f"{parent[0].removesuffix(' (fork)')} (fork)" if cmdline == parent[2] else self.classify(cmdline)
                self.procs[pid] = [name, 0.0, cmdline]
            else:
                self._others.add(pid)
        for pid, rec in self.procs.items():
            hwm = self._status(pid)
            if hwm is not None:
                rec[1] = max(rec[1], hwm)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._scan()
            self._stop.wait(self.interval)

    def stop(self, linger: Callable[[], bool] | None = None, limit: float = 15.0) -> dict[int, tuple[str, float]]:
        """Stop sampling; first keep sampling while ``linger()`` is true (up to ``limit`` s)."""
        deadline = time.monotonic() + limit
        while linger is not None and linger() and time.monotonic() < deadline:
            time.sleep(self.interval)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return {pid: (rec[0], rec[1]) for pid, rec in self.procs.items()}

    def alive(self, name: str) -> bool:
        return any(rec[0] == name and os.path.exists(f"/proc/{pid}") for pid, rec in self.procs.items())


# --------------------------------------------------------------------------------------------------
# Statistics and repetition


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v == v]
    return statistics.median(vals) if vals else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100)."""
    vals = sorted(values)
    if not vals:
        return float("nan")
    k = (len(vals) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def interleave(reps: int, cases: Sequence[tuple[str, Callable[[int], Run]]]) -> dict[str, list[Run]]:
    """Run every case ``reps`` times, rotating the order each repetition (nobody always goes first)."""
    results: dict[str, list[Run]] = {name: [] for name, _ in cases}
    items = list(cases)
    for rep in range(reps):
        shift = rep % len(items)
        for name, fn in items[shift:] + items[:shift]:
            results[name].append(fn(rep))
    return results


class Budget:
    """Repetitions that adapt to the machine's load.

    At least ``min_reps`` (the median needs them), at most ``reps``; past the minimum, another
    repetition starts only while the time spent plus one more average repetition fits ``seconds``.
    Under the usual load every repetition runs; under heavy load (other tenants saturating both
    cores) the suite still ends near its budget, and the section says how many ran.
    """

    def __init__(self, seconds: float, reps: int, min_reps: int = 3) -> None:
        self.seconds = seconds
        self.reps = reps
        self.min_reps = min(min_reps, reps)
        self.t0 = time.monotonic()
        self.done = 0

    def more(self) -> bool:
        if self.done >= self.reps:
            return False
        if self.done < self.min_reps:
            return True
        elapsed = time.monotonic() - self.t0
        return elapsed + elapsed / self.done <= self.seconds

    def next(self) -> bool:
        """``while budget.next():`` runs one repetition per iteration."""
        if not self.more():
            return False
        self.done += 1
        return True

    def note(self, what: str) -> str | None:
        if self.done < self.reps:
            return (f"{what}: {self.done} of {self.reps} repetitions ran (the {self.seconds:.0f} s time budget "
                    "was reached under the machine's load).")
        return None


def paired_ratio(base: Sequence[Run], ours: Sequence[Run]) -> float:
    """Median over repetitions of base_wall / our_wall: > 1 means Argosy is faster."""
    return median(b.wall / o.wall for b, o in zip(base, ours, strict=False) if o.wall > 0)


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}" if digits > 1 else f"{value:.0f}"
    return f"{value:.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


# --------------------------------------------------------------------------------------------------
# Tables


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c).replace("|", "\\|") for c in headers]] + [[str(c).replace("|", "\\|") for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


@dataclass
class Section:
    """One area's results: tables for people, rows and targets for ``results.json``."""

    name: str
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    load: dict[str, float] = field(default_factory=dict)

    def table(self, title: str, headers: list[str], rows: list[list[Any]]) -> None:
        self.tables.append((title, headers, rows))

    def target(self, name: str, goal: str, measured: str, ok: bool | None, detail: str = "") -> None:
        self.targets.append({"target": name, "goal": goal, "measured": measured, "met": ok, "detail": detail})

    def markdown(self) -> str:
        out = []
        for title, headers, rows in self.tables:
            out.append(f"**{title}**\n\n{markdown_table(headers, rows)}\n")
        if self.targets:
            rows = [[t["target"], t["goal"], t["measured"], verdict(t["met"])] for t in self.targets]
            out.append(f"**Targets ({self.name})**\n\n{markdown_table(['Target', 'Goal', 'Measured', 'Verdict'], rows)}\n")
        for note in self.notes:
            out.append(f"* {note}")
        return "\n".join(out).rstrip() + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "load": self.load,
            "notes": self.notes,
            "tables": [{"title": t, "headers": h, "rows": r} for t, h, r in self.tables],
            "targets": self.targets,
            "data": self.data,
        }


# --------------------------------------------------------------------------------------------------
# Machine facts and background load


def _read_stat() -> tuple[float, float]:
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    vals = [float(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0.0)
    return sum(vals), idle


class LoadMeter:
    """Busy cores of the whole machine over a period, and how much of that was this suite."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._stat0 = _read_stat()
        self._own0 = self._own()

    @staticmethod
    def _own() -> float:
        import resource

        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def result(self, extra_own_cpu: float = 0.0) -> dict[str, float]:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        total, idle = _read_stat()
        ticks = os.sysconf("SC_CLK_TCK")
        busy = ((total - self._stat0[0]) - (idle - self._stat0[1])) / ticks / elapsed
        own = (self._own() - self._own0 + extra_own_cpu) / elapsed
        return {"busy_cores": round(busy, 2), "own_cores": round(own, 2),
                "background_cores": round(max(busy - own, 0.0), 2), "seconds": round(elapsed, 1)}


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "missing"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    git = _version(["git", "-C", str(REPO), "log", "-1", "--format=%h %cs"])
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1e9, 1), "kernel": platform.release(),
        "python": platform.python_version(), "tar": _version(["tar", "--version"]),
        "gzip": _version(["gzip", "--version"]), "pigz": _version(["pigz", "--version"]),
        "zstd": _version(["zstd", "--version"]), "zip": _version(["zip", "-v"])[:40],
        "loadavg_at_start": os.getloadavg(), "commit": git,
    }


# --------------------------------------------------------------------------------------------------
# Workspace on tmpfs


class Workspace:
    """A private tmpfs for the run (``mount -t tmpfs``), removed at the end.

    Not under ``/dev`` or ``/tmp``: the step sandbox shows steps their own ``/dev`` and an empty
    ``/tmp``, and the end-to-end benchmark's steps must read the workspace.  Without the right to
    mount, falls back to ``bench/.work`` on the disk (and says so: unpack figures then include
    the file system's costs).
    """

    def __init__(self, size_gb: int) -> None:
        self.mounted = False
        base = Path(f"/mnt/argosy-bench-{os.getpid()}")
        try:
            base.mkdir(parents=True, exist_ok=False)
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_gb}g,mode=755", "tmpfs", str(base)],
                           check=True, capture_output=True, timeout=30)
            self.mounted = True
            self.path = base
        except (OSError, subprocess.SubprocessError) as exc:
            with contextlib.suppress(OSError):
                base.rmdir()
            self.path = REPO / "bench" / ".work" / str(os.getpid())
            self.path.mkdir(parents=True, exist_ok=True)
            log(f"WARNING: could not mount a tmpfs ({exc}); using {self.path} on the disk")
        self.kind = "tmpfs" if self.mounted else "disk"

    def sub(self, name: str, *, fresh: bool = True) -> Path:
        path = self.path / name
        if fresh and path.exists():
            remove(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        if self.mounted:
            res = subprocess.run(["umount", str(self.path)], capture_output=True, timeout=60, check=False)
            if res.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=60, check=False)
            with contextlib.suppress(OSError):
                self.path.rmdir()
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --------------------------------------------------------------------------------------------------
# Test data: semi-compressible JSON lines (gzip-6 ≈ 4×, like perf.md's generator)

_BLOCK = 32 * MIB
_TAGS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]


def _fresh_block(rnd: random.Random, size: int) -> bytes:
    parts: list[str] = []
    total = 0
    i = 0
    rand, bits = rnd.random, rnd.getrandbits
    while total < size:
        line = (f'{{"id":{i},"ts":{1700000000 + i // 37},"x":{rand():.6f},"y":{bits(20) - 524288},'
                f'"tag":"{_TAGS[bits(4)]}","v":[{rand():.4f},{rand():.4f},{bits(12)}]}}\n')
        parts.append(line)
        total += len(line)
        i += 1
    return "".join(parts).encode()[:size]


def write_jsonl(path: Path, size: int, seed: int = 1) -> None:
    """``size`` bytes of JSON lines with random numbers.

    One fresh 32 MiB block is generated; later blocks are that block with its digits permuted by
    a random permutation per block, which makes new random numbers at memcpy speed.  Blocks are
    far larger than any codec window (gzip 32 KiB, zstd -3 2 MiB), so no codec can exploit the
    construction: the compression ratio is that of fresh random data.
    """
    rnd = random.Random(seed)
    block = _fresh_block(rnd, min(_BLOCK, size))
    digits = b"0123456789"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        first = True
        while left > 0:
            if first:
                data = block
                first = False
            else:
                perm = bytes(rnd.sample(list(digits), 10))
                data = block.translate(bytes.maketrans(digits, perm))
            fh.write(data[:left])
            left -= min(left, len(data))


def write_small_tree(root: Path, count: int, seed: int = 2, dirs: int = 100) -> int:
    """``count`` files of 1–8 KB (content: slices of JSON lines) in ``dirs`` directories; returns bytes."""
    rnd = random.Random(seed)
    block = _fresh_block(rnd, 4 * MIB)
    total = 0
    for d in range(dirs):
        (root / f"d{d:03d}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        size = rnd.randint(1000, 8000)
        off = rnd.randrange(0, len(block) - size)
        with open(root / f"d{i % dirs:03d}" / f"f{i:05d}.json", "wb") as fh:
            fh.write(block[off: off + size])
        total += size
    return total


# --------------------------------------------------------------------------------------------------
# moto's S3 server as a separate process, with a control port to populate buckets quickly


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ACCESS_KEY = "argosy-bench-access"
SECRET_KEY = "argosy-bench-secret-0123456789"


class Moto:
    """``python -m bench.common moto``: moto's threaded server plus a small control server.

    The control server (``/populate``) writes objects straight into moto's backend, so a bucket
    of 100k objects is ready in seconds instead of the 10+ minutes 100k PUTs take against moto.
    Requests under test still go through HTTP like any S3 client's.
    """

    def __init__(self) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen([PY, "-m", "bench.common", "moto"], stdout=subprocess.PIPE,
                                     stderr=self._log, env=env, cwd=REPO, start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().split()
        if not line or line[0] != "READY":
            self.stop()
            self._log.seek(0)
            raise RuntimeError(f"moto did not start: {self._log.read().decode(errors='replace')[-2000:]}")
        self.port, self.control = int(line[1]), int(line[2])
        self.endpoint = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.endpoint}"

    def client(self, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, **config))

    def _call(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}{path}", timeout=600) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def create_bucket(self, bucket: str) -> None:
        self._call(f"/bucket?name={bucket}")

    def populate(self, bucket: str, prefix: str, count: int, size: int) -> float:
        return float(self._call(f"/populate?bucket={bucket}&prefix={prefix}&count={count}&size={size}")["seconds"])

    def empty(self, bucket: str) -> None:
        self._call(f"/empty?bucket={bucket}")

    def requests(self, reset: bool = True) -> dict[str, int]:
        """S3 requests the server answered since the last reset, by operation."""
        counts = self._call("/count?reset=1" if reset else "/count")
        counts.pop("seconds", None)
        return {k: int(v) for k, v in counts.items()}

    def objects(self, bucket: str) -> int:
        return int(self._call(f"/size?bucket={bucket}")["objects"])

    def rss(self) -> dict[str, float]:
        """Current and peak RSS of the server process, MB."""
        out: dict[str, float] = {}
        with contextlib.suppress(OSError), open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    out[line.split(":")[0]] = int(line.split()[1]) * 1024 / MB
        return out

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION="us-east-1")
        return env

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def _s3_op(method: str, query: str) -> str:
    """A name for an S3 request, from its method and query string (enough to count GC traffic)."""
    keys = {part.split("=", 1)[0] for part in query.split("&") if part}
    for key, name in (("delete", "DeleteObjects"), ("list-type", "ListObjectsV2"), ("uploads", "MultipartInit"),
                      ("partNumber", "UploadPart"), ("uploadId", "MultipartEnd")):
        if key in keys:
            return name
    return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, method)


def _moto_main() -> None:
    """Child side of :class:`Moto`: moto's WSGI app behind a request counter, and the control server."""
    import collections
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    inner = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        op = _s3_op(environ.get("REQUEST_METHOD", ""), environ.get("QUERY_STRING", ""))
        with lock:
            counts[op] += 1
        return inner(environ, start_response)

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            start = time.perf_counter()
            result: dict[str, Any] = {}
            if url.path == "/bucket":
                backend.create_bucket(q["name"], "us-east-1")
            elif url.path == "/populate":
                value = b"x" * int(q["size"])
                prefix = q.get("prefix", "")
                for i in range(int(q["count"])):
                    backend.put_object(q["bucket"], f"{prefix}{i:07d}", value)
            elif url.path == "/empty":
                bucket = backend.get_bucket(q["bucket"])
                for key in list(bucket.keys.keys()):
                    backend.delete_object(q["bucket"], key)
            elif url.path == "/count":
                with lock:
                    result = dict(counts)
                    if q.get("reset"):
                        counts.clear()
            elif url.path == "/size":
                result = {"objects": len(backend.get_bucket(q["bucket"]).keys)}
            body = json.dumps({"seconds": time.perf_counter() - start, **result}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"READY {port} {control.server_address[1]}", flush=True)
    control.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["moto"]:
        _moto_main()
