"""``argosy artifacts list|get`` and ``argosy cp``: find and fetch a workflow's artifacts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from argosy.errors import ArgosyError, ArtifactNotFound

__all__ = ["artifacts", "cp", "iter_artifacts"]


def _store(namespace: str | None = None) -> Any:
    """The same store as the other verbs (local, or the cluster's with ``--kubernetes``)."""
    from argosy.cli.main import _store as store_of

    return store_of(namespace)


def _pod_name(wf_name: str, node: dict[str, Any]) -> str:
    from argosy.pipeline.names import pod_name

    ref = node.get("templateRef") or {}
    return pod_name(wf_name, node.get("name", ""), ref.get("template") or node.get("templateName") or "")


def iter_artifacts(record: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(node, "input"|"output", artifact) for every artifact of every node, in node start order."""
    nodes = sorted(((record.get("status") or {}).get("nodes") or {}).values(), key=lambda n: (n.get("startedAt") or "", n.get("name") or ""))
    out = []
    for node in nodes:
        for io_kind, key in (("input", "inputs"), ("output", "outputs")):
            for art in (node.get(key) or {}).get("artifacts") or []:
                out.append((node, io_kind, art))
    return out


def _location(art: dict[str, Any]) -> str:
    for loc in ("local", "s3", "git", "http", "raw", "gcs", "azure", "oss"):
        body = art.get(loc)
        if body is None:
            continue
        if loc in ("local", "s3"):
            return f"{loc}:{body.get('key', '')}"
        if loc == "git":
            return f"git:{body.get('repo')}@{body.get('revision') or 'HEAD'}"
        if loc == "http":
            return f"http:{body.get('url')}"
        if loc == "raw":
            return "raw"
        return loc
    return "-"


def _strategy(record: dict[str, Any], art: dict[str, Any], io_kind: str, node: dict[str, Any]) -> str:
    if io_kind != "output" or node.get("type") != "Pod":
        return "-"
    own = (art.get("artifactGC") or {}).get("strategy")
    wf = ((record.get("spec") or {}).get("artifactGC") or {}).get("strategy")
    return own or wf or "Never"


def _human(size: Any) -> str:
    if not isinstance(size, int):
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


@click.group()
def artifacts() -> None:
    """List and fetch the artifacts of a workflow."""


@artifacts.command("list")
@click.argument("name")
@click.option("-n", "--namespace", default=None)
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def list_artifacts(name: str, namespace: str | None, output: str) -> None:
    """Every input/output artifact: node, key, size, digest, GC strategy and state."""
    import json

    from argosy.cli.tabwriter import tabwrite

    record = _store(namespace).get_workflow(name, namespace)
    rows: list[dict[str, Any]] = []
    for node, io_kind, art in iter_artifacts(record):
        rows.append(
            {
                "node": node.get("displayName") or node.get("name"),
                "nodeId": node.get("id"),
                "direction": io_kind,
                "name": art.get("name"),
                "location": _location(art),
                "size": art.get("size"),
                "digest": art.get("digest"),
                "gcStrategy": _strategy(record, art, io_kind, node),
                "deleted": bool(art.get("deleted")),
            }
        )
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No artifacts found")
        return
    lines = ["NODE\tIO\tARTIFACT\tLOCATION\tSIZE\tDIGEST\tGC\tSTATE"]
    for r in rows:
        digest = (r["digest"] or "-")[:19]
        state = "deleted" if r["deleted"] else "kept"
        lines.append(f"{r['node']}\t{r['direction']}\t{r['name']}\t{r['location']}\t{_human(r['size'])}\t{digest}\t{r['gcStrategy']}\t{state}")
    click.echo(tabwrite("\n".join(lines) + "\n", padding=3), nl=False)


def _find(record: dict[str, Any], node_ref: str, art_name: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    wf_name = record["metadata"]["name"]
    candidates = [
        (node, io_kind, art)
        for node, io_kind, art in iter_artifacts(record)
        if art.get("name") == art_name and node_ref in (node.get("id"), node.get("name"), node.get("displayName"), _pod_name(wf_name, node))
    ]
    if not candidates:
        raise ArtifactNotFound(f"workflow {wf_name} has no artifact '{art_name}' on node '{node_ref}' (see `argosy artifacts list {wf_name}`)")
    outputs = [c for c in candidates if c[1] == "output"]
    return (outputs or candidates)[0]


def _manager(store: Any, record: dict[str, Any]) -> Any:
    from argosy.pipeline.artifacts import ArtifactManager
    from argosy.pipeline.config import load_config

    ns = (record.get("metadata") or {}).get("namespace")
    ref = (record.get("spec") or {}).get("artifactRepositoryRef")
    return ArtifactManager.from_config(store, load_config(store, ns), ns, ref)


@artifacts.command("get")
@click.argument("name")
@click.argument("node")
@click.argument("artifact")
@click.option("-o", "--output", "dest", default=None, help="Where to put it (default: ./ARTIFACT; '-' = stdout with --raw).")
@click.option("--raw", is_flag=True, help="The stored object as is (e.g. the .tgz), not unpacked.")
@click.option("-n", "--namespace", default=None)
def get_artifact(name: str, node: str, artifact: str, dest: str | None, raw: bool, namespace: str | None) -> None:
    """Download one artifact, unpacked as a consumer step would see it (or --raw)."""
    from argosy.pipeline.model import Artifact
    from argosy.storage.archives import archive_format_from_spec
    from argosy.storage.transfer import load_artifact

    store = _store(namespace)
    record = store.get_workflow(name, namespace)
    _node, _io, art = _find(record, node, artifact)
    if art.get("deleted"):
        raise ArtifactNotFound(f"artifact '{artifact}' of workflow {record['metadata']['name']} was deleted by artifact GC")
    model = Artifact.model_validate(art)
    manager = _manager(store, record)
    if model.raw is not None or model.git is not None or model.http is not None:
        target = Path(dest or artifact)
        manager.load_input(model, target)
        click.echo(f"{target}")
        return
    driver, key = manager.driver_for(model)
    if raw:
        if driver.is_dir(key):
            raise ArgosyError(f"artifact '{artifact}' is a directory stored as separate objects under {key}/; fetch it without --raw")
        if dest == "-":
            with driver.open_read(key) as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            return
        target = Path(dest or Path(key).name)
        driver.get_file(key, target)
        click.echo(f"{target}")
        return
    target = Path(dest or artifact)
    fmt = archive_format_from_spec(model.archive.to_dict()) if model.archive is not None else None
    load_artifact(driver, key, target, fmt)
    click.echo(f"{target}")


@click.command()
@click.argument("name")
@click.argument("output_dir")
@click.option("--artifact-name", default=None)
@click.option("--template-name", default=None)
@click.option("--node-id", default=None)
@click.option("--path", "path_template", default="{namespace}/{workflowName}/{nodeId}/outputs/{artifactName}", show_default=True)
@click.option("--unpack", is_flag=True, help="Unpack archives instead of copying the stored objects.")
@click.option("-n", "--namespace", default=None)
def cp(name: str, output_dir: str, artifact_name: str | None, template_name: str | None, node_id: str | None, path_template: str, unpack: bool, namespace: str | None) -> None:
    """Copy a workflow's output artifacts to a local directory (as `argo cp`)."""
    from argosy.pipeline.model import Artifact
    from argosy.storage.archives import archive_format_from_spec
    from argosy.storage.transfer import load_artifact

    store = _store(namespace)
    record = store.get_workflow(name, namespace)
    manager = _manager(store, record)
    meta = record["metadata"]
    copied = 0
    for node, io_kind, art in iter_artifacts(record):
        if io_kind != "output" or art.get("deleted"):
            continue
        if artifact_name and art.get("name") != artifact_name:
            continue
        if template_name and node.get("templateName") != template_name:
            continue
        if node_id and node.get("id") != node_id:
            continue
        model = Artifact.model_validate(art)
        if model.s3 is None and model.local is None:
            continue
        rel = path_template.format(
            namespace=meta.get("namespace", "default"),
            workflowName=meta["name"],
            nodeId=node.get("id"),
            templateName=node.get("templateName") or "",
            artifactName=art.get("name"),
        )
        target = Path(output_dir) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        driver, key = manager.driver_for(model)
        if unpack or driver.is_dir(key):
            fmt = archive_format_from_spec(model.archive.to_dict()) if model.archive is not None else None
            load_artifact(driver, key, target, fmt)
        else:
            driver.get_file(key, target)
        click.echo(f"Created {target}")
        copied += 1
    if not copied:
        click.echo("No artifacts found")
