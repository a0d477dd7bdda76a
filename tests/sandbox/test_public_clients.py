"""The public SKA clients' request sequences, replayed against the sandbox over real HTTP.

Facts from the SRCNet astroquery module (astroquery/srcnet/data_access.py): `get_metadata`
sends `GET {dm}/metadata/{namespace}/{name}` with the query `plugin`, POSTGRES_JSON by
default or DID_COLUMN, a DM-audience bearer token in the session; its documentation says a
product without science metadata answers 404 "No metadata found", and that the API falls
back to POSTGRES_JSON when no plugin is given.

Facts from ska-src-clients (the `srcnet` CLI and its API clients): the login's and every
exchanged token's refresh token is decoded as a JWT (without verification) to read `exp`; a
token is renewed with `GET {auth}/refresh?refresh_token=...` or, in the newer client,
`GET {auth}/token?grant_type=refresh_token&refresh_token=...`; a download asks
`GET {dm}/data/locate/{namespace}/{name}` for the replicas, keeps those whose scheme is `https`
or `davs` (anything else is "Unsupported access protocol"), asks
`GET {dm}/data/download/{storage_area_uuid}/{namespace}/{name}` for `{"access_token": ...}`,
and GETs the replica URL with that token as a bearer, streaming it to disk.
"""

from __future__ import annotations

import ssl
import time
import zlib
from urllib.parse import urlparse

import httpx
import jwt
import pytest

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed

from .helpers import Control, bearer, exchange, service_token


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


# --- tokens as ska-src-clients reads and renews them ------------------------------------------


def _refresh_exp(token: dict) -> int:
    """What the client does with a refresh token: decode it, unverified, and read `exp`."""
    return jwt.decode(token["refresh_token"], options={"verify_signature": False})["exp"]


def test_refresh_tokens_are_jwts_with_exp_and_both_refresh_forms_rotate_them(sandbox):
    url = sandbox.auth_api_url
    login = Control(sandbox.control_url).user_tokens(cfg.DEMO_USER.username)
    pair = exchange(url, login["access_token"], cfg.DATA_MANAGEMENT_AUDIENCE)
    assert _refresh_exp(pair) > time.time() + 60

    old_form = httpx.get(f"{url}/refresh", params={"refresh_token": pair["refresh_token"]}, timeout=30)
    assert old_form.status_code == 200, old_form.text
    assert _refresh_exp(old_form.json()) > time.time() + 60
    new_form = httpx.get(
        f"{url}/token",
        params={"grant_type": "refresh_token", "refresh_token": old_form.json()["refresh_token"]},
        timeout=30,
    )
    assert new_form.status_code == 200, new_form.text
    renewed = new_form.json()
    claims = jwt.decode(renewed["access_token"], options={"verify_signature": False})
    assert claims["aud"] == cfg.DATA_MANAGEMENT_AUDIENCE and claims["preferred_username"] == "demo"
    # Still single use on the server, whichever form spent it.
    for spent in (pair["refresh_token"], old_form.json()["refresh_token"]):
        again = httpx.get(f"{url}/token", params={"grant_type": "refresh_token", "refresh_token": spent}, timeout=30)
        assert again.status_code == 401 and "single use" in again.json()["detail"]
    missing = httpx.get(f"{url}/token", params={"grant_type": "refresh_token"}, timeout=30)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "refresh_token"]


# --- a download as ska-src-clients makes it ------------------------------------------------------


def _local_notes() -> tuple[str, str, bytes]:
    notes = next(f for f, rse in seed.catalogue().loose_files if rse == cfg.LOCAL_AREA.name)
    return notes.scope, notes.name, notes.content()


def _webdav_replica(dm, ns: str, name: str) -> tuple[str, str]:
    located = dm.get(f"/data/locate/{ns}/{name}")
    assert located.status_code == 200, located.text
    entry = next(e for e in located.json() if e["identifier"] == cfg.LOCAL_AREA.name)
    urls = [u for u in entry["replicas"] if urlparse(u).scheme in ("https", "davs")]
    assert urls, entry  # the client refuses anything else
    return entry["associated_storage_area_id"], urls[0]


def test_locate_lists_https_replicas_whose_path_is_the_area_path(sandbox, dm):
    ns, name, _ = _local_notes()
    area_id, url = _webdav_replica(dm, ns, name)
    assert area_id == cfg.LOCAL_AREA.id
    assert url.startswith(sandbox.storage_webdav_url + "/")
    assert urlparse(url).path.startswith(str(sandbox.config.area_dir(cfg.LOCAL_AREA)) + "/")


