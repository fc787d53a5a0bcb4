"""Schemathesis against the app, in-process: every operation of the OpenAPI document, with every
built-in check, then the stateful phase (create → read → update → complete → delete chains).

Budget: SCHEMATHESIS_MAX_EXAMPLES (default 15) examples per operation in the fuzzing phase, and
SCHEMATHESIS_STATEFUL_EXAMPLES (default 15) scenarios of up to 8 steps; a fixed seed
(SCHEMATHESIS_SEED, default 20260316). Select with `-m fuzz`; docs/api.md shows a longer run.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import delete

from crm.extensions import db, limiter
from crm.models import (
    Activity,
    ActivityAttendee,
    Company,
    Contact,
    Deal,
    IdempotencyKey,
    Task,
    User,
    Webhook,
    WebhookDelivery,
)
from crm.schemas import BULK_ACTIONS, WebhookInput, id_pattern

pytestmark = pytest.mark.fuzz

SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20260316"))
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
STATEFUL_EXAMPLES = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "15"))

# The statuses SPEC gives for requests that are well formed but meet the server's state:
# a stale If-Match (412) and an Idempotency-Key already used with another body (422), on top of
# Schemathesis's own (404 for unknown records, 409 for an idempotent request in progress...).
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]


def _schema_for(app, key: str):
    # The key through the security scheme it belongs to (not as a header on each call), so that the
    # negative and ignored_auth cases that leave it out or replace it really do.
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "auth": {"openapi": {"ApiKeyHeader": {"api_key": key}}},
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED}},
        # The document's own links only: inferred ones guess at ids (a feed item's id is not
        # always a task's), which turns scenarios into 404s.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def seed_records(app) -> None:
    """Start from one contact, company and deal to link to (and nothing else)."""
    with app.app_context():
        for model in (ActivityAttendee, Activity, Task, Deal, Contact, Company, IdempotencyKey, WebhookDelivery,
                      Webhook):
            db.session.execute(delete(model))
        user = db.session.query(User).one()
        company = Company(workspace_id=user.workspace_id, name="Initech", name_norm="initech", meta={})
        db.session.add(company)
        db.session.flush()
        contact = Contact(workspace_id=user.workspace_id, first_name="Ada", last_name="Lovelace",
                          name="Ada Lovelace", name_norm="ada lovelace", company_id=company.id, meta={})
        db.session.add(contact)
        db.session.add(Deal(workspace_id=user.workspace_id, name="Renewal", name_norm="renewal", meta={}))
        db.session.commit()
    limiter.reset()


# Webhook URLs: the fuzzer's hosts do not resolve; each one the document accepts becomes a port
# on 127.0.0.1 where nothing listens (deliveries fail at once and wait for a retry).
FUZZ_WEBHOOK_URL = "http://127.0.0.1:9/fuzz"
WEBHOOK_URL_PATTERN = WebhookInput().fields["url"].metadata["pattern"]


@pytest.fixture
def config_overrides():
    return {"CRM_WEBHOOK_ALLOW_PRIVATE": True, "CRM_WEBHOOK_ALLOW_HTTP": True}


@pytest.fixture
def fuzz_account(app):
    """A workspace with a key holding every scope."""
    from tests.conftest import make_account

    _ws, _user, secret = make_account(app)
    seed_records(app)
    return secret


LINKED = {"contact_id": (Contact, "contact"), "company_id": (Company, "company"), "deal_id": (Deal, "deal"),
          "owner_id": (User, "user"), "activity_id": (Activity, "activity")}
NAMES = {"contact_name": Contact, "company_name": Company}


def realistic_references(app):
    """A `map_case` hook: what a JSON Schema cannot say is that a linked id must exist, that a name
    must match a record, and that a cursor must be one the API issued (SPEC answers 400 otherwise).
    Generated values that the document accepts are swapped for real ones; values the document
    rejects are left alone, so negative cases stay negative."""

    made = [0]

    def existing(model, record_id):
        with app.app_context():
            return db.session.get(model, record_id) is not None

    def fresh(model) -> Contact | Company | Deal:
        """A new record with a name no other record has (the stateful phase deletes the seeded ones)."""
        made[0] += 1
        user = db.session.query(User).order_by(User.id).first()
        if model is Task:
            task = Task(workspace_id=user.workspace_id, title=f"Fuzzed {made[0]:05d}", tags=[], meta={})
            db.session.add(task)
            db.session.commit()
            return task
        if model is Activity:
            activity = Activity(workspace_id=user.workspace_id, type="meeting", status="scheduled", meta={})
            db.session.add(activity)
            db.session.commit()
            return activity
        name = f"Fuzzed {made[0]:05d}"
        fields = {"first_name": "Fuzzed", "last_name": f"{made[0]:05d}", "name": name} if model is Contact \
            else {"name": name}
        record = model(workspace_id=user.workspace_id, name_norm=name.lower(), meta={}, **fields)
        db.session.add(record)
        db.session.commit()
        return record

    def some_id(model):
        with app.app_context():
            found = db.session.query(model.id).order_by(model.id).limit(1).scalar()
            return found or fresh(model).id

    def fresh_id(model):
        with app.app_context():
            return fresh(model).id

    def unique_name(model):
        with app.app_context():
            return fresh(model).name

    def real_id(value, model, kind):
        if isinstance(value, str) and re.match(id_pattern(kind), value) and not existing(model, value):
            return some_id(model)
        return value

    sent = [0]

    def realistic_body(body) -> None:
        """Linked ids, names and rules of a task, activity or record body (also a bulk update's
        data and a batch's items)."""
        if not isinstance(body, dict):
            return
        for field, (model, kind) in LINKED.items():
            if field in body:
                body[field] = real_id(body[field], model, kind)
        if isinstance(body.get("attendees"), list):
            body["attendees"] = [real_id(v, Contact, "contact") for v in body["attendees"]]
        for field, model in NAMES.items():
            value = body.get(field)
            # Only names the document accepts (1-255 characters after trimming, no NUL).
            if isinstance(value, str) and 1 <= len(value.strip()) <= 255 and "\x00" not in value:
                body[field] = unique_name(model)
        url = body.get("url")
        if isinstance(url, str) and re.match(WEBHOOK_URL_PATTERN, url):
            body["url"] = FUZZ_WEBHOOK_URL
        # A rule the document accepts as text must also parse as an RRULE, and it needs a due
        # time: on a PATCH the stored task may have none, so the case brings its own.
        rule = body.get("recurrence")
        if isinstance(rule, str) and 1 <= len(rule.strip()) <= 500 and "\x00" not in rule:
            body["recurrence"] = "FREQ=WEEKLY;BYDAY=MO"
            body["due_at"] = "2026-03-16T09:00:00Z"
        elif "due_at" in body and body["due_at"] is None and "recurrence" not in body:
            body["recurrence"] = None  # clearing the due time of what may be a recurring task
        # Metadata values are free-form in the document (generated clients cannot follow a
        # recursive schema); the server still refuses NUL in any text of them, as documented.
        if isinstance(body.get("metadata"), dict):
            body["metadata"] = {k: _without_nul(v) for k, v in body["metadata"].items()}

    def map_case(context, case):
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("ids"), list) and body.get("action") in BULK_ACTIONS:
            # POST /tasks/bulk: ids the document accepts name existing tasks; `data` goes with
            # `update` only, says something (an empty update is refused), and is fixed up like a PATCH body.
            # A new task for each (a case may run more than once, and a delete trashes its tasks).
            body["ids"] = [fresh_id(Task) if isinstance(v, str) and re.match(id_pattern("task"), v) else v
                           for v in body["ids"]]
            if "data" in body:  # only `update` takes data (a negative `data` stays negative)
                body["action"] = "update"
            if body["action"] == "update" and body.get("data", {}) == {}:
                body["data"] = {"priority": "high"}
            if isinstance(body.get("data"), dict):
                realistic_body(body["data"])
        else:
            realistic_body(body)
            if isinstance(body, dict) and isinstance(body.get("items"), list):  # a batch create
                for item in body["items"]:
                    realistic_body(item)
        cursor = (case.query or {}).get("cursor")
        # Any cursor the document accepts (1-2000 characters, blank ones too: the server refuses
        # those as it refuses every cursor it did not issue).
        if isinstance(cursor, str) and 1 <= len(cursor) <= 2000 and "\x00" not in cursor:
            del case.query["cursor"]
        key = (case.headers or {}).get("Idempotency-Key")
        if isinstance(key, str) and 1 <= len(key) <= 200:
            # A fresh key per request, so that the body is checked instead of most requests
            # meeting 422 (a reused key); replays have their own tests (test_protocol.py).
            sent[0] += 1
            case.headers["Idempotency-Key"] = f"{key}-{sent[0]}"
        return case

    return map_case


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def log_requests(schema) -> None:
    """With SCHEMATHESIS_LOG=<file>: one line per request sent (phase, mode, method, path, status)."""
    path = os.environ.get("SCHEMATHESIS_LOG")
    if not path:
        return

    def after_call(context, case, response):
        meta = case.meta
        phase = meta.phase.name.value if meta else "-"
        mode = meta.generation.mode.value if meta else "-"
        with open(path, "a") as log:
            log.write(f"{phase}\t{mode}\t{case.method}\t{case.operation.path}\t{response.status_code}\n")

    schema.hook("after_call")(after_call)


def _prepared_schema(app, key: str):
    schema = _schema_for(app, key)
    schema.hook("map_case")(realistic_references(app))
    log_requests(schema)
    return schema


@pytest.fixture
def api_schema(app, fuzz_account):
    return _prepared_schema(app, fuzz_account)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case):
    case.call_and_validate()


def test_stateful_workflows(app, fuzz_account):
    class Workflow(_prepared_schema(app, fuzz_account).as_state_machine()):
        def setup(self):
            # Each scenario starts from the same data, so that a scenario replays the same way
            # (Hypothesis replays them to shrink a failure).
            seed_records(app)

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=8, deadline=None,
                                   derandomize=True, suppress_health_check=list(HealthCheck)))
