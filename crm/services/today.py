"""The Today page's figures (SPEC §14): one user's own tasks and activities, in their time zone.

Everything is counted in SQL, a fixed number of statements whatever the data: the week and
due-date buckets are CASE expressions over bounds computed here in the user's zone (local
midnights converted to UTC, so a daylight-saving change moves the bound, not the bucket), and
each figure is one GROUP BY. The user's week starts on Monday (there is no setting for it).

- Overdue: open tasks due before today (local midnight); a task due earlier today is "due
  today" (and shown overdue in the agenda), as in Todoist.
- Due today: open tasks due today. This week: open tasks due Monday to Sunday of this week.
- Done this week: tasks completed since Monday (completed_at, which is set exactly when a task
  is completed).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import lazyload

from crm.database import SQLITE_INDEX_HINT
from crm.extensions import db
from crm.models import ACTIVITY_TYPES, Activity, Task, User, utcnow
from crm.services import rows
from crm.services.notifications import user_zone
from crm.services.tasks import OPEN_TASK_STATUSES, status_condition

WEEKS = 12
LIST_LIMIT = 20
# The agenda shows the day's first items in time order; the rest are one link away (a day of
# hundreds of due tasks would otherwise make the home page hundreds of kilobytes).
AGENDA_LIMIT = 40
# Open tasks by due date, in the order the chart shows them.
BUCKETS = ("overdue", "today", "rest_of_week", "next_week", "later", "no_date")
BUCKET_LABELS = {"overdue": "Overdue", "today": "Today", "rest_of_week": "Rest of week",
                 "next_week": "Next week", "later": "Later", "no_date": "No date"}


@dataclass
class Day:
    """The user's day and week, as local dates and as the naive UTC bounds queries use."""

    zone: zoneinfo.ZoneInfo
    today: date
    week_start: date  # this week's Monday

    def utc(self, day: date) -> datetime:
        """Local midnight of `day`, as stored (naive UTC)."""
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    @property
    def week_end(self) -> date:
        """This week's Sunday."""
        return self.week_start + timedelta(days=6)

    def week_starts(self, weeks: int = WEEKS) -> list[date]:
        """The Mondays of the last `weeks` weeks, oldest first, this week last."""
        return [self.week_start - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]


def user_day(user: User, now: datetime | None = None) -> Day:
    zone = user_zone(user)
    local = (now or utcnow()).replace(tzinfo=UTC).astimezone(zone)
    today = local.date()
    return Day(zone=zone, today=today, week_start=today - timedelta(days=today.weekday()))


@dataclass
class AgendaItem:
    """A task due today or a scheduled activity today, at `starts_at` (naive UTC)."""

    starts_at: datetime
    all_day: bool
    task: Task | None = None
    activity: Activity | None = None

    @property
    def ends_at(self) -> datetime | None:
        seconds = (self.task.duration if self.task else self.activity.duration) or 0
        return self.starts_at + timedelta(seconds=seconds) if seconds else None


@dataclass
class Overview:
    day: Day
    counts: dict[str, int]
    buckets: dict[str, int]
    agenda: list[AgendaItem]
    overdue: list[Task]
    undated: list[Task]
    completed_per_week: list[int]
    activities_per_week: dict[str, list[int]] = field(default_factory=dict)  # type -> 12 counts

    @property
    def weeks(self) -> list[date]:
        return self.day.week_starts()


def _week_index(column, bounds: list[datetime]):
    """Which of the weeks starting at `bounds` (oldest first) the column falls in; NULL outside."""
    return case(*((and_(column >= start, column < end), literal(n))
                  for n, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False))), else_=None)


def _mine(model, user: User):
    return and_(model.workspace_id == user.workspace_id, model.owner_id == user.id)


def open_buckets(user: User, day: Day) -> dict[str, int]:
    """The user's open tasks by due bucket, plus `overdue_this_week` (a part of `overdue`).

    One statement of range counts, each an index range (see below). A CASE per task grouped by
    bucket sorted every open task of the owner: 11.5 ms for one owner's 21,905 open tasks at
    1,000,000 tasks, the most of the page's time; these counts take 2.5 ms, most of it the
    14,380 tasks due after next week."""
    tomorrow, next_week = day.today + timedelta(days=1), day.week_start + timedelta(weeks=1)
    edges = [day.utc(d) for d in (day.week_start, day.today, tomorrow, next_week, next_week + timedelta(weeks=1))]
    names = ("overdue", "overdue_this_week", "today", "rest_of_week", "next_week", "later")

    def counted(*conditions):
        # The open tasks' index, named for SQLite: left to itself it walks the index of all the
        # owner's tasks, most of them done (2.6 ms against 0.3 ms for the overdue count).
        return (select(func.count()).select_from(Task)
                .where(_mine(Task, user), status_condition(OPEN_TASK_STATUSES), *conditions)
                .with_hint(Task.__table__, SQLITE_INDEX_HINT + "ix_tasks_ws_owner_open_due", "sqlite")
                .scalar_subquery())

    ranges = [counted(Task.due_at < edges[0])]
    ranges += [counted(Task.due_at >= low, Task.due_at < high) for low, high in zip(edges, edges[1:], strict=False)]
    ranges.append(counted(Task.due_at >= edges[-1]))
    row = db.session.execute(select(*ranges, counted(Task.due_at.is_(None)))).one()
    found = dict(zip((*names, "no_date"), row, strict=True))
    found["overdue"] += found["overdue_this_week"]
    return found


