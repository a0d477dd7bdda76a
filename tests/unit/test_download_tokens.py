"""Download mode asks the DM for a storage token per file, so a DID with more files than one token
may name (the sandbox's MAX_TOKEN_FILES; real storages cap a token's scope too) is downloaded whole.
The StagingService and the download code are the real ones; the DM and the storage are scripted."""

from __future__ import annotations

import asyncio
import zlib
from urllib.parse import unquote

import httpx

from srcstage_jlab.app import SrcStage
from srcstage_jlab.sandbox.storage import MAX_TOKEN_FILES
from srcstage_jlab.service import StagingService
from srcstage_jlab.srcnet.site_capabilities import StagingDestination, StorageArea

from .scripted import LOG, answer, mock_network, scripted_settings, token

ENV = "SRCSTAGE_UNIT_DOWNLOAD_ACCESS"
AREA = StorageArea("area-1", "LOCAL_RSE", "rse", 1, None, None, "/rucio")
FILES = MAX_TOKEN_FILES + 20
PARENT = "ska-low:big-dataset"


def download_settings(tmp_path) -> SrcStage:
    """A server in download mode against the scripted SRCNet, downloading under tmp_path."""
    return scripted_settings(
        ENV, state_dir=str(tmp_path / "state"), access="download", download_dir=str(tmp_path / "dl")
    )


def content(name: str) -> bytes:
    return f"# {name}\n".encode() * 3


class SRCNet:
    """The DM refuses one token for the whole DID (too many files), and gives one per file; the
    storage serves a file only with that file's token."""

    def __init__(self):
        self.tokens_asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        if request.url.host == "auth.test":
            return answer(200, {"access_token": token("dm")})
        if path.startswith("/metadata/"):
            name = path.rsplit("/", 1)[-1]
            data = content(name)
            return answer(200, {"type": "file", "bytes": len(data), "adler32": f"{zlib.adler32(data):08x}"})
        if path.startswith(f"/data/download/{AREA.id}/"):
            did = ":".join(path.split("/")[4:6])
            self.tokens_asked.append(did)
            if did == PARENT:
                return answer(400, {"detail": f"{did} has {FILES} files; ask for the files' tokens one by one"})
            return answer(200, {"access_token": f"storage-token-for-{did}"})
        if request.url.host == "storage.test":
            name = path.rsplit("/", 1)[-1]
            if request.headers.get("Authorization") != f"Bearer storage-token-for-ska-low:{name}":
                return httpx.Response(401, text="a token for this file is required")
            return httpx.Response(200, content=content(name))
        return answer(404, {"detail": f"unscripted {request.method} {path}"})


def test_a_did_with_more_files_than_one_token_may_name_is_downloaded_file_by_file(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, token("root", preferred_username="demo"))
    srcnet = SRCNet()
    settings = download_settings(tmp_path)
    names = [f"scale-{i:05d}.txt" for i in range(FILES)]
    urls = {f"ska-low:{n}": f"https://storage.test/rucio/ska-low/ab/cd/{n}" for n in names}

    async def go():
        with mock_network(srcnet):
            service = StagingService(settings, LOG)
            destination = StagingDestination(AREA, "test", "")
            try:
                answer_ = await service._download_answer(PARENT, destination, set(urls), urls)
                return answer_, service.downloads_json()
            finally:
                await service.stop()

    paths, downloads = asyncio.run(go())
    assert paths["missing"] == 0 and not paths["downloaded"]["failed"] and len(paths["paths"]) == FILES
    assert sorted(srcnet.tokens_asked) == sorted(urls)  # one token per file, never one for the whole DID
    for entry in paths["paths"][:3] + paths["paths"][-3:]:
        assert open(entry["path"], "rb").read() == content(entry["did"].split(":", 1)[1])
    [progress] = downloads["downloads"]
    assert progress["did"] == PARENT and progress["files_done"] == FILES and not progress["running"]
    assert "storage-token" not in str(paths) + str(downloads)


def test_two_requests_for_one_did_share_one_download(tmp_path, monkeypatch):
    """Two tabs (or a kernel and the sidebar) asking at once: each file is fetched once, both get
    the paths, and the second waits for the first instead of writing the same files beside it."""
    monkeypatch.setenv(ENV, token("root", preferred_username="demo"))
    srcnet = SRCNet()
    fetched: list[str] = []

    def counting(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            fetched.append(request.url.path)
        return srcnet(request)

    settings = download_settings(tmp_path)
    names = [f"scale-{i:05d}.txt" for i in range(12)]
    urls = {f"ska-low:{n}": f"https://storage.test/rucio/ska-low/ab/cd/{n}" for n in names}

    async def go():
        with mock_network(counting):
            service = StagingService(settings, LOG)
            destination = StagingDestination(AREA, "test", "")
            try:
                first, second = await asyncio.gather(
                    service._download_answer(PARENT, destination, set(urls), urls),
                    service._download_answer(PARENT, destination, set(urls), urls),
                )
                again = await service._download_answer(PARENT, destination, set(urls), urls)
                return first, second, again
            finally:
                await service.stop()

    first, second, again = asyncio.run(go())
    assert first == second and len(first["paths"]) == 12 and first["missing"] == 0
    assert sorted(fetched) == sorted(f"/rucio/ska-low/ab/cd/{n}" for n in names)  # once each
    assert again["downloaded"]["reused"] == 12 and len(fetched) == 12  # a later request starts anew: reuses


def test_an_error_that_is_not_one_files_own_stops_every_file(tmp_path):
    """The download route found not served (or any error of the token exchange) for one file ends
    the whole download: the other files are not left being fetched with nobody watching."""
    from srcstage_jlab.staging.download import FileToFetch, download

    items = [
        FileToFetch(f"ska-low:f{i}", f"https://storage.test/f{i}", tmp_path / f"f{i}", 3, "00000000") for i in range(4)
    ]

    async def token_for(item: FileToFetch) -> str:
        if item.did.endswith("f0"):
            raise RuntimeError("the DM does not serve download tokens")
        await asyncio.sleep(30)  # the others are still waiting for theirs
        return "t"

    async def go():
        try:
            await asyncio.wait_for(download(items, token_for, concurrency=4), 5)
        except RuntimeError as err:
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            return str(err), left
        raise AssertionError("the download did not fail")

    message, left = asyncio.run(go())
    assert message == "the DM does not serve download tokens"
    assert left == []
