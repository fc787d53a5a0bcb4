"""Fixtures: an app on a fresh database per test (SQLite by default, PostgreSQL with
TEST_DATABASE_URL), a client, a CLI runner, and `api` helpers that hold a workspace's key."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, event, text

from crm import create_app
from crm.extensions import db


def _per_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (created if missing)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, name = url.rsplit("/", 1)
    own = f"{name}_{worker}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    return f"{base}/{own}"


PG_URL = _per_worker(os.environ.get("TEST_DATABASE_URL"))
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-for-the-suite-0123456789",
    "WTF_CSRF_ENABLED": True,
    "CRM_RATE_LIMIT": "100000/minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Jobs run right after the commit that queues them, in the test process (crm/queue.py);
    # tests of the real worker start `flask crm worker` processes instead.
    "CRM_QUEUE_IMMEDIATE": True,
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated database: a SQLite file copied for each test, or a PostgreSQL one truncated."""
    if PG_URL:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL, "CRM_AUTO_MIGRATE": False})
        with app.app_context():
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL})  # migrates
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"))]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(template_db, tmp_path):
    if PG_URL:
        _truncate_all(PG_URL)
        return PG_URL
    path = tmp_path / "crm.sqlite3"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


PG_ADMIN_URL = os.environ.get("CRM_TEST_PG_ADMIN_URL")


@pytest.fixture
def scratch_pg_url():
    """An empty PostgreSQL database of its own, dropped afterwards (needs CRM_TEST_PG_ADMIN_URL)."""
    import uuid

    if not PG_ADMIN_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CRM_TEST_PG_ADMIN_URL must be set in CI")
        pytest.skip("PostgreSQL not configured: set CRM_TEST_PG_ADMIN_URL to a server's admin URL")
    name = f"followup_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def config_overrides():
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, config_overrides):
    os.environ["CRM_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CRM_AUTO_MIGRATE": False,
                      **config_overrides})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class Api:
    """A JSON client acting with one API key."""

    client: object
    key: str
    workspace_id: str
    user_id: str

    def _headers(self, headers):
        return {"X-Api-Key": self.key, **(headers or {})}

    def get(self, path, headers=None, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def post(self, path, json=None, headers=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(headers), **kw)

    def patch(self, path, json=None, headers=None, **kw):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers(headers), **kw)

    def delete(self, path, headers=None, **kw):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def create(self, path, payload):
        response = self.post(path, payload)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()["data"]


def make_account(app, *, workspace="Acme", email="owner@acme.test", name="Olive Owner", scopes=None,
                 role="admin", password="correct horse"):
    from crm.services import accounts

    with app.app_context():
        ws = accounts.find_workspace(workspace) or accounts.create_workspace(workspace)
        user = accounts.create_user(ws, email=email, name=name, role=role, password=password)
        _key, secret = accounts.create_api_key(user, scopes=scopes, label="test")
        return ws.id, user.id, secret


@pytest.fixture
def api(app, client):
    ws_id, user_id, secret = make_account(app)
    return Api(client, secret, ws_id, user_id)


@pytest.fixture
def other_api(app, client):
    """A second, unrelated workspace."""
    ws_id, user_id, secret = make_account(app, workspace="Globex", email="boss@globex.test", name="Gus Globex")
    return Api(client, secret, ws_id, user_id)


@pytest.fixture
def key_with_scopes(app, client, api):
    """Make an extra key in `api`'s workspace with just the given scopes."""

    def make(*scopes):
        from crm.services import accounts

        with app.app_context():
            user = db.session.get(accounts.User, api.user_id)
            _key, secret = accounts.create_api_key(user, scopes=list(scopes))
        return Api(client, secret, api.workspace_id, api.user_id)

    return make


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a `with count_queries() as counter:` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def sqlite_api():
    """An install on SQLite whatever backend the run uses, for what only SQLite has (the trigram
    index of `q`, the query plans its partial indexes depend on)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'fts.sqlite3'}"})
        ws_id, user_id, secret = make_account(app)
        yield app, Api(app.test_client(), secret, ws_id, user_id)
        with app.app_context():
            db.engine.dispose()
