"""API keys: last use recorded at most once a minute, revocation effective at once, secrets
never in responses or logs."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from crm import create_app
from crm.extensions import db
from crm.models import ApiKey, User, utcnow
from crm.services import accounts
from tests.conftest import BASE_CONFIG


def key_row(app, secret) -> ApiKey:
    with app.app_context():
        key = db.session.execute(select(ApiKey).where(ApiKey.secret_hash == accounts.hash_secret(secret))
                                 ).unique().scalar_one()
        db.session.expunge_all()
        return key


def test_last_used_is_recorded_at_most_once_a_minute(app, api, count_queries):
    assert key_row(app, api.key).last_used_at is None
    assert api.get("/tasks").status_code == 200
    first = key_row(app, api.key).last_used_at
    assert first is not None and abs(utcnow() - first) < timedelta(seconds=5)

    with count_queries() as statements:
        assert api.get("/tasks").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert key_row(app, api.key).last_used_at == first

    with app.app_context():
        db.session.execute(update(ApiKey).values(last_used_at=first - timedelta(minutes=2)))
        db.session.commit()
    assert api.get("/tasks").status_code == 200
    assert key_row(app, api.key).last_used_at >= first


def test_failed_requests_count_as_use_but_unknown_keys_touch_nothing(app, api):
    assert api.get("/tasks/task_01JD3K0000000000000000000Z").status_code == 404
    assert key_row(app, api.key).last_used_at is not None
    response = api.client.get("/api/v1/tasks", headers={"X-Api-Key": api.key + "x"})
    assert response.status_code == 401


def revoke(app, secret) -> None:
    with app.app_context():
        key = db.session.execute(select(ApiKey).where(ApiKey.secret_hash == accounts.hash_secret(secret))
                                 ).unique().scalar_one()
        user = db.session.get(User, key.user_id)
        accounts.revoke_api_key(user, key.id)


def test_revocation_takes_effect_on_the_very_next_request(app, api):
    assert api.get("/tasks").status_code == 200
    revoke(app, api.key)
    for headers in ({"X-Api-Key": api.key}, {"Authorization": f"Bearer {api.key}"}):
        response = api.client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert api.post("/tasks", {"title": "after revocation"}).status_code == 401


@pytest.mark.slow
def test_revocation_reaches_every_server_process_at_once(server):
    server.start(workers=2, threads=1)
    with requests.Session() as http:
        http.headers.update(server.headers())
        for _ in range(6):
            assert http.get(f"{server.url}/api/v1/tasks", timeout=30).status_code == 200
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": server.database_url})
        try:
            revoke(app, server.secret)
        finally:
            with app.app_context():
                db.engine.dispose()
        statuses = {http.get(f"{server.url}/api/v1/tasks", timeout=30).status_code for _ in range(10)}
    assert statuses == {401}
    assert server.secret not in server.log()


def test_an_internal_error_leaks_nothing_to_the_client_or_the_log(app, api, monkeypatch, caplog):
    from crm.services import tasks

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at /srv/crm/instance/crm.sqlite3")

    monkeypatch.setattr(tasks, "list_tasks", broken)
    caplog.set_level(logging.DEBUG)
    response = api.client.get("/api/v1/tasks?q=hello", headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "Something went wrong on our side. It has been logged.",
                                             "request_id": response.headers["X-Request-Id"]}}
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "disk on fire" not in body and api.key not in body

    # The details are in the log, for the operator; the key's secret is not.
    assert "Unhandled error on GET /api/v1/tasks" in caplog.text and "disk on fire" in caplog.text
    assert api.key not in caplog.text
    assert accounts.hash_secret(api.key) not in caplog.text


def test_unauthorized_answers_do_not_echo_the_presented_key(client, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "fu_not-a-real-key-but-secret-looking-0123456789"
    response = client.post("/api/v1/tasks", json={"title": "t"}, headers={"X-Api-Key": secret})
    assert response.status_code == 401
    assert secret not in response.get_data(as_text=True) and secret not in caplog.text
