"""Form posts turned into the service layer's input, and its failures into inline form errors.

Shape checks come from the Marshmallow input schemas in crm/schemas.py and the rules from the
services; this module only translates between HTML form fields and those inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from crm.models import Contact
from crm.services.errors import AmbiguousReference, NotFound, ValidationFailed
from crm.services.records import get_record
from crm.web.timezones import local_input_to_rfc3339

# Error keys from schemas and services, and the form field that shows them.
ERROR_FIELD = {"contact_name": "contact", "contact_id": "contact", "company_name": "company", "_schema": "form"}

Errors = dict[str, list[str]]


class FormInvalid(Exception):
    def __init__(self, errors: Errors):
        super().__init__("The form has errors.")
        self.errors = errors


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


def run_service(schema: Schema, data: dict, action: Callable[[dict], Any], *, partial: bool = False) -> Any:
    """Load `data` through the schema and hand it to the service; failures become FormInvalid."""
    try:
        loaded = schema.load(data, partial=partial)
        return action(loaded)
    except (ValidationError, ValidationFailed, AmbiguousReference) as exc:
        from crm.extensions import db

        db.session.rollback()
        raise FormInvalid(errors_from(exc)) from exc


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


def contact_link(form: MultiDict, workspace_id: str) -> dict:
    """The contact picker: a picked id, or else the typed name for the service to resolve.

    Fields: `contact_id` (picked or pre-linked), `contact_query` (the text box). A blank text box
    clears the link; text that is still the picked contact's name keeps the picked id.
    """
    if "contact_query" not in form:
        picked = form.get("contact_id", "").strip()
        return {"contact_id": picked} if picked else {}
    query = form.get("contact_query", "").strip()
    picked = form.get("contact_id", "").strip()
    if not query:
        return {"contact_id": None}
    if picked:
        try:
            contact = get_record(Contact, workspace_id, picked)
        except NotFound:
            contact = None
        if contact is not None and (contact.name or "") == query:
            return {"contact_id": picked}
    return {"contact_name": query}


LINK_FIELDS = ("contact_id", "company_id", "deal_id", "activity_id")


def prelinked(form: MultiDict, data: dict, targets: tuple[str, ...], default_target: str) -> tuple[dict, str]:
    """The hidden link ids of a pre-linked form (added to `data`; a contact picker on the form
    decides the contact itself), and the list on the page the new row goes to."""
    links = {name: form[name] for name in LINK_FIELDS if form.get(name)}
    data.update({k: v for k, v in links.items() if k != "contact_id" or "contact_query" not in form})
    target = form.get("target") if form.get("target") in targets else default_target
    return links, target
