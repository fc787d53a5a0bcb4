"""Repeat and Duration in the task forms, the series on the task page, and the activity page
with its tasks (SPEC §11)."""

from __future__ import annotations

import re

from sqlalchemy import select

from crm.extensions import db
from crm.models import Task


def form_fields(**extra) -> dict:
    return {"title": "Weekly report", "type": "todo", "priority": "normal", "status": "pending",
            "due_at": "2026-03-16T09:00", "description": "", **extra}


def selected_repeat(page: str) -> str:
    select_html = re.search(r'<select id="f-repeat".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected>', select_html).group(1)


def test_the_new_task_form_sets_repeat_and_duration(web, app):
    page = web.text(web.get("/tasks/new"))
    for label in ('for="f-repeat">Repeat', 'for="f-duration">Duration', "Every weekday (Mon–Fri)", "Custom (RRULE)"):
        assert label in page
    r = web.post("/tasks", form_fields(repeat="weekdays", duration="90"))
    assert r.status_code == 303
    with app.app_context():
        task = db.session.execute(select(Task).where(Task.title == "Weekly report")).unique().scalar_one()
        assert (task.recurrence, task.duration) == ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", 5400)


def test_a_custom_rule_is_validated_in_the_form(web, app):
    r = web.post("/tasks", form_fields(repeat="custom", repeat_rule="FREQ=HOURLY"))
    assert r.status_code == 422
    page = web.text(r)
    assert 'id="f-repeat-error"' in page and "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY." in page
    assert 'value="FREQ=HOURLY"' in page  # what was typed stays
    r = web.post("/tasks", form_fields(repeat="custom", repeat_rule="freq=monthly;bymonthday=-1"))
    assert r.status_code == 303
    with app.app_context():
        assert db.session.execute(select(Task.recurrence)).scalar_one() == "FREQ=MONTHLY;BYMONTHDAY=-1"


def test_repeat_needs_a_due_date_in_the_form(web):
    r = web.post("/tasks", form_fields(repeat="daily", due_at=""))
    assert r.status_code == 422
    assert "A recurring task needs a due_at." in web.text(r)


def test_a_wrong_duration_is_a_form_error(web):
    r = web.post("/tasks", form_fields(duration="an hour"))
    assert r.status_code == 422
    assert 'id="f-duration-error"' in web.text(r)


def test_the_edit_form_shows_and_changes_the_rule(web, app):
    weekly = web.task("Stand-up", due_at="2026-03-16T09:00:00Z", recurrence="FREQ=WEEKLY", duration=900)
    custom = web.task("Board", due_at="2026-03-16T09:00:00Z", recurrence="FREQ=MONTHLY;INTERVAL=3")
    page = web.text(web.get(f"/tasks/{weekly}/edit"))
    assert selected_repeat(page) == "weekly" and 'name="duration" inputmode="numeric" pattern="[0-9]*" value="15"' in page
    page = web.text(web.get(f"/tasks/{custom}/edit"))
    assert selected_repeat(page) == "custom" and 'value="FREQ=MONTHLY;INTERVAL=3"' in page
    r = web.post(f"/tasks/{weekly}/edit", form_fields(title="Stand-up", repeat="", duration=""))
    assert r.status_code == 303
    task = web.load_task(weekly)
    assert task.recurrence is None and task.duration is None


def test_ticking_a_recurring_task_makes_the_next_and_the_task_page_shows_the_series(web, app):
    first = web.task("Stand-up", due_at="2026-03-16T09:00:00Z", recurrence="FREQ=WEEKLY;COUNT=3")
    r = web.post(f"/tasks/{first}/complete", htmx=True)
    assert r.status_code == 200
    nxt = web.load_task(first).next_task_id
    assert nxt and web.load_task(nxt).due_at.isoformat() == "2026-03-23T09:00:00"
    page = web.text(web.get(f"/tasks/{nxt}"))
    assert 'id="series-head">Series' in page
    series = re.search(r'<ol class="series-list">(.*?)</ol>', page, re.S).group(1)
    assert f'href="/tasks/{first}">Mon 16 Mar 2026, 09:00</a>' in series
    assert '<strong>Mon 23 Mar 2026, 09:00</strong>' in series
    assert "Mon 30 Mar 2026, 09:00" in series  # the last one (COUNT=3), to be made
    assert "Mon 6 Apr 2026" not in series
    assert "FREQ=WEEKLY;COUNT=2" in page


def test_the_activity_page_lists_its_tasks_and_adds_linked_ones(web, app):
    meeting = web.activity(type="meeting", status="scheduled", subject="Demo with Initech")
    prep = web.task("Prepare the slides", activity_id=meeting)
    web.task("Unrelated")
    page = web.text(web.get(f"/activities/{meeting}"))
    assert "<h1>Demo with Initech</h1>" in page
    tasks_section = page[page.index('id="activity-tasks-head"'):]
    assert f'id="task-{prep}"' in tasks_section and "Unrelated" not in tasks_section
    assert f'name="activity_id" value="{meeting}"' in tasks_section

    r = web.post("/tasks", {"title": "Send the follow-up", "activity_id": meeting, "target": "#record-tasks"},
                 htmx=True)
    assert r.status_code == 200
    with app.app_context():
        follow_up = db.session.execute(select(Task).where(Task.title == "Send the follow-up")).unique().scalar_one()
        assert follow_up.activity_id == meeting
    assert f"/activities/{meeting}" in web.text(web.get(f"/tasks/{prep}"))  # the task links back
    assert f'href="/activities/{meeting}"' in web.text(web.get("/activities"))  # the log links to the page

    assert web.post(f"/activities/{meeting}/delete").status_code == 303
    assert web.load_task(prep).activity_id is None
    assert web.get(f"/tasks/{prep}").status_code == 200


def test_another_workspaces_activity_page_is_a_404(web, other_web):
    theirs = other_web.activity(type="call", subject="Secret")
    assert web.get(f"/activities/{theirs}").status_code == 404
