"""The tables. Typed columns and relationships only: the rules live in crm/services/."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    event,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, with_loader_criteria
from sqlalchemy.sql.elements import Grouping
from ulid import ULID

from crm import clock
from crm.extensions import db

JSONType = JSON().with_variant(JSONB(), "postgresql")
ID = String(40)

PRIORITIES = ("low", "normal", "high", "urgent")  # in rank order
TASK_TYPES = ("todo", "call", "email", "meeting", "follow_up")
TASK_STATUSES = ("pending", "in_progress", "completed", "cancelled")
OPEN_TASK_STATUSES = ("pending", "in_progress")
REMINDER_TYPES = ("email", "push")
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "sms", "task", "custom", "other")
ACTIVITY_STATUSES = ("completed", "scheduled", "draft", "rejected")
DIRECTIONS = ("inbound", "outbound", "na")
OUTCOMES = ("connected", "voicemail", "no_answer", "busy", "scheduled", "completed")
ROLES = ("admin", "member")
SCOPES = (
    "tasks:read",
    "tasks:write",
    "activities:read",
    "activities:write",
    "records:read",
    "records:write",
    "users:read",
    "webhooks:write",
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def utcnow() -> datetime:
    """Now, as stored: naive UTC with second precision (crm.clock, which tests can move)."""
    return clock.now()


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


def _id_default(prefix: str):
    return lambda: new_id(prefix)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Versioned(Timestamped):
    """A record with an ETag: `version` goes up on every UPDATE."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @property
    def etag(self) -> str:
        digest = hashlib.blake2b(f"{self.id}:{self.version}".encode(), digest_size=8)
        return digest.hexdigest()


class Trashable:
    """A record that deleting moves to the trash (crm/services/trash.py) for 30 days: `deleted_at`
    is set, and every ORM read leaves it out unless it asks for the trash."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


INCLUDE_TRASHED = "include_trashed"


@event.listens_for(Session, "do_orm_execute")
def _leave_out_trashed(state) -> None:
    """Every ORM SELECT leaves trashed records out, in its own rows and in the records it joins
    or loads, unless it runs with execution option `include_trashed` (the trash itself)."""
    if state.is_select and not state.execution_options.get(INCLUDE_TRASHED, False):
        state.statement = state.statement.options(
            with_loader_criteria(Trashable, lambda cls: cls.deleted_at.is_(None), include_aliases=True))


class Workspace(Timestamped, db.Model):
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("ws"))
    name: Mapped[str] = mapped_column(String(255))


class Installation(db.Model):
    """One row, written with the first workspace and admin by /setup: its fixed primary key lets
    exactly one set-up in, however many arrive at once, on either backend."""

    __tablename__ = "installation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    set_up_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(Timestamped, db.Model):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("user"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), index=True)  # unique per workspace
    role: Mapped[str] = mapped_column(String(20), default="member")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    # The secret of the user's calendar feed URL (/calendar/<token>.ics); regenerable.
    calendar_token: Mapped[str | None] = mapped_column(String(64), default=new_calendar_token)

    workspace: Mapped[Workspace] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_users_workspace_email"),
                      Index("uq_users_calendar_token", "calendar_token", unique=True))

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def etag(self) -> str:
        stamp = f"{self.id}:{self.updated_at.isoformat() if self.updated_at else ''}"
        return hashlib.blake2b(stamp.encode(), digest_size=8).hexdigest()


class UserSession(db.Model):
    """A signed-in browser session: the cookie names its id; deleting the row ends the session."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(db.Model):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("key"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(255))  # comma-separated
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, for display
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Company(Trashable, Versioned, db.Model):
    __tablename__ = "companies"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("comp"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    name_norm: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)

    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        Index("ix_companies_ws_created", "workspace_id", "created_at", "id", "deleted_at"),
        Index("ix_companies_ws_name", "workspace_id", "name_norm", "deleted_at"),
    )


class Contact(Trashable, Versioned, db.Model):
    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("cont"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(511))
    name_norm: Mapped[str] = mapped_column(String(511), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    meta: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)

    company: Mapped[Company | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        Index("ix_contacts_ws_created", "workspace_id", "created_at", "id", "deleted_at"),
        Index("ix_contacts_ws_name", "workspace_id", "name_norm", "deleted_at"),
    )


