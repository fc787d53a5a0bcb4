"""The outbox: what must happen after a commit, written in the same transaction as its cause.

A service that wants work done later (a notification, an e-mail, the next occurrence of a task)
adds an outbox row next to its own change, before it commits::

    from crm.services import outbox

    outbox.add("mail.send", {"notification_id": note.id})                 # as soon as possible
    outbox.add("reminder.fire", {"task_id": task.id}, available_at=task.remind_at,
               key=f"reminder:{task.id}:{task.remind_at.isoformat()}")    # once per key, ever
    db.session.commit()                                                   # the change and the row

and registers, once, at import time of its module, the code that does the work::

    @outbox.handler("mail.send", transactional=False)
    def send_notification_mail(payload: dict) -> None:
        mail.send_notification(payload["notification_id"])

Nothing is lost between the commit and the queue: the dispatcher (crm.queue) claims due rows
and enqueues one job per row, right after a commit that added one (a nudge) and every
CRM_QUEUE_POLL_SECONDS in each worker (so rows written while no worker ran are handled when one
starts). A row is `done` only when its handler returned; otherwise it is retried with backoff
(CRM_OUTBOX_RETRY_SECONDS doubling, at most an hour) and `failed` after `max_attempts`.

How many times a handler runs:

- **A claim is a lease.** Claiming sets a fresh `claim_token` under a row lock (PostgreSQL
  `FOR UPDATE SKIP LOCKED`; SQLite's single writer), so two dispatchers never claim one row
  together; a job runs its row only while its token is the row's token, and only once per token
  (`started_at`). A row whose job died is claimed again when the lease (CRM_OUTBOX_LEASE_SECONDS,
  counted from the job's start) has run out.
- **`transactional=True` (the default): exactly once.** The row is marked done in the handler's
  own transaction, first thing, so the handler's database writes and the done mark commit
  together or not at all. The handler may leave the commit to the job or commit once itself; it
  must not commit twice (a crash between two commits would leave the first one done).
- **`transactional=False`, for effects outside the database (SMTP, HTTP): at most once per
  attempt, at least once in all.** The attempt is recorded as started and committed, the
  handler runs outside any write transaction (it takes none of SQLite's write lock while it
  waits on the network), then the row is marked done. Only a crash during the handler leads to
  a second attempt. Such a handler must finish well within the lease.

Handlers get the payload (JSON) and run inside an app context with a session of their own.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import DateTime, bindparam, delete, func, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from crm import clock
from crm.database import writing
from crm.extensions import db
from crm.models import OutboxMessage

log = logging.getLogger(__name__)

DUE_FLAG = "outbox_due"  # in session.info: this transaction added a row that is due now
DEFAULTS = {
    "CRM_OUTBOX_LEASE_SECONDS": 300.0,
    "CRM_OUTBOX_RETRY_SECONDS": 10.0,
    "CRM_OUTBOX_MAX_ATTEMPTS": 8,
    "CRM_OUTBOX_RETENTION_DAYS": 7,
}
MAX_RETRY_DELAY = timedelta(hours=1)
PENDING_COUNT_CAP = 1_000  # /healthz counts this far: a backlog that long already means "no worker"
# SQLite uses the partial index only when the query states its condition with the same literal.
PENDING = OutboxMessage.state == literal_column("'pending'")

HandlerFunc = Callable[[dict], None]


@dataclass(frozen=True)
class Handler:
    kind: str
    func: HandlerFunc
    transactional: bool
    max_attempts: int | None


HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, transactional: bool = True,
            max_attempts: int | None = None) -> Callable[[HandlerFunc], HandlerFunc]:
    """Register the function that handles outbox rows of `kind` (one per kind)."""

    def register(func: HandlerFunc) -> HandlerFunc:
        existing = HANDLERS.get(kind)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"outbox kind {kind!r} already has a handler: {existing.func.__qualname__}")
        HANDLERS[kind] = Handler(kind, func, transactional, max_attempts)
        return func

    return register


def setting(name: str):
    if has_app_context():
        return current_app.config.get(name, DEFAULTS[name])
    return DEFAULTS[name]


def add(kind: str, payload: dict, available_at: datetime | None = None, key: str | None = None) -> None:
    """Add a row to the current transaction: it exists if and only if the caller commits.

    `available_at` (naive UTC) delays it; `key` makes it unique: adding a key that exists (in
    any state) adds nothing, so "remind once per remind_at" is a key, not a check.
    """
    now = clock.precise_now()
    values = {"kind": kind, "payload": payload, "key": key, "state": "pending",
              "available_at": available_at or now, "created_at": now, "attempts": 0}
    if key is None:
        db.session.add(OutboxMessage(**values))
    else:
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["key"]))
    if values["available_at"] <= now:
        db.session.info[DUE_FLAG] = True


def _pending_statement(cap: int):
    due = (select(OutboxMessage.available_at)
           .where(PENDING, OutboxMessage.available_at <= bindparam("now", type_=DateTime()))
           .order_by(OutboxMessage.available_at).limit(cap).subquery())
    return select(func.count(), func.min(due.c.available_at))


_pending_statements: dict[int, object] = {}


def pending_summary() -> tuple[int, float]:
    """(rows due and not yet handled, at most PENDING_COUNT_CAP; age in seconds of the oldest of
    them): one read of the partial index, bounded so that a backlog never slows /healthz."""
    now = clock.precise_now()
    if PENDING_COUNT_CAP not in _pending_statements:  # built once: /healthz is polled
        _pending_statements[PENDING_COUNT_CAP] = _pending_statement(PENDING_COUNT_CAP)
    count, oldest = db.session.execute(_pending_statements[PENDING_COUNT_CAP], {"now": now}).one()
    return count, (round((now - oldest).total_seconds(), 3) if oldest is not None else 0.0)


def claim_due(limit: int = 100) -> list[tuple[int, str, str]]:
    """Lease up to `limit` due rows to one new token and commit; returns [(id, token, kind)]."""
    if limit <= 0:
        return []
    now = clock.precise_now()
    lease = timedelta(seconds=float(setting("CRM_OUTBOX_LEASE_SECONDS")))
    token = secrets.token_hex(16)
    due = (
        select(OutboxMessage.id)
        .where(PENDING, OutboxMessage.available_at <= now,
               or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - lease))
        .order_by(OutboxMessage.available_at)
        .limit(limit)
    )
    # A read first: an idle worker's poll then takes no write lock (SQLite) and writes nothing.
    if db.session.execute(due.limit(1)).first() is None:
        db.session.commit()
        return []
    db.session.commit()
    with writing():
        if db.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claim_token=token, claimed_at=now, started_at=None, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.kind)
        ).all()
        db.session.commit()
    return sorted((message_id, token, kind) for message_id, kind in claimed)


def _start(message_id: int, token: str, *, mark_done: bool) -> tuple[str, dict] | None:
    """Take the attempt `token` of row `message_id` (once); None when it is not ours to run."""
    now = clock.precise_now()
    values = {"started_at": now, "claimed_at": now}
    if mark_done:
        values.update(state="done", done_at=now)
    row = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token, PENDING,
               OutboxMessage.started_at.is_(None))
        .values(values)
        .returning(OutboxMessage.kind, OutboxMessage.payload)
    ).first()
    return (row.kind, row.payload) if row is not None else None


def run(message_id: int, token: str, kind: str | None = None) -> str:
    """Run one claimed row's handler; returns "done", "skipped" (not ours), "retry" or "failed".
    `kind` is the row's, as the claim returned it (read again when not given)."""
    kind = kind or _peek_kind(message_id)
    if kind is None:
        return "skipped"
    found = HANDLERS.get(kind)
    if found is None or not found.transactional:
        with writing():
            started = _start(message_id, token, mark_done=False)
            db.session.commit()
        if started is None:
            return "skipped"
        if found is None:
            return _record_failure(message_id, token, f"no handler for outbox kind {kind!r}", None)
    try:
        if found.transactional:
            with writing():
                started = _start(message_id, token, mark_done=True)
                if started is None:
                    db.session.rollback()
                    return "skipped"
                found.func(started[1])
                db.session.commit()
        else:
            found.func(started[1])
            db.session.commit()  # end the handler's reads
            with writing():
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
                    .values(state="done", done_at=clock.precise_now())
                )
                db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is retried
        db.session.rollback()
        log.warning("outbox row %s (%s) failed: %s", message_id, kind, exc)
        return _record_failure(message_id, token, "".join(traceback.format_exception(exc))[-4000:], found)
    return "done"


