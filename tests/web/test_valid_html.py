"""Every product page is valid HTML: the Nu Html Checker (vnu, from node_modules) reports no error."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_account
from tests.product_pages import PAGES, SETUP_PAGE, SIGNED_OUT_PAGES, seed_product_pages
from tests.web.conftest import signed_in_client

ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _vnu_errors(files: list[Path]) -> list[dict]:
    """One run for all the files (the JVM is slow to start)."""
    if not VNU.exists() or not shutil.which("java"):
        pytest.fail(f"The HTML checker needs Java and {VNU} (npm ci)")
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    return json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]


def test_every_product_page_is_valid_html(app, client, tmp_path):
    html: dict[str, str] = {}
    # A fresh install shows the setup page; then an admin signs in to a workspace in use.
    html[SETUP_PAGE.name] = client.get(SETUP_PAGE.url({})).get_data(as_text=True)
    ws_id, user_id, _secret = make_account(app)
    for page in SIGNED_OUT_PAGES:
        html[page.name] = client.get(page.url({})).get_data(as_text=True)
    ids = seed_product_pages(app, ws_id, user_id)
    signed_in = signed_in_client(app, user_id)
    for page in PAGES:
        response = signed_in.get(page.url(ids))
        assert response.status_code == 200, page.name
        html[page.name] = response.get_data(as_text=True)
    assert "Create workspace" in html["setup"] and "Sign in" in html["login"]

    files = []
    for name, text in html.items():
        path = tmp_path / f"{name}.html"
        path.write_text(text)
        files.append(path)
    errors = _vnu_errors(files)
    report = [f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')}" for e in errors]
    assert not report, "\n".join(report)
