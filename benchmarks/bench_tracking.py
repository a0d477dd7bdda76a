"""Completion lag and calls while watching, side by side with rucio-jupyterlab's way (issue #12,
item 5). Prints figures; asserts nothing.

    . .venv/bin/activate
    python benchmarks/bench_tracking.py                   # 10 jobs, 5 tabs, tape delay 90 s
    python benchmarks/bench_tracking.py --tape-delay 30   # shorter

It starts its own sandbox (full DM profile, the given tape recall delay) and a signed-in
`jupyter lab` with the extension's default job polling (2 s at first, 30 s at most while watched,
120 s while no one watches), stages 10 collections of 3 cold files through its REST API, and then,
at the same time, until every job is done:

- **ours**: 5 tabs poll `GET /srcstage/jobs` every 2 s, as the sidebar does while visible; the
  sandbox counts the DM status calls and the Rucio calls the DM makes for them;
- **rucio-jupyterlab's way**, replayed: in each of 5 tabs every collection DID's item polls every
  10 s on its own, each poll one
  `GET /dids/{scope}/{name}/rules` and one `POST /replicas/list` as the user's Rucio account
  (the two Rucio calls of its replica-mode DID details request, per its source:
  `mode_handlers/replica.py`, `fetch_replication_rule_by_did` and `get_replicas`); the replay
  counts its own calls;
- **ground truth**: as Rucio root, each collection's rule is read every 0.5 s (calls not counted in
  either) to know when Rucio said OK.

Lag = when a client showed the job done − when Rucio's rule was OK; the goal is
max(5 s, 10 % of the job's age at that moment). Everything started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from srcstage_jlab.sandbox import config as cfg  # noqa: E402
from tests.sandbox.helpers import Control  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402
from tests.server_plugin import JupyterProcess, demo_token_file, srcstage_config  # noqa: E402

DM = "data-management"
STATUS_ROUTE = "GET /data/stage/{job_id}"
TAB_INTERVAL_S = 2.0  # the sidebar's poll: the server's poll_interval_s
RUCIO_JUPYTERLAB_INTERVAL_S = 10.0


def say(text: str = "") -> None:
    print(text, flush=True)


async def rucio_login(client: httpx.AsyncClient, account: str, username: str, password: str) -> str:
    r = await client.get(
        "/auth/userpass",
        headers={"X-Rucio-Account": account, "X-Rucio-Username": username, "X-Rucio-Password": password},
    )
    r.raise_for_status()
    return r.headers["X-Rucio-Auth-Token"]


def rules_path(did: str) -> str:
    scope, name = did.split(":", 1)
    return f"/dids/{quote(scope, safe='')}/{quote(name, safe='')}/rules"


def rule_ok(response: httpx.Response) -> bool:
    """A DID's rules answer (a JSON stream, one rule a line) holds a rule in state OK."""
    if response.status_code != 200:
        return False
    return any(json.loads(line).get("state") == "OK" for line in response.text.splitlines() if line.strip())


def stage_jobs(server: JupyterProcess, n: int, first_file: int) -> list[dict]:
    run = int(time.time())
    jobs = []
    for i in range(n):
        start = first_file + 3 * i
        dids = [f"ska-low:scale-{k:05d}.txt" for k in range(start, start + 3)]
        made = server.request("POST", "srcstage/collections", json={"name": f"bench-lag-{run}-{i:02d}", "dids": dids})
        made.raise_for_status()
        staged = server.request("POST", f"srcstage/collections/{made.json()['id']}/stage", json={"lifetime": "1d"})
        if staged.status_code != 202:
            raise RuntimeError(f"staging job {i}: {staged.status_code} {staged.text[:300]}")
        jobs.append({**staged.json(), "staged_at": time.monotonic()})
    return jobs


