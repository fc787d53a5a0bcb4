"""Contacts, companies and deals: searchable lists, record pages, the contact picker, timelines."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from crm.models import ACTIVITY_TYPES, OPEN_TASK_STATUSES, Company, Contact, Deal
from crm.services import feed, records, tasks
from crm.web import bp
from crm.web.activities import log_form_context
from crm.web.rendering import current_path, is_htmx, list_page, render
from crm.web.tasks import quick_add_context

PICKER_LIMIT = 8
TIMELINE_LIMIT = 25
TIMELINE_FILTERS = ("contact_id", "company_id", "deal_id")

KINDS = {
    # kind: (model, list service, link field, plural title, record page template)
    "contacts": (Contact, records.list_contacts, "contact_id", "Contacts", "records/contact.html"),
    "companies": (Company, records.list_companies, "company_id", "Companies", "records/company.html"),
    "deals": (Deal, records.list_deals, "deal_id", "Deals", "records/deal.html"),
}


def _workspace_id() -> str:
    return current_user.workspace_id


def _record_list(kind: str):
    _model, list_records, _field, title, _template = KINDS[kind]
    q = (request.args.get("q") or "").strip()[:200]
    page = list_page(list_records, {"sort": "name", "q": q} if q else {"sort": "name"})
    more_url = url_for(f"web.{kind}_list", q=q or None, cursor=page.next_cursor) if page.next_cursor else None
    context = {"kind": kind, "title": title, "page": page, "q": q, "more_url": more_url}
    if is_htmx():
        return render("records/_more.html" if request.args.get("cursor") else "records/_results.html", **context)
    return render("records/list.html", **context)


@bp.get("/contacts")
def contacts_list():
    return _record_list("contacts")


@bp.get("/companies")
def companies_list():
    return _record_list("companies")


@bp.get("/deals")
def deals_list():
    return _record_list("deals")


def _record_page(kind: str, record_id: str):
    model, _list, field, _title, template = KINDS[kind]
    record = records.get_record(model, _workspace_id(), record_id)
    open_tasks = tasks.list_tasks(_workspace_id(), {
        field: record.id, "status": list(OPEN_TASK_STATUSES), "sort": "due_at", "limit": 100,
    })
    timeline = feed.feed(_workspace_id(), {field: record.id, "limit": TIMELINE_LIMIT})
    links = {field: record.id}
    more_url = None
    if timeline.next_cursor:
        more_url = url_for("web.timeline", cursor=timeline.next_cursor, **links)
    return render(
        template, record=record, kind=kind, open_tasks=open_tasks, timeline=timeline, timeline_more_url=more_url,
        quick_add=quick_add_context("#record-tasks", links, current_path()),
        log_form=log_form_context("#record-timeline", links, current_path()),
        types=ACTIVITY_TYPES, errors={}, form={},
    )


@bp.get("/contacts/<record_id>")
def contact_page(record_id: str):
    return _record_page("contacts", record_id)


@bp.get("/companies/<record_id>")
def company_page(record_id: str):
    return _record_page("companies", record_id)


@bp.get("/deals/<record_id>")
def deal_page(record_id: str):
    return _record_page("deals", record_id)


@bp.get("/timeline")
def timeline():
    """More of a record's timeline (the "load more" of a record page)."""
    links = {name: request.args[name][:64] for name in TIMELINE_FILTERS if request.args.get(name)}
    if len(links) != 1 or not request.args.get("cursor"):
        abort(400)
    page = list_page(feed.feed, links, limit=TIMELINE_LIMIT)
    more_url = url_for("web.timeline", cursor=page.next_cursor, **links) if page.next_cursor else None
    context = {"timeline": page, "timeline_more_url": more_url}
    if is_htmx():
        return render("records/_timeline_more.html", **context)
    return render("records/timeline.html", **context)


@bp.get("/contacts/picker")
def contact_picker():
    """Search-as-you-type for the contact field of task and activity forms."""
    query = (request.args.get("contact_query") or "").strip()[:200]
    contacts = []
    if query:
        contacts = records.list_contacts(_workspace_id(), {"q": query, "sort": "name", "limit": PICKER_LIMIT}).items
    return render("records/_picker_results.html", contacts=contacts, query=query)
