"""Recurring tasks, time blocks and tasks linked to an activity (SPEC §11), over the API."""

from __future__ import annotations

import threading
import zoneinfo
from datetime import datetime

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Task, User

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def set_zone(app, user_id: str, name: str) -> None:
    from crm.services import accounts

    with app.app_context():
        accounts.set_time_zone(db.session.get(User, user_id), name)


def series_count(app, first_id: str) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(Task).where((Task.id == first_id) | (Task.recurrence_of == first_id))
        ).scalar_one()


def complete(api, task_id: str) -> dict:
    r = api.post(f"/tasks/{task_id}/complete")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["data"]


def berlin(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(BERLIN)


# --- Validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, message", [
    ("FREQ=HOURLY", "FREQ must be one of"),
    ("FREQ=WEEKLY;BYHOUR=9", "BYHOUR is not supported"),
    ("BYDAY=MO", "FREQ is required"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT or UNTIL, not both"),
    ("FREQ=WEEKLY;BYDAY=XX", "BYDAY takes days"),
    ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY or YEARLY"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY must be a whole number from -31 to 31"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY takes 1 to 31"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "cannot be used with FREQ=WEEKLY"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number from 1"),
    ("FREQ=DAILY;COUNT=many", "COUNT must be a whole number"),
    ("FREQ=DAILY;UNTIL=2027-01-01", "UNTIL must be a date"),
    ("FREQ=DAILY;UNTIL=20271301", "UNTIL must be a date"),
    ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
    ("every monday", "is not NAME=VALUE"),
    ("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1", "never repeats"),
    (42, "Not a valid string"),
])
def test_a_wrong_rrule_is_a_validation_error_on_recurrence(api, rule, message):
    r = api.post("/tasks", {"title": "Weekly report", "due_at": "2026-03-16T09:00:00Z", "recurrence": rule})
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error"
    assert any(message in m for m in error["details"]["recurrence"]), error["details"]


