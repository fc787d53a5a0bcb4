"""Times in the signed-in user's time zone: shown that way, and read back from forms that way."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from flask import g, has_request_context
from flask_login import current_user

from crm.fields import EARLIEST_DATE, EARLIEST_DATETIME, LATEST_DATE, clamp_datetime
from crm.models import utcnow


def user_zone() -> zoneinfo.ZoneInfo:
    """The signed-in user's zone, looked up once per request (a page formats hundreds of times;
    each read of `current_user` goes through Flask-Login's proxy)."""
    if has_request_context():
        zone = g.get("user_zone")
        if zone is None:
            zone = g.user_zone = _zone(getattr(current_user, "time_zone", None))
        return zone
    return _zone(getattr(current_user, "time_zone", None))


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) datetime in the user's zone. A row stored before the range was checked
    is shown at the nearest end of the range (0001-01-01 as 1900-01-01): converting it could overflow."""
    if value is None:
        return None
    return clamp_datetime(value).replace(tzinfo=UTC).astimezone(user_zone())


def local_now() -> datetime:
    return to_local(utcnow())


def local_today() -> date:
    return local_now().date()


def local_day_start_utc(day: date) -> datetime:
    """Midnight of `day` in the user's zone, as naive UTC for queries (a day of the range records
    hold, or the day after it: others are moved to the nearest of those)."""
    day = min(max(day, EARLIEST_DATE), LATEST_DATE + timedelta(days=1))
    start = datetime.combine(day, time(), tzinfo=user_zone())
    return start.astimezone(UTC).replace(tzinfo=None)


def local_days_utc(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The rows of the days `first` to `last` in the user's zone are after the first bound and
    before the second, both naive UTC; None is no bound. Any day works (0001-01-01, 9999-12-31):
    a "from" before the range records hold is no bound, a "to" after it no bound, and the
    other way round they exclude every row (even rows stored before the range was checked)."""
    after = before = None
    if first is not None:
        if first > LATEST_DATE:
            after = datetime.max
        elif first >= EARLIEST_DATE:
            after = local_day_start_utc(first) - timedelta(seconds=1)
    if last is not None:
        if last < EARLIEST_DATE:
            before = datetime.min
        elif last <= LATEST_DATE:
            before = local_day_start_utc(last + timedelta(days=1))
    return after, before


def local_input_to_rfc3339(text: str) -> str:
    """A datetime-local form value ("2026-03-16T09:30") in the user's zone, as RFC 3339 in UTC (not
    with the zone's offset: before 1900 many zones had offsets in seconds, which RFC 3339 cannot write).

    Anything that does not parse is passed on unchanged, so the schema reports it.
    """
    text = (text or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        try:
            return naive.replace(tzinfo=user_zone()).astimezone(UTC).isoformat()
        except OverflowError:  # year 1 or 9999: out of the range anyway, and the schema says so
            return naive.isoformat() + "Z"
    return text


def datetime_local_value(value: datetime | None) -> str:
    """The value for an <input type=datetime-local>, in the user's zone."""
    local = to_local(value)
    if local is None:
        return ""
    minute = local.replace(second=0, microsecond=0)
    if minute.astimezone(UTC).replace(tzinfo=None) < EARLIEST_DATETIME:
        # The earliest time in a zone whose 1900 offset had seconds: the minute after, so that
        # saving the form unchanged stays in range.
        minute += timedelta(minutes=1)
    return minute.strftime("%Y-%m-%dT%H:%M")


def parse_local_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def next_day(day: date) -> date:
    return day + timedelta(days=1)
