"""The SRCNet staging sidebar, step by step, the way a person uses it in JupyterLab.

Each step is an ``async`` function taking a Playwright ``page`` (and, when it shows something
worth a picture, a ``shot`` callable: ``await shot(page, name, themes=...)``, see
:class:`tests.browser.conftest.Shots`). The browser tests assert on the values the steps return;
``scripts/record_demo.py`` runs the same steps to take the README's screenshots.

Elements are found by their ``data-testid="srcstage-..."`` (src/components/*.tsx) or, for
JupyterLab's own parts, by their usual classes and texts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from playwright.async_api import Page, async_playwright, expect

TIMEOUT_MS = 60_000
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
MAIN_VIEW = ("light", "dark")  # the panel's main views are taken in both themes
KERNEL_IDLE = re.compile(r"Python 3 \(ipykernel\) \| Idle")

Shot = Callable[..., Awaitable[Any]]

expect.set_options(timeout=TIMEOUT_MS)


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


# --- the browser ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_page(cdp_url: str, *, viewport: dict | None = None, errors: list | None = None) -> AsyncIterator[Page]:
    """A new browser context and page on the running Chromium, closed on exit.

    Uncaught page errors are appended to ``errors`` (when given).
    """
    async with async_playwright() as pw:
        browser = await pw.chromium.connect_over_cdp(cdp_url)
        context = await browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = await context.new_page()
            if errors is not None:
                page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
        finally:
            await context.close()
            await browser.close()  # only disconnects: the browser belongs to the fixture


async def set_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab's theme with its own command (``window.jupyterapp`` is exposed)."""
    name = THEMES[theme]
    if not await page.evaluate("() => !!window.jupyterapp"):
        return  # not a JupyterLab page (e.g. the sign-in approval page)
    current = await page.evaluate("() => document.body.dataset.jpThemeName")
    if current != name:
        await page.evaluate(
            "async t => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: t}); }", name
        )
        await page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=name)
        # JupyterLab shows its splash screen while a theme loads.
        await expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    await settle(page)


async def settle(page: Page) -> None:
    """Let layout and paint catch up (two animation frames), e.g. before a screenshot."""
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


async def until_still(page: Page, locator: Any, tries: int = 50) -> None:
    """Wait until an element (a toast sliding in) is inside the viewport and stops moving."""
    width = page.viewport_size["width"] if page.viewport_size else None
    last = None
    for _ in range(tries):
        box = await locator.bounding_box()
        inside = box is not None and (width is None or box["x"] + box["width"] <= width)
        if inside and box == last:
            return
        last = box
        await page.wait_for_timeout(100)


# --- JupyterLab -------------------------------------------------------------------------------


async def open_lab(page: Page, server: Any) -> None:
    """Open JupyterLab (token in the URL, as `jupyter lab` prints it) and wait for the launcher."""
    await page.goto(f"{server.url}lab?token={server.token}")
    await expect(page.locator(".jp-Launcher")).to_be_visible()
    await set_theme(page, "light")


async def open_panel(page: Page) -> None:
    """Click the panel's icon in the left bar, unless the restored layout has it open already
    (a second click would close it)."""
    tab = page.locator('.jp-SideBar.jp-mod-left li[data-id="srcstage-jlab-sidebar"]')
    await expect(tab).to_be_visible()
    if "lm-mod-current" not in (await tab.get_attribute("class") or ""):
        await tab.click()
    await expect(page.locator(tid("srcstage-panel"))).to_be_visible()


async def open_panel_from_palette(page: Page) -> None:
    """Ctrl+Shift+C, type, Enter: the palette command "Open SRCNet Staging"."""
    await page.locator("#jp-main-dock-panel").click()
    await page.keyboard.press("Control+Shift+C")
    box = page.locator(".lm-CommandPalette-input")
    await expect(box).to_be_visible()
    await box.fill("Open SRCNet Staging")
    await page.keyboard.press("Enter")
    await expect(page.locator(tid("srcstage-panel"))).to_be_visible()


async def new_notebook(page: Page) -> None:
    """A Python notebook from the launcher; returns once the kernel is idle."""
    await page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    await expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()
    await wait_kernel_idle(page)


