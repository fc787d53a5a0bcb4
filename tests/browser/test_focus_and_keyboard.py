"""Keyboard-only use, focus after every swap, CSP after Back, the Copy button, the phone layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched, sign_in

pytestmark = pytest.mark.browser


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page, locator, limit: int = 120, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until `locator` has the focus (fails after `limit` presses)."""
    for _ in range(limit):
        if is_focused(locator):
            return
        page.keyboard.press(key)
    raise AssertionError(f"Tab never reached {locator}")


def focused_row_id(page) -> str | None:
    return page.evaluate("(document.activeElement.closest('.row') || {}).id || null")


def test_keyboard_only_ticks_edits_and_deletes_a_task(page, live_server, seed):
    ids = {title: seed.task(title) for title in ("Alpha call", "Bravo mail", "Charlie visit", "Delta memo")}
    page.goto(f"{live_server}/tasks?view=all")
    page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation (the browser's own dialog)

    # Tick with Space.
    box = page.get_by_role("checkbox", name="Mark done: Alpha call")
    tab_to(page, box)
    page.keyboard.press("Space")
    expect(page.locator(f"#task-{ids['Alpha call']}")).to_have_class(re.compile("is-done"))
    assert seed.get_task(ids["Alpha call"]).status == "completed"
    assert focused_row_id(page) == f"task-{ids['Alpha call']}"  # the swapped row kept the focus

    # Edit: Enter opens the row's menu, Space presses Edit, the form takes the focus, Enter saves.
    bravo = page.locator(f"#task-{ids['Bravo mail']}")
    tab_to(page, bravo.locator("summary"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert is_focused(bravo.get_by_role("button", name="Edit"))
    page.keyboard.press("Space")
    title = bravo.get_by_label("Title")
    expect(title).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Bravo mail, sent")
    page.keyboard.press("Enter")
    expect(bravo.get_by_role("link", name="Bravo mail, sent")).to_be_focused()
    assert seed.get_task(ids["Bravo mail"]).title == "Bravo mail, sent"

    # Cancel with Escape gives the focus back to the row.
    tab_to(page, bravo.locator("summary"))
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(title).to_be_focused()
    page.keyboard.press("Escape")
    expect(bravo.get_by_role("link", name="Bravo mail, sent")).to_be_focused()

    # Delete: the menu's last button (after Edit and Snooze); the focus moves on to the next row.
    charlie = page.locator(f"#task-{ids['Charlie visit']}")
    tab_to(page, charlie.locator("summary"))
    page.keyboard.press("Enter")
    for _ in range(3):
        page.keyboard.press("Tab")
    assert is_focused(charlie.get_by_role("button", name="Delete"))
    next_row = charlie.evaluate("li => li.nextElementSibling.id")
    page.keyboard.press("Enter")
    expect(charlie).to_have_count(0)
    assert seed.get_task(ids["Charlie visit"]) is None
    expect(page.locator(f"#{next_row} a.row-title")).to_be_focused()

    # Bulk complete: Space on two rows' selection boxes, then Enter on the bulk bar's Complete.
    for title in ("Bravo mail, sent", "Delta memo"):
        tab_to(page, page.get_by_role("checkbox", name=f"Select: {title}"))
        page.keyboard.press("Space")
    tab_to(page, page.locator("#bulk").get_by_role("button", name="Complete", exact=True), key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#task-{ids['Delta memo']}")).to_have_class(re.compile("is-done"))
    assert seed.get_task(ids["Bravo mail"]).status == "completed"
    assert seed.get_task(ids["Delta memo"]).status == "completed"
    assert page.watched.problems == []


def test_focus_goes_to_the_next_row_after_a_delete_and_to_the_previous_at_the_end(page, live_server, seed):
    first, middle, last = (seed.task(t) for t in ("One", "Two", "Three"))
    page.goto(f"{live_server}/tasks?view=all")
    page.on("dialog", lambda dialog: dialog.accept())
    order = page.evaluate("[...document.querySelectorAll('li.task-row')].map(li => li.id)")
    top, mid, bottom = order
    for doomed, expected in ((mid, bottom), (bottom, top)):
        row = page.locator(f"#{doomed}")
        row.locator("summary").click()
        row.get_by_role("button", name="Delete").click()
        expect(row).to_have_count(0)
        expect(page.locator(f"#{expected} a.row-title")).to_be_focused()
    assert [t for t in (first, middle, last) if seed.get_task(t)] == [top.removeprefix("task-")]


def test_activity_inline_edit_takes_the_focus_so_escape_cancels(page, live_server, seed):
    activity_id = seed.activity(type="call", subject="Spoke to Ada")
    page.goto(f"{live_server}/activities")
    entry = page.locator(f"#activity-{activity_id}")
    entry.locator("summary").click()
    entry.get_by_role("button", name="Edit").click()
    expect(entry.get_by_label("Type")).to_be_focused()
    page.keyboard.press("Escape")
    expect(entry.get_by_label("Type")).to_have_count(0)
    expect(entry.get_by_role("link", name="Spoke to Ada")).to_be_focused()
    assert page.watched.problems == []


def test_back_after_filtering_raises_no_csp_errors(page, live_server, seed):
    seed.task("Ring Hooli", priority="high")
    seed.task("Email Initech")
    page.goto(f"{live_server}/tasks?view=all")
    page.get_by_label("Search").press_sequentially("hooli", delay=30)
    page.wait_for_url(re.compile(r"q=hooli"))
    page.wait_for_load_state("networkidle")
    page.get_by_label("Priority").select_option("high")
    page.wait_for_url(re.compile(r"priority=high"))
    page.wait_for_load_state("networkidle")
    with page.expect_event("load"):  # htmx reloads the page it keeps no copy of
        page.evaluate("setTimeout(() => history.back(), 0)")
    assert "q=hooli" in page.url and "priority=high" not in page.url
    expect(page.get_by_role("link", name="Ring Hooli")).to_be_visible()
    with page.expect_event("load"):
        page.evaluate("setTimeout(() => history.back(), 0)")
    page.wait_for_url(re.compile(r"/tasks\?view=all$"))
    expect(page.get_by_role("link", name="Email Initech")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.watched.problems == []


def test_new_api_key_is_monospace_with_a_copy_button(browser, live_server, account):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    watched = Watched(page)
    sign_in(page, live_server, account)
    page.goto(f"{live_server}/settings")
    page.get_by_label("Label").fill("Sync")
    page.get_by_role("button", name="Create API key").click()
    field = page.get_by_label("New API key secret")
    secret = field.input_value()
    assert secret.startswith("fu_")
    assert "mono" in field.evaluate("el => getComputedStyle(el).fontFamily").lower()
    # Tall enough for the descender: an underscore is not cut off.
    assert field.evaluate("el => el.clientHeight >= parseFloat(getComputedStyle(el).fontSize) * 1.5")
    copy = page.locator(".secret").get_by_role("button", name="Copy")
    copy.click()
    expect(page.locator(".secret").get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.reload()
    expect(page.get_by_label("New API key secret")).to_have_count(0)
    assert page.get_by_role("cell", name="Sync").count() == 1  # the reload made no second key
    context.close()
    assert watched.problems == []


def test_on_a_phone_the_list_comes_first_and_filters_wait_behind_a_button(browser, live_server, account, seed):
    for n in range(3):
        seed.task(f"Phone task {n}")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    watched = Watched(page)
    sign_in(page, live_server, account)
    expect(page.get_by_label("Priority")).to_be_hidden()
    first_row = page.locator("li.task-row").first
    assert first_row.bounding_box()["y"] + 40 < 844 / 2, "the list starts in the top half of the screen"
    page.get_by_role("button", name="Filters").click()
    expect(page.get_by_role("button", name="Filters")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Priority")).to_be_visible()
    context.close()
    assert watched.problems == []
