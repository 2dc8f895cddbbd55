"""Scheduling: the engine's own time, and the local executor's per-step overhead.

* Engine: ``WorkflowRunner`` + ``Operator`` with a no-op in-process executor that completes every
  pod the moment it is launched, a real SQLite store on the workspace tmpfs, nothing subtracted
  (wall and CPU of ``runner.run``, persistence included).  Shapes: a wide DAG (N independent
  tasks), a layered DAG (10 layers of N/10, each task after the one above it), a ``withItems``
  fan-out, and a recursion (a ``steps`` template calling itself until a counter reaches D).
  Each case runs in a fresh child process (its peak RSS is the engine's), with a time limit.
  For reference, the same DAG through ``graphlib.TopologicalSorter`` (a minimal scheduler).
* Per step: interleaved, the same command ``true`` as a bare ``subprocess.run``, through the
  sandbox (``sandbox.start`` in a fresh ``StepFilesystem``) and as a whole pod of the local
  executor (``LocalExecutor.launch`` → result: thread, step dir, sandbox, outputs, cleanup).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from argosy.pipeline.executors.base import Executor
from bench.common import Budget, Run, Section, Workspace, fmt, log, median, percentile, py_child

_LIMIT_FULL = 150.0
_LIMIT_QUICK = 30.0


def _noop_template() -> dict[str, Any]:
    return {"name": "noop", "container": {"image": "bench", "command": ["true"]}}


def workflow(shape: str, n: int) -> dict[str, Any]:
    """The workflow document of one case (``n`` = pods, or recursion depth)."""
    spec: dict[str, Any]
    if shape in ("dag-wide", "dag-layered"):
        width = n if shape == "dag-wide" else max(n // 10, 1)
        tasks = []
        for i in range(n):
            task: dict[str, Any] = {"name": f"t{i}", "template": "noop"}
            if i >= width:
                task["dependencies"] = [f"t{i - width}"]
            tasks.append(task)
        spec = {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}, _noop_template()]}
    elif shape == "withitems":
        spec = {"entrypoint": "main", "templates": [
            {"name": "main", "steps": [[{"name": "fan", "template": "noop", "withItems": list(range(n))}]]},
            _noop_template()]}
    elif shape == "recursion":
        spec = {"entrypoint": "rec", "arguments": {"parameters": [{"name": "d", "value": "1"}]}, "templates": [
            {"name": "rec", "inputs": {"parameters": [{"name": "d"}]}, "steps": [
                [{"name": "work", "template": "noop"}],
                [{"name": "next", "template": "rec", "when": f"{{{{inputs.parameters.d}}}} < {n}",
                  "arguments": {"parameters": [{"name": "d", "value": "{{=asInt(inputs.parameters.d) + 1}}"}]}}],
            ]},
            _noop_template()]}
        spec["templates"][0]["steps"][0][0]["arguments"] = {}
    else:
        raise ValueError(shape)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": f"sched-{shape}-{n}"}, "spec": spec}


def _engine_case(ws: Workspace, shape: str, n: int, limit: float, profile: bool = False) -> Run:
    home = ws.sub(f"sched-home-{shape}-{n}")
    args = ["engine", shape, str(n), str(home)] + (["profile"] if profile else [])
    res = py_child("scheduling", *args, timeout=limit)
    return res


def bench(ws: Workspace, mode: str) -> Section:
    sec = Section("scheduling")
    quick = mode == "quick"
    limit = _LIMIT_QUICK if quick else _LIMIT_FULL
    if quick:
        cases = {"dag-wide": [250, 1000], "dag-layered": [250, 1000], "withitems": [250, 1000], "recursion": [25, 50]}
        reps = {250: 2, 1000: 1, 25: 2, 50: 1}
    else:
        cases = {"dag-wide": [1000, 3000, 10000], "dag-layered": [1000, 3000, 10000],
                 "withitems": [250, 1000], "recursion": [25, 50, 100]}
        reps = {250: 5, 1000: 5, 3000: 1, 10000: 1, 25: 5, 50: 3, 100: 3}
    rows = []
    results: dict[str, dict[int, list[Run]]] = {}
    for shape, sizes in cases.items():
        timed_out = False
        for n in sizes:
            runs: list[Run] = []
            if timed_out:
                rows.append([shape, n, "skipped (smaller size hit the time limit)"] + [""] * 8)
                continue
            log(f"scheduling: {shape} n={n} x {reps[n]}")
            budget = Budget(1e9 if quick else 25.0, reps[n])
            while budget.next():
                r = _engine_case(ws, shape, n, limit)
                if r.rc != 0:
                    if r.extra.get("timed_out") or r.process_wall >= limit:
                        timed_out = True
                        break
                    raise RuntimeError(f"engine case {shape} {n} failed: {r.err[-3000:]}")
                runs.append(r)
            if timed_out:
                rows.append([shape, n, f"> {limit:.0f} s (time limit)"] + [""] * 8)
                sec.data.setdefault("timeouts", []).append({"shape": shape, "n": n, "limit_s": limit})
                continue
            results.setdefault(shape, {})[n] = runs
            e = [r.extra for r in runs]
            pods = e[0]["pods"]
            wall = median(x["seconds"] for x in e)
            cpu = median(x["cpu_s"] for x in e)
            rows.append([shape, n, len(runs), pods, fmt(wall), fmt(cpu), fmt(wall / pods * 1000, 2),
                         fmt(cpu / pods * 1000, 2), e[0]["passes"], fmt(e[0]["status_bytes"] / 1e6),
                         f"{median(x['self_rss_mb'] for x in e):.0f}",
                         fmt(e[0]["graphlib_s"] / pods * 1e6, 1) if e[0].get("graphlib_s") is not None else "–"])
            sec.data.setdefault("engine", []).append({"shape": shape, "n": n, "runs": e})
    sec.table(
        "Engine time, no-op executor (pods complete at launch), SQLite store on tmpfs; median of reps",
        ["shape", "n", "reps", "pods", "wall s", "CPU s", "wall ms/pod", "CPU ms/pod", "passes", "status MB",
         "RSS MB", "graphlib µs/node"],
        rows,
    )

    # growth: time per pod at increasing size
    growth = []
    for shape, by_n in results.items():
        ns = sorted(by_n)
        if len(ns) < 2:
            continue
        first, last = ns[0], ns[-1]
        per = {n: median(r.extra["cpu_s"] for r in by_n[n]) / by_n[n][0].extra["pods"] for n in ns}
        exponent = _exponent(ns, [per[n] * by_n[n][0].extra["pods"] for n in ns])
        growth.append([shape, f"{first}→{last}", f"{per[first] * 1000:.2f} → {per[last] * 1000:.2f}",
                       f"{per[last] / per[first]:.1f}×", f"{exponent:.2f}",
                       "linear" if exponent < 1.15 else ("mildly superlinear" if exponent < 1.5 else "quadratic-ish")])
        sec.data.setdefault("growth", {})[shape] = {"per_pod_s": per, "exponent": exponent}
    sec.table("Growth: engine CPU ms per pod from the smallest to the largest size (exponent k of time ∝ n^k)",
              ["shape", "sizes", "ms/pod", "per-pod growth", "k", "reading"], growth)

    big = results.get("dag-wide", {}).get(10000) or results.get("dag-wide", {}).get(1000)
    for shape in ("dag-wide", "dag-layered"):
        by_n = results.get(shape, {})
        top = max(by_n) if by_n else None
        if top is None:
            sec.target(f"{shape} engine time per node", "< 2 ms/node", "timed out", False)
            continue
        pods = by_n[top][0].extra["pods"]
        per = median(r.extra["cpu_s"] for r in by_n[top]) / pods * 1000
        per_wall = median(r.extra["seconds"] for r in by_n[top]) / pods * 1000
        sec.target(f"{shape} {top}-node DAG, engine time per node", "< 2 ms/node",
                   f"{per:.2f} ms/node CPU ({per_wall:.2f} wall)", per < 2.0)
        g = sec.data.get("growth", {}).get(shape)
        if g:
            sec.target(f"{shape} growth", "linear (k ≈ 1)", f"k = {g['exponent']:.2f}", g["exponent"] < 1.15)
    del big

    # profile the largest DAG that finished, for the hot spots
    prof_shape = "dag-layered" if results.get("dag-layered") else "dag-wide"
    if results.get(prof_shape):
        n = min(max(results[prof_shape]), 1000)
        log(f"scheduling: profiling {prof_shape} n={n}")
        r = _engine_case(ws, prof_shape, n, limit * 2, profile=True)
        if r.rc == 0:
            sec.data["profile"] = {"shape": prof_shape, "n": n, "top": r.extra.get("profile", [])}
            sec.table(f"cProfile of the engine, {prof_shape} n={n} (top 15 functions by own time)",
                      ["function", "calls", "own s", "cumulative s"],
                      [[p["func"], p["calls"], fmt(p["tottime"]), fmt(p["cumtime"])]
                       for p in r.extra.get("profile", [])[:15]])

    _per_step(sec, ws, quick)
    return sec


def _exponent(ns: list[int], times: list[float]) -> float:
    import math

    xs = [math.log(n) for n in ns]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def _per_step(sec: Section, ws: Workspace, quick: bool) -> None:
    n = 40 if quick else 200
    chain = 5 if quick else 20
    root = ws.sub("per-step")
    log(f"scheduling: per-step overhead, {n} interleaved spawns of each kind")
    r = py_child("scheduling", "spawn", str(n), str(root), str(chain), timeout=600).check("per-step overhead")
    e = r.extra
    rows = []
    for kind in ("bare", "sandbox", "executor"):
        vals = e[kind]
        rows.append([kind, fmt(percentile(vals, 50) * 1000, 2), fmt(percentile(vals, 99) * 1000, 2),
                     fmt((percentile(vals, 50) - percentile(e["bare"], 50)) * 1000, 2),
                     fmt((percentile(vals, 99) - percentile(e["bare"], 99)) * 1000, 2)])
    chain_per = e["chain_s"] / chain
    rows.append([f"engine chain ({chain} steps, LocalExecutor)", fmt(chain_per * 1000, 2), "–",
                 fmt((chain_per - percentile(e["bare"], 50)) * 1000, 2), "–"])
    sec.table(f"Per-step cost of `true`, ms ({n} interleaved runs each; overhead = minus bare subprocess.run)",
              ["how", "p50 ms", "p99 ms", "overhead p50 ms", "overhead p99 ms"], rows)
    sec.data["per_step"] = e
    over = (percentile(e["executor"], 50) - percentile(e["bare"], 50)) * 1000
    over99 = (percentile(e["executor"], 99) - percentile(e["bare"], 99)) * 1000
    sec.target("local per-step overhead over a bare spawn (executor pod)", "< 30 ms",
               f"{over:.1f} ms p50 ({over99:.1f} ms p99)", over < 30)
    chain_over = (chain_per - percentile(e["bare"], 50)) * 1000
    sec.target("same, through the engine (chain of steps, per step)", "< 30 ms (reported)",
               f"{chain_over:.1f} ms", chain_over < 30)
    sec.notes.append(f"Sandbox mode: {e.get('mode')}.")


# --------------------------------------------------------------------------------------------------
# child side


class NoopExecutor(Executor):
    """Completes every pod at launch (Succeeded, exit code 0): measures the engine alone."""

    def __init__(self) -> None:
        self._done: list[Any] = []
        self._active: set[str] = set()
        self.launched = 0

    def launch(self, request: Any) -> None:
        from argosy.pipeline.executors.base import PodResult
        from argosy.pipeline.model import Outputs
        from argosy.pipeline.status import format_time, now

        stamp = format_time(now())
        self.launched += 1
        self._active.add(request.pod_name)
        self._done.append(PodResult(request.pod_name, request.node_id, "Succeeded", None,
                                    Outputs(exit_code="0"), stamp, stamp))

    def wait(self, timeout: float | None) -> list[Any]:
        out, self._done = self._done, []
        for r in out:
            self._active.discard(r.pod_name)
        return out

    def kill(self, pod_name: str, message: str) -> None:
        pass

    def active(self) -> set[str]:
        return set(self._active)

    def close(self) -> None:
        pass


def _engine_child(shape: str, n: int, home: Path, profile: bool) -> None:
    import graphlib

    from argosy.pipeline.engine.operator import Operator
    from argosy.pipeline.engine.runner import WorkflowRunner
    from argosy.pipeline.store import Store
    from bench.common import child_report

    store = Store(home)
    doc = workflow(shape, n)
    store.create_workflow(doc)
    passes = 0
    original = Operator.reconcile

    def counting(self: Operator) -> None:
        nonlocal passes
        passes += 1
        original(self)

    Operator.reconcile = counting  # type: ignore[method-assign]
    executor = NoopExecutor()
    runner = WorkflowRunner(store, executor)
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    record = runner.run(doc["metadata"]["name"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof is not None:
        prof.disable()
    status = record.get("status") or {}
    if status.get("phase") != "Succeeded":
        raise SystemExit(f"workflow ended {status.get('phase')}: {status.get('message')}")
    graph_s = None
    if shape.startswith("dag"):
        width = n if shape == "dag-wide" else max(n // 10, 1)
        g0 = time.perf_counter()
        ts: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for i in range(n):
            ts.add(f"t{i}", *([f"t{i - width}"] if i >= width else []))
        ts.prepare()
        while ts.is_active():
            ready = ts.get_ready()
            ts.done(*ready)
        graph_s = time.perf_counter() - g0
    extra: dict[str, Any] = {"pods": executor.launched, "cpu_s": cpu, "passes": passes,
                             "nodes": len(status.get("nodes") or {}),
                             "status_bytes": len(json.dumps(status, separators=(",", ":"))),
                             "graphlib_s": graph_s}
    if prof is not None:
        import pstats

        stats = pstats.Stats(prof)
        top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:25]  # type: ignore[attr-defined]
        extra["profile"] = [{"func": f"{Path(f).name}:{line}({name})", "calls": nc, "tottime": tt, "cumtime": ct}
                            for (f, line, name), (_cc, nc, tt, ct, _callers) in top]
    child_report(wall, **extra)


def _spawn_child(n: int, root: Path, chain: int) -> None:
    import subprocess

    from argosy.pipeline.config import ControllerConfig
    from argosy.pipeline.executors import sandbox
    from argosy.pipeline.executors.base import PodRequest
    from argosy.pipeline.executors.local import LocalExecutor
    from argosy.pipeline.model import Template
    from bench.common import child_report

    mode = sandbox.detect_mode()  # the one-off probe is not part of any step
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    executor = LocalExecutor(runs_dir=root / "runs", log_path=lambda wf, pod: logs / f"{wf}-{pod}.log",
                             config=ControllerConfig(), artifacts=None)
    tmpl = Template.model_validate({"name": "noop", "container": {"image": "bench", "command": ["true"]}})
    times: dict[str, list[float]] = {"bare": [], "sandbox": [], "executor": []}

    def bare(i: int) -> None:
        subprocess.run(["true"], check=True)

    def sandboxed(i: int) -> None:
        step = root / "sb" / str(i)
        fs = sandbox.StepFilesystem(step)
        res = sandbox.start(sandbox.SandboxSpec(argv=["true"], fs=fs, stdout_path=step / "stdout",
                                                stderr_path=step / "stderr", log_path=step / "log")).wait()
        fs.remove()
        if res.exit_code != 0:
            raise SystemExit(f"sandboxed true failed: {res.error}")

    def pod(i: int) -> None:
        req = PodRequest(workflow_name="bench", workflow_uid="u", namespace="default", node_id=f"n{i}",
                         node_name=f"bench.p{i}", pod_name=f"bench-p{i}", template=tmpl)
        executor.launch(req)
        got = executor.wait(60)
        if not got or got[0].phase != "Succeeded":
            raise SystemExit(f"executor pod failed: {got}")

    kinds = [("bare", bare), ("sandbox", sandboxed), ("executor", pod)]
    for i in range(n):
        for name, fn in kinds[i % 3:] + kinds[: i % 3]:
            t0 = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - t0)

    # a chain of steps through the real engine and executor (no CLI, no detached runner)
    from argosy.pipeline.engine.runner import WorkflowRunner
    from argosy.pipeline.store import Store

    store = Store(root / "home")
    steps = [[{"name": f"s{i}", "template": "noop"}] for i in range(chain)]
    store.create_workflow({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "chain"},
                           "spec": {"entrypoint": "main", "templates": [
                               {"name": "main", "steps": steps}, _noop_template()]}})
    chain_exec = LocalExecutor(runs_dir=store.runs_dir, log_path=store.log_path, config=ControllerConfig(),
                               artifacts=None)
    t0 = time.perf_counter()
    record = WorkflowRunner(store, chain_exec).run("chain")
    chain_s = time.perf_counter() - t0
    if (record.get("status") or {}).get("phase") != "Succeeded":
        raise SystemExit(f"chain workflow failed: {(record.get('status') or {}).get('message')}")
    child_report(0.0, mode=mode, chain_s=chain_s, **times)


def child(argv: list[str]) -> None:
    if argv[0] == "engine":
        _engine_child(argv[1], int(argv[2]), Path(argv[3]), argv[4:5] == ["profile"])
    elif argv[0] == "spawn":
        _spawn_child(int(argv[1]), Path(argv[2]), int(argv[3]))
    else:
        raise SystemExit(f"unknown child op {argv[0]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2:])
