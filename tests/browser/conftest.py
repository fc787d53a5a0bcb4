"""A real server on a free port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_account

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse"


def pytest_collection_modifyitems(items):
    if os.path.exists(CHROMIUM) or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason=f"Chromium is not installed at {CHROMIUM} (these tests run in CI, where it is)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def config_overrides():
    return {"CRM_LOGIN_RATE_LIMIT": "1000/minute", "CRM_UI_PAGE_SIZE": 50}


@pytest.fixture
def live_server(app):
    """The app served by a real HTTP server in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def account(app):
    ws_id, user_id, _secret = make_account(app, password=PASSWORD)
    return {"workspace_id": ws_id, "user_id": user_id, "email": "owner@acme.test", "password": PASSWORD}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Watched:
    """Collects what the page reports that should never happen: CSP violations, JS errors."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.problems.append(str(err)))

    def _on_console(self, msg) -> None:
        # A 422 is the expected answer to an invalid inline form; Chromium logs it anyway.
        if msg.type == "error" and "status of 422" not in msg.text:
            self.problems.append(msg.text)


def sign_in(page, base_url: str, account: dict) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/tasks")


@pytest.fixture
def page(browser, live_server, account):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watched = Watched(page)
    sign_in(page, live_server, account)
    yield page
    context.close()


@pytest.fixture
def seed(app, account):
    """Make records in the signed-in user's workspace through the services."""
    from crm.extensions import db
    from crm.models import User, utcnow
    from crm.schemas import ActivityInput, TaskInput
    from crm.services import activities, records, tasks
    from crm.services.errors import NotFound

    class Seed:
        def task(self, title: str, **data):
            with app.app_context():
                user = db.session.get(User, account["user_id"])
                loaded = TaskInput().load({"title": title, **data})
                return tasks.create_task(account["workspace_id"], user.id, loaded).id

        def overdue_task(self, title: str):
            return self.task(title, due_at=(utcnow() - timedelta(days=2)).isoformat() + "Z")

        def contact(self, first: str, last: str, **data):
            with app.app_context():
                return records.create_contact(account["workspace_id"], {"first_name": first, "last_name": last, **data}).id

        def activity(self, **data):
            with app.app_context():
                user = db.session.get(User, account["user_id"])
                loaded = ActivityInput().load(data)
                return activities.log_activity(account["workspace_id"], user.id, loaded)[0].id

        def get_task(self, task_id: str):
            with app.app_context():
                try:
                    task = tasks.get_task(account["workspace_id"], task_id)
                except NotFound:
                    return None
                db.session.expunge(task)
                return task

    return Seed()
