"""The sandbox's Data Management API over a real Rucio (through its REST API).

Every route needs a token whose audience is `data-management-api`, verified against the Auth
API's JWKS. The SRCNet user acts as the Rucio account of the same name, so Rucio's own policy
(scope ownership, quotas, name syntax, duplicate rules) applies underneath ours. Our policy,
checked BEFORE anything is created, so that a refused request leaves no trace in Rucio:

- collections are written only into namespaces whose `data/namespaces/<ns>/owner` group the
  token carries; every member must exist (one bulk Rucio call, not one per DID);
- staging needs a lifetime (positive, at most `max_stage_lifetime_s`) and an active `rse`
  storage area (not ingest, not force-disabled, not in downtime); the DIDs must exist; then ONE
  Rucio call creates the rule(s) (Rucio's add_replication_rule is atomic over its DID list).
- a repeated identical staging request (same user, DIDs, storage area, lifetime and parent
  namespace) whose earlier job's rules still exist is answered with that job (`"repeated": true`),
  not with a second job nor Rucio's duplicate-rule refusal: a client that lost the first answer
  (a time-out, a 5xx) can send it again safely.

Two profiles (`srcstage-sandbox start --dm-profile full|confirmed`):
- `full` (default) serves every route the extension adopts, with rich status answers;
- `confirmed` serves only what SRCNet's public contract confirms (namespaces, locate, metadata,
  the storage read token of `GET /data/download/...`) plus the staging request and its status, answering only `job_id` and `state`, with state
  words of its own (CONFIRMED_STATES, none of them in the extension's table). As the real DM
  does, the staging request makes ONE parent container in `parent_namespace` holding the DIDs
  (files gathered in a dataset inside it, since Rucio containers hold no files), and the rule
  is on that container.

Both list replicas as the https:// WebDAV URLs of the sandbox's storage (see storage.py) and
answer `GET /data/download/{storage_area_uuid}/{namespace}/{name}` with a storage read token
(`{"access_token": ...}`, a few minutes, scoped to the DID's files at that area).

Answers are FastAPI-shaped: `{"detail": "..."}`, or the 422 list form for invalid input.
Type filter of `GET /data/list/{namespace}`: `filters=type=file` (also `dataset`, `container`,
`collection`, `all`; default `all`); other `key=value` pairs are passed to Rucio as filters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from . import config as cfg
from .faults import ApiError, ApiHandler, validation_error
from .rucio_rest import RucioError, RucioRest
from .site_capabilities import Topology
from .storage import MAX_TOKEN_FILES, WebDavStorage, replica_path
from .tokens import TokenError, TokenVerifier, bearer_token

VERSION = "0.1.0-sandbox"
ADMIN_GROUP = "services/data-management-api/roles/admin"
DID_NAME_RE = re.compile(r"^[/A-Za-z0-9][/A-Za-z0-9.\-_]*$")
MAX_NAME_LEN, MAX_NAMESPACE_LEN = 250, 25
ASYNC_RULE_FILES = 1000  # rules over more files are injected asynchronously
ATTACH_CHUNK = 1000
FORBIDDEN = "You do not have permission to access this resource."
RULE_STATES = {  # Rucio rule state -> our job state
    "INJECT": "SUBMITTED",
    "REPLICATING": "STAGING",
    "OK": "COMPLETED",
    "STUCK": "STUCK",
    "SUSPENDED": "SUSPENDED",
    "WAITING_APPROVAL": "WAITING_APPROVAL",
}
# The confirmed profile's words for the same states: deliberately not the full profile's.
CONFIRMED_STATES = {
    "SUBMITTED": "ACCEPTED",
    "STAGING": "TRANSFERRING",
    "COMPLETED": "REPLICATED",
    "STUCK": "STALLED",
    "SUSPENDED": "ON_HOLD",
    "WAITING_APPROVAL": "AWAITING_APPROVAL",
    "EXPIRED": "LAPSED",
    "RELEASED": "WITHDRAWN",
}
PROFILES = ("full", "confirmed")
DEFAULT_METADATA_PLUGIN = "POSTGRES_JSON"
STATE_PRIORITY = ["EXPIRED", "STUCK", "SUSPENDED", "WAITING_APPROVAL", "SUBMITTED", "STAGING", "COMPLETED"]


# --- errors ------------------------------------------------------------------


def rucio_to_api_error(err: RucioError, what: str = "") -> ApiError:
    """The one mapping of Rucio refusals to DM answers (Rucio's message is kept verbatim)."""
    msg = f"{err.message}".strip() or err.exc_class
    if "psycopg" in msg or "[SQL:" in msg:  # Rucio passes some database errors through raw
        msg = f"{err.exc_class} (database constraint)"
    about = f" ({what})" if what else ""
    table = {
        "DataIdentifierNotFound": (404, f"Data identifier not found{about}: {msg}"),
        "RuleNotFound": (404, f"Rule not found{about}: {msg}"),
        "AccessDenied": (403, f"{FORBIDDEN} Rucio refused{about}: {msg}"),
        "InsufficientAccountLimit": (409, f"Staging refused: quota exceeded{about}. Rucio: {msg}"),
        "DuplicateRule": (409, f"A rule for these DIDs on this storage area already exists{about}. Rucio: {msg}"),
        "DataIdentifierAlreadyExists": (409, f"The DID already exists{about}. Rucio: {msg}"),
        "UnsupportedMetadataPlugin": (400, f"Unsupported metadata plugin{about}: {msg}"),
        "InvalidObject": (400, f"Rucio refused the request as invalid{about}: {msg}"),
        "UnsupportedOperation": (409, f"Rucio refused the operation{about}: {msg}"),
        "CannotAuthenticate": (502, "The data management API could not log in to Rucio"),
        "ConnectionError": (503, f"The data management backend is unavailable: {msg}"),
    }
    status, detail = table.get(err.exc_class, (502, f"General error occurred: Rucio {err.exc_class}{about}: {msg}"))
    return ApiError(status, detail)


def rucio_time(value: Any) -> str | None:
    """Rucio's RFC 1123 dates ('Thu, 01 Jan 2025 00:00:00 UTC') → ISO 8601 UTC."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value).replace("UTC", "GMT"))
    except (TypeError, ValueError):
        return str(value)
    return parsed.astimezone(dt.timezone.utc).isoformat()


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


# --- input validation ----------------------------------------------------------


def check_namespace(value: Any, loc: list) -> str:
    if not isinstance(value, str) or not value:
        raise validation_error(
            loc,
            "Field required" if value is None else "Input should be a valid string",
            "missing" if value is None else "string_type",
        )
    if len(value) > MAX_NAMESPACE_LEN or not DID_NAME_RE.match(value) or "/" in value:
        raise validation_error(
            loc,
            f"Namespace '{value}' is invalid: at most {MAX_NAMESPACE_LEN} characters of letters, digits, '.', '-', '_'",
        )
    return value


def check_name(value: Any, loc: list) -> str:
    if not isinstance(value, str) or not value:
        raise validation_error(
            loc,
            "Field required" if value is None else "Input should be a valid string",
            "missing" if value is None else "string_type",
        )
    if len(value) > MAX_NAME_LEN or not DID_NAME_RE.match(value) or ".." in value:
        raise validation_error(
            loc, f"DID name '{value[:60]}' is invalid: at most {MAX_NAME_LEN} characters matching {DID_NAME_RE.pattern}"
        )
    return value


def check_dids(value: Any, loc: list) -> list[dict]:
    """[{namespace, name}] → Rucio [{scope, name}], de-duplicated, order kept."""
    if value is None:
        raise validation_error(loc, "Field required", "missing")
    if not isinstance(value, list) or not value:
        raise validation_error(loc, "Input should be a non-empty list of {namespace, name}")
    out, seen = [], set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise validation_error(loc + [i], "Input should be an object {namespace, name}")
        did = {
            "scope": check_namespace(item.get("namespace"), loc + [i, "namespace"]),
            "name": check_name(item.get("name"), loc + [i, "name"]),
        }
        if (did["scope"], did["name"]) not in seen:
            seen.add((did["scope"], did["name"]))
            out.append(did)
    return out


def body_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise validation_error(["body"], "Input should be a valid dictionary", "dict_type")
    return body


def did_str(did: dict) -> str:
    return f"{did['scope']}:{did['name']}"


# --- job records -----------------------------------------------------------------


class JobStore:
    """Staging jobs in one JSON file in the state dir, rewritten atomically on each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jobs: dict[str, dict] = json.loads(path.read_text()) if path.exists() else {}

    def add(self, job: dict) -> None:
        self.jobs[job["job_id"]] = job
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".jobs-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.jobs, fh, indent=1)
        os.replace(tmp, self.path)

    def get(self, job_id: str) -> dict | None:
        return self.jobs.get(job_id)


# --- the service ---------------------------------------------------------------------


class DataManagement:
    """DM operations for one verified user; handlers stay thin."""

    def __init__(
        self, config: cfg.SandboxConfig, rucio: RucioRest, topology: Topology, storage: WebDavStorage | None = None
    ) -> None:
        self.config, self.rucio, self.topology = config, rucio, topology
        self.storage = storage  # replicas are listed as its https:// URLs; it checks our download tokens
        self.profile = getattr(config, "dm_profile", "full")
        self.jobs = JobStore(config.state_dir / "data-management" / "jobs.json")
        self._sizes: dict[str, dict[tuple[str, str], int]] = {}  # job id -> file sizes
        # rule id -> (its lock counters, the lock counts read for them): a status call lists a
        # rule's locks only when its counters moved since the last one, as a DM caching per rule would
        self._lock_counts: dict[str, tuple[tuple, dict]] = {}
        # One staging request at a time: a repeat racing its first try (whose answer the client lost)
        # must find the first's job, not make a second one beside it.
        self.staging_lock = asyncio.Lock()

    async def call(self, coro, what: str = "") -> Any:
        try:
            return await coro
        except RucioError as err:
            raise rucio_to_api_error(err, what) from None

    async def existing(self, account: str, dids: list[dict]) -> dict[tuple[str, str], dict]:
        """DID columns of those of `dids` that exist, from one bulk Rucio call."""
        rows = await self.call(self.rucio.bulk_metadata(account, dids), "checking the DIDs exist")
        return {(r["scope"], r["name"]): r for r in rows}

    async def require_existing(self, account: str, dids: list[dict]) -> dict[tuple[str, str], dict]:
        found = await self.existing(account, dids)
        missing = [did_str(d) for d in dids if (d["scope"], d["name"]) not in found]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise ApiError(404, f"Data identifier(s) not found: {', '.join(missing[:5])}{more}")
        return found

    # --- collections ---------------------------------------------------------
    async def create_collection(self, user: cfg.SandboxUser, groups: list[str], body: Any) -> dict:
        body = body_object(body)
        scope = check_namespace(body.get("namespace"), ["body", "namespace"])
        name = check_name(body.get("name"), ["body", "name"])
        kind = body.get("type")
        if kind not in ("container", "dataset"):
            raise validation_error(["body", "type"], "Input should be 'container' or 'dataset'", "enum")
        members = check_dids(body.get("dids"), ["body", "dids"])
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise validation_error(["body", "metadata"], "Input should be a valid dictionary", "dict_type")
        if cfg.owner_group(scope) not in groups:
            raise ApiError(
                403,
                f"{FORBIDDEN} Writing into namespace '{scope}' needs membership of the "
                f"group '{cfg.owner_group(scope)}'.",
            )
        collection = {"scope": scope, "name": name}
        files_dataset = {"scope": scope, "name": f"{name}.files"}
        found = await self.existing(user.username, [collection, files_dataset] + members)
        if (scope, name) in found:
            raise ApiError(409, f"A data identifier named {scope}:{name} already exists")
        missing = [did_str(d) for d in members if (d["scope"], d["name"]) not in found]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise ApiError(404, f"Data identifier(s) not found: {', '.join(missing[:5])}{more}")
        types = {(d["scope"], d["name"]): str(found[(d["scope"], d["name"])]["did_type"]).upper() for d in members}
        files = [d for d in members if types[(d["scope"], d["name"])] == "FILE"]
        collections = [d for d in members if types[(d["scope"], d["name"])] != "FILE"]
        if kind == "dataset" and collections:
            raise ApiError(
                409,
                f"A dataset holds only files; {did_str(collections[0])} is a "
                f"{types[(collections[0]['scope'], collections[0]['name'])].lower()}. "
                f"Use type 'container'.",
            )
        # A Rucio container cannot hold files directly: files given for a container are
        # gathered into the dataset '<name>.files' inside it (checked free above).
        wrap = kind == "container" and bool(files)
        if wrap and (scope, files_dataset["name"]) in found:
            raise ApiError(
                409,
                f"A data identifier named {did_str(files_dataset)} already exists; "
                f"it is needed to hold the files of container {scope}:{name}",
            )
        await self.call(self.rucio.add_did(user.username, scope, name, kind, metadata), "creating the collection")
        if wrap:
            await self.call(
                self.rucio.add_did(user.username, scope, files_dataset["name"], "dataset"), "creating the files dataset"
            )
            await self.call(
                self.rucio.attach(user.username, scope, files_dataset["name"], files, ATTACH_CHUNK), "attaching files"
            )
            collections = collections + [files_dataset]
            files = []
        await self.call(
            self.rucio.attach(user.username, scope, name, files or collections, ATTACH_CHUNK), "attaching members"
        )
        return {"namespace": scope, "name": name, "type": kind, "attached": len(members)}

    async def read_collection(self, account: str, scope: str, name: str) -> dict:
        did = await self.call(self.rucio.did(account, scope, name), f"{scope}:{name}")
        kind = str(did.get("type", "")).lower()
        if kind == "file":
            raise ApiError(404, f"{scope}:{name} is a file, not a collection")
        members = await self.call(self.rucio.content(account, scope, name), f"{scope}:{name}")
        files = await self.call(self.rucio.files(account, scope, name), f"{scope}:{name}")
        return {
            "namespace": scope,
            "name": name,
            "type": kind,
            "dids": [
                {"namespace": m["scope"], "name": m["name"], "type": str(m.get("type", "")).lower()} for m in members
            ],
            "bytes": sum(f.get("bytes") or 0 for f in files),
            "files": len(files),
        }

    # --- catalogue ------------------------------------------------------------
    async def list_dids(
        self, account: str, scope: str, name: str, filters: str, limit: int | None, detail: bool
    ) -> list[dict]:
        did_type = "all"
        for pair in filter(None, (p.strip() for p in filters.split(","))):
            key, _, value = pair.partition("=")
            if key.strip() == "type":
                did_type = value.strip().lower()
        if did_type not in ("all", "file", "dataset", "container", "collection"):
            raise validation_error(["query", "filters"], "type must be file, dataset, container, collection or all")
        rows = await self.call(self.rucio.search(account, scope, name or "*", did_type, limit), scope)
        out = []
        for r in rows:
            item = {
                "namespace": r.get("scope", scope),
                "name": r["name"],
                "type": str(r.get("did_type", "")).lower(),
                "bytes": r.get("bytes"),
            }
            if detail:
                item["length"] = r.get("length")
            out.append(item)
        return out

    async def locate(self, account: str, scope: str, name: str) -> list[dict]:
        did = await self.call(self.rucio.did(account, scope, name), f"{scope}:{name}")
        is_dataset = str(did.get("type", "")).upper() != "FILE"
        replicas = await self.call(self.rucio.replicas(account, [{"scope": scope, "name": name}]), f"{scope}:{name}")
        per_rse: dict[str, dict] = {}
        for rep in replicas:
            for rse, pfns in (rep.get("rses") or {}).items():
                entry = per_rse.setdefault(
                    rse,
                    {
                        "identifier": rse,
                        "associated_storage_area_id": (cfg.area_by_name(rse).id if cfg.area_by_name(rse) else None),
                        "replicas": [],
                        "is_dataset": is_dataset,
                        "files": 0,
                        "bytes": 0,
                    },
                )
                entry["replicas"].extend(self.storage.replica_url(p) if self.storage else p for p in pfns)
                entry["files"] += 1
                entry["bytes"] += rep.get("bytes") or 0
        return sorted(per_rse.values(), key=lambda e: e["identifier"])

    async def download_token(self, user: cfg.SandboxUser, area_id: str, scope: str, name: str) -> dict:
        """A short-lived storage read token for the DID's files at one storage area."""
        area = cfg.area_by_id(area_id)
        if area is None:
            raise ApiError(404, f"Storage area with identifier '{area_id}' could not be found")
        if self.storage is None:
            raise ApiError(503, "This sandbox serves no storage over WebDAV")
        await self.call(self.rucio.did(user.username, scope, name), f"{scope}:{name}")
        replicas = await self.call(
            self.rucio.replicas(user.username, [{"scope": scope, "name": name}]), f"{scope}:{name}"
        )
        paths = [replica_path(pfn) for rep in replicas for pfn in (rep.get("rses") or {}).get(area.name, [])]
        if not paths:
            raise ApiError(404, f"{scope}:{name} has no replica at {area.name}: stage it there first")
        if len(paths) > MAX_TOKEN_FILES:
            raise ApiError(
                400, f"{scope}:{name} has {len(paths)} files at {area.name}; ask for the files' tokens one by one"
            )
        return self.storage.tokens.issue(user, area, f"{scope}:{name}", paths)

    async def metadata(self, account: str, scope: str, name: str, plugin: str) -> dict:
        """DID_COLUMN (Rucio's own fields) or POSTGRES_JSON (science metadata, the default)."""
        plugin = plugin or DEFAULT_METADATA_PLUGIN
        try:
            return await self.rucio.metadata(account, scope, name, plugin)
        except RucioError as err:
            if err.exc_class != "DataIdentifierNotFound" or plugin.upper() != "POSTGRES_JSON":
                raise rucio_to_api_error(err, f"{scope}:{name}") from None
        # Rucio's JSON plugin does not look at the DID itself: say which of the two is missing.
        await self.call(self.rucio.did(account, scope, name), f"{scope}:{name}")
        raise ApiError(404, f"No metadata found for {scope}:{name}")

    async def rules(self, account: str, scope: str, name: str) -> list[dict]:
        rows = await self.call(self.rucio.did_rules(account, scope, name), f"{scope}:{name}")
        return [rule_view(r) for r in rows]

    async def quota(self, account: str, area_id: str) -> dict:
        """The account's Rucio limit and usage at a storage area's RSE (no limit = zero quota)."""
        area = cfg.area_by_id(area_id)
        if area is None:
            raise ApiError(404, f"Storage area with identifier '{area_id}' could not be found")
        rows = await self.call(self.rucio.local_usage(account, area.name), f"quota at {area.name}")
        row = next((r for r in rows if r.get("rse") == area.name), {})
        used, limit = int(row.get("bytes") or 0), int(row.get("bytes_limit") or 0)
        return {
            "storage_area_uuid": area.id,
            "rse": area.name,
            "bytes_limit": limit,
            "bytes_used": used,
            "bytes_remaining": limit - used,
            "files": int(row.get("files") or 0),
        }

    # --- staging -----------------------------------------------------------------
    async def stage(self, user: cfg.SandboxUser, body: Any, groups: list[str] | None = None) -> dict:
        body = body_object(body)
        errors = []
        for key in ("to_storage_area_uuid", "lifetime", "dids"):
            if body.get(key) is None:
                errors.append({"loc": ["body", key], "msg": "Field required", "type": "missing"})
        if errors:
            raise ApiError(422, errors)
        area_id, lifetime = body["to_storage_area_uuid"], body["lifetime"]
        if not isinstance(area_id, str):
            raise validation_error(["body", "to_storage_area_uuid"], "Input should be a valid string", "string_type")
        self.check_lifetime(lifetime)
        dids = check_dids(body["dids"], ["body", "dids"])
        parent = body.get("parent_namespace")
        if parent is not None:
            check_namespace(parent, ["body", "parent_namespace"])
        area = cfg.area_by_id(area_id)
        if area is None:
            raise ApiError(404, f"Storage area with identifier '{area_id}' could not be found")
        refusal = self.topology.staging_refusal(area)
        if refusal:
            raise ApiError(409, f"Staging refused: {refusal}")
        same = (area.id, lifetime, parent or dids[0]["scope"], dids)
        if repeated := await self.identical_live_job(user, *same):
            return repeated
        found = await self.require_existing(user.username, dids)
        n_files = 0
        for row in found.values():
            kind = str(row["did_type"]).upper()
            if kind == "FILE":
                n_files += 1
            elif kind == "DATASET" and row.get("length") is not None:
                n_files += row["length"]
            else:  # an open dataset has no length yet; a container's counts its children
                n_files += len(
                    await self.call(
                        self.rucio.files(user.username, row["scope"], row["name"]),
                        f"listing the files of {row['scope']}:{row['name']}",
                    )
                )
        job_id = uuid.uuid4().hex
        rule_dids = dids
        if self.profile == "confirmed":
            rule_dids = [await self.parent_container(user, groups or [], parent or dids[0]["scope"], job_id, found)]
        # Large rules are injected asynchronously (as Rucio's WebUI does); small ones synchronously,
        # so that Rucio's own refusals (quota, duplicate rule) come back in this answer.
        asynchronous = n_files > ASYNC_RULE_FILES
        rule_ids = await self.call(
            self.rucio.add_rule(
                user.username, rule_dids, area.name, lifetime, asynchronous, comment="srcstage sandbox staging request"
            ),
            f"staging to {area.name}",
        )
        created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        job = {
            "job_id": job_id,
            "user": user.username,
            "rule_ids": rule_ids,
            "storage_area_uuid": area.id,
            "rse": area.name,
            "lifetime": lifetime,
            "parent_namespace": parent or dids[0]["scope"],
            "dids": [{"namespace": d["scope"], "name": d["name"]} for d in dids],
            "created_at": created.isoformat(),
            "expires_at": (created + dt.timedelta(seconds=lifetime)).isoformat(),
        }
        self.jobs.add(job)
        if self.profile == "confirmed":
            return {"job_id": job_id}
        public = {k: v for k, v in job.items() if k != "user"}
        return {**public, "state": "SUBMITTED"}

    async def identical_live_job(
        self, user: cfg.SandboxUser, area_id: str, lifetime: int, parent: str, dids: list[dict]
    ) -> dict | None:
        """The job an identical earlier request of this user made, while its rules still exist.

        A repeat of a staging request (a client retrying after a time-out or a 5xx, not knowing
        whether its first try went through) is answered with the same job, never a second one.
        """
        wanted = sorted((d["scope"], d["name"]) for d in dids)
        for job in reversed(list(self.jobs.jobs.values())):
            if (job["user"], job["storage_area_uuid"], job["lifetime"], job["parent_namespace"]) != (
                user.username,
                area_id,
                lifetime,
                parent,
            ) or sorted((d["namespace"], d["name"]) for d in job["dids"]) != wanted:
                continue
            if job.get("released_at"):
                continue  # given back: a new request is a new job
            try:
                for rule_id in job["rule_ids"]:
                    await self.rucio.rule(user.username, rule_id)
            except RucioError as err:
                if err.exc_class == "RuleNotFound":
                    continue  # expired or removed: a new request is a new job
                raise rucio_to_api_error(err, f"rule of job {job['job_id']}") from None
            status = await self.job_status(user, [], job["job_id"])
            return status if self.profile == "confirmed" else {**status, "repeated": True}
        return None

    async def parent_container(
        self, user: cfg.SandboxUser, groups: list[str], scope: str, job_id: str, found: dict
    ) -> dict:
        """The parent container of a staging request, in `scope`, holding the DIDs (files in a
        dataset inside it, as Rucio containers hold no files). Checked before anything is made."""
        if cfg.owner_group(scope) not in groups:
            raise ApiError(
                403,
                f"{FORBIDDEN} Making the parent container in namespace '{scope}' needs membership of the "
                f"group '{cfg.owner_group(scope)}'.",
            )
        name = f"staging-{job_id[:12]}"
        files = [{"scope": s, "name": n} for (s, n), r in found.items() if str(r["did_type"]).upper() == "FILE"]
        others = [{"scope": s, "name": n} for (s, n), r in found.items() if str(r["did_type"]).upper() != "FILE"]
        await self.call(self.rucio.add_did(user.username, scope, name, "container"), "creating the parent container")
        if files:
            await self.call(
                self.rucio.add_did(user.username, scope, f"{name}.files", "dataset"), "creating the files dataset"
            )
            await self.call(
                self.rucio.attach(user.username, scope, f"{name}.files", files, ATTACH_CHUNK), "attaching files"
            )
            others.append({"scope": scope, "name": f"{name}.files"})
        await self.call(self.rucio.attach(user.username, scope, name, others, ATTACH_CHUNK), "attaching members")
        return {"scope": scope, "name": name}

    async def file_sizes(self, job: dict) -> dict[tuple[str, str], int]:
        """Bytes of every file under a job's DIDs (Rucio locks carry none); read once, then cached.
        A job of member DIDs (the confirmed profile) may name thousands: Rucio takes at most
        ATTACH_CHUNK DIDs a call."""
        sizes = self._sizes.get(job["job_id"])
        if sizes is None:
            dids = [{"scope": d["namespace"], "name": d["name"]} for d in job["dids"]]
            sizes = {}
            for start in range(0, len(dids), ATTACH_CHUNK):
                chunk = dids[start : start + ATTACH_CHUNK]
                rows = await self.call(self.rucio.replicas(job["user"], chunk), "sizing the job's files")
                sizes.update({(r["scope"], r["name"]): r.get("bytes") or 0 for r in rows})
            self._sizes[job["job_id"]] = sizes
        return sizes

    async def rule_lock_counts(self, job: dict, rule_id: str, rule: dict) -> dict:
        """Files and bytes of a rule's locks by state; listed again only when the rule's lock
        counters have moved."""
        counters = tuple(rule.get(k) for k in ("locks_ok_cnt", "locks_replicating_cnt", "locks_stuck_cnt"))
        cached = self._lock_counts.get(rule_id)
        if cached and cached[0] == counters and None not in counters:
            return cached[1]
        counts = dict.fromkeys(
            ("files_total", "files_ok", "files_replicating", "files_stuck", "bytes_total", "bytes_ok"), 0
        )
        locks = await self.call(self.rucio.rule_locks(job["user"], rule_id), f"rule {rule_id}")
        sizes = await self.file_sizes(job) if locks else {}
        for lock in locks:
            state, size = str(lock.get("state")), sizes.get((lock["scope"], lock["name"]), 0)
            counts["files_total"] += 1
            counts["bytes_total"] += size
            if state == "OK":
                counts["files_ok"] += 1
                counts["bytes_ok"] += size
            elif state == "STUCK":
                counts["files_stuck"] += 1
            else:
                counts["files_replicating"] += 1
        self._lock_counts[rule_id] = (counters, counts)
        return counts

    def check_lifetime(self, lifetime: object) -> None:
        """A staging lifetime as the DM checks it: whole seconds, positive, within the DM's cap."""
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise validation_error(["body", "lifetime"], "Input should be a valid integer (seconds)", "int_type")
        if lifetime <= 0:
            raise validation_error(["body", "lifetime"], "Input should be greater than 0 (seconds)", "greater_than")
        cap = self.config.max_stage_lifetime_s
        if lifetime > cap:
            raise ApiError(
                403,
                f"{FORBIDDEN} The requested lifetime of {lifetime} s ({lifetime / 86400:g} days) "
                f"exceeds the maximum staging lifetime of {cap} s ({cap / 86400:g} days).",
            )

    def own_job(self, user: cfg.SandboxUser, groups: list[str], job_id: str) -> dict:
        """The job, if it is the user's (or the user is a DM admin)."""
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Staging job '{job_id}' could not be found")
        if job["user"] != user.username and ADMIN_GROUP not in groups:
            raise ApiError(403, f"{FORBIDDEN} Staging job '{job_id}' belongs to another user.")
        return job

    # --- job actions (adopted, full profile only) ------------------------------------
    # Rucio lets only root (or an admin account) change or remove a rule: once the job is
    # checked to be the user's, the DM acts as its service account.

    async def extend(self, user: cfg.SandboxUser, groups: list[str], job_id: str, body: Any) -> dict:
        body = body_object(body)
        lifetime = body.get("lifetime")
        if lifetime is None:
            raise ApiError(422, [{"loc": ["body", "lifetime"], "msg": "Field required", "type": "missing"}])
        self.check_lifetime(lifetime)
        job = self.own_job(user, groups, job_id)
        if job.get("released_at"):
            raise ApiError(409, f"Staging job '{job_id}' was released; there is no staged copy to extend.")
        service = self.rucio.service_identity[0]
        for rule_id in job["rule_ids"]:
            await self.call(self.rucio.update_rule(service, rule_id, {"lifetime": lifetime}), f"rule {rule_id}")
        expires = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=lifetime)
        self.jobs.add({**job, "lifetime": lifetime, "expires_at": expires.isoformat()})
        return await self.job_status(user, groups, job_id)

    async def release(self, user: cfg.SandboxUser, groups: list[str], job_id: str) -> dict:
        job = self.own_job(user, groups, job_id)
        service = self.rucio.service_identity[0]
        for rule_id in job["rule_ids"]:
            try:
                await self.rucio.delete_rule(service, rule_id, purge_replicas=True)
                # Rucio's removal is soft (the rule expires within the hour): cut it to now, so the
                # judge-cleaner removes it at its next cycle and the reaper then deletes the files.
                await self.rucio.update_rule(service, rule_id, {"lifetime": 0})
            except RucioError as err:
                if err.exc_class != "RuleNotFound":  # gone already: released all the same
                    raise rucio_to_api_error(err, f"rule {rule_id}") from None
        self.jobs.add({**job, "released_at": _now_iso()})
        return {"job_id": job_id, "state": "RELEASED", "expires_at": _now_iso()}

    async def job_status(self, user: cfg.SandboxUser, groups: list[str], job_id: str) -> dict:
        job = self.own_job(user, groups, job_id)
        states, progress, expires = (
            [],
            dict.fromkeys(
                ("files_total", "files_ok", "files_replicating", "files_stuck", "bytes_total", "bytes_ok"), 0
            ),
            [],
        )
        for rule_id in job["rule_ids"]:
            try:
                rule = await self.rucio.rule(job["user"], rule_id)
            except RucioError as err:
                if err.exc_class == "RuleNotFound":
                    states.append("EXPIRED")
                    continue
                raise rucio_to_api_error(err, f"rule {rule_id}") from None
            states.append(RULE_STATES.get(str(rule.get("state")), str(rule.get("state"))))
            expires.append(rucio_time(rule.get("expires_at")))
            for key, value in (await self.rule_lock_counts(job, rule_id, rule)).items():
                progress[key] += value
        known = [s for s in STATE_PRIORITY if s in states]
        state = known[0] if known else (states[0] if states else "EXPIRED")
        if job.get("released_at"):
            state = "RELEASED"
        if self.profile == "confirmed":
            return {"job_id": job_id, "state": CONFIRMED_STATES.get(state, state)}
        public = {k: v for k, v in job.items() if k != "user"}
        return {
            **public,
            "state": state,
            "expires_at": (expires[0] if expires and expires[0] else job["expires_at"]),
            "progress": progress,
        }


