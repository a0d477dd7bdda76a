"""Submitting a collection when its DID name is taken (409), against a scripted DM API.

The StagingService is the real one, built from the extension's own setting defaults; only
the three SRCNet services are scripted (httpx.MockTransport).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote

import httpx
import pytest

from srcstage_jlab import errors
from srcstage_jlab.app import SrcStage
from srcstage_jlab.service import StagingService

from .scripted import LOG, answer, mock_network, scripted_settings, token

ENV = "SRCSTAGE_UNIT_SUBMIT_ACCESS"
FILES = ["ska-mid:obs-1.csv", "ska-mid:obs-2.csv"]


class DataManagementAPI:
    """A scripted DM API: file metadata, and collection DIDs that already exist (name -> members)."""

    def __init__(self, existing: dict[str, list[str]] | None = None):
        self.existing = dict(existing or {})
        self.created: list[dict] = []
        self.read_missing = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        if request.url.host == "auth.test":
            return answer(200, {"access_token": token("dm")})
        if path.startswith("/metadata/"):
            return answer(200, {"type": "file", "bytes": 10})
        if request.method == "POST" and path == "/data/collections":
            body = json.loads(request.content)
            if not body:  # the extension's one-time probe of the route: served routes refuse it as invalid
                return answer(422, {"detail": [{"loc": ["body", "namespace"], "msg": "Field required"}]})
            did = f"{body['namespace']}:{body['name']}"
            if did in self.existing:
                return answer(409, {"detail": f"Data identifier {did} already exists"})
            self.existing[did] = [f"{d['namespace']}:{d['name']}" for d in body["dids"]]
            self.created.append(body)
            return answer(201, {"did": did})
        if request.method == "GET" and path.startswith("/data/collections/"):
            did = ":".join(path.split("/")[3:5])
            if self.read_missing or did not in self.existing:
                return answer(404, {"detail": f"{did} not found"})
            members = self.existing[did]
            return answer(200, {"dids": members, "files": len(members), "bytes": 10 * len(members)})
        return answer(404, {"detail": f"unscripted {request.method} {path}"})


def settings(tmp_path) -> SrcStage:
    """The extension's own settings object (its traitlets and helpers), pointed at the scripted services."""
    return scripted_settings(ENV, state_dir=str(tmp_path), collection_namespace="user.demo")


def submit(tmp_path, monkeypatch, dm: DataManagementAPI, members=FILES, **kwargs):
    monkeypatch.setenv(ENV, token("root", preferred_username="demo"))

    async def go():
        with mock_network(dm):
            service = StagingService(settings(tmp_path), LOG)
        collection = await service.collections.create("my run", members)
        try:
            return await service.submit(collection.id, **kwargs)
        finally:
            await service.stop()

    return asyncio.run(go())


def test_a_free_name_is_created_with_the_members(tmp_path, monkeypatch):
    dm = DataManagementAPI()
    result = submit(tmp_path, monkeypatch, dm)
    assert result["did"] == "user.demo:my-run" and result["created"] is True
    assert [f"{d['namespace']}:{d['name']}" for d in dm.created[0]["dids"]] == FILES
    assert dm.created[0]["type"] == "dataset"


def test_a_409_for_a_did_with_the_same_members_is_ours(tmp_path, monkeypatch):
    dm = DataManagementAPI({"user.demo:my-run": list(FILES)})
    result = submit(tmp_path, monkeypatch, dm)
    assert result["did"] == "user.demo:my-run" and result["created"] is False and dm.created == []
    assert result["collection"]["submitted"]["did"] == "user.demo:my-run"


def test_a_409_for_a_did_with_other_members_moves_on_to_the_next_name(tmp_path, monkeypatch):
    dm = DataManagementAPI({"user.demo:my-run": ["ska-mid:someone-else.csv"]})
    result = submit(tmp_path, monkeypatch, dm)
    assert result["did"] == "user.demo:my-run-2" and result["created"] is True
    assert dm.existing["user.demo:my-run"] == ["ska-mid:someone-else.csv"]  # untouched


def test_several_taken_names_are_skipped_and_an_earlier_copy_of_ours_is_found(tmp_path, monkeypatch):
    dm = DataManagementAPI(
        {"user.demo:my-run": ["ska-mid:x.csv"], "user.demo:my-run-2": ["ska-mid:y.csv"], "user.demo:my-run-3": FILES}
    )
    result = submit(tmp_path, monkeypatch, dm)
    assert result["did"] == "user.demo:my-run-3" and result["created"] is False and dm.created == []


def test_an_explicit_name_with_other_members_is_a_conflict_and_nothing_is_made(tmp_path, monkeypatch):
    dm = DataManagementAPI({"user.demo:chosen": ["ska-mid:x.csv"]})
    with pytest.raises(errors.Conflict) as err:
        submit(tmp_path, monkeypatch, dm, name="chosen")
    assert "user.demo:chosen already exists in SRCNet with other contents" in err.value.message
    assert dm.created == []


def test_a_409_about_something_else_is_shown_with_srcnets_words(tmp_path, monkeypatch):
    dm = DataManagementAPI({"user.demo:my-run": list(FILES)})
    dm.read_missing = True  # the 409 was not "this DID exists"
    with pytest.raises(errors.Conflict) as err:
        submit(tmp_path, monkeypatch, dm)
    assert err.value.detail == "Data identifier user.demo:my-run already exists" and dm.created == []
