"""``argosy gc …`` and ``argosy events``: artifact GC from the command line.

The lead registers them in ``argosy/cli/main.py`` with ``cli.add_command(gc)`` and
``cli.add_command(events)``. Errors are raised as :class:`~argosy.errors.ArgosyError` so the main
entry point prints one line; a blocked deletion or a failed retry exits with status 1.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from argosy.errors import SpecError

__all__ = ["events", "gc"]


def _store(namespace: str | None = None, *, local_only: str | None = None) -> Any:
    """The CLI's store (local, or the cluster's with ``--kubernetes``); ``local_only`` names a
    command that only makes sense where GC runs in local processes."""
    from argosy.cli.main import _store as store_of
    from argosy.pipeline.kube import is_cluster

    store = store_of(namespace)
    if local_only and is_cluster(store):
        raise SpecError(f"`argosy gc {local_only}` runs artifact GC in local processes; on a cluster the controller "
                        "collects artifacts with GC pods (`kubectl get wfat`, the ArtifactGCError condition); "
                        "`argosy delete --force` drops the finalizer of a workflow whose GC cannot succeed")
    return store


def _table(rows: list[list[str]]) -> str:
    from argosy.cli.tabwriter import tabwrite

    return tabwrite("\n".join("\t".join(r) for r in rows), padding=3)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@click.group("gc")
def gc() -> None:
    """Artifact garbage collection: retry failures, run pending work, sweep orphans."""


@gc.command("retry")
@click.argument("name")
@click.option("-n", "--namespace", default=None)
def retry_cmd(name: str, namespace: str | None) -> None:
    """Re-run failed artifact GC of workflow NAME (and finish its deletion if one was requested)."""
    from argosy.gc.lifecycle import retry

    report = retry(_store(namespace, local_only="retry"), name, namespace)
    if report.record_deleted:
        click.echo(f"Workflow '{name}' deleted")
    for label in report.deleted:
        click.echo(f"deleted {label}")
    for label, why in report.kept.items():
        click.echo(f"kept {label}: {why}")
    for label, err in report.failed.items():
        click.echo(f"failed {label}: {err}", err=True)
    if report.error:
        click.echo(report.error, err=True)
    if report.blocked:
        sys.exit(1)
    if not (report.deleted or report.kept or report.record_deleted):
        click.echo(f"Workflow '{name}': no artifact GC to retry")


@gc.command("run")
@click.option("--watch", is_flag=True, help="Keep processing until interrupted.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes with --watch.")
@click.option("--passes", default=0, help="Stop after this many passes with --watch (0 = until interrupted).")
def run_cmd(watch: bool, interval: float, passes: int) -> None:
    """Delete workflows whose ttlStrategy ran out and do any pending artifact GC, once or continuously."""
    from argosy.gc.lifecycle import reconcile_all
    from argosy.gc.retention import run_once

    store = _store(local_only="run")
    done = 0
    while True:
        for name, outcome in run_once(store):
            click.echo(f"Workflow '{name}' {outcome}")
        for report in reconcile_all(store):
            if report.record_deleted:
                click.echo(f"Workflow '{report.workflow}' deleted")
            elif report.error or report.failed:
                click.echo(f"Workflow '{report.workflow}': artifact GC failed: "
                           f"{report.error or next(iter(report.failed.values()))}", err=True)
            elif report.strategies:
                click.echo(f"Workflow '{report.workflow}': artifact GC {', '.join(report.strategies)} done")
        done += 1
        if not watch or (passes and done >= passes):
            return
        time.sleep(max(0.1, interval))


def _repository(store: Any, ref: str | None, namespace: str | None) -> Any:
    from argosy.pipeline.artifacts import resolve_repository
    from argosy.pipeline.config import load_config

    config = load_config(store, namespace)
    if not ref or ref == "default":
        return resolve_repository(store, config, namespace)
    cm, sep, key = ref.partition("#")
    spec_ref = {"configMap": cm, "key": key} if sep else {"key": ref}
    if sep and not (cm and key):
        raise SpecError(f"--repository must be KEY or CONFIGMAP#KEY, got {ref!r}")
    return resolve_repository(store, config, namespace, spec_ref)


@gc.command("orphans")
@click.option("--repository", "repository_ref", default=None,
              help="KEY or CONFIGMAP#KEY of an artifact repository (default: the default repository).")
@click.option("--prefix", "prefixes", multiple=True,
              help="Key prefix to sweep (repeatable; default: the fixed part of the repository's key format).")
@click.option("--older", default="7d", show_default=True, help="Only objects older than this (e.g. 7d, 12h, 0s).")
@click.option("--delete", "delete_", is_flag=True, help="Delete the orphans (default: only list them).")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
@click.option("-n", "--namespace", default=None)
def orphans_cmd(repository_ref: str | None, prefixes: tuple[str, ...], older: str, delete_: bool,
                output: str, namespace: str | None) -> None:
    """List (or with --delete remove) objects no workflow references."""
    from argosy.gc.orphans import repository_prefixes, sweep
    from argosy.pipeline.artifacts import ArtifactManager
    from argosy.pipeline.engine.operator import duration_seconds

    store = _store(namespace)
    repo = _repository(store, repository_ref, namespace)
    driver = ArtifactManager(store, repo, namespace).repository_driver()
    chosen = list(prefixes) or repository_prefixes(repo.spec)
    try:
        older_s = duration_seconds(older)
    except Exception as exc:
        raise SpecError(f"--older: invalid duration {older!r}: {exc}") from None
    report = sweep(store, driver, chosen, older_s, delete=delete_)
    if output == "json":
        click.echo(json.dumps({
            "repository": report.repository, "prefixes": report.prefixes, "dryRun": report.dry_run,
            "objects": [{"key": o.key, "size": o.size, "mtime": o.mtime} for o in report.objects],
            "totalBytes": report.total_bytes, "deleted": report.deleted, "errors": report.errors,
        }, indent=2))
    else:
        where = ", ".join(p or "(whole repository)" for p in report.prefixes)
        click.echo(f"Repository {report.repository}, prefixes: {where}")
        if report.objects:
            rows = [["KEY", "SIZE", "MODIFIED"]]
            for o in report.objects:
                rows.append([o.key, _size(o.size), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(o.mtime))])
            click.echo(_table(rows))
        verb = "deleted" if delete_ else "found (dry run; pass --delete to remove them)"
        count = len(report.deleted) if delete_ else len(report.objects)
        click.echo(f"{count} orphaned object(s) {verb}, {_size(report.total_bytes)} in total")
        for err in report.errors:
            click.echo(f"error: {err}", err=True)
    if report.errors:
        sys.exit(1)


@click.command("events")
@click.argument("name")
@click.option("-n", "--namespace", default=None)
def events(name: str, namespace: str | None) -> None:
    """List the events of workflow NAME (TYPE REASON MESSAGE)."""
    items = _store(namespace).list_events(name, namespace)
    if not items:
        click.echo("No events found")
        return
    rows = [["TYPE", "REASON", "MESSAGE"]]
    for ev in items:
        count = int(ev.get("count") or 1)
        message = str(ev.get("message") or "") + (f" (x{count})" if count > 1 else "")
        rows.append([str(ev.get("type") or ""), str(ev.get("reason") or ""), message])
    click.echo(_table(rows))
