"""The rules every endpoint shares: keys, scopes, workspaces, the error envelope, ETags,
idempotency, limits."""

import re

import pytest

from crm.extensions import db
from crm.models import ApiKey, Task


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


class TestAuthentication:
    def test_missing_unknown_and_revoked_keys_are_401(self, api, client, app):
        assert error_of(client.get("/api/v1/tasks"))["code"] == "unauthorized"
        r = client.get("/api/v1/tasks", headers={"X-Api-Key": "fu_not-a-real-key"})
        assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
        with app.app_context():
            key = db.session.query(ApiKey).one()
            key.revoked_at = key.created_at
            db.session.commit()
        assert api.get("/tasks").status_code == 401

    def test_bearer_header_works_too(self, api, client):
        r = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {api.key}"})
        assert r.status_code == 200

    def test_key_is_stored_only_hashed(self, api, app):
        with app.app_context():
            key = db.session.query(ApiKey).one()
            assert api.key not in (key.secret_hash, key.prefix)
            assert len(api.key) >= 43  # 32 random bytes, base64url

    def test_last_used_is_recorded(self, api, app):
        api.get("/tasks")
        with app.app_context():
            assert db.session.query(ApiKey).one().last_used_at is not None

    def test_health_and_unknown_paths(self, client):
        assert client.get("/healthz").get_json() == {"status": "ok", "queue": {"pending": 0, "oldest_pending_s": 0.0}}
        r = client.get("/api/v1/does-not-exist")
        assert r.status_code == 404 and error_of(r)["code"] == "not_found"
        r = client.get("/api/v2/tasks")
        assert r.status_code == 404 and error_of(r)["code"] == "not_found"


class TestScopes:
    @pytest.mark.parametrize("scopes, method, path, ok", [
        (("tasks:read",), "get", "/tasks", True),
        (("tasks:read",), "post", "/tasks", False),
        (("tasks:write",), "get", "/tasks", True),
        (("activities:read",), "get", "/tasks", False),
        (("records:read",), "post", "/contacts", False),
        (("records:write",), "get", "/deals", True),
        (("tasks:read",), "get", "/users", False),
        (("records:read", "activities:read"), "get", "/users", False),
        (("users:read",), "get", "/users", True),
        (("users:read",), "get", "/tasks", False),
        (("tasks:write",), "get", "/users", True),
        (("activities:write",), "get", "/users", True),
        (("records:write",), "get", "/users", True),
    ])
    def test_scope_matrix(self, key_with_scopes, scopes, method, path, ok):
        caller = key_with_scopes(*scopes)
        r = caller.get(path) if method == "get" else caller.post(path, {"title": "t", "name": "n"})
        if ok:
            assert r.status_code in (200, 201)
        else:
            assert r.status_code == 403
            err = error_of(r)
            assert err["code"] == "insufficient_permissions"
            assert ":write" in err["message"] or ":read" in err["message"]


