"""HTTP(S) input artifacts, with Argo's semantics (``workflow/artifacts/http/http.go``).

A ``GET`` of ``url`` is streamed in 1 MiB chunks to a temporary file next to ``dest`` and
renamed into place. Redirects are followed (at most 10, as Go does); ``Authorization`` and
``Cookie`` are dropped when a redirect leaves the original host and its subdomains.

Status handling matches Argo: 2xx is success, 404 raises :class:`ArtifactNotFound` (so an
``optional: true`` input is skipped), anything else raises :class:`StorageError` with
Argo's text ``loading content from <url> failed with reason: <status> <reason>``. Network
failures, TLS failures and a failed OAuth2 token request raise :class:`RepositoryError`.

Authentication: ``headers`` are sent first; then ``basic_auth`` or else ``oauth2`` (the
client-credentials grant, like ``golang.org/x/oauth2/clientcredentials``: credentials in a
Basic header, retried in the form body if the token endpoint rejects that) sets
``Authorization``; credentials embedded in the URL are used only if nothing else set it.
``client_cert`` adds a TLS client certificate and may be combined with either. The token
endpoint is called with the same TLS settings as the artifact URL. Secret values never
appear in messages or reprs; URLs are shown without their user-info.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import re
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import IO

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError
from argosy.storage.sources.raw import atomic_file

__all__ = [
    "DEFAULT_TIMEOUT",
    "MIN_SECRET_LEN",
    "BasicAuth",
    "ClientCert",
    "HttpSource",
    "OAuth2",
    "fetch_http",
    "redact",
    "safe_url",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a connection or for any single read before giving up."""

MIN_SECRET_LEN = 4
"""Shortest value :func:`redact` masks."""

_CHUNK = 1 << 20
_USER_AGENT = "argosy"
_MASK = "***"
_SENSITIVE_ON_REDIRECT = frozenset({"authorization", "cookie", "www-authenticate", "cookie2"})
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|cookie|token|key|secret|pass|session|signature")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")


# --------------------------------------------------------------------------- secrets


def safe_url(url: str) -> str:
    """``url`` without its user-info (``https://u:p@host/x`` becomes ``https://host/x``)."""
    return _URL_USERINFO.sub(r"\1", url)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with each secret replaced by ``***`` and URL user-info removed.

    Values shorter than :data:`MIN_SECRET_LEN` are left alone: masking every ``1`` or
    ``ab`` would garble the message while hiding nothing worth hiding.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
        stripped = secret.strip()
        if len(stripped) >= MIN_SECRET_LEN and stripped != secret:
            text = text.replace(stripped, _MASK)
    return safe_url(text)


def _mask(value: object) -> str:
    return repr(_MASK) if value else repr(value)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, repr=False)
