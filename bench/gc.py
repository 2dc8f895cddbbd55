"""Artifact GC against S3 (moto): collect N artifacts of a finished workflow, sweep a bucket for orphans.

* Collect: a Succeeded workflow record (``artifactGC: OnWorkflowCompletion``) with N output
  artifacts stored in S3, collected (a) through the real lifecycle, ``argosy.gc.on_completed``
  (tasks, a worker *process*, results written back, finalizer released), and (b) by the worker
  code in-process (``run_task``), whose S3 requests a botocore ``before-call`` hook counts.
  Baseline: plain boto3 ``delete_objects`` of the same keys in batches of 1,000 (the minimum).
* Orphan sweep: ``argosy.gc.sweep(delete=True)`` over a bucket of small objects no workflow
  references, against boto3 paginated listing + ``delete_objects`` per page.

Requests are also counted by the server (a WSGI counter in front of moto), which sees the worker
process's traffic too.  Objects are written into moto's backend directly (``Moto.populate``):
100k PUTs against moto would take ~15 minutes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Budget, Moto, Run, Section, Workspace, fmt, log, median, paired_ratio, py_child

BUCKET = "argosy-bench-gc"


def bench(ws: Workspace, mode: str) -> Section:
    sec = Section("gc")
    quick = mode == "quick"
    pods, per = (50, 10) if quick else (100, 10)
    n_collect = pods * per
    sweep_sizes = [1000] if quick else [5000, 20000]
    reps = 2 if quick else 5
    sweep_reps = {1000: 2, 5000: 3, 20000: 1}
    growth = [] if quick else [2000, 4000, 10000]  # 10,000: the issue's size (was extrapolated while GC was quadratic)
    moto = Moto()
    try:
        moto.create_bucket(BUCKET)
        env = moto.env()
        ep = moto.endpoint

        def collect(mode: str, rep: int) -> Run:
            moto.populate(BUCKET, "gc/k", n_collect, 64)
            moto.requests(reset=True)
            home = ws.sub(f"gc-home-{mode}-{rep}")
            r = py_child("gc", "collect", mode, ep, BUCKET, str(home), str(pods), str(per), env=env,
                         timeout=900).check(f"gc collect {mode}")
            r.extra["server_requests"] = moto.requests(reset=True)
            r.extra["left"] = moto.objects(BUCKET)
            moto.empty(BUCKET)
            return r

        log(f"gc: collect {n_collect} artifacts x {reps}")
        runs: dict[str, list[Run]] = {"lifecycle": [], "worker": [], "boto3": []}
        order = ["lifecycle", "worker", "boto3"]
        budget = Budget(1e9 if quick else 60.0, reps)
        while budget.next():
            rep = budget.done - 1
            for mode in order[rep % 3:] + order[: rep % 3]:
                runs[mode].append(collect(mode, rep))
        if budget.note("GC collect"):
            sec.notes.append(budget.note("GC collect") or "")
        reps = budget.done
        rows = []
        for mode, label in (("lifecycle", "argosy gc.on_completed (worker process)"),
                            ("worker", "argosy GC worker code in-process"),
                            ("boto3", "boto3 delete_objects ×1000 (baseline)")):
            rs = runs[mode]
            reqs = rs[0].extra["server_requests"]
            rows.append([label, fmt(median(r.wall for r in rs)), fmt(n_collect / median(r.wall for r in rs)),
                         f"{paired_ratio(runs['boto3'], rs):.2f}×", sum(reqs.values()),
                         ", ".join(f"{k} {v}" for k, v in sorted(reqs.items())),
                         rs[0].extra.get("hook_requests", "–"), max(r.extra["left"] for r in rs),
                         f"{median(r.rss_mb for r in rs):.0f}"])
        sec.table(f"Collect {n_collect:,} artifacts ({pods} pods × {per}) from S3 (moto), {reps} reps",
                  ["how", "s", "artifacts/s", "speed vs baseline", "S3 requests (server)", "by operation",
                   "botocore hook count", "objects left", "RSS MB"], rows)
        sec.data["collect"] = {m: [{"s": r.wall, **r.extra} for r in rs] for m, rs in runs.items()}
        # growth of the worker's time with the number of artifacts (in-process, one run each)
        per_artifact = {n_collect: median(r.wall for r in runs["worker"]) / n_collect}
        for n in growth:
            log(f"gc: collect {n} artifacts (growth)")
            moto.populate(BUCKET, "gc/k", n, 64)
            moto.requests(reset=True)
            r = py_child("gc", "collect", "worker", ep, BUCKET, str(ws.sub(f"gc-home-growth-{n}")), str(n // per),
                         str(per), env=env, timeout=900).check("gc growth")
            moto.empty(BUCKET)
            per_artifact[n] = r.wall / n
        if len(per_artifact) > 1:
            from bench.scheduling import _exponent

            ns = sorted(per_artifact)
            k = _exponent(ns, [per_artifact[n] * n for n in ns])
            n1, n2 = ns[-2], ns[-1]
            t1, t2 = per_artifact[n1] * n1, per_artifact[n2] * n2
            if 10000 in per_artifact:
                est = per_artifact[10000] * 10000
                how = "measured, one run"
            else:  # time = a + b·N fitted to the two largest sizes
                b = (t2 - t1) / (n2 - n1)
                est = max(t2 - b * n2, 0.0) + b * 10000
                how = f"a + b·N fitted to {n1:,} and {n2:,}; not run at 10k"
            sec.table("GC worker time as the number of artifacts grows (in-process, moto)",
                      ["artifacts", "s", "ms per artifact"],
                      [[f"{n:,}", fmt(per_artifact[n] * n), fmt(per_artifact[n] * 1000, 2)] for n in ns])
            sec.data["collect_growth"] = {"per_artifact_s": per_artifact, "exponent": k, "estimate_10k_s": est}
            sec.target("GC worker growth with N", "linear (k ≈ 1)", f"k = {k:.2f} over {ns[0]:,}–{ns[-1]:,}", k < 1.15)
            sec.target("GC of 10,000 artifacts: time", "(reported)", f"{'' if 10000 in per_artifact else '≈ '}"
                       f"{est:.1f} s ({how})", None)
        life = runs["lifecycle"][0].extra["server_requests"]
        minimum = -(-n_collect // 1000)
        sec.target(f"GC of {n_collect:,} artifacts: S3 requests", f"≈ ⌈N/1000⌉ = {minimum} DeleteObjects",
                   f"{sum(life.values())} ({', '.join(f'{k} {v}' for k, v in sorted(life.items()))})",
                   sum(life.values()) <= 2 * minimum + 2)
        wall = median(r.wall for r in runs["lifecycle"])
        sec.target(f"GC of {n_collect:,} artifacts: time", "(reported; vs boto3 minimum)",
                   f"{wall:.1f} s = {paired_ratio(runs['boto3'], runs['lifecycle']):.2f}× the baseline's speed", None)

        # ---------------------------------------------------------------- orphan sweep
        srows = []
        per_key: dict[int, float] = {}
        for n in sweep_sizes:
            log(f"gc: orphan sweep of {n} objects x {sweep_reps[n]}")
            sruns: dict[str, list[Run]] = {"argosy": [], "boto3": []}
            for rep in range(sweep_reps[n]):
                for who in (["argosy", "boto3"] if rep % 2 == 0 else ["boto3", "argosy"]):
                    moto.populate(BUCKET, "wf/pod/o", n, 16)
                    moto.requests(reset=True)
                    home = ws.sub(f"gc-sweep-home-{n}-{rep}")
                    r = py_child("gc", "sweep" if who == "argosy" else "sweep-baseline", ep, BUCKET, str(home),
                                 env=env, timeout=900).check(f"sweep {who}")
                    r.extra["server_requests"] = moto.requests(reset=True)
                    r.extra["left"] = moto.objects(BUCKET)
                    moto.empty(BUCKET)
                    sruns[who].append(r)
            for who, rs in sruns.items():
                reqs = rs[0].extra["server_requests"]
                srows.append([f"{n:,}", "argosy gc.sweep(delete=True)" if who == "argosy" else "boto3 list + delete_objects",
                              fmt(median(r.wall for r in rs)), fmt(n / median(r.wall for r in rs)),
                              f"{paired_ratio(sruns['boto3'], rs):.2f}×", sum(reqs.values()),
                              ", ".join(f"{k} {v}" for k, v in sorted(reqs.items())), rs[0].extra.get("hook_requests", "–"),
                              max(r.extra["left"] for r in rs), f"{median(r.rss_mb for r in rs):.0f}"])
            per_key[n] = median(r.wall for r in sruns["argosy"]) / n
            sec.data.setdefault("sweep", {})[n] = {w: [{"s": r.wall, **r.extra} for r in rs] for w, rs in sruns.items()}
        sec.table("Orphan sweep of a bucket of small objects no workflow references (moto)",
                  ["objects", "how", "s", "objects/s", "speed vs baseline", "S3 requests", "by operation",
                   "botocore hook count", "objects left", "RSS MB"], srows)
        biggest = max(per_key)
        extrap = per_key[biggest] * 100_000
        linear = ""
        if len(per_key) > 1:
            small = min(per_key)
            linear = f"; per-object time {per_key[small] * 1e3:.2f} ms at {small:,} vs {per_key[biggest] * 1e3:.2f} ms at {biggest:,}"
        sec.notes.append(
            f"100,000 objects were not swept against moto (here it lists and deletes ~{1 / per_key[biggest]:,.0f} "
            f"objects/s, and populating 100k objects costs memory and time); extrapolating linearly from "
            f"{biggest:,}: ≈ {extrap:.0f} s for 100k on moto{linear}. "
            "Requests scale exactly: ⌈N/1000⌉ ListObjectsV2 + ⌈N/1000⌉ DeleteObjects.")
        sreq = sec.data["sweep"][biggest]["argosy"][0]["server_requests"]
        minimum = 2 * -(-biggest // 1000)
        sec.target(f"orphan sweep of {biggest:,} objects: S3 requests", f"≤ ⌈N/1000⌉ list + ⌈N/1000⌉ delete = {minimum}",
                   f"{sum(sreq.values())}", sum(sreq.values()) <= minimum)
        sec.target("orphan sweep: 100k objects (extrapolated)", "(reported)", f"≈ {extrap:.0f} s on moto", None)
        sec.notes.append(f"moto RSS at the end: {moto.rss().get('VmHWM', 0):.0f} MB peak.")
    finally:
        moto.stop()
    return sec


# --------------------------------------------------------------------------------------------------
# child side


def _counter(client_or_session: Any) -> list[int]:
    count = [0]

    def hook(**_kw: Any) -> None:
        count[0] += 1

    client_or_session.events.register("before-call.s3", hook) if hasattr(client_or_session, "events") \
        else client_or_session.meta.events.register("before-call.s3", hook)
    return count


def _workflow(store: Any, ep: str, bucket: str, pods: int, per: int) -> tuple[str, dict[str, Any]]:
    from argosy.gc import on_submit

    repo = {"s3": {"endpoint": ep, "bucket": bucket, "insecure": True}}
    wf: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "gc-bench"},
        "spec": {"entrypoint": "main", "artifactGC": {"strategy": "OnWorkflowCompletion"}, "templates": [
            {"name": "main", "container": {"image": "bench", "command": ["true"]},
             "outputs": {"artifacts": [{"name": f"a{j}", "path": f"/tmp/a{j}"} for j in range(per)]}}]},
    }
    on_submit(wf, store)
    store.create_workflow(wf)
    stamp = "2024-01-01T00:00:00Z"
    nodes = {}
    for p in range(pods):
        nid = f"gc-bench-{p}"
        nodes[nid] = {"id": nid, "name": f"gc-bench.p{p}", "displayName": f"p{p}", "type": "Pod",
                      "phase": "Succeeded", "templateName": "main", "startedAt": stamp, "finishedAt": stamp,
                      "outputs": {"artifacts": [{"name": f"a{j}", "path": f"/tmp/a{j}",
                                                 "s3": {"key": f"gc/k{p * per + j:07d}"}} for j in range(per)]}}

    def finish(rec: dict[str, Any]) -> None:
        rec["status"] = {**(rec.get("status") or {}), "phase": "Succeeded", "startedAt": stamp,
                         "finishedAt": stamp, "nodes": nodes,
                         "artifactRepositoryRef": {"artifactRepository": repo}}
        rec.setdefault("metadata", {}).setdefault("labels", {})["workflows.argoproj.io/completed"] = "true"

    store.modify_workflow("gc-bench", finish)
    return "gc-bench", repo


def child(argv: list[str]) -> None:
    from bench.common import child_report

    op = argv[0]
    if op == "collect":
        mode, ep, bucket, home, pods, per = argv[1], argv[2], argv[3], Path(argv[4]), int(argv[5]), int(argv[6])
        import boto3

        import argosy.storage.drivers.s3 as s3mod
        from argosy.pipeline.store import Store

        s3mod._SESSION = boto3.session.Session()
        count = _counter(s3mod._SESSION)
        store = Store(home)
        name, repo = _workflow(store, ep, bucket, pods, per)
        if mode == "lifecycle":
            from argosy.gc import on_completed

            start = time.perf_counter()
            on_completed(store, name)
            seconds = time.perf_counter() - start
            wf = store.get_workflow(name) if store.list_workflows() else {}
            child_report(seconds, finalizers=((wf.get("metadata") or {}).get("finalizers")),
                         conditions=((wf.get("status") or {}).get("conditions")))
        elif mode == "worker":
            from argosy.gc.strategy import Strategy, artifact_refs, collectable
            from argosy.gc.tasks import build_tasks
            from argosy.gc.worker import run_task

            wf = store.get_workflow(name)
            refs = collectable(artifact_refs(wf, repo), Strategy.ON_WORKFLOW_COMPLETION)
            tasks = build_tasks(wf, Strategy.ON_WORKFLOW_COMPLETION, refs, repo)
            for task in tasks:
                store.put_gc_task(task)
            start = time.perf_counter()
            ok = 0
            for task in tasks:
                done = run_task(store, task["metadata"]["name"])
                for node in ((done.get("status") or {}).get("artifactResultsByNode") or {}).values():
                    ok += sum(1 for r in (node.get("artifactResults") or {}).values() if r.get("success"))
            child_report(time.perf_counter() - start, hook_requests=count[0], deleted_ok=ok)
        else:
            client = _boto3(ep)
            hook = _counter(client)
            keys = [f"gc/k{i:07d}" for i in range(pods * per)]
            start = time.perf_counter()
            for i in range(0, len(keys), 1000):
                client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                             "Quiet": True})
            child_report(time.perf_counter() - start, hook_requests=hook[0])
    elif op == "sweep":
        from argosy.gc import sweep
        from argosy.pipeline.store import Store
        from argosy.storage.drivers.s3 import S3Config, S3Driver

        ep, bucket, home = argv[1], argv[2], Path(argv[3])
        store = Store(home)
        driver = S3Driver(S3Config(bucket=bucket, endpoint=ep, insecure=True, region="us-east-1"))
        hook = _counter(driver.client)
        start = time.perf_counter()
        report = sweep(store, driver, [""], older_than_seconds=0, started_at=time.time() + 5, delete=True)
        child_report(time.perf_counter() - start, hook_requests=hook[0], found=len(report.objects),
                     deleted=len(report.deleted), errors=report.errors[:3])
    elif op == "sweep-baseline":
        ep, bucket = argv[1], argv[2]
        client = _boto3(ep)
        hook = _counter(client)
        start = time.perf_counter()
        deleted = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        child_report(time.perf_counter() - start, hook_requests=hook[0], deleted=deleted)
    else:
        raise SystemExit(f"unknown child op {op}")


def _boto3(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=f"http://{endpoint}", region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2:])
