"""Quick add that understands dates and repeats: the live preview, and taking a reading back.

The reading itself is crm/services/quick_add.py; creating the task stays `POST /tasks`
(crm/web/tasks.py), which asks `read_quick_add` here what the form's words mean.
"""

from __future__ import annotations

from datetime import datetime

from flask import request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from crm import clock
from crm.schemas import TaskUpdate
from crm.services import tasks
from crm.services.quick_add import QuickAdd, describe_rule, parse_quick_add
from crm.web import bp
from crm.web.forms import FormInvalid, run_service
from crm.web.rendering import is_htmx, redirect_next, render
from crm.web.timezones import local_today, to_local, user_zone
from crm.web.toasts import toast


def read_quick_add(form: MultiDict) -> QuickAdd | None:
    """What the quick-add form's title means, unless the reading was removed (`no_parse`). With the
    Due field filled in, only a repeat is read: the field says when."""
    if form.get("quick") != "1" or form.get("no_parse") == "1":
        return None
    due_given = bool(form.get("due_at", "").strip())
    parsed = parse_quick_add(form.get("title", ""), clock.now(), user_zone(), dates=not due_given)
    if not parsed.matched:
        return None
    return parsed._replace(due_at=None) if due_given else parsed


def due_text(value: datetime | None) -> str:
    """"Fri 11 Dec 15:00"; a due date without a time (midnight, the Due field's bare date) is
    just the day; another year adds the year."""
    local = to_local(value)
    if local is None:
        return ""
    text = local.strftime("%a %-d %b")
    if local.year != local_today().year:
        text += local.strftime(" %Y")
    if (local.hour, local.minute) != (0, 0):
        text += local.strftime(" %H:%M")
    return text


def understood(parsed: QuickAdd, due_at: datetime | None = None) -> str:
    """The reading in words: "Due Fri 11 Dec 15:00 · Repeats every weekday"."""
    parts = []
    due = due_at or parsed.due_at
    if parsed.due_at and due:
        parts.append(f"Due {due_text(due)}")
    if parsed.recurrence:
        parts.append(f"Repeats {describe_rule(parsed.recurrence)}")
    return " · ".join(parts)


@bp.get("/tasks/quick-add/preview")
def quick_add_preview():
    """The reading of what is typed so far, as a small fragment under the box (no writes, no queries)."""
    if not is_htmx():
        return redirect_next(url_for("web.task_list"))
    args = MultiDict({**request.args.to_dict(), "quick": "1"})
    kept = args.get("no_parse") == "1"
    parsed = None if kept else read_quick_add(args)
    return render("tasks/_quick_add_preview.html", parsed=parsed, kept=kept and bool(args.get("title", "").strip()),
                  summary=understood(parsed) if parsed else "")


def confirm_quick_add(task, typed: str, parsed: QuickAdd) -> None:
    """The toast (or, without JavaScript, the message on the next page) saying what was read, with
    Undo: put the words back in the title and drop the date and repeat read from them."""
    cleared = [name for name, value in (("due_at", parsed.due_at), ("recurrence", parsed.recurrence)) if value]
    undo = url_for("web.keep_quick_add_words", task_id=task.id, title=typed, clear=cleared)
    summary = understood(parsed, task.due_at)
    toast(f"Added “{task.title}”: {summary[:1].lower()}{summary[1:]}.", undo_url=undo, undo_target=f"#task-{task.id}",
          link_url=url_for("web.task_detail", task_id=task.id))


@bp.post("/tasks/<task_id>/keep-words")
def keep_quick_add_words(task_id: str):
    """Undo a quick add's reading: the title as typed, without the due time and repeat read from it."""
    task = tasks.get_task(current_user.workspace_id, task_id, for_update=True)
    cleared = set(request.args.getlist("clear"))
    data: dict = {"title": request.args.get("title", "")}
    if "due_at" in cleared:
        data.update(due_at=None, recurrence=None)  # a repeat needs a due time
    elif "recurrence" in cleared:
        data["recurrence"] = None
    try:
        run_service(TaskUpdate(), data, lambda d: tasks.update_task(task, d, actor_id=current_user.id), partial=True)
    except FormInvalid as exc:
        toast(" ".join(m for messages in exc.errors.values() for m in messages))
    else:
        toast(f"Kept as typed: “{task.title}”.")
    if is_htmx():
        return render("tasks/_row.html", task=task)
    return redirect_next(url_for("web.task_list"))
