"""One timeline of activities and tasks, newest first (SPEC §4, feed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, String, and_, func, literal, select, tuple_

from crm.extensions import db
from crm.models import Activity, Task, task_timeline_at
from crm.services.activities import involves_contact
from crm.services.errors import ValidationFailed
from crm.services.pagination import (
    check_cursor_filters,
    decode_cursor,
    encode_cursor,
    fetch_limit,
    filter_fingerprint,
    linked_one_level,
)

FEED_SORT = "-at"


@dataclass
class FeedItem:
    kind: str  # "activity" or "task"
    at: datetime
    record: Activity | Task


@dataclass
class FeedPage:
    items: list[FeedItem]
    has_more: bool
    next_cursor: str | None
    total: int | None = None


def task_at():
    """A task's place on the timeline: completed_at if completed, else created_at (indexed)."""
    return task_timeline_at()


def _before(at_col, id_col, at: datetime, last_id: str):
    # `at <= v` gives the index a range to start from; the row value settles ties by id.
    return and_(at_col <= at, tuple_(at_col, id_col) < tuple_(literal(at, DateTime()), literal(last_id, String())))


def feed(workspace_id: str, params: dict) -> FeedPage:
    limit = params.get("limit", 50)
    acts = select(Activity, Activity.occurred_at.label("at")).where(Activity.workspace_id == workspace_id)
    at = task_at()
    tasks = select(Task, at.label("at")).where(Task.workspace_id == workspace_id)
    if params.get("contact_id"):
        acts = acts.where(involves_contact(params["contact_id"]))
        tasks = tasks.where(Task.contact_id == params["contact_id"])
    for name in ("company_id", "deal_id", "owner_id"):
        if params.get(name):
            acts = acts.where(getattr(Activity, name) == params[name])
            tasks = tasks.where(getattr(Task, name) == params[name])
    if params.get("after") is not None:
        acts = acts.where(Activity.occurred_at > params["after"])
        tasks = tasks.where(at > params["after"])
    if params.get("before") is not None:
        acts = acts.where(Activity.occurred_at < params["before"])
        tasks = tasks.where(at < params["before"])

    total = None
    if params.get("include_total"):
        total = sum(
            db.session.execute(select(func.count()).select_from(s.order_by(None).subquery())).scalar_one()
            for s in (acts, tasks)
        )

    if params.get("cursor"):
        payload = decode_cursor(params["cursor"])
        if payload.get("s") != FEED_SORT:
            raise ValidationFailed.field("cursor", "This cursor was issued for a different list.")
        check_cursor_filters(payload, params)
        try:
            cursor_at = datetime.fromisoformat(payload["v"])
            last_id = str(payload["i"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.field("cursor", "Invalid cursor.") from None
        acts = acts.where(_before(Activity.occurred_at, Activity.id, cursor_at, last_id))
        tasks = tasks.where(_before(at, Task.id, cursor_at, last_id))

    acts = acts.order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(fetch_limit(limit))
    acts = acts.options(*linked_one_level(acts))
    tasks = tasks.order_by(at.desc(), Task.id.desc()).limit(fetch_limit(limit))
    tasks = tasks.options(*linked_one_level(tasks))
    items = [FeedItem("activity", row.at, row.Activity) for row in db.session.execute(acts).unique()]
    items += [FeedItem("task", row.at, row.Task) for row in db.session.execute(tasks).unique()]
    items.sort(key=lambda item: (item.at, item.record.id), reverse=True)
    has_more = len(items) > limit
    items = items[:limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = encode_cursor({"s": FEED_SORT, "v": last.at.isoformat(), "i": last.record.id,
                                     "f": filter_fingerprint(params)})
    return FeedPage(items=items, has_more=has_more, next_cursor=next_cursor, total=total)
