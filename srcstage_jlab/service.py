"""The staging service: what the REST handlers call. One instance per Jupyter server.

It owns nothing itself: tokens belong to the TokenBroker, collections to the
CollectionStore, jobs to the JobTracker, and SRCNet calls go through the one
client per service. Its methods are the user's verbs: search, collect, submit,
pre-check, stage, and find the staged files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from . import messages
from .errors import (
    Conflict,
    ExtensionError,
    InvalidInput,
    NoDestination,
    NotFound,
    NotServed,
    NotSignedIn,
    NotStaged,
    PrecheckFailed,
    Unavailable,
)
from .job_actions import JobActions
from .srcnet import data_management, site_capabilities
from .srcnet.auth import HubTokenSource, TokenBroker
from .srcnet.data_management import DataManagement, parent_did_in
from .srcnet.http import RETRYING_NOTICE, AuthorizedService, ServiceClient
from .srcnet.site_capabilities import SiteCapabilities, StagingDestination, choose_destination
from .staging import lifetimes
from .staging.collections import CollectionStore, StoredCollection
from .staging.dids import Did, did_safe_name, parse_did
from .staging.job_files import file_states
from .staging.jobs import TERMINAL_PHASES, JobTracker, TrackedJob, phase_of, progress_of, state_table
from .staging.paths import find_tail, local_path, replica_key
from .staging.summary import StageSummary, is_tape, over_quota_problem, quota_verdict

LOOKUP_CONCURRENCY = 16
# Above this many DIDs of unknown type in one namespace, one listing of the
# namespace is cheaper than one metadata call per DID.
LIST_NAMESPACE_ABOVE = 20
LIST_LIMIT = 100_000
COLLECTION_TYPES = ("dataset", "container")
# Progress from locate (when the status answer carries no counts): DIDs are located in batches
# of LOCATE_BATCH (concurrently); a poll goes on to the next batch while at least half of the
# last one was all there (files are arriving: find them now, not a poll later), and stops at
# LOCATE_PER_POLL calls. A poll while nothing has arrived costs one batch.
LOCATE_PER_POLL = 2000
LOCATE_BATCH = 16
# Per-file states: DIDs of a job located at most per call (openapi.yaml says so too).
JOB_FILES_LOCATE = 200


def _expired(when: str | None) -> bool:
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None
    except ValueError:
        return False
    if moment and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return bool(moment) and moment < datetime.now(timezone.utc)


def _all_there(located: tuple[set[str], dict[str, str]] | None) -> bool:
    """Whether a cached locate of one DID found files, all of them at the destination."""
    if located is None:
        return False
    keys, here = located
    return bool(keys) and keys <= set(here)


def _type_of(info: dict) -> str | None:
    value = info.get("type") or info.get("did_type")
    return str(value).lower() if value else None


class StagingService:
    def __init__(self, settings: Any, log: logging.Logger):
        """`settings` is the SrcStage app (its traitlets); see app.py for each option's meaning."""
        self.settings = settings
        self.log = log
        timeout, retries = settings.request_timeout, settings.retries
        self.auth_client = ServiceClient("auth", settings.auth_api_url, timeout=timeout, retries=retries, log=log)
        self.sc_client = ServiceClient(
            "site-capabilities", settings.site_capabilities_api_url, timeout=timeout, retries=retries, log=log
        )
        self.dm_client = ServiceClient(
            "data-management", settings.data_management_api_url, timeout=timeout, retries=retries, log=log
        )
        hub = None
        if settings.under_hub():
            hub = HubTokenSource(
                os.environ["JUPYTERHUB_API_URL"],
                os.environ["JUPYTERHUB_USER"],
                os.environ["JUPYTERHUB_API_TOKEN"],
                settings.hub_host() or "JupyterHub",
                timeout=settings.hub_request_timeout,
                key=settings.hub_auth_state_key,
            )
        self.broker = TokenBroker(
            self.auth_client,
            access_env=settings.access_token_env,
            refresh_env=settings.refresh_token_env,
            token_file=settings.token_file,
            margin_s=settings.token_refresh_margin,
            device_flow=settings.device_flow,
            log=log,
            hub=hub,
        )
        self.sc = SiteCapabilities(AuthorizedService(self.sc_client, site_capabilities.AUDIENCE, self.broker))
        self.dm = DataManagement(
            AuthorizedService(self.dm_client, data_management.AUDIENCE, self.broker),
            settings.dm_routes,
            bulk_timeout=settings.bulk_request_timeout,
        )
        state_dir = Path(settings.state_dir)
        self.collections = CollectionStore(state_dir / "collections.json")
        self.states = state_table(getattr(settings, "state_words", None) or {})
        self.jobs = JobTracker(
            state_dir / "jobs.json",
            self._job_status,
            interval=settings.poll_interval,
            max_interval=settings.max_poll_interval,
            idle_interval=settings.idle_poll_interval,
            log=log,
            states=self.states,
        )
        # job id -> {target DID: (its file keys, {file key: replica URL at the destination})}, from locate
        self._located: dict[str, dict[str, tuple[set[str], dict[str, str]]]] = {}
        self._locate_offset: dict[str, int] = {}
        # job id -> {target DID: {file key: RSEs it is at}}, from each target's latest locate
        self._seen_at: dict[str, dict[str, dict[str, set[str]]]] = {}
        self.download_progress: dict = {}  # DID -> the Progress of its latest download (download mode)
        self._downloads_running: dict[str, asyncio.Future] = {}  # DID -> its download under way
        self.locate_calls = 0  # for benchmarks and tests: locate calls made to follow jobs
        self.default_lifetime_s = lifetimes.parse_lifetime(settings.default_lifetime)
        self.max_lifetime_s = lifetimes.parse_lifetime(settings.max_lifetime)
        if self.default_lifetime_s > self.max_lifetime_s:
            raise ValueError(messages.DEFAULT_LIFETIME_OVER_MAX)
        self.summary = StageSummary(self.dm)
        self.actions = JobActions(self)
        self._destination: tuple[float, StagingDestination] | None = None
        self._destination_lock = asyncio.Lock()

    def start(self) -> None:
        self.jobs.start()

    async def stop(self) -> None:
        for download in list(self._downloads_running.values()):
            download.cancel()
        await asyncio.gather(*self._downloads_running.values(), return_exceptions=True)
        await self.jobs.stop()
        await self.broker.aclose()
        for client in (self.auth_client, self.sc_client, self.dm_client):
            await client.aclose()

    def retrying_notice(self) -> str | None:
        """What the UI says while a call to SRCNet waits to be sent again, else None."""
        clients = (self.auth_client, self.sc_client, self.dm_client)
        return RETRYING_NOTICE if any(c.waiting_to_retry for c in clients) else None

    # --- settings and identity ----------------------------------------------------

    def public_config(self) -> dict:
        from . import __version__

        return {
            "version": __version__,
            "default_lifetime_s": self.default_lifetime_s,
            "max_lifetime_s": self.max_lifetime_s,
            "collection_namespace": self.settings.collection_namespace or None,
            "poll_interval_s": self.settings.poll_interval,
            "capabilities": self.capabilities(),
        }

    def capabilities(self) -> dict:
        """What this DM serves beyond the confirmed contract, as learnt so far (null = not tried yet)."""
        dm = self.dm.capabilities()
        create = dm["create_collection"]
        submit = {
            "available": create["served"] is not False,
            "why": None if create["served"] is not False else messages.SUBMIT_ONLY_NOT_SERVED,
        }
        search = dm["list_dids"]
        return {
            "dm_routes": dm,
            "submit_only": submit,
            "search": {
                "available": search["served"] is not False,
                "why": None if search["served"] is not False else messages.SEARCH_NOT_SERVED,
            },
            "stage_via": "collection" if create["served"] is not False else "staging request",
            "job_actions": self.actions.capabilities(),
            "read_files": self.read_files(),
        }

    def read_files(self) -> dict:
        """How staged files are read on this server ("mount" or "download", null until the destination
        is known) and, when they cannot be, the one sentence that says why (the UI and Python show it)."""
        cached = self._destination[1] if self._destination else None
        if cached is None and self.settings.access == "auto" and self.settings.mounts:
            return {"mode": None, "available": None, "why": None}  # which mount applies is not known yet
        area = cached.area.name if cached else messages.THE_DESTINATION
        if cached is not None and not self._downloads(cached):
            mounted = bool(self.mount_for(cached))
            why = None if mounted else self._no_mount_why(area)
            return {"mode": "mount", "available": mounted, "why": why}
        download = self.dm.capabilities()["download"]
        why = (
            messages.FILES_NOT_READABLE.format(
                area=area, route=download["route"] or messages.NO_ROUTE, why=download["why"]
            )
            if download["served"] is False
            else None
        )
        return {"mode": "download", "available": download["served"], "why": why}

    @staticmethod
    def _no_mount_why(area: str) -> str:
        return messages.NO_MOUNT.format(area=area)

    async def learn_read_files(self) -> None:
        """Learn the destination (cached) so the reason names it, and in download mode, once, whether
        the DM serves the download route (nothing changes in SRCNet)."""
        try:
            destination = await self.destination()
        except ExtensionError:
            return  # not signed in yet, or SRCNet failing: learnt on a later read
        if self._downloads(destination) and self.dm.serves("download") and "download" not in self.dm.served:
            await self.dm.probe_download(destination.area.id)

    async def owned_namespaces(self) -> list[str]:
        """Namespaces the user's IAM groups own (`data/namespaces/<ns>/owner`), from the DM token."""
        await self.broker.token_for(data_management.AUDIENCE)
        groups = self.broker.claims(data_management.AUDIENCE).get("groups") or self.broker.claims().get("groups") or []
        prefix, suffix = "data/namespaces/", "/owner"
        return sorted(
            g.strip("/")[len(prefix) : -len(suffix)]
            for g in groups
            if isinstance(g, str) and g.strip("/").startswith(prefix) and g.endswith(suffix)
        )

    async def default_namespace(self) -> str:
        if self.settings.collection_namespace:
            return self.settings.collection_namespace
        owned = await self.owned_namespaces()
        personal = [n for n in owned if n.startswith("user.")]
        if personal or owned:
            return (personal or owned)[0]
        raise InvalidInput(messages.NO_WRITABLE_NAMESPACE)

    async def namespaces(self) -> dict:
        names, owned = await asyncio.gather(self.dm.namespaces(), self.owned_namespaces())
        return {"namespaces": names, "owned": owned}

    # --- destination ---------------------------------------------------------------

    async def destination(self, refresh: bool = False) -> StagingDestination:
        async with self._destination_lock:
            cached = self._destination
            if cached and not refresh and time.monotonic() - cached[0] < self.settings.destination_cache_s:
                return cached[1]
            s = self.settings
            destination = choose_destination(
                await self.sc.topology(),
                area_id=s.destination_storage_area_id,
                rse=s.destination_rse,
                hub_service_id=s.jupyterhub_service_id,
                hub_host=s.hub_host(),
                site_name=s.site_name,
            )
            self._destination = (time.monotonic(), destination)
            return destination

    def mount_for(self, destination: StagingDestination) -> str | None:
        mounts = self.settings.mounts
        return mounts.get(destination.area.name) or mounts.get(destination.area.id)

    async def destination_json(self, refresh: bool = False) -> dict:
        destination = await self.destination(refresh)
        return {
            "storage_area": destination.area.to_json(),
            "found_by": destination.found_by,
            "explanation": destination.explanation,
            "mount": self.mount_for(destination),
        }

    # --- finding data ----------------------------------------------------------------

    async def search(self, namespace: str, name: str, did_type: str, limit: int) -> dict:
        """Search DIDs; the REST edge has checked the arguments (openapi.yaml, `GET /dids`)."""
        try:
            rows = await self.dm.list_dids(namespace, name or "*", did_type, limit + 1)
        except NotServed as err:
            raise NotServed(self.capabilities()["search"]["why"], err.message, service="data-management") from None
        items = []
        for row in rows[:limit]:
            ns, nm = row.get("namespace") or row.get("scope") or namespace, row.get("name")
            if not isinstance(nm, str):
                continue
            items.append(
                {"did": f"{ns}:{nm}", "namespace": ns, "name": nm, "type": _type_of(row), "bytes": row.get("bytes")}
            )
        return {"items": items, "truncated": len(rows) > limit, "limit": limit}

    async def locations(self, did_text: str) -> dict:
        did = parse_did(did_text)
        locations, destination = await asyncio.gather(self.dm.locate(did), self._destination_or_none())
        out = []
        for loc in locations:
            rse, area_id = loc.get("identifier"), loc.get("associated_storage_area_id")
            at_destination = bool(destination) and (rse == destination.area.name or area_id == destination.area.id)
            out.append(
                {
                    "rse": rse,
                    "storage_area_id": area_id,
                    "files": len(loc.get("replicas") or []),
                    "bytes": loc.get("bytes") if isinstance(loc.get("bytes"), int) else None,
                    "tape": is_tape(rse),
                    "is_destination": at_destination,
                }
            )
        return {"did": str(did), "locations": out}

    async def science_metadata(self, did_text: str) -> dict:
        """A DID's science metadata (the DM API's POSTGRES_JSON plugin), on demand; {} when it has none."""
        did = parse_did(did_text)
        try:
            metadata = await self.dm.metadata(did, plugin="POSTGRES_JSON")
        except NotFound as err:
            if "no metadata found" not in str(err.detail or err.message).lower():
                raise
            metadata = {}
        return {"did": str(did), "metadata": metadata}

    async def _destination_or_none(self) -> StagingDestination | None:
        try:
            return await self.destination()
        except NoDestination:
            return None

    # --- collections -------------------------------------------------------------------

    async def resolve(self, collection: StoredCollection) -> None:
        """Learn the type and size of entries not known yet; NotFound names any unknown DID.

        Read-only in SRCNet. Types decide the collection DID's shape: Rucio datasets hold
        files, containers hold datasets and containers.
        """
        unknown = [e.did for e in collection.entries if e.type is None]
        if not unknown:
            return
        details: dict[Did, dict] = {}
        by_namespace: dict[str, list[Did]] = defaultdict(list)
        for did in unknown:
            by_namespace[did.namespace].append(did)
        singles: list[Did] = []
        for namespace, dids in by_namespace.items():
            if len(dids) > LIST_NAMESPACE_ABOVE and self.dm.serves("list_dids"):
                wanted = set(dids)
                try:
                    rows = await self.dm.list_dids(namespace, "*", "all", LIST_LIMIT)
                except NotServed:
                    rows = []  # one metadata call per DID instead
                for row in rows:
                    did = Did(namespace, str(row.get("name")))
                    if did in wanted:
                        details[did] = {"type": _type_of(row), "bytes": row.get("bytes")}
                singles += [d for d in dids if d not in details]
            else:
                singles += dids
        semaphore = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def lookup(did: Did) -> None:
            async with semaphore:
                try:
                    info = await self.dm.metadata(did)
                except NotFound as err:
                    raise NotFound(
                        messages.DID_NOT_FOUND.format(did=did),
                        err.detail,
                        service="data-management",
                    ) from None
                details[did] = {"type": _type_of(info), "bytes": info.get("bytes")}

        await asyncio.gather(*(lookup(d) for d in singles))
        await self.collections.record_details(collection, details)

    async def submit(self, collection_id: str, namespace: str | None = None, name: str | None = None) -> dict:
        """Create the collection's DID through the DM API; idempotent.

        Retrying never makes a second DID: a 409 is answered by reading the existing DID,
        and if it holds exactly our members it is ours. Without an explicit name, a
        taken name with other members moves on to `<name>-2`, `<name>-3`, ...
        """
        collection = self.collections.get(collection_id)
        if not collection.entries:
            raise InvalidInput(messages.COLLECTION_EMPTY_ON_SUBMIT.format(collection=collection))
        if not await self.dm.probe("create_collection"):
            raise NotServed(self.capabilities()["submit_only"]["why"], service="data-management")
        if collection.is_submitted_current and not (namespace or name):
            return {"did": collection.submitted_did, "created": False, "collection": collection.to_json()}
        await self.resolve(collection)
        namespace = namespace or await self.default_namespace()
        base = name or did_safe_name(collection.name)
        candidates = [base] if name else [base] + [f"{base}-{n}" for n in range(2, 21)]
        files = [e.did for e in collection.entries if e.type == "file"]
        others = [e.did for e in collection.entries if e.type != "file"]
        for candidate in candidates:
            did = parse_did(f"{namespace}:{candidate}")
            if others and files:
                # Rucio containers cannot hold files: put the files in a dataset of their own.
                files_did = parse_did(f"{namespace}:{candidate}.files")
                if await self._create_or_match(files_did, "dataset", files) == "different":
                    continue
                members, did_type = [*others, files_did], "container"
            else:
                members, did_type = (others, "container") if others else (files, "dataset")
            outcome = await self._create_or_match(did, did_type, members)
            if outcome == "different":
                if name:
                    raise Conflict(messages.DID_EXISTS_OTHER_CONTENTS.format(did=did))
                continue
            info = await self._collection_info(did)
            await self.collections.record_submission(collection, did, info.get("files"), info.get("bytes"))
            self.log.info("srcstage: collection submitted as %s (%s)", did, outcome)
            return {"did": str(did), "created": outcome == "created", "collection": collection.to_json()}
        raise Conflict(messages.EVERY_NAME_TAKEN.format(collection=collection, namespace=namespace))

    async def _create_or_match(self, did: Did, did_type: str, members: list[Did]) -> str:
        """'created', 'same' (our DID exists already) or 'different' (the name is taken)."""
        attempts = 1 + self.dm_client.retries
        for attempt in range(attempts):
            try:
                await self.dm.create_collection(did, did_type, members)
                return "created"
            except Conflict as conflict:
                try:
                    same = await self._same_members(did, members)
                except NotFound:
                    raise conflict from None  # the 409 was about something else: say it
                return "same" if same else "different"
            except Unavailable:
                # The DID may or may not exist now; trying again is safe because of the 409 path.
                if attempt + 1 == attempts:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _same_members(self, did: Did, members: list[Did]) -> bool:
        existing = await self.dm.read_collection(did)
        have = {parse_did(d) for d in existing.get("dids") or []}
        return have == set(members)

    async def _collection_info(self, did: Did) -> dict:
        try:
            info = await self.dm.read_collection(did)
        except ExtensionError:
            return {}  # sizes are a nicety; the submission itself succeeded
        return {
            "files": info.get("files") if isinstance(info.get("files"), int) else None,
            "bytes": info.get("bytes") if isinstance(info.get("bytes"), int) else None,
        }

    # --- pre-check and stage ------------------------------------------------------------

    async def _policy_problems(self, lifetime_s: int) -> tuple[list[dict], StagingDestination | None]:
        """What our own policy check says before anything is asked of the DM API."""
        problems = []
        if lifetime_s > self.max_lifetime_s:
            problems.append(
                {
                    "code": "lifetime_over_cap",
                    "message": messages.LIFETIME_OVER_CAP.format(
                        asked=lifetimes.describe(lifetime_s), cap=lifetimes.describe(self.max_lifetime_s)
                    ),
                }
            )
        destination = None
        try:
            destination = await self.destination(refresh=True)
        except NoDestination as err:
            problems.append({"code": "no_destination", "message": err.message, "detail": err.detail})
        return problems, destination

    def parse_lifetime(self, value: Any) -> int:
        return self.default_lifetime_s if value in (None, "") else lifetimes.parse_lifetime(value)

    async def precheck(self, collection_id: str, lifetime: Any = None) -> dict:
        collection = self.collections.get(collection_id)
        lifetime_s = self.parse_lifetime(lifetime)
        problems, destination = await self._policy_problems(lifetime_s)
        if not collection.entries:
            problems.append({"code": "empty", "message": messages.COLLECTION_EMPTY})
        submitted = collection.is_submitted_current
        files = size = None
        readable = submitted and collection.collection_did and self.dm.serves("read_collection")
        if readable:
            info = await self._collection_info(parse_did(collection.collection_did))
            files, size = info.get("files"), info.get("bytes")
        else:
            # Not submitted yet: learn what we can without changing anything in SRCNet.
            try:
                await self.resolve(collection)
            except NotFound as err:
                problems.append({"code": "unknown_did", "message": err.message, "detail": err.detail})
            known = [e.bytes for e in collection.entries]
            size = sum(known) if known and None not in known else None
            if collection.entries and all(e.type == "file" for e in collection.entries):
                files = len(collection.entries)
        # Where the data is now, and how much of it is already at the destination (staging/summary.py).
        found = await self.summary.contents(
            collection.entries, destination, parse_did(collection.submitted_did) if collection.submitted_did else None
        )
        files = files if files is not None else found["files"]
        if size is None and files:  # a storage area holding every file gives the size
            size = next((r["bytes"] for r in found["where"] or [] if r["files"] == files and r["bytes"]), None)
        quota = quota_verdict(await self.summary.quota(destination), size)
        if destination and (over := over_quota_problem(quota, destination.area.name)):
            problems.append(over)
        expires = datetime.now(timezone.utc) + timedelta(seconds=lifetime_s)
        return {
            "ok": not problems,
            "problems": problems,
            "lifetime_s": lifetime_s,
            "max_lifetime_s": self.max_lifetime_s,
            "expires_at": expires.isoformat(timespec="seconds"),
            "destination": destination.area.to_json() if destination else None,
            "submitted": submitted,
            "did": collection.submitted_did if submitted else None,
            "stage_via": self.capabilities()["stage_via"],
            "files": files,
            "bytes": size,
            "already_at_destination": found["already"],
            "where": found["where"],
            "files_on_tape": found.get("on_tape"),
            "sampled": found.get("sampled"),
            "unknown_reason": found["unknown_reason"],
            "quota": quota,
        }

    async def stage(self, collection_id: str, lifetime: Any = None, namespace: str | None = None) -> TrackedJob:
        """Check policy, then stage one of two ways: with the collection routes, submit the
        collection DID (idempotent) and stage it; without them, one confirmed staging request
        with the member DIDs and parent_namespace, the DM making the parent container."""
        collection = self.collections.get(collection_id)
        lifetime_s = self.parse_lifetime(lifetime)
        problems, _ = await self._policy_problems(lifetime_s)
        if not collection.entries:
            problems.append({"code": "empty", "message": messages.COLLECTION_NAMED_EMPTY.format(name=collection.name)})
        if problems:  # refused before anything is created anywhere
            raise PrecheckFailed(
                problems[0]["message"],
                problems[0].get("detail"),
                extra={"precheck": await self.precheck(collection_id, lifetime_s)},
            )
        # Over quota (where the DM tells it) is refused here too, before any DID is made.
        if (await self.summary.quota(await self.destination())).get("served"):
            checked = await self.precheck(collection_id, lifetime_s)  # its locate answers are cached
            if over := [p for p in checked["problems"] if p["code"] == "over_quota"]:
                raise PrecheckFailed(over[0]["message"], extra={"precheck": checked})
        # Learn first whether collection DIDs can be made, before resolving 10,000 DIDs for one.
        if await self.dm.probe("create_collection"):
            try:
                # Submit checks the rest (unknown DIDs) before it creates anything.
                await self.submit(collection_id, namespace)
            except NotServed:
                pass  # learnt now, remembered: the confirmed way below
        if not self.dm.serves("create_collection"):
            job = await self._stage_members(collection, lifetime_s, namespace)
            self.summary.forget()
            return job
        destination = await self.destination()
        did = parse_did(collection.submitted_did)
        if existing := self._live_job(str(did), destination):
            return existing  # staging the same DID to the same place again is the same job
        try:
            answer = await self.dm.stage(destination.area.id, lifetime_s, did.namespace, [did])
        except NotServed:
            raise
        except ExtensionError as err:
            # The DID exists now: say both facts; a retry stages the same DID, makes no second one.
            said = err.detail if isinstance(err.detail, str) and err.detail else err.message
            raise type(err)(
                messages.SUBMITTED_BUT_STAGING_REFUSED.format(did=did, said=said),
                err.detail,
                service=err.service,
                status=err.status,
                extra={**err.extra, "submitted": str(did), "collection": collection.to_json()},
            ) from None
        self.summary.forget()
        job = TrackedJob(
            id=str(answer["job_id"]),
            did=str(did),
            destination=destination.area.to_json(),
            lifetime_s=lifetime_s,
            collection_id=collection.id,
            collection_name=collection.name,
        )
        if not answer.get("state"):
            answer = {**answer, "state": "SUBMITTED"}
        self.log.info("srcstage: staging job %s for %s to %s", job.id, did, destination.area.name)
        return await self.jobs.add(job, answer)

    async def _stage_members(self, collection: StoredCollection, lifetime_s: int, namespace: str | None) -> TrackedJob:
        """The confirmed staging request: the member DIDs, parent_namespace = the user's namespace."""
        namespace = namespace or await self.default_namespace()
        destination = await self.destination()
        members = [str(d) for d in collection.dids]
        if existing := self._live_members_job(members, destination):
            return existing
        answer = await self.dm.stage(destination.area.id, lifetime_s, namespace, collection.dids)
        parent = parent_did_in(answer, namespace, set(members))
        description = messages.MEMBERS_DESCRIPTION.format(count=len(members), namespace=namespace)
        job = TrackedJob(
            id=str(answer["job_id"]),
            did=parent or description,
            destination=destination.area.to_json(),
            lifetime_s=lifetime_s,
            collection_id=collection.id,
            collection_name=collection.name,
            members=members,
            parent_namespace=namespace,
            parent_did=parent,
        )
        await self.collections.record_submission(
            collection,
            parent,
            None,
            None,
            via="staging request",
            description=None if parent else f"{description} (the Data Management API names the parent DID)",
        )
        if not answer.get("state"):
            answer = {**answer, "state": "SUBMITTED"}
        if not answer.get("expires_at"):  # the lifetime asked for, until the DM says otherwise
            expires = datetime.now(timezone.utc) + timedelta(seconds=lifetime_s)
            answer = {**answer, "expires_at": expires.isoformat(timespec="seconds")}
        self.log.info("srcstage: staging job %s for %s to %s", job.id, job.did, destination.area.name)
        return await self.jobs.add(job, answer)

    def _live_members_job(self, members: list[str], destination: StagingDestination) -> TrackedJob | None:
        wanted = set(members)
        for job in self.jobs.all():
            if (
                job.members is not None
                and job.destination.get("id") == destination.area.id
                and job.phase != "failed"
                and not _expired(job.expires_at)
                and set(job.members) == wanted
            ):
                return job
        return None

    # --- following a job -----------------------------------------------------------------

    async def _job_status(self, job: TrackedJob) -> dict:
        """The DM status answer, with progress from locate when the answer carries no counts
        (or counts of a finished copy under a state word we do not know)."""
        try:
            answer = await self.dm.stage_status(job.id)
        except (NotFound, NotSignedIn):
            raise
        except ExtensionError:
            # The status route fails (after its retries): the data still tells how far the
            # job is, and that it is done when every file is there.
            located = await self._locate_progress_or_none(job)
            if not located:
                raise
            if not located["complete"]:
                job.progress, job.progress_from = located["progress"], "locate"
                raise
            return {
                "state": job.state,
                "progress": located["progress"],
                "all_at_destination": True,
                "progress_from": "locate",
            }
        if job.members is not None and not job.parent_did:
            parent = parent_did_in(answer, job.parent_namespace or "", set(job.members))
            if parent:
                job.parent_did = job.did = parent
                collection = self._collection_or_none(job.collection_id)
                if collection and collection.submitted_via == "staging request":
                    await self.collections.record_submission(collection, parent, None, None, via="staging request")
        phase = phase_of(answer.get("state") if isinstance(answer.get("state"), str) else None, self.states)
        counts = progress_of(answer)
        done = (
            bool(counts)
            and counts.get("files_total") is not None
            and counts.get("files_done") == counts.get("files_total")
        )
        # Counts from the DM are trusted for progress; full counts under a known active word
        # wait for the word (a rule turns OK just after its last lock). Without counts, or with
        # full counts under a word we do not know, the data decides.
        if phase in TERMINAL_PHASES or (counts and (not done or phase == "active")):
            return {**answer, "progress_from": "status"} if counts else answer
        located = await self._locate_progress(job)
        return {
            **answer,
            "progress": located["progress"],
            "all_at_destination": located["complete"],
            "progress_from": "locate",
        }

    def _collection_or_none(self, collection_id: str | None) -> StoredCollection | None:
        try:
            return self.collections.get(collection_id) if collection_id else None
        except NotFound:
            return None

    @staticmethod
    def _targets(job: TrackedJob) -> list[str]:
        """What to locate to see a job's files: the parent DID once known, else the members."""
        if job.members is None:
            return [job.did]
        return [job.parent_did] if job.parent_did else list(job.members)

    async def _locate_one(
        self, did_text: str, destination: StagingDestination, job: TrackedJob
    ) -> tuple[set[str], dict[str, str]]:
        """Locate one of a job's DIDs: its file keys and those at the destination (what the job's
        cache keeps), noting on the way every RSE each file was seen at (for its per-file states)."""
        self.locate_calls += 1
        try:
            located = await self.dm.locate(parse_did(did_text))
        except NotFound:
            located = []
        rses_of: dict[str, set[str]] = {}
        self._seen_at.setdefault(job.id, {})[did_text] = rses_of
        return self._file_map(located, destination, rses_of)

    async def _locate_into_cache(self, job: TrackedJob, targets: list[str], destination: StagingDestination) -> None:
        """Locate these DIDs of the job, LOOKUP_CONCURRENCY at a time, into the job's locate cache."""
        cache = self._located.setdefault(job.id, {})
        semaphore = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def locate(target: str) -> None:
            async with semaphore:
                cache[target] = await self._locate_one(target, destination, job)

        await asyncio.gather(*(locate(t) for t in targets))

    async def _locate_progress_or_none(self, job: TrackedJob) -> dict | None:
        try:
            return await self._locate_progress(job)
        except ExtensionError:
            return None

    async def _locate_progress(self, job: TrackedJob) -> dict:
        """Files with a replica at the destination, from locate: bounded per poll, and a DID
        whose files are all there is never located again."""
        destination = await self.destination()
        targets = self._targets(job)
        cache = self._located.setdefault(job.id, {})
        pending = [t for t in targets if not _all_there(cache.get(t))]
        start = self._locate_offset.get(job.id, 0) % max(len(pending), 1)
        pending = pending[start:] + pending[:start]
        checked = 0
        while pending and checked < LOCATE_PER_POLL:
            size = min(LOCATE_BATCH, LOCATE_PER_POLL - checked)
            batch, pending = pending[:size], pending[size:]
            results = await asyncio.gather(*(self._locate_one(t, destination, job) for t in batch))
            misses = 0
            for target, located in zip(batch, results, strict=True):
                cache[target] = located
                misses += not _all_there(located)
            checked += len(batch)
            if misses * 2 > len(batch):
                break  # mostly not there yet: the next poll goes on from here
        self._locate_offset[job.id] = start + checked
        located = [cache[t] for t in targets if t in cache]
        never = len(targets) - len(located)
        complete = never == 0 and all(_all_there(entry) for entry in located)
        return {
            "complete": complete,
            "progress": {
                "files_done": sum(len(here) for _, here in located),
                "files_total": sum(len(keys) for keys, _ in located) + never,
                "bytes_done": None,
                "bytes_total": None,
            },
        }

    async def job_files(self, job_id: str, limit: int) -> dict:
        """Each file of the job and where it is now (staged, on disk elsewhere, on tape), from
        locate. DIDs whose files were all at the destination are not located again (unless the copy
        was released or expired); of the others at most JOB_FILES_LOCATE are located per call, those
        never located first (`not_located` counts the DIDs no call has located yet)."""
        job = self.jobs.get(job_id)
        destination = await self.destination()
        cache = self._located.setdefault(job.id, {})
        targets = self._targets(job)
        never = [t for t in targets if t not in cache]
        # A released or expired copy may be going away: what was all there is looked at again.
        gone = job.phase == "released" or _expired(job.expires_at)
        moving = [t for t in targets if t in cache and (gone or not _all_there(cache[t]))]
        await self._locate_into_cache(job, (never + moving)[:JOB_FILES_LOCATE], destination)
        keys: set[str] = set()
        staged: set[str] = set()
        rses_of: dict[str, set[str]] = {}
        for target in targets:
            if target in cache:
                keys |= cache[target][0]
                staged |= set(cache[target][1])
                for key, rses in self._seen_at.get(job.id, {}).get(target, {}).items():
                    rses_of.setdefault(key, set()).update(rses)
        return {
            "job_id": job.id,
            "phase": job.phase,
            "destination": destination.area.name,
            "from": "locate",
            **file_states(keys, staged, rses_of, limit),
            "not_located": sum(t not in cache for t in targets),
        }

    def _live_job(self, did: str, destination: StagingDestination) -> TrackedJob | None:
        """A tracked job for this DID and destination that has not failed nor expired."""
        for job in self.jobs.all():
            if (
                job.did == did
                and job.destination.get("id") == destination.area.id
                and job.phase != "failed"
                and not _expired(job.expires_at)
            ):
                return job
        return None

    # --- staged files ----------------------------------------------------------------

    @staticmethod
    def _is_destination(location: dict, destination: StagingDestination) -> bool:
        return (
            location.get("identifier") == destination.area.name
            or location.get("associated_storage_area_id") == destination.area.id
        )

    @property
    def download_root(self) -> str:
        """download_dir with '~' expanded (a string operation on HOME, no disk access)."""
        return os.path.expanduser(self.settings.download_dir)

    def _downloads(self, destination: StagingDestination) -> bool:
        """Whether staged files are read by download mode rather than on a mount."""
        access = self.settings.access
        return access == "download" or (access == "auto" and not self.mount_for(destination))

    async def paths(self, did: Did, destination: StagingDestination | None = None) -> dict:
        """Local paths of the DID's files: on this server's mount of the destination, or downloaded."""
        destination = destination or await self.destination()
        mount = self.mount_for(destination)
        if not mount and not self._downloads(destination):
            raise Conflict(self._no_mount_why(destination.area.name))
        self._refuse_unreadable()
        everywhere, urls = self._file_map(await self.dm.locate(did), destination)
        if self._downloads(destination):
            return await self._download_answer(str(did), destination, everywhere, urls)
        return await self._paths_answer(str(did), destination, mount, everywhere, urls)

    def _refuse_unreadable(self) -> None:
        """Refuse before locating anything when the files are known to be unreadable here."""
        read = self.read_files()
        if read["available"] is False:
            raise NotServed(read["why"], service="data-management")

    def downloads_json(self, did: str | None = None) -> dict:
        """The latest download of each DID (of one DID when given), for the progress bars."""
        chosen = self.download_progress if did is None else {did: self.download_progress.get(did)}
        return {
            "downloads": [{"did": d, **p.to_json()} for d, p in sorted(chosen.items()) if p is not None],
            "read_files": self.read_files(),
        }

    def running_downloads(self) -> set[str]:
        return {did for did, progress in self.download_progress.items() if progress.running}

    async def _download_answer(
        self, did: str, destination: StagingDestination, everywhere: set[str], urls: dict[str, str]
    ) -> dict:
        """Download mode: the files at the destination copied under download_dir over WebDAV with
        the DM's per-file download token (which never leaves this server), verified by adler32.

        One download a DID at a time: a second request for it (another tab, a kernel and the
        sidebar) waits for the one under way instead of writing the same files beside it. The
        download is shielded: it goes on for the others when one requester goes away.
        """
        running = self._downloads_running.get(did)
        if running is None:
            running = asyncio.ensure_future(self._download_once(did, destination, everywhere, urls))
            self._downloads_running[did] = running

            def finished(task: asyncio.Future, did: str = did) -> None:
                if self._downloads_running.get(did) is task:
                    del self._downloads_running[did]
                if not task.cancelled():
                    task.exception()  # retrieved here too: nobody may be left waiting for it

            running.add_done_callback(finished)
        return await asyncio.shield(running)

    async def _download_once(
        self, did: str, destination: StagingDestination, everywhere: set[str], urls: dict[str, str]
    ) -> dict:
        from .staging.download import Progress

        root = Path(self.download_root)
        # Shown as running from the start (metadata is read first): the bars poll GET /downloads.
        progress = self.download_progress[did] = Progress(folder=str(root))
        try:
            return await self._download_files(did, destination, everywhere, urls, root, progress)
        except NotServed:
            why = self.read_files()["why"]  # the download route just learnt not served: say it the one way
            if not why:
                raise
            raise NotServed(why, service="data-management") from None
        finally:
            progress.running = False

    async def _download_files(
        self,
        did: str,
        destination: StagingDestination,
        everywhere: set[str],
        urls: dict[str, str],
        root: Path,
        progress: Any,
    ) -> dict:
        from .staging.download import FileToFetch, download

        semaphore = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def item(key: str, url: str) -> FileToFetch | None:
            tail = find_tail(url, destination.area.root)
            if not tail or ":" not in key or not url.startswith(("https://", "davs://")):
                return None
            async with semaphore:
                meta = await self.dm.metadata(parse_did(key))
            return FileToFetch(key, url, Path(local_path(tail, str(root))), int(meta["bytes"]), str(meta["adler32"]))

        items = [i for i in await asyncio.gather(*(item(k, u) for k, u in urls.items())) if i]

        async def token_for(it: FileToFetch) -> str:
            return await self.dm.download_token(destination.area.id, parse_did(it.did))

        await download(
            items,
            token_for,
            ca_file=self.settings.storage_ca_file or None,
            concurrency=self.settings.download_concurrency,
            timeout_s=self.settings.bulk_request_timeout,
            progress=progress,
        )
        done = {i.did: i for i in items if i.did not in progress.failed}
        paths = [{"did": k, "path": str(i.dest), "exists": True} for k, i in sorted(done.items())]
        return {
            "did": did,
            "destination": destination.area.name,
            "root": str(root),
            "paths": paths,
            "missing": len(everywhere - set(done)),
            "downloaded": {"reused": progress.reused, "refetched": progress.refetched, "failed": progress.failed},
        }

    def _file_map(
        self, locations: list[dict], destination: StagingDestination, rses_of: dict[str, set[str]] | None = None
    ) -> tuple[set[str], dict[str, str]]:
        """From a locate answer: every file's key, and {key: replica URL} of those at the destination;
        with `rses_of`, also {key: RSEs it is at} (the same pass: each URL is parsed once)."""
        everywhere: set[str] = set()
        here: dict[str, str] = {}
        for location in locations:
            at_destination = self._is_destination(location, destination)
            rse = str(location.get("identifier") or "")
            for url in location.get("replicas") or []:
                key = replica_key(url)
                everywhere.add(key)
                if at_destination:
                    here[key] = url
                if rses_of is not None:
                    rses_of.setdefault(key, set()).add(rse)
        return everywhere, here

    async def _paths_answer(
        self, did: str, destination: StagingDestination, mount: str, everywhere: set[str], urls: dict[str, str]
    ) -> dict:
        here: dict[str, str] = {}
        for key, url in urls.items():
            tail = find_tail(url, destination.area.root)
            if tail:
                here[key] = local_path(tail, mount)
        exists = await asyncio.to_thread(lambda: {k: os.path.exists(p) for k, p in here.items()})
        paths = [{"did": k if ":" in k else None, "path": p, "exists": exists[k]} for k, p in sorted(here.items())]
        missing = len(everywhere - {k for k in here if exists[k]})
        return {
            "did": did,
            "destination": destination.area.name,
            "root": mount,
            "paths": paths,
            "missing": missing,
        }

    async def job_paths(self, job_id: str) -> dict:
        job = self.jobs.get(job_id)
        if job.phase != "completed":
            raise NotStaged(messages.JOB_NOT_COMPLETE.format(job_id=job_id, job=job))
        if job.members is None:
            return await self.paths(parse_did(job.did))
        return await self._members_paths(job)

    async def _members_paths(self, job: TrackedJob) -> dict:
        """Paths of a job staged by the confirmed request: locate of its parent or members
        (what the poller located already is not asked again)."""
        destination = await self.destination()
        mount = self.mount_for(destination)
        if not mount and not self._downloads(destination):
            return await self.paths(parse_did(job.members[0]), destination)  # says why, the one way
        self._refuse_unreadable()
        cache = self._located.setdefault(job.id, {})
        targets = self._targets(job)
        todo = [t for t in targets if t not in cache or not cache[t][0] <= set(cache[t][1])]
        await self._locate_into_cache(job, todo, destination)
        everywhere: set[str] = set()
        urls: dict[str, str] = {}
        for target in targets:
            keys, here = cache[target]
            everywhere |= keys
            urls.update(here)
        if self._downloads(destination):
            return await self._download_answer(job.did, destination, everywhere, urls)
        return await self._paths_answer(job.did, destination, mount, everywhere, urls)

    async def did_paths(self, did_text: str) -> dict:
        did = parse_did(did_text)
        destination = await self.destination()
        result = await self.paths(did, destination)
        if result["missing"] or not result["paths"]:
            where = destination.area.name
            raise NotStaged(
                messages.DID_NOT_AT_DESTINATION.format(did=did, where=where, result=result),
                extra={"paths": result},
            )
        return result
