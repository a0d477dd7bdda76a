"""The staging domain without any server: DID grammar, lifetimes, paths, job states,
destination choice on the real SRCNet topology, atomic persistence."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from srcstage_jlab.errors import Conflict, InvalidInput, NoDestination, NotFound
from srcstage_jlab.srcnet.site_capabilities import Topology, choose_destination, inactive_reason
from srcstage_jlab.staging.collections import CollectionStore
from srcstage_jlab.staging.dids import Did, did_safe_name, parse_did, parse_dids
from srcstage_jlab.staging.jobs import TrackedJob, phase_of, progress_of
from srcstage_jlab.staging.lifetimes import describe, parse_lifetime
from srcstage_jlab.staging.paths import deterministic_tail, did_from_tail, find_tail, local_path
from srcstage_jlab.staging.store import JsonFile

# The real SRCNet topology, trimmed (see tests/fixtures/README.md).
REAL_NODES = Path(__file__).resolve().parent / "fixtures" / "site-capabilities-nodes.json"


@pytest.mark.parametrize("text", ["ska-mid:obs-2026-0001", "user.demo:a/b/c.fits", "daac:x_1-2.csv"])
def test_valid_dids_parse(text):
    did = parse_did(text)
    assert str(did) == text


@pytest.mark.parametrize(
    "text, reason",
    [
        ("no-colon", "namespace:name"),
        ("ska-mid:has space", "may only contain"),
        ("ska-mid:a..b", "'..'"),
        ("ska-mid:.hidden", "must start"),
        ("ska-mid:é", "may only contain"),
        ("ska-mid:" + "x" * 251, "at most 250"),
        ("a" * 26 + ":name", "1 to 25"),
        ("bad!ns:name", "1 to 25"),
        ("ska-mid:", "empty"),
    ],
)
def test_invalid_dids_say_why(text, reason):
    with pytest.raises(InvalidInput) as err:
        parse_did(text)
    assert reason in err.value.message


def test_parse_dids_names_every_bad_one_and_accepts_objects():
    with pytest.raises(InvalidInput) as err:
        parse_dids(["ok:fine", "bad one", "ns:x y"])
    assert "'bad one'" in err.value.message and "'ns:x y'" in err.value.message
    assert parse_dids([{"namespace": "a", "name": "b"}]) == [Did("a", "b")]


def test_did_safe_name():
    assert did_safe_name("My run #2 (final)") == "My-run-2-final"
    assert did_safe_name("...") == "collection"
    assert parse_did("user.demo:" + did_safe_name("a..b c"))


@pytest.mark.parametrize(
    "value, seconds",
    [
        (3600, 3600),
        ("3600", 3600),
        ("90s", 90),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("1.5d", 129600),
        ("P7D", 604800),
        ("PT12H", 43200),
        ("P1DT2H", 93600),
        (timedelta(hours=2), 7200),
    ],
)
def test_lifetimes(value, seconds):
    assert parse_lifetime(value) == seconds


@pytest.mark.parametrize("value", ["abc", "", "7x", 0, -5, True, None, "P"])
def test_bad_lifetimes(value):
    with pytest.raises(InvalidInput):
        parse_lifetime(value)


def test_describe_lifetime():
    assert describe(604800) == "1 week" and describe(86400 * 3) == "3 days" and describe(90) == "90 seconds"


def test_deterministic_paths_round_trip():
    for did in (Did("ska-mid", "obs-1.csv"), Did("user.alice", "dir/file.txt")):
        tail = deterministic_tail(did)
        digest = hashlib.md5(str(did).encode()).hexdigest()
        assert f"/{digest[:2]}/{digest[2:4]}/" in tail
        assert did_from_tail(tail) == did
    assert deterministic_tail(Did("user.alice", "f")).startswith("/user/alice/")


def test_replica_url_to_local_path():
    did = Did("ska-mid", "obs.csv")
    url = "https://storage.example.org:8443/sa/storage" + deterministic_tail(did)
    tail = find_tail(url, "/sa/storage")
    assert tail == deterministic_tail(did)
    assert local_path(tail, "/home/jovyan/rse") == "/home/jovyan/rse" + deterministic_tail(did)
    # A root that does not match (stale Site Capabilities): the deterministic suffix is still found.
    assert find_tail(url, "/elsewhere") == deterministic_tail(did)
    assert find_tail("file:///data/not/deterministic.txt", "/elsewhere") is None


@pytest.mark.parametrize(
    "state, phase",
    [
        ("COMPLETED", "completed"),
        ("ok", "completed"),
        ("STAGING", "active"),
        ("REPLICATING", "active"),
        ("STUCK", "active"),
        ("FAILED", "failed"),
        ("EXPIRED", "failed"),
        ("SOMETHING_NEW", "unknown"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_job_phases_never_guess_success(state, phase):
    assert phase_of(state) == phase


def test_job_apply_keeps_unknown_state_verbatim():
    job = TrackedJob(id="j", did="a:b", destination={}, lifetime_s=60)
    assert job.apply({"state": "Teleporting", "progress": {"files_total": 3, "files_ok": 1}})
    assert job.state == "Teleporting" and job.phase == "unknown"
    assert job.progress == {"files_total": 3, "files_done": 1, "bytes_total": None, "bytes_done": None}
    assert not job.apply({"state": "Teleporting", "progress": {"files_total": 3, "files_ok": 1}})
    assert progress_of({"job_id": "x", "state": "STAGING"}) is None


def _area(id_, name, type_="rse", **extra):
    return {"id": id_, "name": name, "type": type_, "relative_path": "/r", "tier": 1, **extra}


def _topology(now):
    past, future = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=1)).isoformat()
    return Topology.from_nodes(
        [
            {
                "name": "N",
                "sites": [
                    {
                        "name": "S",
                        "id": "s1",
                        "storages": [
                            {
                                "id": "st",
                                "base_path": "/base",
                                "areas": [
                                    _area("a-ingest", "INGEST", "ingest"),
                                    _area(
                                        "a-down",
                                        "DOWN",
                                        downtime=[
                                            {
                                                "date_range": f"{past} to {future}",
                                                "type": "Unplanned",
                                                "reason": "disk swap",
                                            }
                                        ],
                                    ),
                                    _area("a-off", "OFF", is_force_disabled=True),
                                    _area("a-good", "GOOD"),
                                ],
                            }
                        ],
                        "compute": [
                            {
                                "id": "c1",
                                "associated_local_services": [
                                    {"id": "hub", "type": "jupyterhub", "host": "hub.example.org"},
                                    {"id": "pd", "type": "prepare_data", "associated_storage_area_id": "a-down"},
                                    {"id": "gk", "type": "gatekeeper", "associated_storage_area_id": "a-good"},
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
        now,
    )


def test_destination_prefers_active_sibling_area_and_explains():
    topo = _topology(datetime.now(timezone.utc))
    dest = choose_destination(topo, hub_host="hub.example.org")
    assert dest.area.name == "GOOD" and dest.found_by == "sibling service"
    assert dest.area.root == "/base/r"
    with pytest.raises(NoDestination) as err:
        choose_destination(topo, rse="DOWN")
    assert "downtime" in err.value.message and "disk swap" in err.value.message
    with pytest.raises(NoDestination) as err:
        choose_destination(topo, rse="INGEST")
    assert "'ingest'" in err.value.message
    with pytest.raises(NoDestination) as err:
        choose_destination(topo, hub_host="unknown.example.org")
    assert "unknown.example.org" in err.value.message
    with pytest.raises(NoDestination):
        choose_destination(topo)


def test_downtime_window_only_counts_while_it_lasts():
    now = datetime.now(timezone.utc)
    old = {"downtime": [{"date_range": "2020-01-01T00:00:00Z to 2020-01-02T00:00:00Z", "type": "Planned"}]}
    assert inactive_reason(old, now) is None
    assert "force-disabled" in inactive_reason({"is_force_disabled": True}, now)


def test_destination_on_the_real_srcnet_topology():
    """Real shapes (tests/fixtures): a hub without its own area finds its sibling's area."""
    nodes = json.loads(REAL_NODES.read_text())
    topo = Topology.from_nodes(nodes)
    assert len(topo.areas) > 10
    hubs_without_area = [
        s for s in topo.services if s.get("type") == "jupyterhub" and not s.get("associated_storage_area_id")
    ]
    assert hubs_without_area
    found = 0
    for hub in hubs_without_area:
        try:
            dest = choose_destination(topo, hub_host=hub["host"])
        except NoDestination as err:
            assert err.message  # says why
            continue
        found += 1
        assert dest.area.type == "rse" and dest.area.active
        assert dest.area.site == hub["_site"]
    assert found >= 3


