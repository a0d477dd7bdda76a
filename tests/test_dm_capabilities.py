"""Fast lane: optional DM routes, state words and completion from data, against scripted SRCNet
answers (httpx.MockTransport; the real StagingService, TokenBroker and DM client)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from pathlib import Path

import httpx
import pytest
import traitlets.config

from srcstage_jlab.app import SrcStage
from srcstage_jlab.errors import ExtensionError, NotFound, NotServed
from srcstage_jlab.service import LOCATE_BATCH, LOCATE_PER_POLL, StagingService
from srcstage_jlab.srcnet.data_management import parent_did_in
from srcstage_jlab.staging.jobs import TrackedJob, state_table

FIXTURE = Path(__file__).parent / "fixtures" / "site-capabilities-nodes.json"
AREA = {"name": "AUSSRC_STORM", "id": "f1902d12-9c48-4673-a55a-7e7d05b6c57b"}
ROOT = "https://storm-webdav-oracle.aussrc.org:443/sa/storage"


def fake_jwt(**claims) -> str:
    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': time.time() + 3600, **claims})}.sig"


def replica(did: str) -> str:
    ns, name = did.split(":", 1)
    h = hashlib.md5(did.encode()).hexdigest()
    return f"{ROOT}/{ns}/{h[:2]}/{h[2:4]}/{name}"


class ScriptedSrcnet:
    """Auth exchange, SC /nodes and a DM serving the confirmed contract only; records requests."""

    def __init__(self, members: list[str]):
        self.requests: list[str] = []
        self.state = "QUEUED_SOMEWHERE"
        self.at_destination: set[str] = set()
        self.members = members

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if "/token/exchange/" in path:
            aud = path.rsplit("/", 1)[1]
            return httpx.Response(
                200, json={"access_token": fake_jwt(aud=aud, groups=["data/namespaces/user.me/owner"])}
            )
        if path == "/sc/nodes":
            return httpx.Response(200, json=json.loads(FIXTURE.read_text()))
        if path == "/dm/data/stage" and request.method == "POST":
            return httpx.Response(202, json={"job_id": "j1"})
        if path == "/dm/data/stage/j1":
            return httpx.Response(200, json={"job_id": "j1", "state": self.state})
        if path.startswith("/dm/data/locate/"):
            ns, name = path[len("/dm/data/locate/") :].split("/", 1)
            did = f"{ns}:{name}"
            if did not in self.members:
                return httpx.Response(404, json={"detail": f"Data identifier '{did}' not found"})
            where = [{"identifier": "FAR", "replicas": [f"root://far/{did}"]}]
            if did in self.at_destination:
                where.append(
                    {"identifier": AREA["name"], "associated_storage_area_id": AREA["id"], "replicas": [replica(did)]}
                )
            return httpx.Response(200, json=where)
        if path.startswith("/dm/metadata/"):
            return httpx.Response(200, json={"did_type": "FILE", "bytes": 10})
        if path == "/dm/data/collections" and request.method == "POST":
            return httpx.Response(404, json={"detail": "Not Found"})  # FastAPI: no such route
        if path.startswith("/dm/data/list/"):
            return httpx.Response(405, json={"detail": "Method Not Allowed"})
        return httpx.Response(404, json={"detail": "Not Found"})


def make_service(tmp_path, script, monkeypatch, **overrides) -> StagingService:
    monkeypatch.setenv("SRCSTAGE_TEST_TOKEN", fake_jwt(groups=["data/namespaces/user.me/owner"]))
    settings = {
        "auth_api_url": "http://x/auth",
        "site_capabilities_api_url": "http://x/sc",
        "data_management_api_url": "http://x/dm",
        "retries": 0,
        "access_token_env": "SRCSTAGE_TEST_TOKEN",
        "refresh_token_env": "",
        "device_flow": False,
        "destination_storage_area_id": AREA["id"],
        "mounts": {AREA["name"]: str(tmp_path / "mount")},
        "default_lifetime": "1d",
        "collection_namespace": "user.me",
        "poll_interval": 0.05,
        "max_poll_interval": 0.1,
        "state_dir": str(tmp_path / "state"),
        **overrides,
    }
    # The real extension app holds the settings (its traitlets and their defaults).
    settings = SrcStage(config=traitlets.config.Config({"SrcStage": settings}))
    service = StagingService(settings, logging.getLogger("test"))
    for client in (service.auth_client, service.sc_client, service.dm_client):
        client._http = httpx.AsyncClient(base_url=client.base_url, transport=httpx.MockTransport(script))
    return service


MEMBERS = [f"ska-mid:f{i:03d}" for i in range(40)]


async def test_unserved_routes_are_learnt_once_and_staging_uses_the_confirmed_request(tmp_path, monkeypatch):
    script = ScriptedSrcnet(MEMBERS)
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("c", MEMBERS)
    assert service.capabilities()["dm_routes"]["create_collection"]["served"] is None

    job = await service.stage(collection.id)
    assert job.members == MEMBERS and job.did == "collection of 40 DIDs in user.me"
    assert script.requests.count("POST /dm/data/collections") == 1
    caps = service.public_config()["capabilities"]
    assert caps["dm_routes"]["create_collection"]["served"] is False and caps["stage_via"] == "staging request"
    with pytest.raises(NotServed):
        await service.submit(collection.id)
    with pytest.raises(NotServed) as search:
        await service.search("ska-mid", "*", "all", 10)
    assert "namespace:name" in search.value.message
    with pytest.raises(NotServed):
        await service.search("ska-mid", "*", "all", 10)
    other = await service.collections.create("d", MEMBERS[:3])
    await service.stage(other.id)
    # Each unserved route was asked once in the server's life.
    assert script.requests.count("POST /dm/data/collections") == 1
    assert sum(r.startswith("GET /dm/data/list/") for r in script.requests) == 1
    await service.stop()


async def test_a_route_set_to_empty_is_never_asked(tmp_path, monkeypatch):
    script = ScriptedSrcnet(MEMBERS)
    service = make_service(tmp_path, script, monkeypatch, dm_routes={"create_collection": ""})
    assert service.capabilities()["submit_only"]["available"] is False
    collection = await service.collections.create("c", MEMBERS[:2])
    await service.stage(collection.id)
    assert "POST /dm/data/collections" not in script.requests
    await service.stop()


async def test_a_404_about_a_did_is_not_a_missing_route(tmp_path, monkeypatch):
    service = make_service(tmp_path, ScriptedSrcnet(MEMBERS), monkeypatch)
    from srcstage_jlab.staging.dids import parse_did

    with pytest.raises(NotFound):
        await service.dm.locate(parse_did("ska-mid:nope"))
    assert service.dm.serves("locate") and "locate" not in service.dm.not_served
    await service.stop()


async def test_unknown_state_completes_only_when_every_file_is_at_the_destination(tmp_path, monkeypatch):
    script = ScriptedSrcnet(MEMBERS)
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("c", MEMBERS)
    job = await service.stage(collection.id)
    await service.jobs.stop()  # drive the polls by hand

    script.at_destination = set(MEMBERS[:39])
    for _ in range(4):
        job.apply(await service._job_status(job), service.states)
        assert job.phase == "unknown" and job.state == "QUEUED_SOMEWHERE"
    assert job.progress["files_done"] == 39 and job.progress["files_total"] == 40
    # A DID known to be all there is not located again.
    located = [r for r in script.requests if r.startswith("GET /dm/data/locate/")]
    assert located.count(f"GET /dm/data/locate/ska-mid/{MEMBERS[0]}".replace("ska-mid:", "")) == 1

    script.at_destination = set(MEMBERS)
    job.apply(await service._job_status(job), service.states)
    assert job.phase == "completed" and job.state == "QUEUED_SOMEWHERE" and job.progress_from == "locate"
    for did in MEMBERS:  # the files the mount shows
        h = hashlib.md5(did.encode()).hexdigest()
        f = tmp_path / "mount" / "ska-mid" / h[:2] / h[2:4] / did.split(":")[1]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("x")
    before = len(script.requests)
    paths = await service.job_paths(job.id)
    assert len(script.requests) == before  # what the poller located is not asked again
    assert len(paths["paths"]) == 40 and paths["missing"] == 0
    assert paths["paths"][0]["path"].startswith(str(tmp_path / "mount") + "/ska-mid/")
    await service.stop()


async def test_a_known_failure_word_fails_even_with_files_there_and_words_are_configurable(tmp_path, monkeypatch):
    script = ScriptedSrcnet(MEMBERS[:2])
    service = make_service(tmp_path, script, monkeypatch, state_words={"QUEUED_SOMEWHERE": "failed"})
    collection = await service.collections.create("c", MEMBERS[:2])
    job = await service.stage(collection.id)
    await service.jobs.stop()
    script.at_destination = set(MEMBERS[:2])
    job.apply(await service._job_status(job), service.states)
    assert job.phase == "failed"
    await service.stop()
    with pytest.raises(ValueError):
        state_table({"X": "maybe"})


async def test_locate_per_poll_is_bounded_and_costs_one_batch_while_nothing_is_there(tmp_path, monkeypatch):
    many = [f"ska-mid:g{i:05d}" for i in range(LOCATE_PER_POLL + 500)]
    script = ScriptedSrcnet(many)
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("big", many)
    job = await service.stage(collection.id)
    await service.jobs.stop()

    def located_since(n):
        return sum(r.startswith("GET /dm/data/locate/") for r in script.requests[n:])

    n = len(script.requests)  # nothing there yet: one batch a poll
    job.apply(await service._job_status(job), service.states)
    assert located_since(n) == LOCATE_BATCH and job.progress["files_done"] == 0

    script.at_destination = set(many)  # all there: a poll goes on while batches hit, up to the bound
    n = len(script.requests)
    job.apply(await service._job_status(job), service.states)
    assert located_since(n) == LOCATE_PER_POLL and job.phase != "completed"
    while job.phase != "completed":
        job.apply(await service._job_status(job), service.states)
    # Every DID located once while there, plus the one batch that found nothing.
    assert located_since(0) == len(many) + LOCATE_BATCH
    await service.stop()


async def test_a_poll_stops_at_the_first_batch_that_is_mostly_not_there(tmp_path, monkeypatch):
    many = [f"ska-mid:h{i:04d}" for i in range(400)]
    script = ScriptedSrcnet(many)
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("arriving", many)
    job = await service.stage(collection.id)
    await service.jobs.stop()
    script.at_destination = set(many[:100])  # the first 100 have arrived
    n = len(script.requests)
    job.apply(await service._job_status(job), service.states)
    located = sum(r.startswith("GET /dm/data/locate/") for r in script.requests[n:])
    # 6 full batches (96) hit, the 7th holds 4 hits and 12 misses: stop there.
    assert located == 7 * LOCATE_BATCH and job.progress["files_done"] == 100
    await service.stop()


async def test_a_failing_status_route_does_not_stop_completion_from_the_data(tmp_path, monkeypatch):
    script = ScriptedSrcnet(MEMBERS[:3])
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("c", MEMBERS[:3])
    job = await service.stage(collection.id)
    await service.jobs.stop()

    def status_down(request):  # the status route answers 503; every other route as before
        if request.url.path == "/dm/data/stage/j1":
            return httpx.Response(503, json={"detail": "status backend down"})
        return script(request)

    dm = service.dm_client
    dm._http = httpx.AsyncClient(base_url=dm.base_url, transport=httpx.MockTransport(status_down))
    script.at_destination = set(MEMBERS[:2])
    with pytest.raises(ExtensionError):  # not there yet: the status error stands, progress moves
        await service._job_status(job)
    assert job.progress == {"files_done": 2, "files_total": 3, "bytes_done": None, "bytes_total": None}
    script.at_destination = set(MEMBERS[:3])
    job.apply(await service._job_status(job), service.states)
    assert job.phase == "completed" and job.progress_from == "locate" and job.progress["files_done"] == 3
    await service.stop()


def test_parent_did_is_taken_from_any_field():
    members = {"ska-mid:a"}
    assert parent_did_in({"job_id": "j", "parent": "user.me:c1"}, "user.me", members) == "user.me:c1"
    assert parent_did_in({"container": {"scope": "user.me", "name": "c2"}}, "user.me", members) == "user.me:c2"
    assert parent_did_in({"job_id": "j", "state": "OK"}, "user.me", members) is None
    assert parent_did_in({"echo": "ska-mid:a"}, "ska-mid", members) is None


def test_job_answers_leave_members_out():
    job = TrackedJob(id="j", did="d", destination={}, lifetime_s=1, members=["a:b"] * 3)
    assert "members" not in job.to_json() and job.to_json()["members_count"] == 3
    assert job.to_store()["members"] == ["a:b"] * 3


async def test_summary_of_a_big_collection_of_files_is_estimated_from_a_sample(tmp_path, monkeypatch):
    members = [f"ska-mid:big{i:04d}" for i in range(1000)]
    script = ScriptedSrcnet(members)
    script.at_destination = set(members[::2])  # half of the files are here already
    service = make_service(tmp_path, script, monkeypatch)
    collection = await service.collections.create("big", members)
    precheck = await service.precheck(collection.id)
    located = [r for r in script.requests if r.startswith("GET /dm/data/locate/")]
    assert len(located) == 64, len(located)  # a sample, not 1,000 calls
    assert precheck["sampled"] == {"located": 64, "of": 1000}
    assert precheck["files"] == 1000 and precheck["unknown_reason"] is None
    assert 400 <= precheck["already_at_destination"]["files"] <= 600, precheck["already_at_destination"]
    here = next(r for r in precheck["where"] if r["is_destination"])
    assert here["files"] == precheck["already_at_destination"]["files"]
    # The same sample again (cached): the Stage that follows the summary sees the same estimate.
    again = await service.precheck(collection.id)
    assert again["already_at_destination"] == precheck["already_at_destination"]
    assert len([r for r in script.requests if r.startswith("GET /dm/data/locate/")]) == 64
    await service.stop()