def test_download_token_then_webdav_get_over_tls_with_the_exported_ca(sandbox, dm):
    ns, name, content = _local_notes()
    area_id, url = _webdav_replica(dm, ns, name)
    answer = dm.get(f"/data/download/{area_id}/{ns}/{name}")
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - time.time() <= 600  # short-lived
    with httpx.Client(verify=ssl.create_default_context(cafile=sandbox.storage_ca_file), timeout=30) as storage:
        with storage.stream("GET", url, headers=bearer(token)) as response:
            assert response.status_code == 200
            data = b"".join(response.iter_bytes())
        meta = dm.get(f"/metadata/{ns}/{name}", params={"plugin": "DID_COLUMN"}).json()
        assert data == content and len(data) == meta["bytes"]
        assert f"{zlib.adler32(data) & 0xFFFFFFFF:08x}" == meta["adler32"]
        # A ranged GET resumes a partial download.
        tail = storage.get(url, headers={**bearer(token), "Range": "bytes=10-"})
        assert tail.status_code == 206 and tail.content == content[10:]


def test_webdav_refuses_without_a_token_for_another_did_and_for_writes(sandbox, dm):
    ns, name, _ = _local_notes()
    area_id, url = _webdav_replica(dm, ns, name)
    other = next(f for f, rse in seed.catalogue().loose_files if rse == cfg.LOCAL_AREA.name and f.name != name)
    _, other_url = _webdav_replica(dm, other.scope, other.name)
    token = dm.get(f"/data/download/{area_id}/{ns}/{name}").json()["access_token"]
    dm_token = service_token(sandbox, cfg.DATA_MANAGEMENT_AUDIENCE)
    with httpx.Client(verify=ssl.create_default_context(cafile=sandbox.storage_ca_file), timeout=30) as storage:
        anonymous = storage.get(url)
        assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["WWW-Authenticate"]
        assert storage.get(other_url, headers=bearer(token)).status_code == 403  # scoped to its DID
        assert storage.get(url, headers=bearer(dm_token)).status_code == 401  # a DM token is not a storage token
        assert storage.put(url, headers=bearer(token), content=b"x").status_code == 403
        assert storage.request("DELETE", url, headers=bearer(token)).status_code == 403
    # The file is untouched, and WebDAV counted the refusals.
    assert (
        sandbox.config.area_dir(cfg.LOCAL_AREA) / urlparse(url).path.split(cfg.LOCAL_AREA.name + "/", 1)[1]
    ).exists()
    assert Control(sandbox.control_url).stats()["webdav"]["refused"] >= 4


def test_download_token_refusals(dm):
    ns, name, _ = _local_notes()
    unknown_area = dm.get(f"/data/download/00000000-0000-0000-0000-000000000000/{ns}/{name}")
    assert unknown_area.status_code == 404 and "could not be found" in unknown_area.json()["detail"]
    not_there = dm.get(f"/data/download/{cfg.COLD_AREA.id}/{ns}/{name}")
    assert not_there.status_code == 404 and "no replica" in not_there.json()["detail"]
    missing = dm.get(f"/data/download/{cfg.LOCAL_AREA.id}/{ns}/no-such-file.txt")
    assert missing.status_code == 404
    anonymous = httpx.get(dm.base_url.join(f"data/download/{cfg.LOCAL_AREA.id}/{ns}/{name}"), timeout=30)
    assert anonymous.status_code == 401


def test_the_confirmed_profile_serves_the_download_token_too(confirmed_sandbox):
    token = service_token(confirmed_sandbox, cfg.DATA_MANAGEMENT_AUDIENCE)
    ns, name, content = _local_notes()
    with httpx.Client(base_url=confirmed_sandbox.data_management_api_url, headers=bearer(token), timeout=30) as dm:
        area_id, url = _webdav_replica(dm, ns, name)
        answer = dm.get(f"/data/download/{area_id}/{ns}/{name}")
        assert answer.status_code == 200, answer.text
        assert dm.get(f"/data/quota/{area_id}").status_code in (404, 405)  # adopted: not served here
    tls = ssl.create_default_context(cafile=confirmed_sandbox.storage_ca_file)
    got = httpx.get(url, headers=bearer(answer.json()["access_token"]), verify=tls, timeout=30)
    assert got.status_code == 200 and got.content == content
