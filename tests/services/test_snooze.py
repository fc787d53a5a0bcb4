"""What each snooze choice means in the user's zone, and snoozing a task through the service."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from crm.extensions import db
from crm.services import reminders, tasks
from crm.services.errors import ValidationFailed

FRIDAY = datetime(2026, 12, 4, 10, 0)  # UTC; already Friday 23:00 in Auckland


@pytest.mark.parametrize(("choice", "zone", "extra", "expected"), [
    ("hour", "Pacific/Auckland", {}, datetime(2026, 12, 4, 11, 0)),
    ("tomorrow", "Europe/Berlin", {}, datetime(2026, 12, 5, 8, 0)),  # 09:00 CET
    ("tomorrow", "Pacific/Auckland", {}, datetime(2026, 12, 4, 20, 0)),  # Saturday 09:00 NZDT
    ("next_week", "America/Los_Angeles", {}, datetime(2026, 12, 7, 17, 0)),  # Monday 09:00 PST
    ("date", "Europe/Berlin", {"on": date(2026, 12, 24)}, datetime(2026, 12, 24, 8, 0)),
    ("date", "Europe/Berlin", {"on": date(2026, 12, 24), "at": time(15, 30)}, datetime(2026, 12, 24, 14, 30)),
    ("date", "Pacific/Auckland", {"on": date(2026, 12, 5)}, datetime(2026, 12, 4, 20, 0)),  # today there
])
def test_snooze_choices_in_the_users_zone(choice, zone, extra, expected):
    assert reminders.snooze_until(choice, ZoneInfo(zone), FRIDAY, **extra) == expected


def test_next_week_on_a_monday_is_the_monday_after():
    monday = datetime(2026, 12, 7, 10, 0)
    assert reminders.snooze_until("next_week", ZoneInfo("UTC"), monday) == datetime(2026, 12, 14, 9, 0)


@pytest.mark.parametrize(("extra", "message"), [
    ({}, "Pick a day to snooze until."),
    ({"on": date(2026, 12, 3)}, "Pick today or a later day."),
    ({"on": date(2040, 1, 1)}, "Pick a day within the next 5 years."),
])
def test_a_day_must_be_given_and_ahead(extra, message):
    with pytest.raises(ValidationFailed) as caught:
        reminders.snooze_until("date", ZoneInfo("UTC"), FRIDAY, **extra)
    assert message in str(caught.value.details)


def test_snoozing_a_task_moves_its_due_time_and_rearms_its_reminder(app, api):
    task_id = api.create("/tasks", {"title": "Call Ada", "due_at": "2030-01-07T09:00:00Z",
                                    "reminder": {"type": "email", "before_minutes": 30}})["id"]
    with app.app_context():
        task = tasks.get_task(api.workspace_id, task_id, for_update=True)
        tasks.snooze_task(task, datetime(2030, 1, 8, 9, 0), actor_id=api.user_id)
        task = tasks.get_task(api.workspace_id, task_id)
        assert (task.due_at, task.remind_at, task.reminder_pending_at) == (
            datetime(2030, 1, 8, 9, 0), datetime(2030, 1, 8, 8, 30), datetime(2030, 1, 8, 8, 30))


def test_a_done_task_cannot_be_snoozed(app, api):
    task_id = api.create("/tasks", {"title": "Called Bob", "status": "completed", "due_at": "2030-01-07T09:00:00Z"})["id"]
    with app.app_context():
        task = tasks.get_task(api.workspace_id, task_id, for_update=True)
        with pytest.raises(ValidationFailed):
            tasks.snooze_task(task, datetime(2030, 1, 8, 9, 0))
        db.session.rollback()
        assert tasks.get_task(api.workspace_id, task_id).due_at == datetime(2030, 1, 7, 9, 0)
