"""Engine set-up per backend, write intent for SQLite, and schema upgrades."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
from pathlib import Path

import orjson
from flask import Flask, request
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.orm.exc import ObjectDeletedError

from crm import paths
from crm.extensions import db
from crm.files import create_private_file, open_private, private_folder
from crm.services.errors import NotFound

MIGRATIONS_DIR = str(paths.MIGRATIONS_DIR)
SQLITE_INDEX_HINT = "INDEXED BY "


def _sqlite_from_hint(_compiler, _table, hint: str | None) -> str | None:
    """SQLite's compiler drops table hints; it keeps `with_hint(table, "INDEXED BY ix", "sqlite")`.

    For the rare query whose best index SQLite, without statistics, does not pick: the open
    tasks' partial indexes, which hold a fraction of what the indexes of every task hold."""
    return hint if hint and hint.startswith(SQLITE_INDEX_HINT) else None


SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # SQLAlchemy's hook for a dialect's table hints

log = logging.getLogger("crm.database")

# Set inside `writing()`: a SQLite transaction begun there takes the write lock up front
# (BEGIN IMMEDIATE), so it queues on the busy timeout instead of failing to upgrade a read lock
# when another process wrote in between. Everything else (authentication, reads, reading and
# validating a request body) runs in deferred transactions, which never hold the lock.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextlib.contextmanager
def writing():
    """The scope of one service's write transaction.

    On SQLite a read transaction still open when it starts is ended first (a deferred transaction
    cannot safely become a write one), so the lock is held only from here to the service's
    commit; records loaded before are expired by that and read again inside the lock. Nested
    scopes join the outer one. It ends with the transaction ended (committed, or rolled back on
    an exception). On PostgreSQL a read still open is kept: its row locks do the work there."""
    if write_intent.get():
        yield
        return
    token = write_intent.set(True)
    session = db.session()
    try:
        _end_read_transaction()
        yield
        if session.in_transaction():
            # What a service read after its commit, or a write it found nothing to do for.
            session.commit()
    except ObjectDeletedError:
        # A record loaded before the write began was deleted by someone else meanwhile.
        session.rollback()
        raise NotFound("The record was deleted meanwhile.") from None
    except BaseException:
        session.rollback()  # release the lock now, not after the error page is rendered
        raise
    finally:
        write_intent.reset(token)


def writes(func):
    """Decorate a service function that writes: its work runs in `writing()`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with writing():
            return func(*args, **kwargs)

    return wrapper


def _end_read_transaction() -> None:
    session = db.session()
    if not session.in_transaction() or db.engine.dialect.name != "sqlite":
        return
    connection = session.connection()  # the open one; a new one would begin immediately
    if connection.info.get("immediate"):
        return
    if session.new or session.dirty or session.deleted:
        # Changes made before the write began: keep them, take the lock under them.
        _take_write_lock(connection.connection.dbapi_connection.cursor(), connection)
    else:
        session.commit()


def _take_write_lock(cursor, connection) -> None:
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
    connection.info["immediate"] = True


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
    @app.after_request
    def end_transaction(response):
        end_request_transaction(response)
        return response

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    path = sqlite_path(app)
    if path is not None and str(path) != ":memory:":
        # Created here, 0600, before SQLite would create it 0644; its -wal and -shm files take
        # the database file's mode.
        private_folder(path.parent)
        create_private_file(path)

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
        immediate = write_intent.get()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info["immediate"] = immediate

    @event.listens_for(engine, "before_cursor_execute")
    def on_write_outside_writing(conn, cursor, statement, _parameters, _context, _executemany):
        # A safety net for a write that no `writing()` announced: take the lock before it rather
        # than fail with "database is locked" when another process holds it. (What this
        # transaction read before is from an older snapshot; services declare their writes.)
        if conn.info.get("immediate") or not conn.in_transaction() or conn.in_nested_transaction():
            return
        if statement.lstrip()[:7].upper() in ("INSERT ", "UPDATE ", "DELETE ", "REPLACE"):
            log.warning("SQLite write outside writing(), lock taken late: %s", statement[:60])
            _take_write_lock(cursor, conn)


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
            private_folder(path.parent)
            import fcntl

            with open_private(str(path) + ".migrate-lock") as lock:
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
