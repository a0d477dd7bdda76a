"""The whole user flow against a DM API that serves only the public contract (issue #10).

`confirmed_sandbox` (one per session) runs `--dm-profile confirmed`: no collection, listing or
rules routes, a staging request answering only `job_id`, a status answering only `job_id` and
`state` in words the extension does not know. Collections of files and datasets from two
namespaces are staged from REST (`jp_fetch`) and from Python; the jobs complete from what
`locate` says is at the destination, and their files are read from the mount.
"""

from __future__ import annotations

import os
import time

import pytest

import srcstage_jlab as srcstage
from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox.data_management import CONFIRMED_STATES
from srcstage_jlab.sandbox.seed import catalogue
from srcstage_jlab.staging.jobs import STATE_WORDS
from srcstage_jlab.staging.summary import is_tape
from tests.sandbox.helpers import Control, RucioRoot
from tests.sandbox_plugin import CONFIRMED_SCALE_FILES
from tests.server_plugin import demo_token_file, running_server, srcstage_config
from tests.test_server_flow import wait_for_job

UNSERVED = ("POST /data/collections", "GET /data/list/{namespace}", "GET /data/collections/{namespace}/{name}")


def files_of(dataset: str) -> dict[str, int]:
    ds = next(d for d in catalogue(CONFIRMED_SCALE_FILES).datasets if f"{d.scope}:{d.name}" == dataset)
    return {f"{f.scope}:{f.name}": f.size for f in ds.files}


def not_found_requests(sb) -> int:
    """DM requests the confirmed sandbox answered with its 'Not Found' route (no template)."""
    counts = Control(sb.control_url).stats()["requests"].get("data-management", {})
    return sum(n for key, n in counts.items() if key.split(" ", 1)[1] == "")


@pytest.fixture
def srcstage_overrides(request, confirmed_sandbox, tmp_path) -> dict:
    """{} (mount mode), or with `indirect` param "download mode": no mount, files downloaded."""
    if getattr(request, "param", None) != "download mode":
        return {}
    return {
        "mounts": {},
        "access": "download",
        "download_dir": str(tmp_path / "dl"),
        "storage_ca_file": confirmed_sandbox.storage_ca_file,
    }


@pytest.fixture
def jp_server_config(confirmed_sandbox, tmp_path, srcstage_state_dir, srcstage_overrides):
    token_file = demo_token_file(confirmed_sandbox, tmp_path)
    return {
        "ServerApp": {"jpserver_extensions": {"srcstage_jlab": True}, "allow_unauthenticated_access": False},
        "SrcStage": srcstage_config(confirmed_sandbox, srcstage_state_dir, token_file, **srcstage_overrides),
    }


def test_the_profile_speaks_words_the_extension_does_not_know():
    assert not set(CONFIRMED_STATES.values()) & set(STATE_WORDS)


