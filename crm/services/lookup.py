"""Finding one record of a workspace and honouring If-Match: used by every service, so it imports
none of them (records, trash, reminders and notifications all build on it)."""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from crm.fields import text_problem
from crm.services.errors import NotFound, PreconditionFailed


def get_record(model, workspace_id: str, record_id: str, *, for_update: bool = False):
    """The record with that id in the workspace, or NotFound (also for other workspaces' ids)."""
    if text_problem(record_id):  # a NUL in the path: no such id, and PostgreSQL must not see it
        raise NotFound(f"No {model.__name__.lower()} with id {record_id!r}.")
    stmt = select(model).where(model.id == record_id, model.workspace_id == workspace_id)
    if for_update:
        stmt = stmt.with_for_update(of=model)
    record = db.session.execute(stmt).unique().scalar_one_or_none()
    if record is None:
        raise NotFound(f"No {model.__name__.lower()} with id {record_id!r}.")
    return record


def check_etag(record, if_match: str | None) -> None:
    """Honour If-Match: a stale ETag means no change (SPEC §2, concurrency)."""
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")]
    if "*" in tags or record.etag in tags:
        return
    raise PreconditionFailed()
