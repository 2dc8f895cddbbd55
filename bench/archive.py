"""Archive strategies: Argosy's ``pack``/``unpack`` against GNU tar piped to gzip / pigz / zstd.

Inputs (tmpfs, warm): one file of semi-compressible JSON lines, and a directory of small files.
Each Argosy operation runs in a child process (``python -m bench.archive child ...``) so its peak
RSS is its own; its time is the operation alone (the child's interpreter start-up is reported
once, separately).  The CLI baseline is the shell pipeline a user would type, timed from outside.
Unpack is measured on the archive Argosy produced, by both sides (same input bytes).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    MB,
    MIB,
    Budget,
    Run,
    Section,
    Workspace,
    fmt,
    log,
    median,
    paired_ratio,
    py_child,
    remove,
    run,
    write_jsonl,
    write_small_tree,
)

# shell templates; {src}=input path, {parent}/{name}=its split, {out}=archive, {dest}=unpack dir
_PACK = {
    "gzip": "tar -C {parent} -cf - {name} | gzip -{level} > {out}",
    "pigz": "tar -C {parent} -cf - {name} | pigz -{level} > {out}",
    "zstd -T0": "tar -C {parent} -cf - {name} | zstd -q -{level} -T0 > {out}",
    "tar cf": "tar -C {parent} -cf {out} {name}",
    "cp": "cp {src} {out}",
    "zip": "cd {parent} && zip -q -r -{level} {out} {name}",
}
_UNPACK = {
    "gzip": "gzip -dc {out} | tar -C {dest} -xf -",
    "pigz": "pigz -dc {out} | tar -C {dest} -xf -",
    "zstd -T0": "zstd -q -dc {out} | tar -C {dest} -xf -",
    "tar cf": "tar -C {dest} -xf {out}",
    "cp": "cp {out} {dest}/",
    "zip": "unzip -q {out} -d {dest}",
}


@dataclass(frozen=True)
class Strategy:
    label: str
    kind: str
    level: int | None
    baselines: tuple[str, ...]  # keys of _PACK/_UNPACK; the first is the target's baseline

    def cli_level(self) -> int:
        return self.level if self.level is not None else 6


STRATEGIES = {
    "tar": Strategy("tar", "tar", None, ("tar cf",)),
    "none": Strategy("none", "none", None, ("cp",)),
    "zstd-1": Strategy("zstd-1", "zstd", 1, ("zstd -T0",)),
    "zstd-3": Strategy("zstd-3", "zstd", 3, ("zstd -T0",)),
    "tgz-1": Strategy("tgz-1", "tgz", 1, ("gzip",)),
    "tgz-6": Strategy("tgz-6", "tgz", 6, ("gzip", "pigz")),
    "tgz-9": Strategy("tgz-9", "tgz", 9, ("gzip",)),
    "zip": Strategy("zip", "zip", None, ("zip",)),
}


@dataclass(frozen=True)
class Input:
    name: str
    kind: str  # "file" or "dir"
    amount: int  # bytes of a file, number of files of a directory
    strategies: tuple[str, ...]


@dataclass
class Plan:
    reps: int
    inputs: list[Input]
    budget: float = 1e9  # seconds; past 3 repetitions, no new one starts beyond this


def plan(mode: str) -> Plan:
    """What runs in each mode.

    ``large`` is the literal issue-9 matrix (a 1 GiB file and 20,000 small files, every strategy):
    about 25 minutes per repetition on the loaded 2-core machine, so it is opt-in.  ``full`` keeps
    five interleaved repetitions inside the 15-minute suite by using smaller inputs for the slow
    codecs: streaming codecs' throughput and ratio do not depend on the input size past a few MiB
    (constant memory up to 4 GiB is shown by the e2e area), per-member costs by the 20,000 files.
    """
    if mode == "quick":
        return Plan(2, [Input("file32M", "file", 32 * MIB, ("tar", "zstd-3")),
                        Input("file8M", "file", 8 * MIB, ("tgz-6", "zip")),
                        Input("dir1000", "dir", 1000, ("tar", "zstd-3", "tgz-6"))], 60)
    if mode == "large":
        return Plan(5, [Input("file1G", "file", 1 << 30, tuple(STRATEGIES)),
                        Input("dir20000", "dir", 20000, ("tar", "zstd-1", "zstd-3", "tgz-1", "tgz-6", "zip"))])
    return Plan(5, [Input("file128M", "file", 128 * MIB, ("tar", "none", "zstd-1", "zstd-3")),
                    Input("file16M", "file", 16 * MIB, ("tgz-1", "tgz-6", "zip")),
                    Input("file4M", "file", 4 * MIB, ("tgz-9",)),
                    Input("dir20000", "dir", 20000, ("tar", "zstd-1", "zstd-3")),
                    Input("dir5000", "dir", 5000, ("tgz-6", "zip"))], 240)


def _argosy_pack(st: Strategy, src: Path, out: Path) -> Run:
    return py_child("archive", "pack", st.kind, str(st.level or 0), str(src), str(out)).check(f"argosy pack {st.label}")


def _argosy_unpack(st: Strategy, archive: Path, dest: Path) -> Run:
    return py_child("archive", "unpack", st.kind, str(st.level or 0), str(archive), str(dest)).check(
        f"argosy unpack {st.label}")


def _cli(template: str, st: Strategy, src: Path, out: Path, dest: Path | None = None) -> Run:
    cmd = template.format(src=src, parent=src.parent, name=src.name, out=out, dest=dest or "", level=st.cli_level())
    return run(cmd).check(cmd)


def _compare(sec: Section, ws: Workspace, p: Plan) -> None:
    data = ws.sub("archive-in")
    arch = ws.sub("archive-out")
    inputs: dict[str, tuple[Path, int, tuple[str, ...]]] = {}
    for inp in p.inputs:
        if inp.kind == "file":
            path = data / inp.name / "data.jsonl"
            write_jsonl(path, inp.amount)
            inputs[inp.name] = (path, inp.amount, inp.strategies)
        else:
            path = data / inp.name / f"files{inp.amount}"
            inputs[inp.name] = (path, write_small_tree(path, inp.amount), inp.strategies)
    log(f"archive: inputs ready ({', '.join(inputs)}); {p.reps} interleaved repetitions")

    startup = py_child("archive", "noop").check("child start-up")
    sec.data["child_startup"] = {"seconds": startup.process_wall, "rss_mb": startup.rss_mb}

    pack: dict[tuple[str, str], dict[str, list[Run]]] = {}
    unpack: dict[tuple[str, str], dict[str, list[Run]]] = {}
    sizes: dict[tuple[str, str, str], int] = {}
    budget = Budget(p.budget, p.reps)
    while budget.next():
        rep = budget.done - 1
        t0 = time.monotonic()
        for inp, (src, _size, labels) in inputs.items():
            for label in labels:
                st = STRATEGIES[label]
                runs = pack.setdefault((inp, label), {})
                ours = arch / f"{inp}.{label}.argosy"
                cases: list[tuple[str, Any]] = [("argosy", lambda s=st, a=src, o=ours: _argosy_pack(s, a, o))]
                for b in st.baselines:
                    target = arch / f"{inp}.{label}.cli"
                    cases.append((b, lambda s=st, a=src, o=target, t=_PACK[b]: _cli(t, s, a, o)))
                order = cases[rep % len(cases):] + cases[:rep % len(cases)]
                for who, fn in order:
                    target = ours if who == "argosy" else arch / f"{inp}.{label}.cli"
                    remove(target)
                    runs.setdefault(who, []).append(fn())
                    sizes[(inp, label, who)] = target.stat().st_size
                    if who != "argosy":
                        remove(target)
        for inp, (src, _size, labels) in inputs.items():
            for label in labels:
                st = STRATEGIES[label]
                runs = unpack.setdefault((inp, label), {})
                archive = arch / f"{inp}.{label}.argosy"
                dest = arch / "unpacked"
                cases = [("argosy", lambda s=st, a=archive, d=dest: _argosy_unpack(s, a, d / "out"))]
                for b in st.baselines:
                    cases.append((b, lambda s=st, a=archive, d=dest, t=_UNPACK[b], x=src: _cli(t, s, x, a, d)))
                order = cases[rep % len(cases):] + cases[:rep % len(cases)]
                for who, fn in order:
                    remove(dest)
                    dest.mkdir()
                    runs.setdefault(who, []).append(fn())
                remove(dest)
        log(f"archive: repetition {rep + 1}/{p.reps} took {time.monotonic() - t0:.0f} s")
    if budget.note("archive"):
        sec.notes.append(budget.note("archive") or "")
    sec.data["reps_done"] = budget.done

    rows = []
    rss_all: list[float] = []
    for (inp, label), runs in pack.items():
        st = STRATEGIES[label]
        size = inputs[inp][1]
        ours = runs["argosy"]
        un = unpack[(inp, label)]
        rss_all += [r.rss_mb for r in ours] + [r.rss_mb for r in un["argosy"]]
        for b in st.baselines:
            pr = paired_ratio(runs[b], ours)
            ur = paired_ratio(un[b], un["argosy"])
            rows.append([
                inp, label, b,
                fmt(size / MB / median(r.wall for r in ours)), fmt(size / MB / median(r.wall for r in runs[b])),
                f"{pr:.2f}×",
                fmt(size / max(sizes[(inp, label, 'argosy')], 1)), fmt(size / max(sizes[(inp, label, b)], 1)),
                fmt(size / MB / median(r.wall for r in un["argosy"])), fmt(size / MB / median(r.wall for r in un[b])),
                f"{ur:.2f}×",
                f"{median(r.rss_mb for r in ours):.0f} / {median(r.rss_mb for r in un['argosy']):.0f}",
                f"{median(r.rss_mb for r in runs[b]):.0f} / {median(r.rss_mb for r in un[b]):.0f}",
                f"{median(r.cpu for r in ours) - startup.cpu:.1f} / {median(r.cpu for r in runs[b]):.1f}",
            ])
            sec.data.setdefault("rows", []).append({
                "input": inp, "bytes": size, "strategy": label, "baseline": b,
                "pack_s": [r.wall for r in ours], "pack_cli_s": [r.wall for r in runs[b]],
                "unpack_s": [r.wall for r in un["argosy"]], "unpack_cli_s": [r.wall for r in un[b]],
                "pack_ratio": pr, "unpack_ratio": ur,
                "archive_bytes": sizes[(inp, label, "argosy")], "cli_archive_bytes": sizes[(inp, label, b)],
                "pack_rss_mb": [r.rss_mb for r in ours], "unpack_rss_mb": [r.rss_mb for r in un["argosy"]],
                "pack_cpu_s": [r.cpu for r in ours], "cli_pack_cpu_s": [r.cpu for r in runs[b]],
            })
    sec.table(
        "Archive pack/unpack (MB/s of input; ratio = Argosy speed / baseline speed, median of per-repetition ratios)",
        ["input", "strategy", "baseline", "pack MB/s", "base MB/s", "pack ratio", "compr.", "base compr.",
         "unpack MB/s", "base MB/s", "unpack ratio", "Argosy RSS MB pack/unpack", "base RSS MB",
         "pack CPU s Argosy/base"],
        rows,
    )
    sec.notes.append(
        f"Argosy's figures are the operation inside a child process; that child's start-up "
        f"(interpreter + imports) takes {startup.process_wall * 1000:.0f} ms and {startup.cpu:.2f} CPU s (subtracted "
        f"from the CPU column) and is {startup.rss_mb:.0f} MB of the RSS figures. Directories of ≥256 members are streamed by GNU tar (Argosy spawns it) "
        "and compressed in Python; RSS is the largest process of the child's tree.")

    def ratio(inp_kind: str, label: str, base: str, which: str) -> tuple[float, str]:
        for r in sec.data["rows"]:
            if r["input"] == inp_kind and r["strategy"] == label and r["baseline"] == base:
                return r[f"{which}_ratio"], r["input"]
        return float("nan"), "?"

    files = [i for i in p.inputs if i.kind == "file"]
    dirs = [i for i in p.inputs if i.kind == "dir"]
    zfile = max((i for i in files if "zstd-3" in i.strategies), key=lambda i: i.amount).name
    gfile = max((i for i in files if "tgz-6" in i.strategies), key=lambda i: i.amount).name
    zdir = max((i for i in dirs if "zstd-3" in i.strategies), key=lambda i: i.amount).name
    gdir = max((i for i in dirs if "tgz-6" in i.strategies), key=lambda i: i.amount).name
    r, i = ratio(zfile, "zstd-3", "zstd -T0", "pack")
    sec.target("zstd pack", "≥ 0.8× tar -I 'zstd -T0 -3'", f"{r:.2f}× ({i})", r >= 0.8)
    r, i = ratio(zdir, "zstd-3", "zstd -T0", "pack")
    sec.target("zstd pack, small files", "≥ 0.8× tar -I 'zstd -T0 -3'", f"{r:.2f}× ({i})", r >= 0.8)
    r, i = ratio(gfile, "tgz-6", "gzip", "pack")
    sec.target("gzip pack (single-threaded zlib)", "≥ 0.9× tar czf", f"{r:.2f}× ({i})", r >= 0.9)
    r, i = ratio(gdir, "tgz-6", "gzip", "pack")
    sec.target("gzip pack, small files", "≥ 0.9× tar czf", f"{r:.2f}× ({i})", r >= 0.9)
    r, i = ratio(gfile, "tgz-6", "pigz", "pack")
    sec.target("gzip pack vs pigz", "≥ 0.8× tar | pigz when parallel gzip is used",
               f"{r:.2f}× ({i}; Argosy does not use parallel gzip)", None)
    for row in sec.data["rows"]:
        if row["baseline"] == "pigz":
            continue
        ok = row["unpack_ratio"] >= 0.8
        sec.target(f"unpack {row['strategy']} ({row['input']})", f"≥ 0.8× {row['baseline']}",
                   f"{row['unpack_ratio']:.2f}×", ok)
    peak = max(rss_all)
    sec.target("peak RSS, archive child", "< 150 MB", f"{peak:.0f} MB", peak < 150)
    remove(data)
    remove(arch)


def bench(ws: Workspace, mode: str) -> Section:
    sec = Section("archive")
    p = plan(mode)
    sec.data["plan"] = {"reps": p.reps, "inputs": [vars(i) for i in p.inputs]}
    _compare(sec, ws, p)
    return sec


# --------------------------------------------------------------------------------------------------
# child side


def child(argv: list[str]) -> None:
    from bench.common import child_report

    op = argv[0]
    if op == "noop":
        import argosy.storage.archives  # noqa: F401 - the import is what is measured

        child_report(0.0)
        return
    from argosy.storage.archives import ArchiveFormat, pack, unpack

    kind, level, a, b = argv[1], int(argv[2]), Path(argv[3]), Path(argv[4])
    fmt_ = ArchiveFormat(kind, level if kind in ("tgz", "zstd") else None)  # type: ignore[arg-type]
    start = time.perf_counter()
    if op == "pack":
        with open(b, "wb") as out:
            pack(a, fmt_, out)
    else:
        with open(a, "rb") as src:
            unpack(src, b, fmt_)
    child_report(time.perf_counter() - start)


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2:])
