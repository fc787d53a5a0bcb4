"""Batch creates: POST /api/v1/tasks/batch and /api/v1/activities/batch (docs/api.md)."""

from __future__ import annotations


def _count(api, path: str) -> int:
    return api.get(f"{path}?include_total=true").get_json()["total"]


def test_tasks_are_created_in_order_each_by_the_single_create_rules(api):
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    response = api.post("/tasks/batch", {"items": [
        {"title": "  Call Ada  ", "contact_id": ada["id"], "priority": "high"},
        {"title": "Send contract", "contact_name": "ada lovelace", "due_at": "2026-03-20"},
        {"title": "Done already", "status": "completed", "completed_at": "2026-03-01T10:00:00Z"},
    ]})
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["data"]
    assert [item["status"] for item in items] == [201, 201, 201]
    assert [item["data"]["title"] for item in items] == ["Call Ada", "Send contract", "Done already"]
    assert items[0]["data"]["priority"] == "high"
    assert items[1]["data"]["contact_id"] == ada["id"]  # the name was resolved as a single create does
    assert items[1]["data"]["due_at"] == "2026-03-20T00:00:00Z"
    assert items[2]["data"]["completed_at"] == "2026-03-01T10:00:00Z"
    assert items[0]["included"] == [{"type": "contact", "id": ada["id"], "name": "Ada Lovelace"},
                                    {"type": "user", "id": api.user_id, "name": "Olive Owner"}]
    for item in items:
        stored = api.get(f"/tasks/{item['data']['id']}").get_json()["data"]
        assert stored == item["data"]


def test_one_wrong_item_creates_nothing_and_every_wrong_field_is_named_by_index(api, other_api):
    foreign = other_api.create("/contacts", {"first_name": "Gus"})
    response = api.post("/tasks/batch", {"items": [
        {"title": "Fine"},
        {"title": "   "},
        {"title": "Linked elsewhere", "contact_id": foreign["id"]},
        {"title": "Fine too"},
        {"title": "Stray", "completed_at": "2026-03-01T10:00:00Z"},
    ]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"items.1.title"}  # the schema's check comes first
    assert _count(api, "/tasks") == 0

    # Past the schema, the services' own rules, gathered over every item.
    response = api.post("/tasks/batch", {"items": [
        {"title": "Fine"},
        {"title": "Linked elsewhere", "contact_id": foreign["id"]},
        {"title": "Fine too"},
        {"title": "Stray", "completed_at": "2026-03-01T10:00:00Z"},
    ]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"items.1.contact_id", "items.3.completed_at"}
    assert _count(api, "/tasks") == 0


def test_an_ambiguous_name_stops_the_batch(api):
    api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    response = api.post("/tasks/batch", {"items": [{"title": "One"}, {"title": "Two", "contact_name": "Ada Lovelace"}]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "ambiguous_reference"
    assert error["details"]["field"] == "items.1.contact_name"
    assert len(error["details"]["candidates"]) == 2
    assert _count(api, "/tasks") == 0


def test_batch_size_and_shape(api):
    assert api.post("/tasks/batch", {"items": [{"title": f"t{i}"} for i in range(100)]}).status_code == 200
    assert _count(api, "/tasks") == 100
    too_many = api.post("/tasks/batch", {"items": [{"title": f"t{i}"} for i in range(101)]})
    assert too_many.status_code == 400 and "items" in too_many.get_json()["error"]["details"]
    for body in ({"items": []}, {}, {"items": {"title": "x"}}, {"items": [{"title": "x"}], "extra": 1},
                 {"items": [{"title": "x", "id": "task_01HZZZZZZZZZZZZZZZZZZZZZZZ"}]}):
        response = api.post("/tasks/batch", body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "validation_error"
    assert _count(api, "/tasks") == 100


def test_activities_are_deduplicated_against_the_database_and_within_the_batch(api):
    ada = api.create("/contacts", {"first_name": "Ada"})
    earlier = api.create("/activities", {"type": "call", "source": "dialer", "external_id": "c-1"})
    response = api.post("/activities/batch", {"items": [
        {"type": "call", "source": "dialer", "external_id": "c-1", "subject": "ignored: exists"},
        {"type": "email", "source": "gmail", "external_id": "m-9", "contact_id": ada["id"]},
        {"type": "note", "body": "no external id"},
        {"type": "email", "source": "gmail", "external_id": "m-9", "subject": "the same message again"},
        {"type": "email", "source": "outlook", "external_id": "m-9"},
    ]})
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["data"]
    assert [item["status"] for item in items] == [200, 201, 201, 200, 201]
    assert items[0]["data"]["id"] == earlier["id"] and items[0]["data"]["subject"] is None
    assert items[3]["data"]["id"] == items[1]["data"]["id"]
    assert items[3]["data"]["contact_id"] == ada["id"]
    assert items[4]["data"]["id"] != items[1]["data"]["id"]
    assert _count(api, "/activities") == 4

    # The same batch again creates nothing.
    again = api.post("/activities/batch", {"items": [
        {"type": "email", "source": "gmail", "external_id": "m-9"},
        {"type": "email", "source": "outlook", "external_id": "m-9"},
    ]})
    assert [item["status"] for item in again.get_json()["data"]] == [200, 200]
    assert _count(api, "/activities") == 4


def test_a_wrong_activity_creates_none(api):
    response = api.post("/activities/batch", {"items": [
        {"type": "call", "source": "dialer", "external_id": "c-2"},
        {"type": "call", "attendees": ["cont_01HZZZZZZZZZZZZZZZZZZZZZZZ"]},
    ]})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["details"]) == {"items.1.attendees"}
    assert _count(api, "/activities") == 0


def test_idempotency_key_replays_the_batch(api):
    body = {"items": [{"title": "A"}, {"title": "B"}]}
    first = api.post("/tasks/batch", body, headers={"Idempotency-Key": "batch-1"})
    replay = api.post("/tasks/batch", body, headers={"Idempotency-Key": "batch-1"})
    assert replay.status_code == first.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert _count(api, "/tasks") == 2
    other = api.post("/tasks/batch", {"items": [{"title": "C"}]}, headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 422


def test_batches_need_the_write_scope(key_with_scopes):
    reader = key_with_scopes("tasks:read", "activities:read")
    assert reader.post("/tasks/batch", {"items": [{"title": "x"}]}).status_code == 403
    assert reader.post("/activities/batch", {"items": [{"type": "note"}]}).status_code == 403


def test_statements_grow_linearly_with_the_batch(api, count_queries):
    def statements(n: int) -> int:
        with count_queries() as counted:
            response = api.post("/activities/batch", {"items": [
                {"type": "call", "source": "dialer", "external_id": f"{n}-{i}"} for i in range(n)]})
            assert response.status_code == 200
        return len(counted)

    ten, twenty = statements(10), statements(20)
    per_item = (twenty - ten) / 10
    assert per_item <= 4, (ten, twenty)
