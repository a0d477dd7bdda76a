"""A private PostgreSQL cluster for the sandbox's Rucio, in ``<state_dir>/postgres``.

Rucio needs a database that takes writes from the REST server's workers and the
daemon process at once; SQLite cannot (see docs in shared/rucio-local.md), so
the sandbox runs its own throw-away PostgreSQL: trust authentication, a private
unix-socket directory, TCP on 127.0.0.1 only, ``fsync=off`` (speed over safety).

This module also holds :func:`start_child`, used for every child process of the
sandbox: each child gets its own process group (a Ctrl-C in the terminal reaches
only the sandbox's main process, which stops the children in order) and a
parent-death signal (if the main process is killed, nothing lingers).
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
DATABASE = "rucio"


def _die_with_parent(sig: int) -> Any:
    """A ``preexec_fn`` asking the kernel to send ``sig`` when our process dies.

    Python runs it after switching user, so the setting survives ``user=``.
    """

    def preexec() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)

    return preexec


def start_child(args: list[str], *, death_signal: int = signal.SIGTERM, **popen: Any) -> subprocess.Popen:
    """Start a child in its own process group that dies with this process.

    Must be called from the main thread: Linux sends the parent-death signal when
    the *thread* that forked exits.
    """
    return subprocess.Popen(args, process_group=0, preexec_fn=_die_with_parent(death_signal), **popen)


def stop_child(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal a child's process group, wait, and SIGKILL the group if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("pid %s did not stop within %.0f s: killing it", proc.pid, timeout)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_bin_dir() -> Path:
    """The directory holding ``initdb``/``postgres``/``pg_ctl`` (newest Debian version first)."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found; "
        "install them with `apt-get install postgresql`"
    )


class PostgresCluster:
    """One private cluster; ``start()`` initialises it on first use and reuses it after."""

    def __init__(self, state_dir: Path, port: int = 0, host: str = "127.0.0.1"):
        self.root = Path(state_dir) / "postgres"
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.host = host
        self.port = port
        self.bin_dir = find_bin_dir()
        self.proc: subprocess.Popen | None = None
        # initdb and postgres refuse to run as root: use the `postgres` system user,
        # with its own group and no supplementary ones (not root's).
        self.run_as: dict[str, Any] = (
            {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
        )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Rucio uses (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{DATABASE}"

    def _tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _run(self, args: list[str]) -> None:
        res = subprocess.run(args, capture_output=True, text=True, **self.run_as)
        if res.returncode:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}"
            )

    def _make_reachable(self) -> None:
        """Let the `postgres` user reach its directories when we are root.

        The state dir may sit under a 0700 directory (``/root``, pytest's tmp dirs);
        the server needs search (x) permission on every ancestor, not read.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if not self.run_as:
            return
        import pwd

        pw = pwd.getpwnam(self.run_as["user"])
        for d in (self.root, self.socket_dir):
            os.chown(d, pw.pw_uid, pw.pw_gid)
        for parent in self.root.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                log.info("granting search permission on %s to the postgres user", parent)
                os.chmod(parent, mode | 0o001)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def start(self, timeout: float = 30.0) -> None:
        self._make_reachable()
        if not self.initialised():
            self._run(
                [
                    self._tool("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
            created = True
        else:
            created = False
        stale_pid = self.data_dir / "postmaster.pid"
        if stale_pid.exists() and not self._pid_alive(stale_pid):
            stale_pid.unlink()
        if not self.port:
            self.port = free_port(self.host)
        log_file = open(self.root / "postgres.log", "ab")
        # The postmaster itself is our child (not daemonised by pg_ctl) so it can
        # carry a parent-death signal: SIGINT is PostgreSQL's "fast shutdown".
        self.proc = start_child(
            [
                self._tool("postgres"),
                "-D",
                str(self.data_dir),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-k",
                str(self.socket_dir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=64MB",
            ],
            death_signal=signal.SIGINT,
            stdout=log_file,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            **self.run_as,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while True:
            res = subprocess.run([self._tool("pg_isready"), "-h", str(self.socket_dir), "-p", str(self.port), "-q"])
            if res.returncode == 0:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"PostgreSQL did not start; log tail:\n{tail}")
            time.sleep(0.1)
        if created:
            self._run(
                [self._tool("createdb"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", DATABASE]
            )

    @staticmethod
    def _pid_alive(pid_file: Path) -> bool:
        try:
            os.kill(int(pid_file.read_text().split()[0]), 0)
            return True
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return False

    def stop(self) -> None:
        """Fast shutdown (``pg_ctl stop -m fast``), then make sure the postmaster is gone."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            res = subprocess.run(
                [self._tool("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "20"],
                capture_output=True,
                text=True,
                **self.run_as,
            )
            if res.returncode:
                log.warning("pg_ctl stop failed: %s", res.stderr.strip())
            stop_child(self.proc, signal.SIGINT)
        self.proc = None
