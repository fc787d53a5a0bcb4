"""Task rules: creation, updates, completion bookkeeping, lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, not_, select

from crm.database import writes
from crm.extensions import db
from crm.models import OPEN_TASK_STATUSES, PRIORITIES, TASK_STATUSES, Task, utcnow
from crm.services import notifications, recurrence, reminders, trash, webhook_events
from crm.services.errors import ValidationFailed
from crm.services.links import check_links, resolve_names
from crm.services.pagination import Page, SortKey, paginate
from crm.services.records import (
    backfill_created_at,
    check_etag,
    config_flag,
    get_record,
    in_one_transaction,
)
from crm.services.search import in_workspace, substring_search
from crm.services.text import normalize, search_text

PARENT_REQUIRED = "At least one parent link (contact_id, company_id, or deal_id) is required"
PLAIN_FIELDS = (
    "title", "description", "type", "priority", "due_at", "contact_id", "company_id", "deal_id",
    "owner_id", "reminder", "completion_note", "recurrence", "duration", "activity_id",
)
SORTS = {
    "due_at": SortKey(Task.due_at, nullable=True, kind="datetime"),
    "priority": SortKey(Task.priority_rank, kind="int"),
    "created_at": SortKey(Task.created_at, kind="datetime"),
    "updated_at": SortKey(Task.updated_at, kind="datetime"),
    "completed_at": SortKey(Task.completed_at, nullable=True, kind="datetime"),
    "title": SortKey(Task.title),
}
DEFAULT_SORT = "-created_at"


def get_task(workspace_id: str, task_id: str, *, for_update: bool = False) -> Task:
    return get_record(Task, workspace_id, task_id, for_update=for_update)


def dedupe_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _apply(task: Task, data: dict) -> None:
    """Write validated fields onto the task and keep the completion and reminder invariants."""
    reminder_inputs, was_open = (task.due_at, task.reminder), task.status in OPEN_TASK_STATUSES
    data = resolve_names(task.workspace_id, data)
    errors = check_links(task.workspace_id, data)
    if errors:
        raise ValidationFailed(errors)
    for name in PLAIN_FIELDS:
        if name in data:
            setattr(task, name, data[name])
    if "tags" in data:
        task.tags = dedupe_tags(data["tags"])
    if "metadata" in data:
        task.meta = data["metadata"]
    _apply_status(task, data)
    if task.recurrence and task.due_at is None:
        field = "recurrence" if "recurrence" in data else "due_at"
        raise ValidationFailed.field(field, "A recurring task needs a due_at.")
    if config_flag("CRM_REQUIRE_TASK_PARENT") and not (task.contact_id or task.company_id or task.deal_id):
        raise ValidationFailed(
            {f: [PARENT_REQUIRED] for f in ("contact_id", "company_id", "deal_id")},
            message=PARENT_REQUIRED,
        )
    task.search_text = search_text(task.title, task.description)
    reminders.schedule(task, inputs_changed=(task.due_at, task.reminder) != reminder_inputs, was_open=was_open)


def _apply_status(task: Task, data: dict) -> None:
    was_completed = task.status == "completed"
    if "completed_at" in data and "status" not in data:
        # Stated together, so that whether completed_at fits never depends on the stored status.
        raise ValidationFailed.field(
            "completed_at", "Give status together with completed_at (or use the complete and reopen actions).")
    if "status" in data:
        task.status = data["status"]
    given = "completed_at" in data
    if task.status == "completed":
        if given and data["completed_at"] is not None:
            task.completed_at = data["completed_at"]
        elif given:
            raise ValidationFailed.field("completed_at", "A completed task keeps its completed_at; reopen it instead.")
        elif not was_completed or task.completed_at is None:
            task.completed_at = utcnow()
    else:
        if given and data["completed_at"] is not None:
            raise ValidationFailed.field("completed_at", "Only a completed task has a completed_at.")
        task.completed_at = None


def build_task(workspace_id: str, author_id: str | None, data: dict, *, task_id: str | None = None) -> Task:
    """A new task with every create rule applied, not yet added to the session.

    `author_id`: the user creating it, who owns it unless the data says otherwise.

    `create_task` saves one; the importer (crm/services/transfer.py) saves many per commit.
    """
    task = Task(
        workspace_id=workspace_id,
        created_by=author_id,
        owner_id=author_id,
        status="pending",
        type="todo",
        priority_rank=PRIORITIES.index("normal"),
        tags=[],
        meta={},
    )
    if task_id:
        task.id = task_id
    _apply(task, data)
    task.created_at = backfill_created_at(data.get("created_at"))
    task.updated_at = max(task.created_at, utcnow())
    return task


def _add_task(workspace_id: str, author_id: str | None, data: dict) -> Task:
    """A new task, saved in the open transaction (not committed), with its side effects."""
    task = build_task(workspace_id, author_id, data)
    db.session.add(task)
    db.session.flush()
    notifications.on_assigned(task, author_id)
    webhook_events.emit("task.created", task)
    return task


@writes
def create_task(workspace_id: str, author_id: str | None, data: dict) -> Task:
    task = _add_task(workspace_id, author_id, data)
    db.session.commit()
    return task


def _next_occurrence(task: Task) -> None:
    """The recurring task's next occurrence (crm.services.recurrence), announced when made now."""
    made: list[Task] = []

    def build(*args) -> Task:
        made.append(build_task(*args))
        return made[-1]

    occurrence = recurrence.create_next_occurrence(task, build)
    if made and occurrence is made[0]:
        webhook_events.emit("task.created", occurrence)


