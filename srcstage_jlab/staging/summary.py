"""What staging a collection would mean, learned before anything is created in SRCNet.

Everything here is read-only and goes through confirmed DM routes (`locate`, with the types and
sizes `metadata` and the namespace listing gave the collection's entries), plus the OPTIONAL
`quota` route: where the DM does not serve it, the quota is "unknown" and staging is not held
back by it. Calls are bounded: one `locate` per dataset or container entry, one per file entry up
to LOCATE_FILES_UP_TO; a bigger collection of files is sampled (SAMPLE_SIZE files spread evenly
over it, the figures scaled and marked as estimates), before and after submission alike: a locate
of a 100,000-file collection DID did not answer within 300 s on the sandbox. Answers are cached for CACHE_S so that the summary and the Stage that
follows do not ask twice (a locate of a 3,000-file container took 86 s on a loaded sandbox).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from .. import messages
from ..errors import ExtensionError
from .dids import Did
from .paths import deterministic_suffix

LOCATE_FILES_UP_TO = 200  # file entries located one by one before submission
LOCATE_COLLECTIONS_UP_TO = 50  # dataset/container entries, one locate each
CONCURRENCY = 16
SAMPLE_SIZE = 64  # file entries located to estimate a bigger collection of files
CACHE_S = 300.0  # a summary dialog stays open a while; staging clears the cache
# Site Capabilities does not say which storage is tape; SRCNet names its tape RSEs so.
TAPE_NAME = re.compile(r"tape", re.IGNORECASE)


def is_tape(rse: str | None) -> bool:
    return bool(rse and TAPE_NAME.search(rse))


def sample_of(entries: list) -> list:
    """SAMPLE_SIZE entries spread evenly over `entries`, always the same ones for the same list
    (the summary and the Stage that follows see one estimate)."""
    step = len(entries) / SAMPLE_SIZE
    return [entries[int(i * step)] for i in range(SAMPLE_SIZE)]


class StageSummary:
    """One per staging service: the pre-check's view of contents, location and quota."""

    def __init__(self, dm: Any):
        self.dm = dm
        self._located: dict[Did, tuple[float, list[dict]]] = {}

    async def locate(self, did: Did) -> list[dict]:
        cached = self._located.get(did)
        if cached and time.monotonic() - cached[0] < CACHE_S:
            return cached[1]
        located = await self.dm.locate(did)
        self._located[did] = (time.monotonic(), located)
        return located

    def forget(self) -> None:
        """After staging, what is where has changed."""
        self._located.clear()

    async def contents(self, entries: list, destination: Any, submitted: Did | None = None) -> dict:
        """Files, bytes, where the data is now and how much is already at the destination."""
        file_entries = [e for e in entries if e.type == "file"]
        others = [e for e in entries if e.type != "file"]
        scale = 1.0
        if not others and len(file_entries) > LOCATE_FILES_UP_TO:
            targets, files_known = [e.did for e in sample_of(file_entries)], True
            scale = len(file_entries) / len(targets)
        elif submitted is not None:
            targets, files_known = [submitted], True
        else:
            if len(file_entries) > LOCATE_FILES_UP_TO or len(others) > LOCATE_COLLECTIONS_UP_TO:
                return {
                    "files": len(file_entries) if not others else None,
                    "where": None,
                    "already": None,
                    "unknown_reason": messages.TOO_MANY_TO_LOCATE,
                }
            targets, files_known = [e.did for e in entries], True
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(did: Did) -> list[dict]:
            async with semaphore:
                return await self.locate(did)

        try:
            answers = await asyncio.gather(*(one(d) for d in targets))
        except ExtensionError as err:
            return {"files": None, "where": None, "already": None, "unknown_reason": err.message}
        rses_of: dict[str, set[str]] = {}  # file key -> RSEs holding it
        per_rse: dict[str, dict] = {}
        for target, located in zip(targets, answers, strict=True):
            for loc in located:
                rse = str(loc.get("identifier") or loc.get("associated_storage_area_id") or "?")
                here = bool(destination) and (
                    rse == destination.area.name or loc.get("associated_storage_area_id") == destination.area.id
                )
                row = per_rse.setdefault(
                    rse, {"rse": rse, "files": 0, "bytes": 0, "tape": is_tape(rse), "is_destination": here}
                )
                urls = loc.get("replicas") or []
                row["files"] += len(urls)
                if isinstance(loc.get("bytes"), int) and row["bytes"] is not None:
                    row["bytes"] += loc["bytes"]
                else:
                    row["bytes"] = None
                for url in urls:
                    found = deterministic_suffix(url)
                    key = str(found[0]) if found else (str(target) if len(urls) == 1 else url)
                    rses_of.setdefault(key, set()).add(rse)
        if scale != 1.0:
            for row in per_rse.values():
                row["files"] = round(row["files"] * scale)
                row["bytes"] = round(row["bytes"] * scale) if row["bytes"] is not None else None
        where = sorted(per_rse.values(), key=lambda r: (not r["is_destination"], r["rse"]))
        dest_rows = [r for r in where if r["is_destination"]]
        already = (
            {"files": dest_rows[0]["files"], "bytes": dest_rows[0]["bytes"]}
            if dest_rows
            else ({"files": 0, "bytes": 0} if destination else None)
        )
        dest_names = {r["rse"] for r in dest_rows}
        only_tape = sum(1 for rses in rses_of.values() if not rses & dest_names and all(is_tape(r) for r in rses))
        sampled = {"located": len(targets), "of": len(file_entries)} if scale != 1.0 else None
        return {
            "files": len(file_entries) if sampled else (len(rses_of) if files_known else None),
            "where": where,
            "already": already,
            "on_tape": round(only_tape * scale),
            "sampled": sampled,
            "unknown_reason": None,
        }

    async def quota(self, destination: Any) -> dict:
        """The user's quota at the destination from the optional DM route, or `served: False`."""
        if destination is None:
            return {"served": False}
        try:
            answer = await self.dm.quota(destination.area.id)
        except ExtensionError as err:
            return {"served": False, "reason": err.message}
        if answer is None:
            return {"served": False}
        limit, used = answer.get("bytes_limit"), answer.get("bytes_used")
        if not isinstance(limit, int) or not isinstance(used, int):
            return {"served": False}
        left = answer.get("bytes_remaining")
        return {"served": True, "limit": limit, "used": used, "left": left if isinstance(left, int) else limit - used}


def quota_verdict(quota: dict, needed: int | None) -> dict:
    """`quota` with `needed` and `fits` (True, False or None when either side is unknown)."""
    fits = None
    if quota.get("served") and isinstance(needed, int):
        fits = needed <= quota["left"]
    return {**quota, "needed": needed, "fits": fits}


def over_quota_problem(verdict: dict, destination_name: str) -> dict | None:
    if verdict.get("fits") is not False:
        return None
    mb = 1_000_000
    return {
        "code": "over_quota",
        "message": messages.OVER_QUOTA.format(
            needed=verdict["needed"] / mb,
            left=max(verdict["left"], 0) / mb,
            destination=destination_name,
            used=verdict["used"] / mb,
            limit=verdict["limit"] / mb,
        ),
    }
