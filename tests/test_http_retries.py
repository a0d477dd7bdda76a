"""ServiceClient retries (srcnet/http.py) against scripted SRCNet answers (httpx.MockTransport, fast lane)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from srcstage_jlab.errors import Conflict, Unavailable
from srcstage_jlab.srcnet import http

log = logging.getLogger("test")


def client_answering(*answers, retries: int = 5) -> tuple[http.ServiceClient, list[httpx.Request]]:
    """A DM client whose n-th request gets answers[n] (a status, or an exception to raise)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[len(seen) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"job_id": "j1"} if answer < 300 else {"detail": f"said {answer}"})

    client = http.ServiceClient("data-management", "http://dm.invalid/api/v1", timeout=1, retries=retries, log=log)
    client._http = httpx.AsyncClient(base_url=client.base_url, transport=httpx.MockTransport(handle))
    return client, seen


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(http, "RETRY_BACKOFF_S", (0.01,))


async def test_a_repeatable_post_is_sent_again_after_5xx_and_a_plain_post_is_not():
    client, seen = client_answering(503, 500, 202)
    assert await client.request("POST", "/data/stage", json={"x": 1}, idempotent=False, repeatable=True) == {
        "job_id": "j1"
    }
    assert len(seen) == 3 and {r.content for r in seen} == {b'{"x":1}'}  # the identical request each time
    client, seen = client_answering(503, 202)
    with pytest.raises(Unavailable):
        await client.request("POST", "/data/collections", json={}, idempotent=False)
    assert len(seen) == 1


async def test_a_409_to_a_repeat_says_the_first_probably_took_effect():
    client, _ = client_answering(httpx.ReadTimeout("slow"), 409)
    with pytest.raises(Conflict) as err:
        await client.request("POST", "/data/stage", json={}, idempotent=False, repeatable=True)
    assert "first answer was lost" in err.value.message and err.value.detail == "said 409"
    client, _ = client_answering(409)  # a 409 to a first try is the DM's own refusal, as it said it
    with pytest.raises(Conflict) as err:
        await client.request("POST", "/data/stage", json={}, idempotent=False, repeatable=True)
    assert "first answer was lost" not in err.value.message


async def test_time_outs_stop_the_retries_after_max_timeouts():
    client, seen = client_answering(*[httpx.ReadTimeout("slow")] * 6)
    with pytest.raises(Unavailable) as err:
        await client.request("GET", "/data/list")
    assert len(seen) == http.MAX_TIMEOUTS and "did not answer in time" in err.value.message


async def test_waiting_to_retry_is_visible_while_it_waits(monkeypatch):
    monkeypatch.setattr(http, "RETRY_BACKOFF_S", (0.3,))
    client, _ = client_answering(503, 200)
    call = asyncio.ensure_future(client.request("GET", "/data/list"))
    await asyncio.sleep(0.1)
    assert client.waiting_to_retry == 1
    await call
    assert client.waiting_to_retry == 0 and client.retries_made == 1
