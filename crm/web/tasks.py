"""Task pages: the list with quick views and filters, inline edit, complete/reopen, delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as HttpNotFound

from crm.models import OPEN_TASK_STATUSES, PRIORITIES, TASK_STATUSES, TASK_TYPES, utcnow
from crm.schemas import TaskInput, TaskUpdate
from crm.services import accounts, bulk, recurrence, tasks
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.forms import (
    FormInvalid,
    choice_fields,
    datetime_fields,
    prelinked,
    read_picks,
    run_service,
    text_fields,
)
from crm.web.quick_add import confirm_quick_add, read_quick_add
from crm.web.rendering import is_htmx, list_page, redirect_next, render, safe_next
from crm.web.timezones import (
    local_day_start_utc,
    local_days_utc,
    local_today,
    parse_local_date,
    user_zone,
)
from crm.web.toasts import toast
from crm.web.trash import deleted_toast

QUICK_VIEWS = {
    "my": "My open tasks",
    "today": "Today",
    "overdue": "Overdue",
    "upcoming": "Upcoming",
    "done": "Done",
    "all": "All",
}
QUICK_ADD_TARGETS = ("#task-list", "#record-tasks")
TASK_PICKERS = ("contact", "company", "deal", "owner")
ONE_SECOND = timedelta(seconds=1)


def _choices(values: list[str], allowed: tuple[str, ...]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v in allowed]


@dataclass
class TaskFilters:
    """What the task list shows, as it appears in the URL (so a view can be bookmarked)."""

    view: str = "my"
    owner: str = "me"  # "me", "any", or a user id
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    due_from: date | None = None
    due_to: date | None = None
    done_from: date | None = None  # completed on these days (the Today page's "done this week")
    done_to: date | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: MultiDict) -> TaskFilters:
        view = args.get("view", "my")
        return cls(
            view=view if view in QUICK_VIEWS else "my",
            owner=(args.get("owner") or "me").strip()[:64],
            status=_choices(args.getlist("status"), TASK_STATUSES),
            priority=_choices(args.getlist("priority"), PRIORITIES),
            due_from=parse_local_date(args.get("due_from")),
            due_to=parse_local_date(args.get("due_to")),
            done_from=parse_local_date(args.get("done_from")),
            done_to=parse_local_date(args.get("done_to")),
            q=(args.get("q") or "").strip()[:200],
        )

    def url_args(self) -> dict:
        args: dict = {"view": self.view}
        if self.owner != "me":
            args["owner"] = self.owner
        if self.status:
            args["status"] = self.status
        if self.priority:
            args["priority"] = self.priority
        if self.due_from:
            args["due_from"] = self.due_from.isoformat()
        if self.due_to:
            args["due_to"] = self.due_to.isoformat()
        if self.done_from:
            args["done_from"] = self.done_from.isoformat()
        if self.done_to:
            args["done_to"] = self.done_to.isoformat()
        if self.q:
            args["q"] = self.q
        return args

    def is_plain(self) -> bool:
        """Only the quick view, no filter or search narrowing it."""
        return self.url_args() == {"view": self.view}

    def heading(self, users) -> str:
        """The page's heading says whose tasks are shown, not just "My"."""
        if self.owner == "me":
            whose = "My"
        elif self.owner == "any":
            whose = "Everyone’s"
        else:
            whose = next((f"{u.name}’s" for u in users if u.id == self.owner), "Nobody’s")
        if self.view == "my":
            return f"{whose} open tasks"
        if self.owner == "me":
            return QUICK_VIEWS[self.view]
        return f"{QUICK_VIEWS[self.view]}: {whose.lower() if self.owner == 'any' else whose} tasks"

    def url_for_view(self, view: str) -> str:
        return url_for("web.task_list", **{**self.url_args(), "view": view})

    def service_params(self, user) -> dict:
        params: dict = {"sort": "due_at"}
        today = local_today()
        due_after = due_before = None
        if self.view in ("my", "today", "upcoming"):
            params["status"] = list(OPEN_TASK_STATUSES)
        if self.view == "today":
            due_after = local_day_start_utc(today) - ONE_SECOND
            due_before = local_day_start_utc(today + timedelta(days=1))
        elif self.view == "upcoming":
            due_after = utcnow()
            due_before = local_day_start_utc(today + timedelta(days=8))
        elif self.view == "overdue":
            params["overdue"] = True
        elif self.view == "done":
            params["status"] = ["completed"]
            params["sort"] = "-completed_at"  # the latest finished first
        elif self.view == "all":
            params["sort"] = "-created_at"
        if self.status:
            params["status"] = self.status
        if self.priority:
            params["priority"] = self.priority
        if self.owner == "me":
            params["owner_id"] = user.id
        elif self.owner != "any":
            params["owner_id"] = self.owner
        start, end = local_days_utc(self.due_from, self.due_to)
        if start is not None:
            due_after = max(due_after, start) if due_after else start
        if end is not None:
            due_before = min(due_before, end) if due_before else end
        if due_after is not None:
            params["due_after"] = due_after
        if due_before is not None:
            params["due_before"] = due_before
        done_after, done_before = local_days_utc(self.done_from, self.done_to)
        if done_after is not None:
            params["completed_after"] = done_after
        if done_before is not None:
            params["completed_before"] = done_before
        if self.q:
            params["q"] = self.q
        return params