async def wait_kernel_idle(page: Page) -> None:
    await expect(page.locator("#jp-main-statusbar").get_by_text(KERNEL_IDLE)).to_be_visible()


def notebook(page: Page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")


async def type_in_cell(page: Page, cell: Any, code: str) -> None:
    """Type code into a cell's editor (insert_text: no auto-closed brackets)."""
    await cell.locator(".jp-InputArea-editor .cm-content").click()
    await page.keyboard.press("Control+a")
    await page.keyboard.insert_text(code)


async def run_cell(page: Page, cell: Any) -> Any:
    """Shift+Enter on ``cell``; returns its output area once the execution count is set."""
    await cell.locator(".jp-InputArea-editor .cm-content").click()
    await page.keyboard.press("Shift+Enter")
    await expect(cell.locator(".jp-InputArea-prompt")).to_have_text(re.compile(r"\[\d+\]"))
    return cell.locator(".jp-OutputArea")


# --- the wide view ----------------------------------------------------------------------------------

VIEW_TAB = '.lm-DockPanel-tabBar li[data-id="srcstage-jlab-view"]'


async def close_view(page: Page) -> None:
    """Close the view's tab and check, across a reload, that the saved layout no longer has it."""
    await page.locator(f"{VIEW_TAB} .lm-TabBar-tabCloseIcon").click()
    await expect(page.locator(tid("srcstage-view"))).to_have_count(0)
    await page.wait_for_timeout(1500)  # the layout restorer saves the workspace after a short delay
    await page.reload()
    await expect(page.locator(".jp-Launcher")).to_be_visible()
    await expect(page.locator(tid("srcstage-view"))).to_have_count(0)


# --- the sidebar: account --------------------------------------------------------------------------


async def sign_in(page: Page, shot: Shot, username: str = "demo") -> dict:
    """The device flow as a person does it: Sign in, read the code, open the link in a new tab,
    approve there as ``username``, come back and see the panel signed in."""
    session = page.locator(tid("srcstage-session"))
    await expect(session).to_have_attribute("data-state", "signed_out")
    await shot(page, "sign-in")
    await page.locator(tid("srcstage-signin")).click()
    code = (await page.locator(tid("srcstage-user-code")).inner_text()).strip()
    link = page.locator(tid("srcstage-verification-link"))
    await expect(session).to_have_attribute("data-state", "pending")
    await shot(page, "device-code")
    async with page.context.expect_page() as opened:
        await link.click()
    approval = await opened.value
    await approval.wait_for_load_state()
    code_box = approval.locator('input[name="user_code"]')
    if not (await code_box.input_value()).strip():
        await code_box.fill(code)  # a link without the code: type it
    entered = await code_box.input_value()
    await approval.locator('select[name="username"]').select_option(username)
    await approval.set_viewport_size({"width": 900, "height": 500})
    await shot(approval, "approve")
    await approval.get_by_role("button", name="Approve").click()
    await expect(approval.locator("body")).to_contain_text(f"approved as {username}")
    approved_text = await approval.locator("body").inner_text()
    await approval.close()
    await expect(session).to_have_attribute("data-state", "signed_in")
    await expect(page.locator(tid("srcstage-username"))).to_be_visible()
    who = await page.locator(tid("srcstage-username")).inner_text()
    return {"code": code, "entered": entered, "approved": approved_text, "who": who}


async def wait_signed_in(page: Page) -> str:
    await expect(page.locator(tid("srcstage-session"))).to_have_attribute("data-state", "signed_in")
    return await page.locator(tid("srcstage-username")).inner_text()


async def destination(page: Page) -> str:
    name = page.locator(tid("srcstage-destination-name"))
    await expect(name).to_be_visible()
    return (await name.inner_text()).strip()


# --- the sidebar: search, select, collect ---------------------------------------------------------


async def search(page: Page, namespace: str, pattern: str, did_type: str = "file") -> int:
    """Fill the search form, press Search, return the number of results shown."""
    await page.locator(tid("srcstage-namespace")).fill(namespace)
    await page.locator(tid("srcstage-pattern")).fill(pattern)
    await page.locator(tid("srcstage-type")).select_option(did_type)
    await page.locator(tid("srcstage-search")).click()
    count = page.locator(tid("srcstage-results-count"))
    await expect(count).to_be_visible()
    await expect(page.locator(tid("srcstage-results-area"))).to_have_attribute("aria-busy", "false")
    return int(re.sub(r"[^\d]", "", (await count.inner_text()).split("result")[0]))


def result_row(page: Page, did: str):
    return page.locator(f'{tid("srcstage-result")}[data-did="{did}"]')


async def select_results(page: Page, dids: list[str]) -> list[str]:
    """Click the first, Ctrl+click the others; returns the selected DIDs as the list shows them."""
    for i, did in enumerate(dids):
        await result_row(page, did).click(modifiers=["Control"] if i else None)
    await expect(page.locator(tid("srcstage-selected-count"))).to_have_text(f"{len(dids)} selected")
    selected = page.locator(f'{tid("srcstage-result")}[aria-selected="true"]')
    return [await selected.nth(i).get_attribute("data-did") for i in range(await selected.count())]


async def new_collection_with_selection(page: Page, name: str) -> list[str]:
    """ "New collection" with the selected results: name it in the dialog, see its entries."""
    add = page.locator(tid("srcstage-add-selected"))
    await expect(add).to_have_text("New collection")
    await add.click()
    dialog = page.locator(".jp-Dialog")
    await expect(dialog).to_be_visible()
    await dialog.locator("input").fill(name)
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator(tid("srcstage-collection-name"))).to_have_text(name)
    entries = page.locator(tid("srcstage-entry"))
    await expect(entries.first).to_be_visible()
    return [await entries.nth(i).get_attribute("data-did") for i in range(await entries.count())]


