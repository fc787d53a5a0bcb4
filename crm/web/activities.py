"""The activity log: newest first, grouped by day, filters, logging and inline edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import groupby

from flask import request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from crm.models import ACTIVITY_TYPES, Contact
from crm.schemas import ActivityInput, ActivityUpdate
from crm.services import accounts, activities
from crm.services.errors import AmbiguousReference, NotFound, ValidationFailed
from crm.services.links import records_by_ids, resolve_contact_name
from crm.services.records import get_record
from crm.web import bp
from crm.web.forms import (
    FormInvalid,
    choice_fields,
    datetime_fields,
    prelinked,
    read_picks,
    run_service,
    text_fields,
)
from crm.web.rendering import is_htmx, list_page, redirect_next, render, safe_next
from crm.web.timezones import local_days_utc, parse_local_date, to_local
from crm.web.toasts import toast
from crm.web.trash import deleted_toast

LOG_TARGETS = ("#just-logged-list", "#record-timeline")


def _workspace_id() -> str:
    return current_user.workspace_id


@dataclass
class ActivityFilters:
    type: str = ""
    contact_id: str = ""
    contact_query: str = ""
    owner: str = "any"  # "any", "me", or a user id
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    problem: str = ""
    candidates: list = field(default_factory=list)  # an ambiguous contact name's matches

    @classmethod
    def from_args(cls, args: MultiDict) -> ActivityFilters:
        kind = args.get("type", "")
        filters = cls(
            type=kind if kind in ACTIVITY_TYPES else "",
            contact_id=(args.get("contact_id") or "").strip()[:64],
            contact_query=(args.get("contact_query") or "").strip()[:200],
            owner=(args.get("owner") or "any").strip()[:64],
            date_from=parse_local_date(args.get("from")),
            date_to=parse_local_date(args.get("to")),
            q=(args.get("q") or "").strip()[:200],
        )
        filters.resolve_contact()
        return filters

    def resolve_contact(self) -> None:
        """Typed text without a picked contact (no JavaScript): resolve the name like the API does."""
        if self.contact_id and self.contact_query:
            try:
                contact = get_record(Contact, _workspace_id(), self.contact_id)
            except NotFound:
                contact = None
            if contact is not None and contact.name == self.contact_query:
                return
            self.contact_id = ""
        if self.contact_query and not self.contact_id:
            try:
                self.contact_id = resolve_contact_name(_workspace_id(), self.contact_query)
            except ValidationFailed:
                self.problem = f'No contact matches "{self.contact_query}".'
            except AmbiguousReference as exc:
                self.problem = f"“{self.contact_query}” matches several contacts: choose one."
                self.candidates = records_by_ids(_workspace_id(), Contact, [c["id"] for c in exc.candidates])
        elif not self.contact_query:
            self.contact_id = ""

    def url_for_contact(self, contact) -> str:
        """This filter with `contact` picked (the choice offered for an ambiguous name)."""
        return url_for("web.activity_list", **{**self.url_args(), "contact_id": contact.id,
                                              "contact_query": contact.name or ""})

    def url_args(self) -> dict:
        args = {
            "type": self.type, "contact_id": self.contact_id, "contact_query": self.contact_query,
            "owner": "" if self.owner == "any" else self.owner, "q": self.q,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in args.items() if v}

    def service_params(self, user) -> dict:
        params: dict = {}
        if self.type:
            params["type"] = [self.type]
        if self.contact_id:
            params["contact_id"] = self.contact_id
        if self.owner == "me":
            params["owner_id"] = user.id
        elif self.owner != "any":
            params["owner_id"] = self.owner
        after, before = local_days_utc(self.date_from, self.date_to)
        if after is not None:
            params["after"] = after
        if before is not None:
            params["before"] = before
        if self.q:
            params["q"] = self.q
        if self.problem:
            params["contact_id"] = "cont_none"  # an unresolvable contact filter shows nothing
        return params


def group_by_day(items) -> list[tuple[date, list]]:
    """Entries under the day they happened, in the user's time zone."""
    return [(day, list(group)) for day, group in groupby(items, key=lambda a: to_local(a.occurred_at).date())]


def log_form_context(target: str = "#just-logged-list", links: dict | None = None, next_url: str = "") -> dict:
    return {"target": target, "links": links or {}, "next": next_url}


@bp.get("/activities")
def activity_list():
    filters = ActivityFilters.from_args(request.args)
    page = list_page(partial(activities.list_activities, rows=True), filters.service_params(current_user))
    cursor = request.args.get("cursor")
    more_url = None
    if page.next_cursor:
        last_day = to_local(page.items[-1].occurred_at).date().isoformat()
        more_url = url_for("web.activity_list", **filters.url_args(), cursor=page.next_cursor, day=last_day)
    context = {
        "page": page, "days": group_by_day(page.items), "filters": filters, "more_url": more_url,
        "continued_day": parse_local_date(request.args.get("day")) if cursor else None,
    }
    if is_htmx():
        return render("activities/_more.html" if cursor else "activities/_results.html", **context)
    return render("activities/index.html", users=accounts.workspace_users(_workspace_id()),
                  types=ACTIVITY_TYPES, log_form=log_form_context(), errors={}, form={}, **context)


