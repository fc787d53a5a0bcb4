"""Notifications per user, and the preferences that decide who gets what, in the app and by mail.

Every function here adds to the caller's transaction; the caller commits (so a notification is
written together with the change that causes it).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm import clock
from crm.database import writes
from crm.extensions import db
from crm.models import NOTIFICATION_KINDS, Notification, NotificationPreferences, Task, User
from crm.services import mail
from crm.services.errors import NotFound, ValidationFailed
from crm.services.lookup import check_etag
from crm.services.pagination import Page, SortKey, paginate

# What a user gets before changing anything: everything in the app; mail for what needs acting on.
DEFAULT_KINDS: dict[str, dict[str, bool]] = {
    "reminder": {"in_app": True, "email": True},
    "assigned": {"in_app": True, "email": True},
    "completed_by_other": {"in_app": True, "email": False},
    "digest": {"in_app": False, "email": True},
    "webhook_disabled": {"in_app": True, "email": True},
}
DEFAULT_DIGEST_TIME = "08:00"
TIME_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
SORTS = {"created_at": SortKey(Notification.created_at, kind="datetime")}


# --- Preferences ----------------------------------------------------------------------------

def _row(user_id: str) -> NotificationPreferences | None:
    return db.session.get(NotificationPreferences, user_id)

# What each kind is called on the settings page and in the API's descriptions.
KIND_LABELS = {
    "reminder": "Reminders",
    "assigned": "Tasks assigned to you",
    "completed_by_other": "Your tasks completed by someone else",
    "digest": "Daily digest",
    "webhook_disabled": "Your webhooks disabled after failures",
}


def preferences_of(user_id: str) -> dict:
    """{"kinds": {kind: {"in_app", "email"}}, "digest": {"enabled", "time"}}, defaults filled in."""
    row = _row(user_id)
    stored = (row.kinds if row else None) or {}
    kinds = {kind: {**DEFAULT_KINDS[kind], **stored.get(kind, {})} for kind in NOTIFICATION_KINDS}
    return {
        "kinds": kinds,
        "digest": {"enabled": row.digest_enabled if row else True,
                   "time": row.digest_time if row else DEFAULT_DIGEST_TIME},
    }


def ensure_preferences(user_id: str) -> None:
    """The user's row exists (made with the defaults if not), also when two processes race."""
    values = {"user_id": user_id, "kinds": {}, "digest_enabled": True, "digest_time": DEFAULT_DIGEST_TIME,
              "updated_at": clock.now()}
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(NotificationPreferences).values(**values).on_conflict_do_nothing())


@writes
def update_preferences(user: User, data: dict) -> dict:
    """PATCH semantics: only the kinds, channels and digest fields given change."""
    digest = data.get("digest") or {}
    if "time" in digest and not TIME_PATTERN.match(digest["time"] or ""):
        raise ValidationFailed.field("digest.time", "A time of day as HH:MM (00:00 to 23:59).")
    ensure_preferences(user.id)
    row = _row(user.id)
    if data.get("kinds"):
        kinds = {k: dict(v) for k, v in (row.kinds or {}).items()}
        for kind, channels in data["kinds"].items():
            kinds[kind] = {**kinds.get(kind, {}), **channels}
        row.kinds = kinds
    if "enabled" in digest:
        row.digest_enabled = digest["enabled"]
    if "time" in digest:
        row.digest_time = digest["time"]
    row.updated_at = clock.now()
    db.session.commit()
    return preferences_of(user.id)


def wants(user_id: str, kind: str) -> tuple[bool, bool]:
    """(in_app, email) for this user and kind."""
    channels = preferences_of(user_id)["kinds"][kind]
    return channels["in_app"], channels["email"]


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_time_text(user: User, value: datetime | None) -> str:
    """A stored time as the user reads it: "Tue 3 Mar 2026, 09:30 (Europe/Berlin)"."""
    if value is None:
        return ""
    zone = user_zone(user)
    local = value.replace(tzinfo=UTC).astimezone(zone)
    return f"{local.strftime('%a %-d %b %Y, %H:%M')} ({zone.key})"


# --- Creating -------------------------------------------------------------------------------

