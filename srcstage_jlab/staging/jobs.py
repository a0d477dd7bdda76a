"""Staging jobs: one server-side poller per active job, persisted so tracking survives restarts.

However many browser tabs or kernels watch a job, only its poller calls the DM
API; readers get the last answer from memory. The poller backs off while nothing
changes and stops when the job is finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import NotFound, NotSignedIn, SrcStageError
from .collections import now_iso
from .store import JsonFile

# The one table of the DM API's job state words we know, word -> phase. The set of real
# states is not public: a deployment adds its words with `c.SrcStage.state_words`. A word
# in none of them is shown verbatim with phase "unknown" and is never taken for success;
# such a job completes only when every file has a replica at the destination.
STATE_WORDS: dict[str, str] = {
    **dict.fromkeys(("COMPLETED", "OK", "DONE", "FINISHED", "SUCCEEDED", "SUCCESS"), "completed"),
    **dict.fromkeys(("FAILED", "ERROR", "EXPIRED", "CANCELLED", "CANCELED", "REJECTED"), "failed"),
    **dict.fromkeys(
        (
            "SUBMITTED",
            "QUEUED",
            "PENDING",
            "STAGING",
            "REPLICATING",
            "STARTED",
            "RUNNING",
            "INJECT",
            "IN_PROGRESS",
            "WAITING_APPROVAL",
            "STUCK",
            "SUSPENDED",
        ),
        "active",
    ),
}
PHASES = ("completed", "failed", "active")
TERMINAL_PHASES = frozenset({"completed", "failed"})


def state_table(extra: dict[str, str] | None = None) -> dict[str, str]:
    """STATE_WORDS with a deployment's words added (a bad phase fails at start-up)."""
    table = dict(STATE_WORDS)
    for word, phase in (extra or {}).items():
        if phase not in PHASES:
            raise ValueError(f"state_words['{word}'] must be one of {', '.join(PHASES)}, not '{phase}'")
        table[str(word).strip().upper()] = phase
    return table


def phase_of(state: str | None, table: dict[str, str] | None = None) -> str:
    return (table or STATE_WORDS).get((state or "").strip().upper(), "unknown")


def progress_of(answer: dict) -> dict | None:
    """Progress in files and bytes from a DM status answer, when it carries any."""
    raw = answer.get("progress") if isinstance(answer.get("progress"), dict) else answer

    def pick(*keys):
        for key in keys:
            value = raw.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    progress = {
        "files_total": pick("files_total", "total_files"),
        "files_done": pick("files_done", "files_ok", "done_files"),
        "bytes_total": pick("bytes_total", "total_bytes"),
        "bytes_done": pick("bytes_done", "bytes_ok", "done_bytes"),
    }
    return progress if any(v is not None for v in progress.values()) else None


@dataclass
class Job:
    id: str
    did: str
    destination: dict
    lifetime_s: int
    collection_id: str | None = None
    collection_name: str | None = None
    # Staged without a collection DID of ours (the confirmed request): the member DIDs and the
    # namespace the DM made the parent container in; `did` is then the parent DID the DM
    # reported, or a description of the collection.
    members: list[str] | None = None
    parent_namespace: str | None = None
    parent_did: str | None = None
    progress_from: str | None = None  # "status" or "locate"
    state: str = "SUBMITTED"
    phase: str = "active"
    progress: dict | None = None
    expires_at: str | None = None
    error: dict | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def to_store(self) -> dict:
        return asdict(self)

    def to_json(self) -> dict:
        data = {k: v for k, v in vars(self).items() if k != "members"}  # members can be 10,000s
        data["members_count"] = len(self.members) if self.members is not None else None
        return data

    def apply(self, answer: dict, table: dict[str, str] | None = None) -> bool:
        """Take a DM status answer (with `all_at_destination` when locate was asked);
        True if anything a user sees changed."""
        before = (self.state, self.phase, self.progress, self.expires_at, self.error)
        state = answer.get("state")
        self.state = state if isinstance(state, str) and state else "(no state given)"
        self.phase = phase_of(self.state, table)
        if self.phase != "failed" and answer.get("all_at_destination"):
            self.phase = "completed"  # the data says so, whatever the state word
        self.progress = progress_of(answer) or self.progress
        if answer.get("progress_from"):
            self.progress_from = answer["progress_from"]
        if isinstance(answer.get("expires_at"), str):
            self.expires_at = answer["expires_at"]
        self.error = None
        changed = before != (self.state, self.phase, self.progress, self.expires_at, self.error)
        if changed:
            self.updated_at = now_iso()
        return changed


StatusFetcher = Callable[[Job], Awaitable[dict]]


class JobTracker:
    def __init__(
        self,
        path: Path,
        fetch_status: StatusFetcher,
        *,
        interval: float,
        max_interval: float,
        log: logging.Logger,
        states: dict[str, str] | None = None,
    ):
        self._file = JsonFile(path)
        self._fetch = fetch_status
        self.states = states or STATE_WORDS
        self.interval, self.max_interval = interval, max_interval
        self.log = log
        self._jobs: dict[str, Job] = {j["id"]: Job(**j) for j in self._file.load({"jobs": []}).get("jobs", [])}
        self._pollers: dict[str, asyncio.Task] = {}
        self.status_calls = 0  # for benchmarks and tests: DM status calls made

    def start(self) -> None:
        """Resume polling every job that was still running when the server stopped."""
        for job in self._jobs.values():
            if job.phase not in TERMINAL_PHASES:
                self._spawn(job.id)

    async def stop(self) -> None:
        tasks = list(self._pollers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pollers.clear()

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFound(f"No staging job '{job_id}' is tracked by this server.") from None

    async def add(self, job: Job, first_answer: dict) -> Job:
        job.apply(first_answer, self.states)
        self._jobs[job.id] = job
        await self._save()
        if job.phase not in TERMINAL_PHASES:
            self._spawn(job.id)
        return job

    async def forget(self, job_id: str) -> None:
        self.get(job_id)
        task = self._pollers.pop(job_id, None)
        if task:
            task.cancel()
        del self._jobs[job_id]
        await self._save()

    async def _save(self) -> None:
        await self._file.write({"jobs": [j.to_store() for j in self._jobs.values()]})

    def _spawn(self, job_id: str) -> None:
        if job_id not in self._pollers:
            task = asyncio.ensure_future(self._poll(job_id))
            self._pollers[job_id] = task
            task.add_done_callback(lambda _t, j=job_id: self._pollers.pop(j, None))

    async def _poll(self, job_id: str) -> None:
        delay = self.interval
        while job_id in self._jobs:
            await asyncio.sleep(delay)
            job = self._jobs.get(job_id)
            if job is None:
                return
            try:
                self.status_calls += 1
                changed = job.apply(await self._fetch(job), self.states)
                delay = self.interval if changed else min(delay * 1.5, self.max_interval)
            except NotFound as err:
                job.state, job.phase, job.error = "NOT_FOUND", "failed", err.to_json()
                changed = True
            except SrcStageError as err:
                # Keep the last known state; say why it is not fresh; try again later.
                changed = job.error != err.to_json()
                job.error = err.to_json()
                delay = self.max_interval if isinstance(err, NotSignedIn) else min(delay * 2, self.max_interval)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not kill tracking silently
                self.log.exception("srcstage: polling job %s failed", job_id)
                delay = self.max_interval
                changed = False
            if changed:
                job.updated_at = now_iso()
                await self._save()
            if job.phase in TERMINAL_PHASES:
                self.log.info("srcstage: job %s finished: %s", job_id, job.state)
                return
