"""Export and import of a workspace's tasks and activities, with the records they link to.

A row is a flat dict: `kind` (company, contact, deal, task, activity), `id`, then the fields a
client may write through the API. Owners travel as `owner_email`, so a file moves between
installations whose user ids differ. Import validates every row with the API's own schemas
and builds records with the same service rules as the API, but commits once per batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import insert, select, tuple_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from crm.database import writes
from crm.extensions import db
from crm.fields import flatten_errors, unstorable_values
from crm.models import Activity, ActivityAttendee, Company, Contact, Deal, Task, User, new_id
from crm.schemas import (
    ActivityInput,
    ActivityOut,
    CompanyInput,
    CompanyOut,
    ContactInput,
    ContactOut,
    DealInput,
    DealOut,
    TaskInput,
    TaskOut,
)
from crm.services import activities, records, tasks
from crm.services.errors import AmbiguousReference, ServiceError, ValidationFailed
from crm.services.links import remembering_links

# Dependency order: a row only links to kinds listed before it (a task to its activity).
KINDS = ("company", "contact", "deal", "activity", "task")
MODELS = {"company": Company, "contact": Contact, "deal": Deal, "task": Task, "activity": Activity}
ID_PREFIXES = {"company": "comp", "contact": "cont", "deal": "deal", "task": "task", "activity": "act"}
OUTPUT_SCHEMAS = {"company": CompanyOut, "contact": ContactOut, "deal": DealOut, "task": TaskOut,
                  "activity": ActivityOut}
INPUT_SCHEMAS: dict[str, type[Schema]] = {"company": CompanyInput, "contact": ContactInput, "deal": DealInput,
                                          "task": TaskInput, "activity": ActivityInput}
# The exported fields of each kind, in column order: what the API lets a client write on create.
FIELDS = {
    "company": ("name", "domain", "metadata"),
    "contact": ("first_name", "last_name", "email", "phone", "company_id", "metadata"),
    "deal": ("name", "stage", "amount", "currency", "close_date", "company_id", "contact_id", "metadata"),
    "task": ("title", "description", "type", "status", "priority", "due_at", "contact_id", "company_id",
             "deal_id", "owner_email", "reminder", "tags", "metadata", "completed_at", "completion_note",
             "recurrence", "duration", "activity_id", "created_at"),
    "activity": ("type", "subtype", "status", "subject", "body", "contact_id", "company_id", "deal_id",
                 "owner_email", "attendees", "occurred_at", "duration", "direction", "outcome", "source",
                 "external_id", "generated_by", "model", "confidence_score", "metadata", "created_at"),
}
COLUMNS = ("kind", "id", *dict.fromkeys(f for kind in KINDS for f in FIELDS[kind]))
# Columns whose CSV cells hold JSON, or numbers.
JSON_COLUMNS = frozenset({"metadata", "reminder", "tags", "attendees"})
INTEGER_COLUMNS = frozenset({"duration"})
NUMBER_COLUMNS = frozenset({"confidence_score"})
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
KIND_ALIASES = {"companies": "company", "contacts": "contact", "deals": "deal", "tasks": "task",
                "activities": "activity"}


# --- Export --------------------------------------------------------------------------------

def export_count(workspace_id: str, kinds: Iterable[str] = KINDS) -> int:
    from sqlalchemy import func

    return sum(
        db.session.execute(
            select(func.count()).select_from(MODELS[k]).where(MODELS[k].workspace_id == workspace_id)
        ).scalar_one()
        for k in kinds
    )


def export_rows(workspace_id: str, kinds: Iterable[str] = KINDS, batch_size: int = 1000) -> Iterator[dict]:
    """Every record of the given kinds, in dependency order, oldest first, as export rows."""
    wanted = set(kinds)
    for kind in KINDS:
        if kind not in wanted:
            continue
        model = MODELS[kind]
        out = OUTPUT_SCHEMAS[kind]()
        stmt = (
            select(model).where(model.workspace_id == workspace_id)
            .order_by(model.created_at, model.id)
            .execution_options(yield_per=batch_size)
        )
        for record in db.session.execute(stmt).scalars():
            yield row_of(kind, record, out.dump(record))


def row_of(kind: str, record, dumped: dict) -> dict:
    row: dict[str, Any] = {"kind": kind, "id": record.id}
    for name in FIELDS[kind]:
        if name == "owner_email":
            row[name] = record.owner.email if record.owner is not None else None
        else:
            row[name] = dumped[name]
    return row


# --- Import --------------------------------------------------------------------------------

def default_importing_user(workspace_id: str) -> User | None:
    """Who imported rows are created by when no user is named: the workspace's first admin."""
    return db.session.execute(
        select(User).where(User.workspace_id == workspace_id, User.is_active.is_(True))
        .order_by((User.role == "admin").desc(), User.created_at, User.id)
    ).unique().scalars().first()


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class BatchReport:
    rows: int = 0
    created: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Pending:
    line: int
    kind: str
    record_id: str | None
    data: dict