def notify(
    user: User | None, kind: str, title: str, body: str | None = None, *, task_id: str | None = None,
    activity_id: str | None = None, desktop: bool = False, email: tuple[str, str, str] | None = None,
    email_forced: bool | None = None, preferences: dict | None = None,
) -> Notification | None:
    """Notify `user` as their preferences say: an in-app notification and/or a queued mail
    (`email`: subject, text, html). `email_forced` overrides the e-mail preference (a `push`
    reminder never mails). `preferences`: a cache of users' preferences, for a batch.
    Returns the notification, if one was made."""
    if user is None or not user.is_active:
        return None
    if preferences is None:
        preferences = {}
    if user.id not in preferences:
        preferences[user.id] = preferences_of(user.id)
    channels = preferences[user.id]["kinds"][kind]
    in_app, by_mail = channels["in_app"], channels["email"]
    if email_forced is not None:
        by_mail = by_mail and email_forced
    notification = None
    if in_app:
        notification = Notification(
            workspace_id=user.workspace_id, user_id=user.id, kind=kind, title=title[:255], body=body,
            task_id=task_id, activity_id=activity_id, desktop=desktop, created_at=clock.now(),
        )
        db.session.add(notification)
    if by_mail and email is not None and user.email:
        mail.queue_mail(user.email, *email)
    return notification


def _task_mail(template: str, subject: str, user: User, task: Task, **context) -> tuple[str, str, str]:
    text, html = mail.compose(template, user=user, task=task, task_url=mail.link(f"/tasks/{task.id}"),
                              due_text=local_time_text(user, task.due_at), **context)
    return subject, text, html


def on_assigned(task: Task, actor_id: str | None, previous_owner_id: str | None = None) -> None:
    """Someone gave `task` to its owner (not the owner themself)."""
    if not task.owner_id or task.owner_id == actor_id or task.owner_id == previous_owner_id:
        return
    owner = db.session.get(User, task.owner_id)
    actor = db.session.get(User, actor_id) if actor_id else None
    who = actor.name if actor else "Someone"
    title = f"{who} assigned you: {task.title}"
    notify(owner, "assigned", title, f"Due {local_time_text(owner, task.due_at)}" if task.due_at else None,
           task_id=task.id, email=_task_mail("assigned", title, owner, task, actor=actor))


def on_completed(task: Task, actor_id: str | None) -> None:
    """Someone else completed a task the owner owns."""
    if not task.owner_id or not actor_id or task.owner_id == actor_id:
        return
    owner = db.session.get(User, task.owner_id)
    actor = db.session.get(User, actor_id)
    who = actor.name if actor else "Someone"
    title = f"{who} completed: {task.title}"
    notify(owner, "completed_by_other", title, task.completion_note, task_id=task.id,
           email=_task_mail("completed", title, owner, task, actor=actor))


# --- Reading and marking --------------------------------------------------------------------

def list_notifications(user_id: str, params: dict) -> Page:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if params.get("unread") is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif params.get("unread") is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return paginate(stmt, sort="-created_at", keys=SORTS, id_column=Notification.id,
                    cursor=params.get("cursor"), limit=params.get("limit", 50),
                    include_total=params.get("include_total", False))


def unread_count(user_id: str) -> int:
    return db.session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def recent_desktop(user_id: str, since: datetime) -> list[Notification]:
    """Unread notifications an open tab should show on the desktop (newest last)."""
    return list(db.session.execute(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), Notification.desktop.is_(True),
               Notification.created_at >= since)
        .order_by(Notification.created_at, Notification.id).limit(20)
    ).scalars())


def get_notification(user_id: str, notification_id: str) -> Notification:
    notification = db.session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    ).scalar_one_or_none()
    if notification is None:
        raise NotFound(f"No notification with id {notification_id!r}.")
    return notification


@writes
def mark_read(user_id: str, notification_id: str, if_match: str | None = None) -> Notification:
    """Read stays read: marking again keeps the first read_at."""
    notification = get_notification(user_id, notification_id)
    check_etag(notification, if_match)
    if notification.read_at is None:
        notification.read_at = clock.now()
        db.session.commit()
    return notification


@writes
def mark_all_read(user_id: str) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now()).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount
