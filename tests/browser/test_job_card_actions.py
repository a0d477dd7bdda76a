"""Job actions from the sidebar's job card (issue #15): Extend asks for a lifetime and the copy's
rule in Rucio is kept that long from now; Release asks first, then the card says 'released' and
the rule is gone from Rucio."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.async_api import expect

from srcstage_jlab.sandbox.data_management import rucio_time
from tests.browser import walkthrough as w
from tests.sandbox.helpers import RucioRoot, service_token

pytestmark = pytest.mark.browser


def rule_ids(sandbox, job_id: str) -> list[str]:
    answer = httpx.get(
        f"{sandbox.data_management_api_url}/data/stage/{job_id}",
        headers={"Authorization": f"Bearer {service_token(sandbox, 'data-management-api')}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["rule_ids"]


async def test_extend_and_release_from_the_job_card(chromium, signed_in_server, sandbox, shots):
    server = signed_in_server
    found = server.get("srcstage/dids", params={"namespace": "ska-low", "name": "scale-0013*", "type": "file"})
    dids = [item["did"] for item in found.json()["items"][:2]]
    made = server.request("POST", "srcstage/collections", json={"name": f"card actions {time.time_ns()}", "dids": dids})
    assert made.status_code == 201, made.text
    collection = made.json()
    staged = server.request("POST", f"srcstage/collections/{collection['id']}/stage", json={"lifetime": "1d"})
    assert staged.status_code == 202, staged.text
    job = server.wait_for_job(staged.json()["id"], timeout=120)
    assert job["phase"] == "completed", job
    rules = rule_ids(sandbox, job["id"])
    assert rules, "the DM names no rule for the job"
    rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    errors: list[str] = []
    try:
        async with w.open_page(chromium.cdp_url, errors=errors) as page:
            await w.open_lab(page, server)
            await w.open_panel(page)
            card = page.locator(f'{w.tid("srcstage-job")}[data-job-id="{job["id"]}"]')
            await expect(card).to_have_attribute("data-phase", "completed")
            await card.scroll_into_view_if_needed()
            await expect(card.locator(w.tid("srcstage-job-actions-why"))).to_have_count(0)

            # Extend: a dialog asks how long from now; Rucio's rule is then kept about that long.
            await card.locator(w.tid("srcstage-job-extend")).click()
            dialog = page.locator(".jp-Dialog")
            await dialog.locator("input").fill("14d")
            await dialog.get_by_role("button", name="Extend").click()
            await expect(dialog).to_have_count(0)
            await expect(card.locator(w.tid("srcstage-job-extend"))).to_be_enabled()
            await shots(page, "job-card-extended", themes=w.MAIN_VIEW)
            expires = datetime.fromisoformat(rucio_time(rucio.rule(rules[0])["expires_at"]))
            wanted = datetime.now(timezone.utc) + timedelta(days=14)
            assert abs((expires - wanted).total_seconds()) < 600, (expires, wanted)
            assert server.get(f"srcstage/jobs/{job['id']}").json()["lifetime_s"] == 14 * 86400

            # Files: the wide view opens on the job's files, each at the destination.
            await card.locator(w.tid("srcstage-job-show-files")).click()
            view = page.locator(w.tid("srcstage-view"))
            row = view.locator(f'tr[data-job-id="{job["id"]}"]')
            await expect(row.locator(w.tid("srcstage-view-job-files-toggle"))).to_have_attribute(
                "aria-expanded", "true"
            )
            files = view.locator(w.tid("srcstage-view-job-file-list")).locator(w.tid("srcstage-view-job-file"))
            await expect(files).to_have_count(len(dids))
            assert sorted(await files.locator("th").all_inner_texts()) == sorted(dids)
            await expect(files.filter(has_text="At the destination")).to_have_count(len(dids))
            await w.close_view(page)
            await w.open_panel(page)
            await card.scroll_into_view_if_needed()

            # Release: asked first, then the card says so and Rucio's rule is gone.
            await card.locator(w.tid("srcstage-job-release")).click()
            await page.locator(".jp-Dialog").get_by_role("button", name="Release").click()
            await expect(card).to_have_attribute("data-phase", "released")
            await expect(card.locator(w.tid("srcstage-job-release"))).to_have_count(0)
            await expect(card.locator(w.tid("srcstage-job-extend"))).to_have_count(0)
            await shots(page, "job-card-released", themes=w.MAIN_VIEW)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and rucio.rule(rules[0]) is not None:
            time.sleep(1)
        assert rucio.rule(rules[0]) is None, "the released copy's rule is still in Rucio"
    finally:
        rucio.close()
        # Leave the shared server as found: the next browser tests expect no collection there.
        server.request("DELETE", f"srcstage/collections/{collection['id']}")
    assert not errors, errors
