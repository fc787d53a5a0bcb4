"""The task list in a real browser: every inline action swaps in place, without a page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def mark_page(page) -> None:
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def row(page, task_id):
    return page.locator(f"#task-{task_id}")


def menu_action(the_row, name: str) -> None:
    """Edit and Delete sit in the row's "More" menu: open it (unless it is open), then choose."""
    button = the_row.get_by_role("button", name=name)
    if not button.is_visible():
        the_row.locator("summary").click()
    button.click()


def test_ticking_completes_in_place_and_unticking_reopens(page, live_server, seed):
    task_id = seed.task("Call Ada about the renewal")
    page.goto(f"{live_server}/tasks?view=all")
    mark_page(page)
    box = page.get_by_role("checkbox", name=re.compile("^(Mark done|Done): Call Ada about the renewal"))

    box.check()
    expect(row(page, task_id)).to_have_class(re.compile("is-done"))
    assert seed.get_task(task_id).status == "completed"

    page.get_by_role("checkbox", name=re.compile("^(Mark done|Done): Call Ada about the renewal")).uncheck()
    expect(row(page, task_id)).not_to_have_class(re.compile("is-done"))
    assert seed.get_task(task_id).status == "pending"
    assert seed.get_task(task_id).completed_at is None
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_edit_in_place_shows_errors_in_the_row_and_escape_cancels(page, live_server, seed):
    task_id = seed.task("Send the contract")
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    the_row = row(page, task_id)

    menu_action(the_row, "Edit")
    for name in ("Title", "Due", "Priority", "Status", "Owner"):
        expect(the_row.get_by_label(name, exact=True)).to_be_visible()
    expect(the_row.get_by_label("Title")).to_be_focused()

    the_row.get_by_label("Title").fill("   ")
    the_row.get_by_role("button", name="Save").click()
    expect(the_row.locator(".field-error")).to_contain_text("blank")
    assert seed.get_task(task_id).title == "Send the contract"

    the_row.get_by_label("Title").press("Escape")
    expect(the_row.get_by_role("link", name="Send the contract")).to_be_visible()
    expect(the_row.get_by_label("Title")).to_have_count(0)

    menu_action(the_row, "Edit")
    the_row.get_by_label("Title").fill("Send the signed contract")
    the_row.get_by_label("Priority").select_option("urgent")
    the_row.get_by_label("Due").fill("2030-01-15T09:30")
    the_row.get_by_role("button", name="Save").click()
    expect(the_row.get_by_role("link", name="Send the signed contract")).to_be_visible()
    saved = seed.get_task(task_id)
    assert (saved.title, saved.priority) == ("Send the signed contract", "urgent")
    assert saved.due_at.isoformat() == "2030-01-15T09:30:00"  # the user's zone is UTC
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_delete_asks_first_then_removes_the_row(page, live_server, seed):
    keep = seed.task("Keep me")
    gone = seed.task("Delete me")
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    menu_action(row(page, gone), "Delete")
    expect(row(page, gone)).to_be_visible()  # dismissed: still there
    assert seed.get_task(gone) is not None

    menu_action(row(page, gone), "Delete")
    expect(row(page, gone)).to_have_count(0)
    assert "Delete me" in questions[0]
    assert seed.get_task(gone) is None
    expect(row(page, keep)).to_be_visible()
    assert_not_reloaded(page)


def test_quick_add_puts_the_task_on_the_list_without_reload(page, live_server, seed):
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    page.get_by_label("New task").fill("Share pricing sheet with Grace")
    page.get_by_role("button", name="Add").click()
    new_row = page.locator("#task-list li.task-row", has_text="Share pricing sheet with Grace")
    expect(new_row).to_be_visible()
    expect(page.get_by_label("New task")).to_have_value("")

    page.get_by_role("button", name="Add").click()  # blank title: error shown in the form
    expect(page.locator("#quick-add .field-error")).to_contain_text("blank")
    assert_not_reloaded(page)
    assert page.watched.problems == []


def test_quick_add_works_with_javascript_off(browser, live_server, account):
    from tests.browser.conftest import sign_in

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, account)
        page.get_by_label("New task").fill("Written without JavaScript")
        page.get_by_role("button", name="Add").click()
        page.wait_for_url(re.compile(r"/tasks"))
        expect(page.get_by_role("link", name="Written without JavaScript")).to_be_visible()
        # ...and ticking it done works through the plain form too.
        page.locator("li.task-row", has_text="Written without JavaScript").get_by_role("button", name="Done").click()
        page.wait_for_url(re.compile(r"/tasks"))
        expect(page.get_by_role("link", name="Written without JavaScript")).to_have_count(0)  # no longer open
        # The row's menu opens the edit page and the delete confirmation, each coming back to the
        # filtered list it was opened from (the buttons submit the page's shared GET form).
        page.get_by_label("New task").fill("Delete me without JavaScript")
        page.get_by_role("button", name="Add").click()
        page.goto(f"{live_server}/tasks?view=all&status=pending")
        the_row = page.locator("li.task-row", has_text="Delete me without JavaScript")
        menu_action(the_row, "Edit")
        page.wait_for_url(re.compile(r"/tasks/task_\w+/edit\?next="))
        page.go_back()
        the_row = page.locator("li.task-row", has_text="Delete me without JavaScript")
        menu_action(the_row, "Delete")
        page.wait_for_url(re.compile(r"/tasks/task_\w+/delete\?next="))
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(re.compile(r"/tasks\?view=all&status=pending$"))
        expect(page.get_by_role("link", name="Delete me without JavaScript")).to_have_count(0)
    finally:
        context.close()


def test_overdue_tasks_stand_out(page, live_server, seed):
    late = seed.overdue_task("Chase the signed order form")
    page.goto(f"{live_server}/tasks")
    expect(row(page, late)).to_have_class(re.compile("is-overdue"))
    expect(row(page, late).get_by_text("Overdue", exact=True)).to_be_visible()


def test_live_search_filters_as_you_type_and_is_in_the_url(page, live_server, seed):
    seed.task("Prepare proposal for Initech")
    seed.task("Quarterly review with Hooli")
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    page.get_by_label("Search").press_sequentially("hooli", delay=30)
    expect(page.locator("#task-list li.task-row")).to_have_count(1)
    expect(page.locator("#task-list")).to_contain_text("Quarterly review with Hooli")
    expect(page).to_have_url(re.compile(r"q=hooli"))
    assert_not_reloaded(page)


def test_keyboard_moves_between_rows_ticks_and_edits(page, live_server, seed):
    first = seed.task("First task", due_at="2030-01-01")
    second = seed.task("Second task", due_at="2030-01-02")
    page.goto(f"{live_server}/tasks")
    mark_page(page)
    page.keyboard.press("j")
    expect(row(page, first).get_by_role("link", name="First task")).to_be_focused()
    page.keyboard.press("j")
    expect(row(page, second).get_by_role("link", name="Second task")).to_be_focused()
    page.keyboard.press("x")
    expect(row(page, second)).to_have_class(re.compile("is-done"))
    page.keyboard.press("k")
    page.keyboard.press("e")
    expect(row(page, first).get_by_label("Title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(row(page, first).get_by_label("Title")).to_have_count(0)
    page.keyboard.press("n")
    expect(page.get_by_label("New task")).to_be_focused()
    page.get_by_label("New task").press("Escape")
    assert_not_reloaded(page)
