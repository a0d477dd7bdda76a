"""The sandbox's Auth API: device flow, token exchange, refresh, and the JWKS.

It plays SKA IAM and the SRCNet Auth API together. A device login is approved on a small
HTML page (`/api/v1/device`) where the tester picks a configured user; exchanges hand out
tokens whose audience is another service; refresh tokens are signed JWTs with `exp` (as SKA
IAM's are, and ska-src-clients reads), yet single use and rotated on the server,
and a new exchange for the same user and service revokes the previous exchanged pair's
refresh token, as the real service does. Tokens only travel in query strings the access log
never prints (see `faults.log_request`).
"""

from __future__ import annotations

import html
import secrets
import string
import time
from dataclasses import dataclass, field

import jwt

from . import config as cfg
from . import oidc
from .faults import ApiError, ApiHandler, Stats, validation_error
from .tokens import ISSUER, TokenSigner

VERSION = "0.1.0-sandbox"
DEVICE_CODE_LIFETIME_S = 600
DEVICE_POLL_INTERVAL_S = 5


@dataclass
class DeviceGrant:
    user_code: str
    expires_at: float
    interval: int = DEVICE_POLL_INTERVAL_S
    last_poll: float = 0.0
    state: str = "pending"  # pending | approved | denied | used
    username: str | None = None


@dataclass
class RefreshGrant:
    username: str
    audience: str
    expires_at: float
    used: bool = False
    revoked: bool = False


@dataclass
class AuthService:
    """The Auth API's state: device grants, refresh tokens and the signer."""

    config: cfg.SandboxConfig
    stats: Stats
    signer: TokenSigner = field(default_factory=TokenSigner)
    oidc: oidc.OidcProvider = field(default_factory=oidc.OidcProvider)
    devices: dict[str, DeviceGrant] = field(default_factory=dict)  # device_code -> grant
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)  # refresh token's jti -> grant
    current_exchange: dict[tuple[str, str], str] = field(default_factory=dict)  # (user, aud) -> jti

    # --- issuing -----------------------------------------------------------
    def issue_pair(self, user: cfg.SandboxUser, audience: str) -> dict:
        lifetime = self.config.access_token_lifetime_s
        access, claims = self.signer.issue(user, audience, lifetime)
        refresh, refresh_claims = self.signer.issue_refresh(user, self.config.refresh_token_lifetime_s)
        self.refresh_tokens[refresh_claims["jti"]] = RefreshGrant(user.username, audience, refresh_claims["exp"])
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "expires_at": claims["exp"],
            "scope": claims["scope"],
        }

    def exchange(self, access_token: str, service: str) -> dict:
        if service not in cfg.SERVICE_AUDIENCES:
            raise ApiError(
                404, f"Service '{service}' is not known to the Auth API; known: {', '.join(cfg.SERVICE_AUDIENCES)}"
            )
        user = self.user_of(access_token, cfg.AUTH_AUDIENCE)
        previous = self.current_exchange.get((user.username, service))
        if previous in self.refresh_tokens:
            self.refresh_tokens[previous].revoked = True
        pair = self.issue_pair(user, service)
        self.current_exchange[(user.username, service)] = self.signer.refresh_jti(pair["refresh_token"])
        self.stats.exchanges[(user.username, service)] += 1
        return pair

    def refresh(self, refresh_token: str) -> dict:
        jti = self.signer.refresh_jti(refresh_token)
        grant = self.refresh_tokens.get(jti) if jti else None
        if grant is None:
            raise ApiError(401, "Refresh token is not known to the Auth API (invalid_grant)")
        if grant.used:
            raise ApiError(401, "Refresh token was already used: refresh tokens are single use (invalid_grant)")
        if grant.revoked:
            raise ApiError(401, "Refresh token was revoked by a newer token exchange (invalid_grant)")
        if grant.expires_at < time.time():
            raise ApiError(401, "Refresh token has expired (invalid_grant)")
        grant.used = True
        user = cfg.user_by_name(grant.username)
        pair = self.issue_pair(user, grant.audience)
        if self.current_exchange.get((grant.username, grant.audience)) == jti:
            self.current_exchange[(grant.username, grant.audience)] = self.signer.refresh_jti(pair["refresh_token"])
        self.stats.refreshes[(grant.username, grant.audience)] += 1
        return pair

    def user_of(self, access_token: str, audience: str) -> cfg.SandboxUser:
        """Verify one of our own access tokens (the Auth API trusts its key directly)."""
        try:
            claims = jwt.decode(
                access_token, self.signer.public_key, algorithms=["RS256"], audience=audience, issuer=ISSUER
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "Access token has expired; refresh it first") from None
        except jwt.InvalidAudienceError:
            raise ApiError(
                401, f"Access token audience is not '{audience}': exchange needs an Auth API token from the login"
            ) from None
        except jwt.PyJWTError as exc:
            raise ApiError(401, f"Access token is not valid: {type(exc).__name__}") from None
        user = cfg.user_by_name(claims.get("preferred_username", ""))
        if user is None:
            raise ApiError(401, "Access token names an unknown user")
        return user

    # --- device flow -------------------------------------------------------
    def start_device(self) -> tuple[str, DeviceGrant]:
        alphabet = string.ascii_uppercase.replace("O", "").replace("I", "")
        user_code = (
            "".join(secrets.choice(alphabet) for _ in range(4))
            + "-"
            + "".join(secrets.choice(alphabet) for _ in range(4))
        )
        device_code = secrets.token_urlsafe(24)
        grant = DeviceGrant(user_code, time.time() + DEVICE_CODE_LIFETIME_S)
        self.devices[device_code] = grant
        return device_code, grant

    def grant_by_user_code(self, user_code: str) -> DeviceGrant | None:
        code = user_code.strip().upper()
        return next((g for g in self.devices.values() if g.user_code == code), None)

    def poll_device(self, device_code: str) -> dict:
        grant = self.devices.get(device_code)
        if grant is None:
            raise ApiError(
                400, "Failed to get token: {'error': 'invalid_grant', 'error_description': 'unknown device code'}"
            )
        now = time.time()
        if grant.state == "used" or now > grant.expires_at:
            raise ApiError(
                400,
                "Failed to get token: {'error': 'expired_token', "
                "'error_description': 'the device code has expired; start a new login'}",
            )
        if grant.state == "denied":
            raise ApiError(
                400,
                "Failed to get token: {'error': 'access_denied', 'error_description': 'the user denied the request'}",
            )
        if grant.state == "pending":
            too_fast = grant.last_poll and now - grant.last_poll < grant.interval
            grant.last_poll = now
            if too_fast:
                grant.interval += 5
                raise ApiError(
                    400,
                    "Failed to get token: {'error': 'slow_down', "
                    f"'error_description': 'poll every {grant.interval} s at most'}}",
                )
            raise ApiError(
                400,
                "Failed to get token: {'error': 'authorization_pending', "
                "'error_description': 'the user has not approved the code yet'}",
            )
        grant.state = "used"
        return {"token": self.issue_pair(cfg.user_by_name(grant.username), cfg.AUTH_AUDIENCE)}


