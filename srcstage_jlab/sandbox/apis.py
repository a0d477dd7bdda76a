"""Starts the sandbox's SRCNet APIs (Auth, Site Capabilities, DM) and its control app.

Each API is a tornado app on its own 127.0.0.1 port under `/api/v1`, talking to the others
only over HTTP (SC and DM fetch the Auth API's JWKS), like separate services. The control
app (no `/api/v1`, no auth: a local test hook) sets faults, token lifetime and area state,
hands out tokens for a configured user the way a JupyterHub would, and serves counters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import tornado.web

from . import auth, data_management, rucio_server, site_capabilities
from . import config as cfg
from .faults import (
    ApiError,
    ApiHandler,
    NotFoundHandler,
    ServiceRuntime,
    ServiceServer,
    Stats,
    faults_from_json,
    faults_json,
    log_request,
    url_specs,
)
from .rucio_rest import RucioRest
from .site_capabilities import Topology
from .storage import WebDavStorage
from .tokens import JWKS_PATH, TokenVerifier

API_PREFIX = "/api/v1"


@dataclass
class ApisHandle:
    urls: dict[str, str]
    servers: dict[str, ServiceServer]
    runtimes: dict[str, ServiceRuntime]
    auth: auth.AuthService
    topology: Topology
    rucio: RucioRest
    stats: Stats
    storage: WebDavStorage
    _stopped: bool = field(default=False, repr=False)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for server in self.servers.values():
            await server.stop()
        await asyncio.to_thread(self.storage.stop)
        await self.rucio.close()


# --- control app -------------------------------------------------------------------


class ControlHandler(ApiHandler):
    handle: ApisHandle

    def json_object(self) -> dict:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object")
        return body


class FaultsHandler(ControlHandler):
    """`PUT /faults/{service}` sets one service's switches; `DELETE /faults` resets all."""

    async def get(self) -> None:
        self.send(faults_json(self.handle.runtimes))

    async def put(self, service: str) -> None:
        runtime = self.handle.runtimes.get(service)
        if runtime is None:
            raise ApiError(404, f"Unknown service '{service}'; known: {', '.join(self.handle.runtimes)}")
        runtime.faults = faults_from_json(self.json_object())
        await self.handle.servers[service].set_down(runtime.faults.down)
        self.send(faults_json(self.handle.runtimes))

    async def delete(self) -> None:
        for name, runtime in self.handle.runtimes.items():
            runtime.faults = type(runtime.faults)()
            await self.handle.servers[name].set_down(False)
        self.send(faults_json(self.handle.runtimes))


class TokensSettingsHandler(ControlHandler):
    async def get(self) -> None:
        self.send({"access_token_lifetime_s": self.handle.auth.config.access_token_lifetime_s})

    async def put(self) -> None:
        lifetime = self.json_object().get("access_token_lifetime_s")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
            raise ApiError(400, "access_token_lifetime_s must be a positive integer")
        self.handle.auth.config.access_token_lifetime_s = lifetime
        self.send({"access_token_lifetime_s": lifetime})


class UserTokensHandler(ControlHandler):
    """A hub-style hand-out: an Auth API token pair for a configured user, no login page."""

    async def post(self, username: str) -> None:
        user = cfg.user_by_name(username)
        if user is None:
            raise ApiError(404, f"Unknown sandbox user '{username}'")
        pair = self.handle.auth.issue_pair(user, cfg.AUTH_AUDIENCE)
        self.send({"access_token": pair["access_token"], "refresh_token": pair["refresh_token"]}, 201)


class AreaHandler(ControlHandler):
    async def get(self) -> None:
        self.send(self.handle.topology.area_switches())

    async def put(self, name: str) -> None:
        body = self.json_object()
        for key in ("downtime", "force_disabled"):
            if key in body and not isinstance(body[key], bool):
                raise ApiError(400, f"{key} must be true or false")
        try:
            self.handle.topology.set_area(name, body.get("downtime"), body.get("force_disabled"))
        except KeyError:
            raise ApiError(404, f"Unknown storage area '{name}'") from None
        self.send(self.handle.topology.area_switches()[name])


