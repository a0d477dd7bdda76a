"""The SRCNet Data Management API: the one table of its routes, and the calls we make.

Routes marked "adopted" are ours where nothing public says what the real API
serves; a deployment whose routes differ overrides them with
`c.SrcStage.dm_routes = {"stage": "POST /v2/stage", ...}` without a code change.

Every adopted route is an optional capability. A 404 whose `detail` is FastAPI's bare
"Not Found" (the route does not exist; a 404 about a DID names the DID) or a 405 means the
DM does not serve it; so does an operator setting the route to "". That is remembered for
the server's life: later calls of that operation raise NotServed without a request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import messages
from ..errors import ExtensionError, InvalidInput, NotServed
from ..staging.dids import Did
from .http import AuthorizedService

AUDIENCE = "data-management-api"

DEFAULT_ROUTES: dict[str, str] = {
    # confirmed in public code
    "namespaces": "GET /data/list",
    "locate": "GET /data/locate/{namespace}/{name}",
    "metadata": "GET /metadata/{namespace}/{name}",
    # confirmed; needed only in download mode, so optional like the adopted ones
    "download": "GET /data/download/{storage_area_uuid}/{namespace}/{name}",
    # adopted (see docs/operator-guide.md)
    "list_dids": "GET /data/list/{namespace}",
    "create_collection": "POST /data/collections",
    "read_collection": "GET /data/collections/{namespace}/{name}",
    "stage": "POST /data/stage",
    "stage_status": "GET /data/stage/{job_id}",
    # adopted and optional: a 404 or 405 here means "not served", and the quota is shown as unknown
    "quota": "GET /data/quota/{storage_area_uuid}",
    # adopted and optional: a staged copy's lifetime changed (body {"lifetime": seconds, from now}),
    # or the copy given back early; where not served, the job actions say so and are hidden
    "extend_stage": "PUT /data/stage/{job_id}",
    "release_stage": "DELETE /data/stage/{job_id}",
}


# Operations the extension needs whatever the DM serves (the confirmed contract); the others
# are optional capabilities with a fallback.
REQUIRED = frozenset({"namespaces", "locate", "metadata", "stage", "stage_status"})
OPTIONAL = tuple(op for op in DEFAULT_ROUTES if op not in REQUIRED)
WHAT = messages.DM_OPERATIONS
# A job id no DM has: asking to change it tells whether the route exists (404 about the job,
# or 422) without changing anything.
PROBE_JOB_ID = "srcstage-probe-no-such-job"
# A DID no DM has: asking for its download token tells whether the route exists.
PROBE_NAMESPACE, PROBE_NAME = "srcstage-probe", "no-such-file"


def check_routes(routes: dict[str, str]) -> dict[str, str]:
    """The route table with overrides applied; a malformed override fails at start-up, not mid-job.

    An optional operation set to "" is not served by this deployment."""
    merged = {**DEFAULT_ROUTES, **routes}
    for op, spec in merged.items():
        method, _, path = spec.partition(" ")
        if op not in DEFAULT_ROUTES:
            raise ValueError(messages.DM_ROUTE_UNKNOWN.format(op=op, known=", ".join(DEFAULT_ROUTES)))
        if spec == "" and op not in REQUIRED:
            continue
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not path.startswith("/"):
            raise ValueError(messages.DM_ROUTE_BAD_SPEC.format(op=op, spec=spec))
    return merged


# Operations whose work grows with the collection: they get `bulk_timeout`.
BULK_OPERATIONS = frozenset({"list_dids", "locate", "create_collection", "read_collection", "stage"})


def route_missing(err: ExtensionError) -> bool:
    """True when an error answer says the route itself does not exist (not that a DID is missing)."""
    status = getattr(err, "srcnet_status", None)
    if status == 405:
        return True
    return status == 404 and isinstance(err.detail, str) and err.detail.strip().lower() == "not found"


class DataManagement:
    def __init__(self, service: AuthorizedService, routes: dict[str, str], *, bulk_timeout: float):
        self.service = service
        self.routes = check_routes(routes)
        self.bulk_timeout = bulk_timeout
        # operation -> why it is not served; learnt once, kept for the server's life
        self.not_served: dict[str, str] = {
            op: messages.DM_ROUTE_TURNED_OFF for op, spec in self.routes.items() if not spec
        }
        self.served: set[str] = set()

    def capabilities(self) -> dict:
        """What is known about each optional operation: served true/false, or null (not tried yet)."""
        out = {}
        for op in OPTIONAL:
            served = False if op in self.not_served else (True if op in self.served else None)
            out[op] = {"served": served, "route": self.routes[op] or None, "why": self.not_served.get(op)}
        return out

    def serves(self, op: str) -> bool:
        """False once this DM is known not to serve `op` (unknown counts as served: try it)."""
        return op not in self.not_served

    def _not_served_error(self, op: str) -> NotServed:
        return NotServed(
            messages.DM_NOT_SERVED.format(
                what=WHAT.get(op, op), route=self.routes[op] or messages.NO_ROUTE, why=self.not_served[op]
            ),
            service="data-management",
            extra={"operation": op},
        )

    async def _call(
        self,
        op: str,
        *,
        params: dict | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        repeatable: bool = False,
        **path_args: str,
    ) -> Any:
        if op in self.not_served:
            raise self._not_served_error(op)
        method, _, template = self.routes[op].partition(" ")
        path = template.format(**{k: quote(str(v), safe="") for k, v in path_args.items()})
        timeout = self.bulk_timeout if op in BULK_OPERATIONS else None
        try:
            answer = await self.service.request(
                method, path, params=params, json=json, idempotent=idempotent, repeatable=repeatable, timeout=timeout
            )
        except ExtensionError as err:
            if not route_missing(err):
                raise
            self.not_served[op] = messages.DM_ROUTE_MISSING.format(status=err.srcnet_status, detail=err.detail)
            raise self._not_served_error(op) from None
        self.served.add(op)
        return answer

    async def probe(self, op: str) -> bool:
        """Whether `op` is served, learnt once without side effects: an empty body, which a
        served route refuses as invalid (422) and a missing route answers 404/405."""
        if op in self.not_served or op in self.served:
            return op not in self.not_served
        method, _, template = self.routes[op].partition(" ")
        if "{" in template or method == "GET":
            return True  # learnt by the first real call instead
        try:
            await self._call(op, json={}, idempotent=False)
        except NotServed:
            return False
        except ExtensionError as err:
            if getattr(err, "srcnet_status", 500) >= 500:
                return True  # unknown yet; the real call will tell
        self.served.add(op)
        return True

    async def probe_job_route(self, op: str) -> bool | None:
        """Whether a job route (`extend_stage`, `release_stage`) is served, learnt once and
        changing nothing: the call names a job that does not exist. None while unknown (e.g.
        not signed in yet, or the DM failing)."""
        body = {} if op == "extend_stage" else None
        return await self._probe_call(op, job_id=PROBE_JOB_ID, json=body, idempotent=True)

    async def probe_download(self, storage_area_uuid: str) -> bool | None:
        """Whether the download route is served, learnt once: a token for a DID that does not exist
        (refused about the DID, or the route missing). None while unknown."""
        return await self._probe_call(
            "download", storage_area_uuid=storage_area_uuid, namespace=PROBE_NAMESPACE, name=PROBE_NAME
        )

    async def _probe_call(self, op: str, **call: Any) -> bool | None:
        if op in self.not_served or op in self.served:
            return op not in self.not_served
        try:
            await self._call(op, **call)
        except NotServed:
            return False
        except ExtensionError as err:
            if getattr(err, "srcnet_status", None) not in (400, 403, 404, 409, 422):
                return None
        self.served.add(op)
        return True

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

    async def metadata(self, did: Did, plugin: str = "DID_COLUMN") -> dict:
        """Rucio's fields of the DID (type, bytes, adler32) by default; plugin POSTGRES_JSON for science
        metadata. Named explicitly: the DM API's own default is POSTGRES_JSON."""
        answer = await self._call("metadata", namespace=did.namespace, name=did.name, params={"plugin": plugin})
        return answer if isinstance(answer, dict) else {}

    async def download_token(self, storage_area_uuid: str, did: Did) -> str:
        """A short-lived storage read token for the DID's files at one storage area (kept server-side)."""
        answer = await self._call(
            "download", storage_area_uuid=storage_area_uuid, namespace=did.namespace, name=did.name
        )
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise InvalidInput(messages.DM_DOWNLOAD_NO_TOKEN, None, service="data-management")
        return str(token)

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
        # Retried after a time-out or a 5xx: an identical repeat is answered with the job the first one
        # made, if it did (see srcnet/http.py), so a retry never makes a second job.
        answer = await self._call("stage", json=body, idempotent=False, repeatable=True)
        if not isinstance(answer, dict) or not answer.get("job_id"):
            raise InvalidInput(
                messages.DM_STAGE_NO_JOB_ID,
                answer,
                service="data-management",
            )
        return answer

    async def stage_status(self, job_id: str) -> dict:
        answer = await self._call("stage_status", job_id=job_id)
        return answer if isinstance(answer, dict) else {"state": None}

    async def extend_stage(self, job_id: str, lifetime_s: int) -> dict:
        """The staged copy kept `lifetime_s` from now; the DM's answer (its new `expires_at`)."""
        answer = await self._call("extend_stage", job_id=job_id, json={"lifetime": lifetime_s}, idempotent=True)
        return answer if isinstance(answer, dict) else {}

    async def release_stage(self, job_id: str) -> dict:
        """The staged copy given back: its rule removed, so its files may go from the destination."""
        answer = await self._call("release_stage", job_id=job_id, idempotent=True)
        return answer if isinstance(answer, dict) else {}

    async def quota(self, storage_area_uuid: str) -> dict | None:
        """The user's quota at a storage area (`bytes_limit`, `bytes_used`, `bytes_remaining`), or
        None where the DM does not serve the route (404/405)."""
        try:
            answer = await self._call("quota", storage_area_uuid=storage_area_uuid)
        except NotServed:
            return None
        except ExtensionError as err:
            if getattr(err, "srcnet_status", None) in (404, 405):
                return None
            raise
        return answer if isinstance(answer, dict) else None


def parent_did_in(answer: Any, namespace: str, members: set[str]) -> str | None:
    """The parent container DID a staging answer reports, under whatever field it comes:
    a 'namespace:name' string, or an object with namespace (or scope) and name, in the
    parent namespace and not one of the members. None when the answer names none."""
    if not isinstance(answer, dict):
        return None
    candidates: list[Any] = []
    for key, value in answer.items():
        if key in ("job_id", "state", "dids"):
            continue
        candidates.append(value)
        if isinstance(value, dict):
            candidates.extend(value.values())
    for value in candidates:
        if isinstance(value, dict):
            ns, name = value.get("namespace") or value.get("scope"), value.get("name")
            text = f"{ns}:{name}" if isinstance(ns, str) and isinstance(name, str) else None
        else:
            text = value if isinstance(value, str) else None
        if text and text.startswith(f"{namespace}:") and len(text) > len(namespace) + 1 and text not in members:
            return text
    return None
