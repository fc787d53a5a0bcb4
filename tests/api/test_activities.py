"""Activities over the API: logging, dedup on (source, external_id), filters, the feed."""

import pytest


def test_log_activity_with_defaults(api):
    r = api.post("/activities", {"type": "call", "subject": "Intro call"})
    assert r.status_code == 201
    act = r.get_json()["data"]
    assert act["id"].startswith("act_")
    assert act["status"] == "completed" and act["source"] == "manual"
    assert act["occurred_at"].endswith("Z")
    assert act["attendees"] == [] and act["metadata"] == {}
    for field in ("subtype", "body", "contact_id", "company_id", "deal_id", "duration", "direction",
                  "outcome", "external_id", "generated_by", "model", "confidence_score"):
        assert act[field] is None, field
    assert set(act["relationships"]) == {"contact", "company", "deal", "owner"}
    assert r.headers["Location"].endswith(act["id"])


def test_type_is_required_and_enums_are_exact(api):
    assert "type" in api.post("/activities", {"subject": "x"}).get_json()["error"]["details"]
    assert "type" in api.post("/activities", {"type": "Call"}).get_json()["error"]["details"]
    r = api.post("/activities", {"type": "call", "direction": "sideways", "outcome": "great"})
    assert set(r.get_json()["error"]["details"]) == {"direction", "outcome"}


@pytest.mark.parametrize("payload, field", [
    ({"duration": -1}, "duration"),
    ({"duration": 604801}, "duration"),
    ({"duration": "60"}, "duration"),
    ({"duration": 1.5}, "duration"),
    ({"confidence_score": 1.5}, "confidence_score"),
    ({"confidence_score": "0.5"}, "confidence_score"),
    ({"subtype": "x" * 51}, "subtype"),
    ({"source": "x" * 51}, "source"),
    ({"external_id": "x" * 256}, "external_id"),
    ({"model": "x" * 101}, "model"),
    ({"attendees": ["cont_nope"]}, "attendees"),
    ({"attendees": ["x"] * 101}, "attendees"),
])
def test_invalid_activity_fields(api, payload, field):
    r = api.post("/activities", {"type": "call", **payload})
    assert r.status_code == 400
    assert field in r.get_json()["error"]["details"]


def test_dedup_on_source_and_external_id_returns_200_with_existing(api):
    first = api.post("/activities", {"type": "email", "source": "gmail", "external_id": "msg-1", "subject": "Hi"})
    assert first.status_code == 201
    again = api.post("/activities", {"type": "email", "source": "gmail", "external_id": "msg-1", "subject": "Changed"})
    assert again.status_code == 200
    assert again.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert again.get_json()["data"]["subject"] == "Hi"
    other_source = api.post("/activities", {"type": "email", "source": "outlook", "external_id": "msg-1"})
    assert other_source.status_code == 201
    assert len(api.get("/activities?external_id=msg-1").get_json()["data"]) == 2


def test_dedup_is_per_workspace(api, other_api):
    api.create("/activities", {"type": "email", "source": "gmail", "external_id": "m"})
    assert other_api.post("/activities", {"type": "email", "source": "gmail", "external_id": "m"}).status_code == 201


def test_patch_cannot_collide_with_another_external_id(api):
    api.create("/activities", {"type": "email", "source": "gmail", "external_id": "a"})
    b = api.create("/activities", {"type": "email", "source": "gmail", "external_id": "b"})
    r = api.patch(f"/activities/{b['id']}", {"external_id": "a"})
    assert r.status_code == 400 and "external_id" in r.get_json()["error"]["details"]


def test_attendees_and_contact_filter_includes_attendance(api):
    ada = api.create("/contacts", {"first_name": "Ada"})
    bob = api.create("/contacts", {"first_name": "Bob"})
    meeting = api.create("/activities", {"type": "meeting", "attendees": [ada["id"], bob["id"], ada["id"]]})
    assert meeting["attendees"] == [ada["id"], bob["id"]]
    call = api.create("/activities", {"type": "call", "contact_id": bob["id"]})
    api.create("/activities", {"type": "note"})
    ids = [a["id"] for a in api.get(f"/activities?contact_id={bob['id']}").get_json()["data"]]
    assert sorted(ids) == sorted([meeting["id"], call["id"]])
    included = api.get(f"/activities/{meeting['id']}").get_json()["included"]
    assert {i["id"] for i in included if i["type"] == "contact"} == {ada["id"], bob["id"]}


