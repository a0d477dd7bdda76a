"""A real JupyterHub in front of the session's sandbox, started once per session.

The hub runs `deploy/jupyterhub_config.py` (the reference deployment) unchanged, configured
through its environment: GenericOAuthenticator against the sandbox's IAM stand-in, auth state
encrypted with a fresh JUPYTERHUB_CRYPT_KEY, configurable-http-proxy from npm, and
SimpleLocalProcessSpawner servers (one home per user under the session's temp dir) on 127.0.0.1.
Tokens are short-lived here (HUB_TOKEN_LIFETIME_S), so the hub refreshes them during a test.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.sandbox.helpers import Control
from tests.server_plugin import free_port, srcstage_config

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "deploy" / "jupyterhub_config.py"
CHP = REPO / ".venv" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
HUB_TOKEN_LIFETIME_S = 8  # access tokens (login and exchanged) while the hub tests run
SERVER_MARGIN_S = 3  # the servers renew a token with less than this left...
HUB_REFRESH_MARGIN_S = 5  # ...and the hub refreshes the pair when asked with less than this left
HUB_AUTH_REFRESH_AGE_S = 1


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.hub)


def _stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# Package scope: torn down (and the sandbox's token lifetime restored) right after the hub tests,
# so the tests collected after them never see the hub's short tokens.
@pytest.fixture(scope="package")
def hub(sandbox, tmp_path_factory):
    """The running hub: `.url`, `.log_path`, `.homes`, `.control`, `.api(path)` (admin token)."""
    if not CHP.exists():
        pytest.fail(f"{CHP} is missing: run `bash scripts/install.sh --test` (installs configurable-http-proxy)")
    workdir = tmp_path_factory.mktemp("hub")
    homes = workdir / "homes"
    homes.mkdir()
    for username in ("demo", "bob"):  # no "Jupyter news" toast over the screenshots
        news = homes / username / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    control = Control(sandbox.control_url)
    control.token_lifetime(HUB_TOKEN_LIFETIME_S)
    server_config = workdir / "srcstage_server_config.json"
    srcstage = srcstage_config(sandbox, workdir / "unused", None, token_refresh_margin=SERVER_MARGIN_S)
    del srcstage["state_dir"], srcstage["token_file"]  # per user: under their own home
    server_config.write_text(
        json.dumps(
            {"SrcStage": srcstage, "LabApp": {"expose_app_in_browser": True}, "ServerApp": {"log_level": "INFO"}}
        )
    )
    port, admin_token = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
        "OAUTH_CLIENT_ID": sandbox.oidc["client_id"],
        "OAUTH_CLIENT_SECRET": sandbox.oidc["client_secret"],
        "OAUTH_CALLBACK_URL": f"{url}/hub/oauth_callback",
        "SRCSTAGE_IAM_URL": sandbox.auth_api_url,
        "SRCSTAGE_LOGIN_SERVICE": "SRCNet sandbox IAM",
        "SRCSTAGE_HUB_URL": url,
        "SRCSTAGE_HUB_API_PORT": str(free_port()),
        "SRCSTAGE_PROXY_API_URL": f"http://127.0.0.1:{free_port()}",
        "SRCSTAGE_CHP": str(CHP),
        "SRCSTAGE_HUB_DIR": str(workdir),
        "SRCSTAGE_HUB_HOMES": str(homes),
        "SRCSTAGE_SERVER_CONFIG": str(server_config),
        "SRCSTAGE_HUB_AUTH_REFRESH_AGE": str(HUB_AUTH_REFRESH_AGE_S),
        "SRCSTAGE_HUB_REFRESH_MARGIN": str(HUB_REFRESH_MARGIN_S),
        "ACCESS_TOKEN": "",
        "REFRESH_TOKEN": "",
        "JUPYTERHUB_API_TOKEN": "",
    }
    # An admin service token for the tests' own look at the hub (users, servers); not the servers'.
    extra = workdir / "test_services.py"
    extra.write_text(
        "import os\n"
        "c.JupyterHub.services = [{'name': 'tests', 'api_token': os.environ['SRCSTAGE_TEST_ADMIN_TOKEN']}]\n"
        "c.JupyterHub.load_roles.append({'name': 'tests', 'scopes': ['admin:users', 'admin:servers'],"
        " 'services': ['tests']})\n"
    )
    env["SRCSTAGE_TEST_ADMIN_TOKEN"] = admin_token
    combined = workdir / "jupyterhub_config.py"
    combined.write_text(HUB_CONFIG.read_text() + "\n" + extra.read_text())
    log_path = workdir / "jupyterhub.log"
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(combined)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while True:
            if proc.poll() is not None or time.monotonic() - t0 > 90:
                pytest.fail(f"JupyterHub did not start; log tail:\n{log_path.read_text(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"{url}/hub/api", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        print(f"JupyterHub started in {time.monotonic() - t0:.1f} s", file=sys.__stderr__, flush=True)

        def api(method: str, path: str, **kwargs) -> httpx.Response:
            return httpx.request(
                method, f"{url}/hub/api/{path}", headers={"Authorization": f"token {admin_token}"}, timeout=60, **kwargs
            )

        yield SimpleNamespace(url=url, log_path=log_path, homes=homes, control=control, api=api, process=proc)
    finally:
        _stop_group(proc)
        control.token_lifetime(3600)  # the rest of the session's tests expect the default
