"""Engine set-up per backend, write intent for SQLite, and schema upgrades."""

from __future__ import annotations

import contextlib
import contextvars
import json
from pathlib import Path

import orjson
from flask import Flask, g, request
from sqlalchemy import event, text

from crm.extensions import db

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")

# Set for requests and commands that write: their SQLite transactions take the write lock up
# front (BEGIN IMMEDIATE), so they queue on the busy timeout instead of failing to upgrade a
# read lock when another process wrote in between.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextlib.contextmanager
def writing():
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


def read_json_column(text_value: str):
    """JSON columns as Python values: orjson, several times faster than the standard parser,
    which still reads what orjson refuses (integers beyond 64 bits, stored from PostgreSQL)."""
    try:
        return orjson.loads(text_value)
    except orjson.JSONDecodeError:
        return json.loads(text_value)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def end_request_transaction(response) -> None:
    """Close what a request left open. Services commit their own writes, so what is left is a
    read, committed, or a failed write, rolled back. (For a read the two are the same, except
    that psycopg forgets its prepared statements on every rollback: PostgreSQL then plans the
    list query again on every request, which cost more than running it at 1,000,000 tasks.)"""
    session = db.session
    if (request.method in SAFE_METHODS and response.status_code < 400
            and not (session.new or session.dirty or session.deleted)):
        session.commit()
    else:
        session.rollback()


def configure_engine(app: Flask) -> None:
    @app.before_request
    def mark_write_intent():
        if request.method not in SAFE_METHODS:
            g.write_intent_token = write_intent.set(True)

    @app.after_request
    def end_transaction(response):
        end_request_transaction(response)
        return response

    @app.teardown_request
    def clear_write_intent(_exc):
        token = g.pop("write_intent_token", None)
        if token is not None:
            write_intent.reset(token)

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 15000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def sqlite_path(app: Flask) -> Path | None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///"))


def upgrade_database(app: Flask) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once."""
    from flask_migrate import upgrade

    with app.app_context():
        path = sqlite_path(app)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            import fcntl

            with open(str(path) + ".migrate-lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                with writing():
                    upgrade(directory=MIGRATIONS_DIR)
        elif db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                # Session-level advisory lock: one process migrates, the others wait.
                conn.execute(text("SELECT pg_advisory_lock(7243911)"))
                try:
                    upgrade(directory=MIGRATIONS_DIR)
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(7243911)"))
                    conn.commit()
        else:
            upgrade(directory=MIGRATIONS_DIR)
        db.session.remove()
        # No connection may outlive this: gunicorn forks workers after it (preload_app).
        db.engine.dispose()


def database_ok() -> bool:
    """Whether the database answers. The read ends with COMMIT, as a request's does
    (`end_request_transaction`): a ROLLBACK would make psycopg forget the statements it has
    prepared, and a load balancer polling /healthz would keep the lists from staying prepared."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False


def queue_health() -> dict | None:
    """The outbox backlog ({"pending", "oldest_pending_s"}), or None when the database does not
    answer. One indexed read, which is also the database check; it ends with COMMIT, as
    `database_ok` explains."""
    from crm.services.outbox import pending_summary

    try:
        pending, oldest = pending_summary()
        db.session.commit()
        return {"pending": pending, "oldest_pending_s": oldest}
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return None
