"""The acceptance walk over real HTTP: login → find the local area → collect → stage → files on disk."""

from __future__ import annotations

import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlparse

import httpx

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed

from .helpers import bearer, device_login, exchange

STAGE_TIMEOUT_S = 120


def _local_area(sc_url: str, token: str) -> dict:
    """The `prepare_data` sibling's area on the compute whose hub is config.JUPYTERHUB_HOST."""
    services = httpx.get(f"{sc_url}/services", headers=bearer(token)).json()
    hub = next(s for s in services if s["type"] == "jupyterhub" and s["host"] == cfg.JUPYTERHUB_HOST)
    sibling = next(
        s
        for s in services
        if s["associated_compute_id"] == hub["associated_compute_id"]
        and s["type"] == "prepare_data"
        and s.get("associated_storage_area_id")
    )
    return httpx.get(f"{sc_url}/storage-areas/{sibling['associated_storage_area_id']}", headers=bearer(token)).json()


def test_acceptance_walk(sandbox):
    login = device_login(sandbox.auth_api_url)
    sc_token = exchange(sandbox.auth_api_url, login["access_token"], cfg.SITE_CAPABILITIES_AUDIENCE)["access_token"]
    area = _local_area(sandbox.site_capabilities_api_url, sc_token)
    assert area["name"] == cfg.LOCAL_AREA.name and area["type"] == "rse"

    dm = httpx.Client(
        base_url=sandbox.data_management_api_url,
        timeout=60,
        headers=bearer(
            exchange(sandbox.auth_api_url, login["access_token"], cfg.DATA_MANAGEMENT_AUDIENCE)["access_token"]
        ),
    )
    cold = next(ds for ds in seed.catalogue().datasets if ds.rses == (cfg.COLD_AREA.name,))
    members = [{"namespace": f.scope, "name": f.name} for f in cold.files[:3]]
    name = f"walk-{uuid.uuid4().hex[:8]}"

    created = dm.post(
        "/data/collections", json={"namespace": cfg.DEMO_NAMESPACE, "name": name, "type": "container", "dids": members}
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"namespace": cfg.DEMO_NAMESPACE, "name": name, "type": "container", "attached": 3}
    collection = dm.get(f"/data/collections/{cfg.DEMO_NAMESPACE}/{name}").json()
    assert collection["files"] == 3 and collection["bytes"] == sum(f.size for f in cold.files[:3])

    staged = dm.post(
        "/data/stage",
        json={
            "to_storage_area_uuid": area["id"],
            "lifetime": 3600,
            "dids": [{"namespace": cfg.DEMO_NAMESPACE, "name": name}],
        },
    )
    assert staged.status_code == 202, staged.text
    job_id = staged.json()["job_id"]

    deadline, status = time.monotonic() + STAGE_TIMEOUT_S, {}
    while time.monotonic() < deadline:
        status = dm.get(f"/data/stage/{job_id}").json()
        assert status["state"] in ("SUBMITTED", "STAGING", "COMPLETED"), status
        if status["state"] == "COMPLETED":
            break
        time.sleep(1)
    assert status["state"] == "COMPLETED", status
    assert status["progress"]["files_ok"] == 3 == status["progress"]["files_total"]
    assert status["progress"]["bytes_ok"] == collection["bytes"]

    located = dm.get(f"/data/locate/{cfg.DEMO_NAMESPACE}/{name}").json()
    here = next(entry for entry in located if entry["associated_storage_area_id"] == area["id"])
    assert here["is_dataset"] is True and len(here["replicas"]) == 3
    area_dir = str(sandbox.config.area_dir(cfg.LOCAL_AREA))
    for url in here["replicas"]:
        path = Path(urlparse(url).path)
        assert str(path).startswith(area_dir), url
        meta = dm.get(f"/metadata/{cfg.OBSERVATIONS_NAMESPACE}/{path.name}", params={"plugin": "DID_COLUMN"}).json()
        data = path.read_bytes()
        assert len(data) == meta["bytes"]
        assert f"{zlib.adler32(data) & 0xFFFFFFFF:08x}" == meta["adler32"]

    rules = dm.get(f"/data/rules/{cfg.DEMO_NAMESPACE}/{name}").json()
    assert rules[0]["state"] == "OK" and rules[0]["rse_expression"] == cfg.LOCAL_AREA.name
