"""The ``argosy`` command line: Argo's CLI verbs and output, on the embedded local backend or, with
``--kubernetes`` / ``--kubeconfig`` / ``--context`` (or ``ARGOSY_BACKEND=kubernetes``), on a cluster."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml

from argosy import __version__
from argosy.errors import ArgosyError, LintError, WorkflowNotFound
from argosy.pipeline.kube import is_cluster
from argosy.pipeline.kube.cli import cluster_options

__all__ = ["cli", "main"]

TERMINAL = ("Succeeded", "Failed", "Error")


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _store(namespace: str | None = None) -> Any:
    """The local SQLite store, or the cluster's when the root options selected it.

    ``namespace`` is the cluster store's default namespace (``-n``); the local store ignores it.
    """
    from argosy.pipeline.kube.cli import cluster_store_from_env
    from argosy.pipeline.store import Store  # not the engine: `submit` starts a runner before loading it

    cluster = cluster_store_from_env(namespace)
    if cluster is not None:
        return cluster
    return Store()  # $ARGOSY_HOME, else ~/.argosy


def _now() -> datetime:
    return datetime.now().astimezone()


def _color() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("NO_COLOR")


def _load_record(store: Any, name: str, namespace: str | None) -> dict[str, Any]:
    from argosy.pipeline.spawn import detect_orphan

    record = store.get_workflow(name, namespace)
    return detect_orphan(store, record)  # type: ignore[no-any-return]


def _print_workflow(record: dict[str, Any], output: str | None, *, utf8: bool = True) -> None:
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    elif output == "yaml":
        click.echo(yaml.safe_dump(record, sort_keys=False), nl=False)
    elif output == "name":
        click.echo(record["metadata"]["name"])
    else:
        from argosy.cli.render import render_workflow

        click.echo(render_workflow(record, now=_now(), utf8=utf8, color=_color(), output=output or ""), nl=False)


def _wait(store: Any, name: str, namespace: str | None, on_tick: Callable[[dict[str, Any]], None] | None = None, poll: float = 0.2) -> dict[str, Any]:
    while True:
        record = _load_record(store, name, namespace)
        if on_tick is not None:
            on_tick(record)
        if (record.get("status") or {}).get("phase") in TERMINAL:
            return record
        time.sleep(poll)


class LazyGroup(click.Group):
    """Subcommands that live beside their subsystem, imported only when used (fast startup)."""

    lazy: dict[str, str] = {
        "artifacts": "argosy.cli.artifacts:artifacts",
        "cp": "argosy.cli.artifacts:cp",
        "gc": "argosy.gc.cli:gc",
        "events": "argosy.gc.cli:events",
        "export": "argosy.sdk.cli:export",
        "server": "argosy.server.cli:server",
        "auth": "argosy.server.cli:auth",
        "controller": "argosy.pipeline.kube.cli:controller",
        "exec": "argosy.pipeline.kube.cli:exec_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, _, attr = self.lazy[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="argosy")
@cluster_options
def cli() -> None:
    """Run Argo Workflows locally, with artifacts; the same YAML runs on Kubernetes."""


# ---------------------------------------------------------------------------- documents


def _kind_label(kind: str) -> str:
    argo = {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"}
    return f"{kind.lower()}.argoproj.io" if kind in argo else kind.lower()


@cli.command()
@click.option("-f", "--filename", "files", multiple=True, required=True, help="File(s) to apply ('-' for stdin).")
@click.option("-n", "--namespace", default=None)
def apply(files: tuple[str, ...], namespace: str | None) -> None:
    """Store ConfigMaps, Secrets, WorkflowTemplates ... as `kubectl apply -f` would."""
    from argosy.pipeline.loader import load_file

    store = _store(namespace)
    for path in files:
        for loaded in load_file(path):
            doc = loaded.doc.to_dict()
            if namespace:
                doc.setdefault("metadata", {})["namespace"] = namespace
            if loaded.kind == "Workflow":
                _fail(f"{path}: use `argosy submit` for Workflows")
            verdict = store.apply_document(doc)
            name = (doc.get("metadata") or {}).get("name") or ""
            click.echo(f"{_kind_label(loaded.kind)}/{name} {verdict}")


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Choice(["pretty", "simple"]), default="pretty")
@click.option("--strict/--no-strict", default=True, help="Reject unknown fields (always on).")
def lint(paths: tuple[str, ...], output: str, strict: bool) -> None:
    """Check workflow files as `argo lint` does."""
    from argosy.cli.render import render_lint
    from argosy.pipeline.validate import lint_paths

    for path in paths:
        if path != "-" and not os.path.exists(path):
            _fail(f"{path}: no such file or directory")
    results = lint_paths(list(paths), templates=_template_lookup(_store()))
    rows = [(r.file, r.name, r.kind, r.errors) for r in results]
    text, code = render_lint(rows, output, color=_color())
    click.echo(text, nl=False)
    sys.exit(code)


def _template_lookup(store: Any) -> Any:
    from argosy.pipeline.actions import StoreTemplates

    return StoreTemplates(store)


# ---------------------------------------------------------------------------- submit


def _parse_params(params: tuple[str, ...], files: tuple[str, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in files:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            _fail(f"{path}: cannot read parameter file: {exc}")
        if not isinstance(data, dict):
            _fail(f"{path}: a parameter file must be a mapping of name: value")
        for k, v in data.items():
            out.append((str(k), v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v).lower() if isinstance(v, bool) else str(v)))
    for item in params:
        if "=" not in item:
            _fail(f"expected NAME=VALUE for -p, got {item!r}")
        k, v = item.split("=", 1)
        out.append((k, v))
    return out


def _apply_overrides(wf: dict[str, Any], params: list[tuple[str, str]], entrypoint: str | None, sa: str | None, labels: tuple[str, ...], name: str | None, generate_name: str | None) -> None:
    """``argo submit`` flags (``-l k=v,k2=v2`` may repeat) via the one shared implementation."""
    from argosy.pipeline.actions import apply_overrides

    parsed = dict(part.split("=", 1) for item in labels for part in item.split(",") if "=" in part)
    apply_overrides(wf, parameters=params, entrypoint=entrypoint, service_account=sa, labels=parsed, name=name, generate_name=generate_name)


@cli.command()
@click.argument("files", nargs=-1)
@click.option("-p", "--parameter", "params", multiple=True, help="NAME=VALUE")
@click.option("-f", "--parameter-file", "param_files", multiple=True)
@click.option("--entrypoint")
@click.option("--serviceaccount")
@click.option("-l", "--labels", multiple=True)
@click.option("--name")
@click.option("--generate-name")
@click.option("--from", "from_", help="kind/name of a WorkflowTemplate to submit")
@click.option("-w", "--wait", is_flag=True)
@click.option("--watch", is_flag=True)
@click.option("--log", is_flag=True, help="Print logs as the workflow runs")
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml", "wide"]), default=None)
@click.option("--dry-run", is_flag=True)
@click.option("-n", "--namespace", default=None)
@click.option("--foreground", is_flag=True, help="Run the engine in this process (no detached runner).")
def submit(files: tuple[str, ...], params: tuple[str, ...], param_files: tuple[str, ...], entrypoint: str | None, serviceaccount: str | None, labels: tuple[str, ...], name: str | None, generate_name: str | None, from_: str | None, wait: bool, watch: bool, log: bool, output: str | None, dry_run: bool, namespace: str | None, foreground: bool) -> None:
    """Submit workflow file(s) and optionally wait for them."""
    from argosy.pipeline.spawn import WarmRunner

    store = _store(namespace)
    # a runner that loads the engine while this process validates (unused, it ends on its own)
    warm = None if dry_run or foreground or is_cluster(store) else WarmRunner(store)
    try:
        _submit(store, warm, files, params, param_files, entrypoint, serviceaccount, labels, name, generate_name, from_, wait, watch, log, output, dry_run, namespace, foreground)
    finally:
        if warm is not None:
            warm.close()


def _submit(store: Any, warm: Any, files: tuple[str, ...], params: tuple[str, ...], param_files: tuple[str, ...], entrypoint: str | None, serviceaccount: str | None, labels: tuple[str, ...], name: str | None, generate_name: str | None, from_: str | None, wait: bool, watch: bool, log: bool, output: str | None, dry_run: bool, namespace: str | None, foreground: bool) -> None:
    from argosy.pipeline.actions import launch
    from argosy.pipeline.loader import load_file
    from argosy.pipeline.model import Workflow

    workflows: list[dict[str, Any]] = []
    sources: list[str] = []
    if from_:
        kind, _, tname = from_.partition("/")
        kind_map = {"workflowtemplate": "WorkflowTemplate", "wftmpl": "WorkflowTemplate", "clusterworkflowtemplate": "ClusterWorkflowTemplate", "cwftmpl": "ClusterWorkflowTemplate"}
        k = kind_map.get(kind.lower())
        if k is None or not tname:
            _fail(f"--from must be workflowtemplate/NAME or clusterworkflowtemplate/NAME, got {from_!r}")
        if store.get_document(k, tname, namespace) is None:
            _fail(f'{k.lower()}s.argoproj.io "{tname}" not found')
        workflows.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": f"{tname}-"}, "spec": {"workflowTemplateRef": {"name": tname, "clusterScope": k.startswith("Cluster") or None}}})
        if not workflows[0]["spec"]["workflowTemplateRef"]["clusterScope"]:
            del workflows[0]["spec"]["workflowTemplateRef"]["clusterScope"]
        sources.append("")
    for path in files:
        for loaded in load_file(path):
            if loaded.kind == "Workflow":
                workflows.append(loaded.doc.to_dict())
                sources.append(path)
    if not workflows:
        _fail("no Workflow found in the given files")
    plist = _parse_params(params, param_files)
    created = []
    for wf, source in zip(workflows, sources, strict=True):
        _apply_overrides(wf, plist, entrypoint, serviceaccount, labels, name, generate_name)
        if namespace:
            wf["metadata"]["namespace"] = namespace
        model = Workflow.model_validate(wf)
        _lint_or_fail(model, store, source)
        _check_images(wf, store, source, namespace)
        if dry_run:
            created.append(wf)
            continue
        wf.pop("status", None)
        from argosy.gc.lifecycle import on_submit

        on_submit(wf, store)
        record = store.create_workflow(wf)
        created.append(record)
    if dry_run:
        for wf in created:
            _print_workflow(wf, output or "yaml")
        return
    for record in created:
        wf_name = record["metadata"]["name"]
        ns = record["metadata"].get("namespace")
        launch(store, wf_name, ns, foreground=foreground, warm=warm)
    for record in created:
        wf_name = record["metadata"]["name"]
        ns = record["metadata"].get("namespace")
        if watch:
            record = _watch(store, wf_name, ns)
        elif wait or log:
            if log:
                record = _follow_logs(store, wf_name, ns)
            else:
                record = _wait(store, wf_name, ns)
        else:
            record = store.get_workflow(wf_name, ns)
        _print_workflow(record, output)
    if (wait or watch) and any((store.get_workflow(r["metadata"]["name"], r["metadata"].get("namespace")).get("status") or {}).get("phase") != "Succeeded" for r in created):
        sys.exit(1)


def _lint_or_fail(model: Any, store: Any, source: str = "") -> None:
    try:
        from argosy.pipeline.validate import validate_workflow
    except ImportError:
        return
    errors = validate_workflow(model, templates=_template_lookup(store))
    if errors:
        _fail(f"{source + ': ' if source else ''}Failed to submit workflow: " + "; ".join(errors))


def _check_images(wf: dict[str, Any], store: Any, source: str, namespace: str | None) -> None:
    """Refuse, before anything runs, a container with no ``command`` whose image the index lacks.

    Without a registry the image's entrypoint can only come from the ``images`` index of the
    workflow-controller-configmap; such a step could never start, so say which one and how to fix it.
    """
    from argosy.pipeline.config import load_config

    if is_cluster(store):  # images come from registries there, entrypoints with them
        return
    spec = wf.get("spec") or {}
    templates = list(spec.get("templates") or [])
    ref = spec.get("workflowTemplateRef") or {}
    if ref.get("name"):
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        doc = store.get_document(kind, ref["name"], None if ref.get("clusterScope") else namespace)
        templates += list(((doc or {}).get("spec") or {}).get("templates") or [])
    defaults = spec.get("templateDefaults") or {}
    config = None
    for tmpl in templates:
        if not isinstance(tmpl, dict):
            continue
        where = f"templates.{tmpl.get('name')}"
        containers: list[tuple[str, Any]] = []
        for kind in ("container", "script"):
            if isinstance(tmpl.get(kind), dict):
                merged = {**(defaults.get(kind) or {}), **tmpl[kind]}
                containers.append((f"{where}.{kind}", merged))
        cset = tmpl.get("containerSet") or {}
        for i, c in enumerate(cset.get("containers") or []):
            containers.append((f"{where}.containerSet.containers[{i}]", c))
        for field_name in ("initContainers", "sidecars"):
            for i, c in enumerate(tmpl.get(field_name) or []):
                containers.append((f"{where}.{field_name}[{i}]", c))
        for path, c in containers:
            if not isinstance(c, dict) or c.get("command") or "{{" in str(c.get("image") or ""):
                continue
            if config is None:
                config = load_config(store, namespace)
            image = str(c.get("image") or "")
            if config.image_entry(image) is None:
                prefix = f"{source}: " if source else ""
                _fail(
                    f"{prefix}{path}: image '{image}' has no command and no entry in the images index; "
                    f"add `command:` to it, or `images: {{{image}: {{entrypoint: [...]}}}}` to the "
                    "workflow-controller-configmap (`argosy apply -f`)"
                )


def _watch(store: Any, name: str, namespace: str | None) -> dict[str, Any]:
    from argosy.cli.render import render_workflow

    if not sys.stdout.isatty():
        return _wait(store, name, namespace)
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console()
    with Live(console=console, refresh_per_second=4, transient=True) as live:

        def tick(record: dict[str, Any]) -> None:
            live.update(Text.from_ansi(render_workflow(record, now=_now(), color=True)))

        return _wait(store, name, namespace, tick, poll=0.25)


def _follow_logs(store: Any, name: str, namespace: str | None) -> dict[str, Any]:
    printed: dict[str, int] = {}

    def tick(record: dict[str, Any]) -> None:
        for pod, line in _log_lines(store, record, printed):
            click.echo(f"{pod}: {line}")

    return _wait(store, name, namespace, tick)


# ---------------------------------------------------------------------------- inspect


@cli.command("list")
@click.option("--running", is_flag=True)
@click.option("--completed", is_flag=True)
@click.option("--status", "status_", multiple=True)
@click.option("-l", "--selector", default=None)
@click.option("--prefix", default=None)
@click.option("-o", "--output", type=click.Choice(["name", "wide", "json", "yaml"]), default=None)
@click.option("--no-headers", is_flag=True)
@click.option("-A", "--all-namespaces", is_flag=True)
@click.option("-n", "--namespace", default=None)
def list_(running: bool, completed: bool, status_: tuple[str, ...], selector: str | None, prefix: str | None, output: str | None, no_headers: bool, all_namespaces: bool, namespace: str | None) -> None:
    """List workflows, newest first."""
    from argosy.cli.render import render_list
    from argosy.pipeline.spawn import detect_orphan

    store = _store(namespace)
    phases = list(status_) or None
    if running:
        phases = ["Running", "Pending"]
    records = [detect_orphan(store, r) for r in store.list_workflows(None if all_namespaces else namespace, all_namespaces=all_namespaces, phases=phases, label_selector=selector, prefix=prefix)]
    if completed:
        records = [r for r in records if (r.get("status") or {}).get("phase") in TERMINAL]
    if output == "json":
        click.echo(json.dumps(records, indent=2))
    elif output == "yaml":
        click.echo(yaml.safe_dump(records, sort_keys=False), nl=False)
    else:
        click.echo(render_list(records, now=_now(), output=output or "", all_namespaces=all_namespaces, no_headers=no_headers), nl=False)


@cli.command()
@click.argument("name")
@click.option("-o", "--output", type=click.Choice(["json", "yaml", "wide", "short", "name"]), default=None)
@click.option("--no-utf8", is_flag=True)
@click.option("--no-color", is_flag=True)
@click.option("-n", "--namespace", default=None)
def get(name: str, output: str | None, no_utf8: bool, no_color: bool, namespace: str | None) -> None:
    """Show a workflow: header, status tree (as `argo get`)."""
    store = _store(namespace)
    record = _load_record(store, name, namespace)
    if no_color:
        os.environ["NO_COLOR"] = "1"
    _print_workflow(record, output, utf8=not no_utf8)
    if output == "wide":
        events = store.list_events(record["metadata"]["name"])
        if events:
            click.echo("\nEVENTS:")
            for ev in events:
                click.echo(f"  {ev.get('type')}\t{ev.get('reason')}\t{ev.get('message')}")


def _pod_nodes(record: dict[str, Any]) -> list[dict[str, Any]]:
    from argosy.pipeline.names import pod_name

    name = record["metadata"]["name"]
    nodes = [n for n in ((record.get("status") or {}).get("nodes") or {}).values() if n.get("type") == "Pod"]
    nodes.sort(key=lambda n: (n.get("startedAt") or "", n.get("name") or ""))
    for n in nodes:
        ref = n.get("templateRef") or {}
        n["_pod"] = pod_name(name, n["name"], ref.get("template") or n.get("templateName") or "")
    return nodes


def _log_lines(store: Any, record: dict[str, Any], offsets: dict[str, int] | None = None, pod: str | None = None,
               container: str = "main") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    wf_name = record["metadata"]["name"]
    for node in _pod_nodes(record):
        pname = node["_pod"]
        if pod and pod not in (pname, node.get("id"), node.get("displayName"), node.get("name")):
            continue
        path = store.log_path(wf_name, pname, record["metadata"].get("namespace"), container=container)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            start = offsets.get(pname, 0) if offsets is not None else 0
            fh.seek(start)
            data = fh.read()
        if offsets is not None:
            complete = data.rfind(b"\n") + 1
            if node.get("phase") in TERMINAL:
                complete = len(data)
            data = data[:complete]
            offsets[pname] = start + len(data)
        for line in data.decode("utf-8", errors="replace").splitlines():
            out.append((pname, line))
    return out


@cli.command()
@click.argument("name")
@click.argument("pod", required=False)
@click.option("-f", "--follow", is_flag=True)
@click.option("--grep", default=None)
@click.option("-c", "--container", default="main", help="On a cluster: init, wait or a sidecar; locally only main has output.")
@click.option("-n", "--namespace", default=None)
def logs(name: str, pod: str | None, follow: bool, grep: str | None, container: str, namespace: str | None) -> None:
    """Print the logs of a workflow's pods as `<pod>: <line>`."""
    import re

    store = _store(namespace)
    record = _load_record(store, name, namespace)
    pattern = re.compile(grep) if grep else None

    def emit(lines: list[tuple[str, str]]) -> None:
        for p, line in lines:
            if pattern is None or pattern.search(line):
                click.echo(f"{p}: {line}")

    if not follow:
        emit(_log_lines(store, record, pod=pod, container=container))
        return
    offsets: dict[str, int] = {}
    _wait(store, record["metadata"]["name"], namespace, lambda r: emit(_log_lines(store, r, offsets, pod, container)))


