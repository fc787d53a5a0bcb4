"""The calendar feed (SPEC §11): a user's open tasks with a due time and their scheduled
activities, as an iCalendar file that Google, Apple and Outlook calendars subscribe to.

- A task due exactly at midnight in the user's zone, without a duration, is an all-day event on
  that day (a bare date given to the API is midnight UTC, so for a user in UTC a dated task is
  all-day); any other due time is an event starting then, lasting `duration` (none: it ends
  where it starts, a deadline).
- Timed events are written in the user's zone (DTSTART;TZID=... with its VTIMEZONE), so that a
  recurring task's RRULE expands at the same local time across daylight-saving changes, as
  the tasks themselves do (crm/services/recurrence.py).
- UID is the record's id, stable for the life of the task; SEQUENCE follows its version.
"""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
from sqlalchemy import case, func, select
from sqlalchemy.orm import lazyload

from crm.database import writes
from crm.extensions import db
from crm.models import OPEN_TASK_STATUSES, Activity, Task, User, new_calendar_token
from crm.services import recurrence, rows
from crm.services.tasks import status_condition

MAX_EVENTS = 5000  # per kind; a feed is refetched every few minutes by every subscribed client
PRODID = "-//Followup//Calendar feed//EN"


def user_by_calendar_token(token: str) -> User | None:
    """The active user whose feed token this is, or None."""
    if not token or len(token) > 64:
        return None
    user = db.session.execute(select(User).where(User.calendar_token == token)).unique().scalar_one_or_none()
    if user is None or not user.is_active or not secrets.compare_digest(user.calendar_token, token):
        return None
    return user


def calendar_token(user: User) -> str:
    """The user's feed token, made on first use for a user that has none."""
    if not user.calendar_token:
        regenerate_calendar_token(user)
    return user.calendar_token


@writes
def regenerate_calendar_token(user: User) -> str:
    """A new token: the old feed URL stops working at once."""
    user.calendar_token = new_calendar_token()
    db.session.commit()
    return user.calendar_token


def _zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def is_all_day(task: Task, zone: zoneinfo.ZoneInfo) -> bool:
    local = _aware(task.due_at).astimezone(zone)
    return not task.duration and local.time() == time(0, 0)


def _rrule_for(rule: str, start: date | datetime, zone: zoneinfo.ZoneInfo) -> icalendar.vRecur:
    """The task's rule as the event's RRULE; UNTIL takes the value type of DTSTART (RFC 5545)."""
    parts = recurrence.parse_rule(rule)
    if "UNTIL" in parts:
        value = parts["UNTIL"]
        if isinstance(start, datetime) and "T" not in value:
            end_of_day = datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time(23, 59, 59), tzinfo=zone)
            parts["UNTIL"] = end_of_day.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        elif not isinstance(start, datetime) and "T" in value:
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            parts["UNTIL"] = moment.astimezone(zone).strftime("%Y%m%d")
    return icalendar.vRecur.from_ical(recurrence.format_rule(parts))


def _event(uid: str, summary: str, stamp: datetime, sequence: int, url: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", _aware(stamp))
    event.add("last-modified", _aware(stamp))
    event.add("sequence", max(sequence - 1, 0))
    event.add("summary", summary)
    event.add("url", url)
    return event


def task_event(task: Task, zone: zoneinfo.ZoneInfo, base_url: str) -> icalendar.Event:
    url = f"{base_url}/tasks/{task.id}"
    event = _event(f"{task.id}@followup", task.title, task.updated_at, task.version or 1, url)
    start: date | datetime
    if is_all_day(task, zone):
        start = _aware(task.due_at).astimezone(zone).date()
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    else:
        start = _aware(task.due_at).astimezone(zone)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(seconds=task.duration or 0))
    if task.recurrence:
        event.add("rrule", _rrule_for(task.recurrence, start, zone))
    description = "\n\n".join(part for part in (task.description, url) if part)
    event.add("description", description)
    event.add("categories", ["Task"])
    event.add("status", "CONFIRMED")
    return event


