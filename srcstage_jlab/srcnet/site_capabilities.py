"""Site Capabilities: the topology, and which storage area is "next to this server".

The order of the search, and why: an operator's explicit choice wins; then the
storage area of this hub's own `jupyterhub` service; real hubs rarely have one,
so next the areas of sibling services on the same compute (`prepare_data`,
`gatekeeper`, ...); last the active `rse` areas of the hub's site. An area that is
`ingest`, force-disabled or in downtime now is never chosen, and when nothing
fits the error says what was looked at and why each was passed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .. import messages
from ..errors import NoDestination
from ..staging.paths import area_root
from .http import AuthorizedService

AUDIENCE = "site-capabilities-api"


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def inactive_reason(obj: dict, now: datetime) -> str | None:
    """Why a Site Capabilities object is not usable now (force-disabled or in downtime), or None."""
    if obj.get("is_force_disabled"):
        return messages.FORCE_DISABLED
    for downtime in obj.get("downtime") or []:
        start, _, end = str(downtime.get("date_range", "")).partition(" to ")
        start_at, end_at = _parse_time(start), _parse_time(end)
        if start_at and end_at and start_at <= now <= end_at:
            kind = downtime.get("type") or "a"
            reason = downtime.get("reason")
            return messages.IN_DOWNTIME.format(kind=kind.lower(), until=end_at.isoformat(timespec="minutes")) + (
                f" ({reason})" if reason else ""
            )
    return None


@dataclass
class StorageArea:
    id: str
    name: str
    type: str
    tier: int | None
    site: str | None
    node: str | None
    root: str  # the area's root path inside replica URLs
    inactive_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.inactive_reason is None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "tier": self.tier,
            "site": self.site,
            "node": self.node,
            "active": self.active,
            "inactive_reason": self.inactive_reason,
        }


@dataclass
class Topology:
    areas: dict[str, StorageArea] = field(default_factory=dict)  # by id
    services: list[dict] = field(default_factory=list)  # each with _compute, _site, _node

    @classmethod
    def from_nodes(cls, nodes: list[dict], now: datetime | None = None) -> Topology:
        now = now or datetime.now(timezone.utc)
        topo = cls()
        for node in nodes or []:
            for site in node.get("sites") or []:
                site_reason = inactive_reason(site, now)
                for storage in site.get("storages") or []:
                    storage_reason = site_reason or inactive_reason(storage, now)
                    for area in storage.get("areas") or []:
                        topo.areas[area["id"]] = StorageArea(
                            id=area["id"],
                            name=area.get("name") or area["id"],
                            type=area.get("type") or "",
                            tier=area.get("tier"),
                            site=site.get("name"),
                            node=node.get("name"),
                            root=area_root(storage.get("base_path"), area.get("relative_path")),
                            inactive_reason=inactive_reason(area, now)
                            or (messages.STORAGE_INACTIVE.format(reason=storage_reason) if storage_reason else None),
                        )
                for compute in site.get("compute") or []:
                    for service in compute.get("associated_local_services") or []:
                        topo.services.append(
                            {
                                **service,
                                "_compute": compute.get("id"),
                                "_site": site.get("name"),
                                "_node": node.get("name"),
                            }
                        )
        return topo

    def area_by_name(self, name: str) -> StorageArea | None:
        return next((a for a in self.areas.values() if a.name == name), None)

    def find_hub(self, service_id: str | None, host: str | None) -> dict | None:
        hubs = [s for s in self.services if s.get("type") == "jupyterhub"]
        if service_id:
            return next((s for s in hubs if s.get("id") == service_id), None)
        if host:
            return next((s for s in hubs if (s.get("host") or "").lower() == host.lower()), None)
        return None


@dataclass
class StagingDestination:
    area: StorageArea
    found_by: str
    explanation: str


def why_not_target(area: StorageArea) -> str | None:
    if area.type != "rse":
        return messages.AREA_NOT_RSE.format(type=area.type)
    return area.inactive_reason


def choose_destination(
    topo: Topology,
    *,
    area_id: str = "",
    rse: str = "",
    hub_service_id: str = "",
    hub_host: str = "",
    site_name: str = "",
) -> StagingDestination:
    """The staging destination for this server, or NoDestination saying why there is none."""
    if area_id or rse:
        area = topo.areas.get(area_id) if area_id else topo.area_by_name(rse)
        wanted = area_id or rse
        if area is None:
            raise NoDestination(messages.AREA_NOT_KNOWN.format(wanted=wanted))
        if reason := why_not_target(area):
            raise NoDestination(messages.AREA_NOT_A_TARGET.format(area=area, reason=reason))
        return StagingDestination(area, "configured", messages.FOUND_BY_CONFIGURATION.format(area=area.name))

    hub = topo.find_hub(hub_service_id, hub_host)
    if hub is None and not site_name:
        who = hub_service_id or hub_host
        raise NoDestination(messages.HUB_SERVICE_NOT_LISTED.format(who=who) if who else messages.SITE_UNKNOWN)
    passed_over: list[str] = []

    def pick(candidates: list[StorageArea]) -> StorageArea | None:
        usable = []
        for area in candidates:
            reason = why_not_target(area)
            if reason:
                passed_over.append(f"{area.name}: {reason}")
            else:
                usable.append(area)
        usable.sort(key=lambda a: (a.tier if isinstance(a.tier, int) else 99, a.name))
        return usable[0] if usable else None

    if hub is not None:
        own = topo.areas.get(hub.get("associated_storage_area_id") or "")
        if own and (area := pick([own])):
            return StagingDestination(area, "hub service", messages.FOUND_BY_HUB_SERVICE.format(area=area.name))
        siblings = [
            topo.areas[s["associated_storage_area_id"]]
            for s in topo.services
            if s.get("_compute") == hub.get("_compute")
            and s is not hub
            and s.get("associated_storage_area_id") in topo.areas
        ]
        if area := pick(list({a.id: a for a in siblings}.values())):
            return StagingDestination(area, "sibling service", messages.FOUND_BY_SIBLING_SERVICE.format(area=area.name))
        site_name = hub.get("_site") or site_name
    site_areas = [a for a in topo.areas.values() if a.site == site_name]
    if area := pick(site_areas):
        return StagingDestination(area, "site", messages.FOUND_BY_SITE.format(area=area.name, site_name=site_name))
    considered = "; ".join(dict.fromkeys(passed_over)) or messages.NO_AREAS_LISTED
    raise NoDestination(messages.NO_AREA_CAN_TAKE_DATA.format(site_name=site_name, considered=considered))


class SiteCapabilities:
    def __init__(self, service: AuthorizedService):
        self.service = service

    async def topology(self) -> Topology:
        nodes = await self.service.request("GET", "/nodes", params={"include_inactive": "true"})
        return Topology.from_nodes(nodes if isinstance(nodes, list) else [])
