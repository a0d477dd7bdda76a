"""The sidebar as a newcomer finds it at 1280x800 (issue #16): names told apart, focus after
keyboard creation, the cube over quota refused in the summary before any DID is created."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from srcstage_jlab.sandbox import config as cfg
from tests.browser import walkthrough as w
from tests.sandbox.helpers import RucioRoot

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}
TWO = ["ska-mid:obs-2026-0001.vis-01.csv", "ska-mid:obs-2026-0002.vis-01.csv"]


async def shown_text(locator) -> str:
    """What the eye sees of a cut name (the part hidden from screen readers)."""
    return (await locator.locator('[aria-hidden="true"]').first.inner_text()).strip()


async def test_newcomer_names_focus_and_quota(chromium, signed_in_server, sandbox, shots):
    errors: list[str] = []
    rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    try:
        async with w.open_page(chromium.cdp_url, viewport=VIEWPORT, errors=errors) as page:
            await w.open_lab(page, signed_in_server)
            await w.open_panel(page)
            assert await w.wait_signed_in(page) == "Demo Astronomer"

            # A namespace that cannot be one is refused at once, with the rule.
            await page.locator(w.tid("srcstage-namespace")).fill("ska mid")
            await page.locator(w.tid("srcstage-search")).click()
            refusal = page.locator(w.tid("srcstage-search-error"))
            await expect(refusal).to_contain_text("is not a namespace")
            await expect(refusal).to_contain_text("no spaces")

            # Two observation files that differ only in the middle read differently in the results.
            assert await w.search(page, "ska-mid", "obs-2026-000*", "file") >= 10
            rows = [w.result_row(page, did) for did in TWO]
            seen = [await shown_text(r.locator(".jp-SrcStage-resultName")) for r in rows]
            assert seen[0] != seen[1] and "0001" in seen[0] and "0002" in seen[1], seen
            assert [await r.locator(".jp-SrcStage-resultName").get_attribute("title") for r in rows] == TWO

            # New collection from the keyboard: the dialog closes, focus is on the new collection.
            await w.select_results(page, TWO)
            await page.locator(w.tid("srcstage-add-selected")).focus()
            await page.keyboard.press("Enter")
            dialog = page.locator(".jp-Dialog")
            await expect(dialog).to_be_visible()
            await page.keyboard.type("two observations")
            await page.keyboard.press("Enter")
            await expect(dialog).to_have_count(0)
            await expect(page.locator(w.tid("srcstage-collection-name"))).to_be_focused()

            entries = page.locator(w.tid("srcstage-entry"))
            await expect(entries).to_have_count(2)
            names = [await shown_text(entries.nth(i).locator(".jp-SrcStage-entryName")) for i in range(2)]
            assert names[0] != names[1] and not any(n.startswith("ska-mid:") for n in names), names
            await shots(page, "names-told-apart", themes=w.MAIN_VIEW)

            # The 80 MiB cube in a collection of its own: over the 64 MiB quota, refused in the summary.
            before = rucio.snapshot()
            await page.locator(w.tid("srcstage-collection-new")).click()
            await expect(dialog).to_be_visible()
            await dialog.locator("input").fill("big cube")
            await dialog.get_by_role("button", name="Create").click()
            await expect(dialog).to_have_count(0)
            assert await w.search(page, "ska-mid", "deep-field-cube", "dataset") == 1
            await w.select_results(page, ["ska-mid:deep-field-cube"])
            await w.add_selection_to_active(page, "big cube")
            await expect(page.locator(w.tid("srcstage-entry"))).to_have_count(1)
            summary = await w.open_stage_summary(page)
            assert summary["title"] == "“big cube” cannot be staged", summary
            assert "does not fit" in summary["facts"]["Your quota"], summary
            assert "on tape" in summary["facts"]["Now at"], summary
            problem = page.locator(f".jp-Dialog {w.tid('srcstage-problems')} li[data-code=over_quota]")
            await expect(problem).to_contain_text("Stage less, free space by releasing a staged copy")
            await expect(page.locator(".jp-Dialog").get_by_role("button", name="Stage")).to_have_count(0)
            await shots(page, "over-quota-summary", themes=w.MAIN_VIEW)
            await page.locator(".jp-Dialog").get_by_role("button", name="Close").click()
            after = rucio.snapshot()
    finally:
        rucio.close()
    new_dids = {s: after["dids"][s] - before["dids"][s] for s in after["dids"]}
    assert new_dids[cfg.DEMO_NAMESPACE] == set(), f"the refused cube created a DID: {new_dids}"
    assert after["rules"] == before["rules"]
    assert not errors, errors
