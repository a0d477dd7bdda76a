"""10,000 and 100,000 files: create, pre-check, submit, stage, track and list (issue #12, item 6).
Prints figures; asserts nothing.

    . .venv/bin/activate
    python benchmarks/bench_scale.py                          # 10,000 then 100,000 files
    python benchmarks/bench_scale.py --files 10000 20000      # other sizes

It starts its own sandbox seeded with `--scale-files <largest>` (the 100,000-file seed takes
minutes), drives a StagingService in-process (the server extension's code, job pollers off: the
status polls are made by hand), and for each size, one after the other on the same sandbox:

1. a collection of the first N file DIDs of `ska-low`, with types and sizes known (as added from a
   search): created; pre-checked before submission (the summary's "already at the destination" is
   then sampled or unknown, as it says); submitted, pre-checked again (now from the collection DID:
   one locate of it); staged;
2. three status polls of the job, as the tracker would make them;
3. listed as the UI lists it: the collection's and the jobs' JSON answers, their size and time.

For each step: DM calls, wall time, time awaiting SRCNet, extension-side time (wall minus awaiting),
and the process's peak memory (ru_maxrss) after it. The smaller size runs first, so its files are
already staged (or on their way) when the larger collection is pre-checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_staging as bs  # noqa: E402  (its service, instrumentation and counters)

from srcstage_jlab.errors import ExtensionError  # noqa: E402
from tests.sandbox.helpers import Control, RucioRoot  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402
from tests.server_plugin import demo_token_file  # noqa: E402


def say(text: str = "") -> None:
    print(text, flush=True)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def step(service, control: Control, label: str, rows: list, coro):
    bs.control_reset_stats(control)
    before = bs.snapshot(service)
    cpu = time.process_time()
    error = None
    result = None
    try:
        result = await coro
    except ExtensionError as err:  # measured and reported, not hidden
        error = f"{type(err).__name__}: {err.message}"[:300]
    figures = bs.since(service, before)
    cpu_s = time.process_time() - cpu
    dm = sum(bs.dm_requests(control).values())
    rows.append(
        {
            "step": label,
            "dm_calls": dm,
            "wall_s": figures["wall_s"],
            "awaiting_s": figures["awaiting_total_s"],
            # wall − awaiting SRCNet, unless calls overlapped (then their awaits sum past the wall)
            "ext_s": figures["ext_s"] if figures["ext_s"] >= 0 else None,
            "cpu_s": cpu_s,
            "peak_mib": peak_mib(),
            "error": error,
        }
    )
    r = rows[-1]
    say(
        f"  {label}: {dm} DM calls, {r['wall_s']:.2f} s wall, "
        + (f"{r['ext_s']:.2f} s extension-side, " if r["ext_s"] is not None else "calls overlapped, ")
        + f"{r['cpu_s']:.2f} s CPU, peak {r['peak_mib']:.0f} MiB"
        + (f"  ! {error}" if error else "")
    )
    return result


def how_counted(summary: dict) -> str:
    if summary.get("unknown_reason"):
        return summary["unknown_reason"]
    sampled = summary.get("sampled")
    return f"estimated from {sampled['located']} of {sampled['of']:,} files" if sampled else "counted"


async def one_size(service, control: Control, files: list[dict], n: int) -> list[dict]:
    rows: list[dict] = []
    chosen = files[:n]
    say(f"{n:,} files")

    async def create():
        collection = await service.collections.create(f"bench-scale-{n}-{int(time.time())}", [f["did"] for f in chosen])
        await service.collections.record_details(
            collection,
            {e.did: {"type": f["type"], "bytes": f["bytes"]} for e, f in zip(collection.entries, chosen, strict=True)},
        )
        return collection

    collection = await step(service, control, "create", rows, create())
    summary = await step(service, control, "pre-check before submission", rows, service.precheck(collection.id, "1d"))
    if summary:
        say(
            f"    files {summary['files']}, bytes {summary['bytes']}, already at the destination "
            f"{summary['already_at_destination']} ({how_counted(summary)})"
        )
    await step(service, control, "submit", rows, service.submit(collection.id))
    summary = await step(service, control, "pre-check after submission", rows, service.precheck(collection.id, "1d"))
    if summary:
        say(
            f"    files {summary['files']}, already at the destination {summary['already_at_destination']} "
            f"({how_counted(summary)})"
        )
    job = await step(service, control, "stage", rows, service.stage(collection.id, "1d"))
    if job:
        for k in range(3):

            async def poll():
                job.apply(await service._job_status(job), service.states)
                return job

            await step(service, control, f"status poll {k + 1}", rows, poll())
            say(f"    state {job.state}, progress {job.progress}")

    async def listing():
        t = time.perf_counter()
        body = json.dumps(service.collections.get(collection.id).to_json())
        jobs = json.dumps({"jobs": [j.to_json() for j in service.jobs.all()]})
        return len(body), len(jobs), time.perf_counter() - t

    listed = await step(service, control, "list (collection and jobs JSON)", rows, listing())
    if listed:
        say(f"    collection answer {listed[0] / 1e6:.1f} MB, jobs answer {listed[1] / 1e3:.1f} kB")
    return rows


async def run(sb, workdir: Path, sizes: list[int]) -> dict:
    control = Control(sb.control_url)
    service = bs.make_service(sb, workdir / "state", demo_token_file(sb, workdir))
    await service.jobs.stop()  # polls are made by hand
    service.dm_timings = bs.instrument_dm(service)
    out = {}
    try:
        destination = await service.destination()
        # The demo user's 64 MiB quota is there for the over-quota demo; 100,000 files need more.
        root = RucioRoot(sb.rucio_url, sb.rucio_root)
        try:
            lifted = root.client.post(f"/accounts/demo/limits/local/{destination.area.name}", json={"bytes": 1 << 40})
            lifted.raise_for_status()
        finally:
            root.close()
        say(f"demo's quota at {destination.area.name} lifted to 1 TiB for the benchmark")
        found = await service.search("ska-low", "*", "file", 100_000)
        files = sorted((f for f in found["items"] if f["name"].startswith("scale-")), key=lambda f: f["name"])
        say(f"search: {len(files):,} scale files (truncated: {found['truncated']}); peak {peak_mib():.0f} MiB")
        for n in sizes:
            out[n] = await one_size(service, control, files, n)
    finally:
        await service.stop()
    return out


def table(out: dict) -> None:
    say()
    say("| files | step | DM calls | wall | extension-side | CPU | peak memory |")
    say("|---|---|---|---|---|---|---|")
    for n, rows in out.items():
        for r in rows:
            err = f" ({r['error']})" if r["error"] else ""
            say(
                f"| {n:,} | {r['step']}{err} | {r['dm_calls']} | {r['wall_s']:.2f} s | "
                f"{'overlapped' if r['ext_s'] is None else format(r['ext_s'], '.2f') + ' s'} | "
                f"{r['cpu_s']:.2f} s | {r['peak_mib']:.0f} MiB |"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args()
    sizes = sorted(args.files)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        t = time.monotonic()
        sb = start_sandbox(workdir / "sandbox", "--scale-files", str(sizes[-1]), tape_delay=5, timeout=1800)
        say(f"sandbox ({sizes[-1]:,} scale files) ready in {time.monotonic() - t:.0f} s")
        try:
            out = asyncio.run(run(sb, workdir, sizes))
            table(out)
        finally:
            left = stop_sandbox(sb)
            say(f"sandbox stopped; processes left: {left or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
