"""The kernel-side API end to end: a real `jupyter lab` with the extension (`srcstage_server`),
the sandbox's SRCNet APIs over a real Rucio, and real staged files on the local area's directory.

Nothing is mocked. Each test uses its own sample files, so they do not depend on one another.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

import srcstage_jlab as srcstage
from srcstage_jlab.sandbox.config import COLD_AREA, LOCAL_AREA
from srcstage_jlab.sandbox.seed import catalogue
from tests.server_plugin import JupyterProcess, demo_token_file, srcstage_config


def cold_files(dataset: str) -> dict[str, int]:
    """``{"ska-mid:<file>": size}`` for a sample dataset that is on tape only."""
    ds = next(d for d in catalogue().datasets if f"{d.scope}:{d.name}" == dataset)
    assert ds.rses == (COLD_AREA.name,) and LOCAL_AREA.name not in ds.rses
    return {f"{f.scope}:{f.name}": f.size for f in ds.files}


def sample_content(did: str) -> bytes:
    cat = catalogue()
    for f in [f for ds in cat.datasets for f in ds.files] + [f for f, _ in cat.loose_files]:
        if f"{f.scope}:{f.name}" == did:
            return f.content()
    raise KeyError(did)


@pytest.fixture
def client(srcstage_server):
    c = srcstage.connect(srcstage_server.url, srcstage_server.token)
    yield c
    c.close()


def unique(prefix: str) -> str:
    return f"{prefix} {time.time_ns()}"


def test_full_flow_collect_submit_stage_wait_read(client, sandbox, capsys):
    files = list(cold_files("ska-mid:obs-2026-0001"))[3:5]  # vis-04, vis-05
    files.append(list(cold_files("ska-mid:obs-2026-0001"))[0])  # vis-01
    name = unique("client flow")

    c = srcstage.collection(name)
    assert c.dids == [] and name in [x.name for x in srcstage.collections()]
    assert srcstage.collection(name).id == c.id  # opened, not created twice
    assert c.add(files[0], [files[1], files[2], files[0]]) is c
    assert c.dids == files and len(c) == 3 and files[1] in c

    did = c.submit()
    assert did.startswith("user.demo:client-flow-") and c.submitted_did == did and not c.submitted_stale
    assert c.submit() == did  # idempotent
    dm_bytes = {e.did: e.bytes for e in c.refresh().entries}
    assert all(isinstance(b, int) and b > 0 for b in dm_bytes.values()), dm_bytes

    check = c.precheck(lifetime=timedelta(days=1))
    assert check.ok and check.lifetime_s == 86400 and check.files == 3
    assert check.bytes == sum(dm_bytes.values())
    assert check.destination.name == sandbox.local_area["name"]
    assert "Precheck OK" in repr(check) and "SANDBOX_LOCAL" in repr(check)

    job = c.stage(lifetime="1d")
    assert job.lifetime_s == 86400 and job.did == did and job.collection_id == c.id
    assert job.destination == sandbox.local_area["name"]
    assert job.id in [j.id for j in srcstage.jobs()] and job.id in [j.id for j in c.jobs()]
    if job.phase != "completed":
        with pytest.raises(srcstage.NotStagedError) as early:
            job.paths()
        assert "job.wait()" in str(early.value)

    final = job.wait(timeout=120, progress="text")
    assert final.done and final.state == "COMPLETED" and job.phase == "completed"
    assert final.files_done == final.files_total == 3
    assert final.bytes_done == final.bytes_total == sum(dm_bytes.values())
    bar = capsys.readouterr().err
    assert "\r" in bar and "COMPLETED" in bar and bar.endswith("\n")

    paths = job.paths()
    assert len(paths) == 3 and all(isinstance(p, str) for p in paths)
    assert sorted(c.paths()) == sorted(paths)
    for f in files:
        local = srcstage.path(f)
        assert isinstance(local, str) and local in paths
        assert local.startswith(sandbox.local_area["directory"])
        data = open(local, "rb").read()
        assert len(data) == dm_bytes[f] == os.path.getsize(local)
        assert data == sample_content(f)
    assert sorted(srcstage.path(did)) == sorted(paths)  # the collection's DID: a list

    assert srcstage.job(job.id).status().done
    assert srcstage.session().signed_in and srcstage.session().username == "demo"
    dest = srcstage.destination()
    assert dest.rse == sandbox.local_area["name"] and dest.mount == sandbox.local_area["directory"]


def test_rename_remove_export_import_delete(client, tmp_path):
    c = srcstage.collection(unique("crud"))
    c.add("ska-mid:a", "ska-mid:b", "ska-mid:c").remove("ska-mid:b")
    assert c.dids == ["ska-mid:a", "ska-mid:c"]
    new_name = unique("crud renamed")
    c.rename(new_name)
    assert c.name == new_name and srcstage.collection(new_name, create=False).id == c.id

    doc = c.export(tmp_path / "export.json")
    assert doc == {"format": "srcstage-collection/1", "name": new_name, "dids": ["ska-mid:a", "ska-mid:c"]}
    assert json.loads((tmp_path / "export.json").read_text()) == doc
    copy = srcstage.import_collection(tmp_path / "export.json")
    assert copy.name == f"{new_name} (2)" and copy.dids == c.dids
    again = srcstage.import_collection(json.dumps(doc))
    assert again.name == f"{new_name} (3)"

    for x in (c, copy, again):
        x.delete()
    names = [x.name for x in srcstage.collections()]
    assert new_name not in names and f"{new_name} (2)" not in names
    with pytest.raises(srcstage.NotFoundError):
        srcstage.collection(new_name, create=False)
    with pytest.raises(srcstage.NotFoundError):
        c.refresh()


def test_the_sidebar_and_the_kernel_share_collections_and_jobs(client, srcstage_server):
    # What the sidebar does is plain REST on the same server: do it here, see it in the API.
    name = unique("made in the sidebar")
    made = srcstage_server.request("POST", "srcstage/collections", json={"name": name, "dids": ["ska-mid:x"]})
    assert made.status_code == 201
    c = srcstage.collection(name, create=False)
    assert c.id == made.json()["id"] and c.dids == ["ska-mid:x"]
    c.add("ska-mid:y")
    seen = srcstage_server.get(f"srcstage/collections/{c.id}").json()
    assert [d["did"] for d in seen["dids"]] == ["ska-mid:x", "ska-mid:y"]
    c.delete()


def test_search_and_namespaces(client):
    names = srcstage.namespaces()
    assert "ska-mid" in names and "user.demo" in names.owned
    found = srcstage.search("ska-mid", "obs-2026-000*", type="dataset")
    assert {d.did for d in found} >= {"ska-mid:obs-2026-0001", "ska-mid:obs-2026-0002"}
    assert all(d.type == "dataset" for d in found) and not found.truncated
    few = srcstage.search("ska-low", "scale-*", type="file", limit=5)
    assert len(few) == 5 and few.truncated


# --- errors -------------------------------------------------------------------------


def test_lifetime_over_the_cap_is_refused_before_anything_is_asked(client, sandbox):
    c = srcstage.collection(unique("too long")).add(list(cold_files("ska-mid:obs-2026-0001"))[1])
    too_long = sandbox.max_stage_lifetime_s + 86400
    with pytest.raises(srcstage.PolicyError) as err:
        c.stage(lifetime=timedelta(seconds=too_long))
    assert err.value.code == "precheck_failed" and err.value.status == 409
    assert [p["code"] for p in err.value.precheck.problems] == ["lifetime_over_cap"]
    check = c.precheck(lifetime=f"{too_long}s")
    assert not check.ok and "lifetime_over_cap" in repr(check)
    assert not [j for j in srcstage.jobs() if j.collection_id == c.id]


def test_lifetime_over_the_dm_cap_shows_the_srcnet_detail(sandbox, tmp_path):
    # A server whose own cap is above the DM policy's: the DM API refuses, its text reaches the user.
    server = JupyterProcess(
        tmp_path, srcstage_config(sandbox, tmp_path / "state", demo_token_file(sandbox, tmp_path), max_lifetime="3650d")
    ).start()
    try:
        c = srcstage.Client(server.url, server.token)
        coll = c.collection("over the DM cap").add(list(cold_files("ska-mid:obs-2026-0001"))[2])
        with pytest.raises(srcstage.PolicyError) as err:
            coll.stage(lifetime="400d")
        e = err.value
        assert e.code == "forbidden" and e.status == 403 and e.service == "data-management"
        assert "exceeds the maximum staging lifetime" in e.detail
        assert "exceeds the maximum staging lifetime" in str(e) and e.message in str(e)
        c.close()
    finally:
        server.stop()


def test_unknown_did_is_not_found(client):
    c = srcstage.collection(unique("unknown")).add("ska-mid:no-such-observation")
    with pytest.raises(srcstage.NotFoundError) as err:
        c.submit()
    assert "ska-mid:no-such-observation" in str(err.value)
    with pytest.raises(srcstage.NotFoundError):
        srcstage.job("no-such-job")


def test_bad_did_syntax_is_invalid_input_and_changes_nothing(client):
    c = srcstage.collection(unique("bad syntax")).add("ska-mid:fine")
    with pytest.raises(srcstage.InvalidInputError) as err:
        c.add("ska-mid:has a space", "ska-mid:also-fine")
    assert "has a space" in str(err.value) and err.value.status == 400
    with pytest.raises(srcstage.InvalidInputError):
        c.add("no-namespace-here")  # refused before any call
    with pytest.raises(srcstage.InvalidInputError):
        c.stage(lifetime="soon")  # the server's lifetime grammar
    assert c.refresh().dids == ["ska-mid:fine"]


def test_over_quota_is_refused_before_anything_is_made(client):
    c = srcstage.collection(unique("too big")).add("ska-mid:deep-field-cube")  # 80 MiB > the 64 MiB quota
    with pytest.raises(srcstage.PolicyError) as err:
        c.stage(lifetime="1d")
    assert "quota" in err.value.message and "Stage less" in err.value.message, err.value
    assert [p["code"] for p in err.value.precheck.problems] == ["over_quota"]
    assert c.refresh().submitted_did is None  # no collection DID was made in SRCNet


def test_not_staged_says_how_and_can_start_the_copy(client):
    with pytest.raises(srcstage.NotStagedError) as err:
        srcstage.path("ska-mid:deep-field-cube")
    assert "srcstage.collection(" in str(err.value) and err.value.job is None

    did = "ska-low:scale-00007.txt"
    with pytest.raises(srcstage.NotStagedError) as err:
        srcstage.path(did, stage="1d")
    job = err.value.job
    assert job is not None and job.collection_name == f"path {did}" and "Staging started" in str(err.value)
    job.wait(timeout=120, progress=False)
    local = srcstage.path(did)
    assert isinstance(local, str) and open(local, "rb").read() == sample_content(did)


def test_not_signed_in(sandbox, tmp_path, monkeypatch):
    monkeypatch.delenv("ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("REFRESH_TOKEN", raising=False)
    server = JupyterProcess(tmp_path, srcstage_config(sandbox, tmp_path / "state", None)).start()
    try:
        c = srcstage.Client(server.url, server.token)
        assert not c.session().signed_in
        with pytest.raises(srcstage.NotSignedInError) as err:
            c.search("ska-mid")
        assert "sign_in()" in str(err.value) and err.value.status == 401
        coll = c.collection("not signed in").add("ska-mid:obs-2026-0001")
        with pytest.raises(srcstage.NotSignedInError):
            coll.stage(lifetime="1d")
        c.close()
    finally:
        server.stop()


def test_wrong_jupyter_token_is_a_server_error_not_an_srcnet_one(srcstage_server):
    c = srcstage.Client(srcstage_server.url, "not-the-token")
    with pytest.raises(srcstage.ServerNotFoundError) as err:
        c.collections()
    assert "refused this kernel's token" in str(err.value)


# --- how a kernel finds the server ------------------------------------------------------


def run_python(code: str, env: dict) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SRCSTAGE_", "JUPYTERHUB_"))}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_headless_process_finds_the_server_from_its_runtime_file(srcstage_server):
    # As under nbclient or papermill: no variables, the parent is no Jupyter server.
    out = run_python(
        "import srcstage_jlab as s; c = s.get_client(); print(c.url); print(c.found_by);"
        "print(len(s.collections()) >= 0)",
        {"JUPYTER_RUNTIME_DIR": srcstage_server.env["JUPYTER_RUNTIME_DIR"]},
    )
    url, how, ok = out.splitlines()
    assert url.rstrip("/").endswith(str(srcstage_server.port)) and "only running server" in how and ok == "True"


def test_environment_variables_point_a_script_at_the_server(srcstage_server, tmp_path):
    out = run_python(
        "import srcstage_jlab as s; print(s.get_client().found_by); print(s.session().username)",
        {
            "SRCSTAGE_SERVER_URL": srcstage_server.url,
            "SRCSTAGE_SERVER_TOKEN": srcstage_server.token,
            "JUPYTER_RUNTIME_DIR": str(tmp_path),
        },
    )
    assert out.split() == ["$SRCSTAGE_SERVER_URL", "demo"]


def test_no_server_anywhere_is_a_clear_error(tmp_path):
    code = "import srcstage_jlab as s\ntry:\n    s.collections()\nexcept s.ServerNotFoundError as e:\n    print(e)\n"
    out = run_python(code, {"JUPYTER_RUNTIME_DIR": str(tmp_path)})
    assert "srcstage.connect(" in out and "SRCSTAGE_SERVER_URL" in out


# --- async, inside a running event loop -------------------------------------------------


async def test_async_variants_inside_a_running_loop(client, sandbox):
    asyncio.get_running_loop()  # pytest-jupyter runs this coroutine in its loop
    did = list(cold_files("ska-mid:obs-2026-0001"))[2]  # vis-03
    c = await srcstage.acollection(unique("async flow"))
    await c.aadd(did)
    assert c.dids == [did]
    assert (await c.aprecheck("12h")).ok

    # The loop stays free while the API waits: a ticker runs alongside.
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    tick = asyncio.ensure_future(ticker())
    job = await c.astage(lifetime=timedelta(hours=12))
    final = await job.await_done(timeout=120, progress=False)
    tick.cancel()
    assert final.done and ticks > 3
    paths = await job.apaths()
    assert len(paths) == 1 and open(paths[0], "rb").read() == sample_content(did)
    assert await srcstage.apath(did) == paths[0]
    assert (await srcstage.ajob(job.id)).phase == "completed"
    assert (await srcstage.asession()).signed_in
    assert any(x.id == c.id for x in await srcstage.acollections())
    with pytest.raises(srcstage.NotFoundError):
        await srcstage.ajob("no-such-job")
    with pytest.raises(srcstage.StagingTimeout):
        other = await srcstage.acollection(unique("async timeout"))
        await other.aadd(list(cold_files("ska-mid:obs-2026-0001"))[1])  # from tape: takes seconds
        slow = await other.astage("1h")
        await slow.await_done(timeout=0.01, progress=False)
    await c.adelete()
