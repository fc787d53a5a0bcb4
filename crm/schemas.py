"""Marshmallow schemas: the single statement of what goes in and out of every resource.

The API loads and dumps with them, the UI and the importer load with them, and the OpenAPI
document is generated from them.
"""

from __future__ import annotations

import re

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from crm import models as m
from crm.fields import (
    SPACE_CLASS_BODY,
    BoundedDate,
    DecimalString,
    Metadata,
    StrictFloat,
    StrictInteger,
    Text,
    UtcDateTime,
)
from crm.services.recurrence import InvalidRule, normalize_rule


class StrictSchema(Schema):
    """Unknown fields are errors; fields listed in READ_ONLY say so."""

    READ_ONLY: tuple[str, ...] = ("id", "created_by", "updated_at", "workspace_id", "relationships")

    class Meta:
        unknown = RAISE

    @pre_load
    def reject_read_only(self, data, **kwargs):
        if isinstance(data, dict):
            errors = {k: ["This field is read-only."] for k in self.READ_ONLY if k in data}
            if errors:
                raise ValidationError(errors)
        return data


def _enum(choices, **kwargs):
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _text(max_len: int, *, required: bool = False, nullable: bool = True, min_len: int | None = None):
    return Text(
        required=required,
        allow_none=nullable and not required,
        validate=validate.Length(min=min_len, max=max_len),
    )


# Id prefixes per kind of record (the models' ids are the prefix, "_", and a ULID).
ID_PREFIXES = {
    "workspace": "ws", "user": "user", "company": "comp", "contact": "cont", "deal": "deal",
    "task": "task", "activity": "act", "notification": "ntf", "webhook": "wh", "webhook_delivery": "whd",
}
ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"


def id_pattern(kind: str) -> str:
    return f"^{ID_PREFIXES[kind]}_{ULID_PATTERN}$"


def id_format(kind: str) -> validate.Regexp:
    """An id of that kind of record: anything else cannot exist, so it is an error right away."""
    return validate.Regexp(id_pattern(kind), error=f"Not a valid {kind} id.")


def each_id(kind: str):
    """Every item is an id of that kind (reported on the list, like a missing record would be)."""
    pattern = re.compile(id_pattern(kind))

    def check(values) -> None:
        bad = [v for v in values if not pattern.match(v)]
        if bad:
            raise ValidationError([f"Not a valid {kind} id: {v!r}." for v in bad[:10]])

    return check


def _link(kind: str, **kwargs):
    return fields.String(allow_none=True, validate=id_format(kind), **kwargs)


class Representation(Schema):
    """What the API sends: dumped, never loaded."""


# --- Output pieces -------------------------------------------------------------------------

class RelatedRecord(Representation):
    type = fields.String(required=True, validate=validate.OneOf(("contact", "company", "deal", "user")))
    id = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)


class Relationships(Representation):
    contact = fields.Nested(RelatedRecord, allow_none=True, required=True)
    company = fields.Nested(RelatedRecord, allow_none=True, required=True)
    deal = fields.Nested(RelatedRecord, allow_none=True, required=True)
    owner = fields.Nested(RelatedRecord, allow_none=True, required=True)


def related(kind: str, record) -> dict | None:
    if record is None:
        return None
    return {"type": kind, "id": record.id, "name": record.name}


def relationships_of(obj) -> dict:
    return {
        "contact": related("contact", obj.contact),
        "company": related("company", obj.company),
        "deal": related("deal", obj.deal),
        "owner": related("user", obj.owner),
    }


# --- Tasks ---------------------------------------------------------------------------------

class Reminder(StrictSchema):
    type = _enum(m.REMINDER_TYPES, required=True)
    before_minutes = StrictInteger(required=True, validate=validate.Range(min=0, max=40320))

    @validates_schema
    def given_whole(self, data, **kwargs):
        # A reminder replaces the last one whole: a PATCH, which loads its body partially (and
        # marshmallow hands that down to nested schemas), still needs both of its fields.
        missing = {name: ["Missing data for required field."] for name, field in self.fields.items()
                   if field.required and name not in data}
        if missing:
            raise ValidationError(missing)