# --- handlers ----------------------------------------------------------------


class AuthHandler(ApiHandler):
    auth: AuthService

    def required_arg(self, name: str) -> str:
        value = self.get_argument(name, None)
        if not value:
            raise validation_error(["query", name], "Field required", "missing")
        return value


class LoginDeviceHandler(AuthHandler):
    async def get(self) -> None:
        device_code, grant = self.auth.start_device()
        uri = f"{self.request.protocol}://{self.request.host}/api/v1/device"
        self.send(
            {
                "device_code": device_code,
                "user_code": grant.user_code,
                "verification_uri": uri,
                "verification_uri_complete": f"{uri}?user_code={grant.user_code}",
                "expires_in": DEVICE_CODE_LIFETIME_S,
                "interval": grant.interval,
            }
        )


class TokenHandler(AuthHandler):
    """`GET /token`: the device-flow poll, or (newer clients) `grant_type=refresh_token`."""

    async def get(self) -> None:
        if self.get_argument("grant_type", None) == "refresh_token":
            self.send(self.auth.refresh(self.required_arg("refresh_token")))
        else:
            self.send(self.auth.poll_device(self.required_arg("device_code")))

    async def post(self) -> None:  # the OIDC token endpoint (authorization code and refresh grants)
        from .oidc import token_endpoint

        await token_endpoint(self)


class ExchangeHandler(AuthHandler):
    async def get(self, service: str) -> None:
        self.send(self.auth.exchange(self.required_arg("access_token"), service))


class RefreshHandler(AuthHandler):
    async def get(self) -> None:
        self.send(self.auth.refresh(self.required_arg("refresh_token")))


class JwksHandler(AuthHandler):
    async def get(self) -> None:
        self.send(self.auth.signer.jwks())