async def add_selection_to_active(page: Page, name: str) -> None:
    add = page.locator(tid("srcstage-add-selected"))
    await expect(add).to_have_text(f"Add to “{name}”")
    await add.click()


async def set_lifetime(page: Page, value: float, unit: str = "days") -> str:
    """Type the lifetime and choose its unit; returns the hint or warning shown under it."""
    await page.locator(tid("srcstage-lifetime-value")).fill(f"{value:g}")
    await page.locator(tid("srcstage-lifetime-unit")).select_option(unit)
    return (await page.locator(tid("srcstage-lifetime-hint")).inner_text()).strip()


# --- the sidebar: stage ------------------------------------------------------------------------------


async def open_stage_summary(page: Page) -> dict:
    """Press "Stage…" and read the summary dialog (left open)."""
    await page.locator(tid("srcstage-stage")).click()
    summary = page.locator(f".jp-Dialog {tid('srcstage-precheck')}")
    await expect(summary).to_be_visible()
    facts = await summary.locator("dl.jp-SrcStage-facts").evaluate(
        """dl => Object.fromEntries([...dl.querySelectorAll('dt')].map(
               dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))"""
    )
    title = (await page.locator(".jp-Dialog .jp-Dialog-header").inner_text()).strip()
    return {"title": title, "facts": facts}


async def confirm_stage(page: Page) -> None:
    dialog = page.locator(".jp-Dialog")
    await dialog.get_by_role("button", name="Stage").click()
    await expect(dialog).to_have_count(0)


async def follow_job(page: Page, shot: Shot, collection: str) -> dict:
    """After confirming: the request result, the job with its progress, then completion (toast)."""
    await expect(page.locator(tid("srcstage-stage-result"))).to_be_visible()
    job = page.locator(tid("srcstage-job")).filter(has=page.locator(".jp-SrcStage-jobTitle", has_text=collection))
    await expect(job).to_have_count(1)
    job_id = await job.get_attribute("data-job-id")
    phase_seen = await job.get_attribute("data-phase")
    await job.scroll_into_view_if_needed()
    progress = job.locator(f'{tid("srcstage-job-files")} [role="progressbar"]')
    await expect(progress).to_be_visible()
    progress_seen = await progress.get_attribute("aria-valuetext")
    await shot(page, "job-progress", themes=MAIN_VIEW)
    await expect(job).to_have_attribute("data-phase", "completed")
    toast = page.locator(".Toastify__toast").filter(has_text=f"Staging of “{collection}” completed.")
    await expect(toast).to_be_visible()
    await until_still(page, toast)  # the toast slides in: picture it where it stays
    await job.scroll_into_view_if_needed()
    await shot(page, "job-completed", themes=MAIN_VIEW)
    return {
        "job_id": job_id,
        "phase_seen": phase_seen,
        "progress_seen": progress_seen,
        "progress_done": await progress.get_attribute("aria-valuetext"),
        "state": (await job.locator(tid("srcstage-job-state")).inner_text()).strip(),
        "toast": (await toast.inner_text()).strip(),
    }


