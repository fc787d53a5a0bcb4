"""The bell, /notifications, mark read and snooze (with and without htmx), and the settings form."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.extensions import db
from crm.models import Notification, NotificationPreferences, utcnow
from crm.services import reminders


def fire(web, title="Call Ada back", kind="push", hours=2):
    due = utcnow() + timedelta(hours=hours)
    task_id = web.task(title, due_at=due, reminder={"type": kind, "before_minutes": 0})
    with web.app.app_context():
        assert reminders.fire_due(due + timedelta(seconds=1)) == 1
        note = db.session.scalars(select(Notification).where(Notification.task_id == task_id)).one()
        return task_id, note.id


def bell_count(web) -> str | None:
    page = web.text(web.get("/tasks"))
    match = re.search(r'<span class="bell-count"( hidden)?>(\d+)</span>', page)
    assert match, "no bell in the header"
    return None if match.group(1) else match.group(2)


def test_the_bell_shows_the_unread_count_and_refreshes_by_htmx(web):
    assert bell_count(web) is None
    fire(web, "First")
    fire(web, "Second")
    assert bell_count(web) == "2"
    page = web.text(web.get("/tasks"))
    assert 'hx-get="/notifications/bell"' in page and 'hx-trigger="every 30s' in page
    assert 'aria-label="Notifications: 2 unread"' in page
    fragment = web.get("/notifications/bell", htmx=True)
    assert fragment.status_code == 200
    assert web.text(fragment).lstrip().startswith('<a id="bell"') and ">2</span>" in web.text(fragment)
    assert web.get("/notifications/bell").status_code == 303  # not a page of its own


def test_the_bell_carries_recent_push_reminders_for_the_desktop(web):
    task_id, note_id = fire(web, "Push <me>")
    page = web.text(web.get("/tasks"))
    raw = re.search(r"data-desktop='([^']*)'", page).group(1)
    items = json.loads(raw)
    assert items == [{"id": note_id, "title": "Reminder: Push <me>", "body": items[0]["body"],
                      "url": f"/tasks/{task_id}"}]
    assert "<me>" not in raw  # escaped for HTML


def test_notifications_page_lists_and_marks_read_without_js(web):
    task_id, note_id = fire(web, "Send the quote")
    page = web.text(web.get("/notifications"))
    assert "Reminder: Send the quote" in page and f'href="/tasks/{task_id}"' in page
    assert 'class="row notification is-unread"' in page
    response = web.post(f"/notifications/{note_id}/read", {"next": "/notifications"})
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    assert "is-unread" not in web.text(web.get("/notifications"))
    assert "No notifications unread." in web.text(web.get("/notifications?show=unread"))
    assert bell_count(web) is None


def test_mark_read_with_htmx_swaps_the_item_and_tells_the_bell(web):
    _task, note_id = fire(web)
    response = web.post(f"/notifications/{note_id}/read", htmx=True)
    assert response.status_code == 200
    events = json.loads(response.headers["HX-Trigger"])
    assert "notifications-changed" in events and events["followup:toast"]["message"] == "Marked read."
    body = web.text(response)
    assert body.startswith(f'<li id="notification-{note_id}"') and "is-unread" not in body


def test_mark_all_read(web):
    fire(web, "One")
    fire(web, "Two")
    response = web.post("/notifications/read-all")
    assert response.status_code == 303
    assert "Marked 2 notifications read." in web.text(web.get("/notifications"))
    assert bell_count(web) is None


def test_someone_elses_notification_is_a_404(web, teammate):
    _task, note_id = fire(web)
    assert teammate.post(f"/notifications/{note_id}/read").status_code == 404
    assert teammate.post(f"/notifications/{note_id}/snooze", {"until": "hour"}).status_code == 404


def test_snooze_tomorrow_at_nine_in_the_users_zone_rearms_the_reminder(web):
    web.set_time_zone("Europe/Berlin")
    task_id, note_id = fire(web, "Chase the invoice")
    assert "Tomorrow 09:00" in web.text(web.get("/notifications"))
    response = web.post(f"/notifications/{note_id}/snooze", {"until": "tomorrow"})
    assert response.status_code == 303
    task = web.load_task(task_id)
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = datetime.now(UTC).astimezone(berlin).date() + timedelta(days=1)
    expected = datetime.combine(tomorrow, datetime.min.time().replace(hour=9), tzinfo=berlin)
    assert task.remind_at == expected.astimezone(UTC).replace(tzinfo=None)
    assert task.reminded_at is None
    assert "Snoozed until" in web.text(web.get("/notifications"))
    with web.app.app_context():
        assert reminders.fire_due(task.remind_at - timedelta(seconds=1)) == 0
        assert reminders.fire_due(task.remind_at) == 1


def test_snooze_an_hour_and_next_week_with_htmx(web):
    task_id, note_id = fire(web)
    before = utcnow()
    response = web.post(f"/notifications/{note_id}/snooze", {"until": "hour"}, htmx=True)
    assert response.status_code == 200 and "Snoozed until" in web.text(response)
    remind_at = web.load_task(task_id).remind_at
    assert before + timedelta(minutes=59) <= remind_at <= utcnow() + timedelta(hours=1)

    web.post(f"/notifications/{note_id}/snooze", {"until": "next_week"})
    remind_at = web.load_task(task_id).remind_at
    assert remind_at.weekday() == 0 and remind_at.hour == 9 and remind_at > utcnow()  # Monday 09:00 UTC


def test_snooze_refuses_an_unknown_choice_or_a_done_task(web):
    task_id, note_id = fire(web)
    response = web.post(f"/notifications/{note_id}/snooze", {"until": "someday"}, htmx=True)
    assert response.status_code == 422 and "One of: hour, tomorrow, next_week, date." in web.text(response)
    web.post(f"/tasks/{task_id}/complete")
    assert "Snooze:" not in web.text(web.get("/notifications"))
    web.post(f"/notifications/{note_id}/snooze", {"until": "hour"})
    assert "The task is done" in web.text(web.get("/notifications"))


def test_settings_page_saves_notification_preferences_and_says_mail_is_off(web):
    page = web.text(web.get("/settings"))
    assert 'id="notifications-head"' in page
    assert "E-mail is not set up on this server" in page
    response = web.post("/settings/notifications", {
        "reminder.in_app": "on", "reminder.email": "on", "assigned.in_app": "on",
        "digest.enabled": "on", "digest.time": "07:30"})
    assert response.status_code == 303
    with web.app.app_context():
        row = db.session.get(NotificationPreferences, web.user_id)
        assert row.digest_time == "07:30" and row.digest_enabled is True
        assert row.kinds["assigned"] == {"in_app": True, "email": False}
        assert row.kinds["completed_by_other"] == {"in_app": False, "email": False}
    page = web.text(web.get("/settings"))
    assert 'value="07:30"' in page and "Notification settings saved." in page

    bad = web.post("/settings/notifications", {"digest.enabled": "on", "digest.time": "7h"})
    assert bad.status_code == 422 and "HH:MM" in web.text(bad)


def test_settings_page_does_not_warn_when_smtp_is_set(web):
    web.app.config["CRM_SMTP_URL"] = "smtp://mail.acme.test:587"
    assert "E-mail is not set up" not in web.text(web.get("/settings"))


def test_the_task_form_sets_a_reminder_and_the_task_page_shows_when_it_fires(web):
    web.set_time_zone("Europe/Berlin")
    response = web.post("/tasks", {"title": "Board meeting prep", "due_at": "2030-05-06T10:00", "type": "todo",
                                   "priority": "normal", "status": "pending", "owner_id": web.user_id,
                                   "reminder_before": "60", "reminder_type": "email"})
    assert response.status_code == 303
    with web.app.app_context():
        from crm.models import Task

        task = db.session.scalars(select(Task).where(Task.title == "Board meeting prep")).one()
        assert task.reminder == {"type": "email", "before_minutes": 60}
        assert task.remind_at == datetime(2030, 5, 6, 7, 0)  # 09:00 in Berlin (summer time)
        task_id = task.id
    page = web.text(web.get(f"/tasks/{task_id}"))
    assert "E-mail, 60 min before" in page and "09:00" in page
    form = web.text(web.get(f"/tasks/{task_id}/edit"))
    assert '<option value="60" selected>1 hour before</option>' in form
    web.post(f"/tasks/{task_id}/edit", {"title": "Board meeting prep", "due_at": "2030-05-06T10:00",
                                        "reminder_before": "", "reminder_type": "push"})
    assert web.load_task(task_id).remind_at is None


def test_a_teammate_completing_or_assigning_in_the_browser_notifies_the_owner(web, teammate):
    mine = web.task("Renew the lease")
    teammate.post(f"/tasks/{mine}/complete")
    assert bell_count(web) == "1"
    page = web.text(web.get("/notifications"))
    assert "Mia Member completed: Renew the lease" in page

    theirs = web.task("Review the draft")
    web.post(f"/tasks/{theirs}/edit", {"title": "Review the draft", "owner_id": teammate.user_id})
    assert "Olive Owner assigned you: Review the draft" in teammate.text(teammate.get("/notifications"))


def test_a_notification_about_a_deleted_task_does_not_link_to_a_missing_page(web):
    task_id, note_id = fire(web, "Send the quote")
    assert web.post(f"/tasks/{task_id}/delete", htmx=True).status_code == 200  # to the trash
    page = web.text(web.get("/notifications"))
    item = page[page.index(f'id="notification-{note_id}"'):]
    item = item[:item.index("</li>")]
    assert f'href="/tasks/{task_id}"' not in item and "Reminder: Send the quote" in item
    assert 'The task was deleted (<a href="/trash">Trash</a>).' in item
    assert "Snooze:" not in item  # nothing to snooze
    assert web.get(f"/tasks/{task_id}").status_code == 404  # the link it had would have led here
    # restored, the link is back
    assert web.post(f"/trash/task/{task_id}/restore").status_code in (200, 303)
    assert f'href="/tasks/{task_id}"' in web.text(web.get("/notifications"))
