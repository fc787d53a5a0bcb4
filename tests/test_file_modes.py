"""Files with customer data or secrets are private: 0600 files in a 0700 instance folder,
whatever the umask would have given (here the common 022, which makes files 0644)."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from crm import create_app
from crm.extensions import db
from tests.conftest import make_account


@pytest.fixture(autouse=True)
def common_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_fresh_install_creates_a_private_instance_folder_database_and_key(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app()
    with app.app_context():
        db.session.execute(text("INSERT INTO workspaces (id, name, created_at, updated_at) "
                                "VALUES ('ws_x', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.commit()
        # While a connection is open, the WAL and shared-memory files exist beside the database.
        assert (instance / "crm.sqlite3-wal").exists() and (instance / "crm.sqlite3-shm").exists()
        assert mode(instance / "crm.sqlite3-wal") == 0o600
        assert mode(instance / "crm.sqlite3-shm") == 0o600
        db.session.remove()
        db.engine.dispose()
    assert mode(instance) == 0o700
    assert mode(instance / "crm.sqlite3") == 0o600
    assert mode(instance / "secret_key") == 0o600
    leftovers = {p.name: oct(mode(p)) for p in instance.iterdir() if mode(p) & 0o077}
    assert leftovers == {}


def test_backups_and_exports_are_written_0600(app, runner, tmp_path):
    make_account(app)
    backup = tmp_path / "copy.sqlite3"
    export = tmp_path / "export.jsonl"
    csv_export = tmp_path / "export.csv"
    export.write_text("")  # an existing, world-readable file is replaced by a private one
    os.chmod(export, 0o644)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["crm", "backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert mode(backup) == 0o600
    for path in (export, csv_export):
        result = runner.invoke(args=["crm", "export", "-o", str(path)])
        assert result.exit_code == 0, result.output
        assert mode(path) == 0o600