def rule_view(rule: dict) -> dict:
    keys = (
        "id",
        "scope",
        "name",
        "rse_expression",
        "state",
        "account",
        "copies",
        "locks_ok_cnt",
        "locks_replicating_cnt",
        "locks_stuck_cnt",
        "grouping",
        "comments",
    )
    view = {k: rule.get(k) for k in keys}
    view["namespace"] = view.pop("scope")
    view["expires_at"] = rucio_time(rule.get("expires_at"))
    view["created_at"] = rucio_time(rule.get("created_at"))
    return view


# --- handlers ------------------------------------------------------------------------


class DmHandler(ApiHandler):
    dm: DataManagement
    verifier: TokenVerifier
    needs_token = True
    claims: dict
    user: cfg.SandboxUser

    async def prepare(self) -> None:
        await super().prepare()
        if not self.needs_token:
            return
        try:
            self.claims = await self.verifier.verify(bearer_token(self.request.headers.get("Authorization")))
        except TokenError as exc:
            raise ApiError(401, exc.detail) from None
        user = cfg.user_by_name(self.claims.get("preferred_username", ""))
        if user is None:
            raise ApiError(403, f"{FORBIDDEN} The token's user has no data management account.")
        self.user = user

    @property
    def groups(self) -> list[str]:
        return list(self.claims.get("groups") or [])

    def int_arg(self, name: str) -> int | None:
        value = self.get_argument(name, None)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            raise validation_error(["query", name], "Input should be a valid integer", "int_parsing") from None


