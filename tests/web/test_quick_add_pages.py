"""Quick add that reads dates and repeats: the preview as you type, saving with and without
JavaScript, removing the reading (before saving with ×, after it with Undo)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm import clock

# Friday 4 December 2026, 10:00 UTC (11:00 in Berlin).
NOW = datetime(2026, 12, 4, 10, 0)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def friday_morning():
    clock.set_offset(NOW - datetime.now(UTC).replace(tzinfo=None))
    yield
    clock.set_offset(timedelta(0))


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time as stored (naive UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC).replace(tzinfo=None)


def row_ids(text: str) -> list[str]:
    return re.findall(r'<li id="task-(task_\w+)"', text)


def quick_add(web, title: str, htmx: bool = True, **extra):
    return web.post("/tasks", {"title": title, "quick": "1", "target": "#task-list", "next": "/tasks", **extra},
                    htmx=htmx)


def test_the_list_page_wires_the_preview_to_the_new_task_box(web):
    page = web.text(web.get("/tasks"))
    box = re.search(r'<input id="new-task-title"[^>]*>', page).group(0)
    assert 'data-hx-get="/tasks/quick-add/preview"' in box and "delay:250ms" in box
    assert '<input type="hidden" name="quick" value="1">' in page
    assert '<div id="quick-add-preview" class="quick-add-preview" aria-live="polite"></div>' in page


def test_preview_shows_the_due_time_in_the_users_zone(web):
    web.set_time_zone("Europe/Berlin")
    response = web.get("/tasks/quick-add/preview?title=Call+Ada+tomorrow+3pm", htmx=True)
    text = web.text(response)
    assert response.status_code == 200 and "<html" not in text
    assert "Due Sat 5 Dec 15:00" in text
    assert 'aria-label="Remove the date: keep the words in the title"' in text
    assert len(response.data) < 1024


def test_preview_shows_a_repeat_and_its_first_due_day(web):
    text = web.text(web.get("/tasks/quick-add/preview?title=Standup+every+weekday+9am", htmx=True))
    assert "Due Mon 7 Dec 09:00 · Repeats every weekday" in html.unescape(text)


def test_preview_is_empty_for_words_that_are_not_dates(web):
    for title in ("Call May about the deal", "Send 3 quotes", ""):
        text = web.text(web.get(f"/tasks/quick-add/preview?title={title}", htmx=True))
        assert text.strip() == '<div id="quick-add-preview" class="quick-add-preview" aria-live="polite"></div>'


def test_removing_the_reading_keeps_it_removed_as_you_type(web):
    text = web.text(web.get("/tasks/quick-add/preview?no_parse=1&title=Call+Ada+tomorrow", htmx=True))
    assert '<input type="hidden" name="no_parse" value="1">' in text and "Due" not in text
    assert "Read them again" in text


def test_preview_runs_no_statement_beyond_signing_in(web, count_queries):
    web.get("/tasks/quick-add/preview?title=x", htmx=True)
    with count_queries() as statements:
        web.get("/tasks/quick-add/preview?title=Renewal+call+12+March+10:30", htmx=True)
    assert [s for s in statements if "user_sessions" not in s and "FROM users" not in s] == []


def test_preview_without_htmx_goes_to_the_list(web):
    response = web.get("/tasks/quick-add/preview?title=tomorrow")
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"


def test_quick_add_saves_the_reading_and_confirms_it(web):
    web.set_time_zone("Europe/Berlin")
    response = quick_add(web, "Call Ada tomorrow 3pm")
    assert response.status_code == 200
    task = web.load_task(row_ids(web.text(response))[0])
    assert (task.title, task.due_at, task.recurrence) == ("Call Ada", berlin("2026-12-05T15:00"), None)
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    assert event["message"] == "Added “Call Ada”: due Sat 5 Dec 15:00."
    assert event["undo_target"] == f"#task-{task.id}"


def test_quick_add_saves_a_repeat(web):
    response = quick_add(web, "Standup every weekday 9am")
    task = web.load_task(row_ids(web.text(response))[0])
    assert (task.title, task.due_at, task.recurrence) == (
        "Standup", datetime(2026, 12, 7, 9, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")


def test_a_removed_reading_keeps_the_words_in_the_title(web):
    response = quick_add(web, "Call Ada tomorrow 3pm", no_parse="1")
    task = web.load_task(row_ids(web.text(response))[0])
    assert (task.title, task.due_at) == ("Call Ada tomorrow 3pm", None)
    # Nothing was read, so nothing to undo: the plain "Added" toast, with its link to the new task.
    assert json.loads(response.headers["HX-Trigger"])["followup:toast"] == {
        "message": "Added “Call Ada tomorrow 3pm”.", "undo_url": None, "undo_target": None,
        "link_url": f"/tasks/{task.id}"}


def test_the_due_field_wins_over_date_words_but_a_repeat_is_still_read(web):
    response = quick_add(web, "Call Ada tomorrow every week", due_at="2026-12-10T08:30")
    task = web.load_task(row_ids(web.text(response))[0])
    assert (task.title, task.due_at, task.recurrence) == ("Call Ada tomorrow", datetime(2026, 12, 10, 8, 30),
                                                          "FREQ=WEEKLY")
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    assert event["message"] == "Added “Call Ada tomorrow”: repeats every week."


def test_the_full_new_task_form_takes_the_title_as_typed(web):
    web.post("/tasks", {"title": "Call Ada tomorrow 3pm"})
    task = web.load_task(row_ids(web.text(web.get("/tasks")))[0])
    assert (task.title, task.due_at) == ("Call Ada tomorrow 3pm", None)


def test_without_javascript_the_message_says_what_was_read_and_undo_puts_the_words_back(web):
    response = quick_add(web, "Renewal call 12 March 10:30", htmx=False)
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    page = web.text(web.get("/tasks"))
    task_id = row_ids(page)[0]
    assert (web.load_task(task_id).title, web.load_task(task_id).due_at) == ("Renewal call",
                                                                              datetime(2027, 3, 12, 10, 30))
    assert "Added “Renewal call”: due Fri 12 Mar 2027 10:30." in html.unescape(page)
    undo = re.search(r'<div class="flash".*?<form method="post" action="([^"]+)"', page, re.S).group(1)
    assert web.post(html.unescape(undo), {}).status_code == 303
    task = web.load_task(task_id)
    assert (task.title, task.due_at, task.recurrence) == ("Renewal call 12 March 10:30", None, None)


def test_undo_of_a_repeat_with_htmx_answers_with_the_row(web):
    response = quick_add(web, "Standup every weekday 9am")
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    undo = web.post(event["undo_url"], htmx=True)
    task_id = row_ids(web.text(response))[0]
    assert web.text(undo).lstrip().startswith(f'<li id="task-{task_id}"')
    task = web.load_task(task_id)
    assert (task.title, task.due_at, task.recurrence) == ("Standup every weekday 9am", None, None)


def test_undo_needs_csrf_and_the_task_of_ones_own_workspace(web, other_web):
    response = quick_add(web, "Call Ada tomorrow")
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    assert web.post(event["undo_url"], csrf=False).status_code == 400
    assert other_web.post(event["undo_url"]).status_code == 404
    assert web.load_task(row_ids(web.text(response))[0]).title == "Call Ada"