async def test_rest_flow_without_collection_routes(api, confirmed_sandbox):
    sb = confirmed_sandbox
    status, config = await api("GET", "config")
    assert config["capabilities"]["dm_routes"]["create_collection"]["served"] is None  # not tried yet

    status, found = await api("GET", "dids", namespace="ska-mid", name="*")
    assert status == 501 and found["code"] == "not_served"
    assert "full name (namespace:name)" in found["message"] and "Traceback" not in str(found)

    cold = list(files_of("ska-mid:obs-2026-0001"))[:2]  # files on tape, namespace ska-mid
    dataset = "ska-low:scale-test-001"  # a dataset of another namespace
    status, collection = await api(
        "POST", "collections", {"name": f"confirmed {time.time_ns()}", "dids": cold + [dataset]}
    )
    assert status == 201

    # The stage verb's dry run (the sidebar's summary): the pre-check, nothing made, no job.
    status, check = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d", "dry_run": True})
    assert status == 200 and check["ok"] and check["lifetime_s"] == 86400, check
    status, jobs = await api("GET", "jobs")
    assert jobs["jobs"] == []

    rucio = RucioRoot(sb.rucio_url, sb.rucio_root)
    before = set(rucio.did_names("user.demo"))
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    assert job["members_count"] == 3 and job["parent_did"] is None
    assert job["did"] == "collection of 3 DIDs in user.demo"
    assert job["state"] not in STATE_WORDS or job["state"] == "SUBMITTED"

    # The DM made ONE parent container in the user's namespace (and its files dataset).
    made = set(rucio.did_names("user.demo")) - before
    assert len([n for n in made if not n.endswith(".files")]) == 1, made
    rucio.close()

    status, config = await api("GET", "config")
    caps = config["capabilities"]
    assert caps["dm_routes"]["create_collection"]["served"] is False and caps["stage_via"] == "staging request"
    assert caps["submit_only"]["available"] is False and "Stage instead" in caps["submit_only"]["why"]
    status, answer = await api("POST", f"collections/{collection['id']}/submit")
    assert status == 501 and answer["code"] == "not_served" and "does not serve" in answer["message"]

    job = await wait_for_job(api, job["id"], timeout=120)
    assert job["phase"] == "completed", job
    assert job["state"] in CONFIRMED_STATES.values()  # shown verbatim
    assert job["progress_from"] == "locate"
    total = len(cold) + len(files_of(dataset))
    assert job["progress"]["files_done"] == job["progress"]["files_total"] == total

    status, collection = await api("GET", f"collections/{collection['id']}")
    assert collection["submitted"]["via"] == "staging request"
    assert "collection of 3 DIDs in user.demo" in collection["submitted"]["description"]

    status, paths = await api("GET", f"jobs/{job['id']}/paths")
    assert status == 200 and paths["missing"] == 0 and len(paths["paths"]) == total, paths
    sizes = {**{d: s for d, s in files_of("ska-mid:obs-2026-0001").items() if d in cold}, **files_of(dataset)}
    for p in paths["paths"]:
        assert p["exists"] and os.path.getsize(p["path"]) == sizes[p["did"]]
    status, one = await api("GET", "paths", did=cold[0])
    assert status == 200 and one["paths"][0]["path"].startswith(sb.local_area["directory"])

    # Per-file states from locate alone: every file at the destination, the cold ones still on tape too.
    status, files = await api("GET", f"jobs/{job['id']}/files")
    assert status == 200 and files["from"] == "locate" and files["not_located"] == 0, files
    assert files["counts"] == {"on_tape": 0, "on_disk": 0, "staged": total}
    assert sorted(f["did"] for f in files["files"]) == sorted(sizes)
    for f in files["files"]:
        assert files["destination"] in f["rses"], f
        if f["did"] in cold:
            assert any(is_tape(r) for r in f["rses"]), f

    # Staging again is the same job; no request goes to a route already known not served.
    unserved_before = not_found_requests(sb)
    status, again = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202 and again["id"] == job["id"]
    status, other = await api("POST", "collections", {"name": f"second {time.time_ns()}", "dids": cold[:1]})
    status, second = await api("POST", f"collections/{other['id']}/stage", {"lifetime": "1d"})
    assert status == 202 and second["id"] != job["id"]
    assert not_found_requests(sb) == unserved_before


async def test_refused_confirmed_stage_changes_nothing(api, confirmed_sandbox):
    rucio = RucioRoot(confirmed_sandbox.rucio_url, confirmed_sandbox.rucio_root)
    before = rucio.snapshot()
    status, collection = await api(
        "POST", "collections", {"name": f"refused {time.time_ns()}", "dids": ["ska-mid:no-such-file"]}
    )
    status, answer = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 404 and "ska-mid:no-such-file" in str(answer["detail"]), answer
    status, answer = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "400d"})
    assert status == 409 and answer["code"] == "precheck_failed"
    status, jobs = await api("GET", "jobs")
    assert jobs["jobs"] == []
    status, unchanged = await api("GET", f"collections/{collection['id']}")
    assert unchanged["submitted"] is None
    assert rucio.snapshot() == before
    rucio.close()


async def test_extend_and_release_are_reported_unavailable_with_the_reason(api, confirmed_sandbox):
    """The confirmed DM answers 405 on PUT/DELETE of a job: learnt once, said in the config,
    and the actions refused with the same one-line reason, nothing sent again."""
    status, config = await api("GET", "config")
    actions = config["capabilities"]["job_actions"]
    for action, route in (("extend", "PUT /data/stage/{job_id}"), ("release", "DELETE /data/stage/{job_id}")):
        assert actions[action]["available"] is False, actions
        assert "does not serve" in actions[action]["why"] and route in actions[action]["why"]
        assert "405" in actions[action]["why"]
    assert actions["retry"]["available"] is True
    status, collection = await api(
        "POST", "collections", {"name": f"actions {time.time_ns()}", "dids": ["ska-mid:obs-2026-0001.vis-04.csv"]}
    )
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    dm_requests = Control(confirmed_sandbox.control_url).stats()["requests"]["data-management"]
    tried = {k: n for k, n in dm_requests.items() if k.startswith(("PUT ", "DELETE "))}
    status, body = await api("POST", f"jobs/{job['id']}/extend", {"lifetime": "14d"})
    assert status == 501 and body["code"] == "not_served" and body["message"] == actions["extend"]["why"]
    status, body = await api("POST", f"jobs/{job['id']}/release")
    assert status == 501 and body["code"] == "not_served" and body["message"] == actions["release"]["why"]
    dm_requests = Control(confirmed_sandbox.control_url).stats()["requests"]["data-management"]
    assert {k: n for k, n in dm_requests.items() if k.startswith(("PUT ", "DELETE "))} == tried
    status, still = await api("GET", f"jobs/{job['id']}")
    assert still["phase"] != "released"


