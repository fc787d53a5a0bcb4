"""Snoozing a task from its row: 1 hour, tomorrow 09:00, next Monday 09:00, or a day picked.

The row's Snooze opens the choices in the row (htmx) or on their own page (no JavaScript); the
choice moves the task's due time through the tasks service, which re-arms its reminder.
"""

from __future__ import annotations

from datetime import time

from flask import request, url_for
from flask_login import current_user

from crm import clock
from crm.models import OPEN_TASK_STATUSES
from crm.services import reminders, tasks
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.quick_add import due_text
from crm.web.rendering import is_htmx, redirect_next, render
from crm.web.timezones import local_today, parse_local_date, to_local, user_zone
from crm.web.toasts import toast


def _time_kept(task) -> time:
    """A picked day keeps the task's time of day; a task without one stays a date (midnight)."""
    local = to_local(task.due_at)
    return local.time().replace(second=0) if local is not None else time(0, 0)


def _snooze_page(task, status: int = 200, errors: dict | None = None):
    context = {"task": task, "snoozing": True, "errors": errors or {}, "choices": reminders.QUICK_SNOOZE_CHOICES,
               "today": local_today(), "in_row": is_htmx()}
    if is_htmx():
        return render("tasks/_row.html", status=status, **context)
    return render("tasks/snooze.html", status=status, **context)


@bp.route("/tasks/<task_id>/snooze", methods=["GET", "POST"])
def snooze_task(task_id: str):
    task = tasks.get_task(current_user.workspace_id, task_id, for_update=request.method == "POST")
    if request.method != "POST":
        return _snooze_page(task)
    try:
        if task.status not in OPEN_TASK_STATUSES:
            raise ValidationFailed.field("until", "Only an open task can be snoozed; this one is done.")
        choice = request.form.get("until", "")
        on = parse_local_date(request.form.get("on"))
        if choice == "date" and on is None and request.form.get("on"):
            raise ValidationFailed.field("on", "A day as YYYY-MM-DD.")
        until = reminders.snooze_until(choice, user_zone(), clock.now(), on=on, at=_time_kept(task))
        tasks.snooze_task(task, until, actor_id=current_user.id)
    except ValidationFailed as exc:
        from crm.extensions import db

        db.session.rollback()
        return _snooze_page(task, 422, {name: list(messages) for name, messages in exc.details.items()})
    toast(f"Snoozed “{task.title}” until {due_text(task.due_at)}.")
    if is_htmx():
        return render("tasks/_row.html", task=task)
    return redirect_next(url_for("web.task_list"))
