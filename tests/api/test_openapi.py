"""The OpenAPI document (/api/v1/openapi.json) and the API reference page (/api/docs)."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from crm.api.openapi import API_PREFIX

ERROR_STATUSES_OF_A_WRITE = {"400", "401", "403", "404", "412", "413", "415", "429", "500"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operation(document, path, method):
    return document["paths"][path][method]


def resolve(document, node):
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = document["components"][kind][name]
    return node


def test_document_is_valid_openapi_3_1_and_needs_no_key(document):
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["servers"] == [{"url": API_PREFIX}]
    assert operation(document, "/openapi.json", "get")["security"] == []


def test_every_api_route_and_method_is_documented(app, document):
    """Nothing under /api/v1 can be added without showing up in the document."""
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops
                  if method != "parameters"}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule[len(API_PREFIX):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method.lower()))
    assert routed, "no API routes found"
    assert routed - documented == set()
    assert documented - routed == set()


def test_operations_have_ids_summaries_tags_and_the_envelope_on_every_error(document):
    ids = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            ids.append(op["operationId"])
            assert op["summary"] and op["tags"], (path, method)
            assert "500" in op["responses"] and "429" in op["responses"]
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = resolve(document, response)["content"]["application/json"]["schema"]
                    assert schema["allOf"] == [{"$ref": "#/components/schemas/Error"}], (path, method, status)
    assert len(ids) == len(set(ids))
    assert {"createTask", "listTasks", "getTask", "updateTask", "deleteTask", "completeTask",
            "reopenTask", "activityFeed", "createActivity", "getUser"} <= set(ids)


def test_task_representation_lists_every_field_as_required(document):
    task = document["components"]["schemas"]["TaskOut"]
    assert set(task["required"]) == set(task["properties"]) >= {
        "id", "title", "description", "type", "status", "priority", "due_at", "contact_id", "company_id",
        "deal_id", "owner_id", "reminder", "tags", "metadata", "completed_at", "completion_note",
        "created_by", "created_at", "updated_at", "relationships"}
    assert "additionalProperties" not in task  # answers may gain fields
    assert task["properties"]["status"]["enum"] == ["pending", "in_progress", "completed", "cancelled"]
    assert task["properties"]["due_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert task["properties"]["id"]["pattern"] == "^task_[0-9A-HJKMNP-TV-Z]{26}$"


def test_inputs_state_the_rules_the_api_applies(document):
    schemas = document["components"]["schemas"]
    task_in = schemas["TaskInput"]
    assert task_in["required"] == ["title"]
    assert task_in["additionalProperties"] is False
    assert "id" not in task_in["properties"] and "created_by" not in task_in["properties"]
    assert task_in["properties"]["priority"]["enum"] == ["low", "normal", "high", "urgent"]
    # Bare dates and offset-less datetimes are accepted, so the document says so.
    due_forms = task_in["properties"]["due_at"]["anyOf"]
    dates = [f for f in due_forms if f.get("format") == "date"]
    assert dates and {"type": "null"} in due_forms
    # ... and only years records can hold.
    year = re.compile(dates[0]["pattern"])
    assert year.match("1901-01-01") and year.match("2199-12-31")
    assert not year.match("1899-12-31") and not year.match("0001-01-01") and not year.match("9999-12-31")
    assert "1900-01-01T00:00:00Z and 2200-12-31T23:59:59Z" in task_in["properties"]["due_at"]["description"]
    assert task_in["properties"]["reminder"]["anyOf"][0] == {"$ref": "#/components/schemas/Reminder"}
    assert schemas["Reminder"]["properties"]["before_minutes"]["maximum"] == 40320
    # Titles are trimmed before their length is checked: the pattern says that.
    title = re.compile(task_in["properties"]["title"]["pattern"])
    assert title.search("  x  ") and title.search("x" * 255) and not title.search("   ")
    assert not title.search("x" * 256)
    # PATCH: nothing required, created_at is read-only.
    assert "required" not in schemas["TaskUpdate"] and "created_at" not in schemas["TaskUpdate"]["properties"]
    assert "required" not in schemas["CompanyUpdate"]
    assert [branch["required"] for branch in task_in["not"]["anyOf"]] == [["contact_name", "contact_id"],
                                                                          ["company_name", "company_id"]]
    assert task_in["dependentRequired"] == {"completed_at": ["status"]}


def test_comma_separated_enum_filters_and_strict_parameters(document):
    params = {p["name"]: p for p in operation(document, "/tasks", "get")["parameters"]}
    status = params["status"]
    assert (status["style"], status["explode"]) == ("form", True)  # arrays as generators send them
    assert status["schema"]["items"]["enum"] == ["pending", "in_progress", "completed", "cancelled"]
    assert params["limit"]["schema"] == {"type": "integer", "default": 50, "minimum": 1, "maximum": 200}
    assert params["overdue"]["schema"] == {"type": "boolean"}
    assert "-due_at" in params["sort"]["schema"]["enum"]


def test_security_schemes_scopes_and_headers(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
    assert schemes["BearerAuth"]["type"] == "http" and schemes["BearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"ApiKeyHeader": []}, {"BearerAuth": []}]

    create = operation(document, "/tasks", "post")
    assert create["x-required-scopes"] == ["tasks:write"]
    assert "tasks:write" in create["description"]
    created = create["responses"]["201"]
    assert created["headers"]["Location"]["required"] is True
    assert resolve(document, created["headers"]["ETag"])["required"] is True
    assert "X-RateLimit-Remaining" in created["headers"]
    assert created["links"]["GetTask"]["parameters"] == {"path.record_id": "$response.body#/data/id"}
    assert {"CompleteTask", "UpdateTask", "DeleteTask"} <= set(created["links"])
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert {"409", "422"} <= set(create["responses"])

    feed = operation(document, "/activities/feed", "get")
    assert feed["x-required-scopes"] == ["activities:read", "tasks:read"]
    users = operation(document, "/users", "get")
    assert users["x-required-scopes"] == ["users:read"] and "403" in users["responses"]
    assert "users:read" in users["description"]
    assert operation(document, "/users/{record_id}", "get")["x-required-scopes"] == ["users:read"]

    update = operation(document, "/tasks/{record_id}", "patch")
    assert ERROR_STATUSES_OF_A_WRITE <= set(update["responses"])
    assert "If-Match" in {p["name"] for p in update["parameters"]}
    limited = resolve(document, update["responses"]["429"])
    assert limited["headers"]["Retry-After"]["required"] is True
    # A body that stops arriving is a 408 on every write (never half a body parsed).
    timeout = resolve(document, update["responses"]["408"])
    assert timeout["headers"]["Connection"]["schema"]["enum"] == ["close"]
    assert "408" not in operation(document, "/tasks", "get")["responses"]
    # Only the creates that may find an existing record answer 200 as well.
    assert set(operation(document, "/activities", "post")["responses"]) >= {"200", "201"}
    assert "200" not in operation(document, "/deals", "post")["responses"]


def test_responses_match_the_document(api, document):
    """A created task, as sent, has exactly the documented fields (the fuzzing checks more)."""
    task = api.create("/tasks", {"title": "Call Ada", "due_at": "2026-03-16"})
    assert set(task) == set(document["components"]["schemas"]["TaskOut"]["properties"])


def test_api_reference_page_renders_the_document_without_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-document-url="/api/v1/openapi.json"' in page
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page and "/static/api-docs.js" in page
    assert " style=" not in page and "<style" not in page
    init = client.get("/static/api-docs.js")
    assert init.status_code == 200 and b"SwaggerUIBundle(" in init.data and b"BaseLayout" in init.data
    init.close()


# --- The API does what the document says (cases Schemathesis found) ---------------------------


def test_blank_nullable_text_is_null_not_a_crash(api):
    task = api.create("/tasks", {"title": "t", "description": "   "})
    assert task["description"] is None
    assert api.get("/tasks?q=").status_code == 200


def test_words_next_to_ids_are_their_own_routes(api):
    r = api.patch("/activities/feed", {"subject": "x"})
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]
    assert r.get_json()["error"]["code"] == "method_not_allowed"
    assert api.get("/tasks/not-an-id").status_code == 404


def test_integral_json_numbers_are_integers(api):
    assert api.create("/activities", {"type": "call", "duration": 60.0})["duration"] == 60
    assert api.post("/activities", {"type": "call", "duration": 60.5}).status_code == 400
    assert api.post("/activities", {"type": "call", "duration": True}).status_code == 400


def test_completed_at_comes_with_status(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.patch(f"/tasks/{task['id']}", {"completed_at": "2026-03-01T10:00:00Z"})
    assert r.status_code == 400 and "completed_at" in r.get_json()["error"]["details"]
    r = api.patch(f"/tasks/{task['id']}", {"status": "completed", "completed_at": "2026-03-01T10:00:00Z"})
    assert r.status_code == 200 and r.get_json()["data"]["completed_at"] == "2026-03-01T10:00:00Z"


def test_blank_if_match_and_undeclared_query_parameters_are_validation_errors(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.delete(f"/tasks/{task['id']}", headers={"If-Match": " "})
    assert r.status_code == 400 and "If-Match" in r.get_json()["error"]["details"]
    r = api.get(f"/tasks/{task['id']}?fields=title")
    assert r.status_code == 400 and r.get_json()["error"]["details"] == {"fields": ["Unknown parameter."]}
    assert api.get(f"/tasks/{task['id']}").status_code == 200


def test_text_and_ids_in_query_strings_are_checked(api):
    assert api.get("/tasks?owner_id=bogus").status_code == 400
    assert api.get("/tasks?tag=a%00b").status_code == 400
    assert api.get("/tasks?limit=5.0").status_code == 400
    assert api.get("/tasks?limit=%2B5").status_code == 400
    assert api.get("/tasks?limit=5").status_code == 200


def test_early_years_keep_four_digits(app, api):
    """A row stored before datetimes were bounded (year 999) still reads back in RFC 3339."""
    from datetime import datetime

    from crm.extensions import db
    from crm.models import Task

    task = api.create("/tasks", {"title": "t", "due_at": "1999-01-02"})
    with app.app_context():
        db.session.get(Task, task["id"]).due_at = datetime(999, 1, 2)
        db.session.commit()
    assert api.get(f"/tasks/{task['id']}").get_json()["data"]["due_at"] == "0999-01-02T00:00:00Z"


def test_large_metadata_numbers_read_back(api):
    """PostgreSQL's jsonb returns 1e20 as the integer 100000000000000000000."""
    task = api.create("/tasks", {"title": "t", "metadata": {"big": 1e20, "max": 1.7976931348623157e308}})
    data = api.get(f"/tasks/{task['id']}").get_json()["data"]
    # The same numbers, as a JSON reader takes them (a double).
    assert float(data["metadata"]["big"]) == 1e20
    assert float(data["metadata"]["max"]) == 1.7976931348623157e308
    assert api.get("/activities/feed").status_code == 200


