"""Contacts, companies and deals: lists, record pages, create / edit / delete, the record picker, timelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, redirect, request, url_for
from flask_login import current_user

from crm.models import ACTIVITY_TYPES, OPEN_TASK_STATUSES, Company, Contact, Deal
from crm.schemas import CompanyInput, ContactInput, DealInput
from crm.services import accounts, feed, records, tasks
from crm.services.links import find_candidates
from crm.web import bp
from crm.web.activities import log_form_context
from crm.web.forms import PICKERS, FormInvalid, Picks, read_picks, run_service, text_fields
from crm.web.rendering import current_path, is_htmx, list_page, redirect_next, render, safe_next
from crm.web.tasks import quick_add_context
from crm.web.toasts import toast
from crm.web.trash import deleted_toast

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


# --- The record picker (SPEC §14) -------------------------------------------------------

PICKER_LIMIT = 10


def _picker_options(kind: str):
    """The options of a picker's listbox for what was typed (static/picker.js fetches them)."""
    model = PICKERS[kind][0]
    query = (request.args.get("q") or "").strip()[:200]
    if kind == "owner":
        found = accounts.find_users(_workspace_id(), query, PICKER_LIMIT)
    else:
        found = find_candidates(_workspace_id(), model, query, PICKER_LIMIT) if query else []
    return render("records/_picker_options.html", kind=kind, records=found, query=query)


@bp.get("/contacts/picker")
def contact_picker():
    return _picker_options("contact")


@bp.get("/companies/picker")
def company_picker():
    return _picker_options("company")


@bp.get("/deals/picker")
def deal_picker():
    return _picker_options("deal")


@bp.get("/people/picker")
def owner_picker():
    return _picker_options("owner")


# --- Create, edit, delete ----------------------------------------------------------------

@dataclass(frozen=True)
class RecordForm:
    singular: str  # "contact"
    schema: type
    create: Callable
    update: Callable
    delete: Callable
    text_fields: tuple[str, ...]
    pickers: tuple[str, ...]


RECORD_FORMS = {
    "contacts": RecordForm("contact", ContactInput, records.create_contact, records.update_contact,
                           records.delete_contact, ("first_name", "last_name", "email", "phone"), ("company",)),
    "companies": RecordForm("company", CompanyInput, records.create_company, records.update_company,
                            records.delete_company, ("name", "domain"), ()),
    "deals": RecordForm("deal", DealInput, records.create_deal, records.update_deal, records.delete_deal,
                        ("name", "stage"), ("company", "contact")),
}


def record_title(record) -> str:
    return record.name or f"Unnamed {type(record).__name__.lower()}"


def _form_data(kind: str, form) -> tuple[dict, Picks]:
    spec = RECORD_FORMS[kind]
    data = text_fields(form, spec.text_fields)
    if kind == "deals":
        # Blank means none; the schema checks the rest (amount "1500.00", currency "EUR").
        for name in ("amount", "currency", "close_date"):
            if name in form:
                value = form[name].strip()
                data[name] = (value.upper() if name == "currency" else value) or None
    picks = read_picks(form, spec.pickers, _workspace_id())
    data.update(picks.data)
    return data, picks


def _form_context(kind: str, record, form, errors, candidates) -> dict:
    return {"kind": kind, "spec": RECORD_FORMS[kind], "record": record, "form": form, "errors": errors,
            "candidates": candidates, "title": KINDS[kind][3], "inline": is_htmx()}


def _page_url(kind: str, record) -> str:
    return url_for(f"web.{RECORD_FORMS[kind].singular}_page", record_id=record.id)


def _new_record(kind: str):
    """The form for a new record: inline on the list (htmx), or a page of its own."""
    template = "records/_form.html" if is_htmx() else "records/form_page.html"
    return render(template, **_form_context(kind, None, {}, {}, {}))


def _create_record(kind: str):
    spec = RECORD_FORMS[kind]
    data, picks = _form_data(kind, request.form)
    try:
        record = run_service(spec.schema(), data, lambda d: spec.create(_workspace_id(), d), picks=picks)
    except FormInvalid as exc:
        context = _form_context(kind, None, request.form, exc.errors, exc.candidates)
        if is_htmx():
            return render("records/_form.html", status=422, **context,
                          headers={"HX-Retarget": "#record-form", "HX-Reswap": "outerHTML"})
        return render("records/form_page.html", status=422, **context)
    toast(f"Added “{record_title(record)}”.")
    if is_htmx():
        return render("records/_created.html", record=record, kind=kind)
    return redirect(_page_url(kind, record), code=303)


def _edit_record(kind: str, record_id: str):
    """Edit in place on the record page (htmx swaps the page head), or on a page of its own."""
    spec = RECORD_FORMS[kind]
    record = records.get_record(KINDS[kind][0], _workspace_id(), record_id, for_update=request.method == "POST")
    errors: dict = {}
    candidates: dict = {}
    if request.method == "POST":
        data, picks = _form_data(kind, request.form)
        try:
            run_service(spec.schema(), data, lambda d: spec.update(record, d), partial=True, picks=picks)
        except FormInvalid as exc:
            errors, candidates = exc.errors, exc.candidates
        else:
            toast(f"Saved “{record_title(record)}”.")
            if is_htmx():
                return render("records/_head.html", record=record, kind=kind)
            return redirect_next(_page_url(kind, record))
    context = _form_context(kind, record, request.form if request.method == "POST" else {}, errors, candidates)
    status = 422 if errors else 200
    return render("records/_form.html" if is_htmx() else "records/form_page.html", status=status, **context)


def _delete_record(kind: str, record_id: str):
    spec = RECORD_FORMS[kind]
    record = records.get_record(KINDS[kind][0], _workspace_id(), record_id, for_update=request.method == "POST")
    if request.method != "POST":  # GET and HEAD only ask; only a POST deletes
        return render("records/confirm_delete.html", record=record, kind=kind, spec=spec)
    title = record_title(record)
    spec.delete(record)
    deleted_toast(spec.singular, title, record_id, next_url=safe_next(url_for(f"web.{kind}_list")))
    if is_htmx():
        return render("tasks/_deleted.html")
    return redirect_next(url_for(f"web.{kind}_list"))


def _register_record_forms(kind: str) -> None:
    singular = RECORD_FORMS[kind].singular
    bp.add_url_rule(f"/{kind}/new", f"new_{singular}", lambda: _new_record(kind), methods=["GET"])
    bp.add_url_rule(f"/{kind}", f"create_{singular}", lambda: _create_record(kind), methods=["POST"])
    bp.add_url_rule(f"/{kind}/<record_id>/edit", f"edit_{singular}",
                    lambda record_id: _edit_record(kind, record_id), methods=["GET", "POST"])
    bp.add_url_rule(f"/{kind}/<record_id>/delete", f"delete_{singular}",
                    lambda record_id: _delete_record(kind, record_id), methods=["GET", "POST"])


for _kind in RECORD_FORMS:
    _register_record_forms(_kind)
