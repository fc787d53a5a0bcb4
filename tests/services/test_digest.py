"""The daily digest: at the user's time in their zone, once a day, nothing when there is nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.extensions import db
from crm.models import Notification
from crm.services import accounts, digest, jobs
from tests.mailbox import parts

BERLIN = ZoneInfo("Europe/Berlin")


def at_berlin(day: str, hhmm: str) -> datetime:
    """A Berlin wall-clock time, as stored (naive UTC)."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=BERLIN)
    return local.astimezone(UTC).replace(tzinfo=None)


def iso(value: datetime) -> str:
    return value.isoformat() + "Z"


def set_zone(app, api, name="Europe/Berlin"):
    with app.app_context():
        accounts.set_time_zone(db.session.get(accounts.User, api.user_id), name)


def seed_day(api, day="2030-03-04"):
    """An overdue task, one due later that day, a meeting that day, and what must stay out."""
    overdue = api.create("/tasks", {"title": "Overdue: call Ada", "due_at": iso(at_berlin("2030-03-01", "10:00"))})
    today = api.create("/tasks", {"title": "Today: send the quote", "due_at": iso(at_berlin(day, "15:00"))})
    api.create("/tasks", {"title": "Done already", "due_at": iso(at_berlin("2030-03-01", "10:00")), "status": "completed"})
    api.create("/tasks", {"title": "Next week", "due_at": iso(at_berlin("2030-03-11", "10:00"))})
    api.create("/activities", {"type": "meeting", "status": "scheduled", "subject": "Demo with Globex",
                               "occurred_at": iso(at_berlin(day, "11:00"))})
    return overdue, today


def run(app, now):
    with app.app_context():
        return digest.send_due(now)


def test_digest_arrives_at_eight_in_the_users_zone_with_overdue_today_and_meetings(app, api, mailbox):
    set_zone(app, api)
    overdue, today = seed_day(api)
    assert run(app, at_berlin("2030-03-04", "07:59")) == 0
    with app.app_context():
        counts = jobs.run_due(at_berlin("2030-03-04", "08:00"))
    assert counts["digest.send_due"] == 1 and counts["mail.deliver_due"] == 1
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "owner@acme.test"
    assert message["Subject"] == "Your day: 1 overdue, 1 due today, 1 meeting"
    text, html = parts(message)
    for body in (text, html):
        assert "Overdue: call Ada" in body and "Today: send the quote" in body and "Demo with Globex" in body
        assert "Done already" not in body and "Next week" not in body
    assert f"https://crm.acme.test/tasks/{overdue['id']}" in text
    assert f'href="https://crm.acme.test/tasks/{today["id"]}"' in html
    assert "15:00" in text  # times in the user's zone


def test_one_digest_a_day_even_with_two_workers_and_again_the_next_day(app, api, mailbox):
    set_zone(app, api)
    seed_day(api)
    now = at_berlin("2030-03-04", "09:30")  # late: the worker was down at 08:00
    results: list[int] = []
    barrier = threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            results.append(digest.send_due(now))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert run(app, at_berlin("2030-03-04", "23:59")) == 0
    assert run(app, at_berlin("2030-03-05", "08:01")) == 1


def test_no_digest_when_there_is_nothing(app, api, mailbox):
    api.create("/tasks", {"title": "Far away", "due_at": "2031-01-01T10:00:00Z"})
    with app.app_context():
        assert jobs.run_due(datetime(2030, 3, 4, 8, 0))["digest.send_due"] == 0
    assert mailbox.messages == []


def test_digest_off_or_at_another_time_follows_the_settings(app, api, mailbox):
    set_zone(app, api)
    seed_day(api)
    api.patch("/users/me/notification-settings", {"digest": {"time": "17:30"}})
    assert run(app, at_berlin("2030-03-04", "17:29")) == 0
    assert run(app, at_berlin("2030-03-04", "17:30")) == 1

    api.patch("/users/me/notification-settings", {"digest": {"enabled": False}})
    assert run(app, at_berlin("2030-03-05", "18:00")) == 0


def test_digest_in_app_when_asked_for(app, api, mailbox):
    seed_day(api)
    api.patch("/users/me/notification-settings", {"kinds": {"digest": {"in_app": True, "email": False}}})
    assert run(app, datetime(2030, 3, 4, 9, 0)) == 1
    with app.app_context():
        (note,) = db.session.scalars(select(Notification)).all()
    assert note.kind == "digest" and note.title.startswith("Your day:")
    with app.app_context():
        jobs.run_due(datetime(2030, 3, 4, 9, 1))
    assert mailbox.messages == []
