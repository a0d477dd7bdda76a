"""Helpers for tests that talk to a running sandbox over real HTTP (nothing mocked).

- `device_login` walks the device flow the way a person would: start, poll (pending),
  approve on the sandbox's HTML page, poll again.
- `exchange` / `service_token` get tokens for SC or DM from the Auth API.
- `RucioRoot` is a root client of Rucio's REST API, used to check that a refused request
  created nothing (no DID, no rule).
- `Control` drives the sandbox's control app (faults, token lifetime, areas, stats).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from srcstage_jlab.sandbox import config as cfg

TIMEOUT = 30.0


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def device_login(auth_url: str, username: str = cfg.DEMO_USER.username, *, approve: bool = True) -> dict:
    """Device flow → the `token` object ({access_token, refresh_token, ...})."""
    with httpx.Client(timeout=TIMEOUT) as client:
        start = client.get(f"{auth_url}/login/device").json()
        pending = client.get(f"{auth_url}/token", params={"device_code": start["device_code"]})
        assert pending.status_code != 200 and "authorization_pending" in pending.json()["detail"]
        page = client.get(start["verification_uri_complete"])
        assert page.status_code == 200 and start["user_code"] in page.text
        form = {"user_code": start["user_code"], "username": username, "action": "approve" if approve else "deny"}
        answer = client.post(start["verification_uri"], data=form)
        assert answer.status_code == 200, answer.text
        token = client.get(f"{auth_url}/token", params={"device_code": start["device_code"]})
        if not approve:
            return token.json()
        assert token.status_code == 200, token.text
        return token.json()["token"]


def exchange(auth_url: str, access_token: str, service: str) -> dict:
    response = httpx.get(
        f"{auth_url}/token/exchange/{service}",
        timeout=TIMEOUT,
        params={"version": "latest", "try_use_cache": "false", "access_token": access_token},
    )
    assert response.status_code == 200, response.text
    return response.json()


def service_token(sandbox: Any, service: str, username: str = cfg.DEMO_USER.username) -> str:
    """An access token for `service` for a configured user (hub-style hand-out, then exchange)."""
    pair = Control(sandbox.control_url).user_tokens(username)
    return exchange(sandbox.auth_api_url, pair["access_token"], service)["access_token"]


class Control:
    def __init__(self, control_url: str) -> None:
        self.url = control_url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method, self.url + path, timeout=TIMEOUT, content=None if body is None else json.dumps(body)
        )
        assert response.is_success, response.text
        return response.json()

    def user_tokens(self, username: str) -> dict:
        return self._call("POST", f"/users/{username}/tokens")

    def faults(self, service: str, **switches: Any) -> Any:
        return self._call("PUT", f"/faults/{service}", switches)

    def reset_faults(self) -> Any:
        return self._call("DELETE", "/faults")

    def token_lifetime(self, seconds: int) -> Any:
        return self._call("PUT", "/tokens", {"access_token_lifetime_s": seconds})

    def area(self, name: str, **switches: bool) -> Any:
        return self._call("PUT", f"/areas/{name}", switches)

    def stats(self) -> dict:
        return self._call("GET", "/stats")


class RucioRoot:
    """Rucio REST as root: what exists, independent of the DM API under test."""

    def __init__(self, rucio_url: str, root: dict) -> None:
        self.client = httpx.Client(base_url=rucio_url, timeout=TIMEOUT)
        login = self.client.get(
            "/auth/userpass",
            headers={
                "X-Rucio-Account": root["account"],
                "X-Rucio-Username": root["username"],
                "X-Rucio-Password": root["password"],
            },
        )
        login.raise_for_status()
        self.client.headers["X-Rucio-Auth-Token"] = login.headers["X-Rucio-Auth-Token"]

    def _stream(self, path: str, **params: Any) -> list[dict]:
        response = self.client.get(path, params=params, headers={"Accept": "application/x-json-stream"})
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def did_names(self, scope: str) -> set[str]:
        rows = self._stream(f"/dids/{scope}/dids/search", type="all", name="*")
        return {r if isinstance(r, str) else r["name"] for r in rows}

    def rule_ids(self, account: str) -> set[str]:
        return {r["id"] for r in self._stream("/rules/", account=account)}

    def rule(self, rule_id: str) -> dict | None:
        """One rule as Rucio has it (None once it is gone)."""
        response = self.client.get(f"/rules/{rule_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def snapshot(self, account: str = cfg.DEMO_USER.username) -> dict:
        """What a refused request must not change: the user's DIDs and rules."""
        return {
            "dids": {s: self.did_names(s) for s in (cfg.DEMO_NAMESPACE, cfg.OBSERVATIONS_NAMESPACE)},
            "rules": self.rule_ids(account),
        }

    def close(self) -> None:
        self.client.close()