class Recurrence(Text):
    """An RFC 5545 RRULE (SPEC §11), stored normalized: upper-case, FREQ first."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        try:
            return normalize_rule(text)
        except InvalidRule as exc:
            raise ValidationError(str(exc)) from None


RECURRENCE_DOC = ("An RFC 5545 RRULE read from `due_at` in the owner's time zone: FREQ (DAILY, WEEKLY, "
                  "MONTHLY, YEARLY) with INTERVAL, BYDAY, BYMONTHDAY, COUNT or UNTIL. Needs `due_at`.")
DURATION_DOC = "Seconds; with `due_at`, the task is a time block starting at `due_at`."


BATCH_MAX = 100


def batch_of(item: type[Schema], name: str) -> type[Schema]:
    """`{"items": [...]}`: 1 to BATCH_MAX items, each loaded by the single create's schema."""
    return type(name, (StrictSchema,), {
        "items": fields.List(fields.Nested(item), required=True, validate=validate.Length(min=1, max=BATCH_MAX),
                             metadata={"description": f"1 to {BATCH_MAX} records, each as its single create "
                                                      "takes it."}),
    })


class TaskInput(StrictSchema):
    READ_ONLY = StrictSchema.READ_ONLY + ("recurrence_of", "next_task_id", "remind_at", "reminded_at")

    title = _text(255, required=True, min_len=1)
    description = _text(20000)
    type = _enum(m.TASK_TYPES)
    status = _enum(m.TASK_STATUSES)
    priority = _enum(m.PRIORITIES)
    due_at = UtcDateTime(allow_none=True)
    contact_id = _link("contact")
    company_id = _link("company")
    deal_id = _link("deal")
    owner_id = _link("user")
    contact_name = _text(511, nullable=False, min_len=1)
    company_name = _text(255, nullable=False, min_len=1)
    reminder = fields.Nested(Reminder, allow_none=True)
    tags = fields.List(Text(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=20))
    metadata = Metadata()
    completed_at = UtcDateTime(allow_none=True)
    completion_note = _text(2000)
    recurrence = Recurrence(allow_none=True, validate=validate.Length(max=500), metadata={
        "description": RECURRENCE_DOC, "example": "FREQ=WEEKLY;BYDAY=MO"})
    duration = StrictInteger(allow_none=True, validate=validate.Range(min=0, max=604800),
                             metadata={"description": DURATION_DOC})
    activity_id = _link("activity")
    created_at = UtcDateTime()


TaskBatchInput = batch_of(TaskInput, "TaskBatchInput")


class TaskUpdate(TaskInput):
    """PATCH: every create field but `created_at`, which is read-only after creation."""

    READ_ONLY = TaskInput.READ_ONLY + ("created_at",)

    class Meta(StrictSchema.Meta):
        exclude = ("created_at",)


class TaskCompletion(StrictSchema):
    completion_note = _text(2000)
    completed_at = UtcDateTime(allow_none=True)


class EmptyBody(StrictSchema):
    """A body that carries nothing: `{}`, or none at all."""


class TaskOut(Representation):
    id = fields.String(required=True, validate=id_format("task"))
    title = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    type = _enum(m.TASK_TYPES, required=True)
    status = _enum(m.TASK_STATUSES, required=True)
    priority = _enum(m.PRIORITIES, required=True)
    due_at = UtcDateTime(allow_none=True, required=True)
    contact_id = fields.String(allow_none=True, required=True)
    company_id = fields.String(allow_none=True, required=True)
    deal_id = fields.String(allow_none=True, required=True)
    owner_id = fields.String(allow_none=True, required=True)
    reminder = fields.Nested(Reminder, allow_none=True, required=True)
    remind_at = UtcDateTime(allow_none=True, required=True, metadata={
        "description": "When the reminder fires: due_at − reminder.before_minutes (or a snoozed time)."})
    reminded_at = UtcDateTime(allow_none=True, required=True, metadata={
        "description": "When the reminder for this remind_at fired; null while it has not."})
    tags = fields.List(fields.String(), required=True)
    metadata = fields.Dict(attribute="meta", required=True)
    completed_at = UtcDateTime(allow_none=True, required=True)
    completion_note = fields.String(allow_none=True, required=True)
    recurrence = fields.String(allow_none=True, required=True, metadata={"description": RECURRENCE_DOC})
    recurrence_of = fields.String(allow_none=True, required=True, metadata={
        "description": "Read-only: the first task of this task's series (null for the first itself)."})
    next_task_id = fields.String(allow_none=True, required=True, metadata={
        "description": "Read-only: the occurrence that completing this recurring task created."})
    duration = fields.Integer(allow_none=True, required=True, metadata={"description": DURATION_DOC})
    activity_id = fields.String(allow_none=True, required=True)
    created_by = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    relationships = fields.Function(relationships_of, required=True, metadata={"schema": Relationships})


# --- Activities ----------------------------------------------------------------------------

