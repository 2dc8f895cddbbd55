"""``argosy server``: Argo Server's HTTP API and a web UI for the local store, in one process.

See :mod:`argosy.server.service` to embed it, :mod:`argosy.server.cli` for the commands.
"""

from __future__ import annotations

from argosy.server.service import ServerConfig, build_app, create_server

__all__ = ["ServerConfig", "build_app", "create_server"]
