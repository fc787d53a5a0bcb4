"""The application as a whole: settings, the SQLite set-up, first start, unexpected errors."""

import io
import logging

from sqlalchemy import text

from crm import create_app
from crm.config import load_secret_key
from crm.extensions import db


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_secret_key(str(tmp_path))
    assert len(first) >= 32
    assert load_secret_key(str(tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_instance_config_file_is_read(tmp_path, monkeypatch, database_url):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("CRM_RATE_LIMIT = '7/minute'\nCRM_REQUIRE_TASK_PARENT = True\n")
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_AUTO_MIGRATE", "false")
    app = create_app()
    assert app.config["CRM_RATE_LIMIT"] == "7/minute"
    assert app.config["CRM_REQUIRE_TASK_PARENT"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pragmas.sqlite3'}", "SECRET_KEY": "x" * 32})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_fresh_database_is_created_on_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 32, "TESTING": True})
    assert app.test_client().get("/healthz").get_json()["status"] == "ok"
    with app.app_context():
        tables = set(db.inspect(db.engine).get_table_names())
    assert {"tasks", "activities", "contacts", "companies", "deals", "users", "api_keys"} <= tables


def test_demo_bootstrap_prints_working_credentials_once(app, client):
    from crm.services.demo import bootstrap_demo

    out = io.StringIO()
    with app.app_context():
        bootstrap_demo(print_to=out)
    printed = out.getvalue()
    key = next(line.split()[-1] for line in printed.splitlines() if line.strip().startswith("API key:"))
    body = client.get("/api/v1/tasks?limit=5&include_total=true", headers={"X-Api-Key": key}).get_json()
    assert body["total"] >= 100 and len(body["data"]) == 5
    again = io.StringIO()
    with app.app_context():
        bootstrap_demo(print_to=again)
    assert key not in again.getvalue() and "Password:" not in again.getvalue()
    assert "flask crm set-password --email demo@example.com" in again.getvalue()


def test_unexpected_error_is_a_generic_500_envelope_and_logged(api, monkeypatch, caplog):
    from crm.services import tasks

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(tasks, "list_tasks", explode)
    with caplog.at_level(logging.ERROR):
        r = api.get("/tasks")
    assert r.status_code == 500
    assert r.get_json() == {"error": {"code": "internal_error",
                                      "message": "Something went wrong on our side. It has been logged.",
                                      "request_id": r.headers["X-Request-Id"]}}
    assert "secret internal detail" not in r.get_data(as_text=True)
    assert "secret internal detail" in caplog.text
    assert api.key not in caplog.text


def test_idempotency_keys_expire_after_a_day(api, app):
    from datetime import timedelta

    from crm.models import IdempotencyKey

    first = api.post("/tasks", {"title": "x"}, headers={"Idempotency-Key": "daily"})
    with app.app_context():
        row = db.session.query(IdempotencyKey).one()
        row.created_at = row.created_at - timedelta(hours=25)
        db.session.commit()
    second = api.post("/tasks", {"title": "x"}, headers={"Idempotency-Key": "daily"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.get_json()["data"]["id"] != first.get_json()["data"]["id"]
