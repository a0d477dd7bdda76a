"""Fixtures for a real Jupyter server with srcstage_jlab, pointed at the sandbox.

- `jp_server_config` configures pytest-jupyter's in-process server (for `jp_fetch`).
- `JupyterProcess` / `srcstage_server` run `jupyter lab` as a separate process, the way a
  kernel or a browser meets it; tests that restart a server use it too.
The user's first SRCNet token is handed over in a token file, the way a JupyterHub would.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sandbox.helpers import Control


def demo_token_file(sandbox: Any, directory: Path, username: str = "demo") -> Path:
    """A token file holding a fresh pair for `username`, as a hub would write it."""
    pair = Control(sandbox.control_url).user_tokens(username)
    path = directory / f"{username}-token.json"
    path.write_text(json.dumps({"access_token": pair["access_token"], "refresh_token": pair["refresh_token"]}))
    path.chmod(0o600)
    return path


def srcstage_config(sandbox: Any, state_dir: Path, token_file: Path | None, **overrides: Any) -> dict:
    """`c.SrcStage` settings for a server that uses the sandbox as SRCNet."""
    config = {
        "auth_api_url": sandbox.auth_api_url,
        "site_capabilities_api_url": sandbox.site_capabilities_api_url,
        "data_management_api_url": sandbox.data_management_api_url,
        "token_file": str(token_file) if token_file else "",
        "jupyterhub_host": sandbox.jupyterhub_host,
        "mounts": {sandbox.local_area["name"]: sandbox.local_area["directory"]},
        "state_dir": str(state_dir),
        "max_lifetime": f"{sandbox.max_stage_lifetime_s}s",
        "poll_interval": 0.3,
        "max_poll_interval": 2.0,
        # Unwatched jobs back off less than by default, so a test that reads a job only at the end
        # (or a file) waits seconds, not minutes; watching is tested in tests/unit.
        "idle_poll_interval": 5.0,
        "request_timeout": 10.0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def srcstage_overrides() -> dict:
    """Override in a test module to change `c.SrcStage` settings of the in-process server."""
    return {}


@pytest.fixture
def srcstage_state_dir(tmp_path) -> Path:
    return tmp_path / "srcstage-state"


@pytest.fixture
def jp_server_config(sandbox, tmp_path, srcstage_state_dir, srcstage_overrides):
    token_file = demo_token_file(sandbox, tmp_path)
    return {
        "ServerApp": {"jpserver_extensions": {"srcstage_jlab": True}, "allow_unauthenticated_access": False},
        "SrcStage": srcstage_config(sandbox, srcstage_state_dir, token_file, **srcstage_overrides),
    }


@pytest.fixture
def api(jp_fetch):
    """`await api("GET", "collections")` -> (status, decoded JSON or None), errors included."""

    async def call(method: str, path: str, body: Any = None, **params: Any):
        from tornado.httpclient import HTTPClientError

        kwargs: dict[str, Any] = {
            "method": method,
            "params": params or None,
            "allow_nonstandard_methods": True,
            "request_timeout": 120,  # a pre-check of a few thousand files takes longer than tornado's 20 s
        }
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        try:
            response = await jp_fetch("srcstage", *path.split("/"), **kwargs)
        except HTTPClientError as err:
            response = err.response
        text = response.body.decode() if response.body else ""
        call.log.append((method, path, response.code, text))
        return response.code, (json.loads(text) if text else None)

    call.log = []
    return call


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterProcess:
    """`jupyter lab` with srcstage_jlab in its own process, on 127.0.0.1, stopped by its PID."""

    def __init__(self, workdir: Path, srcstage: dict, *, extra_env: dict | None = None, log_level: str = "INFO"):
        self.workdir = workdir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / f"jupyter-{self.port}.log"
        (workdir / "notebooks").mkdir(parents=True, exist_ok=True)
        config = {
            "ServerApp": {
                "jpserver_extensions": {"srcstage_jlab": True},
                "ip": "127.0.0.1",
                "port": self.port,
                "port_retries": 0,
                "open_browser": False,
                "allow_root": True,
                "root_dir": str(workdir / "notebooks"),
                "allow_unauthenticated_access": False,
                "log_level": log_level,
            },
            "IdentityProvider": {"token": self.token},
            "SrcStage": srcstage,
        }
        self.config_path = workdir / f"jupyter_config_{self.port}.json"
        self.config_path.write_text(json.dumps(config))
        self.env = {
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(workdir / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "lab-workspaces"),
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> JupyterProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", f"--config={self.config_path}", "--no-browser"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {self.log_path.read_text()[-3000:]}")
            try:
                if self.get("srcstage/config").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not start: {self.log_path.read_text()[-3000:]}")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def wait_for_job(self, job_id: str, timeout: float = 90) -> dict:
        """The job once it has completed or failed (as the server's tracker saw it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"srcstage/jobs/{job_id}").json()
            if job["phase"] in ("completed", "failed"):
                return job
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} still {job['phase']} after {timeout} s: {job}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


def running_server(sandbox: Any, workdir: Path):
    """`jupyter lab` against `sandbox`, signed in as the demo user through a token file; stopped after."""
    token_file = demo_token_file(sandbox, workdir)
    server = JupyterProcess(workdir, srcstage_config(sandbox, workdir / "srcstage-state", token_file))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def srcstage_server(sandbox, tmp_path_factory):
    """One `jupyter lab` process for the session, signed in as the demo user through a token file."""
    yield from running_server(sandbox, tmp_path_factory.mktemp("jupyter"))
