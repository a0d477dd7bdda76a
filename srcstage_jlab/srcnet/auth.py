"""SRCNet tokens: where the first one comes from, and one exchanged token per service.

The TokenBroker is the only owner of tokens in the extension. It keeps the user's
own ("root") token pair, exchanges it through the Auth API for one token per
service audience, refreshes or re-exchanges before expiry (one exchange in flight
per audience), and never hands a token to anything outside the server process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .. import messages
from ..errors import ExtensionError, InvalidInput, NotSignedIn
from .http import ServiceClient

DEFAULT_DEVICE_INTERVAL_S = 5


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, unverified: we only read expiry and names; the services verify."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, TypeError):
        return {}


@dataclass
class TokenPair:
    access: str
    refresh: str | None
    expires_at: float | None  # epoch seconds; None when unknown

    @classmethod
    def from_answer(cls, answer: Any) -> TokenPair:
        """From an Auth API answer: the pair at top level or nested under `token`."""
        data = answer.get("token") if isinstance(answer, dict) and isinstance(answer.get("token"), dict) else answer
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise ExtensionError(messages.AUTH_NO_ACCESS_TOKEN, None, service="auth", status=502)
        return cls.from_strings(data["access_token"], data.get("refresh_token"), data.get("expires_in"))

    @classmethod
    def from_strings(cls, access: str, refresh: str | None = None, expires_in: Any = None) -> TokenPair:
        exp = jwt_claims(access).get("exp")
        if isinstance(exp, (int, float)):
            expires_at = float(exp)
        elif isinstance(expires_in, (int, float)):
            expires_at = time.time() + float(expires_in)
        else:
            expires_at = None
        return cls(access, refresh if isinstance(refresh, str) and refresh else None, expires_at)

    def seconds_left(self) -> float:
        return float("inf") if self.expires_at is None else self.expires_at - time.time()


class HubTokenSource:
    """The user's SRCNet access token as their JupyterHub keeps it (oauthenticator's auth state).

    Read with the server's own hub API token from `GET {api}/users/{name}` (not `/user`, which
    answers without auth state on some 5.x hubs); the hub refreshes the pair first when due.
    Needs the scopes `read:users!user` and `admin:auth_state!user` on the hub's `server` role.
    """

    def __init__(self, api_url: str, username: str, api_token: str, hub: str, *, timeout: float, key: str):
        self.url = f"{api_url.rstrip('/')}/users/{quote(username, safe='')}"
        self.hub = hub
        self.key = key
        self._client = httpx.AsyncClient(timeout=timeout, headers={"Authorization": f"token {api_token}"})
        self.reads = 0

    async def access_token(self) -> str:
        self.reads += 1
        try:
            response = await self._client.get(self.url)
        except httpx.HTTPError as exc:
            raise ExtensionError(
                messages.HUB_NO_ANSWER.format(kind=type(exc).__name__),
                None,
                service="hub",
                status=502,
            ) from None
        if response.status_code in (401, 403, 404):
            raise NotSignedIn(
                messages.HUB_REFUSED_SHARING.format(response=response),
                service="hub",
            )
        if response.status_code != 200:
            raise ExtensionError(messages.HUB_HTTP_ERROR.format(response=response), None, service="hub", status=502)
        try:
            state = response.json().get("auth_state")
        except (ValueError, AttributeError):
            state = None
        token = state.get(self.key) if isinstance(state, dict) else None
        if not isinstance(token, str) or not token:
            raise NotSignedIn(
                messages.HUB_HOLDS_NO_TOKEN,
                service="hub",
            )
        return token

    async def aclose(self) -> None:
        await self._client.aclose()


class TokenBroker:
    def __init__(
        self,
        auth: ServiceClient,
        *,
        access_env: str,
        refresh_env: str,
        token_file: str,
        margin_s: float,
        device_flow: bool,
        log: logging.Logger,
        hub: HubTokenSource | None = None,
        hub_min_interval_s: float = 5.0,
    ):
        self.auth = auth
        self.access_env, self.refresh_env = access_env, refresh_env
        # Under a hub, the hub owns the sign-in: no token file, no device flow, no refresh here.
        self.hub = hub
        self.hub_min_interval_s = hub_min_interval_s
        self._hub_read_at = 0.0
        self.token_file = Path(token_file).expanduser() if token_file and not hub else None
        self.margin_s = margin_s
        self.device_flow = device_flow and not hub
        self.log = log
        self._root: TokenPair | None = None
        self._source: str | None = None
        self._services: dict[str, TokenPair] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._root_lock = asyncio.Lock()
        self._file_stamp: tuple | None = None
        self._ignored_stamp: tuple | None = None  # the file as it was when the user signed out
        self._device: dict | None = None
        self._device_task: asyncio.Task | None = None
        self._error: ExtensionError | None = None
        self.exchanges: Counter[str] = Counter()
        self.refreshes = 0
        self._pick_up_environment()

    # --- where the first token comes from -----------------------------------------

    def _pick_up_environment(self) -> None:
        """Take ACCESS_TOKEN / REFRESH_TOKEN out of the environment, so kernels never inherit them."""
        access = os.environ.pop(self.access_env, None) if self.access_env else None
        refresh = os.environ.pop(self.refresh_env, None) if self.refresh_env else None
        if access:
            # Under a hub the refresh token is the hub's alone: single-use tokens have one refresher.
            refresh = None if self.hub else (refresh or "").strip() or None
            self._set_root(TokenPair.from_strings(access.strip(), refresh), "jupyterhub" if self.hub else "environment")

    def _pick_up_file(self) -> None:
        if not self.token_file:
            return
        try:
            st = self.token_file.stat()
        except OSError:
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp in (self._file_stamp, self._ignored_stamp):
            return
        self._file_stamp = stamp
        try:
            text = self.token_file.read_text().strip()
        except OSError as exc:
            self.log.warning("srcstage: cannot read the token file: %s", type(exc).__name__)
            return
        try:
            pair = TokenPair.from_answer(json.loads(text)) if text.startswith("{") else TokenPair.from_strings(text)
        except (ValueError, ExtensionError):
            self.log.warning("srcstage: the token file %s holds no usable token", self.token_file)
            return
        self._set_root(pair, "file")

    def _set_root(self, pair: TokenPair, source: str) -> None:
        same_user = self._root is not None and jwt_claims(self._root.access).get("sub") == jwt_claims(pair.access).get(
            "sub"
        )
        if not (same_user and source == self._source):
            self._services.clear()  # tokens exchanged for another identity must not be reused
            self.log.info("srcstage: SRCNet sign-in taken from %s", source)
        self._root, self._source, self._error = pair, source, None

    async def _read_hub(self) -> None:
        """Take the hub's current token when ours is due for renewal (at most every few seconds)."""
        root = self._root
        if root is not None and root.seconds_left() > self.margin_s:
            return
        if root is not None and time.monotonic() - self._hub_read_at < self.hub_min_interval_s:
            return
        self._hub_read_at = time.monotonic()
        try:
            access = await self.hub.access_token()
        except ExtensionError as err:
            if root is not None and root.seconds_left() > 0:
                self.log.warning("srcstage: could not read a fresh SRCNet token from JupyterHub: %s", err)
                return
            self._root, self._error = None, err
            raise
        if root is None or access != root.access:
            self._set_root(TokenPair.from_strings(access), "jupyterhub")

    async def current_session(self) -> dict:
        """`session()`, after asking the hub when this server has no token, or one due for renewal."""
        if self.hub and (self._root is None or self._root.seconds_left() <= self.margin_s):
            async with self._root_lock:
                self._pick_up_environment()
                try:
                    await self._read_hub()
                except ExtensionError:
                    pass  # shown as the session's error
        return self.session()

    async def _root_pair(self) -> TokenPair:
        async with self._root_lock:
            self._pick_up_environment()
            self._pick_up_file()
            if self.hub:
                await self._read_hub()
            root = self._root
            if root is None:
                raise NotSignedIn(messages.NOT_SIGNED_IN)
            if root.seconds_left() > self.margin_s:
                return root
            if root.refresh and not self.hub:
                try:
                    fresh = TokenPair.from_answer(
                        await self.auth.request("GET", "/refresh", params={"refresh_token": root.refresh})
                    )
                except ExtensionError as err:
                    if root.seconds_left() > 0:
                        return root
                    self._root = None
                    raise NotSignedIn(
                        messages.SIGN_IN_NOT_RENEWED,
                        err.detail,
                        service="auth",
                    ) from None
                self.refreshes += 1
                self._root = TokenPair(fresh.access, fresh.refresh or root.refresh, fresh.expires_at)
                return self._root
            if root.seconds_left() > 0:
                return root
            self._root = None
            if self.hub:
                raise NotSignedIn(
                    messages.HUB_SIGN_IN_EXPIRED.format(hub=self.hub.hub),
                    service="hub",
                )
            raise NotSignedIn(messages.SIGN_IN_EXPIRED)

    # --- one token per service -----------------------------------------------------

    async def token_for(self, audience: str) -> str:
        """A valid token for `audience`, exchanging (once, however many callers wait) when needed."""
        lock = self._locks.setdefault(audience, asyncio.Lock())
        async with lock:
            pair = self._services.get(audience)
            if pair and pair.seconds_left() > self.margin_s:
                return pair.access
            root = await self._root_pair()
            answer = await self.auth.request(
                "GET",
                f"/token/exchange/{audience}",
                params={"version": "latest", "try_use_cache": "false", "access_token": root.access},
            )
            pair = TokenPair.from_answer(answer)
            self._services[audience] = pair
            self.exchanges[audience] += 1
            return pair.access

    def invalidate(self, audience: str, token: str) -> None:
        """Drop a token a service refused, unless another caller already replaced it."""
        pair = self._services.get(audience)
        if pair and pair.access == token:
            del self._services[audience]

    def claims(self, audience: str | None = None) -> dict:
        pair = self._services.get(audience) if audience else self._root
        return jwt_claims(pair.access) if pair else {}

    # --- device flow -----------------------------------------------------------------

    async def start_device_flow(self) -> None:
        if not self.device_flow:
            raise InvalidInput(messages.DEVICE_CODE_OFF)
        if self._device_task and not self._device_task.done():
            return
        answer = await self.auth.request("GET", "/login/device")
        if not isinstance(answer, dict) or "device_code" not in answer:
            raise ExtensionError(messages.DEVICE_SIGN_IN_NOT_STARTED, None, service="auth", status=502)
        expires_in = float(answer.get("expires_in") or 600)
        self._error = None
        self._device = {
            "user_code": answer.get("user_code"),
            "verification_uri": answer.get("verification_uri"),
            "verification_uri_complete": answer.get("verification_uri_complete") or answer.get("verification_uri"),
            "expires_at": datetime.fromtimestamp(time.time() + expires_in, timezone.utc).isoformat(timespec="seconds"),
        }
        interval = float(answer.get("interval") or DEFAULT_DEVICE_INTERVAL_S)
        self._device_task = asyncio.ensure_future(
            self._poll_device(answer["device_code"], interval, time.time() + expires_in)
        )

    async def _poll_device(self, device_code: str, interval: float, deadline: float) -> None:
        try:
            while time.time() < deadline:
                await asyncio.sleep(interval)
                try:
                    answer = await self.auth.request("GET", "/token", params={"device_code": device_code}, ok=(200,))
                except ExtensionError as err:
                    text = json.dumps(err.detail) if err.detail is not None else ""
                    if "authorization_pending" in text:
                        continue
                    if "slow_down" in text:
                        interval += 5
                        continue
                    if "expired_token" in text or "access_denied" in text:
                        message = (
                            messages.DEVICE_SIGN_IN_DENIED
                            if "access_denied" in text
                            else messages.DEVICE_SIGN_IN_EXPIRED
                        )
                        self._error = NotSignedIn(message, err.detail, service="auth")
                        return
                    if err.status >= 500:
                        continue  # the Auth API hiccuped; keep waiting until the code expires
                    self._error = err
                    return
                self._set_root(TokenPair.from_answer(answer), "device")
                return
            self._error = NotSignedIn(messages.DEVICE_CODE_EXPIRED, service="auth")
        finally:
            self._device = None

    def sign_out(self) -> None:
        if self.hub:
            raise InvalidInput(messages.SIGN_OUT_THROUGH_HUB.format(hub=self.hub.hub))
        if self._device_task:
            self._device_task.cancel()
        self._root, self._source, self._device, self._error = None, None, None, None
        self._services.clear()
        self._ignored_stamp = self._file_stamp  # a token file is ignored until it changes

    async def aclose(self) -> None:
        if self.hub:
            await self.hub.aclose()
        if self._device_task:
            self._device_task.cancel()
            await asyncio.gather(self._device_task, return_exceptions=True)

    def session(self) -> dict:
        """What the UI shows about the sign-in; never a token."""
        self._pick_up_environment()
        self._pick_up_file()
        if self._device:
            state = "pending"
        elif self._root and self._root.seconds_left() > 0 or (self._root and self._root.refresh):
            state = "signed_in"
        elif self._error:
            state = "error"
        else:
            state = "signed_out"
        user = None
        if state == "signed_in":
            claims = jwt_claims(self._root.access)
            username = claims.get("preferred_username") or claims.get("sub")
            user = {"username": username, "name": claims.get("name") or username}
        return {
            "state": state,
            "user": user,
            "source": self._source if state == "signed_in" else None,
            "device": dict(self._device) if self._device else None,
            "error": self._error.to_json() if self._error and state == "error" else None,
            "device_flow": self.device_flow,
            "hub": self.hub.hub if self.hub else None,
        }
