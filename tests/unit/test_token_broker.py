"""The token broker against a scripted Auth API: exchange, expiry, refresh, single flight."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from srcstage_jlab import errors
from srcstage_jlab.srcnet.auth import TokenBroker

from .scripted import LOG, answer, service_client, token

ENV = "SRCSTAGE_UNIT_ACCESS"
REFRESH_ENV = "SRCSTAGE_UNIT_REFRESH"


class AuthAPI:
    """A scripted SRCNet Auth API: token exchange and refresh, each call recorded."""

    def __init__(self, exchanged_lifetime_s: float = 3600, refreshed_lifetime_s: float = 3600):
        self.calls: list[httpx.Request] = []
        self.exchanged_lifetime_s = exchanged_lifetime_s
        self.refreshed_lifetime_s = refreshed_lifetime_s
        self.refresh_fails = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        if "/token/exchange/" in path:
            audience = path.rsplit("/", 1)[1]
            n = len(self.exchanges())
            return answer(200, {"access_token": token(f"{audience}-{n}", self.exchanged_lifetime_s)})
        if path.endswith("/refresh"):
            if self.refresh_fails:
                return answer(401, {"detail": "refresh token revoked"})
            n = len(self.refreshes())
            return answer(
                200, {"token": {"access_token": token(f"root-{n}", self.refreshed_lifetime_s), "refresh_token": "r2"}}
            )
        return answer(404, {"detail": "no such route"})

    def exchanges(self):
        return [r for r in self.calls if "/token/exchange/" in r.url.path]

    def refreshes(self):
        return [r for r in self.calls if r.url.path.endswith("/refresh")]


def make_broker(monkeypatch, auth: AuthAPI, *, root_lifetime_s: float | None = 3600, refresh: str | None = None):
    if root_lifetime_s is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, token("root", root_lifetime_s, preferred_username="demo", name="Demo"))
    if refresh:
        monkeypatch.setenv(REFRESH_ENV, refresh)
    return TokenBroker(
        service_client("auth", auth),
        access_env=ENV,
        refresh_env=REFRESH_ENV,
        token_file="",
        margin_s=60,
        device_flow=False,
        log=LOG,
    )


def claims_of(jwt_text: str) -> dict:
    from srcstage_jlab.srcnet.auth import jwt_claims

    return jwt_claims(jwt_text)


def test_the_environment_token_is_taken_and_removed_so_kernels_never_inherit_it(monkeypatch):
    import os

    make_broker(monkeypatch, AuthAPI(), refresh="r1")
    assert ENV not in os.environ and REFRESH_ENV not in os.environ


def test_one_exchange_per_audience_then_the_token_is_reused(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth)

    async def go():
        a = await broker.token_for("data-management-api")
        b = await broker.token_for("data-management-api")
        c = await broker.token_for("site-capabilities-api")
        return a, b, c

    a, b, c = asyncio.run(go())
    assert a == b and claims_of(a)["sub"] == "data-management-api-1"
    assert claims_of(c)["sub"] == "site-capabilities-api-2"
    assert [r.url.path.rsplit("/", 1)[1] for r in auth.exchanges()] == ["data-management-api", "site-capabilities-api"]
    assert auth.exchanges()[0].url.params["access_token"] == claims_and_root(auth)


def claims_and_root(auth):
    # The exchange sends the root token (as the Auth API takes it, in the query).
    sent = auth.exchanges()[0].url.params["access_token"]
    assert claims_of(sent)["sub"] == "root"
    return sent


def test_concurrent_callers_share_one_exchange(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth)

    async def go():
        return await asyncio.gather(*(broker.token_for("data-management-api") for _ in range(8)))

    tokens = asyncio.run(go())
    assert len(set(tokens)) == 1 and len(auth.exchanges()) == 1


def test_a_token_near_its_expiry_is_exchanged_again(monkeypatch):
    auth = AuthAPI(exchanged_lifetime_s=30)  # inside the 60 s margin
    broker = make_broker(monkeypatch, auth)

    async def go():
        return [await broker.token_for("data-management-api") for _ in range(3)]

    tokens = asyncio.run(go())
    assert len(set(tokens)) == 3 and len(auth.exchanges()) == 3


def test_an_expiring_root_token_is_refreshed_before_the_exchange(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth, root_lifetime_s=10, refresh="r1")
    asyncio.run(broker.token_for("data-management-api"))
    assert len(auth.refreshes()) == 1 and auth.refreshes()[0].url.params["refresh_token"] == "r1"
    sent = auth.exchanges()[0].url.params["access_token"]
    assert claims_of(sent)["sub"] == "root-1"  # the refreshed token, not the old one
    asyncio.run(broker.token_for("site-capabilities-api"))
    assert len(auth.refreshes()) == 1  # the fresh root lasts an hour


def test_a_failed_refresh_keeps_a_root_that_still_works(monkeypatch):
    auth = AuthAPI()
    auth.refresh_fails = True
    broker = make_broker(monkeypatch, auth, root_lifetime_s=10, refresh="r1")
    asyncio.run(broker.token_for("data-management-api"))
    assert claims_of(auth.exchanges()[0].url.params["access_token"])["sub"] == "root"


def test_an_expired_root_whose_refresh_fails_means_sign_in_again(monkeypatch):
    auth = AuthAPI()
    auth.refresh_fails = True
    broker = make_broker(monkeypatch, auth, root_lifetime_s=-5, refresh="r1")
    with pytest.raises(errors.NotSignedIn) as err:
        asyncio.run(broker.token_for("data-management-api"))
    assert "could not be renewed" in err.value.message and err.value.detail == "refresh token revoked"
    assert auth.exchanges() == [] and broker.session()["state"] == "signed_out"


def test_an_expired_root_without_refresh_token_is_not_signed_in(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth, root_lifetime_s=-5)
    with pytest.raises(errors.NotSignedIn):
        asyncio.run(broker.token_for("data-management-api"))
    assert auth.calls == []


def test_no_sign_in_at_all_asks_nothing(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth, root_lifetime_s=None)
    with pytest.raises(errors.NotSignedIn):
        asyncio.run(broker.token_for("data-management-api"))
    assert auth.calls == [] and broker.session()["state"] == "signed_out"


def test_invalidate_drops_only_the_refused_token(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth)

    async def go():
        first = await broker.token_for("data-management-api")
        broker.invalidate("data-management-api", "some-older-token")  # another caller's stale token
        same = await broker.token_for("data-management-api")
        broker.invalidate("data-management-api", first)
        fresh = await broker.token_for("data-management-api")
        return first, same, fresh

    first, same, fresh = asyncio.run(go())
    assert first == same != fresh and len(auth.exchanges()) == 2


def test_a_service_401_means_drop_re_exchange_and_retry(monkeypatch):
    from srcstage_jlab.srcnet.http import AuthorizedService

    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth)
    seen = []

    def dm(request):
        seen.append(claims_of(request.headers["Authorization"].split()[1])["sub"])
        return answer(401, {"detail": "revoked"}) if len(seen) == 1 else answer(200, ["ska-mid"])

    service = AuthorizedService(service_client("data-management", dm), "data-management-api", broker)
    assert asyncio.run(service.request("GET", "/data/list")) == ["ska-mid"]
    assert seen == ["data-management-api-1", "data-management-api-2"] and len(auth.exchanges()) == 2


def test_the_session_never_holds_a_token(monkeypatch):
    auth = AuthAPI()
    broker = make_broker(monkeypatch, auth, refresh="r1")
    asyncio.run(broker.token_for("data-management-api"))
    session = broker.session()
    assert session["state"] == "signed_in" and session["user"] == {"username": "demo", "name": "Demo"}
    text = json.dumps(session)
    assert "r1" not in text and "eyJ" not in text and "." not in session["user"]["username"]
