"""The Today page in a real Chromium: counts that link to their views, the charts' numbers,
a task ticked in place, everything there with JavaScript off, and no axe-core violations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from crm import clock
from tests.browser.a11y import assert_no_axe_violations
from tests.browser.conftest import ARTIFACTS, Watched, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def noon():
    """Noon UTC today (the user's zone is UTC): "later today" and "earlier this week" are stable."""
    real = datetime.now(UTC).replace(tzinfo=None)
    target = real.replace(hour=12, minute=0, second=0, microsecond=0)
    clock.set_offset(target - real)
    yield target
    clock.set_offset(timedelta(0))


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


@pytest.fixture
def week(seed, noon):
    """Two overdue tasks, one due at 15:00 today, one undated, two done this week, activities."""
    monday = (noon - timedelta(days=noon.weekday())).replace(hour=0)
    ids = {
        "late": seed.task("Send the overdue quote", due_at=iso(noon - timedelta(days=9))),
        "later": seed.task("Chase the signed NDA", due_at=iso(noon - timedelta(days=8))),
        "today": seed.task("Call Ada at three", due_at=iso(noon.replace(hour=15)), duration=1800),
        "undated": seed.task("Someday: tidy the pipeline"),
    }
    for title in ("Done one", "Done two"):
        seed.task(title, status="completed", completed_at=iso(monday + timedelta(minutes=5)))
    seed.activity(type="meeting", status="scheduled", subject="Demo with Grace", occurred_at=iso(noon.replace(hour=13)))
    for kind in ("call", "call", "email"):
        seed.activity(type=kind, subject=f"Logged {kind}", occurred_at=iso(monday + timedelta(hours=1)))
    return ids


def counts(page) -> dict[str, str]:
    return {name: page.locator(f"#count-{name} .count-number").inner_text()
            for name in ("overdue", "today", "week", "done-week")}


def test_counts_charts_and_links(page, live_server, week):
    page.goto(f"{live_server}/")
    # The overdue tasks are 8 and 9 days old: before this week.
    assert counts(page) == {"overdue": "2", "today": "1", "week": "1", "done-week": "2"}

    agenda = page.locator("#agenda")
    expect(agenda.locator(".agenda-item")).to_have_count(2)
    expect(agenda.locator(".agenda-item").nth(0)).to_contain_text("Demo with Grace")
    expect(agenda.locator(".agenda-item").nth(1)).to_contain_text("15:00–15:30")

    # The charts draw their numbers on the bars; the tables under "The numbers" hold them too.
    completed = page.locator("svg#chart-completed")
    expect(completed).to_be_visible()
    assert [t for t in completed.locator(".text-overlay text.value").all_text_contents() if t] == ["2"]
    activities = page.locator("svg#chart-activities")
    expect(activities).to_be_visible()
    assert sorted(t for t in activities.locator(".text-overlay text.value").all_text_contents() if t) == ["1", "2"]
    for name in ("Call", "Email"):
        expect(activities.locator(".legends text", has_text=name)).to_be_visible()
    figure = page.locator("#chart-activities-figure")
    figure.get_by_text("The numbers").click()
    last_row = figure.locator("tbody tr").last
    expect(last_row).to_be_visible()
    assert last_row.locator("td").all_inner_texts() == ["2", "1", "3"]
    buckets = page.locator("#chart-buckets-table tbody tr")
    assert [row.locator("td").text_content() for row in buckets.all()] == ["2", "1", "0", "0", "0", "1"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "today.png"), full_page=True)

    page.locator("#count-overdue").click()
    expect(page).to_have_url(re.compile(r"/tasks\?view=overdue"))
    expect(page.locator("li.task-row")).to_have_count(2)
    expect(page.get_by_role("link", name="Send the overdue quote")).to_be_visible()

    page.goto(f"{live_server}/")
    page.locator("#count-done-week").click()
    expect(page).to_have_url(re.compile(r"view=done"))
    expect(page.locator("li.task-row")).to_have_count(2)

    page.goto(f"{live_server}/")
    page.locator("#count-today").click()
    expect(page.locator("li.task-row")).to_have_count(1)
    expect(page.get_by_role("link", name="Call Ada at three")).to_be_visible()
    assert page.watched.problems == []


def test_ticking_an_overdue_task_on_today_completes_it_in_place(page, live_server, seed, week):
    page.goto(f"{live_server}/")
    page.evaluate("window.__marker = 1")
    overdue = int(page.locator("#count-overdue .count-number").inner_text())
    done = int(page.locator("#count-done-week .count-number").inner_text())
    page.get_by_role("checkbox", name=re.compile("Send the overdue quote")).check()
    expect(page.locator(f"#task-{week['late']}")).to_have_class(re.compile("is-done"))
    # ...and the counts follow without a reload
    expect(page.locator("#count-overdue .count-number")).to_have_text(str(overdue - 1))
    expect(page.locator("#count-done-week .count-number")).to_have_text(str(done + 1))
    assert seed.get_task(week["late"]).status == "completed"
    assert page.evaluate("window.__marker") == 1
    assert page.watched.problems == []


def test_everything_is_there_without_javascript(browser, live_server, account, seed, week):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, account)
    page.goto(f"{live_server}/")
    assert counts(page)["overdue"] == "2"
    for selector in ("#agenda", "#overdue-tasks", "#undated-tasks", "svg#chart-completed", "svg#chart-activities",
                     "svg#chart-buckets"):
        expect(page.locator(selector)).to_be_visible()
    figure = page.locator("#chart-completed-figure")
    figure.get_by_text("The numbers").click()  # <details> opens without a script
    expect(figure.locator("tbody tr").last.locator("td")).to_have_text("2")

    # Without JavaScript the checkbox's form has a Done button; the page comes back without the task.
    page.locator(f"#task-{week['late']}").get_by_role("button", name="Done").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator(f"#task-{week['late']}")).to_have_count(0)
    assert counts(page)["overdue"] == "1"
    assert seed.get_task(week["late"]).status == "completed"
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_today_has_no_axe_violations(browser, live_server, account, week, width):
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    sign_in(page, live_server, account)
    page.goto(f"{live_server}/")
    for summary in page.locator("details.chart-data summary").all():
        summary.click()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"Today scrolls sideways at {width}px"
    assert_no_axe_violations(page)
    if width < 500:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "today-phone.png"), full_page=True)
    assert watched.problems == []
    context.close()
