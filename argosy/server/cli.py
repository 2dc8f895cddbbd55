"""``argosy server`` and ``argosy auth token`` (added to the main CLI with ``cli.add_command``)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from argosy.errors import ArgosyError

__all__ = ["auth", "main", "server"]


def _home() -> Path:
    from argosy.pipeline.store import Store

    return Store(os.environ.get("ARGOSY_HOME") or None).home


@click.command()
@click.option("--port", default=2746, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--auth-mode", type=click.Choice(["server", "client"]), default="server", show_default=True,
              help="server: no login (loopback only); client: bearer tokens from `argosy auth token`.")
@click.option("--secure", is_flag=True, help="Serve HTTPS (a self-signed certificate is made under ARGOSY_HOME/server unless --cert-file/--key-file).")
@click.option("--cert-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS certificate (PEM) for --secure.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS private key (PEM) for --secure.")
@click.option("--insecure-bind", is_flag=True, help="Allow a non-loopback --host with --auth-mode server (anyone reaching it can run programs here).")
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def server(port: int, host: str, auth_mode: str, secure: bool, cert_file: Path | None, key_file: Path | None,
           insecure_bind: bool, verbose: bool) -> None:
    """Serve the web UI and Argo Server's HTTP API for this ARGOSY_HOME."""
    from argosy.server.auth import self_signed_context, tls_context
    from argosy.server.service import ServerConfig, create_server

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    home = _home()
    tls = None
    if (cert_file is None) != (key_file is None):
        raise click.UsageError("--cert-file and --key-file go together")
    if cert_file is not None and key_file is not None:
        tls = tls_context(cert_file, key_file)
    elif secure:
        tls, generated = self_signed_context(home, [host])
        click.echo(f"using the self-signed certificate {generated}", err=True)
    from argosy.pipeline.kube.cli import cluster_store_from_env

    cluster = cluster_store_from_env()  # `argosy --kubernetes server`: the cluster's workflows
    config = ServerConfig(home=home, host=host, port=port, auth_mode=auth_mode,  # type: ignore[arg-type]
                          insecure_bind=insecure_bind, tls=tls, store=cluster)
    try:
        httpd = create_server(config)
    except OSError as exc:
        raise ArgosyError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = httpd.server_address[1]
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    serving = f"cluster {cluster.api.host}" if cluster is not None else f"home: {home}"
    click.echo(f"argosy server listening on {scheme}://{shown}:{bound} (auth mode: {auth_mode}, {serving})", err=False)
    if auth_mode == "client":
        click.echo("log in with a token from `argosy auth token`")
    sys.stdout.flush()

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        httpd.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


@click.group()
def auth() -> None:
    """Tokens for `argosy server --auth-mode client`."""


@auth.command("token")
@click.option("--new", "new", is_flag=True, help="Create an additional token instead of printing the first one.")
def token(new: bool) -> None:
    """Print a token (created on first use, kept in ARGOSY_HOME/tokens; delete its line to revoke it)."""
    from argosy.server.auth import create_token, ensure_token

    home = _home()
    click.echo(create_token(home) if new else ensure_token(home))


def main() -> None:
    """``python -m argosy.server``: run the server with clear one-line errors."""
    try:
        server(prog_name="python -m argosy.server")
    except ArgosyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
