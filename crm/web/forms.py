"""Form posts turned into the service layer's input, and its failures into inline form errors.

Shape checks come from the Marshmallow input schemas in crm/schemas.py and the rules from the
services; this module only translates between HTML form fields and those inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from crm.models import Company, Contact, Deal, User
from crm.services.accounts import resolve_user_name
from crm.services.errors import AmbiguousReference, NotFound, ValidationFailed
from crm.services.links import (
    records_by_ids,
    resolve_company_name,
    resolve_contact_name,
    resolve_deal_name,
)
from crm.services.records import get_record
from crm.web.timezones import local_input_to_rfc3339

# Error keys from schemas and services, and the form field that shows them.
ERROR_FIELD = {"contact_name": "contact", "contact_id": "contact", "company_name": "company", "company_id": "company",
               "deal_id": "deal", "_schema": "form"}

Errors = dict[str, list[str]]


class FormInvalid(Exception):
    def __init__(self, errors: Errors, candidates: dict | None = None):
        super().__init__("The form has errors.")
        self.errors = errors
        self.candidates = candidates or {}  # picker kind -> records an ambiguous name matched


def _field_errors(messages: Any) -> Errors:
    errors: Errors = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            field = ERROR_FIELD.get(key, key)
            texts = value if isinstance(value, list) else [value]
            for text in texts:
                if isinstance(text, dict):  # nested (reminder.type...): show on the parent field
                    for nested in _field_errors(text).values():
                        errors.setdefault(field, []).extend(nested)
                else:
                    errors.setdefault(field, []).append(str(text))
    else:
        errors["form"] = [str(messages)]
    return errors


def errors_from(exc: Exception) -> Errors:
    if isinstance(exc, ValidationError):
        return _field_errors(exc.messages)
    if isinstance(exc, ValidationFailed):
        return _field_errors(exc.details)
    if isinstance(exc, AmbiguousReference):
        names = ", ".join(c["name"] or c["id"] for c in exc.candidates)
        return {ERROR_FIELD.get(exc.field, exc.field): [f"{exc.message} Candidates: {names}."]}
    raise TypeError(exc)


def run_service(schema: Schema, data: dict, action: Callable[[dict], Any], *, partial: bool = False,
                picks: Picks | None = None) -> Any:
    """Load `data` through the schema and hand it to the service; failures become FormInvalid.

    Picker problems (`picks`) stop the action, but the schema still reports the other fields, so
    one answer shows everything that needs fixing."""
    from crm.extensions import db

    try:
        loaded = schema.load(data, partial=partial)
        if picks is not None and picks.errors:
            raise FormInvalid(picks.errors, picks.candidates)
        return action(loaded)
    except (ValidationError, ValidationFailed, AmbiguousReference) as exc:
        db.session.rollback()
        errors = errors_from(exc)
        if picks is not None:
            errors = {**errors, **picks.errors}
        raise FormInvalid(errors, picks.candidates if picks else None) from exc


def text_fields(form: MultiDict, names: Iterable[str]) -> dict:
    """Free-text fields as typed (the schema trims; blank means cleared where that is allowed)."""
    return {name: form[name] for name in names if name in form}


def _picked_fields(form: MultiDict, names: Iterable[str], nullable: Iterable[str],
                   convert: Callable[[str], str]) -> dict:
    """Fields where blank means "leave as is", or "clear" for the nullable ones."""
    nullable = set(nullable)
    data = {}
    for name in names:
        if name not in form:
            continue
        value = form[name].strip()
        if value:
            data[name] = convert(value)
        elif name in nullable:
            data[name] = None
    return data


def choice_fields(form: MultiDict, names: Iterable[str], *, nullable: Iterable[str] = ()) -> dict:
    """Select fields, as chosen."""
    return _picked_fields(form, names, nullable, str)


def datetime_fields(form: MultiDict, names: Iterable[str], *, nullable: Iterable[str] = ()) -> dict:
    """datetime-local fields, read in the user's time zone."""
    return _picked_fields(form, names, nullable, local_input_to_rfc3339)


# The record pickers (templates/_macros.html): kind -> model, name resolver, plural.
PICKERS = {
    "contact": (Contact, resolve_contact_name, "contacts"),
    "company": (Company, resolve_company_name, "companies"),
    "deal": (Deal, resolve_deal_name, "deals"),
    "owner": (User, resolve_user_name, "people"),
}


@dataclass
class Picks:
    """What the pickers of a posted form link to, and what they could not decide."""

    data: dict = field(default_factory=dict)  # "contact_id": id or None (cleared)
    errors: Errors = field(default_factory=dict)  # "contact": [message]
    candidates: dict = field(default_factory=dict)  # "contact": [records to choose from]


def read_picks(form: MultiDict, kinds: Iterable[str], workspace_id: str) -> Picks:
    """The pickers' fields, turned into link ids.

    Per kind: `<kind>_query` (the text box), `<kind>_id` (the id the combobox picked, or the
    current link), `<kind>_pick` (a radio among the candidates of an ambiguous name, no
    JavaScript needed). A blank text box clears the link; a chosen radio wins; text that is still
    the picked record's name keeps its id; other text is resolved by name (SPEC §3), and an
    ambiguous name answers with its candidates. A picker that is not on the form changes nothing.
    """
    picks = Picks()
    for kind in kinds:
        model, resolve, plural = PICKERS[kind]
        id_field = f"{kind}_id"
        if f"{kind}_query" not in form:
            continue
        query = form.get(f"{kind}_query", "").strip()
        chosen = form.get(f"{kind}_pick", "").strip()
        picked = form.get(id_field, "").strip()
        if not query:
            picks.data[id_field] = None
        elif chosen:
            picks.data[id_field] = chosen  # the service checks that it exists in the workspace
        elif picked and _still_shown(model, workspace_id, picked, query):
            picks.data[id_field] = picked
        else:
            try:
                picks.data[id_field] = resolve(workspace_id, query[:255])
            except ValidationFailed as exc:
                picks.errors[kind] = [m for messages in exc.details.values() for m in messages]
            except AmbiguousReference as exc:
                picks.errors[kind] = [f"“{query}” matches several {plural}: choose one."]
                picks.candidates[kind] = records_by_ids(workspace_id, model, [c["id"] for c in exc.candidates])
    return picks


def _still_shown(model, workspace_id: str, record_id: str, query: str) -> bool:
    """The picker's text is still what it shows for the picked record (a nameless contact: its email)."""
    try:
        record = get_record(model, workspace_id, record_id)
    except NotFound:
        return False
    return query in {record.name or "", getattr(record, "email", None) or ""} - {""}


LINK_FIELDS = ("contact_id", "company_id", "deal_id", "activity_id")


def prelinked(form: MultiDict, data: dict, targets: tuple[str, ...], default_target: str) -> tuple[dict, str]:
    """The hidden link ids of a pre-linked form (added to `data`), and the list on the page the
    new row goes to. A link that a picker on the form decides is not a pre-link: the fresh form
    after a save must not carry the last record picked."""
    links = {name: form[name] for name in LINK_FIELDS
             if form.get(name) and f"{name.removesuffix('_id')}_query" not in form}
    data.update(links)
    target = form.get("target") if form.get("target") in targets else default_target
    return links, target
