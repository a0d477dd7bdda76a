"""Job actions against a scripted DM API (the StagingService and JobActions are the real ones):
the extend/release routes are learnt once (405 = not served, said in the capabilities, never
asked again), and a retry of a failed job, clicked twice at once and once more, makes ONE
staging request and one new job."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote

import httpx

from srcstage_jlab import errors
from srcstage_jlab.service import StagingService
from srcstage_jlab.srcnet.site_capabilities import StagingDestination, StorageArea
from srcstage_jlab.staging.jobs import TrackedJob

from .scripted import LOG, answer, mock_network, token
from .test_submit_conflict import ENV, settings

AREA = StorageArea(id="area-1", name="LOCAL", type="rse", tier=1, site="S", node="N", root="/data")


class DataManagementAPI:
    def __init__(self, serves_job_routes: bool):
        self.serves = serves_job_routes
        self.asked: list[str] = []
        self.stages = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        if request.url.host == "auth.test":
            return answer(200, {"access_token": token("dm")})
        self.asked.append(f"{request.method} {path}")
        if path.startswith("/data/stage/") and request.method in ("PUT", "DELETE"):
            if not self.serves:
                return answer(405, {"detail": "Method Not Allowed"})
            return answer(404, {"detail": f"Staging job '{path.rsplit('/', 1)[1]}' could not be found"})
        if request.method == "POST" and path == "/data/stage":
            self.stages += 1
            body = json.loads(request.content)
            assert body["lifetime"] == 3600 and body["to_storage_area_uuid"] == AREA.id
            return answer(202, {"job_id": f"new-{self.stages}", "state": "SUBMITTED"})
        if request.method == "GET" and path.startswith("/data/stage/"):
            return answer(200, {"state": "STAGING"})
        return answer(404, {"detail": f"unscripted {request.method} {path}"})


def run(tmp_path, monkeypatch, dm, body, **overrides):
    monkeypatch.setenv(ENV, token("root", preferred_username="demo"))

    async def go():
        s = settings(tmp_path)
        for key, value in overrides.items():
            setattr(s, key, value)
        with mock_network(dm):
            service = StagingService(s, LOG)
        try:
            return await body(service)
        finally:
            await service.stop()

    return asyncio.run(go())


def test_job_routes_answering_405_are_learnt_once_and_reported(tmp_path, monkeypatch):
    dm = DataManagementAPI(serves_job_routes=False)

    async def body(service):
        await service.actions.learn()
        first = service.capabilities()["job_actions"]
        asked = list(dm.asked)
        await service.actions.learn()
        job = await service.jobs.add(
            TrackedJob(id="j1", did="user.demo:c", destination=AREA.to_json(), lifetime_s=60), {}
        )
        try:
            await service.actions.extend(job.id, "1h")
        except errors.NotServed as err:
            refused = err.message
        return first, asked, list(dm.asked), refused

    first, asked, later, refused = run(tmp_path, monkeypatch, dm, body)
    assert first["extend"]["available"] is False and "405" in first["extend"]["why"]
    assert first["release"]["available"] is False and "DELETE /data/stage/{job_id}" in first["release"]["why"]
    assert sorted(m for m, _ in (a.split(" ", 1) for a in asked)) == ["DELETE", "PUT"]
    assert refused == first["extend"]["why"]
    assert [a for a in later if a.startswith(("PUT", "DELETE"))] == [a for a in asked]  # never asked again


def test_served_job_routes_are_learnt_without_a_change_and_off_when_set_empty(tmp_path, monkeypatch):
    dm = DataManagementAPI(serves_job_routes=True)

    async def body(service):
        await service.actions.learn()
        return service.capabilities()["job_actions"]

    actions = run(tmp_path, monkeypatch, dm, body)
    assert actions["extend"] == {"available": True, "why": None} and actions["release"]["available"] is True
    off = DataManagementAPI(serves_job_routes=True)
    actions = run(tmp_path / "off", monkeypatch, off, body, dm_routes={"release_stage": ""})
    assert actions["release"]["available"] is False and "dm_routes" in actions["release"]["why"]
    assert not [a for a in off.asked if a.startswith("DELETE")]


def test_a_retry_clicked_twice_at_once_and_again_makes_one_job(tmp_path, monkeypatch):
    dm = DataManagementAPI(serves_job_routes=True)

    async def body(service):
        async def destination(refresh=False):
            return StagingDestination(AREA, "test", "test")

        service.destination = destination
        failed = await service.jobs.add(
            TrackedJob(id="old", did="user.demo:c", destination=AREA.to_json(), lifetime_s=3600), {"state": "FAILED"}
        )
        a, b = await asyncio.gather(service.actions.retry(failed.id), service.actions.retry(failed.id))
        c = await service.actions.retry(failed.id)
        return a.id, b.id, c.id, service.jobs.get("old").retried_by, dm.stages

    a, b, c, retried_by, stages = run(tmp_path, monkeypatch, dm, body)
    assert a == b == c == retried_by == "new-1" and stages == 1
