"""Staging jobs: one server-side poller per active job, persisted so tracking survives restarts.

However many browser tabs or kernels watch a job, only its poller calls the DM
API; readers get the last answer from memory. The poller's cadence follows what is
known (see `next_delay`): a watched job is polled often enough that its completion
shows within max(5 s, 10 % of its age); an unwatched one backs off further and is
woken when someone looks again. It stops when the job is finished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import messages
from ..errors import ExtensionError, NotFound, NotSignedIn, Unavailable
from ..srcnet.http import RETRYING_NOTICE
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
    # given back early by the user (job.release()): the copy's rule is gone on purpose
    "RELEASED": "released",
}
PHASES = ("completed", "failed", "active", "released")
TERMINAL_PHASES = frozenset({"completed", "failed", "released"})


def state_table(extra: dict[str, str] | None = None) -> dict[str, str]:
    """STATE_WORDS with a deployment's words added (a bad phase fails at start-up)."""
    table = dict(STATE_WORDS)
    for word, phase in (extra or {}).items():
        if phase not in PHASES:
            raise ValueError(messages.STATE_WORD_BAD_PHASE.format(word=word, phases=", ".join(PHASES), phase=phase))
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
class TrackedJob:
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
    notice: str | None = None  # "SRCNet is slow to answer; retrying" while status polls meet transient failures
    retry_of: str | None = None  # the failed job this one retries
    retried_by: str | None = None  # the job that retried this failed one (a second retry answers it)
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
        self.state = state if isinstance(state, str) and state else messages.NO_STATE_GIVEN
        self.phase = phase_of(self.state, table)
        if self.phase != "failed" and answer.get("all_at_destination"):
            self.phase = "completed"  # the data says so, whatever the state word
        self.progress = progress_of(answer) or self.progress
        if answer.get("progress_from"):
            self.progress_from = answer["progress_from"]
        if isinstance(answer.get("expires_at"), str):
            self.expires_at = answer["expires_at"]
        self.error = self.notice = None
        changed = before != (self.state, self.phase, self.progress, self.expires_at, self.error)
        if changed:
            self.updated_at = now_iso()
        return changed


StatusFetcher = Callable[[TrackedJob], Awaitable[dict]]

# The promise to a watcher: completion shown within max(LAG_FLOOR_S, LAG_SHARE x the job's age).
LAG_FLOOR_S = 5.0
LAG_SHARE = 0.10
# A job is watched while a browser tab (its model polls only while visible) or a kernel's
# job.wait() has read it within this many poll intervals.
WATCH_WINDOW_INTERVALS = 5


def age_of(job: TrackedJob, now: datetime | None = None) -> float:
    """Seconds since the job was created (0 when its time cannot be read)."""
    try:
        created = datetime.fromisoformat(job.created_at.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - created).total_seconds())


def watched_cap(age_s: float, interval: float, max_interval: float) -> float:
    """The longest wait between polls of a watched job: the lag promise less one poll of the
    reader (which polls the server every `interval`), never under `interval`."""
    goal = max(LAG_FLOOR_S, LAG_SHARE * age_s)
    return max(interval, min(max_interval, goal - interval))


def next_delay(
    previous: float, *, changed: bool, cap: float, interval: float, eta: float | None, hint: float | None
) -> float:
    """Seconds until the next status call.

    The DM's own hint wins when it gives one; counts moving at a known rate give an estimate
    of the end, polled then; any other change polls again soon; no change backs off 1.5x.
    All within [interval, cap]."""
    for wanted in (hint, eta):
        if wanted is not None:
            return max(interval, min(cap, wanted))
    return interval if changed else max(interval, min(cap, previous * 1.5))


