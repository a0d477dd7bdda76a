"""Per-file states of a job (`GET /jobs/{id}/files`) come from DM locate, the confirmed route: a file
with a replica on the destination is staged, one without is still to come from disk elsewhere or
from tape. The StagingService is the real one; the DM answers are scripted."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import httpx

from srcstage_jlab import service as service_module
from srcstage_jlab.service import StagingService
from srcstage_jlab.srcnet.site_capabilities import StagingDestination, StorageArea
from srcstage_jlab.staging.dids import parse_did
from srcstage_jlab.staging.jobs import TrackedJob
from srcstage_jlab.staging.paths import deterministic_tail

from .scripted import LOG, answer, mock_network, token
from .test_submit_conflict import ENV, settings

AREA = StorageArea(id="area-1", name="LOCAL_RSE", type="rse", tier=1, site="S", node="N", root="/data")
HERE, DISK, TAPE = "LOCAL_RSE", "OTHER_RSE", "STFC_TAPE"


def replica(rse: str, did: str) -> str:
    return f"davs://{rse.lower()}.test:443/data{deterministic_tail(parse_did(did))}"


class DataManagementAPI:
    """Where each member's files are: {member DID: {file DID: [RSEs]}}."""

    def __init__(self, where: dict[str, dict[str, list[str]]]):
        self.where = where
        self.located: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        if request.url.host == "auth.test":
            return answer(200, {"access_token": token("dm")})
        if path.startswith("/data/locate/"):
            did = ":".join(path.split("/")[3:5])
            self.located.append(did)
            per_rse: dict[str, list[str]] = {}
            for file_did, rses in self.where[did].items():
                for rse in rses:
                    per_rse.setdefault(rse, []).append(replica(rse, file_did))
            return answer(200, [{"identifier": rse, "replicas": urls} for rse, urls in sorted(per_rse.items())])
        return answer(404, {"detail": f"unscripted {request.method} {path}"})


WHERE = {
    "ska-low:obs-1": {"ska-low:obs-1-vis.ms": [HERE, TAPE], "ska-low:obs-1-cal.ms": [TAPE]},
    "ska-low:obs-2": {"ska-low:obs-2-vis.ms": [DISK, TAPE]},
    "ska-low:image.fits": {"ska-low:image.fits": [HERE]},
}


def run(tmp_path, monkeypatch, dm, body, first_answer=None):
    monkeypatch.setenv(ENV, token("root", preferred_username="demo"))

    async def go():
        with mock_network(dm):
            service = StagingService(settings(tmp_path), LOG)

        async def destination(refresh=False):
            return StagingDestination(AREA, "test", "test")

        service.destination = destination
        try:
            job = TrackedJob(id="j1", did="3 DIDs", destination=AREA.to_json(), lifetime_s=60, members=sorted(WHERE))
            # A job no poller follows (failed, or released): only our calls locate.
            await service.jobs.add(job, first_answer or {"state": "FAILED"})
            return await body(service)
        finally:
            await service.stop()

    return asyncio.run(go())


def test_each_file_is_staged_on_disk_or_on_tape_by_where_its_replicas_are(tmp_path, monkeypatch):
    dm = DataManagementAPI(WHERE)

    async def body(service):
        first = await service.job_files("j1", limit=500)
        asked = list(dm.located)
        second = await service.job_files("j1", limit=2)
        return first, asked, second

    first, asked, second = run(tmp_path, monkeypatch, dm, body)
    assert first["counts"] == {"on_tape": 1, "on_disk": 1, "staged": 2}
    assert [(f["did"], f["state"]) for f in first["files"]] == [
        ("ska-low:obs-1-cal.ms", "on_tape"),  # the slowest to come first
        ("ska-low:obs-2-vis.ms", "on_disk"),
        ("ska-low:image.fits", "staged"),
        ("ska-low:obs-1-vis.ms", "staged"),
    ]
    assert first["files"][1]["rses"] == [DISK, TAPE]
    assert first["not_located"] == 0 and not first["truncated"] and first["from"] == "locate"
    assert sorted(asked) == sorted(WHERE)
    # A DID whose files were all found at the destination is not located again; the rest are.
    assert sorted(dm.located[len(asked) :]) == ["ska-low:obs-1", "ska-low:obs-2"]
    assert second["counts"] == first["counts"] and len(second["files"]) == 2 and second["truncated"]


def test_a_call_locates_a_bounded_number_of_dids_and_counts_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(service_module, "JOB_FILES_LOCATE", 2)
    dm = DataManagementAPI(WHERE)

    async def body(service):
        return await service.job_files("j1", limit=500)

    answer_ = run(tmp_path, monkeypatch, dm, body)
    assert len(dm.located) == 2 and answer_["not_located"] == 1
    assert sum(answer_["counts"].values()) == sum(len(WHERE[d]) for d in dm.located)


def test_a_released_copy_is_looked_at_again_and_files_gone_from_the_destination_say_so(tmp_path, monkeypatch):
    where = {did: dict(files) for did, files in WHERE.items()}
    dm = DataManagementAPI(where)

    async def body(service):
        before = await service.job_files("j1", limit=500)
        service.jobs.get("j1").phase = "released"  # as the release route leaves it
        for files in where.values():  # the reaper removes the destination's replicas
            for rses in files.values():
                if HERE in rses:
                    rses.remove(HERE)
        return before, await service.job_files("j1", limit=500)

    before, after = run(tmp_path, monkeypatch, dm, body)
    assert before["counts"]["staged"] == 2
    assert len(dm.located) == 2 * len(WHERE)  # every DID located again, the complete one too
    # image.fits had its only copy there: located nowhere now, it is listed no more.
    assert after["counts"] == {"on_tape": 2, "on_disk": 1, "staged": 0}
    assert {f["did"]: f["rses"] for f in after["files"]}["ska-low:obs-1-vis.ms"] == [TAPE]
