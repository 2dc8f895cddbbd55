"""Built-in input sources that are not an artifact repository: git, HTTP(S) and raw data.

Each ``fetch_*`` delivers bytes (a file) or a tree (a git clone) to ``dest`` atomically;
unpacking archives and applying ``mode`` is the caller's job, as in Argo's executor.
"""

from __future__ import annotations

from argosy.storage.sources.git import GitSource, fetch_git
from argosy.storage.sources.http import BasicAuth, ClientCert, HttpSource, OAuth2, fetch_http
from argosy.storage.sources.raw import fetch_raw

__all__ = [
    "BasicAuth",
    "ClientCert",
    "GitSource",
    "HttpSource",
    "OAuth2",
    "fetch_git",
    "fetch_http",
    "fetch_raw",
]
