"""Hostile and broken input on every /api/v1 endpoint: always a clean 4xx in the error envelope,
never a 5xx, and nothing stored half-way."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, ActivityAttendee, Company, Contact, Deal, Task, User

TABLES = (Task, Activity, Company, Contact, Deal, User)
DEEP = 100_000

# (name, raw body, content type)
BODIES = [
    ("deeply nested array", b"[" * DEEP + b"]" * DEEP, "application/json"),
    ("deeply nested object", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "application/json"),
    ("nested metadata", json.dumps({"title": "t", "type": "note", "name": "n",
                                    "metadata": {"a": json.loads("[" * 500 + "]" * 500)}}).encode(),
     "application/json"),
    ("over 1 MiB", json.dumps({"title": "x" * (1024 * 1024 + 10)}).encode(), "application/json"),
    ("just under 1 MiB", json.dumps({"title": "x" * 500_000, "type": "note", "name": "y" * 500_000}).encode(),
     "application/json"),
    ("invalid utf-8", b'{"title": "\xff\xfe\xfd", "type": "note", "name": "\xc3\x28"}', "application/json"),
    ("nul in strings", json.dumps({"title": "a\u0000b", "type": "note", "name": "a\u0000b",
                                   "subject": "\u0000", "first_name": "\u0000"}).encode(), "application/json"),
    ("nul in ids", json.dumps({"title": "t", "type": "note", "name": "n", "contact_id": "cont_\u0000",
                               "company_id": "\u0000", "attendees": ["\u0000"]}).encode(), "application/json"),
    ("lone surrogates", b'{"title": "\\ud800", "type": "note", "name": "\\udfff", "contact_id": "\\ud800",'
                        b' "attendees": ["\\ud800"], "metadata": {"\\ud800": 1}}', "application/json"),
    ("nul in metadata", json.dumps({"title": "t", "type": "note", "name": "n",
                                    "metadata": {"k\u0000": "v", "v": "\u0000"}}).encode(), "application/json"),
    ("infinite numbers", b'{"title": "t", "type": "call", "name": "n", "duration": 1e999,'
                         b' "confidence_score": 1e999, "metadata": {"x": 1e999, "y": -1e999}}', "application/json"),
    ("huge integers", b'{"title": "t", "type": "call", "name": "n", "duration": ' + b"9" * 400 +
     b', "metadata": {"x": ' + b"9" * 400 + b"}}", "application/json"),
    ("wrong types", json.dumps({"title": ["t"], "type": {"a": 1}, "name": 12, "tags": "x", "metadata": [],
                                "attendees": "cont_1", "reminder": "soon"}).encode(), "application/json"),
    ("not json", b"title=hello", "application/x-www-form-urlencoded"),
    ("json array", b"[1, 2, 3]", "application/json"),
    ("NaN", b'{"title": "t", "type": "call", "name": "n", "confidence_score": NaN}', "application/json"),
]

# Valid bodies per collection; each hostile value below goes into one field at a time, so that
# nothing else in the body is wrong and the value reaches as far into the app as it can.
VALID = {
    "tasks": {"title": "t"},
    "activities": {"type": "note"},
    "companies": {"name": "n"},
    "contacts": {"first_name": "f"},
    "deals": {"name": "n"},
}
FIELDS = {
    "tasks": ("title", "description", "contact_id", "company_id", "deal_id", "owner_id", "contact_name",
              "company_name", "tags", "metadata", "completion_note", "due_at"),
    "activities": ("subject", "body", "contact_id", "owner_id", "attendees", "source", "external_id",
                   "metadata", "duration", "confidence_score", "occurred_at"),
    "companies": ("name", "domain", "metadata"),
    "contacts": ("first_name", "email", "phone", "company_id", "metadata"),
    "deals": ("name", "stage", "amount", "currency", "close_date", "company_id", "contact_id", "metadata"),
}
VALUES = {
    "nul": '"a\\u0000b"',
    "lone surrogate": '"\\ud800"',
    "10k string": '"' + "x" * 10_000 + '"',
    "infinity": "1e999",
    "huge integer": "9" * 400,
    "nested": "[" * 600 + "]" * 600,
    "nul list": '["\\u0000"]',
    "surrogate list": '["\\udfff"]',
    "object with nul": '{"k\\u0000": "\\u0000"}',
    "object with infinity": '{"x": 1e999, "y": [-1e999]}',
}

QUERIES = [
    ("10k query", "q=" + "x" * 10_000),
    ("10k unknown parameter", "x" * 10_000 + "=1"),
    ("10k cursor", "cursor=" + "A" * 10_000),
    ("nul everywhere", "q=%00&cursor=%00&contact_id=%00&owner_id=%00&tag=%00&source=%00&external_id=%00"
                       "&subtype=%00&domain=%00&email=%00&stage=%00&company_id=%00&deal_id=%00&created_by=%00"),
    ("invalid utf-8", "q=%ff%fe&contact_id=%c3%28&tag=%ed%a0%80"),
    ("repeated", "limit=1&limit=2"),
]


def _state_query():
    parts = []
    for model in TABLES:
        parts.append(select(func.count()).select_from(model).scalar_subquery())
        if hasattr(model, "version"):
            parts.append(select(func.coalesce(func.sum(model.version), 0)).scalar_subquery())
    parts.append(select(func.count()).select_from(ActivityAttendee).scalar_subquery())
    return select(*parts)


STATE = _state_query()


def snapshot(app) -> tuple:
    """Row counts and version sums of every table, in one query: any write shows up here."""
    with app.app_context():
        state = tuple(db.session.execute(STATE).one())
        db.session.remove()
    return state


@pytest.fixture
def records(app, api):
    from crm.extensions import db
    from crm.models import Webhook

    with app.app_context():  # inactive, so that nothing is sent; made directly (no address check)
        webhook = Webhook(workspace_id=api.workspace_id, created_by=api.user_id, url="https://hooks.example.com/x",
                          events=["*"], active=False, secret="whsec_" + "A" * 43)
        db.session.add(webhook)
        db.session.commit()
        webhook_id = webhook.id
    company = api.create("/companies", {"name": "Acme"})
    contact = api.create("/contacts", {"first_name": "Ada", "company_id": company["id"]})
    deal = api.create("/deals", {"name": "Pilot"})
    task = api.create("/tasks", {"title": "t", "contact_id": contact["id"]})
    activity = api.create("/activities", {"type": "note", "attendees": [contact["id"]]})
    return {"tasks": task["id"], "activities": activity["id"], "companies": company["id"],
            "contacts": contact["id"], "deals": deal["id"], "users": api.user_id, "webhooks": webhook_id}


def endpoints(app, records):
    """Every (method, path) of the API, with a real record id where the rule takes one."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = rule.rule
            if "<record_id>" in path:
                collection = path.removeprefix("/api/v1/").split("/")[0]
                # DELETE aims at an id that does not exist, so that nothing is deleted for real.
                record_id = "task_01JD3K0000000000000000000Z" if method == "DELETE" else records[collection]
                path = path.replace("<record_id>", record_id)
            yield method, path