@writes
def create_tasks(workspace_id: str, author_id: str | None, items: list[dict]) -> list[Task]:
    """Several tasks in one transaction, each by `create_task`'s rules: all are created or none.

    Every item is checked; ValidationFailed reports each wrong field as `items.<index>.<field>`.
    An ambiguous name stops the batch at once (AmbiguousReference, field `items.<index>.<name>`)."""
    return in_one_transaction(items, lambda data: _add_task(workspace_id, author_id, data))


@writes
def update_task(task: Task, data: dict, if_match: str | None = None, *, actor_id: str | None = None) -> Task:
    """`actor_id`: the user making the change (whom its notifications are from)."""
    check_etag(task, if_match)
    apply_update(task, data, actor_id=actor_id)
    db.session.commit()
    return task


def apply_update(task: Task, data: dict, *, actor_id: str | None = None) -> None:
    """`update_task` without the ETag check and the commit (bulk updates share one transaction)."""
    owner_before, status_before, before = task.owner_id, task.status, webhook_events.snapshot(task)
    _apply(task, data)
    notifications.on_assigned(task, actor_id, previous_owner_id=owner_before)
    if task.status == "completed" and status_before != "completed":
        _next_occurrence(task)
        notifications.on_completed(task, actor_id)
    webhook_events.emit(webhook_events.task_event(status_before, task), task, before)


@writes
def complete_task(
    task: Task, *, completion_note: str | None = None, completed_at: datetime | None = None,
    if_match: str | None = None, actor_id: str | None = None,
) -> Task:
    """Mark completed. Completing a completed task changes nothing."""
    check_etag(task, if_match)
    if mark_completed(task, completion_note=completion_note, completed_at=completed_at, actor_id=actor_id):
        db.session.commit()
    return task


def mark_completed(task: Task, *, completion_note: str | None = None, completed_at: datetime | None = None,
                   actor_id: str | None = None) -> bool:
    """`complete_task` without the ETag check and the commit; False if it was completed already.
    A recurring task's next occurrence is created here, so once per completion."""
    if task.status == "completed":
        return False
    before = webhook_events.snapshot(task)
    task.status = "completed"
    task.completed_at = completed_at or utcnow()
    if completion_note is not None:
        task.completion_note = completion_note
    _next_occurrence(task)
    reminders.schedule(task, inputs_changed=False, was_open=True)
    notifications.on_completed(task, actor_id)
    webhook_events.emit("task.completed", task, before)
    return True


@writes
def reopen_task(task: Task, if_match: str | None = None) -> Task:
    check_etag(task, if_match)
    if mark_reopened(task):
        db.session.commit()
    return task


