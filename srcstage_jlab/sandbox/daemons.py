"""The Rucio daemons the sandbox needs, in one loop, as one process.

Run as ``python -m srcstage_jlab.sandbox.daemons --state-dir DIR [--tape-delay S] [--interval S]``
with ``RUCIO_CONFIG`` pointing at ``DIR/rucio/rucio.cfg``.

Rucio's command-line daemons wait seconds per cycle (partition rebalancing,
built-in sleeps); calling each daemon's one-cycle function in a tight loop makes
a rule reach OK within about a second of its transfers finishing. The copying
transfertool (:mod:`.transfers`) replaces the ``mock`` one in this process only.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from .config import AREAS, SandboxConfig

log = logging.getLogger("srcstage_jlab.sandbox.daemons")

STOP = threading.Event()


def _judge_steps() -> list[tuple[str, object]]:
    """One-cycle functions of judge-injector, -evaluator, -cleaner and abacus-account.

    Their public ``once=True`` entry points wait 1 s for "partition rebalancing"
    each; calling ``run_once`` with a long-lived heartbeat handler avoids that.
    """
    from rucio.daemons.abacus import account as abacus_account
    from rucio.daemons.common import HeartbeatHandler
    from rucio.daemons.judge import cleaner, evaluator, injector

    steps = []
    for name, fn in (
        ("judge-injector", functools.partial(injector.run_once, paused_rules={})),
        ("judge-evaluator", functools.partial(evaluator.run_once, paused_dids={}, did_limit=1000)),
        ("judge-cleaner", functools.partial(cleaner.run_once, paused_rules={})),
        ("abacus-account", abacus_account.run_once),
    ):
        handler = HeartbeatHandler(executable=f"sandbox-{name}", renewal_interval=60)
        steps.append((name, functools.partial(fn, heartbeat_handler=handler)))
    return steps


def _conveyor_steps() -> list[tuple[str, object]]:
    from rucio.daemons.conveyor.finisher import finisher
    from rucio.daemons.conveyor.poller import poller
    from rucio.daemons.conveyor.submitter import submitter

    return [
        (
            "conveyor-submitter",
            functools.partial(submitter, once=True, partition_wait_time=0, transfertools=["mock"], bulk=1000),
        ),
        (
            "conveyor-poller",
            functools.partial(
                poller, once=True, partition_wait_time=0, older_than=0, db_bulk=1000, fts_bulk=1000, transfertool="mock"
            ),
        ),
        ("conveyor-finisher", functools.partial(finisher, once=True, partition_wait_time=0, db_bulk=1000, bulk=1000)),
    ]


# The reaper deletes the files of replicas no rule keeps (a released or expired copy); it runs
# every this many cycles, greedily (a sandbox has no space pressure to wait for).
REAPER_EVERY = 3


def _reaper_step() -> object:
    from rucio.daemons.common import HeartbeatHandler
    from rucio.daemons.reaper import reaper

    return functools.partial(
        reaper.run_once,
        rses=[],
        include_rses=None,
        exclude_rses=None,
        vos=None,
        chunk_size=100,
        greedy=True,
        scheme=None,
        delay_seconds=0,
        auto_exclude_threshold=100,
        auto_exclude_timeout=600,
        heartbeat_handler=HeartbeatHandler(executable="sandbox-reaper", renewal_interval=60),
    )


def run(config: SandboxConfig) -> None:
    """Loop until SIGTERM/SIGINT: injector, evaluator, submitter, poller, finisher, abacus, cleaner
    (and the reaper every REAPER_EVERY cycles)."""
    from . import transfers

    transfers.install(config.state_dir, [a.name for a in AREAS if a.cold], config.tape_delay_s)
    judges = dict(_judge_steps())
    conveyor = dict(_conveyor_steps())
    order = [
        ("judge-injector", judges["judge-injector"]),
        ("judge-evaluator", judges["judge-evaluator"]),
        *conveyor.items(),
        ("abacus-account", judges["abacus-account"]),
        ("judge-cleaner", judges["judge-cleaner"]),
    ]
    reaper = _reaper_step()
    cycle = 0
    log.info("daemon loop started (every %.1f s, tape delay %.1f s)", config.daemon_interval_s, config.tape_delay_s)
    while not STOP.is_set():
        started = time.monotonic()
        for name, step in order:
            if STOP.is_set():
                break
            try:
                step()
            except Exception:  # one daemon's failure must not stop the others
                log.exception("%s failed", name)
        cycle += 1
        if cycle % REAPER_EVERY == 0 and not STOP.is_set():
            try:
                reaper()
            except Exception:
                log.exception("reaper failed")
        STOP.wait(max(0.0, config.daemon_interval_s - (time.monotonic() - started)))
    log.info("daemon loop stopped")


def _stop(signum: int, frame: object) -> None:
    STOP.set()
    # Rucio's daemons watch their own stop events inside a cycle.
    for module in (
        "rucio.daemons.conveyor.submitter",
        "rucio.daemons.conveyor.poller",
        "rucio.daemons.conveyor.finisher",
    ):
        mod = sys.modules.get(module)
        if mod is not None:
            mod.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m srcstage_jlab.sandbox.daemons", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--tape-delay", type=float, default=SandboxConfig.tape_delay_s)
    parser.add_argument("--interval", type=float, default=SandboxConfig.daemon_interval_s)
    args = parser.parse_args(argv)
    from .rucio_server import skip_slow_optional_imports

    skip_slow_optional_imports()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s daemons %(levelname)s %(message)s", datefmt="%H:%M:%S")
    # Rucio's daemons log every cycle at INFO: keep only their warnings.
    logging.getLogger().setLevel(logging.WARNING)
    log.setLevel(logging.INFO)
    logging.getLogger("srcstage_jlab").setLevel(logging.INFO)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    config = SandboxConfig(state_dir=args.state_dir, tape_delay_s=args.tape_delay, daemon_interval_s=args.interval)
    run(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
