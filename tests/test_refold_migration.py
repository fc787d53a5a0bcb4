"""Migration c2d7a4e9f153: records stored with the old folding (accents decomposed, other letters
kept: "søren") are found by their transliteration ("soren") after the upgrade, on SQLite (through
the trigram index, which the upgrade keeps in step) and on PostgreSQL; `flask crm rebuild-search`
does the same on a running install."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from crm import create_app
from crm.database import MIGRATIONS_DIR
from crm.extensions import db
from crm.models import new_id
from tests.conftest import BASE_CONFIG, Api, make_account

REVISION = "c2d7a4e9f153"
OLD_TASKS = 2500  # more than two of the migration's batches


def old_fold(text: str | None) -> str:
    """The folding before this migration: decomposed accents dropped, every other letter kept."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _table(name: str, *columns: str, **typed) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns), *(sa.column(c, t) for c, t in typed.items()))


STAMPS = {"created_at": sa.DateTime, "updated_at": sa.DateTime}
WORKSPACES = _table("workspaces", "id", "name", **STAMPS)
COMPANIES = _table("companies", "id", "workspace_id", "name", "name_norm", "version", metadata=sa.JSON, **STAMPS)
CONTACTS = _table("contacts", "id", "workspace_id", "first_name", "last_name", "name", "name_norm", "company_id",
                  "version", metadata=sa.JSON, **STAMPS)
DEALS = _table("deals", "id", "workspace_id", "name", "name_norm", "version", metadata=sa.JSON, **STAMPS)
TASKS = _table("tasks", "id", "workspace_id", "title", "description", "search_text", "type", "status",
               "priority_rank", "version", tags=sa.JSON, metadata=sa.JSON, **STAMPS)
