"""Artifact transfer: Argosy's ``save_artifact``/``load_artifact`` against plain boto3 and ``cp``.

* S3: through ``S3Driver`` to moto's server (a separate process on loopback) against boto3's
  ``upload_file``/``download_file`` of the same bytes, with boto3's default ``TransferConfig``
  (what users get) and tuned to a single GET (the best boto3 can do against this server).  Also
  the real artifact path: zstd pack streamed into the upload (and download streamed into unpack)
  against ``tar | zstd`` to a temp file + ``upload_file`` (and the reverse).
* Local repository: ``LocalDriver`` (fsync on, as the engine uses it) against ``cp``.

moto is a floor, not S3: each ranged GET costs ~0.5 s there (perf.md §3), which is why boto3's
default download is so slow against it; MinIO or AWS would narrow that gap.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    MB,
    MIB,
    Budget,
    Moto,
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
)

BUCKET = "argosy-bench-transfer"


def _rows(sec: Section, title: str, size: int, groups: list[tuple[str, dict[str, list[Run]]]]) -> None:
    rows = []
    for op, runs in groups:
        ours = runs["argosy"]
        if not ours:
            continue
        for name, theirs in runs.items():
            if name == "argosy":
                continue
            ratio = paired_ratio(theirs, ours)
            rows.append([op, name, fmt(size / MB / median(r.wall for r in ours)),
                         fmt(size / MB / median(r.wall for r in theirs)), f"{ratio:.2f}×",
                         f"{median(r.rss_mb for r in ours):.0f}", f"{median(r.rss_mb for r in theirs):.0f}"])
            sec.data.setdefault("rows", []).append({
                "table": title, "op": op, "baseline": name, "bytes": size, "argosy_s": [r.wall for r in ours],
                "baseline_s": [r.wall for r in theirs], "ratio": ratio,
                "argosy_rss_mb": [r.rss_mb for r in ours], "baseline_rss_mb": [r.rss_mb for r in theirs]})
    sec.table(title, ["operation", "baseline", "Argosy MB/s", "baseline MB/s", "ratio", "Argosy RSS MB",
                      "baseline RSS MB"], rows)


def bench(ws: Workspace, mode: str) -> Section:
    sec = Section("transfer")
    quick = mode == "quick"
    reps = 2 if quick else 5
    s3_size = 16 * MIB if quick else 64 * MIB
    local_size = 64 * MIB if quick else 256 * MIB
    root = ws.sub("transfer")
    s3_src = root / "s3src" / "data.jsonl"
    local_src = root / "localsrc" / "data.jsonl"
    write_jsonl(s3_src, s3_size, seed=3)
    write_jsonl(local_src, local_size, seed=4)
    sec.data.update(reps=reps, s3_bytes=s3_size, local_bytes=local_size)

    # ---------------------------------------------------------------- S3
    moto = Moto()
    try:
        moto.create_bucket(BUCKET)
        env = moto.env()
        ep = moto.endpoint
        tmp = root / "tmp"
        out = root / "out"

        def child(*args: str) -> Run:
            return py_child("transfer", *args, env=env, timeout=600).check(" ".join(args[:1]))

        def down(*args: str) -> Run:
            remove(out)
            out.mkdir(parents=True)
            return child(*args)

        log(f"transfer: S3 {s3_size // MIB} MiB x {reps} interleaved repetitions")
        up = {"argosy": [], "boto3 upload_file": []}  # type: dict[str, list[Run]]
        upz = {"argosy": [], "tar|zstd -1 + upload_file": []}  # type: dict[str, list[Run]]
        dn = {"argosy": [], "boto3 download_file": [], "boto3, one GET": []}  # type: dict[str, list[Run]]
        dnz = {"argosy": [], "download_file (one GET) + zstd -d|tar x": []}  # type: dict[str, list[Run]]
        budget = Budget(1e9 if quick else 80.0, reps)
        while budget.next():
            rep = budget.done - 1
            cases: list[tuple[dict[str, list[Run]], str, Any]] = [
                (up, "argosy", lambda: child("s3save", "none", ep, BUCKET, "a/none", str(s3_src))),
                (up, "boto3 upload_file", lambda: child("boto3up", ep, BUCKET, "b/none", str(s3_src))),
            ]
            if not quick:  # the streamed zstd path too (skipped in --quick to stay under 2 minutes)
                cases += [
                    (upz, "argosy", lambda: child("s3save", "zstd1", ep, BUCKET, "a/zstd", str(s3_src))),
                    (upz, "tar|zstd -1 + upload_file",
                     lambda: child("boto3packup", ep, BUCKET, "b/zstd", str(s3_src), str(tmp))),
                ]
            shift = rep % len(cases)
            for group, name, fn in cases[shift:] + cases[:shift]:
                group[name].append(fn())
            cases = [
                (dn, "argosy", lambda: down("s3load", "none", ep, BUCKET, "a/none", str(out / "data.jsonl"))),
                (dn, "boto3 download_file", lambda: down("boto3down", ep, BUCKET, "a/none", str(out / "d"), "default")),
                (dn, "boto3, one GET", lambda: down("boto3down", ep, BUCKET, "a/none", str(out / "d"), "single")),
            ]
            if not quick:
                cases += [
                    (dnz, "argosy", lambda: down("s3load", "zstd1", ep, BUCKET, "a/zstd", str(out / "x"))),
                    (dnz, "download_file (one GET) + zstd -d|tar x",
                     lambda: down("boto3downunpack", ep, BUCKET, "a/zstd", str(out), str(tmp))),
                ]
            shift = rep % len(cases)
            for group, name, fn in cases[shift:] + cases[:shift]:
                group[name].append(fn())
        remove(out)
        if budget.note("S3 transfer"):
            sec.notes.append(budget.note("S3 transfer") or "")
        sec.data["moto_rss_mb"] = moto.rss()
    finally:
        moto.stop()
    _rows(sec, f"S3 (moto on loopback), {s3_size // MIB} MiB of JSON lines, MB/s of the artifact's "
               "uncompressed bytes", s3_size,
          [("save (none)", up), ("save (zstd-1, pack streamed into the upload)", upz),
           ("load (none)", dn), ("load (zstd-1, download streamed into unpack)", dnz)])

    # ---------------------------------------------------------------- local
    repo = root / "repo"
    out = root / "out"
    log(f"transfer: local repository {local_size // MIB} MiB x {reps}")
    lsave: dict[str, list[Run]] = {"argosy": [], "cp": []}
    lload: dict[str, list[Run]] = {"argosy": [], "cp": []}
    budget = Budget(1e9 if quick else 30.0, reps)
    while budget.next():
        rep = budget.done - 1
        pairs = [("argosy", lambda: py_child("transfer", "localsave", str(repo), "k/data.jsonl", str(local_src))),
                 ("cp", lambda: run(f"mkdir -p {repo}/c && cp {local_src} {repo}/c/data.jsonl"))]
        for name, fn in pairs[rep % 2:] + pairs[:rep % 2]:
            lsave[name].append(fn().check(f"local save {name}"))
        pairs = [("argosy", lambda: py_child("transfer", "localload", str(repo), "k/data.jsonl", str(out / "data.jsonl"))),
                 ("cp", lambda: run(f"cp {repo}/k/data.jsonl {out}/data.jsonl"))]
        for name, fn in pairs[rep % 2:] + pairs[:rep % 2]:
            remove(out)
            out.mkdir(parents=True)
            lload[name].append(fn().check(f"local load {name}"))
    _rows(sec, f"Local repository (tmpfs), {local_size // MIB} MiB file, archive none", local_size,
          [("save", lsave), ("load", lload)])
    remove(root)

    def ratio(op: str, base: str) -> float:
        return next(r["ratio"] for r in sec.data["rows"] if r["op"] == op and r["baseline"] == base)

    sec.target("S3 save vs boto3 upload_file", "≥ 0.8× (no target set; reported)",
               f"{ratio('save (none)', 'boto3 upload_file'):.2f}×", None)
    sec.target("S3 load vs boto3 download_file", "≥ 0.8× (no target set; reported)",
               f"{ratio('load (none)', 'boto3 download_file'):.2f}× (one-GET boto3: "
               f"{ratio('load (none)', 'boto3, one GET'):.2f}×)", None)
    rss = max(x for r in sec.data["rows"] for x in r["argosy_rss_mb"])
    sec.target("peak RSS, transfer child", "< 150 MB", f"{rss:.0f} MB", rss < 150)
    sec.notes.append(
        f"moto server RSS after the S3 runs: {sec.data['moto_rss_mb'].get('VmRSS', 0):.0f} MB "
        f"(peak {sec.data['moto_rss_mb'].get('VmHWM', 0):.0f} MB). Argosy's S3 client RSS includes boto3 "
        "(~50 MB once imported); part buffers stay within 64 MiB ($ARGOSY_S3_BUFFER_MIB): by default "
        "12 MiB × (4 upload threads + 1).")
    return sec


# --------------------------------------------------------------------------------------------------
# child side


def _driver(endpoint: str, bucket: str) -> Any:
    from argosy.storage.drivers.s3 import S3Config, S3Driver
    from bench.common import ACCESS_KEY, SECRET_KEY

    return S3Driver(S3Config(bucket=bucket, endpoint=endpoint, insecure=True, access_key=ACCESS_KEY,
                             secret_key=SECRET_KEY, region="us-east-1"))


def _boto3(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    from bench.common import ACCESS_KEY, SECRET_KEY

    return boto3.client("s3", endpoint_url=f"http://{endpoint}", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def _transfer_config(kind: str) -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig() if kind == "default" else TransferConfig(multipart_threshold=1 << 40)


def child(argv: list[str]) -> None:
    import subprocess

    from argosy.storage.archives import ArchiveFormat
    from bench.common import child_report

    op, args = argv[0], argv[1:]
    fmts = {"none": ArchiveFormat("none"), "zstd1": ArchiveFormat("zstd", 1)}
    if op in ("s3save", "s3load"):
        from argosy.storage.transfer import load_artifact, save_artifact

        driver = _driver(args[1], args[2])
        start = time.perf_counter()
        if op == "s3save":
            save_artifact(driver, args[3], Path(args[4]), fmts[args[0]])
        else:
            load_artifact(driver, args[3], Path(args[4]), fmts[args[0]])
    elif op in ("localsave", "localload"):
        from argosy.storage.drivers.local import LocalDriver
        from argosy.storage.transfer import load_artifact, save_artifact

        driver = LocalDriver(args[0])
        start = time.perf_counter()
        if op == "localsave":
            save_artifact(driver, args[1], Path(args[2]), ArchiveFormat("none"))
        else:
            load_artifact(driver, args[1], Path(args[2]), ArchiveFormat("none"))
    elif op == "boto3up":
        client = _boto3(args[0])
        start = time.perf_counter()
        client.upload_file(args[3], args[1], args[2], Config=_transfer_config("default"))
    elif op == "boto3down":
        client = _boto3(args[0])
        start = time.perf_counter()
        client.download_file(args[1], args[2], args[3], Config=_transfer_config(args[4]))
    elif op == "boto3packup":
        client = _boto3(args[0])
        src, tmp = Path(args[3]), Path(args[4])
        tmp.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        subprocess.run(f"tar -C {src.parent} -cf - {src.name} | zstd -q -1 > {tmp}/a.tar.zst", shell=True, check=True)
        client.upload_file(f"{tmp}/a.tar.zst", args[1], args[2], Config=_transfer_config("default"))
        Path(f"{tmp}/a.tar.zst").unlink()
    elif op == "boto3downunpack":
        client = _boto3(args[0])
        dest, tmp = Path(args[3]), Path(args[4])
        tmp.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        client.download_file(args[1], args[2], f"{tmp}/a.tar.zst", Config=_transfer_config("single"))
        subprocess.run(f"zstd -q -dc {tmp}/a.tar.zst | tar -C {dest} -xf -", shell=True, check=True)
        Path(f"{tmp}/a.tar.zst").unlink()
    else:
        raise SystemExit(f"unknown child op {op}")
    child_report(time.perf_counter() - start)


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2:])
