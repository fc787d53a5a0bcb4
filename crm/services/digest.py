"""The daily digest (SPEC §10): at the user's chosen time, their overdue tasks and today's tasks
and meetings, once per local day (claimed atomically); nothing is sent when there is nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import or_, select, update

from crm import clock
from crm.database import writes, writing
from crm.extensions import db
from crm.models import OPEN_TASK_STATUSES, Activity, NotificationPreferences, Task, User
from crm.services import mail, notifications

log = logging.getLogger(__name__)

MAX_ITEMS = 50


@dataclass
class Digest:
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    meetings: list[Activity] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.meetings)


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def digest_for(user: User, now: datetime) -> Digest:
    zone = notifications.user_zone(user)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    start = _utc(datetime.combine(today, time(), tzinfo=zone))
    end = _utc(datetime.combine(today + timedelta(days=1), time(), tzinfo=zone))
    mine = (Task.workspace_id == user.workspace_id, Task.owner_id == user.id, Task.status.in_(OPEN_TASK_STATUSES))
    overdue = db.session.execute(
        select(Task).where(*mine, Task.due_at.is_not(None), Task.due_at < now)
        .order_by(Task.due_at, Task.id).limit(MAX_ITEMS)).unique().scalars().all()
    today_tasks = db.session.execute(
        select(Task).where(*mine, Task.due_at >= now, Task.due_at < end)
        .order_by(Task.due_at, Task.id).limit(MAX_ITEMS)).unique().scalars().all()
    meetings = db.session.execute(
        select(Activity).where(Activity.workspace_id == user.workspace_id, Activity.owner_id == user.id,
                               Activity.type == "meeting", Activity.status == "scheduled",
                               Activity.occurred_at >= start, Activity.occurred_at < end)
        .order_by(Activity.occurred_at, Activity.id).limit(MAX_ITEMS)).unique().scalars().all()
    return Digest(list(overdue), list(today_tasks), list(meetings))


def _claim(user_id: str, today) -> bool:
    result = db.session.execute(
        update(NotificationPreferences)
        .where(NotificationPreferences.user_id == user_id, NotificationPreferences.digest_enabled.is_(True),
               or_(NotificationPreferences.digest_sent_on.is_(None), NotificationPreferences.digest_sent_on < today))
        .values(digest_sent_on=today).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@writes
def send_due(now: datetime | None = None) -> int:
    """Send today's digest to every user whose digest time has passed today; returns how many
    digests were made (mail or in-app)."""
    now = now or clock.now()
    sent = 0
    with writing():
        users = db.session.execute(
            select(User, NotificationPreferences)
            .outerjoin(NotificationPreferences, NotificationPreferences.user_id == User.id)
            .where(User.is_active.is_(True))
        ).unique().all()
        db.session.commit()
        for user, prefs in users:
            enabled = prefs.digest_enabled if prefs else True
            at = prefs.digest_time if prefs else notifications.DEFAULT_DIGEST_TIME
            local = now.replace(tzinfo=UTC).astimezone(notifications.user_zone(user))
            if not enabled or local.strftime("%H:%M") < at:
                continue
            if prefs is not None and prefs.digest_sent_on is not None and prefs.digest_sent_on >= local.date():
                continue
            if _send_one(user, local.date(), now):
                sent += 1
    return sent


def _send_one(user: User, today, now: datetime) -> bool:
    if db.session.get(NotificationPreferences, user.id) is None:
        notifications.ensure_preferences(user.id)
    if not _claim(user.id, today):
        db.session.rollback()
        return False
    try:
        return _compose_and_notify(user, today, now)
    except Exception:
        db.session.rollback()
        log.exception("digest of user %s could not be made; it will be tried again", user.id)
        return False


def _compose_and_notify(user: User, today, now: datetime) -> bool:
    digest = digest_for(user, now)
    if digest.empty:
        db.session.commit()  # the day is claimed: nothing to say today
        return False
    title = _title(digest)
    text, html = mail.compose("digest", user=user, digest=digest, today=today,
                              local=lambda value: notifications.local_time_text(user, value),
                              task_url=lambda task: mail.link(f"/tasks/{task.id}"),
                              tasks_url=mail.link("/tasks"))
    notifications.notify(user, "digest", title, _summary(digest), email=(title, text, html))
    db.session.commit()
    return True


def _title(digest: Digest) -> str:
    return "Your day: " + _summary(digest)


def _summary(digest: Digest) -> str:
    parts = []
    if digest.overdue:
        parts.append(f"{len(digest.overdue)} overdue")
    if digest.today:
        parts.append(f"{len(digest.today)} due today")
    if digest.meetings:
        parts.append(f"{len(digest.meetings)} meeting{'s' if len(digest.meetings) != 1 else ''}")
    return ", ".join(parts)
