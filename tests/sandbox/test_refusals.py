"""Every DM refusal: the right status, a `detail` a person understands, and nothing created in Rucio."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed

from .helpers import Control, RucioRoot, bearer, service_token

DM = cfg.DATA_MANAGEMENT_AUDIENCE
COLD_FILE = next(ds for ds in seed.catalogue().datasets if ds.rses == (cfg.COLD_AREA.name,)).files[0]
COLD_DID = {"namespace": COLD_FILE.scope, "name": COLD_FILE.name}
BIG_DID = {"namespace": cfg.OBSERVATIONS_NAMESPACE, "name": "deep-field-cube"}


@pytest.fixture(scope="module")
def rucio(sandbox):
    client = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    yield client
    client.close()


@pytest.fixture(scope="module")
def dm_token(sandbox):
    return service_token(sandbox, DM)


@pytest.fixture
def unchanged(rucio):
    """Asserts, after the test, that the demo user's DIDs and rules are as before."""
    before = rucio.snapshot()
    yield
    assert rucio.snapshot() == before


def stage(area_id=cfg.LOCAL_AREA.id, lifetime=3600, dids=None):
    body = {"to_storage_area_uuid": area_id, "dids": dids or [COLD_DID]}
    if lifetime is not None:
        body["lifetime"] = lifetime
    return body


def area_id(name: str) -> str:
    return cfg.area_by_name(name).id


STAGE_REFUSALS = {
    "lifetime over the cap": (stage(lifetime=400 * 86400), 403, "30 days"),
    "missing lifetime": (stage(lifetime=None), 422, "lifetime"),
    "zero lifetime": (stage(lifetime=0), 422, "greater than 0"),
    "area in downtime": (stage(area_id("FAR_DISK")), 409, "downtime"),
    "force-disabled area": (stage(area_id("SANDBOX_OLD")), 409, "force-disabled"),
    "ingest area": (stage(area_id("SANDBOX_INGEST")), 409, "'ingest'"),
    "unknown area": (stage("no-such-area"), 404, "Storage area with identifier 'no-such-area' could not be found"),
    "bad DID syntax": (stage(dids=[{"namespace": "ska-mid", "name": "bad name"}]), 422, "invalid"),
    "namespace too long": (stage(dids=[{"namespace": "x" * 26, "name": "a"}]), 422, "25 characters"),
    "unknown DID": (stage(dids=[{"namespace": "ska-mid", "name": "no-such-file"}]), 404, "ska-mid:no-such-file"),
    "quota exceeded": (stage(dids=[BIG_DID]), 409, "quota exceeded"),
}


@pytest.mark.parametrize("case", list(STAGE_REFUSALS))
def test_stage_refusals(sandbox, dm_token, unchanged, case):
    body, status, words = STAGE_REFUSALS[case]
    response = httpx.post(
        f"{sandbox.data_management_api_url}/data/stage", json=body, headers=bearer(dm_token), timeout=30
    )
    assert response.status_code == status, response.text
    assert words in str(response.json()["detail"])


def test_malformed_json(sandbox, dm_token, unchanged):
    response = httpx.post(
        f"{sandbox.data_management_api_url}/data/stage", content=b"{not json", headers=bearer(dm_token)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_foreign_namespace(sandbox, dm_token, unchanged):
    body = {
        "namespace": cfg.OBSERVATIONS_NAMESPACE,
        "name": f"mine-{uuid.uuid4().hex[:6]}",
        "type": "dataset",
        "dids": [COLD_DID],
    }
    response = httpx.post(f"{sandbox.data_management_api_url}/data/collections", json=body, headers=bearer(dm_token))
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail.startswith("You do not have permission to access this resource.")
    assert cfg.owner_group(cfg.OBSERVATIONS_NAMESPACE) in detail


def test_collection_with_an_unknown_member_creates_nothing(sandbox, dm_token, unchanged):
    body = {
        "namespace": cfg.DEMO_NAMESPACE,
        "name": f"partial-{uuid.uuid4().hex[:6]}",
        "type": "dataset",
        "dids": [COLD_DID, {"namespace": "ska-mid", "name": "no-such-file"}],
    }
    response = httpx.post(f"{sandbox.data_management_api_url}/data/collections", json=body, headers=bearer(dm_token))
    assert response.status_code == 404 and "ska-mid:no-such-file" in response.json()["detail"]


def test_duplicate_collection(sandbox, dm_token, rucio):
    body = {
        "namespace": cfg.DEMO_NAMESPACE,
        "name": f"dup-{uuid.uuid4().hex[:6]}",
        "type": "dataset",
        "dids": [COLD_DID],
    }
    url = f"{sandbox.data_management_api_url}/data/collections"
    assert httpx.post(url, json=body, headers=bearer(dm_token)).status_code == 201
    before = rucio.snapshot()
    again = httpx.post(url, json=body, headers=bearer(dm_token))
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    assert rucio.snapshot() == before


def test_wrong_audience(sandbox, unchanged):
    sc_token = service_token(sandbox, cfg.SITE_CAPABILITIES_AUDIENCE)
    response = httpx.post(f"{sandbox.data_management_api_url}/data/stage", json=stage(), headers=bearer(sc_token))
    assert response.status_code == 401
    assert "'site-capabilities-api' is not accepted by the data-management-api" in response.json()["detail"]


def test_expired_token(sandbox, unchanged):
    control = Control(sandbox.control_url)
    try:
        control.token_lifetime(1)
        token = service_token(sandbox, DM)
    finally:
        control.token_lifetime(sandbox.config.access_token_lifetime_s)
    time.sleep(2.1)
    response = httpx.post(f"{sandbox.data_management_api_url}/data/stage", json=stage(), headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_job_of_another_user_is_hidden(sandbox, dm_token):
    bob = service_token(sandbox, DM, "bob")
    unknown = httpx.get(f"{sandbox.data_management_api_url}/data/stage/{uuid.uuid4().hex}", headers=bearer(bob))
    assert unknown.status_code == 404
