"""Auth API (device flow, exchange, refresh, JWKS) and Site Capabilities API, over real HTTP."""

from __future__ import annotations

import httpx
import jwt
import pytest

from srcstage_jlab.sandbox import config as cfg

from .helpers import Control, bearer, device_login, exchange, service_token

SC, DM = cfg.SITE_CAPABILITIES_AUDIENCE, cfg.DATA_MANAGEMENT_AUDIENCE


def test_device_flow_pending_then_approved(sandbox):
    token = device_login(sandbox.auth_api_url)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["aud"] == cfg.AUTH_AUDIENCE
    assert claims["preferred_username"] == "demo"
    assert claims["groups"] == list(cfg.DEMO_USER.groups)
    assert token["refresh_token"] and token["expires_in"] > 0


def test_device_flow_slow_down_and_denied(sandbox):
    url = sandbox.auth_api_url
    start = httpx.get(f"{url}/login/device").json()
    assert start["verification_uri_complete"].endswith(start["user_code"])
    first = httpx.get(f"{url}/token", params={"device_code": start["device_code"]})
    second = httpx.get(f"{url}/token", params={"device_code": start["device_code"]})
    assert "authorization_pending" in first.json()["detail"]
    assert second.status_code == 400 and "slow_down" in second.json()["detail"]
    denied = device_login(url, approve=False)
    assert "access_denied" in denied["detail"]


def test_exchange_refresh_rotation_and_revocation(sandbox):
    url = sandbox.auth_api_url
    login = Control(sandbox.control_url).user_tokens("demo")
    first = exchange(url, login["access_token"], DM)
    assert jwt.decode(first["access_token"], options={"verify_signature": False})["aud"] == DM

    rotated = httpx.get(f"{url}/refresh", params={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    reused = httpx.get(f"{url}/refresh", params={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and "single use" in reused.json()["detail"]

    exchange(url, login["access_token"], DM)  # a new exchange revokes the previous pair
    revoked = httpx.get(f"{url}/refresh", params={"refresh_token": rotated.json()["refresh_token"]})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    stats = Control(sandbox.control_url).stats()
    counts = {(e["user"], e["audience"]): e["count"] for e in stats["exchanges"]}
    assert counts[("demo", DM)] >= 2


def test_exchange_refuses_unknown_service_and_wrong_token(sandbox):
    url = sandbox.auth_api_url
    login = Control(sandbox.control_url).user_tokens("demo")
    unknown = httpx.get(f"{url}/token/exchange/permissions-api", params={"access_token": login["access_token"]})
    assert unknown.status_code == 404
    dm_token = exchange(url, login["access_token"], DM)["access_token"]
    wrong = httpx.get(f"{url}/token/exchange/{SC}", params={"access_token": dm_token})
    assert wrong.status_code == 401
    missing = httpx.get(f"{url}/token/exchange/{SC}")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "access_token"]


def test_tokens_verify_against_published_jwks(sandbox):
    token = service_token(sandbox, SC)
    jwks = httpx.get(f"{sandbox.auth_api_url}/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=SC)
    assert {"iss", "sub", "exp", "iat", "jti", "scope", "name"} <= set(claims)


@pytest.mark.parametrize("path", ["/storage-areas", "/nodes"])
def test_wrong_audience_and_missing_token_refused(sandbox, path):
    dm_token = service_token(sandbox, DM)
    refused = httpx.get(sandbox.site_capabilities_api_url + path, headers=bearer(dm_token))
    assert refused.status_code == 401 and "audience" in refused.json()["detail"]
    assert httpx.get(sandbox.site_capabilities_api_url + path).status_code == 401
    sc_token = service_token(sandbox, SC)
    refused = httpx.get(sandbox.data_management_api_url + "/data/list", headers=bearer(sc_token))
    assert refused.status_code == 401
    assert "not accepted by the data-management-api" in refused.json()["detail"]


def test_site_capabilities_topology_and_filters(sandbox):
    sc, token = sandbox.site_capabilities_api_url, service_token(sandbox, SC)

    def get(path, **params):
        response = httpx.get(sc + path, params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    active = {a["name"] for a in get("/storage-areas")}
    everything = {a["name"]: a for a in get("/storage-areas", include_inactive="true")}
    assert active == {"SANDBOX_LOCAL", "SANDBOX_INGEST", "FAR_TAPE"}
    assert set(everything) == {a.name for a in cfg.AREAS}
    assert everything["FAR_DISK"]["downtime"][0]["type"] == "Unplanned"
    assert everything["SANDBOX_OLD"]["is_force_disabled"] is True
    local = everything["SANDBOX_LOCAL"]
    assert local["parent_node_name"] == cfg.LOCAL_NODE and local["parent_site_name"] == cfg.LOCAL_SITE
    storage = get(f"/storages/{local['parent_storage_id']}")
    assert storage["base_path"] + local["relative_path"] == str(sandbox.config.area_dir(cfg.LOCAL_AREA))
    assert {a["name"] for a in get("/storage-areas", node_names=cfg.REMOTE_NODE)} == {"FAR_TAPE"}

    hubs = get("/services", service_types="jupyterhub")
    assert [h["host"] for h in hubs] == [cfg.JUPYTERHUB_HOST] and "associated_storage_area_id" not in hubs[0]
    siblings = get("/services", service_types="prepare_data", site_names=cfg.LOCAL_SITE)
    assert siblings[0]["associated_compute_id"] == hubs[0]["associated_compute_id"]
    assert siblings[0]["associated_storage_area_id"] == cfg.LOCAL_AREA.id
    assert get("/services", associated_storage_area_id=cfg.LOCAL_AREA.id)[0]["type"] == "prepare_data"

    missing = httpx.get(f"{sc}/storage-areas/nope", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Storage area with identifier 'nope' could not be found"
    assert httpx.get(f"{sc}/storage-areas/types").json() == ["rse", "ingest"]
    assert httpx.get(f"{sc}/ping").json()["status"] == "UP"


def test_control_app_flips_area_downtime(sandbox):
    sc, token, control = sandbox.site_capabilities_api_url, service_token(sandbox, SC), Control(sandbox.control_url)
    try:
        control.area("SANDBOX_LOCAL", downtime=True)
        names = {a["name"] for a in httpx.get(f"{sc}/storage-areas", headers=bearer(token)).json()}
        assert "SANDBOX_LOCAL" not in names
    finally:
        control.area("SANDBOX_LOCAL", downtime=False)
    names = {a["name"] for a in httpx.get(f"{sc}/storage-areas", headers=bearer(token)).json()}
    assert "SANDBOX_LOCAL" in names


def test_faults_down_closes_the_socket_and_reopens(sandbox):
    control = Control(sandbox.control_url)
    try:
        control.faults("site-capabilities", down=True)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{sandbox.site_capabilities_api_url}/ping")
        control.faults("site-capabilities", error_rate=1.0)
        failed = httpx.get(f"{sandbox.site_capabilities_api_url}/ping")
        assert failed.status_code in (500, 503) and "injected fault" in failed.json()["detail"]
    finally:
        control.reset_faults()
    assert httpx.get(f"{sandbox.site_capabilities_api_url}/ping").status_code == 200
