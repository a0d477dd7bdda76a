"""An async client for the real Rucio REST API, acting as one Rucio account per call.

The DM API logs in as the *user's* account (userpass from config.USERS) so that Rucio's own
policy applies: scope ownership, quotas, name syntax, duplicate rules. Rucio tokens are cached
per account for ~50 minutes (they live one hour) and renewed once on a 401. Every call has a
timeout. Rucio errors become `RucioError` carrying the `ExceptionClass` / `ExceptionMessage`
headers; `data_management.rucio_to_api_error` maps them to FastAPI-shaped answers.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

from . import config as cfg

log = logging.getLogger(__name__)

TOKEN_CACHE_S = 50 * 60
STREAM = "application/x-json-stream"
BULK_CHUNK = 1000


class RucioError(Exception):
    """A refusal or failure from Rucio (status, ExceptionClass, ExceptionMessage)."""

    def __init__(self, status: int, exc_class: str, message: str) -> None:
        super().__init__(f"{exc_class}: {message}")
        self.status, self.exc_class, self.message = status, exc_class, message


def did_path(scope: str, name: str) -> str:
    return f"{quote(scope, safe='')}/{quote(name, safe='')}"


def _parse(response: httpx.Response) -> Any:
    """Rucio answers JSON or newline-delimited JSON streams; give back Python objects."""
    text = response.text.strip()
    if not text:
        return None
    if STREAM in response.headers.get("content-type", ""):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return text  # e.g. "Created" after POST /dids/...


# Below the Rucio server's keep-alive (rucio_server.KEEPALIVE_S): see there.
CLIENT_KEEPALIVE_S = 10.0
# A dropped connection is retried once for calls that change nothing.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class RucioRest:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 30.0,
        calls: collections.Counter | None = None,
        service_identity: tuple[str, str, str] | None = None,
    ) -> None:
        """`service_identity`: (account, username, password) of the DM's own service account,
        for what Rucio lets no user do (change or remove a rule); the DM checks ownership first."""
        self.base_url = base_url.rstrip("/")
        self.service_identity = service_identity
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout_s,
            limits=httpx.Limits(keepalive_expiry=CLIENT_KEEPALIVE_S),
        )
        self._tokens: dict[str, tuple[str, float]] = {}
        self._login_locks: dict[str, asyncio.Lock] = {}
        self.calls = calls if calls is not None else collections.Counter()  # "METHOD /segment" -> n

    async def close(self) -> None:
        await self._client.aclose()

    # --- auth ----------------------------------------------------------------
    async def _token(self, account: str, renew: bool = False) -> str:
        lock = self._login_locks.setdefault(account, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(account)
            if cached and not renew and cached[1] > time.monotonic():
                return cached[0]
            service = self.service_identity
            user = cfg.user_by_name(account)
            if service and account == service[0]:
                username, password = service[1], service[2]
            elif user is not None:
                username, password = user.username, user.rucio_password
            else:
                raise RucioError(401, "CannotAuthenticate", f"No Rucio identity for account '{account}'")
            response = await self._client.get(
                "/auth/userpass",
                headers={"X-Rucio-Account": account, "X-Rucio-Username": username, "X-Rucio-Password": password},
            )
            self._raise_for(response)
            token = response.headers["X-Rucio-Auth-Token"]
            self._tokens[account] = (token, time.monotonic() + TOKEN_CACHE_S)
            return token

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.is_success:
            return
        exc_class = response.headers.get("ExceptionClass", "RucioException")
        message = response.headers.get("ExceptionMessage", "")
        if not message:
            try:
                body = response.json()
                message = body.get("ExceptionMessage", "") if isinstance(body, dict) else ""
            except ValueError:
                message = response.text[:300]
        raise RucioError(response.status_code, exc_class, message)

    async def request(
        self,
        account: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: Any = None,
        stream: bool = False,
    ) -> Any:
        """One Rucio call as `account`; renews the Rucio token once if Rucio refuses it."""
        headers = {"Accept": STREAM if stream else "application/json"}
        content = json.dumps(body) if body is not None else None
        self.calls[f"{method} /{path.lstrip('/').split('/', 1)[0]}"] += 1
        for attempt in (0, 1):
            headers["X-Rucio-Auth-Token"] = await self._token(account, renew=attempt > 0)
            try:
                response = await self._send(method, path, params=params, content=content, headers=headers)
            except httpx.HTTPError as exc:
                raise RucioError(503, "ConnectionError", f"Rucio is not reachable ({type(exc).__name__})") from None
            if (
                response.status_code == 401
                and response.headers.get("ExceptionClass") in ("CannotAuthenticate", None)
                and attempt == 0
            ):
                continue
            self._raise_for(response)
            return _parse(response)
        return None  # unreachable

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(method, path, **kwargs)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if method not in IDEMPOTENT:
                raise
            log.info("Rucio dropped the connection (%s); retrying %s once", type(exc).__name__, method)
            return await self._client.request(method, path, **kwargs)

    # --- catalogue -------------------------------------------------------------
    async def ping(self) -> dict:
        response = await self._client.get("/ping")
        self._raise_for(response)
        return response.json()

    async def scopes(self, account: str) -> list[str]:
        return await self.request(account, "GET", "/scopes/")

    async def search(self, account: str, scope: str, name: str, did_type: str, limit: int | None) -> list[dict]:
        params: dict[str, Any] = {"type": did_type, "long": "True", "name": name}
        if limit:
            params["limit"] = limit
        return (
            await self.request(account, "GET", f"/dids/{quote(scope, safe='')}/dids/search", params=params, stream=True)
            or []
        )

    async def did(self, account: str, scope: str, name: str) -> dict:
        return await self.request(account, "GET", f"/dids/{did_path(scope, name)}")

    async def metadata(self, account: str, scope: str, name: str, plugin: str = "DID_COLUMN") -> dict:
        return await self.request(account, "GET", f"/dids/{did_path(scope, name)}/meta", params={"plugin": plugin})

    async def bulk_metadata(self, account: str, dids: list[dict]) -> list[dict]:
        """DID columns of those DIDs that exist (missing ones are simply absent), in one call."""
        rows: list[dict] = []
        for start in range(0, len(dids), BULK_CHUNK):  # Rucio's schema caps a DID list at 1000
            rows += (
                await self.request(
                    account,
                    "POST",
                    "/dids/bulkmeta",
                    stream=True,
                    body={
                        "dids": [{"scope": d["scope"], "name": d["name"]} for d in dids[start : start + BULK_CHUNK]],
                        "inherit": False,
                        "plugin": "DID_COLUMN",
                    },
                )
                or []
            )
        return rows

    async def content(self, account: str, scope: str, name: str) -> list[dict]:
        return await self.request(account, "GET", f"/dids/{did_path(scope, name)}/dids", stream=True) or []

    async def files(self, account: str, scope: str, name: str) -> list[dict]:
        return await self.request(account, "GET", f"/dids/{did_path(scope, name)}/files", stream=True) or []

    async def add_did(self, account: str, scope: str, name: str, did_type: str, meta: dict | None = None) -> None:
        await self.request(
            account, "POST", f"/dids/{did_path(scope, name)}", body={"type": did_type.upper(), "meta": meta or {}}
        )

    async def attach(self, account: str, scope: str, name: str, dids: Iterable[dict], chunk: int = 1000) -> int:
        members = [{"scope": d["scope"], "name": d["name"]} for d in dids]
        for start in range(0, len(members), chunk):
            await self.request(
                account, "POST", f"/dids/{did_path(scope, name)}/dids", body={"dids": members[start : start + chunk]}
            )
        return len(members)

    async def replicas(self, account: str, dids: list[dict], schemes: list[str] | None = None) -> list[dict]:
        """Available replicas of the files under these DIDs (collections resolved by Rucio)."""
        body: dict[str, Any] = {
            "dids": [{"scope": d["scope"], "name": d["name"]} for d in dids],
            "all_states": False,
            "resolve_archives": False,
        }
        if schemes:
            body["schemes"] = schemes
        return await self.request(account, "POST", "/replicas/list", body=body, stream=True) or []

    async def local_usage(self, account: str, rse: str) -> list[dict]:
        """The account's usage and limit at one RSE ({bytes, files, bytes_limit, bytes_remaining})."""
        path = f"/accounts/{quote(account, safe='')}/usage/local/{quote(rse, safe='')}"
        return await self.request(account, "GET", path, stream=True) or []

    # --- rules -------------------------------------------------------------------
    async def add_rule(
        self, account: str, dids: list[dict], rse_expression: str, lifetime: int, asynchronous: bool, comment: str = ""
    ) -> list[str]:
        return await self.request(
            account,
            "POST",
            "/rules/",
            body={
                "dids": [{"scope": d["scope"], "name": d["name"]} for d in dids],
                "account": account,
                "copies": 1,
                "rse_expression": rse_expression,
                "lifetime": lifetime,
                "grouping": "DATASET",
                "asynchronous": asynchronous,
                "comment": comment or None,
            },
        )

    async def rule(self, account: str, rule_id: str) -> dict:
        return await self.request(account, "GET", f"/rules/{quote(rule_id, safe='')}")

    async def rule_locks(self, account: str, rule_id: str) -> list[dict]:
        return await self.request(account, "GET", f"/rules/{quote(rule_id, safe='')}/locks", stream=True) or []

    async def did_rules(self, account: str, scope: str, name: str) -> list[dict]:
        return await self.request(account, "GET", f"/dids/{did_path(scope, name)}/rules", stream=True) or []

    async def update_rule(self, account: str, rule_id: str, options: dict) -> None:
        """Rucio's rule update, e.g. {"lifetime": seconds from now} (root or an admin account only)."""
        await self.request(account, "PUT", f"/rules/{quote(rule_id, safe='')}", body={"options": options})

    async def delete_rule(self, account: str, rule_id: str, purge_replicas: bool = True) -> None:
        """Rucio's rule removal (root or an admin account only). Rucio deletes softly: the rule
        expires within the hour, unless its lifetime is then cut (see DataManagement.release)."""
        await self.request(
            account, "DELETE", f"/rules/{quote(rule_id, safe='')}", body={"purge_replicas": purge_replicas}
        )
