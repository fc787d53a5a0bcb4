"""Bulk work on tasks (SPEC §13): one action on up to MAX_IDS tasks, in one transaction, all or
nothing. The API's POST /tasks/bulk and the task list's bulk bar both call `run`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from crm import clock
from crm.database import writes
from crm.extensions import db
from crm.fields import text_problem
from crm.models import INCLUDE_TRASHED, Task
from crm.services import tasks, trash
from crm.services.errors import AmbiguousReference, ValidationFailed
from crm.services.links import check_links, remembering_links, resolve_names

MAX_IDS = 500
ACTIONS = ("complete", "reopen", "delete", "update", "restore")


@dataclass
class BulkResult:
    action: str
    ids: list[str]  # the tasks the action changed, in the order given

    @property
    def updated(self) -> int:
        return len(self.ids)


def _id_error(task_id: str, message: str) -> dict[str, list[str]]:
    return {f"ids.{task_id}": [message]}


def _load(workspace_id: str, ids: list[str], *, trashed: bool) -> dict[str, Task]:
    """The workspace's tasks among `ids` (also those in the trash, for `trashed`), locked, in one query."""
    ids = [i for i in ids if not text_problem(i)]  # a NUL names no task, and PostgreSQL must not see it
    stmt = select(Task).where(Task.workspace_id == workspace_id, Task.id.in_(ids)).with_for_update(of=Task)
    if trashed:  # live ones, and restorable ones (deleting or restoring twice changes nothing)
        stmt = stmt.where(or_(Task.deleted_at.is_(None), Task.deleted_at > clock.now() - trash.RETENTION))
        stmt = stmt.execution_options(**{INCLUDE_TRASHED: True})
    return {task.id: task for task in db.session.execute(stmt).unique().scalars()}


@writes
def run(workspace_id: str, actor_id: str | None, ids: list[str], action: str, data: dict | None = None) -> BulkResult:
    """Apply `action` to every task in `ids`, or to none: any id that is missing (or another
    workspace's, or past its 30 days in the trash) or any task the change does not fit is
    reported by id in one ValidationFailed, and nothing is changed.

    `data` (for `update`): fields as for PATCH, already loaded by the schema. Returns the ids
    the action changed (a task already completed is not completed again)."""
    if action not in ACTIONS:
        raise ValidationFailed.field("action", f"Must be one of: {', '.join(ACTIONS)}.")
    if not ids:
        raise ValidationFailed.field("ids", "Give at least one task id.")
    if len(ids) > MAX_IDS:
        raise ValidationFailed.field("ids", f"At most {MAX_IDS} ids at once.")
    ids = list(dict.fromkeys(ids))
    found = _load(workspace_id, ids, trashed=action in ("delete", "restore"))
    errors: dict[str, list[str]] = {}
    for task_id in ids:
        if task_id not in found:
            errors.update(_id_error(task_id, f"No task with id {task_id!r} in this workspace."))
    if errors:
        raise ValidationFailed(errors, message="Some ids cannot be used; nothing was changed.")
    changed: list[str] = []
    try:
        # Each linked id is looked up once for all the tasks, not once per task.
        with remembering_links():
            if action == "update":
                data = _checked_update(workspace_id, data or {})
            for task_id in ids:
                task = found[task_id]
                try:
                    if _apply(task, action, data, actor_id):
                        changed.append(task_id)
                except ValidationFailed as failure:
                    for field, messages in failure.details.items():
                        errors.setdefault(f"ids.{task_id}", []).extend(f"{field}: {m}" for m in messages)
        if errors:
            raise ValidationFailed(errors, message="Some tasks cannot take this change; nothing was changed.")
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return BulkResult(action, changed)


def _checked_update(workspace_id: str, data: dict) -> dict:
    """Names resolved and links checked once for all the tasks."""
    if not data:
        raise ValidationFailed.field("data", "Give the fields to change.")
    try:
        data = resolve_names(workspace_id, data)
    except AmbiguousReference as ambiguous:
        raise ValidationFailed.field(f"data.{ambiguous.field}", ambiguous.message) from None
    except ValidationFailed as failure:
        raise ValidationFailed({f"data.{k}": v for k, v in failure.details.items()}) from None
    errors = check_links(workspace_id, data)
    if errors:
        raise ValidationFailed({f"data.{k}": v for k, v in errors.items()})
    return data


def _apply(task: Task, action: str, data: dict | None, actor_id: str | None) -> bool:
    if action == "complete":
        return tasks.mark_completed(task, actor_id=actor_id)
    if action == "reopen":
        return tasks.mark_reopened(task)
    if action == "delete":
        if task.deleted_at is not None:
            return False
        trash.move_to_trash(task)
        return True
    if action == "restore":
        if task.deleted_at is None:
            return False
        trash.bring_back(task)
        return True
    tasks.apply_update(task, data, actor_id=actor_id)
    return True
