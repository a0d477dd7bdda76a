"""axe-core over the sidebar in Chromium, light and dark (issue #14 item 4).

The sidebar is filled as a user fills it (signed in, a search with results, a collection
open, the stage summary dialog open) so the rules see its real controls, not an empty panel.
Keyboard use is checked too: the result list and the collection's entries take focus and
move with the arrow keys.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

import srcstage_jlab as srcstage
from tests.browser import axe
from tests.browser import walkthrough as w

pytestmark = pytest.mark.browser

SIDEBAR = "#srcstage-jlab-sidebar"
DIALOG = ".jp-Dialog-content"
FILES = ["ska-mid:obs-2026-0001.vis-01.csv", "ska-mid:obs-2026-0001.vis-02.csv"]


async def test_sidebar_has_no_serious_accessibility_violation_in_either_theme(chromium, signed_in_server):
    name = f"axe {uuid.uuid4().hex[:6]}"
    srcstage.connect(signed_in_server.url, signed_in_server.token)
    try:
        async with w.open_page(chromium.cdp_url) as page:
            await w.open_lab(page, signed_in_server)
            await w.open_panel(page)
            await w.wait_signed_in(page)
            assert await w.search(page, "ska-mid", "obs-2026-0001.vis-0*") >= 2
            await w.select_results(page, FILES)
            await w.new_collection_with_selection(page, name)

            # Keyboard: the results list is one tab stop whose active row follows the arrows.
            results = page.locator(w.tid("srcstage-results"))
            await w.result_row(page, FILES[0]).click()
            before = await results.get_attribute("aria-activedescendant")
            await page.keyboard.press("ArrowDown")
            after = await results.get_attribute("aria-activedescendant")
            assert before and after and before != after
            assert await page.locator(f"[id='{after}']").get_attribute("aria-selected") == "true"

            for theme in ("light", "dark"):
                await w.set_theme(page, theme)
                found = await axe.violations(page, SIDEBAR)
                axe.report(f"sidebar, {theme}", found)
                assert axe.serious(found) == [], f"sidebar, {theme} theme"

                await w.open_stage_summary(page)
                found = await axe.violations(page, DIALOG)
                axe.report(f"stage summary, {theme}", found)
                assert axe.serious(found) == [], f"stage summary dialog, {theme} theme"
                await page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
                await expect(page.locator(".jp-Dialog")).to_have_count(0)
            await w.set_theme(page, "light")
    finally:
        # Leave the shared server as found.
        for made in srcstage.collections():
            if made.name == name:
                made.delete()