class NamespacesHandler(DmHandler):
    async def get(self) -> None:
        self.send(sorted(await self.dm.call(self.dm.rucio.scopes(self.user.username), "namespaces")))


class ListHandler(DmHandler):
    async def get(self, namespace: str) -> None:
        detail = self.get_argument("detail", "false").lower() in ("1", "true", "yes")
        self.send(
            await self.dm.list_dids(
                self.user.username,
                namespace,
                self.get_argument("name", "*"),
                self.get_argument("filters", ""),
                self.int_arg("limit"),
                detail,
            )
        )


class LocateHandler(DmHandler):
    async def get(self, namespace: str, name: str) -> None:
        self.send(await self.dm.locate(self.user.username, namespace, name))


class DownloadHandler(DmHandler):
    async def get(self, storage_area_uuid: str, namespace: str, name: str) -> None:
        self.send(await self.dm.download_token(self.user, storage_area_uuid, namespace, name))


class MetadataHandler(DmHandler):
    async def get(self, namespace: str, name: str) -> None:
        self.send(await self.dm.metadata(self.user.username, namespace, name, self.get_argument("plugin", "")))


class CollectionsHandler(DmHandler):
    async def post(self) -> None:
        self.send(await self.dm.create_collection(self.user, self.groups, self.json_body()), 201)


