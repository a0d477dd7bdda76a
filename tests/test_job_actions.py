"""Job actions through the server extension over the sandbox's real Rucio (issue #15):
extend changes the rule's expiry in Rucio, release removes the rule and the files go from
the destination, a lifetime over the cap is refused with no change in Rucio, and a retry of
a failed job makes one new job however often it is asked. On the confirmed profile the DM
serves neither extend nor release: the actions are reported unavailable, with the reason."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from srcstage_jlab.sandbox.data_management import rucio_time
from tests.sandbox.helpers import Control, RucioRoot, service_token
from tests.test_server_flow import wait_for_job


@pytest.fixture
def rucio(sandbox):
    client = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    yield client
    client.close()


def dm_job(sandbox, job_id: str) -> dict:
    """The DM's own record of a job (its rule ids), straight from the sandbox DM."""
    answer = httpx.get(
        f"{sandbox.data_management_api_url}/data/stage/{job_id}",
        headers={"Authorization": f"Bearer {service_token(sandbox, 'data-management-api')}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def expiry_in_rucio(rucio: RucioRoot, rule_id: str) -> datetime:
    return datetime.fromisoformat(rucio_time(rucio.rule(rule_id)["expires_at"]))


async def scale_files(api, pattern: str, n: int) -> list[str]:
    """Files of ska-low's scale set no other test stages (so their replicas are this test's alone)."""
    status, found = await api("GET", "dids", namespace="ska-low", name=pattern, type="file")
    assert status == 200 and len(found["items"]) >= n, found
    return [item["did"] for item in found["items"][:n]]


async def staged_job(api, dids: list[str], lifetime: str = "1d") -> dict:
    status, collection = await api("POST", "collections", {"name": f"actions {time.time_ns()}", "dids": dids})
    assert status == 201, collection
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": lifetime})
    assert status == 202, job
    return job


async def test_actions_are_offered_where_the_dm_serves_them(api):
    status, config = await api("GET", "config")
    assert status == 200
    actions = config["capabilities"]["job_actions"]
    assert actions["extend"] == {"available": True, "why": None}
    assert actions["release"] == {"available": True, "why": None}
    assert config["capabilities"]["dm_routes"]["extend_stage"]["route"] == "PUT /data/stage/{job_id}"


async def test_extend_changes_the_rule_expiry_in_rucio_and_over_the_cap_changes_nothing(api, sandbox, rucio):
    job = await staged_job(api, await scale_files(api, "scale-0011*", 2))
    [rule_id] = dm_job(sandbox, job["id"])["rule_ids"]
    first = expiry_in_rucio(rucio, rule_id)
    assert abs(first - (datetime.now(timezone.utc) + timedelta(days=1))) < timedelta(minutes=2)

    status, extended = await api("POST", f"jobs/{job['id']}/extend", {"lifetime": "14d"})
    assert status == 200, extended
    now_in_rucio = expiry_in_rucio(rucio, rule_id)
    assert abs(now_in_rucio - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(minutes=2)
    assert extended["lifetime_s"] == 14 * 86400
    assert abs(datetime.fromisoformat(extended["expires_at"]) - now_in_rucio) < timedelta(minutes=2)

    # Over our cap: refused before the DM is asked; the rule in Rucio is as it was.
    calls = Control(sandbox.control_url).stats()["requests"]["data-management"].get("PUT /data/stage/{job_id}", 0)
    over = sandbox.max_stage_lifetime_s + 86400
    status, body = await api("POST", f"jobs/{job['id']}/extend", {"lifetime": over})
    assert status == 409 and body["code"] == "precheck_failed", body
    assert body["problems"][0]["code"] == "lifetime_over_cap" and "longer than" in body["message"]
    assert expiry_in_rucio(rucio, rule_id) == now_in_rucio
    after = Control(sandbox.control_url).stats()["requests"]["data-management"].get("PUT /data/stage/{job_id}", 0)
    assert after == calls
    status, same = await api("GET", f"jobs/{job['id']}")
    assert same["expires_at"] == extended["expires_at"]

    # A job that has not failed is not retried.
    status, body = await api("POST", f"jobs/{job['id']}/retry")
    assert status == 409 and body["code"] == "conflict" and "nothing to retry" in body["message"]

    status, body = await api("POST", f"jobs/{job['id']}/extend", {"lifetime": "soon"})
    assert status == 400 and body["code"] == "invalid_input" and expiry_in_rucio(rucio, rule_id) == now_in_rucio


async def test_release_removes_the_rule_and_the_files_go_from_the_destination(api, sandbox, rucio):
    job = await staged_job(api, await scale_files(api, "scale-0012*", 2))
    done = await wait_for_job(api, job["id"])
    assert done["phase"] == "completed", done
    status, paths = await api("GET", f"jobs/{job['id']}/paths")
    assert status == 200 and len(paths["paths"]) == 2 and all(os.path.exists(p["path"]) for p in paths["paths"])
    [rule_id] = dm_job(sandbox, job["id"])["rule_ids"]

    status, released = await api("POST", f"jobs/{job['id']}/release")
    assert status == 200, released
    assert released["phase"] == "released" and released["state"] == "RELEASED"

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (
        rucio.rule(rule_id) is not None or any(os.path.exists(p["path"]) for p in paths["paths"])
    ):
        await asyncio.sleep(1)
    assert rucio.rule(rule_id) is None, "the rule is still in Rucio"
    assert not any(os.path.exists(p["path"]) for p in paths["paths"]), "the files are still at the destination"
    # Releasing again changes nothing and says the same; extending a released copy is refused.
    status, again = await api("POST", f"jobs/{job['id']}/release")
    assert status == 200 and again["phase"] == "released"
    status, body = await api("POST", f"jobs/{job['id']}/extend", {"lifetime": "1d"})
    assert status == 409 and body["code"] == "conflict"


async def test_retry_of_a_failed_job_makes_one_new_job(api, sandbox, rucio):
    # A lifetime of one second, on files on tape (a 2 s recall): the rule expires before the
    # files arrive, Rucio removes it, and the job fails.
    # A file of ska-low's scale set (only on tape) that no other test stages: one already staged
    # by an earlier test of the session would complete at once instead of failing.
    job = await staged_job(api, await scale_files(api, "scale-0014*", 1), lifetime="1s")
    failed = await wait_for_job(api, job["id"])
    assert failed["phase"] == "failed", failed

    stats = Control(sandbox.control_url)
    before = stats.stats()["requests"]["data-management"].get("POST /data/stage", 0)
    # Two clicks at once, then a third: one staging request, one new job.
    (s1, new1), (s2, new2) = await asyncio.gather(
        api("POST", f"jobs/{job['id']}/retry"), api("POST", f"jobs/{job['id']}/retry")
    )
    s3, new3 = await api("POST", f"jobs/{job['id']}/retry")
    assert (s1, s2, s3) == (202, 202, 202), (new1, new2, new3)
    assert new1["id"] == new2["id"] == new3["id"] != job["id"]
    assert new1["retry_of"] == job["id"]
    assert stats.stats()["requests"]["data-management"].get("POST /data/stage", 0) == before + 1
    status, jobs = await api("GET", "jobs")
    assert sorted(j["id"] for j in jobs["jobs"]) == sorted([job["id"], new1["id"]])
    status, old = await api("GET", f"jobs/{job['id']}")
    assert old["retried_by"] == new1["id"]
    # Both jobs' rules live one second; Rucio removes them soon. Wait for that here, so that no
    # later test of the session sees the user's rules change under it.
    rules = [r for j in (job, new1) for r in dm_job(sandbox, j["id"]).get("rule_ids") or []]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(rucio.rule(r) is not None for r in rules):
        await asyncio.sleep(1)
    assert not any(rucio.rule(r) is not None for r in rules), "the one-second rules are still in Rucio"
