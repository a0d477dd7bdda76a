"""srcnet/http.py: retries of idempotent calls, time-outs, and SRCNet answers mapped to our errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from srcstage_jlab import errors
from srcstage_jlab.srcnet import http as srcnet_http
from srcstage_jlab.srcnet.http import AuthorizedService

from .scripted import answer, service_client


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(srcnet_http, "RETRY_BACKOFF_S", (0.001, 0.002, 0.003, 0.004))


def run(coro):
    return asyncio.run(coro)


def script(*steps):
    """A handler answering the given steps in order (a Response, or an exception to raise)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = steps[min(len(seen), len(steps) - 1)]
        seen.append(request)
        if isinstance(step, Exception):
            raise step
        return step

    return handler, seen


def test_a_get_is_retried_on_5xx_until_it_answers():
    handler, seen = script(answer(503, {"detail": "busy"}), answer(502), answer(200, {"ok": 1}))
    client = service_client("data-management", handler, retries=3)
    assert run(client.request("GET", "/data/list")) == {"ok": 1}
    assert len(seen) == 3


def test_retries_stop_after_the_configured_number_and_the_last_error_is_raised():
    handler, seen = script(answer(503, {"detail": "still busy"}))
    client = service_client("data-management", handler, retries=2)
    with pytest.raises(errors.Unavailable) as err:
        run(client.request("GET", "/data/list"))
    assert len(seen) == 3 and err.value.detail == "still busy" and err.value.status == 502
    assert "The SRCNet Data Management API failed (HTTP 503)" in err.value.message


def test_a_post_is_never_retried_here():
    handler, seen = script(answer(503), answer(201, {"job_id": "x"}))
    client = service_client("data-management", handler, retries=3)
    with pytest.raises(errors.Unavailable):
        run(client.request("POST", "/data/stage", json={}))
    assert len(seen) == 1


def test_a_post_marked_idempotent_is_retried():
    handler, seen = script(answer(500), answer(201, {"job_id": "x"}))
    client = service_client("data-management", handler, retries=1)
    assert run(client.request("POST", "/data/stage", json={}, idempotent=True)) == {"job_id": "x"}
    assert len(seen) == 2


def test_a_time_out_is_retried_then_said_plainly():
    handler, seen = script(httpx.ReadTimeout("slow"))
    client = service_client("site-capabilities", handler, retries=2)
    with pytest.raises(errors.Unavailable) as err:
        run(client.request("GET", "/nodes"))
    assert len(seen) == 3 and err.value.status == 504
    assert err.value.message == "The SRCNet Site Capabilities API did not answer in time."


def test_a_time_out_then_an_answer_succeeds():
    handler, seen = script(httpx.ConnectTimeout("slow"), answer(200, [1, 2]))
    assert run(service_client("auth", handler).request("GET", "/x")) == [1, 2]
    assert len(seen) == 2


def test_an_unreachable_service_is_unavailable_with_the_failure_named():
    handler, seen = script(httpx.ConnectError("refused"))
    with pytest.raises(errors.Unavailable) as err:
        run(service_client("auth", handler, retries=1).request("GET", "/x"))
    assert len(seen) == 2 and err.value.status == 503 and "ConnectError" in err.value.message


def test_every_call_has_a_timeout_and_bulk_calls_their_own():
    handler, seen = script(answer(200, {}))
    client = service_client("data-management", handler, timeout=7.0)
    run(client.request("GET", "/a"))
    run(client.request("GET", "/b", timeout=300.0))
    first, second = (r.extensions["timeout"] for r in seen)
    assert first["read"] == 7.0 and first["connect"] == 5.0
    assert second["read"] == 300.0 and second["connect"] == 5.0


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, errors.InvalidInput),
        (401, errors.NotSignedIn),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (422, errors.InvalidInput),
    ],
)
def test_4xx_answers_are_not_retried_and_keep_srcnets_detail_verbatim(status, cls):
    handler, seen = script(answer(status, {"detail": f"Rucio said {status}"}))
    with pytest.raises(cls) as err:
        run(service_client("data-management", handler, retries=3).request("GET", "/x"))
    assert len(seen) == 1
    assert err.value.detail == f"Rucio said {status}" and err.value.service == "data-management"


def test_a_text_error_body_is_kept_as_text():
    handler, _ = script(httpx.Response(400, text="plain words from a proxy"))
    with pytest.raises(errors.InvalidInput) as err:
        run(service_client("auth", handler).request("GET", "/x"))
    assert err.value.detail == "plain words from a proxy"


def test_an_answer_that_is_not_json_is_an_error_not_a_crash():
    handler, _ = script(httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(errors.Unavailable) as err:
        run(service_client("data-management", handler).request("GET", "/x"))
    assert err.value.status == 502 and "not JSON" in err.value.message


def test_the_token_goes_in_the_authorization_header():
    handler, seen = script(answer(200, {}))
    run(service_client("data-management", handler).request("GET", "/x", token="tok-1"))
    assert seen[0].headers["Authorization"] == "Bearer tok-1"


class Broker:
    """The two methods AuthorizedService uses, with a new token per exchange."""

    def __init__(self):
        self.issued, self.dropped = 0, []

    async def token_for(self, audience):
        self.issued += 1
        return f"{audience}-{self.issued}"

    def invalidate(self, audience, token):
        self.dropped.append(token)


def test_a_401_drops_the_token_and_retries_once_with_a_new_one():
    handler, seen = script(answer(401, {"detail": "token revoked"}), answer(200, {"ok": True}))
    broker = Broker()
    service = AuthorizedService(service_client("data-management", handler), "dm", broker)
    assert run(service.request("GET", "/x")) == {"ok": True}
    assert [r.headers["Authorization"] for r in seen] == ["Bearer dm-1", "Bearer dm-2"]
    assert broker.dropped == ["dm-1"]


def test_a_second_401_is_not_signed_in_and_not_retried_again():
    handler, seen = script(answer(401, {"detail": "who are you"}))
    service = AuthorizedService(service_client("data-management", handler), "dm", Broker())
    with pytest.raises(errors.NotSignedIn) as err:
        run(service.request("GET", "/x"))
    assert len(seen) == 2 and err.value.detail == "who are you"
