"""``srcstage-sandbox``: run a local imitation of SRCNet (see docs/dev/sandbox-contract.md).

``run`` starts, in order, a private PostgreSQL, the Rucio REST server, the seed
(once per state dir), the Rucio daemon loop and the three SRCNet APIs plus the
control app; writes the ready file; and on SIGTERM/SIGINT stops them in reverse
order and exits 0. ``start`` is ``run`` detached; ``stop`` and ``status`` act on
the sandbox of a state dir through its pid and ready files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .config import JUPYTERHUB_HOST, LOCAL_AREA, SandboxConfig

log = logging.getLogger("srcstage_jlab.sandbox")

DEFAULT_STATE_DIR = Path.home() / ".local" / "share" / "srcstage-sandbox"
READY, PID, LOG = "ready.json", "sandbox.pid", "sandbox.log"


class _Stop(Exception):
    """Raised by the signal handler while the sandbox is still starting."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _running_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / PID).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def _write_json(path: Path, data: dict) -> None:
    """Atomically (temp file + rename): a poller never reads half a ready file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def _config(args: argparse.Namespace) -> SandboxConfig:
    config = SandboxConfig(state_dir=args.state_dir.expanduser().resolve())
    if args.token_lifetime is not None:
        config.access_token_lifetime_s = args.token_lifetime
    if args.tape_delay is not None:
        config.tape_delay_s = args.tape_delay
    if args.max_lifetime is not None:
        config.max_stage_lifetime_s = args.max_lifetime
    if args.scale_files is not None:
        config.scale_files = args.scale_files
    if args.dm_profile is not None:
        config.dm_profile = args.dm_profile
    if args.port_base:
        b = args.port_base
        (
            config.auth_port,
            config.site_capabilities_port,
            config.data_management_port,
            config.control_port,
            config.rucio_port,
        ) = (b, b + 1, b + 2, b + 3, b + 4)
    return config


def _load_apis():
    try:
        from . import apis
    except ImportError as err:
        if getattr(err, "name", None) != f"{__package__}.apis":
            raise
        raise SystemExit("srcstage_jlab.sandbox.apis is missing: this source tree has no SRCNet APIs yet") from err
    return apis


def cmd_run(args: argparse.Namespace) -> int:
    from . import postgres, rucio_server, seed

    rucio_server.skip_slow_optional_imports()
    t0 = time.monotonic()
    config = _config(args)
    state_dir = config.state_dir
    other = _running_pid(state_dir) if state_dir.exists() else None
    if other and other != os.getpid():
        log.error(
            "a sandbox (pid %s) already runs on %s: `srcstage-sandbox stop --state-dir %s`", other, state_dir, state_dir
        )
        return 1
    if args.reset and state_dir.exists():
        log.info("--reset: removing %s", state_dir)
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_files = [state_dir / READY] + ([Path(args.ready_file).resolve()] if args.ready_file else [])
    for f in ready_files:
        f.unlink(missing_ok=True)
    (state_dir / PID).write_text(f"{os.getpid()}\n")

    def on_signal(signum: int, frame: object) -> None:
        raise _Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    pg = server = daemons = None
    timings: dict[str, float] = {}
    try:
        t = time.monotonic()
        pg = postgres.PostgresCluster(state_dir, port=config.postgres_port, host=config.host)
        pg.start()
        config.postgres_port = pg.port
        rucio_server.create_metadata_table(config.host, pg.port, pg.url)
        timings["postgres"] = round(time.monotonic() - t, 2)
        log.info("PostgreSQL on %s:%s (%.1f s)", config.host, pg.port, timings["postgres"])

        cfg = rucio_server.write_config(config, pg.url) if config.rucio_port else None
        if cfg is None:
            config.rucio_port = postgres.free_port(config.host)
            cfg = rucio_server.write_config(config, pg.url)
        os.environ["RUCIO_CONFIG"] = str(cfg)  # before this process imports any Rucio module
        server = rucio_server.RucioServer(config)
        t_server = time.monotonic()
        server.spawn()  # imports in parallel with the database build and the seed

        t = time.monotonic()
        built = rucio_server.build_database_once(config)
        timings["database"] = round(time.monotonic() - t, 2)
        log.info("Rucio database %s (%.1f s)", "built" if built else "reused", timings["database"])

        daemons = postgres.start_child(
            [
                sys.executable,
                "-m",
                "srcstage_jlab.sandbox.daemons",
                "--state-dir",
                str(state_dir),
                "--tape-delay",
                str(config.tape_delay_s),
                "--interval",
                str(config.daemon_interval_s),
            ],
            stdin=subprocess.DEVNULL,
        )

        t = time.monotonic()
        seeded = seed.seed(config)
        timings["seed"] = round(time.monotonic() - t, 2)
        log.info("seed %s (%.1f s)", "written" if seeded else "already there", timings["seed"])

        server.wait_ready()
        timings["server"] = round(time.monotonic() - t_server, 2)
        log.info("Rucio REST server at %s (ready %.1f s after spawn)", server.url, timings["server"])

        return asyncio.run(_serve(config, server, (pg, server, daemons), ready_files, t0, timings))
    except _Stop as stop:
        log.info("%s while starting: stopping", stop)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if daemons is not None:
            postgres.stop_child(daemons, signal.SIGTERM, timeout=15)
            log.info("daemon loop stopped")
        if server is not None:
            server.stop()
            log.info("Rucio server stopped")
        if pg is not None:
            pg.stop()
            log.info("PostgreSQL stopped")
        for f in ready_files:
            f.unlink(missing_ok=True)
        if _running_pid(state_dir) == os.getpid():
            (state_dir / PID).unlink(missing_ok=True)


async def _serve(config: SandboxConfig, server, children, ready_files: list[Path], t0: float, timings: dict) -> int:
    """Start the APIs, write the ready file, and wait for a signal or a dead child."""
    from . import rucio_server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    apis = _load_apis()
    t = time.monotonic()
    handle = await apis.start_apis(config, server.url)
    timings["apis"] = round(time.monotonic() - t, 2)
    try:
        ready = {
            "pid": os.getpid(),
            "started_in_s": round(time.monotonic() - t0, 2),
            "state_dir": str(config.state_dir),
            **handle.urls,
            "rucio_url": server.url,
            "rucio_root": {
                "account": rucio_server.ROOT_ACCOUNT,
                "username": rucio_server.ROOT_USERNAME,
                "password": rucio_server.root_password(config.state_dir),
            },
            "storage_ca_file": str(handle.storage.tls.ca_file),
            "local_area": {"id": LOCAL_AREA.id, "name": LOCAL_AREA.name, "directory": str(config.area_dir(LOCAL_AREA))},
            "jupyterhub_host": JUPYTERHUB_HOST,
            "oidc": {
                "discovery_url": handle.urls["auth_api_url"] + "/.well-known/openid-configuration",
                "client_id": handle.auth.oidc.client_id,
                "client_secret": handle.auth.oidc.client_secret,
            },
            "max_stage_lifetime_s": config.max_stage_lifetime_s,
            "tape_delay_s": config.tape_delay_s,
            "dm_profile": config.dm_profile,
            "timings_s": timings,
        }
        for f in ready_files:
            _write_json(f, ready)
        log.info(
            "ready in %.1f s: %s",
            ready["started_in_s"],
            ", ".join(f"{k}={v}" for k, v in ready.items() if k.endswith("_url")),
        )
        code = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                dead = [p for p in _procs(children) if p.poll() is not None]
                if dead:
                    log.error(
                        "a child process exited unexpectedly (pid %s, code %s): stopping",
                        dead[0].pid,
                        dead[0].returncode,
                    )
                    code = 1
                    break
        log.info("stopping")
        return code
    finally:
        await handle.stop()
        log.info("APIs stopped")


def _procs(children) -> list[subprocess.Popen]:
    out = []
    for c in children:
        proc = c if isinstance(c, subprocess.Popen) else getattr(c, "proc", None)
        if proc is not None:
            out.append(proc)
    return out


def cmd_start(args: argparse.Namespace) -> int:
    """``run`` in a new session, logging to ``DIR/sandbox.log``; return once ready."""
    state_dir = args.state_dir.expanduser().resolve()
    pid = _running_pid(state_dir) if state_dir.exists() else None
    if pid:
        log.error("a sandbox (pid %s) already runs on %s", pid, state_dir)
        return 1
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / READY).unlink(missing_ok=True)
    argv = [sys.executable, "-m", "srcstage_jlab.sandbox", "run", "--state-dir", str(state_dir)]
    for opt in ("ready_file", "token_lifetime", "tape_delay", "max_lifetime", "port_base", "scale_files", "dm_profile"):
        value = getattr(args, opt)
        if value is not None:
            argv += [f"--{opt.replace('_', '-')}", str(value)]
    if args.reset:
        argv.append("--reset")
    with open(state_dir / LOG, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + args.timeout
    ready = state_dir / READY
    while time.monotonic() < deadline:
        if ready.exists():
            print(ready.read_text(), end="")
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = (state_dir / LOG).read_text(errors="replace")[-3000:]
    log.error("the sandbox did not become ready; log tail:\n%s", tail)
    if proc.poll() is None:
        proc.terminate()
    return 1


def cmd_stop(args: argparse.Namespace) -> int:
    state_dir = args.state_dir.expanduser().resolve()
    pid = _running_pid(state_dir)
    if pid is None:
        print(f"no sandbox runs on {state_dir}")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            log.warning("pid %s still there after %.0f s: SIGKILL", pid, args.timeout)
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    print(f"stopped sandbox pid {pid}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = args.state_dir.expanduser().resolve()
    pid = _running_pid(state_dir)
    ready = state_dir / READY
    if pid is None:
        print(f"not running ({state_dir})")
        return 1
    if not ready.exists():
        print(f"starting (pid {pid})")
        return 2
    print(ready.read_text(), end="")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Shell lines that make clients trust the sandbox's storage CA (made anew at each start)."""
    ready = args.state_dir.expanduser().resolve() / READY
    if _running_pid(args.state_dir.expanduser().resolve()) is None or not ready.exists():
        print(f"not running ({args.state_dir})", file=sys.stderr)
        return 1
    info = json.loads(ready.read_text())
    ca = info["storage_ca_file"]
    print(f"export SSL_CERT_FILE={shlex.quote(ca)}")
    print(f"export REQUESTS_CA_BUNDLE={shlex.quote(ca)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="srcstage-sandbox", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"where everything lives (default {DEFAULT_STATE_DIR})",
    )
    starting = argparse.ArgumentParser(add_help=False)
    starting.add_argument("--reset", action="store_true", help="delete the state dir first")
    starting.add_argument("--ready-file", help="also write the ready file here")
    starting.add_argument("--token-lifetime", type=int, help="access token lifetime, seconds")
    starting.add_argument("--tape-delay", type=float, help="tape recall delay of cold areas, seconds")
    starting.add_argument("--max-lifetime", type=int, help="the DM policy's maximum staging lifetime, seconds")
    starting.add_argument(
        "--scale-files",
        type=int,
        help="files in ska-low:scale-test when seeding (default 3000; ignored once the state dir is seeded)",
    )
    starting.add_argument(
        "--dm-profile",
        choices=("full", "confirmed"),
        help="DM routes served: full (default; every route the extension adopts) or confirmed (only the "
        "public contract plus the staging request and its status, answering only job_id and state)",
    )
    starting.add_argument(
        "--port-base",
        type=int,
        help="fixed ports: auth, site capabilities, DM, control, rucio = BASE..BASE+4 (default: free ports)",
    )
    sub.add_parser("run", parents=[common, starting], help="run in the foreground until SIGINT/SIGTERM")
    start = sub.add_parser("start", parents=[common, starting], help="run detached; return once ready")
    start.add_argument("--timeout", type=float, default=120)
    stop = sub.add_parser("stop", parents=[common], help="stop the sandbox of a state dir")
    stop.add_argument("--timeout", type=float, default=60)
    sub.add_parser("status", parents=[common], help="print the ready file if it runs")
    sub.add_parser(
        "env",
        parents=[common],
        help="print export lines (SSL_CERT_FILE, REQUESTS_CA_BUNDLE) that trust the storage's WebDAV CA",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("srcstage_jlab").setLevel(logging.INFO)
    return {"run": cmd_run, "start": cmd_start, "stop": cmd_stop, "status": cmd_status, "env": cmd_env}[args.command](
        args
    )


if __name__ == "__main__":
    sys.exit(main())
