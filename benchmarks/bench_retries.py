"""Stage clicks under transient SRCNet failures (issue #12 item 3). Prints figures.

    . .venv/bin/activate
    python benchmarks/bench_retries.py                 # 50 clicks at 30 % 5xx, a few minutes on 2 cores
    python benchmarks/bench_retries.py --clicks 20 --error-rate 0.5

Starts its own sandbox and a signed-in `jupyter lab` (both stopped by their PIDs at the end),
then turns on `error_rate` on all three SRCNet services (auth, site capabilities, DM: each
request answers 500/503 with that probability) and makes N "Stage clicks" as the sidebar does:
a new collection of three cold files, then `POST /srcstage/collections/{id}/stage`. A click
succeeds first time when that one POST answers 202. Then, with faults off, it counts in Rucio
(as root) the rules on each click's collection DID: more than one is a duplicated job. It also
prints the extension's retries (from its log) and the DM's request counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sandbox.helpers import Control, RucioRoot  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402
from tests.server_plugin import JupyterProcess, demo_token_file, srcstage_config  # noqa: E402

SERVICES = ("auth", "site-capabilities", "data-management")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=50)
    parser.add_argument("--error-rate", type=float, default=0.3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="srcstage-bench-retries-"))
    sandbox = start_sandbox(work / "sandbox")
    server = None
    try:
        token_file = demo_token_file(sandbox, work)
        server = JupyterProcess(work / "jupyter", srcstage_config(sandbox, work / "state", token_file))
        server.start()
        found = server.get(
            "srcstage/dids", params={"namespace": "ska-mid", "name": "obs-2026-0001*", "type": "file"}
        ).json()
        files = [item["did"] for item in found["items"]][:3]
        control = Control(sandbox.control_url)
        for service in SERVICES:
            control.faults(service, error_rate=args.error_rate)
        outcomes: Counter = Counter()
        jobs, dids, seconds = [], [], []
        stamp = time.time_ns()
        for n in range(args.clicks):
            # Making the collection is local (no SRCNet call); the click is the stage request.
            made = server.request("POST", "srcstage/collections", json={"name": f"retry {stamp} {n}", "dids": files})
            assert made.status_code == 201, made.text
            started = time.monotonic()
            answer = server.request("POST", f"srcstage/collections/{made.json()['id']}/stage", json={"lifetime": "1d"})
            seconds.append(time.monotonic() - started)
            outcomes[answer.status_code] += 1
            if answer.status_code == 202:
                jobs.append(answer.json()["id"])
                dids.append(answer.json()["did"])
            else:
                print(f"click {n}: {answer.status_code} {answer.text[:300]}", flush=True)
        control.reset_faults()
        rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
        rules = Counter()
        for rule in rucio._stream("/rules/", account="demo"):
            rules[f"{rule['scope']}:{rule['name']}"] += 1
        rucio.close()
        duplicated = {did: rules[did] for did in dids if rules[did] != 1}
        log = server.log_path.read_text(errors="replace")
        stats = control.stats()["requests"].get("data-management", {})
        figures = {
            "clicks": args.clicks,
            "error_rate_every_service": args.error_rate,
            "succeeded_first_time": outcomes[202],
            "success_rate": round(outcomes[202] / args.clicks, 4),
            "answers": dict(outcomes),
            "distinct_jobs": len(set(jobs)),
            "rules_per_collection_did": dict(Counter(rules[did] for did in dids)),
            "duplicated_jobs": len(duplicated),
            "click_seconds_median": round(sorted(seconds)[len(seconds) // 2], 2),
            "click_seconds_max": round(max(seconds), 2),
            "extension_5xx_warnings_in_log": log.count(" answered 50"),
            "dm_stage_requests": stats.get("POST /data/stage", 0),
        }
        print(json.dumps(figures, indent=1))
        ok = figures["success_rate"] >= 0.99 and not duplicated
        print("target (>= 99 % first time, 0 duplicated jobs):", "met" if ok else "MISSED")
        return 0 if ok else 1
    finally:
        if server:
            server.stop()
        stop_sandbox(sandbox)


if __name__ == "__main__":
    sys.exit(main())
