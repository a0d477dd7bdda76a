"""A notebook that declares its data (issue #15): the sidebar says what it needs and how much is
here, "Stage what is missing" stages it, and the cell that reads the file then shows its contents.
The declare/remove commands change the open notebook's metadata."""

from __future__ import annotations

import secrets

import nbformat
import pytest
from playwright.async_api import expect

from tests.browser import axe
from tests.browser import walkthrough as w

pytestmark = pytest.mark.browser

# On tape only, and no other test stages them (grep -rn scale- tests benchmarks).
DIDS = ["ska-low:scale-00151.txt", "ska-low:scale-00152.txt"]
READ = """import srcstage_jlab as srcstage
paths = srcstage.require()   # what this notebook declares: already here, nothing is staged again
print(open(paths[{name!r}][0]).read().splitlines()[0])"""


def declaring_notebook(path, name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["srcstage"] = {"collections": [{"name": name, "dids": DIDS, "lifetime": "1d"}]}
    nb.cells = [nbformat.v4.new_code_cell(READ.format(name=name))]
    nbformat.write(nb, str(path))


async def close_without_saving(page, path: str) -> None:
    await page.evaluate(
        """async path => {
            const app = window.jupyterapp;
            for (const widget of Array.from(app.shell.widgets('main'))) {
                if (widget.context && widget.context.path === path) {
                    widget.context.model.dirty = false;
                    await widget.sessionContext.shutdown();
                    widget.dispose();
                }
            }
        }""",
        path,
    )


async def test_stage_what_a_notebook_declares_from_the_sidebar(chromium, signed_in_server, shots):
    server = signed_in_server
    name = f"scale-reads-{secrets.token_hex(3)}"  # short: it is in the docs' screenshot
    path = f"{name}.ipynb"
    declaring_notebook(server.workdir / "notebooks" / path, name)
    errors: list[str] = []
    try:
        async with w.open_page(chromium.cdp_url, errors=errors) as page:
            await w.open_lab(page, server)
            await w.open_panel(page)
            section = page.locator(w.tid("srcstage-section-declared"))
            await expect(section).to_have_count(0)  # the launcher is current: no notebook, no section

            await page.evaluate(
                "async p => { await window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", path
            )
            await w.wait_kernel_idle(page)
            await expect(section).to_be_visible()
            row = section.locator(f'{w.tid("srcstage-declared-collection")}[data-name="{name}"]')
            await expect(row).to_contain_text("2 DIDs")
            await expect(row).to_contain_text(DIDS[0])
            await expect(row.locator(w.tid("srcstage-declared-here"))).to_contain_text(
                "Not collected on this server yet"
            )

            await section.locator(w.tid("srcstage-declared-stage")).click()
            result = section.locator(w.tid("srcstage-declared-result"))
            await expect(result).to_contain_text("staging requested")
            await expect(section.locator(w.tid("srcstage-declared-error"))).to_have_count(0)
            jobs = [j for j in server.get("srcstage/jobs").json()["jobs"] if j.get("collection_name") == name]
            assert len(jobs) == 1, jobs
            job = server.wait_for_job(jobs[0]["id"], timeout=180)
            assert job["phase"] == "completed", job
            assert job["lifetime_s"] == 86400  # the declared lifetime
            # When the job ends the sidebar checks again (the stage route's dry run): all here.
            await expect(row.locator(w.tid("srcstage-declared-here"))).to_contain_text(
                "Here already: 2 of 2 files", timeout=60_000
            )
            await expect(section.locator(w.tid("srcstage-declared-stage"))).to_be_disabled()
            await expect(result).to_have_count(0)  # the note went with its job; the row says how it ended
            await expect(row.locator(w.tid("srcstage-declared-job"))).to_contain_text("COMPLETED")
            await section.scroll_into_view_if_needed()
            await shots(page, "declared-section", themes=w.MAIN_VIEW)
            for theme in ("dark", "light"):  # the section as staged, in both themes
                await w.set_theme(page, theme)
                found = await axe.violations(page, "[data-testid='srcstage-section-declared']")
                axe.report(f"declared section, {theme}", found)
                assert axe.serious(found) == [], f"declared section, {theme} theme"
            await section.screenshot(path=str(shots.directory / "declared-section-only.png"))

            # The cell that reads the file shows its first line.
            cell = w.notebook(page).locator(".jp-CodeCell").first
            output = await w.run_cell(page, cell)
            await expect(output).to_contain_text("# ska-low scale-test file 00151", timeout=60_000)

            # Remove the collection from the notebook's declared data: the section goes, the notebook
            # has a change to save; declaring the open collection (the one staging made) brings it back.
            await row.locator(w.tid("srcstage-declared-remove")).click()
            await expect(section).to_have_count(0)
            declared = await page.evaluate(
                "() => { const m = window.jupyterapp.shell.currentWidget.context.model;"
                " return [m.dirty, m.getMetadata('srcstage') ?? null]; }"
            )
            assert declared == [True, None], declared
            # The notebook toolbar's button (its tooltip names the act) declares it again.
            button = page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="srcstage-declare"]').get_by_role(
                "button", name=f"Declare the open collection, “{name}”, in this notebook’s metadata.srcstage"
            )
            await expect(button).to_be_enabled()
            await page.locator(".jp-NotebookPanel-toolbar").screenshot(
                path=str(shots.directory / "notebook-toolbar.png")
            )
            await button.click()
            await expect(section).to_be_visible()
            declared = await page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.context.model.getMetadata('srcstage')"
            )
            assert declared == {"collections": [{"name": name, "dids": DIDS}]}, declared
            await close_without_saving(page, path)
            await expect(page.locator(".jp-NotebookPanel")).to_have_count(0)
    finally:
        # Leave the shared server as found: no collection, no job, no notebook of ours.
        for collection in server.get("srcstage/collections").json()["collections"]:
            if collection["name"] == name:
                server.request("DELETE", f"srcstage/collections/{collection['id']}")
        for job in server.get("srcstage/jobs").json()["jobs"]:
            if job.get("collection_name") == name:
                server.request("DELETE", f"srcstage/jobs/{job['id']}")
        (server.workdir / "notebooks" / path).unlink(missing_ok=True)
    assert not errors, errors