def _peek_kind(message_id: int) -> str | None:
    kind = db.session.execute(select(OutboxMessage.kind).where(OutboxMessage.id == message_id)).scalar()
    db.session.commit()
    return kind


def _record_failure(message_id: int, token: str, error: str, found: Handler | None) -> str:
    """Give the row back for a later attempt, or mark it failed after its last one."""
    with writing():
        attempts = db.session.execute(
            select(OutboxMessage.attempts).where(OutboxMessage.id == message_id)).scalar() or 0
        limit = (found.max_attempts if found and found.max_attempts else None) or int(
            setting("CRM_OUTBOX_MAX_ATTEMPTS"))
        now = clock.precise_now()
        if attempts >= limit:
            values = {"state": "failed", "done_at": now, "last_error": error}
            outcome = "failed"
            log.error("outbox row %s failed for good after %s attempts", message_id, attempts)
        else:
            delay = timedelta(seconds=float(setting("CRM_OUTBOX_RETRY_SECONDS")) * 2 ** max(attempts - 1, 0))
            values = {"available_at": now + min(delay, MAX_RETRY_DELAY), "claim_token": None,
                      "claimed_at": None, "started_at": None, "last_error": error}
            outcome = "retry"
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token, PENDING)
            .values(values)
        )
        db.session.commit()
    return outcome if result.rowcount else "done"


def purge_handled() -> int:
    """Delete rows done more than CRM_OUTBOX_RETENTION_DAYS ago (failed ones: four times that)."""
    days = int(setting("CRM_OUTBOX_RETENTION_DAYS"))
    now = clock.precise_now()
    with writing():
        result = db.session.execute(
            delete(OutboxMessage).where(or_(
                (OutboxMessage.state == "done") & (OutboxMessage.done_at < now - timedelta(days=days)),
                (OutboxMessage.state == "failed") & (OutboxMessage.done_at < now - timedelta(days=4 * days)),
            ))
        )
        db.session.commit()
    return result.rowcount or 0


def queue_health() -> dict | None:
    """The outbox backlog ({"pending", "oldest_pending_s"}) for /healthz, or None when the database
    does not answer. One indexed read, which is also the database check; it ends with COMMIT, as
    `crm.database.database_ok` explains."""
    try:
        pending, oldest = pending_summary()
        db.session.commit()
        return {"pending": pending, "oldest_pending_s": oldest}
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return None