def _workspace_id() -> str:
    return current_user.workspace_id


def _users():
    return accounts.workspace_users(_workspace_id())


def _list_context(filters: TaskFilters) -> dict:
    page = list_page(partial(tasks.list_tasks, rows=True), filters.service_params(current_user))
    cursor = request.args.get("cursor")
    more_url = None
    if page.next_cursor:
        more_url = url_for("web.task_list", **filters.url_args(), cursor=page.next_cursor)
    return {"page": page, "filters": filters, "more_url": more_url, "is_more": bool(cursor)}


def quick_add_context(target: str = "#task-list", links: dict | None = None, next_url: str = "") -> dict:
    return {"target": target, "links": links or {}, "next": next_url}


@bp.get("/tasks")
def task_list():
    filters = TaskFilters.from_args(request.args)
    context = _list_context(filters)
    if is_htmx():
        if context["is_more"]:
            return render("tasks/_more.html", **context)
        # The heading and quick views follow the filters (out of band): "My" only when it is mine.
        users = _users() if filters.owner not in ("me", "any") else []
        return render("tasks/_results.html", oob_head=True, heading=filters.heading(users), views=QUICK_VIEWS,
                      **context)
    users = _users()
    return render("tasks/index.html", users=users, views=QUICK_VIEWS, heading=filters.heading(users),
                  quick_add=quick_add_context(), **context)


def _task_form_data(form: MultiDict) -> dict:
    data = {
        **text_fields(form, ("title", "description")),
        **choice_fields(form, ("type", "status", "priority", "owner_id"), nullable=("owner_id",)),
        **datetime_fields(form, ("due_at",), nullable=("due_at",)),
    }
    data.update(_repeat_field(form))
    data.update(_duration_field(form))
    if form.get("activity_id"):
        data["activity_id"] = form["activity_id"].strip()
    if "reminder_before" in form:
        before = form.get("reminder_before", "").strip()
        before_minutes = int(before) if before.isdigit() else before
        data["reminder"] = {"type": form.get("reminder_type") or "push", "before_minutes": before_minutes} if before else None
    return data


REPEAT_CHOICES = {"": "Does not repeat", "daily": "Daily", "weekdays": "Every weekday (Mon–Fri)",
                  "weekly": "Weekly", "monthly": "Monthly", "yearly": "Yearly", "custom": "Custom (RRULE)"}


def repeat_choice(rule: str | None) -> str:
    """The Repeat option that shows a stored rule: a preset, or custom."""
    if not rule:
        return ""
    return next((name for name, preset in recurrence.PRESETS.items() if preset == rule), "custom")


