"""Refusals and failures through the server extension: each is explained, SRCNet's `detail`
is passed on verbatim, and a refused request creates nothing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.sandbox.helpers import Control, RucioRoot, service_token
from tests.test_server_flow import three_cold_files, wait_for_job


@pytest.fixture
def control(sandbox):
    ctl = Control(sandbox.control_url)
    yield ctl
    ctl.reset_faults()
    for area in ("SANDBOX_LOCAL",):
        ctl.area(area, downtime=False, force_disabled=False)


@pytest.fixture
def rucio(sandbox):
    client = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    yield client
    client.close()


async def new_collection(api, dids, name=None):
    status, collection = await api("POST", "collections", {"name": name or f"c {time.time_ns()}", "dids": dids})
    assert status == 201, collection
    return collection


async def test_lifetime_over_our_cap_is_refused_before_anything_is_created(api, rucio):
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "400d"})
    assert status == 409 and body["code"] == "precheck_failed"
    assert "400 days" in body["message"] or "longer than" in body["message"]
    assert body["precheck"]["problems"][0]["code"] == "lifetime_over_cap"
    assert rucio.snapshot() == before
    status, jobs = await api("GET", "jobs")
    assert jobs["jobs"] == []


@pytest.mark.parametrize("srcstage_overrides", [{"max_lifetime": "3650d"}])
async def test_dm_lifetime_cap_detail_is_shown_verbatim(api, sandbox, rucio, srcstage_overrides):
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    status, _ = await api("POST", f"collections/{collection['id']}/submit")
    assert status == 200
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "3000d"})
    assert status == 403 and body["code"] == "forbidden" and body["service"] == "data-management"
    # The same request straight to the DM API gives the same detail: we pass it on verbatim.
    direct = httpx.post(
        f"{sandbox.data_management_api_url}/data/stage",
        timeout=30,
        headers={"Authorization": f"Bearer {service_token(sandbox, 'data-management-api')}"},
        json={
            "to_storage_area_uuid": sandbox.local_area["id"],
            "lifetime": 3000 * 86400,
            "dids": [{"namespace": "user.demo", "name": "x"}],
        },
    )
    assert direct.status_code == 403 and direct.json()["detail"] == body["detail"]
    assert rucio.snapshot()["rules"] == before["rules"]


@pytest.mark.parametrize("srcstage_overrides", [{"max_lifetime": "3650d"}])
async def test_stage_refused_after_the_did_was_made_says_both_and_a_retry_makes_no_second(
    api, rucio, srcstage_overrides
):
    """Issue #10 item 7: the collection DID is made, then the DM refuses the staging request."""
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "3000d"})
    assert status == 403 and body["service"] == "data-management", body
    did = body["submitted"]
    assert body["message"] == f"Submitted as {did}; staging refused: {body['detail']}"
    assert body["collection"]["submitted"]["did"] == did and not body["collection"]["submitted"]["stale"]
    made = rucio.snapshot()["dids"]["user.demo"] - before["dids"]["user.demo"]
    status, again = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "3000d"})
    assert status == 403 and again["submitted"] == did
    assert rucio.snapshot()["dids"]["user.demo"] - before["dids"]["user.demo"] == made  # no second DID
    assert rucio.snapshot()["rules"] == before["rules"]
    status, shown = await api("GET", f"collections/{collection['id']}")
    assert shown["submitted"]["did"] == did


# Where the DM does not tell the quota beforehand (route not served), Rucio's own refusal is shown
# verbatim; where it does, the pre-check refuses first (tests/test_server_flow.py).
@pytest.mark.parametrize("srcstage_overrides", [{"dm_routes": {"quota": ""}}])
async def test_quota_exceeded_detail_and_no_rule(api, rucio, srcstage_overrides):
    collection = await new_collection(api, ["ska-mid:deep-field-cube"])
    before = rucio.snapshot()["rules"]
    status, body = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 409 and body["service"] == "data-management", body
    assert "quota" in str(body["detail"]).lower() or "limit" in str(body["detail"]).lower()
    assert rucio.snapshot()["rules"] == before


async def test_foreign_namespace_is_forbidden(api, rucio):
    collection = await new_collection(api, ["ska-mid:obs-2026-0002"])
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/submit", {"namespace": "ska-mid"})
    assert status == 403 and body["code"] == "forbidden" and body["detail"], body
    assert "ska-mid" in str(body["detail"])
    assert rucio.snapshot() == before


async def test_unknown_did_is_named_and_nothing_created(api, rucio):
    collection = await new_collection(api, ["ska-mid:obs-2026-0002", "ska-mid:no-such-thing"])
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/submit")
    assert status == 404 and "ska-mid:no-such-thing" in body["message"], body
    assert rucio.snapshot() == before


async def test_destination_in_downtime_refuses_staging(api, control, rucio):
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    control.area("SANDBOX_LOCAL", downtime=True)
    status, body = await api("GET", "destination", refresh="true")
    assert status == 409 and body["code"] == "no_destination"
    assert "SANDBOX_LOCAL" in body["message"] and "downtime" in body["message"]
    before = rucio.snapshot()
    status, body = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 409 and body["code"] == "precheck_failed" and "downtime" in body["message"]
    assert rucio.snapshot() == before
    control.area("SANDBOX_LOCAL", downtime=False)
    status, body = await api("GET", "destination", refresh="true")
    assert status == 200 and body["storage_area"]["name"] == "SANDBOX_LOCAL"


async def test_dm_down_is_explained_and_tracking_recovers(api, control):
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    control.faults("data-management", down=True)
    status, body = await api("GET", "namespaces")
    assert status == 503 and body["code"] == "unavailable" and "cannot be reached" in body["message"]
    await asyncio.sleep(1.5)
    status, seen = await api("GET", f"jobs/{job['id']}")
    assert seen["phase"] != "failed"  # an outage is not a failed job
    control.faults("data-management", down=False)
    done = await wait_for_job(api, job["id"])
    assert done["phase"] == "completed" and done["error"] is None


async def test_burst_of_dm_5xx_is_ridden_out(api, control, sandbox):
    for _ in range(3):  # a burst no longer than our retries: idempotent calls still succeed
        control.faults("data-management", burst=3)
        status, body = await api("GET", "dids", namespace="ska-mid", name="obs-*")
        assert status == 200, body
    files = await three_cold_files(api)
    collection = await new_collection(api, [f["did"] for f in files])
    control.faults("data-management", burst=2)  # the collection POST fails twice, then works
    status, submitted = await api("POST", f"collections/{collection['id']}/submit")
    assert status == 200, submitted
    rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    name = submitted["did"].split(":", 1)[1]
    assert sum(1 for n in rucio.did_names("user.demo") if n == name) == 1
    rucio.close()
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202
    control.faults("data-management", burst=8)  # status polls fail for a while: tracking waits
    done = await wait_for_job(api, job["id"])
    assert done["phase"] == "completed" and done["error"] is None
    control.faults("data-management", burst=10)  # longer than the retries: explained, not hidden
    status, body = await api("GET", "namespaces")
    assert status == 502 and body["code"] == "unavailable" and "injected fault" in body["detail"]
