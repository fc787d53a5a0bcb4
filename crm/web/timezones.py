"""Times in the signed-in user's time zone: shown that way, and read back from forms that way."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from flask_login import current_user

from crm.models import utcnow


def user_zone() -> zoneinfo.ZoneInfo:
    name = getattr(current_user, "time_zone", None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) datetime in the user's zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(user_zone())


def local_now() -> datetime:
    return to_local(utcnow())


def local_today() -> date:
    return local_now().date()


def local_day_start_utc(day: date) -> datetime:
    """Midnight of `day` in the user's zone, as naive UTC for queries."""
    start = datetime.combine(day, time(), tzinfo=user_zone())
    return start.astimezone(UTC).replace(tzinfo=None)


def local_input_to_rfc3339(text: str) -> str:
    """A datetime-local form value ("2026-03-16T09:30") in the user's zone, as RFC 3339 with offset.

    Anything that does not parse is passed on unchanged, so the schema reports it.
    """
    text = (text or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=user_zone()).isoformat()
    return text


def datetime_local_value(value: datetime | None) -> str:
    """The value for an <input type=datetime-local>, in the user's zone."""
    local = to_local(value)
    return local.strftime("%Y-%m-%dT%H:%M") if local else ""


def parse_local_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def next_day(day: date) -> date:
    return day + timedelta(days=1)
