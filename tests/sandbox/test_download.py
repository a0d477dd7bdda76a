"""Download mode's core (srcstage_jlab/staging/download.py) against the sandbox's WebDAV storage:
the DM's download token per file, streamed, resumed, adler32-checked, reused when intact and
fetched again when corrupted."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed
from srcstage_jlab.staging.download import FileToFetch, download

from .helpers import Control, bearer, service_token


@pytest.fixture(scope="module")
def dm(sandbox):
    token = service_token(sandbox, cfg.DATA_MANAGEMENT_AUDIENCE)
    with httpx.Client(base_url=sandbox.data_management_api_url, headers=bearer(token), timeout=30) as client:
        yield client


def _items(dm, folder) -> tuple[list[FileToFetch], dict[str, bytes]]:
    items, contents = [], {}
    for f, rse in seed.catalogue().loose_files:
        if rse != cfg.LOCAL_AREA.name:
            continue
        entry = next(e for e in dm.get(f"/data/locate/{f.scope}/{f.name}").json() if e["identifier"] == rse)
        meta = dm.get(f"/metadata/{f.scope}/{f.name}", params={"plugin": "DID_COLUMN"}).json()
        did = f"{f.scope}:{f.name}"
        items.append(FileToFetch(did, entry["replicas"][0], folder / f.name, meta["bytes"], meta["adler32"]))
        contents[did] = f.content()
    return items, contents


def _run(sandbox, dm, items):
    tokens = []

    async def token_for(item: FileToFetch) -> str:
        ns, name = item.did.split(":", 1)
        answer = await asyncio.to_thread(dm.get, f"/data/download/{cfg.LOCAL_AREA.id}/{ns}/{name}")
        answer.raise_for_status()
        tokens.append(item.did)
        return answer.json()["access_token"]

    progress = asyncio.run(download(items, token_for, ca_file=sandbox.storage_ca_file, concurrency=2))
    return progress, tokens


def test_download_verifies_reuses_resumes_and_refetches_a_corrupted_file(sandbox, dm, tmp_path):
    items, contents = _items(dm, tmp_path / "downloads")
    assert len(items) >= 2
    control = Control(sandbox.control_url)

    first, tokens = _run(sandbox, dm, items)
    assert not first.failed and first.files_done == len(items) and first.bytes_done == first.bytes_total
    assert sorted(tokens) == sorted(i.did for i in items)  # one download token per file
    for item in items:
        assert item.dest.read_bytes() == contents[item.did]
    gets = control.stats()["webdav"].get("GET", 0)

    again, tokens = _run(sandbox, dm, items)  # all there intact: no token, no GET
    assert again.reused == len(items) and not tokens and not again.failed
    assert control.stats()["webdav"].get("GET", 0) == gets

    corrupted, partial = items[0], items[1]
    corrupted.dest.write_bytes(b"X" + contents[corrupted.did][1:])  # same size, wrong adler32
    partial.dest.unlink()
    partial.dest.with_name(partial.dest.name + ".part").write_bytes(contents[partial.did][:7])
    fixed, tokens = _run(sandbox, dm, items)
    assert fixed.refetched == 1 and fixed.reused == len(items) - 2 and not fixed.failed
    assert sorted(tokens) == sorted([corrupted.did, partial.did])
    assert corrupted.dest.read_bytes() == contents[corrupted.did]
    assert partial.dest.read_bytes() == contents[partial.did]  # resumed from byte 7 (a Range GET)
    assert not partial.dest.with_name(partial.dest.name + ".part").exists()


def test_a_file_whose_checksum_does_not_match_is_refused_not_kept(sandbox, dm, tmp_path):
    items, _ = _items(dm, tmp_path / "downloads")
    wrong = FileToFetch(items[0].did, items[0].url, items[0].dest, items[0].size, "00000001")
    progress, _ = _run(sandbox, dm, [wrong])
    assert "adler32" in progress.failed[wrong.did]
    assert not wrong.dest.exists() and not wrong.dest.with_name(wrong.dest.name + ".part").exists()
