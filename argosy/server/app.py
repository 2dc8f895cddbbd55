"""The HTTP plumbing of ``argosy server``: requests, responses, a small router and the server itself.

Built on :class:`http.server.ThreadingHTTPServer` so the server needs no dependency beyond the
standard library. Responses may be byte strings or iterators of chunks: iterators are sent with
chunked transfer encoding (or a ``Content-Length`` when the size is known), so artifact downloads
and log streams never hold a whole object in memory.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from argosy import __version__
from argosy.errors import (
    ArchiveError,
    ArgosyError,
    ArtifactNotFound,
    LintError,
    RepositoryError,
    SpecError,
    StateError,
    StorageError,
    WorkflowNotFound,
)

__all__ = ["App", "HTTPError", "Request", "Response", "Route", "Router", "make_http_server"]

log = logging.getLogger("argosy.server")

MAX_BODY_BYTES = 16 << 20  # a workflow spec; artifacts are never uploaded through this server
_PARAM = re.compile(r"\{(\w+)(\*?)\}")


class HTTPError(Exception):
    """An error answered as ``{"code": N, "message": ...}`` (grpc-gateway's shape, as Argo Server)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# gRPC codes Argo Server puts in error bodies, by HTTP status.
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 413: 8, 416: 11, 500: 13, 501: 12, 503: 14}


@dataclass
class Request:
    """One parsed request; ``params`` are the decoded path parameters of the matched route."""

    method: str
    raw_path: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    identity: str | None = None
    scheme: str = "http"
    client_gone: Callable[[], bool] = lambda: False

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name) or [])

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() in ("true", "1", "yes")

    def json(self) -> Any:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            # A "simple" cross-site form post cannot set this type: requiring it stops CSRF submits.
            raise HTTPError(415, "request body must be JSON (Content-Type: application/json)")
        try:
            return json.loads(self.body or b"{}")
        except ValueError as exc:
            raise HTTPError(400, f"request body is not valid JSON: {exc}") from None

    def accepts(self, mime: str) -> bool:
        return mime in (self.headers.get("Accept") or "")


@dataclass
class Response:
    """What a handler returns; ``body`` is bytes or an iterator of byte chunks (streamed)."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None  # for iterator bodies whose size is known
    on_close: Callable[[], None] | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(status, body, {"Content-Type": "application/json"})

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> Response:
        return cls(status, b"", {"Location": location})

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


Handler = Callable[[Request], Response]


@dataclass
class Route:
    """A route and what the OpenAPI document says about it."""

    method: str
    pattern: str
    handler: Handler
    summary: str
    public: bool = False
    tag: str = "workflows"
    query: tuple[tuple[str, str], ...] = ()
    body: str | None = None  # schema name of the JSON body
    response: str | None = None  # schema name of the JSON response, or a media type
    streaming: bool = False
    regex: re.Pattern[str] = field(init=False)
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = []
        parts, pos = [], 0
        for m in _PARAM.finditer(self.pattern):
            parts.append(re.escape(self.pattern[pos : m.start()]))
            self.names.append(m.group(1))
            parts.append("(.*)" if m.group(2) else "([^/]+)")
            pos = m.end()
        parts.append(re.escape(self.pattern[pos:]))
        self.regex = re.compile("^" + "".join(parts) + "$")


class Router:
    """Matches the raw (still percent-encoded) path, so an encoded ``/`` never splits a segment."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, summary: str, **meta: Any) -> None:
        self.routes.append(Route(method, pattern, handler, summary, **meta))

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        allowed: set[str] = set()
        for route in self.routes:
            m = route.regex.match(raw_path)
            if m is None:
                continue
            if route.method != method and not (method == "HEAD" and route.method == "GET"):
                allowed.add(route.method)
                continue
            params = {}
            for name, value in zip(route.names, m.groups(), strict=True):
                # greedy {x*} parameters stay encoded: their handler splits and checks each segment
                params[name] = value if route.pattern.find("{" + name + "*}") >= 0 else _segment(value)
            return route, params
        if allowed:
            raise HTTPError(405, f"method {method} not allowed here (allowed: {', '.join(sorted(allowed))})",
                            {"Allow": ", ".join(sorted(allowed))})
        raise HTTPError(404, f"no such route: {raw_path}")


