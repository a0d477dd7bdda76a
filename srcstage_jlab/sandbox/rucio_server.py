"""The sandbox's Rucio 41: its configuration, database build and REST server.

Everything lives under ``<state_dir>/rucio/``: ``rucio.cfg`` (selected with
``RUCIO_CONFIG`` in every process that imports Rucio), ``alembic.ini`` (the
database build stamps the schema version and needs it), the root password and a
marker saying the database was built. The REST server is Rucio's own Flask app
under gunicorn, bound to 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .config import SandboxConfig
from .postgres import free_port, start_child, stop_child

log = logging.getLogger(__name__)

ROOT_ACCOUNT = "root"
ROOT_USERNAME = "root"
ROOT_EMAIL = "root@sandboxsrc.local"
# gunicorn: 2 workers x 4 threads serve parallel clients (DM API, tests, daemons'
# neighbours) on 2 cores; --preload imports the app once and forks (faster start,
# copy-on-write memory). Measured RSS is reported by `rss_mb()`.
WORKERS, THREADS = 2, 4
# gunicorn closes a connection idle for KEEPALIVE_S; the DM's client drops its idle
# connections sooner (rucio_rest.CLIENT_KEEPALIVE_S), so it never sends on a socket the
# server is closing (gunicorn's default of 2 s under httpx's 5 s gave a
# RemoteProtocolError now and then: a spurious 503 from the DM).
KEEPALIVE_S = 30
# Rucio's JSONB metadata plugin on an external PostgreSQL (here: the sandbox's own cluster).
METADATA_PLUGIN = "rucio.core.did_meta_plugins.postgres_meta.ExternalPostgresJSONDidMeta"
METADATA_TABLE = "science_metadata"


def skip_slow_optional_imports() -> None:
    """Make importing Rucio 4 s faster on this machine; call before any Rucio import.

    Rucio imports ``jsonschema``, which optionally imports ``rfc3987_syntax`` (installed
    here for Jupyter) to check the ``iri`` format; that module compiles a Lark grammar
    at import: 4.2 s of the 6 s that ``import rucio.db.sqla.util`` takes. Rucio's
    schemas use no ``iri`` format, and jsonschema skips the check when the import fails.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def rucio_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "rucio"


def config_path(state_dir: Path) -> Path:
    return rucio_dir(state_dir) / "rucio.cfg"


def root_password(state_dir: Path) -> str:
    """The root account's password: random once per state dir, kept in a 0600 file."""
    path = rucio_dir(state_dir) / "root-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)
    return path.read_text().strip()


def write_config(config: SandboxConfig, db_url: str) -> Path:
    """Write rucio.cfg and alembic.ini (again on every start: ports change)."""
    import rucio  # only to locate the installed package; reads no configuration

    d = rucio_dir(config.state_dir)
    d.mkdir(parents=True, exist_ok=True)
    migrate_repo = Path(rucio.__file__).parent / "db" / "sqla" / "migrate_repo"
    alembic_ini = d / "alembic.ini"
    alembic_ini.write_text(
        f"[alembic]\nscript_location = {migrate_repo}\nsqlalchemy.url = {db_url}\n"
        # Rucio's migrate_repo/env.py passes this file to logging.fileConfig.
        "[loggers]\nkeys = root\n[handlers]\nkeys = null\n[formatters]\nkeys =\n"
        "[logger_root]\nlevel = WARNING\nhandlers = null\n"
        "[handler_null]\nclass = NullHandler\nargs = ()\n"
    )
    url = f"http://{config.host}:{config.rucio_port}"
    db_user, db_name = db_url.split("://", 1)[1].split("@", 1)[0], db_url.rsplit("/", 1)[1]
    cfg = config_path(config.state_dir)
    # No [policy] section: Rucio 41 then uses its generic permission and schema
    # rules. Never a [core] geoip_licence_key (the server would try to download).
    cfg.write_text(f"""\
[common]
loglevel = WARNING

[database]
default = {db_url}
pool_size = 10
max_overflow = 20
pool_reset_on_return = rollback
echo = 0

[bootstrap]
userpass_identity = {ROOT_USERNAME}
userpass_pwd = {root_password(config.state_dir)}
userpass_email = {ROOT_EMAIL}

[alembic]
cfg = {alembic_ini}

[conveyor]
transfertool = mock
scheme = file,mock
use_preparer = False

[transfers]
# No multi-hop: every pair of areas has a direct distance (and an empty expression
# stops the submitter warning every cycle that no RSE allows multi-hop).
multihop_rse_expression =

[metadata]
# Science metadata (observation id, telescope, frequencies, ...) in a JSONB table of the
# sandbox's own PostgreSQL, as SRCNet's DM API serves it with `plugin=POSTGRES_JSON`.
plugins = {METADATA_PLUGIN}
postgres_service_host = {config.host}
postgres_service_port = {config.postgres_port}
postgres_db = {db_name}
postgres_user = {db_user}
postgres_password =
postgres_table = {METADATA_TABLE}
postgres_table_is_managed = False

[messaging-hermes]
send_email = False

[monitor]
enable_metrics = False

[api]
endpoints = accounts, auth, config, dids, identities, locks, ping, replicas, requests, rses, rules, scopes, meta_conventions, lifetime_exceptions

[client]
rucio_host = {url}
auth_host = {url}
auth_type = userpass
account = {ROOT_ACCOUNT}
username = {ROOT_USERNAME}
password = {root_password(config.state_dir)}
request_retries = 1
""")
    return cfg


