"""The orphan sweep: only objects no workflow references are listed (dry run) and deleted."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from click.testing import CliRunner

from argosy.gc.cli import gc
from argosy.gc.orphans import repository_prefixes, sweep
from argosy.pipeline.store import Store
from argosy.storage.drivers import LocalDriver

from .conftest import key_of, local_objects, outputs, run, s3_objects, seed, submit, use_s3, wait_until

DAY = 86400.0


def _tree_workflow() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "tree-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {
            "image": "alpine", "command": ["sh", "-c"], "args": ["mkdir -p /tmp/t/s && echo 1 > /tmp/t/s/f"]},
            "outputs": {"artifacts": [{"name": "tree", "path": "/tmp/t", "archive": {"none": {}}}]}}]},
    }


def _write(store: Store, key: str, data: bytes, age: float) -> None:
    path = store.artifacts_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))


def _age_everything(store: Store, age: float) -> None:
    stamp = time.time() - age
    for path in store.artifacts_dir.rglob("*"):
        os.utime(path, (stamp, stamp))


def test_local_sweep_lists_only_orphans_then_deletes_only_them(store: Store) -> None:
    live = run(store, seed("002-artifact-gc"))
    tree = run(store, _tree_workflow())
    tree_prefix = key_of(outputs(store, tree)["tree"])
    _age_everything(store, 30 * DAY)  # live artifacts are old too: age alone must not make them orphans
    _write(store, "gone-wf/gone-wf-main-1/out.tgz", b"x" * 100, 30 * DAY)
    _write(store, "gone-wf/gone-wf-main-1/main.log", b"y" * 20, 30 * DAY)
    _write(store, "recent/leftover.tgz", b"z" * 5, 3600)
    driver = LocalDriver(store.artifacts_dir)
    before = local_objects(store)

    report = sweep(store, driver, [""], older_than_seconds=7 * DAY)
    assert report.dry_run and report.deleted == []
    assert [(o.key, o.size) for o in report.objects] == [
        ("gone-wf/gone-wf-main-1/main.log", 20), ("gone-wf/gone-wf-main-1/out.tgz", 100)]
    assert report.total_bytes == 120
    assert local_objects(store) == before

    everything = sweep(store, driver, [""], older_than_seconds=0)
    assert {o.key for o in everything.objects} == {
        "gone-wf/gone-wf-main-1/main.log", "gone-wf/gone-wf-main-1/out.tgz", "recent/leftover.tgz"}

    deleted = sweep(store, driver, [""], older_than_seconds=7 * DAY, delete=True)
    assert sorted(deleted.deleted) == ["gone-wf/gone-wf-main-1/main.log", "gone-wf/gone-wf-main-1/out.tgz"]
    after = local_objects(store)
    assert after == before - set(deleted.deleted)
    assert {"temporary-artifact.txt", "keep-this.txt", f"{tree_prefix}/s/f", "recent/leftover.tgz"} <= after
    assert live and not (store.artifacts_dir / "gone-wf").exists()


def test_objects_newer_than_the_sweep_or_a_running_workflow_are_never_orphans(store: Store) -> None:
    driver = LocalDriver(store.artifacts_dir)
    started = time.time()
    _write(store, "old/orphan.tgz", b"o", 10 * DAY)
    _write(store, "late/written-during-the-sweep.tgz", b"l", -5)  # mtime after `started`
    report = sweep(store, driver, [""], older_than_seconds=0, started_at=started)
    assert [o.key for o in report.objects] == ["old/orphan.tgz"]

    pending = submit(store, _tree_workflow())  # not run yet: its outputs are not recorded
    created = store.get_workflow(pending)["metadata"]["creationTimestamp"]
    from argosy.pipeline.status import parse_time

    stamp = parse_time(created).timestamp() + 2  # type: ignore[union-attr]
    _write(store, f"{pending}/pod/out", b"p", 0)
    os.utime(store.artifacts_dir / pending / "pod" / "out", (stamp, stamp))
    report = sweep(store, driver, [""], older_than_seconds=0, started_at=stamp + 60)
    assert [o.key for o in report.objects] == ["old/orphan.tgz"]


def test_prefixes_limit_the_sweep_and_follow_the_key_format() -> None:
    assert repository_prefixes({"local": {"path": "/x"}}) == [""]
    assert repository_prefixes({"s3": {"bucket": "b", "keyFormat": "argo/runs/{{workflow.name}}/{{pod.name}}"}}) == [
        "argo/runs"]
    assert repository_prefixes({"s3": {"bucket": "b", "keyPrefix": "team-a"}}) == ["team-a"]


@pytest.mark.s3
def test_s3_bucket_seeded_with_orphans_and_live_artifacts(store: Store, s3_server: Any, s3_bucket: str) -> None:
    use_s3(store, s3_server, s3_bucket)
    client = s3_server.client()
    orphans = {"old-run/old-run-main-1/out.tgz": 2048, "old-run/old-run-main-1/main.log": 64,
               "temporary-artifact-deadbeef.txt": 10}
    for key, size in orphans.items():
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"o" * size)
    written = time.time()
    run(store, seed("002-artifact-gc"))
    run(store, seed("002-artifact-gc-service-account"))
    live = set(s3_objects(s3_server, s3_bucket)) - set(orphans)
    assert len(live) == 4
    # S3 reports LastModified in whole seconds: let the clock pass the last orphan's second.
    wait_until(lambda: time.time() > written + 1.05, timeout=5, what="the next second")

    cli = CliRunner()
    dry = cli.invoke(gc, ["orphans", "--older", "0s"])
    assert dry.exit_code == 0, dry.output
    assert f"Repository s3://{s3_bucket}@{s3_server.endpoint}" in dry.output
    for key in orphans:
        assert key in dry.output
    for key in live:
        assert key not in dry.output
    assert "3 orphaned object(s) found (dry run; pass --delete to remove them), 2.1 KiB in total" in dry.output
    assert set(s3_objects(s3_server, s3_bucket)) == live | set(orphans)

    as_json = json.loads(cli.invoke(gc, ["orphans", "--older", "0s", "-o", "json"]).output)
    assert {o["key"]: o["size"] for o in as_json["objects"]} == orphans
    assert as_json["totalBytes"] == sum(orphans.values()) and as_json["dryRun"] is True

    assert "0 orphaned object(s) found" in cli.invoke(gc, ["orphans"]).output  # default --older 7d

    deleted = cli.invoke(gc, ["orphans", "--older", "0s", "--delete"])
    assert deleted.exit_code == 0, deleted.output
    assert "3 orphaned object(s) deleted" in deleted.output
    assert set(s3_objects(s3_server, s3_bucket)) == live
