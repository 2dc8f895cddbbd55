"""Who may use ``argosy server``, and over what transport.

Two modes, named as Argo Server's ``--auth-mode``:

* ``server``: no login. Submitting a workflow runs programs on this machine, so the server then
  binds only to loopback and refuses a non-loopback ``--host`` unless ``--insecure-bind`` says the
  user really means it; requests whose ``Host`` is not a loopback name are refused (DNS rebinding).
* ``client``: every API and artifact request carries a bearer token (``Authorization: Bearer T``
  or the ``authorization`` cookie the UI sets after login), checked against ``ARGOSY_HOME/tokens``.
  ``argosy auth token`` prints one (creating it on first use).

On Kubernetes a ServiceAccount token would be checked with a TokenReview instead: implement
:class:`TokenReviewer` and pass it to :class:`Authenticator` (the hook is ``reviewer``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import secrets
import ssl
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Literal, Protocol

from argosy.errors import ArgosyError
from argosy.server.app import HTTPError, Request

__all__ = [
    "AuthMode",
    "Authenticator",
    "TokenReviewer",
    "create_token",
    "ensure_token",
    "is_loopback",
    "load_tokens",
    "loopback_hosts",
    "self_signed_context",
    "tls_context",
    "tokens_path",
]

AuthMode = Literal["server", "client"]
TOKEN_PREFIX = "argosy_"


def tokens_path(home: Path) -> Path:
    return Path(home) / "tokens"


def load_tokens(home: Path) -> list[str]:
    """Tokens in ``ARGOSY_HOME/tokens``: the first word of each line; ``#`` comments and blanks skipped."""
    path = tokens_path(home)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            out.append(words[0])
    return out


def create_token(home: Path, note: str = "") -> str:
    """Append a new random token to the tokens file (mode 0600) and return it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    path = tokens_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as fh:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fh.write(f"{token}  # created {stamp}{' ' + note if note else ''}\n")
    os.chmod(path, 0o600)
    return token


def ensure_token(home: Path) -> str:
    """The first token of the file, created when there is none (what ``argosy auth token`` prints)."""
    tokens = load_tokens(home)
    return tokens[0] if tokens else create_token(home)


class TokenReviewer(Protocol):
    """The Kubernetes hook: return the user a token belongs to (TokenReview), or None if invalid."""

    def review(self, token: str) -> str | None: ...


@dataclass
class Authenticator:
    """Checks a request's credentials for the chosen mode; raises 401 for missing or bad ones."""

    mode: AuthMode
    home: Path
    reviewer: TokenReviewer | None = None

    def __call__(self, req: Request) -> str | None:
        if self.mode == "server":
            return None
        token = bearer_token(req)
        if not token:
            raise HTTPError(401, "Unauthorized: send a token as 'Authorization: Bearer <token>' (get one with `argosy auth token`)",
                            {"WWW-Authenticate": 'Bearer realm="argosy"'})
        user = self.check(token)
        if user is None:
            raise HTTPError(401, "Unauthorized: the token is not valid", {"WWW-Authenticate": 'Bearer realm="argosy", error="invalid_token"'})
        return user

    def check(self, token: str) -> str | None:
        """The identity a token stands for; the file is re-read each time so revoking needs no restart."""
        good = False
        for known in load_tokens(self.home):  # compare every entry: timing says nothing about which
            good |= hmac.compare_digest(known.encode(), token.encode())
        if good:
            return "token:" + token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 6]
        if self.reviewer is not None:
            return self.reviewer.review(token)
        return None


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization") or ""
    if header:
        scheme, _, value = header.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None
    raw = req.headers.get("Cookie") or ""
    if not raw:
        return None
    try:
        cookie = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = cookie.get("authorization")
    if morsel is None:
        return None
    value = urllib.parse.unquote(morsel.value).strip()
    return value[7:].strip() if value.lower().startswith("bearer ") else value or None


# ------------------------------------------------------------------------------------------ binding


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_hosts(host: str) -> set[str]:
    """Host header names accepted by a loopback-only server (``Host`` without the port)."""
    names = {"localhost", "127.0.0.1", "[::1]", host.lower() if ":" not in host else f"[{host.lower()}]"}
    return names


def check_bind(mode: AuthMode, host: str, insecure_bind: bool) -> None:
    if mode == "server" and not is_loopback(host) and not insecure_bind:
        raise ArgosyError(
            f"refusing to listen on {host} with --auth-mode server: anyone who can reach it could run programs "
            "on this machine. Use --auth-mode client (token login), or --insecure-bind if this network is yours alone."
        )


# ------------------------------------------------------------------------------------------ TLS


def tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as exc:
        raise ArgosyError(f"cannot load the TLS certificate {cert_file} / key {key_file}: {exc}") from None
    return ctx


def self_signed_context(home: Path, hosts: Iterable[str]) -> tuple[ssl.SSLContext, Path]:
    """A certificate generated once under ``ARGOSY_HOME/server/`` (reused while it is valid)."""
    folder = Path(home) / "server"
    cert, key = folder / "tls.crt", folder / "tls.key"
    if not (cert.exists() and key.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        _generate_cert(cert, key, hosts)
    return tls_context(cert, key), cert


def _generate_cert(cert_path: Path, key_path: Path, hosts: Iterable[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for h in {*hosts, "127.0.0.1", "::1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h.strip("[]"))))
        except ValueError:
            if h and h != "localhost":
                names.append(x509.DNSName(h))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "argosy server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
