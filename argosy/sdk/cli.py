"""``argosy export``: print a workflow (YAML file or Python builder) as YAML, with ``--argo``
in the dialect a real Argo cluster accepts. Add it to the CLI with ``cli.add_command(export)``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["export"]


@click.command("export")
@click.argument("source")
@click.option("--argo", is_flag=True, help="Rewrite Argosy-only fields (typed artifacts, zstd, local locations) for a real Argo cluster.")
@click.option("-o", "--output", default="-", help="File to write (default: standard output).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print notes on what --argo changed.")
def export(source: str, argo: bool, output: str, quiet: bool) -> None:
    """Print SOURCE as Argo YAML: a YAML/JSON file, MODULE:OBJ or FILE.py[:OBJ] (a Workflow builder).

    Notes on what --argo rewrote go to standard error.
    """
    from argosy.sdk.export import export_argo

    text, notes = export_argo(source, argo=argo)
    if output == "-":
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
    if not quiet:
        for note in notes:
            click.echo(f"note: {note}", err=True)
    sys.stdout.flush()