class CollectionHandler(DmHandler):
    async def get(self, namespace: str, name: str) -> None:
        self.send(await self.dm.read_collection(self.user.username, namespace, name))


class StageHandler(DmHandler):
    async def post(self) -> None:
        async with self.dm.staging_lock:
            answer = await self.dm.stage(self.user, self.json_body(), self.groups)
        self.send(answer, 202)


class StageStatusHandler(DmHandler):
    async def get(self, job_id: str) -> None:
        self.send(await self.dm.job_status(self.user, self.groups, job_id))


class StageJobHandler(StageStatusHandler):
    """The full profile's job route: its status, and the adopted extend (PUT) and release (DELETE)."""

    async def put(self, job_id: str) -> None:
        self.send(await self.dm.extend(self.user, self.groups, job_id, self.json_body()))

    async def delete(self, job_id: str) -> None:
        self.send(await self.dm.release(self.user, self.groups, job_id))


class RulesHandler(DmHandler):
    async def get(self, namespace: str, name: str) -> None:
        self.send(await self.dm.rules(self.user.username, namespace, name))


class QuotaHandler(DmHandler):
    async def get(self, area_id: str) -> None:
        self.send(await self.dm.quota(self.user.username, area_id))


class PingHandler(DmHandler):
    needs_token = False

    async def get(self) -> None:
        self.send({"status": "UP", "version": VERSION})