def normalize_kind(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    value = KIND_ALIASES.get(value, value)
    return value if value in KINDS else None


def describe(err: ServiceError | ValidationError) -> str:
    if isinstance(err, ValidationError):
        # The API's own flattening, so that a row's message reads exactly like the API's answer.
        details = flatten_errors(err.messages)
    elif isinstance(err, ValidationFailed):
        details = err.details
    elif isinstance(err, AmbiguousReference):
        names = ", ".join(f"{c['name']} ({c['id']})" for c in err.candidates)
        return f"{err.field}: {err.message} Candidates: {names}."
    else:
        return str(err)
    return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in details.items())


class Importer:
    """Validates rows and saves the good ones in batches, one commit per batch.

    Idempotent: a row whose id already exists in the workspace, or an activity whose
    (source, external_id) is already there, is counted as existing and left unchanged.
    """

    def __init__(self, workspace_id: str, user: User | None, *, default_kind: str | None = None):
        self.workspace_id = workspace_id
        self.author_id = user.id if user else None
        self.default_kind = default_kind
        self.schemas = {kind: cls() for kind, cls in INPUT_SCHEMAS.items()}
        self.owner_ids: dict[str, str | None] = {}
        self.seen_ids: set[str] = set()
        self.seen_external: set[tuple[str, str]] = set()
        self.known_links: set = set()

    # Row → validated data ----------------------------------------------------------------

    def validate(self, line: int, raw: Any) -> _Pending | RowError:
        if isinstance(raw, RowError):  # the reader could not even parse the line
            return raw
        if not isinstance(raw, dict):
            return RowError(line, "A row must be a JSON object.")
        unstorable = unstorable_values(raw)
        if unstorable:
            return RowError(line, "; ".join(f"{k}: {' '.join(v)}" for k, v in unstorable.items()))
        row = dict(raw)
        kind = normalize_kind(row.pop("kind", None) or self.default_kind)
        if kind is None:
            return RowError(line, f"kind: Must be one of: {', '.join(KINDS)}.")
        record_id = row.pop("id", None)
        if record_id is not None and not self._valid_id(kind, record_id):
            return RowError(line, f"id: Not a {kind} id ({ID_PREFIXES[kind]}_ followed by a ULID).")
        if "owner_email" in row:
            if kind not in ("task", "activity"):
                return RowError(line, "owner_email: Unknown field.")
            if "owner_id" in row:
                return RowError(line, "owner_email: Give either owner_email or owner_id, not both.")
            owner = self._owner_id(row.pop("owner_email"))
            if owner is False:
                return RowError(line, "owner_email: No user with this email in the workspace.")
            row["owner_id"] = owner
        try:
            data = self.schemas[kind].load(row)
        except ValidationError as err:
            return RowError(line, describe(err))
        return _Pending(line, kind, record_id, data)

    @staticmethod
    def _valid_id(kind: str, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        prefix, _, rest = value.partition("_")
        return prefix == ID_PREFIXES[kind] and bool(_ULID.match(rest))

    def _owner_id(self, email: Any) -> str | None | bool:
        """The workspace user's id for an email; None for no owner; False when there is no such user."""
        if email is None or (isinstance(email, str) and not email.strip()):
            return None
        if not isinstance(email, str):
            return False
        email = email.strip().lower()
        if email not in self.owner_ids:
            self.owner_ids[email] = db.session.execute(
                select(User.id).where(User.email == email, User.workspace_id == self.workspace_id)
            ).scalar_one_or_none()
        return self.owner_ids[email] or False

    # Batches -----------------------------------------------------------------------------

    @writes
    def import_batch(self, rows: list[tuple[int, Any]]) -> BatchReport:
        """Validate, build and save one batch of (line number, row) pairs: one commit per kind."""
        with remembering_links(self.known_links):
            return self._import_batch(rows)

    def _import_batch(self, rows: list[tuple[int, Any]]) -> BatchReport:
        report = BatchReport(rows=len(rows))
        pending: list[_Pending] = []
        for line, raw in rows:
            result = self.validate(line, raw)
            if isinstance(result, RowError):
                report.errors.append(result)
            else:
                pending.append(result)
        pending = self._drop_existing(pending, report)
        # Rows of one kind can link to rows of an earlier kind in the same batch: save kind by kind.
        for kind in KINDS:
            group = [p for p in pending if p.kind == kind]
            if group:
                self._save(group, report)
        return report

    def _drop_existing(self, pending: list[_Pending], report: BatchReport) -> list[_Pending]:
        owners: dict[str, str] = {}
        for kind in KINDS:
            kind_ids = [p.record_id for p in pending if p.kind == kind and p.record_id]
            if kind_ids:
                model = MODELS[kind]
                owners.update(db.session.execute(
                    select(model.id, model.workspace_id).where(model.id.in_(kind_ids))
                ).all())
        pairs = {(p.data.get("source") or "manual", p.data["external_id"])
                 for p in pending if p.kind == "activity" and p.data.get("external_id") is not None}
        known_pairs: set[tuple[str, str]] = set()
        if pairs:
            known_pairs = set(db.session.execute(
                select(Activity.source, Activity.external_id).where(
                    Activity.workspace_id == self.workspace_id,
                    tuple_(Activity.source, Activity.external_id).in_(pairs),
                )
            ).all())
        kept = []
        for p in pending:
            if p.record_id:
                if p.record_id in owners and owners[p.record_id] != self.workspace_id:
                    report.errors.append(RowError(
                        p.line, "id: Already used by another workspace; leave id empty to import as a new record."))
                    continue
                if p.record_id in owners or p.record_id in self.seen_ids:
                    report.existing += 1
                    continue
                self.seen_ids.add(p.record_id)
            if p.kind == "activity" and p.data.get("external_id") is not None:
                pair = (p.data.get("source") or "manual", p.data["external_id"])
                if pair in known_pairs or pair in self.seen_external:
                    report.existing += 1
                    continue
                self.seen_external.add(pair)
            kept.append(p)
        return kept

    def _build(self, p: _Pending):
        ws = self.workspace_id
        if p.kind == "task":
            return tasks.build_task(ws, self.author_id, p.data, task_id=p.record_id)
        if p.kind == "activity":
            return activities.build_activity(ws, self.author_id, p.data, activity_id=p.record_id)
        builder = {"company": records.build_company, "contact": records.build_contact,
                   "deal": records.build_deal}[p.kind]
        return builder(ws, p.data, record_id=p.record_id)

    def _save(self, group: list[_Pending], report: BatchReport) -> None:
        kind = group[0].kind
        built = []
        with db.session.no_autoflush:
            for p in group:
                try:
                    # The id is fixed up front: attendee rows need their activity's id.
                    p.record_id = p.record_id or new_id(ID_PREFIXES[kind])
                    built.append(self._build(p))
                except ServiceError as err:
                    report.errors.append(RowError(p.line, describe(err)))
        try:
            insert_built(kind, built)
            db.session.commit()
            report.created += len(built)
            return
        except IntegrityError:
            db.session.rollback()
        # Something changed under us (another process wrote a clashing row or deleted a linked
        # one): one commit per row for this group only, so the clash is pinned to its line.
        self.known_links.clear()
        for p in group:
            if any(e.line == p.line for e in report.errors):
                continue
            try:
                db.session.add(self._build(p))
                db.session.commit()
                report.created += 1
            except IntegrityError:
                db.session.rollback()
                report.existing += 1
            except ServiceError as err:
                db.session.rollback()
                report.errors.append(RowError(p.line, describe(err)))


def insert_built(kind: str, built: list) -> None:
    """Insert records made by the build_* services in one multi-row INSERT per table.

    The records were built with every rule applied; this only skips the ORM's per-object
    unit of work, which costs more than the rules themselves on a large import.
    """
    if not built:
        return
    columns = [(prop.key, prop.columns[0].key) for prop in sa_inspect(MODELS[kind]).column_attrs]
    rows = []
    for record in built:
        # A new record's __dict__ holds exactly what was set on it (unset columns are NULL).
        values = record.__dict__
        row = {column: values.get(attr) for attr, column in columns}
        row["version"] = 1
        rows.append(row)
    db.session.execute(insert(MODELS[kind].__table__), rows)
    if kind == "activity":
        links = [{"activity_id": record.id, "contact_id": link.contact_id, "position": link.position}
                 for record in built for link in record.attendee_links]
        if links:
            db.session.execute(insert(ActivityAttendee.__table__), links)


def batched(rows: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- CSV cells -----------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-[0-9]+(\.[0-9]+)?")


def _reads_as_formula(text: str) -> bool:
    """Whether a cell, after any leading quotes, would start a formula. A negative amount is a number."""
    rest = text.lstrip("'")
    return rest.startswith(FORMULA_STARTS) and not _NEGATIVE_NUMBER.fullmatch(rest)


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet shows as the text it is: a leading quote before anything that would start
    a formula (and before quotes that precede one, so that the importer can take exactly one off)."""
    return "'" + text if _reads_as_formula(text) else text


def restore_formula_text(cell: str) -> str:
    """The text `neutralise_formula` was given: its added quote taken off."""
    return cell[1:] if cell.startswith("'") and _reads_as_formula(cell[1:]) else cell


def csv_cell(name: str, value: Any) -> str:
    import orjson

    if value is None:
        return ""
    if name in JSON_COLUMNS:
        return neutralise_formula(orjson.dumps(value).decode())
    return neutralise_formula(str(value))


def row_from_csv(cells: dict[str, str | None], kind_hint: str | None) -> dict:
    """A CSV record as a row: empty cells are null where the field takes null, else left out;
    JSON and number columns are decoded (a cell that does not decode is passed on as text, so
    that the schema reports it on its field)."""
    import orjson

    kind = normalize_kind(cells.get("kind") or kind_hint)
    schema_fields = INPUT_SCHEMAS[kind]._declared_fields if kind else {}
    own_columns = set(FIELDS[kind]) if kind else set()
    row: dict[str, Any] = {}
    for name, cell in cells.items():
        if name is None:
            continue  # cells beyond the header
        name = name.strip()
        if cell is None or cell == "":
            declared = schema_fields.get(name)
            if name in own_columns and (name == "owner_email" or (declared is not None and declared.allow_none)):
                row[name] = None
            continue
        cell = restore_formula_text(cell)
        value: Any = cell
        try:
            if name in JSON_COLUMNS:
                value = orjson.loads(cell)
            elif name in INTEGER_COLUMNS and re.fullmatch(r"\s*-?\d+\s*", cell):
                value = int(cell)
            elif name in NUMBER_COLUMNS and math.isfinite(float(cell)):
                value = float(cell)
        except (ValueError, orjson.JSONDecodeError):
            value = cell
        row[name] = value
    return row
