"""Activity rules: logging with (source, external_id) dedup, updates, lists."""

from __future__ import annotations

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.exc import IntegrityError

from crm.database import writes
from crm.extensions import db
from crm.models import INCLUDE_TRASHED, Activity, ActivityAttendee, utcnow
from crm.services import trash, webhook_events
from crm.services.errors import ValidationFailed
from crm.services.links import check_contact_ids, check_links
from crm.services.pagination import Page, SortKey, paginate
from crm.services.records import (
    backfill_created_at,
    check_etag,
    get_record,
    in_one_transaction,
)
from crm.services.search import in_workspace, substring_search
from crm.services.text import normalize, search_text

PLAIN_FIELDS = (
    "type", "subtype", "status", "subject", "body", "contact_id", "company_id", "deal_id", "owner_id",
    "occurred_at", "duration", "direction", "outcome", "source", "external_id", "generated_by",
    "model", "confidence_score",
)
SORTS = {
    "occurred_at": SortKey(Activity.occurred_at, kind="datetime"),
    "created_at": SortKey(Activity.created_at, kind="datetime"),
}
DEFAULT_SORT = "-occurred_at"


def get_activity(workspace_id: str, activity_id: str, *, for_update: bool = False) -> Activity:
    return get_record(Activity, workspace_id, activity_id, for_update=for_update)


def find_by_external_id(workspace_id: str, source: str, external_id: str, *,
                        include_trashed: bool = False) -> Activity | None:
    return db.session.execute(
        select(Activity).where(
            Activity.workspace_id == workspace_id,
            Activity.source == source,
            Activity.external_id == external_id,
        ).execution_options(**{INCLUDE_TRASHED: include_trashed})
    ).unique().scalar_one_or_none()


def _logged_before(workspace_id: str, source: str, external_id: str) -> Activity | None:
    """The live activity with this (source, external_id), if any; a trashed one is erased so
    that the new one takes its ids (`release_external_id`). One SELECT, and a DELETE only when
    there is a trashed one: a batch stays at a fixed number of statements per item."""
    found = find_by_external_id(workspace_id, source, external_id, include_trashed=True)
    if found is not None and found.deleted_at is not None:
        release_external_id(workspace_id, source, external_id)
        db.session.expunge(found)
        return None
    return found


def _apply(activity: Activity, data: dict) -> None:
    errors = check_links(activity.workspace_id, data)
    attendees = list(dict.fromkeys(data["attendees"])) if "attendees" in data else None
    if attendees:
        errors.update(check_contact_ids(activity.workspace_id, attendees))
    if errors:
        raise ValidationFailed(errors)
    for name in PLAIN_FIELDS:
        if name in data:
            setattr(activity, name, data[name])
    if "metadata" in data:
        activity.meta = data["metadata"]
    if attendees is not None:
        activity.attendee_links = [
            ActivityAttendee(contact_id=cid, position=i) for i, cid in enumerate(attendees)
        ]
    activity.search_text = search_text(activity.subject, activity.body)


def build_activity(
    workspace_id: str, author_id: str | None, data: dict, *, activity_id: str | None = None,
) -> Activity:
    """A new activity with every create rule applied, not yet added to the session.

    `author_id`: the user logging it, who owns it unless the data says otherwise.

    `log_activity` saves one; the importer (crm/services/transfer.py) saves many per commit.
    """
    activity = Activity(
        workspace_id=workspace_id,
        created_by=author_id,
        owner_id=author_id,
        status="completed",
        source="manual",
        meta={},
        attendee_links=[],
    )
    if activity_id:
        activity.id = activity_id
    _apply(activity, data)
    activity.created_at = backfill_created_at(data.get("created_at"))
    activity.updated_at = max(activity.created_at, utcnow())
    if activity.occurred_at is None:
        activity.occurred_at = utcnow()
    return activity


@writes
def log_activity(workspace_id: str, author_id: str | None, data: dict) -> tuple[Activity, bool]:
    """Create an activity, or return the existing one with the same (source, external_id).

    Returns (activity, created).
    """
    source = data.get("source") or "manual"
    external_id = data.get("external_id")
    if external_id is not None:
        existing = _logged_before(workspace_id, source, external_id)
        if existing is not None:
            return existing, False
    activity = build_activity(workspace_id, author_id, data)
    db.session.add(activity)
    try:
        webhook_events.emit("activity.created", activity)
        db.session.commit()
    except IntegrityError:
        # A concurrent request logged the same (source, external_id) first.
        db.session.rollback()
        if external_id is None:
            raise
        existing = find_by_external_id(workspace_id, source, external_id)
        if existing is None:
            raise
        return existing, False
    return activity, True


