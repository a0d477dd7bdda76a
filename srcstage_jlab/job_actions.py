"""What a user does with a staging job after the request: extend, release, retry (and forget).

Extend and release are adopted DM routes (`extend_stage`, `release_stage` in the one route
table, srcnet/data_management.py): where a DM does not serve them the action is refused with a
one-line reason, and `GET /srcstage/config` says so beforehand so that the UI hides it. Every
action goes through our policy check first (the lifetime cap applies to an extension and to a
retry), so a refused action sends nothing to SRCNet. Retry repeats the failed job's staging
request; a second retry of the same job answers the job the first made.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from . import messages
from .errors import Conflict, InvalidInput, NotFound, NotServed, PrecheckFailed
from .srcnet.data_management import parent_did_in
from .staging import lifetimes
from .staging.dids import parse_did
from .staging.jobs import TrackedJob

if TYPE_CHECKING:
    from .service import StagingService

WHY_NOT = {
    "extend_stage": messages.EXTEND_NOT_SERVED,
    "release_stage": messages.RELEASE_NOT_SERVED,
}


class JobActions:
    def __init__(self, service: StagingService):
        self.service = service
        self._retry_locks: dict[str, asyncio.Lock] = {}

    @property
    def dm(self):
        return self.service.dm

    # --- what is available ------------------------------------------------------

    async def learn(self) -> None:
        """Learn once whether the DM serves the job routes (nothing changes in SRCNet)."""
        for op in WHY_NOT:
            if self.dm.serves(op) and op not in self.dm.served:
                await self.dm.probe_job_route(op)

    def capabilities(self) -> dict:
        """{action: {available, why}}; available is null while not learnt yet."""
        dm = self.dm.capabilities()

        def one(op: str) -> dict:
            served = dm[op]["served"]
            why = (
                WHY_NOT[op].format(route=dm[op]["route"] or messages.NO_ROUTE, why=dm[op]["why"])
                if served is False
                else None
            )
            return {"available": served, "why": why}

        return {
            "extend": one("extend_stage"),
            "release": one("release_stage"),
            "retry": {"available": True, "why": None},
            "forget": {"available": True, "why": None},
        }

    def _refuse_not_served(self, op: str) -> None:
        if not self.dm.serves(op):
            raise NotServed(self.capabilities()[op.split("_")[0]]["why"], service="data-management")

    def _policy(self, lifetime_s: int, what: str) -> None:
        if lifetime_s > self.service.max_lifetime_s:
            message = messages.LIFETIME_OVER_CAP_REFUSED.format(
                asked=lifetimes.describe(lifetime_s), cap=lifetimes.describe(self.service.max_lifetime_s), what=what
            )
            raise PrecheckFailed(
                message,
                extra={
                    "problems": [{"code": "lifetime_over_cap", "message": message}],
                    "max_lifetime_s": self.service.max_lifetime_s,
                },
            )

    # --- the actions -----------------------------------------------------------------

    async def extend(self, job_id: str, lifetime: Any) -> TrackedJob:
        """Keep the staged copy `lifetime` from now (the cap applies)."""
        job = self.service.jobs.get(job_id)
        if lifetime in (None, ""):
            raise InvalidInput(messages.EXTEND_NEEDS_LIFETIME, extra={"field": "lifetime"})
        lifetime_s = lifetimes.parse_lifetime(lifetime)
        self._policy(lifetime_s, messages.WHAT_EXTENSION)
        if job.phase in ("failed", "released"):
            raise Conflict(messages.EXTEND_NOTHING_STAGED.format(job=job))
        self._refuse_not_served("extend_stage")
        answer = await self.dm.extend_stage(job.id, lifetime_s)
        expires = answer.get("expires_at")
        if not isinstance(expires, str):
            expires = (datetime.now(timezone.utc) + timedelta(seconds=lifetime_s)).isoformat(timespec="seconds")
        job.expires_at, job.lifetime_s = expires, lifetime_s
        await self.service.jobs.changed(job)
        self.service.log.info("srcstage: job %s extended by %s", job.id, lifetimes.describe(lifetime_s))
        return job

    async def release(self, job_id: str) -> TrackedJob:
        """Give the staged copy back now: the DM removes its rule, the files may then go."""
        job = self.service.jobs.get(job_id)
        if job.phase == "released":
            return job
        self._refuse_not_served("release_stage")
        answer = await self.dm.release_stage(job.id)
        state = answer.get("state")
        job.state = state if isinstance(state, str) and state else "RELEASED"
        job.phase, job.error, job.notice = "released", None, None
        job.expires_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        await self.service.jobs.changed(job, stop_polling=True)
        self.service.log.info("srcstage: job %s released", job.id)
        return job

    async def retry(self, job_id: str) -> TrackedJob:
        """Stage a failed job's DIDs again, to the same place for the same lifetime: ONE new job,
        whoever clicks how often (a later retry answers the job the first made)."""
        lock = self._retry_locks.setdefault(job_id, asyncio.Lock())
        async with lock:
            job = self.service.jobs.get(job_id)
            if job.retried_by:
                try:
                    return self.service.jobs.get(job.retried_by)
                except NotFound:  # the retry was forgotten here: a new retry is a new job
                    job.retried_by = None
            if job.phase != "failed":
                raise Conflict(messages.RETRY_NOT_FAILED.format(job=job))
            self._policy(job.lifetime_s, messages.WHAT_RETRY)
            new = await self._stage_again(job)
            job.retried_by, new.retry_of = new.id, job.id
            await self.service.jobs.changed(job)
            await self.service.jobs.changed(new)
            self.service.log.info("srcstage: job %s retried as %s", job.id, new.id)
            return new

    async def _stage_again(self, job: TrackedJob) -> TrackedJob:
        destination = await self.service.destination(refresh=True)
        if destination.area.id != job.destination.get("id"):
            raise Conflict(
                messages.DESTINATION_MOVED.format(
                    job=job, staged_to=job.destination.get("name"), now=destination.area.name
                )
            )
        members = job.members if job.members is not None else [job.did]
        dids = [parse_did(d) for d in members]
        namespace = job.parent_namespace or dids[0].namespace
        answer = await self.dm.stage(destination.area.id, job.lifetime_s, namespace, dids)
        did = job.did
        if job.members is not None:  # the DM makes a new parent container for the new request
            did = parent_did_in(answer, namespace, set(members)) or messages.MEMBERS_DESCRIPTION.format(
                count=len(members), namespace=namespace
            )
        new = TrackedJob(
            id=str(answer["job_id"]),
            did=did,
            destination=destination.area.to_json(),
            lifetime_s=job.lifetime_s,
            collection_id=job.collection_id,
            collection_name=job.collection_name,
            members=job.members,
            parent_namespace=job.parent_namespace,
            parent_did=did if job.members is not None and ":" in did else None,
        )
        if new.id == job.id:  # the DM answered the same (failed) request: nothing new to follow
            raise Conflict(messages.RETRY_SAME_JOB.format(job=job))
        if not answer.get("state"):
            answer = {**answer, "state": "SUBMITTED"}
        return await self.service.jobs.add(new, answer)
