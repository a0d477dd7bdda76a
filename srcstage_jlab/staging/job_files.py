"""Where each file of a staging job is now: the per-file states of a job, read from `locate`.

`locate` is confirmed SRCNet and it is data, not a state word: a file with a replica on the
destination area is staged; one without is still to come, from disk elsewhere or from tape
(a recall, the slow case). A DM that says more per file is not needed for any of this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .paths import replica_key
from .summary import is_tape

# The states a file can be in, in the order a list shows them: what is not there yet first,
# the slowest to come (tape) before the rest.
FILE_STATES = ("on_tape", "on_disk", "staged")


class JobFiles:
    """The files of one job, built from the locate answers of its DIDs."""

    def __init__(self, is_destination: Callable[[dict], bool]) -> None:
        self._is_destination = is_destination
        self._rses: dict[str, set[str]] = {}  # file key -> RSEs holding a replica
        self._staged: set[str] = set()

    def add_locate(self, locations: Iterable[dict]) -> None:
        for location in locations:
            rse = str(location.get("identifier") or "")
            here = self._is_destination(location)
            for url in location.get("replicas") or []:
                key = replica_key(url)
                self._rses.setdefault(key, set()).add(rse)
                if here:
                    self._staged.add(key)

    def add_staged(self, keys: Iterable[str], rse: str) -> None:
        """Files known to be at the destination already (located earlier, never located again)."""
        for key in keys:
            self._rses.setdefault(key, set()).add(rse)
            self._staged.add(key)

    def state_of(self, key: str) -> str:
        if key in self._staged:
            return "staged"
        return "on_tape" if all(is_tape(r) for r in self._rses[key]) else "on_disk"

    def answer(self, limit: int) -> dict:
        """Counts by state and at most `limit` files, those not staged first, then by name."""
        order = {s: i for i, s in enumerate(FILE_STATES)}
        rows = sorted(((self.state_of(k), k) for k in self._rses), key=lambda r: (order[r[0]], r[1]))
        counts = dict.fromkeys(FILE_STATES, 0)
        for state, _ in rows:
            counts[state] += 1
        return {
            "counts": counts,
            "files": [
                {"did": key if ":" in key else None, "name": key, "state": state, "rses": sorted(self._rses[key])}
                for state, key in rows[:limit]
            ],
            "truncated": len(rows) > limit,
        }
