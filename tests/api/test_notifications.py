"""/api/v1/notifications and /api/v1/users/me/notification-settings; who gets notified when."""

from __future__ import annotations

from datetime import timedelta

from crm.extensions import db
from crm.models import User, utcnow
from crm.services import accounts, reminders
from tests.conftest import Api, make_account


def teammate(app, client, api) -> Api:
    _ws, user_id, secret = make_account(app, email="mia@acme.test", name="Mia Member", role="member")
    return Api(client, secret, api.workspace_id, user_id)


def fire_reminders(app, api, count: int, kind="push"):
    due = utcnow() + timedelta(hours=2)
    ids = [api.create("/tasks", {"title": f"Task {i}", "due_at": due.isoformat() + "Z",
                                 "reminder": {"type": kind, "before_minutes": 0}})["id"] for i in range(count)]
    with app.app_context():
        assert reminders.fire_due(due + timedelta(seconds=1)) == count
    return ids


def test_assigning_someone_else_notifies_them_but_not_yourself(app, client, api):
    mia = teammate(app, client, api)
    api.create("/tasks", {"title": "Mine", "owner_id": api.user_id})
    task = api.create("/tasks", {"title": "Prepare the demo", "owner_id": mia.user_id})
    (note,) = mia.get("/notifications").get_json()["data"]
    assert note["kind"] == "assigned" and note["task_id"] == task["id"]
    assert note["title"] == "Olive Owner assigned you: Prepare the demo"
    assert note["read_at"] is None
    assert api.get("/notifications").get_json()["data"] == []

    other = api.create("/tasks", {"title": "Reassigned later"})
    api.patch(f"/tasks/{other['id']}", {"owner_id": mia.user_id})
    api.patch(f"/tasks/{other['id']}", {"title": "Renamed, same owner"})
    assert [n["title"] for n in mia.get("/notifications").get_json()["data"]] == [
        "Olive Owner assigned you: Reassigned later", "Olive Owner assigned you: Prepare the demo"]
    mia.patch(f"/tasks/{other['id']}", {"owner_id": mia.user_id, "title": "taken by myself"})
    assert len(mia.get("/notifications").get_json()["data"]) == 2


def test_someone_else_completing_your_task_notifies_you(app, client, api):
    mia = teammate(app, client, api)
    task = api.create("/tasks", {"title": "Ship the order"})
    api.post(f"/tasks/{task['id']}/complete")  # yourself: nothing
    api.post(f"/tasks/{task['id']}/reopen")
    mia.post(f"/tasks/{task['id']}/complete", {"completion_note": "Shipped with UPS"})
    mia.post(f"/tasks/{task['id']}/complete")  # already completed: nothing more
    second = api.create("/tasks", {"title": "Through PATCH"})
    mia.patch(f"/tasks/{second['id']}", {"status": "completed"})
    notes = api.get("/notifications").get_json()["data"]
    assert [(n["kind"], n["title"], n["body"]) for n in notes] == [
        ("completed_by_other", "Mia Member completed: Through PATCH", None),
        ("completed_by_other", "Mia Member completed: Ship the order", "Shipped with UPS"),
    ]


def test_list_is_the_keys_users_own_newest_first_with_unread_filter_and_cursor(app, client, api, other_api):
    ids = fire_reminders(app, api, 5)
    first = api.get("/notifications?limit=2").get_json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    rest = api.get(f"/notifications?limit=10&cursor={first['next_cursor']}").get_json()
    listed = first["data"] + rest["data"]
    assert sorted(n["task_id"] for n in listed) == sorted(ids)
    assert len({n["id"] for n in listed}) == 5
    assert set(listed[0]) == {"id", "kind", "task_id", "activity_id", "title", "body", "created_at", "read_at"}
    assert other_api.get("/notifications").get_json()["data"] == []
    assert api.get("/notifications?unread=maybe").get_json()["error"]["details"] == {"unread": ["Must be true or false."]}

    target = listed[0]["id"]
    read = api.post(f"/notifications/{target}/read")
    assert read.status_code == 200 and read.headers["ETag"]
    read_at = read.get_json()["data"]["read_at"]
    assert read_at is not None
    assert api.post(f"/notifications/{target}/read").get_json()["data"]["read_at"] == read_at
    unread = api.get("/notifications?unread=true&include_total=true").get_json()
    assert unread["total"] == 4 and target not in {n["id"] for n in unread["data"]}
    assert api.get("/notifications?unread=false").get_json()["data"][0]["id"] == target

    assert other_api.post(f"/notifications/{target}/read").status_code == 404
    assert api.post("/notifications/ntf_nope/read").status_code == 404
    everything = api.post("/notifications/read-all")
    assert everything.status_code == 200 and everything.get_json() == {"data": {"updated": 4}}
    assert api.get("/notifications?unread=true").get_json()["data"] == []
    assert api.post("/notifications/read-all").get_json() == {"data": {"updated": 0}}