def hint_of(answer: dict) -> float | None:
    """A DM's 'ask again in N s' hint, when its status answer carries one."""
    for key in ("retry_after", "poll_after", "next_poll_s"):
        value = answer.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 86400:
            return float(value)
    return None


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
        idle_interval: float | None = None,
    ):
        """`max_interval` bounds the wait while someone watches, `idle_interval` (default: the
        same) while no one does."""
        self._file = JsonFile(path)
        self._fetch = fetch_status
        self.states = states or STATE_WORDS
        self.interval, self.max_interval = interval, max_interval
        self.idle_interval = max(max_interval, idle_interval or max_interval)
        self.log = log
        self._jobs: dict[str, TrackedJob] = {
            j["id"]: TrackedJob(**j) for j in self._file.load({"jobs": []}).get("jobs", [])
        }
        self._pollers: dict[str, asyncio.Task] = {}
        self._naps: dict[str, tuple[asyncio.Future, float]] = {}  # job id -> (its wait, when it ends)
        self._watched_at: dict[str | None, float] = {}  # job id (None: every job) -> last read
        self._counts: dict[str, tuple[float, int]] = {}  # job id -> (when, files done) last seen
        self.status_calls = 0  # for benchmarks and tests: DM status calls made
        self.clock = time.monotonic  # seconds, for watching and rates (tests set their own)

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

    def watch(self, job_id: str | None = None) -> None:
        """A reader looked at one job (or at the list: every job). A job whose next poll is
        further off than a watched job's would be is polled now."""
        now = self.clock()
        self._watched_at[job_id] = now
        for jid in [job_id] if job_id else list(self._naps):
            nap = self._naps.get(jid)
            job = self._jobs.get(jid)
            if nap and job and nap[1] - now > watched_cap(age_of(job), self.interval, self.max_interval):
                nap[0].cancel()

    def watched(self, job_id: str) -> bool:
        window = WATCH_WINDOW_INTERVALS * max(self.interval, 1.0)
        now = self.clock()
        return any(now - self._watched_at.get(key, -1e18) <= window for key in (job_id, None))

    def all(self) -> list[TrackedJob]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def get(self, job_id: str) -> TrackedJob:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFound(messages.NO_JOB_TRACKED.format(job_id=job_id)) from None

    async def add(self, job: TrackedJob, first_answer: dict) -> TrackedJob:
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

    async def changed(self, job: TrackedJob, *, stop_polling: bool = False) -> None:
        """Keep what an action changed in a tracked job (and end its poller when it is over)."""
        if stop_polling and (task := self._pollers.pop(job.id, None)):
            task.cancel()
        job.updated_at = now_iso()
        await self._save()

    async def _save(self) -> None:
        await self._file.write({"jobs": [j.to_store() for j in self._jobs.values()]})

    def _spawn(self, job_id: str) -> None:
        if job_id not in self._pollers:
            task = asyncio.ensure_future(self._poll(job_id))
            self._pollers[job_id] = task
            task.add_done_callback(lambda _t, j=job_id: self._pollers.pop(j, None))

    async def _nap(self, job_id: str, delay: float) -> None:
        """Sleep `delay` seconds, or less when `watch` wakes the job."""
        nap = asyncio.ensure_future(asyncio.sleep(delay))
        self._naps[job_id] = (nap, self.clock() + delay)
        try:
            await asyncio.wait({nap})
        finally:
            nap.cancel()
            self._naps.pop(job_id, None)

    def _cap(self, job: TrackedJob) -> float:
        if self.watched(job.id):
            return watched_cap(age_of(job), self.interval, self.max_interval)
        return self.idle_interval

    def _eta(self, job: TrackedJob) -> float | None:
        """Seconds until every file is there, from the rate the counts moved since last seen."""
        progress = job.progress or {}
        done, total = progress.get("files_done"), progress.get("files_total")
        if not isinstance(done, int) or not isinstance(total, int):
            return None
        now = self.clock()
        last = self._counts.get(job.id)
        self._counts[job.id] = (now, done)
        if not last or done <= last[1] or now <= last[0]:
            return None
        rate = (done - last[1]) / (now - last[0])
        return max(0, total - done) / rate

    async def _poll(self, job_id: str) -> None:
        delay = self.interval
        while job_id in self._jobs:
            await self._nap(job_id, delay)
            job = self._jobs.get(job_id)
            if job is None:
                return
            try:
                self.status_calls += 1
                answer = await self._fetch(job)
                changed = job.apply(answer, self.states)
                delay = next_delay(
                    delay,
                    changed=changed,
                    cap=self._cap(job),
                    interval=self.interval,
                    eta=self._eta(job),
                    hint=hint_of(answer),
                )
            except NotFound as err:
                job.state, job.phase, job.error = "NOT_FOUND", "failed", err.to_json()
                changed = True
            except ExtensionError as err:
                # Keep the last known state; say why it is not fresh; try again later.
                changed = job.error != err.to_json()
                job.error = err.to_json()
                job.notice = RETRYING_NOTICE if isinstance(err, Unavailable) else None
                cap = self._cap(job)
                delay = cap if isinstance(err, NotSignedIn) else max(self.interval, min(delay * 2, cap))
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not kill tracking silently
                self.log.exception("srcstage: polling job %s failed", job_id)
                delay = self._cap(job)
                changed = False
            if changed:
                job.updated_at = now_iso()
                await self._save()
            if job.phase in TERMINAL_PHASES:
                self._counts.pop(job_id, None)
                self.log.info("srcstage: job %s finished: %s", job_id, job.state)
                return