class StatsHandler(ControlHandler):
    async def get(self) -> None:
        self.send({**self.handle.stats.as_json(), "webdav": dict(self.handle.storage.counters)})

    async def delete(self) -> None:
        self.handle.stats.requests.clear()
        self.handle.stats.exchanges.clear()
        self.handle.stats.refreshes.clear()
        self.handle.stats.logins.clear()
        self.handle.stats.rucio_calls.clear()
        self.handle.storage.counters.clear()
        await self.get()


class ControlPingHandler(ControlHandler):
    async def get(self) -> None:
        self.send({"status": "UP", "urls": self.handle.urls})


CONTROL_ROUTES = [
    ("/ping", ControlPingHandler),
    ("/faults", FaultsHandler),
    ("/faults/{service}", FaultsHandler),
    ("/tokens", TokensSettingsHandler),
    ("/users/{username}/tokens", UserTokensHandler),
    ("/areas", AreaHandler),
    ("/areas/{name}", AreaHandler),
    ("/stats", StatsHandler),
]


# --- start -----------------------------------------------------------------------------


def _app(prefix: str, routes: list, runtime: ServiceRuntime, **deps) -> tornado.web.Application:
    return tornado.web.Application(
        url_specs(prefix, routes, runtime=runtime, **deps),
        default_handler_class=NotFoundHandler,
        default_handler_args={"runtime": runtime},
        log_function=log_request,
    )


async def start_apis(config: cfg.SandboxConfig, rucio_url: str) -> ApisHandle:
    """Start Auth, SC, DM and the control app on 127.0.0.1; ports from config (0 = free)."""
    host = config.host
    stats = Stats()
    runtimes = {name: ServiceRuntime(name, stats) for name in ("auth", "site-capabilities", "data-management")}
    control_rt = ServiceRuntime("control", stats)

    auth_service = auth.AuthService(config, stats)
    auth_server = ServiceServer(
        _app(API_PREFIX, auth.ROUTES, runtimes["auth"], auth=auth_service), host, config.auth_port
    )
    auth_url = f"http://{host}:{auth_server.port}{API_PREFIX}"
    jwks_url = auth_url + JWKS_PATH

    storage = WebDavStorage(config, auth_service.signer)  # IAM's key signs storage tokens, as in SRCNet
    await asyncio.to_thread(storage.start)
    topology = Topology(config)
    topology.webdav_port = storage.port
    sc_server = ServiceServer(
        _app(
            API_PREFIX,
            site_capabilities.ROUTES,
            runtimes["site-capabilities"],
            topology=topology,
            verifier=TokenVerifier(jwks_url, cfg.SITE_CAPABILITIES_AUDIENCE),
        ),
        host,
        config.site_capabilities_port,
    )

    # The DM's service account: Rucio lets only root change or remove a user's rule.
    service = (rucio_server.ROOT_ACCOUNT, rucio_server.ROOT_USERNAME, rucio_server.root_password(config.state_dir))
    rucio = RucioRest(rucio_url, calls=stats.rucio_calls, service_identity=service)
    dm = data_management.DataManagement(config, rucio, topology, storage)
    dm_server = ServiceServer(
        _app(
            API_PREFIX,
            data_management.routes_for(dm.profile),
            runtimes["data-management"],
            dm=dm,
            verifier=TokenVerifier(jwks_url, cfg.DATA_MANAGEMENT_AUDIENCE),
        ),
        host,
        config.data_management_port,
    )

    handle = ApisHandle(
        urls={},
        servers={},
        runtimes=runtimes,
        auth=auth_service,
        topology=topology,
        rucio=rucio,
        stats=stats,
        storage=storage,
    )
    control_server = ServiceServer(_app("", CONTROL_ROUTES, control_rt, handle=handle), host, config.control_port)
    handle.servers = {
        "auth": auth_server,
        "site-capabilities": sc_server,
        "data-management": dm_server,
        "control": control_server,
    }
    handle.urls = {
        "auth_api_url": auth_url,
        "site_capabilities_api_url": f"http://{host}:{sc_server.port}{API_PREFIX}",
        "data_management_api_url": f"http://{host}:{dm_server.port}{API_PREFIX}",
        "control_url": f"http://{host}:{control_server.port}",
        "storage_webdav_url": storage.url,
    }
    return handle


__all__ = ["ApisHandle", "start_apis"]