def test_any_valid_key_reads_its_own_notifications(app, client, api, key_with_scopes):
    fire_reminders(app, api, 1)
    narrow = key_with_scopes("records:read")
    assert len(narrow.get("/notifications").get_json()["data"]) == 1
    assert client.get("/api/v1/notifications").status_code == 401


def test_settings_default_then_patch_changes_only_what_is_given(app, client, api):
    got = api.get("/users/me/notification-settings")
    assert got.status_code == 200
    settings = got.get_json()["data"]
    assert settings["digest"] == {"enabled": True, "time": "08:00"}
    assert settings["kinds"]["reminder"] == {"in_app": True, "email": True}
    assert set(settings["kinds"]) == {"reminder", "assigned", "completed_by_other", "digest", "webhook_disabled"}
    assert settings["email_configured"] is False

    changed = api.patch("/users/me/notification-settings",
                        {"kinds": {"assigned": {"email": False}}, "digest": {"time": "07:15"}}).get_json()["data"]
    assert changed["kinds"]["assigned"] == {"in_app": True, "email": False}
    assert changed["kinds"]["reminder"] == {"in_app": True, "email": True}
    assert changed["digest"] == {"enabled": True, "time": "07:15"}
    assert api.get("/users/me/notification-settings").get_json()["data"] == changed


def test_settings_refuse_bad_values_with_field_errors(api):
    for body, field in (
        ({"digest": {"time": "25:00"}}, "digest.time"),
        ({"digest": {"time": "8:00"}}, "digest.time"),
        ({"digest": {"enabled": "yes"}}, "digest.enabled"),
        ({"kinds": {"sms": {"email": True}}}, "kinds.sms"),
        ({"kinds": {"reminder": {"email": 1}}}, "kinds.reminder.email"),
        ({"email_configured": True}, "email_configured"),
        ({"colour": "red"}, "colour"),
    ):
        response = api.patch("/users/me/notification-settings", body)
        assert response.status_code == 400, body
        error = response.get_json()["error"]
        assert error["code"] == "validation_error" and field in error["details"], (body, error)
    assert api.get("/users/me/notification-settings").get_json()["data"]["digest"]["time"] == "08:00"


def test_assigned_mail_follows_the_preference(app, client, api):
    from crm.models import MailOutbox

    app.config["CRM_SMTP_URL"] = "smtp://127.0.0.1:1"
    mia = teammate(app, client, api)
    mia.patch("/users/me/notification-settings", {"kinds": {"assigned": {"email": False}}})
    api.create("/tasks", {"title": "No mail for this", "owner_id": mia.user_id})
    with app.app_context():
        assert db.session.query(MailOutbox).count() == 0
        accounts.set_time_zone(db.session.get(User, mia.user_id), "UTC")
    mia.patch("/users/me/notification-settings", {"kinds": {"assigned": {"email": True}}})
    api.create("/tasks", {"title": "Mail for this", "owner_id": mia.user_id})
    with app.app_context():
        (row,) = db.session.query(MailOutbox).all()
        assert row.to_address == "mia@acme.test" and row.subject == "Olive Owner assigned you: Mail for this"


def test_remind_at_and_reminded_at_are_read_only(api):
    for field in ("remind_at", "reminded_at"):
        response = api.post("/tasks", {"title": "t", field: "2030-01-01T00:00:00Z"})
        assert response.status_code == 400
        assert response.get_json()["error"]["details"] == {field: ["This field is read-only."]}
        task = api.create("/tasks", {"title": "t"})
        patched = api.patch(f"/tasks/{task['id']}", {field: None})
        assert patched.get_json()["error"]["details"] == {field: ["This field is read-only."]}


def test_openapi_documents_the_notification_endpoints_and_task_reminder_fields(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for path, method in (("/notifications", "get"), ("/notifications/{record_id}/read", "post"),
                         ("/notifications/read-all", "post"), ("/users/me/notification-settings", "get"),
                         ("/users/me/notification-settings", "patch")):
        operation = paths[path][method]
        assert operation["x-required-scopes"] == [] and "Needs any valid API key." in operation["description"]
    listed = paths["/notifications"]["get"]
    assert "unread" in {p["name"] for p in listed["parameters"]}
    schemas = document["components"]["schemas"]
    assert {"remind_at", "reminded_at"} <= set(schemas["TaskOut"]["required"])
    assert "remind_at" not in schemas["TaskInput"]["properties"]
    read_all = paths["/notifications/read-all"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert read_all == {"$ref": "#/components/schemas/ReadAllResponse"}
    assert schemas["ReadAllResponse"]["properties"]["data"] == {"$ref": "#/components/schemas/ReadAllOut"}
    assert set(schemas["NotificationSettingsOut"]["required"]) == {"kinds", "digest", "email_configured"}
