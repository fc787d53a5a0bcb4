"""Tasks over the API: create, read, update, complete, reopen, delete, and the task rules."""

from datetime import UTC, datetime, timedelta

import pytest


def test_create_returns_201_with_every_field_location_and_etag(api):
    r = api.post("/tasks", {"title": "  Send contract to Ada  ", "due_at": "2026-03-20T17:00:00+01:00",
                            "priority": "high"})
    assert r.status_code == 201
    task = r.get_json()["data"]
    assert task["title"] == "Send contract to Ada"
    assert task["due_at"] == "2026-03-20T16:00:00Z"
    assert task["priority"] == "high"
    assert task["status"] == "pending" and task["type"] == "todo"
    assert task["id"].startswith("task_") and len(task["id"]) == 31
    assert task["created_by"] == api.user_id
    assert task["owner_id"] == api.user_id
    for field in ("description", "contact_id", "company_id", "deal_id", "reminder", "completed_at",
                  "completion_note"):
        assert field in task and task[field] is None
    assert task["tags"] == [] and task["metadata"] == {}
    assert task["relationships"]["owner"] == {"type": "user", "id": api.user_id, "name": "Olive Owner"}
    assert task["relationships"]["contact"] is None
    assert r.headers["Location"].endswith(f"/api/v1/tasks/{task['id']}")
    assert r.headers["ETag"]
    assert r.get_json()["included"] == [{"type": "user", "id": api.user_id, "name": "Olive Owner"}]


@pytest.mark.parametrize("given, stored", [
    ("2026-03-16", "2026-03-16T00:00:00Z"),
    ("2026-03-16T12:00:00", "2026-03-16T12:00:00Z"),
    ("2026-03-16T12:00:00.987Z", "2026-03-16T12:00:00Z"),
    ("2026-03-16T12:00:00-05:00", "2026-03-16T17:00:00Z"),
])
def test_due_at_is_normalised_to_utc_seconds(api, given, stored):
    assert api.create("/tasks", {"title": "t", "due_at": given})["due_at"] == stored


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01", "16/03/2026", 12, "2026-03-16T25:00:00Z"])
def test_bad_datetime_is_a_validation_error(api, bad):
    r = api.post("/tasks", {"title": "t", "due_at": bad})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "validation_error"
    assert "due_at" in r.get_json()["error"]["details"]


