"""What every page must pass in Chromium: axe-core and no sideways scrolling on a phone.

axe-core is the copy bundled in the pinned ``axe-playwright-python`` (a dev dependency),
so it installs with ``make test`` on a fresh machine; it is injected through the DevTools
protocol, which the pages' CSP does not govern.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from playwright.sync_api import Frame, Page

#: Rules issue 13 named: never violated at any impact.
NAMED_RULES = frozenset({"scrollable-region-focusable", "aria-prohibited-attr"})
#: Impacts that fail a page whatever the rule.
FAILING_IMPACTS = frozenset({"serious", "critical"})
#: Widths the pages must fit without scrolling the whole page sideways.
NARROW_WIDTHS = (390, 320)


#: axe.run, failing within a minute rather than waiting for ever (evaluate has no timeout).
_AXE_RUN = """Promise.race([
  axe.run(document, {resultTypes: ['violations', 'incomplete']}),
  new Promise((_, reject) => setTimeout(() => reject(new Error('axe-core ran over 60 s')), 60000)),
])"""


@cache
def _axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page | Frame) -> list[str]:
    """The page's (or a frame's) failing axe-core results, one line each (rule: targets).

    A named rule counts when axe is unsure too ("incomplete"): it reports ``aria-label``
    on an element with no role that way, and that is exactly issue 13's finding.
    """
    page.evaluate(_axe_source())
    results = page.evaluate(_AXE_RUN)
    failing = [
        v for v in results["violations"] if v["impact"] in FAILING_IMPACTS or v["id"] in NAMED_RULES
    ] + [v for v in results["incomplete"] if v["id"] in NAMED_RULES]
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in failing
    ]


def overflow_widths(page: Page) -> list[str]:
    """Each narrow width at which the document scrolls sideways, with how far."""
    restore = page.viewport_size
    wide = []
    for width in NARROW_WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > page.evaluate("window.innerWidth"):
            wide.append(f"{scroll}px at {width}px")
    if restore:
        page.set_viewport_size(restore)
    return wide


def page_problems(page: Page) -> list[str]:
    """Everything wrong with the page as loaded, its closed ``<details>`` opened: axe-core
    at its own width and at the narrowest (where wide boxes scroll), and overflow."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    found = axe_violations(page)
    restore = page.viewport_size
    page.set_viewport_size({"width": min(NARROW_WIDTHS), "height": 800})
    found += [f"at {min(NARROW_WIDTHS)}px: {v}" for v in axe_violations(page) if v not in found]
    if restore:
        page.set_viewport_size(restore)
    return found + [f"overflows: {w}" for w in overflow_widths(page)]