class HealthHandler(DmHandler):
    """Up when Rucio and the Auth API's keys both answer; 500 naming the one that does not."""

    needs_token = False

    async def get(self) -> None:
        try:
            await self.dm.rucio.ping()
            rucio_ok = True
        except (RucioError, Exception):
            rucio_ok = False
        auth_ok = await self.verifier.probe()
        ok = rucio_ok and auth_ok
        self.send(
            {
                "status": "UP" if ok else "DOWN",
                "version": VERSION,
                "uptime": round(time.time() - self.runtime.started_at, 1),
                "dependent_services": {
                    "rucio": {"status": "UP" if rucio_ok else "DOWN"},
                    "authn-api": {"status": "UP" if auth_ok else "DOWN"},
                },
            },
            200 if ok else 500,
        )


ROUTES = [
    ("/ping", PingHandler),
    ("/health", HealthHandler),
    ("/data/list", NamespacesHandler),
    ("/data/list/{namespace}", ListHandler),
    ("/data/locate/{namespace}/{name:path}", LocateHandler),
    ("/metadata/{namespace}/{name:path}", MetadataHandler),
    ("/data/download/{storage_area_uuid}/{namespace}/{name:path}", DownloadHandler),
    ("/data/collections", CollectionsHandler),
    ("/data/collections/{namespace}/{name:path}", CollectionHandler),
    ("/data/stage", StageHandler),
    ("/data/stage/{job_id}", StageJobHandler),  # PUT/DELETE adopted, optional
    ("/data/rules/{namespace}/{name:path}", RulesHandler),
    ("/data/quota/{area_id}", QuotaHandler),  # adopted, optional (not in a confirmed-only profile)
]

# What the confirmed profile serves: SRCNet's confirmed routes plus the staging request and its status.
CONFIRMED_TEMPLATES = frozenset(
    {
        "/ping",
        "/health",
        "/data/list",
        "/data/locate/{namespace}/{name:path}",
        "/metadata/{namespace}/{name:path}",
        "/data/download/{storage_area_uuid}/{namespace}/{name:path}",
        "/data/stage",
        "/data/stage/{job_id}",
    }
)


def routes_for(profile: str) -> list:
    if profile not in PROFILES:
        raise ValueError(f"unknown DM profile '{profile}' (known: {', '.join(PROFILES)})")
    if profile == "full":
        return ROUTES
    # The confirmed profile reads a job's status only: PUT/DELETE on it answer 405.
    confirmed = {StageJobHandler: StageStatusHandler}
    return [(t, confirmed.get(h, h)) for t, h in ROUTES if t in CONFIRMED_TEMPLATES]
