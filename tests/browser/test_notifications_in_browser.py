"""The bell and desktop notifications in real Chromium, with the notification permission granted."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.models import utcnow
from crm.services import reminders
from tests.browser.conftest import Watched, sign_in

pytestmark = pytest.mark.browser

# Every Notification the page creates is recorded, then made for real.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  if (!Real) { return; }
  window.__notifications = [];
  function Recorded(title, options) {
    window.__notifications.push({ title: title, body: (options || {}).body || "", tag: (options || {}).tag || "" });
    return new Real(title, options);
  }
  Recorded.prototype = Real.prototype;
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


@pytest.fixture
def notifying_page(browser, live_server, account):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["notifications"],
                                  base_url=live_server)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watched = Watched(page)
    page.clock.install()
    sign_in(page, live_server, account)
    yield page
    context.close()


def fire_push_reminder(app, seed, title):
    due = utcnow() + timedelta(hours=2)
    task_id = seed.task(title, due_at=due.isoformat() + "Z", reminder={"type": "push", "before_minutes": 0})
    with app.app_context():
        assert reminders.fire_due(due + timedelta(seconds=1)) == 1
    return task_id


def test_a_push_reminder_reaches_the_bell_and_the_desktop_while_the_tab_is_open(app, notifying_page, seed):
    page = notifying_page
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications")
    assert page.evaluate("Notification.permission") == "granted"
    assert page.evaluate("window.__notifications.length") == 0

    fire_push_reminder(app, seed, "Call Ada about the renewal")
    page.clock.fast_forward("00:31")  # the bell's 30 s poll
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    # Polled from here: wait_for_function evaluates a string, which the page's CSP forbids.
    deadline = time.monotonic() + 10
    while page.evaluate("window.__notifications.length") != 1:
        assert time.monotonic() < deadline, "no desktop notification was created"
        page.wait_for_timeout(50)
    shown = page.evaluate("window.__notifications[0]")
    assert shown["title"] == "Reminder: Call Ada about the renewal"
    assert shown["body"].startswith("Due ")

    page.reload()  # the same reminder is not shown twice
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    page.clock.fast_forward("00:31")
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    assert page.evaluate("window.__notifications.length") == 0
    assert page.watched.problems == []


def test_mark_read_on_the_notifications_page_updates_the_bell_in_place(app, notifying_page, seed, live_server):
    page = notifying_page
    fire_push_reminder(app, seed, "Send the quote")
    page.goto(f"{live_server}/notifications")
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    page.evaluate("window.__marker = 1")
    item = page.locator(".notification").first
    item.get_by_role("button", name="Mark read").click()
    expect(item).not_to_have_class("row notification is-unread")
    expect(page.locator("#bell .bell-count")).to_be_hidden()
    assert page.evaluate("window.__marker") == 1
    page.locator(".notification").first.get_by_role("button", name="1 hour").click()
    expect(page.locator(".notification").first).to_contain_text("Snoozed until")
    assert page.watched.problems == []
