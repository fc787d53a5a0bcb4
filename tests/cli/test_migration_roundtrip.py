"""Downgrading SQLite keeps what SQLAlchemy cannot reflect: a downgrade that copied a table
(batch mode) silently lost the timeline's expression index and the trigram index's triggers, and
the next upgrade that rebuilds that index then failed ("no such index: ix_tasks_ws_timeline")."""

from __future__ import annotations

import sqlite3

from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db
from tests.conftest import BASE_CONFIG

BEFORE = "7e1b5c9d2a40"  # below the reminders, recurrence and trash migrations, which drop task columns


def indexes_and_triggers(path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return set(conn.execute("SELECT type, name, sql FROM sqlite_master "
                                "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"))


def test_down_and_up_again_gives_the_indexes_and_triggers_of_a_straight_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path / "instance"))
    straight, round_trip = tmp_path / "straight.sqlite3", tmp_path / "round_trip.sqlite3"
    for path, migrate in ((straight, False), (round_trip, True)):
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "CRM_AUTO_MIGRATE": migrate})
        with app.app_context():
            if migrate:  # at the head already: down, and back up
                downgrade(revision=BEFORE)
                assert "ix_tasks_ws_timeline" in {name for _, name, _ in indexes_and_triggers(path)}
                upgrade()
            else:
                upgrade()
            db.engine.dispose()
    expected = indexes_and_triggers(straight)
    assert {"ix_tasks_ws_timeline", "tasks_fts_after_update", "activities_fts_after_update"} <= {
        name for _, name, _ in expected}
    assert indexes_and_triggers(round_trip) == expected
