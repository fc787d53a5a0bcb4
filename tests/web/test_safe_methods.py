"""Only a POST changes anything: HEAD, GET and OPTIONS on every route leave every table as it was."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect, select, text

from crm.extensions import db

SAFE_METHODS = ("HEAD", "GET", "OPTIONS")
# Query strings a page could be asked with: none, and the confirmed-action look of a form post.
QUERIES = ("", "?next=/tasks&confirm=1&csrf_token=x")


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, so two snapshots compare equal only if nothing changed."""
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        rows = {}
        for name in tables:
            result = db.session.execute(text(f'SELECT * FROM "{name}"'))
            rows[name] = sorted((tuple(map(repr, row)) for row in result), key=repr)
        db.session.rollback()
        return rows


def _any_id(app, table: str) -> str | None:
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        if table not in tables:
            return None
        row = db.session.execute(select(db.Table(table, db.MetaData(), autoload_with=db.engine).c.id)).first()
        return row[0] if row else None


@pytest.fixture
def seeded(app, web, teammate):
    """A workspace with one of everything a route can name."""
    from crm.models import ApiKey, User

    contact = web.contact("Ada", "Lovelace", email="ada@example.test")
    company = web.company("Analytical Engines")
    deal = web.deal("Difference engine")
    task = web.task("Call Ada", contact_id=contact, due_at="2026-03-16T09:00:00Z")
    activity = web.activity(subject="Talked", contact_id=contact)
    with app.app_context():
        key_id = db.session.scalars(select(ApiKey.id).where(ApiKey.user_id == web.user_id)).first()
        token = db.session.scalars(select(User.calendar_token).where(User.id == web.user_id)).first()
        from crm.models import Notification

        user = db.session.get(User, web.user_id)
        notification = Notification(workspace_id=user.workspace_id, user_id=user.id, kind="assigned",
                                    task_id=task, title="Call Ada")
        db.session.add(notification)
        from crm import clock
        from crm.models import Webhook, WebhookDelivery

        webhook = Webhook(workspace_id=user.workspace_id, created_by=user.id, url="https://hooks.example.com/x",
                          events=["*"], active=False, secret="whsec_" + "A" * 43)
        db.session.add(webhook)
        db.session.flush()
        delivery = WebhookDelivery(workspace_id=user.workspace_id, webhook_id=webhook.id, message_id="msg_1",
                                   event_id="evt_1", event_type="ping", body="{}", manual=True, state="failed",
                                   attempts=1, created_at=clock.precise_now())
        db.session.add(delivery)
        db.session.commit()
        notification_id, webhook_id, delivery_id = notification.id, webhook.id, delivery.id
    return {
        "webhooks": webhook_id, "webhook_id": webhook_id, "delivery_id": delivery_id,
        "notifications": notification_id,
        "token": token,
        "task_id": task, "activity_id": activity, "user_id": teammate.user_id, "key_id": key_id,
        "contacts": contact, "companies": company, "deals": deal, "tasks": task, "activities": activity,
        "users": teammate.user_id,
        # /trash/<kind>/<record_id>/restore
        "kind": "task", "<kind>": task,
    }


def _argument_value(app, rule, name: str, seeded: dict) -> str:
    if name in seeded:
        return seeded[name]
    if name == "record_id":  # named by the path segment before it: /contacts/<record_id>
        segments = rule.rule.strip("/").split("/")
        kind = segments[[i for i, s in enumerate(segments) if "record_id" in s][0] - 1]
        if kind in seeded:
            return seeded[kind]
    if name == "filename":
        return "htmx-2.0.11.min.js" if "htmx" in str(rule) else "style.css"
    stem = re.sub(r"_id$", "", name)
    for table in (f"{stem}s", stem, f"{stem}es"):
        found = _any_id(app, table)
        if found:
            return found
    pytest.fail(f"{rule.rule}: no seeded row for <{name}>; add one to the `seeded` fixture")


def _walk_urls(app, seeded: dict) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(_argument_value(app, rule, name, seeded)), path)
        urls.append(path)
    return sorted(set(urls))


def test_head_get_and_options_on_every_route_change_no_row(app, web, seeded):
    urls = _walk_urls(app, seeded)
    assert any(u.endswith(f"/tasks/{seeded['task_id']}/delete") for u in urls)
    assert any(u.endswith(f"/activities/{seeded['activity_id']}/delete") for u in urls)
    before = snapshot(app)
    assert before["tasks"] and before["activities"]
    failures = []
    for url in urls:
        for query in QUERIES:
            for method in SAFE_METHODS:
                for htmx in (False, True):
                    response = web.client.open(url + query, method=method, headers=web.headers(htmx))
                    if response.status_code >= 500:
                        failures.append(f"{method} {url}{query}: {response.status_code}")
    assert not failures
    assert snapshot(app) == before


@pytest.mark.parametrize("kind", ["task", "activity"])
def test_head_on_a_delete_link_keeps_the_row(web, kind):
    row_id = web.task("Keep me") if kind == "task" else web.activity(subject="Keep me")
    path = f"/tasks/{row_id}/delete" if kind == "task" else f"/activities/{row_id}/delete"
    response = web.client.head(path)
    assert response.status_code == 200
    assert (web.load_task(row_id) if kind == "task" else web.load_activity(row_id)) is not None
    # The confirmed POST, with its token, still deletes.
    assert web.post(path).status_code == 303
    assert (web.load_task(row_id) if kind == "task" else web.load_activity(row_id)) is None


@pytest.mark.parametrize("kind", ["task", "activity"])
def test_a_delete_post_without_the_token_keeps_the_row(web, kind):
    row_id = web.task("Keep me") if kind == "task" else web.activity(subject="Keep me")
    path = f"/tasks/{row_id}/delete" if kind == "task" else f"/activities/{row_id}/delete"
    assert web.post(path, csrf=False).status_code == 400
    assert (web.load_task(row_id) if kind == "task" else web.load_activity(row_id)) is not None