async def measure(sb, server: JupyterProcess, jobs: list[dict], n_tabs: int, timeout_s: float) -> dict:
    dids = [j["did"] for j in jobs]
    ok_at: dict[str, float] = {}  # ground truth: Rucio said OK
    ours_at: dict[str, float] = {}  # a tab showed the job completed
    theirs_at: dict[str, float] = {}  # a replayed rucio-jupyterlab tab saw the rule OK
    theirs_calls: Counter = Counter()
    deadline = time.monotonic() + timeout_s
    user = cfg.DEMO_USER

    def done() -> bool:
        return (len(ours_at) == len(dids) and len(theirs_at) == len(dids)) or time.monotonic() > deadline

    # Their 5 tabs: a browser opens at most 6 connections a host, so 30 in all. Ground truth has its
    # own connections, so that it never waits behind their polls.
    async with (
        httpx.AsyncClient(base_url=sb.rucio_url, timeout=30, limits=httpx.Limits(max_connections=30)) as rucio,
        httpx.AsyncClient(base_url=sb.rucio_url, timeout=30, limits=httpx.Limits(max_connections=10)) as truth_http,
    ):
        root = sb.rucio_root
        root_token = await rucio_login(truth_http, root["account"], root["username"], root["password"])
        user_token = await rucio_login(rucio, user.username, user.username, user.rucio_password)

        async def truth(did: str) -> None:
            while did not in ok_at and not done():
                try:
                    r = await truth_http.get(rules_path(did), headers={"X-Rucio-Auth-Token": root_token})
                except httpx.HTTPError:
                    r = None
                if r is not None and rule_ok(r):
                    ok_at[did] = time.monotonic()
                await asyncio.sleep(0.5)

        async def our_tab(k: int, client: httpx.AsyncClient) -> None:
            await asyncio.sleep(k * TAB_INTERVAL_S / n_tabs)
            while not done():
                t = time.monotonic()
                r = await client.get(server.url + "srcstage/jobs", headers={"Authorization": f"token {server.token}"})
                r.raise_for_status()
                for job in r.json()["jobs"]:
                    if job["did"] in dids and job["phase"] == "completed":
                        ours_at.setdefault(job["did"], time.monotonic())
                await asyncio.sleep(max(0.0, TAB_INTERVAL_S - (time.monotonic() - t)))

        async def their_item(k: int, did: str) -> None:
            """One DID's item in one of their tabs: its own poll every 10 s, as their sidebar makes it."""
            headers = {"X-Rucio-Auth-Token": user_token}
            scope, name = did.split(":", 1)
            await asyncio.sleep(k * RUCIO_JUPYTERLAB_INTERVAL_S / n_tabs)
            while not done():
                t = time.monotonic()
                try:
                    theirs_calls["GET /dids/.../rules"] += 1
                    r = await rucio.get(rules_path(did), headers=headers)
                    theirs_calls["POST /replicas/list"] += 1
                    await rucio.post(
                        "/replicas/list",
                        json={"dids": [{"scope": scope, "name": name}], "all_states": False},
                        headers=headers,
                    )
                except httpx.HTTPError:
                    theirs_calls["failed"] += 1  # their item shows an error and polls again
                    r = None
                if r is not None and rule_ok(r):
                    theirs_at.setdefault(did, time.monotonic())
                await asyncio.sleep(max(0.0, RUCIO_JUPYTERLAB_INTERVAL_S - (time.monotonic() - t)))

        control = Control(sb.control_url)
        control._call("DELETE", "/stats")
        t0 = time.monotonic()
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(
                *(truth(did) for did in dids),
                *(our_tab(k, client) for k in range(n_tabs)),
                *(their_item(k, did) for k in range(n_tabs) for did in dids),
            )
        window_s = time.monotonic() - t0
        stats = control.stats()
    return {
        "ok_at": ok_at,
        "ours_at": ours_at,
        "theirs_at": theirs_at,
        "theirs_calls": theirs_calls,
        "window_s": window_s,
        "dm_requests": Counter(stats["requests"].get(DM, {})),
        "rucio_calls": Counter(stats.get("rucio_calls", {})),
    }


