"""Transient SRCNet failures are the extension's problem (issue #12 item 3), against the real sandbox.

A staging request that meets a time-out or a 5xx is sent again; the DM answers an identical
repeat with the job the first made, so one click never makes two jobs (counted in Rucio).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.sandbox.helpers import Control, RucioRoot
from tests.test_server_flow import three_cold_files


@pytest.fixture
def control(sandbox):
    ctl = Control(sandbox.control_url)
    yield ctl
    ctl.reset_faults()


@pytest.fixture
def rucio(sandbox):
    client = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    yield client
    client.close()


def rules_on(rucio, did: str) -> list[dict]:
    scope, name = did.split(":", 1)
    return [r for r in rucio._stream("/rules/", account="demo") if (r["scope"], r["name"]) == (scope, name)]


def stage_requests(control) -> int:
    return control.stats()["requests"].get("data-management", {}).get("POST /data/stage", 0)


async def submitted_collection(api) -> dict:
    files = await three_cold_files(api)
    status, collection = await api(
        "POST", "collections", {"name": f"retry {time.time_ns()}", "dids": [f["did"] for f in files]}
    )
    assert status == 201, collection
    status, submitted = await api("POST", f"collections/{collection['id']}/submit")
    assert status == 200, submitted
    return submitted


async def test_5xx_on_the_staging_request_is_retried_into_one_job(api, control, rucio):
    submitted = await submitted_collection(api)
    control.faults("data-management", burst=3)  # the stage POST meets 500, 503, 500, then gets through
    status, job = await api("POST", f"collections/{submitted['collection']['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    assert job["did"] == submitted["did"] and job["phase"] != "failed"
    assert len(rules_on(rucio, submitted["did"])) == 1
    status, jobs = await api("GET", "jobs")
    assert [j["id"] for j in jobs["jobs"]] == [job["id"]]


# The quota route off: its pre-check call would meet the latency first; this test is about the
# staging request's own answer.
@pytest.mark.parametrize("srcstage_overrides", [{"bulk_request_timeout": 2.0, "dm_routes": {"quota": ""}}])
async def test_stage_whose_answer_was_lost_is_not_duplicated(api, control, rucio, srcstage_overrides):
    """The first staging request reaches the DM but its answer comes after our time-out: the repeat
    gets the same job, Rucio holds one rule, and `GET /jobs` said "retrying" meanwhile."""
    submitted = await submitted_collection(api)
    sent_before = stage_requests(control)
    control.faults("data-management", latency_ms=3000)
    click = asyncio.ensure_future(api("POST", f"collections/{submitted['collection']['id']}/stage", {"lifetime": "1d"}))
    notices = set()
    deadline = time.monotonic() + 8
    while not notices and time.monotonic() < deadline:  # the first try times out after 2 s; the repeat waits 0.2 s
        status, jobs = await api("GET", "jobs")
        if jobs["notice"]:
            notices.add(jobs["notice"])
        await asyncio.sleep(0.02)
    assert notices == {"SRCNet is slow to answer; retrying"}
    control.faults("data-management", latency_ms=0)  # the repeat is answered at once
    status, job = await click
    assert status == 202, job
    await asyncio.sleep(2.5)  # the first request is handled now too, long after we gave up on it
    assert stage_requests(control) - sent_before == 2  # the first (answered too late) and its repeat
    assert len(rules_on(rucio, submitted["did"])) == 1
    status, jobs = await api("GET", "jobs")
    assert [j["id"] for j in jobs["jobs"]] == [job["id"]] and jobs["notice"] is None
