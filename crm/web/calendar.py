"""The calendar page (SPEC §14): week and month views of a user's tasks, time blocks, next
occurrences of recurring tasks and scheduled activities, in the user's time zone; moving a task
to another day or time (drag and drop, the "Move" control, or the date field of the list that
shows without JavaScript), with Undo."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from flask import request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.fields import EARLIEST_DATE, LATEST_DATE, format_datetime
from crm.schemas import TaskUpdate
from crm.services import accounts, calendar, tasks
from crm.services.errors import PreconditionFailed
from crm.services.tasks import is_overdue
from crm.web import bp
from crm.web.forms import FormInvalid, run_service
from crm.web.rendering import (
    current_path,
    fast_url_for,
    format_local,
    is_htmx,
    label,
    redirect_next,
    render,
    safe_next,
)
from crm.web.timezones import (
    datetime_local_value,
    local_day_start_utc,
    local_input_to_rfc3339,
    local_today,
    to_local,
    user_zone,
)
from crm.web.toasts import toast

VIEWS = ("week", "month")
SLOTS = 48  # half-hours of a day in the week view
MAX_LANES = 4  # overlapping timed items side by side in a day column; more overlap in the last lane
MONTH_CELL_ITEMS = 4  # items a month day shows (in its cell and in the list by day) before "N more"
# Items a day shows in the week grid and the list by day before "N more on this day" (a link to
# that day's tasks): a day of hundreds of due tasks would otherwise make a page of megabytes.
DAY_ITEMS = 24
# Days the calendar can show: far enough from the ends of the stored range that every
# conversion between zones stays inside it.
FIRST_DAY, LAST_DAY = EARLIEST_DATE + timedelta(days=14), LATEST_DATE - timedelta(days=45)


def _clamp(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class CalendarView:
    """What the calendar shows, as it appears in the URL: `/calendar?view=week&date=2026-12-07`."""

    view: str = "week"
    day: date = field(default_factory=local_today)
    owner: str = "me"  # "me", "any", or a user id

    @classmethod
    def from_args(cls, args: MultiDict | dict) -> CalendarView:
        view = args.get("view") or "week"
        try:
            day = date.fromisoformat((args.get("date") or "").strip())
        except ValueError:
            day = local_today()
        return cls(view=view if view in VIEWS else "week", day=_clamp(day),
                   owner=(args.get("owner") or "me").strip()[:64] or "me")

    @classmethod
    def from_path(cls, path: str) -> CalendarView:
        parts = urlsplit(path)
        if parts.path != url_for("web.calendar_page"):
            return cls()
        return cls.from_args({k: v[0] for k, v in parse_qs(parts.query).items()})

    @property
    def first(self) -> date:
        if self.view == "month":
            start = _month_start(self.day)
            return start - timedelta(days=start.weekday())
        return self.day - timedelta(days=self.day.weekday())

    @property
    def last(self) -> date:
        if self.view == "month":
            end = _month_start(self.day, 1) - timedelta(days=1)
            return end + timedelta(days=6 - end.weekday())
        return self.first + timedelta(days=6)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def title(self) -> str:
        if self.view == "month":
            return self.day.strftime("%B %Y")
        first, last = self.first, self.last
        if first.year != last.year:
            return f"{first.strftime('%-d %b %Y')} – {last.strftime('%-d %b %Y')}"
        if first.month != last.month:
            return f"{first.strftime('%-d %b')} – {last.strftime('%-d %b %Y')}"
        return f"{first.day} – {last.strftime('%-d %b %Y')}"

    def url(self, **changes) -> str:
        view = changes.get("view", self.view)
        day = changes.get("day", self.day)
        args = {"view": view, "date": day.isoformat()}
        owner = changes.get("owner", self.owner)
        if owner != "me":
            args["owner"] = owner
        return url_for("web.calendar_page", **args)

    def step_url(self, step: int) -> str:
        if self.view == "month":
            return self.url(day=_clamp(_month_start(self.day, step)))
        return self.url(day=_clamp(self.first + timedelta(days=7 * step)))

    def owner_id(self) -> str | None:
        if self.owner == "any":
            return None
        return current_user.id if self.owner == "me" else self.owner


def _minutes(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


@dataclass
class Placed:
    """A timed item in a week day column: the half-hour row it starts in, how many it spans, its lane."""

    item: calendar.CalendarItem
    row: int
    span: int
    lane: int = 0


def _place(day: date, items: list[calendar.CalendarItem]) -> tuple[list[Placed], int]:
    """The day's timed items in rows and lanes; an item that began on an earlier day (a time
    block running past midnight) starts at the top of the column."""
    placed = []
    for item in items:
        row = _minutes(item.start) // 30 if item.start.date() == day else 0
        end = item.end if item.end and item.end > item.start else None
        end_minutes = (1440 if end.date() > day else _minutes(end)) if end else _minutes(item.start) + 1
        placed.append(Placed(item, row, max(1, min(SLOTS - row, math.ceil(end_minutes / 30) - row))))
    lanes: list[int] = []  # the row each lane is free from
    for entry in sorted(placed, key=lambda p: (p.row, -p.span)):
        free = next((n for n, until in enumerate(lanes) if until <= entry.row), None)
        if free is None:
            lanes.append(0)
            free = len(lanes) - 1
        lanes[free] = entry.row + entry.span
        entry.lane = min(free, MAX_LANES - 1)
    return placed, max(1, min(len(lanes), MAX_LANES))


def _runs_into(item: calendar.CalendarItem, day: date) -> bool:
    """Whether a timed item that started before `day` is still going on it."""
    return (not item.all_day and item.end is not None and item.start.date() < day
            and item.end > datetime.combine(day, time(), tzinfo=item.end.tzinfo))


@dataclass
class Day:
    day: date
    shown: list[calendar.CalendarItem]  # the first DAY_ITEMS that start on the day, all-day first
    total: int  # everything that starts on the day
    all_day: list[calendar.CalendarItem] = field(default_factory=list)
    timed: list[Placed] = field(default_factory=list)  # with blocks carried over from earlier days
    lanes: int = 1

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def _context(cal: CalendarView, errors: dict | None = None) -> dict:
    zone = user_zone()
    bounds = [local_day_start_utc(day) for day in cal.days] + [local_day_start_utc(cal.last + timedelta(days=1))]
    # A month day shows as many items in its cell and in the list by day: the rest are a link away.
    per_day = DAY_ITEMS if cal.view == "week" else MONTH_CELL_ITEMS
    found = calendar.calendar_range(current_user.workspace_id, cal.owner_id(), bounds, zone, per_day)
    days = []
    for day, shown, total in zip(cal.days, found.days, found.totals, strict=True):
        entry = Day(day, shown, total)
        entry.all_day = [item for item in shown if item.all_day]
        carried = [item for earlier in days for item in earlier.shown if _runs_into(item, day)]
        entry.timed, entry.lanes = _place(day, carried + [item for item in shown if not item.all_day])
        days.append(entry)
    weeks = [days[n:n + 7] for n in range(0, len(days), 7)]
    users = accounts.workspace_users(current_user.workspace_id)
    return {"cal": cal, "days": days, "weeks": weeks, "today": local_today(),
            "users": users, "errors": errors or {}, "here": cal.url(), "cell_items": MONTH_CELL_ITEMS,
            "slots": SLOTS, "fragment": is_htmx()}


# The calendar's words for an item, as template globals: a week calls them for every item twice.

@bp.app_template_global()
def calendar_item_url(item: calendar.CalendarItem) -> str:
    if item.kind == "activity":
        return fast_url_for("web.activity_page", activity_id=item.record.id)
    return fast_url_for("web.task_detail", task_id=item.record.id)


@bp.app_template_global()
def calendar_item_time(item: calendar.CalendarItem) -> str:
    """"All day", "09:00", or "09:00–10:30" for an item that ends on its day."""
    if item.all_day:
        return "All day"
    if item.end and item.end.date() == item.start.date():
        return f"{item.start:%H:%M}–{item.end:%H:%M}"
    return f"{item.start:%H:%M}"


@bp.app_template_global()
def calendar_kind_label(item: calendar.CalendarItem) -> str:
    if item.kind == "repeat":
        return "Repeats"
    if item.kind == "activity":
        return label(item.record.type)
    return "Done" if item.record.status == "completed" else ""


# The grid's items and the list's date fields, written here rather than as template macros: a
# crowded week has 170 of each, and a macro call costs ten times this (docs/performance.md).
_REPEAT_TITLE = ' title="Repeats: the next occurrences are made when the task is completed"'


@bp.app_template_global()
def calendar_grid_item(item: calendar.CalendarItem, classes: str = "", continued: bool = False) -> Markup:
    """One item on the grid. Tasks can be dragged, or moved with "Move", which opens the
    calendar's one move form (#cal-move) on them (static/calendar.js). `continued`: a time block
    carried over from an earlier day (moved only from the day it starts)."""
    record, kind = item.record, item.kind
    title = escape(item.title)
    css = f"cal-item kind-{kind}"
    if kind == "task" and record.status == "completed":
        css += " is-done"
    if kind == "task" and is_overdue(record):
        css += " is-overdue"
    if continued:
        css += " is-continued"
    attributes = ""
    movable = item.movable and not continued
    if movable:
        due = item.start.date().isoformat() if item.all_day else datetime_local_value(record.due_at)
        attributes = (f' draggable="true" id="cal-{escape(record.id)}"'
                      f' data-move-url="{escape(fast_url_for("web.calendar_move", task_id=record.id))}"'
                      f' data-version="{escape(record.etag)}" data-due="{due}"'
                      + (' data-all-day="1"' if item.all_day else ""))
    if continued:
        when = f'<span class="cal-time">…{item.end:%H:%M}</span> '
    elif not item.all_day:
        when = f'<span class="cal-time">{calendar_item_time(item)}</span> '
    else:
        when = ""
    label_text = calendar_kind_label(item)
    after = f'<span class="visually-hidden"> ({escape(label_text)})</span>' if label_text else ""
    if continued:
        after += f'<span class="visually-hidden"> (continued from {item.start:%A})</span>'
    move = (f'<button type="button" class="cal-move-button" data-title="{title}">Move'
            f'<span class="visually-hidden"> “{title}”</span></button>') if movable else ""
    return Markup(
        f'<div class="{css} {escape(classes)}"{attributes}>\n'
        f'<a class="cal-item-link" href="{escape(calendar_item_url(item))}"{_REPEAT_TITLE if kind == "repeat" else ""}>'
        f"{when}{title}{after}</a>{move}\n</div>")


@bp.app_template_global()
def calendar_move_form(item: calendar.CalendarItem, here: str, errors: dict, prefix: str, csrf: str) -> Markup:
    """The date field of a task in the list by day (shown without JavaScript: a plain form post)."""
    task = item.record
    uid = escape(f"{prefix}-due-{task.id}")
    problems = errors.get(task.id)
    invalid = f' aria-invalid="true" aria-describedby="{uid}-err"' if problems else ""
    if item.all_day:
        field = f'<input id="{uid}" type="date" name="due" value="{item.start.date().isoformat()}" required{invalid}>'
    else:
        field = (f'<input id="{uid}" type="datetime-local" name="due" value="{datetime_local_value(task.due_at)}"'
                 f" required{invalid}>")
    error = f'<span class="field-error" id="{uid}-err">{escape(" ".join(problems))}</span>' if problems else ""
    return Markup(
        f'<form class="cal-move-form" method="post" action="{escape(fast_url_for("web.calendar_move", task_id=task.id))}">\n'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
        f'<input type="hidden" name="next" value="{escape(here)}">\n'
        f'<input type="hidden" name="version" value="{escape(task.etag)}">\n'
        f'<label for="{uid}">Due<span class="visually-hidden">: {escape(task.title)}</span></label>\n'
        f'{field}\n<button type="submit" class="small">Save</button>{error}\n</form>')


@lru_cache(maxsize=512)
def _slots(day: date) -> Markup:
    iso = day.isoformat()
    return Markup("".join(f'<div class="cal-slot row-s{s}" data-drop-date="{iso}" data-drop-time="{s // 2:02d}:{s % 2 * 30:02d}">'
                          "</div>" for s in range(SLOTS)))


@bp.app_template_global()
def calendar_slots(day: date) -> Markup:
    """A week day column's half-hour drop targets."""
    return _slots(day)


