"""A fault-injecting HTTP hop in front of the real S3 server (not a mock: every request that is not
sabotaged is forwarded to moto and its real answer relayed back).

It can answer the next N requests of a method with an S3 error (``503 SlowDown`` by default, or
e.g. ``403 AccessDenied``, which moto itself never sends) and cut the body of the next GET after
some bytes: how retries, resumes and error messages are tested against real network behaviour.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FaultProxy", "fault_proxy"]

_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>'


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream_host, port = upstream.split(":")
        self.upstream_port = int(port)
        self.fail: dict[str, int] = {}  # method -> how many more requests get the error below
        self.error = (503, "SlowDown", "Please reduce your request rate.")
        self.cut_get_after: int | None = None  # cut the next GET body after this many bytes
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.injected = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                with proxy._lock:
                    proxy.requests.append((self.command, self.path, headers))
                    sabotage = proxy.fail.get(self.command, 0) > 0
                    if sabotage:
                        proxy.fail[self.command] -= 1
                        proxy.injected += 1
                    cut = proxy.cut_get_after if self.command == "GET" else None
                    if cut is not None:
                        proxy.cut_get_after = None
                if sabotage:
                    status, code, message = proxy.error
                    payload = _ERROR.format(code, message).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    self.send_response(resp.status, resp.reason)
                    for name, value in resp.getheaders():
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if cut is not None and cut < len(payload):
                        self.wfile.write(payload[:cut])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(payload)
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
