"""`flask crm migrate-to-postgres`: a SQLite install moves to PostgreSQL whole, ids kept."""

import pytest
from sqlalchemy import create_engine, text

from crm import create_app
from tests.conftest import BASE_CONFIG, Api, make_account


@pytest.fixture
def sqlite_app(template_db, tmp_path):
    """A SQLite install whatever backend this run uses: the source of the copy."""
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'source.sqlite3'}"})


@pytest.fixture
def api(sqlite_app):
    ws_id, user_id, secret = make_account(sqlite_app)
    return Api(sqlite_app.test_client(), secret, ws_id, user_id)


@pytest.fixture
def other_api(sqlite_app):
    ws_id, user_id, secret = make_account(sqlite_app, workspace="Globex", email="boss@globex.test", name="Gus")
    return Api(sqlite_app.test_client(), secret, ws_id, user_id)


@pytest.fixture
def runner(sqlite_app):
    return sqlite_app.test_cli_runner()


def test_copies_everything_and_the_app_works_on_the_copy(api, other_api, runner, scratch_pg_url):
    contact = api.create("/contacts", {"first_name": "Hans", "last_name": "Müller"})
    task = api.create("/tasks", {"title": "Call Hans", "contact_id": contact["id"], "tags": ["vip"],
                                 "metadata": {"source": {"nested": [1, 2]}}})
    api.create("/activities", {"type": "meeting", "attendees": [contact["id"]], "source": "cal", "external_id": "e1"})
    api.post("/tasks", {"title": "idem"}, headers={"Idempotency-Key": "k1"})
    other_api.create("/deals", {"name": "Theirs", "amount": "10.50"})

    r = runner.invoke(args=["crm", "migrate-to-postgres", scratch_pg_url])
    assert r.exit_code == 0, r.output
    assert "row counts verified" in r.output

    pg_app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_pg_url, "SECRET_KEY": "test-secret-key-for-the-suite-0123456789", "TESTING": True})
    client = pg_app.test_client()
    got = client.get(f"/api/v1/tasks/{task['id']}", headers={"X-Api-Key": api.key}).get_json()["data"]
    assert got == task
    assert client.get("/api/v1/tasks?tag=vip", headers={"X-Api-Key": api.key}).get_json()["data"][0]["id"] == task["id"]
    assert client.get("/api/v1/tasks?q=hans", headers={"X-Api-Key": api.key}).status_code == 200
    deals = client.get("/api/v1/deals", headers={"X-Api-Key": other_api.key}).get_json()["data"]
    assert [d["amount"] for d in deals] == ["10.50"]
    # New rows get fresh ids after the copied ones (sequences moved on), and dedup still holds.
    again = client.post("/api/v1/activities", json={"type": "meeting", "source": "cal", "external_id": "e1"},
                        headers={"X-Api-Key": api.key})
    assert again.status_code == 200
    fresh = client.post("/api/v1/tasks", json={"title": "new"}, headers={"X-Api-Key": api.key, "Idempotency-Key": "k2"})
    assert fresh.status_code == 201


def test_refuses_a_non_empty_target(api, runner, scratch_pg_url):
    api.create("/tasks", {"title": "x"})
    assert runner.invoke(args=["crm", "migrate-to-postgres", scratch_pg_url]).exit_code == 0
    r = runner.invoke(args=["crm", "migrate-to-postgres", scratch_pg_url])
    assert r.exit_code != 0 and "not empty" in r.output
    engine = create_engine(scratch_pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar_one() == 1
    engine.dispose()


def test_refuses_a_non_postgres_target(runner, tmp_path):
    r = runner.invoke(args=["crm", "migrate-to-postgres", f"sqlite:///{tmp_path}/x.db"])
    assert r.exit_code != 0 and "PostgreSQL" in r.output


def test_a_recurring_series_activity_links_and_the_calendar_feed_move_too(api, runner, sqlite_app, scratch_pg_url):
    from crm.extensions import db
    from crm.models import User

    meeting = api.create("/activities", {"type": "meeting", "status": "scheduled", "occurred_at": "2026-03-20T10:00:00Z"})
    first = api.create("/tasks", {"title": "Weekly report", "due_at": "2026-03-16T09:00:00Z",
                                  "recurrence": "FREQ=WEEKLY;COUNT=5", "duration": 1800, "activity_id": meeting["id"]})
    done = api.post(f"/tasks/{first['id']}/complete").get_json()["data"]  # its next_task_id is a later row
    second = api.get(f"/tasks/{done['next_task_id']}").get_json()["data"]
    with sqlite_app.app_context():
        token = db.session.get(User, api.user_id).calendar_token

    r = runner.invoke(args=["crm", "migrate-to-postgres", scratch_pg_url])
    assert r.exit_code == 0, r.output

    pg_app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_pg_url, "SECRET_KEY": "test-secret-key-for-the-suite-0123456789", "TESTING": True})
    client = pg_app.test_client()
    headers = {"X-Api-Key": api.key}
    assert client.get(f"/api/v1/tasks/{first['id']}", headers=headers).get_json()["data"] == done
    assert client.get(f"/api/v1/tasks/{second['id']}", headers=headers).get_json()["data"] == second
    assert second["recurrence_of"] == first["id"] and second["activity_id"] == meeting["id"]
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and f"UID:{second['id']}@followup".encode() in feed.data
