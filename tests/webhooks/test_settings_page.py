"""Settings → Webhooks, as an admin's browser without JavaScript: plain forms, CSRF, the secret
shown once, test ping, deliveries with redeliver, enable/disable, delete."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_account
from tests.web.conftest import Web, signed_in_client


@pytest.fixture
def web(app):
    ws_id, user_id, _secret = make_account(app)
    return Web(app, signed_in_client(app, user_id), user_id, ws_id)


def test_an_admin_manages_webhooks_in_settings(web, receiver):
    assert 'href="/settings/webhooks"' in web.text(web.get("/settings"))
    created = web.post("/settings/webhooks", {"url": receiver.url, "events": ["task.*", "contact.*"],
                                              "description": "Sync"})
    assert created.status_code == 201
    page = web.text(created)
    secret = re.search(r'value="(whsec_[^"]+)"', page).group(1)
    hook_id = re.search(r'id="hook-(wh_\w+)"', page).group(1)
    assert "style=" not in page and secret not in web.text(web.get("/settings/webhooks"))

    assert web.post(f"/settings/webhooks/{hook_id}/test").status_code == 303
    web.task("Sent to the receiver")
    [ping, event] = [r.verified(secret) for r in receiver.requests]
    assert ping["type"] == "ping" and event["type"] == "task.created"

    detail = web.text(web.get(f"/settings/webhooks/{hook_id}"))
    delivery_ids = re.findall(r'id="delivery-(whd_\w+)"', detail)
    assert len(delivery_ids) == 2 and "HTTP 200" in detail and "task.created" in detail
    assert web.post(f"/settings/webhooks/{hook_id}/deliveries/{delivery_ids[0]}/redeliver").status_code == 303
    assert receiver.requests[-1].body == receiver.requests[1].body

    assert web.post(f"/settings/webhooks/{hook_id}/active", {"active": "false"}).status_code == 303
    web.task("Not sent while disabled")
    assert len(receiver.requests) == 3
    assert "Disabled" in web.text(web.get("/settings/webhooks"))
    assert web.post(f"/settings/webhooks/{hook_id}/active", {"active": "true"}).status_code == 303
    assert web.post(f"/settings/webhooks/{hook_id}/delete").status_code == 303
    assert hook_id not in web.text(web.get("/settings/webhooks"))


def test_form_errors_and_csrf(web, receiver):
    bad = web.post("/settings/webhooks", {"url": "not a url", "events": ["*"]})
    assert bad.status_code == 422 and "https://" in web.text(bad)
    none = web.post("/settings/webhooks", {"url": receiver.url})
    assert none.status_code == 422 and "at least one event" in web.text(none).lower()
    assert web.post("/settings/webhooks", {"url": receiver.url, "events": ["*"]}, csrf=False).status_code == 400


def test_members_and_other_workspaces_cannot(app, web, receiver):
    page = web.text(web.post("/settings/webhooks", {"url": receiver.url, "events": ["*"]}))
    hook_id = re.search(r'id="hook-(wh_\w+)"', page).group(1)
    _ws, member_id, _key = make_account(app, email="mia@acme.test", name="Mia Member", role="member")
    member = Web(app, signed_in_client(app, member_id), member_id, web.workspace_id)
    assert member.get("/settings/webhooks").status_code == 403
    assert member.post(f"/settings/webhooks/{hook_id}/delete").status_code == 403
    _ws, boss_id, _key = make_account(app, workspace="Globex", email="boss@globex.test", name="Gus")
    boss = Web(app, signed_in_client(app, boss_id), boss_id, _ws)
    assert boss.get(f"/settings/webhooks/{hook_id}").status_code == 404
    assert boss.post(f"/settings/webhooks/{hook_id}/delete").status_code == 404
