"""Quick add's reading and snooze in a real browser: the preview appears as you type, × keeps the
words, a reading is saved as the due time, a row snoozes in place; all without a page reload."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from crm import clock

pytestmark = pytest.mark.browser


def mark_page(page) -> None:
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def newest_task(seed, page, title: str):
    row = page.locator("#task-list li.task-row", has_text=title).first
    expect(row).to_be_visible()
    return seed.get_task(row.get_attribute("id").removeprefix("task-"))


def test_the_preview_appears_and_removing_it_keeps_the_words(page, live_server, seed):
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    box = page.get_by_label("New task")
    box.press_sequentially("Call Ada tomorrow 3pm", delay=20)
    preview = page.locator("#quick-add-preview")
    tomorrow = (clock.now() + timedelta(days=1)).date()  # the user's zone is UTC
    expect(preview).to_contain_text(f"Due {tomorrow:%a %-d %b} 15:00")

    preview.get_by_role("button", name="Remove the date: keep the words in the title").click()
    expect(preview).to_contain_text("Dates kept as words in the title")
    expect(box).to_be_focused()
    box.press_sequentially(" ok", delay=20)  # typing on keeps the reading removed
    expect(preview).to_contain_text("Dates kept as words in the title")
    box.press("Enter")

    task = newest_task(seed, page, "Call Ada tomorrow 3pm ok")
    assert (task.title, task.due_at, task.recurrence) == ("Call Ada tomorrow 3pm ok", None, None)
    expect(box).to_have_value("")
    expect(preview).to_be_empty()
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_a_reading_is_saved_as_the_due_time_and_the_toast_says_so(page, live_server, seed):
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    page.get_by_label("New task").press_sequentially("Call Ada tomorrow 3pm", delay=20)
    expect(page.locator("#quick-add-preview")).to_contain_text("Due")
    page.get_by_role("button", name="Add").click()

    task = newest_task(seed, page, "Call Ada")
    tomorrow = (clock.now() + timedelta(days=1)).date()
    assert (task.title, task.due_at) == ("Call Ada", datetime.combine(tomorrow, time(15, 0)))
    toast = page.locator("#toast")
    expect(toast).to_contain_text(f"Added “Call Ada”: due {tomorrow:%a %-d %b} 15:00.")

    toast.get_by_role("button", name="Undo").click()  # takes the reading back
    expect(page.locator(f"#task-{task.id}")).to_contain_text("Call Ada tomorrow 3pm")
    assert (seed.get_task(task.id).title, seed.get_task(task.id).due_at) == ("Call Ada tomorrow 3pm", None)
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_a_repeat_is_previewed_and_saved(page, live_server, seed):
    page.goto(f"{live_server}/tasks?view=all")
    page.get_by_label("New task").press_sequentially("Standup every weekday 9am", delay=20)
    expect(page.locator("#quick-add-preview")).to_contain_text("Repeats every weekday")
    page.get_by_label("New task").press("Enter")
    task = newest_task(seed, page, "Standup")
    assert task.recurrence == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert task.due_at.weekday() < 5 and task.due_at.time() == time(9, 0) and task.due_at > clock.now()
    assert page.watched.problems == []


def snooze_from_menu(row) -> None:
    """Snooze sits in the row's "More" menu with Edit and Delete: open the menu, then choose it."""
    row.locator("summary").click()
    row.get_by_role("button", name="Snooze", exact=True).click()


def test_snooze_from_a_row_moves_it_in_place(page, live_server, seed):
    task_id = seed.task("Send the proposal", due_at="2030-01-15T10:00:00Z")
    page.goto(f"{live_server}/tasks?view=all")
    mark_page(page)
    row = page.locator(f"#task-{task_id}")
    snooze_from_menu(row)
    expect(row.get_by_role("button", name="Next Monday 09:00")).to_be_visible()
    row.get_by_role("button", name="Tomorrow 09:00").click()
    expect(row.get_by_role("button", name="Tomorrow 09:00")).to_have_count(0)
    tomorrow = (clock.now() + timedelta(days=1)).date()
    assert seed.get_task(task_id).due_at == datetime.combine(tomorrow, time(9, 0))
    expect(page.locator("#toast")).to_contain_text(f"Snoozed “Send the proposal” until {tomorrow:%a %-d %b} 09:00.")

    snooze_from_menu(row)
    row.get_by_label("Snooze until the day").fill("2030-02-01")
    row.get_by_role("button", name="Snooze to that day").click()
    expect(row.get_by_role("button", name="Snooze to that day")).to_have_count(0)
    assert seed.get_task(task_id).due_at == datetime(2030, 2, 1, 9, 0)  # the time of day is kept

    snooze_from_menu(row)
    row.get_by_label("Snooze until the day").press("Escape")
    expect(row.get_by_role("button", name="Tomorrow 09:00")).to_have_count(0)
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_quick_add_reads_dates_with_javascript_off(browser, live_server, account, seed):
    from tests.browser.conftest import sign_in

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, account)
        page.get_by_label("New task").fill("Renewal call 12 March 10:30")
        page.get_by_role("button", name="Add").click()
        page.wait_for_url(re.compile(r"/tasks"))
        expect(page.locator(".flash")).to_contain_text("Added “Renewal call”: due")
        link = page.get_by_role("link", name="Renewal call", exact=True)
        task = seed.get_task(link.get_attribute("href").removeprefix("/tasks/"))
        assert (task.due_at.month, task.due_at.day, task.due_at.time()) == (3, 12, time(10, 30))
        page.locator(".flash").get_by_role("button", name="Undo").click()
        page.wait_for_url(re.compile(r"/tasks"))
        expect(page.get_by_role("link", name="Renewal call 12 March 10:30")).to_be_visible()
        assert seed.get_task(task.id).due_at is None
    finally:
        context.close()


def test_the_preview_and_the_snooze_choices_pass_axe(browser, live_server, account, seed):
    """axe-core (from node_modules, as CI installs it) finds nothing in the open preview and panel."""
    from pathlib import Path

    from tests.browser.conftest import sign_in

    axe = (Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js").read_text()
    task_id = seed.task("Send the proposal", due_at="2030-01-15T10:00:00Z")
    context = browser.new_context(bypass_csp=True)  # only so that axe's own script can be added
    page = context.new_page()
    try:
        sign_in(page, live_server, account)
        page.get_by_label("New task").press_sequentially("Call Ada tomorrow 3pm", delay=20)
        expect(page.locator("#quick-add-preview")).to_contain_text("Due")
        snooze_from_menu(page.locator(f"#task-{task_id}"))
        expect(page.locator(f"#task-{task_id} .snooze-panel")).to_be_visible()
        page.evaluate(axe)
        for selector in ("#quick-add", f"#task-{task_id}"):
            result = page.evaluate("(sel) => axe.run(document.querySelector(sel)).then(r => r.violations"
                                   ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
                                   selector)
            assert result == [], selector
    finally:
        context.close()
