"""axe-core (node_modules/axe-core, pinned in package.json) run on a page in the browser.

The page's CSP refuses injected scripts: use a browser context made with `bypass_csp=True`.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""


def axe_violations(page) -> list[dict]:
    """Every violation axe finds on the page as it is now, of any impact."""
    assert AXE.exists(), f"{AXE} is missing: run `npm ci`"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN)


def assert_no_axe_violations(page) -> None:
    violations = axe_violations(page)
    assert violations == [], "axe-core: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}" for v in violations)