def _segment(raw: str) -> str:
    value = urllib.parse.unquote(raw)
    if "/" in value or "\\" in value or "\0" in value or value in (".", ".."):
        raise HTTPError(400, f"invalid path segment {raw!r}")
    return value


def error_status(exc: BaseException) -> tuple[int, str]:
    """Map Argosy's errors to HTTP: what the user did wrong is 4xx, what broke is 5xx."""
    if isinstance(exc, HTTPError):
        return exc.status, exc.message
    if isinstance(exc, WorkflowNotFound | ArtifactNotFound):
        return 404, str(exc)
    if isinstance(exc, LintError):
        return 400, "; ".join(exc.errors)
    if isinstance(exc, SpecError):
        return 400, str(exc)
    if isinstance(exc, ArchiveError):
        return 422, str(exc)
    if isinstance(exc, RepositoryError):
        return 502, str(exc)
    if isinstance(exc, StorageError | StateError):
        return 500, str(exc)
    if isinstance(exc, ArgosyError):
        return 400, str(exc)
    return 500, f"internal error: {type(exc).__name__}: {exc}"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"code": _GRPC_CODES.get(status, 2), "message": message, "error": message}
    resp = Response.json(body, status)
    resp.headers.update(headers or {})
    return resp


# ------------------------------------------------------------------------------------------ static


_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}
_UI_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
           "frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def static_file(name: str) -> Response:
    """A file shipped in ``argosy/server/static`` (package data), or 404."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+", name):
        raise HTTPError(404, f"no such asset: {name}")
    ref = resources.files("argosy.server").joinpath("static", name)
    if not ref.is_file():
        raise HTTPError(404, f"no such asset: {name}")
    data = ref.read_bytes()
    ext = "." + name.rsplit(".", 1)[-1]
    ctype = _STATIC_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Content-Type": ctype, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if ext == ".html":
        headers.update({"Content-Security-Policy": _UI_CSP, "X-Frame-Options": "DENY"})
    return Response(200, data, headers)


# ------------------------------------------------------------------------------------------ the app


Authenticate = Callable[[Request], str | None]


class App:
    """The router plus the cross-cutting rules: authentication, same-origin writes, Host checks."""

    def __init__(self, router: Router, authenticate: Authenticate, allowed_hosts: set[str] | None = None) -> None:
        self.router = router
        self.authenticate = authenticate
        self.allowed_hosts = allowed_hosts  # None: any Host header (client mode / explicit binds)

    def handle(self, req: Request) -> Response:
        try:
            self._check_host(req)
            try:
                route, params = self.router.match(req.method, req.raw_path)
            except HTTPError as exc:
                if exc.status == 404 and req.method in ("GET", "HEAD") and _is_ui_path(req.path):
                    return static_file("index.html")
                raise
            req.params = params
            if not route.public:
                req.identity = self.authenticate(req)
            if req.method not in ("GET", "HEAD", "OPTIONS"):
                self._check_origin(req)
            return route.handler(req)
        except Exception as exc:  # every failure becomes a JSON error, never a dropped connection
            status, message = error_status(exc)
            if status >= 500:
                log.exception("%s %s failed", req.method, req.raw_path)
            return error_response(status, message, getattr(exc, "headers", None))

    def _check_host(self, req: Request) -> None:
        """DNS-rebinding guard: a loopback-only server answers only requests addressed to loopback."""
        if self.allowed_hosts is None:
            return
        host = (req.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.startswith("[") and "]" in name:
            name = name[: name.index("]") + 1]
        if name not in self.allowed_hosts:
            raise HTTPError(403, f"Host {host!r} is not allowed: this server only answers requests addressed to {', '.join(sorted(self.allowed_hosts))}")

    @staticmethod
    def _check_origin(req: Request) -> None:
        """Writes from another site's page (CSRF: a page can post to localhost) are refused."""
        origin = req.headers.get("Origin")
        if not origin:
            return  # not a browser, or a same-origin navigation of an old browser
        parsed = urllib.parse.urlsplit(origin)
        host = (req.headers.get("Host") or "").lower()
        if parsed.netloc.lower() != host:
            raise HTTPError(403, f"cross-origin request from {origin} refused")


