"""Webhook deliveries to a real HTTP receiver on 127.0.0.1, every signature checked with the
`standardwebhooks` library. Jobs run in this process right after each commit (immediate mode);
retries are made by moving the clock and running the dispatcher, as a worker's poll does."""

from __future__ import annotations

from datetime import timedelta

from crm import clock, queue
from crm.extensions import db
from crm.models import Webhook, WebhookDelivery
from tests.conftest import make_account


def subscribe(api, url, events=("*",), **extra):
    response = api.post("/webhooks", {"url": url, "events": list(events), **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def run_due(app, after: timedelta) -> None:
    """Move the clock by `after`, then dispatch what is due (a worker's poll)."""
    clock.travel(after)
    with app.app_context():
        queue.dispatch()


def test_each_event_is_signed_and_carries_the_record_as_the_api_shows_it(api, receiver):
    hook = subscribe(api, receiver.url)
    secret = hook["secret"]
    assert secret.startswith("whsec_")

    contact = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    task = api.create("/tasks", {"title": "Call Ada", "contact_id": contact["id"]})
    assert api.patch(f"/tasks/{task['id']}", {"title": "Call Ada back", "priority": "high"}).status_code == 200
    assert api.post(f"/tasks/{task['id']}/complete").status_code == 200
    assert api.post(f"/tasks/{task['id']}/reopen").status_code == 200
    shown = api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert api.delete(f"/tasks/{task['id']}").status_code == 204

    events = receiver.payloads(secret)  # each verified by standardwebhooks, or this raises
    assert [e["type"] for e in events] == ["contact.created", "task.created", "task.updated",
                                            "task.completed", "task.reopened", "task.deleted"]
    assert events[0]["data"] == contact
    assert events[1]["data"] == task
    assert events[2]["changes"] == {"title": {"from": "Call Ada", "to": "Call Ada back"},
                                    "priority": {"from": "normal", "to": "high"}}
    assert events[3]["changes"]["status"] == {"from": "pending", "to": "completed"}
    assert events[4]["changes"]["status"] == {"from": "completed", "to": "pending"}
    assert events[5]["data"] == shown
    assert "changes" not in events[1] and "changes" not in events[5]
    assert all(e["id"].startswith("evt_") and e["created_at"].endswith("Z") for e in events)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == len(ids) and all(i.startswith("msg_") for i in ids)
    assert all(r.headers["Content-Type"] == "application/json" for r in receiver.requests)

    log = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert [d["event_type"] for d in log] == ["task.deleted", "task.reopened", "task.completed", "task.updated",
                                              "task.created", "contact.created"]
    assert all(d["state"] == "succeeded" and d["status_code"] == 200 and d["attempts"] == 1 for d in log)
    assert log[0]["response_body"] == '{"received": 6}'
    assert all(d["duration_ms"] is not None and d["duration_ms"] >= 0 for d in log)


def test_an_update_that_changes_nothing_sends_nothing(api, receiver):
    hook = subscribe(api, receiver.url, ["task.updated"])
    task = api.create("/tasks", {"title": "Same"})
    assert api.patch(f"/tasks/{task['id']}", {"title": "Same"}).status_code == 200
    assert receiver.requests == []
    assert api.patch(f"/tasks/{task['id']}", {"title": "Other"}).status_code == 200
    assert [e["type"] for e in receiver.payloads(hook["secret"])] == ["task.updated"]


def test_events_match_exact_types_and_resource_wildcards(api, receiver):
    hook = subscribe(api, receiver.url, ["contact.*", "task.completed"])
    contact = api.create("/contacts", {"first_name": "Grace"})
    task = api.create("/tasks", {"title": "Not sent"})
    api.create("/companies", {"name": "Not sent either"})
    api.post(f"/tasks/{task['id']}/complete")
    api.patch(f"/contacts/{contact['id']}", {"last_name": "Hopper"})
    api.delete(f"/contacts/{contact['id']}")
    events = receiver.payloads(hook["secret"])
    assert [e["type"] for e in events] == ["contact.created", "task.completed", "contact.updated",
                                            "contact.deleted"]
    assert events[2]["changes"] == {"last_name": {"from": None, "to": "Hopper"},
                                    "name": {"from": "Grace", "to": "Grace Hopper"}}


def test_activities_companies_and_deals_are_sent_too(api, receiver):
    hook = subscribe(api, receiver.url)
    company = api.create("/companies", {"name": "Initech"})
    deal = api.create("/deals", {"name": "Renewal", "amount": "1200.50", "company_id": company["id"]})
    activity = api.create("/activities", {"type": "call", "subject": "Intro call"})
    api.patch(f"/deals/{deal['id']}", {"stage": "won"})
    api.patch(f"/activities/{activity['id']}", {"subject": "Intro call (long)"})
    api.delete(f"/activities/{activity['id']}")
    api.patch(f"/companies/{company['id']}", {"domain": "initech.example"})
    api.delete(f"/deals/{deal['id']}")
    api.delete(f"/companies/{company['id']}")
    events = receiver.payloads(hook["secret"])
    assert [e["type"] for e in events] == [
        "company.created", "deal.created", "activity.created", "deal.updated", "activity.updated",
        "activity.deleted", "company.updated", "deal.deleted", "company.deleted"]
    assert events[1]["data"] == deal and events[2]["data"] == activity
    assert events[3]["changes"] == {"stage": {"from": None, "to": "won"}}


def test_a_receiver_failing_three_times_gets_the_fourth_attempt(app, api, receiver):
    receiver.status = lambda n: 503 if n <= 3 else 204
    hook = subscribe(api, receiver.url, ["task.created"])
    task = api.create("/tasks", {"title": "Retry me"})
    assert len(receiver.requests) == 1

    [delivery] = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert delivery["state"] == "pending" and delivery["status_code"] == 503 and delivery["attempts"] == 1
    run_due(app, timedelta(seconds=20))  # not due yet: the first retry waits 30 s
    assert len(receiver.requests) == 1
    for wait in (timedelta(seconds=11), timedelta(seconds=60), timedelta(seconds=120)):
        run_due(app, wait)  # 30 s, then 60 s, then 120 s after each failure
    assert len(receiver.requests) == 4
    run_due(app, timedelta(hours=1))
    assert len(receiver.requests) == 4  # succeeded: not sent again

    payloads = receiver.payloads(hook["secret"])
    assert all(p["data"]["id"] == task["id"] for p in payloads)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, four attempts
    [delivery] = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert (delivery["state"], delivery["attempts"], delivery["status_code"]) == ("succeeded", 4, 204)


def test_events_of_one_record_wait_for_the_earlier_one(app, api, receiver):
    receiver.status = lambda n: 500 if n == 1 else 200
    hook = subscribe(api, receiver.url, ["task.*"])
    task = api.create("/tasks", {"title": "First"})  # fails, retried in 30 s
    api.patch(f"/tasks/{task['id']}", {"title": "Second"})
    api.patch(f"/tasks/{task['id']}", {"title": "Third"})
    other = api.create("/tasks", {"title": "Another record"})  # not held back
    assert [p["data"]["title"] for p in receiver.payloads(hook["secret"])] == ["First", "Another record"]

    run_due(app, timedelta(seconds=31))
    payloads = receiver.payloads(hook["secret"])
    assert [(p["type"], p["data"]["title"]) for p in payloads[2:]] == [
        ("task.created", "First"), ("task.updated", "Second"), ("task.updated", "Third")]
    assert payloads[1]["data"]["id"] == other["id"]
    log = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert {d["state"] for d in log} == {"succeeded"}


def test_redeliver_sends_the_same_message_again(api, receiver):
    hook = subscribe(api, receiver.url)
    api.create("/companies", {"name": "Globex"})
    [first] = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    response = api.post(f"/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver")
    assert response.status_code == 201
    again = response.get_json()["data"]
    assert again["id"] != first["id"] and again["state"] == "succeeded" and again["manual"] is True
    assert response.headers["Location"].endswith(f"/webhooks/{hook['id']}/deliveries/{again['id']}")
    one, two = receiver.requests
    assert one.body == two.body and one.headers["webhook-id"] == two.headers["webhook-id"]
    assert two.verified(hook["secret"])["type"] == "company.created"
    missing = api.post(f"/webhooks/{hook['id']}/deliveries/whd_01JD3K0000000000000000000Z/redeliver")
    assert missing.status_code == 404


def test_test_ping(api, receiver):
    hook = subscribe(api, receiver.url, ["deal.created"])
    response = api.post(f"/webhooks/{hook['id']}/test")
    assert response.status_code == 201
    delivery = response.get_json()["data"]
    assert delivery["event_type"] == "ping" and delivery["state"] == "succeeded"
    [ping] = receiver.payloads(hook["secret"])
    assert ping["type"] == "ping" and ping["data"] == {"webhook_id": hook["id"], "url": receiver.url}


def test_failing_for_three_days_disables_the_webhook_and_tells_its_owner(app, api, receiver):
    receiver.status = lambda n: 500
    hook = subscribe(api, receiver.url, ["task.created"])
    api.create("/tasks", {"title": "Never received"})
    started = clock.now()
    for _ in range(20):
        if not api.get(f"/webhooks/{hook['id']}").get_json()["data"]["active"]:
            break
        run_due(app, timedelta(hours=6))
    shown = api.get(f"/webhooks/{hook['id']}").get_json()["data"]
    assert shown["active"] is False and shown["disabled_at"] is not None
    assert timedelta(hours=66) <= clock.now() - started <= timedelta(hours=80)
    [delivery] = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert delivery["state"] == "failed" and delivery["attempts"] == len(receiver.requests) >= 10
    notes = api.get("/notifications").get_json()["data"]
    assert [n["kind"] for n in notes] == ["webhook_disabled"]
    assert receiver.url in notes[0]["title"]

    # Disabled: new events are not sent; enabled again, they are.
    count = len(receiver.requests)
    receiver.status = lambda n: 200
    api.create("/tasks", {"title": "While disabled"})
    assert len(receiver.requests) == count
    assert api.patch(f"/webhooks/{hook['id']}", {"active": True}).get_json()["data"]["disabled_at"] is None
    api.create("/tasks", {"title": "Enabled again"})
    assert receiver.payloads(hook["secret"])[-1]["data"]["title"] == "Enabled again"


def test_nothing_is_delivered_for_another_workspace(app, api, other_api, receiver):
    hook = subscribe(api, receiver.url)
    other_api.create("/tasks", {"title": "Globex's own"})
    other_api.create("/contacts", {"first_name": "Gus"})
    assert receiver.requests == []
    for path in (f"/webhooks/{hook['id']}", f"/webhooks/{hook['id']}/deliveries"):
        assert other_api.get(path).status_code == 404
    assert other_api.post(f"/webhooks/{hook['id']}/test").status_code == 404
    assert other_api.get("/webhooks").get_json()["data"] == []
    api.create("/tasks", {"title": "Ours"})
    assert [p["data"]["title"] for p in receiver.payloads(hook["secret"])] == ["Ours"]


def test_only_admins_keys_with_the_scope_manage_webhooks(app, client, api, key_with_scopes, receiver):
    from tests.conftest import Api

    _ws, member_id, member_key = make_account(app, email="mel@acme.test", name="Mel Member", role="member")
    member = Api(client, member_key, api.workspace_id, member_id)
    refused = member.post("/webhooks", {"url": receiver.url, "events": ["*"]})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_permissions"
    assert member.get("/webhooks").status_code == 403
    no_scope = key_with_scopes("tasks:write").post("/webhooks", {"url": receiver.url, "events": ["*"]})
    assert no_scope.status_code == 403 and "webhooks:write" in no_scope.get_json()["error"]["message"]


def test_the_secret_is_shown_once_and_fields_are_checked(app, api, receiver):
    hook = subscribe(api, receiver.url, ["task.created"], description="CRM sync")
    shown = api.get(f"/webhooks/{hook['id']}").get_json()["data"]
    assert "secret" not in shown and shown["description"] == "CRM sync" and shown["active"] is True
    assert [w["id"] for w in api.get("/webhooks").get_json()["data"]] == [hook["id"]]
    with app.app_context():
        assert db.session.get(Webhook, hook["id"]).secret == hook["secret"]
    bad = api.post("/webhooks", {"url": receiver.url, "events": ["task.exploded"]})
    assert bad.status_code == 400 and list(bad.get_json()["error"]["details"]) == ["events.0"]
    bad = api.post("/webhooks", {"url": "ftp://example.com/x", "events": ["*"]})
    assert bad.status_code == 400 and "url" in bad.get_json()["error"]["details"]
    bad = api.post("/webhooks", {"url": receiver.url, "events": []})
    assert bad.status_code == 400 and "events" in bad.get_json()["error"]["details"]
    assert api.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert api.get(f"/webhooks/{hook['id']}").status_code == 404


def test_the_hourly_purge_removes_deliveries_older_than_30_days(app, api, receiver):
    hook = subscribe(api, receiver.url)
    api.create("/companies", {"name": "Old news"})
    clock.travel(timedelta(days=29))
    api.create("/companies", {"name": "Recent"})
    clock.travel(timedelta(days=2))
    assert len(api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]) == 1  # the log: 30 days
    with app.app_context():
        queue.purge_expired_records({})
        db.session.commit()
        assert db.session.query(WebhookDelivery).count() == 1


def test_completing_a_recurring_task_announces_its_next_occurrence(api, receiver):
    hook = subscribe(api, receiver.url, ["task.*"])
    task = api.create("/tasks", {"title": "Weekly report", "due_at": "2026-03-16T09:00:00Z",
                                 "recurrence": "FREQ=WEEKLY;BYDAY=MO"})
    done = api.post(f"/tasks/{task['id']}/complete").get_json()["data"]
    events = receiver.payloads(hook["secret"])[1:]
    assert sorted(e["type"] for e in events) == ["task.completed", "task.created"]
    created = next(e for e in events if e["type"] == "task.created")
    assert created["data"]["id"] == done["next_task_id"] and created["data"]["due_at"] == "2026-03-23T09:00:00Z"
    completed = next(e for e in events if e["type"] == "task.completed")
    assert completed["data"]["next_task_id"] == done["next_task_id"]
