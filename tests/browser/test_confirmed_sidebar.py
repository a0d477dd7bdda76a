"""The sidebar's stage-and-complete path on a DM that serves only the public contract (issue #10).

The confirmed-profile DM serves no search: the collection is imported (as a user would share it),
then staged from the sidebar; the job completes from what `locate` finds at the destination,
under the DM's own state word, and its files are readable.
"""

from __future__ import annotations

import os
import time

import pytest
from playwright.async_api import expect

from srcstage_jlab.sandbox.data_management import CONFIRMED_STATES
from tests.browser import walkthrough as w
from tests.browser.conftest import lab_server

pytestmark = pytest.mark.browser

DIDS = ["ska-mid:obs-2026-0001.vis-05.csv", "ska-mid:obs-2026-0003", "ska-low:scale-test-001"]


@pytest.fixture
def confirmed_lab(confirmed_sandbox, tmp_path):
    server = lab_server(confirmed_sandbox, tmp_path / "lab-confirmed", signed_in=True)
    try:
        yield server
    finally:
        server.stop()


async def test_sidebar_stages_to_completion_on_the_confirmed_contract(chromium, confirmed_lab, shots):
    server = confirmed_lab
    name = f"confirmed sidebar {time.time_ns() % 100000}"
    doc = {"format": "srcstage-collection/1", "name": name, "dids": DIDS}
    imported = server.request("POST", "srcstage/collections/import", json=doc)
    assert imported.status_code == 201, imported.text
    collection_id = imported.json()["id"]
    errors: list[str] = []
    async with w.open_page(chromium.cdp_url, errors=errors) as page:
        await w.open_lab(page, server)
        await w.open_panel(page)
        assert await w.wait_signed_in(page) == "Demo Astronomer"
        await page.locator(w.tid("srcstage-collection-select")).select_option(collection_id)
        await expect(page.locator(w.tid("srcstage-collection-name"))).to_have_text(name)
        await w.set_lifetime(page, 1, "days")
        summary = await w.open_stage_summary(page)
        assert summary["facts"]["Kept for"] == "1 day", summary
        await w.confirm_stage(page)
        job = await w.follow_job(page, shots, name)
        assert job["state"] in CONFIRMED_STATES.values(), job  # the DM's own word, verbatim
        # The server learnt the DM serves no collection routes: Submit says why it is off.
        submit = page.locator(w.tid("srcstage-submit"))
        await expect(submit).to_be_disabled()
        assert "Stage instead" in (await submit.get_attribute("title"))
        await expect(page.locator(w.tid("srcstage-submitted"))).to_contain_text("collection of 3 DIDs in user.demo")
        # Nor extend or release: the job card hides them and says why, in one line.
        card = page.locator(f'{w.tid("srcstage-job")}[data-job-id="{job["job_id"]}"]')
        await expect(card.locator(w.tid("srcstage-job-actions-why"))).to_contain_text("does not serve them")
        await expect(card.locator(w.tid("srcstage-job-extend"))).to_have_count(0)
        await expect(card.locator(w.tid("srcstage-job-release"))).to_have_count(0)
    assert not errors, errors
    paths = server.get(f"srcstage/jobs/{job['job_id']}/paths").json()
    assert paths["missing"] == 0 and len(paths["paths"]) == 1 + 4 + 40, paths
    assert all(os.path.getsize(p["path"]) > 0 for p in paths["paths"])