class ActivityInput(StrictSchema):
    type = _enum(m.ACTIVITY_TYPES, required=True)
    subtype = _text(50)
    status = _enum(m.ACTIVITY_STATUSES)
    subject = _text(255)
    body = _text(100000)
    contact_id = _link("contact")
    company_id = _link("company")
    deal_id = _link("deal")
    owner_id = _link("user")
    attendees = fields.List(fields.String(metadata={"pattern": id_pattern("contact")}),
                            validate=[validate.Length(max=100), each_id("contact")])
    occurred_at = UtcDateTime()
    duration = StrictInteger(allow_none=True, validate=validate.Range(min=0, max=604800))
    direction = _enum(m.DIRECTIONS, allow_none=True)
    outcome = _enum(m.OUTCOMES, allow_none=True)
    source = _text(50, nullable=False, min_len=1)
    external_id = _text(255)
    generated_by = _text(100)
    model = _text(100)
    confidence_score = StrictFloat(allow_none=True, validate=validate.Range(min=0, max=1))
    metadata = Metadata()
    created_at = UtcDateTime()


ActivityBatchInput = batch_of(ActivityInput, "ActivityBatchInput")


class ActivityUpdate(ActivityInput):
    READ_ONLY = StrictSchema.READ_ONLY + ("created_at",)

    class Meta(StrictSchema.Meta):
        exclude = ("created_at",)


class ActivityOut(Representation):
    id = fields.String(required=True, validate=id_format("activity"))
    type = _enum(m.ACTIVITY_TYPES, required=True)
    subtype = fields.String(allow_none=True, required=True)
    status = _enum(m.ACTIVITY_STATUSES, required=True)
    subject = fields.String(allow_none=True, required=True)
    body = fields.String(allow_none=True, required=True)
    contact_id = fields.String(allow_none=True, required=True)
    company_id = fields.String(allow_none=True, required=True)
    deal_id = fields.String(allow_none=True, required=True)
    owner_id = fields.String(allow_none=True, required=True)
    attendees = fields.List(fields.String(), required=True)
    occurred_at = UtcDateTime(required=True)
    duration = fields.Integer(allow_none=True, required=True)
    direction = _enum(m.DIRECTIONS, allow_none=True, required=True)
    outcome = _enum(m.OUTCOMES, allow_none=True, required=True)
    source = fields.String(required=True)
    external_id = fields.String(allow_none=True, required=True)
    generated_by = fields.String(allow_none=True, required=True)
    model = fields.String(allow_none=True, required=True)
    confidence_score = fields.Float(allow_none=True, required=True)
    metadata = fields.Dict(attribute="meta", required=True)
    created_by = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    relationships = fields.Function(relationships_of, required=True, metadata={"schema": Relationships})


# --- Companies, contacts, deals, users ----------------------------------------------------

_DOMAIN = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$"
# The same, as the input may be written: any case, surrounding blanks, or blank for none.
DOMAIN_INPUT_PATTERN = (r"^\s*(?:(?=[^\s]{1,253}\s*$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                        r"[A-Za-z][A-Za-z0-9-]{0,62})?\s*$")


class CompanyInput(StrictSchema):
    READ_ONLY = StrictSchema.READ_ONLY + ("created_at",)

    name = _text(255, required=True, min_len=1)
    domain = Text(allow_none=True, validate=validate.Length(max=255), metadata={
        "pattern": DOMAIN_INPUT_PATTERN,
        "description": "A domain name (example.com); trimmed and lower-cased. Blank means null.",
    })
    metadata = Metadata()

    @pre_load
    def lower_domain(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("domain"), str):
            data = {**data, "domain": data["domain"].strip().lower()}
        return data

    @validates("domain")
    def check_domain(self, value, **kwargs):
        if value is not None and not re.match(_DOMAIN, value):
            raise ValidationError("Not a valid domain name (example.com).")


