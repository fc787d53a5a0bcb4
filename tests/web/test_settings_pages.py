"""Settings: time zone, API keys, users."""

from __future__ import annotations

import re


def test_settings_page_links_the_api_reference(web):
    text = web.text(web.get("/settings"))
    assert 'href="/api/docs"' in text


def test_time_zone_is_saved_and_used(web):
    web.activity(subject="Call", occurred_at="2026-03-16T12:00:00Z")
    response = web.post("/settings/time-zone", {"time_zone": "America/New_York"})
    assert response.status_code == 303
    assert "08:00" in web.text(web.get("/activities"))  # 12:00 UTC is 08:00 in New York (EDT)
    bad = web.post("/settings/time-zone", {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Not a known IANA time zone." in web.text(bad)


def test_api_key_secret_is_shown_once_and_works(web, client):
    response = web.post("/settings/api-keys", {"label": "Calendar sync", "scopes": ["tasks:read"]})
    assert (response.status_code, response.headers["Location"]) == (303, "/settings/api-keys/new")
    secret = re.search(r'value="(fu_[^"]+)"', web.text(web.get("/settings/api-keys/new"))).group(1)
    assert client.get("/api/v1/tasks", headers={"X-Api-Key": secret}).status_code == 200
    assert client.get("/api/v1/activities", headers={"X-Api-Key": secret}).status_code == 403
    later = web.text(web.get("/settings"))
    assert secret not in later and "Calendar sync" in later and secret[:10] in later


def test_api_key_needs_a_known_scope(web):
    assert web.post("/settings/api-keys", {"label": "x"}).status_code == 422
    response = web.post("/settings/api-keys", {"label": "x", "scopes": ["root"]})
    assert response.status_code == 422 and "Unknown scopes" in web.text(response)


def test_revoked_key_stops_working(web, client):
    web.post("/settings/api-keys", {"scopes": ["tasks:read"]})
    secret = re.search(r'value="(fu_[^"]+)"', web.text(web.get("/settings/api-keys/new"))).group(1)
    key_id = re.findall(r'/settings/api-keys/(key_\w+)/revoke', web.text(web.get("/settings")))[0]
    assert web.post(f"/settings/api-keys/{key_id}/revoke").status_code == 303
    assert client.get("/api/v1/tasks", headers={"X-Api-Key": secret}).status_code == 401


def test_cannot_revoke_someone_elses_key(web, other_web):
    other_key = re.findall(r'/settings/api-keys/(key_\w+)/revoke', other_web.text(other_web.get("/settings")))[0]
    assert web.post(f"/settings/api-keys/{other_key}/revoke").status_code == 404


def test_admin_adds_and_removes_users(web, app):
    response = web.post("/settings/users", {"name": "Nia New", "email": "nia@acme.test", "password": "long enough",
                                            "role": "member"})
    assert response.status_code == 303
    from tests.web.test_auth import sign_in

    assert sign_in(app.test_client(), email="nia@acme.test", password="long enough").status_code == 303
    user_id = re.search(r'id="user-(user_\w+)"[^>]*>\s*<td>Nia New', web.text(web.get("/settings"))).group(1)
    assert web.post(f"/settings/users/{user_id}/deactivate").status_code == 303
    assert sign_in(app.test_client(), email="nia@acme.test", password="long enough").status_code == 401
    assert web.post(f"/settings/users/{user_id}/reactivate").status_code == 303
    assert sign_in(app.test_client(), email="nia@acme.test", password="long enough").status_code == 303


def test_adding_a_user_shows_errors(web):
    response = web.post("/settings/users", {"name": "", "email": "owner@acme.test", "role": "member"})
    assert response.status_code == 422
    text = web.text(response)
    assert "Must not be blank." in text and "already exists" in text


def test_admin_cannot_remove_themselves(web):
    response = web.post(f"/settings/users/{web.user_id}/deactivate")
    assert response.status_code == 422 and "cannot remove yourself" in web.text(response)


def test_members_cannot_manage_users(web, teammate):
    assert "Add a user" not in teammate.text(teammate.get("/settings"))
    assert teammate.post("/settings/users", {"name": "X", "email": "x@acme.test"}).status_code == 403
    assert teammate.post(f"/settings/users/{web.user_id}/deactivate").status_code == 403


def test_admin_cannot_touch_users_of_another_workspace(web, other_web):
    assert web.post(f"/settings/users/{other_web.user_id}/deactivate").status_code == 404
