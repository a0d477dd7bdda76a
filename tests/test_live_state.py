"""One live state: the collection and job listings carry an ETag; unchanged means 304, any change means 200."""

from __future__ import annotations

import uuid

import httpx

import srcstage_jlab as srcstage


async def test_collections_answer_304_while_unchanged_and_200_after_a_change(jp_fetch):
    from tornado.httpclient import HTTPClientError

    first = await jp_fetch("srcstage", "collections")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    try:
        await jp_fetch("srcstage", "collections", headers={"If-None-Match": etag})
        raise AssertionError("an unchanged listing must answer 304")
    except HTTPClientError as err:
        assert err.code == 304 and not err.response.body

    await jp_fetch("srcstage", "collections", method="POST", body='{"name": "live state"}')
    after = await jp_fetch("srcstage", "collections", headers={"If-None-Match": etag})
    assert after.code == 200 and after.headers["ETag"] != etag
    assert "live state" in after.body.decode()


async def test_jobs_answer_304_while_unchanged(jp_fetch):
    from tornado.httpclient import HTTPClientError

    first = await jp_fetch("srcstage", "jobs")
    try:
        await jp_fetch("srcstage", "jobs", headers={"If-None-Match": f'W/{first.headers["ETag"]}, "other"'})
        raise AssertionError("an unchanged job list must answer 304")
    except HTTPClientError as err:
        assert err.code == 304


def listing(server, etag: str = "") -> httpx.Response:
    headers = {"Authorization": f"token {server.token}", "If-None-Match": etag}
    return httpx.get(server.url + "srcstage/collections", headers=headers, timeout=30)


def test_a_collection_made_in_a_kernel_changes_the_listing_etag(srcstage_server):
    etag = listing(srcstage_server).headers["ETag"]
    assert listing(srcstage_server, etag).status_code == 304

    srcstage.connect(srcstage_server.url, srcstage_server.token)
    name = f"from a kernel {uuid.uuid4().hex[:6]}"
    srcstage.collection(name)  # what `import srcstage_jlab as srcstage` in a notebook does

    after = listing(srcstage_server, etag)
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert name in [c["name"] for c in after.json()["collections"]]
