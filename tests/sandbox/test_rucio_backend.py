"""The sandbox's Rucio, tested over its REST API: seed contents, tape recall, real copies, clean stop."""

from __future__ import annotations

import json
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from srcstage_jlab.sandbox import seed
from srcstage_jlab.sandbox.config import COLD_AREA, LOCAL_AREA, OBSERVATIONS_NAMESPACE
from tests.sandbox_plugin import start_sandbox, stop_sandbox


def _stream(resp: httpx.Response) -> list[dict]:
    """Rucio answers lists as one JSON document per line."""
    assert resp.status_code == 200, resp.text
    return [json.loads(line) for line in resp.text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def rucio(sandbox) -> httpx.Client:
    """An httpx client logged in to the sandbox's Rucio as root."""
    root = sandbox.rucio_root
    resp = httpx.get(
        f"{sandbox.rucio_url}/auth/userpass",
        headers={
            "X-Rucio-Account": root["account"],
            "X-Rucio-Username": root["username"],
            "X-Rucio-Password": root["password"],
        },
    )
    assert resp.status_code == 200, resp.text
    with httpx.Client(
        base_url=sandbox.rucio_url, timeout=30, headers={"X-Rucio-Auth-Token": resp.headers["X-Rucio-Auth-Token"]}
    ) as client:
        yield client


def _adler32(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


def test_seed_matches_catalogue(sandbox, rucio):
    """Every DID of seed.summary() is in Rucio with the same type, file count and bytes."""
    expected = seed.summary(sandbox.config)
    assert expected, "the seed summary is empty"
    for did, want in expected.items():
        scope, name = did.split(":", 1)
        meta = rucio.get(f"/dids/{scope}/{name}")
        assert meta.status_code == 200, f"{did}: {meta.text}"
        assert meta.json()["type"].lower() == want["type"], did
        if want["type"] == "file":
            assert meta.json()["bytes"] == want["bytes"], did
        else:
            files = _stream(rucio.get(f"/dids/{scope}/{name}/files"))
            assert (len(files), sum(f["bytes"] for f in files)) == (want["files"], want["bytes"]), did
        # Replica states per RSE (Rucio's replica listing is slow: skip the big scale datasets).
        for rse in want.get("rses", []) if want["files"] <= 50 else []:
            reps = _stream(
                rucio.post(
                    "/replicas/list",
                    json={"dids": [{"scope": scope, "name": name}], "rse_expression": rse, "schemes": ["file"]},
                )
            )
            assert len([r for r in reps if r["states"].get(rse) == "AVAILABLE"]) == want["files"], (did, rse)


def test_seeded_bytes_are_on_disk(sandbox, rucio):
    """A seeded replica's file exists at its PFN with the catalogue's size and adler32."""
    ds = next(
        d
        for d, w in seed.summary(sandbox.config).items()
        if w["type"] == "dataset" and LOCAL_AREA.name in w.get("rses", [])
    )
    scope, name = ds.split(":")
    reps = _stream(
        rucio.post(
            "/replicas/list",
            json={"dids": [{"scope": scope, "name": name}], "rse_expression": LOCAL_AREA.name, "schemes": ["file"]},
        )
    )
    assert reps
    for rep in reps:
        path = Path(urlparse(next(iter(rep["pfns"]))).path)
        assert path.is_relative_to(sandbox.config.area_dir(LOCAL_AREA))
        data = path.read_bytes()
        assert (len(data), _adler32(data)) == (rep["bytes"], rep["adler32"])


def _tape_dataset(sandbox, rucio, n_files: int = 5) -> tuple[str, str, dict[str, bytes]]:
    """A fresh dataset whose files exist only on the cold area (so this test owns its data)."""
    scope, ds = OBSERVATIONS_NAMESPACE, f"test-recall-{uuid.uuid4().hex[:8]}"
    contents = {f"{ds}.part-{i}.txt": f"recall test {ds} part {i}\n".encode() * (50 + i) for i in range(n_files)}
    files = [{"scope": scope, "name": n, "bytes": len(b), "adler32": _adler32(b)} for n, b in contents.items()]
    resp = rucio.post("/replicas/", json={"rse": COLD_AREA.name, "files": files})
    assert resp.status_code == 201, resp.text
    # Write the bytes where Rucio says each replica is.
    for rep in _stream(
        rucio.post(
            "/replicas/list",
            json={
                "dids": [{"scope": scope, "name": n} for n in contents],
                "rse_expression": COLD_AREA.name,
                "schemes": ["file"],
            },
        )
    ):
        path = Path(urlparse(next(iter(rep["pfns"]))).path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[rep["name"]])
    assert rucio.post(f"/dids/{scope}/{ds}", json={"type": "DATASET"}).status_code == 201
    resp = rucio.post(f"/dids/{scope}/{ds}/dids", json={"dids": [{"scope": scope, "name": n} for n in contents]})
    assert resp.status_code == 201, resp.text
    return scope, ds, contents


def test_cold_rule_waits_for_tape_then_copies(sandbox, rucio):
    """A rule from the cold area stays REPLICATING for the tape delay, then goes OK with real, correct bytes."""
    scope, ds, contents = _tape_dataset(sandbox, rucio)
    delay = sandbox.config.tape_delay_s
    t0 = time.monotonic()
    resp = rucio.post(
        "/rules/",
        json={
            "dids": [{"scope": scope, "name": ds}],
            "account": "root",
            "copies": 1,
            "rse_expression": LOCAL_AREA.name,
            "lifetime": 3600,
        },
    )
    assert resp.status_code == 201, resp.text
    rule_id = resp.json()[0]
    states = []
    while True:
        state = rucio.get(f"/rules/{rule_id}").json()["state"]
        elapsed = time.monotonic() - t0
        states.append((round(elapsed, 2), state))
        if state == "OK" or elapsed > delay + 20:
            break
        time.sleep(0.2)
    assert state == "OK", states
    assert "REPLICATING" in {s for _, s in states}, states
    assert all(s != "OK" for t, s in states if t < delay), f"OK before the tape delay of {delay} s: {states}"
    print(f"cold {len(contents)}-file rule OK after {elapsed:.1f} s (tape delay {delay} s)")

    reps = _stream(
        rucio.post(
            "/replicas/list",
            json={"dids": [{"scope": scope, "name": ds}], "rse_expression": LOCAL_AREA.name, "schemes": ["file"]},
        )
    )
    assert {r["name"] for r in reps} == set(contents)
    for rep in reps:
        path = Path(urlparse(next(iter(rep["pfns"]))).path)
        assert path.is_relative_to(sandbox.config.area_dir(LOCAL_AREA))
        data = path.read_bytes()
        assert data == contents[rep["name"]]
        assert (len(data), _adler32(data)) == (rep["bytes"], rep["adler32"])
    rucio.delete(f"/rules/{rule_id}")


def test_parallel_clients(sandbox, rucio):
    """The server takes parallel requests (gunicorn workers x threads on PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    names = [d for d, w in seed.summary(sandbox.config).items() if w["type"] == "dataset"][:8]

    def get(did: str) -> int:
        scope, name = did.split(":")
        return rucio.get(f"/dids/{scope}/{name}").status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(get, names * 4)) == {200}


@pytest.mark.sandbox
def test_stop_leaves_no_process(tmp_path):
    """A sandbox of its own: restart on the same state dir reuses it; SIGTERM leaves nothing behind."""
    first = start_sandbox(tmp_path / "state")
    assert not stop_sandbox(first)
    assert first.process.returncode == 0
    t0 = time.monotonic()
    second = start_sandbox(tmp_path / "state")
    try:
        assert second.timings_s["database"] < 1 and second.timings_s["seed"] < 1, second.timings_s
        assert httpx.get(f"{second.rucio_url}/ping").status_code == 200
    finally:
        left = stop_sandbox(second)
    assert not left, f"left behind: {left}"
    assert second.process.returncode == 0
    assert not (tmp_path / "state" / "ready.json").exists()
    print(f"restart on an existing state dir: {time.monotonic() - t0:.1f} s")
