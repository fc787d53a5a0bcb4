"""Shared record plumbing (lookup, lists, unlinking) and the contact, company and deal rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from crm.database import writes
from crm.extensions import db
from crm.models import Company, Contact, Deal, User, utcnow
from crm.services import trash, webhook_events
from crm.services.errors import AmbiguousReference, ValidationFailed
from crm.services.links import check_links
from crm.services.lookup import check_etag, get_record  # noqa: F401 - other services import them from here
from crm.services.pagination import Page, SortKey, paginate
from crm.services.text import normalize, normalize_to

BACKFILL_PAST = timedelta(days=5 * 365)
BACKFILL_FUTURE = timedelta(hours=24)


def backfill_created_at(given: datetime | None) -> datetime:
    """A given created_at is kept within the last 5 years and at most 24 h ahead, else now."""
    now = utcnow()
    if given is not None and now - BACKFILL_PAST <= given <= now + BACKFILL_FUTURE:
        return given
    return now


def require_links(workspace_id: str, data: dict, fields: tuple[str, ...]) -> None:
    errors = check_links(workspace_id, data, fields)
    if errors:
        raise ValidationFailed(errors)


def apply_fields(record, data: dict, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in data:
            setattr(record, "meta" if name == "metadata" else name, data[name])


def config_flag(name: str) -> bool:
    return bool(current_app.config.get(name))


# --- Companies -------------------------------------------------------------------------

COMPANY_FIELDS = ("name", "domain", "metadata")
COMPANY_SORTS = {
    "created_at": SortKey(Company.created_at, kind="datetime"),
    "updated_at": SortKey(Company.updated_at, kind="datetime"),
    "name": SortKey(Company.name_norm),
}


def _fill_company(company: Company, data: dict) -> Company:
    apply_fields(company, data, COMPANY_FIELDS)
    company.name_norm = normalize_to(company.name, Company.name_norm.type.length)
    return company


def build_company(workspace_id: str, data: dict, *, record_id: str | None = None) -> Company:
    """A new company, not yet added to the session (the importer saves many per commit)."""
    company = Company(workspace_id=workspace_id, meta={})
    if record_id:
        company.id = record_id
    return _fill_company(company, data)


@writes
def create_company(workspace_id: str, data: dict) -> Company:
    company = build_company(workspace_id, data)
    db.session.add(company)
    webhook_events.emit("company.created", company)
    db.session.commit()
    return company


@writes
def update_company(company: Company, data: dict, if_match: str | None = None) -> Company:
    check_etag(company, if_match)
    before = webhook_events.snapshot(company)
    _fill_company(company, data)
    webhook_events.emit("company.updated", company, before)
    db.session.commit()
    return company


@writes
def delete_company(company: Company, if_match: str | None = None) -> None:
    check_etag(company, if_match)
    trash.move_to_trash(company)
    db.session.commit()


def list_companies(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    stmt = select(Company).where(Company.workspace_id == workspace_id)
    if params.get("q"):
        q = normalize(params["q"])
        stmt = stmt.where(or_(Company.name_norm.contains(q, autoescape=True),
                              Company.domain.contains(q, autoescape=True)))
    if params.get("domain"):
        stmt = stmt.where(Company.domain == params["domain"].lower())
    return _page(stmt, Company, COMPANY_SORTS, params, rows=rows)


# --- Contacts --------------------------------------------------------------------------

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "company_id", "metadata")
CONTACT_SORTS = {
    "created_at": SortKey(Contact.created_at, kind="datetime"),
    "updated_at": SortKey(Contact.updated_at, kind="datetime"),
    "name": SortKey(Contact.name_norm),
}


def contact_display_name(first: str | None, last: str | None) -> str | None:
    return " ".join(p for p in (first, last) if p) or None


def _fill_contact(contact: Contact, data: dict) -> Contact:
    require_links(contact.workspace_id, data, ("company_id",))
    apply_fields(contact, data, CONTACT_FIELDS)
    contact.name = contact_display_name(contact.first_name, contact.last_name)
    contact.name_norm = normalize_to(contact.name, Contact.name_norm.type.length)
    return contact


def _save_contact(contact: Contact, data: dict, event: str, before: dict | None = None) -> Contact:
    _fill_contact(contact, data)
    db.session.add(contact)
    webhook_events.emit(event, contact, before)
    db.session.commit()
    return contact


def build_contact(workspace_id: str, data: dict, *, record_id: str | None = None) -> Contact:
    """A new contact, not yet added to the session (the importer saves many per commit)."""
    contact = Contact(workspace_id=workspace_id, meta={})
    if record_id:
        contact.id = record_id
    return _fill_contact(contact, data)


@writes
def create_contact(workspace_id: str, data: dict) -> Contact:
    return _save_contact(Contact(workspace_id=workspace_id, meta={}), data, "contact.created")


@writes
def update_contact(contact: Contact, data: dict, if_match: str | None = None) -> Contact:
    check_etag(contact, if_match)
    return _save_contact(contact, data, "contact.updated", webhook_events.snapshot(contact))


@writes
def delete_contact(contact: Contact, if_match: str | None = None) -> None:
    check_etag(contact, if_match)
    trash.move_to_trash(contact)
    db.session.commit()


def list_contacts(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    stmt = select(Contact).where(Contact.workspace_id == workspace_id)
    if params.get("q"):
        q = normalize(params["q"])
        stmt = stmt.where(or_(Contact.name_norm.contains(q, autoescape=True),
                              Contact.email.contains(q, autoescape=True)))
    if params.get("company_id"):
        stmt = stmt.where(Contact.company_id == params["company_id"])
    if params.get("email"):
        stmt = stmt.where(Contact.email == params["email"])
    return _page(stmt, Contact, CONTACT_SORTS, params, rows=rows)


# --- Deals -----------------------------------------------------------------------------

DEAL_FIELDS = ("name", "stage", "amount", "currency", "close_date", "company_id", "contact_id", "metadata")
DEAL_SORTS = {
    "created_at": SortKey(Deal.created_at, kind="datetime"),
    "updated_at": SortKey(Deal.updated_at, kind="datetime"),
    "name": SortKey(Deal.name_norm),
    "close_date": SortKey(Deal.close_date, nullable=True, kind="date"),
}


def _fill_deal(deal: Deal, data: dict) -> Deal:
    require_links(deal.workspace_id, data, ("company_id", "contact_id"))
    apply_fields(deal, data, DEAL_FIELDS)
    deal.name_norm = normalize_to(deal.name, Deal.name_norm.type.length)
    return deal


def _save_deal(deal: Deal, data: dict, event: str, before: dict | None = None) -> Deal:
    _fill_deal(deal, data)
    db.session.add(deal)
    webhook_events.emit(event, deal, before)
    db.session.commit()
    return deal


def build_deal(workspace_id: str, data: dict, *, record_id: str | None = None) -> Deal:
    """A new deal, not yet added to the session (the importer saves many per commit)."""
    deal = Deal(workspace_id=workspace_id, meta={})
    if record_id:
        deal.id = record_id
    return _fill_deal(deal, data)


@writes
def create_deal(workspace_id: str, data: dict) -> Deal:
    return _save_deal(Deal(workspace_id=workspace_id, meta={}), data, "deal.created")


@writes
def update_deal(deal: Deal, data: dict, if_match: str | None = None) -> Deal:
    check_etag(deal, if_match)
    return _save_deal(deal, data, "deal.updated", webhook_events.snapshot(deal))


@writes
def delete_deal(deal: Deal, if_match: str | None = None) -> None:
    check_etag(deal, if_match)
    trash.move_to_trash(deal)
    db.session.commit()


def list_deals(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    stmt = select(Deal).where(Deal.workspace_id == workspace_id)
    if params.get("q"):
        stmt = stmt.where(Deal.name_norm.contains(normalize(params["q"]), autoescape=True))
    for field in ("company_id", "contact_id", "stage"):
        if params.get(field):
            stmt = stmt.where(getattr(Deal, field) == params[field])
    return _page(stmt, Deal, DEAL_SORTS, params, rows=rows)


# --- Users -----------------------------------------------------------------------------

USER_SORTS = {
    "created_at": SortKey(User.created_at, kind="datetime"),
    "name": SortKey(User.name),
    "email": SortKey(User.email),
}


def list_users(workspace_id: str, params: dict, *, rows: bool = False) -> Page:
    stmt = select(User).where(User.workspace_id == workspace_id)
    if params.get("q"):
        q = params["q"].lower()
        stmt = stmt.where(or_(User.name.ilike(f"%{q}%"), User.email.contains(q, autoescape=True)))
    return _page(stmt, User, USER_SORTS, params, default_sort="created_at", rows=rows)


def _page(stmt, model, keys: dict[str, SortKey], params: dict[str, Any], default_sort: str = "-created_at",
          *, rows: bool = False) -> Page:
    return paginate(
        stmt,
        sort=params.get("sort") or default_sort,
        keys=keys,
        id_column=model.id,
        cursor=params.get("cursor"),
        limit=params.get("limit", 50),
        include_total=params.get("include_total", False),
        rows=rows,
        filters=params,
    )


def in_one_transaction(items: list, add) -> list:
    """`add(item)` for each item in the open transaction, then one commit; nothing is kept if any
    item fails. Field errors of every item are gathered, each field named `items.<index>.<field>`;
    an ambiguous name stops at once, its field named the same way."""
    results: list = []
    errors: dict[str, list[str]] = {}
    try:
        for index, item in enumerate(items):
            try:
                # An item that fails adds nothing to the session: the rules run before the add.
                results.append(add(item))
            except ValidationFailed as err:
                for name, messages in err.details.items():
                    errors[f"items.{index}.{name}"] = list(messages)
            except AmbiguousReference as err:
                err.field = f"items.{index}.{err.field}"
                raise
        if errors:
            raise ValidationFailed(errors, message="Some items have invalid fields; nothing was created.")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return results
