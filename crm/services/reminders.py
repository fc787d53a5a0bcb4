"""Reminders (SPEC §10): when they are due, firing each exactly once, snoozing.

A task with `due_at` and `reminder` has `remind_at = due_at − before_minutes`. While it waits to
fire, `reminder_pending_at` holds that remind_at (the due-reminder query reads only those rows,
through a partial index). `fire_due` claims each due task with a conditional UPDATE on that value,
so two workers never notify twice; the claim, `reminded_at`, the notification and the mail are
one transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, select, update

from crm import clock
from crm.database import writes, writing
from crm.extensions import db
from crm.models import OPEN_TASK_STATUSES, Task, User
from crm.services import notifications, outbox
from crm.services.errors import ValidationFailed
from crm.services.lookup import get_record

log = logging.getLogger(__name__)

# The quick choices, as buttons; "date" (a day picked in a date field) comes with them.
SNOOZE_CHOICES = {"hour": "1 hour", "tomorrow": "Tomorrow 09:00", "next_week": "Next Monday 09:00", "date": "On a date"}
QUICK_SNOOZE_CHOICES = {k: v for k, v in SNOOZE_CHOICES.items() if k != "date"}
BATCH = 100


def remind_at_of(task: Task) -> datetime | None:
    if task.due_at is None or not task.reminder:
        return None
    return task.due_at - timedelta(minutes=int(task.reminder["before_minutes"]))


# The outbox kind of the due work (crm.queue.run_due_work: reminders, digests, then their mail).
DUE_WORK = "due.run"


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
    if task.reminder_pending_at is not None:
        # A wake-up for the workers at that second (one row however many tasks share it): the
        # reminder fires within a poll of its time, not at the next minute's catch-up run.
        outbox.add(DUE_WORK, {}, available_at=task.reminder_pending_at,
                   key=f"{DUE_WORK}:{task.reminder_pending_at:%Y-%m-%dT%H:%M:%S}")


@writes
def fire_due(now: datetime | None = None) -> int:
    """Notify the owners of the open tasks whose reminder time has passed; returns how many fired.

    Reminders that came due while no worker ran fire now, once; done tasks are skipped. A batch
    of claims and their notifications commits together (rows are claimed in one order, so two
    workers on PostgreSQL wait for each other instead of deadlocking); a batch that fails is
    retried one task at a time, so one bad task does not hold back the others."""
    now = now or clock.now()
    fired = 0
    with writing():
        for _ in range(10_000):  # bounded: each round fires or drops every row it read
            due = db.session.execute(
                select(Task.id, Task.reminder_pending_at)
                .where(Task.reminder_pending_at.is_not(None), Task.reminder_pending_at <= now,
                       Task.status.in_(OPEN_TASK_STATUSES))
                .order_by(Task.reminder_pending_at, Task.id).limit(BATCH)
            ).all()
            if not due:
                db.session.commit()
                break
            try:
                fired += _fire_batch(due, now)
                db.session.commit()
            except Exception as err:  # noqa: BLE001 - retried below, task by task (which logs the traceback)
                db.session.rollback()
                log.warning("a batch of %s reminders failed (%s); firing them one at a time", len(due), err)
                fired += sum(_fire_alone(row, now) for row in due)
    return fired


def _fire_batch(due: list, now: datetime) -> int:
    connection = db.session.connection()
    claim = _claim_statement()
    claimed = [task_id for task_id, pending_at in due
               if connection.execute(claim, {"task_id": task_id, "pending_at": pending_at, "now": now}).rowcount == 1]
    if not claimed:
        return 0
    tasks = db.session.execute(select(Task).where(Task.id.in_(claimed))
                               .execution_options(populate_existing=True)).unique().scalars().all()
    preferences: dict = {}
    for task in sorted(tasks, key=lambda t: t.id):
        _notify_owner(task, preferences)
    return len(claimed)


def _fire_alone(row, now: datetime) -> int:
    try:
        fired = _fire_batch([row], now)
        db.session.commit()
        return fired
    except Exception:
        db.session.rollback()
        log.exception("reminder of task %s could not be recorded; it will be tried again", row[0])
        return 0


def _claim_statement():
    """Take a reminder, unless another worker did or the task changed since it was read: the
    UPDATE changes the row only while it still waits for that remind_at."""
    tasks = Task.__table__
    return (
        update(tasks)
        .where(tasks.c.id == bindparam("task_id"), tasks.c.reminder_pending_at == bindparam("pending_at"),
               tasks.c.status.in_(OPEN_TASK_STATUSES))
        .values(reminder_pending_at=None, reminded_at=bindparam("now"), version=tasks.c.version + 1)
    )


def _notify_owner(task: Task, preferences: dict) -> None:
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
                         desktop=task.reminder.get("type") == "push", email=email, email_forced=by_mail,
                         preferences=preferences)


def snooze_until(choice: str, zone, now: datetime | None = None, *, on: date | None = None,
                 at: time = time(9, 0)) -> datetime:
    """The time a snooze choice means, in the user's zone, as stored (naive UTC): `hour` (an hour
    from now), `tomorrow` (09:00), `next_week` (next Monday 09:00), or `date` (the day `on`, at
    `at`: today or later)."""
    now = now or clock.now()
    local = now.replace(tzinfo=UTC).astimezone(zone)
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        target = datetime.combine(local.date() + timedelta(days=1), time(9, 0), tzinfo=zone)
    elif choice == "next_week":
        monday = local.date() + timedelta(days=7 - local.weekday())
        target = datetime.combine(monday, time(9, 0), tzinfo=zone)
    elif choice == "date":
        if on is None:
            raise ValidationFailed.field("on", "Pick a day to snooze until.")
        if on < local.date():
            raise ValidationFailed.field("on", "Pick today or a later day.")
        if on > local.date() + timedelta(days=366 * 5):
            raise ValidationFailed.field("on", "Pick a day within the next 5 years.")
        target = datetime.combine(on, at, tzinfo=zone)
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
    # A wake-up for the workers at that second, as schedule() leaves for a new remind_at.
    outbox.add(DUE_WORK, {}, available_at=until, key=f"{DUE_WORK}:{until:%Y-%m-%dT%H:%M:%S}")
    return task


@writes
def snooze_notification(user: User, notification_id: str, choice: str, now: datetime | None = None, *,
                        on: date | None = None) -> Task:
    """Snooze the reminder a notification is about: it fires again at the chosen time (`on`: the
    day for the `date` choice, at 09:00), and the notification counts as read."""
    now = now or clock.now()
    notification = notifications.get_notification(user.id, notification_id)
    if notification.kind != "reminder" or not notification.task_id:
        raise ValidationFailed.field("until", "Only a reminder can be snoozed.")
    until = snooze_until(choice, notifications.user_zone(user), now, on=on)
    task = get_record(Task, user.workspace_id, notification.task_id, for_update=True)
    snooze(task, until)
    if notification.read_at is None:
        notification.read_at = now
    db.session.commit()
    return task
