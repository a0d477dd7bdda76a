"""Download mode in the session's in-process server, configured with no mount: `GET /srcstage/paths`
downloads a file staged at the destination over the sandbox's WebDAV with the DM's download token,
verifies it, reuses it on a second call and fetches a corrupted copy again; no token in the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed


@pytest.fixture
def srcstage_overrides(sandbox, tmp_path):
    return {
        "mounts": {},
        "access": "auto",
        "download_dir": str(tmp_path / "dl"),
        "storage_ca_file": sandbox.storage_ca_file,
    }


async def test_paths_download_verify_reuse_and_refetch_without_a_mount(api, tmp_path):
    notes = next(f for f, rse in seed.catalogue().loose_files if rse == cfg.LOCAL_AREA.name)
    did = f"{notes.scope}:{notes.name}"
    status, first = await api("GET", "paths", did=did)
    assert status == 200, first
    assert first["root"] == str(tmp_path / "dl") and first["missing"] == 0
    [entry] = first["paths"]
    assert entry["did"] == did and entry["path"].startswith(str(tmp_path / "dl") + "/")
    path = Path(entry["path"])
    assert path.read_bytes() == notes.content()
    assert "access_token" not in str(first) and "eyJ" not in str(first)

    status, again = await api("GET", "paths", did=did)
    assert status == 200 and again["downloaded"]["reused"] == 1 and again["downloaded"]["refetched"] == 0

    path.write_bytes(b"!" + notes.content()[1:])  # corrupted in place
    status, fixed = await api("GET", "paths", did=did)
    assert status == 200 and fixed["downloaded"]["refetched"] == 1 and not fixed["downloaded"]["failed"]
    assert path.read_bytes() == notes.content()


async def test_a_staged_collections_files_are_downloaded_by_job_paths(api, tmp_path):
    from tests.test_server_flow import wait_for_job

    status, found = await api("GET", "dids", namespace="ska-mid", name="obs-2026-0002*", type="file")
    assert status == 200, found
    files = [i for i in found["items"] if i["type"] == "file"][:2]
    status, collection = await api("POST", "collections", {"name": "download me", "dids": [f["did"] for f in files]})
    assert status in (200, 201), collection
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    job = await wait_for_job(api, job["id"], timeout=150)
    assert job["phase"] == "completed", job
    status, paths = await api("GET", f"jobs/{job['id']}/paths")
    assert status == 200 and paths["missing"] == 0 and len(paths["paths"]) == 2, paths
    assert not paths["downloaded"]["failed"]  # each verified against its adler32 before it is kept
    for entry in paths["paths"]:
        data = Path(entry["path"]).read_bytes()
        size = next(f["bytes"] for f in files if f["did"] == entry["did"])
        assert entry["path"].startswith(str(tmp_path / "dl")) and len(data) == size


async def test_downloads_route_during_and_after_a_download(api, sandbox, tmp_path):
    """`GET /downloads` while `GET /paths` downloads (the DM slowed so the download lasts), then after."""
    import asyncio

    from tests.sandbox.helpers import Control

    note = [f for f, rse in seed.catalogue().loose_files if rse == cfg.LOCAL_AREA.name][1]
    did = f"{note.scope}:{note.name}"
    control = Control(sandbox.control_url)
    control.faults("data-management", latency_ms=700)
    try:
        paths = asyncio.ensure_future(api("GET", "paths", did=did))
        during = None
        while not paths.done():
            status, seen = await api("GET", "downloads", did=did)
            assert status == 200, seen
            if seen["downloads"] and seen["downloads"][0]["running"] and seen["downloads"][0]["files_total"]:
                during = seen["downloads"][0]
            await asyncio.sleep(0.1)
        status, answer = await paths
    finally:
        control.reset_faults()
    assert status == 200, answer
    assert during is not None, "the download was never seen running"
    assert during["folder"] == str(tmp_path / "dl") and during["files_total"] == 1 and during["files_done"] == 0

    status, after = await api("GET", "downloads")
    assert status == 200
    [done] = [d for d in after["downloads"] if d["did"] == did]
    assert not done["running"] and done["files_done"] == 1 and done["failed"] == {}
    assert done["bytes_done"] == done["bytes_total"] == len(note.content()) and done["bytes_reused"] == 0
    assert after["read_files"] == {"mode": "download", "available": True, "why": None}
    text = str(after)
    assert "eyJ" not in text and "access_token" not in text and "https://" not in text and "davs://" not in text

    status, again = await api("GET", "paths", did=did)  # all reused: counted as reused, nothing fetched
    status, seen = await api("GET", "downloads", did=did)
    assert seen["downloads"][0]["reused"] == 1 and seen["downloads"][0]["bytes_reused"] == len(note.content())


@pytest.mark.parametrize("srcstage_overrides", [{"mounts": {}, "access": "auto", "dm_routes": {"download": ""}}])
async def test_no_mount_and_no_download_route_is_refused_with_one_reason(api):
    notes = next(f for f, rse in seed.catalogue().loose_files if rse == cfg.LOCAL_AREA.name)
    status, config = await api("GET", "config")
    read = config["capabilities"]["read_files"]
    assert status == 200 and read["mode"] == "download" and read["available"] is False
    assert read["why"].startswith("Staged files cannot be read on this server: it has no mount of ")
    status, refused = await api("GET", "paths", did=f"{notes.scope}:{notes.name}")
    assert status == 501 and refused["code"] == "not_served" and refused["message"] == read["why"]
    status, downloads = await api("GET", "downloads")
    assert downloads == {"downloads": [], "read_files": read}