@bp.get("/calendar")
def calendar_page():
    cal = CalendarView.from_args(request.args)
    if is_htmx():
        return render("calendar/_calendar.html", **_context(cal))
    return render("calendar/index.html", **_context(cal))


def _bad(message: str) -> FormInvalid:
    return FormInvalid({"due_at": [message]})


def _new_due_at(task, values: MultiDict) -> str:
    """The new due time asked for, as RFC 3339 for the schema (which checks it like a PATCH's).

    `to`: an exact instant (Undo sends the previous due_at). `due`: the date or datetime-local
    field, in the user's zone (a date alone is midnight: all-day). `date` with an optional `time`
    (HH:MM): drag and drop; without a time the task keeps its time of day."""
    if values.get("to"):
        return values["to"].strip()
    if values.get("due"):
        return local_input_to_rfc3339(values["due"])
    if not values.get("date"):
        raise _bad("Give the new date.")
    try:
        day = date.fromisoformat(values["date"].strip())
    except ValueError:
        raise _bad("Give the date as YYYY-MM-DD.") from None
    if not EARLIEST_DATE < day < LATEST_DATE:
        raise _bad(f"Give a date from {EARLIEST_DATE.year + 1} to {LATEST_DATE.year - 1}.")
    if values.get("time"):
        try:
            at = time.fromisoformat(values["time"].strip())
        except ValueError:
            raise _bad("Give the time as HH:MM.") from None
    else:
        local = to_local(task.due_at)
        at = local.time() if local else time(0, 0)
    moment = datetime.combine(day, at.replace(tzinfo=None), tzinfo=user_zone())
    return moment.isoformat()


