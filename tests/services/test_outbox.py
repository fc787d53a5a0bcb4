"""The outbox and its dispatcher in one process (jobs run immediately after the commit that
queues them); tests/worker/ runs real `flask crm worker` processes."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import tests.queue_jobs  # noqa: F401 - registers the test.* handlers
from crm import clock, create_app, queue
from crm.database import writing
from crm.extensions import db
from crm.models import IdempotencyKey, OutboxMessage, Workspace
from crm.services import outbox
from tests.conftest import BASE_CONFIG


@pytest.fixture(autouse=True)
def clock_reset():
    yield
    clock.set_offset(timedelta(0))


def add_and_commit(kind, payload, **kw):
    with writing():
        outbox.add(kind, payload, **kw)
        db.session.commit()


def jobs_named(n):
    return db.session.execute(select(func.count()).where(Workspace.name == f"job {n}")).scalar()


def rows():
    return db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def test_row_committed_with_its_change_is_handled_right_after_the_commit(app):
    with app.app_context():
        add_and_commit("test.record", {"n": 1})
        assert jobs_named(1) == 1
        (row,) = rows()
        assert (row.state, row.attempts) == ("done", 1)
        assert row.done_at >= row.created_at


def test_row_of_a_rolled_back_transaction_never_runs(app):
    with app.app_context(), writing():
        outbox.add("test.record", {"n": 2})
        db.session.flush()
        db.session.rollback()
        assert queue.dispatch() == 0
        assert rows() == [] and jobs_named(2) == 0


def test_a_key_admits_one_row_however_often_it_is_added(app):
    with app.app_context():
        for _ in range(3):
            add_and_commit("test.record", {"n": 3}, key="once:3")
        assert len(rows()) == 1 and jobs_named(3) == 1


def test_delayed_row_runs_when_its_time_comes_not_before(app):
    with app.app_context():
        add_and_commit("test.record", {"n": 4}, available_at=clock.now() + timedelta(minutes=10))
        assert queue.dispatch() == 0 and jobs_named(4) == 0
        clock.travel(timedelta(minutes=9))
        assert queue.dispatch() == 0
        clock.travel(timedelta(minutes=2))
        assert queue.dispatch() == 1 and jobs_named(4) == 1


def test_healthz_reports_due_rows_and_the_age_of_the_oldest(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok", "queue": {"pending": 0, "oldest_pending_s": 0.0}}
    with app.app_context():
        start = clock.now()
        add_and_commit("test.record", {"n": 5}, available_at=start + timedelta(seconds=10))
        add_and_commit("test.record", {"n": 6}, available_at=start + timedelta(seconds=40))
        add_and_commit("test.record", {"n": 7}, available_at=start + timedelta(hours=1))
    assert client.get("/healthz").get_json()["queue"] == {"pending": 0, "oldest_pending_s": 0.0}
    clock.travel(timedelta(seconds=100))  # as if no worker ran for 100 s
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["queue"]["pending"] == 2
    assert 89 <= health["queue"]["oldest_pending_s"] < 100  # the older of the two due
    with app.app_context():
        queue.dispatch()
    assert client.get("/healthz").get_json()["queue"] == {"pending": 0, "oldest_pending_s": 0.0}


def test_healthz_reads_the_queue_in_one_statement(client, count_queries):
    client.get("/healthz")
    with count_queries() as statements:
        assert client.get("/healthz").status_code == 200
    assert len(statements) == 1 and "outbox" in statements[0]


@outbox.handler("test.flaky")
def flaky(payload: dict) -> None:
    db.session.add(Workspace(name="flaky wrote this"))
    raise RuntimeError("the mail server said no")


def test_failing_handler_is_retried_with_backoff_and_marked_failed_after_its_last_attempt(app):
    app.config.update(CRM_OUTBOX_MAX_ATTEMPTS=3, CRM_OUTBOX_RETRY_SECONDS=10)
    with app.app_context():
        add_and_commit("test.flaky", {})
        (row,) = rows()
        assert (row.state, row.attempts) == ("pending", 1)
        assert "the mail server said no" in row.last_error
        assert row.available_at - clock.precise_now() > timedelta(seconds=8)
        assert queue.dispatch() == 0  # not before its backoff
        clock.travel(timedelta(seconds=11))
        assert queue.dispatch() == 1
        db.session.expire_all()
        assert (rows()[0].state, rows()[0].attempts) == ("pending", 2)
        clock.travel(timedelta(seconds=15))
        assert queue.dispatch() == 0  # the second wait is twice as long
        clock.travel(timedelta(seconds=10))
        assert queue.dispatch() == 1
        db.session.expire_all()
        assert (rows()[0].state, rows()[0].attempts) == ("failed", 3)
        # The failed attempts' writes were rolled back with them.
        assert db.session.execute(select(func.count()).where(Workspace.name == "flaky wrote this")).scalar() == 0
        clock.travel(timedelta(hours=2))
        assert queue.dispatch() == 0


def test_row_of_a_kind_without_handler_is_kept_and_retried(app):
    with app.app_context():
        add_and_commit("nobody.handles.this", {})
        (row,) = rows()
        assert row.state == "pending" and "no handler" in row.last_error


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(app):
    app.config.update(CRM_QUEUE_IMMEDIATE=True, CRM_OUTBOX_LEASE_SECONDS=300)
    with app.app_context():
        add_and_commit("test.record", {"n": 8}, available_at=clock.now() + timedelta(seconds=1))
        clock.travel(timedelta(seconds=2))
        [(message_id, first_token, _kind)] = outbox.claim_due()  # a worker that then died
        assert outbox.claim_due() == []
        clock.travel(timedelta(seconds=299))
        assert outbox.claim_due() == []
        clock.travel(timedelta(seconds=2))
        [(same_id, second_token, _kind)] = outbox.claim_due()
        assert same_id == message_id and second_token != first_token
        # The dead worker's job, delivered late, finds its token taken and does nothing.
        assert outbox.run(message_id, first_token) == "skipped"
        assert jobs_named(8) == 0
        assert outbox.run(message_id, second_token) == "done"
        assert outbox.run(message_id, second_token) == "skipped"  # a duplicate delivery
        assert jobs_named(8) == 1
        assert rows()[0].attempts == 2


def test_an_attempt_outside_the_database_runs_at_most_once(app, tmp_path, monkeypatch):
    log = tmp_path / "effects.log"
    monkeypatch.setenv("CRM_TEST_JOB_LOG", str(log))
    with app.app_context():
        add_and_commit("test.append", {"n": 9}, available_at=clock.now() + timedelta(seconds=1))
        clock.travel(timedelta(seconds=2))
        [(message_id, token, kind)] = outbox.claim_due()
        assert kind == "test.append"
        assert outbox.run(message_id, token) == "done"
        assert outbox.run(message_id, token) == "skipped"
        assert rows()[0].state == "done"
    assert log.read_text().split()[0] == "9" and len(log.read_text().splitlines()) == 1


def test_the_hourly_purge_removes_idempotency_records_older_than_a_day(api, app):
    first = api.post("/tasks", {"title": "Once"}, headers={"Idempotency-Key": "k-1"})
    replay = api.post("/tasks", {"title": "Once"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and replay.get_json() == first.get_json()
    clock.travel(timedelta(hours=23))
    api.post("/tasks", {"title": "Recent"}, headers={"Idempotency-Key": "k-2"})
    clock.travel(timedelta(hours=1, minutes=1))
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(IdempotencyKey)).scalar() == 2
        db.session.commit()
        queue.PERIODIC["maintenance.purge"]()  # what the scheduler enqueues at :17
        keys = db.session.execute(select(IdempotencyKey.key)).scalars().all()
        assert keys == ["k-2"]
        assert rows()[0].kind == "maintenance.purge" and rows()[0].state == "done"


def test_the_purge_runs_once_per_scheduled_minute_however_many_workers_enqueue_it(app):
    with app.app_context():
        for _ in range(3):  # three workers' schedulers in the same minute
            queue.PERIODIC["maintenance.purge"]()
        assert [r.state for r in rows()] == ["done"]


def test_the_purge_is_scheduled_hourly_by_default_and_configurable(app):
    from datetime import datetime

    def due_at(*when):  # the purge, if Huey's scheduler enqueues it at that minute (UTC)
        names = [task.name for task in queue.huey.read_periodic(datetime(2026, 12, 2, *when))]
        return [name for name in names if name == "periodic.maintenance.purge"]

    assert due_at(5, 17) == ["periodic.maintenance.purge"]
    assert due_at(5, 18) == [] and due_at(6, 0) == []
    app.config["CRM_PURGE_SCHEDULE"] = "*/5 * * * *"
    assert due_at(5, 20) == ["periodic.maintenance.purge"] and due_at(5, 17) == []


def test_due_work_runs_every_minute(app):
    from datetime import datetime

    for minute in (0, 1, 17, 59):
        names = [task.name for task in queue.huey.read_periodic(datetime(2026, 12, 2, 5, minute))]
        assert "periodic.due.run" in names


def test_handled_rows_are_purged_after_the_retention(app):
    with app.app_context():
        add_and_commit("test.record", {"n": 10})
        clock.travel(timedelta(days=8))
        assert outbox.purge_handled() == 1
        assert rows() == []


def test_the_sqlite_queue_file_is_private(database_url, tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CRM_AUTO_MIGRATE": False,
                      "CRM_QUEUE_IMMEDIATE": False})
    path = os.path.join(app.instance_path, "queue.sqlite3")
    assert queue.describe_storage() == f"sqlite {path}"
    with app.app_context():
        add_and_commit("test.record", {"n": 11})  # the nudge is now a job in that file
    assert queue.huey.storage.queue_size() == 1
    for name in (path, path + "-wal"):
        if os.path.exists(name):
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    with app.app_context():
        db.engine.dispose()


def test_a_second_handler_for_one_kind_is_refused():
    with pytest.raises(ValueError, match="already has a handler"):
        outbox.handler("test.record")(lambda payload: None)


def test_an_idle_poll_reads_once_and_writes_nothing(app, count_queries):
    with app.app_context():
        add_and_commit("test.record", {"n": 12}, available_at=clock.now() + timedelta(hours=1))
        with count_queries() as statements:
            assert queue.dispatch() == 0
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


def test_healthz_counts_a_backlog_only_up_to_its_cap(app, client, monkeypatch):
    monkeypatch.setattr(outbox, "PENDING_COUNT_CAP", 3)
    with app.app_context():
        start = clock.now()
        for n in range(5):
            add_and_commit("test.record", {"n": n}, available_at=start + timedelta(seconds=n + 1))
    clock.travel(timedelta(seconds=20))
    health = client.get("/healthz").get_json()["queue"]
    assert health["pending"] == 3
    assert 19 <= health["oldest_pending_s"] < 30  # the oldest row, not the third
