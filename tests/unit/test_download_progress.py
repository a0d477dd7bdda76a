"""The notebook's download bar (kernel/progress.py DownloadWatch, transport Watched): while a paths
request lasts, GET /downloads is polled and the DID's download shown; nothing is shown when no bytes
move (every file reused, or a server in mount mode)."""

from __future__ import annotations

import io
import time

import httpx
import pytest

from srcstage_jlab.kernel import resources
from srcstage_jlab.kernel.resources import Client

JOB = {"id": "j1", "did": "user.demo:x", "state": "COMPLETED", "phase": "completed"}
MB = 1_000_000  # human_bytes counts in SI units


class Server:
    """jobs/j1/paths answers after `ticks` polls of GET /downloads, which show `frames` one by one."""

    def __init__(self, frames: list[dict | None], downloaded: dict | None):
        self.frames = frames
        self.downloaded = downloaded
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/base/srcstage/")
        if path == "jobs/j1":
            return httpx.Response(200, json=JOB)
        if path == "downloads":
            frame = self.frames[min(self.polls, len(self.frames) - 1)]
            self.polls += 1
            old = {"did": JOB["did"], "running": False, "files_total": 9, "files_done": 9}  # an earlier download
            return httpx.Response(200, json={"downloads": [frame or old]})
        if path == "jobs/j1/paths":
            while self.polls < len(self.frames):  # answered once every frame was seen
                time.sleep(0.01)
            answer = {"did": JOB["did"], "paths": [{"did": "a:1", "path": "/dl/1"}, {"did": "a:2", "path": "/dl/2"}]}
            if self.downloaded is not None:
                answer["downloaded"] = self.downloaded
            return httpx.Response(200, json=answer)
        return httpx.Response(404, json={"message": "No such route.", "code": "not_found"})


def frame(files_done: int, bytes_done: int, bytes_reused: int = 0) -> dict:
    return {
        "did": JOB["did"],
        "running": True,
        "files_total": 2,
        "files_done": files_done,
        "bytes_total": 4 * MB,
        "bytes_done": bytes_done,
        "bytes_reused": bytes_reused,
        "failed": {},
    }


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(resources, "DOWNLOAD_POLL_S", 0.02)


def paths_with(server: Server) -> tuple[list[str], str]:
    client = Client("http://jupyter.test/base/", "t", transport=httpx.MockTransport(server))
    shown = io.StringIO()
    paths = client.job("j1").paths(progress=shown)
    return paths, shown.getvalue()


def test_a_download_that_moves_bytes_is_shown_until_its_summary():
    downloaded = {"reused": 0, "refetched": 1, "failed": {}}
    paths, shown = paths_with(Server([None, frame(0, 0), frame(1, 2 * MB), frame(1, 3 * MB)], downloaded))
    assert paths == ["/dl/1", "/dl/2"]
    assert "1/2 files" in shown and "3.0 MB/4.0 MB" in shown and "downloading" in shown
    last = shown.rstrip("\n").rsplit("\r", 1)[-1]
    assert "100%" in last and "2/2 files" in last and "downloaded (0 reused, 1 fetched again, 0 failed)" in last
    assert "9/9" not in shown  # the earlier, finished download of the DID is not this one


def test_nothing_is_shown_when_every_file_is_reused_or_the_server_mounts_the_files():
    reused = {"reused": 2, "refetched": 0, "failed": {}}
    assert paths_with(Server([frame(1, 2 * MB, 2 * MB), frame(2, 4 * MB, 4 * MB)], reused))[1] == ""
    paths, shown = paths_with(Server([None, None], None))  # mount mode: no download ever runs
    assert paths == ["/dl/1", "/dl/2"] and shown == ""


def test_python_raises_the_servers_one_reason_when_files_cannot_be_read_here():
    from srcstage_jlab.kernel.errors import SrcStageError

    why = (
        "Staged files cannot be read on this server: it has no mount of LOCAL_RSE, and this Data Management "
        "API does not serve the download route (no route: set to '' in c.SrcStage.dm_routes)."
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/paths"):
            return httpx.Response(501, json={"message": why, "code": "not_served", "service": "data-management"})
        return httpx.Response(200, json={"downloads": []})

    client = Client("http://jupyter.test/base/", "t", transport=httpx.MockTransport(refuse))
    with pytest.raises(SrcStageError) as refused:
        client.path("ska-mid:obs-2026-0002.vis-01.csv", progress=False)
    assert refused.value.message == why and refused.value.code == "not_served"


def test_the_async_face_polls_the_same_way():
    import asyncio

    sync_server = Server([None, frame(0, 0), frame(1, 3 * MB)], {"reused": 0, "refetched": 0, "failed": {}})

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/paths"):
            while sync_server.polls < len(sync_server.frames):
                await asyncio.sleep(0.01)  # the event loop stays free for the polls
        return sync_server(request)

    async def go() -> tuple[list[str], str]:
        client = Client("http://jupyter.test/base/", "t", transport=httpx.MockTransport(handler))
        shown = io.StringIO()
        job = await client.ajob("j1")
        return await job.apaths(progress=shown), shown.getvalue()

    paths, shown = asyncio.run(go())
    assert paths == ["/dl/1", "/dl/2"] and "1/2 files" in shown and "downloaded (0 reused" in shown