def check_clean(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body and set(body) == {"error"} and body["error"]["code"], f"{what}: {response.get_data()[:200]}"
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and "sqlalchemy" not in text.lower(), what


def test_hostile_bodies_on_every_endpoint(app, client, api, records):
    seen = 0
    for method, path in endpoints(app, records):
        if method not in ("POST", "PATCH", "PUT"):
            continue
        for name, body, content_type in BODIES:
            before = snapshot(app)
            response = client.open(path, method=method, data=body, content_type=content_type,
                                   headers={"X-Api-Key": api.key})
            what = f"{method} {path} with {name}"
            check_clean(response, what)
            assert response.status_code >= 400, f"{what} was accepted"
            assert snapshot(app) == before, f"{what} changed the database"
            seen += 1
    assert seen >= 10 * len(BODIES)


def test_hostile_values_in_each_field(app, client, api, records):
    for method, path in endpoints(app, records):
        if method not in ("POST", "PATCH"):
            continue
        collection = path.removeprefix("/api/v1/").split("/")[0]
        if collection not in FIELDS or path.endswith(("/complete", "/reopen")):
            continue
        base = VALID[collection] if method == "POST" else {}
        for field in FIELDS[collection]:
            for name, raw in VALUES.items():
                prefix = json.dumps(base)[:-1]
                body = f'{prefix}{", " if base else ""}"{field}": {raw}}}'
                before = snapshot(app)
                response = client.open(path, method=method, data=body.encode(), content_type="application/json",
                                       headers={"X-Api-Key": api.key})
                what = f"{method} {path} with {field} = <{name}>"
                check_clean(response, what)
                if response.status_code >= 400:
                    assert snapshot(app) == before, f"{what} changed the database"


def test_hostile_query_strings_and_paths_on_every_endpoint(app, client, api, records):
    for method, path in endpoints(app, records):
        for name, query in QUERIES:
            before = snapshot(app)
            response = client.open(f"{path}?{query}", method=method, headers={"X-Api-Key": api.key})
            what = f"{method} {path}?<{name}>"
            check_clean(response, what)
            if response.status_code >= 400:
                assert snapshot(app) == before, f"{what} changed the database"
    for collection in ("tasks", "activities", "companies", "contacts", "deals", "users"):
        for bad_id in ("%00", "x" * 10_000, "%ff%fe", "task_%00", "..%2F..%2Fetc", "%F0%9F%92%A9"):
            for method in ("GET", "PATCH", "DELETE"):
                response = client.open(f"/api/v1/{collection}/{bad_id}", method=method, json={},
                                       headers={"X-Api-Key": api.key})
                check_clean(response, f"{method} /{collection}/{bad_id[:20]}")
                assert response.status_code in (404, 405)


@pytest.mark.parametrize("name", [
    "Zoë 🦊 Ünïcödé",
    "שלום עליכם",  # right to left
    "مرحبا \u200f بالعالم",  # with a right-to-left mark
    "e\u0301\u0301\u0301 combining",  # stacked combining marks
    "👩\u200d👩\u200d👧\u200d👦 family",  # zero-width joiners
    "\u202eevil\u202c override",
    "ﬁ ligature ＦＵＬＬＷＩＤＴＨ",
])
def test_unicode_names_are_kept_exactly_and_resolvable(api, name):
    contact = api.create("/contacts", {"first_name": name, "last_name": "Edge"})
    assert contact["first_name"] == name
    assert api.get(f"/contacts/{contact['id']}").get_json()["data"]["first_name"] == name
    task = api.create("/tasks", {"title": name, "contact_name": f"{name} Edge"})
    assert task["title"] == name and task["contact_id"] == contact["id"]
    found = api.get("/tasks", query_string={"q": name}).get_json()["data"]
    assert [t["id"] for t in found] == [task["id"]]


def test_an_api_key_with_control_characters_is_just_unauthorized(client):
    for key in ("\x00", "a" * 10_000, "fu_\u00ff\u00fe", " "):
        response = client.get("/api/v1/tasks", headers={"X-Api-Key": key})
        check_clean(response, repr(key[:10]))
        assert response.status_code == 401
