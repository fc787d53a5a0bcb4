"""The bell, the notifications page, mark read, snooze, and the notification settings form."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, flash, request, url_for
from flask_login import current_user

from crm import clock
from crm.models import NOTIFICATION_KINDS, OPEN_TASK_STATUSES, Task
from crm.services import notifications, reminders
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.rendering import format_local, is_htmx, list_page, redirect_next, render
from crm.web.settings import settings_page
from crm.web.timezones import local_today, parse_local_date
from crm.web.toasts import toast

# A tab that opens later than this after a push reminder shows it on the bell only.
DESKTOP_WINDOW = timedelta(minutes=15)


def bell_state() -> dict:
    """What the bell shows: the unread count, and push reminders an open tab shows on the desktop."""
    user_id = current_user.id
    recent = notifications.recent_desktop(user_id, clock.now() - DESKTOP_WINDOW)
    desktop = [{"id": n.id, "title": n.title, "body": n.body or "",
                "url": url_for("web.task_detail", task_id=n.task_id) if n.task_id else url_for("web.notification_list")}
               for n in recent]
    return {"count": notifications.unread_count(user_id), "desktop": desktop}


def _list_params() -> dict:
    return {"unread": True} if request.args.get("show") == "unread" else {}


def _task_states(items) -> dict:
    """Of the tasks these notifications are about: those still there (`live`: a trashed or erased
    task gets no link, which would be a 404) and the open ones with a reminder (`snoozable`).
    One statement (the trash's rule leaves trashed tasks out), none without tasks."""
    from sqlalchemy import select

    from crm.extensions import db

    ids = {n.task_id for n in items if n.task_id}
    if not ids:
        return {"live": set(), "snoozable": set()}
    rows = db.session.execute(select(Task.id, Task.status, Task.reminder).where(Task.id.in_(ids))).all()
    reminders_of = {n.task_id for n in items if n.kind == "reminder"}
    return {"live": {row.id for row in rows},
            "snoozable": {row.id for row in rows if row.id in reminders_of and row.status in OPEN_TASK_STATUSES
                          and row.reminder is not None}}


@bp.get("/notifications")
def notification_list():
    params = _list_params()
    page = list_page(lambda _ws, p: notifications.list_notifications(current_user.id, p), params)
    more_url = None
    if page.next_cursor:
        more_url = url_for("web.notification_list", **{**request.args.to_dict(), "cursor": page.next_cursor})
    context = {"page": page, "more_url": more_url, **_task_states(page.items),
               "snooze_choices": reminders.QUICK_SNOOZE_CHOICES, "today": local_today(), "show": request.args.get("show", "all")}
    if is_htmx() and request.args.get("cursor"):
        return render("notifications/_more.html", **context)
    return render("notifications/index.html", **context)


@bp.get("/notifications/bell")
def notification_bell():
    if not is_htmx():
        return redirect_next(url_for("web.notification_list"))
    return render("notifications/_bell.html")


def _item_response(notification, message: str | None = None):
    if is_htmx():
        return render("notifications/_item.html", n=notification, **_task_states([notification]),
                      snooze_choices=reminders.QUICK_SNOOZE_CHOICES, today=local_today(), note=message,
                      headers={"HX-Trigger": "notifications-changed"})
    if message:
        flash(message)
    return redirect_next(url_for("web.notification_list"))


@bp.post("/notifications/<notification_id>/read")
def read_notification(notification_id: str):
    toast("Marked read.")
    return _item_response(notifications.mark_read(current_user.id, notification_id))


@bp.post("/notifications/read-all")
def read_all_notifications():
    count = notifications.mark_all_read(current_user.id)
    toast(f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing was unread.")
    return redirect_next(url_for("web.notification_list"))


@bp.post("/notifications/<notification_id>/snooze")
def snooze_notification(notification_id: str):
    choice = request.form.get("until", "")
    try:
        on = parse_local_date(request.form.get("on"))
        if choice == "date" and on is None and request.form.get("on"):
            raise ValidationFailed.field("on", "A day as YYYY-MM-DD.")
        task = reminders.snooze_notification(current_user, notification_id, choice, on=on)
    except ValidationFailed as exc:
        message = " ".join(m for msgs in exc.details.values() for m in msgs)
        notification = notifications.get_notification(current_user.id, notification_id)
        if is_htmx():
            return render("notifications/_item.html", status=422, n=notification,
                          **{**_task_states([notification]), "snoozable": set()},
                          snooze_choices=reminders.QUICK_SNOOZE_CHOICES, today=local_today(), note=message)
        flash(message)
        return redirect_next(url_for("web.notification_list"))
    notification = notifications.get_notification(current_user.id, notification_id)
    return _item_response(notification, f"Snoozed until {format_local(task.remind_at, 'short')}.")


@bp.post("/settings/notifications")
def save_notification_settings():
    form = request.form
    data = {
        "kinds": {kind: {"in_app": f"{kind}.in_app" in form, "email": f"{kind}.email" in form}
                  for kind in NOTIFICATION_KINDS},
        "digest": {"enabled": "digest.enabled" in form, "time": (form.get("digest.time") or "").strip()},
    }
    try:
        notifications.update_preferences(current_user, data)
    except ValidationFailed as exc:
        return settings_page(422, errors={"notifications": [m for msgs in exc.details.values() for m in msgs]})
    toast("Notification settings saved.")
    return redirect_next(url_for("web.settings") + "#notifications-head")


def init_app(app: Flask) -> None:
    app.add_template_global(bell_state, "bell_state")
