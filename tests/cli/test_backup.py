"""`flask crm backup PATH`: a consistent, restorable copy."""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing

import pytest

from crm import create_app
from crm.extensions import db
from tests.conftest import BASE_CONFIG, Api, make_account
from tests.servers import require_tool


@pytest.fixture
def sqlite_api(tmp_path):
    """An app on its own SQLite file (also when the suite runs on PostgreSQL), with a key."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    ws_id, user_id, secret = make_account(app)
    yield Api(app.test_client(), secret, ws_id, user_id)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backup_restores_to_the_same_data(sqlite_api, tmp_path):
    api = sqlite_api
    runner = api.client.application.test_cli_runner()
    for i in range(5):
        api.create("/tasks", {"title": f"task {i}", "tags": ["b"], "metadata": {"i": i}})
    api.create("/activities", {"type": "note", "body": "kept"})
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["crm", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.stdout
    assert not target.with_name(target.name + "-wal").exists()
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # Restore: a new app on the copy answers exactly as the original does.
    restored = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}", "CRM_AUTO_MIGRATE": False})
    try:
        copy_client = restored.test_client()
        for path in ("/api/v1/tasks?limit=200", "/api/v1/activities", "/api/v1/users"):
            original = api.get(path.removeprefix("/api/v1")).get_json()
            assert copy_client.get(path, headers={"X-Api-Key": api.key}).get_json() == original
    finally:
        with restored.app_context():
            db.engine.dispose()


def test_backup_does_not_overwrite_without_force(sqlite_api, tmp_path):
    runner = sqlite_api.client.application.test_cli_runner()
    target = tmp_path / "copy.sqlite3"
    target.write_text("precious")
    result = runner.invoke(args=["crm", "backup", str(target)])
    assert result.exit_code == 1 and "--force" in result.stderr
    assert target.read_text() == "precious"
    assert runner.invoke(args=["crm", "backup", "--force", str(target)]).exit_code == 0
    assert target.read_bytes().startswith(b"SQLite format 3")


def test_postgresql_backup_without_pg_dump_prints_the_command(tmp_path, monkeypatch):
    app = create_app({**BASE_CONFIG, "CRM_AUTO_MIGRATE": False,
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://crm:s3cret-pw@db.internal:5432/crm"})
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    result = app.test_cli_runner().invoke(args=["crm", "backup", str(tmp_path / "crm.dump")])
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.stderr
    assert "pg_dump --format=custom" in result.stderr and "db.internal" in result.stderr
    assert "s3cret-pw" not in result.output


def test_postgresql_backup_runs_pg_dump(scratch_pg_url, tmp_path):
    require_tool("pg_dump")
    pg_restore = require_tool("pg_restore")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_pg_url})
    try:
        ws_id, user_id, secret = make_account(app)
        Api(app.test_client(), secret, ws_id, user_id).create("/tasks", {"title": "in the dump"})
        target = tmp_path / "crm.dump"
        result = app.test_cli_runner().invoke(args=["crm", "backup", str(target)])
    finally:
        with app.app_context():
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "restore with pg_restore" in result.stdout and "postgres:" not in result.output
    listing = subprocess.run([pg_restore, "--list", str(target)], capture_output=True, text=True, check=True)
    assert "TABLE DATA public tasks" in listing.stdout