def _is_ui_path(path: str) -> bool:
    return path == "/" or path.split("/")[1] in ("workflows", "workflow-templates", "login", "userinfo", "about")


# ------------------------------------------------------------------------------------------ the server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"argosy/{__version__}"
    app: App
    scheme: str = "http"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s - %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        raw_path = split.path or "/"
        if not raw_path.startswith("/"):
            self._send(error_response(400, "bad request target"), head=False)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(error_response(413, f"request body larger than {MAX_BODY_BYTES} bytes"), head=False)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            raw_path=raw_path,
            path=urllib.parse.unquote(raw_path),
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            scheme=self.scheme,
            client_gone=self._client_gone,
        )
        resp = self.app.handle(req)
        self._send(resp, head=self.command == "HEAD")

    def _client_gone(self) -> bool:
        """True once the peer closed its side (lets long polls and log follows end early)."""
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            return False  # TLS cannot peek; a gone client shows up as a failed write (heartbeats)
        try:
            sock.setblocking(False)
            try:
                data = sock.recv(1, socket.MSG_PEEK)
                return data == b""
            except BlockingIOError:
                return False
            finally:
                sock.setblocking(True)
        except OSError:
            return True

    def _send(self, resp: Response, head: bool) -> None:
        try:
            self._write(resp, head)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        finally:
            if resp.on_close is not None:
                resp.on_close()
            body = resp.body
            if not isinstance(body, bytes | bytearray) and hasattr(body, "close"):
                body.close()

    def _write(self, resp: Response, head: bool) -> None:
        self.send_response(resp.status)
        headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", **resp.headers}
        body = resp.body
        streamed = not isinstance(body, bytes | bytearray)
        if not streamed:
            headers["Content-Length"] = str(len(body))  # type: ignore[arg-type]
        elif resp.length is not None:
            headers["Content-Length"] = str(resp.length)
        elif resp.status not in (204, 304) and not head:
            headers["Transfer-Encoding"] = "chunked"
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head or resp.status in (204, 304):
            return
        if isinstance(body, bytes | bytearray):
            self.wfile.write(body)
            return
        chunked = "Transfer-Encoding" in headers
        chunk: bytes
        for chunk in body:
            if not chunk:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n" % len(chunk))
                self.wfile.write(chunk)
                self.wfile.write(b"\r\n")
            else:
                self.wfile.write(chunk)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _dispatch

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
        self._send(Response(204, b"", {"Allow": "GET, HEAD, POST, PUT, DELETE"}), head=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None) -> None:
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self._tls = tls
        super().__init__(addr, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self._tls is not None:
            sock.settimeout(10)  # a client that never finishes the handshake must not hold a thread
            sock = self._tls.wrap_socket(sock, server_side=True)
            sock.settimeout(None)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def make_http_server(app: App, host: str, port: int, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """Bind (``port`` 0 picks a free one) without serving yet; call ``serve_forever`` on the result."""
    handler = type("ArgosyHandler", (_Handler,), {"app": app, "scheme": "https" if tls else "http"})
    return _Server((host, port), handler, tls)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="argosy-server", daemon=True)
    thread.start()
    return thread


def iter_file(fh: Any, start: int = 0, length: int | None = None, chunk: int = 256 << 10) -> Iterator[bytes]:
    """Stream ``length`` bytes (all when None) of a reader from ``start``, seeking when it can.

    A non-seekable stream (a decompressed archive member, an S3 body) skips by reading, so memory
    stays at one chunk whatever the offset.
    """
    try:
        if start:
            seekable = getattr(fh, "seekable", lambda: False)()
            if seekable:
                fh.seek(start)
            else:
                skip = start
                while skip:
                    data = fh.read(min(chunk, skip))
                    if not data:
                        return
                    skip -= len(data)
        left = length
        while left is None or left > 0:
            data = fh.read(chunk if left is None else min(chunk, left))
            if not data:
                return
            if left is not None:
                left -= len(data)
            yield bytes(data)
    finally:
        fh.close()


def status_text(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""