class TestWorkspaceIsolation:
    @pytest.fixture
    def theirs(self, other_api):
        contact = other_api.create("/contacts", {"first_name": "Secret"})
        company = other_api.create("/companies", {"name": "Hidden"})
        deal = other_api.create("/deals", {"name": "Confidential"})
        task = other_api.create("/tasks", {"title": "Their task"})
        activity = other_api.create("/activities", {"type": "note", "body": "private"})
        return {"contacts": contact, "companies": company, "deals": deal, "tasks": task, "activities": activity,
                "users": {"id": other_api.user_id}}

    @pytest.mark.parametrize("kind", ["contacts", "companies", "deals", "tasks", "activities", "users"])
    def test_their_ids_are_404_for_every_method(self, api, other_api, theirs, kind):
        rid = theirs[kind]["id"]
        assert api.get(f"/{kind}/{rid}").status_code == 404
        if kind != "users":
            assert api.patch(f"/{kind}/{rid}", {"name": "x"}).status_code == 404
            assert api.delete(f"/{kind}/{rid}").status_code == 404
            assert other_api.get(f"/{kind}/{rid}").status_code == 200  # untouched
        if kind == "tasks":
            assert api.post(f"/tasks/{rid}/complete").status_code == 404
            assert api.post(f"/tasks/{rid}/reopen").status_code == 404

    @pytest.mark.parametrize("field, kind", [("contact_id", "contacts"), ("company_id", "companies"),
                                             ("deal_id", "deals"), ("owner_id", "users")])
    def test_their_ids_as_links_are_validation_errors(self, api, theirs, field, kind):
        r = api.post("/tasks", {"title": "t", field: theirs[kind]["id"]})
        assert r.status_code == 400 and field in error_of(r)["details"]
        r = api.post("/activities", {"type": "note", field: theirs[kind]["id"]})
        assert r.status_code == 400 and field in error_of(r)["details"]

    def test_their_contacts_as_attendees_and_filters(self, api, theirs):
        r = api.post("/activities", {"type": "meeting", "attendees": [theirs["contacts"]["id"]]})
        assert r.status_code == 400 and "attendees" in error_of(r)["details"]
        assert api.get(f"/tasks?owner_id={theirs['users']['id']}").get_json()["data"] == []
        assert api.get("/tasks").get_json()["data"] == []
        assert api.get("/activities/feed").get_json()["data"] == []

    def test_mass_assignment_is_rejected(self, api, app):
        for field, value in (("id", "task_01ARZ3NDEKTSV4RRFFQ69G5FAV"), ("created_by", "user_x"),
                             ("workspace_id", "ws_x"), ("workspace", "ws_x")):
            r = api.post("/tasks", {"title": "t", field: value})
            assert r.status_code == 400 and field in error_of(r)["details"]
        task = api.create("/tasks", {"title": "t"})
        r = api.patch(f"/tasks/{task['id']}", {"created_by": "user_x", "updated_at": "2020-01-01"})
        assert r.status_code == 400
        assert set(error_of(r)["details"]) == {"created_by", "updated_at"}
        with app.app_context():
            assert db.session.get(Task, task["id"]).created_by == api.user_id