def activity_event(activity: Activity, zone: zoneinfo.ZoneInfo, base_url: str) -> icalendar.Event:
    url = f"{base_url}/activities/{activity.id}"
    summary = activity.subject or activity.type.replace("_", " ").capitalize()
    event = _event(f"{activity.id}@followup", summary, activity.updated_at, activity.version or 1, url)
    start = _aware(activity.occurred_at).astimezone(zone)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(seconds=activity.duration or 0))
    event.add("description", "\n\n".join(part for part in (activity.body, url) if part))
    event.add("categories", [activity.type.capitalize()])
    event.add("status", "TENTATIVE")
    return event


def calendar_feed(user: User, base_url: str) -> bytes:
    """The user's feed as iCalendar bytes; `base_url` (no trailing slash) prefixes the links."""
    zone = _zone(user)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Followup: {user.name}")
    cal.add("x-wr-timezone", zone.key)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    open_tasks = db.session.execute(
        select(Task).where(Task.workspace_id == user.workspace_id, Task.owner_id == user.id,
                           Task.status.in_(OPEN_TASK_STATUSES), Task.due_at.is_not(None))
        .order_by(Task.due_at, Task.id).limit(MAX_EVENTS)
    ).unique().scalars()
    for task in open_tasks:
        cal.add_component(task_event(task, zone, base_url))
    scheduled = db.session.execute(
        select(Activity).where(Activity.workspace_id == user.workspace_id, Activity.owner_id == user.id,
                               Activity.status == "scheduled")
        .order_by(Activity.occurred_at, Activity.id).limit(MAX_EVENTS)
    ).unique().scalars()
    for activity in scheduled:
        cal.add_component(activity_event(activity, zone, base_url))
    cal.add_missing_timezones()
    return cal.to_ical()


# --- The calendar page: what a date range holds ----------------------------------------------

MAX_SERIES = 200  # open recurring tasks whose occurrences are shown
MAX_OCCURRENCES = 62  # per series and range (a daily task over a six-week month grid)
SHOWN_TASK_STATUSES = ["pending", "in_progress", "completed"]
# What the calendar reads of the tasks and activities it shows (templates/calendar/).
SHOWN_COLUMNS = {
    Task: ("id", "title", "status", "due_at", "duration", "recurrence_of", "version"),
    Activity: ("id", "subject", "type", "status", "occurred_at", "duration", "version"),
}


@dataclass
class CalendarItem:
    """One thing on the calendar: a task (`kind` "task"), a next occurrence of a recurring task
    that does not exist yet ("repeat", `record` is the open task it repeats), or a scheduled
    activity ("activity"). `record` is the model, or a plain row read for display
    (crm/services/rows.py). `start` and `end` are in the zone the range was asked in."""

    kind: str
    record: Any  # Task | Activity, or their rows
    start: datetime
    end: datetime | None
    all_day: bool

    @property
    def title(self) -> str:
        if self.kind != "activity":
            return self.record.title
        return self.record.subject or self.record.type.replace("_", " ").capitalize()

    @property
    def movable(self) -> bool:
        return self.kind == "task"


@dataclass
class CalendarRange:
    """The range's days, each with its first items (all-day first, then by start) and how many it holds."""

    days: list[list[CalendarItem]]
    totals: list[int]


def _task_item(task: Task, zone: zoneinfo.ZoneInfo, kind: str = "task", due_at: datetime | None = None) -> CalendarItem:
    due_at = due_at or task.due_at
    start = _aware(due_at).astimezone(zone)
    all_day = not task.duration and start.time() == time(0, 0)
    end = start + timedelta(seconds=task.duration) if task.duration else None
    return CalendarItem(kind, task, start, end, all_day)