@pytest.fixture(scope="module")
def confirmed_server(confirmed_sandbox, tmp_path_factory):
    yield from running_server(confirmed_sandbox, tmp_path_factory.mktemp("jupyter-confirmed"))


def test_python_api_flow_on_the_confirmed_contract(confirmed_server):
    client = srcstage.connect(confirmed_server.url, confirmed_server.token)
    try:
        files = list(files_of("ska-mid:obs-2026-0001"))[2:4]
        dataset = "ska-low:scale-test-001"  # the only one at this scale
        c = srcstage.collection(f"py confirmed {time.time_ns()}")
        c.add(*files, dataset)
        with pytest.raises(srcstage.SrcStageError) as refused:
            c.submit()
        # The first try learnt it; the answer says why and what to do.
        assert "does not serve" in str(refused.value)
        job = c.stage(lifetime="1d")
        assert job.did == "collection of 3 DIDs in user.demo"
        job.wait(timeout=120, progress=False)
        assert job.phase == "completed", job
        paths = job.paths()
        assert len(paths) == 2 + len(files_of(dataset))
        assert sorted(c.paths()) == sorted(paths)  # the collection knows its files through its job
        where = job.files()
        assert where["counts"]["staged"] == len(paths) and not where["truncated"]
        assert {f["state"] for f in where["files"]} == {"staged"}
        for path in paths:
            with open(path, "rb") as fh:
                assert fh.read(1)
    finally:
        client.close()


def test_widget_hides_extend_and_release_with_the_reason(confirmed_server):
    """The ipywidgets panel on the confirmed contract: for a job holding a copy, no Extend or
    Release button, one line with the DM's reason instead; pressing on regardless is refused."""
    from srcstage_jlab.widgets import StagePanel

    client = srcstage.connect(confirmed_server.url, confirmed_server.token)
    try:
        panel = StagePanel(f"widget confirmed {time.time_ns()}", client=client)
        panel.collection.add("ska-mid:obs-2026-0001.vis-05.csv")
        panel.open_collection(panel.collection.name)
        panel.stage()
        panel.stop()
        assert panel.job.last_status.phase in ("active", "completed"), panel.state.value
        for button in (panel.extend_button, panel.release_button, panel.extend_lifetime):
            assert button.layout.display == "none"
        assert "does not serve" in panel.actions_why.value and "PUT /data/stage/{job_id}" in panel.actions_why.value
        panel._guard(lambda: panel.extend("14d"))
        assert "does not serve" in panel.error.value
        panel.collection.delete()
    finally:
        client.close()


@pytest.mark.parametrize("srcstage_overrides", ["download mode"], indirect=True)
async def test_download_mode_on_the_confirmed_contract(api, confirmed_sandbox, tmp_path):
    """The download route is in SRCNet's public contract: the confirmed profile serves it, so a server
    with no mount reads files there (learnt by the /config probe), and GET /downloads tells how it went."""
    notes = next(f for f, rse in catalogue(CONFIRMED_SCALE_FILES).loose_files if rse == cfg.LOCAL_AREA.name)
    did = f"{notes.scope}:{notes.name}"
    status, config = await api("GET", "config")
    assert status == 200
    assert config["capabilities"]["read_files"] == {"mode": "download", "available": True, "why": None}
    assert config["capabilities"]["dm_routes"]["download"]["served"] is True
    status, paths = await api("GET", "paths", did=did)
    assert status == 200 and paths["missing"] == 0, paths
    assert open(paths["paths"][0]["path"], "rb").read() == notes.content()
    status, downloads = await api("GET", "downloads", did=did)
    [download] = downloads["downloads"]
    assert not download["running"] and download["files_done"] == 1 and download["failed"] == {}
    assert download["folder"] == str(tmp_path / "dl")