def test_filters_and_default_sort(api):
    api.create("/activities", {"type": "call", "occurred_at": "2026-01-01T10:00:00Z", "direction": "inbound"})
    api.create("/activities", {"type": "email", "occurred_at": "2026-01-03T10:00:00Z", "subject": "Quote for Zoë"})
    api.create("/activities", {"type": "note", "occurred_at": "2026-01-02T10:00:00Z", "body": "remember"})
    data = api.get("/activities").get_json()["data"]
    assert [a["type"] for a in data] == ["email", "note", "call"]
    assert [a["type"] for a in api.get("/activities?sort=occurred_at").get_json()["data"]] == ["call", "note", "email"]
    assert [a["type"] for a in api.get("/activities?type=call,note").get_json()["data"]] == ["note", "call"]
    assert [a["type"] for a in api.get("/activities?q=ZOE").get_json()["data"]] == ["email"]
    assert [a["type"] for a in api.get("/activities?after=2026-01-01T10:00:00Z&before=2026-01-03").get_json()["data"]] == ["note"]
    assert [a["type"] for a in api.get("/activities?direction=inbound").get_json()["data"]] == ["call"]


def test_patch_and_delete_activity(api):
    act = api.create("/activities", {"type": "call", "subject": "a"})
    r = api.patch(f"/activities/{act['id']}", {"subject": None, "outcome": "voicemail"})
    assert r.status_code == 200
    assert r.get_json()["data"]["subject"] is None and r.get_json()["data"]["outcome"] == "voicemail"
    assert api.delete(f"/activities/{act['id']}").status_code == 204
    assert api.get(f"/activities/{act['id']}").status_code == 404


class TestFeed:
    def test_merges_tasks_and_activities_newest_first(self, api):
        contact = api.create("/contacts", {"first_name": "Ada"})
        api.create("/activities", {"type": "call", "contact_id": contact["id"], "occurred_at": "2026-01-05T00:00:00Z"})
        task = api.create("/tasks", {"title": "t", "contact_id": contact["id"], "created_at": "2026-01-03T00:00:00Z"})
        done = api.create("/tasks", {"title": "done", "contact_id": contact["id"], "created_at": "2026-01-01T00:00:00Z",
                                     "status": "completed", "completed_at": "2026-01-04T00:00:00Z"})
        api.create("/tasks", {"title": "unrelated"})
        body = api.get(f"/activities/feed?contact_id={contact['id']}").get_json()
        assert [(i["kind"], i["at"]) for i in body["data"]] == [
            ("activity", "2026-01-05T00:00:00Z"), ("task", "2026-01-04T00:00:00Z"), ("task", "2026-01-03T00:00:00Z")]
        assert body["data"][1]["data"]["id"] == done["id"]
        assert body["data"][2]["data"]["id"] == task["id"]

    def test_feed_pages_through_everything_once(self, api):
        for i in range(7):
            api.create("/activities", {"type": "note", "occurred_at": f"2026-01-0{i + 1}T00:00:00Z"})
            api.create("/tasks", {"title": f"t{i}", "created_at": f"2026-01-0{i + 1}T00:00:00Z"})
        seen, cursor = [], None
        while True:
            body = api.get("/activities/feed?limit=3" + (f"&cursor={cursor}" if cursor else "")).get_json()
            seen += [i["data"]["id"] for i in body["data"]]
            if not body["has_more"]:
                break
            cursor = body["next_cursor"]
        assert len(seen) == 14 and len(set(seen)) == 14

    def test_feed_needs_both_read_scopes(self, key_with_scopes):
        only_activities = key_with_scopes("activities:read")
        r = only_activities.get("/activities/feed")
        assert r.status_code == 403 and "tasks:read" in r.get_json()["error"]["message"]
        assert key_with_scopes("activities:read", "tasks:read").get("/activities/feed").status_code == 200
