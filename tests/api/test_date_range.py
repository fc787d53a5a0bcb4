"""Datetimes are bounded to 1900-01-01T00:00:00Z .. 2200-12-31T23:59:59Z: every datetime the API
takes (bodies and query parameters, found in the OpenAPI document) refuses values outside with
a 400 that names the field, and accepts the bounds themselves."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.fields import DATE_RANGE_MESSAGE, DATETIME_RANGE_MESSAGE
from crm.models import Activity, Deal, Task

OUT_OF_RANGE = [
    "0001-01-01",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # converting this to UTC used to overflow
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:00:00+00:01",  # 1899-12-31T23:59:00Z
    "2200-12-31T23:59:59-00:01",  # 2201-01-01T00:00:59Z
    "2201-01-01",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31 23:59:59",
]
IN_RANGE = {
    "1900-01-01": "1900-01-01T00:00:00Z",
    "1900-01-01T14:00:00+14:00": "1900-01-01T00:00:00Z",
    "2200-12-31T23:59:59Z": "2200-12-31T23:59:59Z",
    "2200-12-31T23:59:59.999Z": "2200-12-31T23:59:59Z",
    "2200-12-31T11:59:59-12:00": "2200-12-31T23:59:59Z",
}
# A minimal valid body for each input schema that has a datetime or date field.
BASE_BODIES = {
    "TaskInput": {"title": "Bounded"}, "TaskUpdate": {}, "TaskCompletion": {},
    "ActivityInput": {"type": "call"}, "ActivityUpdate": {},
    "DealInput": {"name": "Bounded"}, "DealUpdate": {},
}


def _is_dated(schema: dict, fmt: str) -> bool:
    return f'"format": "{fmt}"' in json.dumps(schema)


def dated_inputs(api):
    """(method, path, kind, field, format): every body field and query parameter holding a date."""
    doc = api.client.get("/api/v1/openapi.json").get_json()
    components = doc["components"]["schemas"]
    found = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") == "query" and _is_dated(param.get("schema", {}), "date-time"):
                    found.append((method, path, "query", param["name"], "date-time"))
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            name = ref.get("$ref", "").rsplit("/", 1)[-1]
            for field, schema in components.get(name, {}).get("properties", {}).items():
                for fmt in ("date-time", "date"):
                    if _is_dated(schema, fmt) and not (fmt == "date" and _is_dated(schema, "date-time")):
                        found.append((method, path, name, field, fmt))
    return found


@pytest.fixture
def records(api):
    task = api.create("/tasks", {"title": "Existing"})
    activity = api.create("/activities", {"type": "note"})
    deal = api.create("/deals", {"name": "Existing"})
    return {"tasks": task["id"], "activities": activity["id"], "deals": deal["id"]}


def _send(api, method, path, kind, field, value, records):
    segment = path.strip("/").split("/")[0]
    url = path.replace("{record_id}", records.get(segment, "x"))
    if kind == "query":
        return api.get(url, query_string={field: value})
    if kind not in BASE_BODIES:
        pytest.fail(f"{method} {path}: add a minimal valid {kind} body to BASE_BODIES")
    body = {**BASE_BODIES[kind], field: value}
    return api.post(url, body) if method == "post" else api.patch(url, body)


def stored_rows(app) -> tuple:
    with app.app_context():
        return tuple(db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Task, Activity, Deal))


def test_the_api_takes_dates_in_the_fields_we_expect(api):
    names = {(kind, field) for _m, _p, kind, field, _f in dated_inputs(api)}
    assert {("TaskInput", "due_at"), ("TaskInput", "completed_at"), ("TaskInput", "created_at"),
            ("TaskUpdate", "due_at"), ("TaskCompletion", "completed_at"), ("ActivityInput", "occurred_at"),
            ("ActivityUpdate", "occurred_at"), ("DealInput", "close_date"), ("query", "due_before"),
            ("query", "due_after"), ("query", "after"), ("query", "before")} <= names


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_every_datetime_the_api_takes_refuses_values_out_of_range(app, api, records, value):
    before = stored_rows(app)
    failures = []
    for method, path, kind, field, fmt in dated_inputs(api):
        if fmt == "date" and "T" in value or " " in value and fmt == "date":
            continue
        response = _send(api, method, path, kind, field, value if fmt == "date-time" else value[:10], records)
        error = (response.get_json() or {}).get("error", {})
        expected = DATETIME_RANGE_MESSAGE if fmt == "date-time" else DATE_RANGE_MESSAGE
        if response.status_code != 400 or error.get("details", {}).get(field) != [expected]:
            failures.append(f"{method.upper()} {path} {field}={value}: {response.status_code} {error}")
    assert not failures
    assert stored_rows(app) == before


@pytest.mark.parametrize("value,stored", IN_RANGE.items())
def test_the_bounds_themselves_are_accepted(api, value, stored):
    task = api.create("/tasks", {"title": "At the edge", "due_at": value, "status": "completed",
                                    "completed_at": value})
    assert (task["due_at"], task["completed_at"]) == (stored, stored)
    activity = api.create("/activities", {"type": "note", "occurred_at": value})
    assert activity["occurred_at"] == stored
    assert api.get("/tasks", query_string={"due_before": value, "due_after": value}).status_code == 200
    assert api.get("/activities/feed", query_string={"after": value, "before": value}).status_code == 200


def test_deal_close_dates_are_bounded_too(api):
    assert api.create("/deals", {"name": "Old", "close_date": "1900-01-01"})["close_date"] == "1900-01-01"
    assert api.create("/deals", {"name": "Late", "close_date": "2200-12-31"})["close_date"] == "2200-12-31"
    response = api.post("/deals", {"name": "Ancient", "close_date": "0001-01-01"})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"close_date": [DATE_RANGE_MESSAGE]}