class CompanyOut(Representation):
    id = fields.String(required=True, validate=id_format("company"))
    name = fields.String(required=True)
    domain = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(attribute="meta", required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


# A plain rule that the document can state exactly: something@a.domain.name.
_EMAIL_CORE = (r"[^\s@\x00]{1,64}@(?=[^\s]{1,255}\s*$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
               r"[A-Za-z]{2,63}")
EMAIL = f"^{_EMAIL_CORE}$"
EMAIL_INPUT_PATTERN = rf"^\s*(?:{_EMAIL_CORE})?\s*$"


class ContactInput(StrictSchema):
    READ_ONLY = StrictSchema.READ_ONLY + ("name", "created_at")

    first_name = _text(255)
    last_name = _text(255)
    email = Text(allow_none=True, metadata={"pattern": EMAIL_INPUT_PATTERN, "description": (
        "An email address (name@example.com), trimmed; at most 320 characters. Blank means null.")},
        validate=[validate.Length(max=320), validate.Regexp(EMAIL, error="Not a valid email address.")])
    phone = _text(64)
    company_id = _link("company")
    metadata = Metadata()


class ContactOut(Representation):
    id = fields.String(required=True, validate=id_format("contact"))
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    name = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    company_id = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(attribute="meta", required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class DealInput(StrictSchema):
    READ_ONLY = StrictSchema.READ_ONLY + ("created_at",)

    name = _text(255, required=True, min_len=1)
    stage = _text(100)
    amount = DecimalString(allow_none=True)
    currency = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="Must be an ISO 4217 code like \"EUR\"."))
    close_date = BoundedDate(allow_none=True)
    company_id = _link("company")
    contact_id = _link("contact")
    metadata = Metadata()


class DealOut(Representation):
    id = fields.String(required=True, validate=id_format("deal"))
    name = fields.String(required=True)
    stage = fields.String(allow_none=True, required=True)
    amount = fields.String(allow_none=True, required=True)
    currency = fields.String(allow_none=True, required=True)
    close_date = fields.Date(allow_none=True, required=True)
    company_id = fields.String(allow_none=True, required=True)
    contact_id = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(attribute="meta", required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class UserOut(Representation):
    id = fields.String(required=True, validate=id_format("user"))
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = _enum(m.ROLES, required=True)
    time_zone = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


# --- Notifications -------------------------------------------------------------------------

class NotificationOut(Representation):
    id = fields.String(required=True, validate=id_format("notification"))
    kind = _enum(m.NOTIFICATION_KINDS, required=True)
    task_id = fields.String(allow_none=True, required=True)
    activity_id = fields.String(allow_none=True, required=True)
    title = fields.String(required=True)
    body = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    read_at = UtcDateTime(allow_none=True, required=True)


class ReadAllOut(Representation):
    updated = fields.Integer(required=True, metadata={"description": "How many notifications were unread."})


BULK_ACTIONS = ("complete", "reopen", "delete", "update", "restore")


class BulkTaskInput(StrictSchema):
    ids = fields.List(fields.String(validate=id_format("task")), required=True,
                      validate=validate.Length(min=1, max=500),
                      metadata={"description": "The tasks, at most 500."})
    action = _enum(BULK_ACTIONS, required=True)
    # Partial at its top level only (partial=True would also waive a nested reminder's fields).
    data = fields.Nested(TaskUpdate(partial=tuple(n for n, f in TaskUpdate().fields.items() if f.required)), metadata={
        "description": "For `update` only: the fields to change, exactly as the body of PATCH /tasks/{id}."})


class BulkOut(Representation):
    updated = fields.Integer(required=True, metadata={"description": "How many tasks the action changed."})
    ids = fields.List(fields.String(), required=True, metadata={"description": "Their ids."})


class TrashItemOut(Representation):
    type = fields.String(required=True, validate=validate.OneOf(("task", "activity", "contact", "company", "deal")))
    id = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)
    deleted_at = UtcDateTime(required=True)
    erase_at = UtcDateTime(required=True, metadata={"description": "When the daily purge erases it for good."})