ACTIVITIES = _table("activities", "id", "workspace_id", "type", "status", "subject", "body", "search_text",
                    "source", "version", occurred_at=sa.DateTime, metadata=sa.JSON, **STAMPS)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_install(request, tmp_path):
    """An app whose database is at the revision before c2d7a4e9f153, holding rows folded the old way."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = request.getfixturevalue("scratch_pg_url")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "CRM_AUTO_MIGRATE": False})
    before = ScriptDirectory(MIGRATIONS_DIR).get_revision(REVISION).down_revision
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision=before)
        _store_old_rows(db.session.connection())
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _store_old_rows(conn) -> None:
    now = datetime(2026, 11, 30, 9, 0, 0)
    stamps = {"created_at": now, "updated_at": now}
    ws = new_id("ws")
    conn.execute(sa.insert(WORKSPACES), {"id": ws, "name": "Old", **stamps})
    record = {"workspace_id": ws, "version": 1, "metadata": {}, **stamps}
    company = new_id("comp")
    conn.execute(sa.insert(COMPANIES), {"id": company, "name": "Ærø Shipping", "name_norm": old_fold("Ærø Shipping"),
                                       **record})
    conn.execute(sa.insert(CONTACTS), {"id": new_id("cont"), "first_name": "Søren", "last_name": "Kierkegaard",
                                      "name": "Søren Kierkegaard", "name_norm": old_fold("Søren Kierkegaard"),
                                      "company_id": company, **record})
    conn.execute(sa.insert(DEALS), {"id": new_id("deal"), "name": "Øresund Bridge",
                                   "name_norm": old_fold("Øresund Bridge"), **record})
    task = {"type": "todo", "status": "pending", "priority_rank": 1, "tags": [], **record}
    rows = [{"id": new_id("task"), "title": f"Call Đorđe {i}", "description": "About Łukasiewicz",
             "search_text": f"{old_fold(f'Call Đorđe {i}')}\n{old_fold('About Łukasiewicz')}", **task}
            for i in range(OLD_TASKS)]
    rows.append({"id": new_id("task"), "title": "Renewal call", "description": None, "search_text": "renewal call",
                 **task})
    conn.execute(sa.insert(TASKS), rows)
    conn.execute(sa.insert(ACTIVITIES), {"id": new_id("act"), "type": "note", "status": "completed",
                                        "subject": "Æsa", "body": "Met Søren", "source": "manual",
                                        "search_text": f"{old_fold('Æsa')}\n{old_fold('Met Søren')}",
                                        "occurred_at": now, **record})


def _count(conn, table: str, column: str, needle: str) -> int:
    return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :n"), {"n": f"%{needle}%"}).scalar()


def _found(api: Api, path: str, q: str) -> list[dict]:
    response = api.get(path, query_string={"q": q, "limit": 200})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _assert_found_by_transliteration(app) -> None:
    ws_id, user_id, secret = make_account(app, workspace="Old")
    api = Api(app.test_client(), secret, ws_id, user_id)
    assert len(_found(api, "/tasks", "dorde")) == 200
    assert api.get("/tasks", query_string={"q": "lukasiewicz", "limit": 200}).get_json()["has_more"]
    assert [t["title"] for t in _found(api, "/tasks", "renewal")] == ["Renewal call"]
    assert [a["subject"] for a in _found(api, "/activities", "aesa")] == ["Æsa"]
    assert [a["subject"] for a in _found(api, "/activities", "soren")] == ["Æsa"]
    [contact] = _found(api, "/contacts", "soren")
    [company] = _found(api, "/companies", "aero")
    [deal] = _found(api, "/deals", "oresund")
    assert (contact["name"], company["name"], deal["name"]) == ("Søren Kierkegaard", "Ærø Shipping", "Øresund Bridge")
    task = api.create("/tasks", {"title": "Next", "contact_name": "soren", "company_name": "aero shipping"})
    assert (task["contact_id"], task["company_id"]) == (contact["id"], company["id"])


def test_rows_folded_the_old_way_are_found_after_the_upgrade(old_install):
    app = old_install
    with app.app_context():
        conn = db.session.connection()
        assert _count(conn, "tasks", "search_text", "dorde") == 0  # what the old folding stored
        assert _count(conn, "contacts", "name_norm", "soren") == 0
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        conn = db.session.connection()
        assert _count(conn, "tasks", "search_text", "dorde") == OLD_TASKS
        # Not an edit: versions (and so ETags) and updated_at are as they were.
        assert conn.execute(sa.text("SELECT count(*) FROM tasks WHERE version != 1")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM contacts WHERE updated_at > :t"),
                            {"t": datetime(2026, 11, 30, 9, 0, 1)}).scalar() == 0
        if conn.dialect.name == "sqlite":
            matched = conn.exec_driver_sql("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH '\"dorde\"'").scalar()
            stale = conn.exec_driver_sql("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH '\"đorđe\"'").scalar()
            assert (matched, stale) == (OLD_TASKS, 0)
            # Raises if the index differs from the table's text.
            conn.exec_driver_sql("INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('integrity-check', 1)")
        else:  # the trigram statistics `q` reads were gathered from the new text
            common = conn.execute(sa.text(
                "SELECT most_common_elems::text FROM pg_stats_ext_exprs WHERE statistics_name = 'tasks_search_trigrams'"
            )).scalar()
            assert common is not None and "dor" in common
        db.session.commit()
    _assert_found_by_transliteration(app)


def test_rebuild_search_command_folds_stored_text_again(old_install):
    """On an install already at the newest revision whose stored text is folded another way (as
    after an upgrade of Unidecode), `flask crm rebuild-search` folds it again, a batch at a time."""
    app = old_install
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        conn = db.session.connection()
        for table, column, source in (("tasks", "search_text", "title"), ("contacts", "name_norm", "name"),
                                      ("companies", "name_norm", "name"), ("deals", "name_norm", "name")):
            for row_id, value in conn.execute(sa.text(f"SELECT id, {source} FROM {table}")).all():
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                             {"v": old_fold(value), "id": row_id})
        db.session.commit()
        assert _count(db.session.connection(), "tasks", "search_text", "dorde") == 0
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["crm", "rebuild-search", "--batch-size", "700"])
    assert result.exit_code == 0, result.output
    assert "tasks: 2501 rows read, 2500 folded again" in result.output
    assert f"{OLD_TASKS + 3} rows folded again." in result.output
    _assert_found_by_transliteration(app)
    again = app.test_cli_runner().invoke(args=["crm", "rebuild-search"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "0 rows folded again."



def test_rebuilding_leaves_a_row_edited_meanwhile_as_its_writer_folded_it(app, api, monkeypatch):
    """A task edited between the rebuild's read and its write keeps what the edit stored."""
    from crm.services import refold
    from crm.services.text import search_text

    edited = api.create("/tasks", {"title": "Call Søren"})
    other = api.create("/tasks", {"title": "Call Đorđe"})
    with app.app_context():
        db.session.execute(sa.text("UPDATE tasks SET search_text = 'stale'"))
        db.session.commit()
        with db.engine.connect() as conn:
            def fold_while_the_app_edits(title, description):
                if title == "Call Søren":  # the app saves a new title, folded, version up
                    conn.execute(sa.text("UPDATE tasks SET title = 'Call Ada', search_text = 'call ada', "
                                         "version = version + 1 WHERE id = :id"), {"id": edited["id"]})
                return search_text(title, description)

            monkeypatch.setattr(refold, "FOLDED", (
                refold.Folded("tasks", ("title", "description"), "search_text", fold_while_the_app_edits),))
            refold.refold(conn, commit_batches=True)
    assert [t["id"] for t in _found(api, "/tasks", "ada")] == [edited["id"]]
    assert _found(api, "/tasks", "soren") == []
    assert [t["id"] for t in _found(api, "/tasks", "dorde")] == [other["id"]]