def _when(task) -> str:
    local = to_local(task.due_at)
    if not task.duration and local.time() == time(0, 0):
        return format_local(task.due_at, "date")
    return format_local(task.due_at)


def _answer(status: int = 200, errors: dict | None = None):
    """htmx: the calendar as the page that asked shows it; without JavaScript, back to it."""
    if is_htmx():
        cal = CalendarView.from_path(current_path())
        return render("calendar/_calendar.html", status=status, **_context(cal, errors))
    if errors:
        cal = CalendarView.from_path(safe_next(url_for("web.calendar_page")))
        return render("calendar/index.html", status=status, **_context(cal, errors))
    return redirect_next(url_for("web.calendar_page"))


@bp.post("/calendar/tasks/<task_id>/move")
def calendar_move(task_id: str):
    """Reschedule a task: one update through the tasks service (what PATCH due_at does), then a
    toast whose Undo posts the previous due_at back, exactly. `version` (the ETag the page
    showed) guards against moving a task that changed meanwhile."""
    task = tasks.get_task(current_user.workspace_id, task_id, for_update=True)
    values = request.values
    before, title = task.due_at, task.title
    try:
        new_due = _new_due_at(task, values)
        run_service(TaskUpdate(), {"due_at": new_due},
                    lambda d: tasks.update_task(task, d, values.get("version") or None, actor_id=current_user.id),
                    partial=True)
    except FormInvalid as exc:
        messages = [m for name in ("due_at", "form") for m in exc.errors.get(name, [])] or ["Not a valid date."]
        if is_htmx():
            toast(f"“{title}” was not moved: {' '.join(messages)}")
        return _answer(422, {task.id: messages})
    except PreconditionFailed:
        db.session.rollback()
        toast(f"“{title}” was changed meanwhile, so it was not moved. The calendar now shows it as it is.")
        return _answer()
    if values.get("undo") == "1":
        toast(f"Moved “{title}” back to {_when(task)}.")
    else:
        here = current_path() if is_htmx() else safe_next(url_for("web.calendar_page"))
        undo = url_for("web.calendar_move", task_id=task.id, to=format_datetime(before), version=task.etag,
                       undo="1", next=here if here.startswith(url_for("web.calendar_page")) else None)
        toast(f"Moved “{title}” to {_when(task)}.", undo_url=undo, undo_target="#calendar")
    return _answer()