ACTIVITY_PICKERS = ("contact", "company", "deal")


def _activity_form_data(form: MultiDict) -> dict:
    return {
        **text_fields(form, ("subject", "body")),
        **choice_fields(form, ("type",)),
        **datetime_fields(form, ("occurred_at",)),
    }


BLANK_ACTIVITY = "Say what happened: give a subject or some notes (or pick a contact)."


def _refuse_blank(form: MultiDict, links: dict | None = None) -> None:
    """A log entry a person types must say something: a subject, notes, or whom it was with."""
    said = any((form.get(name) or "").strip()
               for name in ("subject", "body", "contact_query", "contact_id", "contact_pick"))
    if not said and not links:
        raise FormInvalid({"subject": [BLANK_ACTIVITY]})


@bp.get("/activities/new")
def new_activity():
    return render("activities/new.html", types=ACTIVITY_TYPES, log_form=log_form_context(), errors={}, form={})


@bp.post("/activities")
def log_activity():
    form = request.form
    data = _activity_form_data(form)
    links, target = prelinked(form, data, LOG_TARGETS, "#just-logged-list")
    log_form = log_form_context(target, links, form.get("next", ""))
    picks = read_picks(form, ACTIVITY_PICKERS, _workspace_id())
    data.update(picks.data)
    try:
        _refuse_blank(form, links)
        activity, _created = run_service(
            ActivityInput(), data, lambda d: activities.log_activity(_workspace_id(), current_user.id, d), picks=picks)
    except FormInvalid as exc:
        if is_htmx():
            return render("activities/_log_form.html", status=422, log_form=log_form, errors=exc.errors,
                          candidates=exc.candidates, form=form, types=ACTIVITY_TYPES,
                          headers={"HX-Retarget": "#log-activity", "HX-Reswap": "outerHTML"})
        return render("activities/new.html", status=422, types=ACTIVITY_TYPES, log_form=log_form,
                      errors=exc.errors, candidates=exc.candidates, form=form)
    toast(f"Logged “{activity.subject or activity.type.replace('_', ' ')}”.")
    if is_htmx():
        return render("activities/_logged.html", activity=activity, log_form=log_form, errors={}, form={},
                      types=ACTIVITY_TYPES)
    return redirect_next(url_for("web.activity_list"))


@bp.get("/activities/<activity_id>")
def activity_page(activity_id: str):
    """The activity, and the tasks that follow it up or prepare it (SPEC §11)."""
    from crm.services import tasks
    from crm.web.tasks import quick_add_context

    activity = activities.get_activity(_workspace_id(), activity_id)
    linked = tasks.list_tasks(_workspace_id(), {"activity_id": activity.id, "sort": "due_at", "limit": 200})
    here = url_for("web.activity_page", activity_id=activity.id)
    return render("activities/detail.html", activity=activity, linked_tasks=linked.items,
                  quick_add=quick_add_context("#record-tasks", {"activity_id": activity.id}, here))


@bp.get("/activities/<activity_id>/entry")
def activity_entry(activity_id: str):
    activity = activities.get_activity(_workspace_id(), activity_id)
    if not is_htmx():
        return redirect_next(url_for("web.activity_list"))
    return render("activities/_entry.html", activity=activity)


@bp.route("/activities/<activity_id>/edit", methods=["GET", "POST"])
def edit_activity(activity_id: str):
    activity = activities.get_activity(_workspace_id(), activity_id, for_update=request.method == "POST")
    errors: dict = {}
    candidates: dict = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        data = _activity_form_data(request.form)
        picks = read_picks(request.form, ACTIVITY_PICKERS, _workspace_id())
        data.update(picks.data)
        try:
            _refuse_blank(request.form, {k: v for k in ("company_id", "deal_id") if (v := getattr(activity, k))})
            run_service(ActivityUpdate(), data, lambda d: activities.update_activity(activity, d),
                        partial=True, picks=picks)
        except FormInvalid as exc:
            errors, candidates = exc.errors, exc.candidates
        else:
            toast("Activity saved.")
            if is_htmx():
                return render("activities/_entry.html", activity=activity)
            return redirect_next(url_for("web.activity_list"))
    status = 422 if errors else 200
    template = "activities/_entry_form.html" if is_htmx() else "activities/edit.html"
    return render(template, status=status, activity=activity, form=form, errors=errors, candidates=candidates,
                  types=ACTIVITY_TYPES)


@bp.route("/activities/<activity_id>/delete", methods=["GET", "POST"])
def delete_activity(activity_id: str):
    activity = activities.get_activity(_workspace_id(), activity_id, for_update=request.method == "POST")
    if request.method != "POST":  # GET and HEAD only ask; only a POST deletes
        return render("activities/confirm_delete.html", activity=activity)
    activities.delete_activity(activity)
    deleted_toast("activity", activity.subject or activity.type.capitalize(), activity.id,
                  next_url=safe_next(url_for("web.activity_list")))
    if is_htmx():
        return render("tasks/_deleted.html")
    return redirect_next(url_for("web.activity_list"))
