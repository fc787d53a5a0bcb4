"""Bulk actions on the task list in a real browser: shift-click selects a range, the bar acts on
the selection without a reload, and the toast's Undo reverses it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_shift_click_selects_a_range_bulk_completes_and_undo_reopens(page, live_server, seed):
    ids = [seed.task(f"Task {n}", due_at=f"2030-01-0{n}T09:00:00Z") for n in range(1, 6)]
    page.goto(f"{live_server}/tasks")
    page.evaluate("window.__marker = 1")

    page.get_by_role("checkbox", name="Select: Task 2").click()
    page.get_by_role("checkbox", name="Select: Task 4").click(modifiers=["Shift"])
    for n, checked in ((1, False), (2, True), (3, True), (4, True), (5, False)):
        expect(page.get_by_role("checkbox", name=f"Select: Task {n}")).to_be_checked(checked=checked)
    expect(page.locator("#bulk .bulk-count")).to_have_text("3 selected")

    page.locator("#bulk").get_by_role("button", name="Complete").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Completed 3 tasks.")
    # "My open tasks": the completed ones leave the list.
    expect(page.locator("#task-list .task-row")).to_have_count(2)
    assert [seed.get_task(i).status for i in ids] == ["pending", "completed", "completed", "completed", "pending"]
    assert page.evaluate("window.__marker") == 1, "the page reloaded"

    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#task-list .task-row")).to_have_count(5)
    assert {seed.get_task(i).status for i in ids} == {"pending"}
    assert page.watched.problems == []


def test_select_all_shown_then_delete_and_undo_restores_all(page, live_server, seed):
    ids = [seed.task(f"Chore {n}") for n in range(3)]
    page.goto(f"{live_server}/tasks?view=all")
    page.get_by_role("checkbox", name="Select all shown").check()
    for n in range(3):
        expect(page.get_by_role("checkbox", name=f"Select: Chore {n}")).to_be_checked()
    page.locator("#bulk").get_by_role("button", name="Delete").click()
    expect(page.locator("#toast")).to_contain_text("Deleted 3 tasks.")
    expect(page.locator("#task-list .task-row")).to_have_count(0)
    assert all(seed.get_task(i) is None for i in ids)
    page.locator("#toast").get_by_role("button", name="Undo").click()
    expect(page.locator("#task-list .task-row")).to_have_count(3)
    expect(page.get_by_role("link", name=re.compile("Chore 0"))).to_be_visible()
    assert page.watched.problems == []