def test_datetime_without_offset_pattern_accepts_exactly_the_real_days():
    """The pattern a validating client checks: every day the server takes, and no other."""
    import re
    from datetime import date, timedelta

    from crm.api.openapi import _LOCAL_DATETIME

    pattern = re.compile(_LOCAL_DATETIME)
    day = date(1901, 1, 1)
    while day <= date(2199, 12, 31):
        assert pattern.match(f"{day.isoformat()}T09:30:00"), day
        day += timedelta(days=1)
    for year in (1904, 2000, 2024, 2196):
        assert pattern.match(f"{year:04d}-02-29T00:00:00")
    for wrong in ("2100-02-29", "2023-02-29", "2026-04-31", "2026-06-31", "2026-02-30", "2026-13-01",
                  "2026-00-10", "2026-03-32", "2026-03-00", "1899-12-31", "2200-06-01", "0001-01-01"):
        assert not pattern.match(f"{wrong}T09:30:00"), wrong


def test_answers_may_gain_fields_but_inputs_stay_closed(document):
    schemas = document["components"]["schemas"]
    for name in ("TaskOut", "ActivityOut", "ContactOut", "TaskResponse", "TaskList", "Error", "ErrorBody",
                 "RelatedRecord", "Feed"):
        assert schemas[name].get("additionalProperties", True) is not False, name
    for name in ("TaskInput", "TaskUpdate", "ActivityInput", "ContactInput", "DealUpdate"):
        assert schemas[name]["additionalProperties"] is False, name


def test_every_parameter_says_what_it_does(document):
    undescribed = []
    for path, item in document["paths"].items():
        for param in item.get("parameters", []):
            if not param.get("description"):
                undescribed.append((path, param["name"]))
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if not (param.get("description") or param.get("schema", {}).get("description")):
                    undescribed.append((method, path, param["name"]))
    assert undescribed == []


def test_trimming_and_the_documented_text_pattern_agree_on_every_space():
    """The server trims exactly what the patterns call space, whatever a validator's `\\s` is."""
    import re

    from crm.api.openapi import trimmed_text_pattern
    from crm.fields import SPACE_CHARS, trim

    assert set(SPACE_CHARS) == {chr(c) for c in range(0x110000) if chr(c).isspace()} | {"\ufeff"}
    required = re.compile(trimmed_text_pattern(1, 255, blank_allowed=False))
    for code in list(range(0x3100)) + [0xFEFF, 0x1F600]:
        ch = chr(code)
        if ch == "\x00":
            continue
        blank_to_server = trim(f"{ch}{ch}") == ""
        assert (required.match(f"{ch}{ch}") is None) == blank_to_server, hex(code)
        assert required.match(f"{ch}a{ch}") is not None, hex(code)
