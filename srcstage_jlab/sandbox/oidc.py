"""The IAM stand-in's OpenID Connect provider: the authorization-code flow a JupyterHub signs in with.

`/authorize` shows a login page (user name and password from `config.USERS`), then redirects
back to the client with a one-time code; `POST /token` turns the code into the same token pair
the device flow gives (Auth API audience, IAM groups, the configured lifetimes, JWT refresh
token) plus an `id_token`, and renews a pair with `grant_type=refresh_token`; `/userinfo`
answers for a valid access token. One client is registered: the hub (`HUB_CLIENT_ID`, secret
made at start), with redirect URIs on the loopback interface only.
"""

from __future__ import annotations

import base64
import hmac
import html
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from . import config as cfg
from .faults import ApiError
from .tokens import ISSUER

CODE_LIFETIME_S = 60
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class AuthorizationCode:
    username: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    expires_at: float


@dataclass
class OidcProvider:
    client_id: str = cfg.HUB_CLIENT_ID
    client_secret: str = ""

    def __post_init__(self) -> None:
        self.client_secret = self.client_secret or secrets.token_urlsafe(24)
        self.codes: dict[str, AuthorizationCode] = {}

    def check_client(self, client_id: str, redirect_uri: str) -> None:
        if client_id != self.client_id:
            raise ApiError(400, f"Unknown OIDC client '{client_id}'")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
            raise ApiError(400, "redirect_uri must be an http(s) URL on the loopback interface in the sandbox")

    def client_authenticated(self, handler) -> bool:
        header = handler.request.headers.get("Authorization", "")
        client_id, secret = handler.get_argument("client_id", ""), handler.get_argument("client_secret", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
        return client_id == self.client_id and hmac.compare_digest(secret, self.client_secret)

    def new_code(self, user: cfg.SandboxUser, client_id: str, redirect_uri: str, nonce: str | None) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            user.username, client_id, redirect_uri, nonce, time.time() + CODE_LIFETIME_S
        )
        return code

    def take_code(self, code: str, redirect_uri: str) -> AuthorizationCode:
        grant = self.codes.pop(code, None)  # single use
        if grant is None or grant.expires_at < time.time():
            raise ApiError(400, "invalid_grant: the authorization code is unknown, used or expired")
        if grant.redirect_uri != redirect_uri:
            raise ApiError(400, "invalid_grant: redirect_uri differs from the one the code was issued for")
        return grant


def discovery(base_url: str) -> dict:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{base_url}/authorize",
        "token_endpoint": f"{base_url}/token",
        "userinfo_endpoint": f"{base_url}/userinfo",
        "jwks_uri": f"{base_url}/.well-known/jwks.json",
        "device_authorization_endpoint": f"{base_url}/login/device",
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": ["sub", "preferred_username", "name", "groups", "email"],
    }


def userinfo(user: cfg.SandboxUser) -> dict:
    return {
        "sub": user.subject,
        "preferred_username": user.username,
        "name": user.name,
        "email": f"{user.username}@sandbox.srcnet.local",
        "groups": list(user.groups),
    }


def login_page(handler, params: dict, message: str = "", status: int = 200) -> None:
    esc = html.escape
    hidden = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in params.items())
    handler.set_status(status)
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.finish(
        "<!doctype html><html><head><title>SRCNet sandbox IAM: sign in</title></head><body>"
        "<h1>SRCNet sandbox IAM</h1>"
        f"<p>Sign in to <strong>{esc(params.get('client_id', ''))}</strong>.</p>"
        f"<p id='message'>{esc(message)}</p>"
        f'<form method="post" action="authorize">{hidden}'
        '<p><label>User name <input name="username" autocomplete="username"></label></p>'
        '<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>'
        '<button name="action" value="approve" id="approve">Sign in and approve</button> '
        '<button name="action" value="deny" id="deny">Deny</button></form>'
        "<p>Sandbox users: " + ", ".join(f"{esc(u.username)} / {esc(u.login_password)}" for u in cfg.USERS) + "</p>"
        "</body></html>"
    )


AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce")


async def token_endpoint(handler) -> None:
    """`POST /token` (form-encoded), answering in RFC 6749's shape: errors are `{"error", ...}`."""
    auth, provider = handler.auth, handler.auth.oidc

    def fail(status: int, error: str, description: str) -> None:
        handler.set_status(status)
        handler.set_header("Content-Type", "application/json")
        handler.finish({"error": error, "error_description": description, "detail": f"{error}: {description}"})

    grant_type = handler.get_argument("grant_type", "")
    if not provider.client_authenticated(handler):
        return fail(401, "invalid_client", "client authentication failed")
    try:
        if grant_type == "authorization_code":
            code = provider.take_code(handler.get_argument("code", ""), handler.get_argument("redirect_uri", ""))
            user = cfg.user_by_name(code.username)
            pair = auth.issue_pair(user, cfg.AUTH_AUDIENCE)
            now = int(time.time())
            id_claims = {
                "iss": ISSUER,
                "sub": user.subject,
                "aud": code.client_id,
                "iat": now,
                "exp": now + auth.config.access_token_lifetime_s,
                "preferred_username": user.username,
                "name": user.name,
                **({"nonce": code.nonce} if code.nonce else {}),
            }
            pair["id_token"] = auth.signer.sign(id_claims)
            auth.stats.logins[user.username] += 1
        elif grant_type == "refresh_token":
            pair = auth.refresh(handler.get_argument("refresh_token", ""))
        else:
            return fail(400, "unsupported_grant_type", f"grant_type '{grant_type}' is not supported here")
    except ApiError as err:
        return fail(400, "invalid_grant", err.detail if isinstance(err.detail, str) else "invalid grant")
    handler.set_header("Cache-Control", "no-store")
    handler.send(pair)


def authorize_redirect(redirect_uri: str, **params: str) -> str:
    sep = "&" if urlsplit(redirect_uri).query else "?"
    return redirect_uri + sep + urlencode({k: v for k, v in params.items() if v})
