"""The IAM stand-in's OIDC provider (authorization code, refresh, userinfo) and IAM-like refresh tokens."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from srcstage_jlab.sandbox import config as cfg

from .helpers import Control, exchange

REDIRECT = "http://127.0.0.1:8000/hub/oauth_callback"


def authorize(sandbox, username: str, password: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    """Open the login page like a browser, then post the form it shows."""
    oidc = sandbox.oidc
    params = {
        "response_type": "code",
        "client_id": oidc["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid profile offline_access",
        "state": "xyz",
    }
    page = httpx.get(f"{sandbox.auth_api_url}/authorize", params=params)
    assert page.status_code == 200 and 'name="password"' in page.text
    form = {**params, "username": username, "password": password, "action": "approve"}
    return httpx.post(f"{sandbox.auth_api_url}/authorize", data=form)


def code_for(sandbox, username: str) -> str:
    answer = authorize(sandbox, username, cfg.user_by_name(username).login_password)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def token_request(sandbox, **form) -> httpx.Response:
    oidc = sandbox.oidc
    return httpx.post(
        f"{sandbox.auth_api_url}/token", data=form, auth=(oidc["client_id"], oidc["client_secret"]), timeout=30
    )


def test_discovery_names_the_endpoints(sandbox):
    doc = httpx.get(sandbox.oidc["discovery_url"]).json()
    assert doc["authorization_endpoint"] == f"{sandbox.auth_api_url}/authorize"
    assert doc["token_endpoint"] == f"{sandbox.auth_api_url}/token"
    assert "refresh_token" in doc["grant_types_supported"]
    assert httpx.get(doc["jwks_uri"]).json()["keys"]


def test_code_flow_issues_the_device_flow_tokens_and_the_auth_api_exchanges_them(sandbox):
    code = code_for(sandbox, "bob")
    answer = token_request(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["aud"] == cfg.AUTH_AUDIENCE and claims["preferred_username"] == "bob"
    assert claims["groups"] == list(cfg.user_by_name("bob").groups)
    assert jwt.decode(pair["id_token"], options={"verify_signature": False})["aud"] == sandbox.oidc["client_id"]
    who = httpx.get(f"{sandbox.auth_api_url}/userinfo", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert who.json()["preferred_username"] == "bob"
    dm = exchange(sandbox.auth_api_url, pair["access_token"], cfg.DATA_MANAGEMENT_AUDIENCE)
    assert jwt.decode(dm["access_token"], options={"verify_signature": False})["preferred_username"] == "bob"

    again = token_request(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # codes are single use

    renewed = token_request(sandbox, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert renewed.status_code == 200 and renewed.json()["access_token"] != pair["access_token"]
    reused = token_request(sandbox, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert reused.status_code == 400 and "single use" in reused.json()["error_description"]


def test_login_page_refuses_wrong_password_bad_client_and_foreign_redirect(sandbox):
    wrong = authorize(sandbox, "demo", "not-the-password")
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    foreign = httpx.get(
        f"{sandbox.auth_api_url}/authorize",
        params={
            "response_type": "code",
            "client_id": sandbox.oidc["client_id"],
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert foreign.status_code == 400 and "loopback" in foreign.json()["detail"]
    bad_secret = httpx.post(
        f"{sandbox.auth_api_url}/token",
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT},
        auth=(sandbox.oidc["client_id"], "wrong"),
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"


def test_refresh_tokens_are_jwts_with_exp_and_both_refresh_forms_work_once(sandbox):
    url = sandbox.auth_api_url
    login = Control(sandbox.control_url).user_tokens("demo")
    claims = jwt.decode(login["refresh_token"], options={"verify_signature": False})  # ska-src-clients reads exp
    assert claims["exp"] > time.time() + 3600 and claims["aud"] != cfg.AUTH_AUDIENCE

    newer = httpx.get(f"{url}/token", params={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]})
    assert newer.status_code == 200, newer.text
    assert jwt.decode(newer.json()["access_token"], options={"verify_signature": False})["aud"] == cfg.AUTH_AUDIENCE
    again = httpx.get(f"{url}/refresh", params={"refresh_token": login["refresh_token"]})
    assert again.status_code == 401 and "single use" in again.json()["detail"]
    older_form = httpx.get(f"{url}/refresh", params={"refresh_token": newer.json()["refresh_token"]})
    assert older_form.status_code == 200

    # A refresh token is never an access token: the DM API refuses it as a bearer token.
    dm = httpx.get(
        f"{sandbox.data_management_api_url}/data/list/user.demo",
        headers={"Authorization": f"Bearer {older_form.json()['refresh_token']}"},
    )
    assert dm.status_code == 401
    missing = httpx.get(f"{url}/token")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "device_code"]