def snooze_task(task: Task, until: datetime, *, actor_id: str | None = None) -> Task:
    """Move an open task's due time to `until` (naive UTC): its reminder re-arms from there, and a
    recurring task's series goes on from the new time (the rule is read from `due_at`)."""
    if task.status not in OPEN_TASK_STATUSES:
        raise ValidationFailed.field("until", "Only an open task can be snoozed; this one is done.")
    return update_task(task, {"due_at": until}, actor_id=actor_id)


def mark_reopened(task: Task) -> bool:
    """`reopen_task` without the ETag check and the commit; False if it was pending already."""
    if task.status == "pending" and task.completed_at is None:
        return False
    was_open, before = task.status in OPEN_TASK_STATUSES, webhook_events.snapshot(task)
    task.status = "pending"
    task.completed_at = None
    reminders.schedule(task, inputs_changed=False, was_open=was_open)
    webhook_events.emit("task.reopened", task, before)
    return True


@writes
def delete_task(task: Task, if_match: str | None = None) -> None:
    """Move it to the trash (crm/services/trash.py)."""
    check_etag(task, if_match)
    trash.move_to_trash(task)
    db.session.commit()


def overdue_condition(now: datetime | None = None):
    now = now or utcnow()
    return and_(Task.due_at.is_not(None), Task.due_at < now, status_condition(OPEN_TASK_STATUSES))


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """The same rule as overdue_condition, for a task already loaded."""
    now = now or utcnow()
    return task.due_at is not None and task.due_at < now and task.status in OPEN_TASK_STATUSES


def status_condition(statuses: list[str]):
    """`status IN (...)`, written with literals in the statuses' own order: SQLite, which cannot
    see through parameters, then matches "open" to the partial index of open tasks."""
    ordered = [s for s in TASK_STATUSES if s in statuses]
    return Task.status.in_(bindparam("status", ordered, expanding=True, literal_execute=True, unique=True))


def tag_condition(tag: str):
    """Tasks whose tags include `tag`, on either backend's JSON."""
    if db.engine.dialect.name == "postgresql":
        return Task.tags.op("@>")(func.jsonb_build_array(tag))
    each = func.json_each(Task.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def filter_tasks(workspace_id: str, params: dict):
    search = substring_search(Task, normalize(params["q"])) if params.get("q") else None
    stmt = select(Task).where(in_workspace(Task, workspace_id, search))
    if params.get("status"):
        stmt = stmt.where(status_condition(params["status"]))
    if params.get("type"):
        stmt = stmt.where(Task.type.in_(params["type"]))
    if params.get("priority"):
        stmt = stmt.where(Task.priority_rank.in_([PRIORITIES.index(p) for p in params["priority"]]))
    for name in ("owner_id", "contact_id", "company_id", "deal_id", "created_by", "activity_id"):
        if params.get(name):
            stmt = stmt.where(getattr(Task, name) == params[name])
    if params.get("due_before") is not None:
        stmt = stmt.where(Task.due_at < params["due_before"])
    if params.get("due_after") is not None:
        stmt = stmt.where(Task.due_at > params["due_after"])
    if params.get("completed_after") is not None:
        stmt = stmt.where(Task.completed_at > params["completed_after"])
    if params.get("completed_before") is not None:
        stmt = stmt.where(Task.completed_at < params["completed_before"])
    if params.get("overdue") is True:
        stmt = stmt.where(overdue_condition())
    elif params.get("overdue") is False:
        stmt = stmt.where(not_(overdue_condition()))
    if params.get("tag"):
        stmt = stmt.where(tag_condition(params["tag"]))
    if search is not None:
        stmt = search.apply(stmt)
    return stmt


def list_tasks(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    return paginate(
        filter_tasks(workspace_id, params),
        sort=params.get("sort") or DEFAULT_SORT,
        keys=SORTS,
        id_column=Task.id,
        cursor=params.get("cursor"),
        limit=params.get("limit", 50),
        include_total=params.get("include_total", False),
        rows=rows,
        filters=params,
    )

