"""``python -m bench [--quick] [--only AREA,...]``: run the benchmark suite, print tables, write JSON.

Areas: archive, transfer, e2e, scheduling, gc (in that order).  Full mode is sized to finish in
under 15 minutes on the 2-core project machine, ``--quick`` in under 2 (smaller inputs, fewer
repetitions; its figures are indicative only).  Results go to ``bench/results.json`` (gitignored);
``--markdown FILE`` also writes the tables as Markdown, ready for ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import REPO, LoadMeter, Section, Workspace, log, machine, markdown_table, verdict

AREAS = ("archive", "transfer", "e2e", "scheduling", "gc")


def _summary(results: dict[str, Any]) -> str:
    rows = [[area, t["target"], t["goal"], t["measured"], verdict(t["met"])]
            for area, sec in results["areas"].items() for t in sec.get("targets", [])]
    return "## Targets\n\n" + markdown_table(["Area", "Target", "Goal", "Measured", "Verdict"], rows) + "\n"


def _header(results: dict[str, Any]) -> str:
    m = results["meta"]
    mach = m["machine"]
    loads = ", ".join(f"{a} {s['load'].get('busy_cores', '?')} busy / {s['load'].get('background_cores', '?')} "
                      f"background" for a, s in results["areas"].items() if s.get("load"))
    return (
        f"Mode: {m['mode']}; started {m['started']}; {m['seconds']:.0f} s in all; workspace on {m['workspace']}.\n"
        f"Machine: {mach['cores']}× {mach['cpu']}, {mach['memory_gb']} GB RAM, kernel {mach['kernel']}, "
        f"Python {mach['python']}; {mach['tar']}; {mach['zstd']}; {mach['pigz']}; commit {mach['commit']}.\n"
        f"Load average at start: {', '.join(f'{x:.1f}' for x in mach['loadavg_at_start'])}. "
        f"Cores busy during each area (whole machine / not this suite): {loads}.\n"
    )


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and fewer repetitions (< 2 min)")
    ap.add_argument("--large", action="store_true",
                    help="archive area at the literal issue sizes (1 GiB file, every strategy; ~2 hours)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(AREAS)}")
    ap.add_argument("--out", default=str(REPO / "bench" / "results.json"), help="JSON results path")
    ap.add_argument("--markdown", default="", help="also write the tables as Markdown to this file")
    args = ap.parse_args(argv)
    chosen = [a.strip() for a in args.only.split(",") if a.strip()] or list(AREAS)
    unknown = [a for a in chosen if a not in AREAS]
    if unknown:
        ap.error(f"unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}")

    mode = "quick" if args.quick else ("large" if args.large else "full")
    start = time.monotonic()
    results: dict[str, Any] = {
        "meta": {"mode": mode, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                 "machine": machine(), "seconds": 0.0, "workspace": ""},
        "areas": {},
    }
    ws = Workspace(size_gb=4 if args.quick else 16)
    signal.signal(signal.SIGTERM, _terminate)  # so the tmpfs is unmounted when the suite is stopped
    results["meta"]["workspace"] = f"{ws.kind} ({ws.path})"
    markdown: list[str] = []
    out = Path(args.out)
    try:
        for area in chosen:
            log(f"== {area} ==")
            meter = LoadMeter()
            t0 = time.monotonic()
            try:
                sec: Section = importlib.import_module(f"bench.{area}").bench(ws, mode)
            except Exception as exc:
                traceback.print_exc()
                sec = Section(area)
                sec.notes.append(f"FAILED: {type(exc).__name__}: {exc}")
            sec.seconds = time.monotonic() - t0
            sec.load = meter.result()
            text = f"### {area} ({sec.seconds:.0f} s)\n\n{sec.markdown()}"
            markdown.append(text)
            print(text, flush=True)
            results["areas"][area] = sec.to_json()
            results["meta"]["seconds"] = time.monotonic() - start
            out.write_text(json.dumps(results, indent=1, default=str))
    finally:
        ws.close()
    results["meta"]["seconds"] = time.monotonic() - start
    out.write_text(json.dumps(results, indent=1, default=str))
    summary = _summary(results)
    header = _header(results)
    print(header)
    print(summary)
    if args.markdown:
        Path(args.markdown).write_text(header + "\n" + summary + "\n" + "\n".join(markdown))
    log(f"done in {results['meta']['seconds']:.0f} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
