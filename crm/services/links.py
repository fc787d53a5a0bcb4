"""Links from tasks and activities to contacts, companies, deals and users, checked per workspace."""

from __future__ import annotations

import contextlib
import contextvars

from sqlalchemy import and_, case, func, or_, select

from crm.extensions import db
from crm.models import Activity, Company, Contact, Deal, User
from crm.services.errors import AmbiguousReference, ValidationFailed
from crm.services.text import normalize_to

LINK_MODELS = {
    "contact_id": (Contact, "contact"),
    "company_id": (Company, "company"),
    "deal_id": (Deal, "deal"),
    "owner_id": (User, "user"),
    "activity_id": (Activity, "activity"),
}
MAX_CANDIDATES = 10
LINK_KINDS = {Contact: "contact", Company: "company", Deal: "deal"}
# A name to resolve, and the id it resolves to: a request gives one or the other, never both.
NAME_FIELDS = {"contact_name": "contact_id", "company_name": "company_id"}

# Inside `remembering_links()`: the (workspace, model, id) triples already found to exist.
_known_links: contextvars.ContextVar[set | None] = contextvars.ContextVar("known_links", default=None)


@contextlib.contextmanager
def remembering_links(known: set | None = None):
    """Look each linked id up once for the whole block (a bulk import links the same contacts
    on thousands of rows). Only existence is remembered, never absence, so records created
    inside the block are found too."""
    token = _known_links.set(set() if known is None else known)
    try:
        yield
    finally:
        _known_links.reset(token)


def check_links(workspace_id: str, data: dict, fields=tuple(LINK_MODELS)) -> dict[str, list[str]]:
    """Errors for every linked id in `data` that does not exist in the workspace."""
    errors: dict[str, list[str]] = {}
    known = _known_links.get()
    for field in fields:
        value = data.get(field)
        if value is None:
            continue
        model, kind = LINK_MODELS[field]
        if known is not None and (workspace_id, model, value) in known:
            continue
        found = db.session.execute(
            select(model.id).where(model.id == value, model.workspace_id == workspace_id)
        ).first()
        if found is None:
            errors[field] = [f"No {kind} with id {value!r} in this workspace."]
        elif known is not None:
            known.add((workspace_id, model, value))
    return errors


def check_contact_ids(workspace_id: str, ids: list[str], field: str = "attendees") -> dict[str, list[str]]:
    if not ids:
        return {}
    known = _known_links.get()
    unknown = {i for i in ids if known is None or (workspace_id, Contact, i) not in known}
    found = set(
        db.session.execute(
            select(Contact.id).where(Contact.workspace_id == workspace_id, Contact.id.in_(unknown))
        ).scalars()
    ) if unknown else set()
    if known is not None:
        known.update((workspace_id, Contact, i) for i in found)
    missing = [i for i in ids if i in unknown and i not in found]
    if missing:
        return {field: [f"No contact with id {i!r} in this workspace." for i in missing[:10]]}
    return {}


def _resolve_name(workspace_id: str, model, query: str, field: str) -> str:
    """The id of the one record whose name matches `query` (SPEC §3, name resolution)."""
    wanted = normalize_to(query, model.name_norm.type.length)
    base = select(model.id, model.name).where(model.workspace_id == workspace_id)
    exact = db.session.execute(
        base.where(model.name_norm == wanted).order_by(model.id).limit(MAX_CANDIDATES + 1)
    ).all()
    if len(exact) == 1:
        return exact[0].id
    if exact:
        rows = exact
    else:
        words = wanted.split()
        cond = and_(*(model.name_norm.contains(w, autoescape=True) for w in words))
        rows = db.session.execute(base.where(cond).order_by(model.name_norm, model.id).limit(MAX_CANDIDATES + 1)).all()
    if not rows:
        kind = LINK_KINDS[model]
        raise ValidationFailed.field(field, f'No {kind} matches "{query}".')
    if len(rows) == 1:
        return rows[0].id
    raise AmbiguousReference(
        field, query, [{"id": r.id, "name": r.name} for r in rows[:MAX_CANDIDATES]]
    )


def resolve_contact_name(workspace_id: str, query: str) -> str:
    return _resolve_name(workspace_id, Contact, query, "contact_name")


def resolve_company_name(workspace_id: str, query: str) -> str:
    return _resolve_name(workspace_id, Company, query, "company_name")


def resolve_deal_name(workspace_id: str, query: str) -> str:
    return _resolve_name(workspace_id, Deal, query, "deal_name")


def find_candidates(workspace_id: str, model, query: str, limit: int = MAX_CANDIDATES) -> list:
    """Records a picker offers for `query`, in one statement: every word of it in the name (the
    name-resolution rule), or the query in a contact's email or a company's domain; an exact
    name first, then by name. Related companies come joined (the models load them eagerly)."""
    wanted = normalize_to(query, model.name_norm.type.length)
    words = wanted.split()
    if not words:
        return []
    matches = [and_(*(model.name_norm.contains(w, autoescape=True) for w in words))]
    if model is Contact:
        matches.append(func.lower(Contact.email).contains(query.strip().lower(), autoescape=True))
    elif model is Company:
        matches.append(Company.domain.contains(query.strip().lower(), autoescape=True))
    stmt = (select(model).where(model.workspace_id == workspace_id, or_(*matches))
            .order_by(case((model.name_norm == wanted, 0), else_=1), model.name_norm, model.id).limit(limit))
    return list(db.session.execute(stmt).unique().scalars())


def records_by_ids(workspace_id: str, model, ids: list[str]) -> list:
    """The records with these ids in the workspace, in the given order (one statement)."""
    if not ids:
        return []
    found = {r.id: r for r in db.session.execute(
        select(model).where(model.workspace_id == workspace_id, model.id.in_(ids))).unique().scalars()}
    return [found[i] for i in ids if i in found]


def resolve_names(workspace_id: str, data: dict) -> dict:
    """Turn `contact_name` / `company_name` into ids; giving a name and its id together is an error."""
    data = dict(data)
    errors: dict[str, list[str]] = {}
    for name_field, id_field in NAME_FIELDS.items():
        if name_field in data and id_field in data:
            errors[name_field] = [f"Give either {name_field} or {id_field}, not both."]
    if errors:
        raise ValidationFailed(errors)
    if "contact_name" in data:
        data["contact_id"] = resolve_contact_name(workspace_id, data.pop("contact_name"))
    if "company_name" in data:
        data["company_id"] = resolve_company_name(workspace_id, data.pop("company_name"))
    return data
