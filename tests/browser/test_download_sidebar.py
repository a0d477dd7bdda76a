"""Download mode in the sidebar (issue #17 item 4): on a JupyterLab with no mount of the destination,
"Copy paths" on a completed job downloads its files, and the job card shows the download's files
and bytes while it runs (the DM slowed so that it lasts), then what it did. The card's pictures go to
the test's screenshot folder; docs/images/sidebar-download-*.png are copies of them."""

from __future__ import annotations

import re
import shutil
import time

import pytest
from playwright.async_api import expect

from srcstage_jlab.sandbox import seed
from tests.browser import walkthrough as w
from tests.browser.conftest import lab_server
from tests.sandbox.helpers import Control

pytestmark = pytest.mark.browser


@pytest.fixture
def download_server(sandbox, tmp_path):
    """A signed-in JupyterLab in download mode: no mount, files fetched over the sandbox's WebDAV."""
    server = lab_server(
        sandbox,
        tmp_path / "lab-download",
        signed_in=True,
        mounts={},
        access="download",
        download_dir=str(tmp_path / "downloads"),
        storage_ca_file=sandbox.storage_ca_file,
    )
    try:
        yield server
    finally:
        server.stop()


async def test_the_job_card_shows_a_download_while_it_runs(chromium, download_server, sandbox, tmp_path, shots):
    server = download_server
    observation = next(d for d in seed.catalogue().datasets if d.name == "obs-2026-0002")  # already at the hub
    dids = [f"{f.scope}:{f.name}" for f in observation.files]
    made = server.request("POST", "srcstage/collections", json={"name": f"download {time.time_ns()}", "dids": dids})
    assert made.status_code == 201, made.text
    staged = server.request("POST", f"srcstage/collections/{made.json()['id']}/stage", json={"lifetime": "1d"})
    assert staged.status_code == 202, staged.text
    job = server.wait_for_job(staged.json()["id"], timeout=120)
    assert job["phase"] == "completed", job
    control = Control(sandbox.control_url)
    errors: list[str] = []
    try:
        async with w.open_page(chromium.cdp_url, errors=errors) as page:
            await w.open_lab(page, server)
            await w.open_panel(page)
            card = page.locator(f'{w.tid("srcstage-job")}[data-job-id="{job["id"]}"]')
            await expect(card).to_have_attribute("data-phase", "completed")
            await card.scroll_into_view_if_needed()
            await expect(page.locator(w.tid("srcstage-read-files-why"))).to_have_count(0)
            await expect(card.locator(w.tid("srcstage-job-download"))).to_have_count(0)

            control.faults("data-management", latency_ms=1500)  # each file's token takes a while
            await card.locator(w.tid("srcstage-copy-paths")).click()
            bar = card.locator(w.tid("srcstage-job-download"))
            await expect(bar).to_have_attribute("data-running", "true")
            await expect(bar.locator(w.tid("srcstage-download-files"))).to_contain_text(f"of {len(dids)}")
            await expect(bar).to_contain_text(str(tmp_path / "downloads"))
            # The picture mid-way: some files in, the last one still waiting for its token.
            await expect(bar.locator(w.tid("srcstage-download-bytes"))).not_to_contain_text("0 B of")
            await card.screenshot(path=str(shots.directory / "sidebar-download-progress.png"))
            await shots(page, "download-running")

            await expect(bar).to_have_attribute("data-running", "false")
            control.reset_faults()
            await expect(bar.locator(w.tid("srcstage-download-files"))).to_contain_text(f"{len(dids)} of {len(dids)}")
            await expect(bar.locator(w.tid("srcstage-download-summary"))).to_have_text(
                "0 reused · 0 fetched again · 0 failed"
            )
            await card.screenshot(path=str(shots.directory / "sidebar-download-done.png"))
            await shots(page, "download-done")
            fetched = sorted(p.name for p in (tmp_path / "downloads").rglob("*") if p.is_file())
            assert fetched == sorted(f.name for f in observation.files)
            assert all(
                next((tmp_path / "downloads").rglob(f.name)).read_bytes() == f.content() for f in observation.files
            )

            # The same from a notebook cell, the files gone again: job.paths() downloads them, with a
            # bar in the job bar's style in the cell's output, and then says what it did.
            shutil.rmtree(tmp_path / "downloads")
            control.faults("data-management", latency_ms=1500)
            await w.new_notebook(page)
            cell = w.notebook(page).locator(".jp-CodeCell").first
            await w.type_in_cell(
                page,
                cell,
                f"import srcstage_jlab as srcstage\npaths = srcstage.job({job['id']!r}).paths()\n"
                "print(len(paths), 'paths; first:', open(paths[0]).readline().strip())",
            )
            output = await w.run_cell(page, cell)
            first = sorted(observation.files, key=lambda f: f.name)[0]
            await expect(output).to_contain_text(
                f"{len(dids)} paths; first: {first.content().decode().splitlines()[0]}", timeout=120_000
            )
            await expect(output.locator(".srcstage-wait-progress")).to_be_visible()
            n = len(dids)
            await expect(output.locator(".srcstage-wait-state")).to_have_text(
                re.compile(
                    rf"100%\s+{n}/{n} files\s+\S+ kB/\S+ kB\s+downloaded \(0 reused, 0 fetched again, 0 failed\)"
                )
            )
            await output.screenshot(path=str(shots.directory / "notebook-download-done.png"))
            assert "Bearer" not in await output.inner_text()
    finally:
        control.reset_faults()
        server.request("DELETE", f"srcstage/collections/{made.json()['id']}")
    assert not errors, errors