class DevicePageHandler(AuthHandler):
    """The sandbox's stand-in for IAM's device verification page."""

    def page(self, message: str, user_code: str = "", form: bool = True, status: int = 200) -> None:
        esc = html.escape
        options = "".join(
            f'<option value="{esc(u.username)}"{" selected" if u is cfg.DEMO_USER else ""}>'
            f"{esc(u.username)} ({esc(u.name)})</option>"
            for u in cfg.USERS
        )
        body = (
            (
                f'<form method="post" action="device">'
                f'<p>Code: <input name="user_code" value="{esc(user_code)}"></p>'
                f'<p>Sign in as: <select name="username">{options}</select></p>'
                f'<button name="action" value="approve">Approve</button> '
                f'<button name="action" value="deny">Deny</button></form>'
            )
            if form
            else ""
        )
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            f"<!doctype html><html><head><title>SRCNet sandbox login</title></head><body>"
            f"<h1>SRCNet sandbox: device login</h1><p id='message'>{esc(message)}</p>"
            f"{body}</body></html>"
        )

    async def get(self) -> None:
        code = self.get_argument("user_code", "")
        grant = self.auth.grant_by_user_code(code) if code else None
        if code and grant is None:
            return self.page(f"Unknown code {code}.", code, status=404)
        self.page(f"Approve the login showing code {code}?" if code else "Enter the code shown to you.", code)

    async def post(self) -> None:
        code = self.get_argument("user_code", "")
        grant = self.auth.grant_by_user_code(code)
        if grant is None or grant.state != "pending" or time.time() > grant.expires_at:
            return self.page(f"Code {code} is unknown, expired or already used.", code, status=400)
        action = self.get_argument("action", "approve")
        if action == "deny":
            grant.state = "denied"
            return self.page(f"Login {code} denied.", form=False)
        user = cfg.user_by_name(self.get_argument("username", cfg.DEMO_USER.username))
        if user is None:
            return self.page("Unknown user.", code, status=400)
        grant.state, grant.username = "approved", user.username
        self.page(f"Login {code} approved as {user.username}. You may close this page.", form=False)


class DiscoveryHandler(AuthHandler):
    async def get(self) -> None:
        self.send(oidc.discovery(f"{self.request.protocol}://{self.request.host}/api/v1"))


class AuthorizeHandler(AuthHandler):
    """The OIDC authorization endpoint: a login page, then a redirect back with a code."""

    def params(self) -> dict:
        return {k: self.get_argument(k, "") for k in oidc.AUTHORIZE_PARAMS}

    async def get(self) -> None:
        params = self.params()
        self.auth.oidc.check_client(params["client_id"], params["redirect_uri"])
        if params["response_type"] != "code":
            raise ApiError(400, "Only response_type=code is supported")
        oidc.login_page(self, params)

    async def post(self) -> None:
        params = self.params()
        self.auth.oidc.check_client(params["client_id"], params["redirect_uri"])
        if self.get_argument("action", "approve") == "deny":
            return self.redirect(
                oidc.authorize_redirect(params["redirect_uri"], error="access_denied", state=params["state"])
            )
        user = cfg.user_by_name(self.get_argument("username", "").strip())
        password = self.get_argument("password", "")
        if user is None or not user.login_password or not secrets.compare_digest(password, user.login_password):
            return oidc.login_page(self, params, "Wrong user name or password.", status=401)
        code = self.auth.oidc.new_code(user, params["client_id"], params["redirect_uri"], params["nonce"] or None)
        self.redirect(oidc.authorize_redirect(params["redirect_uri"], code=code, state=params["state"]))


class UserinfoHandler(AuthHandler):
    async def get(self) -> None:
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Not authenticated: an 'Authorization: Bearer <token>' header is required")
        self.send(oidc.userinfo(self.auth.user_of(token.strip(), cfg.AUTH_AUDIENCE)))


class PingHandler(AuthHandler):
    async def get(self) -> None:
        self.send({"status": "UP", "version": VERSION})


class HealthHandler(AuthHandler):
    async def get(self) -> None:
        self.send(
            {
                "status": "UP",
                "version": VERSION,
                "uptime": round(time.time() - self.runtime.started_at, 1),
                "dependent_services": {"iam": {"status": "UP"}},
            }
        )


ROUTES = [
    ("/ping", PingHandler),
    ("/health", HealthHandler),
    ("/login/device", LoginDeviceHandler),
    ("/token", TokenHandler),
    ("/token/exchange/{service}", ExchangeHandler),
    ("/refresh", RefreshHandler),
    ("/device", DevicePageHandler),
    ("/.well-known/jwks.json", JwksHandler),
    ("/.well-known/openid-configuration", DiscoveryHandler),
    ("/authorize", AuthorizeHandler),
    ("/userinfo", UserinfoHandler),
]