class Deal(Trashable, Versioned, db.Model):
    __tablename__ = "deals"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("deal"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    name_norm: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    close_date: Mapped[date | None] = mapped_column(Date)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    meta: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)

    company: Mapped[Company | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (Index("ix_deals_ws_created", "workspace_id", "created_at", "id", "deleted_at"),)


class Task(Trashable, Versioned, db.Model):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("task"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20), default="todo")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    priority_rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Indexed below, together with the default sort (they also serve ON DELETE SET NULL).
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    deal_id: Mapped[str | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminder: Mapped[dict | None] = mapped_column(JSONType)
    tags: Mapped[list] = mapped_column(JSONType, default=list)
    meta: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completion_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # SPEC §11: an RRULE, the series' first task, and the occurrence completing this one made.
    recurrence: Mapped[str | None] = mapped_column(String(500))
    recurrence_of: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    next_task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    duration: Mapped[int | None] = mapped_column(Integer)
    activity_id: Mapped[str | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"), index=True)
    # Reminders (crm/services/reminders.py): when it is due, when it fired, and the remind_at
    # still waiting to fire (NULL once fired or disarmed; what the due-reminder query reads).
    remind_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminder_pending_at: Mapped[datetime | None] = mapped_column(DateTime)

    contact: Mapped[Contact | None] = relationship(lazy="joined", innerjoin=False)
    company: Mapped[Company | None] = relationship(lazy="joined", innerjoin=False)
    deal: Mapped[Deal | None] = relationship(lazy="joined", innerjoin=False)
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=False)

    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        # One occurrence per due time in a series: two completions cannot both make the next one.
        Index("uq_tasks_recurrence_due", "recurrence_of", "due_at", unique=True),
        # Due reminders: only armed ones are in it.
        Index("ix_tasks_reminder_pending", "reminder_pending_at",
              postgresql_where=text("reminder_pending_at IS NOT NULL"),
              sqlite_where=text("reminder_pending_at IS NOT NULL")),
        # Erasing a task looks up the tasks whose next_task_id points at it (ON DELETE SET NULL).
        Index("ix_tasks_next_task", "next_task_id",
              postgresql_where=text("next_task_id IS NOT NULL"), sqlite_where=text("next_task_id IS NOT NULL")),
        Index("ix_tasks_ws_created", "workspace_id", "created_at", "id", "deleted_at"),
        Index("ix_tasks_ws_updated", "workspace_id", "updated_at", "id", "deleted_at"),
        Index("ix_tasks_ws_due", "workspace_id", "due_at", "id", "deleted_at"),
        # "My open tasks by due date": the index yields the owner's tasks in due order and holds
        # their status, so closed ones are skipped without reading their rows.
        Index("ix_tasks_ws_owner_due_status", "workspace_id", "owner_id", "due_at", "id", "status", "deleted_at"),
        # Open tasks by due date without meeting the closed ones. SQLite uses it when the query
        # states this condition with the same literals (crm.services.tasks.status_condition).
        Index("ix_tasks_ws_owner_open_due", "workspace_id", "owner_id", "due_at", "id", "deleted_at",
              postgresql_where=text("status IN ('pending', 'in_progress')"),
              sqlite_where=text("status IN ('pending', 'in_progress')")),
        # The same for every owner (the list of all open tasks by due date).
        Index("ix_tasks_ws_open_due", "workspace_id", "due_at", "id", "deleted_at",
              postgresql_where=text("status IN ('pending', 'in_progress')"),
              sqlite_where=text("status IN ('pending', 'in_progress')")),
        Index("ix_tasks_ws_status_due", "workspace_id", "status", "due_at", "deleted_at"),
        # The calendar's open recurring tasks of a user (crm/services/calendar.py, calendar_range).
        Index("ix_tasks_ws_owner_recurring", "workspace_id", "owner_id", "due_at", "deleted_at",
              postgresql_where=text("recurrence IS NOT NULL AND status IN ('pending', 'in_progress')"),
              sqlite_where=text("recurrence IS NOT NULL AND status IN ('pending', 'in_progress')")),
        # A user's tasks completed per week (the Today page): only completed tasks are in it.
        Index("ix_tasks_ws_owner_completed", "workspace_id", "owner_id", "completed_at", "deleted_at",
              postgresql_where=text("completed_at IS NOT NULL"),
              sqlite_where=text("completed_at IS NOT NULL")),
        # A record's tasks, newest first, without a sort.
        Index("ix_tasks_contact_created", "contact_id", "workspace_id", "created_at", "id", "deleted_at"),
        Index("ix_tasks_company_created", "company_id", "workspace_id", "created_at", "id", "deleted_at"),
        Index("ix_tasks_deal_created", "deal_id", "workspace_id", "created_at", "id", "deleted_at"),
        # `q` is a substring search: trigrams on PostgreSQL; SQLite scans in sort order.
        Index("ix_tasks_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"},
              postgresql_with={"fastupdate": "off"}).ddl_if(dialect="postgresql"),
    )

    @property
    def priority(self) -> str:
        return PRIORITIES[self.priority_rank]

    @priority.setter
    def priority(self, value: str) -> None:
        self.priority_rank = PRIORITIES.index(value)