def completed_per_week(user: User, day: Day) -> list[int]:
    bounds = [day.utc(d) for d in (*day.week_starts(), day.week_start + timedelta(weeks=1))]
    week = _week_index(Task.completed_at, bounds).label("week")
    rows = db.session.execute(
        select(week, func.count()).where(_mine(Task, user), Task.completed_at >= bounds[0],
                                         Task.completed_at < bounds[-1])
        .group_by(week)
    ).all()
    counts = [0] * WEEKS
    for n, count in rows:
        counts[n] = count
    return counts


def activities_per_week(user: User, day: Day) -> dict[str, list[int]]:
    """Activities that happened (status completed: not scheduled, draft or rejected), per week and
    type; only the types that occur, in the API's order of types."""
    bounds = [day.utc(d) for d in (*day.week_starts(), day.week_start + timedelta(weeks=1))]
    week = _week_index(Activity.occurred_at, bounds).label("week")
    rows = db.session.execute(
        select(week, Activity.type, func.count())
        .where(_mine(Activity, user), Activity.occurred_at >= bounds[0], Activity.occurred_at < bounds[-1],
               Activity.status == "completed")
        .group_by(week, Activity.type)
    ).all()
    series: dict[str, list[int]] = {}
    for n, kind, count in rows:
        series.setdefault(kind, [0] * WEEKS)[n] = count
    order = {kind: n for n, kind in enumerate(ACTIVITY_TYPES)}
    return dict(sorted(series.items(), key=lambda item: order.get(item[0], len(order))))


def is_all_day(task: Task, zone: zoneinfo.ZoneInfo) -> bool:
    """Due exactly at local midnight without a duration: a date, not a time (as the calendar feed)."""
    local = task.due_at.replace(tzinfo=UTC).astimezone(zone)
    return not task.duration and local.time() == time()


def _task_rows(stmt) -> list:
    """A list of tasks read for display only (crm/services/rows.py), as the task lists are."""
    return rows.read(rows.as_rows(stmt, Task), Task)


def agenda(user: User, day: Day) -> list[AgendaItem]:
    """Today's open tasks and scheduled activities in time order, all-day tasks first."""
    start, end = day.utc(day.today), day.utc(day.today + timedelta(days=1))
    due_today = _task_rows(
        select(Task).where(_mine(Task, user), status_condition(OPEN_TASK_STATUSES),
                           Task.due_at >= start, Task.due_at < end)
        .order_by(Task.due_at, Task.id).limit(AGENDA_LIMIT))
    scheduled = db.session.execute(
        select(Activity).options(lazyload(Activity.attendee_links))
        .where(_mine(Activity, user), Activity.status == "scheduled",
               Activity.occurred_at >= start, Activity.occurred_at < end)
        .order_by(Activity.occurred_at, Activity.id).limit(AGENDA_LIMIT)
    ).unique().scalars().all()
    items = [AgendaItem(t.due_at, is_all_day(t, day.zone), task=t) for t in due_today]
    items += [AgendaItem(a.occurred_at, False, activity=a) for a in scheduled]
    items.sort(key=lambda item: (not item.all_day, item.starts_at))
    return items[:AGENDA_LIMIT]


def overdue_tasks(user: User, day: Day, limit: int = LIST_LIMIT) -> list[Task]:
    """Open tasks due before today, oldest first."""
    return _task_rows(
        select(Task).where(_mine(Task, user), status_condition(OPEN_TASK_STATUSES),
                           Task.due_at < day.utc(day.today))
        .order_by(Task.due_at, Task.id).limit(limit))


def undated_tasks(user: User, limit: int = LIST_LIMIT) -> list[Task]:
    """Open tasks without a due date, newest first (ids are time-ordered)."""
    return _task_rows(
        select(Task).where(_mine(Task, user), status_condition(OPEN_TASK_STATUSES), Task.due_at.is_(None))
        .order_by(Task.id.desc()).limit(limit))


def _counts(buckets: dict[str, int], completed: list[int]) -> dict[str, int]:
    return {
        "overdue": buckets["overdue"],
        "today": buckets["today"],
        "week": buckets["overdue_this_week"] + buckets["today"] + buckets["rest_of_week"],
        "done_week": completed[-1],
    }


def counts(user: User, now: datetime | None = None) -> tuple[Day, dict[str, int]]:
    """The Today page's four counts alone (two statements): what it refreshes after a change."""
    day = user_day(user, now or utcnow())
    return day, _counts(open_buckets(user, day), completed_per_week(user, day))


def overview(user: User, now: datetime | None = None) -> Overview:
    """Everything the Today page shows, in seven statements whatever the data."""
    now = now or utcnow()
    day = user_day(user, now)
    buckets = open_buckets(user, day)
    completed = completed_per_week(user, day)
    return Overview(
        day=day, counts=_counts(buckets, completed), buckets={name: buckets[name] for name in BUCKETS},
        agenda=agenda(user, day), overdue=overdue_tasks(user, day), undated=undated_tasks(user),
        completed_per_week=completed, activities_per_week=activities_per_week(user, day),
    )
