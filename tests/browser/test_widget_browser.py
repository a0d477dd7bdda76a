"""The ipywidgets panel (``srcstage.widget()``) in a notebook in Chromium, staging for real (issue #5)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from tests.browser import walkthrough as w

pytestmark = pytest.mark.browser

PICKED = ["ska-mid:obs-2026-0001.vis-04.csv", "ska-mid:obs-2026-0001.vis-05.csv"]  # on tape only


async def test_widget_stage_in_browser(chromium, signed_in_server, shots):
    server = signed_in_server
    name = f"widget-{time.time_ns()}"
    errors: list[str] = []
    async with w.open_page(chromium.cdp_url, errors=errors) as page:
        await w.open_lab(page, server)
        await w.new_notebook(page)
        cell = w.notebook(page).locator(".jp-CodeCell").first
        await w.type_in_cell(page, cell, "import srcstage_jlab as srcstage\nsrcstage.widget()")
        await w.run_cell(page, cell)
        panel = cell.locator(".srcstage-panel")
        await expect(panel).to_be_visible()
        await expect(panel.locator(".srcstage-header")).to_contain_text("signed in as Demo Astronomer")
        await expect(panel.locator(".srcstage-namespace select")).to_have_value(re.compile(".+"))

        # Search.
        await panel.locator(".srcstage-namespace select").select_option(label="ska-mid")
        await panel.locator(".srcstage-name-pattern input").fill("obs-2026-0001*")
        await panel.locator(".srcstage-type select").select_option(label="file")
        await panel.locator(".srcstage-search-button").click()
        await expect(panel.locator(".srcstage-info")).to_contain_text("5 DIDs found.")
        options = panel.locator(".srcstage-results select option")
        await expect(options).to_have_count(5)
        labels = await options.all_inner_texts()

        # Select two, add them to a new collection.
        wanted = [label for label in labels if label.split()[0] in PICKED]
        assert len(wanted) == 2, labels
        await panel.locator(".srcstage-collection-name input").fill(name)
        await panel.locator(".srcstage-results select").select_option(label=wanted)
        await panel.locator(".srcstage-add-button").click()
        await expect(panel.locator(".srcstage-info")).to_contain_text(f"Added 2 DIDs to '{name}'.")
        dids = panel.locator(".srcstage-collection-dids select option")
        await expect(dids).to_have_count(2)
        collection_dids = [t.split()[0] for t in await dids.all_inner_texts()]

        # Lifetime 2 days, Stage, watch the bar fill.
        lifetime = panel.locator(".srcstage-lifetime-value input")
        await lifetime.fill("2")
        await lifetime.press("Tab")
        await panel.locator(".srcstage-lifetime-unit select").select_option(label="days")
        await panel.scroll_into_view_if_needed()
        await shots(page, "widget-ready", themes=w.MAIN_VIEW)
        await panel.locator(".srcstage-stage-button").click()
        bar = panel.locator(".srcstage-progress .progress-bar")
        await expect(panel.locator(".srcstage-state")).to_contain_text("job")
        await expect(bar).to_have_class(re.compile(r"progress-bar-success"))
        await expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
        await expect(panel.locator(".srcstage-info")).to_contain_text("Staged 2 files; read them from:")
        state = (await panel.locator(".srcstage-state").inner_text()).strip()
        info = (await panel.locator(".srcstage-info").inner_text()).strip()
        error = (await panel.locator(".srcstage-error").inner_text()).strip()
        await panel.scroll_into_view_if_needed()
        await shots(page, "widget-completed", themes=w.MAIN_VIEW)

    assert collection_dids == PICKED
    assert re.match(r"100%\s+2/2 files\s+.*COMPLETED", state), state
    assert error == "", error
    jobs = [j for j in server.get("srcstage/jobs").json()["jobs"] if j.get("collection_name") == name]
    assert len(jobs) == 1 and jobs[0]["phase"] == "completed", jobs
    assert jobs[0]["id"] in state and jobs[0]["id"] in info
    expires = datetime.fromisoformat(jobs[0]["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=2))) < timedelta(minutes=10), expires
    assert not errors, f"uncaught errors in the page: {errors}"
