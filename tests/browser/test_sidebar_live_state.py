"""One live state in Chromium: a collection made through the Python API shows up in the open sidebar (issue #14)."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

import srcstage_jlab as srcstage
from tests.browser import walkthrough as w

pytestmark = pytest.mark.browser


async def test_a_collection_made_from_python_appears_in_the_sidebar_without_a_refresh(chromium, signed_in_server):
    async with w.open_page(chromium.cdp_url) as page:
        await w.open_lab(page, signed_in_server)
        await w.open_panel(page)
        await w.wait_signed_in(page)
        name = f"made in a kernel {uuid.uuid4().hex[:6]}"
        picker = page.locator(w.tid("srcstage-panel"))
        await expect(picker).not_to_contain_text(name)

        srcstage.connect(signed_in_server.url, signed_in_server.token)  # what a notebook kernel does
        made = srcstage.collection(name)

        # Within one poll (the sidebar polls every few seconds), no reload, no click.
        await expect(page.locator(w.tid("srcstage-collection-select"))).to_contain_text(name, timeout=20_000)
        # Leave the shared server as found: the next browser test expects no collection to be open.
        made.delete()
        # (With no collection left, the picker itself goes: look at the whole panel.)
        await expect(picker).not_to_contain_text(name, timeout=20_000)
