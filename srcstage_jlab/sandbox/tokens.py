"""Signed tokens for the sandbox's Auth API, and their verification by the other APIs.

The Auth API owns an RSA key pair generated at start and publishes the public half as a
JWKS. Site Capabilities and Data Management verify tokens the way a real, separate service
would: they fetch that JWKS over HTTP from the Auth API (cached, refetched when an unknown
`kid` shows up) and check signature, expiry and audience. Nothing in here logs a token.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from . import config as cfg

ISSUER = "https://iam.sandbox.srcnet.local/"
SCOPES = {
    cfg.AUTH_AUDIENCE: "openid profile email offline_access",
    cfg.SITE_CAPABILITIES_AUDIENCE: "openid site-capabilities-api-service",
    cfg.DATA_MANAGEMENT_AUDIENCE: "openid data-management-api-service",
}
JWKS_PATH = "/.well-known/jwks.json"  # under the Auth API's /api/v1 base


class TokenSigner:
    """Holds the private key; issues RS256 access tokens in IAM's claim layout."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]

    @property
    def public_key(self) -> Any:
        return self._key.public_key()

    def issue(self, user: cfg.SandboxUser, audience: str, lifetime_s: int) -> tuple[str, dict]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user.subject,
            "preferred_username": user.username,
            "name": user.name,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime_s),
            "jti": uuid.uuid4().hex,
            "groups": list(user.groups),
            "scope": SCOPES.get(audience, "openid"),
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
        return token, claims

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def issue_refresh(self, user: cfg.SandboxUser, lifetime_s: int) -> tuple[str, dict]:
        """A refresh token as IAM issues them: a signed JWT with `exp` (clients read it), whose
        audience is the issuer itself, so no service ever accepts it as an access token."""
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user.subject, "aud": ISSUER, "iat": now, "exp": now + int(lifetime_s)}
        claims["jti"] = uuid.uuid4().hex
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid}), claims

    def refresh_jti(self, token: str) -> str | None:
        """The `jti` of one of our refresh tokens (signature checked, expiry not), or None."""
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], audience=ISSUER, options={"verify_exp": False}
            )
        except jwt.PyJWTError:
            return None
        return claims.get("jti")

    def jwks(self) -> dict:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}


class TokenError(Exception):
    """A token was refused; `detail` is safe to show (it never contains the token)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class TokenVerifier:
    """Verifies bearer tokens for one audience against the Auth API's published JWKS."""

    jwks_url: str
    audience: str
    timeout_s: float = 5.0
    cache_s: float = 300.0

    def __post_init__(self) -> None:
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh_keys(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
        self._keys = {k["kid"]: RSAAlgorithm.from_jwk(k) for k in response.json()["keys"]}
        self._fetched_at = time.monotonic()

    async def _key_for(self, kid: str | None) -> Any:
        async with self._lock:
            stale = time.monotonic() - self._fetched_at > self.cache_s
            if stale or kid not in self._keys:
                try:
                    await self._refresh_keys()
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    raise TokenError(
                        f"Could not fetch the signing keys from the Auth API ({type(exc).__name__})"
                    ) from None
        if kid not in self._keys:
            raise TokenError("Token is not signed by a key the Auth API publishes")
        return self._keys[kid]

    async def probe(self) -> bool:
        """Whether the Auth API answers with its keys now (for `/health`)."""
        try:
            async with self._lock:
                await self._refresh_keys()
            return True
        except (httpx.HTTPError, KeyError, ValueError):
            return False

    async def verify(self, token: str) -> dict:
        """Return the claims of a valid token for this audience, or raise TokenError."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenError("Token is malformed: not a signed JWT") from None
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise TokenError(
                f"Token audience '{aud}' is not accepted by the {self.audience}; "
                f"exchange it for '{self.audience}' at the Auth API"
            )
        key = await self._key_for(header.get("kid"))
        try:
            return jwt.decode(token, key, algorithms=["RS256"], audience=self.audience, issuer=ISSUER, leeway=0)
        except jwt.ExpiredSignatureError:
            raise TokenError("Token has expired; refresh it or exchange a new one") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"Token is not valid: {type(exc).__name__}") from None


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer ...` header, or TokenError."""
    if not authorization:
        raise TokenError("Not authenticated: an 'Authorization: Bearer <token>' header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("Not authenticated: the Authorization header must be 'Bearer <token>'")
    return token.strip()
