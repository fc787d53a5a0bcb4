"""Recurring tasks (SPEC §11): the RRULE subset we accept, and the next occurrence of a series.

A task's `recurrence` is an RFC 5545 RRULE read from the task's own `due_at` (its DTSTART), in
its owner's time zone, so "every Monday 09:00" stays 09:00 local across daylight-saving
changes. `COUNT` counts the occurrences left including this one: the next occurrence carries
`COUNT` one lower, and a task with `COUNT=1` is the series' last.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import Task, User

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL")
MAX_LENGTH = 500
# How far ahead an occurrence is looked for: a rule with none in 100 years never repeats.
HORIZON = relativedelta(years=100)
_DAY = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^([0-9]{8})(T[0-9]{6}Z)?$")
_NUMBER = re.compile(r"^[+-]?[0-9]{1,4}$")

# The UI's Repeat choices (crm/web/tasks.py) and the rules they stand for.
PRESETS = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
    "yearly": "FREQ=YEARLY",
}


class InvalidRule(ValueError):
    """The text is not an RRULE we accept; the message says why, for the person who wrote it."""


def _number(name: str, value: str, low: int, high: int) -> int:
    if not _NUMBER.match(value) or not low <= int(value) <= high:
        raise InvalidRule(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def parse_rule(text: str) -> dict[str, str]:
    """The rule's parts, upper-cased, FREQ first; InvalidRule when it is not one we accept."""
    if not isinstance(text, str):
        raise InvalidRule("Must be an RRULE string, like FREQ=WEEKLY;BYDAY=MO.")
    body = text.strip().upper().removeprefix("RRULE:")
    if not body:
        raise InvalidRule("Must be an RRULE string, like FREQ=WEEKLY;BYDAY=MO.")
    if len(body) > MAX_LENGTH:
        raise InvalidRule(f"At most {MAX_LENGTH} characters.")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InvalidRule(f"{item.strip()!r} is not NAME=VALUE; write the rule like FREQ=WEEKLY;BYDAY=MO.")
        if name not in PARTS:
            raise InvalidRule(f"{name} is not supported; use only {', '.join(PARTS)}.")
        if name in parts:
            raise InvalidRule(f"{name} is given twice.")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise InvalidRule("FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY).")
    if freq not in FREQUENCIES:
        raise InvalidRule(f"FREQ must be one of {', '.join(FREQUENCIES)}.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRule("Give COUNT or UNTIL, not both.")
    if "INTERVAL" in parts:
        _number("INTERVAL", parts["INTERVAL"], 1, 999)
    if "COUNT" in parts:
        _number("COUNT", parts["COUNT"], 1, 9999)
    if "BYDAY" in parts:
        for day in parts["BYDAY"].split(","):
            match = _DAY.match(day.strip())
            if not match:
                raise InvalidRule(f"BYDAY takes days like MO,WE or, monthly, 1MO or -1FR; not {day!r}.")
            if match.group(1):
                limit = {"MONTHLY": 5, "YEARLY": 53}.get(freq)
                if limit is None:
                    raise InvalidRule("A numbered BYDAY (1MO, -1FR) needs FREQ=MONTHLY or YEARLY.")
                if int(match.group(1)) == 0 or abs(int(match.group(1))) > limit:
                    raise InvalidRule(f"A numbered BYDAY takes 1 to {limit}, or -1 to -{limit}.")
        parts["BYDAY"] = ",".join(d.strip() for d in parts["BYDAY"].split(","))
    if "BYMONTHDAY" in parts:
        if freq == "WEEKLY":
            raise InvalidRule("BYMONTHDAY cannot be used with FREQ=WEEKLY.")
        for day in parts["BYMONTHDAY"].split(","):
            if _number("BYMONTHDAY", day.strip(), -31, 31) == 0:
                raise InvalidRule("BYMONTHDAY takes 1 to 31, or -1 to -31.")
        parts["BYMONTHDAY"] = ",".join(d.strip() for d in parts["BYMONTHDAY"].split(","))
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        try:
            if not match:
                raise ValueError
            _until_value(parts["UNTIL"])
        except ValueError:
            raise InvalidRule("UNTIL must be a date (20261231) or a UTC time (20261231T170000Z).") from None
    ordered = {name: parts[name] for name in PARTS if name in parts}
    try:
        expanding = _expander(ordered, datetime(2026, 1, 1, 9, 0))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRule(f"Not a valid RRULE: {exc}.") from None
    if "UNTIL" not in ordered and expanding.after(datetime(2026, 1, 1, 9, 0)) is None:
        raise InvalidRule("This rule never repeats (no date matches all its parts).")
    return ordered


def normalize_rule(text: str) -> str:
    """The rule as stored: its parts upper-cased, FREQ first, no RRULE: prefix."""
    return format_rule(parse_rule(text))


def format_rule(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _until_value(value: str) -> date | datetime:
    if "T" in value:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    return datetime.strptime(value, "%Y%m%d").date()


def _expander(parts: dict[str, str], start: datetime) -> rrule:
    """The rule from `start` (a naive local time), without COUNT and UNTIL, bounded by HORIZON."""
    body = format_rule({k: v for k, v in parts.items() if k not in ("COUNT", "UNTIL")})
    expander = rrulestr(body, dtstart=start)
    return expander.replace(until=start + HORIZON)


def owner_zone(task: Task) -> zoneinfo.ZoneInfo:
    """The zone a task's series is expanded in: its owner's, else its author's, else UTC."""
    for user_id in (task.owner_id, task.created_by):
        if user_id:
            user = db.session.get(User, user_id)
            if user is not None:
                try:
                    return zoneinfo.ZoneInfo(user.time_zone or "UTC")
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    break
    return zoneinfo.ZoneInfo("UTC")


def _local(value: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _utc(value: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def next_due_at(rule: str, due_at: datetime, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """The first occurrence after `due_at` (naive UTC) of `rule` read from `due_at` in `zone`,
    as naive UTC; None when the series ends there."""
    parts = parse_rule(rule)
    if parts.get("COUNT") == "1":
        return None
    start = _local(due_at, zone)
    following = _expander(parts, start).after(start)
    if following is None:
        return None
    if "UNTIL" in parts:
        until = _until_value(parts["UNTIL"])
        if isinstance(until, datetime):
            if _utc(following, zone) > until:
                return None
        elif following.date() > until:  # a date: that whole day, in the owner's zone
            return None
    return _utc(following, zone)


def rule_after(rule: str) -> str:
    """The rule the next occurrence carries: COUNT one lower, the rest unchanged."""
    parts = parse_rule(rule)
    if "COUNT" in parts:
        parts["COUNT"] = str(int(parts["COUNT"]) - 1)
    return format_rule(parts)


# Fields the next occurrence copies from the completed one (status, completion and dates aside).
COPIED_FIELDS = ("title", "description", "type", "priority", "contact_id", "company_id", "deal_id",
                 "owner_id", "reminder", "duration", "activity_id")


def create_next_occurrence(task: Task, build: Callable[[str, str | None, dict], Task]) -> Task | None:
    """Called as `task` becomes completed, in its transaction: the series' next task, made once.

    `next_task_id` records it on the completed task, so completing it again (after a reopen)
    makes nothing new; the unique (recurrence_of, due_at) makes a second one impossible even if
    two transactions got here at once. None when the task does not recur or its series ends.
    `build` makes the new task from its fields by the tasks service's rules (`tasks.build_task`)."""
    if not task.recurrence or task.due_at is None:
        return None
    if task.next_task_id:
        return db.session.get(Task, task.next_task_id)
    due_at = next_due_at(task.recurrence, task.due_at, owner_zone(task))
    if due_at is None:
        return None
    series = task.recurrence_of or task.id
    existing = _occurrence(task.workspace_id, series, due_at)
    if existing is None:
        data = {name: getattr(task, name) for name in COPIED_FIELDS}
        data.update(due_at=due_at, tags=list(task.tags or []), metadata=dict(task.meta or {}),
                    recurrence=rule_after(task.recurrence))
        occurrence = build(task.workspace_id, task.created_by, data)
        occurrence.recurrence_of = series
        try:
            with db.session.begin_nested():
                db.session.add(occurrence)
        except IntegrityError:
            # Made meanwhile by a concurrent completion: link to that one.
            existing = _occurrence(task.workspace_id, series, due_at)
            if existing is None:
                raise
        else:
            existing = occurrence
    task.next_task_id = existing.id
    return existing


def _occurrence(workspace_id: str, series: str, due_at: datetime) -> Task | None:
    return db.session.execute(
        select(Task).where(Task.workspace_id == workspace_id, Task.recurrence_of == series,
                           Task.due_at == due_at)
    ).unique().scalar_one_or_none()


def series_tasks(task: Task, limit: int = 50) -> list[Task]:
    """The tasks of `task`'s series, by due time: the first and every occurrence made from it."""
    series = task.recurrence_of or task.id
    return list(db.session.execute(
        select(Task).where(Task.workspace_id == task.workspace_id,
                           (Task.id == series) | (Task.recurrence_of == series))
        .order_by(Task.due_at, Task.id).limit(limit)
    ).unique().scalars())


def upcoming(rule: str, due_at: datetime, zone: zoneinfo.ZoneInfo, count: int = 5) -> list[datetime]:
    """The next `count` due times of a series from `due_at` on (naive UTC), for display."""
    result = [due_at]
    current = due_at
    while len(result) < count:
        following = next_due_at(rule, current, zone)
        if following is None:
            break
        result.append(following)
        current = following
        rule = rule_after(rule)
    return result