def task_timeline_at():
    """Where a task sits on the activity feed: completed_at once completed, else created_at.

    'completed' is written as a literal, not a parameter, so that the expression index below
    matches the feed's ORDER BY on both SQLite and PostgreSQL.
    """
    return case(
        (and_(Task.status == literal_column("'completed'"), Task.completed_at.is_not(None)), Task.completed_at),
        else_=Task.created_at,
    )


# The feed pages through tasks in timeline order.
# (PostgreSQL wants an indexed expression in parentheses.)
Index("ix_tasks_ws_timeline", Task.workspace_id, Grouping(task_timeline_at()), Task.id, Task.deleted_at)


class ActivityAttendee(db.Model):
    __tablename__ = "activity_attendees"
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    contact: Mapped[Contact] = relationship(lazy="joined")


class Activity(Trashable, Versioned, db.Model):
    __tablename__ = "activities"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("act"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    subtype: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="completed")
    subject: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    deal_id: Mapped[str | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    duration: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(50), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(255))
    generated_by: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    confidence_score: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contact: Mapped[Contact | None] = relationship(lazy="joined", innerjoin=False)
    company: Mapped[Company | None] = relationship(lazy="joined", innerjoin=False)
    deal: Mapped[Deal | None] = relationship(lazy="joined", innerjoin=False)
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=False)
    attendee_links: Mapped[list[ActivityAttendee]] = relationship(
        lazy="selectin",
        order_by=ActivityAttendee.position,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_id", name="uq_activities_source_external"),
        Index("ix_activities_ws_occurred", "workspace_id", "occurred_at", "id", "deleted_at"),
        Index("ix_activities_ws_created", "workspace_id", "created_at", "id", "deleted_at"),
        # Also holds status and type: the Today page counts a user's activities per week and type
        # from the index alone.
        Index("ix_activities_ws_owner_occurred", "workspace_id", "owner_id", "occurred_at", "status", "type",
              "deleted_at"),
        Index("ix_activities_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"},
              postgresql_with={"fastupdate": "off"}).ddl_if(dialect="postgresql"),
    )

    @property
    def attendees(self) -> list[str]:
        return [link.contact_id for link in self.attendee_links]


# The trash list and the purge read only trashed rows (crm/services/trash.py).
for _model in (Company, Contact, Deal, Task, Activity):
    Index(f"ix_{_model.__tablename__}_trash", _model.workspace_id, _model.deleted_at, _model.id,
          sqlite_where=_model.deleted_at.is_not(None), postgresql_where=_model.deleted_at.is_not(None))


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_key"),)


NOTIFICATION_KINDS = ("reminder", "assigned", "completed_by_other", "digest", "webhook_disabled")


class Notification(db.Model):
    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("ntf"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    activity_id: Mapped[str | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)
    # Shown as a desktop notification by an open tab (a `push` reminder).
    desktop: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index("ix_notifications_user_unread", "user_id", "created_at",
              postgresql_where=text("read_at IS NULL"), sqlite_where=text("read_at IS NULL")),
    )

    @property
    def etag(self) -> str:
        stamp = f"{self.id}:{self.read_at.isoformat() if self.read_at else ''}"
        return hashlib.blake2b(stamp.encode(), digest_size=8).hexdigest()