def report(jobs: list[dict], m: dict, n_tabs: int) -> None:
    per_min = 60.0 / m["window_s"]
    rows, ours_lags, theirs_lags, ours_met, theirs_met = [], [], [], 0, 0
    for job in jobs:
        did = job["did"]
        ok = m["ok_at"].get(did)
        if ok is None:
            rows.append(f"| {did} | never OK in the window | | | |")
            continue
        age = ok - job["staged_at"]
        goal = max(5.0, 0.1 * age)
        ours = m["ours_at"].get(did)
        theirs = m["theirs_at"].get(did)
        ol = (ours - ok) if ours else None
        tl = (theirs - ok) if theirs else None
        if ol is not None:
            ours_lags.append(ol)
            ours_met += ol <= goal
        if tl is not None:
            theirs_lags.append(tl)
            theirs_met += tl <= goal

        def fmt(x):
            return f"{x:.1f} s" if x is not None else "never"

        rows.append(f"| {did.split(':')[1]} | {age:.0f} s | {goal:.1f} s | {fmt(ol)} | {fmt(tl)} |")
    say("| job | age at Rucio OK | goal | our lag | rucio-jupyterlab's lag |")
    say("|---|---|---|---|---|")
    for row in rows:
        say(row)
    say()
    ours_status = m["dm_requests"].get(STATUS_ROUTE, 0)
    ours_rucio = sum(m["rucio_calls"].values())
    theirs = sum(v for k, v in m["theirs_calls"].items() if k != "failed")
    say(f"window: {m['window_s']:.0f} s, {len(jobs)} jobs watched from {n_tabs} tabs each way")
    if ours_lags:
        say(
            f"ours: lag median {statistics.median(ours_lags):.1f} s, max {max(ours_lags):.1f} s; "
            f"within the goal {ours_met}/{len(ours_lags)}"
        )
    if theirs_lags:
        say(
            f"rucio-jupyterlab's way: lag median {statistics.median(theirs_lags):.1f} s, "
            f"max {max(theirs_lags):.1f} s; within the goal {theirs_met}/{len(theirs_lags)}"
        )
    say(
        f"ours: {ours_status} DM status calls ({ours_status * per_min:.1f}/min), other DM calls "
        f"{sum(m['dm_requests'].values()) - ours_status}; Rucio calls made by the DM: {ours_rucio} "
        f"({ours_rucio * per_min:.1f}/min) {dict(m['rucio_calls'])}"
    )
    say(f"rucio-jupyterlab's way: {theirs} Rucio calls ({theirs * per_min:.1f}/min) {dict(m['theirs_calls'])}")
    if ours_rucio:
        say(f"Rucio calls, theirs / ours: {theirs / ours_rucio:.1f}x (goal: at least 5x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--tabs", type=int, default=5)
    ap.add_argument("--tape-delay", type=float, default=90.0, help="the sandbox's tape recall delay, seconds")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        workdir = Path(tmp)
        sb = start_sandbox(workdir / "sandbox", tape_delay=args.tape_delay, timeout=600)
        server = None
        try:
            token_file = demo_token_file(sb, workdir)
            # The extension's defaults for job polling, not the tests' quick ones.
            settings = srcstage_config(
                sb,
                workdir / "state",
                token_file,
                poll_interval=2.0,
                max_poll_interval=30.0,
                idle_poll_interval=120.0,
                request_timeout=15.0,
            )
            server = JupyterProcess(workdir, settings, log_level="WARN")
            server.start()
            jobs = stage_jobs(server, args.jobs, first_file=2101)
            say(f"{len(jobs)} jobs staged (tape delay {args.tape_delay:.0f} s); watching until all are done")
            m = asyncio.run(measure(sb, server, jobs, args.tabs, args.timeout))
            report(jobs, m, args.tabs)
        finally:
            if server:
                server.stop()
            left = stop_sandbox(sb)
            say(f"sandbox stopped; processes left: {left or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