def create_metadata_table(host: str, port: int, db_url: str) -> None:
    """The plugin's table, made once before any Rucio process starts.

    Rucio's plugin connects at import, in every process (server, daemons, seed); with
    `postgres_table_is_managed = False` it only checks the table, so concurrent starts
    never race on CREATE TABLE.
    """
    import psycopg

    user, dbname = db_url.split("://", 1)[1].split("@", 1)[0], db_url.rsplit("/", 1)[1]
    with psycopg.connect(host=host, port=port, dbname=dbname, user=user, connect_timeout=10) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {METADATA_TABLE} (id bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "
            "vo varchar NOT NULL, scope varchar NOT NULL, name varchar NOT NULL, "
            "data jsonb DEFAULT '{}'::jsonb, UNIQUE (scope, name))"
        )


def build_database_once(config: SandboxConfig) -> bool:
    """Create Rucio's schema, the base VO and the root account; once per state dir.

    Runs in-process: the caller must have set ``RUCIO_CONFIG`` before importing
    any Rucio module (Rucio reads its configuration at import time).
    """
    marker = rucio_dir(config.state_dir) / "database-built"
    if marker.exists():
        return False
    from rucio.db.sqla.util import build_database, create_base_vo, create_root_account

    # alembic's env.py calls logging.fileConfig, which replaces the root handlers
    # and disables every existing logger: put the sandbox's logging back after.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        build_database()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger in logging.Logger.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                logger.disabled = False
    create_base_vo()
    create_root_account()
    marker.write_text("ok\n")
    return True


class RucioServer:
    """The REST server as a gunicorn child process."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.rucio_port}"

    def spawn(self) -> None:
        """Start gunicorn without waiting (the caller seeds meanwhile; see :meth:`wait_ready`)."""
        if not self.config.rucio_port:
            self.config.rucio_port = free_port(self.config.host)
        env = dict(os.environ, RUCIO_CONFIG=str(config_path(self.config.state_dir)))
        log_file = open(rucio_dir(self.config.state_dir) / "server.log", "ab")
        self.proc = start_child(
            [
                sys.executable,
                "-m",
                "srcstage_jlab.sandbox.rucio_server",
                "--bind",
                f"{self.config.host}:{self.config.rucio_port}",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--worker-class",
                "gthread",
                "--preload",
                "--config",
                f"python:{__name__}",
                "--timeout",
                "120",
                "--keep-alive",
                str(KEEPALIVE_S),
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "rucio.web.rest.flaskapi.v1.main:application",
            ],
            env=env,
            stdout=log_file,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
        )
        log_file.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll ``GET /ping`` until the server answers."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"the Rucio server exited; see {rucio_dir(self.config.state_dir) / 'server.log'}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Rucio server did not answer /ping within {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM to gunicorn's process group (master and workers), SIGKILL fallback."""
        stop_child(self.proc, signal.SIGTERM, timeout=10)
        self.proc = None


def post_fork(server: object, worker: object) -> None:
    """gunicorn hook (this module is gunicorn's ``--config``): fresh DB connections per worker.

    With ``--preload`` the app is imported in the master, and Rucio may open pooled
    connections there; workers sharing one socket corrupt each other's results.
    """
    from rucio.db.sqla import session

    engine = getattr(session, "_ENGINE", None)
    if engine is not None:
        engine.dispose(close=False)
    # The metadata plugin holds one psycopg connection opened in the master: open the worker's own.
    from rucio.core import did_meta_plugins

    for plugin in did_meta_plugins.METADATA_PLUGIN_MODULES:
        if getattr(plugin, "client", None) is not None:
            plugin.__init__()


if __name__ == "__main__":
    # gunicorn, minus the slow optional import (see skip_slow_optional_imports).
    skip_slow_optional_imports()
    from gunicorn.app.wsgiapp import run

    sys.argv[0] = "gunicorn"
    sys.exit(run())
