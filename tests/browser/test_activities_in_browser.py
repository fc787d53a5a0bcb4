"""The activity log and record pages in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_logging_an_activity_adds_it_without_reload(page, live_server, seed, app, account):
    contact_id = seed.contact("Grace", "Hopper")
    page.goto(f"{live_server}/activities")
    page.evaluate("window.__marker = 1")
    form = page.locator("#log-activity")
    form.get_by_label("Type").select_option("call")
    form.get_by_label("Subject").fill("Discovery call with Grace")
    form.get_by_label("Notes").fill("Budget **confirmed** for Q3.")
    form.get_by_label("Contact").press_sequentially("hopp", delay=30)
    form.get_by_role("option", name=re.compile("Grace Hopper")).click()
    expect(form.get_by_label("Contact")).to_have_value("Grace Hopper")
    form.get_by_role("button", name="Log activity").click()

    entry = page.locator("#just-logged-list li.activity-row", has_text="Discovery call with Grace")
    expect(entry).to_be_visible()
    expect(entry.locator("strong")).to_have_text("confirmed")
    expect(entry.get_by_role("link", name="Grace Hopper")).to_have_attribute("href", f"/contacts/{contact_id}")
    expect(page.locator("#log-activity").get_by_label("Subject")).to_have_value("")
    assert page.evaluate("window.__marker") == 1
    assert page.watched.problems == []


def test_activity_entry_edits_in_place(page, live_server, seed):
    activity_id = seed.activity(type="note", subject="Notes on Initech")
    page.goto(f"{live_server}/activities")
    page.evaluate("window.__marker = 1")
    entry = page.locator(f"#activity-{activity_id}")
    entry.locator("summary").click()
    entry.get_by_role("button", name="Edit").click()
    entry.get_by_label("Subject").fill("Notes on Initech, revised")
    entry.get_by_role("button", name="Save").click()
    expect(entry).to_contain_text("Notes on Initech, revised")
    expect(entry.get_by_label("Subject")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1


def test_quick_add_on_a_contact_page_links_the_task(page, live_server, seed):
    contact_id = seed.contact("Alan", "Turing")
    page.goto(f"{live_server}/contacts/{contact_id}")
    page.evaluate("window.__marker = 1")
    page.get_by_label("New task").fill("Send Alan the paper")
    page.get_by_role("button", name="Add").click()
    row = page.locator("#record-tasks li.task-row", has_text="Send Alan the paper")
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name="Alan Turing")).to_be_visible()
    assert page.evaluate("window.__marker") == 1
