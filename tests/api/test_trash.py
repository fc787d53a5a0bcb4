"""The trash (SPEC §13): a deleted record vanishes everywhere, comes back with its links, and is
erased for good 30 days later."""

from datetime import timedelta

import pytest

from crm import clock


@pytest.fixture(autouse=True)
def clock_reset():
    yield
    clock.set_offset(timedelta(0))


def test_a_deleted_task_is_gone_everywhere_until_restored(api):
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    task = api.create("/tasks", {"title": "Send the contract", "contact_id": ada["id"], "due_at": "2099-01-02"})
    assert api.delete(f"/tasks/{task['id']}").status_code == 204

    assert api.get(f"/tasks/{task['id']}").status_code == 404
    assert api.patch(f"/tasks/{task['id']}", {"title": "x"}).status_code == 404
    assert api.post(f"/tasks/{task['id']}/complete").status_code == 404
    assert api.delete(f"/tasks/{task['id']}").status_code == 404
    assert api.get("/tasks").get_json()["data"] == []
    assert api.get("/tasks?q=contract").get_json()["data"] == []
    assert api.get("/tasks?include_total=true").get_json()["total"] == 0
    assert api.get(f"/activities/feed?contact_id={ada['id']}").get_json()["data"] == []

    restored = api.post(f"/tasks/{task['id']}/restore")
    assert restored.status_code == 200
    body = restored.get_json()["data"]
    assert body["contact_id"] == ada["id"]
    assert body["relationships"]["contact"]["name"] == "Ada Lovelace"
    assert [t["id"] for t in api.get("/tasks?q=contract").get_json()["data"]] == [task["id"]]
    # Restored once: no longer in the trash.
    assert api.post(f"/tasks/{task['id']}/restore").status_code == 404


def test_links_to_a_trashed_contact_read_null_and_come_back_on_restore(api):
    acme = api.create("/companies", {"name": "Acme"})
    ada = api.create("/contacts", {"first_name": "Ada", "company_id": acme["id"]})
    task = api.create("/tasks", {"title": "Call", "contact_id": ada["id"]})
    act = api.create("/activities", {"type": "meeting", "contact_id": ada["id"], "attendees": [ada["id"]]})
    deal = api.create("/deals", {"name": "Pilot", "contact_id": ada["id"]})

    assert api.delete(f"/contacts/{ada['id']}").status_code == 204
    assert api.get(f"/contacts/{ada['id']}").status_code == 404
    got = api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert got["contact_id"] is None and got["relationships"]["contact"] is None
    listed = api.get("/tasks").get_json()["data"][0]
    assert listed["contact_id"] is None and listed["relationships"]["contact"] is None
    got_act = api.get(f"/activities/{act['id']}").get_json()["data"]
    assert got_act["contact_id"] is None and got_act["attendees"] == []
    assert api.get(f"/deals/{deal['id']}").get_json()["data"]["contact_id"] is None
    # Not a valid link while trashed, and not found by name.
    bad = api.post("/tasks", {"title": "x", "contact_id": ada["id"]})
    assert bad.status_code == 400 and "contact_id" in bad.get_json()["error"]["details"]
    assert api.post("/tasks", {"title": "x", "contact_name": "Ada"}).status_code == 400
    assert api.get("/contacts?q=ada").get_json()["data"] == []

    assert api.post(f"/contacts/{ada['id']}/restore").status_code == 200
    got = api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert got["contact_id"] == ada["id"] and got["relationships"]["contact"]["name"] == "Ada"
    got_act = api.get(f"/activities/{act['id']}").get_json()["data"]
    assert got_act["contact_id"] == ada["id"] and got_act["attendees"] == [ada["id"]]
    assert api.get(f"/deals/{deal['id']}").get_json()["data"]["contact_id"] == ada["id"]
    assert api.get(f"/contacts/{ada['id']}").get_json()["data"]["company_id"] == acme["id"]


def test_a_link_changed_while_trashed_is_kept_on_restore(api):
    acme = api.create("/companies", {"name": "Acme"})
    globex = api.create("/companies", {"name": "Globex"})
    task = api.create("/tasks", {"title": "Call", "company_id": acme["id"]})
    api.delete(f"/companies/{acme['id']}")
    api.patch(f"/tasks/{task['id']}", {"company_id": globex["id"]})
    api.post(f"/companies/{acme['id']}/restore")
    assert api.get(f"/tasks/{task['id']}").get_json()["data"]["company_id"] == globex["id"]


def test_trash_list_newest_first_with_kind_filter_and_cursor(api):
    ids = []
    for i in range(3):
        task = api.create("/tasks", {"title": f"t{i}"})
        api.delete(f"/tasks/{task['id']}")
        ids.append(task["id"])
        clock.travel(timedelta(seconds=5))
    deal = api.create("/deals", {"name": "Pilot"})
    api.delete(f"/deals/{deal['id']}")

    body = api.get("/trash?limit=2").get_json()
    assert [(i["type"], i["id"]) for i in body["data"]] == [("deal", deal["id"]), ("task", ids[2])]
    assert body["data"][0]["name"] == "Pilot"
    item = body["data"][1]
    assert item["erase_at"] > item["deleted_at"]
    rest = api.get(f"/trash?limit=2&cursor={body['next_cursor']}").get_json()
    assert [i["id"] for i in rest["data"]] == [ids[1], ids[0]] and rest["has_more"] is False
    assert [i["id"] for i in api.get("/trash?kind=deal").get_json()["data"]] == [deal["id"]]
    bad = api.get(f"/trash?kind=deal&cursor={body['next_cursor']}")
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["details"]


