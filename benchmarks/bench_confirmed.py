"""DM calls per poll and per job for a 10,000-file collection on a DM that serves only the public
contract (issue #10). Prints figures; asserts nothing.

    . .venv/bin/activate
    python benchmarks/bench_confirmed.py                 # 10,000 files
    python benchmarks/bench_confirmed.py --files 2000    # shorter

It starts its own sandbox (`--dm-profile confirmed --scale-files N`) in a temporary directory,
drives the StagingService in-process (pollers off; each poll is made by hand, as the tracker
would), stages the N file DIDs of `ska-low` as one collection (one confirmed staging request),
then polls until every file is at the destination, counting the DM calls of every poll by
operation, and finally asks the job's paths. Everything started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import traitlets.config  # noqa: E402

from srcstage_jlab.app import SrcStage  # noqa: E402
from srcstage_jlab.errors import ExtensionError  # noqa: E402
from srcstage_jlab.service import LOCATE_BATCH, LOCATE_PER_POLL, StagingService  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402
from tests.server_plugin import demo_token_file, srcstage_config  # noqa: E402


def say(text: str = "") -> None:
    print(text, flush=True)


def count_dm_ops(service: StagingService) -> Counter:
    """Wrap the DM client's operations to count calls by operation."""
    counts: Counter = Counter()
    original = service.dm._call

    async def counted(op: str, **kwargs):
        counts[op] += 1
        return await original(op, **kwargs)

    service.dm._call = counted
    return counts


async def run(sb, workdir: Path, n_files: int, timeout_s: float) -> None:
    token_file = demo_token_file(sb, workdir)
    settings = srcstage_config(
        sb, workdir / "state", token_file, poll_interval=3600.0, max_poll_interval=3600.0, request_timeout=900.0
    )
    service = StagingService(SrcStage(config=traitlets.config.Config({"SrcStage": settings})), logging.getLogger("b"))
    counts = count_dm_ops(service)
    dids = [f"ska-low:scale-{i:05d}.txt" for i in range(1, n_files + 1)]
    collection = await service.collections.create("bench confirmed", dids)
    t = time.monotonic()
    job = await service.stage(collection.id, "1d")
    stage_s = time.monotonic() - t
    stage_calls = dict(counts)
    say(f"stage: {sum(stage_calls.values())} DM calls {stage_calls} in {stage_s:.1f} s; job {job.did}")
    await service.jobs.stop()  # polls by hand below
    counts.clear()
    per_poll: list[int] = []
    errors: Counter = Counter()
    deadline = time.monotonic() + timeout_s
    t = time.monotonic()
    while job.phase != "completed" and time.monotonic() < deadline:
        before = sum(counts.values())
        try:
            job.apply(await service._job_status(job), service.states)
        except ExtensionError as err:  # the tracker keeps the last state and tries again; so do we
            errors[err.message] += 1
        per_poll.append(sum(counts.values()) - before)
        if len(per_poll) % 10 == 1:
            p = job.progress or {}
            say(f"  poll {len(per_poll)}: {per_poll[-1]} calls, {p.get('files_done')}/{p.get('files_total')} files")
        await asyncio.sleep(0.5)
    poll_s = time.monotonic() - t
    poll_calls = dict(counts)
    counts.clear()
    # The view's per-file list of the completed job: every member found complete before is not
    # located again. (A list opened while the job runs locates at most JOB_FILES_LOCATE members.)
    t = time.monotonic()
    files = await service.job_files(job.id, 500)
    files_s, files_calls = time.monotonic() - t, sum(counts.values())
    counts.clear()
    t = time.monotonic()
    paths = await service.job_paths(job.id) if job.phase == "completed" else {"paths": []}
    paths_s = time.monotonic() - t
    say()
    say(f"files: {n_files}; locate bound per poll {LOCATE_PER_POLL} (batches of {LOCATE_BATCH})")
    say(f"job phase: {job.phase}, state word: {job.state} (the profile's own), progress from {job.progress_from}")
    if per_poll:
        say(
            f"polls: {len(per_poll)} in {poll_s:.0f} s; DM calls per poll: min {min(per_poll)}, "
            f"max {max(per_poll)}, mean {sum(per_poll) / len(per_poll):.1f}"
        )
    say(f"DM calls while following the job: {sum(poll_calls.values())} {poll_calls}")
    if errors:
        say(f"polls that met an error (kept the last state): {dict(errors)}")
    say(f"job.paths(): {len(paths['paths'])} paths, {sum(counts.values())} DM calls, {paths_s:.2f} s")
    say(
        f"per-file states (GET /jobs/{{id}}/files) of the completed job: {files['counts']}, "
        f"{files_calls} DM calls, {files_s:.2f} s"
    )
    total = sum(stage_calls.values()) + sum(poll_calls.values()) + sum(counts.values())
    say(f"DM calls per job (stage + follow + paths): {total}")
    await service.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds to follow the job")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-confirmed-") as tmp:
        workdir = Path(tmp)
        t = time.monotonic()
        sb = start_sandbox(
            workdir / "sandbox",
            "--dm-profile",
            "confirmed",
            "--scale-files",
            str(args.files),
            tape_delay=1,
            timeout=600,
        )
        say(f"sandbox (confirmed profile, {args.files} files) ready in {time.monotonic() - t:.0f} s")
        try:
            asyncio.run(run(sb, workdir, args.files, args.timeout))
        finally:
            left = stop_sandbox(sb)
            say(f"sandbox stopped; processes left: {left or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
