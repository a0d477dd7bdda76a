"""The public SKA clients' request sequences, replayed against the sandbox over real HTTP.

Facts from the SRCNet astroquery module (astroquery/srcnet/data_access.py): `get_metadata`
sends `GET {dm}/metadata/{namespace}/{name}` with the query `plugin`, POSTGRES_JSON by
default or DID_COLUMN, a DM-audience bearer token in the session; its documentation says a
product without science metadata answers 404 "No metadata found", and that the API falls
back to POSTGRES_JSON when no plugin is given.
"""

from __future__ import annotations

import httpx
import pytest

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed

from .helpers import bearer, service_token


@pytest.fixture(scope="module")
def dm(sandbox):
    token = service_token(sandbox, cfg.DATA_MANAGEMENT_AUDIENCE)
    with httpx.Client(base_url=sandbox.data_management_api_url, headers=bearer(token), timeout=30) as client:
        yield client


def _file_with_metadata() -> tuple[str, str, dict]:
    did, meta = next((d, m) for d, m in seed.science_metadata().items() if d.endswith(".csv"))
    ns, name = did.split(":", 1)
    return ns, name, meta


def test_science_metadata_with_the_clients_default_plugin(dm):
    ns, name, expected = _file_with_metadata()
    answer = dm.get(f"/metadata/{ns}/{name}", params={"plugin": "POSTGRES_JSON"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected
    assert {"obs_id", "facility_name", "freq_min_hz", "freq_max_hz", "t_min"} <= set(answer.json())


def test_no_plugin_means_postgres_json(dm):
    ns, name, expected = _file_with_metadata()
    assert dm.get(f"/metadata/{ns}/{name}").json() == expected
    container = f"{cfg.OBSERVATIONS_NAMESPACE}:survey-2026"
    assert dm.get("/metadata/" + container.replace(":", "/")).json() == seed.science_metadata()[container]


def test_did_column_gives_rucio_fields(dm):
    ns, name, _ = _file_with_metadata()
    sample = next(f for ds in seed.catalogue().datasets for f in ds.files if f.name == name)
    answer = dm.get(f"/metadata/{ns}/{name}", params={"plugin": "DID_COLUMN"})
    assert answer.status_code == 200, answer.text
    meta = answer.json()
    assert meta["bytes"] == sample.size and str(meta["did_type"]).upper() == "FILE"
    assert len(meta["adler32"]) == 8


def test_a_did_without_science_metadata_is_404_no_metadata_found(dm):
    notes = next(f for f, _ in seed.catalogue().loose_files)
    assert f"{notes.scope}:{notes.name}" not in seed.science_metadata()
    for params in ({"plugin": "POSTGRES_JSON"}, {}):
        answer = dm.get(f"/metadata/{notes.scope}/{notes.name}", params=params)
        assert answer.status_code == 404
        assert answer.json()["detail"].startswith("No metadata found")
    # ...while its Rucio fields are there.
    assert dm.get(f"/metadata/{notes.scope}/{notes.name}", params={"plugin": "DID_COLUMN"}).status_code == 200


def test_a_missing_did_is_not_found_and_an_unknown_plugin_is_a_client_error(dm):
    missing = dm.get(f"/metadata/{cfg.OBSERVATIONS_NAMESPACE}/no-such-file.csv")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"].lower()
    assert not missing.json()["detail"].startswith("No metadata found")
    unknown = dm.get(f"/metadata/{cfg.OBSERVATIONS_NAMESPACE}/survey-2026", params={"plugin": "NOPE"})
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["detail"]
