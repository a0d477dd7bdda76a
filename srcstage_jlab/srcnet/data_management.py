"""The SRCNet Data Management API: the one table of its routes, and the calls we make.

Routes marked "adopted" are ours where nothing public says what the real API
serves; a deployment whose routes differ overrides them with
`c.SrcStage.dm_routes = {"stage": "POST /v2/stage", ...}` without a code change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..errors import InvalidInput, SrcStageError
from ..staging.dids import Did
from .http import AuthorizedService

AUDIENCE = "data-management-api"

DEFAULT_ROUTES: dict[str, str] = {
    # confirmed in public code
    "namespaces": "GET /data/list",
    "locate": "GET /data/locate/{namespace}/{name}",
    "metadata": "GET /metadata/{namespace}/{name}",
    # adopted (see docs/operator-guide.md)
    "list_dids": "GET /data/list/{namespace}",
    "create_collection": "POST /data/collections",
    "read_collection": "GET /data/collections/{namespace}/{name}",
    "stage": "POST /data/stage",
    "stage_status": "GET /data/stage/{job_id}",
    "rules": "GET /data/rules/{namespace}/{name}",
    # adopted and optional: a 404 or 405 here means "not served", and the quota is shown as unknown
    "quota": "GET /data/quota/{storage_area_uuid}",
}


def check_routes(routes: dict[str, str]) -> dict[str, str]:
    """The route table with overrides applied; a malformed override fails at start-up, not mid-job."""
    merged = {**DEFAULT_ROUTES, **routes}
    for op, spec in merged.items():
        method, _, path = spec.partition(" ")
        if op not in DEFAULT_ROUTES:
            raise ValueError(f"dm_routes: unknown operation '{op}' (known: {', '.join(DEFAULT_ROUTES)})")
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not path.startswith("/"):
            raise ValueError(f"dm_routes['{op}'] must look like 'POST /data/stage', not '{spec}'")
    return merged


# Operations whose work grows with the collection: they get `bulk_timeout`.
BULK_OPERATIONS = frozenset({"list_dids", "locate", "create_collection", "read_collection", "stage"})


class DataManagement:
    def __init__(self, service: AuthorizedService, routes: dict[str, str], *, bulk_timeout: float):
        self.service = service
        self.routes = check_routes(routes)
        self.bulk_timeout = bulk_timeout

    async def _call(
        self, op: str, *, params: dict | None = None, json: Any = None, idempotent: bool | None = None, **path_args: str
    ) -> Any:
        method, _, template = self.routes[op].partition(" ")
        path = template.format(**{k: quote(str(v), safe="") for k, v in path_args.items()})
        timeout = self.bulk_timeout if op in BULK_OPERATIONS else None
        return await self.service.request(
            method, path, params=params, json=json, idempotent=idempotent, timeout=timeout
        )

    async def namespaces(self) -> list[str]:
        answer = await self._call("namespaces")
        return [str(n) for n in answer] if isinstance(answer, list) else []

    async def list_dids(self, namespace: str, name: str, did_type: str, limit: int) -> list[dict]:
        params: dict[str, Any] = {"name": name or "*", "detail": "true", "limit": limit}
        if did_type and did_type != "all":
            params["filters"] = f"type={did_type}"
        answer = await self._call("list_dids", namespace=namespace, params=params)
        return answer if isinstance(answer, list) else []

    async def locate(self, did: Did) -> list[dict]:
        answer = await self._call("locate", namespace=did.namespace, name=did.name)
        return answer if isinstance(answer, list) else []

    async def metadata(self, did: Did) -> dict:
        answer = await self._call("metadata", namespace=did.namespace, name=did.name)
        return answer if isinstance(answer, dict) else {}

    async def create_collection(self, did: Did, did_type: str, members: list[Did]) -> dict:
        body = {"namespace": did.namespace, "name": did.name, "type": did_type, "dids": [m.to_json() for m in members]}
        # Not retried here: the caller makes a retried submit idempotent (see StagingService.submit).
        return await self._call("create_collection", json=body, idempotent=False) or {}

    async def read_collection(self, did: Did) -> dict:
        answer = await self._call("read_collection", namespace=did.namespace, name=did.name)
        return answer if isinstance(answer, dict) else {}

    async def stage(self, area_id: str, lifetime_s: int, parent_namespace: str | None, dids: list[Did]) -> dict:
        body: dict[str, Any] = {
            "to_storage_area_uuid": area_id,
            "lifetime": lifetime_s,
            "dids": [d.to_json() for d in dids],
        }
        if parent_namespace:
            body["parent_namespace"] = parent_namespace
        answer = await self._call("stage", json=body, idempotent=False)
        if not isinstance(answer, dict) or not answer.get("job_id"):
            raise InvalidInput(
                "The SRCNet Data Management API accepted the staging request but returned no job id.",
                answer,
                service="data-management",
            )
        return answer

    async def stage_status(self, job_id: str) -> dict:
        answer = await self._call("stage_status", job_id=job_id)
        return answer if isinstance(answer, dict) else {"state": None}

    async def rules(self, did: Did) -> list[dict]:
        answer = await self._call("rules", namespace=did.namespace, name=did.name)
        return answer if isinstance(answer, list) else []

    async def quota(self, storage_area_uuid: str) -> dict | None:
        """The user's quota at a storage area (`bytes_limit`, `bytes_used`, `bytes_remaining`), or
        None where the DM does not serve the route (404/405)."""
        try:
            answer = await self._call("quota", storage_area_uuid=storage_area_uuid)
        except SrcStageError as err:
            if getattr(err, "srcnet_status", None) in (404, 405):
                return None
            raise
        return answer if isinstance(answer, dict) else None