async def insert_code_and_read(page: Page, shot: Shot, job_id: str, read_code: str) -> dict:
    """ "Insert code cell" for the job into the open notebook, run it, then run ``read_code``
    in the next cell; returns both outputs."""
    job = page.locator(f'{tid("srcstage-job")}[data-job-id="{job_id}"]')
    await job.locator(tid("srcstage-insert-code")).click()
    cells = notebook(page).locator(".jp-CodeCell")
    inserted = cells.filter(has_text=f'srcstage.job("{job_id}")')
    await expect(inserted).to_have_count(1)
    source = await inserted.locator(".cm-content").inner_text()
    paths_out = await run_cell(page, inserted)
    await expect(paths_out).to_contain_text("files staged")
    reader = cells.nth(await cells.count() - 1)  # the new cell Shift+Enter made (pinned: running adds one)
    await type_in_cell(page, reader, read_code)
    read_out = await run_cell(page, reader)
    await expect(read_out.locator(".jp-OutputArea-output")).not_to_have_count(0)
    await reader.scroll_into_view_if_needed()
    await shot(page, "notebook-reads-staged-file")
    return {
        "source": source,
        "paths_output": (await paths_out.inner_text()).strip(),
        "read_output": (await read_out.inner_text()).strip(),
    }


# --- the whole flow ----------------------------------------------------------------------------------

OBS_FILES = [f"ska-mid:obs-2026-0001.vis-{k:02d}.csv" for k in (1, 2, 3)]
READ_CSV = (
    "import os\n"
    "first = min(job.paths(), key=os.path.basename)\n"
    "print(os.path.basename(first))\n"
    "print(open(first).read(300))"
)


async def sidebar_flow(
    page: Page,
    server: Any,
    shot: Shot,
    *,
    collection: str,
    files: list[str] = OBS_FILES,
    lifetime_days: float = 1,
    palette: bool = False,
) -> dict:
    """Sign in, find and collect ``files``, stage them for ``lifetime_days``, use them in a notebook.

    Returns what each step showed, for the caller to check.
    """
    seen: dict[str, Any] = {}
    await open_lab(page, server)
    await new_notebook(page)
    await (open_panel_from_palette(page) if palette else open_panel(page))
    seen["sign_in"] = await sign_in(page, shot)
    seen["destination"] = await destination(page)
    await shot(page, "signed-in", themes=MAIN_VIEW)
    namespace, pattern = files[0].split(":")[0], files[0].split(":")[1].split(".")[0] + "*"
    seen["results"] = await search(page, namespace, pattern, "file")
    seen["result_dids"] = await page.locator(tid("srcstage-result")).evaluate_all(
        "rows => rows.map(r => r.dataset.did)"
    )
    seen["selected"] = await select_results(page, files)
    await page.locator(tid("srcstage-results")).scroll_into_view_if_needed()
    await shot(page, "results", themes=MAIN_VIEW)
    seen["entries"] = await new_collection_with_selection(page, collection)
    seen["totals"] = (await page.locator(tid("srcstage-collection-totals")).inner_text()).strip()
    seen["lifetime_hint"] = await set_lifetime(page, lifetime_days, "days")
    await page.locator(tid("srcstage-stage-panel")).scroll_into_view_if_needed()
    await shot(page, "collection")
    seen["summary"] = await open_stage_summary(page)
    await shot(page, "stage-summary", themes=MAIN_VIEW)
    await confirm_stage(page)
    seen["job"] = await follow_job(page, shot, collection)
    seen["notebook"] = await insert_code_and_read(page, shot, seen["job"]["job_id"], READ_CSV)
    return seen