class StrictBoolean(fields.Boolean):
    """A JSON true or false, nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_TIME_OF_DAY = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="A time of day as HH:MM (00:00 to 23:59).")


class ChannelSettingsInput(StrictSchema):
    in_app = StrictBoolean()
    email = StrictBoolean()


class KindSettingsInput(StrictSchema):
    reminder = fields.Nested(ChannelSettingsInput)
    assigned = fields.Nested(ChannelSettingsInput)
    completed_by_other = fields.Nested(ChannelSettingsInput)
    digest = fields.Nested(ChannelSettingsInput)
    webhook_disabled = fields.Nested(ChannelSettingsInput)


class DigestSettingsInput(StrictSchema):
    enabled = StrictBoolean()
    time = fields.String(validate=_TIME_OF_DAY, metadata={"description": "HH:MM in your time zone."})


class NotificationSettingsInput(StrictSchema):
    """PATCH: only what is given changes (any kind, either channel, either digest field)."""

    READ_ONLY = ("email_configured",)

    kinds = fields.Nested(KindSettingsInput)
    digest = fields.Nested(DigestSettingsInput)


class ChannelSettings(Representation):
    in_app = fields.Boolean(required=True)
    email = fields.Boolean(required=True)


class KindSettings(Representation):
    reminder = fields.Nested(ChannelSettings, required=True)
    assigned = fields.Nested(ChannelSettings, required=True)
    completed_by_other = fields.Nested(ChannelSettings, required=True)
    digest = fields.Nested(ChannelSettings, required=True)
    webhook_disabled = fields.Nested(ChannelSettings, required=True)


class DigestSettings(Representation):
    enabled = fields.Boolean(required=True)
    time = fields.String(required=True, metadata={"description": "HH:MM in your time zone."})


class NotificationSettingsOut(Representation):
    kinds = fields.Nested(KindSettings, required=True, metadata={
        "description": "Per kind: in-app on/off and e-mail on/off."})
    digest = fields.Nested(DigestSettings, required=True)
    email_configured = fields.Boolean(required=True, metadata={
        "description": "false: no SMTP server is set up (CRM_SMTP_URL), so no e-mail is sent; in-app "
                       "notifications still are."})


# --- Webhooks (SPEC §12) ---------------------------------------------------------------------

WEBHOOK_EVENTS_DOC = ("Events to send: `*` (all), `task.*`, `activity.*`, `contact.*`, `company.*`, "
                      "`deal.*`, or exact types (`task.created`, `task.updated`, `task.completed`, "
                      "`task.reopened`, `task.deleted`, `activity.created|updated|deleted`, "
                      "`contact|company|deal.created|updated|deleted`).")


def _webhook_events():
    return fields.List(fields.String(validate=validate.OneOf(m.WEBHOOK_EVENT_PATTERNS)), required=True,
                       validate=validate.Length(min=1, max=30, error="Give at least one event (`*` for all), at most 30."),
                       metadata={"description": WEBHOOK_EVENTS_DOC})


# The URL after trimming: http(s)://, a host (no space, NUL, `/?#@`), then a path, query or fragment
# (no space or NUL). Spaces spelled out, as trimming knows them (JSON Schema's \s is not Python's);
# bounded, so that every URL the pattern allows fits in 2048 characters.
_URL_HOST = rf"[^{SPACE_CLASS_BODY}/?#@\x00]{{1,253}}"
_URL_REST = rf"(?:[/?#][^{SPACE_CLASS_BODY}\x00]{{0,1780}})?"
_WEBHOOK_URL = rf"^https?://{_URL_HOST}{_URL_REST}$"


class WebhookInput(StrictSchema):
    READ_ONLY = StrictSchema.READ_ONLY + ("secret", "created_at", "disabled_at")

    url = Text(required=True, validate=[validate.Length(min=1, max=2048), validate.Regexp(
        _WEBHOOK_URL, error="Must be an absolute https:// URL.")], metadata={
        "pattern": rf"^[{SPACE_CLASS_BODY}]*{_WEBHOOK_URL[1:-1]}[{SPACE_CLASS_BODY}]*$",
        "description": "An https:// URL whose host resolves to public addresses only (checked again at "
                       "each delivery); trimmed."})
    events = _webhook_events()
    description = _text(255)
    active = StrictBoolean()


class WebhookUpdate(WebhookInput):
    """PATCH: any of the create fields; `active: true` enables a disabled webhook again."""

    READ_ONLY = WebhookInput.READ_ONLY + ("created_by",)


class WebhookOut(Representation):
    id = fields.String(required=True, validate=id_format("webhook"))
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    disabled_at = UtcDateTime(allow_none=True, required=True, metadata={
        "description": "When deliveries had failed for 3 days and the webhook was disabled."})
    created_by = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(required=True, metadata={
        "description": "The signing secret (`whsec_` + base64), shown only in this answer."})


class WebhookDeliveryOut(Representation):
    id = fields.String(required=True, validate=id_format("webhook_delivery"))
    webhook_id = fields.String(required=True)
    message_id = fields.String(required=True, metadata={
        "description": "The `webhook-id` header: the same on every attempt and on a redelivery."})
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    state = _enum(m.WEBHOOK_DELIVERY_STATES, required=True)
    attempts = fields.Integer(required=True)
    status_code = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The last attempt's HTTP status (null when no answer came)."})
    duration_ms = fields.Integer(allow_none=True, required=True)
    response_body = fields.String(allow_none=True, required=True, metadata={
        "description": "The first 1 KB of the last answer."})
    error = fields.String(allow_none=True, required=True)
    next_attempt_at = UtcDateTime(allow_none=True, required=True)
    last_attempt_at = UtcDateTime(allow_none=True, required=True)
    manual = fields.Boolean(required=True, metadata={"description": "A test ping or a redelivery."})
    created_at = UtcDateTime(required=True)
