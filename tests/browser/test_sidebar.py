"""The SRCNet staging sidebar in Chromium, against a real JupyterLab and the sandbox (issue #4).

Screenshots land in ``test-artifacts/screenshots/<test name>/`` (the panel's main views in the
light and the dark theme).
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.async_api import expect

from srcstage_jlab.sandbox import config as cfg
from srcstage_jlab.sandbox import seed
from tests.browser import walkthrough as w
from tests.browser.conftest import SCALE_FILES, lab_server
from tests.sandbox.helpers import RucioRoot

pytestmark = pytest.mark.browser

STAGED = w.OBS_FILES  # ska-mid:obs-2026-0001.vis-01..03.csv: on tape only, so staging takes a recall


def format_bytes(n: int) -> str:
    """src/units.ts formatBytes, for the expected text."""
    if n < 1000:
        return f"{n} B"
    units, value, unit = ["B", "kB", "MB", "GB", "TB"], float(n), 0
    while value >= 999.5 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    text = f"{value:.{0 if value >= 100 else 1 if value >= 10 else 2}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {units[unit]}"


def sample_files(dids: list[str]) -> dict[str, seed.SampleFile]:
    wanted = set(dids)
    return {
        f"{f.scope}:{f.name}": f
        for ds in seed.catalogue().datasets
        for f in ds.files
        if f"{f.scope}:{f.name}" in wanted
    }


async def test_sidebar_flow(chromium, signed_out_server, sandbox, shots):
    """Sign in with the device flow, find, collect, stage for a day, and read a staged file in a notebook."""
    errors: list[str] = []
    files = sample_files(STAGED)
    async with w.open_page(chromium.cdp_url, errors=errors) as page:
        seen = await w.sidebar_flow(
            page, signed_out_server, shots, collection="obs-0001 first look", files=STAGED, lifetime_days=1
        )
        tomorrow = await page.evaluate(
            """() => new Date(Date.now() + 86400e3).toLocaleDateString(undefined,
                   {year: 'numeric', month: 'short', day: 'numeric'})"""
        )

    # Signed in through the device flow, as demo.
    sign_in = seen["sign_in"]
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", sign_in["code"]), sign_in
    assert sign_in["entered"] == sign_in["code"], "the verification link did not carry the panel's code"
    assert f"Login {sign_in['code']} approved as demo" in sign_in["approved"]
    assert sign_in["who"] == "Demo Astronomer"
    assert seen["destination"].startswith(sandbox.local_area["name"])  # SANDBOX_LOCAL

    # Search, multi-select, collect.
    assert seen["results"] == 5 and seen["result_dids"] == [
        f"ska-mid:obs-2026-0001.vis-{k:02d}.csv" for k in range(1, 6)
    ]
    assert seen["selected"] == STAGED
    assert seen["entries"] == STAGED
    assert seen["totals"].startswith("3 DIDs"), seen["totals"]
    assert "at most 30 days" in seen["lifetime_hint"]

    # The summary before staging.
    summary = seen["summary"]
    facts = summary["facts"]
    assert summary["title"] == "Stage “obs-0001 first look”?"
    assert facts["Destination"].startswith("SANDBOX_LOCAL"), facts
    assert facts["Kept for"] == "1 day", facts
    assert facts["Until"].startswith(tomorrow), (facts, tomorrow)

    # Progress, completion, toast.
    job = seen["job"]
    assert job["phase_seen"] in ("active", "completed") and job["progress_seen"], job
    assert job["progress_done"] == "3 of 3" and job["state"] == "COMPLETED", job
    assert job["toast"].startswith("Staging of “obs-0001 first look” completed."), job

    # The inserted cell runs, and a staged CSV reads back as the sandbox wrote it.
    notebook = seen["notebook"]
    assert f'srcstage.job("{job["job_id"]}")' in notebook["source"]
    assert notebook["paths_output"].startswith("3 files staged, e.g. " + sandbox.local_area["directory"]), notebook
    first = files[STAGED[0]].content().decode()
    assert notebook["read_output"].startswith("obs-2026-0001.vis-01.csv\n"), notebook["read_output"]
    assert "# ska-mid:obs-2026-0001 product 1 of 5 (SKA-Mid, sandbox data)" in notebook["read_output"]
    assert "time_s,frequency_mhz,baseline_m,amplitude_jy,phase_deg,flag" in notebook["read_output"]
    assert notebook["read_output"].splitlines()[1:4] == first.splitlines()[:3]

    assert not errors, f"uncaught errors in the page: {errors}"
    assert any(p.name.endswith("-dark.png") for p in shots.saved)
    # Last, so that everything above is checked either way: the summary must say what is staged.
    assert (facts["Files"], facts["Size"]) == ("3", format_bytes(sum(f.size for f in files.values()))), (
        f"the stage summary does not say how many files and bytes: {facts}"
    )


@pytest.fixture
def generous_cap_server(sandbox, tmp_path):
    """A JupyterLab whose own cap (90 days) is above the DM API's (the sandbox's 30 days)."""
    server = lab_server(sandbox, tmp_path / "lab-90d", signed_in=True, max_lifetime="90d")
    try:
        yield server
    finally:
        server.stop()


async def test_refused_stage_explains_and_creates_nothing(chromium, generous_cap_server, sandbox, shots):
    """Over the server's cap the panel refuses at once; over the DM API's cap the DM API refuses
    and the panel shows why. Neither creates a job nor a Rucio rule."""
    server = generous_cap_server
    assert sandbox.max_stage_lifetime_s == 30 * 86400
    rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    errors: list[str] = []
    picked = ["ska-mid:obs-2026-0002.vis-01.csv", "ska-mid:obs-2026-0002.vis-02.csv"]
    try:
        async with w.open_page(chromium.cdp_url, errors=errors) as page:
            await w.open_lab(page, server)
            await w.open_panel(page)
            assert await w.wait_signed_in(page) == "Demo Astronomer"
            assert await w.search(page, "ska-mid", "obs-2026-0002*", "file") == 5
            await w.select_results(page, picked)
            assert await w.new_collection_with_selection(page, "too long a stay") == picked
            jobs_before = server.get("srcstage/jobs").json()["jobs"]
            rucio_before = rucio.snapshot()

            # 1. Beyond this server's cap: the panel says so and will not stage.
            hint = await w.set_lifetime(page, 120, "days")
            assert hint == "The longest lifetime allowed is 90 days.", hint
            stage = page.locator(w.tid("srcstage-stage"))
            await expect(stage).to_be_disabled()
            await expect(page.locator(w.tid("srcstage-lifetime-value"))).to_have_attribute("aria-invalid", "true")
            await page.locator(w.tid("srcstage-stage-panel")).scroll_into_view_if_needed()
            await shots(page, "over-server-cap", themes=w.MAIN_VIEW)

            # 2. Within it but beyond the DM API's 30 days: SRCNet refuses; the panel shows its words.
            hint = await w.set_lifetime(page, 60, "days")
            assert hint.startswith("Default 1 week, at most 90 days"), hint
            await expect(stage).to_be_enabled()
            summary = await w.open_stage_summary(page)
            assert summary["facts"]["Kept for"] == "60 days", summary
            await w.confirm_stage(page)
            refusal = page.locator(w.tid("srcstage-stage-error"))
            await expect(refusal).to_be_visible()
            await refusal.scroll_into_view_if_needed()
            await shots(page, "refused-by-dm", themes=w.MAIN_VIEW)
            text = await refusal.inner_text()
            await expect(page.locator(w.tid("srcstage-stage-result"))).to_have_count(0)
            await expect(page.locator(w.tid("srcstage-jobs-empty"))).to_be_visible()
    finally:
        jobs_after = server.get("srcstage/jobs").json()["jobs"]
        rucio_after = rucio.snapshot()
        rucio.close()

    assert "The request was refused" in text
    assert "SRCNet (data-management) said:" in text
    assert "exceeds the maximum staging lifetime of 2592000 s (30 days)" in text, text
    assert "5184000 s (60 days)" in text, text
    assert jobs_after == jobs_before == [], jobs_after
    assert rucio_after["rules"] == rucio_before["rules"], "a refused stage created a Rucio rule"
    # Staging submits the collection first (idempotent), so its DID may exist; nothing else does.
    new_dids = {s: rucio_after["dids"][s] - rucio_before["dids"][s] for s in rucio_after["dids"]}
    assert new_dids[cfg.OBSERVATIONS_NAMESPACE] == set(), new_dids
    assert new_dids[cfg.DEMO_NAMESPACE] <= {"too-long-a-stay"}, new_dids
    assert not errors, f"uncaught errors in the page: {errors}"


async def test_ten_thousand_rows_scroll(chromium, signed_in_server, shots):
    """10,000 results (all files of ska-low): scroll to the end; only a window of rows is in the DOM."""
    errors: list[str] = []
    async with w.open_page(chromium.cdp_url, errors=errors) as page:
        await w.open_lab(page, signed_in_server)
        await w.open_panel(page)
        await w.wait_signed_in(page)
        started = datetime.now()
        count = await w.search(page, "ska-low", "scale-*", "file")
        search_s = (datetime.now() - started).total_seconds()
        assert count == SCALE_FILES == 10_000
        count_text = await page.locator(w.tid("srcstage-results-count")).inner_text()
        assert count_text == "10,000 results", count_text  # all of them, not "only the first ..."

        results = page.locator(w.tid("srcstage-results"))
        rows = page.locator(w.tid("srcstage-result"))
        first_window = await rows.count()
        assert 0 < first_window < 60, first_window
        await expect(w.result_row(page, "ska-low:scale-00001.txt")).to_be_visible()

        # The mouse wheel scrolls it and the window follows.
        await results.scroll_into_view_if_needed()
        await results.hover()
        for _ in range(5):
            await page.mouse.wheel(0, 2000)
        await page.wait_for_function("el => el.scrollTop >= 9000", arg=await results.element_handle())
        await expect(w.result_row(page, "ska-low:scale-00001.txt")).to_have_count(0)

        # Then to the very end.
        await results.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        last = w.result_row(page, "ska-low:scale-10000.txt")
        await expect(last).to_be_visible()
        await w.settle(page)
        geometry = await results.evaluate(
            """el => { const last = el.querySelector('[data-did="ska-low:scale-10000.txt"]').getBoundingClientRect();
                       const box = el.getBoundingClientRect();
                       return {scrollTop: el.scrollTop, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight,
                               lastTop: last.top - box.top, lastBottom: last.bottom - box.top,
                               rendered: Number(el.dataset.renderedRows)}; }"""
        )
        in_dom = await rows.count()
        await shots(page, "ten-thousand-rows-end", themes=w.MAIN_VIEW)

    assert geometry["scrollHeight"] >= 10_000 * 40, geometry  # the whole list's height is there
    assert geometry["scrollTop"] + geometry["clientHeight"] >= geometry["scrollHeight"] - 1, geometry
    assert 0 <= geometry["lastTop"] and geometry["lastBottom"] <= geometry["clientHeight"] + 1, geometry
    assert in_dom == geometry["rendered"] and in_dom < 60, (in_dom, geometry)
    assert search_s < 60, search_s
    assert not errors, f"uncaught errors in the page: {errors}"


async def test_where_shows_science_details(chromium, signed_in_server, shots):
    """'where?' on a result also shows its science metadata, fetched through /srcstage/metadata."""
    did = f"{cfg.OBSERVATIONS_NAMESPACE}:obs-2026-0002.vis-01.csv"
    expected = seed.science_metadata()[did]
    errors: list[str] = []
    async with w.open_page(chromium.cdp_url, errors=errors) as page:
        await w.open_lab(page, signed_in_server)
        await w.open_panel(page)
        await w.wait_signed_in(page)
        await w.search(page, cfg.OBSERVATIONS_NAMESPACE, "obs-2026-0002*", "file")
        await w.result_row(page, did).locator(w.tid("srcstage-locate")).click()
        details = page.locator(w.tid("srcstage-details"))
        await expect(details).to_contain_text(expected["obs_id"])
        await expect(details).to_contain_text(expected["target_name"])
        await details.scroll_into_view_if_needed()
        await w.settle(page)
        await shots(page, "science-details", themes=w.MAIN_VIEW)
    assert not errors, f"uncaught errors in the page: {errors}"