def _repeat_field(form: MultiDict) -> dict:
    """Repeat: none, a preset, or custom (the RRULE typed in `repeat_rule`)."""
    if "repeat" not in form:
        return {}
    choice = form["repeat"].strip()
    if choice == "custom":
        return {"recurrence": form.get("repeat_rule", "")}
    return {"recurrence": recurrence.PRESETS.get(choice)}


def _duration_field(form: MultiDict) -> dict:
    """Duration, typed in minutes; the schema checks the seconds (a wrong entry is reported there)."""
    if "duration" not in form:
        return {}
    text = form["duration"].strip()
    if not text:
        return {"duration": None}
    return {"duration": int(text) * 60 if text.isascii() and text.isdigit() and len(text) < 9 else text}


@bp.get("/tasks/new")
def new_task():
    return render("tasks/new.html", form={}, errors={}, users=_users(), types=TASK_TYPES,
                  repeat_choices=REPEAT_CHOICES, repeat_choice=repeat_choice)


@bp.post("/tasks")
def create_task():
    form = request.form
    data = _task_form_data(form)
    links, target = prelinked(form, data, QUICK_ADD_TARGETS, "#task-list")
    quick_add = quick_add_context(target, links, form.get("next", ""))
    picks = read_picks(form, TASK_PICKERS, _workspace_id())
    data.update(picks.data)
    parsed = read_quick_add(form)
    if parsed is not None:
        data["title"] = parsed.title
        if parsed.due_at:
            data["due_at"] = parsed.due_at.isoformat() + "Z"
        if parsed.recurrence:
            data["recurrence"] = parsed.recurrence
    try:
        task = run_service(TaskInput(), data, lambda d: tasks.create_task(_workspace_id(), current_user.id, d),
                           picks=picks)
    except FormInvalid as exc:
        if is_htmx():
            return render("tasks/_quick_add.html", status=422, quick_add=quick_add, errors=exc.errors,
                          candidates=exc.candidates, form=form,
                          headers={"HX-Retarget": "#quick-add", "HX-Reswap": "outerHTML"})
        return render("tasks/new.html", status=422, form=form, errors=exc.errors, candidates=exc.candidates,
                      users=_users(), types=TASK_TYPES, repeat_choices=REPEAT_CHOICES, repeat_choice=repeat_choice)
    if parsed is not None:
        confirm_quick_add(task, form.get("title", ""), parsed)
    else:
        # The list may not show the new task (another view, or no due date sorts it last): say so, with a link.
        toast(f"Added “{task.title}”.", link_url=url_for("web.task_detail", task_id=task.id))
    if is_htmx():
        return render("tasks/_created.html", task=task, quick_add=quick_add, errors={}, form={})
    return redirect_next(url_for("web.task_list"))


@bp.get("/tasks/<task_id>")
def task_detail(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id)
    series = recurrence.series_tasks(task) if task.recurrence or task.recurrence_of else []
    upcoming = []
    if task.recurrence and task.due_at and task.status in OPEN_TASK_STATUSES and not task.next_task_id:
        upcoming = recurrence.upcoming(task.recurrence, task.due_at, recurrence.owner_zone(task), count=4)[1:]
    activity = None
    if task.activity_id:
        from crm.services import activities

        activity = activities.get_activity(_workspace_id(), task.activity_id)
    ends_at = task.due_at + timedelta(seconds=task.duration) if task.due_at and task.duration else None
    return render("tasks/detail.html", task=task, series=series, upcoming=upcoming, activity=activity, ends_at=ends_at,
                  repeat_label=REPEAT_CHOICES[repeat_choice(task.recurrence)])


@bp.get("/tasks/<task_id>/row")
def task_row(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id)
    if not is_htmx():
        return redirect_next(url_for("web.task_detail", task_id=task.id))
    return render("tasks/_row.html", task=task)


