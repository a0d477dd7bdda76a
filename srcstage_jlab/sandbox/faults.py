"""Plumbing every sandbox API shares: fault switches, request counts, FastAPI-shaped errors.

Each service (auth, site-capabilities, data-management) runs as a `ServiceServer`: a tornado
app on its own 127.0.0.1 port whose handlers derive from `ApiHandler`. The handler base
applies the service's run-time faults (added latency, a share of 500/503 answers), counts
requests per route for benchmarks, and turns `ApiError` into `{"detail": ...}`. "Down" is
real: the listening socket is closed (connection refused) and reopened on the same port.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

log = logging.getLogger("srcstage.sandbox.api")

SERVICES = ("auth", "site-capabilities", "data-management")


class ApiError(Exception):
    """An answer other than success; `detail` is a string or FastAPI's 422 list form."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail))
        self.status = status
        self.detail = detail


def validation_error(loc: list, msg: str, type_: str = "value_error") -> ApiError:
    """FastAPI's 422 shape for one invalid or missing field."""
    return ApiError(422, [{"loc": loc, "msg": msg, "type": type_}])


@dataclass
class Faults:
    """Run-time fault switches of one service (set through the control app)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    down: bool = False
    burst: int = 0  # the next `burst` requests answer 500/503 in turn: a deterministic 5xx burst


@dataclass
class Stats:
    """Counters benchmarks read from `GET /stats` on the control app."""

    requests: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))
    exchanges: collections.Counter = field(default_factory=collections.Counter)
    refreshes: collections.Counter = field(default_factory=collections.Counter)  # (user, audience) -> n
    logins: collections.Counter = field(default_factory=collections.Counter)  # user -> OIDC code logins
    # The DM's calls to Rucio's REST API, "METHOD /first-segment" -> n (what a client's DM calls cost Rucio)
    rucio_calls: collections.Counter = field(default_factory=collections.Counter)

    def as_json(self) -> dict:
        return {
            "refreshes": [
                {"user": user, "audience": aud, "count": n} for (user, aud), n in sorted(self.refreshes.items())
            ],
            "logins": dict(self.logins),
            "rucio_calls": dict(self.rucio_calls),
            "requests": {svc: dict(c) for svc, c in self.requests.items()},
            "exchanges": [
                {"user": user, "audience": aud, "count": n} for (user, aud), n in sorted(self.exchanges.items())
            ],
        }


@dataclass
class ServiceRuntime:
    """What a service's handlers share: its name, faults and the global stats."""

    name: str
    stats: Stats
    faults: Faults = field(default_factory=Faults)
    started_at: float = field(default_factory=time.time)


def faults_from_json(body: dict) -> Faults:
    """Validate a `PUT /faults/{service}` body (unknown keys are refused, not ignored)."""
    allowed = {"latency_ms", "error_rate", "down", "burst"}
    unknown = set(body) - allowed
    if unknown:
        raise ApiError(400, f"Unknown fault switch(es): {', '.join(sorted(unknown))}")
    faults = Faults(**{k: body[k] for k in allowed if k in body})
    if not isinstance(faults.latency_ms, int) or faults.latency_ms < 0:
        raise ApiError(400, "latency_ms must be a non-negative integer")
    if not isinstance(faults.error_rate, (int, float)) or not 0 <= faults.error_rate <= 1:
        raise ApiError(400, "error_rate must be a number between 0 and 1")
    if not isinstance(faults.burst, int) or faults.burst < 0:
        raise ApiError(400, "burst must be a non-negative integer")
    if not isinstance(faults.down, bool):
        raise ApiError(400, "down must be true or false")
    return faults


def route(template: str) -> str:
    """'/data/stage/{job_id}' → a tornado regex; '{name:path}' also matches slashes."""

    def group(m: re.Match) -> str:
        name, _, kind = m.group(1).partition(":")
        return f"(?P<{name}>.+)" if kind == "path" else f"(?P<{name}>[^/]+)"

    return re.sub(r"\{([^}]+)\}", group, template) + "$"


def url_specs(prefix: str, table: Iterable[tuple[str, type]], **kwargs) -> list:
    """One service's route table (readable templates) → tornado URLSpecs."""
    return [
        tornado.web.url(prefix + route(template), handler, dict(kwargs, route_template=template))
        for template, handler in table
    ]


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado access log without the query string: tokens travel there (exchange, refresh)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    req = handler.request
    log.log(level, "%d %s %s %.1fms", status, req.method, req.path, 1000.0 * req.request_time())


class ApiHandler(tornado.web.RequestHandler):
    """Base of every API handler: faults, counting, JSON in and out, FastAPI errors."""

    runtime: ServiceRuntime
    route_template: str

    def initialize(self, runtime: ServiceRuntime, route_template: str = "", **deps: Any) -> None:
        self.runtime = runtime
        self.route_template = route_template
        for key, value in deps.items():
            setattr(self, key, value)

    async def prepare(self) -> None:
        self.runtime.stats.requests[self.runtime.name][f"{self.request.method} {self.route_template}"] += 1
        faults = self.runtime.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000.0)
        if faults.burst:
            faults.burst -= 1
            status = 503 if faults.burst % 2 else 500
            raise ApiError(
                status, f"General error occurred: injected fault ({status}) in the sandbox {self.runtime.name} service"
            )
        if faults.error_rate and random.random() < faults.error_rate:
            status = random.choice((500, 503))
            raise ApiError(
                status, f"General error occurred: injected fault ({status}) in the sandbox {self.runtime.name} service"
            )

    def check_xsrf_cookie(self) -> None:  # an API with bearer tokens, not a cookie app
        pass

    def json_body(self) -> Any:
        """The request body as JSON, or FastAPI's 422 for malformed JSON."""
        try:
            return json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                422, [{"loc": ["body", getattr(exc, "pos", 0)], "msg": "JSON decode error", "type": "json_invalid"}]
            ) from None

    def send(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            self.set_status(exc.status)
            detail = exc.detail
        elif isinstance(exc, tornado.web.HTTPError):
            detail = exc.log_message or self._reason
        else:
            detail = f"General error occurred: {type(exc).__name__ if exc else self._reason}"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"detail": detail}))

    def log_exception(self, typ, value, tb) -> None:  # ApiErrors are answers, not crashes
        if isinstance(value, ApiError):
            return
        super().log_exception(typ, value, tb)


class NotFoundHandler(ApiHandler):
    """Unknown routes answer like FastAPI does."""

    async def prepare(self) -> None:
        raise ApiError(404, "Not Found")


class ServiceServer:
    """A tornado app on a fixed 127.0.0.1 port whose socket can really be closed and reopened."""

    def __init__(self, app: tornado.web.Application, host: str, port: int) -> None:
        self.app, self.host = app, host
        self._sockets = tornado.netutil.bind_sockets(port, host)
        self.port = self._sockets[0].getsockname()[1]
        self._server: tornado.httpserver.HTTPServer | None = None
        self._serve()

    def _serve(self) -> None:
        self._server = tornado.httpserver.HTTPServer(self.app, xheaders=False)
        self._server.add_sockets(self._sockets)

    async def set_down(self, down: bool) -> None:
        if down and self._server is not None:
            server, self._server = self._server, None
            server.stop()  # closes the listening sockets: new connections are refused
            await server.close_all_connections()
        elif not down and self._server is None:
            self._sockets = tornado.netutil.bind_sockets(self.port, self.host)
            self._serve()

    async def stop(self) -> None:
        await self.set_down(True)


def faults_json(runtimes: dict[str, ServiceRuntime]) -> dict:
    return {name: asdict(rt.faults) for name, rt in runtimes.items()}