def _first_of_each_day(model, moment, conditions: list, bounds: list[datetime], per_day: int) -> tuple[list, list[int]]:
    """The first `per_day` records of `model` (by `moment`, then id) in each of the days between
    `bounds`, read as plain rows (crm/services/rows.py: the calendar only shows them), and each
    day's count, in one statement. The days are cut in SQL (a window per day over the index), so
    a day of thousands reads no more rows than a quiet one."""
    day = case(*((moment < bound, n) for n, bound in enumerate(bounds[1:-1])), else_=len(bounds) - 2)
    ranked = (
        select(model.id.label("id"), day.label("day"),
               func.row_number().over(partition_by=day, order_by=(moment, model.id)).label("rank"),
               func.count().over(partition_by=day).label("total"))
        .where(*conditions, moment >= bounds[0], moment < bounds[-1])
        .subquery()
    )
    stmt = (select(model).join(ranked, ranked.c.id == model.id).where(ranked.c.rank <= per_day)
            .order_by(moment, model.id))
    only = SHOWN_COLUMNS[model]
    found = rows.read_with_extras(
        rows.as_rows(stmt, model, with_links=False, only=only).add_columns(ranked.c.day, ranked.c.total),
        model, 2, with_links=False, only=only)
    totals = [0] * (len(bounds) - 1)
    for _, (index, total) in found:
        totals[index] = total
    return [record for record, _ in found], totals


def calendar_range(workspace_id: str, owner_id: str | None, bounds: list[datetime], zone: zoneinfo.ZoneInfo,
                   per_day: int) -> CalendarRange:
    """What the calendar shows on the days that begin at `bounds` (naive UTC: the first day's
    start, each next day's start, the last day's end), in `zone`: the tasks due then (open and
    completed; cancelled ones are not shown), the next occurrences of open recurring tasks falling
    then, and the scheduled activities. `owner_id` None: everyone's.

    Each day keeps its first `per_day` items (all-day first, then by start) and counts the rest:
    three statements, and never more than `per_day` rows of a kind a day, whatever the range
    holds. A task due exactly at midnight in `zone` without a duration is all-day, as in the feed;
    a time block (a duration) ends `duration` later. Items are placed on the day they start."""
    light = (lazyload(Task.contact), lazyload(Task.company), lazyload(Task.deal))
    owned = [Task.owner_id == owner_id] if owner_id else []
    due, task_totals = _first_of_each_day(
        Task, Task.due_at, [Task.workspace_id == workspace_id, *owned, status_condition(SHOWN_TASK_STATUSES)],
        bounds, per_day)
    # The open head of each series (its next occurrence not made yet), however long ago it was due.
    start, end = bounds[0], bounds[-1]
    series = db.session.execute(
        select(Task).options(*light)
        .where(Task.workspace_id == workspace_id, *owned, Task.recurrence.is_not(None),
               status_condition(list(OPEN_TASK_STATUSES)), Task.due_at < end, Task.next_task_id.is_(None))
        .order_by(Task.due_at.desc()).limit(MAX_SERIES)
    ).unique().scalars()
    activity_owner = [Activity.owner_id == owner_id] if owner_id else []
    scheduled, activity_totals = _first_of_each_day(
        Activity, Activity.occurred_at,
        [Activity.workspace_id == workspace_id, *activity_owner, Activity.status == "scheduled"], bounds, per_day)
    local_days = [_aware(bound).astimezone(zone).date() for bound in bounds[:-1]]
    index_of = {day: n for n, day in enumerate(local_days)}
    days: list[list[CalendarItem]] = [[] for _ in local_days]
    totals = [a + b for a, b in zip(task_totals, activity_totals, strict=True)]

    def place(item: CalendarItem) -> int | None:
        index = index_of.get(item.start.date())
        if index is not None:
            days[index].append(item)
        return index

    for task in due:
        place(_task_item(task, zone))
    shown = {(task.recurrence_of or task.id, task.due_at) for task in due}
    for head in series:
        try:
            moments = recurrence.occurrences_between(head.recurrence, head.due_at, recurrence.owner_zone(head),
                                                     start, end, limit=MAX_OCCURRENCES)
        except recurrence.InvalidRule:  # a rule stored before the rules were checked: no repeats shown
            continue
        key = head.recurrence_of or head.id
        for moment in moments:
            if (key, moment) not in shown and (index := place(_task_item(head, zone, "repeat", moment))) is not None:
                totals[index] += 1
    for activity in scheduled:
        begins = _aware(activity.occurred_at).astimezone(zone)
        ends = begins + timedelta(seconds=activity.duration) if activity.duration else None
        place(CalendarItem("activity", activity, begins, ends, False))
    for items in days:
        items.sort(key=lambda item: (not item.all_day, item.start, item.title.casefold(), item.record.id))
        del items[per_day:]
    return CalendarRange(days, totals)