class NotificationPreferences(db.Model):
    """One row per user who changed a default or got a digest: `kinds` maps a kind to
    {"in_app": bool, "email": bool}; missing kinds take the defaults (crm/services/notifications.py)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kinds: Mapped[dict] = mapped_column(JSONType, default=dict)
    digest_enabled: Mapped[bool] = mapped_column(default=True)
    digest_time: Mapped[str] = mapped_column(String(5), default="08:00")  # HH:MM in the user's zone
    # The user's local date of the last digest run: the once-a-day claim.
    digest_sent_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class MailOutbox(db.Model):
    """E-mail to send, written in the transaction that decides it; sent by `mail.deliver_due`."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_mail_outbox_due", "next_attempt_at",
              postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND failed_at IS NULL")),
    )


class OutboxMessage(db.Model):
    """Work that must follow a commit, written in the same transaction (crm.services.outbox).

    Outbox times have microseconds (they measure dispatch latency); records keep seconds.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSONType)
    key: Mapped[str | None] = mapped_column(String(255), unique=True)  # at most one row per key
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending, done, failed
    available_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The dispatcher's claim and /healthz read only this: due rows not yet handled.
        Index("ix_outbox_pending", "available_at", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
        Index("ix_outbox_done", "done_at"),
    )


class TrashLink(db.Model):
    """A link that trashing a contact, company or deal set to NULL, so that restoring it can set it
    back: (the table and column, the linking row's id) -> the trashed record. For an activity's
    attendee, `position` keeps its place in the list."""

    __tablename__ = "trash_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ID, index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    column_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(ID)
    position: Mapped[int | None] = mapped_column(Integer)


WEBHOOK_DELIVERY_STATES = ("pending", "sending", "succeeded", "failed")
WEBHOOK_RESOURCES = ("task", "activity", "contact", "company", "deal")
WEBHOOK_EVENT_TYPES = (
    "task.created", "task.updated", "task.completed", "task.reopened", "task.deleted",
    "activity.created", "activity.updated", "activity.deleted",
    "contact.created", "contact.updated", "contact.deleted",
    "company.created", "company.updated", "company.deleted",
    "deal.created", "deal.updated", "deal.deleted",
)
# What a subscription's `events` may list: everything, every event of a resource, or one type.
WEBHOOK_EVENT_PATTERNS = ("*", *(f"{r}.*" for r in WEBHOOK_RESOURCES), *WEBHOOK_EVENT_TYPES)


class Webhook(db.Model):
    """A subscription: matching events of its workspace are POSTed to `url`, signed with `secret`
    (crm.services.webhooks). The secret is stored as given to the user (it signs, so it cannot be
    a hash; docs/security.md)."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("wh"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    description: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)  # set when deliveries gave up
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def etag(self) -> str:
        stamp = (f"{self.id}:{self.updated_at.isoformat() if self.updated_at else ''}:{self.active}:{self.url}:"
                 f"{','.join(self.events or [])}:{self.description or ''}")
        return hashlib.blake2b(stamp.encode(), digest_size=8).hexdigest()


class WebhookDelivery(db.Model):
    """One message to one subscription, and its attempts so far (kept 30 days).

    `message_id` is the `webhook-id` header, the same on every attempt and on a redelivery;
    `record_key` ("task:task_...") orders the events of one record; `created_at` has microseconds."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=_id_default("whd"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str | None] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte on every attempt
    manual: Mapped[bool] = mapped_column(default=False)  # a test ping or a redelivery
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # the answer's first 1 KB
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_webhook_deliveries_log", "webhook_id", "created_at", "id"),
        # The ordering check: an earlier delivery of the same record still to be made.
        Index("ix_webhook_deliveries_open", "webhook_id", "record_key", "created_at",
              postgresql_where=text("state IN ('pending', 'sending')"),
              sqlite_where=text("state IN ('pending', 'sending')")),
        Index("ix_webhook_deliveries_created", "created_at"),
    )

    @property
    def etag(self) -> str:
        stamp = f"{self.id}:{self.state}:{self.attempts}"
        return hashlib.blake2b(stamp.encode(), digest_size=8).hexdigest()
