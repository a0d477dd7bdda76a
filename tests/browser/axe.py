"""axe-core (the npm package in node_modules, injected into the page) over parts of JupyterLab.

Only WCAG 2.x A/AA rules, and only violations axe rates serious or critical fail a test:
the lower ones are listed in the test output for a person to judge.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = ("serious", "critical")


async def violations(page: Page, *selectors: str) -> list[dict]:
    """axe's violations inside the elements matching `selectors` (each must be on the page)."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `jlpm install` (axe-core is a dev dependency)")
    if not await page.evaluate("() => !!window.axe"):
        await page.add_script_tag(path=str(AXE_JS))
    for selector in selectors:
        if not await page.locator(selector).count():
            raise AssertionError(f"nothing to check: {selector} is not on the page")
    return await page.evaluate(
        """([include, tags]) => axe.run({include: include.map(s => [s])},
               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
             .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || ''))})))""",
        [list(selectors), WCAG_TAGS],
    )


def serious(found: list[dict]) -> list[str]:
    """One line a serious or critical violation (rule, help, where), for an assertion message."""
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {'; '.join(v['nodes'][:3])}" for v in found if v["impact"] in FAILING
    ]


def report(label: str, found: list[dict]) -> None:
    for v in found:
        print(f"axe [{label}] {v['impact']} {v['id']} ({len(v['nodes'])} nodes): {v['help']}")