@cli.command("wait")
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None)
def wait_(names: tuple[str, ...], namespace: str | None) -> None:
    """Wait for workflows to finish."""
    from argosy.pipeline.status import parse_time

    store = _store(namespace)
    code = 0
    for name in names:
        record = _wait(store, name, namespace)
        phase = record["status"]["phase"]
        code = code or (0 if phase == "Succeeded" else 1)
        finished = parse_time(record["status"].get("finishedAt"))
        # Go's time.Time.String() of the local time, as `argo wait` prints it
        when = finished.astimezone().strftime("%Y-%m-%d %H:%M:%S %z %Z") if finished else ""
        click.echo(f"{record['metadata']['name']} {phase} at {when}")
    sys.exit(code)


@cli.command()
@click.argument("name")
@click.option("-n", "--namespace", default=None)
def watch(name: str, namespace: str | None) -> None:
    """Watch a workflow until it completes."""
    store = _store(namespace)
    record = _watch(store, name, namespace)
    _print_workflow(record, None)


# ---------------------------------------------------------------------------- control


def _act(names: tuple[str, ...], namespace: str | None, verb: str, action: Callable[[Any, str, str | None], Any]) -> None:
    """Apply one of :mod:`argosy.pipeline.actions` to each named workflow: ``workflow NAME VERB``."""
    store = _store(namespace)
    for name in names:
        try:
            record = action(store, name, namespace)
        except WorkflowNotFound:
            raise
        except ArgosyError as exc:  # refused (completed, not failed ...): Argo's one-line message
            _fail(str(exc))
        click.echo(f"workflow {record['metadata']['name']} {verb}")


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None)
def stop(names: tuple[str, ...], namespace: str | None) -> None:
    """Stop: no new steps start, running ones are stopped, exit handlers still run."""
    from argosy.pipeline import actions

    _act(names, namespace, "stopped", lambda st, n, ns: actions.set_shutdown(st, n, "Stop", ns))


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None)
def terminate(names: tuple[str, ...], namespace: str | None) -> None:
    """Terminate: stop everything at once, without exit handlers."""
    from argosy.pipeline import actions

    _act(names, namespace, "terminated", lambda st, n, ns: actions.set_shutdown(st, n, "Terminate", ns))


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None)
def suspend(names: tuple[str, ...], namespace: str | None) -> None:
    """Suspend a workflow (no new steps start until resumed)."""
    from argosy.pipeline import actions

    _act(names, namespace, "suspended", actions.suspend)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None)
