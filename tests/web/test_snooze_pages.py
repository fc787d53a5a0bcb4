"""Snoozing a task from its row (htmx and plain posts), and a reminder notification to a day."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta

import pytest

from crm import clock
from crm.extensions import db
from crm.services import reminders

# The same Friday morning in Berlin as the quick-add pages (an autouse fixture, imported).
from tests.web.test_quick_add_pages import NOW, berlin, friday_morning  # noqa: F401, E402


def snooze(web, task_id: str, until: str, htmx: bool = True, **extra):
    return web.post(f"/tasks/{task_id}/snooze", {"until": until, **extra}, htmx=htmx)


def test_an_open_row_offers_snooze_and_a_done_one_does_not(web):
    open_id = web.task("Call Ada")
    done_id = web.task("Called Bob", status="completed")
    page = web.text(web.get("/tasks?view=all"))
    open_row = re.search(rf'<li id="task-{open_id}".*?</li>', page, re.S).group(0)
    done_row = re.search(rf'<li id="task-{done_id}".*?</li>', page, re.S).group(0)
    assert f'data-hx-get="/tasks/{open_id}/snooze"' in open_row and "Snooze" not in done_row


def test_snooze_opens_its_choices_in_the_row(web):
    task_id = web.task("Call Ada")
    text = web.text(web.get(f"/tasks/{task_id}/snooze", htmx=True))
    assert text.lstrip().startswith(f'<li id="task-{task_id}"') and "<html" not in text
    for label in ("1 hour", "Tomorrow 09:00", "Next Monday 09:00", "Snooze to that day"):
        assert label in text
    assert 'type="date" name="on" min="2026-12-04"' in text and "data-cancel" in text


def test_snooze_tomorrow_moves_the_due_time_to_nine_in_the_users_zone(web):
    web.set_time_zone("Europe/Berlin")
    task_id = web.task("Call Ada", due_at="2026-12-04T08:00:00Z")
    response = snooze(web, task_id, "tomorrow")
    assert response.status_code == 200 and web.text(response).lstrip().startswith(f'<li id="task-{task_id}"')
    assert web.load_task(task_id).due_at == berlin("2026-12-05T09:00")
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    assert event["message"] == "Snoozed “Call Ada” until Sat 5 Dec 09:00."


def test_snooze_an_hour_and_to_next_monday(web):
    task_id = web.task("Call Ada")
    snooze(web, task_id, "hour")
    assert web.load_task(task_id).due_at - clock.now() <= timedelta(hours=1)
    assert web.load_task(task_id).due_at - NOW >= timedelta(hours=1)
    snooze(web, task_id, "next_week")
    assert web.load_task(task_id).due_at == datetime(2026, 12, 7, 9, 0)


def test_a_picked_day_keeps_the_tasks_time_of_day(web):
    web.set_time_zone("Europe/Berlin")
    timed = web.task("Call Ada", due_at=berlin("2026-12-04T15:30").isoformat() + "Z")
    dated = web.task("Send deck")
    snooze(web, timed, "date", on="2026-12-09")
    snooze(web, dated, "date", on="2026-12-09")
    assert web.load_task(timed).due_at == berlin("2026-12-09T15:30")
    assert web.load_task(dated).due_at == berlin("2026-12-09T00:00")  # a date, as the Due field stores one


def test_snoozing_rearms_the_reminder(web, app):
    task_id = web.task("Call Ada", due_at="2026-12-04T10:30:00Z", reminder={"type": "push", "before_minutes": 15})
    with app.app_context():
        assert reminders.fire_due(datetime(2026, 12, 4, 10, 15)) == 1
    snooze(web, task_id, "tomorrow")
    task = web.load_task(task_id)
    assert (task.remind_at, task.reminded_at) == (datetime(2026, 12, 5, 8, 45), None)
    with app.app_context():
        assert reminders.fire_due(datetime(2026, 12, 5, 8, 44)) == 0
        assert reminders.fire_due(datetime(2026, 12, 5, 8, 45)) == 1


@pytest.mark.parametrize(("form", "message"), [
    ({"until": "date", "on": "2026-12-01"}, "Pick today or a later day."),
    ({"until": "date", "on": "next tuesday"}, "A day as YYYY-MM-DD."),
    ({"until": "date"}, "Pick a day to snooze until."),
    ({"until": "someday"}, "One of: hour, tomorrow, next_week, date."),
])
def test_a_wrong_choice_is_a_form_error_in_the_row(web, form, message):
    task_id = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    response = web.post(f"/tasks/{task_id}/snooze", form, htmx=True)
    assert response.status_code == 422 and message in web.text(response)
    assert 'class="snooze-panel"' in web.text(response)
    assert web.load_task(task_id).due_at == datetime(2026, 12, 8, 9, 0)


def test_a_done_task_is_not_snoozed(web):
    task_id = web.task("Called Bob", status="completed", due_at="2026-12-01T09:00:00Z")
    response = snooze(web, task_id, "tomorrow")
    assert response.status_code == 422 and "Only an open task can be snoozed" in web.text(response)
    assert web.load_task(task_id).due_at == datetime(2026, 12, 1, 9, 0)


def test_without_javascript_snooze_is_a_page_and_a_post_that_comes_back(web):
    task_id = web.task("Call Ada")
    page = web.get(f"/tasks/{task_id}/snooze?next=/tasks?view=all")
    text = web.text(page)
    assert page.status_code == 200 and "<h1>Snooze “Call Ada”</h1>" in text and "data-cancel" not in text
    response = snooze(web, task_id, "tomorrow", htmx=False, next="/tasks?view=all")
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks?view=all")
    assert "Snoozed “Call Ada” until Sat 5 Dec 09:00." in html.unescape(web.text(web.get("/tasks?view=all")))
    bad = snooze(web, task_id, "date", htmx=False, on="2020-01-01")
    assert bad.status_code == 422 and "<html" in web.text(bad) and "Pick today or a later day." in web.text(bad)


def test_snooze_needs_csrf_and_ones_own_workspace(web, other_web):
    task_id = web.task("Call Ada")
    assert web.post(f"/tasks/{task_id}/snooze", {"until": "hour"}, csrf=False).status_code == 400
    assert other_web.post(f"/tasks/{task_id}/snooze", {"until": "hour"}).status_code == 404
    assert other_web.get(f"/tasks/{task_id}/snooze").status_code == 404
    assert web.load_task(task_id).due_at is None


def test_a_reminder_notification_snoozes_to_a_picked_day_at_nine(web, app):
    web.set_time_zone("Europe/Berlin")
    task_id = web.task("Chase the invoice", due_at="2026-12-04T10:30:00Z",
                       reminder={"type": "push", "before_minutes": 15})
    with app.app_context():
        reminders.fire_due(datetime(2026, 12, 4, 10, 15))
        from crm.models import Notification

        note_id = db.session.query(Notification.id).filter_by(task_id=task_id).scalar()
    page = web.text(web.get("/notifications"))
    assert f'id="snooze-on-{note_id}" type="date" name="on"' in page
    response = web.post(f"/notifications/{note_id}/snooze", {"until": "date", "on": "2026-12-10"})
    assert response.status_code == 303
    task = web.load_task(task_id)
    assert (task.remind_at, task.due_at) == (berlin("2026-12-10T09:00"), datetime(2026, 12, 4, 10, 30))
    bad = web.post(f"/notifications/{note_id}/snooze", {"until": "date", "on": "2026-12-01"}, htmx=True)
    assert bad.status_code == 422 and "Pick today or a later day." in web.text(bad)