def test_trash_list_shows_only_what_the_key_may_read(api, key_with_scopes, other_api):
    task = api.create("/tasks", {"title": "t"})
    api.delete(f"/tasks/{task['id']}")
    deal = api.create("/deals", {"name": "Pilot"})
    api.delete(f"/deals/{deal['id']}")
    tasks_only = key_with_scopes("tasks:read")
    assert [i["id"] for i in tasks_only.get("/trash").get_json()["data"]] == [task["id"]]
    refused = tasks_only.get("/trash?kind=deal")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_permissions"
    assert other_api.get("/trash").get_json()["data"] == []
    assert other_api.post(f"/tasks/{task['id']}/restore").status_code == 404
    assert key_with_scopes("tasks:read").post(f"/tasks/{task['id']}/restore").status_code == 403


def test_trash_list_statements_do_not_grow_with_the_items(api, count_queries):
    for i in range(12):
        for path, payload in (("/tasks", {"title": f"t{i}"}), ("/companies", {"name": f"c{i}"})):
            api.delete(f"{path}/{api.create(path, payload)['id']}")
    with count_queries() as few:
        assert len(api.get("/trash?limit=2").get_json()["data"]) == 2
    with count_queries() as many:
        assert len(api.get("/trash?limit=20").get_json()["data"]) == 20
    assert len(many) == len(few)
    trash_selects = [s for s in many if "deleted_at IS NOT NULL" in s]
    assert len(trash_selects) == 1


def test_purge_erases_after_30_days_and_restore_then_404s(api, app):
    from crm.services import trash

    acme = api.create("/companies", {"name": "Acme"})
    task = api.create("/tasks", {"title": "Call", "company_id": acme["id"]})
    kept = api.create("/tasks", {"title": "recent"})
    api.delete(f"/companies/{acme['id']}")
    api.delete(f"/tasks/{task['id']}")
    clock.travel(timedelta(days=29))
    api.delete(f"/tasks/{kept['id']}")
    with app.app_context():
        assert trash.purge() == 0
    clock.travel(timedelta(days=1, seconds=1))
    # Past 30 days: no longer restorable, even before the purge ran.
    assert api.post(f"/companies/{acme['id']}/restore").status_code == 404
    assert {i["id"] for i in api.get("/trash").get_json()["data"]} == {kept["id"]}
    with app.app_context():
        assert trash.purge() == 2
    assert api.post(f"/tasks/{task['id']}/restore").status_code == 404
    assert api.post(f"/tasks/{kept['id']}/restore").status_code == 200


def test_purge_trash_command(api, app, runner):
    task = api.create("/tasks", {"title": "old"})
    api.delete(f"/tasks/{task['id']}")
    clock.travel(timedelta(days=31))
    result = runner.invoke(args=["crm", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert api.post(f"/tasks/{task['id']}/restore").status_code == 404


def test_a_restored_task_rearms_its_future_reminder(api, app):
    from crm.extensions import db
    from crm.models import Task

    task = api.create("/tasks", {"title": "Call", "due_at": "2099-01-02T10:00:00Z",
                                 "reminder": {"before_minutes": 30, "type": "email"}})
    api.delete(f"/tasks/{task['id']}")
    with app.app_context():
        row = db.session.execute(db.select(Task).where(Task.id == task["id"])
                                 .execution_options(include_trashed=True)).unique().scalar_one()
        assert row.reminder_pending_at is None
    api.post(f"/tasks/{task['id']}/restore")
    with app.app_context():
        assert db.session.get(Task, task["id"]).reminder_pending_at is not None


def test_a_resent_external_id_replaces_the_trashed_activity(api):
    first = api.create("/activities", {"type": "call", "source": "dialer", "external_id": "c-1", "subject": "old"})
    api.delete(f"/activities/{first['id']}")
    again = api.post("/activities", {"type": "call", "source": "dialer", "external_id": "c-1", "subject": "new"})
    assert again.status_code == 201
    assert again.get_json()["data"]["id"] != first["id"]
    assert api.post(f"/activities/{first['id']}/restore").status_code == 404


@pytest.mark.parametrize("path,payload", [
    ("/activities", {"type": "note", "body": "x"}),
    ("/companies", {"name": "Acme"}),
    ("/deals", {"name": "Pilot"}),
])
def test_every_kind_goes_to_the_trash_and_back(api, path, payload):
    record = api.create(path, payload)
    assert api.delete(f"{path}/{record['id']}").status_code == 204
    assert api.get(f"{path}/{record['id']}").status_code == 404
    assert api.get(path).get_json()["data"] == []
    assert api.post(f"{path}/{record['id']}/restore").status_code == 200
    assert [r["id"] for r in api.get(path).get_json()["data"]] == [record["id"]]


def test_list_queries_still_use_their_index_on_sqlite(sqlite_api):
    """The list indexes end with deleted_at, so leaving the trash out costs no extra row reads."""
    from sqlalchemy import event

    from crm.extensions import db

    app, api = sqlite_api
    for i in range(3):
        api.create("/tasks", {"title": f"t{i}"})
    seen = []

    def capture(conn, cursor, statement, parameters, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM tasks" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert len(api.get("/tasks").get_json()["data"]) == 3
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    (statement, parameters), = seen
    assert "deleted_at IS NULL" in statement
    with app.app_context():
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    assert any("ix_tasks_ws_created" in row[-1] for row in plan), plan
