"""``srcstage run NOTEBOOK``: stage the data a notebook declares, wait, then execute it headless.

    python -m srcstage_jlab run analysis.ipynb --output analysis.out.ipynb --timeout 3600

1. Reads ``metadata.srcstage`` (see ``declared.py``); a malformed declaration stops here.
2. Talks to SRCNet through a Jupyter server with the srcstage_jlab extension: the one this
   process would find anyway (``$SRCSTAGE_SERVER_URL``, a hub's single-user server, Jupyter's
   runtime files), or else a private ``jupyter server`` started for this run on 127.0.0.1 with the
   user's own Jupyter configuration (``--config`` adds a file), so the token sources, the policy
   checks and the destination are the ones the server extension always uses, and no SRCNet token
   enters this process or the notebook's kernel.
3. Stages each declared collection that is not already at the destination and waits, with a
   progress line on stderr. A refusal or a failure ends the run (exit code 3) with SRCNet's reason,
   before any cell runs.
4. Executes the notebook with nbclient (its kernel reaches the same server, and
   ``srcstage.require()`` in a cell finds the notebook through ``$SRCSTAGE_NOTEBOOK``), and writes
   the executed notebook. A failing cell gives exit code 1 (the output is written all the same).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import client as api
from . import messages
from .declared import ENV_NOTEBOOK, declared_data, stage_declared

EXIT_CELL_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_STAGING = 3
SERVER_START_TIMEOUT_S = 90.0


def _say(text: str) -> None:
    print(f"srcstage: {text}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _private_server(root_dir: Path, config: Path | None):
    """A ``jupyter server`` with the extension for this run only, stopped by its PID at the end."""
    port, token = _free_port(), secrets.token_urlsafe(24)
    log = tempfile.NamedTemporaryFile(prefix="srcstage-run-server-", suffix=".log", delete=False)
    args = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.jpserver_extensions=srcstage_jlab=True",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    if config:
        args.append(f"--config={config}")
    # The token reaches the server through its command line, never this process's environment,
    # so the notebook's kernel (started by nbclient from our environment) does not inherit it.
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        client = api.connect(url, token)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise api.ServerNotFoundError(messages.RUN_SERVER_EXITED.format(proc=proc, log=log))
            try:
                client.session()
                break
            except (api.ServerNotFoundError, api.ServiceUnavailableError):
                if time.monotonic() > deadline:
                    raise api.ServerNotFoundError(
                        messages.RUN_SERVER_SILENT.format(timeout=SERVER_START_TIMEOUT_S, log=log)
                    ) from None
                time.sleep(0.3)
        _say(messages.RUN_SERVER_STARTED.format(url=url, log=log))
        yield client, url, token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@contextmanager
def _server(notebook: Path, server_url: str | None, server_token: str | None, config: Path | None):
    """The Jupyter server to stage through: the given one, the one found, or a private one."""
    if server_url:
        yield api.connect(server_url, server_token), server_url, server_token
        return
    try:
        client = api.connect()
        client.session()  # answers: it is there and has the extension
        yield client, client.url, client.token
        return
    except api.ServerNotFoundError:
        pass
    with _private_server(notebook.parent, config) as found:
        yield found


def _execute(notebook: Path, nb, output: Path, cell_timeout: float | None, kernel: str | None) -> int:
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    options = {"timeout": cell_timeout, "resources": {"metadata": {"path": str(notebook.parent)}}}
    if kernel:
        options["kernel_name"] = kernel
    code = 0
    try:
        nbclient.NotebookClient(nb, **options).execute()
    except CellExecutionError as err:
        _say(messages.RUN_CELL_FAILED.format(err=err))
        code = EXIT_CELL_FAILED
    nbformat.write(nb, str(output))
    _say(messages.RUN_WROTE.format(output=output))
    return code


def run(args: argparse.Namespace) -> int:
    import nbformat

    notebook = Path(args.notebook).resolve()
    try:
        nb = nbformat.read(str(notebook), as_version=4)
        declared = declared_data(nb)
    except (OSError, ValueError) as err:
        _say(messages.RUN_CANNOT_READ.format(notebook=notebook, err=err))
        return EXIT_BAD_INPUT
    except api.InvalidInputError as err:
        _say(str(err))
        return EXIT_BAD_INPUT
    output = Path(args.output).resolve() if args.output else notebook.with_suffix(".run.ipynb")
    config = Path(args.config).resolve() if args.config else None
    if not declared:
        _say(messages.RUN_NO_DATA_DECLARED.format(notebook=notebook))
    try:
        with _server(notebook, args.server_url, args.server_token, config) as (client, url, token):
            for collection in declared:
                _say(messages.RUN_COLLECTION_DIDS.format(name=collection.name, count=len(collection.dids)))
                paths = stage_declared(collection, timeout=args.timeout, progress=sys.stderr, client=client)
                _say(messages.RUN_COLLECTION_STAGED.format(name=collection.name, count=len(paths)))
            if args.no_execute:
                return 0
            # The kernel nbclient starts inherits our environment: point it to the same server.
            os.environ.update({api.ENV_URL: url, api.ENV_TOKEN: token or "", ENV_NOTEBOOK: str(notebook)})
            return _execute(notebook, nb, output, args.cell_timeout, args.kernel)
    except api.SrcStageError as err:
        _say(messages.RUN_STAGING_FAILED.format(notebook=notebook, err=err))
        return EXIT_STAGING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="srcstage", description="Stage the SRCNet data a notebook declares, then run it headless."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="stage a notebook's declared data, wait, then execute it")
    run_cmd.add_argument("notebook", help="the notebook (.ipynb) to run")
    run_cmd.add_argument("--output", "-o", help="where to write the executed notebook (default: NAME.run.ipynb)")
    run_cmd.add_argument("--timeout", type=float, default=None, help="seconds to wait for staging (default: no limit)")
    run_cmd.add_argument("--cell-timeout", type=float, default=None, help="seconds one cell may run (default: none)")
    run_cmd.add_argument("--kernel", help="kernel name (default: the notebook's own)")
    run_cmd.add_argument("--server-url", help="stage through this Jupyter server (base URL)")
    run_cmd.add_argument("--server-token", help="its Jupyter token (not an SRCNet token)")
    run_cmd.add_argument("--config", help="an extra Jupyter config file for the server started for this run")
    run_cmd.add_argument("--no-execute", action="store_true", help="stage and wait only")
    args = parser.parse_args(argv)
    if args.timeout is not None and not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
