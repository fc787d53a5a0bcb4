"""`GET /users/me` and `owner_id=me`: a key can find its own user and its own work without ids."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api, make_account


@pytest.fixture
def colleague(app, client, api):
    """A second user in the same workspace, with a key of their own."""
    ws_id, user_id, secret = make_account(app, workspace="Acme", email="cole@acme.test", name="Cole League",
                                          role="member")
    return Api(client, secret, ws_id, user_id)


def test_users_me_is_the_keys_user_as_users_id_shows_it(api, colleague):
    mine = api.get("/users/me")
    assert mine.status_code == 200
    by_id = api.get(f"/users/{api.user_id}")
    assert mine.get_json() == by_id.get_json()
    assert mine.get_json()["data"]["email"] == "owner@acme.test"
    assert mine.headers["ETag"] == by_id.headers["ETag"]

    theirs = colleague.get("/users/me").get_json()["data"]
    assert theirs["id"] == colleague.user_id and theirs["name"] == "Cole League"


def test_users_me_needs_a_key_and_takes_no_parameters(api, client):
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    response = api.get("/users/me?verbose=true")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"verbose": ["Unknown parameter."]}


def test_owner_id_me_lists_the_keys_own_tasks(api, colleague):
    mine = api.create("/tasks", {"title": "Mine"})
    api.create("/tasks", {"title": "Cole's", "owner_id": colleague.user_id})
    api.create("/tasks", {"title": "Nobody's", "owner_id": None})
    body = api.get("/tasks?owner_id=me&include_total=true").get_json()
    assert [t["id"] for t in body["data"]] == [mine["id"]] and body["total"] == 1
    assert [t["title"] for t in colleague.get("/tasks?owner_id=me").get_json()["data"]] == ["Cole's"]


def test_created_by_me_lists_the_tasks_the_key_created(api, colleague):
    api.create("/tasks", {"title": "Made by Olive", "owner_id": colleague.user_id})
    colleague.create("/tasks", {"title": "Made by Cole"})
    assert [t["title"] for t in api.get("/tasks?created_by=me").get_json()["data"]] == ["Made by Olive"]
    both = colleague.get("/tasks?created_by=me&owner_id=me").get_json()["data"]
    assert [t["title"] for t in both] == ["Made by Cole"]


def test_owner_id_me_lists_the_keys_own_activities(api, colleague):
    mine = api.create("/activities", {"type": "note", "subject": "Mine"})
    colleague.create("/activities", {"type": "note", "subject": "Cole's"})
    assert [a["id"] for a in api.get("/activities?owner_id=me").get_json()["data"]] == [mine["id"]]


def test_owner_id_me_filters_the_feed(api, colleague):
    api.create("/activities", {"type": "note", "subject": "My note"})
    api.create("/tasks", {"title": "My task"})
    colleague.create("/activities", {"type": "note", "subject": "Cole's note"})
    colleague.create("/tasks", {"title": "Cole's task"})
    items = api.get("/activities/feed?owner_id=me").get_json()["data"]
    assert sorted(i["data"].get("title") or i["data"]["subject"] for i in items) == ["My note", "My task"]


def test_owner_id_that_is_neither_an_id_nor_me_is_a_validation_error(api):
    for value in ("ME", "mine", "me2", "user_me"):
        response = api.get(f"/tasks?owner_id={value}")
        assert response.status_code == 400, value
        error = response.get_json()["error"]
        assert error["code"] == "validation_error" and list(error["details"]) == ["owner_id"]


def test_users_me_and_owner_id_me_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    me = document["paths"]["/users/me"]["get"]
    schema = me["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == document["paths"]["/users/{record_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]

    with_owner = {}
    for path, ops in document["paths"].items():
        for param in ops.get("get", {}).get("parameters", []):
            if param["name"] in ("owner_id", "created_by"):
                with_owner[(path, param["name"])] = param
    assert {("/tasks", "owner_id"), ("/tasks", "created_by"), ("/activities", "owner_id"),
            ("/activities/feed", "owner_id")} <= set(with_owner)
    for (path, name), param in with_owner.items():
        assert "`me`" in param["description"], (path, name)
        pattern = re.compile(param["schema"]["pattern"])
        assert pattern.match("me") and pattern.match("user_01HZY3K6X8Q9W2E4R5T7Y8V9J0")
        assert not pattern.match("mine")
