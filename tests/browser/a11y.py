"""axe-core in the page: `assert_no_axe_violations(page)` fails on any violation, of any impact.

axe is injected from node_modules (npm ci). The page's CSP allows only its own scripts, so the
contexts that run axe are made with `bypass_csp=True` (`axe_context`): that lets the test inject
axe; it changes nothing the product does (CSP errors are still caught by the other tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_context(browser, width: int = 1280, height: int = 900):
    # bypass_csp: the page's CSP would refuse the injected axe-core script (see the module doc).
    return browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE} (npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) for node in v["nodes"][:4])
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']} — {targets}")
    return "\n".join(lines)


def assert_no_axe_violations(page, name: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, f"{name or page.url}:\n{describe(violations)}"
