"""The kernel client's two faces are one verb: they send the same requests and read the same answers."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import srcstage_jlab as srcstage
from srcstage_jlab.kernel.resources import Client

COLLECTION = {"id": "c1", "name": "x", "dids": []}
JOB = {"id": "j1", "did": "user.demo:x", "collection_id": "c1", "state": "SUBMITTED", "phase": "active"}


class Server:
    """A scripted srcstage extension: collections, stage, and a job whose states are given."""

    def __init__(self, *states: tuple[str, str]):
        self.seen: list[tuple] = []
        self.states = list(states)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, dict(request.url.params), body))
        path = request.url.path.removeprefix("/base/srcstage/")
        if path == "collections":
            return httpx.Response(200, json={"collections": [COLLECTION]})
        if path == "collections/c1" and request.method == "PATCH":
            return httpx.Response(200, json={**COLLECTION, "dids": [{"did": d} for d in body["add"]]})
        if path == "collections/c1":
            return httpx.Response(200, json={**COLLECTION, "submitted": {"did": "user.demo:x"}})
        if path == "collections/c1/stage":
            return httpx.Response(200, json=JOB)
        if path == "jobs/j1":
            state, phase = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            return httpx.Response(200, json={**JOB, "state": state, "phase": phase})
        if path == "config":
            return httpx.Response(200, json={"poll_interval_s": 0.01})
        return httpx.Response(404, json={"message": "No such route.", "code": "not_found"})


def client_for(server: Server) -> Client:
    return Client("http://jupyter.test/base/", "jupyter-token", transport=httpx.MockTransport(server))


def test_blocking_and_async_faces_send_the_same_requests():
    blocking, awaiting = Server(("COMPLETED", "completed")), Server(("COMPLETED", "completed"))

    c = client_for(blocking).collection("x")
    job = c.add("ska-mid:a").stage("7d")
    assert job.wait(progress=False).done

    async def go():
        c = await client_for(awaiting).acollection("x")
        await c.aadd("ska-mid:a")
        job = await c.astage("7d")
        return await job.await_done(progress=False)

    assert asyncio.run(go()).done
    assert blocking.seen == awaiting.seen
    assert ("POST", "/base/srcstage/collections/c1/stage", {}, {"lifetime": "7d"}) in blocking.seen


def test_wait_goes_on_through_unknown_states_and_ends_on_completed():
    server = Server(("STAGING", "active"), ("TAPE_ROBOT", "unknown"), ("COMPLETED", "completed"))
    job = client_for(server).job("j1")
    status = job.wait(progress=False, poll_interval=0.001)
    reads = [s for s in server.seen if s[1].endswith("jobs/j1")]
    assert status.state == "COMPLETED" and len(reads) == 3  # job(): STAGING; wait: TAPE_ROBOT, COMPLETED


def test_a_failed_job_raises_staging_failed_with_the_job():
    server = Server(("FAILED", "failed"))
    job = client_for(server).job("j1")
    with pytest.raises(srcstage.StagingFailed) as err:
        job.wait(progress=False, poll_interval=0.001)
    assert err.value.job is job and err.value.job_status.state == "FAILED"


def test_bad_input_is_refused_before_any_request():
    server = Server(("STAGING", "active"))
    c = client_for(server).collection("x")
    before = len(server.seen)
    with pytest.raises(srcstage.InvalidInputError):
        c.add("no-namespace")
    with pytest.raises(srcstage.InvalidInputError):
        c.stage("banana")
    assert len(server.seen) == before


def test_the_jupyter_token_is_sent_and_a_refusal_is_a_server_not_found_error():
    seen = []

    def refuse(request):
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(403, text="Forbidden")

    with pytest.raises(srcstage.ServerNotFoundError) as err:
        Client("http://jupyter.test/", "jupyter-token", transport=httpx.MockTransport(refuse)).collections()
    assert seen == ["token jupyter-token"] and "refused this kernel's token" in str(err.value)
    assert "jupyter-token" not in str(err.value)
