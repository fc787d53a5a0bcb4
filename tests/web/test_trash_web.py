"""The trash page, "Deleted — Undo" and the task list's bulk bar, with and without htmx."""

import json
import re

import pytest

HTMX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(app, client):
    from tests.conftest import make_account

    ws_id, user_id, _secret = make_account(app)
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    response = client.post("/login", data={"email": "owner@acme.test", "password": "correct horse",
                                           "csrf_token": token})
    assert response.status_code in (302, 303)
    return client


def csrf(client, path="/tasks"):
    page = client.get(path)
    return re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()


def add_task(client, title, **fields):
    response = client.post("/tasks", data={"title": title, "csrf_token": csrf(client), **fields})
    assert response.status_code in (302, 303), response.data
    return re.search(rb'id="task-(task_[0-9A-Z]+)"[^>]*>(?:(?!</li>).)*?' + re.escape(title.encode()),
                     client.get("/tasks?view=all").data, re.S).group(1).decode()


def toast_of(response):
    return json.loads(response.headers["HX-Trigger"])["followup:toast"]


def test_deleting_a_task_without_js_flashes_an_undo_form_that_restores_it(signed_in):
    client = signed_in
    task_id = add_task(client, "Send the contract")
    response = client.post(f"/tasks/{task_id}/delete", data={"csrf_token": csrf(client), "next": "/tasks?view=all"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).data.decode()
    assert "Deleted “Send the contract”." in page
    undo = re.search(r'<form method="post" action="([^"]+)" class="inline">\s*<input type="hidden" name="csrf_token" '
                     r'value="([^"]+)">\s*<button type="submit" class="link">Undo</button>', page)
    assert undo and "/restore" in undo.group(1)
    assert f'id="task-{task_id}"' not in page
    back = client.post(undo.group(1).replace("&amp;", "&"), data={"csrf_token": undo.group(2)})
    assert back.status_code == 303 and back.headers["Location"].startswith("/tasks?view=all")
    assert f'id="task-{task_id}"' in client.get("/tasks?view=all").data.decode()


def test_deleting_a_task_with_htmx_toasts_undo_and_undo_refreshes(signed_in):
    client = signed_in
    task_id = add_task(client, "Call Ada")
    token = csrf(client)
    response = client.post(f"/tasks/{task_id}/delete", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200
    toast = toast_of(response)
    assert toast["message"] == "Deleted “Call Ada”." and "/restore" in toast["undo_url"]
    undo = client.post(toast["undo_url"], headers={**HTMX, "X-CSRFToken": token})
    assert undo.headers["HX-Refresh"] == "true"
    assert f'id="task-{task_id}"' in client.get("/tasks?view=all").data.decode()


def test_restore_needs_csrf(signed_in):
    client = signed_in
    task_id = add_task(client, "Call Ada")
    client.post(f"/tasks/{task_id}/delete", data={"csrf_token": csrf(client)})
    assert client.post(f"/trash/task/{task_id}/restore").status_code == 400


def test_trash_page_lists_with_erase_date_filters_by_kind_and_restores(signed_in):
    client = signed_in
    task_id = add_task(client, "Old task")
    client.post(f"/tasks/{task_id}/delete", data={"csrf_token": csrf(client)})
    page = client.get("/trash").data.decode()
    assert "Old task" in page and "Erased on" in page and f'id="trash-{task_id}"' in page
    assert "Old task" not in client.get("/trash?kind=deal").data.decode()
    response = client.post(f"/trash/task/{task_id}/restore",
                           headers={**HTMX, "X-CSRFToken": csrf(client), "HX-Target": f"trash-{task_id}"})
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert toast_of(response)["message"] == "Restored “Old task”."
    assert "Old task" not in client.get("/trash").data.decode()
    assert client.post("/trash/task/task_01JD3K0000000000000000000X/restore",
                       data={"csrf_token": csrf(client)}).status_code == 404
    assert "Open the trash" in client.get("/settings").data.decode()


def test_bulk_complete_without_js_then_undo_reopens(signed_in):
    client = signed_in
    ids = [add_task(client, f"task {i}") for i in range(3)]
    page = client.get("/tasks").data.decode()
    assert page.count('form="bulk" name="ids"') == 3
    assert 'aria-label="Select: task 0"' in page
    response = client.post("/tasks/bulk", data={"csrf_token": csrf(client), "ids": ids[:2], "action": "complete",
                                                 "next": "/tasks?view=all"})
    assert response.status_code == 303 and response.headers["Location"] == "/tasks?view=all"
    page = client.get("/tasks?view=all").data.decode()
    assert "Completed 2 tasks." in page
    assert page.count('class="row task-row prio-normal is-done"') == 2
    undo = re.search(r'action="(/tasks/bulk/undo/[^"]+)"', page).group(1).replace("&amp;", "&")
    client.post(undo, data={"csrf_token": csrf(client)})
    assert 'is-done' not in client.get("/tasks?view=all").data.decode()


def test_bulk_with_htmx_answers_the_list_and_a_toast(signed_in):
    client = signed_in
    ids = [add_task(client, f"task {i}") for i in range(2)]
    response = client.post("/tasks/bulk", data={"ids": ids, "action": "delete", "next": "/tasks?view=all"},
                           headers={**HTMX, "X-CSRFToken": csrf(client)})
    assert response.status_code == 200
    body = response.data.decode()
    assert 'id="task-list"' in body and "<html" not in body and ids[0] not in body
    toast = toast_of(response)
    assert toast["message"] == "Deleted 2 tasks." and toast["undo_url"]
    undo = client.post(toast["undo_url"], headers={**HTMX, "X-CSRFToken": csrf(client)})
    assert undo.headers["HX-Refresh"] == "true"
    page = client.get("/tasks?view=all").data.decode()
    assert all(f'id="task-{i}"' in page for i in ids)


def test_bulk_reassign_and_reschedule(signed_in, app):
    from crm.extensions import db
    from crm.models import Task, User
    from crm.services import accounts

    client = signed_in
    ids = [add_task(client, f"task {i}") for i in range(2)]
    with app.app_context():
        me = db.session.execute(db.select(User)).scalar_one()
        other = accounts.create_user(me.workspace, email="sam@acme.test", name="Sam", role="member", password="pw pw pw pw")
        other_id = other.id
    client.post("/tasks/bulk", data={"csrf_token": csrf(client), "ids": ids, "action": "reassign",
                                     "owner_id": other_id})
    client.post("/tasks/bulk", data={"csrf_token": csrf(client), "ids": ids, "action": "reschedule",
                                     "due": "date", "due_date": "2031-03-04"})
    with app.app_context():
        for task in db.session.execute(db.select(Task)).unique().scalars():
            assert task.owner_id == other_id
            assert task.due_at.isoformat() == "2031-03-04T09:00:00"


def test_bulk_without_selection_or_with_a_stale_id_changes_nothing(signed_in):
    client = signed_in
    task_id = add_task(client, "keep me")
    response = client.post("/tasks/bulk", data={"csrf_token": csrf(client), "action": "delete"})
    assert response.status_code == 303
    assert "Select at least one task" in client.get(response.headers["Location"]).data.decode()
    response = client.post("/tasks/bulk", data={"csrf_token": csrf(client), "action": "delete",
                                                 "ids": [task_id, "task_01JD3K0000000000000000000X"]})
    assert "Nothing was changed" in client.get(response.headers["Location"]).data.decode()
    assert f'id="task-{task_id}"' in client.get("/tasks?view=all").data.decode()


def test_select_all_shown_without_js_acts_on_the_view(signed_in):
    client = signed_in
    for i in range(3):
        add_task(client, f"task {i}")
    client.post("/tasks/bulk", data={"csrf_token": csrf(client), "all_shown": "1", "action": "complete",
                                     "next": "/tasks?view=all"})
    assert client.get("/tasks?view=all").data.decode().count("is-done") == 3


def test_deleting_an_activity_offers_undo(signed_in):
    client = signed_in
    response = client.post("/activities", data={"type": "note", "body": "Met Ada", "csrf_token": csrf(client, "/activities")})
    assert response.status_code in (302, 303)
    page = client.get("/activities").data.decode()
    activity_id = re.search(r'id="activity-(act_[0-9A-Z]+)"', page).group(1)
    response = client.post(f"/activities/{activity_id}/delete", headers={**HTMX, "X-CSRFToken": csrf(client)})
    toast = toast_of(response)
    assert toast["message"].startswith("Deleted") and "/trash/activity/" in toast["undo_url"]
