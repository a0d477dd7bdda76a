"""The sandbox's storage read over HTTPS WebDAV with bearer tokens, as SRCNet storage is.

Every storage area's directory stays where Rucio writes it (`<state_dir>/storage/<RSE>/`); a
WsgiDAV app on cheroot serves the storage directory read-only over HTTPS, with the URL path equal
to the path on disk, so a replica URL is `https://127.0.0.1:<port><base_path>/<RSE>/<tail>`
(base_path and relative path as Site Capabilities lists them).

Transport: a CA made at every start (`<state_dir>/tls/ca.pem`, exported by `srcstage-sandbox
env` as SSL_CERT_FILE/REQUESTS_CA_BUNDLE) signs a certificate for 127.0.0.1 and localhost.

Authorisation: the DM's `GET /data/download/{storage_area_uuid}/{namespace}/{name}` answers a
short-lived storage token signed with the Auth API's key (IAM issues the storage tokens in
SRCNet), audience STORAGE_AUDIENCE, whose WLCG-style scope lists `storage.read:<path>` for the
DID's files at that area. The WebDAV gate checks signature, expiry, audience, and that the path
asked for is in the scope; anything else (no token, another DID, a write) is refused before
WsgiDAV sees the request. Tokens are never logged.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import posixpath
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from . import config as cfg
from .tokens import ISSUER, TokenSigner

STORAGE_AUDIENCE = "srcnet-storage"
DOWNLOAD_TOKEN_LIFETIME_S = 300
MAX_TOKEN_FILES = 100  # a token's scope lists paths: bigger DIDs are downloaded file by file
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})


# --- TLS -------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls(directory: Path, host: str) -> TlsFiles:
    """A fresh CA and a server certificate it signs for `host`, 127.0.0.1 and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("SRCNet sandbox storage CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        if host != "127.0.0.1":
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.touch(mode=0o600)
    files.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


# --- storage tokens --------------------------------------------------------------


class StorageTokenError(Exception):
    pass


@dataclass
class StorageTokens:
    """Issues (for the DM) and checks (for the WebDAV gate) read tokens scoped to paths."""

    signer: TokenSigner
    lifetime_s: int = DOWNLOAD_TOKEN_LIFETIME_S

    def issue(self, user: cfg.SandboxUser, area: cfg.SandboxArea, did: str, paths: list[str]) -> dict:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user.subject,
            "preferred_username": user.username,
            "aud": STORAGE_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_s,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(f"storage.read:{p}" for p in paths),
            "storage_area_uuid": area.id,
            "did": did,
        }
        return {
            "access_token": self.signer.sign(claims),
            "token_type": "Bearer",
            "expires_in": self.lifetime_s,
            "expires_at": claims["exp"],
        }

    def readable_paths(self, token: str) -> set[str]:
        try:
            claims = jwt.decode(
                token, self.signer.public_key, algorithms=["RS256"], audience=STORAGE_AUDIENCE, issuer=ISSUER
            )
        except jwt.ExpiredSignatureError:
            raise StorageTokenError("storage token has expired: ask the DM for a new one") from None
        except jwt.PyJWTError as exc:
            raise StorageTokenError(f"storage token is not valid ({type(exc).__name__})") from None
        prefix = "storage.read:"
        return {s[len(prefix) :] for s in str(claims.get("scope", "")).split() if s.startswith(prefix)}


def replica_path(pfn: str) -> str:
    """The path of a replica URL (file:// from Rucio, or https:// from us), normalised."""
    return posixpath.normpath(unquote(urlparse(pfn).path))


class TokenGate:
    """WSGI middleware in front of WsgiDAV: read methods only, a bearer token whose scope
    holds the path asked for."""

    def __init__(self, app, tokens: StorageTokens, counters: dict) -> None:
        self.app, self.tokens, self.counters = app, tokens, counters

    def _refuse(self, start_response, status: str, why: str, challenge: bool = False):
        self.counters["refused"] = self.counters.get("refused", 0) + 1
        body = (why + "\n").encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        if challenge:
            headers.append(("WWW-Authenticate", 'Bearer realm="srcnet-sandbox-storage"'))
        start_response(status, headers)
        return [body]

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in READ_METHODS:
            return self._refuse(start_response, "403 Forbidden", "This storage is read-only over WebDAV.")
        if method == "OPTIONS":
            return self.app(environ, start_response)
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._refuse(
                start_response, "401 Unauthorized", "A bearer token from the DM's /data/download is required.", True
            )
        try:
            allowed = self.tokens.readable_paths(token.strip())
        except StorageTokenError as exc:
            return self._refuse(start_response, "401 Unauthorized", str(exc), True)
        path = posixpath.normpath(environ.get("PATH_INFO", "/"))
        if path not in allowed:
            return self._refuse(start_response, "403 Forbidden", "The token does not allow reading this path.")
        self.counters[method] = self.counters.get(method, 0) + 1
        return self.app(environ, start_response)


# --- the server --------------------------------------------------------------------


class WebDavStorage:
    """The storage directory over HTTPS WebDAV (WsgiDAV on cheroot, in a thread)."""

    def __init__(self, config: cfg.SandboxConfig, signer: TokenSigner) -> None:
        self.config = config
        self.tokens = StorageTokens(signer)
        self.counters: dict[str, int] = {}
        self.tls = make_tls(config.state_dir / "tls", config.host)
        self._server = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The URL prefix of a replica: append the file's path on disk."""
        return f"https://{self.config.host}:{self.port}"

    def replica_url(self, pfn: str) -> str:
        """The WebDAV URL of a file:// replica in our storage (other URLs are kept)."""
        if not pfn.startswith("file:"):
            return pfn
        return self.url + replica_path(pfn)

    def start(self) -> None:
        from cheroot import wsgi
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        from wsgidav.wsgidav_app import WsgiDAVApp

        storage = str(self.config.storage_dir)
        self.config.storage_dir.mkdir(parents=True, exist_ok=True)
        dav = WsgiDAVApp(
            {
                # The share key in lower case: WsgiDAV matches request paths against lower-cased
                # share names but looks the provider up by the key as given, so a storage path with
                # capitals (e.g. a mktemp dir) answered 404. The root keeps the real case.
                "provider_mapping": {storage.lower(): {"root": storage, "readonly": True}},
                "simple_dc": {"user_mapping": {"*": True}},  # the gate has checked the token
                "http_authenticator": {"accept_basic": False, "accept_digest": False, "default_to_digest": False},
                "dir_browser": {"enable": False},
                "lock_storage": False,
                "logging": {"enable": False},
                "verbose": 0,
            }
        )
        server = wsgi.Server((self.config.host, 0), TokenGate(dav, self.tokens, self.counters), numthreads=8)
        server.ssl_adapter = BuiltinSSLAdapter(str(self.tls.cert_file), str(self.tls.key_file))
        server.prepare()
        self.port = server.bind_addr[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="sandbox-webdav", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
