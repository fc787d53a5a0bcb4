"""The trash (SPEC §13): deleting a task, activity, contact, company or deal sets its
`deleted_at` instead of erasing it. Every ORM read leaves trashed records out (crm.models,
`_leave_out_trashed`); the trash itself reads with `include_trashed`.

Links *to* a trashed contact, company or deal are set to NULL, as erasing it did, and each one
is remembered in `trash_links`; restoring the record sets back those still NULL (a link changed
meanwhile stays as it is). Links *from* a trashed task or activity are kept, so it comes back
with them. After RETENTION a daily job erases the record for good (`purge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, insert, literal, select, tuple_, union_all, update

from crm import clock
from crm.database import writes
from crm.extensions import db
from crm.fields import text_problem
from crm.models import (
    INCLUDE_TRASHED,
    Activity,
    ActivityAttendee,
    Company,
    Contact,
    Deal,
    Task,
    TrashLink,
)
from crm.services import reminders, webhook_events
from crm.services.errors import NotFound, ValidationFailed
from crm.services.pagination import (
    check_cursor_filters,
    decode_cursor,
    encode_cursor,
    filter_fingerprint,
)

RETENTION = timedelta(days=30)
KINDS = {"task": Task, "activity": Activity, "contact": Contact, "company": Company, "deal": Deal}
KIND_OF = {model: kind for kind, model in KINDS.items()}
# What a trash list row shows as the record's name.
NAME_COLUMNS = {
    "task": lambda: Task.title,
    "activity": lambda: func.coalesce(Activity.subject, Activity.type),
    "contact": lambda: Contact.name,
    "company": lambda: Company.name,
    "deal": lambda: Deal.name,
}
# The links that point at a record of each kind: (linking model, its column).
INBOUND_LINKS = {
    Contact: ((Task, "contact_id"), (Activity, "contact_id"), (Deal, "contact_id")),
    Company: ((Task, "company_id"), (Activity, "company_id"), (Deal, "company_id"), (Contact, "company_id")),
    Deal: ((Task, "deal_id"), (Activity, "deal_id")),
    Activity: ((Task, "activity_id"),),
}
ATTENDEES = ActivityAttendee.__tablename__
TRASH_SORT = "-deleted_at"


def erase_at(deleted_at: datetime) -> datetime:
    """When the daily job erases a record trashed at `deleted_at`."""
    return deleted_at + RETENTION


def move_to_trash(record) -> None:
    """Trash `record` in the caller's transaction (the caller commits). Subscribers hear
    `<kind>.deleted`, with the record as it was."""
    webhook_events.emit_for_kind("deleted", record)
    now = clock.now()
    record.deleted_at = now
    model = type(record)
    for linking, column in INBOUND_LINKS.get(model, ()):
        table = linking.__table__
        db.session.execute(insert(TrashLink).from_select(
            ["record_id", "table_name", "column_name", "row_id"],
            select(literal(record.id, String()), literal(table.name, String()), literal(column, String()), table.c.id)
            .where(table.c[column] == record.id)))
        db.session.execute(
            update(table).where(table.c[column] == record.id)
            .values({column: None, "version": table.c.version + 1, "updated_at": now}))
    if model is Contact:
        attendees = ActivityAttendee.__table__
        db.session.execute(insert(TrashLink).from_select(
            ["record_id", "table_name", "column_name", "row_id", "position"],
            select(literal(record.id, String()), literal(ATTENDEES, String()), literal("contact_id", String()),
                   attendees.c.activity_id, attendees.c.position)
            .where(attendees.c.contact_id == record.id)))
        db.session.execute(delete(attendees).where(attendees.c.contact_id == record.id))
    if model is Task:
        # Disarmed while in the trash; restoring re-arms it if its time is still ahead.
        record.reminder_pending_at = None
    db.session.flush()


def find_trashed(kind: str, workspace_id: str, record_id: str, *, for_update: bool = False):
    """A record of `kind` in the workspace's trash that can still be restored, or NotFound."""
    model = KINDS[kind]
    if not text_problem(record_id):
        stmt = select(model).where(
            model.id == record_id, model.workspace_id == workspace_id,
            model.deleted_at.is_not(None), model.deleted_at > clock.now() - RETENTION,
        ).execution_options(**{INCLUDE_TRASHED: True})
        if for_update:
            stmt = stmt.with_for_update(of=model)
        record = db.session.execute(stmt).unique().scalar_one_or_none()
        if record is not None:
            return record
    raise NotFound(f"No {kind} with id {record_id!r} in the trash.")


