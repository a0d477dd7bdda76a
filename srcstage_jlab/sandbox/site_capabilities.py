"""The sandbox's Site Capabilities API: a synthetic SRCNet topology built from config.py.

Two nodes (local and remote), each with one site and one storage; the storage areas are the
Rucio RSEs of `config.AREAS`. A storage's `base_path` plus an area's `relative_path` equals
`config.area_dir(area)`, so a replica URL's path (https:// over the sandbox's WebDAV, see
storage.py) starts with them. The local
compute lists a `jupyterhub` without a storage area (like most real hubs) and a sibling
`prepare_data` service that names the local area: clients must walk the siblings to find it.

The `Topology` object is shared in-process with the DM API, which asks it whether an area is
an active `rse`; the control app flips an area's downtime / force-disabled at run time.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from . import config as cfg
from .faults import ApiError, ApiHandler
from .tokens import TokenError, TokenVerifier, bearer_token

VERSION = "0.1.0-sandbox"
_NS = uuid.UUID("0b8e7a52-6c55-4a8e-a2c1-5a4f3d2e1c00")
STORAGE_HOST = "localhost"
LOCAL_SERVICE_TYPES = ["jupyterhub", "prepare_data", "canfar", "soda_sync", "gatekeeper", "echo", "perfsonar"]
GLOBAL_SERVICE_TYPES = ["rucio", "fts", "monitoring"]
AREA_TYPES = ["rse", "ingest"]


def _id(*parts: str) -> str:
    """Stable UUIDs: the same names give the same ids across restarts."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _iso(t: dt.datetime) -> str:
    return t.replace(microsecond=0).isoformat()