@writes
def log_activities(workspace_id: str, author_id: str | None, items: list[dict]) -> list[tuple[Activity, bool]]:
    """Several activities in one transaction, each by `log_activity`'s rules: all or none.

    An item whose (source, external_id) exists already, or came earlier in the same batch, is
    that activity, not created again. Returns (activity, created) per item."""
    try:
        return in_one_transaction(items, _batch_logger(workspace_id, author_id))
    except IntegrityError:
        # A concurrent request logged one of the same (source, external_id) first: once more,
        # and that one is found.
        return in_one_transaction(items, _batch_logger(workspace_id, author_id))


def _batch_logger(workspace_id: str, author_id: str | None):
    """`log_activity`'s dedup for one item of a batch, the batch's earlier items included."""
    logged: dict[tuple[str, str], Activity] = {}

    def log(data: dict) -> tuple[Activity, bool]:
        source = data.get("source") or "manual"
        external_id = data.get("external_id")
        if external_id is not None:
            existing = logged.get((source, external_id)) or _logged_before(workspace_id, source, external_id)
            if existing is not None:
                return existing, False
        activity = build_activity(workspace_id, author_id, data)
        db.session.add(activity)
        if external_id is not None:
            logged[(source, external_id)] = activity
        webhook_events.emit("activity.created", activity)
        return activity, True

    return log


@writes
def update_activity(activity: Activity, data: dict, if_match: str | None = None) -> Activity:
    check_etag(activity, if_match)
    source = data.get("source", activity.source)
    external_id = data.get("external_id", activity.external_id)
    if external_id is not None and (source, external_id) != (activity.source, activity.external_id):
        clash = find_by_external_id(activity.workspace_id, source, external_id)
        if clash is not None and clash.id != activity.id:
            raise ValidationFailed.field(
                "external_id", f"Activity {clash.id} already has this source and external_id."
            )
        release_external_id(activity.workspace_id, source, external_id)
    before = webhook_events.snapshot(activity)
    _apply(activity, data)
    webhook_events.emit("activity.updated", activity, before)
    db.session.commit()
    return activity


@writes
def delete_activity(activity: Activity, if_match: str | None = None) -> None:
    """Move it to the trash (crm/services/trash.py); its tasks' links to it read null meanwhile."""
    check_etag(activity, if_match)
    trash.move_to_trash(activity)
    db.session.commit()


def release_external_id(workspace_id: str, source: str, external_id: str) -> None:
    """A trashed activity's (source, external_id) goes to the activity logged or edited with it
    now: the trashed one is erased for good (docs/api.md, "Trash")."""
    db.session.execute(delete(Activity).where(
        Activity.workspace_id == workspace_id, Activity.source == source, Activity.external_id == external_id,
        Activity.deleted_at.is_not(None)))


def involves_contact(contact_id: str):
    """The activity is linked to the contact, or the contact attended it."""
    return or_(
        Activity.contact_id == contact_id,
        exists().where(
            ActivityAttendee.activity_id == Activity.id, ActivityAttendee.contact_id == contact_id
        ),
    )


def filter_activities(workspace_id: str, params: dict):
    search = substring_search(Activity, normalize(params["q"])) if params.get("q") else None
    stmt = select(Activity).where(in_workspace(Activity, workspace_id, search))
    for name in ("type", "status", "direction", "outcome"):
        if params.get(name):
            stmt = stmt.where(getattr(Activity, name).in_(params[name]))
    for name in ("subtype", "source", "external_id", "company_id", "deal_id", "owner_id"):
        if params.get(name):
            stmt = stmt.where(getattr(Activity, name) == params[name])
    if params.get("contact_id"):
        stmt = stmt.where(involves_contact(params["contact_id"]))
    if params.get("after") is not None:
        stmt = stmt.where(Activity.occurred_at > params["after"])
    if params.get("before") is not None:
        stmt = stmt.where(Activity.occurred_at < params["before"])
    if search is not None:
        stmt = search.apply(stmt)
    return stmt


def list_activities(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    return paginate(
        filter_activities(workspace_id, params),
        sort=params.get("sort") or DEFAULT_SORT,
        keys=SORTS,
        id_column=Activity.id,
        cursor=params.get("cursor"),
        limit=params.get("limit", 50),
        include_total=params.get("include_total", False),
        rows=rows,
        filters=params,
    )