def resume(names: tuple[str, ...], namespace: str | None) -> None:
    """Resume a suspended workflow or its suspend steps."""
    from argosy.pipeline import actions

    _act(names, namespace, "resumed", actions.resume)


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True)
@click.option("--completed", is_flag=True)
@click.option("--older", default=None, help="e.g. 1d, 2h")
@click.option("--force", is_flag=True, help="Remove finalizers first (skips artifact GC).")
@click.option("--dry-run", is_flag=True)
@click.option("-n", "--namespace", default=None)
def delete(names: tuple[str, ...], all_: bool, completed: bool, older: str | None, force: bool, dry_run: bool, namespace: str | None) -> None:
    """Delete workflows."""
    from argosy.pipeline import actions
    from argosy.pipeline.engine.operator import duration_seconds
    from argosy.pipeline.status import now, parse_time

    store = _store(namespace)
    targets: list[dict[str, Any]] = []
    for name in names:
        try:
            targets.append(store.get_workflow(name, namespace))
        except WorkflowNotFound:
            click.echo(f"Workflow '{name}' not found")
    if all_ or completed or older:
        for rec in store.list_workflows(namespace):
            phase = (rec.get("status") or {}).get("phase")
            if completed and phase not in TERMINAL:
                continue
            if older:
                finished = parse_time((rec.get("status") or {}).get("finishedAt"))
                if finished is None or (now() - finished).total_seconds() < duration_seconds(older):
                    continue
            targets.append(rec)
    if not targets and not names:
        click.echo("No resources found")
        return
    failed = False
    for rec in targets:
        wf_name = rec["metadata"]["name"]
        if dry_run:
            click.echo(f"Workflow '{wf_name}' deleted (dry-run)")
            continue
        outcome = actions.delete(store, wf_name, namespace=rec["metadata"].get("namespace"), force=force)
        click.echo(f"Workflow '{wf_name}' {outcome}")
        if not outcome.startswith(("deleted", "deletion pending")):
            failed = True
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("name")
@click.option("-p", "--parameter", "params", multiple=True)
@click.option("-n", "--namespace", default=None)
@click.option("-w", "--wait", is_flag=True)
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml", "wide"]), default=None)
def resubmit(name: str, params: tuple[str, ...], namespace: str | None, wait: bool, output: str | None) -> None:
    """Submit a new workflow with the same spec."""
    from argosy.pipeline import actions

    store = _store(namespace)
    record = actions.resubmit(store, name, parameters=_parse_params(params, ()), namespace=namespace)
    if wait:
        record = _wait(store, record["metadata"]["name"], namespace)
    _print_workflow(record, output)


