"""Where each file of a staging job is now: the per-file states of a job, read from `locate`
(the service gathers each file's RSEs while it maps a locate answer; this turns them into states).

`locate` is confirmed SRCNet and it is data, not a state word: a file with a replica on the
destination area is staged; one without is still to come, from disk elsewhere or from tape
(a recall, the slow case). A DM that says more per file is not needed for any of this.
"""

from __future__ import annotations

from collections.abc import Iterable

from .summary import is_tape

# The states a file can be in, in the order a list shows them: what is not there yet first,
# the slowest to come (tape) before the rest.
FILE_STATES = ("on_tape", "on_disk", "staged")


def file_states(keys: Iterable[str], staged: set[str], rses_of: dict[str, set[str]], limit: int) -> dict:
    """Counts by state of every file, and at most `limit` files, those not staged first, then by name."""

    def state_of(key: str) -> str:
        if key in staged:
            return "staged"
        return "on_tape" if all(is_tape(r) for r in rses_of.get(key, ())) else "on_disk"

    order = {s: i for i, s in enumerate(FILE_STATES)}
    rows = sorted(((state_of(k), k) for k in keys), key=lambda r: (order[r[0]], r[1]))
    counts = dict.fromkeys(FILE_STATES, 0)
    for state, _ in rows:
        counts[state] += 1
    return {
        "counts": counts,
        "files": [
            {"did": key if ":" in key else None, "name": key, "state": state, "rses": sorted(rses_of.get(key, ()))}
            for state, key in rows[:limit]
        ],
        "truncated": len(rows) > limit,
    }