class Topology:
    """Nodes → sites → compute/storages → areas/services, plus the run-time area switches."""

    def __init__(self, config: cfg.SandboxConfig) -> None:
        self.config = config
        self.webdav_port = 0  # set once the storage's WebDAV server listens
        # area name -> (start, end) of an Unplanned downtime, or None
        self._downtime: dict[str, tuple[dt.datetime, dt.datetime] | None] = {}
        self._force_disabled: dict[str, bool] = {}
        for area in cfg.AREAS:
            self.set_area(area.name, downtime=area.downtime_now, force_disabled=area.force_disabled)

    # --- run-time switches -------------------------------------------------
    def set_area(self, name: str, downtime: bool | None = None, force_disabled: bool | None = None) -> None:
        if cfg.area_by_name(name) is None:
            raise KeyError(name)
        if downtime is not None:
            now = dt.datetime.now(dt.timezone.utc)
            self._downtime[name] = (now - dt.timedelta(hours=1), now + dt.timedelta(days=1)) if downtime else None
        if force_disabled is not None:
            self._force_disabled[name] = force_disabled

    def area_switches(self) -> dict:
        return {
            a.name: {
                "downtime": self._downtime.get(a.name) is not None,
                "force_disabled": self._force_disabled.get(a.name, False),
            }
            for a in cfg.AREAS
        }

    # --- the DM API's question ---------------------------------------------
    def staging_refusal(self, area: cfg.SandboxArea) -> str | None:
        """Why an area cannot be a staging target now, or None if it can."""
        if area.type != "rse":
            return f"Storage area '{area.name}' is of type '{area.type}', not 'rse': it cannot be a staging target"
        if self._force_disabled.get(area.name):
            return f"Storage area '{area.name}' is force-disabled by the site operators"
        window = self._downtime.get(area.name)
        if window is not None:
            return f"Storage area '{area.name}' is in an Unplanned downtime from {_iso(window[0])} to {_iso(window[1])}"
        return None

    # --- the served objects --------------------------------------------------
    def _downtime_list(self, area_name: str) -> list[dict]:
        window = self._downtime.get(area_name)
        if window is None:
            return []
        return [
            {
                "date_range": f"{_iso(window[0])} to {_iso(window[1])}",
                "type": "Unplanned",
                "reason": "Sandbox: storage unavailable (set through the control app)",
            }
        ]

    def _area(self, area: cfg.SandboxArea) -> dict:
        return {
            "id": area.id,
            "name": area.name,
            "type": area.type,
            "relative_path": f"/{area.name}",
            "tier": area.tier,
            "other_attributes": {},
            "downtime": self._downtime_list(area.name),
            "is_force_disabled": self._force_disabled.get(area.name, False),
        }

    def _service(
        self, site: str, type_: str, name: str, host: str, path: str, area: cfg.SandboxArea | None = None
    ) -> dict:
        svc = {
            "id": _id(site, "service", type_),
            "name": name,
            "type": type_,
            "prefix": "https",
            "host": host,
            "port": 443,
            "path": path,
            "other_attributes": {},
            "is_mandatory": type_ != "gatekeeper",
            "downtime": [],
            "is_force_disabled": False,
        }
        if area is not None:
            svc["associated_storage_area_id"] = area.id
        return svc

    def _compute(self, site: str, services: list[dict]) -> dict:
        compute_id = _id(site, "compute")
        for svc in services:
            svc["associated_compute_id"] = compute_id
        return {
            "id": compute_id,
            "name": f"{site}-COMPUTE",
            "description": f"{site} science platform",
            "hardware_type": "container",
            "compute_units": 8,
            "hardware_capabilities": [],
            "associated_local_services": services,
            "associated_global_services": [],
            "downtime": [],
            "is_force_disabled": False,
        }

    def _site(self, node: str, site: str, country: str, host: str, compute: list[dict]) -> dict:
        areas = [self._area(a) for a in cfg.AREAS if a.site == site]
        storage = {
            "id": _id(site, "storage"),
            "name": f"{site}-STORAGE",
            "host": host,
            "base_path": str(self.config.storage_dir),
            "srm": "posix",
            "device_type": "disk",
            "size_in_terabytes": 1,
            "supported_protocols": [{"prefix": "https", "port": self.webdav_port}, {"prefix": "file", "port": 0}],
            "areas": areas,
            "downtime": [],
            "is_force_disabled": False,
        }
        return {
            "id": _id(site),
            "name": site,
            "description": f"Sandbox site {site}",
            "country": country,
            "compute": compute,
            "storages": [storage],
            "downtime": [],
            "is_force_disabled": False,
            "other_attributes": {},
        }

    def nodes(self) -> list[dict]:
        """A fresh copy of the whole topology (callers may prune it)."""
        local_services = [
            self._service(cfg.LOCAL_SITE, "jupyterhub", "Sandbox JupyterHub", cfg.JUPYTERHUB_HOST, "/hub"),
            self._service(
                cfg.LOCAL_SITE,
                "prepare_data",
                "Sandbox Prepare Data",
                f"gatekeeper.{cfg.LOCAL_NODE.lower()}.local",
                "/preparedata",
                cfg.LOCAL_AREA,
            ),
            self._service(
                cfg.LOCAL_SITE, "gatekeeper", "Sandbox Gatekeeper", f"gatekeeper.{cfg.LOCAL_NODE.lower()}.local", "/"
            ),
        ]
        remote_services = [
            self._service(
                cfg.REMOTE_SITE,
                "soda_sync",
                "Far SODA",
                f"soda.{cfg.REMOTE_NODE.lower()}.local",
                "/soda/ska/datasets/soda",
                cfg.COLD_AREA,
            ),
        ]
        return [
            {
                "name": cfg.LOCAL_NODE,
                "description": "Sandbox SRC next to the JupyterHub",
                "version": 1,
                "sites": [
                    self._site(
                        cfg.LOCAL_NODE,
                        cfg.LOCAL_SITE,
                        "GB",
                        STORAGE_HOST,
                        [self._compute(cfg.LOCAL_SITE, local_services)],
                    )
                ],
            },
            {
                "name": cfg.REMOTE_NODE,
                "description": "Sandbox remote archive",
                "version": 1,
                "sites": [
                    self._site(
                        cfg.REMOTE_NODE,
                        cfg.REMOTE_SITE,
                        "ZA",
                        STORAGE_HOST,
                        [self._compute(cfg.REMOTE_SITE, remote_services)],
                    )
                ],
            },
        ]

    # --- flat views with parents ---------------------------------------------
    def walk(self) -> dict[str, list[dict]]:
        """Flat lists of sites, compute, storages, areas and services, each with its parents."""
        out: dict[str, list[dict]] = {k: [] for k in ("sites", "compute", "storages", "areas", "services")}
        for node in self.nodes():
            for site in node["sites"]:
                parents = {
                    "parent_node_name": node["name"],
                    "parent_site_name": site["name"],
                    "parent_site_id": site["id"],
                }
                out["sites"].append({**site, "parent_node_name": node["name"]})
                for comp in site["compute"]:
                    out["compute"].append({**comp, **parents})
                    for svc in comp["associated_local_services"]:
                        out["services"].append({**svc, **parents, "scope": "local", "parent_compute_id": comp["id"]})
                for storage in site["storages"]:
                    out["storages"].append({**storage, **parents})
                    for area in storage["areas"]:
                        out["areas"].append({**area, **parents, "parent_storage_id": storage["id"]})
        return out


