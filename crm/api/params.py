"""Query parameters of the list endpoints, as schemas (so the OpenAPI document shows them too)."""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, fields, validate

from crm import models as m
from crm.fields import Text, UtcDateTime
from crm.schemas import ID_PREFIXES, ULID_PATTERN, id_format


class CommaList(fields.Field):
    """`status=pending,in_progress`: a comma-separated list of enum values."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        items = [v.strip() for v in value.split(",")]
        wrong = [v for v in items if v not in self.choices]
        if wrong or not items:
            raise self.make_error("invalid_choice", wrong=", ".join(repr(v) for v in wrong))
        return list(dict.fromkeys(items))

    default_error_messages = {
        "invalid": "Not a valid list.",
        "invalid_choice": "Unknown value {wrong}.",
    }


class QueryInteger(fields.Integer):
    """A whole number written in plain ASCII digits (`limit=50`), not `5.0`, `+5` or `٥`."""

    digits = re.compile(r"^-?[0-9]{1,12}$")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.digits.match(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class QueryBool(fields.Field):
    """`true` or `false`, nothing else."""

    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false"):
            return value == "true"
        raise self.make_error("invalid")


def _sorts(names):
    return [n for name in names for n in (name, f"-{name}")]


def _id(kind: str):
    return fields.String(validate=id_format(kind), metadata={
        "description": f"Only records linked to this {kind} (an id of your workspace; another workspace's "
                       "id matches nothing)."})


def _sort(names, default: str):
    return fields.String(validate=validate.OneOf(_sorts(names)), metadata={
        "description": f"The order: one field, `-` first for descending; ties are broken by id and nulls "
                       f"come last either way. Default `{default}`."})


class UserRef(fields.String):
    """A user id, or `me`: the API key's user (`load_query` puts the key's user id in its place)."""

    ME = "me"

    def __init__(self, **kwargs):
        pattern = f"^(?:{self.ME}|{ID_PREFIXES['user']}_{ULID_PATTERN})$"
        super().__init__(validate=validate.Regexp(pattern, error="Not a valid user id (or `me`)."),
                         metadata={"description": "A user id, or `me` for the API key's own user."},
                         **kwargs)


def _text(max_len: int):
    return Text(validate=validate.Length(min=1, max=max_len))


class PageParams(Schema):
    """What every cursor-paged list takes."""

    class Meta:
        unknown = RAISE

    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200),
                         metadata={"description": "Items per page, 1–200."})
    cursor = _text(2000)
    include_total = QueryBool(load_default=False, metadata={
        "description": "`true` adds `total`, the number of matching records (costs a count)."})


class ListParams(PageParams):
    q = Text(validate=validate.Length(max=200), allow_none=True)


class TaskListParams(ListParams):
    sort = _sort(("due_at", "priority", "created_at", "updated_at", "title"), "-created_at")
    status = CommaList(m.TASK_STATUSES)
    priority = CommaList(m.PRIORITIES)
    type = CommaList(m.TASK_TYPES)
    owner_id = UserRef()
    contact_id = _id("contact")
    company_id = _id("company")
    deal_id = _id("deal")
    created_by = UserRef()
    activity_id = _id("activity")
    due_before = UtcDateTime()
    due_after = UtcDateTime()
    overdue = QueryBool(metadata={"description": "`true`: due in the past and still pending or in progress; "
                                                 "`false`: every other task."})
    tag = _text(50)


class ActivityListParams(ListParams):
    sort = _sort(("occurred_at", "created_at"), "-occurred_at")
    type = CommaList(m.ACTIVITY_TYPES)
    status = CommaList(m.ACTIVITY_STATUSES)
    direction = CommaList(m.DIRECTIONS)
    outcome = CommaList(m.OUTCOMES)
    subtype = _text(50)
    source = _text(50)
    external_id = _text(255)
    contact_id = _id("contact")
    company_id = _id("company")
    deal_id = _id("deal")
    owner_id = UserRef()
    after = UtcDateTime()
    before = UtcDateTime()


class FeedParams(PageParams):
    contact_id = _id("contact")
    company_id = _id("company")
    deal_id = _id("deal")
    owner_id = UserRef()
    after = UtcDateTime()
    before = UtcDateTime()


class CompanyListParams(ListParams):
    sort = _sort(("created_at", "updated_at", "name"), "-created_at")
    domain = _text(255)


class ContactListParams(ListParams):
    sort = _sort(("created_at", "updated_at", "name"), "-created_at")
    company_id = _id("company")
    email = _text(320)


class DealListParams(ListParams):
    sort = _sort(("created_at", "updated_at", "name", "close_date"), "-created_at")
    company_id = _id("company")
    contact_id = _id("contact")
    stage = _text(100)


class UserListParams(ListParams):
    sort = _sort(("created_at", "name", "email"), "created_at")


class TrashListParams(Schema):
    class Meta:
        unknown = RAISE

    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200),
                         metadata={"description": "Items per page, 1–200."})
    cursor = _text(2000)
    kind = CommaList(("task", "activity", "contact", "company", "deal"), metadata={
        "description": "Only these kinds (comma-separated). Without it: every kind the key may read."})


class NotificationListParams(PageParams):
    unread = QueryBool(metadata={"description": "true: only unread ones; false: only read ones."})
