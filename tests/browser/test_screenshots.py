"""Screenshots of the main pages at desktop (1280×800) and phone (390×844) size, kept in
docs/screenshots/ and shown in docs/web-ui.md, with no CSP or script errors on any."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, Watched, sign_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app, account):
    from crm.extensions import db
    from crm.models import Contact, Task, User
    from crm.services import accounts
    from crm.services.demo import seed_demo

    with app.app_context():
        workspace = accounts.find_workspace(account["workspace_id"])
        seed_demo(workspace, task_count=80, activity_count=80)
        user = db.session.get(User, account["user_id"])
        accounts.set_time_zone(user, "Europe/Berlin")
        task = db.session.query(Task).filter(Task.workspace_id == workspace.id, Task.contact_id.is_not(None)).first()
        task.description = "Agenda:\n\n1. **Pricing**\n2. Rollout plan\n\n[Proposal](https://example.com/p) <script>alert(1)</script>"
        db.session.commit()
        contact = db.session.query(Contact).filter(Contact.workspace_id == workspace.id).first()
        return {"task_id": task.id, "contact_id": contact.id}


def test_main_pages_render_cleanly(browser, live_server, account, demo, seed):
    SCREENSHOTS.mkdir(exist_ok=True)
    ARTIFACTS.mkdir(exist_ok=True)
    seed.activity(type="call", subject="Talked pricing with the buyer", body="Wants the **annual** plan.")
    pages = [
        ("tasks", "/tasks?view=all&owner=any"),
        ("task-page", f"/tasks/{demo['task_id']}"),
        ("activities", "/activities"),
        ("contact", f"/contacts/{demo['contact_id']}"),
        ("settings", "/settings"),
        ("notifications", "/notifications"),
    ]
    for width, height, suffix in ((1280, 800, ""), (390, 844, "-phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        watched = Watched(page)
        sign_in(page, live_server, account)
        for name, path in pages:
            page.goto(live_server + path)
            expect(page.locator("main h1").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} scrolls sideways at {width}px"
            # The first screen only: what a salesperson sees on opening the page (and small files).
            page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"))
        page.goto(live_server + "/tasks?view=all&owner=any")
        page.locator("li.task-row").first.locator("summary").click()
        page.locator("li.task-row").first.get_by_role("button", name="Edit").click()
        page.get_by_role("button", name="Save").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / f"tasks-editing{suffix}.png"))
        context.close()
        assert watched.problems == []
    for png in SCREENSHOTS.glob("*.png"):
        assert png.stat().st_size < 400_000, f"{png.name} is too large for the docs"


def test_sign_in_page(browser, live_server, account):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 700})
    page = context.new_page()
    watched = Watched(page)
    page.goto(f"{live_server}/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "login-phone.png"))
    context.close()
    assert watched.problems == []


def test_task_page_renders_markdown_without_scripts(page, live_server, demo):
    page.goto(f"{live_server}/tasks/{demo['task_id']}")
    prose = page.locator(".prose")
    expect(prose.locator("strong")).to_have_text("Pricing")
    expect(prose.get_by_role("link", name="Proposal")).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert prose.locator("script").count() == 0