@cli.command()
@click.argument("name")
@click.option("-n", "--namespace", default=None)
@click.option("-w", "--wait", is_flag=True)
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml", "wide"]), default=None)
def retry(name: str, namespace: str | None, wait: bool, output: str | None) -> None:
    """Run a failed workflow again from its failed steps (successful steps are kept)."""
    from argosy.pipeline import actions

    store = _store(namespace)
    try:
        record = actions.retry(store, name, namespace)
    except WorkflowNotFound:
        raise
    except ArgosyError as exc:
        _fail(str(exc))
    record = _wait(store, record["metadata"]["name"], namespace) if wait else store.get_workflow(record["metadata"]["name"], namespace)
    _print_workflow(record, output)


@cli.command("_run", hidden=True)
@click.argument("name")
@click.option("-n", "--namespace", default=None)
def run_(name: str, namespace: str | None) -> None:
    """Run a stored workflow in this process (the detached runner); ``-``: its name comes on stdin.

    The engine is imported first: a warm runner does that slow part before it is needed."""
    from argosy.pipeline.local import run_workflow
    from argosy.pipeline.spawn import receive_assignment

    store = _store()
    if name == "-":  # a WarmRunner: now learn which workflow
        assigned = receive_assignment(store)
        if assigned is None:
            return
        name, namespace = assigned
    run_workflow(store, name, namespace)


