"""Reminders (SPEC §10): when they are due, firing each exactly once, snoozing.

A task with `due_at` and `reminder` has `remind_at = due_at − before_minutes`. While it waits to
fire, `reminder_pending_at` holds that remind_at (the due-reminder query reads only those rows,
through a partial index). `fire_due` claims each due task with a conditional UPDATE on that value,
so two workers never notify twice; the claim, `reminded_at`, the notification and the mail are
one transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update

from crm import clock
from crm.database import writing
from crm.extensions import db
from crm.models import OPEN_TASK_STATUSES, Task, User
from crm.services import notifications
from crm.services.errors import ValidationFailed

log = logging.getLogger(__name__)

SNOOZE_CHOICES = {"hour": "1 hour", "tomorrow": "Tomorrow 09:00", "next_week": "Next week"}
BATCH = 200


def remind_at_of(task: Task) -> datetime | None:
    if task.due_at is None or not task.reminder:
        return None
    return task.due_at - timedelta(minutes=int(task.reminder["before_minutes"]))


def schedule(task: Task, *, inputs_changed: bool, was_open: bool, now: datetime | None = None) -> None:
    """Keep the reminder's state after a change to the task.

    - due_at or reminder changed: remind_at is computed again and re-armed (a time already past
      when it is set is not sent);
    - completed or cancelled: disarmed;
    - reopened: armed again if its remind_at is still ahead and has not fired.
    """
    now = now or clock.now()
    is_open = task.status in OPEN_TASK_STATUSES
    if inputs_changed:
        task.remind_at = remind_at_of(task)
        task.reminded_at = None
        task.reminder_pending_at = task.remind_at if task.remind_at and task.remind_at > now else None
    elif is_open and not was_open and task.remind_at and task.reminded_at is None and task.remind_at > now:
        task.reminder_pending_at = task.remind_at
    if not is_open:
        task.reminder_pending_at = None


def fire_due(now: datetime | None = None) -> int:
    """Notify the owners of the open tasks whose reminder time has passed; returns how many fired.

    Reminders that came due while no worker ran fire now, once; done tasks are skipped."""
    now = now or clock.now()
    fired = 0
    with writing():
        for _ in range(10_000):  # bounded: each round fires or drops every row it read
            due = db.session.execute(
                select(Task.id, Task.reminder_pending_at)
                .where(Task.reminder_pending_at.is_not(None), Task.reminder_pending_at <= now,
                       Task.status.in_(OPEN_TASK_STATUSES))
                .order_by(Task.reminder_pending_at).limit(BATCH)
            ).all()
            db.session.commit()
            if not due:
                break
            for task_id, pending_at in due:
                if _fire_one(task_id, pending_at, now):
                    fired += 1
    return fired


def _fire_one(task_id: str, pending_at: datetime, now: datetime) -> bool:
    claimed = db.session.execute(
        update(Task)
        .where(Task.id == task_id, Task.reminder_pending_at == pending_at, Task.status.in_(OPEN_TASK_STATUSES))
        .values(reminder_pending_at=None, reminded_at=now, version=Task.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    try:
        task = db.session.execute(select(Task).where(Task.id == task_id)
                                  .execution_options(populate_existing=True)).unique().scalar_one()
        _notify_owner(task)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("reminder of task %s could not be recorded; it will be tried again", task_id)
        return False
    return True


def _notify_owner(task: Task) -> None:
    owner = db.session.get(User, task.owner_id) if task.owner_id else None
    if owner is None:
        return
    by_mail = task.reminder.get("type") == "email"
    due = notifications.local_time_text(owner, task.due_at)
    title = f"Reminder: {task.title}"
    email = None
    if by_mail:
        text, html = notifications.mail.compose(
            "reminder", user=owner, task=task, due_text=due,
            task_url=notifications.mail.link(f"/tasks/{task.id}"))
        email = (title, text, html)
    notifications.notify(owner, "reminder", title, f"Due {due}", task_id=task.id,
                         desktop=task.reminder.get("type") == "push", email=email, email_forced=by_mail)


def snooze_until(choice: str, zone, now: datetime | None = None) -> datetime:
    """The time a snooze choice means, in the user's zone, as stored (naive UTC)."""
    now = now or clock.now()
    local = now.replace(tzinfo=UTC).astimezone(zone)
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        target = datetime.combine(local.date() + timedelta(days=1), time(9, 0), tzinfo=zone)
    elif choice == "next_week":
        monday = local.date() + timedelta(days=7 - local.weekday())
        target = datetime.combine(monday, time(9, 0), tzinfo=zone)
    else:
        raise ValidationFailed.field("until", f"One of: {', '.join(SNOOZE_CHOICES)}.")
    return target.astimezone(UTC).replace(tzinfo=None)


def snooze(task: Task, until: datetime) -> Task:
    """Fire the reminder again at `until` (the caller commits)."""
    if task.status not in OPEN_TASK_STATUSES:
        raise ValidationFailed.field("until", "The task is done: there is nothing to remind of.")
    if not task.reminder:
        raise ValidationFailed.field("until", "The task has no reminder any more.")
    task.remind_at = until
    task.reminded_at = None
    task.reminder_pending_at = until
    return task


def snooze_notification(user: User, notification_id: str, choice: str, now: datetime | None = None) -> Task:
    """Snooze the reminder a notification is about: it fires again at the chosen time, and the
    notification counts as read."""
    from crm.services.tasks import get_task

    now = now or clock.now()
    notification = notifications.get_notification(user.id, notification_id)
    if notification.kind != "reminder" or not notification.task_id:
        raise ValidationFailed.field("until", "Only a reminder can be snoozed.")
    until = snooze_until(choice, notifications.user_zone(user), now)
    task = get_task(user.workspace_id, notification.task_id, for_update=True)
    snooze(task, until)
    if notification.read_at is None:
        notification.read_at = now
    db.session.commit()
    return task
