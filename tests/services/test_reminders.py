"""Reminders fire exactly once per remind_at, through real SMTP, with time moved by hand."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import MailOutbox, Notification, utcnow
from crm.services import jobs, mail, reminders
from tests.mailbox import parts


def iso(value: datetime) -> str:
    return value.isoformat() + "Z"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


@pytest.fixture(autouse=True)
def no_digest(api):
    """These tests count reminders: the daily digest (tests/services/test_digest.py) is off, or
    run_due at a time past 08:00 would mail it as well, and a test would pass or fail by the hour."""
    assert api.patch("/users/me/notification-settings", {"digest": {"enabled": False}}).status_code == 200


def make_task(api, *, hours_ahead=3, before=30, kind="email", **extra):
    due = utcnow().replace(second=0) + timedelta(hours=hours_ahead)
    return api.create("/tasks", {"title": "Send the contract to Ada", "due_at": iso(due),
                                 "reminder": {"type": kind, "before_minutes": before}, **extra})


def run(app, fn, now):
    with app.app_context():
        return fn(now)


def notifications_of(app, user_id):
    with app.app_context():
        return db.session.execute(select(Notification).where(Notification.user_id == user_id)
                                  .order_by(Notification.created_at)).scalars().all()


def test_email_reminder_arrives_once_with_a_link_to_the_task_in_text_and_html(app, api, mailbox):
    task = make_task(api)
    remind_at = parse(task["due_at"]) - timedelta(minutes=30)
    assert task["remind_at"] == iso(remind_at)
    assert task["reminded_at"] is None

    assert run(app, reminders.fire_due, remind_at - timedelta(seconds=1)) == 0
    counts = run(app, jobs.run_due, remind_at + timedelta(seconds=5))
    assert counts["reminders.fire_due"] == 1 and counts["mail.deliver_due"] == 1
    assert run(app, jobs.run_due, remind_at + timedelta(minutes=5))["reminders.fire_due"] == 0

    (message,) = mailbox.wait_for(1)
    assert len(mailbox.messages) == 1
    assert message["Subject"] == "Reminder: Send the contract to Ada"
    assert message["To"] == "owner@acme.test"
    assert message["From"] == "Followup <crm@acme.test>"
    assert mailbox.envelopes[0][1] == ["owner@acme.test"]
    text, html = parts(message)
    link = f"https://crm.acme.test/tasks/{task['id']}"
    assert link in text and "Send the contract to Ada" in text
    assert f'href="{link}"' in html and "Send the contract to Ada" in html

    shown = api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert shown["reminded_at"] == iso(remind_at + timedelta(seconds=5))
    (note,) = notifications_of(app, api.user_id)
    assert note.kind == "reminder" and note.task_id == task["id"] and note.desktop is False


def test_push_reminder_is_an_in_app_desktop_notification_without_mail(app, api, mailbox):
    task = make_task(api, kind="push", before=0)
    run(app, jobs.run_due, parse(task["due_at"]))
    (note,) = notifications_of(app, api.user_id)
    assert note.desktop is True and note.title == "Reminder: Send the contract to Ada"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0
    assert mailbox.messages == []


def test_moving_due_at_rearms_a_fired_reminder_and_an_unchanged_patch_does_not(app, api, mailbox):
    task = make_task(api, kind="push")
    first = parse(task["remind_at"])
    assert run(app, reminders.fire_due, first) == 1

    same = api.patch(f"/tasks/{task['id']}", {"due_at": task["due_at"], "title": "Renamed"}).get_json()["data"]
    assert same["reminded_at"] == iso(first)
    assert run(app, reminders.fire_due, first + timedelta(hours=1)) == 0

    later = parse(task["due_at"]) + timedelta(days=1)
    moved = api.patch(f"/tasks/{task['id']}", {"due_at": iso(later)}).get_json()["data"]
    assert moved["remind_at"] == iso(later - timedelta(minutes=30))
    assert moved["reminded_at"] is None
    assert run(app, reminders.fire_due, later - timedelta(minutes=31)) == 0
    assert run(app, reminders.fire_due, later) == 1
    assert len(notifications_of(app, api.user_id)) == 2


def test_changing_the_reminder_rearms_it(app, api):
    task = make_task(api, kind="push", before=60)
    run(app, reminders.fire_due, parse(task["remind_at"]))
    changed = api.patch(f"/tasks/{task['id']}", {"reminder": {"type": "push", "before_minutes": 10}}).get_json()["data"]
    assert changed["remind_at"] == iso(parse(task["due_at"]) - timedelta(minutes=10))
    assert changed["reminded_at"] is None
    assert run(app, reminders.fire_due, parse(changed["remind_at"])) == 1


@pytest.mark.parametrize("reminder, missing", [
    ({}, {"reminder.type", "reminder.before_minutes"}),
    ({"type": "push"}, {"reminder.before_minutes"}),
    ({"before_minutes": 5}, {"reminder.type"}),
])
def test_a_patch_gives_a_reminder_whole(app, api, reminder, missing):
    """A PATCH loads its body partially; a reminder in it still needs both its fields (it
    replaces the last one whole), and a half one changes nothing."""
    task = make_task(api, kind="push", before=60)
    response = api.patch(f"/tasks/{task['id']}", {"reminder": reminder})
    assert response.status_code == 400
    details = response.get_json()["error"]["details"]
    assert set(details) == missing, details
    assert api.get(f"/tasks/{task['id']}").get_json()["data"]["reminder"] == {"type": "push", "before_minutes": 60}


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_completing_or_cancelling_disarms_and_a_done_task_never_fires_late(app, api, close):
    task = make_task(api, kind="push")
    if close == "complete":
        assert api.post(f"/tasks/{task['id']}/complete").status_code == 200
    else:
        assert api.patch(f"/tasks/{task['id']}", {"status": "cancelled"}).status_code == 200
    assert run(app, reminders.fire_due, parse(task["due_at"]) + timedelta(days=3)) == 0
    assert notifications_of(app, api.user_id) == []


def test_reopening_rearms_a_reminder_still_ahead(app, api):
    task = make_task(api, kind="push")
    api.post(f"/tasks/{task['id']}/complete")
    api.post(f"/tasks/{task['id']}/reopen")
    assert run(app, reminders.fire_due, parse(task["remind_at"])) == 1


def test_a_reminder_due_while_no_worker_ran_fires_once_when_one_starts(app, api, mailbox):
    task = make_task(api)
    three_days_late = parse(task["due_at"]) + timedelta(days=3)
    assert run(app, jobs.run_due, three_days_late)["reminders.fire_due"] == 1
    assert run(app, jobs.run_due, three_days_late + timedelta(minutes=1))["reminders.fire_due"] == 0
    assert len(mailbox.wait_for(1)) == 1
    assert len(notifications_of(app, api.user_id)) == 1


def test_a_reminder_time_already_past_when_set_is_not_sent(app, api):
    due = utcnow() + timedelta(minutes=10)
    task = api.create("/tasks", {"title": "Soon", "due_at": iso(due), "reminder": {"type": "push", "before_minutes": 60}})
    assert task["remind_at"] == iso(due.replace(microsecond=0) - timedelta(minutes=60))
    assert run(app, reminders.fire_due, due) == 0


def test_two_workers_at_once_notify_each_reminder_once(app, api):
    ids = [make_task(api, kind="email", before=0)["id"] for _ in range(30)]
    now = utcnow() + timedelta(hours=4)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            results.append(reminders.fire_due(now))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(results) == len(ids)
    notes = notifications_of(app, api.user_id)
    assert sorted(n.task_id for n in notes) == sorted(ids)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == len(ids)


def test_preferences_decide_the_channels_of_a_reminder(app, api, mailbox):
    api.patch("/users/me/notification-settings", {"kinds": {"reminder": {"email": False}}})
    task = make_task(api)
    run(app, jobs.run_due, parse(task["remind_at"]))
    assert len(notifications_of(app, api.user_id)) == 1
    assert mailbox.messages == []

    api.patch("/users/me/notification-settings", {"kinds": {"reminder": {"email": True, "in_app": False}}})
    second = make_task(api)
    run(app, jobs.run_due, parse(second["remind_at"]))
    assert len(notifications_of(app, api.user_id)) == 1
    assert len(mailbox.wait_for(1)) == 1


def test_a_failed_send_is_retried_with_backoff_and_then_delivered(app, api, mailbox, smtp):
    from tests.servers import free_port

    task = make_task(api)
    fired_at = parse(task["remind_at"])
    app.config["CRM_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    assert run(app, jobs.run_due, fired_at)["mail.deliver_due"] == 0
    with app.app_context():
        row = db.session.scalars(select(MailOutbox)).one()
        assert row.attempts == 1 and row.sent_at is None and "Error" in row.last_error
        assert row.next_attempt_at == fired_at + mail.retry_delay(1)

    app.config["CRM_SMTP_URL"] = smtp[0]
    assert run(app, mail.deliver_due, fired_at + timedelta(seconds=30)) == 0  # not yet
    assert run(app, mail.deliver_due, fired_at + timedelta(minutes=1)) == 1
    assert len(mailbox.wait_for(1)) == 1
    assert mail.retry_delay(2) == timedelta(minutes=2) and mail.retry_delay(30) == timedelta(hours=6)


def test_one_reminder_that_cannot_be_recorded_holds_back_no_other_and_fires_later(app, api, monkeypatch):
    from crm.services import notifications

    good = [make_task(api, kind="push", before=0)["id"] for _ in range(3)]
    bad = make_task(api, kind="push", before=0, title="Broken")["id"]
    real_notify = notifications.notify

    def failing(user, kind, title, *args, **kwargs):
        if title == "Reminder: Broken":
            raise RuntimeError("the database hiccuped")
        return real_notify(user, kind, title, *args, **kwargs)

    monkeypatch.setattr(notifications, "notify", failing)
    now = utcnow() + timedelta(hours=4)
    assert run(app, reminders.fire_due, now) == 3
    assert sorted(n.task_id for n in notifications_of(app, api.user_id)) == sorted(good)
    assert api.get(f"/tasks/{bad}").get_json()["data"]["reminded_at"] is None

    monkeypatch.setattr(notifications, "notify", real_notify)
    assert run(app, reminders.fire_due, now + timedelta(minutes=1)) == 1
    assert len(notifications_of(app, api.user_id)) == 4