class TestBodies:
    def test_malformed_json(self, api):
        r = api.client.post("/api/v1/tasks", data=b'{"title": ', headers={"X-Api-Key": api.key, "Content-Type": "application/json"})
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"

    @pytest.mark.parametrize("body", [b"[1,2]", b'"title"', b"null", b"42", b'{"title": NaN}'])
    def test_json_that_is_not_an_object(self, api, body):
        r = api.client.post("/api/v1/tasks", data=body, headers={"X-Api-Key": api.key, "Content-Type": "application/json"})
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"

    def test_non_json_content_type_is_415(self, api):
        r = api.client.post("/api/v1/tasks", data="title=x", headers={"X-Api-Key": api.key,
                            "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 415 and error_of(r)["code"] == "unsupported_media_type"

    def test_body_over_one_mebibyte_is_413(self, api, app):
        body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
        r = api.client.post("/api/v1/tasks", data=body, headers={"X-Api-Key": api.key, "Content-Type": "application/json"})
        assert r.status_code == 413 and error_of(r)["code"] == "payload_too_large"
        with app.app_context():
            assert db.session.query(Task).count() == 0

    def test_invalid_utf8_and_nul(self, api):
        r = api.client.post("/api/v1/tasks", data=b'{"title": "\xff\xfe"}', headers={"X-Api-Key": api.key,
                            "Content-Type": "application/json"})
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"
        r = api.post("/tasks", {"title": "a\u0000b"})
        assert r.status_code == 400 and "title" in error_of(r)["details"]

    def test_method_not_allowed_uses_envelope(self, api):
        r = api.client.put("/api/v1/tasks", headers={"X-Api-Key": api.key})
        assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
        assert "GET" in r.headers["Allow"]

    def test_scripts_in_text_are_stored_verbatim_and_served_as_json(self, api):
        task = api.create("/tasks", {"title": "<script>alert(1)</script>"})
        r = api.get(f"/tasks/{task['id']}")
        assert r.mimetype == "application/json"
        assert r.get_json()["data"]["title"] == "<script>alert(1)</script>"


class TestConcurrency:
    def test_stale_if_match_is_412_and_changes_nothing(self, api):
        r = api.post("/tasks", {"title": "v1"})
        etag = r.headers["ETag"]
        task_id = r.get_json()["data"]["id"]
        r2 = api.patch(f"/tasks/{task_id}", {"title": "v2"}, headers={"If-Match": etag})
        assert r2.status_code == 200 and r2.headers["ETag"] != etag
        stale = api.patch(f"/tasks/{task_id}", {"title": "v3"}, headers={"If-Match": etag})
        assert stale.status_code == 412 and error_of(stale)["code"] == "precondition_failed"
        assert api.post(f"/tasks/{task_id}/complete", headers={"If-Match": etag}).status_code == 412
        assert api.delete(f"/tasks/{task_id}", headers={"If-Match": etag}).status_code == 412
        assert api.get(f"/tasks/{task_id}").get_json()["data"]["title"] == "v2"
        assert api.get(f"/tasks/{task_id}").headers["ETag"] == r2.headers["ETag"]
        assert api.delete(f"/tasks/{task_id}", headers={"If-Match": r2.headers["ETag"]}).status_code == 204

    @pytest.mark.parametrize("kind, payload", [("contacts", {"first_name": "A"}), ("companies", {"name": "A"}),
                                               ("deals", {"name": "A"}), ("activities", {"type": "note"})])
    def test_etags_on_every_resource(self, api, kind, payload):
        r = api.post(f"/{kind}", payload)
        rid = r.get_json()["data"]["id"]
        etag = r.headers["ETag"]
        assert api.get(f"/{kind}/{rid}").headers["ETag"] == etag
        assert api.patch(f"/{kind}/{rid}", {}, headers={"If-Match": etag}).status_code == 200
        field = "first_name" if kind == "contacts" else "subject" if kind == "activities" else "name"
        changed = api.patch(f"/{kind}/{rid}", {field: "B"}, headers={"If-Match": etag})
        assert changed.status_code in (200, 412)
        if changed.status_code == 200:
            assert api.patch(f"/{kind}/{rid}", {field: "C"}, headers={"If-Match": etag}).status_code == 412


class TestIdempotency:
    def test_replay_returns_first_response_and_creates_nothing(self, api, app):
        headers = {"Idempotency-Key": "abc-123"}
        first = api.post("/tasks", {"title": "once"}, headers=headers)
        again = api.post("/tasks", {"title": "once"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.get_json() == first.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
        assert "Idempotent-Replayed" not in first.headers
        assert len(api.get("/tasks").get_json()["data"]) == 1

    def test_same_meaning_in_other_bytes_is_a_replay(self, api):
        headers = {"Idempotency-Key": "reserialised", "Content-Type": "application/json"}
        first = api.post("/tasks", data='{"title": "once", "priority": "high", "metadata": {"n": 1.0, "m": [1, 2]}}',
                         headers=headers)
        again = api.post("/tasks", data='{ "metadata": {"m": [1,2], "n": 1}, "priority":"high",\n "title":"once" }',
                         headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
        # Order inside a list is meaning: that is another request.
        other = api.post("/tasks", data='{"title": "once", "priority": "high", "metadata": {"n": 1, "m": [2, 1]}}',
                         headers=headers)
        assert other.status_code == 422 and error_of(other)["code"] == "idempotency_key_reused"
        assert len(api.get("/tasks").get_json()["data"]) == 1

    def test_same_key_different_body_is_422(self, api):
        api.post("/tasks", {"title": "one"}, headers={"Idempotency-Key": "k"})
        r = api.post("/tasks", {"title": "two"}, headers={"Idempotency-Key": "k"})
        assert r.status_code == 422 and error_of(r)["code"] == "idempotency_key_reused"

    def test_keys_are_per_api_key(self, api, other_api):
        api.post("/tasks", {"title": "one"}, headers={"Idempotency-Key": "k"})
        assert other_api.post("/tasks", {"title": "one"}, headers={"Idempotency-Key": "k"}).status_code == 201

    def test_validation_errors_are_replayed_too(self, api):
        first = api.post("/tasks", {"title": ""}, headers={"Idempotency-Key": "bad"})
        again = api.post("/tasks", {"title": ""}, headers={"Idempotency-Key": "bad"})
        assert first.status_code == again.status_code == 400
        assert again.headers["Idempotent-Replayed"] == "true"

    def test_in_flight_key_is_409(self, api, app):
        from crm.services import idempotency

        with app.app_context():
            key_id = db.session.query(ApiKey).one().id
            body = b'{"title": "x"}'
            claim = idempotency.claim(key_id, "busy", idempotency.request_fingerprint("POST", "/api/v1/tasks", body))
            assert claim.state == "new"
        r = api.client.post("/api/v1/tasks", data=body, headers={"X-Api-Key": api.key, "Idempotency-Key": "busy",
                                                                  "Content-Type": "application/json"})
        assert r.status_code == 409 and error_of(r)["code"] == "idempotency_in_progress"

    def test_overlong_key_is_rejected(self, api):
        r = api.post("/tasks", {"title": "x"}, headers={"Idempotency-Key": "k" * 256})
        assert r.status_code == 400


class TestRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_RATE_LIMIT": "3/minute"}

    def test_fourth_request_in_a_minute_is_429(self, api):
        responses = [api.get("/tasks") for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert responses[0].headers["X-RateLimit-Limit"] == "3"
        assert responses[0].headers["X-RateLimit-Remaining"] == "2"
        limited = responses[3]
        assert error_of(limited)["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) > 0
        assert all("Retry-After" not in r.headers for r in responses[:3])

    def test_one_bucket_per_key_across_every_endpoint(self, api, other_api):
        a = api.get("/tasks")
        b = api.get("/users")
        c = api.get("/activities")
        assert [r.headers["X-RateLimit-Remaining"] for r in (a, b, c)] == ["2", "1", "0"]
        assert api.get("/contacts").status_code == 429
        # Another key has its own bucket.
        assert other_api.get("/tasks").headers["X-RateLimit-Remaining"] == "2"

    def test_ietf_ratelimit_fields(self, api):
        r = api.get("/tasks")
        assert r.headers["RateLimit-Policy"] == '"key";q=3;w=60'
        remaining, reset = re.fullmatch(r'"key";r=(\d+);t=(\d+)', r.headers["RateLimit"]).groups()
        assert remaining == "2" and 0 <= int(reset) <= 60


def test_rate_limit_starts_no_thread_per_request(api, monkeypatch):
    """The in-memory limiter counts without a timer thread per request (it cost ~14 % of a list)."""
    import threading

    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), real_start(self))[1])
    for _ in range(20):
        assert api.get("/tasks").status_code == 200
    assert started == []


class TestDeletingLinkedRecords:
    def test_deleting_a_contact_keeps_tasks_and_activities(self, api):
        company = api.create("/companies", {"name": "Acme"})
        contact = api.create("/contacts", {"first_name": "Ada", "company_id": company["id"]})
        deal = api.create("/deals", {"name": "Pilot", "contact_id": contact["id"], "company_id": company["id"]})
        r = api.post("/tasks", {"title": "t", "contact_id": contact["id"], "deal_id": deal["id"], "company_id": company["id"]})
        task, etag = r.get_json()["data"], r.headers["ETag"]
        act = api.create("/activities", {"type": "meeting", "contact_id": contact["id"], "attendees": [contact["id"]]})
        assert api.delete(f"/contacts/{contact['id']}").status_code == 204
        kept = api.get(f"/tasks/{task['id']}")
        assert kept.get_json()["data"]["contact_id"] is None
        assert kept.get_json()["data"]["relationships"]["contact"] is None
        assert kept.get_json()["data"]["deal_id"] == deal["id"]
        assert kept.headers["ETag"] != etag
        kept_act = api.get(f"/activities/{act['id']}").get_json()["data"]
        assert kept_act["contact_id"] is None and kept_act["attendees"] == []
        assert api.get(f"/deals/{deal['id']}").get_json()["data"]["contact_id"] is None
        for kind, rid in (("companies", company["id"]), ("deals", deal["id"])):
            assert api.delete(f"/{kind}/{rid}").status_code == 204
        final = api.get(f"/tasks/{task['id']}").get_json()["data"]
        assert (final["company_id"], final["deal_id"]) == (None, None)


class TestRequestIds:
    def test_every_response_has_a_request_id_and_errors_quote_it(self, api, client):
        ok = api.get("/tasks")
        missing = api.get("/tasks/task_01JD3K0000000000000000000Z")
        page = client.get("/login")
        ids = [r.headers["X-Request-Id"] for r in (ok, missing, page)]
        assert len(set(ids)) == 3 and all(len(i) >= 8 for i in ids)
        assert error_of(missing)["request_id"] == missing.headers["X-Request-Id"]

    def test_a_sane_client_id_is_kept_and_an_insane_one_replaced(self, api):
        kept = api.get("/tasks", headers={"X-Request-Id": "support-4711-abc"})
        assert kept.headers["X-Request-Id"] == "support-4711-abc"
        for bad in ("x", "a" * 200, "evil\u2028id!", "<script>alert(1)</script>"):
            r = api.get("/tasks", headers={"X-Request-Id": bad})
            assert r.headers["X-Request-Id"] != bad and re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])

    def test_log_lines_of_a_request_carry_its_id(self, api, monkeypatch, caplog):
        from crm.services import tasks

        def explode(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(tasks, "list_tasks", explode)
        r = api.get("/tasks", headers={"X-Request-Id": "trace-me-123456"})
        assert r.status_code == 500 and error_of(r)["request_id"] == "trace-me-123456"
        logged = [rec for rec in caplog.records if "boom" in (rec.exc_text or "") or rec.exc_info]
        assert logged and all(rec.request_id == "trace-me-123456" for rec in logged)


class TestConditionalGet:
    @pytest.mark.parametrize("kind, payload", [("tasks", {"title": "A"}), ("contacts", {"first_name": "A"}),
                                               ("companies", {"name": "A"}), ("deals", {"name": "A"}),
                                               ("activities", {"type": "note"})])
    def test_current_etag_gives_304_and_a_stale_one_the_record(self, api, kind, payload):
        created = api.post(f"/{kind}", payload)
        rid, etag = created.get_json()["data"]["id"], created.headers["ETag"]
        fresh = api.get(f"/{kind}/{rid}", headers={"If-None-Match": etag})
        assert fresh.status_code == 304 and fresh.data == b"" and fresh.headers["ETag"] == etag
        assert api.get(f"/{kind}/{rid}", headers={"If-None-Match": f'"nope", W/{etag}'}).status_code == 304
        field = {"tasks": "title", "contacts": "first_name", "activities": "subject"}.get(kind, "name")
        api.patch(f"/{kind}/{rid}", {field: "B"})
        stale = api.get(f"/{kind}/{rid}", headers={"If-None-Match": etag})
        assert stale.status_code == 200 and stale.get_json()["data"][field] == "B"


class TestCors:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_CORS_ORIGINS": "https://app.example.com, https://ext.example.org"}

    def test_preflight_from_an_allowed_origin_needs_no_key(self, client):
        r = client.options("/api/v1/tasks", headers={
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Api-Key, Content-Type, Idempotency-Key"})
        assert r.status_code == 200
        assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        allowed = r.headers["Access-Control-Allow-Headers"].lower()
        assert "x-api-key" in allowed and "idempotency-key" in allowed
        assert "Access-Control-Allow-Credentials" not in r.headers

    def test_simple_request_from_an_allowed_origin_exposes_the_useful_headers(self, api):
        r = api.get("/tasks", headers={"Origin": "https://ext.example.org"})
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://ext.example.org"
        exposed = r.headers["Access-Control-Expose-Headers"]
        assert "ETag" in exposed and "X-Request-Id" in exposed and "RateLimit" in exposed

    def test_other_origins_get_no_cors_grant(self, api, client):
        r = api.get("/tasks", headers={"Origin": "https://evil.example.net"})
        assert "Access-Control-Allow-Origin" not in r.headers
        pre = client.options("/api/v1/tasks", headers={"Origin": "https://evil.example.net",
                                                        "Access-Control-Request-Method": "DELETE"})
        assert "Access-Control-Allow-Origin" not in pre.headers

    def test_a_signed_in_browser_cookie_is_no_key(self, app, client, api):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        signed_in = client.post("/login", data={"email": "owner@acme.test", "password": "correct horse",
                                                "csrf_token": token})
        assert signed_in.status_code in (302, 303) and client.get("/tasks").status_code == 200
        r = client.get("/api/v1/tasks", headers={"Origin": "https://app.example.com"})
        assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"


def test_no_cors_grant_without_configured_origins(api, client):
    r = api.get("/tasks", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_a_read_only_key_cannot_list_colleagues(key_with_scopes):
    caller = key_with_scopes("tasks:read", "activities:read", "records:read")
    for path in ("/users", f"/users/{caller.user_id}"):
        response = caller.get(path)
        assert response.status_code == 403
        assert {k: v for k, v in error_of(response).items() if k != "request_id"} == {
                                      "code": "insufficient_permissions",
                                      "message": "This API key lacks the scope users:read.",
                                      "details": {"missing_scopes": ["users:read"]}}


def test_keys_with_all_scopes_list_users(app, api):
    assert api.get("/users").status_code == 200
    with app.app_context():
        assert "users:read" in db.session.query(ApiKey).one().scopes.split(",")