@bp.route("/tasks/<task_id>/edit", methods=["GET", "POST"])
def edit_task(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id, for_update=request.method == "POST")
    errors: dict = {}
    candidates: dict = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        data = _task_form_data(request.form)
        picks = read_picks(request.form, TASK_PICKERS, _workspace_id())
        data.update(picks.data)
        try:
            run_service(TaskUpdate(), data, lambda d: tasks.update_task(task, d, actor_id=current_user.id),
                        partial=True, picks=picks)
        except FormInvalid as exc:
            errors, candidates = exc.errors, exc.candidates
        else:
            toast(f"Saved “{task.title}”.")
            if is_htmx():
                return render("tasks/_row.html", task=task)
            return redirect_next(url_for("web.task_detail", task_id=task.id))
    status = 422 if errors else 200
    if is_htmx():
        return render("tasks/_row_form.html", status=status, task=task, form=form, errors=errors,
                      candidates=candidates)
    return render("tasks/edit.html", status=status, task=task, form=form, errors=errors, candidates=candidates,
                  users=_users(), types=TASK_TYPES, repeat_choices=REPEAT_CHOICES, repeat_choice=repeat_choice)


def _row_or_redirect(task):
    if is_htmx():
        return render("tasks/_row.html", task=task)
    return redirect_next(url_for("web.task_list"))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id, for_update=True)
    task = tasks.complete_task(task, actor_id=current_user.id)
    toast(f"Completed “{task.title}”.", undo_url=url_for("web.reopen_task", task_id=task.id),
          undo_target=f"#task-{task.id}")
    return _row_or_redirect(task)


@bp.post("/tasks/<task_id>/reopen")
def reopen_task(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id, for_update=True)
    task = tasks.reopen_task(task)
    toast(f"Reopened “{task.title}”.")
    return _row_or_redirect(task)


@bp.route("/tasks/<task_id>/delete", methods=["GET", "POST"])
def delete_task(task_id: str):
    task = tasks.get_task(_workspace_id(), task_id, for_update=request.method == "POST")
    if request.method != "POST":  # GET and HEAD only ask; only a POST deletes
        return render("tasks/confirm_delete.html", task=task)
    tasks.delete_task(task)
    deleted_toast("task", task.title, task.id, next_url=safe_next(url_for("web.task_list")))
    if is_htmx():
        return render("tasks/_deleted.html")
    return redirect_next(url_for("web.task_list"))


# --- Bulk actions (SPEC §14): the task list is a form (#bulk) its rows' selection boxes belong to.

BULK_ACTIONS = ("complete", "reopen", "reassign", "reschedule", "delete")
# Undo of a bulk action: the action that reverses it (no Undo for the others).
BULK_UNDO = {"complete": "reopen", "delete": "restore"}
# Undo carries its ids in its URL (and, without JavaScript, in the session cookie): up to this many.
BULK_UNDO_MAX = 100
RESCHEDULE_HOUR = 9  # a rescheduled task is due at 09:00 in the user's zone on its new day


@bp.app_template_global()
def task_rows_selectable() -> bool:
    """Task rows carry a selection box only on the task list, whose bulk form it belongs to."""
    if request.endpoint in ("web.task_list", "web.bulk_tasks"):
        return True
    if not (is_htmx() and request.headers.get("HX-Current-URL")):
        return False
    try:
        endpoint, _args = current_app.url_map.bind("").match(urlsplit(request.headers["HX-Current-URL"]).path)
    except HTTPException:  # not a page of this app, or a redirect: not the list
        return False
    return endpoint == "web.task_list"


def _undo_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="bulk-undo")