def bring_back(record) -> None:
    """Take `record` out of the trash in the caller's transaction, with the links it had."""
    now = clock.now()
    record.deleted_at = None
    model = type(record)
    links = TrashLink.__table__
    for linking, column in INBOUND_LINKS.get(model, ()):
        table = linking.__table__
        rows = select(links.c.row_id).where(
            links.c.record_id == record.id, links.c.table_name == table.name, links.c.column_name == column)
        db.session.execute(
            update(table).where(table.c.id.in_(rows), table.c[column].is_(None))
            .values({column: record.id, "version": table.c.version + 1, "updated_at": now}))
    if model is Contact:
        attendees, activities = ActivityAttendee.__table__, Activity.__table__
        taken = select(attendees.c.activity_id).where(attendees.c.contact_id == record.id)
        db.session.execute(insert(attendees).from_select(
            ["activity_id", "contact_id", "position"],
            select(links.c.row_id, links.c.record_id, func.coalesce(links.c.position, 0))
            .join(activities, activities.c.id == links.c.row_id)
            .where(links.c.record_id == record.id, links.c.table_name == ATTENDEES, links.c.row_id.not_in(taken))))
    db.session.execute(delete(links).where(links.c.record_id == record.id))
    if model is Task:
        reminders.schedule(record, inputs_changed=False, was_open=False)
    db.session.flush()
    # It is back in every list: subscribers hear it as made again (docs/webhooks.md).
    webhook_events.emit_for_kind("created", record)


@writes
def restore(kind: str, workspace_id: str, record_id: str):
    """Restore one record from the trash; returns it."""
    record = find_trashed(kind, workspace_id, record_id, for_update=True)
    bring_back(record)
    db.session.commit()
    return record


@dataclass
class TrashItem:
    type: str
    id: str
    name: str | None
    deleted_at: datetime

    @property
    def erase_at(self) -> datetime:
        return erase_at(self.deleted_at)


@dataclass
class TrashPage:
    items: list[TrashItem]
    has_more: bool
    next_cursor: str | None


def list_trash(workspace_id: str, params: dict, *, kinds: tuple[str, ...] = tuple(KINDS)) -> TrashPage:
    """What the workspace can restore, newest deletion first, `kinds` only: one statement, each
    kind's newest `limit + 1` from its trash index, merged."""
    limit = params.get("limit", 50)
    wanted = [k for k in (params.get("kind") or kinds) if k in kinds]
    after = None
    if params.get("cursor"):
        payload = decode_cursor(params["cursor"])
        if payload.get("s") != TRASH_SORT:
            raise ValidationFailed.field("cursor", "This cursor was issued for a different list.")
        check_cursor_filters(payload, params)
        try:
            after = (datetime.fromisoformat(payload["v"]), str(payload["i"]))
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.field("cursor", "Invalid cursor.") from None
    if not wanted:
        return TrashPage([], False, None)
    cutoff = clock.now() - RETENTION
    parts = []
    for kind in wanted:
        model = KINDS[kind]
        stmt = select(literal(kind, String()).label("type"), model.id.label("id"),
                      NAME_COLUMNS[kind]().label("name"), model.deleted_at.label("deleted_at")).where(
            model.workspace_id == workspace_id, model.deleted_at.is_not(None), model.deleted_at > cutoff)
        if after is not None:
            stmt = stmt.where(model.deleted_at <= after[0],
                              tuple_(model.deleted_at, model.id) < tuple_(literal(after[0]), literal(after[1])))
        parts.append(stmt.order_by(model.deleted_at.desc(), model.id.desc()).limit(limit + 1).subquery().select())
    merged = union_all(*parts).subquery("trash")
    stmt = select(merged).order_by(merged.c.deleted_at.desc(), merged.c.id.desc()).limit(limit + 1)
    rows = db.session.execute(stmt.execution_options(**{INCLUDE_TRASHED: True})).all()
    items = [TrashItem(r.type, r.id, r.name, r.deleted_at) for r in rows[:limit]]
    has_more = len(rows) > limit
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = encode_cursor({"s": TRASH_SORT, "v": last.deleted_at.isoformat(), "i": last.id,
                                     "f": filter_fingerprint(params)})
    return TrashPage(items, has_more, next_cursor)


@writes
def purge(now: datetime | None = None) -> int:
    """Erase for good what has been in the trash longer than RETENTION; returns how many."""
    cutoff = (now or clock.now()) - RETENTION
    erased = 0
    # Tasks and activities first: nothing of theirs is remembered in trash_links.
    for model in (Task, Activity, Deal, Contact, Company):
        expired = select(model.id).where(model.deleted_at.is_not(None), model.deleted_at <= cutoff)
        ids = list(db.session.execute(expired.execution_options(**{INCLUDE_TRASHED: True})).scalars())
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            db.session.execute(delete(TrashLink).where(TrashLink.record_id.in_(chunk)))
            erased += db.session.execute(
                delete(model).where(model.id.in_(chunk)).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return erased