def is_active(obj: dict, now: dt.datetime | None = None) -> bool:
    """Inactive = force-disabled, or a downtime whose date range covers now."""
    if obj.get("is_force_disabled"):
        return False
    now = now or dt.datetime.now(dt.timezone.utc)
    for entry in obj.get("downtime") or []:
        start, _, end = entry["date_range"].partition(" to ")
        if dt.datetime.fromisoformat(start) <= now <= dt.datetime.fromisoformat(end):
            return False
    return True


def prune_inactive(value: Any) -> Any:
    """Drop inactive objects from nested lists (what `include_inactive=false` hides)."""
    if isinstance(value, list):
        return [prune_inactive(v) for v in value if not (isinstance(v, dict) and not is_active(v))]
    if isinstance(value, dict):
        return {k: prune_inactive(v) for k, v in value.items()}
    return value


# --- handlers ----------------------------------------------------------------


def _csv(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


class ScHandler(ApiHandler):
    topology: Topology
    verifier: TokenVerifier
    needs_token = True

    async def prepare(self) -> None:
        await super().prepare()
        if self.needs_token:
            try:
                await self.verifier.verify(bearer_token(self.request.headers.get("Authorization")))
            except TokenError as exc:
                raise ApiError(401, exc.detail) from None

    def include_inactive(self) -> bool:
        return self.get_argument("include_inactive", "false").lower() in ("1", "true", "yes")

    def filtered(self, items: list[dict], *, by_node: bool = True) -> list[dict]:
        """Apply the common list filters to a flat list carrying parent fields."""
        nodes, sites = _csv(self.get_argument("node_names", None)), _csv(self.get_argument("site_names", None))
        if nodes and by_node:
            items = [i for i in items if i.get("parent_node_name") in nodes]
        if sites:
            items = [i for i in items if i.get("parent_site_name", i.get("name")) in sites]
        if not self.include_inactive():
            items = [prune_inactive(i) for i in items if is_active(i)]
        return items

    def one(self, items: list[dict], key: str, value: str, what: str) -> dict:
        for item in items:
            if item[key] == value:
                return item
        raise ApiError(404, f"{what} with identifier '{value}' could not be found")


class NodesHandler(ScHandler):
    async def get(self) -> None:
        nodes = self.topology.nodes()
        names = _csv(self.get_argument("node_names", None))
        if names:
            nodes = [n for n in nodes if n["name"] in names]
        self.send(nodes if self.include_inactive() else prune_inactive(nodes))


class NodeHandler(ScHandler):
    async def get(self, node: str) -> None:
        self.send(self.one(self.topology.nodes(), "name", node, "Node"))


class SitesHandler(ScHandler):
    async def get(self) -> None:
        self.send(self.filtered(self.topology.walk()["sites"]))


class SiteHandler(ScHandler):
    async def get(self, id: str) -> None:
        self.send(self.one(self.topology.walk()["sites"], "id", id, "Site"))


class ComputeListHandler(ScHandler):
    async def get(self) -> None:
        self.send(self.filtered(self.topology.walk()["compute"]))


class ComputeHandler(ScHandler):
    async def get(self, id: str) -> None:
        self.send(self.one(self.topology.walk()["compute"], "id", id, "Compute"))


class StoragesHandler(ScHandler):
    async def get(self) -> None:
        self.send(self.filtered(self.topology.walk()["storages"]))


class StorageHandler(ScHandler):
    async def get(self, id: str) -> None:
        self.send(self.one(self.topology.walk()["storages"], "id", id, "Storage"))


class AreasHandler(ScHandler):
    async def get(self) -> None:
        self.send(self.filtered(self.topology.walk()["areas"]))


class AreaHandler(ScHandler):
    async def get(self, id: str) -> None:
        self.send(self.one(self.topology.walk()["areas"], "id", id, "Storage area"))


class ServicesHandler(ScHandler):
    async def get(self) -> None:
        services = self.filtered(self.topology.walk()["services"])
        types = _csv(self.get_argument("service_types", None))
        if types:
            services = [s for s in services if s["type"] in types]
        scope = self.get_argument("service_scope", "all")
        if scope not in ("all", "local", "global"):
            raise ApiError(
                422,
                [
                    {
                        "loc": ["query", "service_scope"],
                        "type": "enum",
                        "msg": "Input should be 'all', 'local' or 'global'",
                    }
                ],
            )
        if scope != "all":
            services = [s for s in services if s["scope"] == scope]
        area_id = self.get_argument("associated_storage_area_id", None)
        if area_id:
            services = [s for s in services if s.get("associated_storage_area_id") == area_id]
        self.send(services)


class ServiceHandler(ScHandler):
    async def get(self, id: str) -> None:
        self.send(self.one(self.topology.walk()["services"], "id", id, "Service"))


class AreaTypesHandler(ScHandler):
    needs_token = False

    async def get(self) -> None:
        self.send(list(AREA_TYPES))


class ServiceTypesHandler(ScHandler):
    needs_token = False

    async def get(self) -> None:
        self.send({"local": LOCAL_SERVICE_TYPES, "global": GLOBAL_SERVICE_TYPES})


class PingHandler(ScHandler):
    needs_token = False

    async def get(self) -> None:
        self.send({"status": "UP", "version": VERSION})


class HealthHandler(ScHandler):
    """Up when the Auth API's keys can be fetched (the one service SC depends on)."""

    needs_token = False

    async def get(self) -> None:
        auth_ok = await self.verifier.probe()
        body = {
            "status": "UP" if auth_ok else "DOWN",
            "version": VERSION,
            "uptime": round(time.time() - self.runtime.started_at, 1),
            "dependent_services": {"authn-api": {"status": "UP" if auth_ok else "DOWN"}},
        }
        self.send(body, 200 if auth_ok else 500)


ROUTES = [
    ("/ping", PingHandler),
    ("/health", HealthHandler),
    ("/nodes", NodesHandler),
    ("/nodes/{node}", NodeHandler),
    ("/sites", SitesHandler),
    ("/sites/{id}", SiteHandler),
    ("/compute", ComputeListHandler),
    ("/compute/{id}", ComputeHandler),
    ("/storages", StoragesHandler),
    ("/storages/{id}", StorageHandler),
    ("/storage-areas/types", AreaTypesHandler),
    ("/storage-areas", AreasHandler),
    ("/storage-areas/{id}", AreaHandler),
    ("/services/types", ServiceTypesHandler),
    ("/services", ServicesHandler),
    ("/services/{id}", ServiceHandler),
]