@pytest.mark.parametrize("payload, field", [
    ({}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": "t", "status": "done"}, "status"),
    ({"title": "t", "priority": "HIGH"}, "priority"),
    ({"title": "t", "type": "lunch"}, "type"),
    ({"title": "t", "description": "x" * 20001}, "description"),
    ({"title": "t", "reminder": {"type": "sms", "before_minutes": 5}}, "reminder.type"),
    ({"title": "t", "reminder": {"type": "email", "before_minutes": 40321}}, "reminder.before_minutes"),
    ({"title": "t", "tags": ["x"] * 21}, "tags"),
    ({"title": "t", "tags": ["x" * 51]}, "tags.0"),
    ({"title": "t", "metadata": {f"k{i}": i for i in range(51)}}, "metadata"),
    ({"title": "t", "metadata": {"big": "x" * 17000}}, "metadata"),
    ({"title": "t", "completion_note": "x" * 2001}, "completion_note"),
    ({"title": "t", "owner_id": "user_nope"}, "owner_id"),
    ({"title": "t", "contact_id": "cont_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "contact_id"),
    ({"title": "t", "bogus": 1}, "bogus"),
])
def test_invalid_task_fields_are_reported_per_field(api, payload, field):
    r = api.post("/tasks", payload)
    assert r.status_code == 400, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    assert field in err["details"], err
    assert all(isinstance(m, str) for m in err["details"][field])


@pytest.mark.parametrize("field", ["id", "created_by", "updated_at", "workspace_id", "relationships"])
def test_read_only_fields_are_rejected_not_ignored(api, field):
    r = api.post("/tasks", {"title": "t", field: "task_01ARZ3NDEKTSV4RRFFQ69G5FAV"})
    assert r.status_code == 400
    assert field in r.get_json()["error"]["details"]


def test_tags_are_deduplicated_in_order(api):
    assert api.create("/tasks", {"title": "t", "tags": ["vip", " q3 ", "vip", "q3"]})["tags"] == ["vip", "q3"]


def test_created_at_backfill_window(api):
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = (now - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.create("/tasks", {"title": "old", "created_at": year_ago})["created_at"] == year_ago
    ancient = api.create("/tasks", {"title": "ancient", "created_at": "2001-01-01T00:00:00Z"})
    far_future = api.create("/tasks", {"title": "future", "created_at": (now + timedelta(days=3)).isoformat()})
    for task in (ancient, far_future):
        created = datetime.fromisoformat(task["created_at"].replace("Z", "+00:00"))
        assert abs((created - now).total_seconds()) < 60


def test_created_at_is_read_only_on_patch(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.patch(f"/tasks/{task['id']}", {"created_at": "2025-01-01T00:00:00Z"})
    assert r.status_code == 400 and "created_at" in r.get_json()["error"]["details"]


def test_patch_changes_only_given_fields_and_null_clears(api):
    task = api.create("/tasks", {"title": "t", "description": "d", "due_at": "2026-05-01", "priority": "high"})
    r = api.patch(f"/tasks/{task['id']}", {"description": None, "title": "new"})
    assert r.status_code == 200
    data = r.get_json()["data"]
    assert data["description"] is None and data["title"] == "new"
    assert data["due_at"] == "2026-05-01T00:00:00Z" and data["priority"] == "high"


def test_patch_rejects_null_title(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.patch(f"/tasks/{task['id']}", {"title": None})
    assert r.status_code == 400 and "title" in r.get_json()["error"]["details"]


def test_status_completed_sets_and_leaving_clears_completed_at(api):
    task = api.create("/tasks", {"title": "t"})
    done = api.patch(f"/tasks/{task['id']}", {"status": "completed"}).get_json()["data"]
    assert done["completed_at"] is not None
    back = api.patch(f"/tasks/{task['id']}", {"status": "in_progress"}).get_json()["data"]
    assert back["completed_at"] is None


def test_completed_at_given_with_status_is_kept(api):
    task = api.create("/tasks", {"title": "t", "status": "completed", "completed_at": "2026-01-02T03:04:05Z"})
    assert task["completed_at"] == "2026-01-02T03:04:05Z"


def test_complete_action_and_completing_twice_keeps_first_completed_at(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.post(f"/tasks/{task['id']}/complete", {"completion_note": "Sent", "completed_at": "2026-02-01T10:00:00Z"})
    assert r.status_code == 200
    first = r.get_json()["data"]
    assert first["status"] == "completed" and first["completion_note"] == "Sent"
    assert first["completed_at"] == "2026-02-01T10:00:00Z"
    again = api.post(f"/tasks/{task['id']}/complete")
    assert again.status_code == 200
    assert again.get_json()["data"]["completed_at"] == "2026-02-01T10:00:00Z"
    assert again.headers["ETag"] == r.headers["ETag"]


def test_complete_without_body_sets_now(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.client.post(f"/api/v1/tasks/{task['id']}/complete", headers={"X-Api-Key": api.key})
    assert r.status_code == 200 and r.get_json()["data"]["completed_at"] is not None


def test_reopen_goes_back_to_pending(api):
    task = api.create("/tasks", {"title": "t", "status": "completed"})
    r = api.post(f"/tasks/{task['id']}/reopen")
    assert r.status_code == 200
    data = r.get_json()["data"]
    assert data["status"] == "pending" and data["completed_at"] is None


def test_delete_then_get_is_404(api):
    task = api.create("/tasks", {"title": "t"})
    r = api.delete(f"/tasks/{task['id']}")
    assert r.status_code == 204 and r.data == b""
    assert api.get(f"/tasks/{task['id']}").status_code == 404
    assert api.delete(f"/tasks/{task['id']}").status_code == 404


@pytest.mark.parametrize("bad_id", ["nope", "task_01ARZ3NDEKTSV4RRFFQ69G5FAV", "cont_x", "' OR 1=1 --"])
def test_unknown_or_malformed_ids_are_404(api, bad_id):
    r = api.get(f"/tasks/{bad_id}")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def test_links_resolve_relationships_and_included(api):
    company = api.create("/companies", {"name": "Acme"})
    contact = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "company_id": company["id"]})
    deal = api.create("/deals", {"name": "Pilot", "company_id": company["id"]})
    r = api.post("/tasks", {"title": "t", "contact_id": contact["id"], "company_id": company["id"], "deal_id": deal["id"]})
    body = r.get_json()
    rel = body["data"]["relationships"]
    assert rel["contact"] == {"type": "contact", "id": contact["id"], "name": "Ada Lovelace"}
    assert rel["company"]["name"] == "Acme" and rel["deal"]["name"] == "Pilot"
    assert {(i["type"], i["id"]) for i in body["included"]} == {
        ("contact", contact["id"]), ("company", company["id"]), ("deal", deal["id"]), ("user", api.user_id)}


class TestNameResolution:
    @pytest.fixture
    def people(self, api):
        return {
            "hans": api.create("/contacts", {"first_name": "Hans", "last_name": "Müller"}),
            "ada": api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"}),
            "adam": api.create("/contacts", {"first_name": "Adam", "last_name": "Smith"}),
            "jane": api.create("/contacts", {"first_name": "Jane", "last_name": "Smith"}),
        }

    def test_accent_and_case_insensitive(self, api, people):
        task = api.create("/tasks", {"title": "t", "contact_name": "hans muller"})
        assert task["contact_id"] == people["hans"]["id"]

    def test_exact_full_name_wins_over_partial_matches(self, api, people):
        api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace-Byron"})
        task = api.create("/tasks", {"title": "t", "contact_name": "Ada Lovelace"})
        assert task["contact_id"] == people["ada"]["id"]

    def test_every_word_must_match(self, api, people):
        task = api.create("/tasks", {"title": "t", "contact_name": "smith jane"})
        assert task["contact_id"] == people["jane"]["id"]

    def test_ambiguous_lists_candidates(self, api, people):
        r = api.post("/tasks", {"title": "t", "contact_name": "Smith"})
        assert r.status_code == 400
        err = r.get_json()["error"]
        assert err["code"] == "ambiguous_reference"
        names = sorted(c["name"] for c in err["details"]["candidates"])
        assert names == ["Adam Smith", "Jane Smith"]
        assert all(set(c) == {"id", "name"} for c in err["details"]["candidates"])

    def test_at_most_ten_candidates(self, api):
        for i in range(12):
            api.create("/contacts", {"first_name": f"Sam{i}", "last_name": "Same"})
        r = api.post("/tasks", {"title": "t", "contact_name": "same"})
        assert len(r.get_json()["error"]["details"]["candidates"]) == 10

    def test_no_match_is_validation_error_on_the_field(self, api, people):
        r = api.post("/tasks", {"title": "t", "contact_name": "Nobody Here"})
        assert r.status_code == 400
        assert "contact_name" in r.get_json()["error"]["details"]

    def test_company_name(self, api):
        acme = api.create("/companies", {"name": "Acme Robotics"})
        api.create("/companies", {"name": "Globex"})
        assert api.create("/tasks", {"title": "t", "company_name": "ACME"})["company_id"] == acme["id"]

    def test_name_and_id_together_is_an_error(self, api, people):
        r = api.post("/tasks", {"title": "t", "contact_name": "Ada", "contact_id": people["ada"]["id"]})
        assert r.status_code == 400 and "contact_name" in r.get_json()["error"]["details"]

    def test_other_workspace_names_do_not_match(self, api, other_api):
        other_api.create("/contacts", {"first_name": "Secret", "last_name": "Person"})
        r = api.post("/tasks", {"title": "t", "contact_name": "Secret Person"})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


class TestRequiredParent:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_REQUIRE_TASK_PARENT": True}

    def test_task_without_parent_is_rejected(self, api):
        r = api.post("/tasks", {"title": "t"})
        assert r.status_code == 400
        err = r.get_json()["error"]
        assert err["code"] == "validation_error"
        assert err["message"] == "At least one parent link (contact_id, company_id, or deal_id) is required"

    def test_task_with_parent_is_accepted_and_cannot_lose_it(self, api):
        company = api.create("/companies", {"name": "Acme"})
        task = api.create("/tasks", {"title": "t", "company_id": company["id"]})
        assert api.patch(f"/tasks/{task['id']}", {"company_id": None}).status_code == 400


def test_personal_todo_without_parent_is_fine_by_default(api):
    assert api.post("/tasks", {"title": "Buy milk"}).status_code == 201
