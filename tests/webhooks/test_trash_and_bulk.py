"""Events from bulk actions and from the trash (docs/webhooks.md, "Trash and restore"), to a real
receiver on 127.0.0.1, every signature checked with the `standardwebhooks` library."""

from __future__ import annotations

from tests.webhooks.test_deliveries import subscribe


def make_tasks(api, *titles, **fields):
    return [api.create("/tasks", {"title": title, **fields}) for title in titles]


def test_a_bulk_complete_sends_task_completed_for_each_task(api, receiver):
    hook = subscribe(api, receiver.url, ["task.completed", "task.updated"])
    first, second, untouched = make_tasks(api, "Call Ada", "Mail Grace", "Left alone")
    response = api.post("/tasks/bulk", {"ids": [first["id"], second["id"]], "action": "complete"})
    assert response.status_code == 200

    events = receiver.payloads(hook["secret"])
    assert [(e["type"], e["data"]["id"]) for e in events] == [
        ("task.completed", first["id"]), ("task.completed", second["id"])]
    for event in events:
        assert event["changes"]["status"] == {"from": "pending", "to": "completed"}
        assert event["data"] == api.get(f"/tasks/{event['data']['id']}").get_json()["data"]
    assert untouched["id"] not in {e["data"]["id"] for e in events}
    # Completing them again changes nothing, and sends nothing.
    assert api.post("/tasks/bulk", {"ids": [first["id"]], "action": "complete"}).status_code == 200
    assert len(receiver.requests) == 2


def test_a_bulk_delete_sends_task_deleted_with_each_task_as_it_was(api, receiver):
    hook = subscribe(api, receiver.url, ["task.*"])
    tasks = make_tasks(api, "Old lead", "Stale follow-up")
    shown = [api.get(f"/tasks/{t['id']}").get_json()["data"] for t in tasks]
    ids = [t["id"] for t in tasks]
    assert api.post("/tasks/bulk", {"ids": ids, "action": "delete"}).status_code == 200

    events = receiver.payloads(hook["secret"])[2:]  # after the two task.created
    assert [(e["type"], e["data"]) for e in events] == [("task.deleted", shown[0]), ("task.deleted", shown[1])]
    assert all("changes" not in e for e in events)
    # Already in the trash: a second bulk delete announces nothing.
    assert api.post("/tasks/bulk", {"ids": ids, "action": "delete"}).status_code == 200
    assert len(receiver.requests) == 4


def test_restoring_a_task_sends_task_created_with_the_task_as_it_is_now(api, receiver):
    hook = subscribe(api, receiver.url, ["task.*"])
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    [task] = make_tasks(api, "Send the contract", contact_id=ada["id"])
    assert api.delete(f"/tasks/{task['id']}").status_code == 204
    restored = api.post(f"/tasks/{task['id']}/restore")
    assert restored.status_code == 200

    events = receiver.payloads(hook["secret"])
    assert [e["type"] for e in events] == ["task.created", "task.deleted", "task.created"]
    assert events[2]["data"] == restored.get_json()["data"]
    assert events[2]["data"]["contact_id"] == ada["id"] and "changes" not in events[2]
    assert len({e["id"] for e in events}) == 3  # a new event, not the first one sent again


def test_a_bulk_restore_sends_task_created_for_each_task(api, receiver):
    hook = subscribe(api, receiver.url, ["task.created"])
    tasks = make_tasks(api, "One", "Two")
    ids = [t["id"] for t in tasks]
    assert api.post("/tasks/bulk", {"ids": ids, "action": "delete"}).status_code == 200
    assert api.post("/tasks/bulk", {"ids": ids, "action": "restore"}).status_code == 200

    events = receiver.payloads(hook["secret"])
    assert [(e["type"], e["data"]["id"]) for e in events] == [
        ("task.created", ids[0]), ("task.created", ids[1]), ("task.created", ids[0]), ("task.created", ids[1])]
    assert [e["data"] for e in events[2:]] == [api.get(f"/tasks/{i}").get_json()["data"] for i in ids]


def test_restoring_a_contact_sends_contact_created_and_no_update_of_its_tasks(api, receiver):
    hook = subscribe(api, receiver.url)
    grace = api.create("/contacts", {"first_name": "Grace", "last_name": "Hopper"})
    [task] = make_tasks(api, "Call Grace", contact_id=grace["id"])
    assert api.delete(f"/contacts/{grace['id']}").status_code == 204
    assert api.get(f"/tasks/{task['id']}").get_json()["data"]["contact_id"] is None
    assert api.post(f"/contacts/{grace['id']}/restore").status_code == 200

    events = receiver.payloads(hook["secret"])
    assert [e["type"] for e in events] == ["contact.created", "task.created", "contact.deleted", "contact.created"]
    assert events[2]["data"] == events[0]["data"]  # as it was when it went to the trash
    assert events[3]["data"] == api.get(f"/contacts/{grace['id']}").get_json()["data"]
    assert api.get(f"/tasks/{task['id']}").get_json()["data"]["contact_id"] == grace["id"]
