"""Fixtures of the browser tests: a sandbox, JupyterLab processes, Chromium and screenshots.

- ``sandbox`` is overridden here: the browser suite's sandbox seeds ``SCALE_FILES`` (10,000)
  files in ``ska-low``, so the virtualized result list is shown a real 10,000-row search.
- ``chromium`` (module scope) is Debian's Chromium, started headless by us with a fresh profile and
  a DevTools port; each test connects to it with Playwright's *async* API in its own event loop
  (pytest-jupyter closes the loop after every test, so a Playwright object cannot outlive a test)
  and opens a context of its own (:func:`tests.browser.walkthrough.open_page`).
- ``signed_out_server`` (per test) and ``signed_in_server`` (session) are ``jupyter lab`` processes
  (:class:`tests.server_plugin.JupyterProcess`) with the news toast silenced and
  ``window.jupyterapp`` exposed (for switching the theme). Each has its own work dir.
- ``shots`` saves PNGs under ``test-artifacts/screenshots/<test name>/``.

``scripts/record_demo.py`` reuses :class:`Chromium`, :func:`lab_server` and :class:`Shots`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_plugin import running_sandbox
from tests.server_plugin import JupyterProcess, demo_token_file, srcstage_config

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("SRCSTAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
SCALE_FILES = 10_000  # files in ska-low:scale-test in the browser suite's sandbox


# --- Chromium -------------------------------------------------------------------------------


class Chromium:
    """Headless Chromium in its own process group, reached over the DevTools protocol.

    Playwright refuses ``--user-data-dir`` in launch args, and a browser it launches belongs to one
    event loop; started by us, one browser serves several tests, each with its own loop.
    """

    def __init__(self, profile_dir: Path | None = None):
        self._own_profile = profile_dir is None
        self.profile_dir = Path(profile_dir or tempfile.mkdtemp(prefix="srcstage-chromium-"))
        self.proc: subprocess.Popen | None = None
        self.cdp_url = ""

    def start(self, timeout: float = 30) -> Chromium:
        if not Path(CHROMIUM).exists():
            raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.profile_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self.log_path = self.profile_dir.parent / f"{self.profile_dir.name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    CHROMIUM,
                    "--headless",
                    "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0",
                    f"--user-data-dir={self.profile_dir}",
                    *CHROMIUM_ARGS,
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited ({self.proc.returncode}): {self.log_path.read_text()[-2000:]}")
            text = port_file.read_text() if port_file.exists() else ""
            if text.strip():
                self.cdp_url = f"http://127.0.0.1:{text.split()[0]}"
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"chromium did not open its DevTools port: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        if self._own_profile:
            shutil.rmtree(self.profile_dir, ignore_errors=True)


# --- JupyterLab ------------------------------------------------------------------------------


def lab_server(sandbox: Any, workdir: Path, *, signed_in: bool, **overrides: Any) -> JupyterProcess:
    """A started ``jupyter lab`` against ``sandbox``: signed in through a token file, or signed out."""
    workdir.mkdir(parents=True, exist_ok=True)
    token_file = demo_token_file(sandbox, workdir) if signed_in else None
    server = JupyterProcess(
        workdir,
        srcstage_config(sandbox, workdir / "srcstage-state", token_file, **overrides),
        extra_env={"ACCESS_TOKEN": "", "REFRESH_TOKEN": ""},
    )
    # No "Jupyter news" toast over the screenshots.
    news = workdir / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    # window.jupyterapp: the tests switch the theme with JupyterLab's own command.
    config = json.loads(server.config_path.read_text())
    config["LabApp"] = {"expose_app_in_browser": True}
    server.config_path.write_text(json.dumps(config))
    return server.start()


# --- screenshots -------------------------------------------------------------------------------


class Shots:
    """Saves numbered screenshots: ``<dir>/<NN>-<name>[-<theme>].png``.

    ``await shots(page, "results", themes=("light", "dark"))`` takes one per theme, switching
    with JupyterLab's theme command and back to light.
    """

    def __init__(self, directory: Path, *, numbered: bool = True, theme_suffix: bool = True):
        self.directory = directory
        self.numbered = numbered
        self.theme_suffix = theme_suffix
        self.count = 0
        self.saved: list[Path] = []
        directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, name: str, theme: str) -> Path:
        stem = f"{self.count:02d}-{name}" if self.numbered else name
        if self.theme_suffix:
            stem += f"-{theme}"
        return self.directory / f"{stem}.png"

    async def __call__(
        self, page: Any, name: str, *, themes: tuple[str, ...] = ("light",), **kwargs: Any
    ) -> list[Path]:
        from tests.browser.walkthrough import set_theme

        self.count += 1
        taken = []
        for theme in themes:
            await set_theme(page, theme)
            path = self.path_for(name, theme)
            await page.screenshot(path=str(path), **kwargs)
            taken.append(path)
        if themes and themes[-1] != "light":
            await set_theme(page, "light")
        self.saved.extend(taken)
        return taken


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    """The browser suite's sandbox: the standard one, with 10,000 files in ska-low:scale-test."""
    yield from running_sandbox(tmp_path_factory.mktemp("sandbox-browser") / "state", "--scale-files", str(SCALE_FILES))


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    browser = Chromium(tmp_path_factory.mktemp("chromium") / "profile").start()
    try:
        yield browser
    finally:
        browser.stop()


@pytest.fixture
def signed_out_server(sandbox, tmp_path):
    """A JupyterLab whose user has not signed in to SRCNet (no token handed over)."""
    server = lab_server(sandbox, tmp_path / "lab-signed-out", signed_in=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def signed_in_server(sandbox, tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab signed in as ``demo`` through a hub-style token file."""
    server = lab_server(sandbox, tmp_path_factory.mktemp("lab-signed-in"), signed_in=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    directory = SCREENSHOTS / name
    shutil.rmtree(directory, ignore_errors=True)
    return Shots(directory)
