"""Migration b4f1a7c2d9e3 on an install with users: they are kept, e-mails become unique per
workspace, and the sessions table appears (SQLite always; PostgreSQL with CRM_TEST_PG_ADMIN_URL)."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crm import create_app
from crm.extensions import db
from tests.conftest import BASE_CONFIG

BEFORE = "7e1b5c9d2a40"
USER = ("INSERT INTO users (id, workspace_id, name, email, role, time_zone, is_active, created_at, updated_at) "
        "VALUES (:id, :ws, 'Ada', 'ada@example.com', 'member', 'UTC', :on, '2026-01-01', '2026-01-01')")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    return request.getfixturevalue("scratch_pg_url")


def add_user(user_id: str, workspace_id: str) -> None:
    db.session.execute(text(USER), {"id": user_id, "ws": workspace_id, "on": True})
    db.session.commit()


def test_upgrade_keeps_users_and_makes_emails_unique_per_workspace(fresh_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        downgrade(revision=BEFORE)
        for ws in ("ws_a", "ws_b"):
            db.session.execute(text("INSERT INTO workspaces (id, name, created_at, updated_at) "
                                    "VALUES (:id, :id, '2026-01-01', '2026-01-01')"), {"id": ws})
        add_user("user_1", "ws_a")
        with pytest.raises(IntegrityError):  # before: unique across the install
            add_user("user_2", "ws_b")
        db.session.rollback()
        # What points at users must survive the rebuild of the users table.
        db.session.execute(text(
            "INSERT INTO api_keys (id, workspace_id, user_id, label, scopes, prefix, secret_hash, created_at) "
            "VALUES ('key_1', 'ws_a', 'user_1', 'script', 'tasks:read', 'fu_x', 'h1', '2026-01-01')"))
        db.session.execute(text(
            "INSERT INTO tasks (id, workspace_id, title, type, status, priority_rank, owner_id, "
            "created_by, tags, metadata, search_text, version, created_at, updated_at) VALUES ('task_1', 'ws_a', "
            "'Call', 'todo', 'pending', 1, 'user_1', 'user_1', '[]', '{}', 'call', 1, '2026-01-01', "
            "'2026-01-01')"))
        db.session.commit()

        upgrade()
        assert db.session.execute(text("SELECT user_id FROM api_keys")).scalars().all() == ["user_1"]
        assert db.session.execute(text("SELECT owner_id, created_by FROM tasks")).one() == ("user_1", "user_1")
        assert db.session.execute(text("SELECT id FROM users")).scalars().all() == ["user_1"]
        add_user("user_2", "ws_b")  # now: the same e-mail in another workspace
        with pytest.raises(IntegrityError):
            add_user("user_3", "ws_a")
        db.session.rollback()
        db.session.execute(text("INSERT INTO user_sessions (id, user_id, created_at) VALUES ('h', 'user_1', '2026-01-01')"))
        db.session.commit()
        db.session.execute(text("DELETE FROM users WHERE id = 'user_1'"))
        db.session.commit()
        assert db.session.execute(text("SELECT count(*) FROM user_sessions")).scalar_one() == 0  # cascades
        db.session.remove()
        db.engine.dispose()