def _reschedule_due(form: MultiDict):
    """The due time the bulk bar's Reschedule picks: tomorrow, next Monday, or a date."""
    choice, today = form.get("due", "tomorrow"), local_today()
    if choice == "tomorrow":
        day = today + timedelta(days=1)
    elif choice == "next_week":
        day = today + timedelta(days=7 - today.weekday())
    else:
        day = parse_local_date(form.get("due_date"))
        if day is None:
            raise ValidationFailed.field("due_date", "Pick a date to reschedule to.")
    return datetime.combine(day, time(RESCHEDULE_HOUR), tzinfo=user_zone()).astimezone(UTC).replace(tzinfo=None)


def _bulk_change(action: str, form: MultiDict) -> tuple[str, dict | None]:
    """The bulk service's action and data for a button of the bulk bar."""
    if action == "reassign":
        data = choice_fields(form, ("owner_id",), nullable=("owner_id",))
        return "update", run_service(TaskUpdate(), data, lambda d: d, partial=True)
    if action == "reschedule":
        return "update", {"due_at": _reschedule_due(form)}
    return action, None


BULK_DONE = {"complete": "Completed", "reopen": "Reopened", "delete": "Deleted", "restore": "Restored",
             "reassign": "Reassigned", "reschedule": "Rescheduled"}


def _bulk_answer(filters: TaskFilters, next_url: str):
    if is_htmx():
        return render("tasks/_results.html", **_list_context(filters))
    return redirect_next(next_url)


@bp.post("/tasks/bulk")
def bulk_tasks():
    form = request.form
    next_url = safe_next(url_for("web.task_list"))
    filters = TaskFilters.from_args(MultiDict(parse_qsl(urlsplit(next_url).query)))
    action = form.get("action", "")
    ids = form.getlist("ids")
    if not ids and form.get("all_shown"):  # "Select all shown" without JavaScript: the view's first page
        ids = [t.id for t in list_page(tasks.list_tasks, filters.service_params(current_user)).items]
    if action not in BULK_ACTIONS or not ids:
        toast("Select at least one task, then an action." if action in BULK_ACTIONS else "Pick an action.")
        return _bulk_answer(filters, next_url)
    try:
        service_action, data = _bulk_change(action, form)
        result = bulk.run(_workspace_id(), current_user.id, ids, service_action, data)
    except (ValidationFailed, FormInvalid) as exc:
        details = exc.details if isinstance(exc, ValidationFailed) else exc.errors
        first = next(iter(details.values()), ["Nothing was changed."])
        toast(f"Nothing was changed: {first[0] if isinstance(first, list) else first}")
        return _bulk_answer(filters, next_url)
    _bulk_toast(action, result.ids, next_url)
    return _bulk_answer(filters, next_url)


def _bulk_toast(action: str, ids: list[str], next_url: str) -> None:
    count = f"{len(ids)} task{'s' if len(ids) != 1 else ''}"
    undo = BULK_UNDO.get(action)
    undo_url = None
    if undo and ids and len(ids) <= BULK_UNDO_MAX:
        token = _undo_serializer().dumps({"a": undo, "i": ids})
        undo_url = url_for("web.undo_bulk_tasks", token=token, next=next_url)
    toast(f"{BULK_DONE[action]} {count}.", undo_url=undo_url)


@bp.post("/tasks/bulk/undo/<token>")
def undo_bulk_tasks(token: str):
    """Undo of a bulk action: its ids and reverse action are signed into the URL."""
    try:
        payload = _undo_serializer().loads(token)
        action, ids = payload["a"], list(payload["i"])
    except (BadSignature, KeyError, TypeError):
        raise HttpNotFound() from None
    if action not in BULK_UNDO.values():
        raise HttpNotFound()
    next_url = safe_next(url_for("web.task_list"))
    try:
        result = bulk.run(_workspace_id(), current_user.id, ids, action, None)
    except ValidationFailed:
        toast("Nothing was changed: some of those tasks have changed since.")
    else:
        toast(f"{BULK_DONE[action]} {len(result.ids)} task{'s' if len(result.ids) != 1 else ''}.")
    if is_htmx():
        return render("trash/_restored.html", headers={"HX-Refresh": "true"})
    return redirect_next(next_url)
