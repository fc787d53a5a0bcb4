"""Webhook events (SPEC §12), emitted by the services next to their change, before they commit
(one line per place)::

    webhook_events.emit("task.created", task)
    before = webhook_events.snapshot(task); ...change...; webhook_events.emit("task.updated", task, before)
    webhook_events.emit("task.deleted", task)        # before db.session.delete(task)

For each active subscription of the workspace whose `events` match, `emit` writes a delivery row
(the payload, signed later on each attempt) and an outbox row (`webhook.deliver`) that wakes the
delivery, in the change's own transaction: committed together or not at all (§9). Delivering,
and everything else about subscriptions, is crm.services.webhooks'.
"""

from __future__ import annotations

import copy
import json

from sqlalchemy import event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, Session

from crm import clock, schemas
from crm.extensions import db
from crm.fields import format_datetime
from crm.models import Activity, Company, Contact, Deal, Task, Webhook, WebhookDelivery, new_id
from crm.services import outbox

REPRESENTATIONS = {Task: ("task", schemas.TaskOut), Activity: ("activity", schemas.ActivityOut),
                   Contact: ("contact", schemas.ContactOut), Company: ("company", schemas.CompanyOut),
                   Deal: ("deal", schemas.DealOut)}


def matches(patterns: list[str], event_type: str) -> bool:
    """`*`, an exact type, or `contact.*` (every event of that resource)."""
    resource = event_type.split(".", 1)[0]
    return any(p == "*" or p == event_type or p == f"{resource}.*" for p in patterns)


def _schema_for(record):
    kind, schema = REPRESENTATIONS[type(record)]
    return kind, _schemas.setdefault(kind, schema())


_schemas: dict[str, object] = {}


def emit_for_kind(action: str, record) -> int:
    """`<kind>.<action>` for `record` (trashing and restoring, which serve every kind)."""
    return emit(f"{REPRESENTATIONS[type(record)][0]}.{action}", record)


def snapshot(record) -> dict:
    """The record's column values now, before a change: `emit` compares them."""
    values = {}
    for attr in sa_inspect(record).mapper.attrs:
        if isinstance(attr, ColumnProperty):
            value = getattr(record, attr.key)  # loads them if the write scope expired them
            values[attr.key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return values


class _Before:
    """The record as it was: the snapshot's values, the record's for anything else."""

    def __init__(self, record, values: dict):
        self._record, self._values = record, values

    def __getattr__(self, name):
        if name in self._values:
            return self._values[name]
        derived = getattr(type(self._record), name, None)
        if isinstance(derived, property):  # e.g. a task's `priority`, read from its priority_rank
            return derived.fget(self)
        return getattr(self._record, name)


def task_event(status_before: str, task) -> str:
    """The event of a task update: completed, reopened, or updated."""
    if task.status == "completed" and status_before != "completed":
        return "task.completed"
    if status_before == "completed" and task.status != "completed":
        return "task.reopened"
    return "task.updated"


def _body(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def emit(event_type: str, record, before: dict | None = None) -> int:
    """Queue `event_type` for `record` to every matching subscription of its workspace, in the
    current transaction; `before` (from `snapshot`) adds `changes`. Returns how many deliveries.
    An update that changed no field the API shows sends nothing."""
    targets = [hook_id for hook_id, events in _active_hooks(record.workspace_id)
               if matches(events or [], event_type)]
    if not targets:
        return 0
    db.session.flush()
    kind, schema = _schema_for(record)
    data = schema.dump(record)
    payload = {"id": new_id("evt"), "type": event_type, "created_at": format_datetime(clock.now()),
               "data": data}
    if before is not None:
        old = schema.dump(_Before(record, before))
        changes = {name: {"from": old.get(name), "to": value} for name, value in data.items()
                   if name not in ("updated_at", "relationships") and old.get(name) != value}
        if not changes and event_type.endswith(".updated"):
            return 0
        payload["changes"] = changes
    queue_deliveries(record.workspace_id, targets, payload, record_key=f"{kind}:{record.id}")
    return len(targets)


def _active_hooks(workspace_id: str) -> list[tuple[str, list[str]]]:
    """The workspace's active subscriptions, read once per transaction: a bulk change or a batch
    emits an event per record without a statement per record (kept in the session's `info`,
    forgotten when the transaction ends; every change to a subscription commits at once)."""
    known = db.session.info.setdefault(HOOKS_KEY, {})
    if workspace_id not in known:
        with db.session.no_autoflush:
            known[workspace_id] = [tuple(row) for row in db.session.execute(
                select(Webhook.id, Webhook.events)
                .where(Webhook.workspace_id == workspace_id, Webhook.active.is_(True))).all()]
    return known[workspace_id]


HOOKS_KEY = "webhook_events.active_hooks"


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:  # the outermost one: committed, rolled back or closed
        session.info.pop(HOOKS_KEY, None)


def queue_deliveries(workspace_id: str, webhook_ids: list[str], payload: dict, *, record_key: str | None,
           manual: bool = False, message_id: str | None = None) -> list[WebhookDelivery]:
    now = clock.precise_now()
    body = _body(payload)
    made = []
    for webhook_id in webhook_ids:
        delivery = WebhookDelivery(
            id=new_id("whd"), workspace_id=workspace_id, webhook_id=webhook_id,
            message_id=message_id or new_id("msg"), event_id=payload["id"], event_type=payload["type"],
            record_key=record_key, body=body, manual=manual, state="pending", attempts=0,
            next_attempt_at=now, created_at=now)
        db.session.add(delivery)
        outbox.add("webhook.deliver", {"delivery_id": delivery.id})
        made.append(delivery)
    return made