def test_store_survives_a_failed_write(tmp_path):
    store = JsonFile(tmp_path / "c.json")
    store.write_now({"collections": [1]})
    with pytest.raises(TypeError):
        store.write_now({"collections": [object()]})  # fails mid-serialisation
    assert json.loads((tmp_path / "c.json").read_text()) == {"collections": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temp file left behind


def test_collection_store_rules(tmp_path):
    async def scenario():
        store = CollectionStore(tmp_path / "c.json")
        c = await store.create("Run 1", ["a:x", "a:y", "a:x"])
        assert [str(d) for d in c.dids] == ["a:x", "a:y"]
        with pytest.raises(Conflict):
            await store.create("Run 1")
        with pytest.raises(InvalidInput):
            await store.update(c.id, add=["bad did"], remove=["a:x"])
        assert [str(d) for d in store.get(c.id).dids] == ["a:x", "a:y"]  # nothing half-done
        await store.update(c.id, name="Run one", add=["a:z"], remove=["a:x"])
        reopened = CollectionStore(tmp_path / "c.json")
        assert reopened.get(c.id).name == "Run one"
        assert [str(d) for d in reopened.get(c.id).dids] == ["a:y", "a:z"]
        copy = await reopened.import_document(reopened.get(c.id).export())
        assert copy.name == "Run one (2)" and copy.dids == reopened.get(c.id).dids
        await reopened.delete(c.id)
        with pytest.raises(NotFound):
            reopened.get(c.id)

    asyncio.run(scenario())


def test_readme_documents_every_option():
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    # The script loaded in this process (the app is imported already) rather than run as a new one.
    spec = importlib.util.spec_from_file_location("options_doc", root / "scripts" / "options_doc.py")
    options_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(options_doc)
    table = options_doc.options_table()
    assert "c.SrcStage.access" in table
    for doc in ("README.md", "docs/operator-guide.md"):
        text = (root / doc).read_text()
        assert options_doc.replace_block(text, table) == text, f"{doc}: run scripts/options_doc.py --write"


def test_openapi_describes_exactly_the_route_table():
    import re

    import yaml

    from srcstage_jlab.routes import route_table

    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "srcstage_jlab" / "openapi.yaml").read_text())
    documented = {re.sub(r"\{[^}]+\}", "{}", p) for p in spec["paths"]}
    served = {re.sub(r"\([^)]*\)", "{}", pattern[len("/srcstage") :]) for pattern, _ in route_table()}
    assert documented == served
