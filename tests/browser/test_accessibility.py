"""axe-core reports no violation, of any impact, on every product page (tests/product_pages.py),
and in the states a page reaches: a row's menu open, a row edited in place, the phone layout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_no_axe_violations, axe_context
from tests.browser.conftest import PASSWORD, Watched, sign_in
from tests.conftest import make_account
from tests.product_pages import PAGES, SETUP_PAGE, SIGNED_OUT_PAGES, seed_product_pages

pytestmark = pytest.mark.browser


def test_every_product_page_has_no_axe_violations(browser, app, live_server):
    context = axe_context(browser)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page)
    page.goto(live_server + SETUP_PAGE.url({}))  # a fresh install: no user yet
    expect(page.get_by_role("button", name="Create workspace")).to_be_visible()
    assert_no_axe_violations(page, SETUP_PAGE.name)

    ws_id, user_id, _secret = make_account(app, password=PASSWORD)
    for entry in SIGNED_OUT_PAGES:
        page.goto(live_server + entry.url({}))
        assert_no_axe_violations(page, entry.name)
    ids = seed_product_pages(app, ws_id, user_id)
    sign_in(page, live_server, {"email": "owner@acme.test", "password": PASSWORD})
    for entry in PAGES:
        page.goto(live_server + entry.url(ids))
        expect(page.locator("main h1").first).to_be_visible()
        assert_no_axe_violations(page, entry.name)
    context.close()
    assert watched.problems == []


def test_states_of_the_task_list_have_no_axe_violations(browser, app, live_server):
    ws_id, user_id, _secret = make_account(app, password=PASSWORD)
    seed_product_pages(app, ws_id, user_id)
    for width in (1280, 390):
        context = axe_context(browser, width=width, height=844)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, {"email": "owner@acme.test", "password": PASSWORD})
        row = page.locator("li.task-row").first
        row.get_by_text("More").click()
        expect(row.get_by_role("button", name="Edit")).to_be_visible()
        assert_no_axe_violations(page, f"menu open at {width}px")
        row.get_by_role("button", name="Edit").click()
        expect(page.locator("li.task-row.editing")).to_have_count(1)
        assert_no_axe_violations(page, f"row editing at {width}px")
        page.keyboard.press("Escape")
        expect(page.locator("li.task-row.editing")).to_have_count(0)
        if width < 700:
            page.get_by_role("button", name="Filters").click()
            expect(page.get_by_label("Priority")).to_be_visible()
            assert_no_axe_violations(page, "filters open on a phone")
        context.close()