def test_the_rrule_is_stored_upper_case_with_freq_first(api):
    task = api.create("/tasks", {"title": "t", "due_at": "2026-03-16T09:00:00Z",
                                 "recurrence": " rrule:byday=mo,we;freq=weekly;interval=2 "})
    assert task["recurrence"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"
    assert task["recurrence_of"] is None and task["next_task_id"] is None


def test_a_recurring_task_needs_a_due_time(api):
    r = api.post("/tasks", {"title": "t", "recurrence": "FREQ=DAILY"})
    assert r.status_code == 400
    assert r.get_json()["error"]["details"] == {"recurrence": ["A recurring task needs a due_at."]}
    task = api.create("/tasks", {"title": "t", "due_at": "2026-03-16", "recurrence": "FREQ=DAILY"})
    r = api.patch(f"/tasks/{task['id']}", {"due_at": None})
    assert r.status_code == 400
    assert r.get_json()["error"]["details"] == {"due_at": ["A recurring task needs a due_at."]}
    # Clearing both is fine: the task stops recurring.
    cleared = api.patch(f"/tasks/{task['id']}", {"due_at": None, "recurrence": None}).get_json()["data"]
    assert cleared["recurrence"] is None and cleared["due_at"] is None


@pytest.mark.parametrize("field", ["recurrence_of", "next_task_id"])
def test_series_links_are_read_only(api, field):
    r = api.post("/tasks", {"title": "t", field: "task_01JD3K0000000000000000000A"})
    assert r.status_code == 400
    assert r.get_json()["error"]["details"] == {field: ["This field is read-only."]}


# --- The next occurrence ---------------------------------------------------------------------

def test_completing_makes_the_next_occurrence_with_the_same_fields(api):
    contact = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    call = api.create("/activities", {"type": "meeting", "status": "scheduled"})
    first = api.create("/tasks", {
        "title": "Weekly pipeline review", "description": "Go through **every** deal", "type": "meeting",
        "priority": "high", "due_at": "2026-03-16T09:00:00Z", "recurrence": "FREQ=WEEKLY",
        "contact_id": contact["id"], "reminder": {"type": "email", "before_minutes": 15},
        "tags": ["pipeline", "weekly"], "metadata": {"room": "4B"}, "duration": 1800,
        "activity_id": call["id"],
    })
    done = complete(api, first["id"])
    assert done["status"] == "completed" and done["next_task_id"]
    nxt = api.get(f"/tasks/{done['next_task_id']}").get_json()["data"]
    assert nxt["due_at"] == "2026-03-23T09:00:00Z"
    assert nxt["status"] == "pending" and nxt["completed_at"] is None
    assert nxt["recurrence_of"] == first["id"]
    for field in ("title", "description", "type", "priority", "contact_id", "owner_id", "reminder", "tags",
                  "metadata", "duration", "activity_id", "recurrence"):
        assert nxt[field] == first[field], field
    # The series' first task stays the anchor of later occurrences.
    third = api.get(f"/tasks/{complete(api, nxt['id'])['next_task_id']}").get_json()["data"]
    assert third["recurrence_of"] == first["id"] and third["due_at"] == "2026-03-30T09:00:00Z"


def test_completing_twice_or_after_reopening_makes_one_next_occurrence(api, app):
    first = api.create("/tasks", {"title": "t", "due_at": "2026-03-16T09:00:00Z", "recurrence": "FREQ=DAILY"})
    next_id = complete(api, first["id"])["next_task_id"]
    assert complete(api, first["id"])["next_task_id"] == next_id
    reopened = api.post(f"/tasks/{first['id']}/reopen").get_json()["data"]
    assert reopened["status"] == "pending" and reopened["next_task_id"] == next_id
    assert api.get(f"/tasks/{next_id}").status_code == 200  # reopening keeps it
    assert complete(api, first["id"])["next_task_id"] == next_id
    assert series_count(app, first["id"]) == 2


def test_an_occurrence_already_there_is_linked_not_made_again(api, app):
    first = api.create("/tasks", {"title": "t", "due_at": "2026-03-16T09:00:00Z", "recurrence": "FREQ=DAILY"})
    next_id = complete(api, first["id"])["next_task_id"]
    api.post(f"/tasks/{first['id']}/reopen")
    with app.app_context():  # as if the link had been lost
        db.session.get(Task, first["id"]).next_task_id = None
        db.session.commit()
    assert complete(api, first["id"])["next_task_id"] == next_id
    assert series_count(app, first["id"]) == 2


def test_patching_status_to_completed_also_makes_the_next_occurrence(api):
    first = api.create("/tasks", {"title": "t", "due_at": "2026-03-16T09:00:00Z", "recurrence": "FREQ=MONTHLY"})
    done = api.patch(f"/tasks/{first['id']}", {"status": "completed"}).get_json()["data"]
    assert api.get(f"/tasks/{done['next_task_id']}").get_json()["data"]["due_at"] == "2026-04-16T09:00:00Z"


def test_count_ends_the_series(api, app):
    task = api.create("/tasks", {"title": "t", "due_at": "2026-03-16T09:00:00Z", "recurrence": "FREQ=DAILY;COUNT=3"})
    first_id = task["id"]
    seen = [task["due_at"]]
    rules = [task["recurrence"]]
    for _ in range(2):
        task = api.get(f"/tasks/{complete(api, task['id'])['next_task_id']}").get_json()["data"]
        seen.append(task["due_at"])
        rules.append(task["recurrence"])
    assert complete(api, task["id"])["next_task_id"] is None
    assert seen == ["2026-03-16T09:00:00Z", "2026-03-17T09:00:00Z", "2026-03-18T09:00:00Z"]
    assert rules == ["FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=2", "FREQ=DAILY;COUNT=1"]
    assert series_count(app, first_id) == 3


def test_until_ends_the_series_on_that_day_in_the_owners_zone(api, app):
    set_zone(app, api.user_id, "America/New_York")
    # 20:00 in New York on 16 March is already the 17th in UTC.
    task = api.create("/tasks", {"title": "t", "due_at": "2026-03-17T00:00:00Z",
                                 "recurrence": "FREQ=DAILY;UNTIL=20260318"})
    second = api.get(f"/tasks/{complete(api, task['id'])['next_task_id']}").get_json()["data"]
    third = api.get(f"/tasks/{complete(api, second['id'])['next_task_id']}").get_json()["data"]
    assert third["due_at"] == "2026-03-19T00:00:00Z"  # 18 March, 20:00 in New York
    assert complete(api, third["id"])["next_task_id"] is None


def test_weekdays_skip_the_weekend(api):
    friday = api.create("/tasks", {"title": "t", "due_at": "2026-03-20T09:00:00Z",
                                   "recurrence": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"})
    nxt = api.get(f"/tasks/{complete(api, friday['id'])['next_task_id']}").get_json()["data"]
    assert nxt["due_at"] == "2026-03-23T09:00:00Z"


def test_last_friday_of_the_month(api):
    task = api.create("/tasks", {"title": "t", "due_at": "2026-01-30T16:00:00Z",
                                 "recurrence": "FREQ=MONTHLY;BYDAY=-1FR"})
    nxt = api.get(f"/tasks/{complete(api, task['id'])['next_task_id']}").get_json()["data"]
    assert nxt["due_at"] == "2026-02-27T16:00:00Z"


# --- Daylight saving -------------------------------------------------------------------------

@pytest.mark.parametrize("start, crossing", [
    ("2026-03-16T08:00:00Z", ("2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z")),  # CET → CEST on 29 March
    ("2026-10-12T07:00:00Z", ("2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z")),  # CEST → CET on 25 October
])
def test_a_weekly_9am_series_in_berlin_stays_at_9am_across_dst(api, app, start, crossing):
    set_zone(app, api.user_id, "Europe/Berlin")
    task = api.create("/tasks", {"title": "Team stand-up", "due_at": start, "recurrence": "FREQ=WEEKLY;BYDAY=MO"})
    dues = [task["due_at"]]
    for _ in range(4):
        task = api.get(f"/tasks/{complete(api, task['id'])['next_task_id']}").get_json()["data"]
        dues.append(task["due_at"])
    assert dues[1:3] == list(crossing)
    for due in dues:
        local = berlin(due)
        assert (local.hour, local.minute, local.strftime("%a")) == (9, 0, "Mon"), due


def test_a_series_follows_its_owners_zone_not_the_callers(api, app):
    from tests.conftest import make_account

    _ws, mia, _secret = make_account(app, email="mia@acme.test", name="Mia", role="member")
    set_zone(app, mia, "Europe/Berlin")  # the caller stays in UTC
    task = api.create("/tasks", {"title": "t", "owner_id": mia, "due_at": "2026-03-23T08:00:00Z",
                                 "recurrence": "FREQ=WEEKLY"})
    nxt = api.get(f"/tasks/{complete(api, task['id'])['next_task_id']}").get_json()["data"]
    assert nxt["due_at"] == "2026-03-30T07:00:00Z"


# --- Concurrency -----------------------------------------------------------------------------

def test_two_clients_completing_at_once_make_one_next_occurrence(api, app):
    """Two threads, each with its own client, request context and database connection."""
    for round_ in range(5):
        task = api.create("/tasks", {"title": f"t{round_}", "due_at": "2026-03-16T09:00:00Z",
                                     "recurrence": "FREQ=DAILY"})
        barrier = threading.Barrier(2)
        answers: list = []

        def complete_once(task_id=task["id"], barrier=barrier, answers=answers):
            client = app.test_client()
            barrier.wait()
            r = client.post(f"/api/v1/tasks/{task_id}/complete", headers={"X-Api-Key": api.key})
            answers.append((r.status_code, r.get_json()["data"]["next_task_id"]))

        threads = [threading.Thread(target=complete_once) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] == 200, answers
        assert answers[0][1] is not None
        assert series_count(app, task["id"]) == 2


# --- Duration and activity_id ----------------------------------------------------------------

@pytest.mark.parametrize("bad", [-1, 604801, "3600", 1.5, True])
def test_duration_is_whole_seconds_up_to_a_week(api, bad):
    r = api.post("/tasks", {"title": "t", "duration": bad})
    assert r.status_code == 400
    assert "duration" in r.get_json()["error"]["details"]


def test_a_time_block_keeps_its_duration(api):
    task = api.create("/tasks", {"title": "Deep work", "due_at": "2026-03-16T09:00:00Z", "duration": 5400})
    assert task["duration"] == 5400
    assert api.patch(f"/tasks/{task['id']}", {"duration": None}).get_json()["data"]["duration"] is None


def test_activity_id_must_be_an_activity_of_the_workspace(api, other_api):
    theirs = other_api.create("/activities", {"type": "call"})
    for value in (theirs["id"], "act_01JD3K0000000000000000000A"):
        r = api.post("/tasks", {"title": "t", "activity_id": value})
        assert r.status_code == 400
        assert r.get_json()["error"]["details"] == {"activity_id": [f"No activity with id {value!r} in this workspace."]}
    r = api.post("/tasks", {"title": "t", "activity_id": "cont_01JD3K0000000000000000000A"})
    assert r.get_json()["error"]["details"] == {"activity_id": ["Not a valid activity id."]}


def test_tasks_filter_by_activity_and_lose_the_link_when_it_is_deleted(api):
    meeting = api.create("/activities", {"type": "meeting", "status": "scheduled", "subject": "Demo"})
    prep = api.create("/tasks", {"title": "Prepare the demo", "activity_id": meeting["id"]})
    api.create("/tasks", {"title": "Unrelated"})
    listed = api.get(f"/tasks?activity_id={meeting['id']}").get_json()["data"]
    assert [t["id"] for t in listed] == [prep["id"]]
    etag = api.get(f"/tasks/{prep['id']}").headers["ETag"]
    assert api.delete(f"/activities/{meeting['id']}").status_code == 204
    after = api.get(f"/tasks/{prep['id']}")
    assert after.get_json()["data"]["activity_id"] is None
    assert after.headers["ETag"] != etag