class BasicAuth:
    """HTTP Basic credentials (Argo ``auth.basicAuth``)."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"BasicAuth(username={_mask(self.username)}, password={_mask(self.password)})"


@dataclass(frozen=True, repr=False)
class OAuth2:
    """OAuth2 client-credentials grant (Argo ``auth.oauth2``)."""

    client_id: str
    client_secret: str
    token_url: str
    scopes: list[str] = field(default_factory=list)
    endpoint_params: list[tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"OAuth2(client_id={_mask(self.client_id)}, client_secret={_mask(self.client_secret)}, "
            f"token_url={_mask(self.token_url)}, scopes={self.scopes!r}, "
            f"endpoint_params=[{', '.join(repr(k) for k, _ in self.endpoint_params)}])"
        )


@dataclass(frozen=True, repr=False)
class ClientCert:
    """A TLS client certificate and its unencrypted private key, both PEM text."""

    cert: str
    key: str

    def __repr__(self) -> str:
        return f"ClientCert(cert={_mask(self.cert)}, key={_mask(self.key)})"


@dataclass(repr=False)
class HttpSource:
    """Where an HTTP input artifact comes from (Argo ``http``); secrets already resolved."""

    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    basic_auth: BasicAuth | None = None
    oauth2: OAuth2 | None = None
    client_cert: ClientCert | None = None
    insecure_skip_verify: bool = False

    def __repr__(self) -> str:
        names = ", ".join(repr(n) for n, _ in self.headers)
        return (
            f"HttpSource(url={safe_url(self.url)!r}, headers=[{names}], basic_auth={self.basic_auth!r}, "
            f"oauth2={self.oauth2!r}, client_cert={self.client_cert!r}, "
            f"insecure_skip_verify={self.insecure_skip_verify!r})"
        )

    def secrets(self) -> list[str]:
        """Every secret value this source holds (for redaction)."""
        out = [v for n, v in self.headers if _CREDENTIAL_HEADER.search(n)]
        if self.basic_auth:
            out += [self.basic_auth.username, self.basic_auth.password]
        if self.oauth2:
            o = self.oauth2
            out += [o.client_id, o.client_secret, o.token_url, *(v for _, v in o.endpoint_params)]
        if self.client_cert:
            out += [self.client_cert.cert, self.client_cert.key]
        parts = urllib.parse.urlsplit(self.url)
        out += [p for p in (parts.username, parts.password) if p]
        return [s for s in out if s]


# --------------------------------------------------------------------------- transport


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects like Go: HTTP(S) only, credentials kept only on the same site."""

    max_redirections = 10

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):  # the base allows ftp
            reason = f"{msg} - Redirection to url '{safe_url(newurl)}' is not allowed"
            raise urllib.error.HTTPError(req.full_url, code, reason, headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not _same_site(req.origin_req_host, newurl):
            for name in [n for n in new.headers if n.lower() in _SENSITIVE_ON_REDIRECT]:
                del new.headers[name]
        return new


def _same_site(origin_host: str, url: str) -> bool:
    """Go's rule: credentials follow a redirect to the same host or one of its subdomains."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    origin = origin_host.lower().strip("[]")
    return host == origin or host.endswith("." + origin)


def _ssl_context(src: HttpSource) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if src.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if src.client_cert:
        with tempfile.TemporaryDirectory(prefix="argosy-tls-") as d:
            cert, key = Path(d, "cert.pem"), Path(d, "key.pem")
            for path, text in ((cert, src.client_cert.cert), (key, src.client_cert.key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
            try:
                ctx.load_cert_chain(cert, key)
            except (ssl.SSLError, OSError) as e:
                raise StorageError(
                    f"invalid TLS client certificate or key: {getattr(e, 'reason', None) or e}"
                ) from None
    return ctx


def _opener(ctx: ssl.SSLContext) -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ctx),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _status(code: int, reason: str | None) -> str:
    """Go's ``Response.Status``: ``"404 Not Found"``."""
    if not reason:
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = ""
    return f"{code} {reason}".rstrip()


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    creds = (urllib.parse.unquote(user), urllib.parse.unquote(password))
    return urllib.parse.urlunsplit(parts._replace(netloc=hostport)), creds


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _to_uri(url: str) -> str:
    """Percent-encode characters ``http.client`` refuses (spaces, non-ASCII), keeping escapes."""
    return urllib.parse.quote(url, safe="/:?#[]@!$&'()*+,;=%~")


# --------------------------------------------------------------------------- oauth2


def _token_type(raw: str) -> str:
    """``oauth2.Token.Type()``: normalise the case of well-known types, default Bearer."""
    known = {"bearer": "Bearer", "mac": "MAC", "basic": "Basic"}
    return known.get(raw.lower(), raw) if raw else "Bearer"


def _oauth2_form(o: OAuth2) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {"grant_type": ["client_credentials"]}
    if o.scopes:
        form["scope"] = [" ".join(o.scopes)]
    extra: dict[str, list[str]] = {}
    for key, value in o.endpoint_params:
        extra.setdefault(key, []).append(value)
    for key, values in extra.items():
        if key in form and key != "grant_type":
            raise StorageError(f'oauth2: cannot overwrite parameter "{key}"')
        form[key] = values
    return form


def _fetch_token(opener: urllib.request.OpenerDirector, o: OAuth2, timeout: float) -> str:
    """Run the client-credentials grant; return the ``Authorization`` header value."""
    form = _oauth2_form(o)
    quote = urllib.parse.quote_plus
    attempts = [
        ({"Authorization": _basic(quote(o.client_id), quote(o.client_secret))}, form),
        ({}, {**form, "client_id": [o.client_id], "client_secret": [o.client_secret]}),
    ]
    secrets = [o.client_id, o.client_secret, o.token_url]
    failure = ""
    for headers, body in attempts:
        req = urllib.request.Request(
            _to_uri(o.token_url),
            data=urllib.parse.urlencode(body, doseq=True).encode("ascii"),
            headers={
                **headers,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": _USER_AGENT,
            },
            method="POST",
        )
        try:
            with opener.open(req, timeout=timeout) as resp:
                payload = resp.read(1 << 20)
                content_type = resp.headers.get_content_type()
        except urllib.error.HTTPError as e:
            with e:
                code = _oauth2_error_code(e.read(1 << 16))
            failure = _status(e.code, e.reason) + (f" ({code})" if code else "")
            if 400 <= e.code < 500:
                continue  # maybe the server wants the credentials in the body
            break
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise RepositoryError(f"oauth2: cannot fetch token: {redact(str(reason), secrets)}") from None
        return _parse_token(payload, content_type)
    raise RepositoryError(f"oauth2: cannot fetch token: {failure}")


def _oauth2_error_code(body: bytes) -> str:
    try:
        code = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        return ""
    return code if isinstance(code, str) and re.fullmatch(r"[\w.\-]{1,64}", code) else ""


def _parse_token(payload: bytes, content_type: str) -> str:
    text = payload.decode("utf-8", "replace")
    data: dict[str, object]
    if content_type in ("application/x-www-form-urlencoded", "text/plain"):
        data = {k: v[0] for k, v in urllib.parse.parse_qs(text).items()}
    else:
        try:
            loaded = json.loads(text)
        except ValueError:
            raise RepositoryError("oauth2: cannot parse token response") from None
        data = loaded if isinstance(loaded, dict) else {}
    token, kind = data.get("access_token"), data.get("token_type", "")
    if not isinstance(token, str) or not token:
        raise RepositoryError("oauth2: server response missing access_token")
    return f"{_token_type(kind if isinstance(kind, str) else '')} {token}"


# --------------------------------------------------------------------------- fetch


def fetch_http(src: HttpSource, dest: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Download ``src.url`` to the file ``dest`` (atomically, in bounded memory).

    Raises :class:`ArtifactNotFound` on 404, :class:`StorageError` on any other non-2xx
    status or a local write failure, :class:`RepositoryError` when the server or token
    endpoint cannot be reached or the TLS handshake fails.
    """
    shown = safe_url(src.url)
    secrets = src.secrets()
    url, url_creds = _split_userinfo(src.url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise StorageError(f'loading content from {shown} failed: unsupported protocol scheme "{scheme}"')

    opener = _opener(_ssl_context(src))
    req = urllib.request.Request(_to_uri(url), method="GET")
    merged: dict[str, tuple[str, str]] = {}
    for name, value in src.headers:  # Go's Header.Add: repeated names are combined
        key = name.lower()
        merged[key] = (merged[key][0], f"{merged[key][1]}, {value}") if key in merged else (name, value)
    for name, value in merged.values():
        req.add_header(name, value)
    if not req.has_header("User-agent"):
        req.add_header("User-Agent", _USER_AGENT)
    if src.basic_auth:
        req.add_header("Authorization", _basic(src.basic_auth.username, src.basic_auth.password))
    elif src.oauth2:
        req.add_header("Authorization", _fetch_token(opener, src.oauth2, timeout))
    if url_creds and not req.has_header("Authorization"):
        req.add_header("Authorization", _basic(*url_creds))

    log.debug("GET %s", shown)
    try:
        resp = opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        status = redact(_status(e.code, e.reason), secrets)
        message = f"loading content from {shown} failed with reason: {status}"
        if e.code == 404:
            raise ArtifactNotFound(message) from None
        raise StorageError(message) from None
    except urllib.error.URLError as e:
        raise RepositoryError(
            f"loading content from {shown} failed: {redact(str(e.reason), secrets)}"
        ) from None
    except TimeoutError:
        raise RepositoryError(f"loading content from {shown} failed: timed out after {timeout:g}s") from None
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise RepositoryError(f"loading content from {shown} failed: {redact(str(e), secrets)}") from None

    with resp:
        _stream_to(resp, dest, shown, secrets, timeout)


def _stream_to(
    resp: http.client.HTTPResponse, dest: Path, shown: str, secrets: list[str], timeout: float
) -> None:
    expected = resp.headers.get("Content-Length", "")
    chunked = "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
    total = 0
    try:
        with atomic_file(dest) as fh:
            while True:
                try:
                    chunk = resp.read(_CHUNK)
                except TimeoutError:
                    raise RepositoryError(f"reading {shown} failed: timed out after {timeout:g}s") from None
                except (http.client.HTTPException, OSError) as e:
                    detail = redact(str(e) or type(e).__name__, secrets)
                    raise RepositoryError(f"reading {shown} failed: {detail}") from None
                if not chunk:
                    break
                fh.write(chunk)
                total += len(chunk)
            if expected.isdigit() and not chunked and total != int(expected):
                raise RepositoryError(f"reading {shown} failed: got {total} of {expected} bytes")
    except OSError as e:
        raise StorageError(f"cannot write {dest}: {e.strerror or e}") from None
    log.debug("fetched %d bytes from %s", total, shown)
