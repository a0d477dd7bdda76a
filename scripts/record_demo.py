#!/usr/bin/env python
"""Record the README's screenshots: ``python scripts/record_demo.py``.

Starts a sandbox SRCNet, a signed-out ``jupyter lab`` against it and a headless Chromium, runs
the sidebar walkthrough of the browser tests (tests/browser/walkthrough.py: sign in with the
device flow, search, collect, stage for a day, read a staged file in a notebook) and writes
``docs/images/01-sign-in.png``, ``02-device-code.png``, ... Everything it starts is stopped
again by its PID, also on failure or Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import walkthrough  # noqa: E402
from tests.browser.conftest import Chromium, Shots, lab_server  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402


class DemoShots(Shots):
    """``NN-<name>.png`` in the light theme only (the tests also take the dark one)."""

    def __init__(self, directory: Path):
        super().__init__(directory, numbered=True, theme_suffix=False)

    async def __call__(self, page, name, *, themes=("light",), **kwargs):
        return await super().__call__(page, name, themes=("light",), **kwargs)


async def record(cdp_url: str, server, out: DemoShots) -> dict:
    async with walkthrough.open_page(cdp_url) as page:
        return await walkthrough.sidebar_flow(page, server, out, collection="obs-2026-0001 first look", lifetime_days=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images", help="where the PNGs go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("[0-9][0-9]-*.png"):
        old.unlink()  # a previous recording's numbering may differ

    t0 = time.monotonic()
    sandbox = server = browser = None
    with tempfile.TemporaryDirectory(prefix="srcstage-demo-") as tmp:
        work = Path(tmp)
        try:
            print("starting the sandbox SRCNet ...", flush=True)
            sandbox = start_sandbox(work / "sandbox" / "state")
            print("starting JupyterLab and Chromium ...", flush=True)
            server = lab_server(sandbox, work / "lab", signed_in=False)
            browser = Chromium(work / "chromium-profile").start()
            out = DemoShots(args.out)
            seen = asyncio.run(record(browser.cdp_url, server, out))
        finally:
            if browser:
                browser.stop()
            if server:
                server.stop()
            if sandbox:
                left = stop_sandbox(sandbox)
                if left:
                    print(f"warning: processes left by the sandbox (killed): {left}", file=sys.stderr)
    for path in out.saved:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    print(f"{len(out.saved)} screenshots of job {seen['job']['job_id']} in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
