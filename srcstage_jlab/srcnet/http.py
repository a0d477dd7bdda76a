"""One HTTP client per SRCNet service: connection reuse, timeouts, retries, error mapping.

Idempotent calls are retried with backoff on time-outs, connection failures and
5xx answers. A call that creates something is retried only when it is `repeatable`:
the service answers an identical repeat with what the first request made (the DM's
staging request: a repeat of a request that took effect gets the same job, and
Rucio itself refuses a second rule for the same DIDs, account and storage area).
After a failure we cannot tell whether the first try took effect (a time-out, a lost
connection, a 5xx), so the repeat is how we find out, and a 409 to the repeat is
explained as such. Other calls are never retried here. Log lines name the method and
path only: the Auth API takes tokens in the query string, so a URL is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from .. import messages
from ..errors import SERVICE_TITLES, Conflict, ExtensionError, NotSignedIn, Unavailable, from_srcnet

RETRY_BACKOFF_S = (0.2, 0.6, 1.5, 3.0)
# A time-out already cost the whole timeout (up to `bulk_request_timeout`): after this many,
# say so instead of making the user wait for every retry's timeout too.
MAX_TIMEOUTS = 3
RETRYING_NOTICE = messages.SRCNET_SLOW_RETRYING

# httpx logs each request URL at INFO, and Auth API URLs carry tokens in their query
# string: keep those records from ever being written, whatever a deployment's log setup.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


def detail_of(response: httpx.Response) -> Any:
    """The SRCNet `detail` of an error answer, verbatim (text when it is not FastAPI-shaped JSON)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:2000] or None
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body


class ServiceClient:
    def __init__(self, service: str, base_url: str, *, timeout: float, retries: int, log: logging.Logger):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.log = log
        self.calls = 0  # answered requests, for benchmarks
        self.retries_made = 0  # requests sent again after a time-out or a 5xx, for benchmarks
        self.waiting_to_retry = 0  # requests now waiting to be sent again (the UI says "retrying")
        self.elapsed_s = 0.0  # time spent awaiting answers (or failures), for benchmarks
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            headers={"Accept": "application/json", "User-Agent": "srcstage-jlab"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        repeatable: bool = False,
        ok: tuple[int, ...] = (200, 201, 202),
        timeout: float | None = None,
    ) -> Any:
        """Send a request; the decoded JSON answer, or an ExtensionError.

        `repeatable`: not idempotent, but the service answers an identical repeat with the
        first request's result (see the module docstring), so it is retried like a GET.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        attempts = 1 + (self.retries if idempotent or repeatable else 0)
        unsure: ExtensionError | None = None  # why an earlier try may or may not have taken effect
        timeouts = 0
        title = SERVICE_TITLES.get(self.service, self.service)
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                try:
                    response = await self._http.request(
                        method,
                        path,
                        params=params,
                        json=json,
                        headers=headers,
                        timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout, connect=5.0),
                    )
                finally:
                    self.elapsed_s += time.monotonic() - started
            except httpx.TimeoutException:
                self.log.warning("srcstage: %s %s %s timed out", self.service, method, path)
                error: ExtensionError = Unavailable(
                    messages.SRCNET_TIMED_OUT.format(title=title), None, service=self.service, status=504
                )
                timeouts += 1
            except httpx.TransportError as exc:
                self.log.warning("srcstage: %s %s %s failed: %s", self.service, method, path, type(exc).__name__)
                error = Unavailable(
                    messages.SRCNET_UNREACHABLE.format(title=title, kind=type(exc).__name__),
                    None,
                    service=self.service,
                    status=503,
                )
            else:
                self.calls += 1
                self.log.debug(
                    "srcstage: %s %s %s -> %s in %.3f s",
                    self.service,
                    method,
                    path,
                    response.status_code,
                    time.monotonic() - started,
                )
                if response.status_code in ok:
                    if not response.content:
                        return None
                    try:
                        return response.json()
                    except ValueError:
                        raise Unavailable(
                            messages.ANSWER_NOT_JSON.format(title=title),
                            response.text[:500],
                            service=self.service,
                            status=502,
                        ) from None
                error = from_srcnet(self.service, response.status_code, detail_of(response))
                error.srcnet_status = response.status_code
                if isinstance(error, Conflict) and unsure is not None and repeatable:
                    # The first try may have gone through before its answer was lost.
                    raise Conflict(
                        messages.REPEAT_REFUSED_AFTER_LOST_ANSWER.format(title=title, unsure=unsure),
                        error.detail,
                        service=self.service,
                    )
                if response.status_code < 500:
                    raise error
                self.log.warning("srcstage: %s %s %s answered %s", self.service, method, path, response.status_code)
            unsure = error
            if attempt + 1 == attempts or timeouts == MAX_TIMEOUTS:
                break
            self.waiting_to_retry += 1
            try:
                await asyncio.sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
            finally:
                self.waiting_to_retry -= 1
            self.retries_made += 1
        raise error


class AuthorizedService:
    """A ServiceClient whose calls carry a token for its audience.

    On a 401 the token is dropped, exchanged once more and the call retried once:
    a token can be revoked or expire between our check and the service's.
    """

    def __init__(self, client: ServiceClient, audience: str, broker: Any):
        self.client, self.audience, self.broker = client, audience, broker

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        token = await self.broker.token_for(self.audience)
        try:
            return await self.client.request(method, path, token=token, **kwargs)
        except NotSignedIn:
            self.broker.invalidate(self.audience, token)
            token = await self.broker.token_for(self.audience)
            return await self.client.request(method, path, token=token, **kwargs)