# ---------------------------------------------------------------------------- templates


@cli.group()
def template() -> None:
    """Manage WorkflowTemplates."""


@template.command("create")
@click.argument("files", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml", "wide"]), default=None)
def template_create(files: tuple[str, ...], output: str | None) -> None:
    """Create WorkflowTemplates from files (refused if invalid or already there), as `argo template create`."""
    from argosy.pipeline.loader import load_file
    from argosy.pipeline.validate import lint_paths

    store = _store()
    for path in files:
        problems = [f"{r.name}: {e}" if r.name else e for r in lint_paths([path], templates=_template_lookup(store)) if r.kind in ("WorkflowTemplate", "ClusterWorkflowTemplate", "") for e in r.errors]
        if problems:
            _fail(f"{path}: Failed to create workflow template: " + "; ".join(problems))
        for loaded in load_file(path):
            if loaded.kind not in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
                continue
            doc = loaded.doc.to_dict()
            if store.get_document(loaded.kind, loaded.name, None) is not None:
                _fail(f'Failed to create workflow template: {loaded.kind.lower()}s.argoproj.io "{loaded.name}" already exists')
            store.apply_document(doc)
            _print_template(store.get_document(loaded.kind, loaded.name, None) or doc, output)


def _print_template(doc: dict[str, Any], output: str | None) -> None:
    """`argo template get/create` output: name, json, yaml, or the short summary."""
    from argosy.cli.humanize import go_timestamp
    from argosy.pipeline.status import parse_time

    meta = doc.get("metadata") or {}
    if output == "name":
        click.echo(meta.get("name"))
    elif output == "json":
        click.echo(json.dumps(doc, indent=2))
    elif output == "yaml":
        click.echo(yaml.safe_dump(doc, sort_keys=False), nl=False)
    else:
        created = parse_time(meta.get("creationTimestamp"))
        click.echo(f"{'Name:':<20} {meta.get('name')}")
        click.echo(f"{'Namespace:':<20} {meta.get('namespace') or 'default'}")
        click.echo(f"{'Created:':<20} {go_timestamp(created, _now()) if created else ''}")


@template.command("list")
@click.option("-o", "--output", type=click.Choice(["name", "wide"]), default=None)
def template_list(output: str | None) -> None:
    store = _store()
    docs = store.list_documents("WorkflowTemplate")
    if output == "name":
        for d in docs:
            click.echo(d["metadata"]["name"])
        return
    if not docs:
        click.echo("No workflow templates found")
        return
    click.echo("NAME")
    for d in docs:
        click.echo(d["metadata"]["name"])


@template.command("get")
@click.argument("name")
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml", "wide"]), default=None)
def template_get(name: str, output: str | None) -> None:
    doc = _store().get_document("WorkflowTemplate", name, None)
    if doc is None:
        _fail(f'workflowtemplates.argoproj.io "{name}" not found')
    _print_template(doc, output)


@template.command("delete")
@click.argument("names", nargs=-1, required=True)
def template_delete(names: tuple[str, ...]) -> None:
    store = _store()
    for name in names:
        if store.delete_document("WorkflowTemplate", name, None):
            click.echo(f"WorkflowTemplate '{name}' deleted")
        else:
            _fail(f'workflowtemplates.argoproj.io "{name}" not found')


@template.command("lint")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
def template_lint(ctx: click.Context, paths: tuple[str, ...]) -> None:
    ctx.invoke(lint, paths=paths, output="pretty", strict=True)


# ---------------------------------------------------------------------------- misc


@cli.command()
def version() -> None:
    """Print the version."""
    import platform

    click.echo(f"argosy: v{__version__}")
    click.echo(f"  Python: {platform.python_version()}")
    click.echo(f"  Platform: {sys.platform}/{platform.machine()}")


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print a shell completion script: `source <(argosy completion bash)`."""
    import subprocess

    env = dict(os.environ, _ARGOSY_COMPLETE=f"{shell}_source")
    out = subprocess.run([sys.executable, "-m", "argosy.cli.main"], env=env, capture_output=True, text=True, check=False)
    click.echo(out.stdout, nl=False)


def main() -> None:
    """Entry point: user mistakes print one clear message, never a traceback."""
    try:
        cli(prog_name="argosy")
    except LintError as exc:
        _fail("\n".join(exc.errors))
    except ArgosyError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("ARGOSY_DEBUG"):
            raise
        _fail(f"internal error in argosy: {type(exc).__name__}: {exc} (set ARGOSY_DEBUG=1 for the traceback; please report it)", 2)


if __name__ == "__main__":
    main()
