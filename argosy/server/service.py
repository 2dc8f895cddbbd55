"""Assemble and run ``argosy server``: the store, the routes, authentication and TLS in one process."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from argosy import __version__
from argosy.pipeline.kube import is_cluster
from argosy.pipeline.store import Store
from argosy.server.api import WorkflowApi
from argosy.server.app import App, Request, Response, Router, make_http_server, static_file
from argosy.server.artifacts import ArtifactRoutes
from argosy.server.auth import Authenticator, AuthMode, TokenReviewer, check_bind, is_loopback, loopback_hosts
from argosy.server.openapi import openapi_document

__all__ = ["ServerConfig", "build_app", "create_server"]

log = logging.getLogger("argosy.server")


@dataclass
class ServerConfig:
    """Everything ``argosy server`` is started with."""

    home: Path | None = None
    host: str = "127.0.0.1"
    port: int = 2746
    auth_mode: AuthMode = "server"
    insecure_bind: bool = False
    tls: ssl.SSLContext | None = None
    reviewer: TokenReviewer | None = None
    extra_info: dict[str, Any] = field(default_factory=dict)
    #: serve this store's workflows (a cluster's :class:`KubeStore`) instead of ``home``'s; tokens
    #: and certificates still live under ``home``
    store: Any = None


def _repository_label(store: Any) -> str:
    try:
        from argosy.pipeline.artifacts import resolve_repository
        from argosy.pipeline.config import load_config

        repo = resolve_repository(store, load_config(store), None)
        return f"{repo.kind} ({repo.source})"
    except Exception as exc:  # the UI shows it; a bad config must not stop the server
        return f"unavailable: {exc}"


def build_app(config: ServerConfig) -> tuple[App, Any]:
    local = Store(config.home)
    store: Any = config.store if config.store is not None else local
    router = Router()
    where = f"cluster {store.api.host}" if is_cluster(store) else str(local.home)
    info = {"authMode": config.auth_mode, "argosyVersion": __version__, "home": where,
            "artifactRepository": _repository_label(store), **config.extra_info}
    WorkflowApi(store, info).register(router)
    ArtifactRoutes(store).register(router)

    def openapi(req: Request) -> Response:
        return Response.json(openapi_document(router.routes))

    router.add("GET", "/api/v1/openapi.json", openapi, "This OpenAPI document", tag="info", response="Empty")
    router.add("GET", "/", lambda req: static_file("index.html"), "The web UI", public=True, tag="ui")
    router.add("GET", "/static/{file}", lambda req: static_file(req.params["file"]), "UI assets", public=True, tag="ui")
    router.add("GET", "/favicon.ico", lambda req: Response(204), "No icon file: the page carries its own", public=True, tag="ui")
    router.add("GET", "/healthz", lambda req: Response(200, b"ok\n", {"Content-Type": "text/plain"}), "Liveness probe", public=True, tag="info")
    auth = Authenticator(config.auth_mode, local.home, config.reviewer)
    hosts = loopback_hosts(config.host) if config.auth_mode == "server" and is_loopback(config.host) else None
    return App(router, auth, hosts), store


def create_server(config: ServerConfig) -> ThreadingHTTPServer:
    """Bind the server (not yet serving); refuses an exposed bind in ``server`` auth mode."""
    check_bind(config.auth_mode, config.host, config.insecure_bind)
    app, _ = build_app(config)
    return make_http_server(app, config.host, config.port, config.tls)
