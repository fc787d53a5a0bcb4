"""The calendar in real Chromium: drag and drop reschedules and Undo restores, the Move control
does the same from the keyboard, the page works with JavaScript off, and axe-core finds nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_no_axe_violations
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser



def mark_page(page) -> None:
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def test_dragging_a_task_to_another_day_moves_it_and_undo_puts_it_back(page, live_server, seed):
    task_id = seed.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    page.goto(f"{live_server}/calendar?view=month&date=2026-12-01")
    mark_page(page)

    page.locator(f"#cal-{task_id}").drag_to(page.locator('.cal-cell[data-drop-date="2026-12-10"]'))
    expect(page.locator(f'.cal-cell[data-drop-date="2026-12-10"] #cal-{task_id}')).to_be_visible()
    assert seed.get_task(task_id).due_at == datetime(2026, 12, 10, 9, 0)  # the day changed, not the time
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Moved “Call Ada” to Thu 10 Dec 2026, 09:00.")

    toast.get_by_role("button", name="Undo").click()
    expect(page.locator(f'.cal-cell[data-drop-date="2026-12-08"] #cal-{task_id}')).to_be_visible()
    assert seed.get_task(task_id).due_at == datetime(2026, 12, 8, 9, 0)
    expect(toast).to_contain_text("Moved “Call Ada” back to Tue 8 Dec 2026, 09:00.")
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_dragging_to_a_week_slot_sets_day_and_time(page, live_server, seed):
    task_id = seed.task("Write the proposal", due_at="2026-12-08T09:00:00Z", duration=3600)
    page.goto(f"{live_server}/calendar?view=week&date=2026-12-07")
    mark_page(page)

    page.locator(f"#cal-{task_id}").drag_to(page.locator('.cal-col[data-day="2026-12-09"] .cal-slot.row-s28'))
    moved = page.locator(f'.cal-col[data-day="2026-12-09"] #cal-{task_id}')
    expect(moved).to_have_class(re.compile(r"\brow-s28\b.*\bspan-2\b"))
    saved = seed.get_task(task_id)
    assert (saved.due_at, saved.duration) == (datetime(2026, 12, 9, 14, 0), 3600)
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_the_move_control_works_from_the_keyboard(page, live_server, seed):
    task_id = seed.task("Send the contract", due_at="2026-12-08T09:00:00Z")
    page.goto(f"{live_server}/calendar?view=week&date=2026-12-07")
    mark_page(page)
    item = page.locator(f"#cal-{task_id}")
    item.get_by_role("button", name="Move “Send the contract”").focus()
    page.keyboard.press("Enter")
    field = item.get_by_label("Due: Send the contract")
    expect(field).to_be_visible()
    field.fill("2026-12-11T16:30")
    field.press("Enter")
    expect(page.locator(f'.cal-col[data-day="2026-12-11"] #cal-{task_id}')).to_have_class(re.compile(r"\brow-s33\b"))
    assert seed.get_task(task_id).due_at == datetime(2026, 12, 11, 16, 30)
    expect(page.locator("#toast")).to_contain_text("Moved “Send the contract” to Fri 11 Dec 2026, 16:30.")
    assert_not_reloaded(page)


def test_without_javascript_the_calendar_is_a_list_by_day_with_date_fields(browser, live_server, account, seed):
    task_id = seed.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    seed.task("Weekly report", due_at="2026-12-07T08:00:00Z", recurrence="FREQ=WEEKLY;BYDAY=MO,TH")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, account)
        page.goto(f"{live_server}/calendar?view=week&date=2026-12-07")
        expect(page.get_by_role("heading", name="By day")).to_be_visible()
        expect(page.locator(".cal-grid")).to_be_hidden()
        expect(page.get_by_role("heading", name="Thu 10 Dec 2026")).to_be_visible()  # the repeat's day

        listing = page.locator(".cal-agenda")
        field = listing.get_by_label("Due: Call Ada")
        expect(field).to_have_value("2026-12-08T09:00")
        field.fill("2026-12-11T10:15")
        listing.locator(f'form[action="/calendar/tasks/{task_id}/move"]').get_by_role("button", name="Save").click()
        page.wait_for_url(f"{live_server}/calendar?view=week&date=2026-12-07")
        assert seed.get_task(task_id).due_at == datetime(2026, 12, 11, 10, 15)
        expect(page.locator(".flash")).to_contain_text("Moved “Call Ada” to Fri 11 Dec 2026, 10:15.")
        expect(page.get_by_role("heading", name="Fri 11 Dec 2026")).to_be_visible()

        page.locator(".flash").get_by_role("button", name="Undo").click()
        page.wait_for_url(f"{live_server}/calendar?view=week&date=2026-12-07")
        assert seed.get_task(task_id).due_at == datetime(2026, 12, 8, 9, 0)
    finally:
        context.close()


def test_axe_finds_no_violations_on_the_week_and_month(browser, live_server, account, seed):
    seed.task("Call Ada", due_at="2026-12-08T09:00:00Z", duration=5400)
    seed.task("Overlap", due_at="2026-12-08T09:30:00Z")
    seed.task("Offsite", due_at="2026-12-09T00:00:00Z")
    seed.task("Done already", due_at="2026-12-10T11:00:00Z", status="completed")
    seed.task("Standup", due_at="2026-12-07T08:00:00Z", recurrence="FREQ=DAILY")
    seed.activity(type="meeting", status="scheduled", subject="Demo", occurred_at="2026-12-10T14:00:00Z")
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, account)
        for view in ("week", "month"):
            page.goto(f"{live_server}/calendar?view={view}&date=2026-12-07")
            assert_no_axe_violations(page, view)
        page.goto(f"{live_server}/calendar?view=week&date=2026-12-07")
        page.get_by_role("button", name=re.compile("^Move")).first.click()  # an open Move form too
        expect(page.locator("#cal-move")).to_be_visible()
        assert_no_axe_violations(page, "open Move form")
    finally:
        context.close()
