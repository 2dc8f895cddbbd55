#!/usr/bin/env python3
"""Pack directories as a docker-save ("docker load" / `ctr images import`) image tarball.

    mkimage.py OUT.tar TAG --layer DIR [--layer DIR ...] [--entrypoint JSON] [--cmd JSON]
               [--env K=V ...] [--user UID] [--workdir DIR]

Each --layer directory becomes one layer (in order, later layers on top). Layers are written
deterministically (sorted names, numeric owners, the files' own mtimes), so an unchanged layer keeps
its digest and containerd does not store it twice. No registry, no docker daemon.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tarfile
import tempfile


def _reset(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uname = ti.gname = ""  # numeric ids only: the host's user names mean nothing in the image
    return ti


def write_layer(src: str, dst: str) -> str:
    """Tar `src`'s contents into `dst`; return the sha256 of the (uncompressed) tar."""
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(src)):
            t.add(os.path.join(src, name), arcname=name, filter=_reset)
    h = hashlib.sha256()
    with open(dst, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("tag")
    ap.add_argument("--layer", action="append", required=True)
    ap.add_argument("--entrypoint", default="null")
    ap.add_argument("--cmd", default="null")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--user", default="")
    ap.add_argument("--workdir", default="")
    a = ap.parse_args()
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *a.env]
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(a.out))) as tmp:
        layers, diff_ids = [], []
        for i, d in enumerate(a.layer):
            name = f"layer{i}.tar"
            diff_ids.append("sha256:" + write_layer(d, os.path.join(tmp, name)))
            layers.append(name)
        config: dict = {"Env": env, "Entrypoint": json.loads(a.entrypoint), "Cmd": json.loads(a.cmd)}
        if a.user:
            config["User"] = a.user
        if a.workdir:
            config["WorkingDir"] = a.workdir
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                          "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
        manifest = json.dumps([{"Config": cfg_name, "RepoTags": [a.tag], "Layers": layers}]).encode()
        with open(os.path.join(tmp, cfg_name), "wb") as f:
            f.write(cfg)
        with open(os.path.join(tmp, "manifest.json"), "wb") as f:
            f.write(manifest)
        part = a.out + ".part"
        with tarfile.open(part, "w") as t:
            for name in [*layers, cfg_name, "manifest.json"]:
                t.add(os.path.join(tmp, name), arcname=name, filter=_reset)
        os.replace(part, a.out)


if __name__ == "__main__":
    main()
